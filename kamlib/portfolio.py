"""The account portfolio matrix (McDonald and Rogers): attractiveness against our strength.

Two weighted scores between 0 and 1 per account, each a weighted mean of
percentile scores (:func:`kamlib.identification.rank_score`) of its factors:

- **attractiveness** of the customer to us (:data:`ATTRACTIVENESS_FACTORS`):
  its size (its own annual sales, else what it buys from us), its growth with us,
  and the margin we make on it;
- **relationship strength**, our position with it (:data:`RELATIONSHIP_FACTORS`):
  our share of its wallet (1 − the competitors' estimated shares), continuity of
  purchases, length of the relationship, the attitude of its influential people
  towards us (contacts' attitude weighted by influence), and its satisfaction
  (mean survey score in the window).

A factor the data lack is left out and the others' weights are scaled up; the
result lists what was used. Split at ``threshold`` (0.5 on both), the four
quadrants of :data:`PORTFOLIO_QUADRANTS` each call for a different investment.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from kamlib.identification import _is_weight, rank_score

__all__ = [
    "ATTRACTIVENESS_FACTORS",
    "PORTFOLIO_QUADRANTS",
    "RELATIONSHIP_FACTORS",
    "describe_portfolio",
    "portfolio_matrix",
]

#: Default weights of the attractiveness factors.
ATTRACTIVENESS_FACTORS: dict[str, float] = {"size": 40, "growth": 30, "margin_pct": 30}
#: Default weights of the relationship-strength factors.
RELATIONSHIP_FACTORS: dict[str, float] = {
    "share_of_wallet": 30,
    "loyalty": 25,
    "tenure": 15,
    "attitude": 15,
    "satisfaction": 15,
}

#: The four quadrants (high/low attractiveness × strong/weak position) and the action each calls for.
PORTFOLIO_QUADRANTS = pd.DataFrame(
    [
        (
            "strategic",
            True,
            True,
            "Invest: joint plans, senior contacts on both sides, tailored offers and services.",
        ),
        (
            "development",
            True,
            False,
            "Invest selectively to win share: reach the decision makers, trials, beat the competitor.",
        ),
        (
            "maintenance",
            False,
            True,
            "Maintain efficiently: keep service reliable, protect the margin, do not over-invest.",
        ),
        (
            "streamline",
            False,
            False,
            "Serve at low cost: standard terms, inside sales, automated ordering.",
        ),
    ],
    columns=["quadrant", "attractive", "strong", "action"],
)

_DAY = pd.Timedelta(days=1)


def _factor_weights(given, defaults, what) -> dict[str, float]:
    if not given:
        return dict(defaults)
    unknown = [k for k in given if k not in defaults]
    if unknown:
        raise ValueError(
            f"unknown {what} factors {', '.join(map(repr, unknown))}; the factors are "
            f"{', '.join(defaults)}"
        )
    negative = {k: v for k, v in given.items() if not _is_weight(v)}
    if negative:
        raise ValueError(f"{what} weights must be numbers of 0 or more, got {negative}")
    return {**defaults, **given}


def _weighted(factors: pd.DataFrame, weights: dict[str, float], what: str) -> pd.Series:
    w = pd.Series({k: v for k, v in weights.items() if k in factors and v > 0}, dtype=float)
    if w.empty:
        raise ValueError(f"no {what} factor with a weight above 0 is in the data")
    scaled = factors[w.index].apply(rank_score)
    return scaled @ (w / w.sum())


def portfolio_matrix(
    features: pd.DataFrame,
    *,
    as_of: pd.Timestamp,
    months: int = 12,
    contacts: pd.DataFrame | None = None,
    competitors: pd.DataFrame | None = None,
    surveys: pd.DataFrame | None = None,
    attractiveness: Mapping[str, float] | None = None,
    relationship: Mapping[str, float] | None = None,
    threshold: float = 0.5,
    key_accounts=None,
) -> pd.DataFrame:
    """Place every account of ``features`` in the portfolio matrix.

    Parameters
    ----------
    features : pandas.DataFrame
        ``AccountFeatures.table``.
    as_of, months
        The window in which survey answers count.
    contacts, competitors, surveys : pandas.DataFrame, optional
        The dataset's tables, where it has them.
    attractiveness, relationship : dict, optional
        Factor weights (see :data:`ATTRACTIVENESS_FACTORS`, :data:`RELATIONSHIP_FACTORS`).
    threshold : float, default 0.5
        Where both axes are split.
    key_accounts : sequence of str, optional
        Marked in the ``key_account`` column.

    Returns
    -------
    pandas.DataFrame
        One row per account, in the order of ``features``: ``account_id``, ``name``
        (where known), ``attractiveness``, ``relationship`` (0-1), ``quadrant``,
        ``action``, ``key_account``, then the raw factors used (``size``, ``growth``,
        ``margin_pct``, ``share_of_wallet``, ``loyalty``, ``tenure``, ``attitude``,
        ``satisfaction``, where the data allow).
    """
    if not 0 < threshold < 1:
        raise ValueError(f"threshold must be between 0 and 1, got {threshold!r}")
    a_weights = _factor_weights(attractiveness, ATTRACTIVENESS_FACTORS, "attractiveness")
    r_weights = _factor_weights(relationship, RELATIONSHIP_FACTORS, "relationship")
    ids = pd.Index(features["account_id"], name="account_id")
    table = features.set_index("account_id")
    raw = pd.DataFrame(index=ids)
    size = table["annual_sales"] if "annual_sales" in table else table["revenue"]
    raw["size"] = size.fillna(table["revenue"]) if "annual_sales" in table else size
    raw["growth"] = table["growth"].mask(table["is_new_buyer"], np.inf)
    if "margin_pct" in table:
        raw["margin_pct"] = table["margin_pct"]
    if competitors is not None and "estimated_share" in competitors:
        theirs = competitors.groupby("account_id")["estimated_share"].sum()
        raw["share_of_wallet"] = (1 - theirs.reindex(ids, fill_value=0.0)).clip(0, 1)
    raw["loyalty"] = table["purchase_months_share"]
    raw["tenure"] = table["tenure_years"]
    if contacts is not None and {"attitude", "influence"} <= set(contacts.columns):
        known = contacts.dropna(subset=["attitude", "influence"])
        weight = known["influence"].astype(float)
        weighted = (known["attitude"].astype(float) * weight).groupby(known["account_id"]).sum()
        raw["attitude"] = (weighted / weight.groupby(known["account_id"]).sum()).reindex(ids)
    if surveys is not None:
        as_of = pd.Timestamp(as_of)
        start = as_of - pd.DateOffset(months=months)
        recent = surveys[(surveys["date"] >= start + _DAY) & (surveys["date"] < as_of + _DAY)]
        raw["satisfaction"] = recent.groupby("account_id")["score"].mean().reindex(ids)
    out = table[["name"]].copy() if "name" in table else pd.DataFrame(index=ids)
    out["attractiveness"] = _weighted(raw, a_weights, "attractiveness")
    out["relationship"] = _weighted(raw, r_weights, "relationship")
    quadrants = PORTFOLIO_QUADRANTS.set_index(["attractive", "strong"])
    keys = pd.MultiIndex.from_arrays(
        [out["attractiveness"] >= threshold, out["relationship"] >= threshold]
    )
    out["quadrant"] = quadrants["quadrant"].reindex(keys).to_numpy()
    out["action"] = quadrants["action"].reindex(keys).to_numpy()
    out["key_account"] = ids.isin(list(key_accounts) if key_accounts is not None else [])
    return out.join(raw.replace(np.inf, np.nan)).rename_axis("account_id").reset_index()


def describe_portfolio(portfolio: pd.DataFrame) -> str:
    """One sentence: where the key accounts sit."""
    keys = portfolio[portfolio["key_account"]]
    if keys.empty:
        return "No key accounts are marked in the matrix."
    counts = keys["quadrant"].value_counts()
    parts = [f"{counts[q]} {q}" for q in PORTFOLIO_QUADRANTS["quadrant"] if q in counts]
    weak = int((keys["quadrant"] == "development").sum())
    return (
        f"Of {len(keys)} key accounts: "
        + ", ".join(parts)
        + ". "
        + (
            f"{weak} attractive key account{'s are' if weak != 1 else ' is'} held weakly: "
            "the first place to invest."
            if weak
            else "No attractive key account is held weakly."
        )
    )
