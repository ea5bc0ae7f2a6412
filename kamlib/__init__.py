"""kamlib: the helper library of the Key Account Management notebook kit.

Load a company's data (or the bundled sample), validate it, and compute the
analyses the notebooks show. Computation and drawing are apart: the functions
here return DataFrames; figures live in :mod:`kamlib.plots` (``plot_*`` names
are also reachable from here, imported on first use).
"""

from __future__ import annotations

from importlib import import_module
from importlib.metadata import PackageNotFoundError, version

from kamlib.abc_xyz import (
    ABC_XYZ_PLAYBOOK,
    SBC_TO_XYZ,
    XYZ_DEFAULTS,
    ClassificationWarning,
    Migration,
    abc_classes,
    abc_xyz,
    abc_xyz_matrix,
    describe_abc,
    describe_matrix,
    describe_migration,
    describe_xyz,
    first_purchases,
    migration,
    transition_matrix,
    xyz_classes,
)
from kamlib.course import ABC_HAND_TABLE, abc_xyz_exercises, start_here_exercises
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
    "ABC_HAND_TABLE",
    "ABC_XYZ_PLAYBOOK",
    "MODEL",
    "SBC_TO_XYZ",
    "XYZ_DEFAULTS",
    "ClassificationWarning",
    "Dataset",
    "DatasetError",
    "Exercise",
    "Feedback",
    "Migration",
    "Problem",
    "___",
    "abc_classes",
    "abc_xyz",
    "abc_xyz_exercises",
    "abc_xyz_matrix",
    "data_quality",
    "describe_abc",
    "describe_matrix",
    "describe_migration",
    "describe_monthly_sales",
    "describe_xyz",
    "export_table",
    "first_purchases",
    "generate_sample",
    "load_dataset",
    "load_sample",
    "migration",
    "monthly_sales",
    "neutralise_formulas",
    "plot_abc_xyz_matrix",
    "plot_monthly_sales",
    "plot_pareto",
    "plot_transitions",
    "plot_xyz_distribution",
    "project_root",
    "resolve_as_of",
    "resolve_dataset",
    "resolve_output",
    "sample_dir",
    "start_here_exercises",
    "table_overview",
    "transition_matrix",
    "window",
    "write_sample",
    "xyz_classes",
]

_PLOTS = {
    "plot_abc_xyz_matrix",
    "plot_monthly_sales",
    "plot_pareto",
    "plot_transitions",
    "plot_xyz_distribution",
}


def __getattr__(name: str):
    if name in _PLOTS:
        return getattr(import_module("kamlib.plots"), name)
    raise AttributeError(f"module 'kamlib' has no attribute {name!r}")
