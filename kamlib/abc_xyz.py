"""ABC-XYZ analysis of customers, computed from raw invoice lines.

**ABC** ranks accounts by a measure (revenue, margin or quantity) over a window
ending at ``as_of`` and cuts the cumulative share: by default A up to 80 %, B
up to 95 %, C the rest. The rule at the boundary: an account is A when the
accounts ranked before it make *less* than the A cut-off, so the account that
crosses 80 % is still A, and an account larger than the cut-off on its own is
A. Ties are ranked by account id (ascending), so the order is stable.

**XYZ** groups accounts by how regularly they buy, per period (month or
quarter, anchored at ``as_of``) of the same window, with one of three methods:

``cv``
    coefficient of variation (population standard deviation / mean) of the
    per-period purchases. X: cv ≤ 0.5, Y: cv ≤ 1.0, Z: above.
``frequency``
    share of periods with a purchase, and the regularity of the gaps between
    purchases (cv of the gaps, in periods). X: share ≥ 0.75 and gap cv ≤ 0.5,
    Y: share ≥ 0.4, Z: the rest.
``sbc``
    Syntetos-Boylan: ADI (average periods per purchase) and CV² of the
    non-zero purchases. smooth (ADI < 1.32, CV² < 0.49) → X; erratic (ADI <
    1.32) and intermittent (CV² < 0.49) → Y; lumpy → Z (see :data:`SBC_TO_XYZ`).

Zero periods count only within the account's **active span**: from its first
purchase (``first_purchase`` if given, else its first line in the window, a
credit note included, since it shows the account bought before) to ``as_of``; ``span="window"`` counts every period of the window. An account
whose span has fewer than ``min_periods`` periods is class ``N`` (not enough
history to judge), not Z. A period whose net purchases are negative (credit
notes) counts as zero.

Every function takes the invoice lines and returns a new DataFrame; nothing is
modified, nothing is printed. Computation is whole-array NumPy on an
account × period matrix, so ten million lines take about a second.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from kamlib.dates import window

__all__ = [
    "ABC_XYZ_PLAYBOOK",
    "MEASURES",
    "SBC_TO_XYZ",
    "XYZ_DEFAULTS",
    "ClassificationWarning",
    "Migration",
    "abc_classes",
    "abc_xyz",
    "abc_xyz_matrix",
    "describe_abc",
    "describe_matrix",
    "describe_migration",
    "describe_xyz",
    "first_purchases",
    "migration",
    "transition_matrix",
    "xyz_classes",
]

#: The measures ABC can rank by, and the transaction column each uses.
MEASURES = {"revenue": "amount", "margin": "margin", "quantity": "quantity"}

#: Default XYZ cut-offs per method (override any of them with ``xyz_cutoffs``).
XYZ_DEFAULTS: dict[str, dict[str, float]] = {
    "cv": {"x": 0.5, "y": 1.0},
    "frequency": {"x": 0.75, "y": 0.4, "gap_cv": 0.5},
    "sbc": {"adi": 1.32, "cv2": 0.49},
}

#: How the Syntetos-Boylan demand patterns map to XYZ classes.
SBC_TO_XYZ = {"smooth": "X", "erratic": "Y", "intermittent": "Y", "lumpy": "Z"}

#: The recommended way of working per cell. Edit it to fit your company: the
#: notebook and the exports show whatever this table says.
ABC_XYZ_PLAYBOOK = pd.DataFrame(
    [
        (
            "AX",
            "Protect and plan",
            "Key-account treatment: joint planning, long-term contracts, regular top-level contact, priority in production and dispatch.",
        ),
        (
            "AY",
            "Secure and smooth",
            "Key-account treatment; agree forecasts and call-off orders to smooth the swings; keep safety stock for them.",
        ),
        (
            "AZ",
            "Understand and bind",
            "Find out why big orders come irregularly (projects, tenders); get into their planning early; frame agreements.",
        ),
        (
            "BX",
            "Grow share of wallet",
            "Reliable, steady buyers: cross-sell, raise share of wallet, consider for key-account status.",
        ),
        (
            "BY",
            "Develop",
            "Regular visits and offers; standardise ordering (e-shop, standing orders).",
        ),
        (
            "BZ",
            "Qualify",
            "Check potential: is the irregularity their business or our position? Proposals and tenders where worth it.",
        ),
        (
            "CX",
            "Serve efficiently",
            "Small but steady: automate (e-shop, direct debit), inside sales, standard prices.",
        ),
        ("CY", "Serve at low cost", "Inside sales and standard offers; bundle deliveries."),
        (
            "CZ",
            "Minimise cost to serve",
            "Serve at lowest cost: minimum order values, no field visits, distributor or e-shop only.",
        ),
    ],
    columns=["cell", "strategy", "how to work"],
)


class ClassificationWarning(UserWarning):
    """Something about the data the classification could not treat as usual."""


def _require(transactions: pd.DataFrame, columns: list[str], what: str) -> None:
    missing = [c for c in columns if c not in transactions.columns]
    if missing:
        raise ValueError(
            f"{what} needs the column(s) {', '.join(missing)} in transactions; found: "
            f"{', '.join(map(str, transactions.columns))}"
            + (
                ". Margin needs `margin` or `cost` in the data; use measure='revenue' otherwise"
                if "margin" in missing
                else ""
            )
        )


def _measure_column(measure: str) -> str:
    if measure not in MEASURES:
        raise ValueError(f"measure must be one of {', '.join(MEASURES)}, got {measure!r}")
    return MEASURES[measure]


def _check_cutoffs(cutoffs: tuple[float, float]) -> tuple[float, float]:
    try:
        a, b = (float(c) for c in cutoffs)
    except (TypeError, ValueError):
        raise ValueError(
            f"abc cut-offs must be two numbers like (0.8, 0.95), got {cutoffs!r}"
        ) from None
    if not 0 < a < b <= 1:
        hint = " (give fractions: 0.8, not 80)" if a > 1 or b > 1 else ""
        raise ValueError(f"abc cut-offs must satisfy 0 < A < B ≤ 1, got A={a:g}, B={b:g}{hint}")
    return a, b


@dataclass(frozen=True)
class _Grid:
    """Purchases per account and period in one window (accounts sorted by id)."""

    accounts: np.ndarray  # account ids, ascending
    values: np.ndarray  # accounts x periods, net measure per period (period 0 = latest)
    first_period: np.ndarray  # per account: index of its earliest period with a line
    edges: np.ndarray  # period boundaries (days), oldest first; period k ends at edges[-1 - k]

    def period_of(self, days: np.ndarray) -> np.ndarray:
        """Period of each day, counted back from the window's end (0 = the latest).

        Period ``k`` is (end - (k+1) periods, end - k periods]; days before the window
        fall in the oldest period, days after it in period 0.
        """
        n_periods = len(self.edges) - 1
        return np.clip(n_periods - np.searchsorted(self.edges, days, side="left"), 0, n_periods - 1)


def _grid(
    transactions: pd.DataFrame,
    *,
    as_of: pd.Timestamp,
    months: int,
    column: str,
    grain: str,
    lag: int = 0,
) -> _Grid:
    if grain not in ("month", "quarter"):
        raise ValueError(f"grain must be 'month' or 'quarter', got {grain!r}")
    step = 1 if grain == "month" else 3
    if months < 1 or months % step:
        raise ValueError(f"the window must be a positive number of {grain}s, got {months} months")
    as_of = pd.Timestamp(as_of)
    start, end = window(as_of, months=months, lag=lag)
    dates = transactions["date"]
    # whole days: a line at 15:00 on as_of is in, one at 15:00 on the start day is out
    day = pd.Timedelta(days=1)
    in_window = ((dates >= start + day) & (dates < end + day)).to_numpy()
    n_periods = months // step
    codes, accounts = pd.factorize(transactions["account_id"][in_window], sort=True)
    edges = np.array(
        [np.datetime64(end - pd.DateOffset(months=k * step), "D") for k in range(n_periods, -1, -1)]
    )
    grid = _Grid(accounts, np.empty((0, n_periods)), np.empty(0, dtype=int), edges)
    period = grid.period_of(dates.to_numpy()[in_window].astype("datetime64[D]"))
    flat = codes.astype(np.int64) * n_periods + period
    size = len(accounts) * n_periods
    amounts = transactions[column].to_numpy(dtype=float)[in_window]
    values = np.bincount(flat, weights=amounts, minlength=size)
    values = values.astype(float)  # an empty bincount is int
    has_line = np.bincount(flat, minlength=size) > 0
    values = values.reshape(len(accounts), n_periods)
    has_line = has_line.reshape(len(accounts), n_periods)
    # earliest period with a line = highest period index with a line
    first_period = n_periods - 1 - np.argmax(has_line[:, ::-1], axis=1)
    return _Grid(accounts, values, first_period, edges)


def first_purchases(transactions: pd.DataFrame, *, as_of: pd.Timestamp) -> pd.Series:
    """Date of each account's first purchase up to ``as_of``.

    Returns
    -------
    pandas.Series
        Indexed by ``account_id``, named ``first_purchase``.
    """
    _require(transactions, ["account_id", "date"], "first_purchases")
    lines = transactions[transactions["date"] <= pd.Timestamp(as_of)]
    return lines.groupby("account_id", sort=True)["date"].min().rename("first_purchase")


def _abc_from_totals(
    accounts: np.ndarray, totals: np.ndarray, cutoffs, nonpositive: str, measure: str
):
    """ABC table, and the order of the grid rows it is in (to align the XYZ rows)."""
    a, b = _check_cutoffs(cutoffs)
    if nonpositive not in ("C", "exclude"):
        raise ValueError(f"nonpositive must be 'C' or 'exclude', got {nonpositive!r}")
    positive = totals > 0
    n_bad = int((~positive).sum())
    if n_bad:
        fate = "put in class C" if nonpositive == "C" else "left out"
        warnings.warn(
            f"{n_bad} account{'s' if n_bad != 1 else ''} with zero or negative {measure} in the "
            f"window (credit notes exceeding purchases) {'was' if n_bad == 1 else 'were'} {fate}.",
            ClassificationWarning,
            stacklevel=3,
        )
    # positive totals first, largest first; accounts are sorted by id already and
    # lexsort is stable, so ties keep id order
    order = np.lexsort((-totals, ~positive))
    if nonpositive == "exclude":
        order = order[positive[order]]
    value = totals[order]
    total = totals[positive].sum()
    share = value / total if total > 0 else np.zeros_like(value)
    contribution = np.where(value > 0, share, 0.0)
    cumulative = np.cumsum(contribution)
    # compare sums of values, not sums of shares, with a tolerance for float rounding:
    # predecessors making exactly the cut-off (70 + 10 of 100 at 80 %) mean B, not A
    running = np.cumsum(np.where(value > 0, value, 0.0))
    before = running - np.where(value > 0, value, 0.0)
    tolerance = 1e-9 * total
    abc = np.where(
        before < a * total - tolerance, "A", np.where(before < b * total - tolerance, "B", "C")
    )
    abc = np.where(value > 0, abc, "C")
    frame = pd.DataFrame(
        {
            "account_id": accounts[order],
            "value": value,
            "share": share,
            "cumulative_share": cumulative,
            "rank": np.arange(1, len(order) + 1),
            "abc": abc,
        }
    )
    return frame, order


def abc_classes(
    transactions: pd.DataFrame,
    *,
    as_of: pd.Timestamp,
    months: int = 12,
    measure: str = "revenue",
    cutoffs: tuple[float, float] = (0.8, 0.95),
    nonpositive: str = "C",
) -> pd.DataFrame:
    """ABC class of every account that bought in the window ending at ``as_of``.

    Parameters
    ----------
    transactions : pandas.DataFrame
        Invoice lines with ``account_id``, ``date`` and the measure's column.
    as_of : Timestamp
        Last day of the window (inclusive).
    months : int, default 12
        Length of the window; lines with ``as_of - months < date <= as_of`` count.
    measure : {"revenue", "margin", "quantity"}
        What to rank by: ``amount``, ``margin`` or ``quantity`` (e.g. kg).
    cutoffs : (float, float), default (0.8, 0.95)
        Cumulative shares that end A and B. An account is A while the accounts
        ranked before it make less than the first cut-off (so the account that
        crosses it is A), B while they make less than the second.
    nonpositive : {"C", "exclude"}
        What to do with accounts whose net total is zero or negative: class C
        (ranked last) or left out. Either way a :class:`ClassificationWarning`
        counts them.

    Returns
    -------
    pandas.DataFrame
        One row per account, largest first (ties by ``account_id``): ``account_id``,
        ``value`` (net measure in the window), ``share`` (of the positive total),
        ``cumulative_share`` (up to and including this account), ``rank`` (1 =
        largest), ``abc`` ("A", "B" or "C").
    """
    column = _measure_column(measure)
    _require(transactions, ["account_id", "date", column], f"ABC by {measure}")
    grid = _grid(transactions, as_of=as_of, months=months, column=column, grain="month")
    return _abc_from_totals(grid.accounts, grid.values.sum(axis=1), cutoffs, nonpositive, measure)[
        0
    ]


def _xyz_cutoffs(method: str, overrides: Mapping[str, float] | None) -> dict[str, float]:
    if method not in XYZ_DEFAULTS:
        raise ValueError(f"xyz method must be one of {', '.join(XYZ_DEFAULTS)}, got {method!r}")
    cut = dict(XYZ_DEFAULTS[method])
    unknown = sorted(set(overrides or {}) - set(cut))
    if unknown:
        raise ValueError(
            f"unknown cut-off(s) {', '.join(unknown)} for method {method!r}; its cut-offs are "
            + ", ".join(f"{k} (default {v:g})" for k, v in XYZ_DEFAULTS[method].items())
        )
    cut.update({k: float(v) for k, v in (overrides or {}).items()})
    if method == "cv" and not 0 <= cut["x"] < cut["y"]:
        raise ValueError(f"cv cut-offs must satisfy 0 ≤ x < y, got x={cut['x']:g}, y={cut['y']:g}")
    if method == "frequency" and cut["gap_cv"] < 0:
        raise ValueError(f"frequency gap_cv cut-off must be ≥ 0, got {cut['gap_cv']:g}")
    if method == "sbc" and (cut["adi"] < 1 or cut["cv2"] < 0):
        raise ValueError(
            f"sbc cut-offs must satisfy adi ≥ 1 (periods per purchase) and cv2 ≥ 0, "
            f"got adi={cut['adi']:g}, cv2={cut['cv2']:g}"
        )
    if method == "frequency" and not 0 <= cut["y"] < cut["x"] <= 1:
        raise ValueError(
            f"frequency cut-offs are shares of periods with a purchase and must satisfy "
            f"0 ≤ y < x ≤ 1, got x={cut['x']:g}, y={cut['y']:g}"
        )
    return cut


def _row_stats(values: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and population std of ``values`` where ``mask``, per row (NaN where empty)."""
    n = mask.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(mask, values, 0).sum(axis=1) / n
        var = np.where(mask, (values - mean[:, None]) ** 2, 0).sum(axis=1) / n
    return mean, np.sqrt(var)


def _gap_cv(buys: np.ndarray) -> np.ndarray:
    """CV of the gaps (in periods) between consecutive purchases, per row; NaN with < 2 gaps."""
    rows, cols = np.nonzero(buys)
    same = rows[1:] == rows[:-1]
    gap_rows = rows[1:][same]
    gaps = np.diff(cols)[same].astype(float)
    n_rows = buys.shape[0]
    count = np.bincount(gap_rows, minlength=n_rows)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.bincount(gap_rows, weights=gaps, minlength=n_rows) / count
        sq = np.bincount(gap_rows, weights=(gaps - mean[gap_rows]) ** 2, minlength=n_rows) / count
        cv = np.sqrt(sq) / mean
    return np.where(count >= 2, cv, np.nan)


def _xyz_from_grid(
    grid: _Grid,
    *,
    method: str,
    cutoffs: Mapping[str, float] | None,
    min_periods: int | None,
    span: str,
    first_purchase: pd.Series | None,
) -> pd.DataFrame:
    cut = _xyz_cutoffs(method, cutoffs)
    if span not in ("active", "window"):
        raise ValueError(f"span must be 'active' or 'window', got {span!r}")
    n_acc, n_periods = grid.values.shape
    if min_periods is None:
        min_periods = max(1, n_periods // 2)
    if min_periods < 1:
        raise ValueError(f"min_periods must be at least 1, got {min_periods}")
    # periods in the span, as a count back from as_of (period 0)
    if span == "window":
        span_periods = np.full(n_acc, n_periods)
    else:
        start_period = grid.first_period
        if first_purchase is not None:
            known = pd.to_datetime(pd.Series(first_purchase).reindex(grid.accounts).to_numpy())
            p = grid.period_of(known.to_numpy().astype("datetime64[D]"))
            start_period = np.maximum(start_period, np.where(known.isna(), start_period, p))
        span_periods = start_period + 1
    in_span = np.arange(n_periods)[None, :] < span_periods[:, None]
    values = np.clip(grid.values, 0, None)
    buys = (values > 0) & in_span
    active = buys.sum(axis=1)
    mean, std = _row_stats(values, in_span)
    with np.errstate(invalid="ignore", divide="ignore"):
        cv = np.where(mean > 0, std / mean, np.nan)
        share = active / span_periods
        adi = np.where(active > 0, span_periods / active, np.inf)
        nz_mean, nz_std = _row_stats(values, buys)
        cv2 = np.where(active > 0, (nz_std / nz_mean) ** 2, np.nan)
    gap_cv = _gap_cv(buys)
    pattern = np.select(
        [
            (adi < cut.get("adi", 1.32)) & (cv2 < cut.get("cv2", 0.49)),
            adi < cut.get("adi", 1.32),
            cv2 < cut.get("cv2", 0.49),
        ],
        ["smooth", "erratic", "intermittent"],
        "lumpy",
    )
    if method == "cv":
        xyz = np.where(cv <= cut["x"], "X", np.where(cv <= cut["y"], "Y", "Z"))
    elif method == "frequency":
        regular = share >= cut["x"]
        steady = np.nan_to_num(gap_cv, nan=np.inf) <= cut["gap_cv"]
        xyz = np.where(regular & steady, "X", np.where(share >= cut["y"], "Y", "Z"))
    else:
        xyz = pd.Series(pattern).map(SBC_TO_XYZ).to_numpy()
    xyz = np.where(active == 0, "Z", xyz)
    xyz = np.where(span_periods < min_periods, "N", xyz)
    return pd.DataFrame(
        {
            "account_id": grid.accounts,
            "periods": span_periods,
            "active_periods": active,
            "mean": mean,
            "cv": cv,
            "purchase_share": share,
            "gap_cv": gap_cv,
            "adi": adi,
            "cv2": cv2,
            "pattern": pattern,
            "xyz": xyz.astype(object),
        }
    )


def xyz_classes(
    transactions: pd.DataFrame,
    *,
    as_of: pd.Timestamp,
    months: int = 12,
    measure: str = "revenue",
    method: str = "cv",
    cutoffs: Mapping[str, float] | None = None,
    grain: str = "month",
    min_periods: int | None = None,
    span: str = "active",
    first_purchase: pd.Series | None = None,
) -> pd.DataFrame:
    """XYZ class of every account that bought in the window ending at ``as_of``.

    Parameters
    ----------
    transactions : pandas.DataFrame
        Invoice lines with ``account_id``, ``date`` and the measure's column.
    as_of : Timestamp
        Last day of the window.
    months : int, default 12
        Length of the window (a multiple of 3 for ``grain="quarter"``).
    measure : {"revenue", "margin", "quantity"}
        What is summed per period.
    method : {"cv", "frequency", "sbc"}
        How regularity is judged (see the module description).
    cutoffs : mapping, optional
        Overrides of :data:`XYZ_DEFAULTS` for the method, e.g. ``{"x": 0.4}``.
    grain : {"month", "quarter"}
        Period length; periods are counted back from ``as_of``.
    min_periods : int, optional
        Accounts whose active span has fewer periods get class ``N``. Default: half
        the periods of the window (6 months, 2 quarters).
    span : {"active", "window"}
        Count zero periods from the account's first purchase on, or over the whole
        window.
    first_purchase : pandas.Series, optional
        First purchase date per account (index ``account_id``), e.g. from
        :func:`first_purchases` or ``accounts.first_order_date``. Without it the
        active span starts at the first purchase *in the window*.

    Returns
    -------
    pandas.DataFrame
        One row per account, by ``account_id``: ``periods`` (periods in the span),
        ``active_periods`` (periods with a purchase), ``mean`` (per period, in the
        span), ``cv``, ``purchase_share`` (active / periods), ``gap_cv`` (cv of the
        gaps between purchases; NaN with fewer than two gaps), ``adi`` (periods per
        purchase), ``cv2`` (squared cv of the non-zero periods), ``pattern``
        (Syntetos-Boylan: smooth, erratic, intermittent, lumpy) and ``xyz``
        ("X", "Y", "Z" or "N").
    """
    column = _measure_column(measure)
    _require(transactions, ["account_id", "date", column], f"XYZ by {measure}")
    grid = _grid(transactions, as_of=as_of, months=months, column=column, grain=grain)
    return _xyz_from_grid(
        grid,
        method=method,
        cutoffs=cutoffs,
        min_periods=min_periods,
        span=span,
        first_purchase=first_purchase,
    )


def abc_xyz(
    transactions: pd.DataFrame,
    *,
    as_of: pd.Timestamp,
    months: int = 12,
    measure: str = "revenue",
    abc_cutoffs: tuple[float, float] = (0.8, 0.95),
    xyz_method: str = "cv",
    xyz_cutoffs: Mapping[str, float] | None = None,
    grain: str = "month",
    min_periods: int | None = None,
    span: str = "active",
    first_purchase: pd.Series | None = None,
    nonpositive: str = "C",
    lag: int = 0,
) -> pd.DataFrame:
    """ABC and XYZ class of every account in one pass over the lines.

    Parameters are those of :func:`abc_classes` and :func:`xyz_classes`;
    ``lag=1`` classifies the previous window (ending ``months`` before ``as_of``).

    Returns
    -------
    pandas.DataFrame
        The columns of :func:`abc_classes` (largest account first), then ``xyz``,
        ``cell`` (e.g. "AX", "BN") and the XYZ measures of :func:`xyz_classes`.
    """
    column = _measure_column(measure)
    _require(transactions, ["account_id", "date", column], f"ABC-XYZ by {measure}")
    grid = _grid(transactions, as_of=as_of, months=months, column=column, grain=grain, lag=lag)
    abc, order = _abc_from_totals(
        grid.accounts, grid.values.sum(axis=1), abc_cutoffs, nonpositive, measure
    )
    xyz = _xyz_from_grid(
        grid,
        method=xyz_method,
        cutoffs=xyz_cutoffs,
        min_periods=min_periods,
        span=span,
        first_purchase=first_purchase,
    )
    xyz = xyz.take(order).drop(columns="account_id").reset_index(drop=True)
    out = pd.concat([abc, xyz], axis=1)
    out.insert(out.columns.get_loc("abc") + 1, "xyz", out.pop("xyz"))
    out.insert(out.columns.get_loc("xyz") + 1, "cell", out["abc"] + out["xyz"])
    return out


def abc_xyz_matrix(
    classified: pd.DataFrame, *, playbook: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Accounts, value and shares per ABC-XYZ cell, with the way of working for each.

    Parameters
    ----------
    classified : pandas.DataFrame
        The result of :func:`abc_xyz`.
    playbook : pandas.DataFrame, optional
        Columns ``cell``, ``strategy``, ``how to work``; default :data:`ABC_XYZ_PLAYBOOK`.

    Returns
    -------
    pandas.DataFrame
        One row per cell A/B/C × X/Y/Z (and N where any account is N), in that order:
        ``abc``, ``xyz``, ``cell``, ``accounts``, ``value``, ``account_share``,
        ``value_share`` (of the positive total), ``strategy``, ``how to work``.
    """
    playbook = ABC_XYZ_PLAYBOOK if playbook is None else playbook
    xyz_levels = ["X", "Y", "Z"] + (["N"] if (classified["xyz"] == "N").any() else [])
    full = pd.MultiIndex.from_product([["A", "B", "C"], xyz_levels], names=["abc", "xyz"])
    grouped = classified.groupby(["abc", "xyz"], sort=False).agg(
        accounts=("account_id", "size"), value=("value", "sum")
    )
    out = grouped.reindex(full, fill_value=0).reset_index()
    out["accounts"] = out["accounts"].astype(int)
    total_value = classified.loc[classified["value"] > 0, "value"].sum()
    out["account_share"] = out["accounts"] / max(len(classified), 1)
    out["value_share"] = out["value"] / total_value if total_value > 0 else 0.0
    out.insert(2, "cell", out["abc"] + out["xyz"])
    notes = {
        "strategy": "Too little history: watch and decide after more periods.",
        "how to work": "",
    }
    out = out.merge(playbook, on="cell", how="left")
    return out.fillna(notes)


@dataclass(frozen=True)
class Migration:
    """The classification of two consecutive windows and how accounts moved.

    Attributes
    ----------
    current, previous : pandas.DataFrame
        :func:`abc_xyz` for the window ending at ``as_of`` and the one before it.
    moves : pandas.DataFrame
        One row per account in either window: ``account_id``, ``abc_before``,
        ``xyz_before``, ``cell_before``, ``value_before``, ``abc_now``, ``xyz_now``,
        ``cell_now``, ``value_now`` (classes are "—" where the account did not buy in
        that window), ``change`` (value_now - value_before), ``abc_fell``,
        ``xyz_fell`` (bool).
    fallers : pandas.DataFrame
        The rows of ``moves`` that fell (A→B/C, B→C, or an A/B account that stopped
        buying; X→Y/Z, Y→Z), largest ``value_before`` first.
    """

    current: pd.DataFrame
    previous: pd.DataFrame
    moves: pd.DataFrame
    fallers: pd.DataFrame


_RANK = {"A": 0, "B": 1, "C": 2, "—": 3, "X": 0, "Y": 1, "Z": 2, "N": -1}


def migration(
    transactions: pd.DataFrame, *, as_of: pd.Timestamp, months: int = 12, **options
) -> Migration:
    """Classify the window ending at ``as_of`` and the one before it, and compare.

    Parameters
    ----------
    transactions : pandas.DataFrame
        Invoice lines.
    as_of : Timestamp
        End of the current window; the previous window ends ``months`` earlier.
    months : int
        Length of each window.
    **options
        Passed to :func:`abc_xyz` (measure, cut-offs, XYZ method …). ``first_purchase``
        defaults to :func:`first_purchases` of the lines, so that an old account that
        paused is judged on its whole history.

    Returns
    -------
    Migration
    """
    if "lag" in options:
        raise ValueError(
            "migration compares the window ending at as_of with the one before; do not pass lag"
        )
    if options.get("first_purchase") is None:
        # without it, an old account that paused would look new (N) and never count as a faller
        options["first_purchase"] = first_purchases(transactions, as_of=as_of)
    now = abc_xyz(transactions, as_of=as_of, months=months, **options)
    before = abc_xyz(transactions, as_of=as_of, months=months, lag=1, **options)
    cols = ["account_id", "abc", "xyz", "cell", "value"]
    moves = before[cols].merge(
        now[cols], on="account_id", how="outer", suffixes=("_before", "_now")
    )
    for when in ("before", "now"):
        for level in ("abc", "xyz", "cell"):
            moves[f"{level}_{when}"] = moves[f"{level}_{when}"].fillna("—")
        moves[f"value_{when}"] = moves[f"value_{when}"].fillna(0.0)
    moves["change"] = moves["value_now"] - moves["value_before"]
    abc_b, abc_n = moves["abc_before"].map(_RANK), moves["abc_now"].map(_RANK)
    xyz_b, xyz_n = moves["xyz_before"].map(_RANK), moves["xyz_now"].map(_RANK)
    moves["abc_fell"] = (abc_b < abc_n) & moves["abc_before"].isin(["A", "B"])
    moves["xyz_fell"] = (xyz_b >= 0) & (xyz_n >= 0) & (xyz_b < xyz_n) & (moves["xyz_now"] != "—")
    moves = moves.sort_values(
        ["value_before", "account_id"], ascending=[False, True], kind="stable"
    )
    moves = moves.reset_index(drop=True)
    fallers = moves[moves["abc_fell"] | moves["xyz_fell"]].reset_index(drop=True)
    return Migration(current=now, previous=before, moves=moves, fallers=fallers)


def transition_matrix(
    moves: pd.DataFrame, *, level: str = "abc", value: str = "accounts"
) -> pd.DataFrame:
    """Cross-table of classes before (rows) and now (columns).

    Parameters
    ----------
    moves : pandas.DataFrame
        ``Migration.moves``.
    level : {"abc", "xyz", "cell"}
        Which classes to cross.
    value : {"accounts", "value_now", "value_before"}
        Count accounts, or sum a value column.

    Returns
    -------
    pandas.DataFrame
        Rows: class before ("—" = did not buy then), columns: class now; zeros where
        no account moved.
    """
    if level not in ("abc", "xyz", "cell"):
        raise ValueError(f"level must be 'abc', 'xyz' or 'cell', got {level!r}")
    order = {"abc": ["A", "B", "C", "—"], "xyz": ["X", "Y", "Z", "N", "—"]}
    rows, cols = moves[f"{level}_before"], moves[f"{level}_now"]
    if value == "accounts":
        table = pd.crosstab(rows, cols)
    elif value in ("value_now", "value_before"):
        table = pd.crosstab(rows, cols, values=moves[value], aggfunc="sum").fillna(0.0)
    else:
        raise ValueError(f"value must be 'accounts', 'value_now' or 'value_before', got {value!r}")
    if level in order:
        labels = [c for c in order[level] if c in set(rows) | set(cols)]
        table = table.reindex(
            index=labels, columns=labels, fill_value=0 if value == "accounts" else 0.0
        )
    table.index.name, table.columns.name = "before", "now"
    return table


def _pct(x: float) -> str:
    return f"{x:.0%}"


def describe_abc(classified: pd.DataFrame, *, measure: str = "revenue") -> str:
    """One sentence on an ABC result: how few accounts make how much."""
    if classified.empty:
        return "No account bought in this window."
    n = len(classified)
    parts = []
    for cls in ("A", "B", "C"):
        rows = classified[classified["abc"] == cls]
        share = rows.loc[rows["value"] > 0, "share"].sum()
        parts.append(
            f"{len(rows)} {cls} account{'s' if len(rows) != 1 else ''} ({_pct(len(rows) / n)}) make {_pct(share)}"
        )
    return f"Of {n} accounts that bought in the window, " + "; ".join(parts) + f" of {measure}."


def describe_xyz(classified: pd.DataFrame, *, method: str = "cv") -> str:
    """One sentence on an XYZ result."""
    if classified.empty:
        return "No account bought in this window."
    counts = classified["xyz"].value_counts()
    n = len(classified)
    words = {
        "X": "buy regularly (X)",
        "Y": "fluctuate (Y)",
        "Z": "buy irregularly (Z)",
        "N": "have too little history to judge (N)",
    }
    parts = [
        f"{counts.get(c, 0)} ({_pct(counts.get(c, 0) / n)}) {words[c]}"
        for c in "XYZN"
        if counts.get(c, 0)
    ]
    return f"By the {method} method, " + ", ".join(parts) + "."


def describe_matrix(matrix: pd.DataFrame) -> str:
    """One sentence on the matrix: the cell with most of the measure, and AX."""
    if matrix["accounts"].sum() == 0:
        return "No account bought in this window."
    top = matrix.sort_values(["value_share", "cell"], ascending=[False, True]).iloc[0]
    ax = matrix.set_index("cell").loc["AX"]
    core = (
        f"The AX core — large and regular — is {int(ax['accounts'])} accounts with "
        f"{_pct(ax['value_share'])} of the total"
    )
    if top["cell"] == "AX":
        return core + ", the biggest cell."
    return (
        f"{core}; the biggest cell is {top['cell']} ({int(top['accounts'])} accounts, "
        f"{_pct(top['value_share'])})."
    )


def describe_migration(result: Migration, *, unit: str = "") -> str:
    """One sentence on a migration: how many fell, and the value at stake (in ``unit``)."""
    moves = result.moves
    fell_a = moves[moves["abc_fell"] & (moves["abc_before"] == "A")]
    stopped = fell_a[fell_a["abc_now"] == "—"]
    xyz = moves[moves["xyz_fell"]]
    return (
        f"{len(fell_a)} account{'s' if len(fell_a) != 1 else ''} fell out of A "
        f"({len(stopped)} of them stopped buying), worth {fell_a['value_before'].sum():,.0f}{unit} in "
        f"the previous window and {fell_a['value_now'].sum():,.0f}{unit} now; {len(xyz)} became less regular "
        f"(X→Y/Z or Y→Z)."
    )
