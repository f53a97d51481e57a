"""The "Wix calendars" dashboard: every schedule's onboarding in one table inside the Airflow UI.

``rows`` turns flow records and Wix connections into table rows (plain Python, no Airflow import),
``sources`` reads them on the API server, ``render`` draws the page; the routes live in
:mod:`airflow_provider_wix.plugins.dashboard`.
"""
