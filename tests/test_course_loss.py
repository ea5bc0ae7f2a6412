"""The exercises of 04_loss_analysis: every check passes with its solution, gives its specific
feedback on typical wrong answers, and the expected answers are worked out by hand."""

from __future__ import annotations

import pandas as pd
import pytest

import kamlib
from kamlib.loss import BackTest

# A back-test table made by hand: false-alarm shares 0.80, 0.55, 0.40, 0.30 for D = 60 … 365.
SUMMARY = pd.DataFrame(
    {
        "setting": [60, 120, 180, 365],
        "rule": ["…"] * 4,
        "declared": [50, 20, 10, 10],
        "false_alarms": [40, 11, 4, 3],
        "false_alarm_share": [0.80, 0.55, 0.40, 0.30],
        "confirmed": [10, 9, 6, 7],
        "median_delay_months": [2.0, 3.9, 5.9, 12.0],
        "p90_delay_months": [2.0, 3.9, 5.9, 12.0],
        "revenue_declared": [1.0, 1.0, 1.0, 1.0],
    }
)
STAMP = pd.Timestamp("2026-01-01")
BACK = BackTest(SUMMARY, pd.DataFrame(), pd.DataFrame(), STAMP, STAMP, 12)

# Losses per quarter made by hand; the last complete quarter is 2026Q2: 6 lost of 240 active.
DYNAMICS = pd.DataFrame(
    {
        "group": "all",
        "period": ["2026Q1", "2026Q2", "2026Q3"],
        "start": pd.to_datetime(["2026-01-01", "2026-04-01", "2026-07-01"]),
        "end": pd.to_datetime(["2026-03-31", "2026-06-30", "2026-09-28"]),
        "partial": [False, False, True],
        "active_at_start": [250, 240, 236],
        "lost": [12, 6, 9],
        "revenue_lost": [1.0, 1.0, 1.0],
        "churned": [12, 6, 8],
        "returned": [3, 2, 1],
        "churn_rate": [12 / 250, 6 / 240, 8 / 236],
    }
)


def _solved(exercise, back=BACK, dynamics=DYNAMICS):
    space = {
        "kamlib": kamlib,
        "pd": pd,
        "back": back,
        "dynamics": dynamics,
        "win_back_hand": kamlib.WIN_BACK_HAND_TABLE,
    }
    exec(exercise.solution_code, space)
    return space["answer"]


@pytest.mark.parametrize("key", ["pick_days", "churn_rate", "rank_win_back"])
def test_solution_passes_and_placeholder_is_not_attempted(key):
    exercise = kamlib.loss_exercises(BACK, DYNAMICS)[key]
    assert exercise.check(_solved(exercise)).status == "correct"
    assert exercise.check(kamlib.___).status == "not attempted"


def test_pick_days_by_hand():
    exercise = kamlib.loss_exercises(BACK, DYNAMICS)["pick_days"]
    # the middle setting (index 4 // 2 = 2, D = 180) has 40 %: the limit is 40 %, met by 180 and 365
    assert "up to **40%**" in exercise.question
    assert exercise.expected == 180.0
    assert exercise.check("180").status == "correct"
    assert "above the 40%" in exercise.check(120).message  # 55 % false alarms
    assert "a shorter one does too" in exercise.check(365).message
    assert "one of the settings" in exercise.check(200).message


def test_pick_days_without_any_declaration_expects_none():
    empty = SUMMARY.assign(declared=0, false_alarms=0, false_alarm_share=float("nan"))
    back = BackTest(empty, pd.DataFrame(), pd.DataFrame(), STAMP, STAMP, 12)
    exercise = kamlib.loss_exercises(back, DYNAMICS)["pick_days"]
    assert exercise.expected is None
    assert exercise.check(None).status == "correct"


def test_churn_rate_by_hand():
    exercise = kamlib.loss_exercises(BACK, DYNAMICS)["churn_rate"]
    assert "2026Q2" in exercise.question  # the last complete quarter, not the running one
    assert exercise.expected == pytest.approx(0.025)  # 6 ÷ 240
    assert exercise.check("2.5%").status == "correct"
    assert "in percent" in exercise.check(2.5).message
    assert exercise.check(0.025).status == "correct"
    assert exercise.check(0.0249).status == "correct"  # as the table shows it: 2.5 %
    assert exercise.check(0.026).status == "incorrect"
    assert "in percent" in exercise.check("2.46").message
    assert "at the **start**" in exercise.check(6 / 234).message  # 240 − 6 in the denominator
    assert "returned accounts" in exercise.check(4 / 240).message  # (6 − 2) ÷ 240


def test_rank_win_back_by_hand():
    # priority = 100 × winnable × (0.6 × value + 0.4 × 0.5 ** (months ÷ 12)), as_of 30 Sep 2026:
    # Rheinpack: price (1.0), value 0.5 (beats Alpenholz), lost 30 Jul 2026 (2.04 months) → 65.6
    # Alpenholz: relationship (0.6), value 0, lost 31 Mar 2026 (6.01 months) → 17.0
    # Nordbau: customer closed (0.0) → 0, though it was worth the most
    exercise = kamlib.loss_exercises(BACK, DYNAMICS)["rank_win_back"]
    assert exercise.expected == ["Rheinpack", "Alpenholz", "Nordbau"]
    assert exercise.check("Rheinpack, Alpenholz, Nordbau").status == "correct"
    assert "customer closed" in exercise.check(["Nordbau", "Rheinpack", "Alpenholz"]).message
    assert "goes last" in exercise.check(["Nordbau", "Alpenholz", "Rheinpack"]).message
    assert "use the three names" in exercise.check(["Rheinpack", "Alpenholz"]).message
    ranked = kamlib.win_back_list(kamlib.WIN_BACK_HAND_TABLE, as_of=kamlib.WIN_BACK_HAND_AS_OF)
    assert ranked["priority"].round(1).tolist() == [65.6, 17.0, 0.0]


def test_exercises_on_the_sample():
    ds = kamlib.load_sample()
    tx = ds.transactions
    as_of = kamlib.resolve_as_of(tx)
    back = kamlib.back_test(tx, as_of=as_of)
    events = kamlib.loss_events(tx, as_of=as_of)
    status = kamlib.loss_status(tx, as_of=as_of)
    dynamics = kamlib.loss_dynamics(events, status, as_of=as_of)
    exercises = kamlib.loss_exercises(back, dynamics)
    for exercise in exercises.values():
        assert exercise.check(_solved(exercise, back, dynamics)).status == "correct"
    assert exercises["pick_days"].expected in set(back.summary["setting"].astype(float))


def test_churn_rate_counts_only_accounts_active_at_the_start():
    # 2026Q2 with 8 losses, of which 6 were accounts active at its start (240): 6 ÷ 240
    dynamics = DYNAMICS.assign(lost=[12, 8, 9])
    exercise = kamlib.loss_exercises(BACK, dynamics)["churn_rate"]
    assert exercise.expected == pytest.approx(0.025)
    assert "only those active at its start" in exercise.check(8 / 240).message
