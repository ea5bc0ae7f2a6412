"""Writing a folder whole or not at all, and knowing which folders the kit wrote.

Every folder the kit creates and may later replace or delete holds a marker file,
:data:`MARKER` (``.kam-written``), written when the folder is made: ``written_by`` names
the command (``kam sample``, ``kam anonymize``, ``kam report``, ``kam dossiers``); a run
of ``kam report`` or ``kam dossiers`` also records a random ``run_id`` and, while it is
under way, the ``pid`` and start time of its process. The kit replaces or deletes a
folder only when it is a real folder (not a symbolic link) holding a marker of the same
command (and, for a run, with the run's id); any other folder, file or link is left
alone. Deleting the marker protects a folder from the kit for good.
"""

from __future__ import annotations

import errno
import os
import secrets
import shutil
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd

#: The marker file in every folder the kit wrote and may replace or delete.
MARKER = ".kam-written"
_MARKER_HEAD = (
    "# Written by the KAM kit (kamlib). The kit replaces or deletes only folders that\n"
    "# hold this file; delete it to keep the kit from ever touching this folder.\n"
)
_MAX_MARKER = 4096


def _process_started(pid: int) -> str:
    """The start time of process ``pid`` (clock ticks since boot), ``""`` if unknown."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        return ""
    fields = text.rpartition(")")[2].split()
    return fields[19] if len(fields) > 19 else ""  # field 22 of stat(5), after pid and comm


def process_alive(pid: int, started: str = "") -> bool:
    """Whether process ``pid`` runs and (if ``started`` is known) is the same process.

    A pid recycled by a later process has another start time, so it does not count.
    """
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # it exists, owned by another user
    now = _process_started(pid)
    return not (started and now and now != started)


def new_run_id() -> str:
    """A random id for one run of ``kam report`` or ``kam dossiers``."""
    return secrets.token_hex(8)


def write_marker(folder: Path, *, written_by: str, run_id: str = "", running: bool = False) -> None:
    """Write the kit's marker into ``folder`` (see the module's docstring).

    ``running`` adds this process's pid and start time: a later run removes the folder
    once that process is gone (a run that was killed).
    """
    lines = [f"written_by: {written_by}"]
    if run_id:
        lines.append(f"run_id: {run_id}")
    if running:
        pid = os.getpid()
        lines += [f"pid: {pid}", f"pid_started: {_process_started(pid)}"]
    (folder / MARKER).write_text(_MARKER_HEAD + "\n".join(lines) + "\n", encoding="utf-8")


def read_marker(folder: Path) -> dict[str, str] | None:
    """The kit's marker of ``folder`` as a dict, or None.

    None unless ``folder`` is a real folder (not a symbolic link) holding a regular
    marker file (not a link) that the kit could have written.
    """
    try:
        if not stat.S_ISDIR(os.lstat(folder).st_mode):
            return None
        info = os.lstat(folder / MARKER)
        if not stat.S_ISREG(info.st_mode) or info.st_size > _MAX_MARKER:
            return None
        text = (folder / MARKER).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    if not text.startswith(_MARKER_HEAD):
        return None
    fields = {}
    for line in text[len(_MARKER_HEAD) :].splitlines():
        key, sep, value = line.partition(": ")
        if sep:
            fields[key] = value
    return fields if "written_by" in fields else None


def written_by_kit(folder: Path, *, written_by: str, run_id: str | None = None) -> bool:
    """Whether ``folder`` holds the marker of ``written_by`` (and of ``run_id``, if given)."""
    marker = read_marker(folder)
    if marker is None or marker.get("written_by") != written_by:
        return False
    return run_id is None or (bool(run_id) and marker.get("run_id") == run_id)


def remove_kit_folder(folder: Path, *, written_by: str, run_id: str | None = None) -> bool:
    """Delete ``folder`` if the kit provably wrote it; never follows a symbolic link.

    Returns whether it was deleted.
    """
    if not written_by_kit(folder, written_by=written_by, run_id=run_id):
        return False
    shutil.rmtree(folder, ignore_errors=True)  # rmtree itself refuses a link at the top
    return True


def remove_stale(root: Path, *, written_by: str) -> list[Path]:
    """Delete the temporary folders (``.incomplete-*``) of killed runs of ``written_by``.

    Only folders holding that command's marker whose process is gone are deleted
    (a pid recycled by another process does not keep them). Links, folders without the
    marker and anything else are left alone. Returns the folders deleted.
    """
    removed = []
    for path in sorted(root.glob(".incomplete-*")):
        marker = read_marker(path)
        if marker is None or marker.get("written_by") != written_by:
            continue
        try:
            pid = int(marker.get("pid", ""))
        except ValueError:
            continue  # a finished folder's marker has no pid: not ours to judge
        if not process_alive(pid, marker.get("pid_started", "")):
            if remove_kit_folder(path, written_by=written_by):
                removed.append(path)
    return removed


def check_out_folder(folder: Path, *, what: str = "--out") -> None:
    """Refuse an output folder that is a file, or that cannot be made or written.

    Raises
    ------
    ValueError
        Naming the path, what is wrong with it and what to do.
    """
    for parent in (folder, *folder.parents):
        if parent.exists() or parent.is_symlink():
            break
    else:  # pragma: no cover - the root always exists
        parent = folder
    if not parent.is_dir():
        if parent == folder:
            raise ValueError(
                f"{what} {folder} is a file, not a folder; give a folder (new or existing)"
            )
        raise ValueError(
            f"{what} {folder} cannot be made: {parent} is a file, not a folder; give another folder"
        )
    if not os.access(parent, os.W_OK | os.X_OK):
        raise ValueError(
            f"{what} {folder} cannot be written: no permission to write in {parent}; give a "
            "folder you may write in, or ask for the permission"
        )


def _describe(folder: Path) -> str:
    """What a folder holds, in a few words (for a refusal)."""
    names = sorted(p.name for p in folder.iterdir())
    shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
    kind = "a dataset (kam.yaml) and files" if "kam.yaml" in names else "files"
    return f"{kind} the kit did not write: {shown}"


def check_replaceable(target: Path, *, written_by: str, replace: bool) -> None:
    """Refuse to replace ``target`` unless it is new, empty, or ``written_by``'s own folder.

    A kit-written folder needs ``replace``. Raises ValueError naming the folder, what it
    holds and what to do.
    """
    if target.is_symlink():
        raise ValueError(
            f"{target} is a symbolic link; the kit does not write through links. Give the "
            "real folder, or a new one"
        )
    if not target.exists():
        return
    if not target.is_dir():
        raise ValueError(f"{target} is a file, not a folder; give a new or empty folder")
    if not any(target.iterdir()):
        return
    marker = read_marker(target)
    if marker is None:
        raise ValueError(
            f"{target} holds {_describe(target)}. It is left alone: `{written_by}` replaces "
            f"only a folder it wrote itself (marked by its {MARKER} file). Choose a new or "
            "empty folder"
        )
    if marker["written_by"] != written_by:
        raise ValueError(
            f"{target} holds a folder written by `{marker['written_by']}`, which "
            f"`{written_by}` does not replace; choose a new or empty folder"
        )
    if not replace:
        raise ValueError(
            f"{target} holds an earlier folder written by `{written_by}`; give --replace "
            "(replace=True) to replace it, or choose a new folder"
        )


def check_target(target: Path, *, written_by: str, replace: bool) -> None:
    """Refuse, before any work, an output folder ``written_by`` may not write: a file, a
    folder that cannot be made or written (:func:`check_out_folder`), or one it may not
    replace (:func:`check_replaceable`)."""
    check_out_folder(target)
    check_replaceable(target, written_by=written_by, replace=replace)


@contextmanager
def folder_written_whole(target: Path, *, written_by: str, replace: bool = True) -> Iterator[Path]:
    """Yield a temporary folder beside ``target``; on success it replaces ``target``.

    ``target`` must be new, empty, or a folder holding the kit's marker of the same
    command (``written_by``, e.g. ``kam sample``); anything else (a real dataset, a
    file, a link) raises ValueError before anything is written, and a kit-written folder
    is replaced only with ``replace``. The copy gets the marker. If the block raises, the
    temporary folder (``.kam-sample-…``) is removed and ``target`` is left as it was, so
    a reader never sees a half-written dataset.
    """
    target = Path(target)
    check_target(target, written_by=written_by, replace=replace)
    prefix = "." + written_by.replace(" ", "-") + "-"
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=prefix, dir=target.parent))
    tmp.chmod(0o755)
    try:
        yield tmp
        write_marker(tmp, written_by=written_by)
        check_replaceable(target, written_by=written_by, replace=replace)  # changed meanwhile?
        swap_into_place(tmp, target, written_by=written_by)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def swap_into_place(
    new: Path, target: Path, *, written_by: str, aside_prefix: str = ".kam-replaced-"
) -> None:
    """Rename the complete folder ``new`` to ``target``, replacing an earlier kit folder.

    The earlier folder is first moved aside to a free hidden name beside ``target``
    (``aside_prefix``) and marked as this process's, then deleted; if this process is
    killed in between, a later run of the same command removes it (a ``.incomplete-``
    prefix makes :func:`remove_stale` find it). The caller has checked that ``target``
    may be replaced.
    """
    try:
        os.replace(new, target)  # new or empty target: one step
        return
    except OSError as exc:
        if exc.errno not in (errno.ENOTEMPTY, errno.EEXIST):
            raise
    old = Path(tempfile.mkdtemp(prefix=aside_prefix, dir=target.parent))
    old.rmdir()  # a free hidden name
    os.replace(target, old)
    write_marker(old, written_by=written_by, running=True)  # now this process's
    try:
        os.replace(new, target)
    except BaseException:
        os.replace(old, target)  # put the earlier folder back
        raise
    remove_kit_folder(old, written_by=written_by)


def csv_text(frame: pd.DataFrame, *, float_format: str | None = None) -> str:
    """A table as the kit writes dataset CSV files: yes/no as ``true``/``false``, dates as
    ``YYYY-MM-DD``, empty cells for missing values, ``\\n`` line ends.

    ``float_format`` (e.g. ``"%.2f"``) fixes the decimals; ``None`` writes each number's
    shortest exact text (a price of 0.0035 stays 0.0035).
    """
    out = frame.copy()
    for column in out.columns:
        values = out[column]
        if pd.api.types.is_bool_dtype(values):
            out[column] = values.astype(object).map({True: "true", False: "false"})
    return out.to_csv(
        index=False,
        lineterminator="\n",
        float_format=float_format,
        na_rep="",
        date_format="%Y-%m-%d",
    )
