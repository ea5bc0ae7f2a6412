"""Key-account identification on small hand-made data.

Every expected number is worked out by hand in the comment next to it. The window is
12 months ending at AS_OF = 2025-12-31: a line counts when 2024-12-31 < date <= 2025-12-31,
i.e. the calendar year 2025; the previous window is the calendar year 2024.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import kamlib
from kamlib.account_types import KEY_ACCOUNT_TYPES, assign_types
from kamlib.features import FLAGS, account_features
from kamlib.identification import (
    CRITERIA,
    DEFAULT_WEIGHTS,
    IdentificationWarning,
    criteria_table,
    criterion_dependence,
    criterion_scores,
    describe_selection,
    rank_score,
    score_accounts,
    select_key_accounts,
    selection_stability,
)
from kamlib.portfolio import portfolio_matrix
from kamlib.qualification import three_p

AS_OF = pd.Timestamp("2025-12-31")
NA = pd.NA


def frame(rows, columns, dates=()) -> pd.DataFrame:
    df = pd.DataFrame(list(rows), columns=list(columns))
    for col in dates:
        df[col] = pd.to_datetime(df[col]).astype("datetime64[ns]")
    return df


def only(**weights) -> dict[str, float]:
    """Weights with every criterion switched off except the ones given."""
    return {c: 0 for c in DEFAULT_WEIGHTS} | weights


# ---------------------------------------------------------------------------- account_features

TX_COLUMNS = ("account_id", "date", "amount", "margin", "quantity", "product_id")


def feature_transactions() -> pd.DataFrame:
    df = frame(
        [
            # A: previous window 400 (on 2024-12-31, the day the window starts after: out)
            ("A", "2024-12-31", 400, 100, 40, "P2"),
            ("A", "2025-01-15", 600, 120, 60, "P1"),
            ("A", "2025-03-10", 300, 50, 30, "P2"),  # slow-moving product
            ("A", "2025-12-31", 100, 30, 10, "P3"),  # on as_of: in
            ("A", "2026-01-05", 999, 999, 99, "P2"),  # after as_of: nowhere
            # B: previous window 200; February nets 400, July nets 0
            ("B", "2024-06-15", 200, 40, 20, "P1"),
            ("B", "2025-02-15", 500, 100, 50, "P1"),
            ("B", "2025-02-20", -100, -20, -10, "P1"),
            ("B", "2025-07-01", 100, 30, 10, "P2"),
            ("B", "2025-07-20", -100, -10, -10, "P2"),
            # C: bought two windows back, nothing in the previous window: a new buyer
            ("C", "2023-05-01", 50, 10, 5, "P3"),
            ("C", "2025-11-30", 600, 300, 30, "P3"),
            # D: only in the previous window: no row
            ("D", "2024-12-31", 300, 60, 30, "P1"),
        ],
        TX_COLUMNS,
        dates=["date"],
    )
    for col in ("amount", "margin", "quantity"):
        df[col] = df[col].astype(float)
    return df


def feature_accounts() -> pd.DataFrame:
    df = pd.DataFrame(
        {
            "account_id": ["A", "B", "C", "D"],
            "name": ["Alpha", "Beta", "Gamma", "Delta"],
            "segment": ["industry", "trade", "industry", "trade"],
            "account_manager": ["Ann", "Bob", "Ann", "Bob"],
            # A: recorded first order wins over its first line; B: none recorded;
            # C: recorded date after as_of is not believed (first line instead)
            "first_order_date": pd.to_datetime(["2021-12-31", None, "2026-02-01", "2020-01-01"]),
            "annual_sales": [5e6, 2e6, 9e6, 1e6],
            "headcount": pd.array([50, 20, 90, 10], dtype="Int64"),
            "is_distributor": pd.array([False, True, NA, False], dtype="boolean"),
            "is_prestige": pd.array([True, False, NA, False], dtype="boolean"),
            "is_multinational": pd.array([False, False, True, False], dtype="boolean"),
            # no is_test_partner column
        }
    )
    df["first_order_date"] = df["first_order_date"].astype("datetime64[ns]")
    return df


def feature_products() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "product_id": ["P1", "P2", "P3"],
            "is_slow_moving": pd.array([False, True, NA], dtype="boolean"),  # P3 unknown: not slow
        }
    )


def feature_invoices() -> pd.DataFrame:
    return frame(
        [
            ("I0", "A", "2024-12-31", "2025-03-01", "transfer"),  # due before the window: out
            ("I1", "A", "2025-03-31", "2025-03-20", "transfer"),  # on time, 0 days late
            ("I2", "A", "2025-06-30", "2025-07-10", "transfer"),  # 10 days late
            # paid after as_of: still open at as_of, late by 2025-12-31 - 2025-12-01 = 30 days
            ("I3", "A", "2025-12-01", "2026-01-15", "transfer"),
            ("I4", "B", "2025-05-31", "2025-05-31", "cash"),  # paid on the due date: on time
            ("I5", "B", "2025-08-31", "2025-08-01", "Cash"),  # on time, cash (any case)
            # never paid: late by Oct 31 + Nov 30 + Dec 31 = 92 days
            ("I6", "B", "2025-09-30", None, "transfer"),
            ("I7", "A", "2026-01-10", None, "transfer"),  # due after as_of: out
            ("I8", "D", "2025-04-30", "2025-04-30", "cash"),  # D has no row
        ],
        ("invoice_id", "account_id", "due_date", "paid_date", "payment_method"),
        dates=["due_date", "paid_date"],
    )


def feature_interactions() -> pd.DataFrame:
    return frame(
        [
            ("A", "2025-02-01", "complaint"),
            ("A", "2025-04-01", "service"),
            ("A", "2025-05-01", "visit"),  # neither
            ("A", "2024-12-31", "complaint"),  # before the window
            ("A", "2026-01-02", "complaint"),  # after as_of
            ("B", "2025-06-01", "service"),
            ("B", "2025-06-02", "service"),
            ("D", "2025-06-01", "complaint"),  # D has no row
        ],
        ("account_id", "date", "type"),
        dates=["date"],
    )


def full_features(**kwargs):
    return account_features(
        feature_transactions(),
        as_of=AS_OF,
        accounts=feature_accounts(),
        products=feature_products(),
        invoices=feature_invoices(),
        interactions=feature_interactions(),
        **kwargs,
    )


def test_features_money_and_shares_by_hand():
    got = full_features()
    table = got.table.set_index("account_id")
    assert got.as_of == AS_OF
    assert got.months == 12
    assert table.index.tolist() == ["A", "B", "C"]  # D bought only in 2024: no row
    # A: 600 + 300 + 100 (2024-12-31 and 2026-01-05 are out); B: 500 - 100 + 100 - 100; C: 600
    assert table["revenue"].tolist() == [1000.0, 400.0, 600.0]
    # total 2000
    assert table["revenue_share"].tolist() == pytest.approx([0.5, 0.2, 0.3])
    # A: 120 + 50 + 30; B: 100 - 20 + 30 - 10; C: 300
    assert table["margin"].tolist() == [200.0, 100.0, 300.0]
    # 200/1000, 100/400, 300/600
    assert table["margin_pct"].tolist() == pytest.approx([0.2, 0.25, 0.5])
    # margin total 600
    assert table["profit_share"].tolist() == pytest.approx([200 / 600, 100 / 600, 300 / 600])
    # A: 60 + 30 + 10; B: 50 - 10 + 10 - 10; C: 30
    assert table["quantity"].tolist() == [100.0, 40.0, 30.0]
    # A: P1, P2, P3; B: P1, P2 (credit-note lines name a product too); C: P3
    assert table["products"].tolist() == [3, 2, 1]


def test_features_growth_and_new_buyer_by_hand():
    table = full_features().table.set_index("account_id")
    # A: 2024-12-31 is the last day of the previous window → 400; B: 200; C: 2023 is too early
    assert table["revenue_previous"].tolist() == [400.0, 200.0, 0.0]
    # A: 1000 / 400 - 1 = 1.5; B: 400 / 200 - 1 = 1.0; C: no previous revenue → NaN
    assert table.loc["A", "growth"] == pytest.approx(1.5)
    assert table.loc["B", "growth"] == pytest.approx(1.0)
    assert np.isnan(table.loc["C", "growth"])
    assert table["is_new_buyer"].tolist() == [False, False, True]


def test_features_loyalty_and_tenure_by_hand():
    table = full_features().table.set_index("account_id")
    # A: January, March, December; B: February only (July nets 0); C: November
    assert table["purchase_months"].tolist() == [3, 1, 1]
    assert table["purchase_months_share"].tolist() == pytest.approx([3 / 12, 1 / 12, 1 / 12])
    # A: recorded 2021-12-31; B: first line 2024-06-15; C: recorded date is after as_of,
    # so its first line 2023-05-01
    assert table["first_order"].tolist() == [
        pd.Timestamp("2021-12-31"),
        pd.Timestamp("2024-06-15"),
        pd.Timestamp("2023-05-01"),
    ]
    # A: 2021-12-31 → 2025-12-31 = 3·365 + 366 = 1461 days = 4 years of 365.25
    # B: 2024-06-15 → 2025-06-15 = 365, → 2025-12-31 = 15+31+31+30+31+30+31 = 199 → 564
    # C: 2023-05-01 → 2024-05-01 = 366, → 2025-05-01 = 365, → 2025-12-31 = 244 → 975
    assert table["tenure_years"].tolist() == pytest.approx([4.0, 564 / 365.25, 975 / 365.25])


def test_features_tenure_from_first_line_without_accounts():
    table = account_features(feature_transactions(), as_of=AS_OF).table.set_index("account_id")
    # A's first line is 2024-12-31: 365 days before as_of
    assert table.loc["A", "first_order"] == pd.Timestamp("2024-12-31")
    assert table.loc["A", "tenure_years"] == pytest.approx(365 / 365.25)


def test_features_slow_moving_by_hand():
    table = full_features().table.set_index("account_id")
    # A: P2 in the window 300 (the 400 of 2024 and the 999 of 2026 are out); B: 100 - 100;
    # C: P3 is of unknown status, not slow
    assert table["slow_moving_revenue"].tolist() == [300.0, 0.0, 0.0]
    # 300 / 1000, 0 / 400, 0 / 600
    assert table["slow_moving_share"].tolist() == pytest.approx([0.3, 0.0, 0.0])


def test_features_payment_habits_by_hand():
    table = full_features().table.set_index("account_id")
    # A: I1, I2, I3 (I0 due before the window, I7 after it); B: I4, I5, I6; C: none
    assert table["invoices_due"].tolist() == [3, 3, 0]
    # A: only I1 on time; I3 was paid after as_of, so at as_of it was open
    assert table.loc["A", "on_time_share"] == pytest.approx(1 / 3)
    assert table.loc["B", "on_time_share"] == pytest.approx(2 / 3)  # I4 (on the due day), I5
    # A: (0 + 10 + 30) / 3; B: (0 + 0 + 92) / 3
    assert table.loc["A", "avg_days_late"] == pytest.approx(40 / 3)
    assert table.loc["B", "avg_days_late"] == pytest.approx(92 / 3)
    # A: no cash; B: I4 and I5 of 3 in cash → 2/3 ≥ 0.5
    assert table.loc["A", "cash_share"] == pytest.approx(0.0)
    assert table.loc["B", "cash_share"] == pytest.approx(2 / 3)
    assert bool(table.loc["A", "cash_payer"]) is False
    assert bool(table.loc["B", "cash_payer"]) is True
    # C had no invoice due: no record
    assert table.loc["C", ["on_time_share", "avg_days_late", "cash_share"]].isna().all()


def test_features_cash_share_setting():
    table = full_features(cash_share=0.7).table.set_index("account_id")
    assert bool(table.loc["B", "cash_payer"]) is False  # 2/3 < 0.7
    table = full_features(cash_share=2 / 3).table.set_index("account_id")
    assert bool(table.loc["B", "cash_payer"]) is True  # 2/3 ≥ 2/3


def test_features_complaints_and_service_by_hand():
    table = full_features().table.set_index("account_id")
    # A: the complaint of 2025-02-01 (not those of 2024-12-31 and 2026-01-02); B: none; C: none
    assert table["complaints"].tolist() == [1, 0, 0]
    # A: 2025-04-01; B: two in June
    assert table["service_events"].tolist() == [1, 2, 0]


def test_features_flags_and_master_data():
    got = full_features()
    table = got.table.set_index("account_id")
    assert got.table.columns[:4].tolist() == ["account_id", "name", "segment", "account_manager"]
    assert table["name"].tolist() == ["Alpha", "Beta", "Gamma"]
    assert table["account_manager"].tolist() == ["Ann", "Bob", "Ann"]
    assert table["annual_sales"].tolist() == [5e6, 2e6, 9e6]
    # unknown (<NA>) flags are False
    assert table["is_prestige"].tolist() == [True, False, False]
    assert table["is_distributor"].tolist() == [False, True, False]
    assert table["is_multinational"].tolist() == [False, False, True]
    assert "is_test_partner" not in table
    left_out = got.left_out.set_index("feature")["reason"]
    assert left_out.index.tolist() == ["is_test_partner"]
    assert "no `is_test_partner` column" in left_out["is_test_partner"]
    assert got.has("is_prestige") and not got.has("is_test_partner")


def test_features_window_uses_whole_days():
    tx = frame(
        [
            ("on", "2025-12-31 15:00", 10.0),  # on as_of, in the afternoon: in
            ("start", "2024-12-31 15:00", 20.0),  # on the day the window starts after: out
            ("first", "2025-01-01 00:00", 30.0),  # first day of the window: in
        ],
        ("account_id", "date", "amount"),
        dates=["date"],
    )
    table = account_features(tx, as_of=AS_OF).table.set_index("account_id")
    assert table.index.tolist() == ["first", "on"]
    assert table["revenue"].tolist() == [30.0, 10.0]


def test_features_six_month_window():
    table = full_features(months=6).table.set_index("account_id")
    # window 2025-06-30 < date <= 2025-12-31: A 100 (Dec 31); B 100 - 100 (July); C 600 (Nov 30)
    assert table["revenue"].tolist() == [100.0, 0.0, 600.0]
    assert table["revenue_share"].tolist() == pytest.approx([100 / 700, 0.0, 600 / 700])
    # B: February's 500 - 100 = 400 is in the window before; B now makes 0 → -100 %
    assert table.loc["B", "revenue_previous"] == 400.0
    assert table.loc["B", "growth"] == pytest.approx(-1.0)
    assert table["is_new_buyer"].tolist() == [False, False, True]
    # months of the window: 6; A bought in December, B nets 0 in July, C in November
    assert table["purchase_months"].tolist() == [1, 0, 1]
    assert table["purchase_months_share"].tolist() == pytest.approx([1 / 6, 0.0, 1 / 6])
    assert np.isnan(table.loc["B", "margin_pct"])  # no revenue, no margin rate
    # invoices due after 2025-06-30: A I3 (30 days late at as_of), B I5 (on time), I6 (92)
    assert table["invoices_due"].tolist() == [1, 2, 0]
    assert table.loc["B", "avg_days_late"] == pytest.approx(92 / 2)
    assert table.loc["B", "on_time_share"] == pytest.approx(0.5)
    # interactions after 2025-06-30: none of A's, none of B's (June)
    assert table["complaints"].tolist() == [0, 0, 0]
    assert table["service_events"].tolist() == [0, 0, 0]


def test_features_with_transactions_only():
    tx = feature_transactions()[["account_id", "date", "amount"]]
    got = account_features(tx, as_of=AS_OF)
    assert got.table.columns.tolist() == [
        "account_id",
        "revenue",
        "revenue_share",
        "revenue_previous",
        "growth",
        "is_new_buyer",
        "purchase_months",
        "purchase_months_share",
        "first_order",
        "tenure_years",
    ]
    assert got.table["revenue"].tolist() == [1000.0, 400.0, 600.0]
    reasons = got.left_out.set_index("feature")["reason"]
    assert set(reasons.index) == {
        "margin",
        "quantity",
        "products",
        "slow_moving_share",
        "payment habits",
        "complaints",
        "flags",
    }
    assert "`margin`" in reasons["margin"]
    assert "`quantity`" in reasons["quantity"]
    assert "`product_id`" in reasons["products"]
    assert "`product_id`" in reasons["slow_moving_share"]
    assert "no `invoices` table" in reasons["payment habits"]
    assert "no `interactions` table" in reasons["complaints"]
    assert "no `accounts` table" in reasons["flags"]


def test_features_left_out_for_missing_columns():
    got = account_features(
        feature_transactions(),
        as_of=AS_OF,
        products=feature_products().drop(columns="is_slow_moving"),
        invoices=feature_invoices().drop(columns="payment_method"),
    )
    reasons = got.left_out.set_index("feature")["reason"]
    assert "no `products.is_slow_moving` column" in reasons["slow_moving_share"]
    assert "no `payment_method` column" in reasons["cash_payer"]
    assert "on_time_share" in got.table and "cash_share" not in got.table


def test_features_missing_required_column():
    with pytest.raises(ValueError, match=r"account features needs the column\(s\) amount"):
        account_features(feature_transactions().drop(columns="amount"), as_of=AS_OF)


def test_features_leave_the_inputs_alone():
    inputs = {
        "transactions": feature_transactions(),
        "accounts": feature_accounts(),
        "products": feature_products(),
        "invoices": feature_invoices(),
        "interactions": feature_interactions(),
    }
    copies = {k: v.copy(deep=True) for k, v in inputs.items()}
    account_features(
        inputs["transactions"],
        as_of=AS_OF,
        accounts=inputs["accounts"],
        products=inputs["products"],
        invoices=inputs["invoices"],
        interactions=inputs["interactions"],
    )
    for name, original in copies.items():
        pd.testing.assert_frame_equal(inputs[name], original, obj=name)


# ---------------------------------------------------------------------------- rank_score


def test_rank_score_by_hand():
    values = pd.Series([10.0, 30.0, 30.0, 5.0, np.nan], index=list("abcde"))
    got = rank_score(values)
    # four known values; each is compared with the 3 others:
    # 10 beats 5 → 1/3; 30 beats 10 and 5 (not the other 30) → 2/3; 5 beats none → 0;
    # NaN → 0 and is beaten by nobody's count
    expected = pd.Series([1 / 3, 2 / 3, 2 / 3, 0.0, 0.0], index=list("abcde"))
    pd.testing.assert_series_equal(got, expected, check_names=False)


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([7.0], [1.0]),  # a single account scores 1
        ([7.0, np.nan], [1.0, 0.0]),  # one known value
        ([np.nan, np.nan], [0.0, 0.0]),  # nothing known
        ([3.0, 1.0, 2.0], [1.0, 0.0, 0.5]),  # largest 1, smallest 0
        ([4.0, 4.0], [0.0, 0.0]),  # equals beat nobody
        ([np.inf, 2.0, 1.0], [1.0, 0.5, 0.0]),  # inf (a new buyer's growth) ranks highest
    ],
)
def test_rank_score_small_cases(values, expected):
    got = rank_score(pd.Series(values, index=[f"k{i}" for i in range(len(values))]))
    assert got.tolist() == pytest.approx(expected)
    assert got.index.tolist() == [f"k{i}" for i in range(len(values))]


# ---------------------------------------------------------------------------- scores


def three_accounts() -> pd.DataFrame:
    """A features table with every criterion's column, built by hand.

    Rank scores with three accounts are 0, 1/2 or 1 (ties share the lower one).
    """
    return pd.DataFrame(
        {
            "account_id": ["x", "y", "z"],
            "name": ["Xylo", "Yoke", "Zinc"],
            "revenue": [500.0, 300.0, 200.0],  # x 1, y 1/2, z 0
            "revenue_share": [0.5, 0.3, 0.2],
            "margin": [100.0, 120.0, 40.0],  # y 1, x 1/2, z 0
            "on_time_share": [0.9, np.nan, 0.8],  # known x, z: x 1, z 0; y no record → 0
            "quantity": [50.0, 80.0, 10.0],  # y 1, x 1/2, z 0
            "growth": [0.1, np.nan, -0.2],  # y new buyer → highest 1, x 1/2, z 0
            "is_new_buyer": [False, True, False],
            "purchase_months_share": [1.0, 0.5, 1.0],  # x, z tie: each beats y → 1/2; y 0
            "is_distributor": [False, True, False],  # y 1
            "is_prestige": [True, False, False],  # x 1
            "is_multinational": [False, True, False],  # y 1
            "slow_moving_revenue": [0.0, 20.0, 20.0],  # y, z tie → 1/2; x 0
            "is_test_partner": [False, True, False],  # y 1
            "tenure_years": [10.0, 1.0, 5.0],  # x 1, z 1/2, y 0
        }
    )


# points with the default weights (they add up to 100, so points = weight × criterion score)
DEFAULT_POINTS = {
    # revenue 25·1, margin 20·½, payment 10·1, quantity 10·½, growth 8·½, loyalty 8·½,
    # prestige 4·1, tenure 2·1 → 25 + 10 + 10 + 5 + 4 + 4 + 4 + 2 = 64
    "x": {
        "revenue": 25.0,
        "margin": 10.0,
        "payment": 10.0,
        "quantity": 5.0,
        "growth": 4.0,
        "loyalty": 4.0,
        "distributor": 0.0,
        "prestige": 4.0,
        "multinational": 0.0,
        "slow_stock": 0.0,
        "test_partner": 0.0,
        "tenure": 2.0,
    },
    # revenue 25·½, margin 20·1, quantity 10·1, growth 8·1, distributor 5, multinational 3,
    # slow_stock 3·½, test_partner 2 → 12.5 + 20 + 10 + 8 + 5 + 3 + 1.5 + 2 = 62
    "y": {
        "revenue": 12.5,
        "margin": 20.0,
        "payment": 0.0,
        "quantity": 10.0,
        "growth": 8.0,
        "loyalty": 0.0,
        "distributor": 5.0,
        "prestige": 0.0,
        "multinational": 3.0,
        "slow_stock": 1.5,
        "test_partner": 2.0,
        "tenure": 0.0,
    },
    # loyalty 8·½, slow_stock 3·½, tenure 2·½ → 4 + 1.5 + 1 = 6.5
    "z": {
        "revenue": 0.0,
        "margin": 0.0,
        "payment": 0.0,
        "quantity": 0.0,
        "growth": 0.0,
        "loyalty": 4.0,
        "distributor": 0.0,
        "prestige": 0.0,
        "multinational": 0.0,
        "slow_stock": 1.5,
        "test_partner": 0.0,
        "tenure": 1.0,
    },
}


def test_criterion_scores_by_hand():
    got = criterion_scores(three_accounts())
    assert got.columns.tolist() == CRITERIA["criterion"].tolist()
    assert got.index.tolist() == ["x", "y", "z"]
    weights = DEFAULT_WEIGHTS
    for account, points in DEFAULT_POINTS.items():
        for criterion, value in points.items():
            assert got.loc[account, criterion] == pytest.approx(value / weights[criterion]), (
                account,
                criterion,
            )


def test_score_accounts_default_weights_by_hand():
    got = score_accounts(three_accounts())
    assert got["account_id"].tolist() == ["x", "y", "z"]  # 64 > 62 > 6.5
    assert got["score"].tolist() == pytest.approx([64.0, 62.0, 6.5])
    assert got["rank"].tolist() == [1, 2, 3]
    assert got["name"].tolist() == ["Xylo", "Yoke", "Zinc"]
    assert got["revenue"].tolist() == [500.0, 300.0, 200.0]
    assert got["revenue_share"].tolist() == [0.5, 0.3, 0.2]
    # the largest contribution: x revenue 25, y margin 20, z loyalty 4
    assert got["main_criterion"].tolist() == ["revenue", "margin", "loyalty"]
    points = got.set_index("account_id")
    for account, expected in DEFAULT_POINTS.items():
        for criterion, value in expected.items():
            assert points.loc[account, f"{criterion}_points"] == pytest.approx(value)
    assert got.columns[:7].tolist() == [
        "account_id",
        "name",
        "revenue",
        "revenue_share",
        "score",
        "rank",
        "main_criterion",
    ]


def test_score_accounts_custom_weights_by_hand():
    # revenue off, margin 45: the weights still add up to 100 (100 - 25 - 20 + 45)
    got = score_accounts(three_accounts(), weights={"revenue": 0, "margin": 45})
    # y: margin 45·1 + quantity 10 + growth 8 + distributor 5 + multinational 3 + slow 1.5
    #    + test partner 2 = 74.5
    # x: margin 45·½ + payment 10 + quantity 5 + growth 4 + loyalty 4 + prestige 4 + tenure 2 = 51.5
    # z: loyalty 4 + slow 1.5 + tenure 1 = 6.5
    assert got["account_id"].tolist() == ["y", "x", "z"]
    assert got["score"].tolist() == pytest.approx([74.5, 51.5, 6.5])
    assert "revenue_points" not in got  # switched off: no points column
    assert got["margin_points"].tolist() == pytest.approx([45.0, 22.5, 0.0])
    assert got["main_criterion"].tolist() == ["margin", "margin", "loyalty"]


def test_score_accounts_weights_not_adding_to_100():
    # payment 40: total 130; x has 25 + 10 + 40 + 5 + 4 + 4 + 4 + 2 = 94 weighted points
    got = score_accounts(three_accounts(), weights={"payment": 40}).set_index("account_id")
    assert got.loc["x", "score"] == pytest.approx(100 * 94 / 130)
    assert got.loc["x", "payment_points"] == pytest.approx(100 * 40 / 130)
    # y: 62 of the defaults, payment 0 → 100 · 62 / 130
    assert got.loc["y", "score"] == pytest.approx(100 * 62 / 130)


def test_score_accounts_only_relative_weights_matter():
    doubled = {c: 2 * w for c, w in DEFAULT_WEIGHTS.items()}
    pd.testing.assert_frame_equal(
        score_accounts(three_accounts(), weights=doubled), score_accounts(three_accounts())
    )


def test_points_add_up_to_the_score():
    got = score_accounts(three_accounts(), weights={"growth": 30, "tenure": 7})
    points = got[[c for c in got.columns if c.endswith("_points")]]
    assert len(points.columns) == len(CRITERIA)  # every criterion has a weight above 0
    np.testing.assert_allclose(points.sum(axis=1), got["score"])


def test_score_ties_are_ordered_by_account_id():
    features = pd.DataFrame(
        {
            "account_id": ["a", "b", "c"],
            "revenue": [10.0, 10.0, 5.0],
            "revenue_share": [0.4, 0.4, 0.2],
        }
    )
    got = score_accounts(features, weights=only(revenue=1))
    # a and b each beat c only → 1/2 → 50 points; c 0
    assert got["account_id"].tolist() == ["a", "b", "c"]
    assert got["score"].tolist() == [50.0, 50.0, 0.0]
    assert got["rank"].tolist() == [1, 2, 3]


def test_score_ties_are_ordered_by_account_id_whatever_the_row_order():
    features = pd.DataFrame(
        {
            "account_id": ["c", "b", "a"],
            "revenue": [5.0, 10.0, 10.0],
            "revenue_share": [0.2, 0.4, 0.4],
        }
    )
    got = score_accounts(features, weights=only(revenue=1))
    # the docstring: best first, ties by account_id → a (50), b (50), c (0)
    assert got["account_id"].tolist() == ["a", "b", "c"]


def test_unknown_criterion_names_it_and_lists_the_criteria():
    with pytest.raises(ValueError, match=r"unknown criteria in weights: 'revnue'") as excinfo:
        score_accounts(three_accounts(), weights={"revnue": 30})
    message = str(excinfo.value)
    assert "the criteria are revenue, margin, payment, quantity, growth" in message
    assert "tenure" in message


@pytest.mark.parametrize("bad", [-5, float("nan"), float("inf"), "10", True, None])
def test_weights_must_be_numbers_of_zero_or_more(bad):
    with pytest.raises(ValueError, match=r"weights must be numbers of 0 or more") as excinfo:
        score_accounts(three_accounts(), weights={"payment": bad})
    assert "give 0 to switch a criterion off" in str(excinfo.value)


def test_weights_must_be_a_dict():
    with pytest.raises(ValueError, match=r"weights must be a dict"):
        score_accounts(three_accounts(), weights=[("payment", 10)])


def test_all_weights_zero():
    with pytest.raises(ValueError, match=r"at least one criterion needs a weight above 0"):
        score_accounts(three_accounts(), weights=only())


def test_missing_feature_with_weight_warns_and_is_left_out():
    features = three_accounts().drop(columns=["on_time_share", "is_test_partner"])
    with pytest.warns(IdentificationWarning, match=r"payment, test_partner") as record:
        got = score_accounts(features)
    assert record[0].filename == __file__  # points at the caller
    assert "payment_points" not in got and "test_partner_points" not in got
    # the other criteria share the weight: 100 - 10 - 2 = 88; x: 64 - 10 = 54 → 100·54/88
    assert got.set_index("account_id").loc["x", "score"] == pytest.approx(100 * 54 / 88)


def test_missing_feature_without_weight_does_not_warn():
    features = three_accounts().drop(columns=["on_time_share"])
    with warnings.catch_warnings():
        warnings.simplefilter("error", IdentificationWarning)
        got = score_accounts(features, weights={"payment": 0})
    assert "payment_points" not in got


def test_only_missing_criteria_have_weight():
    features = three_accounts()[["account_id", "revenue", "revenue_share"]]
    with (
        pytest.warns(IdentificationWarning, match="payment"),
        pytest.raises(ValueError, match=r"lacks its feature.*give weight to one of: revenue"),
    ):
        score_accounts(features, weights=only(payment=10))


def test_criteria_table():
    features = three_accounts().drop(columns=["on_time_share"])
    table = criteria_table(features, weights={"revenue": 35}).set_index("criterion")
    assert table.loc["revenue", "weight"] == 35
    assert table.loc["margin", "weight"] == 20  # default kept
    assert not table.loc["payment", "used"]
    assert table.loc["revenue", "used"]
    # usable weight: 100 + 10 (revenue 35 instead of 25) - 10 (payment unusable) = 100
    assert table.loc["revenue", "share_of_weight"] == pytest.approx(0.35)
    assert table.loc["payment", "share_of_weight"] == 0.0
    assert table["share_of_weight"].sum() == pytest.approx(1.0)
    assert table.loc["payment", "feature"] == "on_time_share"


def test_default_weights_add_up_to_100():
    assert sum(DEFAULT_WEIGHTS.values()) == 100
    assert set(DEFAULT_WEIGHTS) == set(CRITERIA["criterion"])


# ---------------------------------------------------------------------------- selection


def ranking() -> pd.DataFrame:
    """A score ranking of 24 accounts, best first; revenue 1,000 in all.

    k01 300, k02 100, k03 150, k04 50, then k05..k24 20 each (400).
    Cumulative share down the ranking: .30, .40, .55, .60, .62, ...
    """
    ids = [f"k{i:02d}" for i in range(1, 25)]
    revenue = [300.0, 100.0, 150.0, 50.0] + [20.0] * 20
    score = [95.0, 90.0, 85.0, 80.0] + [70.0 - 3 * i for i in range(20)]  # 70, 67, ..., 13
    return pd.DataFrame(
        {
            "account_id": ids,
            "revenue": revenue,
            "revenue_share": np.array(revenue) / 1000,
            "score": score,
        }
    )


def key_ids(selection) -> list[str]:
    return selection.key_accounts["account_id"].tolist()


def test_share_rule_takes_the_account_that_crosses_the_target():
    got = select_key_accounts(ranking())  # share, 0.5
    # before k01 0, before k02 .30, before k03 .40 (< .5: in, crosses to .55), before k04 .55
    assert key_ids(got) == ["k01", "k02", "k03"]
    assert got.share == pytest.approx(0.55)
    assert got.rule == "share" and got.setting == 0.5 and got.cap == 40
    assert not got.capped
    # .55 is inside 30–55 %, 3 of 24 accounts is 12.5 % ≤ 15 %: nothing to warn about
    assert got.warnings == ()
    assert got.table["key_account"].tolist() == [True] * 3 + [False] * 21
    assert got.table["cumulative_revenue_share"].tolist()[:5] == pytest.approx(
        [0.30, 0.40, 0.55, 0.60, 0.62]
    )
    assert got.table["account_id"].tolist() == ranking()["account_id"].tolist()


def test_share_rule_stops_when_the_target_is_reached_exactly():
    got = select_key_accounts(ranking(), target=0.4)
    # k01 + k02 make exactly 40 %: k03 (before = .40, not < .40) is not needed
    assert key_ids(got) == ["k01", "k02"]
    assert got.share == pytest.approx(0.4)


def test_share_rule_follows_the_score_not_the_revenue():
    scored = ranking()
    scored["revenue"] = scored["revenue"].to_numpy()[::-1].copy()  # k24 300, k23 100, ...
    got = select_key_accounts(scored, target=0.1)
    # k01 now has 20 (2 %): k01..k05 make 10 %, so k05 (before 8 %) crosses the target
    assert key_ids(got) == ["k01", "k02", "k03", "k04", "k05"]
    assert got.share == pytest.approx(0.10)


def test_top_n_rule():
    got = select_key_accounts(ranking(), rule="top_n", n=2)
    assert key_ids(got) == ["k01", "k02"]
    assert got.share == pytest.approx(0.4)  # (300 + 100) / 1000
    assert got.setting == 2.0
    assert not got.capped


def test_threshold_rule_is_inclusive():
    got = select_key_accounts(ranking(), rule="threshold", threshold=85)
    assert key_ids(got) == ["k01", "k02", "k03"]  # 95, 90, 85
    assert got.share == pytest.approx(0.55)


def test_threshold_rule_warns_about_share_and_count():
    got = select_key_accounts(ranking(), rule="threshold", threshold=80)
    assert key_ids(got) == ["k01", "k02", "k03", "k04"]
    # 600 / 1000 = 60 % > 55 %; 4 of 24 = 17 % > 15 %
    assert got.share == pytest.approx(0.6)
    assert len(got.warnings) == 2
    assert "60% of revenue, outside the usual 30%–55%" in got.warnings[0]
    assert got.warnings[1].startswith("4 key accounts are 17% of all 24 accounts")
    assert "more than 15%" in got.warnings[1]


def test_share_below_the_usual_range_warns():
    got = select_key_accounts(ranking(), rule="top_n", n=1, share_range=(0.35, 0.55))
    # k01 alone: 30 % < 35 %
    assert got.warnings == ("The key accounts make 30% of revenue, outside the usual 35%–55%.",)


@pytest.mark.parametrize(
    ("options", "keys", "share"),
    [
        # the share rule wants k01..k03 (55 %), the cap stops it at 2 (40 %)
        ({"rule": "share", "target": 0.5, "cap": 2}, ["k01", "k02"], 0.4),
        # 5 wanted, 3 allowed
        ({"rule": "top_n", "n": 5, "cap": 3}, ["k01", "k02", "k03"], 0.55),
        # scores ≥ 60: k01..k08 (95 … 61), 3 allowed
        ({"rule": "threshold", "threshold": 60, "cap": 3}, ["k01", "k02", "k03"], 0.55),
    ],
)
def test_the_cap_stops_every_rule(options, keys, share):
    got = select_key_accounts(ranking(), **options)
    cap = options["cap"]
    assert key_ids(got) == keys
    assert got.capped
    assert got.cap == cap
    assert got.share == pytest.approx(share)
    capped = [w for w in got.warnings if "cap" in w]
    assert len(capped) == 1
    assert capped[0].startswith(f"The cap of {cap} accounts stopped the rule before it was met")
    assert f"make {share:.0%} of revenue" in capped[0]
    assert ", cut at the cap of" in describe_selection(got)


@pytest.mark.parametrize(
    "options",
    [
        {"rule": "share", "target": 0.5, "cap": 3},  # 3 are enough
        {"rule": "top_n", "n": 3, "cap": 3},
        {"rule": "threshold", "threshold": 85, "cap": 3},  # exactly 3 score ≥ 85
    ],
)
def test_a_cap_that_is_not_reached_is_not_reported(options):
    got = select_key_accounts(ranking(), **options)
    assert len(got.key_accounts) == 3
    assert not got.capped
    assert not any("cap" in w for w in got.warnings)


def test_too_many_key_accounts_per_manager():
    got = select_key_accounts(ranking(), managers=1, per_manager=2)
    # 3 key accounts for one manager, 2 at most
    assert got.warnings == (
        "3 key accounts for 1 account managers is 3.0 each; more than 2 each is too many to "
        "serve well.",
    )
    assert select_key_accounts(ranking(), managers=1, per_manager=3).warnings == ()


def test_too_many_key_accounts_for_the_portfolio():
    got = select_key_accounts(ranking(), max_share_of_accounts=0.1)
    # 3 of 24 = 12.5 % > 10 %
    assert len(got.warnings) == 1
    assert got.warnings[0].startswith("3 key accounts are 12% of all 24 accounts")


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"rule": "best"}, r"^rule must be one of share, top_n, threshold, got 'best'$"),
        ({"target": 50}, r"needs 0 < target ≤ 1, got 50 \(a fraction: 0.5 for half\)$"),
        ({"target": 0}, r"needs 0 < target ≤ 1, got 0$"),
        ({"target": None}, r"needs 0 < target ≤ 1, got None$"),
        ({"rule": "top_n"}, r"the 'top_n' rule needs n, a whole number of 1 or more, got None"),
        ({"rule": "top_n", "n": 2.5}, r"a whole number of 1 or more, got 2.5"),
        ({"rule": "top_n", "n": 0}, r"a whole number of 1 or more, got 0"),
        ({"rule": "threshold"}, r"the 'threshold' rule needs a score from 0 to 100, got None"),
        ({"rule": "threshold", "threshold": 150}, r"a score from 0 to 100, got 150"),
        ({"cap": 0}, r"^cap must be a whole number of 1 or more, got 0$"),
        ({"cap": 2.5}, r"^cap must be a whole number of 1 or more, got 2.5$"),
    ],
)
def test_bad_rule_settings(options, message):
    with pytest.raises(ValueError, match=message):
        select_key_accounts(ranking(), **options)


def test_describe_selection():
    text = describe_selection(select_key_accounts(ranking(), rule="top_n", n=2))
    # 2 of 24 = 8.3 %; 40 % of revenue
    assert text == (
        "2 of 24 accounts (8%) are key accounts by the 2 best scores; together they make 40% "
        "of revenue."
    )
    text = describe_selection(select_key_accounts(ranking()))
    assert "by the smallest set reaching 50% of revenue;" in text
    assert text.endswith("together they make 55% of revenue.")
    assert "cap" not in text
    text = describe_selection(select_key_accounts(ranking(), rule="threshold", threshold=85))
    assert "every account scoring 85 or more" in text


# ---------------------------------------------------------------------------- stability, dependence


def small_features(prestige_weight: float):
    """Four accounts scored on revenue, margin and prestige only.

    revenue a 100, b 60, c 30, d 10 → rank scores a 1, b 2/3, c 1/3, d 0
    margin  a 30,  b 20, c 5,  d 8  → rank scores a 1, b 2/3, d 1/3, c 0
    prestige: c only.
    """
    features = pd.DataFrame(
        {
            "account_id": ["a", "b", "c", "d"],
            "name": ["Ahorn", "Birke", "Chateau", "Dattel"],
            "revenue": [100.0, 60.0, 30.0, 10.0],
            "revenue_share": [0.5, 0.3, 0.15, 0.05],
            "margin": [30.0, 20.0, 5.0, 8.0],
            "is_prestige": [False, False, True, False],
        }
    )
    return features, only(revenue=2, margin=2, prestige=prestige_weight)


def test_criterion_dependence_finds_the_account_in_only_because_of_prestige():
    features, weights = small_features(3)
    # weights 2, 2, 3 (total 7); a: 2·1 + 2·1 = 4; b: 2·⅔ + 2·⅔ = 2.67; c: 2·⅓ + 3 = 3.67;
    # d: 2·⅓ = 0.67 → top 2: a, c
    scored = score_accounts(features, weights=weights)
    assert scored["account_id"].tolist() == ["a", "c", "b", "d"]
    assert scored["score"].tolist() == pytest.approx(
        [400 / 7, 100 * (11 / 3) / 7, 800 / 21, 200 / 21]
    )
    got = criterion_dependence(features, weights=weights, rule="top_n", n=2)
    # revenue off (m 2, p 3): a 2, c 3, b 1.33 → a, c stay
    # margin off (r 2, p 3): a 2, c 3.67, b 1.33 → a, c stay
    # prestige off (r 2, m 2): a 4, b 2.67, c 0.67 → a, b: c drops
    assert got.columns.tolist() == ["account_id", "name", "needs", "n_needed", "only_because_of"]
    assert got["account_id"].tolist() == ["a", "c"]
    assert got["name"].tolist() == ["Ahorn", "Chateau"]
    assert got["needs"].tolist() == ["", "prestige"]
    assert got["n_needed"].tolist() == [0, 1]
    assert got["only_because_of"].tolist() == ["", "prestige"]


def test_criterion_dependence_of_an_account_that_needs_two_criteria():
    features = pd.DataFrame(
        {
            "account_id": ["a", "b", "d", "e"],
            "revenue": [100.0, 10.0, 20.0, 80.0],  # a 1, e 2/3, d 1/3, b 0
            "revenue_share": [100 / 210, 10 / 210, 20 / 210, 80 / 210],
            "margin": [30.0, 2.0, 5.0, 25.0],  # a 1, e 2/3, d 1/3, b 0
            "is_prestige": [False, True, False, False],
        }
    )
    weights = only(revenue=2, margin=2, prestige=2)
    got = criterion_dependence(features, weights=weights, rule="top_n", n=2)
    # base: a 4, e 2.67, b 2, d 1.33 → a, e
    # revenue off: a 2, b 2, e 1.33 → a, b (e drops); margin off: the same;
    # prestige off: a 4, e 2.67 → a, e
    assert got["account_id"].tolist() == ["a", "e"]
    assert got["needs"].tolist() == ["", "revenue, margin"]
    assert got["n_needed"].tolist() == [0, 2]
    assert got["only_because_of"].tolist() == ["", ""]


def test_selection_stability_by_hand():
    features, weights = small_features(2.2)
    # per weight set, b ∝ ⅔·r + ⅔·m and c ∝ ⅓·r + p (a ∝ r + m always leads):
    #   base       b 2.67  c 2.87 → c          revenue -20%  b 2.40  c 2.73 → c
    #   revenue +20%  b 2.93  c 3.00 → c       margin -20%   b 2.40  c 2.87 → c
    #   margin +20%   b 2.93  c 2.87 → b       prestige -20% b 2.67  c 2.43 → b
    #   prestige +20% b 2.67  c 3.31 → c
    got = selection_stability(features, weights=weights, rule="top_n", n=2)
    assert got["account_id"].tolist() == ["a", "c", "b"]  # d is never selected
    assert got["name"].tolist() == ["Ahorn", "Chateau", "Birke"]
    assert got["in_base"].tolist() == [True, True, False]
    assert got["selected"].tolist() == [6, 4, 2]
    assert got["variations"].tolist() == [6, 6, 6]  # 3 criteria with weight, 2 ways each
    assert got["share_selected"].tolist() == pytest.approx([1.0, 4 / 6, 2 / 6])
    assert got["status"].tolist() == ["always in", "at the margin", "at the margin"]
    assert got["flips_when"].tolist() == [
        "",
        "margin +20%, prestige -20%",
        "margin +20%, prestige -20%",
    ]


def test_selection_stability_with_a_larger_change():
    features, weights = small_features(2.2)
    got = selection_stability(features, weights=weights, rule="top_n", n=2, change=0.5)
    # revenue ×1.5 = 3: b ⅔·5 = 3.33, c 1 + 2.2 = 3.2 → b; revenue ×0.5 = 1: b 2, c 2.53 → c
    # margin ×1.5: b 3.33, c 2.87 → b; margin ×0.5: b 2, c 2.87 → c
    # prestige ×0.5 = 1.1: c 1.77 → b; prestige ×1.5 = 3.3: c 3.97 → c
    row = got.set_index("account_id").loc["c"]
    assert row["selected"] == 3
    assert row["flips_when"] == "revenue +50%, margin +50%, prestige -50%"


@pytest.mark.parametrize("change", [0, 1, 1.5, -0.2])
def test_selection_stability_change_must_be_a_fraction(change):
    features, weights = small_features(2.2)
    with pytest.raises(ValueError, match=r"change must be a fraction between 0 and 1"):
        selection_stability(features, weights=weights, change=change)


def test_stability_and_dependence_check_the_rule():
    features, weights = small_features(3)
    with pytest.raises(ValueError, match=r"a fraction: 0.5 for half"):
        selection_stability(features, weights=weights, target=50)
    with pytest.raises(ValueError, match=r"the 'top_n' rule needs n"):
        criterion_dependence(features, weights=weights, rule="top_n")


# ---------------------------------------------------------------------------- types


def typing_features() -> pd.DataFrame:
    """Eight accounts; margins add up to 1,000, so profit share = margin / 1000.

    annual sales (M): 100, 50, 40, 10, 60, 20, 10, 80 → sorted 10, 10, 20, 40, 50, 60, 80, 100,
    median (40 + 50) / 2 = 45.
    """
    return pd.DataFrame(
        {
            "account_id": ["m", "i", "e1", "e2", "p", "u", "q", "r"],
            "name": ["Main", "Image", "Expert1", "Expert2", "Prospect", "Usual", "Quick", "Rich"],
            "revenue": [2000.0, 300.0, 400.0, 200.0, 900.0, 500.0, 100.0, 1000.0],
            "margin": [400.0, 50.0, 60.0, 30.0, 150.0, 90.0, 20.0, 200.0],
            "tenure_years": [5.0, 4.0, 2.5, 8.0, 1.0, 6.0, 0.5, 1.5],
            "is_prestige": [True, True, False, False, False, False, False, False],
            "is_test_partner": [False, False, False, True, False, False, False, False],
            "complaints": [0, 0, 2, 0, 0, 1, 0, 0],
            "service_events": [0, 0, 1, 0, 0, 1, 0, 0],
            "is_new_buyer": [False, False, False, False, False, False, True, False],
            "growth": [0.05, 0.0, 0.1, 0.0, 0.3, 0.2, np.nan, -0.1],
            "annual_sales": [100e6, 50e6, 40e6, 10e6, 60e6, 20e6, 10e6, 80e6],
        }
    )


def test_assign_types_each_type_by_hand():
    got = assign_types(typing_features()).set_index("account_id")
    assert got.index.tolist() == ["m", "i", "e1", "e2", "p", "u", "q", "r"]
    assert got["type"].to_dict() == {
        "m": "mainstay",  # 40 % of the profit, 5 years (and a prestige name: mainstay first)
        "i": "image maker",  # prestige; 5 % of the profit
        "e1": "expert",  # 2 complaints + 1 service event = 3
        "e2": "expert",  # test partner (3 % of the profit, so not a mainstay despite 8 years)
        "p": "prospect",  # 1 year, growth +30 %, 60 M ≥ 45 M
        "u": "unassigned",  # 9 % of the profit < 10 %, 2 demands, 6 years
        "q": "unassigned",  # new and growing, but 10 M < 45 M
        "r": "unassigned",  # 20 % of the profit but 1.5 years; new, big, but shrinking
    }
    assert got["rules_met"].to_dict() == {
        "m": "mainstay, image maker",
        "i": "image maker",
        "e1": "expert",
        "e2": "expert",
        "p": "prospect",
        "u": "",
        "q": "",
        "r": "",
    }
    assert got["key_profit_share"].tolist() == pytest.approx(
        [0.4, 0.05, 0.06, 0.03, 0.15, 0.09, 0.02, 0.2]
    )
    assert got["demands"].tolist() == [0, 0, 3, 0, 0, 2, 0, 0]
    assert got["tenure_years"].tolist() == [5.0, 4.0, 2.5, 8.0, 1.0, 6.0, 0.5, 1.5]
    assert not got["overridden"].any()
    assert got.loc["m", "reason"] == "profit share 40.0 %, 5.0 years"
    assert got.loc["i", "reason"] == "prestige name"
    assert got.loc["e1", "reason"] == "3 complaints/service events"
    assert got.loc["e2", "reason"] == "0 complaints/service events, test partner"
    assert got.loc["p", "reason"] == "1.0 years, growth +30 %"
    assert got.loc["u", "reason"] == "no rule holds"


def test_assign_types_every_rule_in_priority_order():
    features = pd.DataFrame(
        {
            "account_id": ["all", "other"],
            "margin": [500.0, 500.0],  # 50 % each
            "revenue": [1.0, 1.0],
            "tenure_years": [1.0, 10.0],  # "all" is new: not a mainstay
            "is_prestige": [True, False],
            "is_test_partner": [True, False],
            "complaints": [0, 0],
            "service_events": [0, 0],
            "is_new_buyer": [True, False],
            "growth": [np.nan, 0.0],
            "annual_sales": [9e6, 1e6],  # median 5 M
        }
    )
    got = assign_types(features).set_index("account_id")
    assert got.loc["all", "rules_met"] == "image maker, expert, prospect"
    assert got.loc["all", "type"] == "image maker"
    assert got.loc["other", "type"] == "mainstay"  # 50 %, 10 years


def test_mainstay_boundaries_are_inclusive():
    features = pd.DataFrame(
        {
            "account_id": ["edge", "big", "short"],
            "margin": [10.0, 80.0, 10.0],  # 10 / 100 = 10 % exactly
            "revenue": [1.0, 1.0, 1.0],
            "tenure_years": [3.0, 10.0, 2.99],
            "is_new_buyer": [False, False, False],
            "growth": [0.0, 0.0, 0.0],
        }
    )
    got = assign_types(features).set_index("account_id")["type"]
    assert got.to_dict() == {"edge": "mainstay", "big": "mainstay", "short": "unassigned"}


def test_assign_types_share_is_of_the_typed_accounts_only():
    features = typing_features()
    got = assign_types(features, accounts=["e1", "i"])
    # e1 60 and i 50 make 110: e1 60/110 = 54.5 %, i 50/110 = 45.5 % (4 years → mainstay)
    assert got["account_id"].tolist() == ["e1", "i"]  # in the order given
    assert got["key_profit_share"].tolist() == pytest.approx([60 / 110, 50 / 110])
    assert got["type"].tolist() == ["expert", "mainstay"]  # e1 has only 2.5 years
    assert got["rules_met"].tolist() == ["expert", "mainstay, image maker"]


def test_assign_types_prospect_median_is_of_all_accounts():
    # typing only p and q: the median of annual sales is still 45 M (all eight accounts)
    got = assign_types(typing_features(), accounts=["q", "p"]).set_index("account_id")
    assert got.loc["p", "type"] == "prospect"
    assert got.loc["q", "type"] == "unassigned"


def test_assign_types_without_margin_or_annual_sales_uses_revenue():
    features = typing_features().drop(columns=["margin", "annual_sales"])
    got = assign_types(features).set_index("account_id")
    # revenue total 5,400: m 2000/5400 = 37 % → still a mainstay
    assert got.loc["m", "key_profit_share"] == pytest.approx(2000 / 5400)
    # revenue median of 100, 200, 300, 400, 500, 900, 1000, 2000 = (400 + 500) / 2 = 450:
    # p 900 ≥ 450 → prospect; q 100 < 450 → not
    assert got.loc["p", "type"] == "prospect"
    assert got.loc["q", "type"] == "unassigned"


def test_assign_types_new_buyer_with_long_tenure_is_a_prospect():
    features = typing_features()
    features.loc[features["account_id"] == "r", ["is_new_buyer", "growth"]] = [True, np.nan]
    got = assign_types(features).set_index("account_id")
    # r came back after a pause: no purchase in the previous window, 80 M ≥ 45 M
    assert got.loc["r", "type"] == "prospect"
    assert got.loc["r", "reason"] == "1.5 years, new buyer"


def test_assign_types_thresholds():
    got = assign_types(typing_features(), expert_events=2, mainstay_share=0.05).set_index(
        "account_id"
    )
    assert got.loc["u", "type"] == "mainstay"  # 9 % ≥ 5 %, 6 years
    assert got.loc["e1", "type"] == "expert"  # 6 % but 2.5 years
    assert got.loc["i", "rules_met"] == "mainstay, image maker"  # 5 % ≥ 5 %, 4 years
    with pytest.raises(ValueError, match=r"mainstay_share must be a fraction in \(0, 1\], got 10"):
        assign_types(typing_features(), mainstay_share=10)


def test_assign_types_overrides_win():
    overrides = pd.DataFrame({"account_id": ["u", "m"], "type": ["expert", "unassigned"]})
    got = assign_types(typing_features(), overrides=overrides).set_index("account_id")
    assert got.loc["u", "type"] == "expert"
    assert got.loc["m", "type"] == "unassigned"
    assert got.loc["u", "reason"] == "set by hand"
    assert got["overridden"].to_dict() == {
        "m": True,
        "i": False,
        "e1": False,
        "e2": False,
        "p": False,
        "u": True,
        "q": False,
        "r": False,
    }
    assert got.loc["m", "rules_met"] == "mainstay, image maker"  # the rules still show


def test_assign_types_bad_overrides():
    features = typing_features()
    with pytest.raises(ValueError, match=r"unknown types 'vip'") as excinfo:
        assign_types(features, overrides=pd.DataFrame({"account_id": ["u"], "type": ["vip"]}))
    for kind in KEY_ACCOUNT_TYPES["type"]:
        assert kind in str(excinfo.value)
    with pytest.raises(ValueError, match=r"accounts not being typed: zz"):
        assign_types(features, overrides=pd.DataFrame({"account_id": ["zz"], "type": ["expert"]}))
    with pytest.raises(ValueError, match=r"accounts not being typed: m"):
        assign_types(
            features,
            accounts=["p"],
            overrides=pd.DataFrame({"account_id": ["m"], "type": ["expert"]}),
        )
    with pytest.raises(ValueError, match=r"need the columns account_id and type; missing type"):
        assign_types(features, overrides=pd.DataFrame({"account_id": ["u"], "kind": ["expert"]}))


def test_assign_types_unknown_accounts():
    with pytest.raises(ValueError, match=r"accounts not in the features table: zz"):
        assign_types(typing_features(), accounts=["m", "zz"])


# ---------------------------------------------------------------------------- three P


def prospects() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "account_id": ["alpha", "bravo", "charlie", "delta"],
            "name": ["Alpha", "Bravo", "Charlie", "Delta"],
            "revenue": [100.0, 0.0, 0.0, 50.0],
            "avg_days_late": [10.0, 45.0, np.nan, 30.0],  # charlie had no invoice due
        }
    )


def three_p_contacts() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "account_id": ["alpha", "bravo", "charlie", "delta", "delta"],
            "role": ["decision_maker", "buyer", "decision_maker", "user", "decision_maker"],
        }
    )


def three_p_proposals() -> pd.DataFrame:
    return frame(
        [
            ("bravo", "2025-03-01"),  # in the window
            ("charlie", "2024-12-31"),  # the day the window starts after: out
        ],
        ("account_id", "date"),
        dates=["date"],
    )


def test_three_p_by_hand():
    got = three_p(
        prospects(), as_of=AS_OF, contacts=three_p_contacts(), proposals=three_p_proposals()
    ).set_index("account_id")
    assert got.columns.tolist() == [
        "name",
        "need",
        "solvency",
        "authority",
        "evidence",
        "qualified",
        "overridden",
    ]
    # need: bought (alpha, delta) or a proposal in the window (bravo); charlie's is too old
    assert got["need"].tolist() == [True, True, False, True]
    # solvency: ≤ 30 days late on average; charlie has no invoices → unknown
    assert got["solvency"].tolist()[:2] == [True, False]
    assert got.loc["charlie", "solvency"] is pd.NA
    assert bool(got.loc["delta", "solvency"]) is True  # exactly 30 → solvent
    # authority: a decision maker among the contacts
    assert got["authority"].tolist() == [True, False, True, True]
    assert got["qualified"].tolist() == [True, False, False, True]
    assert got["overridden"].tolist() == ["", "", "", ""]
    assert got.loc["alpha", "evidence"] == (
        "revenue 100, 0 proposals, 10 days late on average, decision maker known"
    )
    assert (
        got.loc["bravo", "evidence"]
        == "revenue 0, 1 proposals, 45 days late on average, none known"
    )


def test_three_p_max_days_late():
    got = three_p(prospects(), as_of=AS_OF, max_days_late=5).set_index("account_id")
    assert got["solvency"].tolist()[:2] == [False, False]  # 10 > 5, 45 > 5


def test_three_p_unknown_without_the_tables():
    features = prospects().drop(columns="avg_days_late")  # no invoices in the dataset
    got = three_p(features, as_of=AS_OF).set_index("account_id")
    assert got["need"].tolist() == [True, False, False, True]  # purchases only
    assert got["solvency"].isna().all()
    assert got["authority"].isna().all()
    assert str(got["solvency"].dtype) == "boolean"
    assert str(got["authority"].dtype) == "boolean"
    assert not got["qualified"].any()  # unknown is not qualified


def test_three_p_contacts_without_role_leave_authority_unknown():
    contacts = three_p_contacts().drop(columns="role")
    got = three_p(prospects(), as_of=AS_OF, contacts=contacts)
    assert got["authority"].isna().all()


def test_three_p_overrides_fill_the_unknown():
    features = prospects().drop(columns="avg_days_late")
    overrides = pd.DataFrame(
        {
            "account_id": ["alpha", "bravo"],
            "solvency": [True, None],  # bravo: keep the data's answer (unknown)
            "authority": [True, False],
            "note": ["checked with finance", ""],
        }
    )
    got = three_p(features, as_of=AS_OF, overrides=overrides).set_index("account_id")
    assert bool(got.loc["alpha", "solvency"]) is True
    assert bool(got.loc["alpha", "authority"]) is True
    assert got.loc["bravo", "solvency"] is pd.NA
    assert bool(got.loc["bravo", "authority"]) is False
    assert got["qualified"].tolist() == [True, False, False, False]  # alpha: need, and set by hand
    assert got["overridden"].tolist() == ["solvency, authority", "authority", "", ""]


def test_three_p_override_can_say_no():
    overrides = pd.DataFrame({"account_id": ["alpha"], "need": [False]})
    got = three_p(
        prospects(),
        as_of=AS_OF,
        contacts=three_p_contacts(),
        overrides=overrides,
    ).set_index("account_id")
    assert bool(got.loc["alpha", "need"]) is False
    assert not got.loc["alpha", "qualified"]


def test_three_p_bad_overrides():
    features = prospects()
    with pytest.raises(ValueError, match=r"unknown columns 'budget'; use account_id, need"):
        three_p(
            features,
            as_of=AS_OF,
            overrides=pd.DataFrame({"account_id": ["alpha"], "budget": [True]}),
        )
    with pytest.raises(
        ValueError, match=r"accounts not in the table: 'alpah' \(did you mean 'alpha'\?\)"
    ):
        three_p(
            features,
            as_of=AS_OF,
            overrides=pd.DataFrame({"account_id": ["alpah"], "need": [True]}),
        )
    with pytest.raises(ValueError, match=r"need takes True or False \(or empty\), got") as excinfo:
        three_p(
            features,
            as_of=AS_OF,
            overrides=pd.DataFrame({"account_id": ["alpha"], "need": ["yes"]}),
        )
    assert "yes" in str(excinfo.value)
    with pytest.raises(ValueError, match=r"three P overrides: no account_id column"):
        three_p(features, as_of=AS_OF, overrides=pd.DataFrame({"id": ["alpha"], "need": [True]}))


def test_three_p_evidence_without_invoices_reads_well():
    got = three_p(prospects(), as_of=AS_OF).set_index("account_id")
    assert "no invoices" in got.loc["charlie", "evidence"]
    assert "no invoices days late" not in got.loc["charlie", "evidence"]


# ---------------------------------------------------------------------------- portfolio


def portfolio_features() -> pd.DataFrame:
    """Four accounts placed by hand (rank scores of four values: 0, 1/3, 2/3, 1).

    attractiveness = .4 size + .3 growth + .3 margin_pct
      size (annual sales)  s 1, d 2/3, m 1/3, t 0
      growth               d 1, s 2/3, m 1/3, t 0
      margin_pct           s 1, d 2/3, m 1/3, t 0
      → s .4 + .2 + .3 = .90; d .267 + .3 + .2 = .767; m 1/3; t 0
    relationship: only loyalty (25) and tenure (15) are in the data → .625 and .375
      loyalty              m 1, s 2/3, d 1/3, t 0
      tenure               s 1, m 2/3, t 1/3, d 0
      → s .417 + .375 = .792; d .208; m .625 + .25 = .875; t .125
    """
    return pd.DataFrame(
        {
            "account_id": ["d", "m", "s", "t"],
            "name": ["Dev", "Maint", "Strat", "Stream"],
            "revenue": [10.0, 10.0, 10.0, 10.0],
            "annual_sales": [300e6, 200e6, 400e6, 100e6],
            "growth": [0.5, 0.0, 0.2, -0.3],
            "is_new_buyer": [False, False, False, False],
            "margin_pct": [0.3, 0.2, 0.4, 0.1],
            "purchase_months_share": [0.5, 1.0, 0.75, 0.25],
            "tenure_years": [1.0, 8.0, 10.0, 3.0],
        }
    )


def test_portfolio_quadrants_by_hand():
    got = portfolio_matrix(portfolio_features(), as_of=AS_OF, key_accounts=["s", "d"])
    got = got.set_index("account_id")
    assert got.index.tolist() == ["d", "m", "s", "t"]  # the order of features
    assert got["attractiveness"].tolist() == pytest.approx(
        [0.4 * 2 / 3 + 0.3 + 0.2, 1 / 3, 0.9, 0.0]
    )
    assert got["relationship"].tolist() == pytest.approx(
        [0.625 / 3, 0.625 + 0.25, 0.625 * 2 / 3 + 0.375, 0.375 / 3]
    )
    assert got["quadrant"].to_dict() == {
        "d": "development",
        "m": "maintenance",
        "s": "strategic",
        "t": "streamline",
    }
    assert got["key_account"].to_dict() == {"d": True, "m": False, "s": True, "t": False}
    assert got.loc["d", "action"].startswith("Invest selectively")
    # the raw factors used, nothing invented for the missing ones
    assert got.loc["s", "size"] == 400e6
    assert got.loc["s", "loyalty"] == 0.75
    assert "attitude" not in got and "satisfaction" not in got and "share_of_wallet" not in got


def test_portfolio_weights_and_threshold():
    # size only: d 2/3, m 1/3, s 1, t 0; split at 0.7 → only s is attractive
    got = portfolio_matrix(
        portfolio_features(),
        as_of=AS_OF,
        attractiveness={"growth": 0, "margin_pct": 0},
        threshold=0.7,
    ).set_index("account_id")
    assert got["attractiveness"].tolist() == pytest.approx([2 / 3, 1 / 3, 1.0, 0.0])
    # relationship ≥ 0.7: m .875, s .792
    assert got["quadrant"].to_dict() == {
        "d": "streamline",
        "m": "maintenance",
        "s": "strategic",
        "t": "streamline",
    }


def test_portfolio_new_buyer_ranks_highest_on_growth():
    features = portfolio_features()
    features.loc[features["account_id"] == "t", ["is_new_buyer", "growth"]] = [True, np.nan]
    got = portfolio_matrix(
        features, as_of=AS_OF, attractiveness={"size": 0, "margin_pct": 0}
    ).set_index("account_id")
    # growth: t new → 1, d .5 → 2/3, s .2 → 1/3, m 0 → 0
    assert got["attractiveness"].to_dict() == pytest.approx(
        {"d": 2 / 3, "m": 0.0, "s": 1 / 3, "t": 1.0}
    )
    assert np.isnan(got.loc["t", "growth"])  # shown as unknown, not as infinity


def test_portfolio_factors_from_contacts_competitors_and_surveys():
    surveys = frame(
        [
            ("s", "2025-06-01", 8),
            ("s", "2024-12-31", 1),  # before the window: not counted
            ("d", "2025-12-31", 4),
            ("d", "2025-01-01", 6),
        ],
        ("account_id", "date", "score"),
        dates=["date"],
    )
    contacts = pd.DataFrame(
        {
            "account_id": ["s", "s", "d", "m"],
            "attitude": [1.0, -1.0, 0.5, np.nan],
            "influence": [3.0, 1.0, 2.0, 5.0],
        }
    )
    competitors = pd.DataFrame({"account_id": ["s", "s", "d"], "estimated_share": [0.2, 0.3, 1.2]})
    got = portfolio_matrix(
        portfolio_features(),
        as_of=AS_OF,
        contacts=contacts,
        competitors=competitors,
        surveys=surveys,
    ).set_index("account_id")
    # share of wallet: d 1 - 1.2 → 0 (clipped), m 1 (no competitor known), s 1 - .5, t 1
    assert got["share_of_wallet"].to_dict() == pytest.approx(
        {"d": 0.0, "m": 1.0, "s": 0.5, "t": 1.0}
    )
    # attitude weighted by influence: s (1·3 - 1·1) / 4 = .5; d .5; m only an unknown attitude
    assert got.loc["s", "attitude"] == pytest.approx(0.5)
    assert got.loc["d", "attitude"] == pytest.approx(0.5)
    assert np.isnan(got.loc["m", "attitude"]) and np.isnan(got.loc["t", "attitude"])
    # satisfaction: s 8 (the 2024 answer is out), d (4 + 6) / 2
    assert got.loc["s", "satisfaction"] == pytest.approx(8.0)
    assert got.loc["d", "satisfaction"] == pytest.approx(5.0)
    # relationship = .30 wallet + .25 loyalty + .15 tenure + .15 attitude + .15 satisfaction
    #   wallet ranks: d 0, s 1/3, m = t 2/3; loyalty m 1, s 2/3, d 1/3, t 0;
    #   tenure s 1, m 2/3, t 1/3, d 0; attitude d = s → 0 (m, t unknown → 0);
    #   satisfaction s 1, d 0
    # d: .25/3 = .083; m: .2 + .25 + .1 = .55; s: .1 + .167 + .15 + .15 = .567; t: .2 + .05 = .25
    assert got["relationship"].to_dict() == pytest.approx(
        {"d": 0.25 / 3, "m": 0.55, "s": 0.1 + 0.25 * 2 / 3 + 0.3, "t": 0.25}
    )


def test_portfolio_unknown_factor():
    with pytest.raises(
        ValueError,
        match=r"unknown attractiveness factors 'sise'; the factors are size, growth, margin_pct",
    ):
        portfolio_matrix(portfolio_features(), as_of=AS_OF, attractiveness={"sise": 10})
    with pytest.raises(ValueError, match=r"unknown relationship factors 'trust'"):
        portfolio_matrix(portfolio_features(), as_of=AS_OF, relationship={"trust": 10})
    with pytest.raises(ValueError, match=r"threshold must be between 0 and 1"):
        portfolio_matrix(portfolio_features(), as_of=AS_OF, threshold=50)


# ---------------------------------------------------------------------------- properties

START = pd.Timestamp("2023-01-01")
WINDOW_START = AS_OF - pd.DateOffset(months=12)  # 2024-12-31, exclusive
PRODUCTS = pd.DataFrame(
    {"product_id": ["P1", "P2", "P3", "P4"], "is_slow_moving": [True, False, True, False]}
)
# the criteria a transactions + products dataset allows
USABLE = ("revenue", "margin", "quantity", "growth", "loyalty", "slow_stock", "tenure")
PROPERTY = settings(max_examples=40, deadline=None)


@st.composite
def transactions(draw) -> pd.DataFrame:
    n_accounts = draw(st.integers(2, 12))
    n_lines = draw(st.integers(n_accounts, 60))
    account = draw(hnp.arrays(np.int64, n_lines, elements=st.integers(0, n_accounts - 1)))
    # 2023-01-01 .. 2026-01-30: the window, the one before, and lines after as_of
    day = draw(hnp.arrays(np.int64, n_lines, elements=st.integers(0, 3 * 365 + 30)))
    # whole numbers, so sums are exact whatever the order
    amount = draw(hnp.arrays(np.int64, n_lines, elements=st.integers(1, 5000)))
    margin = draw(hnp.arrays(np.int64, n_lines, elements=st.integers(0, 2000)))
    quantity = draw(hnp.arrays(np.int64, n_lines, elements=st.integers(1, 100)))
    product = draw(hnp.arrays(np.int64, n_lines, elements=st.integers(1, 4)))
    return pd.DataFrame(
        {
            "account_id": [f"acc{a:02d}" for a in account],
            "date": (START + pd.to_timedelta(day, unit="D")).astype("datetime64[ns]"),
            "amount": amount.astype(float),
            "margin": margin.astype(float),
            "quantity": quantity.astype(float),
            "product_id": [f"P{p}" for p in product],
        }
    )


@st.composite
def weight_sets(draw) -> dict[str, float]:
    given = {c: draw(st.integers(0, 30)) for c in USABLE}
    given["revenue"] += 1  # at least one weight above 0
    return only(**given)


def scores_of(tx: pd.DataFrame, weights) -> pd.DataFrame:
    features = account_features(tx, as_of=AS_OF, products=PRODUCTS).table
    return score_accounts(features, weights=weights)


def in_window(tx: pd.DataFrame) -> pd.Series:
    return (tx["date"] > WINDOW_START) & (tx["date"] <= AS_OF)


@PROPERTY
@given(tx=transactions(), weights=weight_sets(), data=st.data())
def test_property_more_revenue_never_lowers_the_score(tx, weights, data):
    buyers = sorted(set(tx.loc[in_window(tx), "account_id"]))
    if not buyers:
        return
    account = data.draw(st.sampled_from(buyers))
    factor = data.draw(st.sampled_from([1.0, 1.25, 2.0, 3.0, 10.0]))
    lines = in_window(tx) & (tx["account_id"] == account)
    bigger = tx.copy()
    extra = tx.loc[lines, "amount"] * (factor - 1)
    bigger.loc[lines, "amount"] = tx.loc[lines, "amount"] + extra
    bigger.loc[lines, "margin"] = tx.loc[lines, "margin"] + extra  # the cost is unchanged
    before = scores_of(tx, weights).set_index("account_id")["score"]
    after = scores_of(bigger, weights).set_index("account_id")["score"]
    assert after[account] >= before[account] - 1e-9


@PROPERTY
@given(tx=transactions(), weights=weight_sets(), seed=st.integers(0, 2**32 - 1))
def test_property_row_order_does_not_matter(tx, weights, seed):
    shuffled = tx.sample(frac=1, random_state=seed)
    pd.testing.assert_frame_equal(scores_of(shuffled, weights), scores_of(tx, weights))
    picked = [
        key_ids(select_key_accounts(scores_of(t, weights), target=0.5)) for t in (tx, shuffled)
    ]
    assert picked[0] == picked[1]


@PROPERTY
@given(tx=transactions(), weights=weight_sets())
def test_property_points_add_up_to_a_score_between_0_and_100(tx, weights):
    features = account_features(tx, as_of=AS_OF, products=PRODUCTS).table
    scored = score_accounts(features, weights=weights)
    if scored.empty:
        return
    points = scored[[c for c in scored.columns if c.endswith("_points")]]
    np.testing.assert_allclose(points.sum(axis=1), scored["score"], atol=1e-9)
    assert ((scored["score"] >= -1e-9) & (scored["score"] <= 100 + 1e-9)).all()
    assert (points.to_numpy() >= 0).all()
    # the formula: 100 × Σ weight × criterion score ÷ Σ weight
    crit = criterion_scores(features).reindex(scored["account_id"])
    w = pd.Series({c: weights[c] for c in crit.columns}, dtype=float)
    expected = 100 * (crit * w).sum(axis=1) / w.sum()
    np.testing.assert_allclose(scored["score"], expected.to_numpy(), atol=1e-9)
    assert (np.diff(scored["score"].to_numpy()) <= 0).all()  # best first
    assert scored["rank"].tolist() == list(range(1, len(scored) + 1))


@PROPERTY
@given(
    values=hnp.arrays(
        np.float64, st.integers(1, 20), elements=st.sampled_from([np.nan, 1.0, 2.0, 3.0, 5.0])
    )
)
def test_property_rank_score_is_the_share_of_others_beaten(values):
    got = rank_score(pd.Series(values)).to_numpy()
    known = ~np.isnan(values)
    others = known.sum() - 1
    for i, v in enumerate(values):
        if np.isnan(v):
            assert got[i] == 0.0
        elif others == 0:
            assert got[i] == 1.0
        else:
            beaten = int((values[known] < v).sum())
            assert got[i] == pytest.approx(beaten / others)


# ---------------------------------------------------------------------------- bundled sample


def test_sample_defaults_give_a_key_account_set_of_30_to_55_percent():
    ds = kamlib.load_sample()
    tx = ds.transactions
    as_of = kamlib.resolve_as_of(tx)
    features = account_features(
        tx,
        as_of=as_of,
        accounts=ds.get("accounts"),
        products=ds.get("products"),
        invoices=ds.get("invoices"),
        interactions=ds.get("interactions"),
    )
    assert features.left_out.empty  # the sample has every table and column
    scored = score_accounts(features.table)
    selection = select_key_accounts(scored)
    assert 0.30 <= selection.share <= 0.55
    assert 1 <= len(selection.key_accounts) <= 40
    assert not selection.capped
    # the share is what the key accounts' revenue makes of the positive total
    revenue = features.table.set_index("account_id")["revenue"]
    keys = selection.key_accounts["account_id"]
    assert selection.share == pytest.approx(revenue[keys].sum() / revenue.clip(lower=0).sum())
    assert set(FLAGS) <= set(features.table.columns)
