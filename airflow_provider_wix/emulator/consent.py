"""The OAuth consent page a calendar owner sees after Connect By OAuth, and its Allow/Deny form.

Browser pages, not API calls: no auth, no request log, no faults. The decision itself is Wix's
behaviour (``WixBehaviour.decide_oauth``); this module only renders and redirects.
"""

from __future__ import annotations

import html
from urllib.parse import parse_qsl, urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from airflow_provider_wix.emulator.deps import State
from airflow_provider_wix.emulator.errors import WixErrorReply

__all__ = ["CONSENT_PATH", "router"]

CONSENT_PATH = "/oauth/consent"

router = APIRouter(prefix=CONSENT_PATH)


@router.get("/{flow_id}", name="oauth_consent")
async def consent_page(request: Request, flow_id: str, state: State) -> Response:
    decision = request.query_params.get("decision")
    try:
        if decision:
            location = state.decide_oauth(flow_id, decision, email=request.query_params.get("email"))
            return RedirectResponse(location, status_code=302)
        info = state.describe_flow(flow_id)
    except WixErrorReply as exc:
        return _error_page(exc)
    flow = info["flow"]
    provider = html.escape(info["provider_name"])
    owner = html.escape(info["owner_name"]) + (" (business schedule)" if info["business"] else "")
    target = urlsplit(flow.redirect_url).netloc
    staff_name = html.escape(info["staff_name"] or "none (no staff member has this schedule)")
    body = f"""<h1>Connect {provider} to Wix Bookings</h1>
<p>Wix Bookings wants to access your <strong>{provider}</strong> account to sync its events with a
Wix schedule.</p>
<dl><dt>Schedule</dt><dd id="schedule-id">{html.escape(flow.schedule_id)}</dd>
<dt>Schedule owner</dt><dd id="schedule-owner">{owner}</dd>
<dt>Staff member</dt><dd id="staff-member">{staff_name}</dd>
<dt>Returns to</dt><dd>{html.escape(target)}</dd></dl>
<div class="buttons">{_decision_form(flow.id, "allow", "Allow", "allow")}{_decision_form(flow.id, "deny", "Deny")}</div>
<details><summary>Emulator: simulate a failure</summary>
<p>{_decision_form(flow.id, "unsupported", "Unsupported account")}
{_decision_form(flow.id, "internal", "Provider error")}</p></details>"""
    return _page(f"Connect {info['provider_name']}", body)


@router.post("/{flow_id}", name="oauth_consent_decision")
async def consent_decision(request: Request, flow_id: str, state: State) -> Response:
    form = dict(parse_qsl((await request.body()).decode("utf-8", "replace"), keep_blank_values=True))
    decision = form.get("decision") or request.query_params.get("decision") or ""
    try:
        location = state.decide_oauth(flow_id, decision, email=form.get("email") or None)
    except WixErrorReply as exc:
        return _error_page(exc)
    return RedirectResponse(location, status_code=303)


def _error_page(exc: WixErrorReply) -> HTMLResponse:
    return _page("Consent", f"<h1>{html.escape(exc.message)}</h1>", exc.status)


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body {{ font-family: system-ui, sans-serif; background: #f4f5f7; margin: 0; }}
main {{ max-width: 30rem; margin: 4rem auto; background: #fff; padding: 2rem; border-radius: 8px;
       box-shadow: 0 1px 4px rgba(0,0,0,.15); }}
h1 {{ font-size: 1.3rem; }} dt {{ font-weight: 600; margin-top: .5rem; }} dd {{ margin: 0; word-break: break-all; }}
.buttons {{ display: flex; gap: 1rem; margin-top: 1.5rem; }}
button {{ font-size: 1rem; padding: .6rem 1.4rem; border-radius: 4px; border: 1px solid #888; cursor: pointer; }}
button.allow {{ background: #116dff; color: #fff; border-color: #116dff; }}
details {{ margin-top: 2rem; color: #555; }} details form {{ display: inline; }}
</style></head>
<body><main>{body}</main></body></html>"""
    return HTMLResponse(page, status_code=status)


def _decision_form(flow_id: str, decision: str, label: str, css: str = "") -> str:
    return (
        f'<form method="post" action="{CONSENT_PATH}/{html.escape(flow_id)}">'
        f'<input type="hidden" name="decision" value="{decision}">'
        f'<button type="submit" name="action" value="{decision}" class="{css}">{label}</button></form>'
    )
