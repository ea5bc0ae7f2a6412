"""What the data says about each account: the features key-account selection starts from.

One row per account that bought in the window ending at ``as_of`` (default 12
months): money, kilograms and margin, shares of the company's totals, growth
against the window before, payment habits, loyalty, product breadth, slow-moving
stock taken, complaints and service use, and the flags of the ``accounts``
table. A feature whose table or column is missing is left out and listed, with
the reason, in :attr:`AccountFeatures.left_out`; nothing fails for lack of an
optional table.

Formulas (window = ``as_of - months < date <= as_of``, whole days):

- ``margin_pct`` = margin ÷ revenue; ``revenue_share`` and ``profit_share`` are
  the account's revenue (margin) ÷ the total of all accounts with a positive one.
- ``growth`` = revenue ÷ revenue of the previous window − 1; empty (NaN) when the
  account did not buy in the previous window (``is_new_buyer`` is then true).
- ``purchase_months_share`` = months of the window with net purchases above zero ÷
  months in the window; ``tenure_years`` = years from the first order
  (``accounts.first_order_date``, else the first invoice line) to ``as_of``.
- payment habits use the invoices **due** in the window; an invoice not paid by
  ``as_of`` counts as late by ``as_of - due_date`` days (nothing after ``as_of``
  is seen). ``on_time_share`` = share paid on or before the due date;
  ``avg_days_late`` = mean days past due (0 for invoices paid on time);
  ``cash_payer`` = at least ``cash_share`` of those invoices paid in cash (by ``as_of``).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from kamlib.abc_xyz import _grid, _require

__all__ = ["FLAGS", "AccountFeatures", "account_features"]

#: The yes/no columns of ``accounts`` that selection criteria use.
FLAGS = ("is_distributor", "is_prestige", "is_multinational", "is_test_partner")

_DAY = pd.Timedelta(days=1)


@dataclass(frozen=True)
class AccountFeatures:
    """The features table and what could not be computed.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per account that bought in the window, sorted by ``account_id``.
        Always: ``account_id``, ``revenue``, ``revenue_share``, ``revenue_previous``,
        ``growth``, ``is_new_buyer``, ``purchase_months``, ``purchase_months_share``,
        ``first_order``, ``tenure_years``. Where the data allow: ``name``, ``segment``,
        ``account_manager``, ``margin``, ``margin_pct``, ``profit_share``, ``quantity``,
        ``products``, ``slow_moving_revenue``, ``slow_moving_share``, ``invoices_due``,
        ``on_time_share``, ``avg_days_late``, ``cash_share``, ``cash_payer``,
        ``complaints``, ``service_events``, ``annual_sales``, ``headcount`` and the
        :data:`FLAGS`.
    left_out : pandas.DataFrame
        ``feature`` and ``reason``: one row per feature the data did not allow.
    as_of : pandas.Timestamp
        The reference date.
    months : int
        Length of the window.
    """

    table: pd.DataFrame
    left_out: pd.DataFrame
    as_of: pd.Timestamp
    months: int

    def has(self, feature: str) -> bool:
        """Whether ``feature`` could be computed."""
        return feature in self.table.columns


def _in_window(dates: pd.Series, start: pd.Timestamp, end: pd.Timestamp) -> pd.Series:
    return (dates >= start + _DAY) & (dates < end + _DAY)


def _shares(values: pd.Series) -> pd.Series:
    total = values[values > 0].sum()
    return values / total if total > 0 else values * 0.0


def _payment(invoices: pd.DataFrame, start, end, as_of, cash_share: float) -> pd.DataFrame:
    due = invoices[_in_window(invoices["due_date"], start, end)]
    paid = due["paid_date"] if "paid_date" in due else pd.Series(pd.NaT, index=due.index)
    paid = paid.where(paid < as_of + _DAY)  # a payment after as_of is not known yet
    settled = paid.fillna(as_of)
    days_late = ((settled - due["due_date"]).dt.days).clip(lower=0)
    frame = pd.DataFrame(
        {
            "account_id": due["account_id"],
            "on_time": (paid.notna() & (paid <= due["due_date"])).astype(float),
            "days_late": days_late.astype(float),
        }
    )
    if "payment_method" in due:
        cash = due["payment_method"].astype("string").str.lower() == "cash"
        frame["cash"] = (cash & paid.notna()).astype(float)  # paid in cash by as_of
    grouped = frame.groupby("account_id", sort=True)
    out = pd.DataFrame(
        {
            "invoices_due": grouped.size(),
            "on_time_share": grouped["on_time"].mean(),
            "avg_days_late": grouped["days_late"].mean(),
        }
    )
    if "cash" in frame:
        out["cash_share"] = grouped["cash"].mean()
        out["cash_payer"] = out["cash_share"] >= cash_share
    return out


def account_features(
    transactions: pd.DataFrame,
    *,
    as_of: pd.Timestamp,
    months: int = 12,
    accounts: pd.DataFrame | None = None,
    products: pd.DataFrame | None = None,
    invoices: pd.DataFrame | None = None,
    interactions: pd.DataFrame | None = None,
    cash_share: float = 0.5,
) -> AccountFeatures:
    """Features of every account that bought in the ``months`` ending at ``as_of``.

    Parameters
    ----------
    transactions : pandas.DataFrame
        Invoice lines: ``account_id``, ``date``, ``amount``; ``margin``, ``quantity``
        and ``product_id`` where present.
    as_of : Timestamp
        Last day of the window (inclusive).
    months : int, default 12
        Length of the window; growth compares it with the window just before.
    accounts, products, invoices, interactions : pandas.DataFrame, optional
        The dataset's tables, where it has them (``Dataset.get(...)``).
    cash_share : float, default 0.5
        Share of invoices paid in cash from which an account counts as a cash payer.

    Returns
    -------
    AccountFeatures
        ``table`` (columns listed in :class:`AccountFeatures`) and ``left_out``.
    """
    _require(transactions, ["account_id", "date", "amount"], "account features")
    as_of = pd.Timestamp(as_of)
    start, end = pd.Timestamp(as_of - pd.DateOffset(months=months)), as_of
    previous_start = pd.Timestamp(start - pd.DateOffset(months=months))
    left_out: list[tuple[str, str]] = []

    grid = _grid(transactions, as_of=as_of, months=months, column="amount", grain="month")
    ids = pd.Index(grid.accounts, name="account_id")
    table = pd.DataFrame(index=ids)
    table["revenue"] = grid.values.sum(axis=1)
    table["revenue_share"] = _shares(table["revenue"])

    window_lines = transactions[_in_window(transactions["date"], start, end)]
    by_account = window_lines.groupby("account_id", sort=True)
    before = transactions[_in_window(transactions["date"], previous_start, start)]
    previous = before.groupby("account_id")["amount"].sum().reindex(ids, fill_value=0.0)
    table["revenue_previous"] = previous
    table["growth"] = (table["revenue"] / previous - 1).where(previous > 0)
    table["is_new_buyer"] = previous <= 0
    table["purchase_months"] = (grid.values > 0).sum(axis=1)
    table["purchase_months_share"] = table["purchase_months"] / grid.values.shape[1]

    first_line = transactions[transactions["date"] < as_of + _DAY].groupby("account_id")["date"]
    first = first_line.min().reindex(ids)
    if accounts is not None and "first_order_date" in accounts:
        recorded = accounts.set_index("account_id")["first_order_date"].reindex(ids)
        first = recorded.where(recorded.notna() & (recorded < as_of + _DAY), first)
    table["first_order"] = first
    table["tenure_years"] = (as_of - first).dt.days / 365.25

    if "margin" in transactions:
        table["margin"] = by_account["margin"].sum().reindex(ids, fill_value=0.0)
        table["margin_pct"] = (table["margin"] / table["revenue"]).where(table["revenue"] > 0)
        table["profit_share"] = _shares(table["margin"])
    else:
        left_out.append(("margin", "transactions have neither `margin` nor `cost`"))
    if "quantity" in transactions:
        table["quantity"] = by_account["quantity"].sum().reindex(ids, fill_value=0.0)
    else:
        left_out.append(("quantity", "transactions have no `quantity` column"))
    if "product_id" in transactions:
        table["products"] = by_account["product_id"].nunique().reindex(ids, fill_value=0)
    else:
        left_out.append(("products", "transactions have no `product_id` column"))

    if products is None or "is_slow_moving" not in products or "product_id" not in transactions:
        why = "no `products` table" if products is None else "no `products.is_slow_moving` column"
        if "product_id" not in transactions:
            why = "transactions have no `product_id` column"
        left_out.append(("slow_moving_share", why))
    else:
        slow_ids = products.loc[products["is_slow_moving"].fillna(False).astype(bool), "product_id"]
        slow = window_lines["amount"].where(window_lines["product_id"].isin(slow_ids), 0.0)
        slow_revenue = slow.groupby(window_lines["account_id"]).sum()
        table["slow_moving_revenue"] = slow_revenue.reindex(ids, fill_value=0.0)
        table["slow_moving_share"] = (table["slow_moving_revenue"] / table["revenue"]).where(
            table["revenue"] > 0
        )

    if invoices is None:
        left_out.append(("payment habits", "no `invoices` table (due and paid dates)"))
    else:
        pay = _payment(invoices, start, end, as_of, cash_share).reindex(ids)
        pay["invoices_due"] = pay["invoices_due"].fillna(0).astype(int)
        table = table.join(pay)
        if "cash_share" not in pay:
            left_out.append(("cash_payer", "invoices have no `payment_method` column"))

    if interactions is None:
        left_out.append(("complaints", "no `interactions` table"))
    else:
        recent = interactions[_in_window(interactions["date"], start, end)]
        kinds = recent["type"].astype("string")
        for feature, kind in (("complaints", "complaint"), ("service_events", "service")):
            counts = (kinds == kind).groupby(recent["account_id"]).sum()
            table[feature] = counts.reindex(ids, fill_value=0).astype(int)

    if accounts is None:
        left_out.append(("flags", "no `accounts` table: distributor, prestige, etc. unknown"))
    else:
        master = accounts.set_index("account_id")
        for column in ("name", "segment", "account_manager", "annual_sales", "headcount", *FLAGS):
            if column in master:
                values = master[column].reindex(ids)
                if column in FLAGS:
                    values = values.astype("boolean").fillna(False).astype(bool)
                table[column] = values
            elif column in FLAGS or column == "annual_sales":
                left_out.append((column, f"the `accounts` table has no `{column}` column"))

    front = [c for c in ("name", "segment", "account_manager") if c in table]
    table = table[front + [c for c in table.columns if c not in front]]
    return AccountFeatures(
        table=table.reset_index(),
        left_out=pd.DataFrame(left_out, columns=["feature", "reason"]),
        as_of=as_of,
        months=months,
    )
