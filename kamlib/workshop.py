"""Setting up a workshop: a copy of the course per learner, and JupyterLab opened on it.

On a laptop with the kit checked out, ``kam lab`` opens JupyterLab on the kit's own
notebooks. On a shared JupyterHub, or whenever learners should not write into the
kit's folder, each learner gets a copy: ``kam course --out ~/kam-course --seed 3``
copies the notebooks (as committed: no outputs) and writes the group's sample
company into ``data/group-3``; ``kam lab ~/kam-course`` then opens it. Inside a
copy, the environment variable ``KAM_HOME`` points kamlib at the copy, so exports,
reports and relative dataset paths stay in the learner's folder
(:func:`kamlib.project_root`).
"""

from __future__ import annotations

import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

__all__ = ["LabCommand", "copy_course", "lab_command"]

_MARKER = "kam-course.txt"


def _notebooks() -> list[Path]:
    from kamlib.report import default_notebooks

    return default_notebooks()


def copy_course(
    out: str | os.PathLike[str], *, seed: int | None = None, replace: bool = False
) -> Path:
    """Copy the course into ``out``: ``notebooks/`` and, with ``seed``, a group's company.

    Parameters
    ----------
    out : path-like
        Folder to create. An existing folder is refused unless it is an earlier copy
        and ``replace`` is true (a copy holds the file ``kam-course.txt``).
    seed : int, optional
        Also write a sample company generated with this seed into ``data/group-<seed>``:
        each table of learners works on its own company. Its planted truth
        (``scenario.csv``) is left out: the trainer's ``kam sample --seed`` has it.
    replace : bool, default False
        Replace the notebooks of an earlier copy (the learner's edits are lost).

    Returns
    -------
    pathlib.Path
        The course folder.
    """
    target = Path(out).expanduser()
    if target.exists() and any(target.iterdir()):
        if not (target / _MARKER).is_file():
            raise ValueError(
                f"{target} exists and is not a course copy; choose a new or empty folder"
            )
        if not replace:
            raise ValueError(
                f"{target} already holds a course copy; give replace=True (kam course --replace) "
                "to overwrite its notebooks, which loses the learner's edits"
            )
    folder = target / "notebooks"
    folder.mkdir(parents=True, exist_ok=True)
    for path in _notebooks():
        shutil.copyfile(path, folder / path.name)
    lines = [
        "A copy of the KAM course, made by `kam course`.",
        f"Open it with: kam lab {target}",
    ]
    if seed is not None:
        from kamlib.sample import write_sample

        group = write_sample(target / "data" / f"group-{seed}", seed=seed, replace=replace)
        # the generator's planted truth is the trainer's answer key, not the learner's:
        # `kam sample --seed N` gives the trainer the same company with it
        (group / "scenario.csv").unlink()
        lines.append(
            f"Your group's company: set data = \"data/{group.name}\" in a notebook's parameters."
        )
    (target / _MARKER).write_text("\n".join(lines) + "\n", encoding="utf-8")
    return target


@dataclass(frozen=True)
class LabCommand:
    """How to start JupyterLab on the course: the command, its folder and environment."""

    args: list[str]
    cwd: Path
    env: dict[str, str]

    def __str__(self) -> str:
        home = self.env.get("KAM_HOME")
        prefix = f"KAM_HOME={home} " if home else ""
        return prefix + " ".join(self.args)


def lab_command(course: str | os.PathLike[str] | None = None) -> LabCommand:
    """The JupyterLab command for the kit's notebooks, or for a course copy.

    Parameters
    ----------
    course : path-like, optional
        A folder made by :func:`copy_course`; ``None`` opens the kit's own notebooks.

    Returns
    -------
    LabCommand
        JupyterLab of this Python, opened on ``notebooks/00_start_here.ipynb``; for a
        copy, with ``KAM_HOME`` set to it.
    """
    from kamlib.paths import project_root

    env = dict(os.environ)
    if course is None:
        root = project_root()
    else:
        root = Path(course).expanduser().resolve()
        if not (root / _MARKER).is_file():
            raise ValueError(
                f"{root} is not a course copy (no {_MARKER}); make one with "
                f"`kam course --out {course}`, or run `kam lab` without a folder for the kit's "
                "own notebooks"
            )
        env["KAM_HOME"] = str(root)
    notebooks = root / "notebooks"
    start = notebooks / "00_start_here.ipynb"
    args = [sys.executable, "-m", "jupyterlab", f"--notebook-dir={notebooks}"]
    if start.is_file():
        args.append(str(start))
    return LabCommand(args, root, env)
