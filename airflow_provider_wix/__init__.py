"""Apache Airflow provider for Wix Bookings External Calendars v2."""

from __future__ import annotations

__version__ = "0.1.0"
