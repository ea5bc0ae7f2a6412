"""The reference date (``as_of``) and the windows that end at it.

Nothing in kamlib reads today's date: every analysis takes ``as_of``. Where a
notebook leaves it empty, :func:`resolve_as_of` takes the day of the last
transaction in the data, so the same data always gives the same result.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

__all__ = ["resolve_as_of", "window"]


def resolve_as_of(
    transactions: pd.DataFrame, as_of: str | dt.date | pd.Timestamp | None = None
) -> pd.Timestamp:
    """The reference date: ``as_of`` if given, else the last transaction date.

    Parameters
    ----------
    transactions : pandas.DataFrame
        Invoice lines with a ``date`` column.
    as_of : str, date or Timestamp, optional
        An explicit date (``"2026-09-30"``); ``None`` means the last date in the data.

    Returns
    -------
    pandas.Timestamp
        Midnight of the reference day; the day itself belongs to windows ending at it.

    Raises
    ------
    ValueError
        If ``as_of`` is not a date, or is before the first transaction.
    """
    if as_of is None or (isinstance(as_of, str) and not as_of.strip()):
        if transactions.empty:
            raise ValueError("as_of cannot be taken from an empty transactions table; give a date")
        return pd.Timestamp(transactions["date"].max()).normalize()
    try:
        stamp = pd.Timestamp(as_of)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"as_of must be a date like '2026-09-30', got {as_of!r}") from exc
    if pd.isna(stamp):
        raise ValueError(f"as_of must be a date like '2026-09-30', got {as_of!r}")
    first = transactions["date"].min() if not transactions.empty else None
    if first is not None and stamp < first:
        raise ValueError(
            f"as_of {stamp.date()} is before the first transaction ({pd.Timestamp(first).date()}); "
            "choose a date within the data"
        )
    return stamp.normalize()


def window(
    as_of: pd.Timestamp, *, months: int = 12, lag: int = 0
) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The ``months``-long window ending at ``as_of`` (``lag`` windows earlier).

    Returns ``(start, end)`` with ``start`` exclusive and ``end`` inclusive, so that
    consecutive windows neither overlap nor leave gaps: a line belongs to the window
    when ``start < date <= end``.
    """
    if months < 1:
        raise ValueError(f"months must be at least 1, got {months}")
    end = as_of - pd.DateOffset(months=months * lag)
    start = end - pd.DateOffset(months=months)
    return pd.Timestamp(start), pd.Timestamp(end)
