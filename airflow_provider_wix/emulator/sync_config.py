"""Wix's rules for a connection's sync config: its shape (400), the provider's features (428), field masks."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow_provider_wix.emulator.errors import FieldViolation, application_error, validation_error

if TYPE_CHECKING:
    from airflow_provider_wix.emulator.model import Provider, StoredConnection

__all__ = ["field_mask_paths", "validate_sync_config"]

# Each part of a ConnectionSyncConfig and the modes (one-of fields) it can be set with.
_PART_MODES = {
    "listEventFromCalendars": ("primaryCalendar", "calendars"),
    "syncToCalendar": ("primaryCalendar", "dedicatedCalendar"),
}
# Which modes a provider feature value allows.
_FEATURE_MODES: dict[str, set[str]] = {
    "NOT_SUPPORTED": set(),
    "UNDEFINED": set(),
    "PRIMARY_CALENDAR_ONLY": {"primaryCalendar"},
    "SPECIFIC_CALENDARS": {"primaryCalendar", "calendars"},
    "SPECIFIC_CALENDAR": {"primaryCalendar", "dedicatedCalendar"},
    "DEDICATED_CALENDAR": {"dedicatedCalendar"},
}


def field_mask_paths(field_mask: Any) -> list[str] | None:
    """The sync-config parts an Update Sync Config ``fieldMask`` names (``None``: replace the whole config)."""
    if field_mask is None:
        return None
    if isinstance(field_mask, dict):
        field_mask = field_mask.get("paths", [])
    if isinstance(field_mask, str):
        field_mask = [p for p in field_mask.split(",") if p.strip()]
    if not isinstance(field_mask, list) or not all(isinstance(p, str) for p in field_mask):
        raise validation_error(FieldViolation("fieldMask", "must be a list of field paths", "FORMAT"))
    paths = []
    for raw in field_mask:
        path = raw.strip().removeprefix("syncConfig.").split(".")[0]
        if path not in _PART_MODES:
            violation = FieldViolation("fieldMask", f"unknown path {raw.strip()!r}", "FORMAT", {"path": raw})
            raise validation_error(violation)
        paths.append(path)
    return paths


def validate_sync_config(conn: StoredConnection, provider: Provider, cfg: Any) -> dict[str, Any]:
    """Check a ConnectionSyncConfig's shape (400) and the provider's features (428); the normalised config."""
    if not isinstance(cfg, dict):
        raise validation_error(FieldViolation("syncConfig", "is required", "REQUIRED_FIELD"))
    out: dict[str, Any] = {}
    for key, modes in _PART_MODES.items():
        part = cfg.get(key)
        if part is None:
            continue
        normalised, mode = _validate_part(conn, key, modes, part)
        feature = provider.list_event_from_calendars if key == "listEventFromCalendars" else provider.sync_to_calendar
        if mode is not None and mode not in _FEATURE_MODES.get(feature, set()):
            raise application_error(
                428,
                "NOT_SUPPORTED_BY_PROVIDER",
                f"{provider.name} does not support this sync config: {key} supports {feature} only",
            )
        out[key] = normalised
    return out


def _validate_part(
    conn: StoredConnection, key: str, modes: tuple[str, str], part: Any
) -> tuple[dict[str, Any], str | None]:
    """One part's shape: ``enabled`` and at most one mode (one is required when enabled)."""
    where = f"syncConfig.{key}"
    if not isinstance(part, dict):
        raise validation_error(FieldViolation(where, "must be an object", "FORMAT"))
    enabled = part.get("enabled", False)
    if not isinstance(enabled, bool):
        raise validation_error(FieldViolation(f"{where}.enabled", "must be a boolean", "FORMAT"))
    chosen = [m for m in modes if part.get(m) is not None]
    if len(chosen) > 1:
        raise validation_error(FieldViolation(where, f"set only one of {' or '.join(modes)}", "ONE_OF_ALIGNMENT"))
    if enabled and not chosen:
        raise validation_error(
            FieldViolation(where, f"one of {' or '.join(modes)} is required", "REQUIRED_ONE_OF_FIELD")
        )
    normalised: dict[str, Any] = {"enabled": enabled}
    mode = chosen[0] if chosen else None
    if mode == "calendars":
        normalised["calendars"] = {"calendars": _validate_calendar_list(conn, part["calendars"], where)}
    elif mode is not None:
        if not isinstance(part[mode], dict):
            raise validation_error(FieldViolation(f"{where}.{mode}", "must be an object", "FORMAT"))
        normalised[mode] = {}
    return normalised, mode


def _validate_calendar_list(conn: StoredConnection, value: Any, where: str) -> list[dict[str, Any]]:
    field_name = f"{where}.calendars.calendars"
    items = value.get("calendars") if isinstance(value, dict) else None
    if not isinstance(items, list) or not items:
        raise validation_error(FieldViolation(field_name, "must be a non-empty list of calendars", "FORMAT"))
    known = {c.id for c in conn.calendars}
    result = []
    for n, item in enumerate(items):
        if not isinstance(item, dict) or not isinstance(item.get("id"), str):
            raise validation_error(FieldViolation(f"{field_name}[{n}].id", "is required", "REQUIRED_FIELD"))
        if item["id"] not in known:
            raise validation_error(
                FieldViolation(f"{field_name}[{n}].id", "is not a calendar of this connection", "CUSTOM")
            )
        entry = {"id": item["id"]}
        if isinstance(item.get("name"), str):
            entry["name"] = item["name"]
        result.append(entry)
    unique = {e["id"]: e for e in result}
    return [unique[k] for k in sorted(unique)]
