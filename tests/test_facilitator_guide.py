"""The facilitator guide (docs/facilitator-guide.md) stays true to the kit.

The guide is written for trainers who follow it to the letter, so everything it
names must exist (notebooks, exercise keys, commands, make targets, parameters,
kamlib names, files) and every number it quotes for the bundled sample must be
what the notebooks compute with their default parameters. The numbers are
recomputed here with kamlib, reading the defaults from each notebook's
parameters cell, so a change to the sample, to an analysis or to a default makes
these tests fail until the guide is updated.
"""

from __future__ import annotations

import argparse
import ast
import re
from functools import cache
from pathlib import Path

import nbformat
import pandas as pd
import pytest

import kamlib
from kamlib import course, paths
from kamlib.cli import build_parser
from kamlib.sample import DEFAULT_SAMPLE, write_sample
from kamlib.workshop import copy_course

ROOT = Path(__file__).resolve().parent.parent  # the kit, whatever KAM_HOME says
GUIDE = ROOT / "docs" / "facilitator-guide.md"
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


# --- reading the guide ------------------------------------------------------------------


@cache
def guide_text() -> str:
    return GUIDE.read_text(encoding="utf-8")


@cache
def flat_guide() -> str:
    """The guide with every run of whitespace as one space (lines wrap anywhere)."""
    return " ".join(guide_text().split())


def fenced_blocks(text: str) -> list[tuple[str, str]]:
    """(language, body) of every fenced code block."""
    return re.findall(r"^```([^\n]*)\n(.*?)^```", text, flags=re.DOTALL | re.MULTILINE)


def inline_spans(text: str) -> list[str]:
    """Inline code spans, outside fenced blocks."""
    prose = re.sub(r"^```.*?^```", "", text, flags=re.DOTALL | re.MULTILINE)
    return re.findall(r"`([^`\n]+)`", prose)


def code_lines(text: str) -> list[str]:
    """Every line of code the guide shows: fenced lines and inline spans."""
    lines = [line for _, body in fenced_blocks(text) for line in body.splitlines()]
    return lines + inline_spans(text)


def exercise_entry(key: str) -> str:
    """The guide's paragraph for one exercise: from "`key`:" to the next blank line."""
    found = re.search(rf"^`{re.escape(key)}`:.*?(?=\n\s*\n)", guide_text(), re.S | re.M)
    assert found, f"the guide has no entry starting with `{key}`:"
    return " ".join(found.group(0).split())


def assert_in_guide(*phrases: str) -> None:
    missing = [p for p in phrases if " ".join(p.split()) not in flat_guide()]
    assert not missing, f"the guide does not say (any more): {missing}"


# --- the notebooks' defaults and the kit's names ----------------------------------------


@cache
def defaults(stem: str) -> dict:
    """The parameters cell of a notebook, as a dict of its literal values."""
    nb = nbformat.read(ROOT / "notebooks" / f"{stem}.ipynb", as_version=4)
    cell = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    values = {}
    for node in ast.parse(cell.source).body:
        target = node.target if isinstance(node, ast.AnnAssign) else node.targets[0]
        values[target.id] = ast.literal_eval(node.value)
    return values


def exercise_functions() -> list[str]:
    return [name for name in dir(course) if name.endswith("_exercises")]


def exercise_keys_in_source() -> set[str]:
    tree = ast.parse(Path(course.__file__).read_text(encoding="utf-8"))
    return {
        kw.value.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "Exercise"
        for kw in node.keywords
        if kw.arg == "key" and isinstance(kw.value, ast.Constant)
    }


def subparsers() -> dict[str, argparse.ArgumentParser]:
    action = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def make_targets() -> set[str]:
    text = (ROOT / "Makefile").read_text(encoding="utf-8")
    return set(re.findall(r"^([A-Za-z][\w-]*)\s*:(?!=)", text, flags=re.M))


# --- the facts, computed the way the notebooks compute them -----------------------------


def _dossier_numbers(dossier) -> dict:
    """On-time invoices, invoices due and the overdue amount from the payments note."""
    note = dossier.payments.note
    numbers = re.search(r"([\d,]+) of ([\d,]+) invoices", note).groups()
    on_time, due = (int(n.replace(",", "")) for n in numbers)
    overdue = re.search(r"([\d,]+)(?: [A-Z]{3})? overdue", note).group(1)
    return {"on_time": on_time, "due": due, "overdue": overdue}


def compute_facts(data: str) -> dict:
    """What the five notebooks show on ``data`` with their default parameters."""
    facts: dict = {}
    ds = kamlib.load_dataset(data)
    tx = ds.transactions
    accounts = ds.get("accounts")
    names = accounts.set_index("account_id")["name"]

    # 00_start_here
    p = defaults("00_start_here")
    as_of = kamlib.resolve_as_of(tx, p["as_of"])
    overview = kamlib.table_overview(ds)
    present = overview[overview["present"]]
    monthly = tx[tx["date"] <= as_of].groupby(tx["date"].dt.to_period("M"))["amount"].sum()
    facts["00"] = {
        "tx": tx,
        "as_of": as_of,
        "lines": len(tx),
        "accounts": tx["account_id"].nunique(),
        "tables": (len(present), len(overview), int(present["rows"].sum())),
        "net_sales": monthly.sum(),
        "months": len(monthly),
        "worst": monthly.idxmin(),
        "exercises": kamlib.start_here_exercises(tx, as_of=as_of),
    }

    # 01_account_identification
    p = defaults("01_account_identification")
    found = kamlib.account_features(
        tx,
        as_of=as_of,
        months=p["window_months"],
        accounts=accounts,
        products=ds.get("products"),
        invoices=ds.get("invoices"),
        interactions=ds.get("interactions"),
    )
    features = found.table
    rule = dict(
        rule=p["rule"], target=p["target"], n=p["top_n"], threshold=p["threshold"], cap=p["cap"]
    )
    scored = kamlib.score_accounts(features, weights=p["weights"])
    managers = accounts["account_manager"].nunique()
    selection = kamlib.select_key_accounts(scored, **rule, managers=managers)
    key_ids = selection.key_accounts["account_id"].tolist()
    stability = kamlib.selection_stability(
        features, weights=p["weights"], change=p["stability_change"], **rule
    )
    types = kamlib.assign_types(features, accounts=key_ids, mainstay_share=p["mainstay_share"])
    portfolio = kamlib.portfolio_matrix(
        features,
        as_of=as_of,
        months=p["window_months"],
        contacts=ds.get("contacts"),
        competitors=ds.get("competitors"),
        surveys=ds.get("surveys"),
        attractiveness=p["attractiveness_weights"],
        relationship=p["relationship_weights"],
        key_accounts=key_ids,
    )
    candidates = types.loc[types["type"] == "prospect", "account_id"].tolist()
    candidates += (
        selection.table.loc[~selection.table["key_account"], "account_id"].head(10).tolist()
    )
    qualification = kamlib.three_p(
        features[features["account_id"].isin(candidates)],
        as_of=as_of,
        months=p["window_months"],
        contacts=ds.get("contacts"),
        proposals=ds.get("proposals"),
    )
    dependence = kamlib.criterion_dependence(features, weights=p["weights"], **rule)
    largest = scored.sort_values("revenue", ascending=False).iloc[0]
    payment_30 = kamlib.select_key_accounts(
        kamlib.score_accounts(features, weights={**p["weights"], "payment": 30}), **rule
    )
    by_threshold = kamlib.select_key_accounts(scored, **{**rule, "rule": "threshold"})
    perfect = features["on_time_share"] == 1
    facts["01"] = {
        "features": features,
        "scored": scored,
        "selection": selection,
        "key_ids": key_ids,
        "stability": stability,
        "types": types,
        "portfolio": portfolio,
        "qualification": qualification,
        "dependence": dependence,
        "largest": largest,
        "payment_30": set(payment_30.key_accounts["account_id"]),
        "threshold": by_threshold,
        "cap": p["cap"],
        "perfect_payers": int(perfect.sum()),
        "perfect_points": float(
            scored.set_index("account_id")
            .loc[features.loc[perfect, "account_id"], "payment_points"]
            .iloc[0]
        ),
        "payment_weight": {**kamlib.DEFAULT_WEIGHTS, **p["weights"]}["payment"],
        "exercises": kamlib.identification_exercises(dependence),
    }

    # 02_abc_xyz
    p = defaults("02_abc_xyz")
    settings = dict(
        months=p["window_months"],
        measure=p["measure"],
        abc_cutoffs=(p["a_cutoff"], p["b_cutoff"]),
        xyz_method=p["xyz_method"],
        xyz_cutoffs=p["xyz_cutoffs"],
        grain=p["grain"],
        min_periods=p["min_periods"] or None,
        first_purchase=kamlib.first_purchases(tx, as_of=as_of),
    )
    classified = kamlib.abc_xyz(tx, as_of=as_of, **settings)
    migration = kamlib.migration(tx, as_of=as_of, **settings)
    facts["02"] = {
        "classified": classified,
        "matrix": kamlib.abc_xyz_matrix(classified).set_index("cell"),
        "migration": migration,
        "moves": migration.moves,
        "exercises": kamlib.abc_xyz_exercises(classified, migration.moves),
    }

    # 03_dossier
    p = defaults("03_dossier")
    key_types = kamlib.key_account_types(ds, as_of=as_of)
    start, end = kamlib.window(as_of, months=12)
    last_year = tx[(tx["date"] > start) & (tx["date"] <= end)]
    chosen = p["account_id"] or last_year.groupby("account_id")["amount"].sum().idxmax()

    def dossier(account: str):
        return kamlib.build_dossier(ds, account, as_of=as_of, types=key_types)

    shown = dossier(chosen)
    facts["03"] = {
        "dossier": shown,
        "dossier_of": dossier,
        "exercises": kamlib.dossier_exercises(shown),
    }

    # 04_loss_analysis
    p = defaults("04_loss_analysis")
    rule = kamlib.LossRule(
        kind=p["loss_rule"],
        days=p["inactive_days"],
        k=p["rhythm_k"],
        gap_quantile=p["gap_quantile"],
        min_orders=p["min_orders"],
        min_days=p["min_days"],
        theta=p["decline_theta"],
    )
    events = kamlib.loss_events(tx, as_of=as_of, rule=rule)
    status = kamlib.loss_status(tx, as_of=as_of, rule=rule)
    back = kamlib.back_test(tx, as_of=as_of, rule=rule, horizon_months=p["horizon_months"])
    dynamics = kamlib.loss_dynamics(events, status, as_of=as_of, rule=rule)
    groups = accounts.set_index("account_id")[p["group_by"]]
    by_group = kamlib.loss_dynamics(
        events, status, as_of=as_of, rule=rule, groups=groups, freq="year"
    )
    reasons = kamlib.loss_reasons(
        events,
        as_of=as_of,
        interactions=ds.get("interactions"),
        proposals=ds.get("proposals"),
        surveys=ds.get("surveys"),
    )
    returned = kamlib.returned_accounts(
        events, tx, as_of=as_of, interactions=ds.get("interactions"), proposals=ds.get("proposals")
    )
    facts["04"] = {
        "status": status,
        "lost": status[status["status"] == "lost"],
        "at_risk": kamlib.at_risk_accounts(status),
        "back": back,
        "dynamics": dynamics,
        "by_group": by_group,
        "pareto": kamlib.reason_pareto(reasons).set_index("reason"),
        "win_back": kamlib.win_back_list(reasons, as_of=as_of, accounts=accounts),
        "returned": returned,
        "exercises": kamlib.loss_exercises(back, dynamics),
    }
    facts["names"] = names
    return facts


@pytest.fixture(scope="module")
def sample() -> dict:
    return compute_facts("sample")


# --- what the guide names exists --------------------------------------------------------


def test_the_guide_names_every_notebook():
    assert NOTEBOOKS, "no notebooks found"
    for path in NOTEBOOKS:
        assert f"`{path.stem}`" in guide_text(), f"the guide does not name {path.stem}"


def test_the_guide_has_an_entry_for_every_exercise(sample):
    from_source = exercise_keys_in_source()
    built = {key for part in ("00", "01", "02", "03", "04") for key in sample[part]["exercises"]}
    assert built == from_source, "kamlib.course builds other exercises than its source shows"
    assert len(exercise_functions()) == 5
    for key in sorted(from_source):
        entry = exercise_entry(key)
        for part in ("Teaches", "Answer", "Typical mistakes", "Helping"):
            assert part in entry, f"the entry for {key} lacks '{part}'"


def test_every_kam_command_and_option_the_guide_shows_exists():
    parsers = subparsers()
    shown = 0
    for line in code_lines(guide_text()):
        for match in re.finditer(r"(?:^|[\s/\\])kam\s+([a-z][\w-]*)(.*)", line):
            command, rest = match.group(1), match.group(2)
            shown += 1
            assert command in parsers, f"`kam {command}` is not a kam sub-command"
            options = {o for a in parsers[command]._actions for o in a.option_strings}
            for option in re.findall(r"(?<![\w-])(--[a-z][\w-]*)", rest):
                assert option in options, f"`kam {command}` has no option {option}"
    assert shown >= 8, "the guide shows fewer kam commands than expected"


def test_every_make_target_the_guide_shows_exists():
    targets = make_targets()
    shown = {
        target
        for line in code_lines(guide_text())
        for target in re.findall(r"(?:^|\s)make\s+([a-z][\w-]*)", line)
    }
    assert {"lab", "report", "setup"} <= shown
    assert shown <= targets, f"not targets of the Makefile: {shown - targets}"


def test_install_commands_are_the_readmes():
    """The Windows and conda installs are the README's, line for line."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    install = [
        line.strip()
        for language, body in fenced_blocks(guide_text())
        if language == "powershell" or "conda env create" in body
        for line in body.splitlines()
        if line.strip()
    ]
    assert len(install) >= 7
    for line in install:
        assert line in readme, f"the README does not have this install line: {line}"


def test_inline_code_never_wraps_across_lines():
    """A code span broken over two lines would hide a command from these tests."""
    prose = re.sub(r"^```.*?^```", "", guide_text(), flags=re.DOTALL | re.MULTILINE)
    odd = [line for line in prose.splitlines() if line.count("`") % 2]
    assert not odd, odd


def test_parameters_the_guide_sets_exist_and_are_literals():
    parameters = {name for path in NOTEBOOKS for name in defaults(path.stem)}
    seen = set()
    for span in inline_spans(guide_text()):
        match = re.fullmatch(r"([a-z_]+)\s*(?::\s*\w+\s*)?=\s*(.+)", span.strip())
        if not match or match.group(1) == "answer":
            continue
        name, value = match.groups()
        seen.add(name)
        assert name in parameters, f"`{span}`: {name} is not a notebook parameter"
        ast.literal_eval(value)  # what a learner types must be valid
    assert {"data", "weights", "account_id"} <= seen


def test_kamlib_names_the_guide_uses_exist():
    names = set()
    for line in code_lines(guide_text()):
        names.update(re.findall(r"\bkamlib\.([A-Za-z_]\w*)", line))
    assert names, "the guide names no kamlib objects"
    for name in names:
        assert hasattr(kamlib, name), f"kamlib.{name} does not exist"


def test_files_the_guide_points_to_exist():
    for span in inline_spans(guide_text()):
        span = span.strip()
        if re.fullmatch(r"(docs|notebooks|tests|data/samples)/[\w./-]*", span) or span in (
            "reports.example.yaml",
            "environment.yml",
        ):
            assert (ROOT / span).exists(), f"the guide points to {span}, which does not exist"


def test_the_hub_setup_keeps_each_learner_in_their_copy(tmp_path, monkeypatch):
    """The guide's JupyterHub advice: a course copy with the table's company, found by
    a kernel started in the copy's notebooks folder."""
    seed = int(re.search(r"kam course --out ~/kam-course --seed (\d+)", guide_text()).group(1))
    assert_in_guide(f'`data = "data/group-{seed}"`', "kam-course/notebooks/00_start_here.ipynb")
    copy = copy_course(tmp_path / "kam-course", seed=seed)
    monkeypatch.delenv("KAM_HOME", raising=False)
    monkeypatch.chdir(copy / "notebooks")
    assert paths.project_root() == copy.resolve()
    assert (
        paths.resolve_dataset(f"data/group-{seed}").resolve()
        == (copy / "data" / f"group-{seed}").resolve()
    )
    assert (copy / "notebooks" / "00_start_here.ipynb").is_file()


# --- the numbers the guide quotes are still true ----------------------------------------


def test_start_here_numbers(sample):
    f = sample["00"]
    present, total, rows = f["tables"]
    best = f["exercises"]["best_month"].expected
    assert_in_guide(
        f"{f['lines']:,} invoice lines from {f['accounts']} accounts",
        f"reference date {f['as_of']:%d %b %Y}",
        f"{present} of {total} tables, {rows:,} rows in all",
        f"{f['net_sales'] / 1e6:.1f} M EUR over {f['months']} months",
        f"best month {best.strftime('%b %Y')}, weakest {f['worst'].strftime('%b %Y')}",
    )


def test_default_weights_the_guide_quotes(sample):
    w = kamlib.DEFAULT_WEIGHTS
    others = sum(w.values()) - w["payment"]
    smallest = next(p for p in range(1, 101) if p >= max(w.values()) and p / (p + others) >= 0.25)
    exercise = sample["01"]["exercises"]["payment_weights"]
    solution = ast.literal_eval(exercise.solution_code.split("=", 1)[1].strip())
    total = sum({**w, **solution}.values())
    assert_in_guide(
        f"revenue {w['revenue']:g}, margin {w['margin']:g}, payment {w['payment']:g}",
        f"payment ÷ (payment + {others:g})",
        f"`{{'payment': {smallest}}}` ({smallest} of {smallest + others:g} = 25 %)",
        f"the solution gives `{solution!r}` ({solution['payment']} of {total:g} = "
        f"{round(100 * solution['payment'] / total)} %)",
    )


def test_identification_numbers(sample):
    f = sample["01"]
    names = sample["names"]
    selection, scored, key_ids = f["selection"], f["scored"], f["key_ids"]
    top = scored.sort_values("rank").iloc[0]
    largest = f["largest"]
    stability = f["stability"]
    always = int((stability["in_base"] & (stability["status"] != "at the margin")).sum())
    margin = stability.loc[stability["in_base"] & (stability["status"] == "at the margin")]
    assert_in_guide(
        f"{len(key_ids)} key accounts, {selection.share:.1%} of revenue",
        f"{len(key_ids)} of {len(f['features'])} buyers",
        f"{top['account_id']} {top['name']} ({top['score']:.1f} points",
        f"{largest['account_id']} {largest['name']} ({largest['revenue']:,.0f} EUR), is only rank {int(largest['rank'])}",
        f"{always} of the {len(key_ids)} always in",
        *(f"{account} at the margin" for account in margin["account_id"]),
    )
    types_text = kamlib.describe_types(f["types"]).split(": ", 1)[1].split(";")[0]
    portfolio_text = kamlib.describe_portfolio(f["portfolio"]).split(": ", 1)[1].split(".")[0]
    assert_in_guide(types_text, portfolio_text)
    mainstays = f["types"].loc[f["types"]["type"] == "mainstay", "account_id"].tolist()
    assert mainstays == [largest["account_id"]], "the guide calls the largest buyer the mainstay"
    keys = f["portfolio"][f["portfolio"]["key_account"]].set_index("account_id")
    maintenance = keys.index[keys["quadrant"] == "maintenance"].tolist()
    assert len(maintenance) == 1
    assert_in_guide(f"1 maintenance ({maintenance[0]})")
    big = keys.loc[largest["account_id"]]
    assert big["quadrant"] == "strategic"
    assert_in_guide(f"relationship score is {big['relationship']:.2f}, just above the 0.5 line")
    q = f["qualification"]
    assert_in_guide(f"{int(q['qualified'].sum())} of {len(q)} candidates pass")
    # demonstrations
    base = set(key_ids)
    assert "K10011" in base - f["payment_30"] and "K10300" in f["payment_30"] - base
    assert_in_guide(
        f"gives {len(f['payment_30'])} and removes the late payer K10011",
        f"below: {len(f['payment_30'])} key accounts; the late payer K10011 {names['K10011']}",
    )
    assert len(f["threshold"].key_accounts) == f["cap"] and f["threshold"].warnings
    assert_in_guide(f"the cap of {f['cap']} stops the rule")
    assert_in_guide(
        f"{f['perfect_payers']} of the {len(f['features'])} buyers pay everything on time",
        f"only {f['perfect_points']:.1f} of payment's {f['payment_weight']:g} points",
    )
    one = f["dependence"].loc[f["dependence"]["n_needed"] == 1]
    assert_in_guide(", ".join(one["account_id"]))
    assert f["dependence"].head(10)["n_needed"].ne(1).all(), (
        "the guide says the first 10 rows of `dependence` hold no answer"
    )


def test_abc_xyz_numbers(sample):
    f = sample["02"]
    classified, matrix, moves = f["classified"], f["matrix"], f["moves"]
    share = classified.groupby("abc")["share"].sum()
    count = classified["abc"].value_counts()
    n = len(classified)
    xyz = classified["xyz"].value_counts()
    assert_in_guide(
        f"{count['A']} A accounts ({count['A'] / n:.0%}) make {share['A']:.0%} of revenue",
        f"{count['B']} B make {share['B']:.0%}, {count['C']} C make {share['C']:.0%}",
        f"AX: {matrix.loc['AX', 'accounts']} accounts with {matrix.loc['AX', 'value_share']:.0%}",
        f"AZ ({matrix.loc['AZ', 'accounts']} accounts, {matrix.loc['AZ', 'value_share']:.0%} of revenue)",
        f"{xyz['X']} X, {xyz['Y']} Y, {xyz['Z']} Z, {xyz.get('N', 0)} N",
    )
    was_a = moves[moves["abc_before"] == "A"]["abc_now"].value_counts()
    fell = int(was_a.drop("A").sum())
    stopped = int(was_a.get("—", 0))
    less_regular = int(moves["xyz_fell"].sum())
    assert_in_guide(
        f"{fell} accounts fell out of A ({stopped} stopped buying)",
        f"{less_regular} became less regular",
        f"{was_a.get('B', 0)} to B, {was_a.get('C', 0)} to C, {stopped} to",
    )
    fallers = f["migration"].fallers.set_index("account_id")
    k34, k38 = fallers.loc["K10034"], fallers.loc["K10038"]
    assert_in_guide(
        f"K10034 fell from {k34['cell_before']} to {k34['cell_now']} "
        f"({k34['value_before']:,.0f} → {k34['value_now']:,.0f} EUR), "
        f"and K10038 from {k38['cell_before']} to {k38['cell_now']}"
    )
    assert {"K10034", "K10038"} <= set(sample["04"]["lost"]["account_id"])
    cutoff = f["exercises"]["cutoff_for_half"]
    right = [a / 100 for a in range(30, 91) if cutoff.check(a / 100)]
    assert right == [a / 100 for a in range(round(right[0] * 100), round(right[-1] * 100) + 1)]
    before = classified["cumulative_share"] - classified["share"]
    at_half = classified[before < 0.5]
    assert_in_guide(
        f"{right[0]:.2f} to {right[-1]:.2f}",
        f"0.5 gives {len(at_half)} A accounts with {at_half['share'].sum():.0%} of revenue",
    )


def test_dossier_numbers(sample):
    f = sample["03"]
    d = f["dossier"]
    figures = d.key_figures.set_index("measure")
    revenue = figures.loc["revenue"]
    assert d.facts["type"] == "mainstay"
    fired = d.signals.loc[d.signals["fired"], "signal"].tolist()
    half = d.half_years[d.half_years["complete"]].iloc[-1]
    satisfaction = d.satisfaction
    first, last = satisfaction.iloc[0], satisfaction.iloc[-1]
    pay = _dossier_numbers(d)
    assert pay["on_time"] == pay["due"]
    contacts = d.contacts
    assert not (contacts["role"] == "champion").any()
    margin = figures.loc["margin", "last_12_months"] / revenue["last_12_months"]
    general = d.general.set_index("field")["value"]
    top_group = d.by_group.iloc[0]
    assert_in_guide(
        f"account manager {general['account manager']}: {revenue['last_12_months']:,.0f} EUR",
        f"margin {margin:.0%}, {d.facts['abc_xyz']}",
        f"{top_group['product_group'].lower()} is {top_group['revenue']:,.0f} EUR of it",
        f"{d.account_id} {d.name}: {revenue['last_12_months']:,.0f} EUR in 12 months, "
        f"down {-revenue['change']:.0%}",
        f"{d.facts['abc_xyz']}, a mainstay",
        f"Coverage **{d.coverage.rating}**",
        f"Signals: {', '.join(fired)}.",
        f"signals: {', '.join(fired)} |",
        f"{half['half_year']}: {half['total_quantity']:,.0f} kg",
        f'from {first["score"]:g} ({first["date"]:%b %Y}, "{first["comment"]}") '
        f'to {last["score"]:g} ({last["date"]:%b %Y}, "{last["comment"]}")',
        f"Pays all {pay['due']} invoices on time",
        f"we about {d.our_share:.0%}",
        f"{d.facts['share_of_our_sales']:.1%} of our sales",
        *contacts.loc[contacts["role"].isin(["blocker", "decision_maker"]), "name"],
    )


def test_loss_numbers(sample):
    f = sample["04"]
    names = sample["names"]
    lost, at_risk, win_back = f["lost"], f["at_risk"], f["win_back"]
    summary = f["back"].summary.set_index("setting")
    shares = summary["false_alarm_share"]
    complete = f["dynamics"][~f["dynamics"]["partial"]]
    highest = complete.loc[complete["churn_rate"].idxmax()]
    pareto = f["pareto"]
    worst_group = f["by_group"].groupby("group")["lost"].sum().idxmax()
    first = win_back.iloc[0]
    returned = f["returned"]
    helped = returned[returned["preceded_by"] != "nothing recorded"]
    assert (summary["median_delay_months"] == summary["p90_delay_months"]).all()
    assert_in_guide(
        f"{len(lost)} lost, {len(at_risk)} at risk",
        f"{len(lost)} of {len(f['status'])} accounts are lost "
        f"({lost['revenue_lost'].sum():,.0f} EUR",
        f"false alarms from {shares.min():.0%} ({shares.idxmin():g} days) "
        f"to {shares.max():.0%} ({shares.idxmax():g} days)",
        f"false alarms {shares.min() * 100:.0f}–{shares.max():.0%} whatever D",
        f"180 days gives {shares.loc[180]:.0%}",
        f"{complete['churn_rate'].mean():.1%} per quarter, highest in "
        f"{highest['period']} ({highest['churn_rate']:.1%})",
        f'"{int(complete["lost"].sum())} losses were declared" counts loss events in the '
        f"{len(complete)} complete quarters",
        f"{worst_group} loses the most accounts",
        f"{pareto.loc['unexplained', 'losses']} of {pareto['losses'].sum()} losses unexplained",
        f"price ({pareto.loc['price', 'losses']}), delivery ({pareto.loc['delivery', 'losses']})",
        f"{len(at_risk)} accounts at risk with {at_risk['revenue_at_stake'].sum():,.0f} EUR at "
        f"stake, first {at_risk.iloc[0]['account_id']} {names[at_risk.iloc[0]['account_id']]}",
        f"{int((win_back['winnable'] > 0).sum())} accounts worth winning back, first {first['account_id']} "
        f"{first['name']} (lost for {first['reason']}, priority {first['priority']:.0f})",
        f"then {win_back.iloc[1]['account_id']} and {win_back.iloc[2]['account_id']}",
        f"{first['account_id']} {first['name']} ({first['reason']}) first, then "
        f"{win_back.iloc[1]['account_id']}, {win_back.iloc[2]['account_id']}",
        f"counts as lost since {first['lost_on']:%d %b %Y}: {first['revenue_lost']:,.0f} EUR "
        f"a year before it left, lost for {first['reason']}",
        f'"{int(f["status"]["came_back"].sum())} account(s) lost earlier came back" counts accounts',
        f'"came back {int(complete["returned"].sum())} times" counts returns in the complete quarters',
        f'the reasons\' "of {pareto["losses"].sum()} losses" counts every loss event',
        f"{len(returned)} losses ended with the account returning, {len(helped)} of them after",
    )


def test_role_play_accounts(sample):
    dossier_of = sample["03"]["dossier_of"]
    won_back = dossier_of("K10038")
    pay = _dossier_numbers(won_back)
    competitor = won_back.competitors.iloc[0]
    contact = won_back.coverage.checks.set_index("check").loc["contact in the last 90 days"]
    assert_in_guide(
        f"{pay['on_time']} of {pay['due']} invoices",
        f"no contact for {contact['detail'].split()[2]} days",
        f"{competitor['competitor']} had about {competitor['estimated_share']:.0%} of the account",
    )
    at_risk = dossier_of("K10300")
    checks = at_risk.coverage.checks.set_index("check")["ok"]
    assert not checks["decision maker known"]
    champion = at_risk.contacts[at_risk.contacts["role"] == "champion"].iloc[0]
    revenue = at_risk.key_figures.set_index("measure").loc["revenue", "last_12_months"]
    rival = at_risk.competitors.iloc[0]
    assert_in_guide(
        f"{revenue:,.0f} EUR in the last 12 months",
        f"champion, {champion['name']}",
        f"has about {rival['estimated_share']:.0%} of the account",
    )
    late = dossier_of("K10011")
    pay = _dossier_numbers(late)
    assert late.signals.loc[late.signals["fired"], "signal"].iloc[0] == "overdue payments"
    assert_in_guide(
        f"{pay['on_time']} of {pay['due']} invoices paid on time, {pay['overdue']} EUR overdue",
        f"({pay['on_time']} of {pay['due']} invoices paid on time)",
    )


def test_planted_truth_of_the_sample():
    scenario = pd.read_csv(paths.sample_dir() / "scenario.csv")
    assert_in_guide(f"{int((scenario['status'] == 'lost').sum())} accounts planted as lost")
    assert_in_guide(f"The seed of the bundled sample is {DEFAULT_SAMPLE['seed']}")


def test_another_seed_gives_other_numbers(tmp_path):
    write_sample(tmp_path / "group-2", **{**DEFAULT_SAMPLE, "seed": 2})
    facts = compute_facts(str(tmp_path / "group-2"))
    assert_in_guide(
        f"{len(facts['01']['key_ids'])} key accounts, `03_dossier` shows "
        f"{facts['03']['dossier'].account_id} and the win-back list starts with "
        f"{facts['04']['win_back'].iloc[0]['account_id']}"
    )


# --- every exercise: the answers and the feedback the guide quotes ----------------------


def exercises_of(sample: dict) -> dict:
    return {
        key: ex
        for part in ("00", "01", "02", "03", "04")
        for key, ex in sample[part]["exercises"].items()
    }


def test_answers_the_guide_gives_are_right(sample):
    ex = exercises_of(sample)
    f00 = sample["00"]
    half = sample["03"]["dossier"].half_years
    last_complete = half[half["complete"]].iloc[-1]["total_quantity"]
    churn_row = sample["04"]["dynamics"].loc[lambda d: ~d["partial"]].iloc[-1]
    only = sample["01"]["dependence"].query("n_needed == 1")["account_id"].tolist()
    # fmt: off
    right = [
        ("active_accounts", ex["active_accounts"].expected, f"**{ex['active_accounts'].expected}**"),
        ("best_month", str(ex["best_month"].expected), f"`'{ex['best_month'].expected}'`"),
        ("best_month", ex["best_month"].expected.strftime("%B %Y"), "`'April 2026'`"),
        ("payment_weights", {"payment": 30}, "`{'payment': 30}`"),
        ("payment_weights", {"payment": 40, "revenue": 15, "margin": 15}, "`{'payment': 40, 'revenue': 15, 'margin': 15}`"),
        ("which_type", ex["which_type"].expected, f"`{ex['which_type'].expected!r}`"),
        *(("only_because_of", account, f"**{account}**") for account in only),
        ("classify_by_hand", "AAABC", "`'AAABC'`"),
        ("fell_from_a", ex["fell_from_a"].expected, f"**{ex['fell_from_a'].expected}**"),
        ("missing_role", "champion", "**`'champion'`**"),
        ("half_year_total", last_complete, f"**{last_complete:,.0f}**"),
        ("first_signal", ex["first_signal"].expected, f"**`'{ex['first_signal'].expected}'`**"),
        ("pick_days", ex["pick_days"].expected, f"so **{ex['pick_days'].expected:g}**"),
        ("churn_rate", churn_row["churned"] / churn_row["active_at_start"], f"**{ex['churn_rate'].expected:.4f}**"),
        ("churn_rate", f"{ex['churn_rate'].expected:.4f}", f"= **{ex['churn_rate'].expected:.4f}**"),
        ("rank_win_back", ["Rheinpack", "Alpenholz", "Nordbau"], "`['Rheinpack', 'Alpenholz', 'Nordbau']`"),
        ("rank_win_back", "Rheinpack, Alpenholz, Nordbau", "`'Rheinpack, Alpenholz, Nordbau'`"),
    ]
    # fmt: on
    for key, answer, shown in right:
        assert ex[key].check(answer), f"{key}: {answer!r} is not right (any more)"
        assert " ".join(shown.split()) in exercise_entry(key), f"{key}: the guide lacks {shown}"
    # the ones with a range of right answers: the limits the guide names
    assert not ex["payment_weights"].check({"payment": 29})
    assert ex["active_accounts"].expected == len(
        f00["tx"][
            (f00["tx"]["date"] > f00["as_of"] - pd.DateOffset(months=12))
            & (f00["tx"]["date"] <= f00["as_of"])
        ]["account_id"].unique()
    )
    limit = re.search(r"\*\*(\d+)%\*\*", ex["pick_days"].question).group(1)
    assert f"up to **{limit}%** false alarms" in exercise_entry("pick_days")
    period = ex["churn_rate"].question.split("churn rate of ")[1].split("**")[0]
    assert_in_guide(
        f"{period}, {int(churn_row['churned'])} churned ÷ {int(churn_row['active_at_start'])} "
        f"active at start"
    )
    ranked = kamlib.win_back_list(kamlib.WIN_BACK_HAND_TABLE, as_of=kamlib.WIN_BACK_HAND_AS_OF)
    for row in ranked.itertuples():
        recency = 0.5 ** (row.months_since_loss / 12)
        if row.winnable:
            assert f"recency {recency:.2f} → {row.priority:.1f}" in exercise_entry("rank_win_back")


def test_feedback_the_guide_quotes_is_what_the_checks_say(sample):
    ex = exercises_of(sample)
    tx, as_of = sample["00"]["tx"], sample["00"]["as_of"]
    last12 = tx[(tx["date"] > as_of - pd.DateOffset(months=12)) & (tx["date"] <= as_of)]
    calendar = tx.loc[tx["date"].dt.year == as_of.year, "account_id"].nunique()
    months = tx.groupby(tx["date"].dt.to_period("M"))
    churn_row = sample["04"]["dynamics"].loc[lambda d: ~d["partial"]].iloc[-1]
    churned, active = churn_row["churned"], churn_row["active_at_start"]
    moves = sample["02"]["moves"]
    transitions = kamlib.transition_matrix(moves, level="abc")
    half = sample["03"]["dossier"].half_years
    epoxy = half[half["complete"]].iloc[-1]["Epoxy"]
    # fmt: off
    cases = [
        # (key, answer, how the guide shows the answer, what the guide quotes in double quotes);
        # None: the guide describes the answer in words; "": a later part of a quoted message
        ("active_accounts", len(last12), f"{len(last12):,}", "you counted invoice lines; count distinct accounts with .nunique()"),
        ("active_accounts", tx["account_id"].nunique(), f"{tx['account_id'].nunique()}", "you counted every account in the whole history"),
        ("active_accounts", calendar, f"{calendar}", "you took the calendar year"),
        ("active_accounts", last12["invoice_id"].nunique(), f"{last12['invoice_id'].nunique():,}", "you counted invoices"),
        ("best_month", str(months["amount"].sum().idxmin()), f"`'{months['amount'].sum().idxmin()}'`", "that is the weakest month"),
        ("best_month", str(months.size().idxmax()), f"`'{months.size().idxmax()}'`", "that month has the most lines, not the highest sales"),
        ("payment_weights", {"payment": 10, "revenue": 25}, "`{'payment': 10, 'revenue': 25}`", "payment has 10% of the weight, revenue has more (25%)"),
        ("payment_weights", {"payment": 26}, "`{'payment': 26}`", "payment is the largest weight, but only 22% of the total; it needs at least 25 %"),
        ("payment_weights", {"payment": 0}, "`{'payment': 0}`", "you switched payment off"),
        ("which_type", {"Bergmann": "image maker", "Lumenwerk": "image maker", "Kastor": "expert", "Neoplast": "prospect"}, None, "the rules are checked in order and mainstay comes first: 15 % of the profit and 6 years with us"),
        ("which_type", {"Bergmann": "mainstay", "Lumenwerk": "image maker", "Kastor": "expert", "Neoplast": "mainstay"}, None, "72 % of the profit, but"),
        ("which_type", {"Bergmann": "mainstay", "Lumenwerk": "image maker", "Kastor": "expert", "Neoplast": "mainstay"}, "", "1.2 years only: a mainstay needs a long relationship (3 years)"),
        ("only_because_of", "K10194", "K10194", "stays on the list whichever single criterion you switch off"),
        ("only_because_of", "K10151", "K10151", "drops out without any of margin, growth: more than one criterion holds it"),
        ("only_because_of", "K10001", None, "not on the key-account list"),
        ("classify_by_hand", "AABCC", "`'AABCC'`", "you used 'cumulative share ≤ 80 %'"),
        ("classify_by_hand", "AABCC", "", "Südbau starts at 75 %, below 80 %, so it is A; Westpack starts at 90 %, so it is B"),
        ("classify_by_hand", "CBAAA", "`'CBAAA'`", "you ranked from the smallest up"),
        ("cutoff_for_half", 0.55, "0.55", "with an A cut-off of 55% the 33 A accounts make 56% of the total; aim for 45–55 %: lower the cut-off"),
        ("cutoff_for_half", 0.8, "0.8", "81 A accounts make 80%"),
        ("cutoff_for_half", 80, "80", "give the cut-off as a fraction: 0.5 for 50 %"),
        ("fell_from_a", int(transitions.loc["A", ["B", "C"]].sum()), f"{int(transitions.loc['A', ['B', 'C']].sum())}", "you left out the A accounts that stopped buying: the '—' column counts too"),
        ("fell_from_a", int(transitions.loc["A", "A"]), f"{int(transitions.loc['A', 'A'])}", "that is the diagonal"),
        ("fell_from_a", int(transitions["A"].drop("A").sum()), f"{int(transitions['A'].drop('A').sum())}", "that is the column 'A'"),
        ("fell_from_a", int(moves["abc_fell"].sum()), f"{int(moves['abc_fell'].sum())}", "that counts every faller, B→C included"),
        ("missing_role", "blocker", "`'blocker'`", "there is a blocker: Otto Brandt (influence 4, attitude -2). That is why the missing role matters so much."),
        ("missing_role", "buyer", None, "buyer is in the table already; look for the role nobody has"),
        ("half_year_total", half.iloc[-1]["total_quantity"], f"{half.iloc[-1]['total_quantity']:,.0f}", "that is the current half-year, which is not over yet"),
        ("half_year_total", epoxy, f"Epoxy {epoxy:,.0f}", "that is one product group; add all groups"),
        ("first_signal", "falling satisfaction", "`'falling satisfaction'`", "fired, but blocker with high influence comes before it"),
        ("first_signal", "overdue payments", "`'overdue payments'`", "did not fire for this account"),
        ("pick_days", 365, "365 (or 270)", "that setting meets the limit, but a shorter one does too: every month of waiting is a month the competitor works on the account"),
        ("pick_days", 90, "90", "with 90 the false-alarm share is 85%, above the 65% your team agreed to"),
        ("pick_days", 100, None, "choose one of the settings of the table"),
        ("churn_rate", churned / (active - churned), f"{int(churned)} ÷ {int(active - churned)}", "divide by the accounts active at the **start** of the period, lost ones included"),
        ("churn_rate", (churned - churn_row["returned"]) / active, None, "returned accounts are counted on their own"),
        ("rank_win_back", ["Nordbau", "Rheinpack", "Alpenholz"], "Nordbau, Rheinpack, Alpenholz", "that is the order of former revenue; but Nordbau's customer closed: there is nothing to win back"),
        ("rank_win_back", ["Nordbau", "Alpenholz", "Rheinpack"], None, "Nordbau's customer closed (winnable 0): it goes last"),
    ]
    # fmt: on
    for key, answer, shown, quoted in cases:
        feedback = ex[key].check(answer)
        assert feedback.status == "incorrect", f"{key}: {answer!r} is right now"
        assert quoted in feedback.message, f"{key}: {answer!r} now gets: {feedback.message}"
        entry = exercise_entry(key)
        expected = {None: f'"{quoted}', "": quoted}.get(shown, f'{shown} → "{quoted}')
        assert expected in entry, f"the guide's entry for {key} lacks: {expected}"
    # answers the guide says get only the general "not it"
    # read off the table, rounded as it shows them
    assert ex["churn_rate"].check(0.02).status == "correct"
    assert "in percent" in ex["churn_rate"].check(2.0).message
    amount = round(half[half["complete"]].iloc[-1]["total_amount"])
    assert "amount in EUR" in ex["half_year_total"].check(amount).message


def test_dry_run_checklist_matches_the_notebooks(sample):
    """The checklist's expectations are facts the notebooks print."""
    f00, f01, f04 = sample["00"], sample["01"], sample["04"]
    assert_in_guide(
        f"`00_start_here` says: {f00['lines']:,} invoice lines from {f00['accounts']} accounts, "
        f"reference date {f00['as_of']:%d %b %Y}",
        f"`01_account_identification` says {len(f01['key_ids'])} key accounts",
        f"`04_loss_analysis` ends its win-back section with {f04['win_back'].iloc[0]['account_id']} first",
    )
