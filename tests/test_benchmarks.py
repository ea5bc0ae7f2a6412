"""The benchmarks run, on small data, and their implementations agree (no timing here)."""

from __future__ import annotations

import subprocess
import sys

import kamlib

BENCH = kamlib.project_root() / "benchmarks"


def test_abcxyz_benchmark_smoke_run_agrees_with_the_straightforward_version():
    result = subprocess.run(
        [sys.executable, str(BENCH / "bench_abcxyz.py"), "--accounts", "2000", "--repeat", "1"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "results agree for all" in result.stdout


def test_foundation_benchmark_smoke_run():
    result = subprocess.run(
        [sys.executable, str(BENCH / "bench_foundation.py"), "--accounts", "300", "--years", "2"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "load + validate csv" in result.stdout
