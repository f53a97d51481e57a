"""``POST /oauth2/token``: Wix's token endpoint for apps (``client_credentials``); it needs no auth itself."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Request
from fastapi.responses import Response

from airflow_provider_wix.emulator.deps import State
from airflow_provider_wix.emulator.wire import json_body, json_response

__all__ = ["router"]

router = APIRouter()


@router.post("/oauth2/token", name="oauth2_token")
async def oauth2_token(request: Request, state: State) -> Response:
    if "x-www-form-urlencoded" in request.headers.get("content-type", ""):
        body: dict[str, Any] = dict(parse_qsl((await request.body()).decode(), keep_blank_values=True))
    else:
        body = await json_body(request)
    return json_response(state.issue_token(body))
