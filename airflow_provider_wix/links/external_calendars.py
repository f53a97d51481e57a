"""Operator extra links shown on a task's page in the Airflow UI."""

from __future__ import annotations

from typing import TYPE_CHECKING

from airflow.sdk import BaseOperatorLink

if TYPE_CHECKING:
    from airflow.sdk import BaseOperator
    from airflow.sdk.types import TaskInstanceKey


class WixAuthorizeCalendarLink(BaseOperatorLink):
    """Opens the provider's consent page (the ``oauthUrl``) so a person can authorize from the UI.

    Airflow 3 computes links on the worker when the task ends, so the link is read from the task's
    own ``return_value`` XCom, which holds the ``oauthUrl``.
    """

    name = "Authorize calendar"

    def get_link(self, operator: BaseOperator, *, ti_key: TaskInstanceKey) -> str:
        from airflow.sdk.execution_time.xcom import XCom

        value = XCom.get_value(ti_key=ti_key, key="return_value")
        return value if isinstance(value, str) else ""
