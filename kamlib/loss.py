"""Loss analysis: when an account is lost, how often it happens, why, and whom to win back.

The domain brief's three steps (§6): define a criterion that says an account is
lost, count the losses (number, dynamics, reasons), list the accounts to win
back. Every function takes an explicit ``as_of``; nothing after it is seen.

**Purchases.** A purchase is a day on which the account's net invoice amount is
above zero (a day with only a credit note is not a purchase). The *gap* between
two purchases is the number of days between them.

**The rules** (:class:`LossRule`, ``kind``):

- ``inactivity``: lost when ``days`` days have passed without a purchase. The
  loss is declared on ``last purchase + days``.
- ``rhythm``: lost when the account has gone ``k`` × its usual gap without a
  purchase. The usual gap is the ``gap_quantile`` quantile of the gaps *known at
  the time* (0.5: the median; 0.9 with ``k = 1``: beyond 90 % of its own gaps),
  never less than ``min_days``. An account with fewer than ``min_orders``
  purchases so far has no rhythm yet and falls back to ``days``.
- ``decline`` (partial defection): at each month-end checkpoint (``as_of`` and
  whole months before it), lost when its net revenue of the last 12 months is
  below ``theta`` × that of the 12 months before. It still buys, but is leaving.
  The episode ends (the account has *recovered*) at the first checkpoint where
  its last 12 months are back at ``theta`` × the level before the fall or more.

**A loss event** is one declaration: the account, its last purchase before it,
the day the rule declared it (``lost_on``), the revenue lost and, if it bought
again (gap rules) or recovered (decline), the day it did (``returned_on``). An
account can be lost, come back and be lost again. The *revenue lost* is the
account's net revenue of the 12 months up to its last purchase (gap rules), or
the fall ``previous 12 months − last 12 months`` at the declaration (decline:
the account still buys, so what is lost is the difference).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from kamlib._text import join_where
from kamlib.abc_xyz import _require
from kamlib.identification import rank_score
from kamlib.validation import closest

__all__ = [
    "LOSS_RULES",
    "WIN_BACK_APPROACHES",
    "BackTest",
    "LossRule",
    "LossWarning",
    "account_lifetimes",
    "at_risk_accounts",
    "back_test",
    "describe_at_risk",
    "describe_back_test",
    "describe_dynamics",
    "describe_loss_status",
    "describe_reasons",
    "describe_survival",
    "describe_win_back",
    "kaplan_meier",
    "loss_dynamics",
    "loss_events",
    "loss_reasons",
    "loss_status",
    "reason_pareto",
    "reasons_over_time",
    "returned_accounts",
    "win_back_list",
]

#: The rules that say when an account is lost (``LossRule.kind``).
LOSS_RULES = ("inactivity", "rhythm", "decline")

#: How winnable each loss reason is (0 = not at all, 1 = fully) and how to approach the
#: account. One editable table: change a row, or add your company's own reasons. A reason
#: not in the table is treated as ``other``.
WIN_BACK_APPROACHES = pd.DataFrame(
    [
        (
            "price",
            1.0,
            "Special offer: a price review or a volume discount for the next six months.",
        ),
        ("service", 0.9, "Visit by the sales manager with a service plan and one named contact."),
        ("delivery", 0.8, "Visit by a manager: a delivery guarantee and safety stock at our cost."),
        ("quality", 0.7, "Technical visit: a free trial batch and the quality report on the fix."),
        ("dissatisfaction", 0.7, "Call, then a visit to hear the complaints; a goodwill gift."),
        ("relationship", 0.6, "A new account manager, introduced by the head of sales."),
        ("unexplained", 0.5, "Call to find out why; an invitation to a customer event."),
        ("other", 0.5, "Find out what it would take; a discount on the first order back."),
        ("customer_closed", 0.0, "None: the customer no longer exists. Remove it from the list."),
    ],
    columns=["reason", "winnable", "approach"],
)

_DAY = pd.Timedelta(days=1)
_MONTH_DAYS = 365.25 / 12
_NO_DATE = np.datetime64("NaT", "D")


class LossWarning(UserWarning):
    """A loss analysis ran, but on thin ground (e.g. too little history for the rule)."""


@dataclass(frozen=True)
class LossRule:
    """When an account counts as lost. See the module text for the three rules.

    Parameters
    ----------
    kind : {"inactivity", "rhythm", "decline"}
        Which rule.
    days : int, default 180
        ``inactivity``: days without a purchase. ``rhythm``: the fallback for accounts
        with fewer than ``min_orders`` purchases.
    k : float, default 2.0
        ``rhythm``: how many usual gaps without a purchase.
    gap_quantile : float, default 0.9
        ``rhythm``: which quantile of the account's own gaps is its usual gap.
    min_orders : int, default 4
        ``rhythm``: purchases an account needs before its own rhythm is used.
    min_days : int, default 90
        ``rhythm``: the least number of days the rule waits, however often the account buys.
    theta : float, default 0.5
        ``decline``: lost when the last 12 months are below ``theta`` × the 12 before.
    """

    kind: str = "inactivity"
    days: int = 180
    k: float = 2.0
    gap_quantile: float = 0.9
    min_orders: int = 4
    min_days: int = 90
    theta: float = 0.5

    def __post_init__(self) -> None:
        problems = []
        if self.kind not in LOSS_RULES:
            near = closest(str(self.kind), list(LOSS_RULES))
            problems.append(
                f"kind must be one of {', '.join(LOSS_RULES)}, got {self.kind!r}"
                + (f" (did you mean {near!r}?)" if near else "")
            )
        if not _whole(self.days) or self.days < 1:
            problems.append(f"days must be a whole number of days ≥ 1, got {self.days!r}")
        if not _number(self.k) or self.k <= 0:
            problems.append(f"k must be a number > 0 (e.g. 3 usual gaps), got {self.k!r}")
        if not _number(self.gap_quantile) or not 0 < self.gap_quantile <= 1:
            problems.append(
                f"gap_quantile must be in (0, 1] (0.5 = the median gap), got {self.gap_quantile!r}"
            )
        if not _whole(self.min_orders) or self.min_orders < 2:
            problems.append(f"min_orders must be a whole number ≥ 2, got {self.min_orders!r}")
        if not _whole(self.min_days) or self.min_days < 1:
            problems.append(f"min_days must be a whole number of days ≥ 1, got {self.min_days!r}")
        if not _number(self.theta) or not 0 < self.theta < 1:
            hint = (
                " (give a fraction: 0.5, not 50)" if _number(self.theta) and self.theta > 1 else ""
            )
            problems.append(f"theta must be a fraction between 0 and 1, got {self.theta!r}{hint}")
        if problems:
            raise ValueError("LossRule: " + "; ".join(problems))

    @property
    def setting(self) -> str:
        """Name of the rule's main setting: ``days``, ``k`` or ``theta``."""
        return {"inactivity": "days", "rhythm": "k", "decline": "theta"}[self.kind]

    @property
    def warm_up(self) -> pd.DateOffset | pd.Timedelta:
        """History the rule needs before it can declare a loss at all."""
        if self.kind == "decline":
            return pd.DateOffset(months=24)
        if self.kind == "rhythm":
            return pd.Timedelta(days=min(self.days, self.min_days))
        return pd.Timedelta(days=self.days)

    def with_setting(self, value) -> LossRule:
        """The same rule with its main setting (:attr:`setting`) changed."""
        return replace(self, **{self.setting: value})

    def describe(self) -> str:
        """The rule in one sentence."""
        if self.kind == "inactivity":
            return f"lost after {self.days} days without a purchase"
        if self.kind == "rhythm":
            usual = "median" if self.gap_quantile == 0.5 else f"{self.gap_quantile:.0%} quantile"
            return (
                f"lost after {self.k:g} × its usual gap ({usual} of its own gaps, at least "
                f"{self.min_days} days) without a purchase; {self.days} days for accounts with "
                f"fewer than {self.min_orders} purchases"
            )
        return (
            f"lost when its last 12 months' revenue falls below {self.theta:.0%} of the 12 "
            "months before (partial defection)"
        )


def _number(value) -> bool:
    return (
        isinstance(value, int | float | np.integer | np.floating)
        and not isinstance(value, bool)
        and math.isfinite(value)
    )


def _whole(value) -> bool:
    return _number(value) and float(value).is_integer()


def _rule(rule: LossRule | str | None) -> LossRule:
    if rule is None:
        return LossRule()
    if isinstance(rule, str):
        return LossRule(kind=rule)
    if not isinstance(rule, LossRule):
        raise ValueError(f"rule must be a LossRule or one of {', '.join(LOSS_RULES)}, got {rule!r}")
    return rule


def _days(values) -> np.ndarray:
    """Dates as whole day numbers (int64)."""
    return np.asarray(values, dtype="datetime64[D]").astype(np.int64)


def _dates(days: np.ndarray) -> np.ndarray:
    out = np.asarray(days, dtype="float64")
    res = np.full(out.shape, _NO_DATE)
    ok = np.isfinite(out)
    res[ok] = out[ok].astype(np.int64).astype("datetime64[D]")
    return res.astype("datetime64[ns]")


@dataclass(frozen=True)
class _Daily:
    """Net amount per account and day, up to as_of (accounts sorted by id)."""

    accounts: np.ndarray  # ids, ascending
    code: np.ndarray  # per day row: account code
    day: np.ndarray  # per day row: day number
    amount: np.ndarray  # per day row: net amount
    cum: np.ndarray  # cumulative amount in (code, day) order
    key: np.ndarray  # code * 2**32 + day, ascending

    def window_sum(self, code: np.ndarray, start: np.ndarray, end: np.ndarray) -> np.ndarray:
        """Net amount of account ``code`` in ``(start, end]`` (day numbers)."""
        code = np.asarray(code, dtype=np.int64)

        def upto(day):
            pos = np.searchsorted(self.key, code * 2**32 + np.asarray(day, np.int64), "right") - 1
            return np.where(pos >= 0, self.cum[np.maximum(pos, 0)], 0.0)

        return upto(end) - upto(start)


def _daily(transactions: pd.DataFrame, as_of: pd.Timestamp) -> _Daily:
    _require(transactions, ["account_id", "date", "amount"], "Loss analysis")
    seen = transactions["date"] < as_of + _DAY
    lines = transactions.loc[seen, ["account_id", "date", "amount"]]
    codes, accounts = pd.factorize(lines["account_id"], sort=True)
    day = _days(lines["date"].to_numpy())
    key = codes.astype(np.int64) * 2**32 + day
    uniq, inverse = np.unique(key, return_inverse=True)
    amount = np.bincount(inverse, weights=lines["amount"].to_numpy(dtype=float))
    # round off float noise: 0.10 + 0.20 - 0.30 is a day netting to 0 (no purchase),
    # whatever the order of the lines
    amount = np.round(amount.astype(float), 6) if len(amount) else np.zeros(0)
    return _Daily(
        accounts=np.asarray(accounts, dtype=object),
        code=(uniq // 2**32).astype(np.int64),
        day=(uniq % 2**32).astype(np.int64),
        amount=amount,
        cum=np.cumsum(amount),
        key=uniq,
    )


def _day(stamp: pd.Timestamp) -> int:
    """One date as a day number."""
    return int(_days([np.datetime64(pd.Timestamp(stamp).date())])[0])


def _months_back(as_of: pd.Timestamp, months: int) -> int:
    return _day(as_of - pd.DateOffset(months=months))


def _year_before(days: np.ndarray) -> np.ndarray:
    """Day number 12 calendar months before each day (clipped month ends, as DateOffset)."""
    stamps = pd.DatetimeIndex(_dates(days)) - pd.DateOffset(months=12)
    return _days(stamps.to_numpy())


_EVENT_COLUMNS = [
    "account_id",
    "rule",
    "last_purchase",
    "lost_on",
    "threshold_days",
    "revenue_lost",
    "returned_on",
    "still_lost",
]


def _gap_events(daily: _Daily, rule: LossRule, as_of_day: int) -> pd.DataFrame:
    buy = daily.amount > 0
    code, day = daily.code[buy], daily.day[buy]
    n = len(code)
    if n == 0:
        return pd.DataFrame(columns=_EVENT_COLUMNS)
    last_of_account = np.r_[code[1:] != code[:-1], True]
    first_of_account = np.r_[True, code[1:] != code[:-1]]
    # gap i starts at purchase i and ends at the next purchase of the account (or is open)
    end = np.where(last_of_account, as_of_day, np.r_[day[1:], 0])
    length = end - day
    is_open = last_of_account
    if rule.kind == "inactivity":
        threshold = np.full(n, float(rule.days))
    else:
        # closed gaps known before gap i: the gaps that ended at purchases 1..i of the account
        closed = pd.Series(np.where(first_of_account, np.nan, day - np.r_[0, day[:-1]]))
        known = closed.groupby(code).expanding().quantile(rule.gap_quantile)
        known = known.reset_index(level=0, drop=True).sort_index().to_numpy()
        order = pd.Series(code).groupby(code).cumcount().to_numpy()  # 0 = first purchase
        enough = order + 1 >= rule.min_orders
        own = np.maximum(rule.k * known, rule.min_days)
        threshold = np.where(enough & np.isfinite(known), own, float(rule.days))
    threshold = np.ceil(np.round(threshold, 6))  # 41.00000000000001 is 41 days, not 42
    lost = np.where(is_open, length >= threshold, length > threshold)
    idx = np.flatnonzero(lost)
    if len(idx) == 0:
        return pd.DataFrame(columns=_EVENT_COLUMNS)
    last = day[idx]
    revenue = daily.window_sum(code[idx], _year_before(last), last)
    returned = np.where(is_open[idx], np.nan, end[idx].astype(float))
    return pd.DataFrame(
        {
            "account_id": daily.accounts[code[idx]],
            "rule": rule.kind,
            "last_purchase": _dates(last),
            "lost_on": _dates(last + threshold[idx]),
            "threshold_days": threshold[idx],
            "revenue_lost": revenue,
            "returned_on": _dates(returned),
            "still_lost": is_open[idx],
        }
    )


def _checkpoints(as_of: pd.Timestamp, first_day: int) -> np.ndarray:
    """Month-end checkpoints ``as_of - j months`` with 24 months of history before them."""
    out = []
    j = 0
    while True:
        point = _months_back(as_of, j)
        if _months_back(as_of, j + 24) < first_day - 1:
            break
        out.append(point)
        j += 1
    return np.array(out[::-1], dtype=np.int64)


def _decline_events(daily: _Daily, rule: LossRule, as_of: pd.Timestamp) -> pd.DataFrame:
    if len(daily.day) == 0:
        return pd.DataFrame(columns=_EVENT_COLUMNS)
    points = _checkpoints(as_of, int(daily.day.min()))
    n_acc = len(daily.accounts)
    if len(points) == 0:
        return pd.DataFrame(columns=_EVENT_COLUMNS)
    code = np.repeat(np.arange(n_acc), len(points))
    point = np.tile(points, n_acc)
    year_ago = _year_before(point)
    last12 = daily.window_sum(code, year_ago, point).reshape(n_acc, len(points))
    prev12 = daily.window_sum(code, _year_before(year_ago), year_ago).reshape(n_acc, len(points))
    # a state machine over checkpoints (months), vectorised over accounts
    open_ = np.zeros(n_acc, dtype=bool)
    reference = np.zeros(n_acc)
    start_at = np.zeros(n_acc, dtype=np.int64)
    lost_amount = np.zeros(n_acc)
    rows: list[tuple[np.ndarray, ...]] = []
    for j, day in enumerate(points):
        falls = (prev12[:, j] > 0) & (last12[:, j] < rule.theta * prev12[:, j])
        recovered = open_ & (last12[:, j] >= rule.theta * reference)
        if recovered.any():
            ids = np.flatnonzero(recovered)
            rows.append((ids, start_at[ids], lost_amount[ids], np.full(len(ids), day, float)))
            open_ &= ~recovered
        onset = falls & ~open_ & ~recovered
        open_ |= onset
        reference = np.where(onset, prev12[:, j], reference)
        start_at = np.where(onset, day, start_at)
        lost_amount = np.where(onset, prev12[:, j] - last12[:, j], lost_amount)
    ids = np.flatnonzero(open_)
    rows.append((ids, start_at[ids], lost_amount[ids], np.full(len(ids), np.nan)))
    ids = np.concatenate([r[0] for r in rows])
    if len(ids) == 0:
        return pd.DataFrame(columns=_EVENT_COLUMNS)
    start = np.concatenate([r[1] for r in rows])
    # last purchase on or before the declaration
    buy = daily.amount > 0
    bkey = daily.key[buy]
    pos = np.searchsorted(bkey, ids.astype(np.int64) * 2**32 + start, "right") - 1
    has = (pos >= 0) & (pos < len(bkey)) & (bkey[np.maximum(pos, 0)] // 2**32 == ids)
    last = np.where(has, (bkey[np.maximum(pos, 0)] % 2**32).astype(float), np.nan)
    returned = np.concatenate([r[3] for r in rows])
    out = pd.DataFrame(
        {
            "account_id": daily.accounts[ids],
            "rule": rule.kind,
            "last_purchase": _dates(last),
            "lost_on": _dates(start),
            "threshold_days": np.nan,
            "revenue_lost": np.concatenate([r[2] for r in rows]),
            "returned_on": _dates(returned),
            "still_lost": np.isnan(returned),
        }
    )
    return out


def loss_events(
    transactions: pd.DataFrame, *, as_of: pd.Timestamp, rule: LossRule | str | None = None
) -> pd.DataFrame:
    """Every loss the rule declares in the history up to ``as_of``.

    Parameters
    ----------
    transactions : pandas.DataFrame
        Invoice lines with ``account_id``, ``date`` and ``amount``.
    as_of : pandas.Timestamp
        Reference date; lines after it are not seen.
    rule : LossRule or str, optional
        The rule (default: ``LossRule()``, 180 days without a purchase).

    Returns
    -------
    pandas.DataFrame
        One row per declared loss, sorted by ``lost_on`` then ``account_id``:
        ``account_id``, ``rule``, ``last_purchase`` (last purchase before the loss),
        ``lost_on`` (the day the rule declared it), ``threshold_days`` (days without a
        purchase the rule waited; empty for ``decline``), ``revenue_lost``,
        ``returned_on`` (the next purchase, or for ``decline`` the checkpoint it
        recovered; empty while still lost) and ``still_lost`` (true at ``as_of``).
    """
    rule = _rule(rule)
    as_of = pd.Timestamp(as_of).normalize()
    return _events(_daily(transactions, as_of), rule, as_of)


def _events(daily: _Daily, rule: LossRule, as_of: pd.Timestamp) -> pd.DataFrame:
    as_of_day = _day(as_of)
    if rule.kind == "decline":
        events = _decline_events(daily, rule, as_of)
    else:
        events = _gap_events(daily, rule, as_of_day)
    events = events[events["lost_on"] <= as_of] if len(events) else events
    out = events.sort_values(["lost_on", "account_id"], kind="stable").reset_index(drop=True)
    return out.astype(
        {
            "account_id": object,
            "rule": object,
            "last_purchase": "datetime64[ns]",
            "lost_on": "datetime64[ns]",
            "threshold_days": float,
            "revenue_lost": float,
            "returned_on": "datetime64[ns]",
            "still_lost": bool,
        }
    )


def loss_status(
    transactions: pd.DataFrame, *, as_of: pd.Timestamp, rule: LossRule | str | None = None
) -> pd.DataFrame:
    """Where each account stands at ``as_of``: active or lost, and its buying rhythm.

    Parameters
    ----------
    transactions : pandas.DataFrame
        Invoice lines with ``account_id``, ``date`` and ``amount``.
    as_of : pandas.Timestamp
        Reference date.
    rule : LossRule or str, optional
        The loss rule (default ``LossRule()``).

    Returns
    -------
    pandas.DataFrame
        One row per account with a purchase by ``as_of``, sorted by ``account_id``:
        ``account_id``, ``first_purchase``, ``last_purchase``, ``purchases`` (days with
        a purchase), ``usual_gap_days`` (median gap between purchases; empty with fewer
        than two), ``days_since_purchase``, ``revenue_12m`` and ``revenue_previous_12m``
        (net revenue of the 12 months to ``as_of`` and of the 12 before), ``status``
        (``lost`` or ``active``), ``lost_on`` and ``revenue_lost`` (of the current loss),
        ``times_lost`` (losses declared so far, the current one included) and
        ``came_back`` (lost before and bought again).
    """
    rule = _rule(rule)
    as_of = pd.Timestamp(as_of).normalize()
    daily = _daily(transactions, as_of)
    as_of_day = _day(as_of)
    buy = daily.amount > 0
    frame = pd.DataFrame({"code": daily.code[buy], "day": daily.day[buy]})
    frame["gap"] = frame.groupby("code")["day"].diff()
    grouped = frame.groupby("code")
    out = pd.DataFrame(
        {
            "first": grouped["day"].min(),
            "last": grouped["day"].max(),
            "purchases": grouped.size(),
            "usual_gap_days": grouped["gap"].median(),
        }
    )
    code = out.index.to_numpy(dtype=np.int64)
    year_ago = _months_back(as_of, 12)
    two_years = _months_back(as_of, 24)
    events = _events(daily, rule, as_of)
    ids = daily.accounts[code]
    current = events[events["still_lost"]].drop_duplicates("account_id", keep="last")
    current = current.set_index("account_id").reindex(ids)
    counts = events["account_id"].value_counts().reindex(ids, fill_value=0).to_numpy()
    returned = events.loc[events["returned_on"].notna(), "account_id"].drop_duplicates().to_numpy()
    result = pd.DataFrame(
        {
            "account_id": ids,
            "first_purchase": _dates(out["first"].to_numpy()),
            "last_purchase": _dates(out["last"].to_numpy()),
            "purchases": out["purchases"].to_numpy(dtype=np.int64),
            "usual_gap_days": out["usual_gap_days"].to_numpy(dtype=float),
            "days_since_purchase": (as_of_day - out["last"].to_numpy()).astype(np.int64),
            "revenue_12m": daily.window_sum(
                code, np.full(len(code), year_ago), np.full(len(code), as_of_day)
            ),
            "revenue_previous_12m": daily.window_sum(
                code, np.full(len(code), two_years), np.full(len(code), year_ago)
            ),
            "status": np.where(current["lost_on"].notna().to_numpy(), "lost", "active"),
            "lost_on": current["lost_on"].to_numpy(),
            "revenue_lost": current["revenue_lost"].to_numpy(dtype=float),
            "times_lost": counts.astype(np.int64),
            "came_back": pd.Index(ids).isin(returned),
        }
    )
    return result.sort_values("account_id", kind="stable").reset_index(drop=True)


def at_risk_accounts(
    status: pd.DataFrame, *, gap_factor: float = 2.0, fall: float = 0.3, min_orders: int = 4
) -> pd.DataFrame:
    """Active accounts past their usual interval, or falling, ranked by revenue at stake.

    Parameters
    ----------
    status : pandas.DataFrame
        The result of :func:`loss_status`.
    gap_factor : float, default 2.0
        Past its usual interval: more than ``gap_factor`` × ``usual_gap_days`` since the
        last purchase (accounts with at least ``min_orders`` purchases).
    fall : float, default 0.3
        Falling: revenue of the last 12 months more than ``fall`` (30 %) below the 12
        months before.
    min_orders : int, default 4
        Purchases an account needs before its usual interval is trusted.

    Returns
    -------
    pandas.DataFrame
        The at-risk accounts, largest ``revenue_at_stake`` first (ties by
        ``account_id``): the columns of ``status`` plus ``overdue_factor`` (days since
        the last purchase ÷ usual gap), ``change`` (last 12 months ÷ the 12 before − 1),
        ``why`` (``past usual interval``, ``falling`` or both) and
        ``revenue_at_stake`` (revenue of the last 12 months, what the company stands to
        lose).
    """
    if not 0 < fall < 1:
        raise ValueError(f"fall must be a fraction between 0 and 1 (0.3 = 30 %), got {fall!r}")
    if not gap_factor > 0:
        raise ValueError(f"gap_factor must be > 0, got {gap_factor!r}")
    if not _whole(min_orders) or min_orders < 2:
        raise ValueError(f"min_orders must be a whole number ≥ 2, got {min_orders!r}")
    active = status[status["status"] == "active"]
    overdue = active["days_since_purchase"] / active["usual_gap_days"]
    prev = active["revenue_previous_12m"]
    change = (active["revenue_12m"] / prev.where(prev > 0)) - 1
    late = (active["purchases"] >= min_orders) & (overdue > gap_factor)
    falling = change < -fall
    why = join_where(
        np.column_stack([late.to_numpy(), falling.to_numpy()]),
        ["past usual interval", "falling"],
    )
    out = active.assign(
        overdue_factor=overdue,
        change=change,
        why=why,
        revenue_at_stake=active["revenue_12m"].clip(lower=0),
    )[(late | falling).to_numpy()]
    return out.sort_values(
        ["revenue_at_stake", "account_id"], ascending=[False, True], kind="stable"
    ).reset_index(drop=True)


@dataclass(frozen=True)
class BackTest:
    """How a loss rule would have done on the history, for several settings.

    Attributes
    ----------
    summary : pandas.DataFrame
        One row per setting: ``setting`` (its value), ``rule`` (in words),
        ``declared`` (losses declared from ``start`` to ``end``), ``false_alarms``
        (of those, accounts that bought again — for ``decline``: recovered — within
        ``horizon_months``), ``false_alarm_share``, ``confirmed`` (declared − false
        alarms), ``median_delay_months`` and ``p90_delay_months`` (months from the last
        purchase to the declaration; empty for ``decline``), ``revenue_declared`` (the
        revenue lost of the confirmed losses).
    by_month : pandas.DataFrame
        ``setting``, ``month`` (month of the declaration), ``declared``, ``false_alarms``.
    events : pandas.DataFrame
        The judged declarations (:func:`loss_events` columns plus ``setting`` and
        ``false_alarm``).
    start, end : pandas.Timestamp
        Declarations in ``[start, end]`` are judged: ``start`` is where the longest
        setting can first fire, ``end`` is ``as_of - horizon_months``.
    horizon_months : int
        How long after a declaration a purchase (or recovery) makes it a false alarm.
    """

    summary: pd.DataFrame
    by_month: pd.DataFrame
    events: pd.DataFrame
    start: pd.Timestamp
    end: pd.Timestamp
    horizon_months: int


_DEFAULT_SETTINGS = {
    "days": (60, 90, 120, 180, 270, 365),
    "k": (2.0, 3.0, 4.0, 6.0),
    "theta": (0.3, 0.5, 0.7),
}


def back_test(
    transactions: pd.DataFrame,
    *,
    as_of: pd.Timestamp,
    rule: LossRule | str | None = None,
    settings: Sequence[float] | None = None,
    horizon_months: int = 12,
) -> BackTest:
    """Back-test the loss rule on history: false alarms and delay for several settings.

    Each setting is run on the history up to ``as_of``. A declaration is judged when
    ``horizon_months`` have passed after it: a false alarm if the account bought again
    (``decline``: recovered) within that horizon. Only declarations in a common period
    are judged, so that settings are compared on the same months: from the first day
    the slowest setting can fire to ``as_of - horizon_months``.

    Parameters
    ----------
    transactions : pandas.DataFrame
        Invoice lines.
    as_of : pandas.Timestamp
        Reference date.
    rule : LossRule or str, optional
        The rule whose main setting varies (``days``, ``k`` or ``theta``).
    settings : sequence of numbers, optional
        Values to try; default 60-365 days, k 2-6, theta 0.3-0.7.
    horizon_months : int, default 12
        Months after a declaration in which a purchase makes it a false alarm.

    Returns
    -------
    BackTest
        ``summary``, ``by_month`` and the judged ``events``.
    """
    rule = _rule(rule)
    _require(transactions, ["account_id", "date", "amount"], "Loss analysis")
    if not _whole(horizon_months) or horizon_months < 1:
        raise ValueError(f"horizon_months must be a whole number ≥ 1, got {horizon_months!r}")
    values = list(_DEFAULT_SETTINGS[rule.setting] if settings is None else settings)
    if not values:
        raise ValueError("settings is empty: give at least one value to try")
    rules = [rule.with_setting(v) for v in values]  # validates every value
    as_of = pd.Timestamp(as_of).normalize()
    first = pd.Timestamp(transactions["date"].min()).normalize()
    start = max(first + r.warm_up for r in rules)
    end = as_of - pd.DateOffset(months=horizon_months)
    if start > end:
        warnings.warn(
            f"the history ({first.date()} to {as_of.date()}) is too short to back-test the "
            f"{rule.kind} rule with a {horizon_months}-month horizon: nothing is judged. "
            "Use shorter settings or a shorter horizon",
            LossWarning,
            stacklevel=2,
        )
    daily = _daily(transactions, as_of)  # the same for every setting
    frames = []
    for value, r in zip(values, rules, strict=True):
        ev = _events(daily, r, as_of)
        ev = ev[(ev["lost_on"] >= start) & (ev["lost_on"] <= end)]
        horizon = ev["lost_on"] + pd.DateOffset(months=horizon_months)
        frames.append(
            ev.assign(setting=value, false_alarm=(ev["returned_on"] <= horizon).to_numpy())
        )
    events = pd.concat(frames, ignore_index=True)
    delay = (events["lost_on"] - events["last_purchase"]).dt.days / _MONTH_DAYS
    if rule.kind == "decline":
        delay = delay * np.nan
    events = events.assign(delay_months=delay)
    grouped = events.groupby("setting", sort=False)
    summary = pd.DataFrame({"setting": values})
    agg = pd.DataFrame(
        {
            "declared": grouped.size(),
            "false_alarms": grouped["false_alarm"].sum(),
            "median_delay_months": grouped["delay_months"].median(),
            "p90_delay_months": grouped["delay_months"].quantile(0.9),
            "revenue_declared": events.loc[~events["false_alarm"]]
            .groupby("setting", sort=False)["revenue_lost"]
            .sum(),
        }
    )
    summary = summary.merge(agg, left_on="setting", right_index=True, how="left")
    summary["declared"] = summary["declared"].fillna(0).astype(np.int64)
    summary["false_alarms"] = summary["false_alarms"].fillna(0).astype(np.int64)
    summary["revenue_declared"] = summary["revenue_declared"].fillna(0.0)
    summary["false_alarm_share"] = summary["false_alarms"] / summary["declared"].where(
        summary["declared"] > 0
    )
    summary["confirmed"] = summary["declared"] - summary["false_alarms"]
    summary.insert(1, "rule", [r.describe() for r in rules])
    summary = summary[
        [
            "setting",
            "rule",
            "declared",
            "false_alarms",
            "false_alarm_share",
            "confirmed",
            "median_delay_months",
            "p90_delay_months",
            "revenue_declared",
        ]
    ]
    month = events["lost_on"].dt.to_period("M").dt.to_timestamp()
    by_month = (
        events.assign(month=month)
        .groupby(["setting", "month"], sort=True)
        .agg(declared=("account_id", "size"), false_alarms=("false_alarm", "sum"))
        .reset_index()
    )
    return BackTest(summary, by_month, events.reset_index(drop=True), start, end, horizon_months)


def loss_dynamics(
    events: pd.DataFrame,
    status: pd.DataFrame,
    *,
    as_of: pd.Timestamp,
    rule: LossRule | str | None = None,
    groups: pd.Series | None = None,
    freq: str = "quarter",
) -> pd.DataFrame:
    """Losses, revenue lost, churn rate and returns per quarter (or year), by group.

    Periods are calendar quarters (or years). The first period is the first that
    starts after the rule could have fired (the data's first day plus the rule's
    warm-up); the last one ends at ``as_of`` and may be partial.

    ``churn_rate = churned ÷ active at start``, where an account is *active at the
    start* of a period if it bought before the period and was not lost then, and
    ``churned`` counts the losses of those accounts. ``lost`` counts every loss
    declared in the period; it is larger than ``churned`` only when an account starts
    buying (or comes back) and is lost again within the same period, which the rate
    leaves out so that it stays a share of the accounts at the start.

    Parameters
    ----------
    events : pandas.DataFrame
        :func:`loss_events` of the rule.
    status : pandas.DataFrame
        :func:`loss_status` of the same rule (for the first purchase of each account).
    as_of : pandas.Timestamp
        Reference date.
    rule : LossRule or str, optional
        The rule the events come from (for its warm-up).
    groups : pandas.Series, optional
        A group per account (index ``account_id``), e.g. the segment or ABC class;
        accounts missing from it are in group ``"(none)"``.
    freq : {"quarter", "year"}
        Length of the periods.

    Returns
    -------
    pandas.DataFrame
        One row per period (and group): ``group`` (``"all"`` without ``groups``),
        ``period`` (e.g. ``2025Q3``), ``start``, ``end``, ``partial``,
        ``active_at_start``, ``lost``, ``revenue_lost``, ``churned``, ``returned``
        (lost accounts that bought again in the period) and ``churn_rate``.
    """
    rule = _rule(rule)
    if freq not in ("quarter", "year"):
        raise ValueError(f"freq must be 'quarter' or 'year', got {freq!r}")
    as_of = pd.Timestamp(as_of).normalize()
    code = "Q" if freq == "quarter" else "Y"
    if status.empty:
        begin = as_of
    else:
        begin = pd.Timestamp(status["first_purchase"].min()) + rule.warm_up
    first_period = pd.Period(begin, code)
    if first_period.start_time < begin:
        first_period += 1
    periods = pd.period_range(first_period, pd.Period(as_of, code), freq=code)
    table = pd.DataFrame(
        {
            "period": periods.astype(str),
            "start": periods.start_time.normalize(),
            "end": periods.end_time.normalize().where(periods.end_time.normalize() <= as_of, as_of),
        }
    )
    table["partial"] = table["end"] < periods.end_time.normalize()
    ids = status["account_id"]
    group_of = (
        pd.Series("all", index=ids)
        if groups is None
        else groups.reindex(ids).astype(object).fillna("(none)")
    )
    # one row per account and period (accounts × periods), all vectorised
    grid = table.merge(
        pd.DataFrame({"account_id": ids, "first_purchase": status["first_purchase"]}), how="cross"
    )
    ev = events[["account_id", "lost_on", "returned_on", "revenue_lost"]]
    spans = grid[["account_id", "start"]].reset_index().merge(ev, on="account_id")
    lost_then = (spans["lost_on"] < spans["start"]) & ~(spans["returned_on"] < spans["start"])
    lost_at_start = spans.loc[lost_then, "index"].unique()
    grid["active"] = (grid["first_purchase"] < grid["start"]) & ~grid.index.isin(lost_at_start)
    grid["group"] = group_of.reindex(grid["account_id"]).to_numpy()
    out_frames = {}
    for name, col in (("lost", "lost_on"), ("returned", "returned_on")):
        hits = ev.merge(
            grid[["account_id", "period", "start", "end", "group", "active"]], on="account_id"
        )
        out_frames[name] = hits[(hits[col] >= hits["start"]) & (hits[col] <= hits["end"])]
    keys = ["group", "period"]
    result = grid.groupby(keys, sort=False).agg(active_at_start=("active", "sum")).reset_index()
    result = result.merge(table, on="period")
    lost = (
        out_frames["lost"]
        .groupby(keys)
        .agg(
            lost=("account_id", "size"),
            revenue_lost=("revenue_lost", "sum"),
            churned=("active", "sum"),
        )
    )
    back = out_frames["returned"].groupby(keys).agg(returned=("account_id", "size"))
    result = result.merge(lost, on=keys, how="left").merge(back, on=keys, how="left")
    for col in ("lost", "churned", "returned"):
        result[col] = result[col].fillna(0).astype(np.int64)
    result["revenue_lost"] = result["revenue_lost"].fillna(0.0)
    result["active_at_start"] = result["active_at_start"].astype(np.int64)
    result["churn_rate"] = result["churned"] / result["active_at_start"].where(
        result["active_at_start"] > 0
    )
    result = result.sort_values(["group", "start"], kind="stable").reset_index(drop=True)
    return result[
        [
            "group",
            "period",
            "start",
            "end",
            "partial",
            "active_at_start",
            "lost",
            "revenue_lost",
            "churned",
            "returned",
            "churn_rate",
        ]
    ]


def _normal_reason(values: pd.Series) -> pd.Series:
    """Reasons as written in the data, trimmed and lower-cased, spaces as ``_``."""
    return values.astype("string").str.strip().str.lower().str.replace(r"\s+", "_", regex=True)


def _candidates(
    interactions: pd.DataFrame | None,
    proposals: pd.DataFrame | None,
    surveys: pd.DataFrame | None,
    low_score: float,
) -> pd.DataFrame:
    """Every recorded hint of a reason: account, date, reason, priority, source."""
    parts = []
    if interactions is not None and "reason" in interactions:
        given = interactions[interactions["reason"].notna()]
        given = given[_normal_reason(given["reason"]).fillna("") != ""]
        outcome = (
            given["outcome"].astype("string").str.lower().fillna("")
            if "outcome" in given
            else pd.Series("", index=given.index)
        )
        # "account lost", "lost to Adhexa" — but not "not lost"
        recorded = outcome.str.contains(r"(?<!not )\blost\b", regex=True).to_numpy()
        kind = given["type"].astype("string").fillna("interaction").to_numpy()
        parts.append(
            pd.DataFrame(
                {
                    "account_id": given["account_id"].to_numpy(),
                    "date": given["date"].to_numpy(),
                    "reason": _normal_reason(given["reason"]).to_numpy(),
                    "priority": np.where(recorded, 0, 1),
                    "source": np.where(
                        recorded,
                        "interactions: loss recorded",
                        np.char.add("interactions: ", kind.astype(str)),
                    ),
                    "competitor": pd.NA,
                }
            )
        )
    if proposals is not None and "reason" in proposals:
        lost = proposals[
            (proposals["outcome"].astype("string") == "lost") & proposals["reason"].notna()
        ]
        lost = lost[_normal_reason(lost["reason"]).fillna("") != ""]  # a blank reason is none
        when = lost["decided_date"].fillna(lost["date"]) if "decided_date" in lost else lost["date"]
        kind = lost["kind"].astype("string").fillna("proposal") if "kind" in lost else "proposal"
        parts.append(
            pd.DataFrame(
                {
                    "account_id": lost["account_id"].to_numpy(),
                    "date": when.to_numpy(),
                    "reason": _normal_reason(lost["reason"]).to_numpy(),
                    "priority": 2,
                    "source": ("proposals: lost " + pd.Series(kind, index=lost.index)).to_numpy(),
                    "competitor": lost["competitor"].to_numpy() if "competitor" in lost else pd.NA,
                }
            )
        )
    if surveys is not None:
        low = surveys[surveys["score"] <= low_score]
        parts.append(
            pd.DataFrame(
                {
                    "account_id": low["account_id"].to_numpy(),
                    "date": low["date"].to_numpy(),
                    "reason": "dissatisfaction",
                    "priority": 3,
                    "source": ("surveys: score " + low["score"].map("{:g}".format)).to_numpy(),
                    "competitor": pd.NA,
                }
            )
        )
    parts = [p for p in parts if len(p)]
    if not parts:
        return pd.DataFrame(
            columns=["account_id", "date", "reason", "priority", "source", "competitor"]
        )
    return pd.concat(parts, ignore_index=True)


def loss_reasons(
    events: pd.DataFrame,
    *,
    as_of: pd.Timestamp,
    interactions: pd.DataFrame | None = None,
    proposals: pd.DataFrame | None = None,
    surveys: pd.DataFrame | None = None,
    before_days: int = 365,
    after_days: int = 120,
    low_score: float = 5,
) -> pd.DataFrame:
    """The reason behind each loss, from the records around it.

    For each loss the records from ``before_days`` before its last purchase to
    ``after_days`` after its declaration (never after ``as_of``) are searched, in this
    order, and the first that gives a reason is taken (the latest record within each):

    1. an interaction whose outcome says the account was lost, with its reason;
    2. any other interaction with a reason (e.g. a complaint);
    3. a lost proposal with its reason (and the competitor who won it);
    4. a survey score of ``low_score`` or less: ``dissatisfaction``.

    A loss without any of these is ``unexplained``. Reasons are compared trimmed and in
    lower case, with spaces as ``_`` (``Customer closed`` = ``customer_closed``).

    Parameters
    ----------
    events : pandas.DataFrame
        :func:`loss_events`.
    as_of : pandas.Timestamp
        Reference date; records after it are not seen.
    interactions, proposals, surveys : pandas.DataFrame, optional
        The dataset's tables, where present.
    before_days, after_days : int
        The search window around each loss.
    low_score : float, default 5
        A survey score at or below it counts as a reason (0-10 scale).

    Returns
    -------
    pandas.DataFrame
        ``events`` with ``reason``, ``reason_source`` (which record; empty when
        unexplained), ``reason_date`` and ``competitor`` (who won the last lost proposal
        in the window, where recorded).
    """
    as_of = pd.Timestamp(as_of).normalize()
    for name, value in (("before_days", before_days), ("after_days", after_days)):
        if not _whole(value) or value < 0:
            raise ValueError(f"{name} must be a whole number of days ≥ 0, got {value!r}")
    cands = _candidates(interactions, proposals, surveys, low_score)
    cands = cands[cands["date"] < as_of + _DAY]
    ev = events.reset_index(drop=True)
    base = ev["last_purchase"].fillna(ev["lost_on"])
    spans = pd.DataFrame(
        {
            "event": np.arange(len(ev)),
            "account_id": ev["account_id"],
            "from": base - pd.Timedelta(days=int(before_days)),
            "to": (ev["lost_on"] + pd.Timedelta(days=int(after_days))).clip(upper=as_of),
        }
    )
    hits = spans.merge(cands, on="account_id")
    hits = hits[(hits["date"] > hits["from"]) & (hits["date"] <= hits["to"])]
    hits = hits.sort_values(["event", "priority", "date"], ascending=[True, True, False])
    best = hits.drop_duplicates("event").set_index("event").reindex(range(len(ev)))
    rivals = hits[hits["competitor"].notna()].sort_values(
        ["event", "date"], ascending=[True, False]
    )
    rival = rivals.drop_duplicates("event").set_index("event")["competitor"].reindex(range(len(ev)))
    return ev.assign(
        reason=best["reason"].astype(object).fillna("unexplained").to_numpy(),
        reason_source=best["source"].astype(object).fillna("").to_numpy(),
        reason_date=pd.to_datetime(best["date"]).to_numpy(),
        competitor=rival.astype(object).to_numpy(),
    )


def reason_pareto(reasons: pd.DataFrame) -> pd.DataFrame:
    """Losses by reason, most frequent first, with cumulative shares (a Pareto table).

    Parameters
    ----------
    reasons : pandas.DataFrame
        :func:`loss_reasons`.

    Returns
    -------
    pandas.DataFrame
        ``reason``, ``losses``, ``share`` (of all losses), ``cumulative_share`` and
        ``revenue_lost``; ties in ``losses`` by larger revenue lost, then by name.
        ``unexplained`` is a row like the others.
    """
    table = (
        reasons.groupby("reason")
        .agg(losses=("account_id", "size"), revenue_lost=("revenue_lost", "sum"))
        .reset_index()
        .sort_values(["losses", "revenue_lost", "reason"], ascending=[False, False, True])
        .reset_index(drop=True)
    )
    total = table["losses"].sum()
    table["share"] = table["losses"] / total if total else 0.0
    table["cumulative_share"] = table["share"].cumsum()
    return table[["reason", "losses", "share", "cumulative_share", "revenue_lost"]]


def reasons_over_time(reasons: pd.DataFrame, *, freq: str = "half-year") -> pd.DataFrame:
    """How the reasons for losses changed: losses per period and reason.

    Parameters
    ----------
    reasons : pandas.DataFrame
        :func:`loss_reasons`.
    freq : {"half-year", "year", "quarter"}
        Period of the declaration (``lost_on``).

    Returns
    -------
    pandas.DataFrame
        One row per period (``2025-H1``, ``2025``, ``2025Q1``) and one column per reason
        (losses declared in it), reasons ordered as in :func:`reason_pareto`, plus
        ``total``.
    """
    if freq not in ("half-year", "year", "quarter"):
        raise ValueError(f"freq must be 'half-year', 'year' or 'quarter', got {freq!r}")
    lost = reasons["lost_on"]
    if freq == "half-year":
        period = lost.dt.year.astype(str) + np.where(lost.dt.month <= 6, "-H1", "-H2")
    elif freq == "year":
        period = lost.dt.year.astype(str)
    else:
        period = lost.dt.to_period("Q").astype(str)
    order = reason_pareto(reasons)["reason"].tolist()
    table = pd.crosstab(period.rename("period"), reasons["reason"]).reindex(columns=order)
    table = table.fillna(0).astype(np.int64)
    table["total"] = table.sum(axis=1)
    table.columns.name = None
    return table.reset_index()


def account_lifetimes(
    status: pd.DataFrame,
    events: pd.DataFrame,
    *,
    as_of: pd.Timestamp,
    first_orders: pd.Series | None = None,
) -> pd.DataFrame:
    """How long each account has bought from us, and whether it ended in a loss.

    A lifetime runs from the account's first order to the last purchase before its
    first loss (an observed end), or to ``as_of`` (still buying: censored). With
    ``first_orders`` (e.g. ``accounts.first_order_date``) a relationship that began
    before the data is measured from its real start; it *enters* observation when the
    data begin (``entry_years``), which :func:`kaplan_meier` takes into account.

    Parameters
    ----------
    status : pandas.DataFrame
        :func:`loss_status`.
    events : pandas.DataFrame
        :func:`loss_events` of the same rule.
    as_of : pandas.Timestamp
        Reference date.
    first_orders : pandas.Series, optional
        First order date per account (index ``account_id``); used where earlier than
        the first purchase in the data.

    Returns
    -------
    pandas.DataFrame
        ``account_id``, ``start``, ``end``, ``duration_years``, ``entry_years`` and
        ``lost`` (bool), sorted by ``account_id``.
    """
    as_of = pd.Timestamp(as_of).normalize()
    ids = status["account_id"]
    start = status["first_purchase"].to_numpy()
    if first_orders is not None:
        known = pd.to_datetime(first_orders.reindex(ids)).to_numpy()
        start = np.where(pd.notna(known) & (known < start), known, start)
    history_start = np.datetime64(status["first_purchase"].min(), "ns")
    first_loss = events.drop_duplicates("account_id").set_index("account_id").reindex(ids)
    lost = first_loss["lost_on"].notna().to_numpy()
    end = np.where(lost, first_loss["last_purchase"].to_numpy(), np.datetime64(as_of, "ns"))
    year = pd.Timedelta(days=365.25)
    start = np.asarray(start, dtype="datetime64[ns]")
    entry = np.maximum((history_start - start) / year.to_timedelta64(), 0.0)
    return pd.DataFrame(
        {
            "account_id": ids.to_numpy(),
            "start": start,
            "end": end,
            "duration_years": (end.astype("datetime64[ns]") - start) / year.to_timedelta64(),
            "entry_years": np.asarray(entry, dtype=float),
            "lost": lost,
        }
    )


def kaplan_meier(
    lifetimes: pd.DataFrame,
    *,
    duration: str = "duration_years",
    event: str = "lost",
    entry: str | None = "entry_years",
    by: str | None = None,
) -> pd.DataFrame:
    """Kaplan-Meier estimate of the share of accounts still buying after a time.

    ``S(t) = Π (1 − d_i ÷ n_i)`` over the times ``t_i ≤ t`` at which losses happened,
    with ``d_i`` the losses at ``t_i`` and ``n_i`` the accounts *at risk* just before
    it: those observed at that time (entered before ``t_i``) and not yet lost or
    censored. The standard error is Greenwood's, ``S(t) · √Σ d_i ÷ (n_i (n_i − d_i))``;
    the 95 % band is the log-log one, which stays between 0 and 1.

    Parameters
    ----------
    lifetimes : pandas.DataFrame
        One row per account, e.g. :func:`account_lifetimes`.
    duration, event : str
        Columns with the lifetime and whether it ended in a loss (else censored).
    entry : str or None, default "entry_years"
        Column with the time at which the account entered observation (delayed entry);
        ``None`` or a missing column: all entered at 0.
    by : str, optional
        A column to estimate one curve per group (segment, ABC class).

    Returns
    -------
    pandas.DataFrame
        Per group (``group``: the value of ``by``, or ``"all"``) one row at time 0 and
        one per distinct event or censoring time: ``time``, ``at_risk``, ``lost``,
        ``censored``, ``survival``, ``std_err``, ``lower``, ``upper``.
    """
    for col in [duration, event] + ([by] if by else []):
        if col not in lifetimes:
            raise ValueError(
                f"kaplan_meier needs the column {col!r}; found: {', '.join(map(str, lifetimes.columns))}"
            )
    unknown = lifetimes[event].isna()
    if unknown.any():
        raise ValueError(
            f"kaplan_meier: column {event!r} is empty in {int(unknown.sum())} row(s) (rows "
            f"{', '.join(map(str, np.flatnonzero(unknown.to_numpy())[:5]))}); it must say for "
            "every lifetime whether it ended in a loss (True) or is still running (False)"
        )
    frame = pd.DataFrame(
        {
            "group": lifetimes[by].astype(object).to_numpy() if by else "all",
            "time": lifetimes[duration].to_numpy(dtype=float),
            "lost": lifetimes[event].to_numpy(dtype=bool),
            "entry": (
                lifetimes[entry].to_numpy(dtype=float)
                if entry and entry in lifetimes
                else np.zeros(len(lifetimes))
            ),
        }
    )
    bad = frame["time"].isna() | (frame["time"] < frame["entry"])
    if bad.any():
        raise ValueError(
            f"kaplan_meier: {int(bad.sum())} lifetime(s) missing or shorter than their entry "
            f"time (rows {', '.join(map(str, np.flatnonzero(bad.to_numpy())[:5]))}); "
            "check the start and end dates"
        )
    curves = []
    for group, part in frame.groupby("group", sort=True):  # one curve per group
        # a lifetime that ends when it enters observation is never at risk: not counted
        seen = part[part["time"] > part["entry"]]
        counts = (
            seen.assign(censored=~seen["lost"])
            .groupby("time")
            .agg(lost=("lost", "sum"), censored=("censored", "sum"))
        )
        times = counts.index.to_numpy()
        ends = np.sort(part["time"].to_numpy())
        entries = np.sort(part["entry"].to_numpy())
        at_risk = (len(ends) - np.searchsorted(ends, times, "left")) - (
            len(entries) - np.searchsorted(entries, times, "left")
        )
        d = counts["lost"].to_numpy(dtype=float)
        n = at_risk.astype(float)
        with np.errstate(divide="ignore", invalid="ignore"):
            factor = np.where(n > 0, 1 - d / n, 1.0)
            survival = np.cumprod(factor)
            green = np.cumsum(np.where((n > d) & (n > 0), d / (n * (n - d)), 0.0))
            std = survival * np.sqrt(green)
            loglog = np.sqrt(green) / np.abs(np.log(survival))
            centre = np.log(-np.log(survival))
            lower = np.exp(-np.exp(centre + 1.96 * loglog))
            upper = np.exp(-np.exp(centre - 1.96 * loglog))
        lower = np.where(np.isfinite(lower), lower, np.where(survival >= 1, 1.0, 0.0))
        upper = np.where(np.isfinite(upper), upper, np.where(survival >= 1, 1.0, 0.0))
        head = pd.DataFrame(
            {
                "group": [group],
                "time": [0.0],
                "at_risk": [int(((part["entry"] <= 0) & (part["time"] > 0)).sum())],
                "lost": [0],
                "censored": [0],
                "survival": [1.0],
                "std_err": [0.0],
                "lower": [1.0],
                "upper": [1.0],
            }
        )
        body = pd.DataFrame(
            {
                "group": group,
                "time": times,
                "at_risk": at_risk.astype(np.int64),
                "lost": counts["lost"].to_numpy(dtype=np.int64),
                "censored": counts["censored"].to_numpy(dtype=np.int64),
                "survival": survival,
                "std_err": std,
                "lower": lower,
                "upper": upper,
            }
        )
        curves.append(pd.concat([head, body[body["time"] > 0]], ignore_index=True))
    if not curves:
        return pd.DataFrame(
            columns=[
                "group",
                "time",
                "at_risk",
                "lost",
                "censored",
                "survival",
                "std_err",
                "lower",
                "upper",
            ]
        )
    return pd.concat(curves, ignore_index=True)


def _median_lifetime(curve: pd.DataFrame) -> pd.Series:
    """Per group: the first time the survival is 0.5 or less (NaN if never)."""
    below = curve[curve["survival"] <= 0.5]
    return below.groupby("group")["time"].min().reindex(curve["group"].unique())


def win_back_list(
    reasons: pd.DataFrame,
    *,
    as_of: pd.Timestamp,
    approaches: pd.DataFrame | None = None,
    value_weight: float = 0.6,
    accounts: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The lost accounts to win back, most promising first, each with an approach.

    ``priority = 100 × winnable × (value_weight × value + (1 − value_weight) × recency)``

    - ``value``: share of the other lost accounts whose revenue lost is smaller (the
      largest former account scores 1);
    - ``recency``: ``0.5 ** (months since the loss ÷ 12)``: a loss of a year ago counts
      half as much as one of today;
    - ``winnable``: from ``approaches`` by the reason (price 1, customer closed 0).

    Parameters
    ----------
    reasons : pandas.DataFrame
        :func:`loss_reasons`; only losses still open at ``as_of`` are listed.
    as_of : pandas.Timestamp
        Reference date.
    approaches : pandas.DataFrame, optional
        ``reason``, ``winnable`` (0-1), ``approach``; default :data:`WIN_BACK_APPROACHES`.
        A reason missing from it takes the row ``other``.
    value_weight : float, default 0.6
        Weight of the former value against recency.
    accounts : pandas.DataFrame, optional
        The ``accounts`` table, for ``name``, ``segment`` and ``account_manager``.

    Returns
    -------
    pandas.DataFrame
        ``rank``, ``account_id`` (``name``, ``segment``, ``account_manager`` where
        known), ``last_purchase``, ``lost_on``, ``months_since_loss``, ``revenue_lost``,
        ``reason``, ``reason_source``, ``winnable``, ``priority``, ``approach``; highest
        priority first, ties by revenue lost then account id.
    """
    if not 0 <= value_weight <= 1:
        raise ValueError(f"value_weight must be between 0 and 1, got {value_weight!r}")
    table = WIN_BACK_APPROACHES if approaches is None else approaches
    missing = [c for c in ("reason", "winnable", "approach") if c not in table]
    if missing:
        raise ValueError(
            f"approaches needs the columns reason, winnable, approach; missing: {', '.join(missing)}"
        )
    if "other" not in set(table["reason"]):
        raise ValueError("approaches needs a row 'other' for reasons it does not list")
    as_of = pd.Timestamp(as_of).normalize()
    lost = reasons[reasons["still_lost"]].drop_duplicates("account_id", keep="last")
    rows = table.set_index("reason")
    known = lost["reason"].where(lost["reason"].isin(rows.index), "other")
    months = (as_of - lost["lost_on"]).dt.days / _MONTH_DAYS
    value = rank_score(lost["revenue_lost"].reset_index(drop=True)).to_numpy()
    recency = 0.5 ** (months.to_numpy() / 12)
    winnable = rows["winnable"].reindex(known).to_numpy(dtype=float)
    out = pd.DataFrame(
        {
            "account_id": lost["account_id"].to_numpy(),
            "last_purchase": lost["last_purchase"].to_numpy(),
            "lost_on": lost["lost_on"].to_numpy(),
            "months_since_loss": months.to_numpy(),
            "revenue_lost": lost["revenue_lost"].to_numpy(),
            "reason": lost["reason"].to_numpy(),
            "reason_source": lost["reason_source"].to_numpy(),
            "winnable": winnable,
            "priority": 100 * winnable * (value_weight * value + (1 - value_weight) * recency),
            "approach": rows["approach"].reindex(known).to_numpy(),
        }
    )
    if accounts is not None:
        extra = [c for c in ("name", "segment", "account_manager") if c in accounts]
        info = accounts.set_index("account_id")[extra].reindex(out["account_id"])
        for pos, col in enumerate(extra, start=1):
            out.insert(pos, col, info[col].to_numpy())
    out = out.sort_values(
        ["priority", "revenue_lost", "account_id"], ascending=[False, False, True], kind="stable"
    ).reset_index(drop=True)
    out.insert(0, "rank", np.arange(1, len(out) + 1))
    return out


def returned_accounts(
    events: pd.DataFrame,
    transactions: pd.DataFrame,
    *,
    as_of: pd.Timestamp,
    interactions: pd.DataFrame | None = None,
    proposals: pd.DataFrame | None = None,
    lookback_days: int = 120,
) -> pd.DataFrame:
    """The lost accounts that came back, and what preceded their return.

    Parameters
    ----------
    events : pandas.DataFrame
        :func:`loss_events` (losses with a ``returned_on`` are listed).
    transactions : pandas.DataFrame
        Invoice lines, for the revenue since the return.
    as_of : pandas.Timestamp
        Reference date.
    interactions, proposals : pandas.DataFrame, optional
        Records searched in the ``lookback_days`` before the return.
    lookback_days : int, default 120
        How far before the return to look.

    Returns
    -------
    pandas.DataFrame
        ``account_id``, ``last_purchase``, ``lost_on``, ``returned_on``,
        ``months_away`` (last purchase to return), ``revenue_lost``,
        ``revenue_since_return`` (net, to ``as_of``) and ``preceded_by`` (the kinds of
        record before the return, e.g. ``visit: won back, offer: won``; ``nothing
        recorded`` when there are none), newest return first.
    """
    as_of = pd.Timestamp(as_of).normalize()
    back = events[events["returned_on"].notna()].reset_index(drop=True)
    daily = _daily(transactions, as_of)
    code = pd.Index(daily.accounts).get_indexer(back["account_id"])
    returned_day = _days(back["returned_on"].to_numpy())
    since = daily.window_sum(code, returned_day - 1, np.full(len(back), _day(as_of)))
    labels = []
    if interactions is not None:
        outcome = (
            interactions["outcome"].astype("string").fillna("")
            if "outcome" in interactions
            else pd.Series("", index=interactions.index)
        )
        text = interactions["type"].astype("string") + np.where(outcome != "", ": ", "") + outcome
        labels.append(
            pd.DataFrame(
                {
                    "account_id": interactions["account_id"],
                    "date": interactions["date"],
                    "label": text,
                }
            )
        )
    if proposals is not None:
        kind = (
            proposals["kind"].astype("string").fillna("proposal")
            if "kind" in proposals
            else "proposal"
        )
        text = kind + ": " + proposals["outcome"].astype("string")
        labels.append(
            pd.DataFrame(
                {"account_id": proposals["account_id"], "date": proposals["date"], "label": text}
            )
        )
    preceded = np.full(len(back), "nothing recorded", dtype=object)
    if labels and len(back):
        records = pd.concat(labels, ignore_index=True)
        spans = pd.DataFrame(
            {
                "event": np.arange(len(back)),
                "account_id": back["account_id"],
                "from": back["returned_on"] - pd.Timedelta(days=int(lookback_days)),
                "to": back["returned_on"],
            }
        )
        hits = spans.merge(records, on="account_id")
        hits = hits[(hits["date"] > hits["from"]) & (hits["date"] <= hits["to"])]
        if len(hits):
            mask = pd.crosstab(hits["event"], hits["label"].astype(str)).reindex(
                range(len(back)), fill_value=0
            )
            joined = join_where(mask.to_numpy() > 0, mask.columns.to_numpy())
            preceded = np.where(joined == "", "nothing recorded", joined).astype(object)
    out = pd.DataFrame(
        {
            "account_id": back["account_id"].to_numpy(),
            "last_purchase": back["last_purchase"].to_numpy(),
            "lost_on": back["lost_on"].to_numpy(),
            "returned_on": back["returned_on"].to_numpy(),
            "months_away": (
                (back["returned_on"] - back["last_purchase"]).dt.days / _MONTH_DAYS
            ).to_numpy(),
            "revenue_lost": back["revenue_lost"].to_numpy(),
            "revenue_since_return": since,
            "preceded_by": preceded,
        }
    )
    return out.sort_values(
        ["returned_on", "account_id"], ascending=[False, True], kind="stable"
    ).reset_index(drop=True)


def _money(value: float, currency: str) -> str:
    return f"{value:,.0f} {currency}".strip()


def describe_loss_status(
    status: pd.DataFrame, *, rule: LossRule | str | None = None, currency: str = "EUR"
) -> str:
    """One sentence: how many accounts are lost under the rule, and what they were worth."""
    rule = _rule(rule)
    lost = status[status["status"] == "lost"]
    back = int(status["came_back"].sum())
    return (
        f"With the rule *{rule.describe()}*, **{len(lost)} of {len(status)}** accounts are lost, "
        f"with {_money(lost['revenue_lost'].sum(), currency)} of revenue in the 12 months before "
        f"their loss; {back} account(s) lost earlier came back."
    )


def describe_back_test(result: BackTest, *, max_false_alarm_share: float | None = None) -> str:
    """Two sentences on a back-test: the range of false alarms, then the range of delays
    or, with ``max_false_alarm_share``, the shortest setting that stays within it."""
    s = result.summary
    if result.start > result.end:
        return (
            f"The history is too short to judge the settings: a declaration is judged "
            f"{result.horizon_months} months after it, so only those up to {result.end:%d %b %Y} "
            f"count, but the slowest setting cannot declare a loss before {result.start:%d %b %Y}. "
            "Try shorter settings or a shorter horizon."
        )
    if s["declared"].sum() == 0:
        return (
            f"No loss was declared between {result.start:%d %b %Y} and {result.end:%d %b %Y}: "
            "the history is too short or too steady to judge the settings."
        )
    low = s.loc[s["false_alarm_share"].idxmin()]
    hi = s.loc[s["false_alarm_share"].idxmax()]
    text = (
        f"Judged on the losses declared from {result.start:%b %Y} to {result.end:%b %Y}: "
        f"false alarms range from {low['false_alarm_share']:.0%} (setting {low['setting']:g}) "
        f"to {hi['false_alarm_share']:.0%} (setting {hi['setting']:g})."
    )
    if max_false_alarm_share is None:
        delays = s.dropna(subset=["median_delay_months"])
        if len(delays) > 1:
            fast = delays.loc[delays["median_delay_months"].idxmin()]
            slow = delays.loc[delays["median_delay_months"].idxmax()]
            text += (
                f" The median delay runs from {fast['median_delay_months']:.1f} months (setting "
                f"{fast['setting']:g}) to {slow['median_delay_months']:.1f} months (setting "
                f"{slow['setting']:g}): a rule that waits longer is wrong less often, and later."
            )
        return text
    ok = s[(s["declared"] > 0) & (s["false_alarm_share"] <= max_false_alarm_share)]
    if len(ok):
        first = ok.iloc[0]
        delay = first["median_delay_months"]
        noticed = (
            ""
            if pd.isna(delay)
            else f", noticing a loss {delay:.1f} months after the last order (median)"
        )
        text += (
            f" The first setting with at most {max_false_alarm_share:.0%} false alarms is "
            f"**{first['setting']:g}**{noticed}."
        )
    else:
        text += f" No setting keeps false alarms at or below {max_false_alarm_share:.0%}."
    return text


def describe_dynamics(dynamics: pd.DataFrame, *, currency: str = "EUR") -> str:
    """One sentence on the losses per period: total, churn rate, worst period, returns."""
    whole = dynamics[~dynamics["partial"]]
    if whole.empty:
        return "No complete period yet: the history is too short for the dynamics of losses."
    per = whole.groupby("period", sort=False).agg(
        lost=("lost", "sum"),
        churned=("churned", "sum"),
        active=("active_at_start", "sum"),
        revenue=("revenue_lost", "sum"),
        back=("returned", "sum"),
    )
    rate = per["churned"] / per["active"].where(per["active"] > 0)
    worst = rate.idxmax() if rate.notna().any() else None
    text = (
        f"Over {len(per)} complete periods, {int(per['lost'].sum())} losses were declared "
        f"({_money(per['revenue'].sum(), currency)} of revenue lost), and lost accounts came "
        f"back {int(per['back'].sum())} times; the churn rate averaged {rate.mean():.1%} per period"
    )
    if worst is not None:
        text += f", highest in {worst} ({rate[worst]:.1%})"
    return text + "."


def describe_reasons(pareto: pd.DataFrame) -> str:
    """One sentence: the leading reasons and how many losses are unexplained."""
    total = int(pareto["losses"].sum())
    if total == 0:
        return "No loss to explain."
    known = pareto[pareto["reason"] != "unexplained"]
    unexplained = total - int(known["losses"].sum())
    if known.empty:
        return f"None of the {total} losses has a recorded reason: record why accounts leave (interactions.reason)."
    top = known.head(3)
    text = (
        f"The leading recorded reason is **{top.iloc[0]['reason']}** ({int(top.iloc[0]['losses'])} of {total} "
        f"losses); {', '.join(top['reason'])} together explain {top['losses'].sum() / total:.0%}."
    )
    return text + f" {unexplained} loss(es) ({unexplained / total:.0%}) have no recorded reason."


def describe_survival(curve: pd.DataFrame) -> str:
    """One sentence: the median lifetime per group (or that it is not reached)."""
    medians = _median_lifetime(curve)
    parts = []
    for group, value in medians.items():
        span = curve.loc[curve["group"] == group, "time"].max()
        last = curve.loc[curve["group"] == group, "survival"].iloc[-1]
        parts.append(
            f"{group}: {value:.1f} years"
            if pd.notna(value)
            else f"{group}: over {span:.1f} years ({last:.0%} still buying at the end)"
        )
    return "Median account lifetime — " + "; ".join(parts) + "."


def describe_win_back(win_back: pd.DataFrame, *, currency: str = "EUR") -> str:
    """One sentence: how many accounts to win back, their worth, and the first on the list."""
    if win_back.empty:
        return "No lost account to win back."
    worth = win_back[win_back["winnable"] > 0]
    first = win_back.iloc[0]
    name = f"{first['name']} ({first['account_id']})" if "name" in win_back else first["account_id"]
    return (
        f"{len(worth)} lost account(s) are worth winning back, {_money(worth['revenue_lost'].sum(), currency)} "
        f"a year before they left. First: **{name}**, lost for {first['reason']}: {first['approach']}"
    )


def describe_at_risk(at_risk: pd.DataFrame, *, currency: str = "EUR") -> str:
    """One sentence: how many active accounts are at risk and the revenue at stake."""
    if at_risk.empty:
        return "No active account is past its usual interval or falling."
    first = at_risk.iloc[0]
    return (
        f"**{len(at_risk)}** active accounts are at risk, with {_money(at_risk['revenue_at_stake'].sum(), currency)} "
        f"of revenue at stake; the largest is {first['account_id']} ({first['why']})."
    )
