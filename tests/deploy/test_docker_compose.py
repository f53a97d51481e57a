"""The production-shaped stack: docker-compose.yaml, Dockerfile and .dockerignore.

Docker cannot run here, so the files are checked statically: every Airflow component runs the image
with the provider, shares the settings that must agree across components, and runs the command its
role needs; the ``wix_default`` connection points at the emulator service. ``docker-compose config``
(Debian's docker-compose 1.29, no engine needed) validates the file when the binary is installed.
"""

from __future__ import annotations

import base64
import fnmatch
import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
COMPOSE_FILE = REPO / "docker-compose.yaml"
DOCKERFILE = REPO / "Dockerfile"
DOCKERIGNORE = REPO / ".dockerignore"

IMAGE = "airflow-provider-wix:local"
# Services that run Airflow itself, all from the x-airflow-common anchor.
AIRFLOW_SERVICES = [
    "airflow-apiserver",
    "airflow-scheduler",
    "airflow-dag-processor",
    "airflow-worker",
    "airflow-triggerer",
    "airflow-init",
    "airflow-cli",
    "flower",
]
# Long-running components, started by `docker compose up` once airflow-init has finished.
LONG_RUNNING = [
    "airflow-apiserver",
    "airflow-scheduler",
    "airflow-dag-processor",
    "airflow-worker",
    "airflow-triggerer",
    "flower",
]
EXPECTED_COMMANDS = {
    "airflow-apiserver": "api-server",
    "airflow-scheduler": "scheduler",
    "airflow-dag-processor": "dag-processor",
    "airflow-worker": "celery worker",
    "airflow-triggerer": "triggerer",
    "flower": "celery flower",
    "airflow-cli": ["bash", "-c", "airflow"],
}
SHARED_SETTINGS = {
    "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
    "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": "postgresql+psycopg2://airflow:airflow@postgres/airflow",
    "AIRFLOW__CELERY__RESULT_BACKEND": "db+postgresql://airflow:airflow@postgres/airflow",
    "AIRFLOW__CELERY__BROKER_URL": "redis://:@redis:6379/0",
    "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": "http://airflow-apiserver:8080/execution/",
    "AIRFLOW__CORE__AUTH_MANAGER": "airflow.providers.fab.auth_manager.fab_auth_manager.FabAuthManager",
    "AIRFLOW__API__BASE_URL": "http://localhost:8080",
    "AIRFLOW__CORE__LOAD_EXAMPLES": "false",
    "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "true",
    "AIRFLOW__OPERATORS__DEFAULT_DEFERRABLE": "true",
    "AIRFLOW__CORE__TEST_CONNECTION": "Enabled",
    "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "true",
    "AIRFLOW_CONFIG": "/opt/airflow/config/airflow.cfg",
}
EMULATOR_HOST = "http://wix-emulator:8765"

_VAR = re.compile(r"\$\$|\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?-)(?P<default>[^}]*))?\}")


def resolve(value: Any) -> Any:
    """Interpolate like compose does, with every variable unset: ``${X:-d}`` -> d, ``$$`` -> ``$``."""
    if isinstance(value, str):

        def repl(match: re.Match[str]) -> str:
            if match.group(0) == "$$":
                return "$"
            return match.group("default") or ""

        return _VAR.sub(repl, value)
    if isinstance(value, list):
        return [resolve(v) for v in value]
    if isinstance(value, dict):
        return {k: resolve(v) for k, v in value.items()}
    return value


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE_FILE.read_text())


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, Any]:
    return resolve(compose["services"])


def env_of(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment", {})
    assert isinstance(env, dict), "use the mapping form of `environment` (the anchor merges it)"
    return {k: str(v) for k, v in env.items()}


def test_resolve_helper_interpolates_like_compose() -> None:
    assert resolve("${A:-x}/${B-y}/${C}/$${HOSTNAME}") == "x/y//${HOSTNAME}"


def test_the_expected_services_exist(services: dict[str, Any]) -> None:
    assert set(services) == {*AIRFLOW_SERVICES, "postgres", "redis", "wix-emulator"}


def test_no_top_level_keys_that_docker_compose_1_29_rejects(compose: dict[str, Any]) -> None:
    assert "name" not in compose
    assert set(compose) <= {"x-airflow-common", "services", "volumes"}


@pytest.mark.parametrize("name", [*AIRFLOW_SERVICES, "wix-emulator"])
def test_service_runs_the_image_built_with_the_provider(services: dict[str, Any], name: str) -> None:
    service = services[name]
    build = service.get("build")
    context = build.get("context") if isinstance(build, dict) else build
    assert context in {".", "./"}, f"{name} must build from ./Dockerfile"
    assert service["image"] == IMAGE


@pytest.mark.parametrize("name", AIRFLOW_SERVICES)
def test_airflow_service_shares_db_broker_and_api_settings(services: dict[str, Any], name: str) -> None:
    env = env_of(services[name])
    for key, expected in SHARED_SETTINGS.items():
        assert env.get(key) == expected, f"{name}: {key}"
    common = env_of(services["airflow-apiserver"])
    for key in ("AIRFLOW__CORE__FERNET_KEY", "AIRFLOW__API_AUTH__JWT_SECRET", "AIRFLOW_CONN_WIX_DEFAULT"):
        assert env[key] == common[key], f"{name}: {key} differs from the api-server's"


def test_urls_point_at_services_of_this_file(services: dict[str, Any]) -> None:
    env = env_of(services["airflow-apiserver"])
    assert urlsplit(env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]).hostname == "postgres"
    assert urlsplit(env["AIRFLOW__CELERY__RESULT_BACKEND"]).hostname == "postgres"
    assert urlsplit(env["AIRFLOW__CELERY__BROKER_URL"]).hostname == "redis"
    execution = urlsplit(env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"])
    assert (execution.hostname, execution.port, execution.path) == ("airflow-apiserver", 8080, "/execution/")
    postgres = env_of(services["postgres"])
    assert (postgres["POSTGRES_USER"], postgres["POSTGRES_PASSWORD"], postgres["POSTGRES_DB"]) == (
        "airflow",
        "airflow",
        "airflow",
    )


def test_jwt_secret_is_shared_and_long_enough(services: dict[str, Any]) -> None:
    secrets = {env_of(services[name])["AIRFLOW__API_AUTH__JWT_SECRET"] for name in AIRFLOW_SERVICES}
    assert len(secrets) == 1
    (secret,) = secrets
    assert len(secret.encode()) >= 64


def test_jwt_secret_and_fernet_key_can_be_overridden(compose: dict[str, Any]) -> None:
    env = compose["x-airflow-common"]["environment"]
    assert env["AIRFLOW__API_AUTH__JWT_SECRET"].startswith("${AIRFLOW_JWT_SECRET:-")
    assert env["AIRFLOW__CORE__FERNET_KEY"].startswith("${AIRFLOW_FERNET_KEY:-")
    assert env["AIRFLOW__API__BASE_URL"] == "${AIRFLOW_PUBLIC_URL:-http://localhost:8080}"


def test_fernet_key_is_a_valid_key(services: dict[str, Any]) -> None:
    key = env_of(services["airflow-apiserver"])["AIRFLOW__CORE__FERNET_KEY"]
    assert len(base64.urlsafe_b64decode(key.encode())) == 32


@pytest.mark.parametrize(("name", "command"), sorted(EXPECTED_COMMANDS.items()))
def test_service_runs_the_command_of_its_role(services: dict[str, Any], name: str, command: Any) -> None:
    assert services[name]["command"] == command


def test_init_migrates_creates_the_login_and_writes_the_shared_config(services: dict[str, Any]) -> None:
    init = services["airflow-init"]
    env = env_of(init)
    assert init["entrypoint"] == "/bin/bash"
    assert init["user"] == "0:0"
    assert env["_AIRFLOW_DB_MIGRATE"] == "true"
    assert env["_AIRFLOW_WWW_USER_CREATE"] == "true"
    assert (env["_AIRFLOW_WWW_USER_USERNAME"], env["_AIRFLOW_WWW_USER_PASSWORD"]) == ("airflow", "airflow")
    assert env["_PIP_ADDITIONAL_REQUIREMENTS"] == ""
    script = init["command"][1]
    assert init["command"][0] == "-c"
    # The image's entrypoint runs the migration and the user creation before `airflow version`.
    assert "/entrypoint airflow version" in script
    assert "/entrypoint airflow config list" in script
    assert "mkdir -v -p /opt/airflow/{logs,dags,plugins,config}" in script


def test_worker_settings(services: dict[str, Any]) -> None:
    worker = services["airflow-worker"]
    assert env_of(worker)["DUMB_INIT_SETSID"] == "0"
    assert worker["depends_on"]["airflow-apiserver"] == {"condition": "service_healthy"}


def test_postgres_and_redis_have_healthchecks(services: dict[str, Any]) -> None:
    assert services["postgres"]["image"] == "postgres:16"
    assert services["postgres"]["healthcheck"]["test"] == ["CMD", "pg_isready", "-U", "airflow"]
    assert services["redis"]["image"] == "redis:7.2-bookworm"
    assert services["redis"]["healthcheck"]["test"] == ["CMD", "redis-cli", "ping"]


@pytest.mark.parametrize("name", AIRFLOW_SERVICES)
def test_airflow_service_waits_for_healthy_postgres_and_redis(services: dict[str, Any], name: str) -> None:
    depends_on = services[name]["depends_on"]
    assert depends_on["postgres"] == {"condition": "service_healthy"}
    assert depends_on["redis"] == {"condition": "service_healthy"}


@pytest.mark.parametrize("name", LONG_RUNNING)
def test_long_running_service_waits_for_init_and_restarts(services: dict[str, Any], name: str) -> None:
    assert services[name]["depends_on"]["airflow-init"] == {"condition": "service_completed_successfully"}
    assert services[name]["restart"] == "always"
    assert services[name]["healthcheck"]["test"]


def test_component_healthchecks(services: dict[str, Any]) -> None:
    assert services["airflow-apiserver"]["healthcheck"]["test"] == [
        "CMD",
        "curl",
        "--fail",
        "http://localhost:8080/api/v2/version",
    ]
    assert services["airflow-scheduler"]["healthcheck"]["test"] == [
        "CMD",
        "curl",
        "--fail",
        "http://localhost:8974/health",
    ]
    assert "--job-type DagProcessorJob" in services["airflow-dag-processor"]["healthcheck"]["test"][1]
    assert "--job-type TriggererJob" in services["airflow-triggerer"]["healthcheck"]["test"][1]


def test_apiserver_publishes_8080(services: dict[str, Any]) -> None:
    assert services["airflow-apiserver"]["ports"] == ["8080:8080"]
    published = [port for name, service in services.items() for port in service.get("ports", []) if name != "flower"]
    assert sorted(published) == ["8080:8080", "8765:8765"]


def test_profiles(services: dict[str, Any]) -> None:
    assert services["flower"]["profiles"] == ["flower"]
    assert services["airflow-cli"]["profiles"] == ["debug"]
    started_by_up = {name for name, service in services.items() if not service.get("profiles")}
    assert started_by_up == set(services) - {"flower", "airflow-cli"}


def test_shared_volumes_and_user(services: dict[str, Any]) -> None:
    for name in AIRFLOW_SERVICES:
        service = services[name]
        assert service["volumes"] == [
            "./dags:/opt/airflow/dags",
            "./logs:/opt/airflow/logs",
            "./config:/opt/airflow/config",
            "./plugins:/opt/airflow/plugins",
        ]
        assert service["user"] == ("0:0" if name == "airflow-init" else "50000:0")


def emulator_args(services: dict[str, Any]) -> dict[str, str]:
    command = services["wix-emulator"]["command"]
    assert command[:3] == ["python", "-m", "airflow_provider_wix.emulator"]
    options = command[3:]
    assert len(options) % 2 == 0, options
    return {options[i]: str(options[i + 1]) for i in range(0, len(options), 2)}


def test_emulator_service_runs_the_module(services: dict[str, Any]) -> None:
    emulator = services["wix-emulator"]
    args = emulator_args(services)
    assert args["--host"] == "0.0.0.0"
    assert args["--port"] == "8765"
    assert set(args) == {"--host", "--port", "--api-key", "--site-id", "--seed", "--public-url"}
    # Consent links must open in the owner's browser on the host, not at the in-network name.
    assert args["--public-url"] == "http://localhost:8765"
    assert emulator["ports"] == ["8765:8765"]
    assert emulator["healthcheck"]["test"] == [
        "CMD",
        "curl",
        "--fail",
        "http://localhost:8765/_emulator/health",
    ]
    # No wait for Airflow's DB in the image's entrypoint, and no Airflow settings: it stands alone.
    assert env_of(emulator) == {"CONNECTION_CHECK_MAX_COUNT": "0"}
    assert "depends_on" not in emulator


def test_wix_default_connection_points_at_the_emulator(services: dict[str, Any]) -> None:
    env = env_of(services["airflow-worker"])
    conn = json.loads(env["AIRFLOW_CONN_WIX_DEFAULT"])
    args = emulator_args(services)
    assert conn["conn_type"] == "wix"
    assert conn["host"] == EMULATOR_HOST
    host = urlsplit(conn["host"])
    assert host.hostname in services
    assert str(host.port) == args["--port"]
    assert conn["password"] == args["--api-key"] == "emulator-api-key"
    assert conn["extra"] == {
        "auth_type": "api_key",
        "site_id": args["--site-id"],
        "callback_base_url": env["AIRFLOW__API__BASE_URL"],
    }
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", args["--site-id"])


def test_wix_default_connection_is_accepted_by_airflow(services: dict[str, Any]) -> None:
    from airflow.sdk import Connection

    value = env_of(services["airflow-triggerer"])["AIRFLOW_CONN_WIX_DEFAULT"]
    conn = Connection.from_json(value, conn_id="wix_default")
    assert (conn.conn_type, conn.host, conn.password) == ("wix", EMULATOR_HOST, "emulator-api-key")
    assert conn.extra_dejson["callback_base_url"] == "http://localhost:8080"


def commented_connections() -> list[dict[str, Any]]:
    """The commented-out real-Wix alternatives for AIRFLOW_CONN_WIX_DEFAULT, parsed."""
    lines = COMPOSE_FILE.read_text().splitlines()
    blocks = []
    for i, line in enumerate(lines):
        if line.strip() == "# AIRFLOW_CONN_WIX_DEFAULT: >-":
            body = []
            for following in lines[i + 1 :]:
                match = re.fullmatch(r"\s*#   (.*)", following)
                if not match:
                    break
                body.append(match.group(1))
            blocks.append(json.loads(" ".join(body)))
    return blocks


def test_commented_real_wix_alternatives_are_valid_connections() -> None:
    api_key, oauth_app = commented_connections()
    for conn in (api_key, oauth_app):
        assert conn["conn_type"] == "wix"
        assert conn["host"] == ""  # empty = https://www.wixapis.com
        assert conn["extra"]["callback_base_url"] == "${AIRFLOW_PUBLIC_URL:-http://localhost:8080}"
    assert api_key["password"] == "${WIX_API_KEY}"
    assert api_key["extra"]["auth_type"] == "api_key"
    assert api_key["extra"]["site_id"] == "${WIX_SITE_ID}"
    assert oauth_app["extra"] == {
        "auth_type": "oauth_app",
        "client_id": "${WIX_CLIENT_ID}",
        "client_secret": "${WIX_CLIENT_SECRET}",
        "instance_id": "${WIX_INSTANCE_ID}",
        "callback_base_url": "${AIRFLOW_PUBLIC_URL:-http://localhost:8080}",
    }
    assert "password" not in oauth_app


# --- Dockerfile -----------------------------------------------------------------------------------


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with line continuations joined, comments dropped, ARGs resolved."""
    text = re.sub(r"\\\n", "", DOCKERFILE.read_text())
    args: dict[str, str] = {}
    instructions = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        keyword, _, rest = line.partition(" ")
        keyword = keyword.upper()
        if keyword == "ARG" and "=" in rest:
            name, _, default = rest.partition("=")
            args[name.strip()] = default.strip()
        rest = re.sub(r"\$\{(\w+)\}", lambda m: args.get(m.group(1), m.group(0)), rest)
        instructions.append((keyword, rest.strip()))
    return instructions


def test_dockerfile_builds_from_pinned_airflow_3_3() -> None:
    froms = [rest for keyword, rest in dockerfile_instructions() if keyword == "FROM"]
    assert len(froms) == 1
    assert re.fullmatch(r"apache/airflow:3\.3\.\d+-python3\.11", froms[0]), froms[0]


def test_dockerfile_installs_the_package_with_the_constraints_file() -> None:
    instructions = dockerfile_instructions()
    copies = {}
    for keyword, rest in instructions:
        if keyword == "COPY":
            parts = [p for p in rest.split() if not p.startswith("--")]
            for source in parts[:-1]:
                copies[source] = parts[-1]
    assert copies["constraints/constraints-3.11.txt"] == "/opt/airflow-provider-wix/constraints.txt"
    # LICENSE and NOTICE too: pyproject.toml names them as license files, so the build needs them.
    assert {copies[name] for name in ("pyproject.toml", "README.md", "LICENSE", "NOTICE")} == {
        "/opt/airflow-provider-wix/src/"
    }
    assert copies["airflow_provider_wix"] == "/opt/airflow-provider-wix/src/airflow_provider_wix"

    runs = [rest for keyword, rest in instructions if keyword == "RUN" and "pip install" in rest]
    assert len(runs) == 1
    pip = runs[0].split("&&")[0].split()
    assert pip[:2] == ["pip", "install"]
    assert pip[pip.index("--constraint") + 1] == "/opt/airflow-provider-wix/constraints.txt"
    assert '"apache-airflow==3.3.2"' in pip  # pip may not move Airflow away from the image's version
    assert "/opt/airflow-provider-wix/src" in pip
    assert "-e" not in pip
    assert "--editable" not in pip

    before_pip = instructions[: instructions.index(("RUN", runs[0]))]
    users = [rest for keyword, rest in before_pip if keyword == "USER"]
    assert users[-1:] == ["airflow"], "pip must install as the airflow user"


def test_dockerfile_copies_only_files_that_exist() -> None:
    for keyword, rest in dockerfile_instructions():
        if keyword == "COPY":
            sources = [p for p in rest.split() if not p.startswith("--")][:-1]
            for source in sources:
                assert (REPO / source).exists(), f"COPY {source}: missing from the repo"


def test_constraints_file_matches_the_image() -> None:
    constraints = REPO / "constraints" / "constraints-3.11.txt"
    assert constraints.is_file(), "the Dockerfile installs with constraints/constraints-3.11.txt"
    lines = [line.strip() for line in constraints.read_text().splitlines()]
    pins = [line for line in lines if line and not line.startswith("#")]
    assert "apache-airflow==3.3.2" in pins
    # pip rejects editable or path entries in a constraints file.
    assert not [line for line in pins if line.startswith("-e") or "file://" in line or " @ " in line]


def dockerignored(path: str) -> bool:
    """Docker's rule: the last matching pattern wins; `!` re-includes; a match covers the subtree."""
    ignored = False
    for raw in DOCKERIGNORE.read_text().splitlines():
        pattern = raw.strip()
        if not pattern or pattern.startswith("#"):
            continue
        negate = pattern.startswith("!")
        pattern = pattern.lstrip("!").rstrip("/")
        parts = path.split("/")
        prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
        if any(fnmatch.fnmatchcase(prefix, pattern) for prefix in prefixes):
            ignored = not negate
    return ignored


@pytest.mark.parametrize(
    ("path", "ignored"),
    [
        ("pyproject.toml", False),
        ("README.md", False),
        ("LICENSE", False),
        ("NOTICE", False),
        ("airflow_provider_wix/__init__.py", False),
        ("airflow_provider_wix/plugins/callback.py", False),
        ("constraints/constraints-3.11.txt", False),
        (".venv/bin/python", True),
        (".venv-compat/airflow-3.1-py3.10/bin/python", True),
        (".demo/airflow.db", True),
        (".git/HEAD", True),
        (".env", True),
        ("logs/scheduler/latest", True),
        ("tests/deploy/test_docker_compose.py", True),
        ("airflow_provider_wix/__pycache__/__init__.cpython-311.pyc", True),
        ("airflow_provider_wix/client/__pycache__/x.pyc", True),
    ],
)
def test_dockerignore_keeps_the_build_context_to_the_package(path: str, ignored: bool) -> None:
    assert dockerignored(path) is ignored


# --- docker-compose config --------------------------------------------------------------------------


def run_docker_compose(binary: str, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    empty_env_file = tmp_path / "empty.env"
    empty_env_file.write_text("")
    # Only PATH and HOME from the caller: the defaults are what is checked, not a developer's .env.
    env = {"PATH": str(Path(binary).parent), "HOME": str(tmp_path), "AIRFLOW_UID": "50000"}
    return subprocess.run(
        [binary, "--env-file", str(empty_env_file), "-f", str(COMPOSE_FILE), *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


DOCKER_COMPOSE = shutil.which("docker-compose")
needs_docker_compose = pytest.mark.skipif(
    DOCKER_COMPOSE is None,
    reason="docker-compose is not on PATH (apt-get install -y docker-compose)",
)


@needs_docker_compose
def test_docker_compose_config_validates(tmp_path: Path) -> None:
    assert DOCKER_COMPOSE is not None
    result = run_docker_compose(DOCKER_COMPOSE, tmp_path, "config", "-q")
    assert result.returncode == 0, result.stderr
    assert "invalid" not in result.stderr.lower(), result.stderr


@needs_docker_compose
def test_docker_compose_resolves_the_file_as_these_tests_do(tmp_path: Path, services: dict[str, Any]) -> None:
    assert DOCKER_COMPOSE is not None
    profiles = ["--profile", "debug", "--profile", "flower"]
    result = run_docker_compose(DOCKER_COMPOSE, tmp_path, *profiles, "config")
    assert result.returncode == 0, result.stderr
    resolved = yaml.safe_load(result.stdout)["services"]
    assert set(resolved) == set(services)
    for name in AIRFLOW_SERVICES:
        env = {k: str(v) for k, v in resolved[name]["environment"].items()}
        assert env == env_of(services[name]), name
        assert resolved[name]["image"] == IMAGE
    assert [str(arg) for arg in resolved["wix-emulator"]["command"]] == services["wix-emulator"]["command"]
