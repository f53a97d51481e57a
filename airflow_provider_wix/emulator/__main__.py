"""``python -m airflow_provider_wix.emulator``: serve a local Wix until SIGINT/SIGTERM.

Prints the base URL, the credentials it accepts, a curl line and an ``AIRFLOW_CONN_WIX_DEFAULT``
value, so a person (or a script reading stdout) can point a client at it straight away.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from typing import TYPE_CHECKING

from airflow_provider_wix.emulator.faults import parse_fault_spec
from airflow_provider_wix.emulator.server import RunningEmulator, run_emulator
from airflow_provider_wix.emulator.state import EmulatorConfig

if TYPE_CHECKING:
    from collections.abc import Sequence
    from types import FrameType

DEFAULTS = EmulatorConfig()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m airflow_provider_wix.emulator",
        description="A local stand-in for Wix Bookings External Calendars v2 and its OAuth consent page.",
    )
    add = parser.add_argument
    add("--host", default="127.0.0.1", help="interface to listen on (default 127.0.0.1; 0.0.0.0 in containers)")
    add("--port", type=int, default=8765, help="port (default 8765; 0 = any free port)")
    add("--seed", type=int, default=DEFAULTS.seed, help="seed for schedules, ids, events and faults")
    add("--api-key", default=DEFAULTS.api_key, help="the API key accepted in Authorization")
    add("--site-id", default=DEFAULTS.site_id, help="the site id required in wix-site-id with the API key")
    add("--client-id", default=DEFAULTS.client_id, help="app id accepted by POST /oauth2/token")
    add("--client-secret", default=DEFAULTS.client_secret, help="app secret accepted by POST /oauth2/token")
    add("--instance-id", default=DEFAULTS.instance_id, help="app instance id accepted by POST /oauth2/token")
    add("--token-ttl", type=int, default=DEFAULTS.token_ttl, help="access token lifetime, seconds")
    add("--schedules", type=int, default=DEFAULTS.schedules, help="staff schedules (plus the business one)")
    add("--events-per-day", type=float, default=DEFAULTS.events_per_day, help="timed events/day per calendar")
    add("--all-day-every", type=int, default=DEFAULTS.all_day_every_days, help="one all-day event every N days")
    add("--sync-delay", type=float, default=DEFAULTS.sync_delay, help="seconds from CONNECTED to SYNCED")
    add("--credentials-email", default=DEFAULTS.credentials_email, help="email Connect By Credentials accepts")
    add("--credentials-password", default=DEFAULTS.credentials_password, help="its password")
    add(
        "--oauth-outcome",
        choices=("allow", "unsupported", "internal"),
        default=DEFAULTS.oauth_outcome,
        help="what the consent page's Allow button does",
    )
    add("--public-url", default=None, help="base URL browsers use to reach the emulator (for consent links)")
    add(
        "--fault",
        action="append",
        default=[],
        metavar="SPEC",
        help="fault rule, repeatable: [ROUTE=]KIND[:PARAM][@PROB][xTIMES] or [ROUTE=]K1,K2,ok "
        "(KIND: 429 500 502 503 504 latency drop truncate malformed)",
    )
    add("--rate-limit", type=int, default=DEFAULTS.rate_limit, help="requests/minute per credential (0 = off)")
    add(
        "--providers",
        default=",".join(DEFAULTS.providers),
        help="built-in providers to offer, comma-separated (default google,apple,microsoft)",
    )
    add("--no-premium", action="store_true", help="answer 403 PREMIUM_FEATURE_NOT_ENABLED where Wix would")
    return parser


def config_from_args(args: argparse.Namespace) -> EmulatorConfig:
    return EmulatorConfig(
        seed=args.seed,
        api_key=args.api_key,
        site_id=args.site_id,
        client_id=args.client_id,
        client_secret=args.client_secret,
        instance_id=args.instance_id,
        token_ttl=args.token_ttl,
        schedules=args.schedules,
        events_per_day=args.events_per_day,
        all_day_every_days=args.all_day_every,
        sync_delay=args.sync_delay,
        credentials_email=args.credentials_email,
        credentials_password=args.credentials_password,
        oauth_outcome=args.oauth_outcome,
        public_url=args.public_url,
        faults=[parse_fault_spec(spec) for spec in args.fault],
        rate_limit=args.rate_limit,
        premium=not args.no_premium,
        providers=tuple(p.strip().lower() for p in args.providers.split(",") if p.strip()),
    )


def banner(emulator: RunningEmulator) -> str:
    """The start-up text: where it listens and what it accepts."""
    cfg = emulator.config
    url = emulator.url
    connection = {
        "conn_type": "wix",
        "host": url,
        "password": cfg.api_key,
        "extra": {"auth_type": "api_key", "site_id": cfg.site_id},
    }
    app_connection = {
        "conn_type": "wix",
        "host": url,
        "extra": {
            "auth_type": "oauth_app",
            "client_id": cfg.client_id,
            "client_secret": cfg.client_secret,
            "instance_id": cfg.instance_id,
        },
    }
    schedules = "\n".join(
        f"    {s.id}  {s.owner_name}{' (business)' if s.business else ''}" for s in emulator.state.schedules()
    )
    faults = ", ".join(r.to_json()["kind"] + "@" + r.route for r in emulator.state.fault_injector.rules())
    return f"""Wix emulator listening on {url}
  API key:        {cfg.api_key}   (header Authorization, with wix-site-id: {cfg.site_id})
  OAuth app:      client_id={cfg.client_id} client_secret={cfg.client_secret}
                  instance_id={cfg.instance_id}   (POST {url}/oauth2/token, token TTL {cfg.token_ttl} s)
  Apple login:    {cfg.credentials_email} / {cfg.credentials_password}
  Sync delay:     {cfg.sync_delay} s; faults: {faults or "none"}; rate limit: {cfg.rate_limit or "off"}/min
  Schedules:
{schedules}
  Admin API:      {url}/_emulator/state  (health, reset, requests, faults, oauth/flows, ...)

Try it:
  curl -s -H 'Authorization: {cfg.api_key}' -H 'wix-site-id: {cfg.site_id}' \\
    {url}/bookings/v2/external-calendars/providers

Airflow connection:
  export AIRFLOW_CONN_WIX_DEFAULT='{json.dumps(connection)}'
  # or, as a Wix app:
  export AIRFLOW_CONN_WIX_DEFAULT='{json.dumps(app_connection)}'
"""


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        config = config_from_args(args)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        with run_emulator(config, host=args.host, port=args.port) as emulator:
            print(banner(emulator), flush=True)
            while not stop.wait(0.5):
                pass
            print("Wix emulator stopping", flush=True)
    except OSError as exc:
        print(f"error: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 1
    print("Wix emulator stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
