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
from kamlib.account_types import (
    KEY_ACCOUNT_TYPES,
    assign_types,
    describe_types,
    key_account_types,
)
from kamlib.anonymize import anonymize_dataset
from kamlib.course import (
    ABC_HAND_TABLE,
    DMU_HAND_TABLE,
    TYPE_HAND_TABLE,
    WIN_BACK_HAND_AS_OF,
    WIN_BACK_HAND_TABLE,
    abc_xyz_exercises,
    dossier_exercises,
    identification_exercises,
    loss_exercises,
    start_here_exercises,
)
from kamlib.dataset import Dataset, load_dataset, load_sample
from kamlib.dates import resolve_as_of, window
from kamlib.dossier import (
    DOSSIER_SIGNALS,
    CustomerReport,
    Dossier,
    UnknownAccountError,
    build_dossier,
    build_dossiers,
    consumption_report,
    describe_consumption,
    describe_coverage,
    describe_key_figures,
    describe_relationship,
    describe_signals,
)
from kamlib.dossier_html import (
    DossierBatch,
    render_consumption_report,
    render_dossier,
    write_dossiers,
)
from kamlib.exercises import Exercise, Feedback, ___
from kamlib.export import export_table, neutralise_formulas
from kamlib.features import AccountFeatures, account_features
from kamlib.identification import (
    CRITERIA,
    DEFAULT_WEIGHTS,
    IdentificationWarning,
    Selection,
    criteria_table,
    criterion_dependence,
    criterion_scores,
    describe_scores,
    describe_selection,
    describe_stability,
    rank_score,
    score_accounts,
    select_key_accounts,
    selection_stability,
)
from kamlib.loss import (
    LOSS_RULES,
    WIN_BACK_APPROACHES,
    BackTest,
    LossRule,
    LossWarning,
    account_lifetimes,
    at_risk_accounts,
    back_test,
    describe_at_risk,
    describe_back_test,
    describe_dynamics,
    describe_loss_status,
    describe_reasons,
    describe_survival,
    describe_win_back,
    kaplan_meier,
    loss_dynamics,
    loss_events,
    loss_reasons,
    loss_status,
    reason_pareto,
    reasons_over_time,
    returned_accounts,
    win_back_list,
)
from kamlib.overview import data_quality, describe_monthly_sales, monthly_sales, table_overview
from kamlib.paths import project_root, resolve_dataset, resolve_output, sample_dir
from kamlib.portfolio import (
    ATTRACTIVENESS_FACTORS,
    PORTFOLIO_QUADRANTS,
    RELATIONSHIP_FACTORS,
    describe_portfolio,
    portfolio_matrix,
)
from kamlib.qualification import THREE_P, three_p
from kamlib.safe import escape_frame, escape_markdown, literal, say
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
    "ATTRACTIVENESS_FACTORS",
    "CRITERIA",
    "DEFAULT_WEIGHTS",
    "DMU_HAND_TABLE",
    "DOSSIER_SIGNALS",
    "KEY_ACCOUNT_TYPES",
    "LOSS_RULES",
    "MODEL",
    "PORTFOLIO_QUADRANTS",
    "RELATIONSHIP_FACTORS",
    "SBC_TO_XYZ",
    "THREE_P",
    "TYPE_HAND_TABLE",
    "WIN_BACK_APPROACHES",
    "WIN_BACK_HAND_AS_OF",
    "WIN_BACK_HAND_TABLE",
    "XYZ_DEFAULTS",
    "AccountFeatures",
    "BackTest",
    "ClassificationWarning",
    "CustomerReport",
    "Dataset",
    "DatasetError",
    "Dossier",
    "DossierBatch",
    "Exercise",
    "Feedback",
    "IdentificationWarning",
    "LossRule",
    "LossWarning",
    "Migration",
    "Problem",
    "Selection",
    "UnknownAccountError",
    "___",
    "abc_classes",
    "abc_xyz",
    "abc_xyz_exercises",
    "abc_xyz_matrix",
    "account_features",
    "account_lifetimes",
    "anonymize_dataset",
    "assign_types",
    "at_risk_accounts",
    "back_test",
    "build_dossier",
    "build_dossiers",
    "consumption_report",
    "criteria_table",
    "criterion_dependence",
    "criterion_scores",
    "data_quality",
    "describe_abc",
    "describe_at_risk",
    "describe_back_test",
    "describe_consumption",
    "describe_coverage",
    "describe_dynamics",
    "describe_key_figures",
    "describe_loss_status",
    "describe_matrix",
    "describe_migration",
    "describe_monthly_sales",
    "describe_portfolio",
    "describe_reasons",
    "describe_relationship",
    "describe_scores",
    "describe_selection",
    "describe_signals",
    "describe_stability",
    "describe_survival",
    "describe_types",
    "describe_win_back",
    "describe_xyz",
    "dossier_exercises",
    "escape_frame",
    "escape_markdown",
    "export_table",
    "first_purchases",
    "generate_sample",
    "identification_exercises",
    "kaplan_meier",
    "key_account_types",
    "literal",
    "load_dataset",
    "load_sample",
    "loss_dynamics",
    "loss_events",
    "loss_exercises",
    "loss_reasons",
    "loss_status",
    "migration",
    "monthly_sales",
    "neutralise_formulas",
    "plot_abc_xyz_matrix",
    "plot_account_sales",
    "plot_back_test",
    "plot_key_account_pareto",
    "plot_loss_dynamics",
    "plot_loss_reasons",
    "plot_monthly_sales",
    "plot_pareto",
    "plot_portfolio",
    "plot_satisfaction",
    "plot_score_contributions",
    "plot_stability",
    "plot_survival",
    "plot_transitions",
    "plot_xyz_distribution",
    "portfolio_matrix",
    "project_root",
    "rank_score",
    "reason_pareto",
    "reasons_over_time",
    "render_consumption_report",
    "render_dossier",
    "resolve_as_of",
    "resolve_dataset",
    "resolve_output",
    "returned_accounts",
    "sample_dir",
    "say",
    "score_accounts",
    "select_key_accounts",
    "selection_stability",
    "start_here_exercises",
    "table_overview",
    "three_p",
    "transition_matrix",
    "win_back_list",
    "window",
    "write_dossiers",
    "write_sample",
    "xyz_classes",
]

_PLOTS = {
    "plot_back_test",
    "plot_loss_dynamics",
    "plot_loss_reasons",
    "plot_survival",
    "plot_abc_xyz_matrix",
    "plot_account_sales",
    "plot_satisfaction",
    "plot_key_account_pareto",
    "plot_portfolio",
    "plot_score_contributions",
    "plot_stability",
    "plot_monthly_sales",
    "plot_pareto",
    "plot_transitions",
    "plot_xyz_distribution",
}


def __getattr__(name: str):
    if name in _PLOTS:
        return getattr(import_module("kamlib.plots"), name)
    raise AttributeError(f"module 'kamlib' has no attribute {name!r}")
