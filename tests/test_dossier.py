"""The account dossier on a small hand-made company, and on the bundled sample.

Every expected number is worked out by hand in the comment next to it. AS_OF is
2026-06-30, so:

* the last 12 months are 2025-07-01 .. 2026-06-30 (a line on 2025-07-01 is in),
* the 12 months before are 2024-07-01 .. 2025-06-30 (a line on 2024-06-30 is in neither),
* the 36 months of ``monthly`` are 2023-07 .. 2026-06,
* the half-years are 2023 H1 .. 2025 H2 (complete) and 2026 H1 (current),
* "the last 180 days" start on 2026-01-01 (Jan 31 + Feb 28 + Mar 31 + Apr 30 + May 31
  + Jun 29 = 180 days before June 30), "90 days ago" is 2026-04-01.

The company (currency EUR, quantities in kg), products P1 Epoxy, P2 Hot melt, P3 PU:

* K10127 Alpha Klebtechnik GmbH — growing (+25 %), pays late, a lost tender, a
  high-influence blocker, satisfaction down 2 points; green coverage.
* K10128 Beta Kleber AG — falling sales (−20 %), no visit for 121 days; red coverage.
* K10200 Gamma Werke — new: two lines in 2026, no first_order_date, no rows elsewhere.
* K20001 Delta Bau — lost: bought in 2023 and once in the year before, nothing since.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import kamlib
from kamlib.dataset import Dataset
from kamlib.dossier import (
    DOSSIER_SIGNALS,
    Coverage,
    CustomerReport,
    Dossier,
    Payments,
    UnknownAccountError,
    build_dossier,
    build_dossiers,
    consumption_report,
)

AS_OF = pd.Timestamp("2026-06-30")
ALPHA, BETA, GAMMA, DELTA = "K10127", "K10128", "K10200", "K20001"


def _dates(df: pd.DataFrame, *columns: str) -> pd.DataFrame:
    for col in columns:
        df[col] = pd.to_datetime(df[col]).astype("datetime64[ns]")
    return df


def _frame(rows, columns) -> pd.DataFrame:
    return pd.DataFrame(list(rows), columns=list(columns))


# ------------------------------------------------------------------------- the company


def transactions() -> pd.DataFrame:
    rows = [
        # account, date, amount, quantity, margin, product, invoice
        # --- Alpha: 2023 H1, before the 36 months of `monthly`
        (ALPHA, "2023-02-10", 400.0, 40.0, 160.0, "P1", "R100"),
        # the day before the previous 12 months: in 2024 H1 and monthly 2024-06 only
        (ALPHA, "2024-06-30", 50.0, 5.0, 10.0, "P2", "R099"),
        # previous 12 months: revenue 2000, margin 700, quantity 150
        (ALPHA, "2024-09-10", 1000.0, 100.0, 400.0, "P1", "R101"),
        (ALPHA, "2025-03-15", 1000.0, 50.0, 300.0, "P2", "R102"),
        # last 12 months: revenue 2500, margin 850, quantity 200
        (ALPHA, "2025-07-01", 800.0, 80.0, 320.0, "P1", "R103"),
        (ALPHA, "2025-11-20", 600.0, 60.0, 240.0, "P1", "R104"),
        (ALPHA, "2025-11-20", 200.0, 10.0, 50.0, "P3", "R104"),
        (ALPHA, "2026-03-05", 600.0, 30.0, 180.0, "P2", "R105"),
        (ALPHA, "2026-06-30", 300.0, 20.0, 60.0, "P3", "R106"),
        # after as_of: never seen
        (ALPHA, "2026-07-01", 9999.0, 999.0, 999.0, "P1", "R108"),
        # --- Beta: previous 5000, last 4000
        (BETA, "2024-08-15", 2500.0, 250.0, 500.0, "P2", "R201"),
        (BETA, "2025-02-15", 2500.0, 250.0, 500.0, "P2", "R202"),
        (BETA, "2025-08-15", 2000.0, 200.0, 400.0, "P2", "R203"),
        (BETA, "2026-02-15", 2000.0, 100.0, 800.0, "P1", "R204"),
        # --- Gamma: new, 1000 in the last 12 months
        (GAMMA, "2026-02-10", 500.0, 25.0, 100.0, "P3", "R301"),
        (GAMMA, "2026-05-20", 500.0, 25.0, 100.0, "P3", "R302"),
        # --- Delta: lost
        (DELTA, "2023-03-10", 1000.0, 100.0, 300.0, "P1", "R401"),
        (DELTA, "2023-09-10", 800.0, 80.0, 240.0, "P1", "R402"),
        (DELTA, "2024-10-10", 1000.0, 100.0, 300.0, "P1", "R403"),
    ]
    df = _frame(
        rows, ["account_id", "date", "amount", "quantity", "margin", "product_id", "invoice_id"]
    )
    df.insert(4, "cost", df["amount"] - df["margin"])
    df = df[
        ["account_id", "date", "amount", "quantity", "cost", "product_id", "invoice_id", "margin"]
    ]
    return _dates(df, "date")


def accounts() -> pd.DataFrame:
    df = pd.DataFrame(
        {
            "account_id": [ALPHA, BETA, GAMMA, DELTA],
            "name": ["Alpha Klebtechnik GmbH", "Beta Kleber AG", "Gamma Werke", "Delta Bau"],
            "country": ["DE", "CH", "AT", "DE"],
            "region": ["South", "Alps", "Alps", None],
            "industry": ["Automotive", "Packaging", "Furniture", "Construction"],
            "segment": ["OEM", "Industrial user", "Craft", "Craft"],
            "account_manager": ["Eva Svobodová", "Claire Dubois", "Claire Dubois", None],
            "first_order_date": ["2019-03-01", "2022-01-10", None, "2020-05-05"],
            "headcount": pd.array([250, 80, 12, 30], dtype="Int64"),
            "annual_sales": [52_000_000.0, 9_000_000.0, np.nan, 4_000_000.0],
            "is_distributor": pd.array([False, False, False, False], dtype="boolean"),
            "is_multinational": pd.array([True, False, False, False], dtype="boolean"),
            "group": ["Alpha Holding", None, None, None],
            "is_prestige": pd.array([True, False, False, False], dtype="boolean"),
            "is_test_partner": pd.array([False, True, False, False], dtype="boolean"),
        }
    )
    return _dates(df, "first_order_date")


def products() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "product_id": ["P1", "P2", "P3"],
            "name": ["Epo E-100", "Hot S-100", "PU P-300"],
            "product_group": ["Epoxy", "Hot melt", "PU"],
            "unit": ["kg", "kg", "kg"],
            "is_slow_moving": pd.array([False, False, False], dtype="boolean"),
            "list_price": [10.0, 20.0, 15.0],
        }
    )


def invoices() -> pd.DataFrame:
    rows = [
        # id, account, invoice, due, paid, amount, method
        # due before the last 12 months: not in the buckets
        ("R102", ALPHA, "2025-03-15", "2025-04-14", "2025-04-10", 1000.0, "transfer"),
        # paid 6 days early → on time
        ("R103", ALPHA, "2025-07-01", "2025-07-31", "2025-07-25", 800.0, "cash"),
        # Dec 20 → Jan 19 = 11 + 19 = 30 days → 1-30
        ("R104", ALPHA, "2025-11-20", "2025-12-20", "2026-01-19", 800.0, "transfer"),
        # Apr 4 → May 5 = 26 + 5 = 31 days → 31-60
        ("R105", ALPHA, "2026-03-05", "2026-04-04", "2026-05-05", 600.0, "cash"),
        # due after as_of: not in the buckets; open, not overdue
        ("R106", ALPHA, "2026-06-30", "2026-07-30", None, 300.0, "transfer"),
        # paid after as_of → open; late until as_of: Mar 3 → Jun 30 = 28+30+31+30 = 119 → over 90
        ("R090", ALPHA, "2026-02-01", "2026-03-03", "2026-07-15", 500.0, "cash"),
        # Mar 31 → Jun 5 = 30 + 31 + 5 = 66 days → 61-90
        ("R091", ALPHA, "2026-03-01", "2026-03-31", "2026-06-05", 400.0, "transfer"),
        # open, May 31 → Jun 30 = 30 days late at as_of → 1-30; overdue
        ("R092", ALPHA, "2026-05-01", "2026-05-31", None, 200.0, "transfer"),
        # open, due on as_of: 0 days → on time; open but not overdue
        ("R093", ALPHA, "2026-05-31", "2026-06-30", None, 100.0, "transfer"),
        # invoiced after as_of: never seen
        ("R108", ALPHA, "2026-07-01", "2026-07-31", None, 9999.0, "cash"),
        # Beta pays on time; one of two in cash
        ("R203", BETA, "2025-08-15", "2025-09-14", "2025-09-10", 2000.0, "cash"),
        ("R204", BETA, "2026-02-15", "2026-03-17", "2026-03-17", 2000.0, "transfer"),
    ]
    df = _frame(
        rows,
        [
            "invoice_id",
            "account_id",
            "invoice_date",
            "due_date",
            "paid_date",
            "amount",
            "payment_method",
        ],
    )
    return _dates(df, "invoice_date", "due_date", "paid_date")


def contacts() -> pd.DataFrame:
    rows = [
        ("C1", ALPHA, "Hanna Berg", "Managing Director", "decision_maker", 5, 1, "2026-04-02"),
        ("C2", ALPHA, "Jonas Vogel", "Head of Production", "champion", 3, 2, "2026-05-12"),
        # influence 4 (≥ 4): the high-influence blocker; attitude 0, so not hostile
        ("C3", ALPHA, "Otto Brandt", "Purchasing Manager", "blocker", 4, 0, "2026-02-01"),
        ("C4", ALPHA, "Lea Kurz", "Lab Technician", "user", 1, 1, None),
        ("C5", BETA, "Karl Stein", "Owner", "decision_maker", 5, 0, "2026-03-01"),
        # hostile (attitude < 0), influence 3 (< 4)
        ("C6", BETA, "Rita Stahl", "Buyer", "blocker", 3, -1, "2025-10-01"),
    ]
    df = _frame(
        rows,
        [
            "contact_id",
            "account_id",
            "name",
            "job_title",
            "role",
            "influence",
            "attitude",
            "last_contact",
        ],
    )
    df["influence"] = df["influence"].astype("Int64")
    df["attitude"] = df["attitude"].astype("Int64")
    return _dates(df, "last_contact")


def interactions() -> pd.DataFrame:
    rows = [
        ("I1", ALPHA, "2024-05-10", "visit", "C1", "Visit: annual review."),
        ("I2", ALPHA, "2025-09-15", "call", "C2", "Call about the autumn order."),
        ("I3", ALPHA, "2026-01-20", "complaint", "C2", "Bubbles in the PU batch."),
        # the last visit/call/meeting: May 12 → Jun 30 = 19 + 30 = 49 days
        ("I4", ALPHA, "2026-05-12", "visit", "C2", "Visit: consumption review."),
        ("I5", ALPHA, "2026-07-05", "visit", "C1", "After as_of: never seen."),
        ("I6", BETA, "2025-10-01", "call", "C6", "Call about prices."),
        # last visit: Mar 1 → Jun 30 = 30 + 30 + 31 + 30 = 121 days
        ("I7", BETA, "2026-03-01", "visit", "C5", "Visit."),
        # an email is no visit, call or meeting
        ("I8", BETA, "2026-06-25", "email", "C5", "Sent the price list."),
    ]
    df = _frame(rows, ["interaction_id", "account_id", "date", "type", "contact_id", "note"])
    df.insert(5, "outcome", "done")
    df.insert(6, "reason", None)
    return _dates(df, "date")


def proposals() -> pd.DataFrame:
    rows = [
        ("Q1", ALPHA, "2025-03-01", "offer", 5000.0, "won", "2025-03-20", "price", None),
        # lost 2026-02-15, after 2026-01-01: in the last 180 days
        ("Q2", ALPHA, "2026-02-15", "tender", 12000.0, "lost", "2026-03-10", "price", "Stickra"),
        ("Q3", ALPHA, "2026-06-01", "offer", 3000.0, "open", None, None, None),
        ("Q4", ALPHA, "2026-07-10", "offer", 7000.0, "won", "2026-07-20", "price", None),
        # lost 2025-12-31: 181 days before as_of, not in the last 180 days
        ("Q5", BETA, "2025-12-31", "offer", 4000.0, "lost", "2026-01-15", "quality", "Adhexa"),
    ]
    df = _frame(
        rows,
        [
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
    return _dates(df, "date", "decided_date")


def competitors() -> pd.DataFrame:
    rows = [
        (ALPHA, "Adhexa", "2023-09-01", 0.15),
        (ALPHA, "Stickra", "2021-05-01", 0.30),
        (BETA, "Adhexa", "2020-01-01", 0.50),
    ]
    return _dates(_frame(rows, ["account_id", "competitor", "since", "estimated_share"]), "since")


def surveys() -> pd.DataFrame:
    rows = [
        # out of date order on purpose
        (ALPHA, "2026-03-01", 6.0, "Late deliveries."),
        (ALPHA, "2024-03-01", 9.0, "Very good."),
        (ALPHA, "2025-03-01", 8.0, "Good."),
        (ALPHA, "2026-08-01", 2.0, "After as_of: never seen."),
        (BETA, "2025-09-01", 7.0, "Fine."),
        (BETA, "2026-04-01", 6.0, "Prices are high."),
        # after as_of: would make a drop of 1 - 6 = -5 if it were seen
        (BETA, "2026-09-01", 1.0, "After as_of: never seen."),
    ]
    return _dates(_frame(rows, ["account_id", "date", "score", "comment"]), "date")


def company(**replace: pd.DataFrame | None) -> Dataset:
    """The hand-made company; ``replace`` swaps tables (None drops one)."""
    tables = {
        "transactions": transactions(),
        "accounts": accounts(),
        "products": products(),
        "invoices": invoices(),
        "contacts": contacts(),
        "interactions": interactions(),
        "proposals": proposals(),
        "competitors": competitors(),
        "surveys": surveys(),
    }
    for name, frame in replace.items():
        if frame is None:
            tables.pop(name)
        else:
            tables[name] = frame
    return Dataset(name="hand", source=Path("."), tables=tables)


@pytest.fixture(scope="module")
def ds() -> Dataset:
    return company()


@pytest.fixture(scope="module")
def alpha(ds) -> Dossier:
    types = pd.DataFrame({"account_id": [ALPHA, BETA], "type": ["Strategic", "Standard"]})
    return build_dossier(ds, ALPHA, as_of=AS_OF, types=types)


@pytest.fixture(scope="module")
def beta(ds) -> Dossier:
    return build_dossier(ds, BETA, as_of=AS_OF)


def signal(dossier: Dossier, name: str) -> pd.Series:
    return dossier.signals.set_index("signal").loc[name]


def general(dossier: Dossier) -> dict:
    return dict(zip(dossier.general["field"], dossier.general["value"], strict=True))


# ------------------------------------------------------------------------- 1. general


def test_general_master_fields_flags_first_order_and_tenure(alpha):
    assert alpha.account_id == ALPHA
    assert alpha.name == "Alpha Klebtechnik GmbH"
    assert alpha.as_of == AS_OF
    assert (alpha.currency, alpha.quantity_unit) == ("EUR", "kg")
    assert list(alpha.general.columns) == ["field", "value"]
    assert list(zip(alpha.general["field"], alpha.general["value"], strict=True)) == [
        ("account", ALPHA),
        ("name", "Alpha Klebtechnik GmbH"),
        ("country", "DE"),
        ("region", "South"),
        ("industry", "Automotive"),
        ("segment", "OEM"),
        ("group", "Alpha Holding"),
        ("account manager", "Eva Svobodová"),
        ("headcount", 250),
        ("annual sales", 52_000_000.0),
        # is_multinational and is_prestige are True, is_distributor and is_test_partner False
        ("flags", "multinational, prestige"),
        # from accounts.first_order_date, not the first line (2023-02-10)
        ("first order", dt.date(2019, 3, 1)),
        # 2019-03-01 → 2026-03-01 = 7 × 365 + 2 leap days (2020, 2024) = 2557 days,
        # → 2026-06-30 = 31 + 30 + 31 + 29 = 121 more: 2678 / 365.25 = 7.33 → 7.3
        ("years with us", 7.3),
    ]
    assert alpha.notes == {}


def test_general_first_order_from_the_first_line_without_first_order_date(ds):
    gamma = build_dossier(ds, GAMMA, as_of=AS_OF)
    info = general(gamma)
    assert info["name"] == "Gamma Werke"
    assert "annual sales" not in info  # NaN fields are left out
    assert info["flags"] == "none"
    # first_order_date is empty → the first line, 2026-02-10
    assert info["first order"] == dt.date(2026, 2, 10)
    # Feb 10 → Jun 30 = 18 + 31 + 30 + 31 + 30 = 140 days; 140 / 365.25 = 0.38 → 0.4
    assert info["years with us"] == 0.4


def test_general_single_flag_and_missing_master_fields(beta):
    info = general(beta)
    assert info["flags"] == "test partner"
    assert "group" not in info  # None
    assert info["first order"] == dt.date(2022, 1, 10)


def test_general_missing_flag_is_not_listed():
    # the loader gives <NA> for an empty boolean cell (e.g. conftest's "A3,Gamma SAS,FR,")
    acc = accounts()
    acc["is_prestige"] = pd.array([True, False, None, False], dtype="boolean")
    acc["is_test_partner"] = pd.array([False, True, True, False], dtype="boolean")
    gamma = build_dossier(company(accounts=acc), GAMMA, as_of=AS_OF)
    assert general(gamma)["flags"] == "test partner"


# ------------------------------------------------------------------------- 2. key figures


def test_key_figures_last_12_months_against_the_12_before(alpha):
    expected = pd.DataFrame(
        {
            "measure": ["revenue", "margin", "quantity"],
            # 800 + 600 + 200 + 600 + 300; 320 + 240 + 50 + 180 + 60; 80 + 60 + 10 + 30 + 20
            "last_12_months": [2500.0, 850.0, 200.0],
            # 1000 + 1000; 400 + 300; 100 + 50 (the line of 2024-06-30 is in neither)
            "previous_12_months": [2000.0, 700.0, 150.0],
            # 2500/2000 - 1; 850/700 - 1; 200/150 - 1
            "change": [0.25, 850 / 700 - 1, 200 / 150 - 1],
        }
    )
    pd.testing.assert_frame_equal(alpha.key_figures, expected)


def test_key_figures_facts(alpha, beta):
    # positive revenue of all accounts in the last 12 months:
    # Alpha 2500 + Beta 2000 + 2000 + Gamma 500 + 500 + Delta 0 = 7500
    assert alpha.facts["share_of_our_sales"] == pytest.approx(2500 / 7500)
    assert beta.facts["share_of_our_sales"] == pytest.approx(4000 / 7500)
    # ABC over 7500: Beta 4000 (before 0 → A), Alpha 2500 (before 4000 < 6000 → A),
    # Gamma 1000 (before 6500 ≥ 6000 → B).
    # XYZ (cv, monthly): Alpha buys in 4 of 12 months: 800, 800, 600, 300, 8 × 0;
    # mean 2500/12 = 208.3, E[x²] = (2·640000 + 360000 + 90000)/12 = 144166.7,
    # std = sqrt(144166.7 - 43402.8) = 317.4, cv = 1.52 > 1.0 → Z
    assert alpha.facts["abc_xyz"] == "AZ"
    assert alpha.facts["type"] == "Strategic"  # from the types frame
    assert beta.facts["type"] == ""  # no types frame passed
    assert alpha.facts["last_order"] == pd.Timestamp("2026-06-30")  # not the line of 07-01


def test_share_of_our_sales_with_a_credit_note():
    tx = transactions()
    credit = tx[tx["invoice_id"] == "R204"].assign(
        date=pd.Timestamp("2026-04-15"),
        amount=-500.0,
        quantity=-25.0,
        cost=-300.0,
        margin=-200.0,
        invoice_id="G001",
    )
    ds = company(transactions=pd.concat([tx, credit], ignore_index=True))
    shares = {
        d.account_id: d.facts["share_of_our_sales"]
        for d in build_dossiers(ds, [ALPHA, BETA, GAMMA, DELTA], as_of=AS_OF)
    }
    # accounts' revenue in the last 12 months: Alpha 2500, Beta 2000 + 2000 - 500 = 3500,
    # Gamma 1000, Delta 0: our sales 7000
    assert shares[BETA] == pytest.approx(3500 / 7000)
    assert shares[ALPHA] == pytest.approx(2500 / 7000)
    assert sum(shares.values()) == pytest.approx(1.0)


def test_key_figures_change_is_nan_without_previous_purchases(ds):
    gamma = build_dossier(ds, GAMMA, as_of=AS_OF)
    figures = gamma.key_figures.set_index("measure")
    # 500 + 500; 100 + 100; 25 + 25 — and nothing in the 12 months before
    assert figures["last_12_months"].tolist() == [1000.0, 200.0, 50.0]
    assert figures["previous_12_months"].tolist() == [0.0, 0.0, 0.0]
    assert figures["change"].isna().all()
    assert gamma.facts["share_of_our_sales"] == pytest.approx(1000 / 7500)
    assert gamma.facts["type"] == ""


def test_key_figures_of_a_lost_account(ds):
    delta = build_dossier(ds, DELTA, as_of=AS_OF)
    revenue = delta.key_figures.set_index("measure").loc["revenue"]
    assert revenue["last_12_months"] == 0.0
    assert revenue["previous_12_months"] == 1000.0  # the line of 2024-10-10
    assert revenue["change"] == -1.0  # 0 / 1000 - 1
    assert delta.facts["share_of_our_sales"] == 0.0


# ------------------------------------------------------------------------- 3. monthly, by group


def test_monthly_spans_the_consumption_table_with_zeros(alpha):
    # the half-year table runs 2023 H1 .. 2026 H1, so the months run 2023-01 .. 2026-06
    months = pd.period_range("2023-01", "2026-06", freq="M")
    assert len(months) == 42
    bought = {  # month: (revenue, quantity, margin)
        "2024-06": (50.0, 5.0, 10.0),
        "2024-09": (1000.0, 100.0, 400.0),
        "2025-03": (1000.0, 50.0, 300.0),
        "2025-07": (800.0, 80.0, 320.0),
        "2025-11": (800.0, 70.0, 290.0),  # 600 + 200, 60 + 10, 240 + 50 (two lines of R104)
        "2026-03": (600.0, 30.0, 180.0),
        "2026-06": (300.0, 20.0, 60.0),
        "2023-02": (400.0, 40.0, 160.0),  # R100
        # 2026-07 is after as_of
    }
    values = [bought.get(str(m), (0.0, 0.0, 0.0)) for m in months]
    expected = pd.DataFrame(
        {
            "month": months,
            "revenue": [v[0] for v in values],
            "quantity": [v[1] for v in values],
            "margin": [v[2] for v in values],
        }
    )
    pd.testing.assert_frame_equal(alpha.monthly, expected)


def test_by_group_last_12_months_with_previous_revenue(alpha):
    expected = pd.DataFrame(
        {
            "product_group": ["Epoxy", "Hot melt", "PU"],
            # Epoxy 800 + 600; Hot melt 600; PU 200 + 300 (largest first)
            "revenue": [1400.0, 600.0, 500.0],
            # 80 + 60; 30; 10 + 20
            "quantity": [140.0, 30.0, 30.0],
            # previous 12 months: Epoxy 1000 (2024-09-10), Hot melt 1000 (2025-03-15), PU 0
            "revenue_previous": [1000.0, 1000.0, 0.0],
        }
    )
    pd.testing.assert_frame_equal(alpha.by_group, expected)


def test_by_group_drops_groups_without_revenue_in_either_year(ds):
    delta = build_dossier(ds, DELTA, as_of=AS_OF)
    # Delta only bought Epoxy: 0 now, 1000 in the year before (2023 lines are in neither)
    assert delta.by_group["product_group"].tolist() == ["Epoxy"]
    assert delta.by_group[["revenue", "quantity", "revenue_previous"]].iloc[0].tolist() == [
        0.0,
        0.0,
        1000.0,
    ]


# ------------------------------------------------------------------------- 4. half-years


def test_half_years_table(alpha):
    expected = pd.DataFrame(
        {
            "half_year": [
                "2023 H1",
                "2023 H2",
                "2024 H1",
                "2024 H2",
                "2025 H1",
                "2025 H2",
                "2026 H1",
            ],
            # 2023-02-10 40; 2024-09-10 100; 2025-07-01 80 + 2025-11-20 60
            "Epoxy": [40.0, 0.0, 0.0, 100.0, 0.0, 140.0, 0.0],
            # 2024-06-30 5; 2025-03-15 50; 2026-03-05 30
            "Hot melt": [0.0, 0.0, 5.0, 0.0, 50.0, 0.0, 30.0],
            # 2025-11-20 10; 2026-06-30 20 (on as_of, in the current half-year)
            "PU": [0.0, 0.0, 0.0, 0.0, 0.0, 10.0, 20.0],
            "total_quantity": [40.0, 0.0, 5.0, 100.0, 50.0, 150.0, 50.0],
            # 400; 50; 1000; 1000; 800 + 600 + 200; 600 + 300
            "total_amount": [400.0, 0.0, 50.0, 1000.0, 1000.0, 1600.0, 900.0],
            "complete": [True, True, True, True, True, True, False],
        }
    )
    pd.testing.assert_frame_equal(alpha.half_years, expected)


def test_half_years_in_the_second_half_of_a_year(ds):
    # as_of 2026-09-30 is in 2026 H2: the six before are 2023 H2 .. 2026 H1
    late = build_dossier(ds, ALPHA, as_of=pd.Timestamp("2026-09-30"))
    assert late.half_years["half_year"].tolist() == [
        "2023 H2",
        "2024 H1",
        "2024 H2",
        "2025 H1",
        "2025 H2",
        "2026 H1",
        "2026 H2",
    ]
    assert late.half_years["complete"].tolist() == [True] * 6 + [False]
    # 2026 H2 to 2026-09-30: the line of 2026-07-01, 999 kg of Epoxy, 9999 EUR
    current = late.half_years.iloc[-1]
    assert current["Epoxy"] == 999.0
    assert current["total_amount"] == 9999.0


# ------------------------------------------------------------------------- 5. payments


def test_payments_buckets_open_and_overdue(alpha):
    payments = alpha.payments
    assert isinstance(payments, Payments)
    expected = pd.DataFrame(
        {
            "bucket": ["on time", "1-30 days", "31-60 days", "61-90 days", "over 90 days"],
            # on time: R103 (6 days early, 800), R093 (due on as_of, open, 100)
            # 1-30: R104 (30 days, 800), R092 (open, 30 days at as_of, 200)
            # 31-60: R105 (31 days, 600); 61-90: R091 (66 days, 400)
            # over 90: R090 (paid after as_of → 119 days at as_of, 500)
            "invoices": [2, 2, 1, 1, 1],
            "amount": [900.0, 1000.0, 600.0, 400.0, 500.0],
        }
    )
    pd.testing.assert_frame_equal(payments.days_late, expected, check_dtype=False)
    assert payments.days_late["invoices"].sum() == 7  # R102 (due 2025-04) and R106, R108 are out
    # open at as_of: R106 300 + R090 500 (paid after as_of) + R092 200 + R093 100
    assert payments.open_amount == 1100.0
    # of which past due (due before as_of): R090 500 + R092 200
    assert payments.overdue_amount == 700.0
    # cash: R103, R105, R090 = 3 of the 7 due in the last 12 months < half
    assert payments.cash_payer is False
    assert "2 of 7" in payments.note


def test_payments_half_in_cash_is_a_cash_payer(beta):
    assert beta.payments.cash_payer is True  # R203 cash, R204 transfer: 1 of 2 = half
    assert beta.payments.open_amount == 0.0
    assert beta.payments.overdue_amount == 0.0
    # R203 4 days early, R204 paid on its due date
    assert beta.payments.days_late["invoices"].tolist() == [2, 0, 0, 0, 0]


def test_payments_without_invoices_due(ds):
    gamma = build_dossier(ds, GAMMA, as_of=AS_OF)
    assert gamma.payments.days_late["invoices"].tolist() == [0, 0, 0, 0, 0]
    assert gamma.payments.cash_payer is None
    assert gamma.payments.open_amount == gamma.payments.overdue_amount == 0.0


# ------------------------------------------------------------------------- 6. timeline, proposals


def test_timeline_last_12_months_newest_first(alpha):
    got = list(alpha.timeline[["date", "kind", "detail"]].itertuples(index=False, name=None))
    assert got == [
        (pd.Timestamp("2026-06-30"), "delivery", "300 EUR"),  # R106
        (pd.Timestamp("2026-06-01"), "proposal", "open"),  # Q3, no reason
        (pd.Timestamp("2026-05-12"), "visit", "Visit: consumption review."),
        (pd.Timestamp("2026-03-05"), "delivery", "600 EUR"),  # R105
        (pd.Timestamp("2026-02-15"), "proposal", "lost: price"),  # Q2
        (pd.Timestamp("2026-01-20"), "complaint", "Bubbles in the PU batch."),
        (pd.Timestamp("2025-11-20"), "delivery", "800 EUR"),  # R104: 600 + 200, one delivery
        (pd.Timestamp("2025-09-15"), "call", "Call about the autumn order."),
        (pd.Timestamp("2025-07-01"), "delivery", "800 EUR"),  # R103, first day of the window
        # I1 (2024-05), Q1 (2025-03) and R099..R102 are older; R108, I5, Q4 after as_of
    ]


def test_proposals_table(alpha):
    proposals = alpha.proposals
    assert list(proposals.columns[:6]) == [
        "date",
        "kind",
        "value",
        "outcome",
        "reason",
        "competitor",
    ]
    # newest first; Q4 (2026-07-10) is after as_of
    assert proposals["date"].tolist() == [
        pd.Timestamp("2026-06-01"),
        pd.Timestamp("2026-02-15"),
        pd.Timestamp("2025-03-01"),
    ]
    assert proposals[["kind", "value", "outcome"]].values.tolist() == [
        ["offer", 3000.0, "open"],
        ["tender", 12000.0, "lost"],
        ["offer", 5000.0, "won"],
    ]
    assert proposals["reason"].fillna("").tolist() == ["", "price", "price"]
    assert proposals["competitor"].fillna("").tolist() == ["", "Stickra", ""]


# ------------------------------------------------------------------------- 7. contacts, coverage


def test_contacts_section(alpha):
    assert list(alpha.contacts.columns) == [
        "name",
        "job_title",
        "role",
        "influence",
        "attitude",
        "last_contact",
    ]
    assert alpha.contacts["name"].tolist() == [
        "Hanna Berg",
        "Jonas Vogel",
        "Otto Brandt",
        "Lea Kurz",
    ]
    assert alpha.contacts["role"].tolist() == ["decision_maker", "champion", "blocker", "user"]


def test_coverage_green_when_every_check_passes(alpha):
    coverage = alpha.coverage
    assert isinstance(coverage, Coverage)
    assert coverage.checks["check"].tolist() == [
        "decision maker known",
        "champion",
        "contact in the last 90 days",
        "no active blocker",
    ]
    # C1 decision maker, C2 champion, last contact 2026-05-12 (C2 and visit I4):
    # 49 days ago; C3 is a blocker but neutral (attitude 0)
    assert coverage.checks["ok"].tolist() == [True, True, True, True]
    assert coverage.checks.loc[2, "detail"] == "last contact 49 days ago"
    assert coverage.rating == "green"


def _alpha_contacts(drop=(), **attitude: int) -> pd.DataFrame:
    frame = contacts()
    frame = frame[~frame["contact_id"].isin(drop)].reset_index(drop=True)
    for contact_id, value in attitude.items():
        frame.loc[frame["contact_id"] == contact_id, "attitude"] = value
    return frame


def _coverage(frame: pd.DataFrame, **tables) -> Coverage:
    return build_dossier(company(contacts=frame, **tables), ALPHA, as_of=AS_OF).coverage


def test_coverage_red_without_a_decision_maker():
    coverage = _coverage(_alpha_contacts(drop=["C1"]))
    assert coverage.checks["ok"].tolist() == [False, True, True, True]
    assert coverage.rating == "red"


def test_coverage_red_with_a_hostile_blocker_and_no_champion():
    coverage = _coverage(_alpha_contacts(drop=["C2"], C3=-2))
    # the visit of 2026-05-12 still counts as a contact (49 days)
    assert coverage.checks["ok"].tolist() == [True, False, True, False]
    assert coverage.checks.loc[3, "detail"] == "1 hostile blocker(s)"
    assert coverage.rating == "red"


def test_coverage_amber_with_a_hostile_blocker_and_a_champion():
    coverage = _coverage(_alpha_contacts(C3=-1))
    assert coverage.checks["ok"].tolist() == [True, True, True, False]
    assert coverage.rating == "amber"


def test_coverage_amber_without_a_champion():
    coverage = _coverage(_alpha_contacts(drop=["C2"]))
    assert coverage.checks["ok"].tolist() == [True, False, True, True]
    assert coverage.rating == "amber"


def test_coverage_amber_without_recent_contact():
    # contacts last seen 2026-03-31 (C1) at the latest, and no visit or call since
    # 2024-05-10 (I1 only): Mar 31 → Jun 30 = 0 + 30 + 31 + 30 = 91 days
    frame = _alpha_contacts()
    frame.loc[frame["contact_id"] == "C1", "last_contact"] = pd.Timestamp("2026-03-31")
    frame.loc[frame["contact_id"] == "C2", "last_contact"] = pd.Timestamp("2026-03-01")
    inter = interactions()
    inter = inter[~inter["interaction_id"].isin(["I2", "I3", "I4"])].reset_index(drop=True)
    coverage = _coverage(frame, interactions=inter)
    assert coverage.checks["ok"].tolist() == [True, True, False, True]
    assert coverage.checks.loc[2, "detail"] == "last contact 91 days ago"
    assert coverage.rating == "amber"


def test_coverage_of_beta_is_red(beta):
    # decision maker yes, champion no, last contact 2026-03-01 (121 days), hostile blocker C6
    assert beta.coverage.checks["ok"].tolist() == [True, False, False, False]
    assert beta.coverage.rating == "red"


def test_coverage_ignores_a_last_contact_after_as_of():
    frame = contacts()
    frame.loc[frame["contact_id"] == "C5", "last_contact"] = pd.Timestamp("2026-07-10")
    coverage = build_dossier(company(contacts=frame), BETA, as_of=AS_OF).coverage
    # up to as_of: C6 2025-10-01, visit I7 2026-03-01 → 121 days, more than 90
    assert not coverage.checks.loc[2, "ok"]
    assert coverage.checks.loc[2, "detail"] == "last contact 121 days ago"


def test_coverage_rating_is_empty_without_contacts(ds):
    gamma = build_dossier(ds, GAMMA, as_of=AS_OF)
    assert gamma.contacts.empty
    assert gamma.coverage.rating == ""


# ------------------------------------------------------------------------- 8. competitors


def test_competitors_and_our_share(alpha, beta):
    expected = pd.DataFrame(
        {
            "competitor": ["Stickra", "Adhexa"],  # largest share first
            "since": pd.to_datetime(["2021-05-01", "2023-09-01"]).astype("datetime64[ns]"),
            "estimated_share": [0.30, 0.15],
        }
    )
    pd.testing.assert_frame_equal(alpha.competitors, expected)
    assert alpha.our_share == pytest.approx(0.55)  # 1 - (0.30 + 0.15)
    assert beta.our_share == pytest.approx(0.50)  # 1 - 0.50


# ------------------------------------------------------------------------- 9. satisfaction


def test_satisfaction_sorted_by_date(alpha):
    expected = pd.DataFrame(
        {
            "date": pd.to_datetime(["2024-03-01", "2025-03-01", "2026-03-01"]).astype(
                "datetime64[ns]"
            ),
            "score": [9.0, 8.0, 6.0],
            "comment": ["Very good.", "Good.", "Late deliveries."],
        }
    )  # the answer of 2026-08-01 is after as_of
    pd.testing.assert_frame_equal(alpha.satisfaction, expected)


# ------------------------------------------------------------------------- 10. signals


def test_signals_of_alpha_fired_first(alpha):
    signals = alpha.signals
    assert list(signals.columns) == ["signal", "fired", "value", "rule", "threshold", "action"]
    # fired in the order of DOSSIER_SIGNALS, then the others in that order
    assert signals["signal"].tolist() == [
        "overdue payments",
        "lost tender",
        "blocker with high influence",
        "falling satisfaction",
        "falling sales",
        "no recent contact",
    ]
    assert signals["fired"].tolist() == [True, True, True, True, False, False]
    assert signals["value"].tolist() == pytest.approx(
        [
            700.0,  # overdue: R090 500 + R092 200
            1.0,  # Q2, lost 2026-02-15
            1.0,  # C3, influence 4
            -2.0,  # 6 - 8
            0.25,  # revenue 2500 / 2000 - 1
            49.0,  # last visit 2026-05-12
        ]
    )
    rules = DOSSIER_SIGNALS.set_index("signal")
    for _, row in signals.iterrows():
        assert row["threshold"] == rules.loc[row["signal"], "threshold"]
        assert row["action"] == rules.loc[row["signal"], "action"]


def test_signals_of_beta_are_the_other_way_round(beta):
    signals = beta.signals
    assert signals["signal"].tolist() == [
        "falling sales",
        "no recent contact",
        "overdue payments",
        "lost tender",
        "blocker with high influence",
        "falling satisfaction",
    ]
    assert signals["fired"].tolist() == [True, True, False, False, False, False]
    assert signals["value"].tolist() == pytest.approx(
        [
            -0.2,  # 4000 / 5000 - 1
            121.0,  # last visit 2026-03-01; the email of 2026-06-25 does not count
            0.0,  # nothing overdue
            0.0,  # Q5 lost 181 days before as_of
            0.0,  # C6 has influence 3
            -1.0,  # 6 - 7 (the answer of 2026-09-01 is after as_of)
        ]
    )


def test_falling_sales_fires_for_a_lost_account_and_not_on_nan(ds):
    delta = build_dossier(ds, DELTA, as_of=AS_OF)
    assert signal(delta, "falling sales")["fired"]
    assert signal(delta, "falling sales")["value"] == -1.0  # 0 / 1000 - 1
    gamma = build_dossier(ds, GAMMA, as_of=AS_OF)
    assert not signal(gamma, "falling sales")["fired"]
    assert math.isnan(signal(gamma, "falling sales")["value"])


def test_falling_sales_threshold():
    # Beta's last line of 2000 becomes 3250: 2000 + 3250 = 5250 against 5000 → +5 %: quiet;
    # 2000 + 2200 = 4200 → 4200 / 5000 - 1 = -16 % ≤ -15 %: fires;
    # 2000 + 2300 = 4300 → -14 %: quiet
    for amount, fired in [(3250.0, False), (2200.0, True), (2300.0, False)]:
        tx = transactions()
        tx.loc[(tx["account_id"] == BETA) & (tx["invoice_id"] == "R204"), "amount"] = amount
        got = signal(build_dossier(company(transactions=tx), BETA, as_of=AS_OF), "falling sales")
        assert bool(got["fired"]) is fired, amount
        assert got["value"] == pytest.approx((2000 + amount) / 5000 - 1)


@pytest.mark.parametrize(
    ("visit", "days", "fired"),
    [
        ("2026-04-01", 90, False),  # Apr 1 → Jun 30 = 29 + 31 + 30 = 90: not more than 90
        ("2026-03-31", 91, True),
        ("2026-06-29", 1, False),
    ],
)
def test_no_recent_contact_threshold(visit, days, fired):
    inter = interactions()
    inter.loc[inter["interaction_id"] == "I7", "date"] = pd.Timestamp(visit)
    got = signal(build_dossier(company(interactions=inter), BETA, as_of=AS_OF), "no recent contact")
    assert bool(got["fired"]) is fired
    assert got["value"] == days


def test_meeting_counts_as_contact_and_a_complaint_does_not():
    inter = interactions()
    inter.loc[inter["interaction_id"] == "I8", "type"] = "meeting"  # 2026-06-25: 5 days
    got = signal(build_dossier(company(interactions=inter), BETA, as_of=AS_OF), "no recent contact")
    assert (bool(got["fired"]), got["value"]) == (False, 5.0)
    inter.loc[inter["interaction_id"] == "I8", "type"] = "complaint"
    got = signal(build_dossier(company(interactions=inter), BETA, as_of=AS_OF), "no recent contact")
    assert (bool(got["fired"]), got["value"]) == (True, 121.0)


def test_overdue_payments_fires_on_an_overdue_invoice():
    inv = invoices()
    # R204 left open: due 2026-03-17, before as_of → overdue 2000
    inv.loc[inv["invoice_id"] == "R204", "paid_date"] = pd.NaT
    got = signal(build_dossier(company(invoices=inv), BETA, as_of=AS_OF), "overdue payments")
    assert (bool(got["fired"]), got["value"]) == (True, 2000.0)


def test_lost_tender_within_180_days():
    prop = proposals()
    prop.loc[prop["proposal_id"] == "Q5", "date"] = pd.Timestamp("2026-01-02")  # 179 days
    got = signal(build_dossier(company(proposals=prop), BETA, as_of=AS_OF), "lost tender")
    assert (bool(got["fired"]), got["value"]) == (True, 1.0)
    # a won proposal is no lost tender
    prop.loc[prop["proposal_id"] == "Q5", "outcome"] = "won"
    got = signal(build_dossier(company(proposals=prop), BETA, as_of=AS_OF), "lost tender")
    assert (bool(got["fired"]), got["value"]) == (False, 0.0)


def test_lost_tender_decided_after_as_of_is_not_seen():
    prop = proposals()
    # Q3 sent 2026-06-01, lost on 2026-07-20: at as_of it is open
    prop.loc[prop["proposal_id"] == "Q3", ["outcome", "decided_date", "reason"]] = [
        "lost",
        pd.Timestamp("2026-07-20"),
        "price",
    ]
    prop = prop[prop["proposal_id"] != "Q2"]  # leave Q3 the only candidate
    got = signal(build_dossier(company(proposals=prop), ALPHA, as_of=AS_OF), "lost tender")
    assert not got["fired"]


def test_blocker_with_high_influence_threshold():
    frame = contacts()
    frame.loc[frame["contact_id"] == "C6", "influence"] = 4  # Beta's blocker: 3 → 4
    got = signal(
        build_dossier(company(contacts=frame), BETA, as_of=AS_OF), "blocker with high influence"
    )
    assert (bool(got["fired"]), got["value"]) == (True, 1.0)
    # Alpha without its blocker C3: no blocker at all
    frame = frame[frame["contact_id"] != "C3"]
    got = signal(
        build_dossier(company(contacts=frame), ALPHA, as_of=AS_OF), "blocker with high influence"
    )
    assert (bool(got["fired"]), got["value"]) == (False, 0.0)


def test_falling_satisfaction_threshold():
    surv = surveys()
    # Beta's second answer 6 → 5: 5 - 7 = -2 fires; → 9: 9 - 7 = +2 does not
    for score, fired in [(5.0, True), (9.0, False)]:
        surv.loc[(surv["account_id"] == BETA) & (surv["date"] == "2026-04-01"), "score"] = score
        got = signal(
            build_dossier(company(surveys=surv), BETA, as_of=AS_OF), "falling satisfaction"
        )
        assert (bool(got["fired"]), got["value"]) == (fired, score - 7.0)


def test_falling_satisfaction_needs_two_answers(ds):
    gamma = build_dossier(ds, GAMMA, as_of=AS_OF)  # no answer at all
    got = signal(gamma, "falling satisfaction")
    assert not got["fired"]
    assert math.isnan(got["value"])


# ------------------------------------------------------------------------- 11. missing tables


def test_transactions_only():
    ds = Dataset(name="bare", source=Path("."), tables={"transactions": transactions()})
    dossier = build_dossier(ds, ALPHA, as_of=AS_OF)
    assert dossier.name == ALPHA  # no accounts table: the id stands in for the name
    for section in ("proposals", "contacts", "coverage", "competitors", "our_share"):
        assert getattr(dossier, section) is None, section
    assert dossier.satisfaction is None
    assert dossier.payments.days_late is None
    assert dossier.payments.cash_payer is None
    assert "`invoices`" in dossier.payments.note
    tables = {
        "general": "accounts",
        "by_group": "products",
        "timeline": "interactions",
        "proposals": "proposals",
        "contacts": "contacts",
        "competitors": "competitors",
        "satisfaction": "surveys",
        "payments": "invoices",
    }
    assert set(dossier.notes) == set(tables)
    for section, table in tables.items():
        assert f"`{table}`" in dossier.notes[section], section
        assert "'bare'" in dossier.notes[section]
    # what transactions alone give is still there: first order from the first line
    assert general(dossier)["first order"] == dt.date(2023, 2, 10)
    assert dossier.key_figures["last_12_months"].tolist() == [2500.0, 850.0, 200.0]
    # without products every line is in one group
    assert dossier.by_group["product_group"].tolist() == ["all products"]
    assert dossier.by_group["revenue"].tolist() == [2500.0]
    assert list(dossier.half_years.columns) == [
        "half_year",
        "all products",
        "total_quantity",
        "total_amount",
        "complete",
    ]
    # the timeline has the deliveries only: R106, R105, R104, R103
    assert dossier.timeline["kind"].tolist() == ["delivery"] * 4
    # no interactions: the contact signal cannot be judged
    assert not signal(dossier, "no recent contact")["fired"]
    assert not signal(dossier, "overdue payments")["fired"]


def test_notes_name_the_dataset_and_table():
    ds = company(surveys=None, competitors=None)
    dossier = build_dossier(ds, ALPHA, as_of=AS_OF)
    assert set(dossier.notes) == {"satisfaction", "competitors"}
    assert dossier.notes["satisfaction"] == ds.missing_note("surveys", "the satisfaction trend")
    assert dossier.satisfaction is None and dossier.our_share is None
    assert dossier.contacts is not None


def test_account_in_master_data_without_lines():
    acc = pd.concat(
        [
            accounts(),
            _dates(
                pd.DataFrame(
                    {
                        "account_id": ["K30001"],
                        "name": ["Epsilon Prospect"],
                        "first_order_date": [None],
                        **{
                            flag: pd.array([False], dtype="boolean")
                            for flag in (
                                "is_distributor",
                                "is_multinational",
                                "is_prestige",
                                "is_test_partner",
                            )
                        },
                    }
                ),
                "first_order_date",
            ),
        ],
        ignore_index=True,
    )
    dossier = build_dossier(company(accounts=acc), "K30001", as_of=AS_OF)
    assert dossier.name == "Epsilon Prospect"
    assert general(dossier)["first order"] == "none"
    assert dossier.key_figures["last_12_months"].tolist() == [0.0, 0.0, 0.0]
    assert dossier.monthly["revenue"].tolist() == [0.0] * 42  # 2023-01 .. 2026-06
    assert dossier.half_years["total_quantity"].tolist() == [0.0] * 7
    assert dossier.by_group.empty
    assert dossier.timeline.empty


# ------------------------------------------------------------------------- 12. unknown accounts


def test_unknown_account_suggests_ids_by_prefix(ds):
    with pytest.raises(UnknownAccountError, match=r"'K1012': did you mean K10127 \(Alpha") as err:
        build_dossier(ds, "K1012", as_of=AS_OF)
    assert isinstance(err.value, ValueError)
    assert "K10128 (Beta Kleber AG)" in str(err.value)
    assert "4 accounts" in str(err.value)


def test_unknown_account_suggests_by_name(ds):
    with pytest.raises(ValueError, match=r"'beta': did you mean K10128 \(Beta Kleber AG\)\?"):
        build_dossier(ds, "beta", as_of=AS_OF)


def test_unknown_account_without_a_close_match(ds):
    with pytest.raises(UnknownAccountError, match=r"'zzz': no close match"):
        build_dossier(ds, "zzz", as_of=AS_OF)


def test_build_dossiers_checks_every_id_before_the_first_dossier(ds):
    dossiers = build_dossiers(ds, [ALPHA, "K99999", "X1"], as_of=AS_OF)
    with pytest.raises(UnknownAccountError, match=r"unknown account ids in 'hand'.*'K99999'.*'X1'"):
        next(dossiers)


# ------------------------------------------------------------------------- 13. build_dossiers


def _copies(dataset: Dataset) -> dict[str, pd.DataFrame]:
    return {name: frame.copy(deep=True) for name, frame in dataset.tables.items()}


def test_build_dossiers_equals_one_by_one_and_leaves_the_data_alone():
    ds = company()
    before = _copies(ds)
    ids = [ALPHA, BETA, GAMMA, DELTA]
    many = list(build_dossiers(ds, ids, as_of=AS_OF))
    assert [d.account_id for d in many] == ids
    for dossier in many:
        one = build_dossier(ds, dossier.account_id, as_of=AS_OF)
        for section in ("key_figures", "monthly", "by_group", "half_years", "timeline", "signals"):
            pd.testing.assert_frame_equal(getattr(dossier, section), getattr(one, section))
        pd.testing.assert_frame_equal(dossier.payments.days_late, one.payments.days_late)
        for section in ("proposals", "contacts", "competitors", "satisfaction"):
            pd.testing.assert_frame_equal(
                getattr(dossier, section), getattr(one, section), check_index_type=False
            )
        assert dossier.facts == one.facts
    for name, frame in before.items():
        pd.testing.assert_frame_equal(ds.tables[name], frame, obj=name)


def test_dossier_tables_are_new_frames():
    ds = company()
    before = _copies(ds)
    dossier = build_dossier(ds, ALPHA, as_of=AS_OF)
    for frame in (dossier.proposals, dossier.contacts, dossier.competitors, dossier.satisfaction):
        frame.iloc[:, 1] = frame.iloc[:, 1].iloc[::-1].to_numpy()  # scramble a column in place
    for name, frame in before.items():
        pd.testing.assert_frame_equal(ds.tables[name], frame, obj=name)


# ------------------------------------------------------------------------- 14. consumption report


def test_consumption_report_holds_only_what_the_customer_bought(alpha):
    report = consumption_report(alpha)
    assert isinstance(report, CustomerReport)
    assert [f.name for f in dataclasses.fields(report)] == [
        f.name for f in dataclasses.fields(CustomerReport)
    ]
    assert [f.name for f in dataclasses.fields(CustomerReport)] == [
        "account_id",
        "name",
        "as_of",
        "currency",
        "quantity_unit",
        "half_years",
        "monthly",
        "by_group",
    ]
    assert (report.account_id, report.name, report.as_of) == (
        ALPHA,
        "Alpha Klebtechnik GmbH",
        AS_OF,
    )
    pd.testing.assert_frame_equal(report.half_years, alpha.half_years)
    assert list(report.monthly.columns) == ["month", "quantity", "amount"]
    assert list(report.by_group.columns) == ["product_group", "quantity", "amount"]
    for frame in (report.half_years, report.monthly, report.by_group):
        assert not any("margin" in str(c) for c in frame.columns)
    # monthly: 2023-01 .. 2026-06, the span of the half-year table; 2025-11: 600 + 200 EUR, 60 + 10 kg
    assert len(report.monthly) == 42
    nov = report.monthly.set_index("month").loc[pd.Period("2025-11", freq="M")]
    assert (nov["quantity"], nov["amount"]) == (70.0, 800.0)
    assert (
        report.monthly["amount"].sum() == 4950.0
    )  # 400 + 50 + 1000 + 1000 + 800 + 800 + 600 + 300
    assert report.by_group.values.tolist() == [
        ["Epoxy", 140.0, 1400.0],
        ["Hot melt", 30.0, 600.0],
        ["PU", 30.0, 500.0],
    ]
    # a copy: changing the report leaves the dossier alone
    report.half_years.loc[0, "total_amount"] = -1.0
    assert alpha.half_years.loc[0, "total_amount"] == 400.0


# ------------------------------------------------------------------------- 15. the sample


@pytest.fixture(scope="module")
def sample():
    ds = kamlib.load_sample()
    return ds, kamlib.resolve_as_of(ds.transactions)


def _last_12(ds, as_of) -> pd.Series:
    tx = ds.transactions
    window = tx[(tx["date"] > as_of - pd.DateOffset(months=12)) & (tx["date"] <= as_of)]
    return window.groupby("account_id")["amount"].sum()


def test_sample_largest_account(sample):
    ds, as_of = sample
    revenue = _last_12(ds, as_of)
    largest = revenue.idxmax()
    dossier = build_dossier(ds, largest, as_of=as_of)
    figures = dossier.key_figures.set_index("measure")
    assert figures.loc["revenue", "last_12_months"] == pytest.approx(revenue[largest])
    # the sample has credit notes, and how they count in the total is tested on the
    # hand-made company (see test_share_of_our_sales_with_a_credit_note); here: about
    assert dossier.facts["share_of_our_sales"] == pytest.approx(
        revenue[largest] / revenue.clip(lower=0).sum(), rel=0.02
    )
    assert dossier.facts["share_of_our_sales"] == max(
        build_dossier(ds, a, as_of=as_of).facts["share_of_our_sales"]
        for a in revenue.nlargest(3).index
    )
    assert dossier.facts["abc_xyz"].startswith("A")
    # as_of 2026-09-28: the half-year table runs 2023 H2 .. 2026 H2, the months 2023-07 .. 2026-09
    assert len(dossier.monthly) == 39
    assert dossier.monthly["month"].iloc[0] == pd.Period("2023-07", freq="M")
    assert dossier.monthly["month"].iloc[-1] == as_of.to_period("M")
    assert dossier.monthly["revenue"].sum() > 0
    assert len(dossier.half_years) == 7
    assert dossier.half_years["complete"].tolist() == [True] * 6 + [False]
    assert dossier.by_group["revenue"].sum() == pytest.approx(revenue[largest])
    assert dossier.coverage.rating in {"green", "amber", "red"}
    assert len(dossier.signals) == len(DOSSIER_SIGNALS)
    assert dossier.notes == {}
    assert (dossier.timeline["date"] <= as_of).all()
    assert dossier.timeline["date"].is_monotonic_decreasing


def test_sample_account_with_almost_no_history(sample):
    ds, as_of = sample
    tx = ds.transactions[ds.transactions["date"] <= as_of]
    counts = tx.groupby("account_id").size()
    newest = counts.idxmin()
    first_line = tx.loc[tx["account_id"] == newest, "date"].min()
    dossier = build_dossier(ds, newest, as_of=as_of)
    assert counts[newest] <= 5
    figures = dossier.key_figures.set_index("measure")
    assert figures["last_12_months"].sum() + figures["previous_12_months"].sum() > 0
    first = general(dossier)["first order"]
    assert first != "none"
    assert general(dossier)["years with us"] <= (as_of - pd.Timestamp(first)).days / 365.25 + 0.05
    # nothing bought in the half-years that ended before the first line
    assert dossier.half_years["total_quantity"].sum() > 0
    before = dossier.half_years[
        dossier.half_years["half_year"] < f"{first_line.year} H{1 if first_line.month <= 6 else 2}"
    ]
    assert (before["total_amount"] == 0).all()


def test_sample_lost_account(sample):
    ds, as_of = sample
    scenario = pd.read_csv(
        kamlib.project_root() / "data" / "samples" / "klebwerk" / "scenario.csv",
        parse_dates=["lost_on"],
    )
    lost = scenario[
        (scenario["status"] == "lost") & (scenario["lost_on"] < as_of - pd.DateOffset(months=12))
    ]
    assert len(lost) > 0
    for account in lost["account_id"].head(3):
        dossier = build_dossier(ds, account, as_of=as_of)
        revenue = dossier.key_figures.set_index("measure").loc["revenue"]
        assert revenue["last_12_months"] == 0.0, account
        falling = signal(dossier, "falling sales")
        assert bool(falling["fired"]) or math.isnan(revenue["change"]), account
        assert dossier.facts["share_of_our_sales"] == 0.0
        assert dossier.monthly["revenue"].iloc[-12:].eq(0).all()
        assert not (dossier.timeline["kind"] == "delivery").any()
