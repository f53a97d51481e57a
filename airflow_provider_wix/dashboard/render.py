"""Draw the dashboard page: counts, a chart of onboardings per day (inline SVG) and the table.

Server-side HTML from a Jinja template with autoescaping: no CDN, no build step, and 1,000 rows are
one string join away (see ``benchmarks/dashboard.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

if TYPE_CHECKING:
    from collections.abc import Sequence

    import jinja2

    from airflow_provider_wix.dashboard.rows import DashboardRow

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"

_CHART_WIDTH = 560
_CHART_HEIGHT = 120


@dataclass(frozen=True)
class Permissions:
    """What the viewing user may do, per DAG id (the auth manager decides, the page only reflects it)."""

    editable_dags: frozenset[str] = frozenset()
    link_dags: frozenset[str] = frozenset()
    can_trigger: bool = False


@dataclass(frozen=True)
class PageContext:
    user: str
    prefix: str
    airflow_root: str
    csrf_token: str
    onboarding_dag_id: str
    permissions: Permissions
    wix_error: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@cache
def _environment() -> jinja2.Environment:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=jinja2.select_autoescape(default=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["q"] = lambda value: quote(str(value), safe="")
    return env


def chart_bars(per_day: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Bar geometry for the onboardings-per-day chart: links sent behind, calendars connected in front."""
    days = len(per_day) or 1
    peak = max([1, *(d["sent"] for d in per_day), *(d["connected"] for d in per_day)])
    slot = _CHART_WIDTH / days
    bars = []
    for i, day in enumerate(per_day):
        sent_h = round(day["sent"] / peak * (_CHART_HEIGHT - 20), 1)
        done_h = round(day["connected"] / peak * (_CHART_HEIGHT - 20), 1)
        bars.append(
            {
                **day,
                "x": round(i * slot + 2, 1),
                "width": round(slot - 4, 1),
                "sent_h": sent_h,
                "done_h": done_h,
                "label": day["day"][5:],
            }
        )
    return {"bars": bars, "width": _CHART_WIDTH, "height": _CHART_HEIGHT, "peak": peak}


def render_page(
    rows: Sequence[DashboardRow],
    counts: dict[str, int],
    per_day: Sequence[dict[str, Any]],
    page: PageContext,
) -> str:
    return (
        _environment()
        .get_template("dashboard.html")
        .render(rows=rows, counts=counts, chart=chart_bars(per_day), page=page)
    )
