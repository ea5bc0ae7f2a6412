"""The data tour: what is in a dataset, sales per month, data quality.

Used by ``00_start_here``; every function returns a DataFrame or a sentence and
leaves its input untouched.
"""

from __future__ import annotations

import pandas as pd

from kamlib.dataset import Dataset
from kamlib.schema import MODEL

__all__ = ["data_quality", "describe_monthly_sales", "monthly_sales", "table_overview"]


def table_overview(dataset: Dataset) -> pd.DataFrame:
    """What each table of the model holds in this dataset.

    Returns
    -------
    pandas.DataFrame
        The columns of :meth:`Dataset.summary` plus ``meaning`` (what the table is
        for) and ``missing_columns`` (optional model columns the dataset lacks).
    """
    out = dataset.summary()
    out["meaning"] = [MODEL[t].description for t in out["table"]]
    out["missing_columns"] = [
        ", ".join(c for c in MODEL[t].column_names if dataset.has(t) and c not in dataset.tables[t])
        for t in out["table"]
    ]
    return out


def monthly_sales(transactions: pd.DataFrame, *, as_of: pd.Timestamp | None = None) -> pd.DataFrame:
    """Net sales per calendar month, up to and including ``as_of``.

    Parameters
    ----------
    transactions : pandas.DataFrame
        Invoice lines (model columns).
    as_of : Timestamp, optional
        Lines after this day are left out.

    Returns
    -------
    pandas.DataFrame
        One row per month from the first to the last with data (months without sales
        included, with zeros): ``month`` (Timestamp, first day), ``amount`` (net
        sales), ``credit_notes`` (sum of negative lines, ≤ 0), ``lines``,
        ``accounts`` (distinct buying accounts), and ``margin`` / ``quantity`` where
        the data has them.
    """
    tx = transactions if as_of is None else transactions[transactions["date"] <= as_of]
    month = tx["date"].dt.to_period("M")
    grouped = tx.assign(
        month=month, credit_notes=tx["amount"].where(tx["amount"] < 0, 0.0)
    ).groupby("month")
    out = grouped.agg(
        amount=("amount", "sum"),
        credit_notes=("credit_notes", "sum"),
        lines=("amount", "size"),
        accounts=("account_id", "nunique"),
    )
    for col in ("margin", "quantity"):
        if col in tx:
            out[col] = grouped[col].sum()
    if not out.empty:
        full = pd.period_range(out.index.min(), out.index.max(), freq="M", name="month")
        out = out.reindex(full, fill_value=0)
    out = out.reset_index()
    out["month"] = out["month"].dt.to_timestamp()
    return out


def _money(value: float, currency: str) -> str:
    for size, suffix in ((1e9, " bn"), (1e6, " M"), (1e3, " k")):
        if abs(value) >= size:
            return f"{value / size:,.1f}{suffix} {currency}"
    return f"{value:,.0f} {currency}"


def describe_monthly_sales(monthly: pd.DataFrame, *, currency: str = "EUR") -> str:
    """One sentence on a :func:`monthly_sales` table: total, best and weakest month, trend."""
    if monthly.empty:
        return "There are no sales in the chosen period."
    total = monthly["amount"].sum()
    best = monthly.loc[monthly["amount"].idxmax()]
    worst = monthly.loc[monthly["amount"].idxmin()]
    span = f"{monthly['month'].iloc[0]:%b %Y} to {monthly['month'].iloc[-1]:%b %Y}"
    text = (
        f"Net sales were {_money(total, currency)} over {len(monthly)} months ({span}); "
        f"the best month was {best['month']:%b %Y} ({_money(best['amount'], currency)}), "
        f"the weakest {worst['month']:%b %Y} ({_money(worst['amount'], currency)})"
    )
    if len(monthly) >= 24:
        last, prev = monthly["amount"].iloc[-12:].sum(), monthly["amount"].iloc[-24:-12].sum()
        if prev > 0:
            change = last / prev - 1
            text += f"; the last 12 months were {abs(change):.0%} {'above' if change >= 0 else 'below'} the 12 before"
    return text + "."


def data_quality(dataset: Dataset, *, as_of: pd.Timestamp | None = None) -> pd.DataFrame:
    """Checks a careful analyst runs before trusting the numbers.

    These are not errors (the loader has already refused those) but facts worth
    knowing: credit notes, zero lines, lines after ``as_of``, exact duplicates,
    accounts without purchases, missing optional data.

    Returns
    -------
    pandas.DataFrame
        ``check``, ``table``, ``count`` (rows concerned), ``share`` (of the table's
        rows), ``status`` (``ok``, ``note`` or ``warning``) and ``meaning``.
    """
    tx = dataset.transactions
    n = len(tx)
    rows = []

    def add(check, table, count, total, warn_above, meaning):
        share = count / total if total else 0.0
        status = "ok" if count == 0 else ("warning" if share > warn_above else "note")
        rows.append(
            {
                "check": check,
                "table": table,
                "count": int(count),
                "share": share,
                "status": status,
                "meaning": meaning,
            }
        )

    add(
        "credit notes / returns",
        "transactions",
        (tx["amount"] < 0).sum(),
        n,
        0.05,
        "negative lines; they reduce net sales, as they should",
    )
    add(
        "zero-amount lines",
        "transactions",
        (tx["amount"] == 0).sum(),
        n,
        0.02,
        "free samples or corrections; they count as lines but not as sales",
    )
    add(
        "exact duplicate lines",
        "transactions",
        tx.duplicated().sum(),
        n,
        0.0,
        "identical lines twice: check the export did not repeat rows",
    )
    if as_of is not None:
        add(
            "lines after as_of",
            "transactions",
            (tx["date"] > as_of).sum(),
            n,
            0.0,
            "left out of every analysis at this reference date",
        )
    if "margin" in tx:
        add(
            "lines sold below cost",
            "transactions",
            (tx["margin"] < 0).sum(),
            n,
            0.05,
            "negative margin: check costs or pricing",
        )
    for col in ("quantity", "margin", "product_id"):
        if col not in tx:
            rows.append(
                {
                    "check": f"no {col} column",
                    "table": "transactions",
                    "count": n,
                    "share": 1.0,
                    "status": "note",
                    "meaning": f"analyses by {col} are skipped",
                }
            )
        else:
            add(
                f"missing {col}",
                "transactions",
                tx[col].isna().sum(),
                n,
                0.05,
                f"lines without {col}",
            )
    accounts = dataset.get("accounts")
    if accounts is not None:
        silent = ~accounts["account_id"].isin(tx["account_id"])
        add(
            "accounts without purchases",
            "accounts",
            silent.sum(),
            len(accounts),
            0.5,
            "in the master data but never bought in this history",
        )
    for table in MODEL:
        if table != "transactions" and not dataset.has(table):
            rows.append(
                {
                    "check": "table missing",
                    "table": table,
                    "count": 0,
                    "share": 0.0,
                    "status": "note",
                    "meaning": "sections that need it say so and are skipped",
                }
            )
    return pd.DataFrame(rows)
