"""The package as installed: dependencies in step, a small public API, no drawing in analysis."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib

import yaml

import kamlib

ROOT = kamlib.project_root()


def _name_and_bound(spec: str) -> tuple[str, str]:
    match = re.fullmatch(r"\s*([A-Za-z0-9_.\-]+)\s*(>=\s*[\w.]+)?\s*", spec)
    assert match, f"unexpected requirement {spec!r}"
    return match.group(1).lower(), (match.group(2) or "").replace(" ", "")


def test_environment_yml_lists_the_same_dependencies_as_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = [*project["dependencies"], *project["optional-dependencies"]["test"]]
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda = [
        d for d in env["dependencies"] if isinstance(d, str) and not d.startswith(("python", "pip"))
    ]
    assert sorted(map(_name_and_bound, conda)) == sorted(map(_name_and_bound, wanted))
    python = next(d for d in env["dependencies"] if isinstance(d, str) and d.startswith("python"))
    assert python.replace("python", "") == project["requires-python"]


def test_oldest_constraints_pin_every_lower_bound():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = dict(
        map(_name_and_bound, [*project["dependencies"], *project["optional-dependencies"]["test"]])
    )
    lines = [
        ln
        for ln in (ROOT / ".ci" / "constraints-oldest.txt").read_text().splitlines()
        if ln and not ln.startswith("#")
    ]
    pinned = dict(ln.lower().split("==") for ln in lines)
    assert {name: f">={version}" for name, version in pinned.items()} == wanted


def test_public_api_is_explicit_and_resolves():
    assert len(kamlib.__all__) == len(set(kamlib.__all__))
    for name in kamlib.__all__:
        assert getattr(kamlib, name) is not None, name


def test_analysis_does_not_import_matplotlib():
    code = "import sys, kamlib; kamlib.load_sample(); print('matplotlib' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"


def test_no_module_reads_todays_date():
    for path in (ROOT / "kamlib").glob("*.py"):
        if path.name == "report.py":  # a report run is stamped with the time it ran, nothing else
            continue
        text = path.read_text()
        for pattern in (
            "datetime.now",
            "date.today",
            "Timestamp.now",
            "Timestamp.today",
            "time.time()",
        ):
            assert pattern not in text, f"{path.name} uses {pattern}"


def test_readme_gives_the_two_commands():
    readme = (ROOT / "README.md").read_text()
    assert "make report" in readme and "make test" in readme
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make test" in ci
