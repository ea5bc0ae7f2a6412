"""Relative paths on the command line are taken from the working directory (issue 13, point 4).

Each command is run as a user would, from a folder of their own that is not the kit's:
the dataset and the output folders are relative paths, and everything must land there.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from kamlib.paths import project_root


def kam(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "kamlib.cli", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture(scope="module")
def home(tmp_path_factory) -> Path:
    """A working directory with a company in ``./shop`` (relative paths only)."""
    home = tmp_path_factory.mktemp("user-home")
    done = kam(home, "sample", "--out", "shop", "--accounts", "40", "--years", "2", "--seed", "4")
    assert done.returncode == 0, done.stderr
    assert (home / "shop" / "kam.yaml").is_file()
    return home


def _kit_untouched(name: str) -> None:
    assert not (project_root() / name).exists(), f"{name} was written into the kit's folder"


def test_check_reads_a_relative_dataset(home):
    done = kam(home, "check", "shop")
    assert done.returncode == 0, done.stderr
    assert "is valid" in done.stdout


def test_report_with_relative_data_and_out_runs_and_writes_there(home):
    done = kam(home, "report", "00_start_here", "--data", "shop", "--out", "runs-here")
    assert done.returncode == 0, done.stdout + done.stderr
    (run,) = [p for p in (home / "runs-here").iterdir() if not p.name.startswith(".")]
    assert (run / "00_start_here.html").is_file()
    assert any((run / "exports").iterdir()), "the notebook's exports belong in the run"
    _kit_untouched("runs-here")
    # the notebook was given the dataset as an absolute path
    params = (run / "executed" / "00_start_here.parameters.yaml").read_text(encoding="utf-8")
    assert str(home / "shop") in params


def test_dossiers_and_anonymize_write_relative_outs_in_the_working_directory(home):
    done = kam(home, "dossiers", "--data", "shop", "--accounts", "all", "--out", "pages")
    assert done.returncode == 0, done.stderr
    assert any((home / "pages").rglob("*.html"))
    _kit_untouched("pages")
    done = kam(home, "anonymize", "shop", "--out", "room", "--secret", "a-secret-of-twelve")
    assert done.returncode == 0, done.stderr
    assert (home / "room" / "kam.yaml").is_file()
    _kit_untouched("room")


def test_a_relative_dataset_that_is_nowhere_is_named(home):
    done = kam(home, "check", "no-such-shop")
    assert done.returncode == 1
    assert "no-such-shop: no such file or folder" in done.stderr
