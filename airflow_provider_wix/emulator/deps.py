"""FastAPI dependencies the routers use: the app's emulator state and Wix's authentication.

Both are ``async`` so FastAPI runs them on the event loop, as the routes, not in its thread pool.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from fastapi import Depends, Request

if TYPE_CHECKING:
    from airflow_provider_wix.emulator.state import EmulatorState

__all__ = ["State", "emulator_state", "state_of", "wix_auth"]


def state_of(request: Request) -> EmulatorState:
    """The state ``create_app`` was given (kept on ``app.state``, so routers are plain module objects)."""
    state: EmulatorState = request.app.state.emulator
    return state


async def emulator_state(request: Request) -> EmulatorState:
    return state_of(request)


# A route parameter ``state: State`` receives the emulator state. At runtime the type is ``Any``, not the
# string "EmulatorState" (importing the class here closes an import cycle through config.py): FastAPI
# 0.117 (Airflow 3.1's pin; 0.136 on 3.3 can) cannot resolve a forward reference inside ``Annotated`` and took
# the parameter for a required query parameter, so every emulator route answered 400.
if TYPE_CHECKING:
    State = Annotated[EmulatorState, Depends(emulator_state)]
else:
    State = Annotated[Any, Depends(emulator_state)]


async def wix_auth(request: Request) -> None:
    """Wix's check of a site-level API call: an API key with ``wix-site-id``, or an access token."""
    h = request.headers
    state_of(request).authenticate(h.get("authorization"), h.get("wix-site-id"), h.get("wix-account-id"))
