"""Read operator arguments that Jinja may have rendered to text.

Unless a DAG renders native objects, ``{{ params.ids }}`` arrives as the text of the list and ``{{ None }}``
as ``"None"``. These helpers accept both forms and fail the task without retries (``AirflowFailException``)
for a value that can never be read, since a retry would render the same text again.
"""

from __future__ import annotations

from typing import Any

from airflow_provider_wix.version_compat import AirflowFailException

__all__ = ["as_optional_bool", "as_optional_text", "as_str_list", "is_none_text", "parse_literal"]

_NONE_TEXTS = frozenset({"", "none", "null"})


def is_none_text(value: object) -> bool:
    """``True`` for the text a rendered ``None`` (or an empty template) becomes."""
    return isinstance(value, str) and value.strip().lower() in _NONE_TEXTS


def parse_literal(text: str, name: str) -> Any:
    """Read a JSON or Python literal, e.g. ``"['a', 'b']"`` rendered from ``{{ params.ids }}``."""
    import ast
    import json

    try:
        return json.loads(text)
    except ValueError:
        pass
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        raise AirflowFailException(f"{name} could not be read as a list or mapping: {text!r}") from None


def as_str_list(value: object, name: str) -> list[str] | None:
    """Normalise a templated list argument: ``None``, a list, a JSON/Python list text or ``"a,b"``.

    ``None`` (or the text ``"None"``) means "no filter"; an empty list stays empty.
    """
    if value is None or is_none_text(value):
        return None
    if isinstance(value, str):
        text = value.strip()
        if text[:1] not in "[(":
            return [part.strip() for part in text.split(",") if part.strip()]
        value = parse_literal(text, name)
    if isinstance(value, (list, tuple, set, frozenset)):
        return [str(item).strip() for item in value]
    raise AirflowFailException(f"{name} must be a list of strings, got {type(value).__name__}")


_BOOL_TEXTS = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}


def as_optional_bool(value: object, name: str) -> bool | None:
    """``True``/``False``/``None``, or their rendered texts (``"true"``, ``"0"``, ``"None"``...)."""
    if value is None or isinstance(value, bool):
        return value
    if is_none_text(value):
        return None
    if isinstance(value, str) and value.strip().lower() in _BOOL_TEXTS:
        return _BOOL_TEXTS[value.strip().lower()]
    raise AirflowFailException(f"{name} must be true, false or None, got {value!r}")


def as_optional_text(value: object) -> str | None:
    """The stripped text, or ``None`` for ``None`` and a rendered ``None``."""
    if value is None:
        return None
    text = str(value).strip()
    return None if is_none_text(text) else text
