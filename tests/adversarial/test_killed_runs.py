"""A run killed with SIGKILL leaves no process behind, and the next run cleans up after it.

Only the ``kam`` process itself is killed (as the out-of-memory killer or ``kill -9``
would); every process it started must end with it. Processes that survive are killed
by the test (by pid and start time, only those this test started) before it fails.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from .hostile import (
    alive,
    check_result,
    cmdline,
    descendants,
    kam_command,
    kill_keys,
    run_cli,
    slow_notebook,
    wait_until,
)


def _kill_when(args: list, ready, tmp_path: Path) -> list[str]:
    """Start ``kam ARGS``, SIGKILL it once ``ready(children)`` holds; the survivors."""
    log = (tmp_path / "killed.log").open("w")
    proc = subprocess.Popen(kam_command(args), stdout=log, stderr=subprocess.STDOUT)
    seen: set = set()

    def started() -> bool:
        children = descendants(proc.pid)
        seen.update(children)
        return proc.poll() is not None or ready([cmdline(pid) for pid, _ in children])

    try:
        assert wait_until(started, seconds=180), "the run never reached the point to kill it"
        assert proc.poll() is None, f"the run ended before it was killed: {proc.returncode}"
        seen.update(descendants(proc.pid))
        proc.kill()
        proc.wait()
        wait_until(lambda: not alive(seen), seconds=15)
        survivors = alive(seen)
        for key in list(survivors):  # what survivors started since
            survivors += sorted(descendants(key[0]))
        found = [f"{pid}: {cmdline(pid)[:150]}" for pid, _ in survivors]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        running = alive(seen)  # only these are still the processes this test started
        kill_keys([*running, *(k for pid, _ in running for k in descendants(pid))])
        log.close()
    return found


def _stale(out: Path) -> list[Path]:
    return sorted(p for p in out.rglob(".incomplete-*"))


def test_killed_report_leaves_no_process_and_the_next_run_cleans_up(tmp_path, plain_sample):
    out = tmp_path / "reports"
    slow = slow_notebook(tmp_path / "slow.ipynb")  # runs for ten minutes unless stopped
    args = ["report", "--data", plain_sample, "--out", out, "--timeout", 900]
    survivors = _kill_when(
        [*args, slow], lambda cmds: any("ipykernel" in c for c in cmds), tmp_path
    )
    assert survivors == [], "still running after the run was killed"
    stale = _stale(out)
    assert stale, f"the killed run left no temporary folder in {out}: {sorted(out.rglob('*'))}"
    check_result(run_cli([*args, "00_start_here"], timeout=300), 0)
    assert [p for p in stale if p.exists() or p.is_symlink()] == []


def test_killed_dossiers_leave_no_worker_and_the_next_batch_cleans_up(tmp_path, plain_sample):
    out = tmp_path / "dossiers"
    args = ["dossiers", "--data", plain_sample, "--out", out, "--accounts", "all"]
    survivors = _kill_when(
        [*args, "--workers", 2],
        lambda cmds: sum("multiprocessing" in c and "resource_tracker" not in c for c in cmds) >= 2,
        tmp_path,
    )
    assert survivors == [], "still running after the batch was killed"
    stale = _stale(out)
    assert stale, f"the killed batch left no temporary folder in {out}: {sorted(out.rglob('*'))}"
    check_result(run_cli([*args[:-1], "K10001"], timeout=300), 0)
    assert [p for p in stale if p.exists() or p.is_symlink()] == []
