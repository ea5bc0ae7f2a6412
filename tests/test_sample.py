"""The sample company: reproducible to the byte, and with the patterns the notebooks teach."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import kamlib
from kamlib.sample import DEFAULT_SAMPLE, generate_sample, write_sample

BUNDLED = kamlib.project_root() / "data" / "samples" / "klebwerk"


def test_bundled_sample_regenerates_byte_identical(tmp_path):
    out = write_sample(tmp_path / "again", **DEFAULT_SAMPLE)
    bundled = sorted(p.name for p in BUNDLED.iterdir())
    assert sorted(p.name for p in out.iterdir()) == bundled
    for name in bundled:
        assert (out / name).read_bytes() == (BUNDLED / name).read_bytes(), f"{name} differs"


def test_bundled_sample_is_small_csv():
    files = list(BUNDLED.iterdir())
    assert sum(p.stat().st_size for p in files) < 5 * 1024 * 1024
    assert {p.suffix for p in files if p.name != ".kam-written"} == {".csv", ".yaml"}


def test_bundled_sample_carries_the_kits_marker():
    # `make sample` (kam sample --out data/samples/klebwerk --replace) may replace it
    from kamlib._files import read_marker

    assert read_marker(BUNDLED) == {"written_by": "kam sample"}


@pytest.fixture(scope="module")
def company():
    return generate_sample(**DEFAULT_SAMPLE)


def test_same_parameters_same_company_other_seed_other_company():
    a = generate_sample(accounts=40, years=2, seed=11)
    b = generate_sample(accounts=40, years=2, seed=11)
    c = generate_sample(accounts=40, years=2, seed=12)
    for table in a.tables:
        pd.testing.assert_frame_equal(a.tables[table], b.tables[table])
    assert not a.tables["transactions"].equals(c.tables["transactions"])


def test_history_spans_the_years_up_to_end(company):
    tx = company.tables["transactions"]
    assert company.start == pd.Timestamp("2023-10-01") and company.end == pd.Timestamp("2026-09-30")
    assert tx["date"].min() >= company.start and tx["date"].max() <= company.end
    assert tx["date"].dt.day_of_week.max() <= 4  # invoices on working days


def _last_year(company) -> pd.DataFrame:
    tx = company.tables["transactions"]
    return tx[tx["date"] > company.end - pd.DateOffset(years=1)]


@pytest.mark.parametrize("seed", range(6))
def test_revenue_is_concentrated_like_real_key_accounts(seed):
    c = generate_sample(accounts=300, years=3, seed=seed)
    rev = _last_year(c).groupby("account_id")["amount"].sum().sort_values(ascending=False)
    share = rev.cumsum() / rev.sum()
    top5pct = share.iloc[int(0.05 * 300) - 1]
    assert 0.30 <= top5pct <= 0.55  # the brief: key accounts make 30-55 % of sales
    needed_for_half = int((share < 0.5).sum()) + 1
    assert 0.03 * 300 <= needed_for_half <= 0.12 * 300


def test_money_kg_and_margin_rank_accounts_differently(company):
    last = _last_year(company).assign(margin=lambda d: d["amount"] - d["cost"])
    per = last.groupby("account_id")[["amount", "quantity", "margin"]].sum()
    top = {col: set(per[col].nlargest(15).index) for col in per}
    assert top["amount"] != top["quantity"] and top["amount"] != top["margin"]
    margin_pct = per["margin"] / per["amount"]
    assert margin_pct.max() - margin_pct.min() > 0.2


def test_special_accounts_exist(company):
    acc = company.tables["accounts"]
    for flag in ("is_prestige", "is_multinational", "is_distributor", "is_test_partner"):
        assert 1 <= acc[flag].sum() <= 0.15 * len(acc), flag
    assert (acc.loc[acc["is_multinational"], "group"] != "").all()
    slow = company.tables["products"].set_index("product_id")["is_slow_moving"]
    tx = company.tables["transactions"]
    slow_share = (
        tx["amount"].where(tx["product_id"].map(slow), 0).groupby(tx["account_id"]).sum()
        / tx.groupby("account_id")["amount"].sum()
    )
    absorbers = company.scenario.loc[company.scenario["slow_absorber"], "account_id"]
    assert slow_share[absorbers].median() > 3 * slow_share.drop(absorbers).median()


def test_payment_habits(company):
    inv = company.tables["invoices"]
    late = (inv["paid_date"] - inv["due_date"]).dt.days
    per = late.groupby(inv["account_id"]).mean()
    assert (
        inv.groupby("account_id")["payment_method"].agg(lambda m: (m == "cash").all())
    ).sum() >= 5
    assert (per <= 0).sum() >= 50 and (per > 15).sum() >= 20
    assert inv["paid_date"].isna().sum() > 0  # open invoices at the end


def test_buying_patterns(company):
    tx = company.tables["transactions"]
    months = tx.groupby("account_id")["date"].agg(lambda d: d.dt.to_period("M").nunique())
    assert (months >= 33).sum() >= 40  # regular: nearly every month
    assert (months <= 10).sum() >= 30  # sporadic


def test_new_accounts_in_the_last_year(company):
    acc = company.tables["accounts"]
    assert (acc["first_order_date"] > company.end - pd.DateOffset(years=1)).sum() >= 10


def test_lost_accounts_stop_buying_and_some_come_back(company):
    sc = company.scenario
    tx = company.tables["transactions"]
    lost = sc[sc["status"] == "lost"]
    assert len(lost) >= 15
    last_buy = tx[tx["amount"] > 0].groupby("account_id")["date"].max()  # credit notes may follow
    assert (last_buy[lost["account_id"]].to_numpy() < lost["lost_on"].to_numpy()).all()
    back = sc[sc["status"] == "returned"]
    assert len(back) >= 3
    assert (last_buy[back["account_id"]].to_numpy() >= back["returned_on"].to_numpy()).all()
    recorded = company.tables["interactions"].query("outcome == 'account lost'")
    assert set(recorded["account_id"]) <= set(
        sc.loc[sc["status"].isin(["lost", "returned"]), "account_id"]
    )
    assert (
        recorded["reason"]
        .isin(["price", "quality", "service", "delivery", "relationship", "customer_closed"])
        .all()
    )
    assert (sc["loss_reason"] == "unrecorded").sum() >= 1  # some losses are unexplained


def test_declining_accounts_fall(company):
    tx = company.tables["transactions"]
    dec = company.scenario.loc[company.scenario["status"] == "declining", "account_id"]
    recent = (
        tx[tx["date"] > company.end - pd.DateOffset(months=6)].groupby("account_id")["amount"].sum()
    )
    before = tx[
        (tx["date"] > company.end - pd.DateOffset(months=18))
        & (tx["date"] <= company.end - pd.DateOffset(months=12))
    ]
    before = before.groupby("account_id")["amount"].sum()
    ratio = (recent.reindex(dec).fillna(0) / before.reindex(dec)).median()
    assert ratio < 0.8


def test_relationship_tables(company):
    t = company.tables
    assert set(t["contacts"]["role"]) == {
        "decision_maker",
        "influencer",
        "user",
        "buyer",
        "champion",
        "blocker",
    }
    assert {"visit", "call", "complaint", "service"} <= set(t["interactions"]["type"])
    prop = t["proposals"]
    assert {"won", "lost", "open"} == set(prop["outcome"])
    assert (prop.loc[prop["outcome"] == "lost", "competitor"] != "").all()
    assert (prop.loc[prop["outcome"] != "open", "reason"] != "").all()
    assert t["competitors"]["estimated_share"].between(0, 1).all()
    assert t["surveys"]["score"].between(0, 10).all() and t["surveys"]["score"].nunique() > 4


def test_credit_notes_are_negative_with_their_own_numbers(company):
    tx = company.tables["transactions"]
    notes = tx[tx["amount"] < 0]
    assert 0.005 < len(notes) / len(tx) < 0.03
    assert notes["invoice_id"].str.startswith("CN").all() and (notes["quantity"] < 0).all()


@settings(max_examples=8, deadline=None)
@given(accounts=st.integers(20, 80), years=st.integers(2, 4), seed=st.integers(0, 10_000))
def test_any_generated_company_is_a_valid_dataset(tmp_path_factory, accounts, years, seed):
    out = write_sample(
        tmp_path_factory.mktemp("gen") / "co", accounts=accounts, years=years, seed=seed
    )
    ds = kamlib.load_dataset(out)
    assert ds.get("accounts")["account_id"].nunique() == accounts
    tx = ds.transactions
    assert (tx["margin"] == tx["amount"] - tx["cost"]).all()
    span_months = (tx["date"].max().to_period("M") - tx["date"].min().to_period("M")).n + 1
    assert span_months == 12 * years


def test_parquet_output_loads_the_same(tmp_path):
    a = kamlib.load_dataset(write_sample(tmp_path / "csv", accounts=30, years=2, seed=5))
    b = kamlib.load_dataset(
        write_sample(tmp_path / "pq", accounts=30, years=2, seed=5, fmt="parquet")
    )
    pd.testing.assert_frame_equal(a.transactions, b.transactions, check_dtype=False)


def test_bad_generator_parameters():
    with pytest.raises(ValueError, match="accounts must be at least 20"):
        generate_sample(accounts=5)
    with pytest.raises(ValueError, match="years must be at least 2"):
        generate_sample(years=1)
    with pytest.raises(ValueError, match="fmt must be 'csv' or 'parquet'"):
        write_sample("/nonexistent/x", fmt="xls")


def test_write_sample_refuses_a_folder_that_is_not_a_dataset(tmp_path):
    (tmp_path / "mine.txt").write_text("keep me")
    with pytest.raises(ValueError, match=r"holds files the kit did not write: mine\.txt"):
        write_sample(tmp_path, accounts=20, years=2, replace=True)
    assert (tmp_path / "mine.txt").read_text() == "keep me"


def test_scenario_is_consistent(company):
    sc = company.scenario
    assert sc["account_id"].is_unique and len(sc) == 300
    lost = sc["status"].isin(["lost", "returned"])
    assert sc.loc[lost, "lost_on"].notna().all() and sc.loc[~lost, "lost_on"].isna().all()
    assert np.isin(sc["pattern"], ["regular", "fluctuating", "sporadic"]).all()
