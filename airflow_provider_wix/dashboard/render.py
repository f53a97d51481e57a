"""Draw the dashboard page: counts, a chart of onboardings per day (inline SVG) and the table.

Server-side HTML from a Jinja template with autoescaping: no CDN, no build step, and 1,000 rows are
one string join away (see ``benchmarks/dashboard.py``).
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from functools import cache, lru_cache
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


@lru_cache(maxsize=4096)
def _q(value: str) -> str:
    return quote(value, safe="")


def _row_html(row: DashboardRow, page: PageContext) -> str:
    """One table row. Plain string building with escaping: a template engine's per-attribute lookups
    cost ten times more, and this runs a thousand times per page view."""
    e = html.escape
    owner = f"<strong>{e(row.owner)}</strong><br>" if row.owner else ""
    flow = f' data-flow="{e(row.flow_id)}"' if row.flow_id else ""
    if row.run_id and row.dag_id:
        run_url = f"{page.airflow_root}/dags/{_q(row.dag_id)}/runs/{_q(row.run_id)}"
        task = f"{run_url}/tasks/{_q(row.task_id or '')}"
        mapped = ""
        if row.map_index >= 0:
            task += f"/mapped/{row.map_index}"
            mapped = f" [{row.map_index}]"
        issued = (
            f'<a data-ui-link href="{e(run_url)}">{e(row.dag_id)}</a><br>'
            f'<a data-ui-link class="task" href="{e(task)}">{e(row.task_id or "")}{mapped}</a>'
        )
    else:
        issued = '<span class="muted">not onboarded from Airflow</span>'
    if row.last_change:
        changed = f'<time datetime="{row.last_change.isoformat()}">{row.last_change.strftime("%Y-%m-%d %H:%M")}</time>'
    else:
        changed = '<span class="muted">\N{EM DASH}</span>'
    actions = []
    if row.flow_id and row.dag_id in page.permissions.link_dags:
        actions.append('<button type="button" data-action="copy">Copy link</button>')
    if row.flow_id and row.dag_id in page.permissions.editable_dags:
        actions.append('<button type="button" data-action="cancel">Cancel</button>')
    if not row.flow_id and page.permissions.can_trigger:
        actions.append('<button type="button" data-action="reonboard">Re-onboard</button>')
    status = row.status.value
    return (
        f'<tr class="row {row.group}" data-schedule="{e(row.schedule_id)}" data-status="{status}"{flow}>'
        f"<td>{owner}<code>{e(row.schedule_id)}</code></td>"
        f"<td>{e(row.provider)}</td>"
        f'<td><span class="badge {status}">{e(row.label)}</span> <span class="detail">{e(row.detail)}</span></td>'
        f"<td>{issued}</td><td>{changed}</td>"
        f'<td class="actions">{"".join(actions)}</td></tr>\n'
    )


def render_page(
    rows: Sequence[DashboardRow],
    counts: dict[str, int],
    per_day: Sequence[dict[str, Any]],
    page: PageContext,
) -> str:
    from markupsafe import Markup

    table = Markup("".join(_row_html(row, page) for row in rows))  # noqa: S704 - every value is escaped above
    return (
        _environment()
        .get_template("dashboard.html")
        .render(rows=rows, table=table, counts=counts, chart=chart_bars(per_day), page=page)
    )
