"""Every pinned constraints file installs everything the project declares without resolving anything anew.

A dependency added to pyproject.toml but missing from one file would be resolved freshly, and unpinned,
on that Python or Airflow minor only: the matrix would no longer test what it claims. Read from the
installed distribution's metadata (the same requirements pip sees), so no TOML parser is needed on 3.10.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import re
import sys
from pathlib import Path

import pytest
from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent
CONSTRAINTS = ROOT / "constraints"
FILES = sorted(CONSTRAINTS.glob("constraints-*.txt")) + sorted(CONSTRAINTS.glob("airflow-*/constraints-*.txt"))
#: What the Makefile installs: `-e '.[test,e2e,smtp]'`.
EXTRAS = ("test", "e2e", "smtp")
REQUIREMENTS = [Requirement(line) for line in importlib.metadata.requires("airflow-provider-wix") or []]


def _pins(path: Path) -> dict[str, Version]:
    pins = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, version = line.partition("==")
            pins[canonicalize_name(name)] = Version(version.strip())
    return pins


def _python_of(path: Path) -> str:
    match = re.fullmatch(r"constraints-(\d+\.\d+)\.txt", path.name)
    assert match, path
    return match.group(1)


def _declared_for(python: str) -> list[Requirement]:
    """The requirements `pip install '.[test,e2e,smtp]'` asks for on this Python."""
    wanted = []
    for requirement in REQUIREMENTS:
        if requirement.marker is None:
            wanted.append(requirement)
            continue
        environments = [{**default_environment(), "python_version": python, "extra": extra} for extra in EXTRAS]
        if any(requirement.marker.evaluate(environment) for environment in environments):
            wanted.append(requirement)
    return wanted


def test_the_extras_are_the_ones_the_makefile_installs():
    declared = set(importlib.metadata.metadata("airflow-provider-wix").get_all("Provides-Extra") or [])
    assert declared == set(EXTRAS)
    assert f"'.[{','.join(EXTRAS)}]'" in (ROOT / "Makefile").read_text()


@pytest.mark.parametrize("path", FILES, ids=lambda path: str(path.relative_to(CONSTRAINTS)))
def test_pins_every_declared_dependency_within_its_specifier(path: Path):
    pins = _pins(path)
    missing = [str(req) for req in _declared_for(_python_of(path)) if canonicalize_name(req.name) not in pins]
    assert not missing, f"{path.name} does not pin {missing}: run `make constraints` for it"
    outside = [
        f"{req.name}=={pins[canonicalize_name(req.name)]} vs {req.specifier}"
        for req in _declared_for(_python_of(path))
        if not req.specifier.contains(pins[canonicalize_name(req.name)], prereleases=True)
    ]
    assert not outside, outside


@pytest.mark.parametrize("path", FILES, ids=lambda path: str(path.relative_to(CONSTRAINTS)))
def test_pins_the_airflow_minor_its_folder_names_and_the_holds(path: Path):
    pins = _pins(path)
    airflow = pins[canonicalize_name("apache-airflow")]
    folder = re.fullmatch(r"airflow-(\d+)\.(\d+)", path.parent.name)
    if folder:
        assert (airflow.major, airflow.minor) == (int(folder.group(1)), int(folder.group(2)))
    else:
        newest = [re.fullmatch(r"airflow-(\d+)\.(\d+)", p.name) for p in CONSTRAINTS.glob("airflow-*")]
        assert all((airflow.major, airflow.minor) > (int(m.group(1)), int(m.group(2))) for m in newest if m)
    holds = (CONSTRAINTS / "holds.txt").read_text().splitlines()
    if folder and (path.parent / "holds.txt").exists():
        holds += (path.parent / "holds.txt").read_text().splitlines()
    for hold in (Requirement(line) for line in holds if line.strip() and not line.startswith("#")):
        assert hold.specifier.contains(pins[canonicalize_name(hold.name)]), f"{path.name} ignores the hold {hold}"


def _load_resolve():
    spec = importlib.util.spec_from_file_location("constraints_resolve", CONSTRAINTS / "resolve.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_resolve_applies_and_names_a_minors_holds_for_a_relative_output_path(tmp_path, monkeypatch):
    """`make constraints AIRFLOW=3.2` passes a relative --output; its folder's holds.txt must still apply.

    pip itself is stubbed out: the test checks which holds files reach it and the header they produce.
    """
    resolve = _load_resolve()
    (tmp_path / "constraints" / "airflow-3.2").mkdir(parents=True)
    (tmp_path / "constraints" / "holds.txt").write_text("# every file\ncelery==5.6.3\n")
    (tmp_path / "constraints" / "airflow-3.2" / "holds.txt").write_text("# this minor\nsvcs==26.1.0\n")
    monkeypatch.setattr(resolve, "ROOT", tmp_path)
    monkeypatch.setattr(resolve, "HOLDS", tmp_path / "constraints" / "holds.txt")
    seen = []
    monkeypatch.setattr(resolve, "resolve", lambda airflow, prefer, holds: seen.extend(holds) or [("svcs", "26.1.0")])
    monkeypatch.chdir(tmp_path)
    output = Path("constraints/airflow-3.2/constraints-3.12.txt")
    monkeypatch.setattr(sys, "argv", ["resolve.py", "--airflow", "3.2.2", "--output", str(output)])

    resolve.main()

    assert [path.relative_to(tmp_path) for path in seen] == [
        Path("constraints/holds.txt"),
        Path("constraints/airflow-3.2/holds.txt"),
    ]
    header = output.read_text()
    assert "# Held back (constraints/holds.txt): celery==5.6.3\n" in header
    assert "# Held back (constraints/airflow-3.2/holds.txt): svcs==26.1.0\n" in header
