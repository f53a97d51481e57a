"""Hooks of the Wix provider.

The default connection id lives here rather than in ``hooks/wix.py`` so that operators, sensors and
triggers can name it when a DAG file is parsed without importing the hook and its HTTP client.
"""

from __future__ import annotations

#: The Airflow connection the hook, operators, sensors and triggers use unless told otherwise.
DEFAULT_WIX_CONN_ID = "wix_default"
