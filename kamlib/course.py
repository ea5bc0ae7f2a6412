"""The exercises of each notebook, built for the dataset the notebook runs on.

Expected answers are computed from the data, so the checks work on the bundled
sample, on any generated seed and on a company's own data.
"""

from __future__ import annotations

import pandas as pd

from kamlib.dates import window
from kamlib.exercises import Exercise

__all__ = ["start_here_exercises"]


def _month(value) -> pd.Period:
    """A month from '2025-03', a Timestamp, a Period or a date."""
    if isinstance(value, pd.Period):
        return value.asfreq("M")
    stamp = pd.Timestamp(value) if value is not None else pd.NaT
    if pd.isna(stamp):
        raise ValueError("that is not a month; write it like '2025-03'")
    return stamp.to_period("M")


def start_here_exercises(transactions: pd.DataFrame, *, as_of: pd.Timestamp) -> dict[str, Exercise]:
    """Exercises of ``00_start_here``.

    The solutions use the notebook's names: ``tx`` (the invoice lines),
    ``as_of_date`` (the reference date) and ``pd``.

    Parameters
    ----------
    transactions : pandas.DataFrame
        Invoice lines of the dataset.
    as_of : pandas.Timestamp
        Reference date of the notebook.

    Returns
    -------
    dict of str to Exercise
        ``active_accounts`` (how many accounts bought in the 12 months to ``as_of``)
        and ``best_month`` (the month with the highest net sales).
    """
    tx = transactions[transactions["date"] <= as_of]
    start, end = window(as_of, months=12)
    last12 = tx[(tx["date"] > start) & (tx["date"] <= end)]
    active = int(last12["account_id"].nunique())
    months = tx.groupby(tx["date"].dt.to_period("M"))["amount"]
    by_amount = months.sum()
    best = by_amount.idxmax()
    worst = by_amount.idxmin()
    most_lines = months.size().idxmax()
    positive_only = (
        tx[tx["amount"] > 0].groupby(tx["date"].dt.to_period("M"))["amount"].sum().idxmax()
    )
    calendar_year = int(tx.loc[tx["date"].dt.year == as_of.year, "account_id"].nunique())

    active_accounts = Exercise(
        key="active_accounts",
        question=(
            "How many **different accounts** bought something in the 12 months up to the "
            "reference date `as_of_date` (after the same day one year earlier, up to and "
            "including `as_of_date`)?"
        ),
        expected=active,
        hint_text=(
            "Keep the lines with `date > as_of_date - 12 months` and `date <= as_of_date` "
            "(`pd.DateOffset(months=12)`), then count the distinct values of `account_id` "
            "(`.nunique()`)."
        ),
        solution_code=(
            "start = as_of_date - pd.DateOffset(months=12)\n"
            "last12 = tx[(tx['date'] > start) & (tx['date'] <= as_of_date)]\n"
            "answer = last12['account_id'].nunique()"
        ),
        mistakes=(
            (
                lambda a: a == len(last12),
                "you counted invoice lines; count distinct accounts with .nunique().",
            ),
            (
                lambda a: a == tx["account_id"].nunique(),
                "you counted every account in the whole history; keep only the last 12 months.",
            ),
            (
                lambda a: a == calendar_year and calendar_year != active,
                "you took the calendar year; the window is the 12 months ending at as_of.",
            ),
            (
                lambda a: (
                    a == len(last12.drop_duplicates("invoice_id"))
                    if "invoice_id" in last12
                    else False
                ),
                "you counted invoices; count distinct accounts.",
            ),
        ),
    )
    best_month = Exercise(
        key="best_month",
        question=(
            "Which **month** had the highest net sales (sum of `amount`, credit notes included)? "
            "Answer as text like `'2025-03'`."
        ),
        expected=best,
        hint_text=(
            "Group the lines by month (`tx['date'].dt.to_period('M')`), sum `amount`, "
            "and take the label of the largest value (`.idxmax()`)."
        ),
        solution_code=(
            "by_month = tx[tx['date'] <= as_of_date].groupby(tx['date'].dt.to_period('M'))['amount'].sum()\n"
            "answer = str(by_month.idxmax())"
        ),
        mistakes=(
            (
                lambda a: a == worst,
                "that is the weakest month: you took the minimum (or sorted ascending).",
            ),
            (
                lambda a: a == most_lines and most_lines != best,
                "that month has the most lines, not the highest sales: sum amount instead of counting.",
            ),
            (
                lambda a: a == positive_only and positive_only != best,
                "you left out the credit notes; net sales include the negative lines.",
            ),
        ),
        normalise=_month,
    )
    return {"active_accounts": active_accounts, "best_month": best_month}
