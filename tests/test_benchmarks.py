"""The benchmarks run, on small data, and their implementations agree (no timing here)."""

from __future__ import annotations

import subprocess
import sys

import kamlib

BENCH = kamlib.project_root() / "benchmarks"


def _smoke(script: str, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, str(BENCH / script), *args], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def test_abcxyz_benchmark_smoke_run_agrees_with_the_straightforward_version():
    assert "results agree for all" in _smoke(
        "bench_abcxyz.py", "--accounts", "2000", "--repeat", "1"
    )


def test_foundation_benchmark_smoke_run():
    assert "load + validate csv" in _smoke(
        "bench_foundation.py", "--accounts", "300", "--years", "2"
    )


def test_identification_benchmark_smoke_run():
    out = _smoke("bench_identification.py", "--accounts", "300", "--years", "2", "--repeat", "1")
    assert "stability (24 weight sets)" in out and "key accounts by" in out


def test_loss_benchmark_smoke_run():
    out = _smoke("bench_loss.py", "--accounts", "300", "--years", "2", "--repeat", "1")
    assert "back_test (rhythm, 4 settings)" in out and "peak memory" in out


def test_sliders_benchmark_smoke_run():
    out = _smoke("bench_sliders.py", "--repeat", "1")
    for slider in ("01 weights", "02 cut-offs", "04 days without a purchase"):
        assert slider in out
