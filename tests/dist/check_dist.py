"""``make test-dist``: the built distributions install and work as a user gets them, not as an editable checkout.

1. ``python -m build`` (the sdist, then the wheel built from that sdist) and ``twine check --strict``.
2. The sdist holds every file it names (license files, README) and every package file git tracks; the
   wheel holds the package data (dashboard templates and static files), the licenses and both entry
   point groups.
3. Per cell ``airflow:python``: a fresh venv of that Python gets the wheel (not editable) with that cell's
   pinned constraints; ``airflow providers get airflow-provider-wix`` and ``airflow plugins`` list it,
   and a real ``airflow api-server`` answers the callback plugin's ``/wix/health``.

Run by the Makefile (``make test-dist [DIST_MATRIX="3.1:3.10 3.3:3.13"]``); exits non-zero on the first
failed check, printing what was seen.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.request
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROJECT = "airflow-provider-wix"
PACKAGE = "airflow_provider_wix"
NEWEST_AIRFLOW_MINOR = "3.3"
PLUGINS = ("wix_oauth_callback", "wix_calendars_dashboard")


class CheckFailed(Exception):
    """One check of the distribution failed; the message says what was seen."""


def run(command: list[str], **kwargs: object) -> str:
    """Run a command, return its stdout; on failure raise with its output (the user sees why).

    Outside the checkout by default: from the repository root, ``python -c`` would import the package
    from the working tree instead of the installed wheel.
    """
    kwargs.setdefault("cwd", tempfile.gettempdir())
    result = subprocess.run(command, capture_output=True, text=True, check=False, **kwargs)  # type: ignore[call-overload]
    if result.returncode != 0:
        raise CheckFailed(f"{' '.join(command)} exited {result.returncode}:\n{result.stdout}\n{result.stderr}")
    return str(result.stdout)


def check(condition: bool, message: str) -> None:
    if not condition:
        raise CheckFailed(message)
    print(f"  ok  {message}")


def build(outdir: Path) -> tuple[Path, Path]:
    print("== build and twine check")
    run([sys.executable, "-m", "build", "--outdir", str(outdir), str(ROOT)])
    (sdist,) = outdir.glob("*.tar.gz")
    (wheel,) = outdir.glob("*.whl")
    run([sys.executable, "-m", "twine", "check", "--strict", str(sdist), str(wheel)])
    check(True, f"built {sdist.name} and {wheel.name}; twine check --strict passes")
    return sdist, wheel


def check_sdist(sdist: Path) -> None:
    print("== sdist contents")
    with tarfile.open(sdist) as archive:
        top = archive.getnames()[0].split("/")[0]
        names = {name.removeprefix(f"{top}/") for name in archive.getnames()}
        pkg_info = archive.extractfile(f"{top}/PKG-INFO")
        assert pkg_info is not None
        metadata = pkg_info.read().decode()
    listed = [line.split(":", 1)[1].strip() for line in metadata.splitlines() if line.startswith("License-File:")]
    check(sorted(listed) == ["LICENSE", "NOTICE"], f"PKG-INFO names the license files {listed}")
    missing = [name for name in [*listed, "README.md", "pyproject.toml"] if name not in names]
    check(not missing, f"the sdist holds the files its metadata names (missing: {missing})")
    tracked = run(["git", "-C", str(ROOT), "ls-files", PACKAGE]).split()
    untracked_in_sdist = [name for name in tracked if name not in names]
    check(not untracked_in_sdist, f"the sdist holds all {len(tracked)} tracked package files ({untracked_in_sdist})")


def check_wheel(wheel: Path) -> None:
    print("== wheel contents")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        (entry_points,) = [name for name in names if name.endswith(".dist-info/entry_points.txt")]
        groups = archive.read(entry_points).decode()
    tracked = run(["git", "-C", str(ROOT), "ls-files", PACKAGE]).split()
    missing = [name for name in tracked if name not in names]
    check(not missing, f"the wheel holds all {len(tracked)} tracked package files ({missing})")
    licenses = sorted(name.rsplit("/", 1)[1] for name in names if ".dist-info/licenses/" in name)
    check(licenses == ["LICENSE", "NOTICE"], f"the wheel carries the licenses {licenses}")
    for group in ("[apache_airflow_provider]", "[airflow.plugins]"):
        check(group in groups, f"entry point group {group} present")


def constraints_for(airflow: str, python: str) -> Path:
    if airflow == NEWEST_AIRFLOW_MINOR:
        return ROOT / "constraints" / f"constraints-{python}.txt"
    return ROOT / "constraints" / f"airflow-{airflow}" / f"constraints-{python}.txt"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def check_cell(wheel: Path, airflow: str, python: str, workdir: Path) -> None:
    print(f"== the wheel on Airflow {airflow}, Python {python}")
    interpreter = run([str(ROOT / "constraints" / "find-python"), python]).strip()
    constraints = constraints_for(airflow, python)
    check(constraints.exists(), f"constraints {constraints.relative_to(ROOT)} exist")
    venv = workdir / f"venv-{airflow}-py{python}"
    run([interpreter, "-m", "venv", "--clear", str(venv)])
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet"]
    run([*pip, "--upgrade", "pip"])
    run([*pip, "--constraint", str(constraints), str(wheel)])
    location = run([str(venv / "bin" / "python"), "-c", f"import {PACKAGE}; print({PACKAGE}.__file__)"]).strip()
    check(location.startswith(str(venv)), f"installed from the wheel into the venv ({location})")
    home = workdir / f"home-{airflow}-py{python}"
    home.mkdir()
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_FOLDER": str(home / "dags"),
        "PATH": f"{venv / 'bin'}{os.pathsep}{os.environ['PATH']}",
    }
    airflow_cli = str(venv / "bin" / "airflow")
    version = run([airflow_cli, "version"], env=env).strip().splitlines()[-1]
    check(version.startswith(f"{airflow}."), f"airflow version {version}")
    provider = json.loads(run([airflow_cli, "providers", "get", PROJECT, "--output", "json"], env=env))
    provider = provider[0] if isinstance(provider, list) else provider
    # Keys differ by release ("package_name" or "Provider"); the project's name must be one of the values.
    check(PROJECT in provider.values(), f"airflow providers get lists {provider}")
    plugins = run([airflow_cli, "plugins", "--output", "json"], env=env)
    listed = [name for name in PLUGINS if f'"{name}"' in plugins]
    check(listed == list(PLUGINS), f"airflow plugins lists {listed}")
    run([airflow_cli, "db", "migrate"], env=env)
    check_api_server(airflow_cli, env, home)


def check_api_server(airflow_cli: str, env: dict[str, str], home: Path) -> None:
    port = free_port()
    log = (home / "api-server.log").open("w")
    server = subprocess.Popen(  # its own process group: the workers it forks stop with it
        [airflow_cli, "api-server", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=home,
        start_new_session=True,
    )
    try:
        url = f"http://127.0.0.1:{port}/wix/health"
        deadline = time.monotonic() + 180
        body = None
        while time.monotonic() < deadline and server.poll() is None:
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    body = json.loads(response.read())
                    break
            except OSError:
                time.sleep(1)
        if body is None:
            raise CheckFailed(f"{url} never answered; api-server log:\n{(home / 'api-server.log').read_text()[-3000:]}")
        check(body.get("plugin") == "wix_oauth_callback", f"airflow api-server answers /wix/health: {body}")
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
        log.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cells", default="3.3:3.11", help='space-separated airflow:python cells, e.g. "3.1:3.10"')
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="wix-dist-") as tmp:
        workdir = Path(tmp)
        try:
            sdist, wheel = build(workdir / "dist")
            check_sdist(sdist)
            check_wheel(wheel)
            for cell in args.cells.split():
                airflow, _, python = cell.partition(":")
                check_cell(wheel, airflow, python, workdir)
        except CheckFailed as failure:
            print(f"FAILED: {failure}", file=sys.stderr)
            return 1
    print("== test-dist: all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
