"""Where things are: the project, the bundled sample, datasets named by the user.

Notebooks call these instead of building paths from the working directory, so
they run the same from JupyterLab, pytest, papermill and cron.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["SAMPLE_NAME", "project_root", "resolve_dataset", "resolve_output", "sample_dir"]

#: The name a notebook parameter uses for the bundled sample company.
SAMPLE_NAME = "sample"
_SAMPLE_FOLDER = "klebwerk"


def project_root() -> Path:
    """The kit's folder (the one holding ``notebooks/`` and ``data/``).

    In this order: the folder in the environment variable ``KAM_HOME``; a learner's
    copy of the course (``kam course``, marked by ``kam-course.txt``) that is the
    working directory or its parent — a notebook's kernel runs in the copy's
    ``notebooks/`` folder, so on a shared JupyterHub exports stay in the learner's copy;
    the checkout kamlib is installed from (``pip install -e .``); else the working
    directory.
    """
    home = os.environ.get("KAM_HOME", "").strip()
    if home:
        return Path(home).expanduser().resolve()
    cwd = Path.cwd()
    for folder in (cwd, cwd.parent):
        if (folder / "kam-course.txt").is_file():
            return folder.resolve()
    here = Path(__file__).resolve().parent.parent
    if (here / "pyproject.toml").is_file() and (here / "kamlib").is_dir():
        return here
    return Path.cwd()


def sample_dir() -> Path:
    """Folder of the bundled sample company (``data/samples/klebwerk``).

    A plain package install has no ``data/`` folder; the sample is then
    regenerated, byte for byte the same, into ``KAM_CACHE`` (default
    ``~/.cache/kamlib``) on first use.
    """
    bundled = project_root() / "data" / "samples" / _SAMPLE_FOLDER
    if (bundled / "kam.yaml").is_file():
        return bundled
    cache = Path(os.environ.get("KAM_CACHE", Path.home() / ".cache" / "kamlib"))
    target = cache / _SAMPLE_FOLDER
    if not (target / "kam.yaml").is_file():
        from kamlib.sample import DEFAULT_SAMPLE, write_sample

        write_sample(target, **DEFAULT_SAMPLE)
    return target


def resolve_dataset(spec: str | os.PathLike[str]) -> Path:
    """Turn a dataset parameter into a path.

    ``"sample"`` is the bundled sample; an absolute path is used as given; a
    relative path is looked up in the working directory first, then in the
    project folder (so ``data/samples/klebwerk`` works from ``notebooks/``
    too). A path that exists nowhere is returned as given, for the loader to
    report.
    """
    if str(spec) == SAMPLE_NAME:
        return sample_dir()
    path = Path(spec).expanduser()
    if path.is_absolute() or path.exists():
        return path
    in_project = project_root() / path
    return in_project if in_project.exists() else path


def resolve_output(spec: str | os.PathLike[str]) -> Path:
    """Folder for written results: absolute as given, relative to the project folder."""
    path = Path(spec).expanduser()
    return path if path.is_absolute() else project_root() / path
