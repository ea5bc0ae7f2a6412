"""The exercises of 03_dossier: every check passes with its solution and gives its specific
feedback on typical wrong answers."""

from __future__ import annotations

import pandas as pd
import pytest

import kamlib


@pytest.fixture(scope="module", params=["K10127", "K10263", "K10038"])
def dossier(request):
    ds = kamlib.load_sample()
    return kamlib.build_dossier(ds, request.param, as_of=kamlib.resolve_as_of(ds.transactions))


def _solved(exercise, dossier):
    space = {"kamlib": kamlib, "pd": pd, "dossier": dossier, "dmu_table": kamlib.DMU_HAND_TABLE}
    exec(exercise.solution_code, space)
    return space["answer"]


@pytest.mark.parametrize("key", ["missing_role", "half_year_total", "first_signal"])
def test_solution_passes_and_placeholder_is_not_attempted(dossier, key):
    exercise = kamlib.dossier_exercises(dossier)[key]
    assert exercise.check(_solved(exercise, dossier)).status == "correct"
    assert exercise.check(kamlib.___).status == "not attempted"


def test_missing_role_feedback(dossier):
    exercise = kamlib.dossier_exercises(dossier)["missing_role"]
    assert exercise.check("Champion").status == "correct"  # spelling is forgiven
    assert "Otto Brandt" in exercise.check("blocker").message
    assert "is in the table already" in exercise.check("buyer").message
    assert "the roles of the data model" in exercise.check("sponsor").message


def test_half_year_total_feedback():
    ds = kamlib.load_sample()
    dossier = kamlib.build_dossier(ds, "K10127", as_of=kamlib.resolve_as_of(ds.transactions))
    exercise = kamlib.dossier_exercises(dossier)["half_year_total"]
    table = dossier.half_years
    # the sample's largest account: 2026 H1 is the last complete half-year (as_of 28 Sep 2026)
    assert table.iloc[-2]["half_year"] == "2026 H1" and not table.iloc[-1]["complete"]
    assert exercise.check(float(table.iloc[-2]["total_quantity"])).status == "correct"
    assert "not over yet" in exercise.check(float(table.iloc[-1]["total_quantity"])).message
    assert "amount in EUR" in exercise.check(float(table.iloc[-2]["total_amount"])).message
    assert "one product group" in exercise.check(float(table.iloc[-2]["Epoxy"])).message


def test_first_signal_feedback():
    ds = kamlib.load_sample()
    dossier = kamlib.build_dossier(ds, "K10038", as_of=kamlib.resolve_as_of(ds.transactions))
    exercise = kamlib.dossier_exercises(dossier)["first_signal"]
    fired = dossier.signals.loc[dossier.signals["fired"], "signal"].tolist()
    quiet = dossier.signals.loc[~dossier.signals["fired"], "signal"].tolist()
    assert len(fired) >= 2 and quiet  # the lost account: several signals, not all
    assert exercise.check(fired[0].upper()).status == "correct"
    assert f"but {fired[0]} comes before it" in exercise.check(fired[1]).message
    assert "did not fire" in exercise.check(quiet[0]).message
    assert "the signals are" in exercise.check("bad weather").message
    assert exercise.check(None).status == "incorrect"
