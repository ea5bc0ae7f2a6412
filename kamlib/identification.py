"""Key-account identification: criteria, weights, a score that explains itself, selection.

**Criteria.** Each criterion of the domain brief is a row of :data:`CRITERIA`: the
feature of :func:`kamlib.account_features` it reads, and a default weight. The
brief's "with excellent payment habits" is a criterion of its own (``payment``)
so that its weight is visible and can be moved.

**Scaling.** Big numbers must not drown the rest, so every numeric feature is
turned into a percentile score between 0 and 1 (:func:`rank_score`): the share of
the *other* accounts this account beats (has a strictly higher value than). The
largest account scores 1, the smallest 0, equal values score the same. Yes/no
flags score 1 or 0. An account without a value for a feature (e.g. no invoice
due) scores 0 on it: no record, no credit. A new buyer has no growth rate but
ranks above every growth rate.

**Score.** ``score = 100 × Σ weight × criterion score ÷ Σ weight``, between 0 and
100; the ``<criterion>_points`` columns are the terms of that sum, so they add up
to the score and say why an account is where it is.

**Selection** (:func:`select_key_accounts`) goes down the score ranking (ties by
account id) with one explicit rule — the top ``n``, the smallest set reaching a
``target`` share of revenue (the account that crosses the target is in), or a
score ``threshold`` — and never takes more than ``cap`` accounts.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from kamlib._text import join_where

__all__ = [
    "CRITERIA",
    "DEFAULT_WEIGHTS",
    "IdentificationWarning",
    "Selection",
    "criteria_table",
    "criterion_dependence",
    "criterion_scores",
    "describe_scores",
    "describe_selection",
    "describe_stability",
    "rank_score",
    "score_accounts",
    "select_key_accounts",
    "selection_stability",
]

#: The identification criteria: name, the brief's number (§2), the feature read,
#: how it is scaled, the default weight and what it rewards. Weights are parameters
#: (``weights={"payment": 20}``); this table only gives the defaults.
CRITERIA = pd.DataFrame(
    [
        ("revenue", "1", "revenue", "percentile", 25, "Large purchase volume in money."),
        ("margin", "4", "margin", "percentile", 20, "High profitability: gross margin in money."),
        (
            "payment",
            "1-4",
            "on_time_share",
            "percentile",
            10,
            "Excellent payment habits: share of invoices paid on time (cash payers pay at once).",
        ),
        ("quantity", "3", "quantity", "percentile", 10, "Large volume in physical units (kg)."),
        (
            "growth",
            "5",
            "growth",
            "percentile",
            8,
            "Growth against the previous window; new buyers rank highest.",
        ),
        (
            "loyalty",
            "6",
            "purchase_months_share",
            "percentile",
            8,
            "Continuity: share of months with purchases.",
        ),
        ("distributor", "2", "is_distributor", "flag", 5, "Distributor or representative."),
        ("prestige", "9", "is_prestige", "flag", 4, "Prestige name that positions us."),
        (
            "multinational",
            "10",
            "is_multinational",
            "flag",
            3,
            "Multinational that can open doors elsewhere.",
        ),
        (
            "slow_stock",
            "8",
            "slow_moving_revenue",
            "percentile",
            3,
            "Absorbs slow-moving stock: revenue in slow-moving products.",
        ),
        ("test_partner", "7", "is_test_partner", "flag", 2, "Tests products, gives evaluations."),
        ("tenure", "other sources", "tenure_years", "percentile", 2, "Length of the relationship."),
    ],
    columns=["criterion", "brief", "feature", "scaling", "default_weight", "rewards"],
)

#: The default weight of each criterion (they add up to 100).
DEFAULT_WEIGHTS: dict[str, float] = dict(
    zip(CRITERIA["criterion"], CRITERIA["default_weight"].astype(float), strict=True)
)

_FEATURE = dict(zip(CRITERIA["criterion"], CRITERIA["feature"], strict=True))
_FLAG = dict(zip(CRITERIA["criterion"], CRITERIA["scaling"] == "flag", strict=True))
RULES = ("share", "top_n", "threshold")


class IdentificationWarning(UserWarning):
    """A criterion with weight could not be used: the data lack its feature."""


def rank_score(values: pd.Series) -> pd.Series:
    """Percentile score: the share of the other accounts with a strictly lower value.

    ``(rank by 'min' − 1) ÷ (n − 1)``: 1 for the largest, 0 for the smallest, equal
    values get the same score; a single account scores 1; missing values score 0
    and do not count as accounts beaten.

    Returns
    -------
    pandas.Series
        Floats between 0 and 1, same index as ``values``.
    """
    known = values.notna()
    n = int(known.sum())
    if n <= 1:
        return pd.Series(np.where(known, 1.0, 0.0), index=values.index)
    ranks = values.rank(method="min", na_option="keep")
    return ((ranks - 1) / (n - 1)).fillna(0.0)


def _weights(weights: Mapping[str, float] | None) -> dict[str, float]:
    if weights is None:
        return dict(DEFAULT_WEIGHTS)
    if not isinstance(weights, Mapping):
        raise ValueError(f"weights must be a dict like {{'revenue': 30}}, got {weights!r}")
    unknown = [k for k in weights if k not in DEFAULT_WEIGHTS]
    if unknown:
        raise ValueError(
            f"unknown criteria in weights: {', '.join(map(repr, unknown))}; the criteria are "
            f"{', '.join(DEFAULT_WEIGHTS)}"
        )
    bad = {k: v for k, v in weights.items() if not _is_weight(v)}
    if bad:
        raise ValueError(
            f"weights must be numbers of 0 or more, got {bad}; give 0 to switch a criterion off"
        )
    merged = {**DEFAULT_WEIGHTS, **{k: float(v) for k, v in weights.items()}}
    if sum(merged.values()) <= 0:
        raise ValueError("at least one criterion needs a weight above 0")
    return merged


def _is_weight(value) -> bool:
    return (
        isinstance(value, int | float | np.integer | np.floating)
        and not isinstance(value, bool)
        and np.isfinite(value)
        and value >= 0
    )


def _by_id(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows sorted by account id, so that every later tie is broken by the id."""
    return frame.sort_values("account_id", kind="stable").reset_index(drop=True)


def criterion_scores(features: pd.DataFrame) -> pd.DataFrame:
    """Every criterion the features allow, scaled to 0-1.

    Parameters
    ----------
    features : pandas.DataFrame
        ``AccountFeatures.table``.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``account_id`` (ascending), one column per usable
        criterion of :data:`CRITERIA`, values between 0 and 1.
    """
    features = _by_id(features)
    out = {}
    for criterion, feature in _FEATURE.items():
        if feature not in features:
            continue
        values = features[feature]
        if _FLAG[criterion]:
            out[criterion] = values.astype("boolean").fillna(False).astype(float)
        elif criterion == "growth" and "is_new_buyer" in features:
            out[criterion] = rank_score(values.mask(features["is_new_buyer"], np.inf))
        else:
            out[criterion] = rank_score(values.astype(float))
    index = pd.Index(features["account_id"], name="account_id")
    return pd.DataFrame({c: v.to_numpy() for c, v in out.items()}, index=index)


def criteria_table(features: pd.DataFrame, *, weights: Mapping[str, float] | None = None):
    """The criteria with the weights in force and whether the data allow each.

    Returns
    -------
    pandas.DataFrame
        The columns of :data:`CRITERIA`, then ``weight`` (given or default),
        ``share_of_weight`` (of the usable criteria's total) and ``used`` (False
        where the features lack the criterion's column).
    """
    merged = _weights(weights)
    table = CRITERIA.copy()
    table["weight"] = table["criterion"].map(merged)
    table["used"] = table["feature"].isin(features.columns)
    total = table.loc[table["used"], "weight"].sum()
    table["share_of_weight"] = np.where(table["used"], table["weight"] / total, 0.0)
    return table


def _usable(scores: pd.DataFrame, weights: Mapping[str, float] | None) -> pd.Series:
    merged = _weights(weights)
    dropped = [c for c, w in merged.items() if w > 0 and c not in scores]
    if dropped:
        warnings.warn(
            f"criteria left out because the data lack their feature: {', '.join(dropped)} "
            "(see criteria_table)",
            IdentificationWarning,
            stacklevel=3,
        )
    w = pd.Series({c: merged[c] for c in scores.columns}, dtype=float)
    if w.sum() <= 0:
        raise ValueError(
            "every criterion with a weight above 0 lacks its feature in the data; give weight "
            f"to one of: {', '.join(scores.columns)}"
        )
    return w


def score_accounts(
    features: pd.DataFrame, *, weights: Mapping[str, float] | None = None
) -> pd.DataFrame:
    """Weighted key-account score of every account, with each criterion's points.

    Parameters
    ----------
    features : pandas.DataFrame
        ``AccountFeatures.table`` (one row per account).
    weights : dict, optional
        Weight per criterion name (see :data:`CRITERIA`); missing names keep their
        default, 0 switches a criterion off. Only relative sizes matter.

    Returns
    -------
    pandas.DataFrame
        One row per account, best first (ties by ``account_id``): ``account_id``,
        ``name`` (where known), ``revenue``, ``revenue_share``, ``score`` (0-100),
        ``rank`` (1 = best), ``main_criterion`` (the largest contribution), then
        ``<criterion>_points`` per usable criterion with a weight above 0 (they add up to
        ``score``).
    """
    features = _by_id(features)
    scores = criterion_scores(features)
    w = _usable(scores, weights)
    w = w[w > 0]  # a criterion switched off has no points column
    points = scores[w.index] * (100 * w / w.sum())
    out = features[[c for c in ("account_id", "name") if c in features]].copy()
    out["revenue"] = features["revenue"].to_numpy()
    out["revenue_share"] = features["revenue_share"].to_numpy()
    out["score"] = points.sum(axis=1).to_numpy()
    out["main_criterion"] = points.idxmax(axis=1).to_numpy()
    for criterion in points.columns:
        out[f"{criterion}_points"] = points[criterion].to_numpy()
    order = np.argsort(-out["score"].to_numpy(), kind="stable")  # ties keep id order
    out = out.take(order).reset_index(drop=True)
    out.insert(out.columns.get_loc("score") + 1, "rank", np.arange(1, len(out) + 1))
    return out


def _check_rule(rule, target, n, threshold, cap) -> None:
    if rule not in RULES:
        raise ValueError(f"rule must be one of {', '.join(RULES)}, got {rule!r}")
    if rule == "share" and not (target is not None and 0 < target <= 1):
        hint = " (a fraction: 0.5 for half)" if target is not None and target > 1 else ""
        raise ValueError(f"the 'share' rule needs 0 < target ≤ 1, got {target!r}{hint}")
    if rule == "top_n" and not (isinstance(n, int | np.integer) and n >= 1):
        raise ValueError(f"the 'top_n' rule needs n, a whole number of 1 or more, got {n!r}")
    if rule == "threshold" and not (threshold is not None and 0 <= threshold <= 100):
        raise ValueError(f"the 'threshold' rule needs a score from 0 to 100, got {threshold!r}")
    if not (isinstance(cap, int | np.integer) and cap >= 1):
        raise ValueError(f"cap must be a whole number of 1 or more, got {cap!r}")


def _select(scores: np.ndarray, revenue: np.ndarray, rule, target, n, threshold, cap):
    """Key-account mask for each column of ``scores`` (accounts × weight sets)."""
    order = np.argsort(-scores, axis=0, kind="stable")  # ties keep account-id order
    position = np.arange(scores.shape[0])[:, None]
    if rule == "share":
        share = np.clip(revenue, 0, None)
        total = share.sum()
        ranked = share[order] / total if total > 0 else np.zeros(order.shape)
        before = np.cumsum(ranked, axis=0) - ranked
        take = before < target - 1e-12
    elif rule == "top_n":
        take = np.broadcast_to(position < n, order.shape)
    else:
        take = np.take_along_axis(scores, order, axis=0) >= threshold
    take = take & (position < cap)
    mask = np.zeros(scores.shape, dtype=bool)
    np.put_along_axis(mask, order, take, axis=0)
    if rule == "share":  # per column: the cap stopped the set short of the target
        short = (ranked * take).sum(axis=0) < target - 1e-12
    else:
        short = np.zeros(scores.shape[1], dtype=bool)
    return mask, short


@dataclass(frozen=True)
class Selection:
    """The key-account set chosen by one rule.

    Attributes
    ----------
    table : pandas.DataFrame
        :func:`score_accounts`'s table with ``key_account`` (bool) and
        ``cumulative_revenue_share`` (down the score ranking) added.
    key_accounts : pandas.DataFrame
        The rows of ``table`` that are key accounts.
    share : float
        Their share of the revenue of all accounts (positive revenues).
    rule : str
        ``"share"``, ``"top_n"`` or ``"threshold"``, with ``setting`` its value.
    setting : float
    cap : int
    capped : bool
        The cap stopped the rule before it was satisfied.
    warnings : tuple of str
        What a manager should know before serving this set.
    """

    table: pd.DataFrame
    key_accounts: pd.DataFrame
    share: float
    rule: str
    setting: float
    cap: int
    capped: bool
    warnings: tuple[str, ...]


def select_key_accounts(
    scored: pd.DataFrame,
    *,
    rule: str = "share",
    target: float = 0.5,
    n: int | None = None,
    threshold: float | None = None,
    cap: int = 40,
    share_range: tuple[float, float] = (0.30, 0.55),
    max_share_of_accounts: float = 0.15,
    managers: int | None = None,
    per_manager: int = 8,
) -> Selection:
    """Choose the key accounts from a score ranking by one explicit rule, within a cap.

    Parameters
    ----------
    scored : pandas.DataFrame
        :func:`score_accounts`'s result.
    rule : {"share", "top_n", "threshold"}
        ``share``: the smallest set, best score first, whose revenue reaches ``target``
        (the account that crosses it is in); ``top_n``: the ``n`` best; ``threshold``:
        every account scoring at least ``threshold`` (0-100).
    target, n, threshold
        The rule's setting.
    cap : int, default 40
        Never more key accounts than this, whatever the rule.
    share_range : (float, float), default (0.30, 0.55)
        Revenue share key accounts usually make; outside it, a warning.
    max_share_of_accounts : float, default 0.15
        Above this share of all accounts, special treatment is no longer special: a warning.
    managers : int, optional
        Number of account managers; with ``per_manager``, warns when the set needs more
        than ``per_manager`` key accounts each.

    Returns
    -------
    Selection
    """
    _check_rule(rule, target, n, threshold, cap)
    scored = scored.sort_values(["score", "account_id"], ascending=[False, True], kind="stable")
    scored = scored.reset_index(drop=True)
    scores = scored["score"].to_numpy(dtype=float)[:, None]
    revenue = scored["revenue"].to_numpy(dtype=float)
    mask, short = _select(scores, revenue, rule, target, n, threshold, cap)
    mask = mask[:, 0]
    table = scored.copy()
    positive = np.clip(revenue, 0, None)
    total = positive.sum()
    table["cumulative_revenue_share"] = np.cumsum(positive) / total if total > 0 else 0.0
    table["key_account"] = mask
    chosen = table[mask]
    share = float(positive[mask].sum() / total) if total > 0 else 0.0
    wanted_more = {
        "share": bool(short[0]),
        "top_n": rule == "top_n" and n is not None and n > cap and len(table) > cap,
        "threshold": rule == "threshold" and (scores[:, 0] >= (threshold or 0)).sum() > cap,
    }[rule]
    notes = []
    if wanted_more:
        notes.append(
            f"The cap of {cap} accounts stopped the rule before it was met; the {cap} key "
            f"accounts make {share:.0%} of revenue. Raise the cap only if the team can serve more."
        )
    low, high = share_range
    if len(chosen) and not low <= share <= high:
        notes.append(
            f"The key accounts make {share:.0%} of revenue, outside the usual {low:.0%}–{high:.0%}."
        )
    if len(table) and len(chosen) > max_share_of_accounts * len(table):
        notes.append(
            f"{len(chosen)} key accounts are {len(chosen) / len(table):.0%} of all "
            f"{len(table)} accounts: more than {max_share_of_accounts:.0%} is hard to serve as "
            "key accounts."
        )
    if managers and len(chosen) > managers * per_manager:
        notes.append(
            f"{len(chosen)} key accounts for {managers} account managers is "
            f"{len(chosen) / managers:.1f} each; more than {per_manager} each is too many to serve well."
        )
    setting = {"share": target, "top_n": n, "threshold": threshold}[rule]
    return Selection(
        table=table,
        key_accounts=chosen.reset_index(drop=True),
        share=share,
        rule=rule,
        setting=float(setting),
        cap=int(cap),
        capped=wanted_more,
        warnings=tuple(notes),
    )


def _variations(
    features: pd.DataFrame, weights: Mapping[str, float] | None, make
) -> tuple[pd.DataFrame, pd.DataFrame, list[tuple[str, float]]]:
    """Criterion scores, one weight set per column, and a label per column."""
    scores = criterion_scores(features)  # rows by account id
    base = _usable(scores, weights)
    labels, columns = [], []
    for criterion, weight in base.items():
        if weight <= 0:
            continue
        for label, changed in make(criterion, weight):
            varied = base.copy()
            varied[criterion] = changed
            if varied.sum() > 0:
                labels.append(label)
                columns.append(varied / varied.sum())
    matrix = pd.DataFrame(columns, index=range(len(columns))).T if columns else None
    return scores, matrix, labels


def _masks(features, scores, matrix, rule, target, n, threshold, cap) -> np.ndarray:
    points = 100 * scores[matrix.index].to_numpy() @ matrix.to_numpy()
    revenue = features["revenue"].to_numpy(dtype=float)
    return _select(points, revenue, rule, target, n, threshold, cap)[0]


def selection_stability(
    features: pd.DataFrame,
    *,
    weights: Mapping[str, float] | None = None,
    change: float = 0.2,
    rule: str = "share",
    target: float = 0.5,
    n: int | None = None,
    threshold: float | None = None,
    cap: int = 40,
) -> pd.DataFrame:
    """How the key-account list holds when each weight moves by ±``change``.

    Every criterion with a weight is moved down and up by ``change`` (default 20 %),
    one at a time, the others kept; each of these weight sets selects again with the
    same rule. An account in the list under every variation is **always in**; one
    in under some variations only is **at the margin**.

    Returns
    -------
    pandas.DataFrame
        The accounts selected at least once, most often first, then by base score:
        ``account_id``, ``name`` (where known), ``in_base`` (in the list with the
        weights as given), ``selected`` (variations that select it), ``variations``,
        ``share_selected``, ``status`` ("always in" or "at the margin"),
        ``flips_when`` (the variations that drop a key account, or that bring in an
        account outside the list, e.g. "revenue -20%").
    """
    if not 0 < change < 1:
        raise ValueError(f"change must be a fraction between 0 and 1, got {change!r}")
    _check_rule(rule, target, n, threshold, cap)
    features = _by_id(features)

    def both_ways(criterion, weight):
        return [
            (f"{criterion} -{change:.0%}", weight * (1 - change)),
            (f"{criterion} +{change:.0%}", weight * (1 + change)),
        ]

    scores, matrix, labels = _variations(features, weights, both_ways)
    base = select_key_accounts(
        score_accounts(features, weights=weights),
        rule=rule,
        target=target,
        n=n,
        threshold=threshold,
        cap=cap,
    )
    in_base = features["account_id"].isin(base.key_accounts["account_id"]).to_numpy()
    masks = _masks(features, scores, matrix, rule, target, n, threshold, cap)
    out = features[[c for c in ("account_id", "name") if c in features]].copy()
    out["in_base"] = in_base
    out["selected"] = masks.sum(axis=1)
    out["variations"] = masks.shape[1]
    out["share_selected"] = out["selected"] / out["variations"]
    out["status"] = np.where(masks.all(axis=1), "always in", "at the margin")
    flips = masks != in_base[:, None]  # out for a key account, in for another one
    out["flips_when"] = join_where(flips, labels)
    base_score = base.table.set_index("account_id")["score"].reindex(out["account_id"])
    out["_score"] = base_score.to_numpy()
    out = out[(out["selected"] > 0) | out["in_base"]]
    out = out.sort_values(["selected", "_score"], ascending=[False, False], kind="stable")
    return out.drop(columns="_score").reset_index(drop=True)


def criterion_dependence(
    features: pd.DataFrame,
    *,
    weights: Mapping[str, float] | None = None,
    rule: str = "share",
    target: float = 0.5,
    n: int | None = None,
    threshold: float | None = None,
    cap: int = 40,
) -> pd.DataFrame:
    """For each key account, the criteria without which it would not be selected.

    Each criterion with a weight is switched off (weight 0) in turn and the rule
    selects again. An account that drops out for exactly one criterion is on the
    list *only because of* that criterion.

    Returns
    -------
    pandas.DataFrame
        One row per key account (base weights), in score order: ``account_id``,
        ``name`` (where known), ``needs`` (criteria whose removal drops it,
        comma-separated, empty if none), ``n_needed``, ``only_because_of`` (the one
        criterion when ``n_needed`` is 1, else empty).
    """
    _check_rule(rule, target, n, threshold, cap)
    features = _by_id(features)
    scores, matrix, labels = _variations(
        features, weights, lambda criterion, _w: [(criterion, 0.0)]
    )
    base = select_key_accounts(
        score_accounts(features, weights=weights),
        rule=rule,
        target=target,
        n=n,
        threshold=threshold,
        cap=cap,
    )
    ids = features["account_id"].to_numpy()
    masks = _masks(features, scores, matrix, rule, target, n, threshold, cap)
    frame = features[[c for c in ("account_id", "name") if c in features]].copy()
    frame["needs"] = join_where(~masks, labels)
    frame["n_needed"] = (~masks).sum(axis=1)
    frame["only_because_of"] = np.where(frame["n_needed"] == 1, frame["needs"], "")
    order = pd.Index(ids).get_indexer(base.key_accounts["account_id"])
    return frame.iloc[order].reset_index(drop=True)


def describe_selection(selection: Selection) -> str:
    """One sentence: how many key accounts, by which rule, making what share."""
    k = len(selection.key_accounts)
    n = len(selection.table)
    how = {
        "share": f"the smallest set reaching {selection.setting:.0%} of revenue",
        "top_n": f"the {selection.setting:.0f} best scores",
        "threshold": f"every account scoring {selection.setting:g} or more",
    }[selection.rule]
    capped = f", cut at the cap of {selection.cap}" if selection.capped else ""
    return (
        f"{k} of {n} accounts ({k / max(n, 1):.0%}) are key accounts by {how}{capped}; "
        f"together they make {selection.share:.0%} of revenue."
    )


def describe_stability(stability: pd.DataFrame) -> str:
    """One sentence on the stability table."""
    base = stability[stability["in_base"]]
    always = int((base["status"] == "always in").sum())
    margin_in = int((base["status"] == "at the margin").sum())
    outsiders = int((~stability["in_base"]).sum())
    variations = int(stability["variations"].iloc[0]) if len(stability) else 0
    return (
        f"Across {variations} weight variations, {always} of the {len(base)} key accounts stay "
        f"in every time; {margin_in} {'is' if margin_in == 1 else 'are'} at the margin, and "
        f"{outsiders} other account{'s' if outsiders != 1 else ''} "
        f"{'gets' if outsiders == 1 else 'get'} in under some variation."
    )


def describe_scores(scored: pd.DataFrame, *, top: int = 3) -> str:
    """One sentence: who leads the ranking, and which criteria carry it."""
    if scored.empty:
        return "No account bought in this window."
    points = scored[[c for c in scored.columns if c.endswith("_points")]]
    lead = scored.iloc[0]
    best = points.iloc[0].sort_values(ascending=False).head(2)
    reasons = " and ".join(
        f"{name.removesuffix('_points')} ({value:.1f})" for name, value in best.items()
    )
    label = lead["name"] if "name" in scored and pd.notna(lead.get("name")) else lead["account_id"]
    carried = (points.head(top).sum() / points.head(top).to_numpy().sum()).idxmax()
    return (
        f"{label} leads with {lead['score']:.1f} of 100 points, mostly from {reasons}; across the "
        f"top {min(top, len(scored))}, {carried.removesuffix('_points')} carries the most weight."
    )
