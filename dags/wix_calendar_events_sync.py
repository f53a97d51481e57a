"""Daily export of the events Wix imported from connected external calendars, as JSON Lines by date."""

from __future__ import annotations

import json
import logging
import os
from datetime import timedelta
from typing import Any

import pendulum
from airflow.sdk import Param, dag, task

from airflow_provider_wix.operators.external_calendars import ListEventsOperator

# A name that moved into the Task SDK in Airflow 3.2; version_compat picks the right one for 3.1 too.
from airflow_provider_wix.version_compat import CronDataIntervalTimetable

log = logging.getLogger("wix_calendar_events_sync")

#: Airflow Variable with the base path, when the run gives no ``base_path`` param.
BASE_PATH_VARIABLE = "wix_events_base_path"
#: List Events takes at most 100 schedule ids per request: one export task (and file) per 100 schedules.
SCHEDULES_PER_FILE = 100
MANIFEST = "_manifest.json"

DOC_MD = f"""
# Export external-calendar events (Wix Bookings)

Every day, for the day that just ended (the run's data interval), lists the events of every schedule
whose connection is `SYNCED` and writes them as JSON Lines, one event per line, to
`<base path>/date=YYYY-MM-DD/part-NNNNN.jsonl` (one file per 100 schedules, events sorted by start),
plus `_manifest.json` with the interval, the files and their event counts.

- **Base path**: the `base_path` param, else the Airflow Variable `{BASE_PATH_VARIABLE}`, else
  `file://$AIRFLOW_HOME/wix_events`. Any `ObjectStoragePath` URL works, e.g.
  `s3://aws_default@my-bucket/wix/events` (the connection id goes before the `@`).
- **Idempotent**: a re-run of an interval rewrites the same files (each one replaced atomically) and
  removes parts a previous run left that this one did not write. Runs touch only their own date, so
  backfills (`airflow backfill create --dag-id wix_calendar_events_sync ...`) and parallel runs are safe.
- Wix returns every event that **overlaps** the window, so an event crossing midnight is in both days.
- Events carry no personal information (Wix fieldset `NO_PI`) unless `include_titles` is set.
- The schedules are the ones connected when the run executes, also for past intervals.
"""


@dag(
    dag_id="wix_calendar_events_sync",
    schedule=CronDataIntervalTimetable("@daily", timezone="UTC"),
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=4,
    doc_md=DOC_MD,
    tags=["wix", "external-calendars", "export", "example"],
    default_args={"retries": 3, "retry_delay": timedelta(minutes=2), "retry_exponential_backoff": True},
    params={
        "base_path": Param(
            None,
            type=["null", "string"],
            title="Base path",
            description=f"Local path or URL (file://, s3://conn_id@bucket/prefix, ...). Empty: the Variable "
            f"{BASE_PATH_VARIABLE}, else file://$AIRFLOW_HOME/wix_events.",
        ),
        "include_titles": Param(
            False,
            type="boolean",
            title="Include event titles",
            description="Ask for titles, calendar and owner names (Wix fieldset OWN_PI: personal information).",
        ),
    },
)
def wix_calendar_events_sync() -> None:
    @task
    def plan_export(**context: Any) -> list[dict[str, Any]]:
        """The synced schedules, in files of at most 100; the partition's URL goes to XCom ``partition``."""
        from airflow_provider_wix.hooks.wix import WixHook

        connections = WixHook().list_connections()
        synced = sorted({c["scheduleId"] for c in connections if c.get("status") == "SYNCED"})
        waiting = sorted({c["scheduleId"] for c in connections if c.get("status") != "SYNCED"} - set(synced))
        if waiting:
            log.info("Not exported (their connection is not SYNCED): %s", ", ".join(waiting))

        partition = f"{_base_path(context['params'])}/date={context['data_interval_start']:%Y-%m-%d}"
        context["ti"].xcom_push(key="partition", value=partition)
        chunks = [synced[i : i + SCHEDULES_PER_FILE] for i in range(0, len(synced), SCHEDULES_PER_FILE)]
        log.info("%d synced schedule(s) in %d file(s) under %s", len(synced), len(chunks), partition)
        return [
            {"schedule_ids": chunk, "output_path": f"{partition}/part-{n:05d}.jsonl"} for n, chunk in enumerate(chunks)
        ]

    export_events = ListEventsOperator.partial(
        task_id="export_events",
        fieldsets="{{ 'OWN_PI' if params.include_titles else 'NO_PI' }}",
    ).expand_kwargs(plan_export())

    @task(trigger_rule="none_failed")  # also when there was nothing to export
    def commit_partition(written: list[dict[str, Any]], **context: Any) -> dict[str, Any]:
        """Write the manifest and remove stale parts, so the partition holds exactly this run's files."""
        from airflow.sdk import ObjectStoragePath

        ti = context["ti"]
        partition = ObjectStoragePath(ti.xcom_pull(task_ids="plan_export", key="partition"))
        files = sorted(
            ({"file": r["path"].rsplit("/", 1)[-1], "count": r["count"]} for r in written if r),
            key=lambda f: f["file"],
        )
        keep = {f["file"] for f in files}
        partition.mkdir(parents=True, exist_ok=True)
        for stale in partition.glob("part-*.jsonl"):
            if stale.name not in keep:
                log.info("Removing %s, left by an earlier run", stale)
                stale.unlink()
        manifest = {
            "interval": {
                "start": context["data_interval_start"].isoformat(),
                "end": context["data_interval_end"].isoformat(),
            },
            "files": files,
            "event_count": sum(f["count"] for f in files),
        }
        (partition / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
        log.info("%d event(s) in %d file(s) under %s", manifest["event_count"], len(files), partition)
        return {"partition": str(partition), **manifest}

    commit_partition(export_events.output)


def _base_path(params: dict[str, Any]) -> str:
    """The param, else the Variable, else a folder under ``AIRFLOW_HOME``; without a trailing slash."""
    from airflow.sdk import Variable

    base = params.get("base_path") or Variable.get(BASE_PATH_VARIABLE, default=None)
    if not base:
        home = os.environ.get("AIRFLOW_HOME") or os.path.expanduser("~/airflow")
        base = f"file://{os.path.abspath(home)}/wix_events"
    elif "://" not in base:
        base = f"file://{os.path.abspath(os.path.expanduser(base))}"
    return base.rstrip("/")


wix_calendar_events_sync()
