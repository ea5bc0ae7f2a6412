"""Child processes that die with the kit.

``kam report`` runs each notebook as ``python -m kamlib._child PARENT_PID -- python -m
papermill …``. This wrapper

* asks Linux to send it SIGTERM when its parent dies (``PR_SET_PDEATHSIG``), and also
  checks every second that its parent is still the same process (where that signal is
  not available, and for a parent that died before the request was made);
* makes itself a subreaper (``PR_SET_CHILD_SUBREAPER``), so the kernel papermill starts
  in a session of its own stays below it even when papermill is gone;
* when papermill ends, when it is told to stop (SIGTERM, SIGINT, SIGHUP) or when its
  parent dies, kills every process below it before it exits.

So a ``kam report`` killed with SIGKILL leaves no papermill and no kernel running.
:func:`die_with_parent` does the same for worker processes (``kam dossiers``), which
start nothing themselves.
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

_PR_SET_PDEATHSIG = 1
_PR_SET_CHILD_SUBREAPER = 36


def _prctl(option: int, value: int) -> bool:
    """Linux ``prctl(option, value)``; False where it does not exist or fails."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(option, value, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _watch_parent(parent: int, on_gone) -> None:
    """Call ``on_gone`` once the parent ``parent`` is gone (checked every second)."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        on_gone()

    threading.Thread(target=watch, daemon=True, name="kam-parent-watch").start()


def die_with_parent(parent: int) -> None:
    """Make this process end when ``parent`` ends (for pool workers that start nothing)."""
    _prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the parent died before the request was made
        os._exit(1)
    _watch_parent(parent, lambda: os._exit(1))


def _descendants() -> list[int]:
    """The processes below this one (from ``/proc``; empty where it does not exist)."""
    children: dict[int, list[int]] = {}
    try:
        entries = list(Path("/proc").iterdir())
    except OSError:
        return []
    for entry in entries:
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rpartition(")")[2].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry.name))
    found: list[int] = []
    todo = [os.getpid()]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.append(child)
                todo.append(child)
    return found


def _kill_all_below(proc: subprocess.Popen) -> None:
    """Kill every process below this one and reap them."""
    for _ in range(100):
        below = _descendants()
        if proc.poll() is None:
            below.append(proc.pid)
        alive = [pid for pid in below if not _zombie(pid)]
        for pid in alive:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        _reap()
        if not alive:
            return
        time.sleep(0.05)


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0] == "Z"
    except (OSError, IndexError):
        return False


def _reap() -> None:
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


class _Stop(BaseException):
    """Told to stop, or the parent is gone."""


def main(argv: list[str]) -> int:
    """``PARENT_PID -- COMMAND…``: run COMMAND, ending it and all below it with the parent."""
    if len(argv) < 3 or argv[1] != "--":
        print("usage: python -m kamlib._child PARENT_PID -- COMMAND…", file=sys.stderr)
        return 2
    parent = int(argv[0])

    def stop(*_args) -> None:
        raise _Stop

    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, stop)
    _prctl(_PR_SET_CHILD_SUBREAPER, 1)
    _prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != parent:
        return 1
    proc = subprocess.Popen(argv[2:])
    code = 1
    try:
        while True:
            try:
                code = proc.wait(timeout=1.0)
                break
            except subprocess.TimeoutExpired:
                if os.getppid() != parent:
                    raise _Stop from None
    except _Stop:
        code = 143
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        _kill_all_below(proc)
    return code


if __name__ == "__main__":  # pragma: no cover - run by kam report
    sys.exit(main(sys.argv[1:]))
