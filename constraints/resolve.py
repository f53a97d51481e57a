"""Resolve a pinned constraints file for one Python and one Airflow release.

Run with the interpreter the file is for (``make constraints PYTHON=python3.12 [AIRFLOW=3.1]``): pip
resolves the project's extras plus ``apache-airflow==<release>`` with that interpreter's markers and
wheels, without installing anything, and the resolution is written out pinned and sorted. Holds in
``constraints/holds.txt`` (versions known to break something) are applied on every resolution, and
those in a ``holds.txt`` beside the output file (e.g. ``constraints/airflow-3.2/holds.txt``) on the
resolutions for that Airflow minor.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HOLDS = ROOT / "constraints" / "holds.txt"
EXTRAS = "test,e2e,smtp"
PROJECT = "airflow-provider-wix"


def resolve(airflow: str, prefer: Path | None, holds: list[Path]) -> list[tuple[str, str]]:
    """Names and versions pip would install for the project on this interpreter.

    ``prefer`` (another constraints file, e.g. the same Python's for the newest Airflow) is tried
    first, without its Airflow pins, so the files differ only where they must; if that cannot be
    resolved, pip resolves from scratch.
    """
    if prefer is not None:
        kept = [line for line in prefer.read_text().splitlines() if not line.lower().startswith("apache-airflow")]
        with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as handle:
            handle.write("\n".join(kept) + "\n")
        try:
            return _resolve(airflow, Path(handle.name), holds)
        except subprocess.CalledProcessError:
            print(f"Could not stay within {prefer}; resolving from scratch", file=sys.stderr)
        finally:
            Path(handle.name).unlink()
    return _resolve(airflow, None, holds)


def _resolve(airflow: str, prefer: Path | None, holds: list[Path]) -> list[tuple[str, str]]:
    with tempfile.TemporaryDirectory(prefix="wix-resolve-") as tmp:
        env_dir = Path(tmp) / "venv"
        venv.create(env_dir, with_pip=True)
        pip = [str(env_dir / "bin" / "python"), "-m", "pip"]
        subprocess.run([*pip, "install", "--quiet", "--upgrade", "pip"], check=True)
        report = Path(tmp) / "report.json"
        command = [*pip, "install", "--quiet", "--dry-run", "--ignore-installed", "--report", str(report)]
        for hold_file in holds:
            command += ["--constraint", str(hold_file)]
        if prefer is not None:
            command += ["--constraint", str(prefer)]
        command += [f"{ROOT}[{EXTRAS}]", f"apache-airflow=={airflow}"]
        subprocess.run(command, check=True)
        installs = json.loads(report.read_text())["install"]
    pins = [(item["metadata"]["name"], item["metadata"]["version"]) for item in installs]
    return sorted((pin for pin in pins if pin[0].lower() != PROJECT), key=lambda pin: pin[0].lower())


def holds_for(output: Path) -> list[Path]:
    """The holds files applied to ``output`` (absolute): ``constraints/holds.txt``, then its folder's."""
    beside = output.resolve().parent / "holds.txt"
    return [HOLDS, *([beside] if beside.exists() and beside != HOLDS else [])]


def held_back(hold_files: list[Path]) -> list[str]:
    """Each hold as the output file's header names it: ``(constraints/holds.txt): celery==5.6.3``."""
    return [
        f"({hold_file.relative_to(ROOT)}): {line.strip()}"
        for hold_file in hold_files
        for line in hold_file.read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--airflow", required=True, help="the apache-airflow release, e.g. 3.3.2")
    parser.add_argument("--output", required=True, type=Path)
    parser.add_argument("--prefer", type=Path, help="an existing constraints file to stay close to (optional)")
    args = parser.parse_args()
    python = f"{sys.version_info[0]}.{sys.version_info[1]}"
    hold_files = holds_for(args.output)
    pins = resolve(args.airflow, args.prefer if args.prefer and args.prefer.exists() else None, hold_files)
    holds = held_back(hold_files)
    lines = [
        f"# Pinned constraints for airflow-provider-wix on Python {python} (apache-airflow {args.airflow}).",
        "# Refresh on purpose with: make constraints [PYTHON=...] [AIRFLOW=<minor>]   (then review the diff and test)",
        *(f"# Held back {hold}" for hold in holds),
        *(f"{name}=={version}" for name, version in pins),
    ]
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text("\n".join(lines) + "\n")
    print(f"{args.output}: {len(pins)} packages for Python {python}, apache-airflow {args.airflow}")


if __name__ == "__main__":
    main()
