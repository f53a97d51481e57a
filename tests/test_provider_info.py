"""The provider metadata: valid for Airflow's schemas, discovered through the entry point, form fields."""

from __future__ import annotations

import importlib
import importlib.metadata
import json
from pathlib import Path

import airflow
import jsonschema
import pytest

from airflow_provider_wix import __version__
from airflow_provider_wix.get_provider_info import get_provider_info
from airflow_provider_wix.hooks.wix import WixHook

SCHEMAS = Path(airflow.__file__).parent
INFO = get_provider_info()
(CONN_TYPE,) = INFO["connection-types"]


def load_schema(name: str) -> dict:
    return json.loads((SCHEMAS / name).read_text())


def test_valid_against_airflow_runtime_schema():
    jsonschema.validate(INFO, load_schema("provider_info.schema.json"))


def test_connection_type_valid_against_provider_yaml_schema():
    """The runtime schema does not describe conn-fields; the provider.yaml schema does."""
    schema = load_schema("provider.yaml.schema.json")
    jsonschema.validate(INFO["connection-types"], schema["properties"]["connection-types"])


def test_ui_field_behaviour_valid_against_form_schema():
    behaviour = CONN_TYPE["ui-field-behaviour"]
    customized = {
        "hidden_fields": behaviour["hidden-fields"],
        "relabeling": behaviour["relabeling"],
        "placeholders": behaviour["placeholders"],
    }
    jsonschema.validate(customized, load_schema("customized_form_field_behaviours.schema.json"))


def test_identity_matches_the_distribution():
    dist = importlib.metadata.distribution("airflow-provider-wix")
    assert INFO["package-name"] == dist.metadata["Name"] == "airflow-provider-wix"
    assert INFO["versions"] == [__version__] == [dist.version]
    (entry_point,) = [ep for ep in dist.entry_points if ep.group == "apache_airflow_provider"]
    assert entry_point.value == "airflow_provider_wix.get_provider_info:get_provider_info"
    assert entry_point.load() is get_provider_info


def test_connection_type_matches_the_hook():
    assert CONN_TYPE["connection-type"] == WixHook.conn_type == "wix"
    assert CONN_TYPE["hook-name"] == WixHook.hook_name
    module, _, name = CONN_TYPE["hook-class-name"].rpartition(".")
    assert getattr(importlib.import_module(module), name) is WixHook


def test_form_fields():
    fields = CONN_TYPE["conn-fields"]
    assert set(fields) == {
        "auth_type",
        "site_id",
        "account_id",
        "client_id",
        "client_secret",
        "instance_id",
        "callback_base_url",
    }
    assert fields["auth_type"]["schema"]["enum"] == ["api_key", "oauth_app", None]
    assert fields["client_secret"]["schema"]["format"] == "password"
    behaviour = CONN_TYPE["ui-field-behaviour"]
    assert set(behaviour["hidden-fields"]) == {"port", "login", "schema"}
    assert behaviour["relabeling"] == {"password": "API key", "host": "API base URL"}
    assert behaviour["placeholders"]["host"] == "https://www.wixapis.com"


@pytest.mark.parametrize(
    "module",
    [
        m
        for key in ("hooks", "operators", "sensors", "triggers")
        for entry in INFO[key]
        for m in entry["python-modules"]
    ],
)
def test_listed_modules_import(module):
    importlib.import_module(module)


@pytest.mark.parametrize(
    "path",
    [*INFO["extra-links"], *(p["plugin-class"] for p in INFO["plugins"])],
)
def test_listed_classes_import(path):
    module, _, name = path.rpartition(".")
    assert isinstance(getattr(importlib.import_module(module), name), type)


def test_airflow_discovers_the_provider_and_its_form():
    from airflow.providers_manager import ProvidersManager
    from airflow.sdk.providers_manager_runtime import ProvidersManagerTaskRuntime

    manager = ProvidersManager()
    assert manager.providers["airflow-provider-wix"].version == __version__
    hook = ProvidersManagerTaskRuntime().hooks["wix"]
    assert hook is not None
    assert (hook.hook_class_name, hook.connection_id_attribute_name, hook.connection_testable) == (
        "airflow_provider_wix.hooks.wix.WixHook",
        "wix_conn_id",
        True,
    )
    widgets = manager.connection_form_widgets
    assert widgets["extra__wix__client_secret"].is_sensitive
    assert not widgets["extra__wix__site_id"].is_sensitive
    assert manager.field_behaviours["wix"]["relabeling"]["password"] == "API key"
