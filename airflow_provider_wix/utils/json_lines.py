"""Write events as a JSON Lines file, page by page, replacing the target only when complete."""

from __future__ import annotations

import os
import sys
from contextlib import suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence
    from typing import TypeAlias

    from airflow.sdk import ObjectStoragePath
    from typing_extensions import TypeIs

    #: Where an export can go: a local path or an Airflow ``ObjectStoragePath`` (s3://, gs://, file://).
    ExportTarget: TypeAlias = Path | ObjectStoragePath

__all__ = ["write_json_lines"]


def write_json_lines(target: ExportTarget, batches: Iterable[Sequence[Mapping[str, Any]]]) -> int:
    """Write each batch (a page) of events as JSON Lines to a temporary sibling, then move it onto ``target``.

    Only one page is in memory at a time and it is encoded in one call (msgspec, which Airflow's
    Task SDK already depends on). The final move replaces any previous file (local files atomically),
    so re-runs are idempotent and a failure leaves the previous file, or none. Returns the line count.
    """
    import uuid

    tmp_name = f".{target.name}.{uuid.uuid4().hex}.tmp"
    if _is_local_path(target):
        return _write_local(target, target.with_name(tmp_name), batches)
    return _write_object(target, target.parent / tmp_name, batches)


def _is_local_path(target: ExportTarget) -> TypeIs[Path]:
    """Not ``isinstance(target, Path)``: see ``version_compat.is_local_path``.

    An ``ObjectStoragePath`` cannot exist before Airflow's Task SDK is imported, so a plain client's
    export (``ExternalCalendarsClient.export_events``) does not import Airflow (~2 s of CPU) to ask.
    """
    if "airflow.sdk" not in sys.modules:
        return isinstance(target, Path)
    from airflow_provider_wix.version_compat import is_local_path

    return is_local_path(target)


def _write_batches(out: Any, batches: Iterable[Sequence[Mapping[str, Any]]]) -> int:
    import msgspec

    encoder = msgspec.json.Encoder()
    count = 0
    for batch in batches:
        out.write(encoder.encode_lines(batch))
        count += len(batch)
    return count


def _write_local(target: Path, tmp: Path, batches: Iterable[Sequence[Mapping[str, Any]]]) -> int:
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        with open(tmp, "wb") as out:
            count = _write_batches(out, batches)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return count


def _write_object(
    target: ObjectStoragePath, tmp: ObjectStoragePath, batches: Iterable[Sequence[Mapping[str, Any]]]
) -> int:
    with suppress(Exception):  # object stores without directories refuse or ignore this
        target.parent.mkdir(parents=True, exist_ok=True)
    try:
        with tmp.open("wb") as out:
            count = _write_batches(out, batches)
        tmp.replace(target)
    except BaseException:
        with suppress(Exception):
            tmp.unlink(missing_ok=True)
        raise
    return count
