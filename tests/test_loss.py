"""Loss analysis on small hand-made invoice lines.

Every expected number is worked out by hand in the comment next to it (day counts
are calendar days; a month of the delay and the win-back recency is 365.25 / 12 =
30.4375 days; a year of the lifetimes is 365.25 days). The reference date is
AS_OF = 2025-12-31 unless a test says otherwise.

The main fixture, :func:`portfolio`, holds five accounts, each a case of the issue:

- ``P`` pauses and returns (twice): buys 2024-01-15, 2024-03-15, 2024-11-15, 2025-12-01;
- ``T`` has two orders in its life (2024-06-03, 2024-07-03), then a credit note, and
  one order after AS_OF that must not be seen;
- ``Y`` buys once a year (1 March 2023, 2024, 2025);
- ``A`` is still active (every month on the 20th, 2024-2025);
- ``L`` bought monthly from January to 10 July 2025 and has been silent for 174 days.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import kamlib
from kamlib.loss import (
    WIN_BACK_APPROACHES,
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

AS_OF = pd.Timestamp("2025-12-31")
MONTH = 30.4375  # days in a month (365.25 / 12)
YEAR = 365.25  # days in a year

EVENT_COLUMNS = [
    "account_id",
    "rule",
    "last_purchase",
    "lost_on",
    "threshold_days",
    "revenue_lost",
    "returned_on",
    "still_lost",
]
STATUS_COLUMNS = [
    "account_id",
    "first_purchase",
    "last_purchase",
    "purchases",
    "usual_gap_days",
    "days_since_purchase",
    "revenue_12m",
    "revenue_previous_12m",
    "status",
    "lost_on",
    "revenue_lost",
    "times_lost",
    "came_back",
]
KM_COLUMNS = [
    "group",
    "time",
    "at_risk",
    "lost",
    "censored",
    "survival",
    "std_err",
    "lower",
    "upper",
]


# ---------------------------------------------------------------------------------------
# fixtures and helpers
# ---------------------------------------------------------------------------------------


def lines(rows) -> pd.DataFrame:
    """Invoice lines (account_id, date, amount) from tuples."""
    df = pd.DataFrame(list(rows), columns=["account_id", "date", "amount"])
    df["date"] = pd.to_datetime(df["date"]).astype("datetime64[ns]")
    df["amount"] = df["amount"].astype(float)
    return df


def ts(value) -> pd.Timestamp:
    return pd.NaT if value is None else pd.Timestamp(value)


def portfolio() -> pd.DataFrame:
    return lines(
        [
            # P: pauses and returns
            ("P", "2024-01-15", 1000),
            ("P", "2024-03-15", 1000),
            ("P", "2024-11-15", 2000),
            ("P", "2025-12-01", 500),
            # T: two orders in its life, a credit note (not a purchase), an order after AS_OF
            ("T", "2024-06-03", 800),
            ("T", "2024-07-03", 1200),
            ("T", "2024-09-01", -200),
            ("T", "2026-01-15", 900),
            # Y: buys yearly
            ("Y", "2023-03-01", 5000),
            ("Y", "2024-03-01", 5000),
            ("Y", "2025-03-01", 5000),
            # A: still active, monthly on the 20th
            *[("A", f"{y}-{m:02d}-20", 100) for y in (2024, 2025) for m in range(1, 13)],
            # L: monthly on the 10th, January to July 2025
            *[("L", f"2025-{m:02d}-10", 1000) for m in range(1, 8)],
        ]
    )


def events_frame(rows) -> pd.DataFrame:
    """Loss events (as loss_events returns them) from
    (account, rule, last, lost_on, threshold, revenue, returned) tuples."""
    return pd.DataFrame(
        {
            "account_id": pd.Series([r[0] for r in rows], dtype=object),
            "rule": pd.Series([r[1] for r in rows], dtype=object),
            "last_purchase": pd.to_datetime([ts(r[2]) for r in rows]).astype("datetime64[ns]"),
            "lost_on": pd.to_datetime([ts(r[3]) for r in rows]).astype("datetime64[ns]"),
            "threshold_days": pd.Series([r[4] for r in rows], dtype=float),
            "revenue_lost": pd.Series([r[5] for r in rows], dtype=float),
            "returned_on": pd.to_datetime([ts(r[6]) for r in rows]).astype("datetime64[ns]"),
            "still_lost": pd.Series([r[6] is None for r in rows], dtype=bool),
        }
    )


def dates(values) -> list:
    return [None if pd.isna(v) else pd.Timestamp(v).strftime("%Y-%m-%d") for v in values]


# ---------------------------------------------------------------------------------------
# the rule: LossRule
# ---------------------------------------------------------------------------------------


def test_loss_rule_defaults_and_sentences():
    rule = LossRule()
    assert (rule.kind, rule.days, rule.setting) == ("inactivity", 180, "days")
    # the rhythm defaults chosen from the back-test on the sample (docs/loss-analysis.md)
    assert (rule.k, rule.gap_quantile, rule.min_orders, rule.min_days) == (2.0, 0.9, 4, 90)
    assert rule.describe() == "lost after 180 days without a purchase"
    assert LossRule("rhythm").setting == "k"
    assert LossRule("decline").setting == "theta"
    assert LossRule("decline").describe() == (
        "lost when its last 12 months' revenue falls below 50% of the 12 months before "
        "(partial defection)"
    )
    assert LossRule(days=90).with_setting(120) == LossRule(days=120)
    assert LossRule("rhythm").with_setting(4.0).k == 4.0


def test_loss_rule_bad_kind_suggests_the_closest():
    with pytest.raises(
        ValueError, match=r"kind must be one of .*got 'inactivty' \(did you mean 'inactivity'\?\)"
    ):
        LossRule(kind="inactivty")
    with pytest.raises(ValueError, match=r"did you mean 'decline'"):
        LossRule(kind="declin")


@pytest.mark.parametrize("days", [0, -5, 1.5, "180", float("nan")])
def test_loss_rule_days_must_be_whole_and_positive(days):
    with pytest.raises(ValueError, match=r"days must be a whole number of days ≥ 1"):
        LossRule(days=days)


def test_loss_rule_theta_as_percent_gets_a_hint():
    with pytest.raises(
        ValueError, match=r"theta must be a fraction.*got 50 \(give a fraction: 0.5, not 50\)"
    ):
        LossRule(kind="decline", theta=50)
    with pytest.raises(ValueError, match=r"theta must be a fraction between 0 and 1, got 0$"):
        LossRule(kind="decline", theta=0)


@pytest.mark.parametrize("q", [0, -0.1, 1.5])
def test_loss_rule_gap_quantile_in_range(q):
    with pytest.raises(ValueError, match=r"gap_quantile must be in \(0, 1\]"):
        LossRule(kind="rhythm", gap_quantile=q)


@pytest.mark.parametrize("n", [1, 0, 2.5])
def test_loss_rule_min_orders_at_least_two(n):
    with pytest.raises(ValueError, match=r"min_orders must be a whole number ≥ 2"):
        LossRule(kind="rhythm", min_orders=n)


def test_loss_rule_other_bad_settings_and_all_problems_at_once():
    with pytest.raises(ValueError, match=r"k must be a number > 0"):
        LossRule(kind="rhythm", k=0)
    with pytest.raises(ValueError, match=r"min_days must be a whole number of days ≥ 1"):
        LossRule(kind="rhythm", min_days=0)
    with pytest.raises(ValueError, match=r"days must .*; k must .*; theta must"):
        LossRule(days=0, k=-1, theta=2)


def test_rule_argument_as_string_or_wrong_type():
    tx = portfolio()
    pd.testing.assert_frame_equal(
        loss_events(tx, as_of=AS_OF, rule="decline"),
        loss_events(tx, as_of=AS_OF, rule=LossRule("decline")),
    )
    with pytest.raises(ValueError, match=r"did you mean 'rhythm'"):
        loss_events(tx, as_of=AS_OF, rule="rythm")
    with pytest.raises(
        ValueError, match=r"rule must be a LossRule or one of inactivity, rhythm, decline, got 180"
    ):
        loss_events(tx, as_of=AS_OF, rule=180)


def test_missing_columns_in_transactions_lists_what_was_found():
    tx = portfolio().rename(columns={"amount": "value"})
    message = r"needs the column\(s\) amount in transactions; found: account_id, date, value"
    with pytest.raises(ValueError, match=message):
        loss_events(tx, as_of=AS_OF)
    with pytest.raises(ValueError, match=message):
        loss_status(tx, as_of=AS_OF)
    with pytest.raises(ValueError, match=message):
        back_test(tx, as_of=AS_OF)
    no_date = portfolio().rename(columns={"date": "when"})
    with pytest.raises(
        ValueError, match=r"column\(s\) date in transactions; found: account_id, when, amount"
    ):
        back_test(no_date, as_of=AS_OF)


# ---------------------------------------------------------------------------------------
# inactivity: events and status on the portfolio
# ---------------------------------------------------------------------------------------


def test_inactivity_events_on_the_portfolio():
    got = loss_events(portfolio(), as_of=AS_OF)
    assert list(got.columns) == EVENT_COLUMNS
    expected = events_frame(
        [
            # Y: 2023-03-01 + 180 d = 2023-08-28; gap to 2024-03-01 is 366 d > 180;
            #    revenue (2022-03-01, 2023-03-01] = 5000
            ("Y", "inactivity", "2023-03-01", "2023-08-28", 180, 5000, "2024-03-01"),
            # Y: 2024-03-01 + 180 d = 2024-08-28; gap 365 d; revenue (2023-03-01, 2024-03-01] = 5000
            ("Y", "inactivity", "2024-03-01", "2024-08-28", 180, 5000, "2025-03-01"),
            # P: gap 2024-03-15 -> 2024-11-15 = 245 d; lost on 03-15 + 180 d = 2024-09-11;
            #    revenue (2023-03-15, 2024-03-15] = 1000 + 1000
            ("P", "inactivity", "2024-03-15", "2024-09-11", 180, 2000, "2024-11-15"),
            # T: silent since 2024-07-03 (546 d at AS_OF): 07-03 + 180 d = 2024-12-30;
            #    revenue 800 + 1200 (the credit note of 09-01 is after the last purchase);
            #    the order of 2026-01-15 is after AS_OF: still lost
            ("T", "inactivity", "2024-07-03", "2024-12-30", 180, 2000, None),
            # P: gap 2024-11-15 -> 2025-12-01 = 381 d; 11-15 + 180 d = 2025-05-14;
            #    revenue (2023-11-15, 2024-11-15] = 1000 + 1000 + 2000
            ("P", "inactivity", "2024-11-15", "2025-05-14", 180, 4000, "2025-12-01"),
            # Y: silent since 2025-03-01 (305 d): 03-01 + 180 d = 2025-08-28
            ("Y", "inactivity", "2025-03-01", "2025-08-28", 180, 5000, None),
        ]
    )
    # A (gaps <= 31 d) and L (174 d < 180) are never lost
    pd.testing.assert_frame_equal(got, expected)


def test_inactivity_status_on_the_portfolio():
    got = loss_status(portfolio(), as_of=AS_OF)
    assert list(got.columns) == STATUS_COLUMNS
    assert got["account_id"].tolist() == ["A", "L", "P", "T", "Y"]
    assert dates(got["first_purchase"]) == [
        "2024-01-20",
        "2025-01-10",
        "2024-01-15",
        "2024-06-03",
        "2023-03-01",
    ]
    # T's last purchase stays 2024-07-03: the credit note is not a purchase, 2026 is unseen
    assert dates(got["last_purchase"]) == [
        "2025-12-20",
        "2025-07-10",
        "2025-12-01",
        "2024-07-03",
        "2025-03-01",
    ]
    assert got["purchases"].tolist() == [24, 7, 4, 2, 3]
    # A: 23 gaps = month lengths Jan 2024..Nov 2025: 28, 29, 8 x 30, 13 x 31 -> median (12th) 31
    # L: 31, 28, 31, 30, 31, 30 -> (30 + 31) / 2 = 30.5
    # P: 60, 245, 381 -> 245; T: 30; Y: 366, 365 -> 365.5
    assert got["usual_gap_days"].tolist() == [31.0, 30.5, 245.0, 30.0, 365.5]
    # A 12-20 -> 12-31 = 11; L 07-10 -> 12-31 = 21+31+30+31+30+31 = 174;
    # P 12-01 -> 12-31 = 30; T 2024-07-03 -> 2025-12-31 = 365 + 181 = 546; Y 03-01 -> 12-31 = 305
    assert got["days_since_purchase"].tolist() == [11, 174, 30, 546, 305]
    # (2024-12-31, 2025-12-31]: A 12 x 100; L 7 x 1000; P 500; T 0 (2026 unseen); Y 5000
    assert got["revenue_12m"].tolist() == [1200.0, 7000.0, 500.0, 0.0, 5000.0]
    # (2023-12-31, 2024-12-31]: A 1200; L 0; P 1000+1000+2000; T 800+1200-200; Y 5000
    assert got["revenue_previous_12m"].tolist() == [1200.0, 0.0, 4000.0, 1800.0, 5000.0]
    assert got["status"].tolist() == ["active", "active", "active", "lost", "lost"]
    assert dates(got["lost_on"]) == [None, None, None, "2024-12-30", "2025-08-28"]
    np.testing.assert_array_equal(got["revenue_lost"], [np.nan, np.nan, np.nan, 2000.0, 5000.0])
    assert got["times_lost"].tolist() == [0, 0, 2, 1, 3]
    assert got["came_back"].tolist() == [False, False, True, False, True]


def test_inactivity_boundaries_on_the_day_of_declaration():
    # 2025-01-01 + 180 d = 2025-06-30: an order on that very day is not a loss
    # 2025-06-30 + 180 d = 2025-12-27: at as_of = 12-27 the account is lost on as_of itself
    tx = lines([("B", "2025-01-01", 100), ("B", "2025-06-30", 100)])
    assert loss_events(tx, as_of=pd.Timestamp("2025-12-26")).empty
    on_day = loss_events(tx, as_of=pd.Timestamp("2025-12-27"))
    assert dates(on_day["lost_on"]) == ["2025-12-27"]
    assert on_day["still_lost"].tolist() == [True]
    # one day later: bought on day 181 -> lost on 2025-06-30, came back 07-01
    late = lines([("B", "2025-01-01", 100), ("B", "2025-07-01", 100)])
    got = loss_events(late, as_of=pd.Timestamp("2025-07-01"))
    assert dates(got["lost_on"]) == ["2025-06-30"]
    assert dates(got["returned_on"]) == ["2025-07-01"]


def test_credit_note_days_are_not_purchases():
    # C: an order on 01-10, its credit note on 03-01; D: an order on 01-10, and on 03-01 an
    # invoice cancelled by a credit note the same day (net 0). Both last bought on 01-10:
    # lost on 01-10 + 180 d = 2025-07-09, revenue (2024-01-10, 2025-01-10] = 1000 / 500.
    tx = lines(
        [
            ("C", "2025-01-10", 1000),
            ("C", "2025-03-01", -1000),
            ("D", "2025-01-10", 500),
            ("D", "2025-03-01", 200),
            ("D", "2025-03-01", -200),
        ]
    )
    got = loss_events(tx, as_of=pd.Timestamp("2025-08-01"))
    assert got["account_id"].tolist() == ["C", "D"]
    assert dates(got["last_purchase"]) == ["2025-01-10", "2025-01-10"]
    assert dates(got["lost_on"]) == ["2025-07-09", "2025-07-09"]
    assert got["revenue_lost"].tolist() == [1000.0, 500.0]
    status = loss_status(tx, as_of=pd.Timestamp("2025-08-01"))
    # 2025-01-10 -> 2025-08-01 = 203 days; one purchase day each
    assert status["days_since_purchase"].tolist() == [203, 203]
    assert status["purchases"].tolist() == [1, 1]
    # net of the window (2024-08-01, 2025-08-01]: C 1000 - 1000 = 0; D 500 + 200 - 200 = 500
    assert status["revenue_12m"].tolist() == [0.0, 500.0]


@pytest.mark.parametrize(
    "amounts",
    [(0.10, 0.20, -0.30), (75.47, 0.22, -75.69), (0.22, -75.69, 75.47), (-75.69, 75.47, 0.22)],
)
def test_a_day_netting_to_zero_in_cents_is_not_a_purchase(amounts):
    # 0.10 + 0.20 - 0.30 = 0.00 and 75.47 + 0.22 - 75.69 = 0.00 in money; in floating point
    # the sum is ±1e-14-ish depending on the order. Either way 2025-03-01 is no purchase:
    # the last purchase stays 2025-01-10 and the account is lost on 2025-07-09.
    tx = lines([("E", "2025-01-10", 100)] + [("E", "2025-03-01", a) for a in amounts])
    status = loss_status(tx, as_of=pd.Timestamp("2025-08-01"))
    assert dates(status["last_purchase"]) == ["2025-01-10"]
    assert status["purchases"].tolist() == [1]
    assert status["status"].tolist() == ["lost"]
    assert dates(status["lost_on"]) == ["2025-07-09"]


def test_nothing_after_as_of_is_seen():
    tx = portfolio()
    # T's order of 2026-01-15: at AS_OF still lost, no return; one day later it returned
    at = loss_events(tx, as_of=AS_OF)
    t = at[at["account_id"] == "T"]
    assert t["returned_on"].isna().all() and t["still_lost"].all()
    later = loss_events(tx, as_of=pd.Timestamp("2026-01-15"))
    t = later[later["account_id"] == "T"]
    assert dates(t["returned_on"]) == ["2026-01-15"]
    assert not t["still_lost"].any()
    # as_of before P's second pause: P has only its 2024 loss, and came back
    early = loss_status(tx, as_of=pd.Timestamp("2025-01-31"))
    p = early.set_index("account_id").loc["P"]
    # 2024-11-15 -> 2025-01-31 = 15 + 31 + 31 = 77 days: active, lost once before
    assert (p["status"], p["times_lost"], p["came_back"], p["days_since_purchase"]) == (
        "active",
        1,
        True,
        77,
    )


def test_empty_history_gives_empty_tables():
    tx = portfolio()
    before = pd.Timestamp("2023-01-01")  # before the first line
    assert loss_events(tx, as_of=before).empty
    assert list(loss_events(tx, as_of=before).columns) == EVENT_COLUMNS
    status = loss_status(tx, as_of=before)
    assert status.empty
    assert list(status.columns) == STATUS_COLUMNS


# ---------------------------------------------------------------------------------------
# rhythm
# ---------------------------------------------------------------------------------------


def rhythm_lines() -> pd.DataFrame:
    return lines(
        [
            # R: gaps 10, 10, 20, 50, 30, then silent (244 d at AS_OF)
            *[
                ("R", d, 100)
                for d in ["2025-01-01", "2025-01-11", "2025-01-21", "2025-02-10", "2025-04-01"]
            ],
            ("R", "2025-05-01", 100),
            # M: every 2 days, then 43 days, then silent (164 d at AS_OF)
            *[("M", d, 50) for d in ["2025-06-01", "2025-06-03", "2025-06-05", "2025-06-07"]],
            ("M", "2025-07-20", 50),
            # F: two orders only: no rhythm yet, falls back to days = 180
            ("F", "2025-01-05", 200),
            ("F", "2025-02-05", 200),
        ]
    )


def test_rhythm_uses_the_gaps_known_at_the_time():
    rule = LossRule("rhythm", k=3, gap_quantile=0.5, min_orders=4, min_days=30, days=180)
    got = loss_events(rhythm_lines(), as_of=AS_OF, rule=rule)
    expected = events_frame(
        [
            # R at its 4th purchase (02-10): known gaps 10, 10, 20 -> median 10, 3 x 10 = 30;
            #   next purchase 04-01 is 50 d later > 30: lost on 02-10 + 30 = 03-12;
            #   revenue (2024-02-10, 2025-02-10] = 4 x 100
            ("R", "rhythm", "2025-02-10", "2025-03-12", 30, 400, "2025-04-01"),
            # R at 05-01: known 10, 10, 20, 50, 30 -> median 20, 3 x 20 = 60; silent 244 d:
            #   lost on 05-01 + 60 = 06-30 (at 04-01 the median was 15 -> 45 > the 30 d gap)
            ("R", "rhythm", "2025-05-01", "2025-06-30", 60, 600, None),
            # M at 06-07: known 2, 2, 2 -> 3 x 2 = 6, but at least min_days = 30;
            #   the gap of 43 d > 30: lost on 06-07 + 30 = 07-07; revenue 4 x 50
            ("M", "rhythm", "2025-06-07", "2025-07-07", 30, 200, "2025-07-20"),
            # F: 2 purchases < min_orders 4 -> 180 d: 02-05 + 180 d = 08-04; revenue 400
            ("F", "rhythm", "2025-02-05", "2025-08-04", 180, 400, None),
            # M at 07-20: known 2, 2, 2, 43 -> median 2 -> 30 (min_days); silent 164 d:
            #   lost on 07-20 + 30 = 08-19; revenue 5 x 50
            ("M", "rhythm", "2025-07-20", "2025-08-19", 30, 250, None),
        ]
    )
    pd.testing.assert_frame_equal(got, expected)


def test_rhythm_quantile_is_linear_and_thresholds_round_up():
    # R2: gaps 10, 10, 20, 50, 42, then silent; k = 1 x the 90 % quantile, min_days 1
    tx = lines(
        [
            ("R2", d, 100)
            for d in [
                "2025-01-01",
                "2025-01-11",
                "2025-01-21",
                "2025-02-10",
                "2025-04-01",
                "2025-05-13",
            ]
        ]
    )
    rule = LossRule("rhythm", k=1, gap_quantile=0.9, min_orders=4, min_days=1)
    got = loss_events(tx, as_of=AS_OF, rule=rule)
    # at 02-10: 10, 10, 20 -> position 2 x 0.9 = 1.8 -> 10 + 0.8 x 10 = 18; gap 50 > 18:
    #   lost on 02-10 + 18 = 02-28
    # at 04-01: 10, 10, 20, 50 -> position 3 x 0.9 = 2.7 -> 20 + 0.7 x 30 = 41 exactly;
    #   gap 04-01 -> 05-13 = 42 > 41: lost on 04-01 + 41 = 05-12, back on 05-13
    # at 05-13: 10, 10, 20, 42, 50 -> 3.6 -> 42 + 0.6 x 8 = 46.8 -> rounded up to 47;
    #   silent: lost on 05-13 + 47 = 06-29
    assert got["threshold_days"].tolist() == [18.0, 41.0, 47.0]
    assert dates(got["lost_on"]) == ["2025-02-28", "2025-05-12", "2025-06-29"]
    assert dates(got["returned_on"]) == ["2025-04-01", "2025-05-13", None]
    # M: at 07-20 the 90 % quantile of 2, 2, 2, 43 is 2 + 0.7 x 41 = 30.7 -> 31 days
    m = loss_events(rhythm_lines(), as_of=AS_OF, rule=rule)
    m = m[m["account_id"] == "M"]
    # at 06-07: quantile of 2, 2, 2 = 2 (min_days 1): lost on 06-09; 07-20 + 31 = 08-20
    assert m["threshold_days"].tolist() == [2.0, 31.0]
    assert dates(m["lost_on"]) == ["2025-06-09", "2025-08-20"]


def test_rhythm_yearly_buyer_versus_inactivity():
    # Y buys every 1 March. Inactivity (180 d) declares it lost three times.
    # Rhythm with k = 1.5, min_orders = 2: at its first order it has no rhythm (180 d):
    # lost 2023-08-28; at 2024-03-01 the known gap 366 -> 1.5 x 366 = 549 > 365;
    # at 2025-03-01: median(366, 365) = 365.5 -> 548.25 -> 549 > 305 d of silence.
    tx = portfolio()
    yearly = tx[tx["account_id"] == "Y"]
    inactivity = loss_events(yearly, as_of=AS_OF)
    assert dates(inactivity["lost_on"]) == ["2023-08-28", "2024-08-28", "2025-08-28"]
    rule = LossRule("rhythm", k=1.5, min_orders=2)
    got = loss_events(yearly, as_of=AS_OF, rule=rule)
    assert dates(got["lost_on"]) == ["2023-08-28"]
    assert got["threshold_days"].tolist() == [180.0]
    status = loss_status(yearly, as_of=AS_OF, rule=rule)
    assert status["status"].tolist() == ["active"]
    assert status["times_lost"].tolist() == [1]


# ---------------------------------------------------------------------------------------
# decline (partial defection)
# ---------------------------------------------------------------------------------------


def decline_lines() -> pd.DataFrame:
    rows = []
    for y in (2022, 2023):
        for m in range(1, 13):
            rows += [(a, f"{y}-{m:02d}-15", 1000) for a in ("D1", "D2", "D3")]
    for y in (2024, 2025):
        for m in range(1, 13):
            rows.append(("D1", f"{y}-{m:02d}-15", 300))  # D1 falls to 300 a month
            rows.append(("D3", f"{y}-{m:02d}-15", 1000))  # D3 steady
            if (y, m) >= (2024, 10):
                rows.append(("D2", f"{y}-{m:02d}-15", 1000))  # D2: Jan-Sep 2024 nothing
    return lines(rows)


def test_decline_events():
    got = loss_events(decline_lines(), as_of=AS_OF, rule="decline")
    expected = events_frame(
        [
            # Checkpoints are month ends from 2024-01-31 (24 months after 2022-01-15).
            # D2 at 2024-m: last 12 = (12 - m) x 1000 (only 2023 months); prev 12 = 12000.
            #   m = 7 (2024-07-31): 5000 < 0.5 x 12000 -> lost; fall 12000 - 5000 = 7000;
            #   last purchase 2023-12-15. Recovery needs last 12 >= 6000: 2025-n holds
            #   Oct-Dec 2024 + n months of 2025 = 3 + n thousand -> n = 3: 2025-03-31.
            ("D2", "decline", "2023-12-15", "2024-07-31", np.nan, 7000, "2025-03-31"),
            # D1 at 2024-m: last 12 = (12 - m) x 1000 + m x 300 < 6000 first at m = 9:
            #   3000 + 2700 = 5700 (m = 8: 6400); fall 12000 - 5700 = 6300; never back
            #   (last 12 stays 3600 from 2024-12 on). Last purchase 2024-09-15.
            ("D1", "decline", "2024-09-15", "2024-09-30", np.nan, 6300, None),
        ]
    )
    # D3 (steady) is never lost
    pd.testing.assert_frame_equal(got, expected)


def test_decline_theta_moves_the_declaration():
    # theta 0.3: D1's last 12 (>= 3600) never go below 0.3 x prev 12 (e.g. 0.3 x 11300 at
    # 2025-01 = 3390); D2 at 2024-09-30: 3000 < 3600 -> lost, fall 12000 - 3000 = 9000;
    # back at 2025-01-31 (Oct 2024-Jan 2025 = 4000 >= 3600).
    got = loss_events(decline_lines(), as_of=AS_OF, rule=LossRule("decline", theta=0.3))
    assert got["account_id"].tolist() == ["D2"]
    assert dates(got["lost_on"]) == ["2024-09-30"]
    assert got["revenue_lost"].tolist() == [9000.0]
    assert dates(got["returned_on"]) == ["2025-01-31"]


def test_decline_status():
    got = loss_status(decline_lines(), as_of=AS_OF, rule="decline").set_index("account_id")
    assert got["status"].to_dict() == {"D1": "lost", "D2": "active", "D3": "active"}
    assert got.loc["D1", "revenue_lost"] == 6300.0
    assert got["times_lost"].to_dict() == {"D1": 1, "D2": 1, "D3": 0}
    assert got["came_back"].to_dict() == {"D1": False, "D2": True, "D3": False}
    # D1: 2025 = 12 x 300 = 3600; 2024 = 3600 too
    assert (got.loc["D1", "revenue_12m"], got.loc["D1", "revenue_previous_12m"]) == (3600.0, 3600.0)


def test_decline_needs_24_months_of_history():
    # 23 months of data: no checkpoint has 24 months behind it
    tx = lines(
        [("S", f"{2024 + (m - 1) // 12}-{(m - 1) % 12 + 1:02d}-15", 100) for m in range(2, 25)]
    )
    assert loss_events(tx, as_of=AS_OF, rule="decline").empty


# ---------------------------------------------------------------------------------------
# at risk
# ---------------------------------------------------------------------------------------


def risk_status() -> pd.DataFrame:
    rows = [
        # id, status, purchases, usual gap, days since, revenue 12m, previous 12m
        ("X", "active", 5, 30.0, 61, 1000.0, 1000.0),  # 61 / 30 = 2.03 > 2: late
        ("Z", "active", 5, 30.0, 60, 650.0, 1000.0),  # 60 / 30 = 2.0 not > 2; -35 %: falling
        ("W", "active", 3, 10.0, 100, 800.0, 1000.0),  # 3 < 4 orders; -20 %: not at risk
        ("V", "active", 4, 20.0, 50, 300.0, 1000.0),  # 2.5: late, -70 %: falling
        ("U", "lost", 9, 10.0, 400, 0.0, 5000.0),  # lost: not listed
        ("S", "active", 1, np.nan, 20, 500.0, 0.0),  # nothing before: no change
        ("Q", "active", 6, 40.0, 10, -50.0, 1000.0),  # credit notes: -105 %, at stake 0
    ]
    columns = [
        "account_id",
        "status",
        "purchases",
        "usual_gap_days",
        "days_since_purchase",
        "revenue_12m",
        "revenue_previous_12m",
    ]
    return pd.DataFrame(rows, columns=columns)


def test_at_risk_ranked_by_revenue_at_stake():
    got = at_risk_accounts(risk_status())
    assert got["account_id"].tolist() == ["X", "Z", "V", "Q"]
    assert got["why"].tolist() == [
        "past usual interval",
        "falling",
        "past usual interval, falling",
        "falling",
    ]
    assert got["revenue_at_stake"].tolist() == [1000.0, 650.0, 300.0, 0.0]
    # overdue: 61 / 30, 60 / 30, 50 / 20, 10 / 40; change: 0, -0.35, -0.7, -1.05
    np.testing.assert_allclose(got["overdue_factor"], [61 / 30, 2.0, 2.5, 0.25])
    np.testing.assert_allclose(got["change"], [0.0, -0.35, -0.7, -1.05])
    assert list(got.columns) == [
        *risk_status().columns,
        "overdue_factor",
        "change",
        "why",
        "revenue_at_stake",
    ]


def test_at_risk_settings():
    # gap_factor 1.5: Z (2.0) is late too; W (10 d gap, 100 d) counts once min_orders = 3
    got = at_risk_accounts(risk_status(), gap_factor=1.5, min_orders=3)
    assert got["account_id"].tolist() == ["X", "W", "Z", "V", "Q"]
    assert got.set_index("account_id")["why"]["Z"] == "past usual interval, falling"
    # fall 0.5: Z (-35 %) is no longer falling, V (-70 %) and Q (-105 %) are
    got = at_risk_accounts(risk_status(), fall=0.5)
    assert got["account_id"].tolist() == ["X", "V", "Q"]


def test_at_risk_on_the_portfolio():
    got = at_risk_accounts(loss_status(portfolio(), as_of=AS_OF))
    # L: 174 d / 30.5 = 5.7 x its gap (7 orders); P: 500 vs 4000 = -87.5 %, 30 / 245 = 0.12
    # A (11 / 31, steady) is fine; T and Y are lost
    assert got["account_id"].tolist() == ["L", "P"]
    assert got["why"].tolist() == ["past usual interval", "falling"]
    assert got["revenue_at_stake"].tolist() == [7000.0, 500.0]
    assert describe_at_risk(got) == (
        "**2** active accounts are at risk, with 7,500 EUR of revenue at stake; the largest "
        "is L (past usual interval)."
    )


@pytest.mark.parametrize("fall", [0, 1, 30, -0.2])
def test_at_risk_fall_must_be_a_fraction(fall):
    with pytest.raises(ValueError, match=r"fall must be a fraction between 0 and 1 \(0.3 = 30 %\)"):
        at_risk_accounts(risk_status(), fall=fall)


def test_at_risk_gap_factor_must_be_positive():
    with pytest.raises(ValueError, match=r"gap_factor must be > 0, got 0"):
        at_risk_accounts(risk_status(), gap_factor=0)


def test_no_one_at_risk():
    calm = risk_status().iloc[[2]]  # W only
    assert at_risk_accounts(calm).empty
    assert describe_at_risk(at_risk_accounts(calm)) == (
        "No active account is past its usual interval or falling."
    )


# ---------------------------------------------------------------------------------------
# back-test
# ---------------------------------------------------------------------------------------


def test_back_test_counts_false_alarms_and_delay():
    result = back_test(portfolio(), as_of=AS_OF, settings=[90, 180])
    # judged: from the first line (2023-03-01) + the slowest setting (180 d) = 2023-08-28
    # to AS_OF - 12 months = 2024-12-31
    assert (result.start, result.end) == (pd.Timestamp("2023-08-28"), pd.Timestamp("2024-12-31"))
    assert result.horizon_months == 12
    s = result.summary.set_index("setting")
    # 180 d: Y 2023-08-28 (back 2024-03-01), Y 2024-08-28 (back 2025-03-01),
    #        P 2024-09-11 (back 2024-11-15): false alarms; T 2024-12-30 confirmed (2000)
    #        (P 2025-05-14 and Y 2025-08-28 are after the end)
    # 90 d:  Y 2024-05-30 (back 2025-03-01), P 2024-06-13 (back 2024-11-15): false alarms;
    #        T 2024-10-01 confirmed; Y 2023-05-30 is before the start, P 2025-02-13 and
    #        L 2025-10-08 after the end
    assert s["declared"].to_dict() == {90: 3, 180: 4}
    assert s["false_alarms"].to_dict() == {90: 2, 180: 3}
    assert s["confirmed"].to_dict() == {90: 1, 180: 1}
    np.testing.assert_allclose(s["false_alarm_share"], [2 / 3, 3 / 4])
    # delay: 90 / 30.4375 = 2.957 months; 180 / 30.4375 = 5.914 months (every declaration)
    np.testing.assert_allclose(s["median_delay_months"], [2.9568788501026693, 5.9137577002053385])
    np.testing.assert_allclose(s["p90_delay_months"], [2.9568788501026693, 5.9137577002053385])
    assert s["revenue_declared"].to_dict() == {90: 2000.0, 180: 2000.0}
    assert s["rule"].tolist() == [
        "lost after 90 days without a purchase",
        "lost after 180 days without a purchase",
    ]
    assert list(result.summary.columns) == [
        "setting",
        "rule",
        "declared",
        "false_alarms",
        "false_alarm_share",
        "confirmed",
        "median_delay_months",
        "p90_delay_months",
        "revenue_declared",
    ]
    by_month = result.by_month
    assert list(by_month.columns) == ["setting", "month", "declared", "false_alarms"]
    assert [
        (r.setting, r.month.strftime("%Y-%m"), r.declared, r.false_alarms)
        for r in by_month.itertuples()
    ] == [
        (90, "2024-05", 1, 1),
        (90, "2024-06", 1, 1),
        (90, "2024-10", 1, 0),
        (180, "2023-08", 1, 1),
        (180, "2024-08", 1, 1),
        (180, "2024-09", 1, 1),
        (180, "2024-12", 1, 0),
    ]
    events = result.events
    assert len(events) == 7
    t = events[(events["account_id"] == "T") & (events["setting"] == 180)]
    assert t["false_alarm"].tolist() == [False]


def test_back_test_horizon_decides_what_is_a_false_alarm():
    result = back_test(portfolio(), as_of=AS_OF, settings=[180], horizon_months=6)
    # end = AS_OF - 6 months = 2025-06-30. A purchase within 6 months of the declaration:
    # Y 2023-08-28 -> back 2024-03-01 > 2024-02-28: confirmed
    # Y 2024-08-28 -> back 2025-03-01 > 2025-02-28: confirmed
    # P 2024-09-11 -> back 2024-11-15 <= 2025-03-11: false alarm
    # T 2024-12-30: confirmed; P 2025-05-14 -> back 2025-12-01 > 2025-11-14: confirmed
    assert result.end == pd.Timestamp("2025-06-30")
    row = result.summary.iloc[0]
    assert (row["declared"], row["false_alarms"], row["confirmed"]) == (5, 1, 4)
    # revenue of the confirmed: 5000 + 5000 + 2000 + 4000
    assert row["revenue_declared"] == 16000.0


def test_back_test_decline():
    result = back_test(decline_lines(), as_of=AS_OF, rule="decline", settings=[0.3, 0.5])
    # start: 2022-01-15 + 24 months; end 2024-12-31
    assert (result.start, result.end) == (pd.Timestamp("2024-01-15"), pd.Timestamp("2024-12-31"))
    s = result.summary.set_index("setting")
    # 0.5: D2 2024-07-31 recovered 2025-03-31 <= 2025-07-31: false alarm; D1 confirmed (6300)
    # 0.3: D2 2024-09-30 recovered 2025-01-31: false alarm
    assert s["declared"].to_dict() == {0.3: 1, 0.5: 2}
    assert s["false_alarms"].to_dict() == {0.3: 1, 0.5: 1}
    assert s["revenue_declared"].to_dict() == {0.3: 0.0, 0.5: 6300.0}
    # the account still buys: no delay
    assert s["median_delay_months"].isna().all()
    assert s["p90_delay_months"].isna().all()


def test_back_test_default_settings_by_rule():
    tx = portfolio()
    assert back_test(tx, as_of=AS_OF).summary["setting"].tolist() == [60, 90, 120, 180, 270, 365]
    rhythm = back_test(tx, as_of=AS_OF, rule="rhythm").summary["setting"].tolist()
    assert rhythm == [2.0, 3.0, 4.0, 6.0]


def test_back_test_on_a_short_history_warns_and_judges_nothing():
    tx = lines([("a", "2025-01-10", 100), ("a", "2025-03-10", 100)])
    with pytest.warns(
        LossWarning, match=r"too short to back-test the inactivity rule with a 12-month horizon"
    ):
        result = back_test(tx, as_of=AS_OF, settings=[90, 180])
    assert result.summary["declared"].tolist() == [0, 0]
    assert result.summary["false_alarm_share"].isna().all()
    # judged up to 2025-12-31 - 12 months; the slowest setting fires from 2025-01-10 + 180 d
    assert describe_back_test(result) == (
        "The history is too short to judge the settings: a declaration is judged 12 months "
        "after it, so only those up to 31 Dec 2024 count, but the slowest setting cannot "
        "declare a loss before 09 Jul 2025. Try shorter settings or a shorter horizon."
    )


def test_back_test_return_on_the_last_day_of_the_horizon_is_a_false_alarm():
    # B and C last bought 2023-01-01: lost on 01-01 + 180 d = 2023-06-30; horizon ends
    # 2024-06-30. B is back on 2024-06-30 (within: false alarm), C on 2024-07-01 (confirmed).
    # Judged: 2023-06-30 (first line + 180 d) to 2025-06-30 - 12 months = 2024-06-30;
    # their second losses (2024-12-27, 2024-12-28) are after that.
    tx = lines(
        [
            ("B", "2023-01-01", 100),
            ("B", "2024-06-30", 100),
            ("C", "2023-01-01", 100),
            ("C", "2024-07-01", 100),
        ]
    )
    result = back_test(tx, as_of=pd.Timestamp("2025-06-30"), settings=[180])
    assert (result.start, result.end) == (pd.Timestamp("2023-06-30"), pd.Timestamp("2024-06-30"))
    events = result.events.set_index("account_id")
    assert events["false_alarm"].to_dict() == {"B": True, "C": False}
    assert result.summary["false_alarms"].tolist() == [1]


@pytest.mark.parametrize("horizon", [0, -1, 1.5])
def test_back_test_horizon_must_be_whole_and_positive(horizon):
    with pytest.raises(ValueError, match=r"horizon_months must be a whole number ≥ 1"):
        back_test(portfolio(), as_of=AS_OF, horizon_months=horizon)


def test_back_test_settings_empty_or_invalid():
    with pytest.raises(ValueError, match=r"settings is empty: give at least one value to try"):
        back_test(portfolio(), as_of=AS_OF, settings=[])
    with pytest.raises(ValueError, match=r"days must be a whole number of days ≥ 1, got 0"):
        back_test(portfolio(), as_of=AS_OF, settings=[90, 0])
    with pytest.raises(ValueError, match=r"give a fraction"):
        back_test(decline_lines(), as_of=AS_OF, rule="decline", settings=[50])


def test_describe_back_test():
    result = back_test(portfolio(), as_of=AS_OF, settings=[90, 180])
    # shares 2/3 (90) and 3/4 (180)
    # median delays: 90 d and 180 d of 30.44 days a month = 3.0 and 5.9 months
    assert describe_back_test(result) == (
        "Judged on the losses declared from Aug 2023 to Dec 2024: false alarms range from "
        "67% (setting 90) to 75% (setting 180). The median delay runs from 3.0 months "
        "(setting 90) to 5.9 months (setting 180): a rule that waits longer is wrong less "
        "often, and later."
    )
    assert describe_back_test(result, max_false_alarm_share=0.1).endswith(
        " No setting keeps false alarms at or below 10%."
    )
    assert describe_back_test(result, max_false_alarm_share=0.7).endswith(
        " The first setting with at most 70% false alarms is **90**, noticing a loss 3.0 "
        "months after the last order (median)."
    )


# ---------------------------------------------------------------------------------------
# dynamics
# ---------------------------------------------------------------------------------------

# Per quarter for the portfolio (inactivity 180 d). First period: the first quarter
# starting on or after 2023-03-01 + 180 d = 2023-08-28: 2023Q4.
# Losses:  Y 2023-08-28 (back 2024-03-01), Y 2024-08-28 (back 2025-03-01), Y 2025-08-28;
#          P 2024-09-11 (back 2024-11-15), P 2025-05-14 (back 2025-12-01); T 2024-12-30.
# First purchases: Y 2023-03-01, P 2024-01-15, A 2024-01-20, T 2024-06-03, L 2025-01-10.
QUARTERS = [
    # period, active at start, lost, revenue lost, returned, churn
    ("2023Q4", 0, 0, 0.0, 0, np.nan),  # Y lost since 08-28; nobody else yet
    ("2024Q1", 0, 0, 0.0, 1, np.nan),  # Y still lost on 01-01; Y back 03-01
    ("2024Q2", 3, 0, 0.0, 0, 0.0),  # Y, P, A
    ("2024Q3", 4, 2, 7000.0, 0, 0.5),  # Y, P, A, T; Y and P lost: 5000 + 2000
    ("2024Q4", 2, 1, 2000.0, 1, 0.5),  # A, T (Y, P lost); T lost; P back 11-15
    ("2025Q1", 2, 0, 0.0, 1, 0.0),  # P, A (Y, T lost; L starts 01-10); Y back 03-01
    ("2025Q2", 4, 1, 4000.0, 0, 0.25),  # Y, P, A, L; P lost
    ("2025Q3", 3, 1, 5000.0, 0, 1 / 3),  # Y, A, L; Y lost
    ("2025Q4", 2, 0, 0.0, 1, 0.0),  # A, L; P back 12-01
]


def portfolio_dynamics(**kwargs) -> pd.DataFrame:
    tx = portfolio()
    return loss_dynamics(
        loss_events(tx, as_of=AS_OF), loss_status(tx, as_of=AS_OF), as_of=AS_OF, **kwargs
    )


def test_dynamics_per_quarter():
    got = portfolio_dynamics()
    assert list(got.columns) == [
        "group",
        "period",
        "start",
        "end",
        "partial",
        "active_at_start",
        "lost",
        "revenue_lost",
        "churned",
        "returned",
        "churn_rate",
    ]
    assert (got["group"] == "all").all()
    # every quarter's losses were accounts active at its start
    assert got["churned"].tolist() == [q[2] for q in QUARTERS]
    assert got["period"].tolist() == [q[0] for q in QUARTERS]
    assert got["active_at_start"].tolist() == [q[1] for q in QUARTERS]
    assert got["lost"].tolist() == [q[2] for q in QUARTERS]
    assert got["revenue_lost"].tolist() == [q[3] for q in QUARTERS]
    assert got["returned"].tolist() == [q[4] for q in QUARTERS]
    np.testing.assert_allclose(got["churn_rate"], [q[5] for q in QUARTERS])
    assert dates(got["start"].iloc[[0, -1]]) == ["2023-10-01", "2025-10-01"]
    assert dates(got["end"].iloc[[0, -1]]) == ["2023-12-31", "2025-12-31"]
    assert not got["partial"].any()  # AS_OF is the last day of 2025Q4


def test_dynamics_by_group():
    segments = pd.Series({"Y": "big", "P": "big", "T": "small", "A": "small"})  # L: none
    got = portfolio_dynamics(groups=segments)
    assert len(got) == 27  # 3 groups x 9 quarters
    assert got["group"].unique().tolist() == ["(none)", "big", "small"]
    rows = got.set_index(["group", "period"])
    # big 2024Q3: Y and P active, both lost -> churn 2 / 2
    assert rows.loc[("big", "2024Q3"), ["active_at_start", "lost"]].tolist() == [2, 2]
    assert rows.loc[("big", "2024Q3"), "churn_rate"] == 1.0
    assert rows.loc[("big", "2024Q3"), "revenue_lost"] == 7000.0
    # small 2024Q4: A and T active, T lost -> 1 / 2
    assert rows.loc[("small", "2024Q4"), "churn_rate"] == 0.5
    # (none) = L: not yet active on 2025-01-01 (first purchase 01-10), active on 04-01
    assert rows.loc[("(none)", "2025Q1"), "active_at_start"] == 0
    assert math.isnan(rows.loc[("(none)", "2025Q1"), "churn_rate"])
    assert rows.loc[("(none)", "2025Q2"), "active_at_start"] == 1
    # the groups add up to the whole
    whole = got.groupby("period")[["active_at_start", "lost", "returned"]].sum()
    assert whole["active_at_start"].tolist() == [q[1] for q in QUARTERS]
    assert whole["lost"].tolist() == [q[2] for q in QUARTERS]
    assert whole["returned"].tolist() == [q[4] for q in QUARTERS]


def test_dynamics_per_year():
    got = portfolio_dynamics(freq="year")
    # first year starting on or after 2023-08-28: 2024
    assert got["period"].tolist() == ["2024", "2025"]
    # 2024: on 01-01 only Y had bought, and it was lost -> 0 active; lost Y, P, T
    # 2025: P (back 2024-11-15) and A active; lost P (05-14) and Y (08-28), but Y was lost
    # on 01-01 (back only on 03-01): one churned of two active -> 1 / 2
    assert got["active_at_start"].tolist() == [0, 2]
    assert got["lost"].tolist() == [3, 2]
    assert got["churned"].tolist() == [0, 1]
    assert got["revenue_lost"].tolist() == [5000.0 + 2000.0 + 2000.0, 4000.0 + 5000.0]
    assert got["returned"].tolist() == [2, 2]  # Y 2024-03-01, P 2024-11-15; Y, P in 2025
    np.testing.assert_allclose(got["churn_rate"], [np.nan, 0.5])


def test_dynamics_last_period_is_partial():
    tx = portfolio()
    as_of = pd.Timestamp("2025-11-15")
    got = loss_dynamics(loss_events(tx, as_of=as_of), loss_status(tx, as_of=as_of), as_of=as_of)
    assert got["period"].iloc[-1] == "2025Q4"
    assert got["end"].iloc[-1] == as_of
    assert got["partial"].tolist() == [False] * 8 + [True]
    # P's return of 2025-12-01 is after as_of: nothing returned in 2025Q4
    assert got["returned"].iloc[-1] == 0


def test_dynamics_loss_on_the_first_day_of_a_quarter():
    # H buys every three months from 2024-06-01; B once, on 2025-01-02, so it is lost on
    # 01-02 + 180 d = 2025-07-01, the first day of 2025Q3: active at the start of 2025Q3
    # (not yet lost) and lost in it. First quarter: after 2024-06-01 + 180 d = 2024-11-28.
    tx = lines(
        [("H", d, 100) for d in ["2024-06-01", "2024-09-01", "2024-12-01", "2025-03-01"]]
        + [("H", "2025-06-01", 100), ("H", "2025-09-01", 100), ("B", "2025-01-02", 100)]
    )
    as_of = pd.Timestamp("2025-09-30")
    got = loss_dynamics(loss_events(tx, as_of=as_of), loss_status(tx, as_of=as_of), as_of=as_of)
    assert got["period"].tolist() == ["2025Q1", "2025Q2", "2025Q3"]
    # 2025Q1: H (B's first purchase is 01-02, not before 01-01); 2025Q2 and Q3: H and B
    assert got["active_at_start"].tolist() == [1, 2, 2]
    assert got["lost"].tolist() == [0, 0, 1]
    np.testing.assert_allclose(got["churn_rate"], [0.0, 0.0, 0.5])


@pytest.mark.parametrize("freq", ["month", "Q", "quarterly"])
def test_dynamics_bad_freq(freq):
    with pytest.raises(ValueError, match=rf"freq must be 'quarter' or 'year', got '{freq}'"):
        portfolio_dynamics(freq=freq)


def test_describe_dynamics():
    # 9 complete quarters; lost 2 + 1 + 1 + 1 = 5, revenue 7000 + 2000 + 4000 + 5000;
    # returned 4; churn mean over the 7 quarters with accounts:
    # (0 + 0.5 + 0.5 + 0 + 0.25 + 1/3 + 0) / 7 = 0.2262 -> 22.6 %; highest 2024Q3 (the first 50 %)
    assert describe_dynamics(portfolio_dynamics()) == (
        "Over 9 complete periods, 5 losses were declared (18,000 EUR of revenue lost), and lost "
        "accounts came back 4 times; the churn rate averaged 22.6% per period, highest in 2024Q3 "
        "(50.0%)."
    )


# ---------------------------------------------------------------------------------------
# reasons
# ---------------------------------------------------------------------------------------


def reason_events() -> pd.DataFrame:
    return events_frame(
        [
            # window: (last purchase - 365 d, lost on + 120 d], never after AS_OF
            # R1, R2, R3, R5: (2024-01-11, 2025-11-06]
            ("R1", "inactivity", "2025-01-10", "2025-07-09", 180, 1000, None),
            ("R2", "inactivity", "2025-01-10", "2025-07-09", 180, 2000, "2025-12-01"),
            ("R3", "inactivity", "2025-01-10", "2025-07-09", 180, 3000, None),
            # R4: (2023-09-02, 2025-06-28]
            ("R4", "inactivity", "2024-09-01", "2025-02-28", 180, 500, None),
            ("R5", "inactivity", "2025-01-10", "2025-07-09", 180, 800, None),
            # R6: (2024-04-04, 2025-12-31] (2026-01-29 capped at AS_OF)
            ("R6", "inactivity", "2025-04-04", "2025-10-01", 180, 700, None),
        ]
    )


def interactions() -> pd.DataFrame:
    rows = [
        ("I1", "R1", "2025-08-01", "call", "account lost", "Price"),  # 1. loss recorded
        ("I2", "R1", "2025-05-01", "complaint", None, "delivery"),
        ("I3", "R2", "2025-02-01", "complaint", "follow-up", "quality"),
        ("I4", "R2", "2025-11-06", "complaint", None, " Service "),  # last day of the window
        ("I5", "R2", "2025-11-07", "call", "account lost", "relationship"),  # one day after
        ("I6", "R5", "2025-03-01", "visit", "follow-up", None),  # no reason
        ("I7", "R5", "2025-04-01", "call", "done", "   "),  # blank reason
        ("I8", "R5", "2024-01-11", "complaint", None, "quality"),  # exactly 365 d before
        ("I9", "R6", "2026-01-05", "call", "account lost", "price"),  # after AS_OF
    ]
    df = pd.DataFrame(
        rows, columns=["interaction_id", "account_id", "date", "type", "outcome", "reason"]
    )
    df["date"] = pd.to_datetime(df["date"])
    return df


def proposals() -> pd.DataFrame:
    rows = [
        ("Q1", "R1", "2025-05-15", "offer", 5000.0, "lost", "2025-06-01", "price", "RivalCo"),
        ("Q2", "R2", "2025-02-15", "tender", 8000.0, "lost", "2025-03-01", "price", "Acme"),
        ("Q3", "R3", "2025-04-01", "tender", 9000.0, "lost", "2025-05-20", "Customer closed", None),
        ("Q4", "R3", "2025-06-01", "offer", 3000.0, "won", "2025-06-10", "price", None),
        ("Q5", "R4", "2025-01-10", "offer", 1000.0, "open", None, None, None),
    ]
    df = pd.DataFrame(
        rows,
        columns=[
            "proposal_id",
            "account_id",
            "date",
            "kind",
            "value",
            "outcome",
            "decided_date",
            "reason",
            "competitor",
        ],
    )
    df["date"] = pd.to_datetime(df["date"])
    df["decided_date"] = pd.to_datetime(df["decided_date"])
    return df


def surveys() -> pd.DataFrame:
    rows = [
        ("R4", "2025-03-01", 4),  # low: dissatisfaction
        ("R4", "2025-05-01", 8),
        ("R4", "2023-06-01", 2),  # before R4's window
        ("R1", "2025-04-01", 3),  # R1 has better evidence
        ("R5", "2025-04-15", 6),  # above 5
        ("R6", "2025-09-01", 5),  # 5 counts (at or below)
    ]
    df = pd.DataFrame(rows, columns=["account_id", "date", "score"])
    df["date"] = pd.to_datetime(df["date"])
    return df


def all_reasons() -> pd.DataFrame:
    return loss_reasons(
        reason_events(),
        as_of=AS_OF,
        interactions=interactions(),
        proposals=proposals(),
        surveys=surveys(),
    )


def test_reasons_in_the_documented_priority():
    got = all_reasons()
    assert list(got.columns) == [
        *EVENT_COLUMNS,
        "reason",
        "reason_source",
        "reason_date",
        "competitor",
    ]
    assert got["account_id"].tolist() == ["R1", "R2", "R3", "R4", "R5", "R6"]
    # R1: loss recorded (I1) beats the complaint, the lost proposal and the survey
    # R2: latest complaint in the window (I4 on its last day); I5 is a day too late
    # R3: lost tender, dated by its decision; the won offer does not count
    # R4: survey score 4 (the 2 is before its window, the 8 is not low)
    # R5: no reason recorded (I6 none, I7 blank, I8 exactly 365 d before: outside)
    # R6: survey score 5 (the loss recorded on 2026-01-05 is after AS_OF)
    assert got["reason"].tolist() == [
        "price",
        "service",
        "customer_closed",
        "dissatisfaction",
        "unexplained",
        "dissatisfaction",
    ]
    assert got["reason_source"].tolist() == [
        "interactions: loss recorded",
        "interactions: complaint",
        "proposals: lost tender",
        "surveys: score 4",
        "",
        "surveys: score 5",
    ]
    assert dates(got["reason_date"]) == [
        "2025-08-01",
        "2025-11-06",
        "2025-05-20",
        "2025-03-01",
        None,
        "2025-09-01",
    ]
    # who won the last lost proposal in the window, whatever gave the reason
    assert [c if isinstance(c, str) else None for c in got["competitor"]] == [
        "RivalCo",
        "Acme",
        None,
        None,
        None,
        None,
    ]
    # the events' own columns pass through
    pd.testing.assert_frame_equal(got[EVENT_COLUMNS], reason_events())


def test_reasons_window_settings():
    # before_days = 0: only records after the last purchase. R2's complaint of 2025-02-01
    # stays (after 2025-01-10); after_days = 0 cuts records after 2025-07-09: R2's I4
    # goes, and the complaint I3 of 02-01 is the latest left.
    got = loss_reasons(
        reason_events().iloc[[1]], as_of=AS_OF, interactions=interactions(), after_days=0
    )
    assert got["reason"].tolist() == ["quality"]
    assert dates(got["reason_date"]) == ["2025-02-01"]
    got = loss_reasons(
        reason_events().iloc[[1]], as_of=AS_OF, interactions=interactions(), before_days=0
    )
    assert got["reason"].tolist() == ["service"]
    # with no records at all every loss is unexplained
    bare = loss_reasons(reason_events(), as_of=AS_OF)
    assert (bare["reason"] == "unexplained").all()
    assert (bare["reason_source"] == "").all()
    # an earlier as_of hides later records: at 2025-07-31 R1's I1 (08-01) is unseen,
    # the latest complaint I2 (delivery) gives the reason
    early = loss_reasons(
        reason_events().iloc[[0]], as_of=pd.Timestamp("2025-07-31"), interactions=interactions()
    )
    assert early["reason"].tolist() == ["delivery"]


def test_lost_proposal_without_decision_date_uses_its_date():
    props = proposals().iloc[[2]].assign(decided_date=pd.NaT)
    got = loss_reasons(reason_events().iloc[[2]], as_of=AS_OF, proposals=props)
    assert got["reason"].tolist() == ["customer_closed"]
    assert dates(got["reason_date"]) == ["2025-04-01"]


def test_blank_reasons_are_no_reasons():
    # R3's lost tender with a blank reason gives none: the survey (score 2) decides
    props = proposals().iloc[[2]].assign(reason="   ")
    survey = pd.DataFrame(
        {"account_id": ["R3"], "date": pd.to_datetime(["2025-03-01"]), "score": [2]}
    )
    got = loss_reasons(reason_events().iloc[[2]], as_of=AS_OF, proposals=props, surveys=survey)
    assert got["reason"].tolist() == ["dissatisfaction"]
    assert got["reason_source"].tolist() == ["surveys: score 2"]
    got = loss_reasons(reason_events().iloc[[2]], as_of=AS_OF, proposals=props)
    assert got["reason"].tolist() == ["unexplained"]


@pytest.mark.parametrize("name", ["before_days", "after_days"])
@pytest.mark.parametrize("value", [-1, 1.5])
def test_reason_window_must_be_whole_days(name, value):
    with pytest.raises(ValueError, match=rf"{name} must be a whole number of days ≥ 0"):
        loss_reasons(reason_events(), as_of=AS_OF, **{name: value})


def test_reason_pareto():
    got = reason_pareto(all_reasons())
    assert list(got.columns) == ["reason", "losses", "share", "cumulative_share", "revenue_lost"]
    # dissatisfaction 2 losses (500 + 700); then one each, by revenue lost:
    # customer_closed 3000, service 2000, price 1000, unexplained 800
    assert got["reason"].tolist() == [
        "dissatisfaction",
        "customer_closed",
        "service",
        "price",
        "unexplained",
    ]
    assert got["losses"].tolist() == [2, 1, 1, 1, 1]
    assert got["revenue_lost"].tolist() == [1200.0, 3000.0, 2000.0, 1000.0, 800.0]
    np.testing.assert_allclose(got["share"], [2 / 6, 1 / 6, 1 / 6, 1 / 6, 1 / 6])
    np.testing.assert_allclose(got["cumulative_share"], [2 / 6, 3 / 6, 4 / 6, 5 / 6, 1.0])


def test_reason_pareto_ties_by_revenue_then_name():
    reasons = pd.DataFrame(
        {
            "account_id": ["a", "b", "c", "d"],
            "reason": ["quality", "price", "delivery", "price"],
            "revenue_lost": [100.0, 50.0, 100.0, 50.0],
        }
    )
    # price 2 (100); delivery and quality 1 each, 100 each -> by name
    assert reason_pareto(reasons)["reason"].tolist() == ["price", "delivery", "quality"]


def test_describe_reasons():
    # 6 losses; top 3 known: dissatisfaction 2, customer_closed 1, service 1 -> 4 / 6 = 67 %;
    # 1 unexplained = 17 %
    assert describe_reasons(reason_pareto(all_reasons())) == (
        "The leading recorded reason is **dissatisfaction** (2 of 6 losses); dissatisfaction, "
        "customer_closed, service together explain 67%. 1 loss(es) (17%) have no recorded reason."
    )
    bare = reason_pareto(loss_reasons(reason_events(), as_of=AS_OF))
    assert describe_reasons(bare).startswith("None of the 6 losses has a recorded reason")
    assert describe_reasons(reason_pareto(all_reasons().iloc[0:0])) == ("No loss to explain.")


def test_reasons_over_time():
    reasons = all_reasons()
    order = ["dissatisfaction", "customer_closed", "service", "price", "unexplained"]
    half = reasons_over_time(reasons)
    assert list(half.columns) == ["period", *order, "total"]
    # R4 lost 2025-02-28 (H1); the others in July and October (H2)
    assert half.to_dict("list") == {
        "period": ["2025-H1", "2025-H2"],
        "dissatisfaction": [1, 1],
        "customer_closed": [0, 1],
        "service": [0, 1],
        "price": [0, 1],
        "unexplained": [0, 1],
        "total": [1, 5],
    }
    quarter = reasons_over_time(reasons, freq="quarter")
    assert quarter["period"].tolist() == ["2025Q1", "2025Q3", "2025Q4"]
    assert quarter["total"].tolist() == [1, 4, 1]  # R4; R1, R2, R3, R5; R6
    assert quarter["dissatisfaction"].tolist() == [1, 0, 1]
    year = reasons_over_time(reasons, freq="year")
    assert year.to_dict("list")["total"] == [6]


@pytest.mark.parametrize("freq", ["month", "half year", "Q"])
def test_reasons_over_time_bad_freq(freq):
    with pytest.raises(
        ValueError, match=rf"freq must be 'half-year', 'year' or 'quarter', got '{freq}'"
    ):
        reasons_over_time(all_reasons(), freq=freq)


# ---------------------------------------------------------------------------------------
# lifetimes and Kaplan-Meier
# ---------------------------------------------------------------------------------------


def test_account_lifetimes_on_the_portfolio():
    tx = portfolio()
    status, events = loss_status(tx, as_of=AS_OF), loss_events(tx, as_of=AS_OF)
    got = account_lifetimes(status, events, as_of=AS_OF)
    assert list(got.columns) == [
        "account_id",
        "start",
        "end",
        "duration_years",
        "entry_years",
        "lost",
    ]
    assert got["account_id"].tolist() == ["A", "L", "P", "T", "Y"]
    # ends: A, L censored at AS_OF; P, T, Y at the last purchase before their first loss
    assert dates(got["end"]) == [
        "2025-12-31",
        "2025-12-31",
        "2024-03-15",
        "2024-07-03",
        "2023-03-01",
    ]
    assert got["lost"].tolist() == [False, False, True, True, True]
    # A 2024-01-20 -> 2025-12-31 = 711 d; L 2025-01-10 -> 12-31 = 355 d; P 60 d; T 30 d; Y 0
    np.testing.assert_allclose(
        got["duration_years"], [711 / YEAR, 355 / YEAR, 60 / YEAR, 30 / YEAR, 0.0]
    )
    assert got["entry_years"].tolist() == [0.0] * 5


def test_account_lifetimes_with_first_orders():
    tx = portfolio()
    status, events = loss_status(tx, as_of=AS_OF), loss_events(tx, as_of=AS_OF)
    # A began 2022-01-20 (before the data, which begin 2023-03-01); T's "first order" is
    # after its first purchase in the data (ignored); L is not listed
    first = pd.Series(pd.to_datetime(["2022-01-20", "2025-01-01"]), index=["A", "T"])
    got = account_lifetimes(status, events, as_of=AS_OF, first_orders=first).set_index("account_id")
    assert dates(got["start"]) == [
        "2022-01-20",
        "2025-01-10",
        "2024-01-15",
        "2024-06-03",
        "2023-03-01",
    ]
    # A: 2022-01-20 -> 2025-12-31 = 730 + 711 = 1441 d; entered at 2022-01-20 -> 2023-03-01
    #    = 365 + 40 = 405 d
    assert got.loc["A", "duration_years"] == pytest.approx(1441 / YEAR)
    assert got.loc["A", "entry_years"] == pytest.approx(405 / YEAR)
    assert got["entry_years"].drop("A").tolist() == [0.0] * 4
    assert got.loc["T", "duration_years"] == pytest.approx(30 / YEAR)


def km_lifetimes() -> pd.DataFrame:
    # 7 accounts, all observed from 0: lost at 1, 2, 2, 4; censored at 2, 3, 5
    return pd.DataFrame(
        {
            "duration_years": [1.0, 2.0, 2.0, 2.0, 3.0, 4.0, 5.0],
            "lost": [True, False, True, True, False, True, False],
        }
    )


def test_kaplan_meier_by_hand_with_censoring_and_ties():
    got = kaplan_meier(km_lifetimes())
    assert list(got.columns) == KM_COLUMNS
    assert got["time"].tolist() == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]
    # at risk just before t: lifetime >= t. At t = 2 the account censored at 2 still counts.
    assert got["at_risk"].tolist() == [7, 7, 6, 3, 2, 1]
    assert got["lost"].tolist() == [0, 1, 2, 0, 1, 0]
    assert got["censored"].tolist() == [0, 0, 1, 1, 0, 1]
    # S(1) = 1 - 1/7 = 6/7; S(2) = 6/7 x (1 - 2/6) = 4/7; S(3) = 4/7;
    # S(4) = 4/7 x (1 - 1/2) = 2/7; S(5) = 2/7
    np.testing.assert_allclose(got["survival"], [1, 6 / 7, 4 / 7, 4 / 7, 2 / 7, 2 / 7])
    # Greenwood: sums 1/(7 x 6) = 1/42; + 2/(6 x 4) = 1/12; + 1/(2 x 1) = 1/2
    # se(1) = 6/7 sqrt(1/42) = 0.13226; se(2) = 4/7 sqrt(1/42 + 1/12) = 0.18704;
    # se(4) = 2/7 sqrt(1/42 + 1/12 + 1/2) = 0.22263
    np.testing.assert_allclose(
        got["std_err"],
        [
            0.0,
            0.13226001425322162,
            0.18704390591656486,
            0.18704390591656486,
            0.22262677784970844,
            0.22262677784970844,
        ],
    )
    # log-log band: S ** exp(±1.96 sqrt(G) / |ln S|); at t = 1: ln(6/7) = -0.15415,
    # sqrt(1/42) / 0.15415 = 1.00099, (6/7) ** exp(1.96198) = (6/7) ** 7.1123 = 0.33404 and
    # (6/7) ** exp(-1.96198) = 0.97856
    np.testing.assert_allclose(
        got["lower"],
        [
            1.0,
            0.3340406747103427,
            0.1718596397037854,
            0.1718596397037854,
            0.014415574813498191,
            0.014415574813498191,
        ],
    )
    np.testing.assert_allclose(
        got["upper"],
        [
            1.0,
            0.9785618230658394,
            0.8370859162039503,
            0.8370859162039503,
            0.6906007393275876,
            0.6906007393275876,
        ],
    )
    assert (got["group"] == "all").all()
    assert describe_survival(got) == "Median account lifetime — all: 4.0 years."


def delayed() -> pd.DataFrame:
    # (entry, end, lost): a (0, 2, lost), b (0, 5, censored), c (3, 4, lost),
    # d (3, 6, lost), e (1, 3, censored)
    return pd.DataFrame(
        {
            "entry_years": [0.0, 0.0, 3.0, 3.0, 1.0],
            "duration_years": [2.0, 5.0, 4.0, 6.0, 3.0],
            "lost": [True, False, True, True, False],
        }
    )


def test_kaplan_meier_with_delayed_entry():
    got = kaplan_meier(delayed())
    assert got["time"].tolist() == [0.0, 2.0, 3.0, 4.0, 5.0, 6.0]
    # at risk at t: entered before t and lifetime >= t
    # t=2: a, b, e (c, d enter at 3)         -> 3, one lost: S = 2/3
    # t=3: b, e (c, d entered at 3, not before) -> 2, e censored: S = 2/3
    # t=4: b, c, d                           -> 3, c lost: S = 2/3 x 2/3 = 4/9
    # t=5: b, d                              -> 2, b censored
    # t=6: d                                 -> 1, d lost: S = 0
    # time 0: a and b are observed from the start
    assert got["at_risk"].tolist() == [2, 3, 2, 3, 2, 1]
    assert got["lost"].tolist() == [0, 1, 0, 1, 0, 1]
    assert got["censored"].tolist() == [0, 0, 1, 0, 1, 0]
    np.testing.assert_allclose(got["survival"], [1, 2 / 3, 2 / 3, 4 / 9, 4 / 9, 0.0])
    # Greenwood: 1/(3 x 2) + 1/(3 x 2) = 1/3; se(4) = 4/9 x sqrt(1/3) = 0.25660
    np.testing.assert_allclose(got["std_err"].iloc[3], 4 / 9 * math.sqrt(1 / 3))
    # at S = 0 the band is 0 - 0
    assert (got["std_err"].iloc[-1], got["lower"].iloc[-1], got["upper"].iloc[-1]) == (
        0.0,
        0.0,
        0.0,
    )


def test_kaplan_meier_a_lifetime_ending_when_it_enters_is_not_counted():
    # f enters at 3 and is lost at 3: it was never observed at risk (at risk at t means
    # entered before t), so it is neither in n nor in d at t = 3. Counting it in d gave
    # S(3) = 2/3 x (1 - 1/2) = 1/3; and with 2 such losses against 1 at risk, S = -1.
    with_f = pd.concat(
        [delayed(), pd.DataFrame({"entry_years": [3.0], "duration_years": [3.0], "lost": [True]})],
        ignore_index=True,
    )
    got = kaplan_meier(with_f)
    pd.testing.assert_frame_equal(got, kaplan_meier(delayed()))
    np.testing.assert_allclose(got["survival"], [1, 2 / 3, 2 / 3, 4 / 9, 4 / 9, 0.0])
    both = pd.DataFrame(
        {
            "entry_years": [0.5, 0.5, 0.0],
            "duration_years": [0.5, 0.5, 0.5],
            "lost": [True, True, False],
        }
    )
    # only the third account is observed: censored at 0.5, S stays 1
    got = kaplan_meier(both)
    assert got["lost"].tolist() == [0, 0]
    assert got["censored"].tolist() == [0, 1]
    assert got["survival"].tolist() == [1.0, 1.0]


def test_kaplan_meier_ignoring_entry():
    got = kaplan_meier(delayed(), entry=None)
    # all observed from 0: t=2: 5 at risk -> 4/5; t=3: 4, none lost; t=4: b, c, d = 3
    # -> 4/5 x 2/3 = 8/15; t=5: 2; t=6: 1 -> 0
    assert got["at_risk"].tolist() == [5, 5, 4, 3, 2, 1]
    np.testing.assert_allclose(got["survival"], [1, 4 / 5, 4 / 5, 8 / 15, 8 / 15, 0.0])
    # a column that is not there counts as "all entered at 0" too
    pd.testing.assert_frame_equal(kaplan_meier(delayed(), entry="no_such_column"), got)


def test_kaplan_meier_by_group():
    first = km_lifetimes().assign(entry_years=0.0, segment="x")
    second = delayed().assign(segment="y")
    got = kaplan_meier(pd.concat([second, first], ignore_index=True), by="segment")
    assert got["group"].unique().tolist() == ["x", "y"]
    x = got[got["group"] == "x"].reset_index(drop=True)
    y = got[got["group"] == "y"].reset_index(drop=True)
    np.testing.assert_allclose(x["survival"], [1, 6 / 7, 4 / 7, 4 / 7, 2 / 7, 2 / 7])
    np.testing.assert_allclose(y["survival"], [1, 2 / 3, 2 / 3, 4 / 9, 4 / 9, 0.0])
    # x: S <= 0.5 first at 4; y: 4/9 at 4
    assert describe_survival(got) == "Median account lifetime — x: 4.0 years; y: 4.0 years."


def test_kaplan_meier_never_below_half():
    lifetimes = pd.DataFrame({"duration_years": [1.0, 2.0, 3.0], "lost": [True, False, False]})
    got = kaplan_meier(lifetimes)
    # S(1) = 2/3, then only censoring
    assert got["survival"].tolist()[-1] == pytest.approx(2 / 3)
    assert describe_survival(got) == (
        "Median account lifetime — all: over 3.0 years (67% still buying at the end)."
    )


def test_kaplan_meier_on_the_portfolio_lifetimes():
    tx = portfolio()
    status, events = loss_status(tx, as_of=AS_OF), loss_events(tx, as_of=AS_OF)
    got = kaplan_meier(account_lifetimes(status, events, as_of=AS_OF))
    # lifetimes: Y 0 (lost; a lifetime of 0 is never at risk), T 30 d (lost), P 60 d (lost),
    # L 355 d, A 711 d (censored). At T's 30 d: T, P, L, A at risk -> 3/4;
    # at P's 60 d: P, L, A -> 3/4 x 2/3 = 1/2
    np.testing.assert_allclose(got["time"], [0.0, 30 / YEAR, 60 / YEAR, 355 / YEAR, 711 / YEAR])
    assert got["at_risk"].tolist() == [4, 4, 3, 2, 1]
    np.testing.assert_allclose(got["survival"], [1.0, 0.75, 0.5, 0.5, 0.5])


def test_kaplan_meier_missing_column():
    with pytest.raises(
        ValueError, match=r"kaplan_meier needs the column 'lost'; found: duration_years, ended"
    ):
        kaplan_meier(pd.DataFrame({"duration_years": [1.0], "ended": [True]}))
    with pytest.raises(ValueError, match=r"kaplan_meier needs the column 'segment'"):
        kaplan_meier(km_lifetimes(), by="segment")


def test_kaplan_meier_end_before_entry():
    bad = delayed()
    bad.loc[4, "duration_years"] = 0.5  # e entered at 1 and ended at 0.5
    with pytest.raises(
        ValueError,
        match=r"kaplan_meier: 1 lifetime\(s\) missing or shorter than their entry time \(rows 4\)",
    ):
        kaplan_meier(bad)
    missing = km_lifetimes()
    missing.loc[[0, 2], "duration_years"] = np.nan
    with pytest.raises(ValueError, match=r"2 lifetime\(s\) missing .*\(rows 0, 2\)"):
        kaplan_meier(missing)


# ---------------------------------------------------------------------------------------
# win-back and returned accounts
# ---------------------------------------------------------------------------------------

# months since the loss at AS_OF: 2025-07-09 -> 175 d = 5.7495 months; 2025-02-28 -> 306 d
# = 10.0534 months; 2025-10-01 -> 91 d = 2.9897 months. Recency 0.5 ** (months / 12):
REC_175 = 0.7174131586373486
REC_306 = 0.5595029562594771
REC_91 = 0.8413952498235093


def test_win_back_list_priority_formula():
    got = win_back_list(all_reasons(), as_of=AS_OF)
    # R2 came back: not listed. Revenue lost R1 1000, R3 3000, R4 500, R5 800, R6 700 ->
    # value = share of the 4 others with less: R4 0, R6 1/4, R5 2/4, R1 3/4, R3 1
    # R1 price 1.0:  100 x 1.0 x (0.6 x 0.75 + 0.4 x REC_175) = 73.6965
    # R6 dissat 0.7: 100 x 0.7 x (0.6 x 0.25 + 0.4 x REC_91) = 34.0591
    # R5 unexpl 0.5: 100 x 0.5 x (0.6 x 0.5 + 0.4 x REC_175) = 29.3483
    # R4 dissat 0.7: 100 x 0.7 x (0.6 x 0 + 0.4 x REC_306) = 15.6661
    # R3 customer_closed 0: 0, last
    assert got["account_id"].tolist() == ["R1", "R6", "R5", "R4", "R3"]
    assert got["rank"].tolist() == [1, 2, 3, 4, 5]
    np.testing.assert_allclose(
        got["priority"],
        [
            100 * (0.6 * 0.75 + 0.4 * REC_175),
            70 * (0.6 * 0.25 + 0.4 * REC_91),
            50 * (0.6 * 0.5 + 0.4 * REC_175),
            70 * (0.4 * REC_306),
            0.0,
        ],
    )
    np.testing.assert_allclose(
        got["priority"].iloc[:4], [73.6965263, 34.0590, 29.3482632, 15.6660828], atol=1e-3
    )
    assert got["winnable"].tolist() == [1.0, 0.7, 0.5, 0.7, 0.0]
    np.testing.assert_allclose(
        got["months_since_loss"], [175 / MONTH, 91 / MONTH, 175 / MONTH, 306 / MONTH, 175 / MONTH]
    )
    approach = WIN_BACK_APPROACHES.set_index("reason")["approach"]
    assert got["approach"].tolist() == [
        approach["price"],
        approach["dissatisfaction"],
        approach["unexplained"],
        approach["dissatisfaction"],
        approach["customer_closed"],
    ]
    assert list(got.columns) == [
        "rank",
        "account_id",
        "last_purchase",
        "lost_on",
        "months_since_loss",
        "revenue_lost",
        "reason",
        "reason_source",
        "winnable",
        "priority",
        "approach",
    ]


def test_win_back_reason_missing_from_the_table_takes_other():
    table = pd.DataFrame(
        [("price", 1.0, "Offer"), ("other", 0.2, "Ask why"), ("customer_closed", 0.0, "Remove")],
        columns=["reason", "winnable", "approach"],
    )
    got = win_back_list(all_reasons(), as_of=AS_OF, approaches=table)
    # dissatisfaction and unexplained are not in the table: winnable 0.2 ("other")
    # R5: 20 x (0.3 + 0.4 x REC_175) = 11.739; R6: 20 x (0.15 + 0.4 x REC_91) = 9.731;
    # R4: 20 x 0.4 x REC_306 = 4.476
    assert got["account_id"].tolist() == ["R1", "R5", "R6", "R4", "R3"]
    np.testing.assert_allclose(got["priority"].iloc[1:4], [11.7393053, 9.7311620, 4.4760237])
    assert got["winnable"].tolist() == [1.0, 0.2, 0.2, 0.2, 0.0]
    assert got["approach"].tolist() == ["Offer", "Ask why", "Ask why", "Ask why", "Remove"]
    # the reason itself is kept as recorded
    assert got["reason"].tolist() == [
        "price",
        "unexplained",
        "dissatisfaction",
        "dissatisfaction",
        "customer_closed",
    ]


def test_win_back_value_weight_and_ties():
    got = win_back_list(all_reasons(), as_of=AS_OF, value_weight=1.0)
    # value only: R1 100 x 0.75 = 75; R5 50 x 0.5 = 25; R6 70 x 0.25 = 17.5;
    # R3 0 and R4 0 (value 0): tie broken by revenue lost, 3000 before 500
    assert got["account_id"].tolist() == ["R1", "R5", "R6", "R3", "R4"]
    np.testing.assert_allclose(got["priority"], [75.0, 25.0, 17.5, 0.0, 0.0])
    with pytest.raises(ValueError, match=r"value_weight must be between 0 and 1, got 1.5"):
        win_back_list(all_reasons(), as_of=AS_OF, value_weight=1.5)


def test_win_back_with_account_details_and_sentence():
    accounts = pd.DataFrame(
        {
            "account_id": ["R1", "R3", "R4", "R5", "R6"],
            "name": ["One AG", "Three SA", "Four", "Five", "Six"],
            "segment": ["big", "big", "small", "small", "small"],
            "country": ["DE"] * 5,
        }
    )
    got = win_back_list(all_reasons(), as_of=AS_OF, accounts=accounts)
    assert list(got.columns[:4]) == ["rank", "account_id", "name", "segment"]
    assert "country" not in got
    assert got["name"].tolist() == ["One AG", "Six", "Five", "Four", "Three SA"]
    # worth winning back: winnable > 0 -> R1, R6, R5, R4: 1000 + 700 + 800 + 500
    assert describe_win_back(got) == (
        "4 lost account(s) are worth winning back, 3,000 EUR a year before they left. "
        "First: **One AG (R1)**, lost for price: Special offer: a price review or a volume "
        "discount for the next six months."
    )
    assert describe_win_back(got.iloc[0:0]) == "No lost account to win back."


def test_win_back_bad_approach_tables():
    no_winnable = WIN_BACK_APPROACHES.drop(columns=["winnable"])
    with pytest.raises(
        ValueError,
        match=r"approaches needs the columns reason, winnable, approach; missing: winnable",
    ):
        win_back_list(all_reasons(), as_of=AS_OF, approaches=no_winnable)
    no_other = WIN_BACK_APPROACHES[WIN_BACK_APPROACHES["reason"] != "other"]
    with pytest.raises(
        ValueError, match=r"approaches needs a row 'other' for reasons it does not list"
    ):
        win_back_list(all_reasons(), as_of=AS_OF, approaches=no_other)


def test_win_back_approach_table_is_as_documented():
    winnable = WIN_BACK_APPROACHES.set_index("reason")["winnable"].to_dict()
    assert winnable == {
        "price": 1.0,
        "service": 0.9,
        "delivery": 0.8,
        "quality": 0.7,
        "dissatisfaction": 0.7,
        "relationship": 0.6,
        "unexplained": 0.5,
        "other": 0.5,
        "customer_closed": 0.0,
    }


def test_returned_accounts():
    tx = portfolio()
    events = loss_events(tx, as_of=AS_OF)
    inter = pd.DataFrame(
        {
            "interaction_id": ["I1", "I2", "I3"],
            "account_id": ["P", "P", "P"],
            "date": pd.to_datetime(["2025-11-20", "2025-10-01", "2025-06-01"]),
            "type": ["visit", "call", "visit"],
            "outcome": ["won back", None, "follow-up"],
            "reason": [None, None, None],
        }
    )
    props = pd.DataFrame(
        {
            "proposal_id": ["Q1"],
            "account_id": ["Y"],
            "date": pd.to_datetime(["2025-02-01"]),
            "kind": ["offer"],
            "value": [4000.0],
            "outcome": ["won"],
            "decided_date": pd.to_datetime(["2025-02-10"]),
            "reason": ["price"],
            "competitor": [None],
        }
    )
    got = returned_accounts(events, tx, as_of=AS_OF, interactions=inter, proposals=props)
    # newest return first: P 2025-12-01, Y 2025-03-01, P 2024-11-15, Y 2024-03-01
    assert got["account_id"].tolist() == ["P", "Y", "P", "Y"]
    assert dates(got["returned_on"]) == ["2025-12-01", "2025-03-01", "2024-11-15", "2024-03-01"]
    # away: 381, 365, 245, 366 days / 30.4375
    np.testing.assert_allclose(
        got["months_away"], [381 / MONTH, 365 / MONTH, 245 / MONTH, 366 / MONTH]
    )
    # revenue since the return, to AS_OF: P 500; Y 5000; P 2000 + 500; Y 5000 + 5000
    assert got["revenue_since_return"].tolist() == [500.0, 5000.0, 2500.0, 10000.0]
    assert got["revenue_lost"].tolist() == [4000.0, 5000.0, 2000.0, 5000.0]
    # 120 days before 2025-12-01 = from 2025-08-03: the call (no outcome) and the visit;
    # the visit of 06-01 is too early. Y: the offer of 2025-02-01 (from 2024-11-01).
    assert got["preceded_by"].tolist() == [
        "call, visit: won back",
        "offer: won",
        "nothing recorded",
        "nothing recorded",
    ]
    bare = returned_accounts(events, tx, as_of=AS_OF)
    assert (bare["preceded_by"] == "nothing recorded").all()


# ---------------------------------------------------------------------------------------
# sentences
# ---------------------------------------------------------------------------------------


def test_describe_loss_status():
    status = loss_status(portfolio(), as_of=AS_OF)
    # lost: T (2000) and Y (5000); came back: P and Y
    assert describe_loss_status(status) == (
        "With the rule *lost after 180 days without a purchase*, **2 of 5** accounts are lost, "
        "with 7,000 EUR of revenue in the 12 months before their loss; 2 account(s) lost "
        "earlier came back."
    )
    # decline: D1 lost (fall 6300); D2 recovered
    assert describe_loss_status(
        loss_status(decline_lines(), as_of=AS_OF, rule="decline"), rule="decline", currency="CHF"
    ) == (
        "With the rule *lost when its last 12 months' revenue falls below 50% of the 12 months "
        "before (partial defection)*, **1 of 3** accounts are lost, with 6,300 CHF of revenue in "
        "the 12 months before their loss; 1 account(s) lost earlier came back."
    )


# ---------------------------------------------------------------------------------------
# inputs are never modified
# ---------------------------------------------------------------------------------------


def test_no_function_modifies_its_inputs():
    tx = portfolio()
    inter, props, surv = interactions(), proposals(), surveys()
    copies = [f.copy(deep=True) for f in (tx, inter, props, surv)]
    events = loss_events(tx, as_of=AS_OF)
    status = loss_status(tx, as_of=AS_OF)
    ev_copy, st_copy = events.copy(deep=True), status.copy(deep=True)
    at_risk_accounts(status)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LossWarning)
        back_test(tx, as_of=AS_OF, settings=[90, 180])
    loss_dynamics(events, status, as_of=AS_OF, groups=pd.Series({"P": "big"}))
    reasons = loss_reasons(events, as_of=AS_OF, interactions=inter, proposals=props, surveys=surv)
    rs_copy = reasons.copy(deep=True)
    reason_pareto(reasons)
    reasons_over_time(reasons)
    lifetimes = account_lifetimes(status, events, as_of=AS_OF)
    lt_copy = lifetimes.copy(deep=True)
    kaplan_meier(lifetimes)
    table = WIN_BACK_APPROACHES.copy(deep=True)
    win_back_list(reasons, as_of=AS_OF)
    returned_accounts(events, tx, as_of=AS_OF, interactions=inter, proposals=props)
    for before, after in zip(copies, (tx, inter, props, surv), strict=True):
        pd.testing.assert_frame_equal(after, before)
    pd.testing.assert_frame_equal(events, ev_copy)
    pd.testing.assert_frame_equal(status, st_copy)
    pd.testing.assert_frame_equal(reasons, rs_copy)
    pd.testing.assert_frame_equal(lifetimes, lt_copy)
    pd.testing.assert_frame_equal(WIN_BACK_APPROACHES, table)


# ---------------------------------------------------------------------------------------
# the bundled sample
# ---------------------------------------------------------------------------------------


def test_sample_default_rule_finds_the_planted_losses():
    tx = kamlib.load_sample().transactions
    as_of = kamlib.resolve_as_of(tx)
    status = loss_status(tx, as_of=as_of)
    scenario = pd.read_csv(kamlib.sample_dir() / "scenario.csv")
    planted = set(scenario.loc[scenario["status"] == "lost", "account_id"])
    declared = set(status.loc[status["status"] == "lost", "account_id"])
    assert len(planted) == 28
    assert planted <= declared  # every planted loss is found (28 of 28)
    assert len(declared - planted) <= 8  # few false alarms (6 of 34 today)


# ---------------------------------------------------------------------------------------
# properties
# ---------------------------------------------------------------------------------------

BASE = pd.Timestamp("2022-01-01")  # + 1460 days = AS_OF


@st.composite
def invoice_lines(draw, min_size=1, max_size=40):
    """A few accounts, days over four years, amounts in cents (credit notes included)."""
    rows = draw(
        st.lists(
            st.tuples(
                st.sampled_from(["a", "b", "c", "d"]),
                st.integers(0, 1460),
                st.integers(-20_000, 200_000),
            ),
            min_size=min_size,
            max_size=max_size,
        )
    )
    # days whose lines net to 0.00 (an invoice in two lines and its credit note): no purchase
    for account, day, x, y in draw(
        st.lists(
            st.tuples(
                st.sampled_from(["a", "b", "c", "d"]),
                st.integers(0, 1460),
                st.integers(1, 10_000),
                st.integers(1, 10_000),
            ),
            max_size=4,
        )
    ):
        rows += [(account, day, x), (account, day, y), (account, day, -(x + y))]
    return pd.DataFrame(
        {
            "account_id": [r[0] for r in rows],
            "date": (BASE + pd.to_timedelta([r[1] for r in rows], unit="D")).astype(
                "datetime64[ns]"
            ),
            "amount": [r[2] / 100 for r in rows],
        }
    )


def lost_accounts(tx, rule) -> set:
    status = loss_status(tx, as_of=AS_OF, rule=rule)
    return set(status.loc[status["status"] == "lost", "account_id"])


@settings(max_examples=50, deadline=None)
@given(tx=invoice_lines(), d1=st.integers(1, 400), extra=st.integers(1, 400))
def test_longer_d_never_declares_more(tx, d1, extra):
    short, long_ = LossRule(days=d1), LossRule(days=d1 + extra)
    # at as_of: every account lost under the longer D is lost under the shorter one
    assert lost_accounts(tx, long_) <= lost_accounts(tx, short)
    # and over the history: each gap is judged on its own against D, so a longer D
    # declares no more events (per account, too)
    few = loss_events(tx, as_of=AS_OF, rule=long_)["account_id"].value_counts().to_dict()
    many = loss_events(tx, as_of=AS_OF, rule=short)["account_id"].value_counts().to_dict()
    assert all(n <= many.get(account, 0) for account, n in few.items())


@settings(max_examples=50, deadline=None)
@given(
    tx=invoice_lines(),
    k=st.floats(0.5, 5),
    more=st.floats(0.01, 5),
    q=st.sampled_from([0.5, 0.75, 0.9]),
)
def test_rhythm_larger_k_never_declares_more(tx, k, more, q):
    small = LossRule("rhythm", k=k, gap_quantile=q, min_orders=2, min_days=1)
    large = LossRule("rhythm", k=k + more, gap_quantile=q, min_orders=2, min_days=1)
    assert lost_accounts(tx, large) <= lost_accounts(tx, small)
    assert len(loss_events(tx, as_of=AS_OF, rule=large)) <= len(
        loss_events(tx, as_of=AS_OF, rule=small)
    )


@settings(max_examples=50, deadline=None)
@given(
    tx=invoice_lines(min_size=2),
    rule=st.sampled_from(
        [LossRule(days=90), LossRule("rhythm", min_orders=2), LossRule("decline")]
    ),
    seed=st.integers(0, 2**32 - 1),
)
def test_results_do_not_depend_on_row_order(tx, rule, seed):
    shuffled = tx.sample(frac=1, random_state=seed).reset_index(drop=True)
    pd.testing.assert_frame_equal(
        loss_events(shuffled, as_of=AS_OF, rule=rule), loss_events(tx, as_of=AS_OF, rule=rule)
    )
    pd.testing.assert_frame_equal(
        loss_status(shuffled, as_of=AS_OF, rule=rule), loss_status(tx, as_of=AS_OF, rule=rule)
    )


@settings(max_examples=50, deadline=None)
@given(
    tx=invoice_lines(),
    rule=st.sampled_from(
        [LossRule(days=90), LossRule("rhythm", min_orders=2), LossRule("decline")]
    ),
)
def test_events_are_consistent_and_inputs_untouched(tx, rule):
    before = tx.copy(deep=True)
    events = loss_events(tx, as_of=AS_OF, rule=rule)
    status = loss_status(tx, as_of=AS_OF, rule=rule)
    pd.testing.assert_frame_equal(tx, before)
    # declared after the last purchase, by as_of; a return comes after the declaration
    assert (events["lost_on"] <= AS_OF).all()
    assert (events["last_purchase"] <= events["lost_on"]).all()
    back = events["returned_on"].notna()
    assert (events.loc[back, "returned_on"] > events.loc[back, "lost_on"]).all()
    assert (events["still_lost"] == ~back).all()
    # at most one open loss per account, and the status agrees with it
    open_ = events.loc[events["still_lost"], "account_id"]
    assert open_.is_unique
    assert set(status.loc[status["status"] == "lost", "account_id"]) == set(open_)
    if rule.kind != "decline":
        assert (events["lost_on"] - events["last_purchase"]).dt.days.tolist() == events[
            "threshold_days"
        ].tolist()


@st.composite
def lifetimes(draw):
    n = draw(st.integers(1, 25))
    entry = draw(st.lists(st.sampled_from([0.0, 0.0, 0.5, 1.0, 2.5]), min_size=n, max_size=n))
    extra = draw(
        st.lists(st.sampled_from([0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 4.25]), min_size=n, max_size=n)
    )
    lost = draw(st.lists(st.booleans(), min_size=n, max_size=n))
    return pd.DataFrame(
        {
            "entry_years": entry,
            "duration_years": [e + x for e, x in zip(entry, extra, strict=True)],
            "lost": lost,
        }
    )


@settings(max_examples=50, deadline=None)
@given(frame=lifetimes(), use_entry=st.booleans())
def test_kaplan_meier_survival_is_a_falling_share(frame, use_entry):
    before = frame.copy(deep=True)
    curve = kaplan_meier(frame, entry="entry_years" if use_entry else None)
    pd.testing.assert_frame_equal(frame, before)
    s = curve["survival"].to_numpy()
    assert ((s >= 0) & (s <= 1)).all()
    assert (np.diff(s) <= 1e-12).all()
    assert (curve["lower"] <= curve["survival"] + 1e-12).all()
    assert (curve["upper"] >= curve["survival"] - 1e-12).all()
    assert ((curve["lower"] >= 0) & (curve["upper"] <= 1)).all()
    assert (curve["time"].diff().dropna() > 0).all()
    # every lifetime observed for a while shows up once, as a loss or a censoring
    start = frame["entry_years"] if use_entry else 0.0
    observed = frame[frame["duration_years"] > start]
    assert curve["lost"].sum() == observed["lost"].sum()
    assert curve["censored"].sum() == (~observed["lost"]).sum()


def test_not_lost_in_an_outcome_is_not_a_recorded_loss():
    # P's loss: last purchase 2024-03-14, declared 2024-09-10; both interactions are in the
    # window. "not lost" is an ordinary interaction with a reason (priority 2), so the later
    # "account lost" one (priority 1) wins, even though it is older.
    tx = lines([("P", "2024-01-15", 100), ("P", "2024-03-14", 100)])
    as_of = pd.Timestamp("2024-12-31")
    events = loss_events(tx, as_of=as_of)
    interactions = pd.DataFrame(
        {
            "interaction_id": ["I1", "I2"],
            "account_id": ["P", "P"],
            "date": pd.to_datetime(["2024-05-01", "2024-06-01"]),
            "type": ["call", "visit"],
            "outcome": ["account lost", "not lost yet"],
            "reason": ["price", "service"],
        }
    )
    got = loss_reasons(events, as_of=as_of, interactions=interactions)
    assert got[["reason", "reason_source"]].values.tolist() == [
        ["price", "interactions: loss recorded"]
    ]


def test_at_risk_min_orders_must_be_whole():
    status = loss_status(lines([("P", "2024-01-15", 100)]), as_of=pd.Timestamp("2024-12-31"))
    with pytest.raises(ValueError, match=r"min_orders must be a whole number ≥ 2, got 1"):
        at_risk_accounts(status, min_orders=1)


def test_kaplan_meier_needs_every_event_flag():
    lifetimes = pd.DataFrame({"duration_years": [1.0, 2.0], "lost": [True, None]})
    with pytest.raises(ValueError, match=r"column 'lost' is empty in 1 row\(s\) \(rows 1\)"):
        kaplan_meier(lifetimes)
