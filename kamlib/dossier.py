"""The account dossier: everything we know about one account at ``as_of``, section by section.

A key account manager prepares a negotiation from a dossier: who the customer is,
what it bought and how it pays, whom we know there and what they think of us,
which competitors are in, how satisfied it is, and what needs attention now.
:func:`build_dossier` assembles it as data — each section a DataFrame or a small
dataclass — and a section whose source table is missing carries one sentence
saying so instead of failing. Rendering lives in :mod:`kamlib.dossier_html`.

For many accounts at once, :func:`build_dossiers` reads every table once and
splits it by account (no per-account scan of the whole dataset).

Nothing after ``as_of`` is seen: lines, visits, proposals, payments and survey
answers dated later are left out; an invoice paid after ``as_of`` is open, a proposal
decided after it is open, a contact's ``last_contact`` after it is unknown.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from kamlib.abc_xyz import abc_xyz, first_purchases
from kamlib.dataset import Dataset

__all__ = [
    "DOSSIER_SIGNALS",
    "Coverage",
    "CustomerReport",
    "Dossier",
    "Payments",
    "UnknownAccountError",
    "build_dossier",
    "build_dossiers",
    "consumption_report",
    "describe_consumption",
    "describe_coverage",
    "describe_key_figures",
    "describe_relationship",
    "describe_signals",
]

_DAY = pd.Timedelta(days=1)

#: The signal rules, in the order they are acted on: name, the rule in words, the threshold
#: it uses (in the rule's unit), and the action it calls for. ``value`` in a dossier's
#: signals is the number the rule looked at.
DOSSIER_SIGNALS = pd.DataFrame(
    [
        (
            "overdue payments",
            "amount past due at as_of above the threshold (currency)",
            0.0,
            "Call accounts payable; agree a payment date before new orders.",
        ),
        (
            "falling sales",
            "revenue of the last 12 months against the 12 before, at or below the threshold",
            -0.15,
            "Find out why with the decision maker; prepare an offer.",
        ),
        (
            "lost tender",
            "number of proposals lost in the last threshold days (fires from 1)",
            180.0,
            "Debrief the lost proposal: price, quality or relationship?",
        ),
        (
            "blocker with high influence",
            "number of blockers with influence at or above the threshold (fires from 1)",
            4.0,
            "Plan how to win or neutralise the blocker.",
        ),
        (
            "no recent contact",
            "days since the last visit, call, meeting or recorded personal contact, above the "
            "threshold (fires with no contact at all)",
            90.0,
            "Book a visit; a key account needs contact every quarter.",
        ),
        (
            "falling satisfaction",
            "change between the last two survey scores, at or below the threshold",
            -2.0,
            "Ask what went wrong; fix it before the next order.",
        ),
    ],
    columns=["signal", "rule", "threshold", "action"],
)


class UnknownAccountError(ValueError):
    """An account id that is not in the data; the message lists close matches."""


@dataclass(frozen=True)
class Payments:
    """Payment behaviour of one account.

    Attributes
    ----------
    days_late : pandas.DataFrame or None
        ``bucket`` (on time, 1-30, 31-60, 61-90, over 90 days late), ``invoices``,
        ``amount``: invoices due in the last 12 months, by how late they were paid
        (open ones by how late they are at ``as_of``).
    open_amount, overdue_amount : float
        Unpaid at ``as_of``; of which past due.
    cash_payer : bool or None
        Half or more of the invoices paid in cash (None without ``payment_method``).
    note : str
        A sentence on the section (or why it is empty).
    """

    days_late: pd.DataFrame | None
    open_amount: float
    overdue_amount: float
    cash_payer: bool | None
    note: str


@dataclass(frozen=True)
class Coverage:
    """How well we know the decision-making unit.

    Attributes
    ----------
    checks : pandas.DataFrame
        ``check``, ``ok`` (bool) and ``detail`` for: a known decision maker, a champion,
        a contact in the last 90 days, no active blocker.
    rating : str
        ``green`` (every check passes), ``red`` (no decision maker, or an active blocker
        without a champion), else ``amber``; empty without contacts.
    """

    checks: pd.DataFrame
    rating: str


@dataclass(frozen=True)
class Dossier:
    """One account's dossier at ``as_of``. Every table is a new DataFrame.

    Attributes
    ----------
    account_id, name : str
    as_of : pandas.Timestamp
    currency, quantity_unit : str
    general : pandas.DataFrame
        ``field`` and ``value``: master data, first order, tenure, flags.
    key_figures : pandas.DataFrame
        ``measure`` (revenue, margin, quantity), ``last_12_months``, ``previous_12_months``,
        ``change`` (fraction; NaN when the previous is 0); plus ``facts`` below.
    facts : dict
        ``share_of_our_sales`` (last 12 months), ``abc_xyz`` (e.g. "AX"), ``type``.
    monthly : pandas.DataFrame
        ``month`` (Period), ``revenue``, ``quantity``, ``margin``: every month of the
        consumption table's span (the six half-years before the current one and the current
        one up to ``as_of``: 37 to 42 months).
    by_group : pandas.DataFrame
        ``product_group``, ``revenue``, ``quantity`` last 12 months and ``revenue_previous``.
    half_years : pandas.DataFrame
        The consumption table: ``half_year`` ("2025 H1"), one quantity column per product
        group, ``total_quantity``, ``total_amount``; the six half-years before the current
        one and the current one (to ``as_of``, marked ``complete`` False).
    payments : Payments
    timeline : pandas.DataFrame
        ``date``, ``kind`` (delivery, proposal, or an interaction type: visit, call, email,
        meeting, complaint, service),
        ``detail``: the last 12 months, newest first.
    proposals : pandas.DataFrame or None
        ``date``, ``kind``, ``value``, ``outcome``, ``reason``, ``competitor``.
    contacts : pandas.DataFrame or None
        ``name``, ``job_title``, ``role``, ``influence``, ``attitude``, ``last_contact``.
    coverage : Coverage or None
        None without a ``contacts`` table; rating "" when the account has no contacts.
    competitors : pandas.DataFrame or None
        ``competitor``, ``since``, ``estimated_share``.
    our_share : float or None
        Our estimated share of the customer's purchases in our range (1 − competitors').
    satisfaction : pandas.DataFrame or None
        ``date``, ``score``, ``comment``.
    signals : pandas.DataFrame
        ``signal``, ``fired``, ``value`` (the number behind it), ``rule``, ``threshold``,
        ``action``;
        fired first, in the order of :data:`DOSSIER_SIGNALS`.
    notes : dict
        Section name → one sentence where the section's table is missing.
    """

    account_id: str
    name: str
    as_of: pd.Timestamp
    currency: str
    quantity_unit: str
    general: pd.DataFrame
    key_figures: pd.DataFrame
    facts: dict
    monthly: pd.DataFrame
    by_group: pd.DataFrame
    half_years: pd.DataFrame
    payments: Payments
    timeline: pd.DataFrame
    proposals: pd.DataFrame | None
    contacts: pd.DataFrame | None
    coverage: Coverage | None
    competitors: pd.DataFrame | None
    our_share: float | None
    satisfaction: pd.DataFrame | None
    signals: pd.DataFrame
    notes: dict = field(default_factory=dict)


@dataclass(frozen=True)
class CustomerReport:
    """The half-yearly consumption report a key account receives: nothing internal.

    Attributes
    ----------
    account_id, name : str
    as_of : pandas.Timestamp
    currency, quantity_unit : str
    half_years : pandas.DataFrame
        As :attr:`Dossier.half_years`.
    monthly : pandas.DataFrame
        ``month``, ``quantity``, ``amount``: what the customer bought, month by month over
        the span of ``half_years``.
    by_group : pandas.DataFrame
        ``product_group``, ``quantity``, ``amount`` in the last 12 months.
    """

    account_id: str
    name: str
    as_of: pd.Timestamp
    currency: str
    quantity_unit: str
    half_years: pd.DataFrame
    monthly: pd.DataFrame
    by_group: pd.DataFrame


# --- helpers -----------------------------------------------------------------------------


def _check_ids(dataset: Dataset, ids: list[str]) -> None:
    known = pd.Index(dataset.transactions["account_id"].unique())
    names = pd.Series(dtype=object)
    if dataset.has("accounts"):
        accounts = dataset.get("accounts")
        known = known.union(pd.Index(accounts["account_id"]))
        if "name" in accounts:
            names = accounts.set_index("account_id")["name"].dropna().astype(str)
    unknown = [i for i in ids if i not in known]
    if not unknown:
        return
    lines = []
    for account in unknown[:5]:  # the message names at most five
        prefixed = known[known.astype(str).str.startswith(account)][:3].tolist()
        by_id = prefixed + difflib.get_close_matches(account, list(known), n=3, cutoff=0.6)
        by_name = names.index[names.str.contains(account, case=False, regex=False)][:3].tolist()
        matches = list(dict.fromkeys(by_id + by_name))
        shown = ", ".join(f"{m} ({names[m]})" if m in names.index else m for m in matches)
        lines.append(
            f"{account!r}" + (f": did you mean {shown}?" if matches else ": no close match")
        )
    raise UnknownAccountError(
        f"unknown account id{'s' if len(unknown) > 1 else ''} in {dataset.name!r}: "
        + "; ".join(lines)
        + f" ({len(known)} accounts; ids look like {sorted(known)[0]!r})"
    )


def _up_to(frame: pd.DataFrame | None, column: str, as_of: pd.Timestamp):
    if frame is None:
        return None
    return frame[frame[column] < as_of + _DAY]


def _split(frame: pd.DataFrame | None, ids: list[str]) -> dict[str, pd.DataFrame]:
    """Rows per account, for the accounts in ``ids`` (one groupby for all)."""
    if frame is None:
        return {}
    sub = frame[frame["account_id"].isin(ids)]
    return {k: sub.loc[idx] for k, idx in sub.groupby("account_id", sort=False).groups.items()}


def _half_year(dates: pd.Series) -> pd.Series:
    return dates.dt.year.astype(str) + np.where(dates.dt.month <= 6, " H1", " H2")


def _half_years(as_of: pd.Timestamp) -> list[str]:
    """The six half-years before the one holding ``as_of``, and that one."""
    index = as_of.year * 2 + (0 if as_of.month <= 6 else 1)
    return [f"{i // 2} H{i % 2 + 1}" for i in range(index - 6, index + 1)]


def _consumption(lines: pd.DataFrame, as_of: pd.Timestamp, groups: pd.Series | None):
    labels = _half_years(as_of)
    group = (
        lines["product_id"].map(groups).fillna("other")
        if groups is not None and "product_id" in lines
        else pd.Series("all products", index=lines.index)
    )
    frame = pd.DataFrame(
        {
            "half_year": _half_year(lines["date"]),
            "group": group,
            "quantity": lines["quantity"] if "quantity" in lines else 0.0,
            "amount": lines["amount"],
        }
    )
    frame = frame[frame["half_year"].isin(labels)]
    table = frame.pivot_table(
        index="half_year", columns="group", values="quantity", aggfunc="sum", fill_value=0.0
    ).reindex(labels, fill_value=0.0)
    table.columns = [str(c) for c in table.columns]
    table["total_quantity"] = table.sum(axis=1)
    table["total_amount"] = frame.groupby("half_year")["amount"].sum().reindex(labels, fill_value=0)
    table["complete"] = [True] * (len(labels) - 1) + [False]
    return table.rename_axis("half_year").reset_index().rename_axis(columns=None)


def _monthly(lines: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """Per month from the first month of the consumption table's first half-year to as_of."""
    first = _half_years(as_of)[0]
    start = pd.Period(f"{first[:4]}-{'01' if first.endswith('H1') else '07'}", freq="M")
    months = pd.period_range(start=start, end=as_of.to_period("M"), freq="M")
    month = lines["date"].dt.to_period("M")
    values = {"revenue": lines["amount"]}
    for column in ("quantity", "margin"):
        if column in lines:
            values[column] = lines[column]
    frame = pd.DataFrame(values).groupby(month).sum().reindex(months, fill_value=0.0)
    return frame.rename_axis("month").reset_index()


def _payments(invoices: pd.DataFrame | None, as_of: pd.Timestamp, currency: str = "") -> Payments:
    if invoices is None:
        return Payments(None, 0.0, 0.0, None, "No `invoices` table: payment behaviour unknown.")
    recent = invoices[
        (invoices["due_date"] >= as_of - pd.DateOffset(months=12) + _DAY)
        & (invoices["due_date"] < as_of + _DAY)
    ]
    paid = invoices["paid_date"] if "paid_date" in invoices else pd.Series(pd.NaT, invoices.index)
    paid = paid.where(paid < as_of + _DAY)
    issued = invoices["invoice_date"] if "invoice_date" in invoices else invoices["due_date"]
    is_open = paid.isna() & (issued < as_of + _DAY)
    amount = invoices["amount"] if "amount" in invoices else pd.Series(0.0, invoices.index)
    open_amount = float(amount[is_open].sum())
    overdue_amount = float(amount[is_open & (invoices["due_date"] < as_of)].sum())
    late = (paid.loc[recent.index].fillna(as_of) - recent["due_date"]).dt.days.clip(lower=0)
    buckets = pd.cut(
        late,
        [-1, 0, 30, 60, 90, np.inf],
        labels=["on time", "1-30 days", "31-60 days", "61-90 days", "over 90 days"],
    )
    table = (
        pd.DataFrame({"bucket": buckets, "amount": amount.loc[recent.index]})
        .groupby("bucket", observed=False)
        .agg(invoices=("amount", "size"), amount=("amount", "sum"))
        .reset_index()
    )
    table["bucket"] = table["bucket"].astype(str)
    cash = None
    if "payment_method" in invoices and len(recent):
        cash = bool((recent["payment_method"].astype("string").str.lower() == "cash").mean() >= 0.5)
    on_time = table.loc[table["bucket"] == "on time", "invoices"].sum()
    note = (
        f"{on_time} of {len(recent)} invoices due in the last 12 months were paid on time; "
        f"{overdue_amount:,.0f} {currency} overdue at {as_of:%d %b %Y}.".replace("  ", " ")
        if len(recent)
        else "No invoice was due in the last 12 months."
    )
    return Payments(table, open_amount, overdue_amount, cash, note)


def _coverage(contacts: pd.DataFrame, last_touch: pd.Timestamp | None, as_of) -> Coverage:
    if contacts.empty:
        checks = pd.DataFrame(
            {
                "check": [
                    "decision maker known",
                    "champion",
                    "contact in the last 90 days",
                    "no active blocker",
                ],
                "ok": False,
                "detail": "no contacts recorded",
            }
        )
        return Coverage(checks, "")
    role = contacts["role"] if "role" in contacts else pd.Series(dtype=object)
    attitude = contacts["attitude"] if "attitude" in contacts else pd.Series(0, contacts.index)
    last = contacts["last_contact"].max() if "last_contact" in contacts else pd.NaT
    if last_touch is not None and (pd.isna(last) or last_touch > last):
        last = last_touch
    days = (as_of - last).days if pd.notna(last) else None
    blockers = contacts[(role == "blocker") & (attitude < 0)]
    checks = pd.DataFrame(
        [
            ("decision maker known", bool((role == "decision_maker").any()), ""),
            ("champion", bool((role == "champion").any()), ""),
            (
                "contact in the last 90 days",
                days is not None and days <= 90,
                f"last contact {days} days ago" if days is not None else "no contact recorded",
            ),
            ("no active blocker", blockers.empty, f"{len(blockers)} hostile blocker(s)"),
        ],
        columns=["check", "ok", "detail"],
    )
    ok = dict(zip(checks["check"], checks["ok"], strict=True))
    if ok["decision maker known"] is False or (not ok["no active blocker"] and not ok["champion"]):
        rating = "red"
    else:
        rating = "green" if checks["ok"].all() else "amber"
    return Coverage(checks, rating)


def _signals(values: dict) -> pd.DataFrame:
    """The signals table from {signal: (fired, value)}, fired first, in the rules' order."""
    table = DOSSIER_SIGNALS.copy()
    table.insert(1, "fired", table["signal"].map(lambda k: bool(values[k][0])))
    table.insert(2, "value", table["signal"].map(lambda k: values[k][1]).astype(float))
    order = {s: i for i, s in enumerate(DOSSIER_SIGNALS["signal"])}
    table["_order"] = table["signal"].map(order)
    table = table.sort_values(["fired", "_order"], ascending=[False, True], kind="stable")
    return table.drop(columns="_order").reset_index(drop=True)


# --- the dossier ---------------------------------------------------------------------------


class _Context:
    """What every dossier of one dataset at one date shares, computed once."""

    def __init__(self, dataset: Dataset, as_of: pd.Timestamp, types: pd.DataFrame | None):
        self.dataset = dataset
        self.as_of = as_of
        tx = dataset.transactions
        self.tx = tx[tx["date"] < as_of + _DAY]
        window = self.tx[self.tx["date"] >= as_of - pd.DateOffset(months=12) + _DAY]
        totals = window.groupby("account_id")["amount"].sum()
        self.total_revenue = float(totals[totals > 0].sum()) or 1.0  # as ABC's shares
        try:
            classified = abc_xyz(
                self.tx, as_of=as_of, first_purchase=first_purchases(self.tx, as_of=as_of)
            )
            self.cells = dict(zip(classified["account_id"], classified["cell"], strict=True))
        except ValueError:
            self.cells = {}
        self.types = (
            dict(zip(types["account_id"], types["type"], strict=True)) if types is not None else {}
        )
        products = dataset.get("products")
        self.groups = (
            products.set_index("product_id")["product_group"]
            if products is not None and "product_group" in products
            else None
        )
        accounts = dataset.get("accounts")
        self.accounts = accounts.set_index("account_id") if accounts is not None else None


def _dossier(ctx: _Context, account_id: str, parts: Mapping[str, pd.DataFrame]) -> Dossier:
    ds, as_of = ctx.dataset, ctx.as_of
    notes: dict[str, str] = {}
    lines = parts.get("transactions", ctx.tx.iloc[:0])
    year_ago = as_of - pd.DateOffset(months=12)
    two_years = as_of - pd.DateOffset(months=24)
    last = lines[lines["date"] >= year_ago + _DAY]
    before = lines[(lines["date"] >= two_years + _DAY) & (lines["date"] < year_ago + _DAY)]

    master = (
        ctx.accounts.loc[account_id]
        if ctx.accounts is not None and account_id in ctx.accounts.index
        else None
    )
    name = (
        str(master["name"])
        if master is not None and "name" in master and pd.notna(master["name"])
        else account_id
    )
    recorded = (
        master["first_order_date"]
        if master is not None and "first_order_date" in master
        else pd.NaT
    )
    first_order = (  # a recorded first order after as_of is not known yet
        recorded
        if pd.notna(recorded) and recorded < as_of + _DAY
        else (lines["date"].min() if len(lines) else pd.NaT)
    )
    general = [("account", account_id), ("name", name)]
    if master is not None:
        for column in ("country", "region", "industry", "segment", "group", "account_manager",
                       "headcount", "annual_sales"):  # fmt: skip
            if column in master and pd.notna(master[column]):
                general.append((column.replace("_", " "), master[column]))
        flags = [c.removeprefix("is_").replace("_", " ") for c in master.index
                 if c.startswith("is_") and pd.notna(master[c]) and bool(master[c])]  # fmt: skip
        general.append(("flags", ", ".join(flags) or "none"))
    else:
        notes["general"] = ds.missing_note("accounts", "the customer's master data")
    general.append(("first order", first_order.date() if pd.notna(first_order) else "none"))
    tenure = (as_of - first_order).days / 365.25 if pd.notna(first_order) else float("nan")
    general.append(("years with us", round(tenure, 1)))

    measures = [("revenue", "amount")] + [
        (m, m) for m in ("margin", "quantity") if m in lines.columns
    ]
    now = [float(last[c].sum()) for _m, c in measures]
    prev = [float(before[c].sum()) for _m, c in measures]
    key_figures = pd.DataFrame(
        {
            "measure": [m for m, _c in measures],
            "last_12_months": now,
            "previous_12_months": prev,
        }
    )
    key_figures["change"] = (
        key_figures["last_12_months"] / key_figures["previous_12_months"] - 1
    ).where(key_figures["previous_12_months"] > 0)
    facts = {
        "share_of_our_sales": max(now[0], 0.0) / ctx.total_revenue,
        "abc_xyz": ctx.cells.get(account_id, "—"),
        "type": ctx.types.get(account_id, ""),
        "last_order": lines["date"].max() if len(lines) else pd.NaT,
    }

    by_group_source = (
        lines["product_id"].map(ctx.groups).fillna("other")
        if ctx.groups is not None and "product_id" in lines
        else pd.Series("all products", index=lines.index)
    )
    grouped = pd.DataFrame(
        {
            "product_group": by_group_source,
            "revenue": lines["amount"].where(lines.index.isin(last.index), 0.0),
            "quantity": (lines["quantity"] if "quantity" in lines else 0.0),
            "revenue_previous": lines["amount"].where(lines.index.isin(before.index), 0.0),
        }
    )
    grouped["quantity"] = grouped["quantity"].where(lines.index.isin(last.index), 0.0)
    by_group = (
        grouped.groupby("product_group")[["revenue", "quantity", "revenue_previous"]]
        .sum()
        .query("revenue != 0 or revenue_previous != 0")
        .sort_values("revenue", ascending=False)
        .reset_index()
    )
    if ctx.groups is None:
        notes["by_group"] = ds.missing_note("products", "the split by product group")

    payments = _payments(parts.get("invoices") if ds.has("invoices") else None, as_of, ds.currency)
    if not ds.has("invoices"):
        notes["payments"] = ds.missing_note("invoices", "payment behaviour")

    events = [
        pd.DataFrame(
            {
                "date": lines.groupby("invoice_id")["date"].min()
                if "invoice_id" in lines
                else lines["date"].drop_duplicates(),
                "kind": "delivery",
            }
        )
    ]
    if "invoice_id" in lines:
        inv = lines.groupby("invoice_id").agg(date=("date", "min"), amount=("amount", "sum"))
        detail = inv["amount"].round().astype("int64").astype(str) + f" {ds.currency}"
        events = [inv.assign(kind="delivery", detail=detail)[["date", "kind", "detail"]]]
    else:
        events[0]["detail"] = ""
    interactions = parts.get("interactions")
    if ds.has("interactions") and interactions is not None:
        detail = interactions.get("note", pd.Series("", index=interactions.index)).fillna("")
        events.append(
            pd.DataFrame(
                {
                    "date": interactions["date"],
                    "kind": interactions["type"].astype(str),
                    "detail": detail,
                }
            )
        )
    elif not ds.has("interactions"):
        notes["timeline"] = ds.missing_note(
            "interactions", "visits, calls and complaints in the timeline"
        )
    proposals = parts.get("proposals") if ds.has("proposals") else None
    if proposals is not None:
        if "decided_date" in proposals:  # decided after as_of: still open at as_of
            later = proposals["decided_date"] >= as_of + _DAY
            proposals = proposals.assign(
                outcome=proposals["outcome"].astype(object).where(~later, "open"),
                decided_date=proposals["decided_date"].where(~later),
                **{
                    c: proposals[c].where(~later)
                    for c in ("reason", "competitor")
                    if c in proposals
                },
            )
        reason = proposals.get("reason", pd.Series("", index=proposals.index)).fillna("")
        text = proposals["outcome"].astype(str) + (": " + reason.astype(str)).where(
            reason != "", ""
        )
        events.append(pd.DataFrame({"date": proposals["date"], "kind": "proposal", "detail": text}))
        proposals = (
            proposals[
                [
                    c
                    for c in (
                        "date",
                        "kind",
                        "value",
                        "outcome",
                        "reason",
                        "competitor",
                        "decided_date",
                    )
                    if c in proposals
                ]
            ]
            .sort_values("date", ascending=False)
            .reset_index(drop=True)
        )
    elif not ds.has("proposals"):
        notes["proposals"] = ds.missing_note("proposals", "the history of offers and tenders")
    timeline = pd.concat(events, ignore_index=True)
    timeline = (
        timeline[timeline["date"] >= year_ago + _DAY]
        .sort_values("date", ascending=False, kind="stable")
        .reset_index(drop=True)
    )

    contacts = parts.get("contacts") if ds.has("contacts") else None
    coverage = None
    touches = (
        interactions[interactions["type"].astype(str).isin(["visit", "call", "meeting"])]["date"]
        if interactions is not None
        else pd.Series(dtype="datetime64[ns]")
    )
    last_touch = touches.max() if len(touches) else None
    if contacts is not None:
        contacts = contacts[
            [
                c
                for c in ("name", "job_title", "role", "influence", "attitude", "last_contact")
                if c in contacts
            ]
        ].reset_index(drop=True)
        if "last_contact" in contacts:  # a contact dated after as_of is not known yet
            contacts["last_contact"] = contacts["last_contact"].where(
                contacts["last_contact"] < as_of + _DAY
            )
        coverage = _coverage(contacts, last_touch, as_of)
    elif not ds.has("contacts"):
        notes["contacts"] = ds.missing_note("contacts", "the decision-making unit")
    # the last contact of any kind, the same for the coverage check and the signal
    recorded = (
        contacts["last_contact"].max()
        if contacts is not None and "last_contact" in contacts
        else pd.NaT
    )
    seen = [t for t in (last_touch, recorded) if t is not None and pd.notna(t)]
    last_seen = max(seen) if seen else None

    competitors = parts.get("competitors") if ds.has("competitors") else None
    our_share = None
    if competitors is not None:
        if "since" in competitors:  # a competitor that came after as_of is not known yet
            competitors = competitors[~(competitors["since"] >= as_of + _DAY)]
        competitors = (
            competitors[[c for c in ("competitor", "since", "estimated_share") if c in competitors]]
            .sort_values(
                "estimated_share" if "estimated_share" in competitors else "competitor",
                ascending=False,
            )
            .reset_index(drop=True)
        )
        if "estimated_share" in competitors and competitors["estimated_share"].notna().any():
            our_share = float(max(0.0, 1 - competitors["estimated_share"].sum()))
    elif not ds.has("competitors"):
        notes["competitors"] = ds.missing_note("competitors", "the competitors section")

    satisfaction = parts.get("surveys") if ds.has("surveys") else None
    if satisfaction is not None:
        satisfaction = (
            satisfaction[[c for c in ("date", "score", "comment") if c in satisfaction]]
            .sort_values("date")
            .reset_index(drop=True)
        )
    elif not ds.has("surveys"):
        notes["satisfaction"] = ds.missing_note("surveys", "the satisfaction trend")

    change = key_figures.loc[0, "change"]
    lost_recently = (
        proposals[
            (proposals["outcome"] == "lost") & (proposals["date"] >= as_of - pd.Timedelta(days=180))
        ]
        if proposals is not None
        else pd.DataFrame()
    )
    high_blockers = (
        contacts[(contacts["role"] == "blocker") & (contacts["influence"] >= 4)]
        if contacts is not None and {"role", "influence"} <= set(contacts.columns)
        else pd.DataFrame()
    )
    knows_contacts = interactions is not None or contacts is not None
    last_contact_days = (as_of - last_seen).days if last_seen is not None else None
    scores = (
        satisfaction["score"]
        if satisfaction is not None and "score" in satisfaction
        else pd.Series(dtype=float)
    )
    drop = float(scores.iloc[-1] - scores.iloc[-2]) if len(scores) >= 2 else float("nan")
    signals = _signals(
        {
            "overdue payments": (payments.overdue_amount > 0, payments.overdue_amount),
            "falling sales": (pd.notna(change) and change <= -0.15, change),
            "lost tender": (len(lost_recently) > 0, float(len(lost_recently))),
            "blocker with high influence": (len(high_blockers) > 0, float(len(high_blockers))),
            "no recent contact": (  # no table to tell: unknown, not fired
                knows_contacts and (last_contact_days is None or last_contact_days > 90),
                float("nan") if last_contact_days is None else float(last_contact_days),
            ),
            "falling satisfaction": (pd.notna(drop) and drop <= -2, drop),
        }
    )
    return Dossier(
        account_id=account_id,
        name=name,
        as_of=as_of,
        currency=ds.currency,
        quantity_unit=ds.quantity_unit,
        general=pd.DataFrame(general, columns=["field", "value"]),
        key_figures=key_figures,
        facts=facts,
        monthly=_monthly(lines, as_of),
        by_group=by_group,
        half_years=_consumption(lines, as_of, ctx.groups),
        payments=payments,
        timeline=timeline,
        proposals=proposals,
        contacts=contacts,
        coverage=coverage,
        competitors=competitors,
        our_share=our_share,
        satisfaction=satisfaction,
        signals=signals,
        notes=notes,
    )


_DATED = {
    "transactions": "date",
    "invoices": "invoice_date",
    "interactions": "date",
    "proposals": "date",
    "surveys": "date",
}


def build_dossiers(
    dataset: Dataset,
    accounts: Iterable[str],
    *,
    as_of: pd.Timestamp,
    types: pd.DataFrame | None = None,
) -> Iterator[Dossier]:
    """Dossiers of several accounts, reading each table once.

    Parameters
    ----------
    dataset : Dataset
    accounts : iterable of str
        Account ids; an unknown one raises :class:`UnknownAccountError` (before any
        dossier is built) listing close matches by id and name.
    as_of : Timestamp
        The reference date; nothing later is seen.
    types : pandas.DataFrame, optional
        ``account_id`` and ``type`` (from :func:`kamlib.assign_types`), shown in the key figures.

    Yields
    ------
    Dossier
    """
    ids = [str(a) for a in accounts]
    _check_ids(dataset, ids)
    as_of = pd.Timestamp(as_of)
    ctx = _Context(dataset, as_of, types)
    split = {"transactions": _split(ctx.tx, ids)}
    for table in ("invoices", "interactions", "proposals", "contacts", "competitors", "surveys"):
        frame = dataset.get(table)
        if frame is not None and table in _DATED:
            column = _DATED[table] if _DATED[table] in frame else "due_date"
            frame = _up_to(frame, column, as_of)
        split[table] = _split(frame, ids)
    empty = {t: (dataset.get(t).iloc[:0] if dataset.has(t) else None) for t in split}
    for account in ids:
        parts = {t: split[t].get(account, empty[t]) for t in split}
        yield _dossier(ctx, account, parts)


def build_dossier(
    dataset: Dataset,
    account_id: str,
    *,
    as_of: pd.Timestamp,
    types: pd.DataFrame | None = None,
) -> Dossier:
    """The dossier of one account at ``as_of`` (see :class:`Dossier` for its sections)."""
    return next(build_dossiers(dataset, [account_id], as_of=as_of, types=types))


def consumption_report(dossier: Dossier) -> CustomerReport:
    """The customer-facing half-yearly consumption report of a dossier.

    Only what the customer bought — quantities and amounts by month, half-year and
    product group. No margin, no contacts' roles or attitudes, no competitors, no
    signals: it is safe to send.
    """
    monthly = dossier.monthly[["month"]].copy()
    monthly["quantity"] = dossier.monthly["quantity"] if "quantity" in dossier.monthly else 0.0
    monthly["amount"] = dossier.monthly["revenue"]
    by_group = dossier.by_group[["product_group", "quantity", "revenue"]].rename(
        columns={"revenue": "amount"}
    )
    return CustomerReport(
        account_id=dossier.account_id,
        name=dossier.name,
        as_of=dossier.as_of,
        currency=dossier.currency,
        quantity_unit=dossier.quantity_unit,
        half_years=dossier.half_years.copy(),
        monthly=monthly,
        by_group=by_group.reset_index(drop=True),
    )


# --- sentences for the notebook ------------------------------------------------------------


def describe_key_figures(dossier: Dossier) -> str:
    """One sentence: revenue now and a year ago, share of our sales, class and type."""
    row = dossier.key_figures.set_index("measure").loc["revenue"]
    change = row["change"]
    trend = (
        "no purchases in the year before"
        if pd.isna(change)
        else f"{'up' if change >= 0 else 'down'} {abs(change):.0%} on the year before"
    )
    kind = f", a {dossier.facts['type']}" if dossier.facts.get("type") else ""
    return (
        f"{dossier.name} bought {row['last_12_months']:,.0f} {dossier.currency} in the last 12 "
        f"months ({trend}): {dossier.facts['share_of_our_sales']:.1%} of our sales, ABC-XYZ class "
        f"{dossier.facts['abc_xyz']}{kind}."
    )


def describe_consumption(dossier: Dossier) -> str:
    """One sentence on the half-year table: the last complete half-year against the one before."""
    table = dossier.half_years
    last, before = table.iloc[-2], table.iloc[-3]
    unit = dossier.quantity_unit
    if before["total_quantity"] > 0:
        change = last["total_quantity"] / before["total_quantity"] - 1
        versus = f"{'up' if change >= 0 else 'down'} {abs(change):.0%} on {before['half_year']}"
    else:
        versus = f"nothing in {before['half_year']}"
    return (
        f"In {last['half_year']} the customer took {last['total_quantity']:,.0f} {unit} "
        f"({versus}); {table.iloc[-1]['half_year']} so far: "
        f"{table.iloc[-1]['total_quantity']:,.0f} {unit}."
    )


def describe_relationship(dossier: Dossier) -> str:
    """One sentence on the last 12 months of contact and the proposals."""
    kinds = dossier.timeline["kind"].value_counts()
    plural = {
        "delivery": "deliveries",
        "visit": "visits",
        "call": "calls",
        "complaint": "complaints",
    }
    parts = [
        f"{kinds.get(k, 0)} {k if kinds.get(k, 0) == 1 else many}" for k, many in plural.items()
    ]
    text = "In the last 12 months: " + ", ".join(parts) + "."
    if dossier.proposals is not None and len(dossier.proposals):
        outcome = dossier.proposals["outcome"].value_counts()
        lost = dossier.proposals[dossier.proposals["outcome"] == "lost"]
        rival = lost["competitor"].dropna().value_counts() if "competitor" in lost else None
        text += (
            f" Proposals in the data: {outcome.get('won', 0)} won, {outcome.get('lost', 0)} lost"
            + (f" (most often to {rival.index[0]})" if rival is not None and len(rival) else "")
            + "."
        )
    return text


def describe_coverage(dossier: Dossier) -> str:
    """One sentence on the decision-making unit."""
    if dossier.coverage is None:
        return dossier.notes.get("contacts", "No contacts are recorded.")
    failed = dossier.coverage.checks.loc[~dossier.coverage.checks["ok"], "check"].tolist()
    return f"Coverage is **{dossier.coverage.rating}** with {len(dossier.contacts)} contacts" + (
        f"; not met: {', '.join(failed)}." if failed else "; every check passes."
    )


def describe_signals(dossier: Dossier) -> str:
    """One sentence: which signals fired, the first one to act on."""
    fired = dossier.signals[dossier.signals["fired"]]
    if fired.empty:
        return "No signal fires: nothing needs attention beyond the account plan."
    first = fired.iloc[0]
    return (
        f"{len(fired)} signal{'s fire' if len(fired) != 1 else ' fires'}; act first on "
        f"**{first['signal']}**: {first['action']}"
    )
