"""The exercises of 02_abc_xyz: every solution passes, typical mistakes get their feedback."""

from __future__ import annotations

import pandas as pd
import pytest

import kamlib
from kamlib.course import ABC_HAND_TABLE, abc_xyz_exercises

# generated companies may have an account whose credit notes exceed its purchases
pytestmark = pytest.mark.filterwarnings("ignore::kamlib.ClassificationWarning")


def _build(tx: pd.DataFrame):
    as_of = kamlib.resolve_as_of(tx)
    fp = kamlib.first_purchases(tx, as_of=as_of)
    classified = kamlib.abc_xyz(tx, as_of=as_of, first_purchase=fp)
    moves = kamlib.migration(tx, as_of=as_of, first_purchase=fp).moves
    return classified, moves, abc_xyz_exercises(classified, moves)


@pytest.fixture(
    scope="module",
    params=[("sample", None), ("seed", 3), ("seed", 11), ("seed", 42)],
    ids=["sample", "seed3", "seed11", "seed42"],
)
def built(request):
    kind, seed = request.param
    if kind == "sample":
        tx = kamlib.load_sample().transactions
    else:
        tx = kamlib.generate_sample(accounts=120, years=3, seed=seed).tables["transactions"]
    return _build(tx)


@pytest.mark.parametrize("key", ["classify_by_hand", "cutoff_for_half", "fell_from_a"])
def test_every_solution_passes_its_check(built, key):
    classified, moves, exercises = built
    ns = {"hand_table": ABC_HAND_TABLE, "classified": classified, "moves": moves, "pd": pd}
    exec(exercises[key].solution_code, ns)
    feedback = exercises[key].check(ns["answer"])
    assert feedback.status == "correct", feedback.message


def test_hand_classification_worked_by_hand():
    _c, _m, ex = _build(kamlib.load_sample().transactions)
    # shares 50, 25, 15, 6, 4 %; before: 0, 50, 75, 90, 96 % -> A A A B C
    assert ex["classify_by_hand"].expected == {
        "Nordlicht": "A",
        "Ostwerk": "A",
        "Südbau": "A",
        "Westpack": "B",
        "Mittelholz": "C",
    }
    assert ex["classify_by_hand"].check("aaabc")
    assert ex["classify_by_hand"].check(["A", "A", "A", "B", "C"])


@pytest.fixture(scope="module")
def sample_exercises():
    return _build(kamlib.load_sample().transactions)


def test_hand_classification_mistakes(sample_exercises):
    ex = sample_exercises[2]["classify_by_hand"]
    assert "cumulative share ≤ 80 %" in ex.check("AABCC").message
    assert "smallest up" in ex.check("CBAAA").message
    generic = ex.check("AAABB").message
    assert "Mittelholz" in generic and "Südbau" not in generic
    assert ex.check("AAB").status == "incorrect"  # wrong length: readable, no exception
    assert ex.check({"Nordlicht": "A"}).message.startswith("name each account once")
    assert ex.check(kamlib.___).status == "not attempted"


def test_cutoff_for_half_feedback_quotes_the_numbers(sample_exercises):
    _classified, _m, ex = sample_exercises
    exercise = ex["cutoff_for_half"]
    assert "fraction: 0.5 for 50 %" in exercise.check(50).message
    high = exercise.check(0.8).message  # A makes 80 % with the default cut-off
    assert "A accounts make 80% of the total" in high and "lower the cut-off" in high
    low = exercise.check(0.1).message
    assert "raise the cut-off" in low
    assert exercise.check(exercise.expected)


def test_fell_from_a_mistakes(sample_exercises):
    _c, moves, ex = sample_exercises
    exercise = ex["fell_from_a"]
    table = kamlib.transition_matrix(moves, level="abc")
    # read the row A of the table by hand: B + C + — columns
    assert exercise.expected == table.loc["A", "B"] + table.loc["A", "C"] + table.loc["A", "—"]
    assert (
        "'—' column counts too"
        in exercise.check(int(table.loc["A", "B"] + table.loc["A", "C"])).message
    )
    assert "diagonal" in exercise.check(int(table.loc["A", "A"])).message
    assert "column 'A'" in exercise.check(int(table["A"].sum() - table.loc["A", "A"])).message
    assert "B→C included" in exercise.check(int(moves["abc_fell"].sum())).message
