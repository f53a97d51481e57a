# The image every service of docker-compose.yaml runs: apache/airflow with this provider installed,
# so that the api-server (OAuth callback plugin, connection form), dag-processor (parsing), Celery
# worker (hooks, operators) and triggerer (deferrable waits) all have it. The Wix emulator runs from
# it too.
#
#   docker compose build        # or: docker build -t airflow-provider-wix:local .
#
# AIRFLOW_VERSION is pinned; PYTHON_VERSION picks both the image's Python and the repo's constraints
# file for that Python (constraints/constraints-<python>.txt), so the build resolves to the same
# versions the tests ran with.
ARG AIRFLOW_VERSION=3.3.2
ARG PYTHON_VERSION=3.11
FROM apache/airflow:${AIRFLOW_VERSION}-python${PYTHON_VERSION}

ARG AIRFLOW_VERSION
ARG PYTHON_VERSION

# Install as the airflow user, the way the official image expects extensions to be installed.
USER airflow

COPY --chown=airflow:0 constraints/constraints-${PYTHON_VERSION}.txt /opt/airflow-provider-wix/constraints.txt
COPY --chown=airflow:0 pyproject.toml README.md LICENSE NOTICE /opt/airflow-provider-wix/src/
COPY --chown=airflow:0 airflow_provider_wix /opt/airflow-provider-wix/src/airflow_provider_wix

# "apache-airflow==<image version>" keeps pip from moving Airflow itself; the constraints file pins
# everything else the provider pulls in.
RUN pip install --no-cache-dir \
        --constraint /opt/airflow-provider-wix/constraints.txt \
        "apache-airflow==${AIRFLOW_VERSION}" \
        /opt/airflow-provider-wix/src \
    && python -c "from importlib.metadata import entry_points; \
assert any(ep.value.startswith('airflow_provider_wix.') for ep in entry_points(group='airflow.plugins')), \
'the airflow.plugins entry point of airflow_provider_wix is missing'; import airflow_provider_wix"
