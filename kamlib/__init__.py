"""kamlib: the helper library of the Key Account Management notebook kit.

Load a company's data (or the bundled sample), validate it, and compute the
analyses the notebooks show. Computation and drawing are apart: the functions
here return DataFrames; figures live in :mod:`kamlib.plots` (``plot_*`` names
are also reachable from here, imported on first use).
"""

from __future__ import annotations

from importlib import import_module
from importlib.metadata import PackageNotFoundError, version

from kamlib.course import start_here_exercises
from kamlib.dataset import Dataset, load_dataset, load_sample
from kamlib.dates import resolve_as_of, window
from kamlib.exercises import Exercise, Feedback, ___
from kamlib.export import export_table, neutralise_formulas
from kamlib.overview import data_quality, describe_monthly_sales, monthly_sales, table_overview
from kamlib.paths import project_root, resolve_dataset, resolve_output, sample_dir
from kamlib.sample import generate_sample, write_sample
from kamlib.schema import MODEL
from kamlib.validation import DatasetError, Problem

try:
    __version__ = version("kamlib")
except PackageNotFoundError:  # pragma: no cover - running from a bare checkout
    __version__ = "0.0.0"

__all__ = [
    "MODEL",
    "Dataset",
    "DatasetError",
    "Exercise",
    "Feedback",
    "Problem",
    "___",
    "data_quality",
    "describe_monthly_sales",
    "export_table",
    "generate_sample",
    "load_dataset",
    "load_sample",
    "monthly_sales",
    "neutralise_formulas",
    "plot_monthly_sales",
    "project_root",
    "resolve_as_of",
    "resolve_dataset",
    "resolve_output",
    "sample_dir",
    "start_here_exercises",
    "table_overview",
    "window",
    "write_sample",
]

_PLOTS = {"plot_monthly_sales"}


def __getattr__(name: str):
    if name in _PLOTS:
        return getattr(import_module("kamlib.plots"), name)
    raise AttributeError(f"module 'kamlib' has no attribute {name!r}")
