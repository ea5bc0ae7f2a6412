"""ABC-XYZ classification on small hand-made invoice lines.

Every expected number is worked out by hand in the comment next to it. The window is
12 months ending at AS_OF = 2025-12-31, so the monthly periods are the calendar months
of 2025: period 0 = December, period 11 = January. Lines are dated the 15th.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from kamlib.abc_xyz import (
    ABC_XYZ_PLAYBOOK,
    SBC_TO_XYZ,
    XYZ_DEFAULTS,
    ClassificationWarning,
    abc_classes,
    abc_xyz,
    abc_xyz_matrix,
    first_purchases,
    migration,
    transition_matrix,
    xyz_classes,
)

AS_OF = pd.Timestamp("2025-12-31")
ABC_COLUMNS = ["account_id", "value", "share", "cumulative_share", "rank", "abc"]
XYZ_COLUMNS = [
    "account_id",
    "periods",
    "active_periods",
    "mean",
    "cv",
    "purchase_share",
    "gap_cv",
    "adi",
    "cv2",
    "pattern",
    "xyz",
]


def lines(rows, columns=("account_id", "date", "amount")) -> pd.DataFrame:
    """Invoice lines from tuples; dates parsed, numbers as float."""
    df = pd.DataFrame(list(rows), columns=list(columns))
    df["date"] = pd.to_datetime(df["date"]).astype("datetime64[ns]")
    for col in df.columns[2:]:
        df[col] = df[col].astype(float)
    return df


def monthly(account: str, amounts, year: int = 2025, day: int = 15) -> list[tuple]:
    """One line on the ``day`` of each month Jan..Dec of ``year`` whose amount is not 0."""
    assert len(amounts) == 12
    return [
        (account, f"{year}-{m:02d}-{day:02d}", a) for m, a in enumerate(amounts, start=1) if a != 0
    ]


def abc_frame(ids, values, shares, cumulative, classes) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "account_id": ids,
            "value": [float(v) for v in values],
            "share": [float(s) for s in shares],
            "cumulative_share": [float(c) for c in cumulative],
            "rank": np.arange(1, len(ids) + 1, dtype=np.int64),
            "abc": classes,
        }
    )


def one_per_account(values: dict[str, float], date: str = "2025-06-15") -> pd.DataFrame:
    return lines((acc, date, v) for acc, v in values.items())


def by_account(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.set_index("account_id")


# ---------------------------------------------------------------------------- ABC


def test_abc_account_crossing_the_a_cut_off_is_a():
    tx = one_per_account({"d": 5, "c": 10, "b": 35, "a": 50})
    got = abc_classes(tx, as_of=AS_OF)
    expected = abc_frame(
        ["a", "b", "c", "d"],
        [50, 35, 10, 5],  # total 100
        [0.50, 0.35, 0.10, 0.05],
        [0.50, 0.85, 0.95, 1.00],
        # before: 0 (<.8 A), .5 (<.8 A: b crosses 80 % and is still A),
        # .85 (<.95 B), .95 (not < .95 → C)
        ["A", "A", "B", "C"],
    )
    pd.testing.assert_frame_equal(got, expected)


def test_abc_account_exactly_at_the_cut_off_is_b():
    # 80 / 100 = 0.8 and 1.0 - 0.2 == 0.8 in floating point: before of "b" is exactly 0.8
    got = abc_classes(one_per_account({"a": 80, "b": 20}), as_of=AS_OF)
    assert got["abc"].tolist() == ["A", "B"]  # before 0 → A; before 0.8, not < 0.8 → B


def test_abc_exact_boundaries_with_binary_fractions():
    # shares 6/8 = .75, 1/8 = .125, 1/8 = .125 are exact binary fractions;
    # before: 0 → A, .75 (not < .75) → B, .875 (not < .875) → C
    got = abc_classes(one_per_account({"a": 6, "b": 1, "c": 1}), as_of=AS_OF, cutoffs=(0.75, 0.875))
    expected = abc_frame(
        ["a", "b", "c"], [6, 1, 1], [0.75, 0.125, 0.125], [0.75, 0.875, 1.0], ["A", "B", "C"]
    )
    pd.testing.assert_frame_equal(got, expected)


@pytest.mark.parametrize(
    ("values", "classes"),
    [
        # total 100: before .0, .7, .8, .9 → A, A, B (.8 not < .8), B (.9 < .95)
        ([70, 10, 10, 10], ["A", "A", "B", "B"]),
        # total 15: before 0, 10/15, 12/15 = .8 exactly → A, A, B; 14/15 = .933 → B
        ([10, 2, 2, 1], ["A", "A", "B", "B"]),
    ],
)
def test_abc_exact_boundary_is_not_lost_to_rounding(values, classes):
    tx = one_per_account({f"a{i}": v for i, v in enumerate(values)})
    assert abc_classes(tx, as_of=AS_OF)["abc"].tolist() == classes


def test_abc_ties_are_ranked_by_account_id_and_may_straddle_a_cut_off():
    # t2 comes first in the data; the tie 15 / 15 is ranked t1, t2 (by id)
    tx = lines(
        [
            ("t2", "2025-03-15", 15),
            ("x", "2025-03-15", 70),
            ("t1", "2025-03-15", 15),
        ]
    )
    got = abc_classes(tx, as_of=AS_OF)
    expected = abc_frame(
        ["x", "t1", "t2"],
        [70, 15, 15],
        [0.70, 0.15, 0.15],
        [0.70, 0.85, 1.00],
        # before: 0 → A, .70 → A (t1), .85 → B (t2): equal values, different classes
        ["A", "A", "B"],
    )
    pd.testing.assert_frame_equal(got, expected)


def test_abc_ties_sort_ids_as_text():
    # "a10" < "a9" as text
    got = abc_classes(one_per_account({"a9": 5, "a10": 5}), as_of=AS_OF)
    assert got["account_id"].tolist() == ["a10", "a9"]
    assert got["rank"].tolist() == [1, 2]


def test_abc_one_account_above_the_cut_off_on_its_own_is_a():
    got = abc_classes(one_per_account({"big": 90, "b": 6, "c": 3, "d": 1}), as_of=AS_OF)
    expected = abc_frame(
        ["big", "b", "c", "d"],
        [90, 6, 3, 1],  # total 100
        [0.90, 0.06, 0.03, 0.01],
        [0.90, 0.96, 0.99, 1.00],
        # before: 0 → A (90 % alone), .90 → B, .96 → C, .99 → C
        ["A", "B", "C", "C"],
    )
    pd.testing.assert_frame_equal(got, expected)


def nonpositive_lines() -> pd.DataFrame:
    return lines(
        [
            ("p2", "2025-02-15", 15),
            ("p1", "2025-02-15", 85),
            ("zero", "2025-02-15", 10),
            ("zero", "2025-03-15", -10),  # net 0
            ("neg", "2025-04-15", -5),  # credit note only: net -5
        ]
    )


def test_abc_nonpositive_accounts_are_c_ranked_last_with_a_warning():
    with pytest.warns(ClassificationWarning) as record:
        got = abc_classes(nonpositive_lines(), as_of=AS_OF)
    assert len(record) == 1
    assert record[0].filename == __file__  # stacklevel points at the caller
    message = str(record[0].message)
    assert message.startswith("2 accounts with zero or negative revenue in the window")
    assert message.endswith("were put in class C.")
    expected = abc_frame(
        ["p1", "p2", "zero", "neg"],  # positive first, then 0 before -5
        [85, 15, 0, -5],  # positive total 100
        [0.85, 0.15, 0.0, -0.05],  # -5 / 100
        [0.85, 1.0, 1.0, 1.0],  # nonpositive accounts add nothing
        ["A", "B", "C", "C"],  # before of p2 = .85 → B
    )
    pd.testing.assert_frame_equal(got, expected)
    assert (got["share"].iloc[2:] <= 0).all()


def test_abc_nonpositive_excluded_with_a_warning():
    with pytest.warns(ClassificationWarning, match=r"^2 accounts .* were left out\.$"):
        got = abc_classes(nonpositive_lines(), as_of=AS_OF, nonpositive="exclude")
    expected = abc_frame(["p1", "p2"], [85, 15], [0.85, 0.15], [0.85, 1.0], ["A", "B"])
    pd.testing.assert_frame_equal(got, expected)


def test_abc_one_nonpositive_account_is_counted_in_the_singular():
    tx = lines([("p", "2025-02-15", 10), ("n", "2025-02-15", -1)])
    with pytest.warns(ClassificationWarning, match=r"^1 account with zero or negative revenue"):
        got = abc_classes(tx, as_of=AS_OF)
    assert got["abc"].tolist() == ["A", "C"]


def test_abc_no_warning_without_nonpositive_accounts():
    with warnings.catch_warnings():
        warnings.simplefilter("error", ClassificationWarning)
        abc_classes(one_per_account({"a": 1, "b": 2}), as_of=AS_OF)


def test_abc_single_account_is_a_with_the_whole_share():
    got = abc_classes(one_per_account({"only": 42}), as_of=AS_OF)
    pd.testing.assert_frame_equal(got, abc_frame(["only"], [42], [1.0], [1.0], ["A"]))


def test_abc_empty_window_gives_an_empty_frame_with_the_columns():
    tx = lines([("old", "2023-06-15", 100)])  # before the window
    got = abc_classes(tx, as_of=AS_OF)
    assert got.empty
    assert got.columns.tolist() == ABC_COLUMNS
    xyz = xyz_classes(tx, as_of=AS_OF)
    assert xyz.empty
    assert xyz.columns.tolist() == XYZ_COLUMNS


def test_abc_empty_window_has_the_same_dtypes_as_a_full_one():
    tx = lines([("old", "2023-06-15", 100)])
    empty = abc_classes(tx, as_of=AS_OF).dtypes
    full = abc_classes(tx, as_of="2023-12-31").dtypes
    assert full[["value", "share"]].tolist() == ["float64", "float64"]
    assert empty[["value", "share"]].tolist() == ["float64", "float64"]


def measures_lines() -> pd.DataFrame:
    return lines(
        [
            ("a", "2025-05-15", 100, 5, 2),
            ("b", "2025-05-15", 50, 40, 3),
            ("c", "2025-05-15", 10, 10, 50),
        ],
        columns=("account_id", "date", "amount", "margin", "quantity"),
    )


@pytest.mark.parametrize(
    ("measure", "ids", "values", "classes"),
    [
        # revenue total 160: a .625, b .3125, c .0625; before 0, .625, .9375 → A, A, B
        ("revenue", ["a", "b", "c"], [100, 50, 10], ["A", "A", "B"]),
        # margin total 55: b 40/55 = .727, c 10/55 = .182, a 5/55 = .091;
        # before 0, .727, .909 → A, A, B
        ("margin", ["b", "c", "a"], [40, 10, 5], ["A", "A", "B"]),
        # quantity total 55: c 50/55 = .909, b 3/55 = .055, a 2/55 = .036;
        # before 0, .909, .964 → A, B, C
        ("quantity", ["c", "b", "a"], [50, 3, 2], ["A", "B", "C"]),
    ],
)
def test_abc_measures_rank_differently(measure, ids, values, classes):
    got = abc_classes(measures_lines(), as_of=AS_OF, measure=measure)
    assert got["account_id"].tolist() == ids
    assert got["value"].tolist() == [float(v) for v in values]
    assert got["abc"].tolist() == classes


def test_abc_margin_without_margin_column_names_it_and_suggests_revenue():
    tx = measures_lines().drop(columns="margin")
    with pytest.raises(ValueError, match=r"column\(s\) margin") as excinfo:
        abc_classes(tx, as_of=AS_OF, measure="margin")
    assert "measure='revenue'" in str(excinfo.value)
    with pytest.raises(ValueError, match="measure='revenue'"):
        xyz_classes(tx, as_of=AS_OF, measure="margin")
    with pytest.raises(ValueError, match=r"column\(s\) quantity"):
        abc_classes(tx.drop(columns="quantity"), as_of=AS_OF, measure="quantity")


def window_edge_lines() -> pd.DataFrame:
    return lines(
        [
            ("on_as_of", "2025-12-31", 10),  # as_of itself: in
            ("year_before", "2024-12-31", 100),  # exactly 12 months before: out (start exclusive)
            ("day_after", "2025-01-01", 5),  # first day of the window: in
            ("after", "2026-01-01", 1000),  # after as_of: out
            ("prev_first", "2024-01-01", 7),  # first day of the previous window
            ("two_back", "2023-12-31", 3),  # end of the window before the previous one
        ]
    )


def test_abc_window_edges():
    got = abc_classes(window_edge_lines(), as_of=AS_OF)
    # total 15: on_as_of 10/15, day_after 5/15
    assert got["account_id"].tolist() == ["on_as_of", "day_after"]
    assert got["value"].tolist() == [10.0, 5.0]


def test_abc_xyz_lag_classifies_the_previous_window():
    got = abc_xyz(window_edge_lines(), as_of=AS_OF, lag=1, min_periods=1)
    # previous window (2023-12-31, 2024-12-31]: year_before 100, prev_first 7
    assert got["account_id"].tolist() == ["year_before", "prev_first"]
    assert got["value"].tolist() == [100.0, 7.0]
    # 2024-12-31 is in period 0 of that window, 2024-01-01 in period 11
    assert got["periods"].tolist() == [1, 12]
    same = abc_xyz(window_edge_lines(), as_of="2024-12-31", min_periods=1)
    pd.testing.assert_frame_equal(got, same)


@pytest.mark.parametrize(
    ("cutoffs", "message"),
    [
        ((0.95, 0.8), r"^abc cut-offs must satisfy 0 < A < B ≤ 1, got A=0.95, B=0.8$"),
        ((80, 95), r"got A=80, B=95 \(give fractions: 0.8, not 80\)$"),
        ((0.8, 1.5), r"got A=0.8, B=1.5 \(give fractions"),
        ((0, 0.5), r"got A=0, B=0.5$"),
        ((0.8,), r"two numbers like \(0.8, 0.95\)"),
        (("a", "b"), r"two numbers like \(0.8, 0.95\)"),
    ],
)
def test_abc_bad_cut_offs(cutoffs, message):
    tx = one_per_account({"a": 1})
    with pytest.raises(ValueError, match=message):
        abc_classes(tx, as_of=AS_OF, cutoffs=cutoffs)


def test_abc_cut_off_b_may_be_one():
    # (0.5, 1.0): before 0 → A, .5 → B, .75 → B (everything before 1.0 is B)
    got = abc_classes(one_per_account({"a": 2, "b": 1, "c": 1}), as_of=AS_OF, cutoffs=(0.5, 1.0))
    assert got["abc"].tolist() == ["A", "B", "B"]


def test_abc_bad_measure_and_nonpositive():
    tx = one_per_account({"a": 1})
    with pytest.raises(
        ValueError, match=r"^measure must be one of revenue, margin, quantity, got 'sales'$"
    ):
        abc_classes(tx, as_of=AS_OF, measure="sales")
    with pytest.raises(ValueError, match=r"^nonpositive must be 'C' or 'exclude', got 'drop'$"):
        abc_classes(tx, as_of=AS_OF, nonpositive="drop")


# ---------------------------------------------------------------------------- XYZ (cv)


def cv_lines() -> pd.DataFrame:
    return lines(
        monthly("steady", [100] * 12)
        + monthly("alt", [200, 0] * 6)  # Jan 200, Feb 0, ..., Nov 200, Dec 0
        + monthly("half", [50, 150] * 6)
        + monthly("lumpy", [600] + [0] * 10 + [600])
    )


def test_xyz_cv_by_hand():
    got = by_account(xyz_classes(cv_lines(), as_of=AS_OF))
    expected = pd.DataFrame(
        {
            "account_id": ["alt", "half", "lumpy", "steady"],  # sorted by id
            "periods": [12, 12, 12, 12],  # all bought in January = period 11
            "active_periods": [6, 12, 2, 12],
            # alt: 6 x 200 / 12 = 100; half: (6 x 50 + 6 x 150) / 12 = 100;
            # lumpy: 1200 / 12 = 100; steady: 100
            "mean": [100.0, 100.0, 100.0, 100.0],
            # alt: deviations ±100 → population std 100 → cv 1.0 (≤ 1.0 → Y)
            # half: deviations ±50 → std 50 → cv 0.5 (≤ 0.5 → X)
            # lumpy: deviations 500, 500, 10 x -100 → var (2·250000 + 10·10000)/12 = 50000,
            #   std 223.6 → cv √5 = 2.236 (> 1 → Z)
            # steady: std 0 → cv 0 → X
            "cv": [1.0, 0.5, math.sqrt(5), 0.0],
            "xyz": ["Y", "X", "Z", "X"],
        }
    ).set_index("account_id")
    pd.testing.assert_frame_equal(got[expected.columns], expected)


def test_xyz_span_starts_at_the_first_purchase_in_the_window():
    # first purchase in May = period 7 (Dec 0, Nov 1, ..., May 7); buys May, Jul, Sep, Nov
    tx = lines(monthly("late", [0, 0, 0, 0, 100, 0, 100, 0, 100, 0, 100, 0]))
    got = xyz_classes(tx, as_of=AS_OF).iloc[0]
    assert got["periods"] == 8  # May..Dec; the four empty months before May do not count
    assert got["active_periods"] == 4
    assert got["mean"] == 50.0  # 400 / 8
    assert got["cv"] == pytest.approx(1.0)  # 100/0 alternating: std 50 / mean 50
    assert got["xyz"] == "Y"

    whole = xyz_classes(tx, as_of=AS_OF, span="window").iloc[0]
    assert whole["periods"] == 12
    assert whole["mean"] == pytest.approx(400 / 12)
    # 4 of 12 periods at 100: cv = sqrt((1 - p) / p) with p = 1/3 → √2 = 1.414 → Z
    assert whole["cv"] == pytest.approx(math.sqrt(2))
    assert whole["xyz"] == "Z"


def test_xyz_first_purchase_before_the_window_makes_the_span_the_whole_window():
    tx = lines(monthly("late", [0, 0, 0, 0, 100, 0, 100, 0, 100, 0, 100, 0]))
    first = pd.Series(
        pd.to_datetime(["2023-03-01", "2020-01-01"]),
        index=pd.Index(["late", "not_in_window"], name="account_id"),
    )
    got = xyz_classes(tx, as_of=AS_OF, first_purchase=first).iloc[0]
    assert got["periods"] == 12
    assert got["cv"] == pytest.approx(math.sqrt(2))  # as with span="window"
    assert got["xyz"] == "Z"

    # first purchase on 2025-03-10 (no line in the data): March = period 9 → span 10;
    # p = 4/10 → cv = sqrt(.6/.4) = 1.2247 → Z; mean 400 / 10 = 40
    first_in_window = pd.Series({"late": pd.Timestamp("2025-03-10")})
    got = xyz_classes(tx, as_of=AS_OF, first_purchase=first_in_window).iloc[0]
    assert got["periods"] == 10
    assert got["mean"] == pytest.approx(40.0)
    assert got["cv"] == pytest.approx(math.sqrt(1.5))


def test_xyz_first_purchase_later_than_the_data_does_not_shorten_the_span():
    tx = lines(monthly("late", [0, 0, 0, 0, 100, 0, 100, 0, 100, 0, 100, 0]))
    first = pd.Series({"late": pd.Timestamp("2025-11-01")})  # inconsistent: lines from May
    assert xyz_classes(tx, as_of=AS_OF, first_purchase=first)["periods"].tolist() == [8]


def test_first_purchases():
    tx = lines(
        [
            ("b", "2024-02-01", 1),
            ("a", "2025-06-15", 1),
            ("b", "2023-05-01", -1),
            ("a", "2025-03-15", 1),
            ("c", "2026-02-01", 1),  # after as_of: left out
        ]
    )
    expected = pd.Series(
        pd.to_datetime(["2025-03-15", "2023-05-01"]).astype("datetime64[ns]"),
        index=pd.Index(["a", "b"], name="account_id"),
        name="first_purchase",
    )
    pd.testing.assert_series_equal(first_purchases(tx, as_of=AS_OF), expected)


def test_xyz_min_periods():
    tx = lines(monthly("new", [0] * 9 + [100, 100, 100]) + monthly("old", [100] * 12))
    # "new": span Oct..Dec = 3 periods < 6 (default: 12 // 2) → N although cv = 0
    got = xyz_classes(tx, as_of=AS_OF)
    assert got[["account_id", "periods", "cv", "xyz"]].values.tolist() == [
        ["new", 3, 0.0, "N"],
        ["old", 12, 0.0, "X"],
    ]
    assert xyz_classes(tx, as_of=AS_OF, min_periods=3)["xyz"].tolist() == ["X", "X"]  # 3 ≥ 3
    assert xyz_classes(tx, as_of=AS_OF, min_periods=4)["xyz"].tolist() == ["N", "X"]  # 3 < 4
    assert xyz_classes(tx, as_of=AS_OF, min_periods=13)["xyz"].tolist() == ["N", "N"]
    with pytest.raises(ValueError, match="min_periods must be at least 1, got 0"):
        xyz_classes(tx, as_of=AS_OF, min_periods=0)


def test_xyz_mid_month_as_of_periods():
    as_of = pd.Timestamp("2025-12-15")
    # period 0 = (2025-11-15, 2025-12-15], period 11 = (2024-12-15, 2025-01-15];
    # an account with a single line has periods = its period index + 1
    tx = lines(
        [
            ("on_as_of", "2025-12-15", 1),  # period 0
            ("day_after_cut", "2025-11-16", 1),  # period 0
            ("on_cut", "2025-11-15", 1),  # period 1
            ("jan15", "2025-01-15", 1),  # period 11 (upper end)
            ("jan16", "2025-01-16", 1),  # period 10
            ("dec16", "2024-12-16", 1),  # period 11 (first day of the window)
            ("dec15", "2024-12-15", 1),  # outside: start is exclusive
            ("after", "2025-12-16", 1),  # outside: after as_of
            ("two", "2025-11-16", 1),
            ("two", "2025-12-15", 1),  # same period as 2025-11-16 → one active period
        ]
    )
    got = by_account(xyz_classes(tx, as_of=as_of, min_periods=1))
    assert got["periods"].to_dict() == {
        "day_after_cut": 1,
        "dec16": 12,
        "jan15": 12,
        "jan16": 11,
        "on_as_of": 1,
        "on_cut": 2,
        "two": 1,
    }
    assert got.loc["two", "active_periods"] == 1
    assert got.loc["two", "mean"] == 2.0


def test_xyz_quarter_grain():
    tx = lines(
        monthly("q_steady", [0, 100, 0, 0, 100, 0, 0, 100, 0, 0, 100, 0])  # Feb, May, Aug, Nov
        + monthly("q_swing", [100, 100, 100, 0, 0, 0, 0, 0, 0, 0, 0, 300])
    )
    # quarters back from 2025-12-31: Q0 Oct-Dec, Q1 Jul-Sep, Q2 Apr-Jun, Q3 Jan-Mar
    got = by_account(xyz_classes(tx, as_of=AS_OF, grain="quarter"))
    # q_steady: 100 in every quarter → mean 100, cv 0 → X
    # q_swing: Q3 = 300, Q2 = Q1 = 0, Q0 = 300 → mean 150, std 150 → cv 1 → Y
    assert got[["periods", "active_periods"]].values.tolist() == [[4, 4], [4, 2]]
    assert got["mean"].tolist() == [100.0, 150.0]
    assert got["cv"].tolist() == pytest.approx([0.0, 1.0])
    assert got["xyz"].tolist() == ["X", "Y"]

    # by month the same lines are irregular: q_steady buys 4 of 11 months (Feb..Dec):
    # cv = sqrt((1 - 4/11) / (4/11)) = sqrt(7/4) = 1.32 → Z
    by_month = by_account(xyz_classes(tx, as_of=AS_OF))
    assert by_month.loc["q_steady", "cv"] == pytest.approx(math.sqrt(7 / 4))
    assert by_month.loc["q_steady", "xyz"] == "Z"


def test_xyz_quarter_grain_periods_and_default_min_periods():
    tx = lines([("q0", "2025-12-01", 1), ("q1", "2025-08-01", 1), ("q3", "2025-01-02", 1)])
    window = xyz_classes(tx, as_of=AS_OF, grain="quarter", span="window")
    assert window["periods"].tolist() == [4, 4, 4]  # 12 months / 3
    got = xyz_classes(tx, as_of=AS_OF, grain="quarter")
    # span 1, 2, 4 quarters; default min_periods = 4 // 2 = 2 → only q0 is N;
    # q1: [1, 0] → mean .5, std .5 → cv 1 → Y; q3: one of 4 → cv sqrt(3/1) = 1.73 → Z
    assert got["periods"].tolist() == [1, 2, 4]
    assert got["cv"].tolist()[1:] == pytest.approx([1.0, math.sqrt(3)])
    assert got["xyz"].tolist() == ["N", "Y", "Z"]
    # 8 quarters (24 months) → 8 periods
    assert xyz_classes(tx, as_of=AS_OF, grain="quarter", months=24, span="window")[
        "periods"
    ].tolist() == [8, 8, 8]


def test_xyz_quarter_grain_mid_month_anchor():
    # quarter 0 = (2025-09-15, 2025-12-15]
    tx = lines([("in_q0", "2025-09-16", 1), ("in_q1", "2025-09-15", 1)])
    got = xyz_classes(tx, as_of="2025-12-15", grain="quarter", min_periods=1)
    assert got["periods"].tolist() == [1, 2]


def test_xyz_quarter_grain_needs_whole_quarters():
    tx = one_per_account({"a": 1})
    with pytest.raises(
        ValueError, match=r"^the window must be a positive number of quarters, got 10 months$"
    ):
        xyz_classes(tx, as_of=AS_OF, grain="quarter", months=10)


# ---------------------------------------------------------------------------- XYZ (frequency)


def test_xyz_frequency_by_hand():
    tx = lines(
        # every other month from Jan: periods 11, 9, 7, 5, 3, 1
        monthly("every_other", [100, 0] * 6)
        # Jan..Sep: periods 11..3
        + monthly("nine_straight", [100] * 9 + [0] * 3)
        # Jan..Aug and Dec: periods 11..4 and 0
        + monthly("nine_gap", [100] * 8 + [0, 0, 0, 100])
        # Jan and Jul: periods 11 and 5
        + monthly("twice", [100, 0, 0, 0, 0, 0, 100, 0, 0, 0, 0, 0])
    )
    got = by_account(xyz_classes(tx, as_of=AS_OF, method="frequency"))
    expected = pd.DataFrame(
        {
            "account_id": ["every_other", "nine_gap", "nine_straight", "twice"],
            "periods": [12, 12, 12, 12],
            "active_periods": [6, 9, 9, 2],
            # 6/12, 9/12, 9/12, 2/12
            "purchase_share": [0.5, 0.75, 0.75, 2 / 12],
            # every_other: gaps 2,2,2,2,2 → cv 0
            # nine_gap: gaps 1 x 7 and 4 → mean 11/8 = 1.375; deviations -.375 x 7, 2.625;
            #   var (7·.140625 + 6.890625)/8 = .984375 → std .99216 → cv .72157
            # nine_straight: gaps 1 x 8 → cv 0
            # twice: one gap → NaN
            "gap_cv": [0.0, math.sqrt(0.984375) / 1.375, 0.0, np.nan],
            # every_other: share .5 < .75 → not X; ≥ .4 → Y
            # nine_gap: share .75 but gap cv .72 > .5 → Y
            # nine_straight: share .75 ≥ .75 and gap cv 0 → X
            # twice: share .167 < .4 → Z
            "xyz": ["Y", "Y", "X", "Z"],
        }
    ).set_index("account_id")
    pd.testing.assert_frame_equal(got[expected.columns], expected)


def test_xyz_frequency_gap_cv_of_one_and_three():
    # buys in periods 4, 3, 0 (Aug, Sep, Dec): span 5, share 3/5 = .6; gaps 1, 3 →
    # mean 2, population std 1 → gap cv 0.5
    tx = lines(monthly("g", [0] * 7 + [100, 100, 0, 0, 100]))
    got = xyz_classes(tx, as_of=AS_OF, method="frequency", min_periods=1).iloc[0]
    assert got["purchase_share"] == pytest.approx(0.6)
    assert got["gap_cv"] == pytest.approx(0.5)
    assert got["xyz"] == "Y"  # share .6 < .75
    lower = xyz_classes(tx, as_of=AS_OF, method="frequency", min_periods=1, cutoffs={"x": 0.6})
    assert lower["xyz"].tolist() == ["X"]  # .6 ≥ .6 and .5 ≤ .5
    strict = xyz_classes(
        tx, as_of=AS_OF, method="frequency", min_periods=1, cutoffs={"x": 0.6, "gap_cv": 0.4}
    )
    assert strict["xyz"].tolist() == ["Y"]  # gap cv .5 > .4


def test_xyz_frequency_fewer_than_two_gaps_is_not_x():
    tx = lines(
        monthly("two_months", [0] * 10 + [100, 100])  # Nov, Dec: one gap
        + monthly("one_month", [0] * 11 + [100])  # Dec only: no gap
    )
    got = xyz_classes(tx, as_of=AS_OF, method="frequency", min_periods=1)
    assert got["purchase_share"].tolist() == [1.0, 1.0]
    assert got["gap_cv"].isna().all()
    assert got["xyz"].tolist() == ["Y", "Y"]  # share 1.0 but gap cv NaN → not X


# ---------------------------------------------------------------------------- XYZ (sbc)


def sbc_lines() -> pd.DataFrame:
    return lines(
        monthly("smooth", [100] * 12)
        + monthly("erratic", [20, 180] * 6)
        + monthly("intermittent", [100, 0] * 6)
        + monthly("lumpy", [20, 0, 180, 0] * 3)
    )


def test_xyz_sbc_patterns_by_hand():
    got = by_account(xyz_classes(sbc_lines(), as_of=AS_OF, method="sbc"))
    expected = pd.DataFrame(
        {
            "account_id": ["erratic", "intermittent", "lumpy", "smooth"],
            # ADI = periods / active periods: 12/12, 12/6, 12/6, 12/12
            "adi": [1.0, 2.0, 2.0, 1.0],
            # CV² of the non-zero periods, population:
            # erratic: 20/180 → mean 100, std 80 → .8² = .64; intermittent: all 100 → 0;
            # lumpy: non-zero 20/180 → .64; smooth: 0
            "cv2": [0.64, 0.0, 0.64, 0.0],
            # adi < 1.32 and cv2 < .49 → smooth; adi < 1.32 → erratic; cv2 < .49 →
            # intermittent; else lumpy
            "pattern": ["erratic", "intermittent", "lumpy", "smooth"],
            "xyz": ["Y", "Y", "Z", "X"],
        }
    ).set_index("account_id")
    pd.testing.assert_frame_equal(got[expected.columns], expected, check_dtype=False)
    assert (got["pattern"].map(SBC_TO_XYZ) == got["xyz"]).all()


def test_xyz_sbc_custom_cut_offs():
    got = by_account(xyz_classes(sbc_lines(), as_of=AS_OF, method="sbc", cutoffs={"adi": 2.5}))
    # ADI 2 < 2.5: intermittent → smooth (X), lumpy → erratic (Y)
    assert got["pattern"].to_dict() == {
        "erratic": "erratic",
        "intermittent": "smooth",
        "lumpy": "erratic",
        "smooth": "smooth",
    }
    assert got["xyz"].tolist() == ["Y", "X", "Y", "X"]


# ---------------------------------------------------------------------------- XYZ (other rules)


def credit_note_lines() -> pd.DataFrame:
    rows = monthly("cn", [100, 0] + [100] * 10)  # Feb without a purchase line
    rows += [("cn", "2025-02-10", 50), ("cn", "2025-02-20", -80)]  # Feb net -30
    return lines(rows)


def test_xyz_negative_period_counts_as_zero():
    got = xyz_classes(credit_note_lines(), as_of=AS_OF).iloc[0]
    assert got["periods"] == 12
    assert got["active_periods"] == 11  # February (net -30) is not a purchase
    assert got["mean"] == pytest.approx(1100 / 12)  # -30 counts as 0, not as -30
    # 11 of 12 periods at 100, one 0: cv = sqrt((1 - p) / p), p = 11/12 → sqrt(1/11) = .3015
    assert got["cv"] == pytest.approx(math.sqrt(1 / 11))
    assert got["xyz"] == "X"
    # ABC still uses the net: 1100 + 50 - 80 = 1070
    assert abc_classes(credit_note_lines(), as_of=AS_OF)["value"].tolist() == [1070.0]


def test_xyz_custom_cut_off():
    got = xyz_classes(credit_note_lines(), as_of=AS_OF, cutoffs={"x": 0.2})
    assert got["xyz"].tolist() == ["Y"]  # cv .3015 > .2, ≤ 1.0
    got = xyz_classes(credit_note_lines(), as_of=AS_OF, cutoffs={"x": 0.1, "y": 0.3})
    assert got["xyz"].tolist() == ["Z"]  # cv .3015 > .3


def test_xyz_only_credit_notes_is_z():
    tx = lines(monthly("neg", [-10] * 12))
    with pytest.warns(ClassificationWarning):
        got = abc_xyz(tx, as_of=AS_OF)
    assert got[["abc", "xyz", "cell", "active_periods"]].values.tolist() == [["C", "Z", "CZ", 0]]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"cutoffs": {"z": 1}},
            r"^unknown cut-off\(s\) z for method 'cv'; its cut-offs are x \(default 0.5\), "
            r"y \(default 1\)$",
        ),
        (
            {"method": "frequency", "cutoffs": {"adi": 1, "x": 0.5}},
            r"^unknown cut-off\(s\) adi for method 'frequency'; its cut-offs are "
            r"x \(default 0.75\), y \(default 0.4\), gap_cv \(default 0.5\)$",
        ),
        (
            {"method": "abc"},
            r"^xyz method must be one of cv, frequency, sbc, got 'abc'$",
        ),
        ({"grain": "week"}, r"^grain must be 'month' or 'quarter', got 'week'$"),
        ({"span": "full"}, r"^span must be 'active' or 'window', got 'full'$"),
        ({"cutoffs": {"x": 1.2}}, r"^cv cut-offs must satisfy 0 ≤ x < y, got x=1.2, y=1$"),
        ({"method": "frequency", "cutoffs": {"x": 80}}, r"0 ≤ y < x ≤ 1, got x=80, y=0.4$"),
        ({"measure": "kg"}, r"^measure must be one of revenue, margin, quantity, got 'kg'$"),
    ],
)
def test_xyz_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        xyz_classes(cv_lines(), as_of=AS_OF, **kwargs)


def test_xyz_defaults_are_the_documented_ones():
    assert XYZ_DEFAULTS == {
        "cv": {"x": 0.5, "y": 1.0},
        "frequency": {"x": 0.75, "y": 0.4, "gap_cv": 0.5},
        "sbc": {"adi": 1.32, "cv2": 0.49},
    }
    assert SBC_TO_XYZ == {"smooth": "X", "erratic": "Y", "intermittent": "Y", "lumpy": "Z"}


def test_abc_xyz_combines_abc_and_xyz():
    tx = cv_lines()
    got = abc_xyz(tx, as_of=AS_OF)
    abc = abc_classes(tx, as_of=AS_OF)
    xyz = xyz_classes(tx, as_of=AS_OF)
    pd.testing.assert_frame_equal(got[ABC_COLUMNS], abc)
    pd.testing.assert_frame_equal(
        got[XYZ_COLUMNS].sort_values("account_id").reset_index(drop=True), xyz
    )
    assert (got["cell"] == got["abc"] + got["xyz"]).all()
    # column order: the ABC columns, then xyz and cell, then the XYZ measures
    assert got.columns.tolist()[:8] == [*ABC_COLUMNS, "xyz", "cell"]


# ---------------------------------------------------------------------------- matrix


def classified() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "account_id": ["a1", "a2", "a3", "a4", "a5", "a6"],
            "abc": ["A", "A", "B", "C", "C", "C"],
            "xyz": ["X", "Y", "X", "Z", "Z", "Z"],
            "value": [500.0, 300.0, 100.0, 60.0, 40.0, -20.0],
        }
    )


def test_abc_xyz_matrix_by_hand():
    got = abc_xyz_matrix(classified())
    cells = [a + x for a in "ABC" for x in "XYZ"]
    # positive total 500 + 300 + 100 + 60 + 40 = 1000; 6 accounts
    accounts = [1, 1, 0, 1, 0, 0, 0, 0, 3]
    value = [500.0, 300.0, 0.0, 100.0, 0.0, 0.0, 0.0, 0.0, 80.0]  # CZ: 60 + 40 - 20
    playbook = ABC_XYZ_PLAYBOOK.set_index("cell")
    expected = pd.DataFrame(
        {
            "abc": [c[0] for c in cells],
            "xyz": [c[1] for c in cells],
            "cell": cells,
            "accounts": np.array(accounts, dtype=np.int64),
            "value": value,
            "account_share": [n / 6 for n in accounts],  # CZ 3/6 = .5
            "value_share": [v / 1000 for v in value],  # AX .5, AY .3, BX .1, CZ .08
            "strategy": playbook.loc[cells, "strategy"].tolist(),
            "how to work": playbook.loc[cells, "how to work"].tolist(),
        }
    )
    pd.testing.assert_frame_equal(got, expected)
    assert got.loc[got["cell"] == "AX", "strategy"].item() == "Protect and plan"


def test_abc_xyz_matrix_n_cells_only_when_an_account_is_n():
    frame = pd.concat(
        [
            classified(),
            pd.DataFrame({"account_id": ["a7"], "abc": ["C"], "xyz": ["N"], "value": [10.0]}),
        ],
        ignore_index=True,
    )
    got = abc_xyz_matrix(frame)
    assert got["cell"].tolist() == [a + x for a in "ABC" for x in "XYZN"]
    n_cells = got[got["xyz"] == "N"].set_index("cell")
    assert n_cells["accounts"].to_dict() == {"AN": 0, "BN": 0, "CN": 1}
    assert n_cells.loc["CN", "value_share"] == pytest.approx(10 / 1010)  # positive total 1010
    assert n_cells.loc["CN", "account_share"] == pytest.approx(1 / 7)
    assert (n_cells["strategy"] == "Too little history: watch and decide after more periods.").all()
    assert (n_cells["how to work"] == "").all()
    assert "N" not in set(abc_xyz_matrix(classified())["xyz"])


def test_abc_xyz_matrix_custom_playbook():
    playbook = pd.DataFrame({"cell": ["AX"], "strategy": ["Hug"], "how to work": ["Often"]})
    got = abc_xyz_matrix(classified(), playbook=playbook).set_index("cell")
    assert got.loc["AX", "strategy"] == "Hug"
    assert got.loc["AX", "how to work"] == "Often"
    assert got.loc["BX", "how to work"] == ""  # not in the playbook


def test_abc_xyz_matrix_from_abc_xyz():
    got = abc_xyz_matrix(abc_xyz(cv_lines(), as_of=AS_OF)).set_index("cell")
    # each account 1200: before 0, .25, .5, .75 → all A; alt Y, half X, lumpy Z, steady X
    assert got["accounts"][got["accounts"] > 0].to_dict() == {"AX": 2, "AY": 1, "AZ": 1}
    assert got.loc["AX", "value_share"] == pytest.approx(0.5)  # 2400 / 4800


# ---------------------------------------------------------------------------- migration


def migration_lines() -> pd.DataFrame:
    rows = []
    for year in (2024, 2025):
        rows += monthly("big", [100] * 12, year=year)
    rows += monthly("fall", [100] * 12, year=2024) + monthly("fall", [10] * 12, year=2025)
    rows += monthly("gone", [100] * 12, year=2024)  # nothing in 2025
    rows += monthly("erratic", [50] * 12, year=2024)
    rows += monthly("erratic", [300] + [0] * 10 + [300], year=2025)
    rows += monthly("new", [50] * 12, year=2025)
    rows += monthly("tiny", [5] * 12, year=2024)  # a C account that stopped buying
    return lines(rows)


def test_migration_by_hand():
    result = migration(migration_lines(), as_of=AS_OF)
    # 2024: big 1200, fall 1200, gone 1200, erratic 600, tiny 60; total 4260;
    #   before: 0, .282, .563, 3600/4260 = .845, 4200/4260 = .986 → A, A, A, B, C;
    #   all cv 0 → X
    # 2025: big 1200, erratic 600, new 600, fall 120; total 2520;
    #   before: 0, .476, .714, 2400/2520 = .952 → A, A, A, C;
    #   erratic 300 Jan + 300 Dec → cv √5 → Z; the others cv 0 → X
    expected = pd.DataFrame(
        {
            # value_before descending, then id
            "account_id": ["big", "fall", "gone", "erratic", "tiny", "new"],
            "abc_before": ["A", "A", "A", "B", "C", "—"],
            "xyz_before": ["X", "X", "X", "X", "X", "—"],
            "cell_before": ["AX", "AX", "AX", "BX", "CX", "—"],
            "value_before": [1200.0, 1200.0, 1200.0, 600.0, 60.0, 0.0],
            "abc_now": ["A", "C", "—", "A", "—", "A"],
            "xyz_now": ["X", "X", "—", "Z", "—", "X"],
            "cell_now": ["AX", "CX", "—", "AZ", "—", "AX"],
            "value_now": [1200.0, 120.0, 0.0, 600.0, 0.0, 600.0],
            "change": [0.0, -1080.0, -1200.0, 0.0, -60.0, 600.0],
            # A→C and A→— fell; C→— (tiny) is not a fall from A/B; —→A (new) is not either
            "abc_fell": [False, True, True, False, False, False],
            # X→Z fell; X→— is not an XYZ fall (it is the ABC one)
            "xyz_fell": [False, False, False, True, False, False],
        }
    )
    pd.testing.assert_frame_equal(result.moves, expected)
    pd.testing.assert_frame_equal(result.fallers, expected.iloc[[1, 2, 3]].reset_index(drop=True))
    assert result.current["account_id"].tolist() == ["big", "erratic", "new", "fall"]
    assert result.previous["account_id"].tolist() == ["big", "fall", "gone", "erratic", "tiny"]


def test_transition_matrix_by_hand():
    moves = migration(migration_lines(), as_of=AS_OF).moves
    labels = pd.Index(["A", "B", "C", "—"])
    expected = pd.DataFrame(
        [
            [1, 0, 1, 1],  # A → A big, A → C fall, A → — gone
            [1, 0, 0, 0],  # B → A erratic
            [0, 0, 0, 1],  # C → — tiny
            [1, 0, 0, 0],  # — → A new
        ],
        index=labels.rename("before"),
        columns=labels.rename("now"),
    )
    pd.testing.assert_frame_equal(transition_matrix(moves), expected)

    values = pd.DataFrame(
        [
            [1200.0, 0.0, 120.0, 0.0],  # big 1200 now, fall 120 now, gone 0
            [600.0, 0.0, 0.0, 0.0],  # erratic
            [0.0, 0.0, 0.0, 0.0],
            [600.0, 0.0, 0.0, 0.0],  # new
        ],
        index=labels.rename("before"),
        columns=labels.rename("now"),
    )
    # dtypes: see test_transition_matrix_value_sums_are_all_float
    pd.testing.assert_frame_equal(
        transition_matrix(moves, value="value_now"), values, check_dtype=False
    )
    before = transition_matrix(moves, value="value_before")
    assert before.loc["A"].tolist() == [1200.0, 0.0, 1200.0, 1200.0]  # big, fall, gone

    xyz_labels = pd.Index(["X", "Z", "—"])  # Y and N occur nowhere; Z only now
    xyz = pd.DataFrame(
        # X→X big, fall; X→Z erratic; X→— gone, tiny; —→X new
        [[2, 1, 2], [0, 0, 0], [1, 0, 0]],
        index=xyz_labels.rename("before"),
        columns=xyz_labels.rename("now"),
    )
    pd.testing.assert_frame_equal(transition_matrix(moves, level="xyz"), xyz)

    cells = transition_matrix(moves, level="cell")
    assert cells.loc["AX", "CX"] == 1
    assert cells.loc["BX", "AZ"] == 1
    assert cells.loc["CX", "—"] == 1
    assert int(cells.to_numpy().sum()) == 6


def test_transition_matrix_value_sums_are_all_float():
    moves = migration(migration_lines(), as_of=AS_OF).moves
    table = transition_matrix(moves, value="value_now")
    assert table.dtypes.tolist() == ["float64"] * 4  # A, B (nobody is B now), C, —


def test_transition_matrix_bad_arguments():
    moves = migration(migration_lines(), as_of=AS_OF).moves
    with pytest.raises(ValueError, match=r"^level must be 'abc', 'xyz' or 'cell', got 'segment'$"):
        transition_matrix(moves, level="segment")
    with pytest.raises(
        ValueError, match=r"value must be 'accounts', 'value_now' or 'value_before'"
    ):
        transition_matrix(moves, value="count")


def test_migration_passes_options_on():
    result = migration(migration_lines(), as_of=AS_OF, xyz_method="frequency")
    # erratic in 2025 buys Jan and Dec only: share 2/12 → Z; in 2024 every month → X
    assert result.moves.set_index("account_id").loc["erratic", "xyz_now"] == "Z"
    assert result.fallers["account_id"].tolist() == ["fall", "gone", "erratic"]


def test_migration_judges_a_paused_account_on_its_whole_history():
    # "sleepy" bought every month in 2024 and only in December 2025. On the window alone its
    # 2025 span starts in December (1 period < 6) → N, which is never a faller; migration
    # takes first purchases from all lines by default, so the span is the whole window:
    # 1 of 12 → cv √11 → Z → an X→Z faller.
    tx = lines(monthly("sleepy", [100] * 12, year=2024) + monthly("sleepy", [0] * 11 + [100]))
    window_only = abc_xyz(tx, as_of=AS_OF)
    assert window_only["xyz"].tolist() == ["N"]
    moves = migration(tx, as_of=AS_OF).moves
    assert moves[["xyz_before", "xyz_now", "xyz_fell"]].values.tolist() == [["X", "Z", True]]
    explicit = migration(tx, as_of=AS_OF, first_purchase=first_purchases(tx, as_of=AS_OF)).moves
    pd.testing.assert_frame_equal(moves, explicit)


def test_migration_refuses_lag():
    tx = lines(monthly("a", [100] * 12))
    with pytest.raises(ValueError, match="do not pass lag"):
        migration(tx, as_of=AS_OF, lag=1)


def test_line_with_a_time_of_day_on_as_of_counts():
    tx = pd.DataFrame(
        {
            "account_id": ["a", "a"],
            "date": pd.to_datetime(["2025-12-31 15:00", "2024-12-31 15:00"]),
            "amount": [100.0, 50.0],
        }
    )
    # the first is on as_of (in), the second on the day the window starts after (out)
    assert abc_classes(tx, as_of=AS_OF)["value"].tolist() == [100.0]


@pytest.mark.parametrize(
    ("method", "cutoffs", "message"),
    [
        ("sbc", {"adi": 0.5}, "adi ≥ 1"),
        ("sbc", {"cv2": -1}, "cv2 ≥ 0"),
        ("frequency", {"gap_cv": -0.1}, "gap_cv cut-off must be ≥ 0"),
    ],
)
def test_bad_sbc_and_gap_cutoffs(method, cutoffs, message):
    tx = lines(monthly("a", [100] * 12))
    with pytest.raises(ValueError, match=message):
        xyz_classes(tx, as_of=AS_OF, method=method, cutoffs=cutoffs)


# ---------------------------------------------------------------------------- properties

PROPERTY_AS_OF = pd.Timestamp("2025-12-31")
START = pd.Timestamp("2023-01-01")
CLASS_RANK = {"A": 0, "B": 1, "C": 2}


@st.composite
def transactions(draw) -> pd.DataFrame:
    n_accounts = draw(st.integers(2, 30))
    n_lines = draw(st.integers(n_accounts, 80))
    account = draw(hnp.arrays(np.int64, n_lines, elements=st.integers(0, n_accounts - 1)))
    # 2023-01-01 .. 2026-01-30: the window, the one before, and lines after as_of
    day = draw(hnp.arrays(np.int64, n_lines, elements=st.integers(0, 3 * 365 + 30)))
    # whole numbers, so sums are exact whatever the order; about one line in five negative
    amount = draw(hnp.arrays(np.int64, n_lines, elements=st.integers(-1200, 5000)))
    return pd.DataFrame(
        {
            "account_id": [f"acc{a:02d}" for a in account],
            "date": (START + pd.to_timedelta(day, unit="D")).astype("datetime64[ns]"),
            "amount": amount.astype(float),
        }
    )


def quiet(func, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ClassificationWarning)
        return func(*args, **kwargs)


PROPERTY = settings(max_examples=50, deadline=None)
METHODS = st.sampled_from(["cv", "frequency", "sbc"])
GRAINS = st.sampled_from(["month", "quarter"])


@PROPERTY
@given(tx=transactions(), method=METHODS, grain=GRAINS)
def test_property_every_buying_account_gets_one_class_of_each(tx, method, grain):
    got = quiet(abc_xyz, tx, as_of=PROPERTY_AS_OF, xyz_method=method, grain=grain)
    in_window = tx[(tx["date"] > pd.Timestamp("2024-12-31")) & (tx["date"] <= PROPERTY_AS_OF)]
    assert sorted(got["account_id"]) == sorted(set(in_window["account_id"]))
    assert got["account_id"].is_unique
    assert set(got["abc"]) <= {"A", "B", "C"}
    assert set(got["xyz"]) <= {"X", "Y", "Z", "N"}
    assert got[["abc", "xyz"]].notna().all().all()
    totals = in_window.groupby("account_id")["amount"].sum()
    assert got.set_index("account_id")["value"].to_dict() == totals.to_dict()


@PROPERTY
@given(tx=transactions())
def test_property_larger_value_never_gets_a_worse_abc_class(tx):
    got = quiet(abc_classes, tx, as_of=PROPERTY_AS_OF)
    value = got["value"].to_numpy()
    rank = got["abc"].map(CLASS_RANK).to_numpy()
    larger = value[:, None] > value[None, :]
    assert not (larger & (rank[:, None] > rank[None, :])).any()
    assert (got.loc[got["value"] <= 0, "abc"] == "C").all()


@PROPERTY
@given(tx=transactions(), seed=st.integers(0, 2**32 - 1), method=METHODS, grain=GRAINS)
def test_property_row_order_does_not_matter(tx, seed, method, grain):
    shuffled = tx.sample(frac=1, random_state=seed)
    options = {"as_of": PROPERTY_AS_OF, "xyz_method": method, "grain": grain}
    pd.testing.assert_frame_equal(
        quiet(abc_xyz, shuffled, **options), quiet(abc_xyz, tx, **options)
    )
    pd.testing.assert_series_equal(
        first_purchases(shuffled, as_of=PROPERTY_AS_OF), first_purchases(tx, as_of=PROPERTY_AS_OF)
    )


@PROPERTY
@given(tx=transactions(), data=st.data(), method=METHODS)
def test_property_splitting_a_line_changes_nothing(tx, data, method):
    i = data.draw(st.integers(0, len(tx) - 1))
    part = data.draw(st.integers(-1000, 1000))
    row = tx.iloc[[i]]
    split = pd.concat(
        [
            tx.drop(index=tx.index[i]),
            row.assign(amount=float(part)),
            row.assign(amount=row["amount"].iloc[0] - part),
        ],
        ignore_index=True,
    )
    options = {"as_of": PROPERTY_AS_OF, "xyz_method": method}
    pd.testing.assert_frame_equal(quiet(abc_xyz, split, **options), quiet(abc_xyz, tx, **options))


@PROPERTY
@given(tx=transactions())
def test_property_cumulative_share_rises_to_one(tx):
    got = quiet(abc_classes, tx, as_of=PROPERTY_AS_OF)
    positive = got[got["value"] > 0]
    if positive.empty:
        return
    cumulative = positive["cumulative_share"].to_numpy()
    assert (np.diff(cumulative) > 0).all()
    assert cumulative[-1] == pytest.approx(1.0, abs=1e-9)
    assert positive["share"].sum() == pytest.approx(1.0, abs=1e-9)
    # positive accounts come first, the nonpositive ones keep the total at 1
    assert (got["value"] > 0).tolist() == sorted((got["value"] > 0).tolist(), reverse=True)
    assert np.allclose(got.loc[got["value"] <= 0, "cumulative_share"], 1.0, atol=1e-9)


@PROPERTY
@given(
    as_of=st.dates(min_value=pd.Timestamp("2024-01-01").date(), max_value=PROPERTY_AS_OF.date()),
    days_back=st.integers(0, 365),
)
def test_property_period_of_a_date_follows_the_calendar(as_of, days_back):
    """Period k is (as_of - (k+1) months, as_of - k months], for any as_of (month ends too)."""
    as_of = pd.Timestamp(as_of)
    date = as_of - pd.Timedelta(days=days_back)
    if date <= as_of - pd.DateOffset(months=12):
        return
    k = next(
        k
        for k in range(12)
        if as_of - pd.DateOffset(months=k + 1) < date <= as_of - pd.DateOffset(months=k)
    )
    tx = lines([("a", date, 1)])
    got = xyz_classes(tx, as_of=as_of, min_periods=1)
    assert got["periods"].tolist() == [k + 1]
    quarters = xyz_classes(tx, as_of=as_of, min_periods=1, grain="quarter")
    assert quarters["periods"].tolist() == [k // 3 + 1]
