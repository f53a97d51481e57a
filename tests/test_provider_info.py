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


def test_airflow_discovers_the_provider_and_its_hook():
    from airflow.providers_manager import ProvidersManager

    from airflow_provider_wix.version_compat import hook_info

    assert ProvidersManager().providers["airflow-provider-wix"].version == __version__
    hook = hook_info("wix")
    assert hook is not None
    assert (hook.hook_class_name, hook.connection_id_attribute_name, hook.connection_testable) == (
        "airflow_provider_wix.hooks.wix.WixHook",
        "wix_conn_id",
        True,
    )


def test_connection_form_as_the_ui_reads_it():
    """What ``GET /ui/connections/hook_meta`` serves: from conn-fields on 3.2+, from the hook's widgets on 3.1."""
    from airflow.api_fastapi.core_api.services.ui.connections import HookMetaService

    from airflow_provider_wix.version_compat import DECLARATIVE_CONNECTION_FORM

    if not DECLARATIVE_CONNECTION_FORM:
        # Airflow 3.1 builds every hook's extra fields (its own as ours) with flask_appbuilder's widgets,
        # which only the FAB provider installs; without it the form has no extra fields for any hook.
        pytest.importorskip("flask_appbuilder", reason="Airflow 3.1's connection form needs the FAB provider")

    (meta,) = [hook for hook in HookMetaService.hook_meta_data() if hook.connection_type == "wix"]
    extra = {name.removeprefix("extra__wix__"): field for name, field in (meta.extra_fields or {}).items()}
    assert set(extra) == set(CONN_TYPE["conn-fields"])
    assert extra["client_secret"]["schema"]["format"] == "password"
    assert "format" not in extra["site_id"]["schema"]
    assert extra["client_id"]["schema"]["title"] == "App client ID"
    assert "oauth_app" in extra["auth_type"]["schema"]["enum"]
    standard = meta.standard_fields
    assert standard is not None and standard.password is not None and standard.host is not None
    assert (standard.password.title, standard.host.title) == ("API key", "API base URL")
    assert standard.host.placeholder == "https://www.wixapis.com"
    assert standard.port is not None and standard.port.hidden


def test_legacy_form_methods_only_where_airflow_needs_them():
    """3.2+ deprecates the hook's form methods: defining them there would only add warnings."""
    from airflow_provider_wix.version_compat import DECLARATIVE_CONNECTION_FORM

    for method in ("get_connection_form_widgets", "get_ui_field_behaviour"):
        assert (method in WixHook.__dict__) is not DECLARATIVE_CONNECTION_FORM
