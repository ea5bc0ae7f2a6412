"""Notebook conventions, and the notebooks run headless with non-default parameters.

nbval executes every notebook as committed (``pytest --nbval-lax notebooks``);
these tests add papermill runs on other data and check how notebooks are kept.
"""

from __future__ import annotations

import ast
import html
import json
import re
from pathlib import Path

import nbformat
import pandas as pd
import papermill as pm
import pytest

import kamlib
from kamlib.sample import write_sample

NOTEBOOKS = sorted((kamlib.project_root() / "notebooks").glob("*.ipynb"))
IDS = [p.name for p in NOTEBOOKS]


def _cells(path: Path):
    return nbformat.read(path, as_version=4).cells


def test_there_are_notebooks():
    assert "00_start_here.ipynb" in IDS


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_committed_without_outputs(path):
    for cell in _cells(path):
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, cell.source[:60]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_one_parameters_cell_with_commented_literal_parameters(path):
    cells = [c for c in _cells(path) if "parameters" in c.metadata.get("tags", [])]
    assert len(cells) == 1, "exactly one cell tagged 'parameters'"
    source = cells[0].source
    tree = ast.parse(source)
    names = []
    for node in tree.body:
        assert isinstance(node, ast.AnnAssign), (
            f"parameters are annotated assignments: {ast.unparse(node)}"
        )
        ast.literal_eval(node.value)  # a literal: no derived values in the parameters cell
        names.append(node.target.id)
        line = source.splitlines()[node.lineno - 1]
        assert "#" in line, f"parameter {node.target.id} needs a comment saying what it is"
    assert "data" in names and "exports" in names
    assert list(pm.inspect_notebook(str(path))) == names, "papermill must see every parameter"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_exercise_cells_are_tagged(path):
    for cell in _cells(path):
        uses_exercise = (
            "___" in cell.source or ".check(" in cell.source or "exercises[" in cell.source
        )
        if cell.cell_type == "code" and uses_exercise:
            assert "exercise" in cell.metadata.get("tags", []), cell.source[:60]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_paths_come_from_kamlib(path):
    for cell in _cells(path):
        if cell.cell_type == "code":
            assert "../" not in cell.source and "os.chdir" not in cell.source, cell.source[:60]


def _run(path: Path, tmp_path: Path, **parameters) -> nbformat.NotebookNode:
    if "interactive" in pm.inspect_notebook(str(path)):
        parameters.setdefault("interactive", False)  # as kam report runs them; nbval keeps them on
    out = tmp_path / f"run-{path.name}"
    pm.execute_notebook(
        str(path),
        str(out),
        parameters=parameters,
        kernel_name="python3",
        progress_bar=False,
        cwd=str(tmp_path),  # not the notebooks folder: paths must not depend on it
    )
    return nbformat.read(out, as_version=4)


def _visible_markdown(text: str) -> str:
    """Markdown output as a reader sees its words: kamlib.safe.say escapes data-derived
    punctuation (``\\(``, ``&lt;``), which the renderer turns back into the characters."""
    return html.unescape(re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", text))


def _text(nb) -> str:
    parts = []
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            parts.append(output.get("text", ""))
            for kind, value in output.get("data", {}).items():
                if kind == "text/markdown":
                    parts.append(_visible_markdown(str(value)))
                elif kind.startswith("text/"):
                    parts.append(str(value))
    return "\n".join(parts)


@pytest.fixture(scope="module")
def second_company(tmp_path_factory) -> Path:
    return write_sample(
        tmp_path_factory.mktemp("second") / "co", accounts=60, years=2, seed=3, end="2025-06-30"
    )


@pytest.fixture(scope="module")
def transactions_only(tmp_path_factory, second_company) -> Path:
    """The second company with its invoice lines only: every optional table missing."""
    only = tmp_path_factory.mktemp("only-tx")
    (only / "transactions.csv").write_bytes((second_company / "transactions.csv").read_bytes())
    return only


@pytest.mark.slow
def test_start_here_on_a_second_generated_dataset(tmp_path, second_company):
    nb = _run(
        kamlib.project_root() / "notebooks" / "00_start_here.ipynb",
        tmp_path,
        data=str(second_company),
        as_of="2025-03-31",
        exports=str(tmp_path / "out"),
    )
    text = _text(nb)
    assert "Reference date (`as_of`): **31 Mar 2025**" in text
    assert "Klebwerk sample (seed 3, 60 accounts, 2 years to 2025-06-30)" in text
    assert (tmp_path / "out" / "monthly_sales.csv").is_file() and (
        tmp_path / "out" / "monthly_sales.xlsx"
    ).is_file()
    monthly = (tmp_path / "out" / "monthly_sales.csv").read_text(encoding="utf-8-sig").splitlines()
    assert monthly[-1].startswith("2025-03-01")  # nothing after as_of


@pytest.mark.slow
def test_start_here_with_transactions_only(tmp_path, transactions_only):
    nb = _run(
        kamlib.project_root() / "notebooks" / "00_start_here.ipynb",
        tmp_path,
        data=str(transactions_only),
        exports=str(tmp_path / "o"),
    )
    text = _text(nb)
    assert "has no `accounts` table, so the customer master data preview is skipped" in text
    assert "table missing" in text


@pytest.mark.slow
def test_report_renders_html_without_code_or_exercises(tmp_path):
    from kamlib.report import run_reports

    run = run_reports(
        [kamlib.project_root() / "notebooks" / "00_start_here.ipynb"], data="sample", out=tmp_path
    )
    assert run.ok, run.notebooks
    page = (run.folder / "00_start_here.html").read_text(encoding="utf-8")
    assert "data:image/png;base64" in page  # charts embedded
    assert "Exercise: active_accounts" not in page and "___" not in page
    assert "ds = kamlib.load_dataset(data)" not in page  # no code
    assert "Injected parameters" not in page
    meta = json.loads((run.folder / "run.json").read_text())
    assert meta["status"] == "ok" and meta["notebooks"][0]["status"] == "ok"
    assert not list(tmp_path.glob(".incomplete-*"))


ABC_XYZ = kamlib.project_root() / "notebooks" / "02_abc_xyz.ipynb"


@pytest.mark.slow
@pytest.mark.parametrize(
    "parameters",
    [
        {"xyz_method": "frequency"},
        {"xyz_method": "sbc", "measure": "margin", "a_cutoff": 0.7, "b_cutoff": 0.9},
        {
            "xyz_method": "cv",
            "xyz_cutoffs": {"x": 0.3, "y": 0.8},
            "grain": "quarter",
            "measure": "quantity",
        },
        {"window_months": 6, "min_periods": 3, "compare_previous": False},
    ],
    ids=["frequency", "sbc-margin-cutoffs", "cv-quarter-quantity", "6-months-no-compare"],
)
def test_abc_xyz_with_other_settings(tmp_path, second_company, parameters):
    nb = _run(
        ABC_XYZ, tmp_path, data=str(second_company), exports=str(tmp_path / "out"), **parameters
    )
    text = _text(nb)
    method = parameters.get("xyz_method", "cv")
    assert f"By the {method} method" in text
    assert f"XYZ by the **{method}** method per {parameters.get('grain', 'month')}" in text
    assert (tmp_path / "out" / "abc_xyz_matrix.xlsx").is_file()
    if parameters.get("compare_previous", True):
        assert "fell out of A" in text
    else:
        assert "Comparison with the previous window is switched off" in text


@pytest.mark.slow
def test_abc_xyz_with_transactions_only(tmp_path, transactions_only):
    nb = _run(ABC_XYZ, tmp_path, data=str(transactions_only), exports=str(tmp_path / "o"))
    assert "fell out of A" in _text(nb)


@pytest.mark.slow
def test_abc_xyz_report_leaves_out_explorer_and_exercises(tmp_path):
    from kamlib.report import run_reports

    run = run_reports([ABC_XYZ], data="sample", out=tmp_path)
    assert run.ok, run.notebooks
    page = (run.folder / "02_abc_xyz.html").read_text(encoding="utf-8")
    assert page.count("data:image/png;base64") >= 4  # Pareto, XYZ, matrix, migration
    assert "Explorer: move the cut-offs" not in page and "classify_by_hand" not in page
    assert "AX core" in page


IDENTIFICATION = kamlib.project_root() / "notebooks" / "01_account_identification.ipynb"


@pytest.mark.slow
@pytest.mark.parametrize(
    "parameters",
    [
        {"rule": "top_n", "top_n": 8, "weights": {"payment": 40, "quantity": 0}},
        {
            "rule": "threshold",
            "threshold": 55.0,
            "cap": 10,
            "stability_change": 0.1,
            "attractiveness_weights": {"size": 0, "growth": 50},
            "relationship_weights": {"satisfaction": 0},
        },
        {
            "target": 0.35,
            "window_months": 6,
            "mainstay_share": 0.2,
            "type_overrides": {"K10002": "expert"},
        },
    ],
    ids=["top-n-payment-weights", "threshold-capped", "share-35-6-months-overrides"],
)
def test_identification_with_other_rules_and_weights(tmp_path, second_company, parameters):
    nb = _run(
        IDENTIFICATION,
        tmp_path,
        data=str(second_company),
        exports=str(tmp_path / "out"),
        **parameters,
    )
    text = _text(nb)
    keys = pd.read_csv(tmp_path / "out" / "key_accounts.csv", encoding="utf-8-sig")
    rule = parameters.get("rule", "share")
    if rule == "top_n":
        assert len(keys) == 8 and "by the 8 best scores" in text
        weights = pd.read_csv(tmp_path / "out" / "key_accounts.csv", encoding="utf-8-sig")
        assert "quantity_points" not in weights.columns  # switched off
    elif rule == "threshold":
        assert len(keys) <= 10 and "every account scoring 55 or more" in text
        assert "cut at the cap of 10" in text or (keys["score"] >= 55).all()
    else:
        assert "by the smallest set reaching 35% of revenue" in text
        if "K10002" in set(keys["account_id"]):
            assert keys.set_index("account_id").loc["K10002", "type"] == "expert"
        else:
            assert "**Not applied:** `type_overrides` for K10002" in text
    assert {"score", "type", "quadrant", "revenue_points"} <= set(keys.columns)
    assert (tmp_path / "out" / "key_accounts.xlsx").is_file()
    assert "weight variations" in text and "key accounts:" in text


@pytest.mark.slow
def test_identification_with_transactions_only(tmp_path, transactions_only):
    nb = _run(IDENTIFICATION, tmp_path, data=str(transactions_only), exports=str(tmp_path / "o"))
    text = _text(nb)
    assert "Left out, because the data do not allow them" in text
    assert "no `invoices` table" in text and "no `accounts` table" in text
    assert "has no `contacts` table, so part of the three P check is skipped" in text
    assert (tmp_path / "o" / "key_accounts.csv").is_file()


@pytest.mark.slow
def test_identification_report_leaves_out_sliders_and_exercises(tmp_path):
    from kamlib.report import run_reports

    run = run_reports([IDENTIFICATION], data="sample", out=tmp_path)
    assert run.ok, run.notebooks
    page = (run.folder / "01_account_identification.html").read_text(encoding="utf-8")
    assert page.count("data:image/png;base64") >= 4  # contributions, Pareto, stability, portfolio
    assert "Play with the weights" not in page and "payment_weights" not in page
    executed = nbformat.read(run.folder / "executed" / IDENTIFICATION.name, as_version=4)
    assert "The weight sliders are off" in _text(executed)  # not built in a headless run
    assert "key accounts by the smallest set reaching 50% of revenue" in page
    keys = pd.read_csv(run.folder / "exports" / "key_accounts.csv", encoding="utf-8-sig")
    assert 0.30 <= keys["revenue_share"].sum() <= 0.55


DOSSIER = kamlib.project_root() / "notebooks" / "03_dossier.ipynb"


@pytest.mark.slow
@pytest.mark.parametrize(
    ("account", "expected"),
    [
        ("K10263", "Suedglas GmbH (K10263)"),  # one invoice line in its life
        ("K10038", "Tatramontage GmbH (K10038)"),  # lost in February 2026
    ],
    ids=["almost-no-history", "lost"],
)
def test_dossier_for_other_accounts(tmp_path, account, expected):
    nb = _run(DOSSIER, tmp_path, account_id=account, exports=str(tmp_path / "out"))
    text = _text(nb)
    assert expected in text and "not on the key-account list" in text
    assert (tmp_path / "out" / f"consumption_{account}.xlsx").is_file()
    signals = pd.read_csv(tmp_path / "out" / f"dossier_signals_{account}.csv", encoding="utf-8-sig")
    fired = set(signals.loc[signals["fired"], "signal"])
    if account == "K10038":
        assert "falling sales" in fired  # it stopped buying in February
    else:
        assert "falling sales" not in fired  # nothing to fall from


@pytest.mark.slow
def test_dossier_with_transactions_only(tmp_path, transactions_only):
    nb = _run(DOSSIER, tmp_path, data=str(transactions_only), exports=str(tmp_path / "o"))
    text = _text(nb)
    for table in ("accounts", "contacts", "competitors", "surveys", "proposals"):
        assert f"has no `{table}` table" in text, table


@pytest.mark.slow
def test_dossier_of_an_unknown_account_names_close_matches(tmp_path):
    with pytest.raises(pm.PapermillExecutionError, match=r"K1012.*did you mean K10120"):
        _run(DOSSIER, tmp_path, account_id="K1012", exports=str(tmp_path / "o"))


LOSS = kamlib.project_root() / "notebooks" / "04_loss_analysis.ipynb"


@pytest.mark.slow
@pytest.mark.parametrize(
    ("parameters", "expected"),
    [
        ({"inactive_days": 120, "group_by": "abc"}, "lost after 120 days without a purchase"),
        (
            {"loss_rule": "rhythm", "rhythm_k": 3.0, "group_by": "region"},
            "lost after 3 × its usual gap",
        ),
    ],
    ids=["inactivity-120-by-abc", "rhythm-by-region"],
)
def test_loss_analysis_with_each_rule(tmp_path, second_company, parameters, expected):
    nb = _run(LOSS, tmp_path, data=str(second_company), exports=str(tmp_path / "out"), **parameters)
    text = _text(nb)
    assert expected in text
    lost = pd.read_csv(tmp_path / "out" / "lost_accounts.csv", encoding="utf-8-sig")
    win_back = pd.read_csv(tmp_path / "out" / "win_back_list.csv", encoding="utf-8-sig")
    assert (tmp_path / "out" / "at_risk_accounts.xlsx").is_file()
    # the win-back list is the lost accounts, ranked
    assert set(win_back["account_id"]) == set(lost["account_id"])
    assert win_back["priority"].is_monotonic_decreasing
    if parameters.get("group_by") == "abc":
        assert "Most losses by abc" in text


@pytest.mark.slow
def test_loss_analysis_with_transactions_only(tmp_path, transactions_only):
    nb = _run(LOSS, tmp_path, data=str(transactions_only), exports=str(tmp_path / "o"))
    text = _text(nb)
    for table in ("interactions", "proposals", "surveys"):
        assert f"has no `{table}` table" in text, table
    assert "There is no `segment` column" in text
    assert "have no recorded reason" in text or "None of the" in text


@pytest.mark.slow
def test_loss_analysis_report_leaves_out_slider_and_exercises(tmp_path):
    from kamlib.report import run_reports

    run = run_reports([LOSS], data="sample", out=tmp_path)
    assert run.ok, run.notebooks
    page = (run.folder / "04_loss_analysis.html").read_text(encoding="utf-8")
    assert page.count("data:image/png;base64") >= 4  # back-test, dynamics, reasons, survival
    assert "rank_win_back" not in page and "___" not in page  # no exercises
    assert "D (days)" not in page and "The rule slider is off" not in page  # no slider cell
    assert "win_back_list.xlsx" in page
    lost = pd.read_csv(run.folder / "exports" / "lost_accounts.csv", encoding="utf-8-sig")
    assert "K10038" in set(lost["account_id"])  # lost in February 2026 (the generator's truth)


@pytest.mark.slow
def test_loss_analysis_with_the_decline_rule(tmp_path):
    # partial defection needs 24 months before each checkpoint: the 3-year sample has them
    nb = _run(LOSS, tmp_path, loss_rule="decline", decline_theta=0.6, exports=str(tmp_path / "o"))
    assert "below 60% of the 12 months before" in _text(nb)
    lost = pd.read_csv(tmp_path / "o" / "lost_accounts.csv", encoding="utf-8-sig")
    assert "K10038" in set(lost["account_id"])  # stopped buying in February 2026


@pytest.mark.slow
def test_loss_analysis_with_decline_on_too_short_a_history(tmp_path, second_company):
    # two years of data: no checkpoint has 24 months behind it, so nothing is declared
    nb = _run(
        LOSS, tmp_path, data=str(second_company), loss_rule="decline", exports=str(tmp_path / "o")
    )
    text = _text(nb)
    assert "**0 of" in text and "too short to judge the settings" in text
    assert pd.read_csv(tmp_path / "o" / "lost_accounts.csv", encoding="utf-8-sig").empty


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_opens_with_goals_and_closes_with_a_recap_and_your_own_data(path):
    cells = [c for c in _cells(path) if c.cell_type == "markdown"]
    assert "Learning goals" in cells[0].source or "**Learning goals" in cells[0].source
    assert cells[-1].source.startswith("## Recap")
    assert "Try it on your own data" in cells[-1].source
