"""A seeded generator for a believable B2B supplier: the sample company.

*Klebwerk* sells industrial adhesives in kg and EUR to manufacturers,
distributors and craft businesses in six European countries. The generator
plants the patterns every notebook teaches: concentrated revenue, accounts that
rank differently by money, kg and margin; prestige, multinational, distributor,
test-partner and slow-stock-absorbing accounts; cash, punctual and late payers;
regular, fluctuating and sporadic buyers; new accounts; accounts lost at known
dates for recorded reasons, some of which came back; accounts declining now;
contacts with decision roles, visits, calls, complaints, proposals, competitors
and satisfaction scores.

Everything is drawn with NumPy in whole-array steps, so a million invoice lines
take seconds, and the same parameters always give byte-identical files.

The planted truth (who was lost when and why, who pays late …) is returned as
``scenario``; trainers can use it as an answer key and tests use it to check
the analyses find what was planted.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from kamlib._files import check_target, csv_text, folder_written_whole

__all__ = ["DEFAULT_SAMPLE", "SampleCompany", "generate_sample", "write_sample"]

#: Parameters of the bundled sample in ``data/samples/klebwerk``.
DEFAULT_SAMPLE = {"accounts": 300, "years": 3, "seed": 7, "end": "2026-09-30"}

_COUNTRIES = np.array(["DE", "AT", "CH", "PL", "CZ", "FR"])
_COUNTRY_P = np.array([0.38, 0.14, 0.10, 0.16, 0.10, 0.12])
_REGION = {"DE": "DACH", "AT": "DACH", "CH": "DACH", "PL": "CEE", "CZ": "CEE", "FR": "West"}
_LEGAL = {"DE": "GmbH", "AT": "GmbH", "CH": "AG", "PL": "Sp. z o.o.", "CZ": "s.r.o.", "FR": "SAS"}
_MANAGERS = {
    "DACH": ["Anna Keller", "Jonas Brandt", "Sabine Roth"],
    "CEE": ["Piotr Nowak", "Eva Svobodová"],
    "West": ["Claire Dubois"],
}
_SEGMENTS = np.array(["OEM", "Industrial user", "Craft", "Distributor"])
_SEGMENT_P = np.array([0.30, 0.45, 0.17, 0.08])
_INDUSTRIES = np.array(
    [
        "Automotive",
        "Packaging",
        "Construction",
        "Furniture",
        "Electronics",
        "Footwear",
        "Woodworking",
    ]
)
_NAME_A = np.array(
    "Alpen Nord Sued West Ost Rhein Donau Elbe Oder Weichsel Moldau Loire Saar Main Isar Inn "
    "Brenner Tatra Karpat Jura Vogesen Harz Eifel Taunus Spree Havel Neckar Lech Iller Ammer "
    "Aar Reuss Thur Linth Rhone Seine Marne Somme Warta Vltava".split()
)
_NAME_B = np.array(
    "werk technik bau form pack mobil tec plast holz metall glas elektro verbund systeme "
    "industrie fertigung montage design line flex pro star form-tec print".split()
)
_PRODUCT_GROUPS = {
    # group: (list price EUR/kg range, cost ratio of list price)
    "Hot melt": ((3.5, 6.0), 0.62),
    "Dispersion": ((2.5, 4.5), 0.58),
    "PU reactive": ((8.0, 14.0), 0.50),
    "Epoxy": ((14.0, 26.0), 0.42),
    "Sealants": ((6.0, 10.0), 0.55),
    "Primers & cleaners": ((9.0, 16.0), 0.45),
}
_INDUSTRY_GROUP = {
    "Automotive": "PU reactive",
    "Packaging": "Hot melt",
    "Construction": "Sealants",
    "Furniture": "Dispersion",
    "Electronics": "Epoxy",
    "Footwear": "PU reactive",
    "Woodworking": "Dispersion",
}
_COMPETITORS = np.array(["Adhexa", "Bondline", "Collaro", "Tackwell", "Polyfix", "Stickra"])
_LOSS_REASONS = np.array(
    ["price", "quality", "service", "delivery", "relationship", "customer_closed"]
)
_LOSS_REASON_P = np.array([0.34, 0.16, 0.16, 0.14, 0.10, 0.10])
_FIRST = np.array(
    "Anna Lukas Maria Felix Laura Jan Sophie Paul Julia Tomasz Agnieszka Petr Jana Marc Camille "
    "Thomas Nina Stefan Katrin Martin Zofia Pavel Lucie Pierre Elodie Markus Sandra Florian".split()
)
_LAST = np.array(
    "Müller Schmidt Schneider Fischer Weber Meyer Wagner Becker Hoffmann Schulz Kowalski Wiśniewski "
    "Novák Dvořák Martin Bernard Dubois Moreau Huber Gruber Steiner Baumann Frei Keller Zimmermann".split()
)
_TITLES = {
    "decision_maker": "Managing Director",
    "buyer": "Purchasing Manager",
    "influencer": "Head of Production",
    "user": "Line Supervisor",
    "champion": "Process Engineer",
    "blocker": "Quality Manager",
}
_SEASON = np.array([0.92, 1.0, 1.08, 1.05, 1.05, 1.0, 0.95, 0.72, 1.06, 1.1, 1.05, 0.82])


@dataclass(frozen=True)
class SampleCompany:
    """A generated company: its tables (model column names) and the planted truth.

    Attributes
    ----------
    tables : dict of str to pandas.DataFrame
        ``transactions``, ``accounts``, ``products``, ``invoices``, ``contacts``,
        ``interactions``, ``proposals``, ``competitors``, ``surveys``.
    scenario : pandas.DataFrame
        One row per account: ``account_id``, ``pattern`` (regular, fluctuating,
        sporadic), ``status`` (active, new, lost, returned, declining),
        ``lost_on``, ``loss_reason``, ``returned_on``, ``declining_from``,
        ``payer`` (cash, punctual, late, very_late), ``demanding``, ``slow_absorber``.
    start, end : pandas.Timestamp
        First and last day of the sales history.
    """

    tables: dict[str, pd.DataFrame]
    scenario: pd.DataFrame
    start: pd.Timestamp
    end: pd.Timestamp


def _pick(rng, values, n, p=None):
    return values[rng.choice(len(values), size=n, p=p)]


def _business_day(dates: np.ndarray) -> np.ndarray:
    days = dates.astype("datetime64[D]")
    return np.busday_offset(days, 0, roll="backward")


def _td(values, unit: str = "D") -> np.ndarray:
    """Whole numbers as a NumPy timedelta (NumPy no longer adds bare integers to dates)."""
    return np.asarray(values).astype("int64").astype(f"timedelta64[{unit}]")


def _months(start: pd.Timestamp, n: int) -> np.ndarray:
    return np.arange(np.datetime64(start, "M"), np.datetime64(start, "M") + np.timedelta64(n, "M"))


def _accounts(rng, n: int, start: pd.Timestamp, end: pd.Timestamp, n_months: int):
    idx = np.arange(n)
    country = _pick(rng, _COUNTRIES, n, _COUNTRY_P)
    segment = _pick(rng, _SEGMENTS, n, _SEGMENT_P)
    industry = _pick(rng, _INDUSTRIES, n)
    industry = np.where(segment == "Distributor", "Wholesale", industry)
    size = rng.lognormal(0.0, 1.25, n)
    size = np.where(segment == "Distributor", size * 2.2, size)
    size = np.where(segment == "Craft", size * 0.35, size)
    # a few well-known names: prestige accounts are mostly large
    rank = pd.Series(size).rank(ascending=False).to_numpy()
    is_prestige = (rng.random(n) < np.where(rank <= n * 0.15, 0.12, 0.01)) & (
        segment != "Distributor"
    )
    is_multinational = rng.random(n) < 0.06
    size = np.where(is_multinational & ~is_prestige, size * 0.4, size)  # small locally
    is_test_partner = (rng.random(n) < 0.05) & (rank > n * 0.5)
    slow_absorber = (rng.random(n) < 0.06) & (segment != "Craft")
    demanding = is_test_partner | (rng.random(n) < 0.07)

    combos = rng.permutation(len(_NAME_A) * len(_NAME_B))
    combo = combos[idx % len(combos)]
    stem = np.char.add(_NAME_A[combo // len(_NAME_B)], _NAME_B[combo % len(_NAME_B)])
    stem = np.char.capitalize(stem.astype(str))
    suffix = np.where(
        idx >= len(combos), np.char.add(" ", (idx // len(combos) + 1).astype(str)), ""
    )
    legal = pd.Series(country).map(_LEGAL).to_numpy(dtype=str)
    name = np.char.add(np.char.add(np.char.add(stem, suffix), " "), legal)
    region = pd.Series(country).map(_REGION).to_numpy()
    flat = np.array([m for names in _MANAGERS.values() for m in names])
    sizes = pd.Series({r: len(v) for r, v in _MANAGERS.items()})
    offsets = sizes.cumsum() - sizes
    manager = flat[
        pd.Series(region).map(offsets).to_numpy()
        + rng.integers(0, 6, n) % pd.Series(region).map(sizes).to_numpy()
    ]
    group = np.where(
        is_multinational,
        _pick(
            rng,
            np.array(["Vantor Group", "Helix Holding", "Orion Industries", "Meridian Group"]),
            n,
        ),
        "",
    )

    pattern = _pick(rng, np.array(["regular", "fluctuating", "sporadic"]), n, [0.38, 0.34, 0.28])
    # large accounts buy steadily: no sporadic buyers among the top fifth, mostly regular at the top
    pattern = np.where((rank <= n * 0.2) & (pattern == "sporadic"), "fluctuating", pattern)
    pattern = np.where((rank <= n * 0.1) & (rng.random(n) < 0.5), "regular", pattern)

    # lifecycle, in month indices of the history (0 .. n_months-1)
    first_month = np.zeros(n, dtype=int)
    new = rng.random(n) < 0.09
    size = np.where(new, size * 0.4, size)  # new accounts start small and grow
    first_month = np.where(new, rng.integers(n_months - 12, n_months - 2, n), first_month)
    joined_during = (~new) & (rng.random(n) < 0.08)
    first_month = np.where(joined_during, rng.integers(1, n_months - 12, n), first_month)
    tenure_before = rng.gamma(2.0, 3.0, n) * 12  # months before the history starts
    first_order = np.where(
        first_month > 0,
        _months(start, n_months)[np.minimum(first_month, n_months - 1)],
        np.datetime64(start, "M") - _td(tenure_before.astype(int) + 1, "M"),
    ).astype("datetime64[D]") + _td(rng.integers(0, 27, n))

    status = np.where(new, "new", "active").astype(object)
    can_lose = (~new) & (first_month < n_months - 18)
    lost = can_lose & (rng.random(n) < 0.14)
    lost_month = np.where(
        lost,
        rng.integers(np.minimum(np.maximum(first_month + 6, 6), n_months - 5), n_months - 4),
        n_months,
    )
    returned = lost & (rng.random(n) < 0.28) & (lost_month < n_months - 8)
    return_month = np.where(returned, lost_month + rng.integers(4, 9, n), n_months)
    status = np.where(lost, "lost", status)
    status = np.where(returned, "returned", status)
    declining = (status == "active") & (rng.random(n) < 0.09) & (rank <= n * 0.6)
    status = np.where(declining, "declining", status)
    decline_from = np.where(declining, n_months - rng.integers(6, 10, n), n_months)
    reason = np.where(lost, _pick(rng, _LOSS_REASONS, n, _LOSS_REASON_P), "")
    reason_recorded = lost & (rng.random(n) < 0.8)
    months = _months(start, n_months).astype("datetime64[D]")
    payer = _pick(
        rng, np.array(["punctual", "late", "very_late", "cash"]), n, [0.55, 0.28, 0.08, 0.09]
    )
    payer = np.where((payer == "cash") & (rank <= n * 0.1), "punctual", payer)

    headcount = np.maximum(3, (size * 60 * rng.lognormal(0, 0.5, n))).round().astype(int)
    headcount = np.where(is_multinational, headcount * 12, headcount)
    own_sales = (headcount * rng.uniform(120_000, 260_000, n)).round(-3)

    accounts = pd.DataFrame(
        {
            "account_id": np.char.add("K", (10001 + idx).astype(str)),
            "name": name,
            "country": country,
            "region": region,
            "industry": industry,
            "segment": segment,
            "account_manager": manager,
            "first_order_date": first_order,
            "headcount": headcount,
            "annual_sales": own_sales,
            "is_distributor": segment == "Distributor",
            "is_multinational": is_multinational,
            "group": group,
            "is_prestige": is_prestige,
            "is_test_partner": is_test_partner,
        }
    )

    def month_date(m, day_offset):
        valid = m < n_months
        out = months[np.minimum(m, n_months - 1)] + _td(day_offset)
        return np.where(valid, out, np.datetime64("NaT", "D"))

    scenario = pd.DataFrame(
        {
            "account_id": accounts["account_id"],
            "pattern": pattern,
            "status": status.astype(str),
            "lost_on": month_date(lost_month, 0),
            "loss_reason": np.where(reason_recorded, reason, np.where(lost, "unrecorded", "")),
            "returned_on": month_date(return_month, 0),
            "declining_from": month_date(decline_from, 0),
            "payer": payer,
            "demanding": demanding,
            "slow_absorber": slow_absorber,
        }
    )
    state = {
        "size": size,
        "rank": rank,
        "first_month": first_month,
        "lost_month": lost_month,
        "return_month": return_month,
        "decline_from": decline_from,
        "true_reason": reason,
        "reason_recorded": reason_recorded,
        "segment": segment,
        "industry": industry,
        "is_prestige": is_prestige,
        "is_multinational": is_multinational,
    }
    return accounts, scenario, state


def _products(rng):
    rows = []
    groups = list(_PRODUCT_GROUPS)
    for g_i, (group, ((lo, hi), cost_ratio)) in enumerate(_PRODUCT_GROUPS.items()):
        for j in range(7):
            slow = j >= 6 or (group == "Sealants" and j == 5)
            price = round(float(rng.uniform(lo, hi)) * (0.7 if slow else 1.0), 2)
            rows.append(
                {
                    "product_id": f"P{g_i + 1}{j + 1:02d}",
                    "name": f"{group.split()[0]} {['S', 'M', 'X', 'Pro', 'Flex', 'Eco', 'Legacy'][j]}-{100 + 10 * j}",
                    "product_group": group,
                    "unit": "kg",
                    "is_slow_moving": slow,
                    "list_price": price,
                    "_cost_ratio": cost_ratio * (1.25 if slow else 1.0),
                    "_group_index": groups.index(group),
                }
            )
    return pd.DataFrame(rows)


def _transactions(rng, accounts, state, products, start, n_months):
    n = len(accounts)
    size = state["size"]
    pattern_code = pd.Categorical(
        state.get("pattern"), categories=["regular", "fluctuating", "sporadic"]
    ).codes
    # yearly revenue potential per account: lognormal sizes scaled to a 25 M EUR company
    base_month = size / size.sum() * 25_000_000 * (n / 300) / 12
    growth = rng.normal(0.02, 0.10, n)
    growth = np.where(state["first_month"] > n_months - 14, np.abs(growth) + 0.25, growth)

    acc = np.repeat(np.arange(n), n_months)
    month = np.tile(np.arange(n_months), n)
    active = (month >= state["first_month"][acc]) & (
        (month < state["lost_month"][acc]) | (month >= state["return_month"][acc])
    )
    decline = np.clip(1 - 0.09 * (month - state["decline_from"][acc] + 1), 0.25, 1.0)
    months_since = month - state["first_month"][acc]
    ramp = np.where(state["first_month"][acc] > 0, np.clip(0.35 + 0.13 * months_since, 0, 1), 1.0)
    expected = (
        base_month[acc]
        * (1 + growth[acc]) ** (month / 12)
        * _SEASON[(np.datetime64(start, "M").astype(int) + month) % 12]
        * decline
        * ramp
    )
    code = pattern_code[acc]
    p_buy = np.choose(code, [0.97, 0.78, 0.22])
    buys = active & (rng.random(len(acc)) < p_buy)
    factor = np.choose(
        code,
        [
            rng.lognormal(-0.01, 0.15, len(acc)),
            rng.gamma(2.0, 0.5, len(acc)),
            rng.lognormal(-0.12, 0.5, len(acc)),
        ],
    )
    month_value = expected * factor / p_buy
    am = np.flatnonzero(buys)
    extra = np.clip(np.round(np.log1p(base_month[acc[am]] / 2500)), 0, 4)
    n_orders = 1 + rng.poisson(np.where(code[am] == 2, 0, extra))
    order_am = np.repeat(am, n_orders)
    w = rng.exponential(1.0, len(order_am)) + 0.3
    w_sum = np.bincount(np.repeat(np.arange(len(am)), n_orders), weights=w)
    order_value = month_value[order_am] * w / np.repeat(w_sum, n_orders)
    n_lines = 1 + rng.poisson(0.8, len(order_am))
    line_order = np.repeat(np.arange(len(order_am)), n_lines)
    lw = rng.exponential(1.0, len(line_order)) + 0.2
    lw_sum = np.bincount(line_order, weights=lw)
    amount = order_value[line_order] * lw / lw_sum[line_order]
    line_acc = acc[order_am][line_order]

    # products: 75 % from the industry's main group, slow-moving stock for absorbers
    group_names = list(_PRODUCT_GROUPS)
    group_code = {g: i for i, g in enumerate(group_names)}
    main_group = (
        pd.Series(state["industry"])
        .map(_INDUSTRY_GROUP)
        .fillna("Hot melt")
        .map(group_code)
        .to_numpy()
    )
    group = np.where(
        rng.random(len(line_acc)) < 0.75,
        main_group[line_acc],
        rng.integers(0, len(group_names), len(line_acc)),
    )
    slow_pick = state["slow_absorber"][line_acc] & (rng.random(len(line_acc)) < 0.45)
    slot = np.where(slow_pick, 6, rng.integers(0, 6, len(line_acc)))
    prod = group * 7 + slot
    price = products["list_price"].to_numpy()[prod]
    discount = (
        np.where(state["segment"] == "Distributor", 0.74, 1.0)
        * np.where(state["rank"] <= n * 0.1, 0.9, 1.0)
        * np.where(state["is_prestige"], 0.88, 1.0)
        * np.where(state["segment"] == "Craft", 1.08, 1.0)
    )
    unit_price = price * discount[line_acc] * rng.lognormal(0, 0.05, len(line_acc))
    quantity = np.maximum(np.round(amount / unit_price, 0), 1.0)
    amount = np.round(quantity * unit_price, 2)
    unit_cost = (
        price * products["_cost_ratio"].to_numpy()[prod] * rng.lognormal(0, 0.03, len(line_acc))
    )
    cost = np.round(quantity * unit_cost, 2)

    month_start = _months(start, n_months).astype("datetime64[D]")
    order_month = month[order_am]
    days_in = (
        month_start[np.minimum(order_month + 1, n_months - 1)] - month_start[order_month]
    ).astype(int)
    days_in = np.where(order_month == n_months - 1, 28, days_in)
    order_date = _business_day(
        month_start[order_month] + _td((rng.random(len(order_am)) * days_in).astype(int))
    )
    early = order_date < month_start[order_month]  # rolled back into the previous month
    order_date = np.where(
        early, np.busday_offset(month_start[order_month], 0, roll="forward"), order_date
    )

    order_rank = np.argsort(order_date, kind="stable")
    invoice_no = np.empty(len(order_am), dtype=np.int64)
    invoice_no[order_rank] = np.arange(len(order_am))
    invoice_id = np.char.add("R", (2_000_001 + invoice_no).astype(str))

    lines = pd.DataFrame(
        {
            "account_id": accounts["account_id"].to_numpy()[line_acc],
            "date": order_date[line_order],
            "invoice_id": invoice_id[line_order],
            "product_id": products["product_id"].to_numpy()[prod],
            "quantity": quantity,
            "amount": amount,
            "cost": cost,
        }
    )
    # credit notes: about 1.5 % of lines are partly returned a few weeks later
    ret = np.flatnonzero(rng.random(len(lines)) < 0.015)
    share = np.round(rng.uniform(0.2, 1.0, len(ret)), 2)
    notes = lines.iloc[ret].copy()
    notes["quantity"] = -np.maximum(np.round(notes["quantity"].to_numpy() * share), 1)
    ratio = notes["quantity"].to_numpy() / lines["quantity"].to_numpy()[ret]
    notes["amount"] = np.round(lines["amount"].to_numpy()[ret] * ratio, 2)
    notes["cost"] = np.round(lines["cost"].to_numpy()[ret] * ratio, 2)
    end_day = np.busday_offset(month_start[-1] + np.timedelta64(27, "D"), 0, roll="backward")
    notes["date"] = np.minimum(
        _business_day(
            notes["date"].to_numpy().astype("datetime64[D]") + _td(rng.integers(5, 40, len(ret)))
        ),
        end_day,
    )
    notes["invoice_id"] = np.char.add("CN", (500_001 + np.arange(len(ret))).astype(str))
    tx = pd.concat([lines, notes], ignore_index=True)
    tx = tx.sort_values(["date", "invoice_id", "product_id"], kind="stable").reset_index(drop=True)
    orders = pd.DataFrame(
        {
            "invoice_id": invoice_id,
            "account": acc[order_am],
            "invoice_date": order_date,
        }
    )
    order_totals = lines.groupby("invoice_id", sort=False)["amount"].sum()
    orders["amount"] = order_totals.reindex(orders["invoice_id"]).to_numpy().round(2)
    return tx, orders


def _invoices(rng, orders, accounts, scenario, end):
    payer = scenario["payer"].to_numpy()[orders["account"].to_numpy()]
    n = len(orders)
    inv_date = orders["invoice_date"].to_numpy().astype("datetime64[D]")
    terms = np.where(payer == "cash", 0, np.where(rng.random(n) < 0.25, 60, 30))
    due = inv_date + _td(terms)
    delay = np.select(
        [payer == "cash", payer == "punctual", payer == "late", payer == "very_late"],
        [
            np.zeros(n),
            -rng.integers(0, 8, n),
            rng.exponential(14.0, n),
            rng.exponential(42.0, n) + 10,
        ],
    ).astype(int)
    paid = due + _td(delay)
    paid = np.where(payer == "cash", inv_date, paid)
    open_ = paid > np.datetime64(end.date())
    out = pd.DataFrame(
        {
            "invoice_id": orders["invoice_id"],
            "account_id": accounts["account_id"].to_numpy()[orders["account"].to_numpy()],
            "invoice_date": inv_date,
            "due_date": due,
            "paid_date": np.where(open_, np.datetime64("NaT", "D"), paid),
            "amount": orders["amount"],
            "payment_method": np.where(
                payer == "cash", "cash", np.where(rng.random(n) < 0.3, "direct_debit", "transfer")
            ),
        }
    )
    return out.sort_values("invoice_id", kind="stable").reset_index(drop=True)


def _contacts(rng, accounts, state, end):
    n = len(accounts)
    k = np.clip(2 + rng.poisson(np.log1p(state["size"]) * 1.5), 2, 8)
    acc = np.repeat(np.arange(n), k)
    pos = np.arange(len(acc)) - np.repeat(np.cumsum(k) - k, k)
    others = np.array(["influencer", "user", "champion", "blocker", "influencer", "user"])
    role = np.where(
        pos == 0,
        "buyer",
        np.where(
            (pos == 1) & (rng.random(len(acc)) < 0.8),
            "decision_maker",
            others[rng.integers(0, len(others), len(acc))],
        ),
    )
    influence = np.select(
        [role == "decision_maker", role == "buyer", role == "user", role == "blocker"],
        [
            rng.integers(4, 6, len(acc)),
            rng.integers(2, 4, len(acc)),
            rng.integers(1, 3, len(acc)),
            rng.integers(3, 6, len(acc)),
        ],
        rng.integers(2, 5, len(acc)),
    )
    attitude = np.select(
        [role == "champion", role == "blocker"],
        [np.full(len(acc), 2), -rng.integers(1, 3, len(acc))],
        rng.integers(-1, 3, len(acc)),
    )
    lost = np.isin(np.asarray(state["status"])[acc], ["lost"])
    days_ago = np.where(
        lost, rng.integers(200, 700, len(acc)), rng.exponential(60, len(acc)).astype(int)
    )
    last = np.datetime64(end.date()) - _td(days_ago)
    names = np.char.add(np.char.add(_pick(rng, _FIRST, len(acc)), " "), _pick(rng, _LAST, len(acc)))
    return pd.DataFrame(
        {
            "contact_id": np.char.add("C", (30001 + np.arange(len(acc))).astype(str)),
            "account_id": accounts["account_id"].to_numpy()[acc],
            "name": names,
            "job_title": pd.Series(role).map(_TITLES).to_numpy(),
            "role": role,
            "influence": influence,
            "attitude": attitude,
            "last_contact": last,
        }
    )


_NOTES = {
    "visit": "Visit: reviewed consumption and upcoming projects.",
    "call": "Call about open orders and delivery dates.",
    "meeting": "Meeting with purchasing on next year's volumes.",
    "complaint": "Complaint recorded.",
    "service": "Technical service: line trial and adhesive selection.",
}
_REASON_NOTES = {
    "price": "Customer moved the volume to a cheaper supplier.",
    "quality": "Repeated quality problems (bond failures) cost the account.",
    "service": "Customer unhappy with technical support response times.",
    "delivery": "Late deliveries stopped the customer's line twice.",
    "relationship": "New purchasing manager preferred another supplier.",
    "customer_closed": "Customer closed the plant.",
}


def _interactions(rng, accounts, state, contacts, start, end, n_months):
    n = len(accounts)
    size_q = 1 - state["rank"] / n  # 1 = largest
    years = n_months / 12
    active_share = np.clip(
        (np.minimum(state["lost_month"], n_months) - state["first_month"]) / n_months, 0.05, 1
    )
    rates = {
        "visit": (0.5 + 6 * size_q**2) * years * active_share,
        "call": (1.5 + 9 * size_q) * years * active_share,
        "meeting": (0.1 + 1.5 * size_q**3) * years * active_share,
        "complaint": (0.25 + 2.5 * state["demanding"]) * years * active_share,
        "service": (0.2 + 3.0 * state["demanding"]) * years * active_share,
    }

    def events(acc, date, kind, outcome="", reason="", note=None):
        if note is None:  # the note that goes with each recorded reason
            note = pd.Series(reason).map(_REASON_NOTES).to_numpy()
        return pd.DataFrame(
            {
                "acc": acc,
                "date": date,
                "type": kind,
                "outcome": outcome,
                "reason": reason,
                "note": note,
            }
        )

    frames = []
    start_d = np.datetime64(start.date())
    span_end = np.minimum(state["lost_month"], n_months)
    for kind, rate in rates.items():
        k = rng.poisson(rate)
        acc = np.repeat(np.arange(n), k)
        m = state["first_month"][acc] + rng.random(len(acc)) * (
            span_end[acc] - state["first_month"][acc]
        )
        frames.append(events(acc, start_d + _td((m * 30.4).astype(int)), kind, note=_NOTES[kind]))
    # planted: complaints before quality / service / delivery losses, the loss itself, win-backs
    lost = np.flatnonzero(np.isin(state["true_reason"], ["quality", "service", "delivery"]))
    k = rng.integers(2, 4, len(lost))
    acc = np.repeat(lost, k)
    date = start_d + _td(((state["lost_month"][acc] - rng.random(len(acc)) * 6) * 30.4).astype(int))
    frames.append(events(acc, date, "complaint", "unresolved", state["true_reason"][acc]))
    rec = np.flatnonzero(state["reason_recorded"])
    date = start_d + _td(
        (state["lost_month"][rec] * 30.4).astype(int) + rng.integers(30, 90, len(rec))
    )
    frames.append(events(rec, date, "call", "account lost", state["true_reason"][rec]))
    back = np.flatnonzero(state["return_month"] < n_months)
    date = start_d + _td(
        (state["return_month"][back] * 30.4).astype(int) - rng.integers(20, 50, len(back))
    )
    frames.append(
        events(
            back,
            date,
            "visit",
            "won back",
            note="Visit by the sales manager with a special offer; customer agreed to a trial order.",
        )
    )
    out = pd.concat(frames, ignore_index=True)
    out["date"] = np.minimum(
        out["date"].to_numpy().astype("datetime64[D]"), np.datetime64(end.date())
    )
    out = out.sort_values(["date", "acc", "type"], kind="stable").reset_index(drop=True)
    # a contact of the account for visits and meetings (the first listed: the buyer)
    first_contact = contacts.drop_duplicates("account_id").set_index("account_id")["contact_id"]
    acc_ids = accounts["account_id"].to_numpy()[out["acc"].to_numpy()]
    contact = first_contact.reindex(acc_ids).to_numpy()
    out["outcome"] = np.where(
        (out["outcome"] == "") & (out["type"] == "complaint"),
        np.where(rng.random(len(out)) < 0.8, "resolved", "open"),
        out["outcome"],
    )
    out["outcome"] = np.where(
        out["outcome"] == "", np.where(out["type"] == "visit", "follow-up", "done"), out["outcome"]
    )
    return pd.DataFrame(
        {
            "interaction_id": np.char.add("I", (100001 + np.arange(len(out))).astype(str)),
            "account_id": acc_ids,
            "date": out["date"].to_numpy(),
            "type": out["type"].to_numpy(),
            "contact_id": np.where(np.isin(out["type"], ["visit", "meeting"]), contact, ""),
            "outcome": out["outcome"].to_numpy(),
            "reason": out["reason"].to_numpy(),
            "note": out["note"].to_numpy(),
        }
    )


def _competitors(rng, accounts, state, start):
    n = len(accounts)
    k = rng.integers(0, 4, n)
    k = np.where(state["true_reason"] == "price", np.maximum(k, 1), k)
    acc = np.repeat(np.arange(n), k)
    pos = np.arange(len(acc)) - np.repeat(np.cumsum(k) - k, k)
    offset = rng.integers(0, len(_COMPETITORS), n)
    comp = _COMPETITORS[(offset[acc] + pos) % len(_COMPETITORS)]
    since = np.datetime64(start.date()) - _td(rng.integers(-700, 2500, len(acc)))
    share = np.round(rng.uniform(0.05, 0.45, len(acc)), 2)
    winner = np.isin(
        state["true_reason"][acc], ["price", "quality", "service", "delivery", "relationship"]
    ) & (pos == 0)
    share = np.where(winner, np.round(rng.uniform(0.6, 0.9, len(acc)), 2), share)
    out = pd.DataFrame(
        {
            "account_id": accounts["account_id"].to_numpy()[acc],
            "competitor": comp,
            "since": since,
            "estimated_share": share,
        }
    )
    winners = pd.Series(comp[pos == 0], index=acc[pos == 0])
    return out, winners


def _proposals(rng, accounts, state, orders_per_acc, winners, start, end, n_months):
    n = len(accounts)
    size_q = 1 - state["rank"] / n
    k = rng.poisson((0.3 + 2.5 * size_q) * n_months / 12)
    acc = np.repeat(np.arange(n), k)
    lo = state["first_month"][acc]
    hi = np.minimum(state["lost_month"][acc], n_months)
    m = lo + rng.random(len(acc)) * np.maximum(hi - lo, 1)
    date = np.datetime64(start.date()) + _td((m * 30.4).astype(int))
    kind = np.where(rng.random(len(acc)) < 0.25, "tender", "offer")
    value = np.round(orders_per_acc[acc] * rng.uniform(0.1, 0.5, len(acc)) + 500, -2)
    u = rng.random(len(acc))
    outcome = np.where(u < 0.58, "won", "lost").astype(object)
    reason = np.where(
        outcome == "won",
        _pick(rng, np.array(["price", "quality", "service", "relationship"]), len(acc)),
        _pick(rng, np.array(["price", "price", "quality", "delivery", "relationship"]), len(acc)),
    )
    # planted: the tender lost before a price-driven loss
    lost_price = np.flatnonzero(state["true_reason"] == "price")
    acc2 = lost_price
    date2 = np.datetime64(start.date()) + _td(((state["lost_month"][acc2] - 1) * 30.4).astype(int))
    acc = np.concatenate([acc, acc2])
    date = np.concatenate([date, date2])
    kind = np.concatenate([kind, np.full(len(acc2), "tender")])
    value = np.concatenate([value, np.round(orders_per_acc[acc2] * 0.8 + 500, -2)])
    outcome = np.concatenate([outcome, np.full(len(acc2), "lost", dtype=object)])
    reason = np.concatenate([reason, np.full(len(acc2), "price")])
    end_d = np.datetime64(end.date())
    outcome = np.where(date > end_d - np.timedelta64(60, "D"), "open", outcome)
    decided = np.where(
        outcome == "open", np.datetime64("NaT", "D"), date + _td(rng.integers(10, 60, len(acc)))
    )
    decided = np.where(decided > end_d, end_d, decided)
    winner_comp = winners.reindex(acc).to_numpy()
    other = _pick(rng, _COMPETITORS, len(acc))
    competitor = np.where(outcome == "lost", np.where(pd.isna(winner_comp), other, winner_comp), "")
    out = (
        pd.DataFrame(
            {
                "account_id": accounts["account_id"].to_numpy()[acc],
                "date": np.minimum(date, end_d),
                "kind": kind,
                "value": value,
                "outcome": outcome.astype(str),
                "decided_date": decided,
                "reason": np.where(outcome == "open", "", reason),
                "competitor": competitor.astype(str),
            }
        )
        .sort_values(["date", "account_id"], kind="stable")
        .reset_index(drop=True)
    )
    out.insert(0, "proposal_id", np.char.add("Q", (5001 + np.arange(len(out))).astype(str)))
    return out


def _surveys(rng, accounts, state, start, n_months):
    n = len(accounts)
    years = n_months // 12
    acc = np.repeat(np.arange(n), years)
    year = np.tile(np.arange(years), n)
    month = year * 12 + 5  # every year in the sixth month of the history
    size_q = 1 - state["rank"] / n
    active = (month >= state["first_month"][acc]) & (
        (month < state["lost_month"][acc]) | (month >= state["return_month"][acc])
    )
    answers = active & (rng.random(len(acc)) < 0.3 + 0.5 * size_q[acc])
    months_to_loss = state["lost_month"][acc] - month
    unhappy = (
        (months_to_loss > 0)
        & (months_to_loss < 18)
        & (state["true_reason"][acc] != "customer_closed")
    )
    unhappy |= month >= state["decline_from"][acc] - 6
    score = rng.normal(np.where(unhappy, 4.8, 7.6), 1.3)
    score = np.clip(np.round(score), 0, 10).astype(int)
    date = np.datetime64(start.date()) + _td(
        (month * 30.4).astype(int) + rng.integers(0, 20, len(acc))
    )
    comments = np.array(
        [
            "",
            "",
            "Good technical support.",
            "Prices are high.",
            "Deliveries sometimes late.",
            "Reliable partner.",
        ]
    )
    comment = np.where(
        unhappy,
        np.array(
            [
                "Deliveries late again.",
                "Quality not consistent.",
                "Support too slow.",
                "Too expensive.",
            ]
        )[rng.integers(0, 4, len(acc))],
        comments[rng.integers(0, len(comments), len(acc))],
    )
    keep = np.flatnonzero(answers)
    return (
        pd.DataFrame(
            {
                "account_id": accounts["account_id"].to_numpy()[acc[keep]],
                "date": date[keep],
                "score": score[keep],
                "comment": comment[keep],
            }
        )
        .sort_values(["date", "account_id"], kind="stable")
        .reset_index(drop=True)
    )


def generate_sample(
    *, accounts: int = 300, years: int = 3, seed: int = 7, end: str = "2026-09-30"
) -> SampleCompany:
    """Generate the sample company.

    Parameters
    ----------
    accounts : int
        Number of customer accounts (at least 20).
    years : int
        Years of sales history, ending at ``end`` (at least 2).
    seed : int
        Random seed: the same parameters give the same company.
    end : str
        Last day of the history (ISO date). Fixed, never "today".

    Returns
    -------
    SampleCompany
        ``tables`` in the model's columns and ``scenario``, the planted truth.
    """
    if accounts < 20:
        raise ValueError(
            f"accounts must be at least 20 to make a believable company, got {accounts}"
        )
    if years < 2:
        raise ValueError(f"years must be at least 2 (analyses compare two windows), got {years}")
    rng = np.random.default_rng(seed)
    end_ts = pd.Timestamp(end)
    n_months = 12 * years
    start_ts = (end_ts.to_period("M") - (n_months - 1)).to_timestamp()
    acc, scenario, state = _accounts(rng, accounts, start_ts, end_ts, n_months)
    state["pattern"] = scenario["pattern"].to_numpy()
    state["status"] = scenario["status"].to_numpy()
    state["demanding"] = scenario["demanding"].to_numpy()
    state["slow_absorber"] = scenario["slow_absorber"].to_numpy()
    products = _products(rng)
    tx, orders = _transactions(rng, acc, state, products, start_ts, n_months)
    tx = tx[tx["date"] <= np.datetime64(end_ts.date())].reset_index(drop=True)
    orders = orders[orders["invoice_date"] <= np.datetime64(end_ts.date())].reset_index(drop=True)
    invoices = _invoices(rng, orders, acc, scenario, end_ts)
    contacts = _contacts(rng, acc, state, end_ts)
    interactions = _interactions(rng, acc, state, contacts, start_ts, end_ts, n_months)
    competitors, winners = _competitors(rng, acc, state, start_ts)
    revenue = (
        tx.groupby("account_id")["amount"].sum().reindex(acc["account_id"]).fillna(0).to_numpy()
    )
    proposals = _proposals(rng, acc, state, revenue / years, winners, start_ts, end_ts, n_months)
    surveys = _surveys(rng, acc, state, start_ts, n_months)
    products = products.drop(columns=["_cost_ratio", "_group_index"])
    tables = {
        "transactions": tx[
            ["invoice_id", "date", "account_id", "product_id", "quantity", "amount", "cost"]
        ],
        "accounts": acc,
        "products": products,
        "invoices": invoices,
        "contacts": contacts,
        "interactions": interactions,
        "proposals": proposals,
        "competitors": competitors,
        "surveys": surveys,
    }
    return SampleCompany(tables=tables, scenario=scenario, start=start_ts, end=end_ts)


_WRITTEN_BY = "kam sample"

_YAML = """\
# The sample company generated by `kam sample` (kamlib.sample).
# Column names already follow the model, so no `columns:` mapping is needed.
name: {name}
currency: EUR
quantity_unit: kg
tables:
{tables}
"""


def _to_csv_text(frame: pd.DataFrame) -> str:
    return csv_text(frame, float_format="%.2f")  # the generator's money is in cents


def write_sample(
    out: str | os.PathLike[str],
    *,
    accounts: int = 300,
    years: int = 3,
    seed: int = 7,
    end: str = "2026-09-30",
    fmt: str = "csv",
    name: str | None = None,
    replace: bool = False,
) -> Path:
    """Generate the sample company and write it as a dataset folder.

    The folder gets one file per table, ``kam.yaml`` and ``scenario.csv`` (the
    planted truth; not a table of the model) and the kit's marker ``.kam-written``. It
    is written in a temporary folder and moved into place when complete.

    Parameters
    ----------
    out : path-like
        Folder to create: new, empty, or (with ``replace``) a sample written earlier
        (it holds the kit's marker ``.kam-written`` naming ``kam sample``). Any other
        folder, such as a real company's dataset, is never replaced.
    accounts, years, seed, end
        As for :func:`generate_sample`.
    fmt : {"csv", "parquet"}
        File format of the tables; Parquet is much faster for large benchmarks.
    name : str, optional
        Dataset name in kam.yaml.
    replace : bool, default False
        Replace a sample written earlier into ``out`` (``kam sample --replace``).

    Returns
    -------
    pathlib.Path
        The folder written.

    Raises
    ------
    ValueError
        For a bad ``fmt``, or when ``out`` is a file, a link, a folder the kit did not
        write, or an earlier sample without ``replace`` (checked before generating).
    """
    if fmt not in ("csv", "parquet"):
        raise ValueError(f"fmt must be 'csv' or 'parquet', got {fmt!r}")
    target = Path(out)
    check_target(target, written_by=_WRITTEN_BY, replace=replace)  # before generating
    company = generate_sample(accounts=accounts, years=years, seed=seed, end=end)
    with folder_written_whole(target, written_by=_WRITTEN_BY, replace=replace) as tmp:
        listing = []
        for table, frame in company.tables.items():
            file = f"{table}.{fmt}"
            if fmt == "csv":
                (tmp / file).write_text(_to_csv_text(frame), encoding="utf-8", newline="")
            else:
                frame.to_parquet(tmp / file, index=False)
            listing.append(f"  {table}: {file}")
        (tmp / "scenario.csv").write_text(
            _to_csv_text(company.scenario), encoding="utf-8", newline=""
        )
        label = (
            name or f"Klebwerk sample (seed {seed}, {accounts} accounts, {years} years to {end})"
        )
        (tmp / "kam.yaml").write_text(
            _YAML.format(name=label, tables="\n".join(listing)), encoding="utf-8", newline=""
        )
    return target
