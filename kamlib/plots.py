"""Figures. Each function takes a computed frame and an optional ``ax`` and
returns the Axes; analysis modules never import matplotlib."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes
from matplotlib.ticker import FuncFormatter

__all__ = [
    "plot_abc_xyz_matrix",
    "plot_account_sales",
    "plot_back_test",
    "plot_key_account_pareto",
    "plot_loss_dynamics",
    "plot_loss_reasons",
    "plot_monthly_sales",
    "plot_pareto",
    "plot_portfolio",
    "plot_satisfaction",
    "plot_score_contributions",
    "plot_stability",
    "plot_survival",
    "plot_transitions",
    "plot_xyz_distribution",
]


def _money_axis(ax: Axes, currency: str, axis: str = "y") -> None:
    def fmt(value, _pos):
        if abs(value) >= 1e6:
            return f"{value / 1e6:,.1f}M"
        if abs(value) >= 1e3:
            return f"{value / 1e3:,.0f}k"
        return f"{value:,.0f}"

    (ax.yaxis if axis == "y" else ax.xaxis).set_major_formatter(FuncFormatter(fmt))
    (ax.set_ylabel if axis == "y" else ax.set_xlabel)(f"net sales ({currency})")


def _pareto_axes(ax: Axes, xlabel: str, ylabel: str, title: str) -> None:
    """Both axes from 0 to 100 %, as a Pareto curve is drawn."""
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _p: f"{v:.0%}"))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _p: f"{v:.0%}"))
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)


def plot_monthly_sales(
    monthly: pd.DataFrame, *, currency: str = "EUR", ax: Axes | None = None
) -> Axes:
    """Bars of net sales per month, with credit notes below zero.

    Parameters
    ----------
    monthly : pandas.DataFrame
        The result of :func:`kamlib.monthly_sales`.
    currency : str
        Label of the money axis.
    ax : matplotlib Axes, optional
        Where to draw; a new figure when omitted.

    Returns
    -------
    matplotlib.axes.Axes
    """
    if ax is None:
        _fig, ax = plt.subplots(figsize=(10, 3.8))
    labels = monthly["month"].dt.strftime("%Y-%m")
    sns.barplot(
        x=labels, y=monthly["amount"], color=sns.color_palette()[0], ax=ax, label="net sales"
    )
    if (monthly["credit_notes"] < 0).any():
        sns.barplot(
            x=labels,
            y=monthly["credit_notes"],
            color=sns.color_palette()[3],
            ax=ax,
            label="credit notes",
        )
    ax.axhline(0, color="black", linewidth=0.8)
    step = max(1, len(labels) // 12)
    for i, tick in enumerate(ax.get_xticklabels()):
        tick.set_visible(i % step == 0)
        tick.set_rotation(45)
    ax.set_xlabel("month")
    _money_axis(ax, currency)
    ax.set_title("Net sales per month")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.3), ncol=2, frameon=False)
    return ax


_ABC_COLORS = {"A": "#1f5f8b", "B": "#4d9de0", "C": "#b9d7f0"}


def plot_pareto(
    classified: pd.DataFrame, *, cutoffs: tuple[float, float] = (0.8, 0.95), ax: Axes | None = None
) -> Axes:
    """Pareto curve: cumulative share of the measure against the share of accounts.

    Parameters
    ----------
    classified : pandas.DataFrame
        :func:`kamlib.abc_classes` or :func:`kamlib.abc_xyz` (largest account first).
    cutoffs : (float, float)
        The A and B cut-offs, drawn as dashed lines.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
    """
    if ax is None:
        _fig, ax = plt.subplots(figsize=(8, 4.5))
    n = len(classified)
    frame = classified.assign(account_share=classified["rank"] / max(n, 1))
    sns.scatterplot(
        data=frame,
        x="account_share",
        y="cumulative_share",
        hue="abc",
        hue_order=["A", "B", "C"],
        palette=_ABC_COLORS,
        s=18,
        linewidth=0,
        ax=ax,
    )
    ax.plot(
        frame["account_share"], frame["cumulative_share"], color="grey", linewidth=0.8, zorder=0
    )
    for cut in cutoffs:
        ax.axhline(cut, color="grey", linestyle="--", linewidth=0.8)
        ax.text(1.0, cut, f" {cut:.0%}", va="center", ha="left", fontsize=9, color="grey")
    _pareto_axes(ax, "share of accounts (largest first)", "cumulative share", "Pareto curve")
    ax.legend(title="class", loc="lower right")
    return ax


def plot_xyz_distribution(classified: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """Accounts per XYZ class, split by ABC class.

    Parameters
    ----------
    classified : pandas.DataFrame
        :func:`kamlib.abc_xyz`.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
    """
    if ax is None:
        _fig, ax = plt.subplots(figsize=(7, 4))
    order = [c for c in ["X", "Y", "Z", "N"] if (classified["xyz"] == c).any()]
    sns.countplot(
        data=classified,
        x="xyz",
        hue="abc",
        order=order,
        hue_order=["A", "B", "C"],
        palette=_ABC_COLORS,
        ax=ax,
    )
    for container in ax.containers:
        ax.bar_label(container, fontsize=8)
    ax.set_xlabel("XYZ class (X regular … Z irregular, N too little history)")
    ax.set_ylabel("accounts")
    ax.set_title("How regularly accounts buy")
    ax.legend(title="ABC")
    return ax


def plot_abc_xyz_matrix(
    matrix: pd.DataFrame, *, value: str = "accounts", ax: Axes | None = None
) -> Axes:
    """Heatmap of the ABC-XYZ matrix.

    Parameters
    ----------
    matrix : pandas.DataFrame
        :func:`kamlib.abc_xyz_matrix`.
    value : {"accounts", "value_share", "value", "account_share"}
        What the cells show.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
    """
    if ax is None:
        _fig, ax = plt.subplots(figsize=(5, 3.6))
    table = matrix.pivot(index="abc", columns="xyz", values=value)
    table = table.reindex(index=["A", "B", "C"], columns=[c for c in "XYZN" if c in table.columns])
    fmt = "d" if value == "accounts" else (".0%" if value.endswith("share") else ",.0f")
    sns.heatmap(
        table.astype(int) if value == "accounts" else table,
        annot=True,
        fmt=fmt,
        cmap="Blues",
        cbar=False,
        linewidths=1,
        linecolor="white",
        ax=ax,
    )
    titles = {
        "accounts": "Accounts per cell",
        "value_share": "Share of the measure per cell",
        "account_share": "Share of accounts per cell",
        "value": "Measure per cell",
    }
    ax.set_title(titles.get(value, value))
    ax.set_xlabel("XYZ")
    ax.set_ylabel("ABC")
    ax.tick_params(axis="y", rotation=0)
    return ax


def plot_transitions(table: pd.DataFrame, *, title: str = "", ax: Axes | None = None) -> Axes:
    """Heatmap of a transition matrix (classes before in rows, now in columns).

    Parameters
    ----------
    table : pandas.DataFrame
        :func:`kamlib.transition_matrix`.
    title : str
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
    """
    if ax is None:
        _fig, ax = plt.subplots(figsize=(5, 4))
    whole = bool((table.round() == table).all().all())
    sns.heatmap(
        table.astype(int) if whole else table,
        annot=True,
        fmt="d" if whole else ",.0f",
        cmap="Purples",
        cbar=False,
        linewidths=1,
        linecolor="white",
        ax=ax,
    )
    ax.set_xlabel("class now")
    ax.set_ylabel("class in the previous window")
    ax.tick_params(axis="y", rotation=0)
    ax.set_title(title or "From the previous window to now")
    return ax


def _label(frame: pd.DataFrame) -> pd.Series:
    """Account name (id) where a name is known, else the id."""
    if "name" in frame:
        return frame["name"].fillna(frame["account_id"]) + " (" + frame["account_id"] + ")"
    return frame["account_id"]


def plot_score_contributions(
    scored: pd.DataFrame, *, top: int = 15, ax: Axes | None = None
) -> Axes:
    """Stacked bars: each criterion's points in the score of the ``top`` accounts.

    Parameters
    ----------
    scored : pandas.DataFrame
        :func:`kamlib.score_accounts` (best first), or a selection's table.
    top : int, default 15
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
    """
    head = scored.head(top)
    points = head[[c for c in head.columns if c.endswith("_points")]]
    points = points.loc[:, points.sum() > 0]
    points.columns = [c.removesuffix("_points") for c in points.columns]
    if ax is None:
        _fig, ax = plt.subplots(figsize=(9, 0.35 * len(head) + 1.5))
    colors = sns.color_palette("tab20", len(points.columns))
    left = pd.Series(0.0, index=points.index)
    labels = _label(head)
    for color, criterion in zip(colors, points.columns, strict=True):
        ax.barh(labels, points[criterion], left=left, color=color, label=criterion)
        left = left + points[criterion]
    ax.invert_yaxis()
    ax.set_xlabel("score points (the bar is the score, 0-100)")
    ax.set_title(f"Why these accounts: score by criterion, top {len(head)}")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=6, fontsize=8, frameon=False)
    return ax


def plot_key_account_pareto(table: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """Pareto curve of revenue (largest first) with the key accounts marked.

    Parameters
    ----------
    table : pandas.DataFrame
        ``Selection.table`` (with ``revenue`` and ``key_account``).
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
    """
    if ax is None:
        _fig, ax = plt.subplots(figsize=(8, 4.5))
    frame = table.sort_values(["revenue", "account_id"], ascending=[False, True])
    positive = frame["revenue"].clip(lower=0)
    total = positive.sum()
    frame = frame.assign(
        account_share=np.arange(1, len(frame) + 1) / max(len(frame), 1),
        cumulative_share=positive.cumsum() / total if total > 0 else 0.0,
        chosen=frame["key_account"].map({True: "key account", False: "other"}),
    )
    ax.plot(frame["account_share"], frame["cumulative_share"], color="grey", linewidth=0.8)
    sns.scatterplot(
        data=frame,
        x="account_share",
        y="cumulative_share",
        hue="chosen",
        hue_order=["key account", "other"],
        palette={"key account": "#c0392b", "other": "#95a5a6"},
        size="chosen",
        sizes={"key account": 45, "other": 12},
        linewidth=0,
        ax=ax,
    )
    _pareto_axes(
        ax,
        "share of accounts (largest revenue first)",
        "cumulative share of revenue",
        "Revenue Pareto with the key accounts marked",
    )
    ax.legend(title="", loc="lower right")
    return ax


def plot_stability(stability: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """How often each account is selected across the weight variations.

    Parameters
    ----------
    stability : pandas.DataFrame
        :func:`kamlib.selection_stability`, or some of its rows (e.g. those at the margin).
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
    """
    frame = stability.assign(
        label=_label(stability),
        now=stability["in_base"].map({True: "key account now", False: "not a key account now"}),
    )
    if ax is None:
        _fig, ax = plt.subplots(figsize=(8, 0.3 * len(frame) + 1.5))
    sns.barplot(
        data=frame,
        y="label",
        x="share_selected",
        hue="now",
        hue_order=["key account now", "not a key account now"],
        palette={"key account now": "#c0392b", "not a key account now": "#95a5a6"},
        dodge=False,
        ax=ax,
    )
    ax.set_xlim(0, 1)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _p: f"{v:.0%}"))
    variations = int(frame["variations"].max()) if len(frame) else 0
    ax.set_xlabel(f"share of the {variations} weight variations that select the account")
    ax.set_ylabel("")
    ax.set_title("How often each account is chosen when the weights move")
    ax.legend(title="", loc="lower right")
    return ax


def plot_portfolio(
    portfolio: pd.DataFrame, *, threshold: float = 0.5, ax: Axes | None = None
) -> Axes:
    """The portfolio matrix: attractiveness against relationship strength.

    Parameters
    ----------
    portfolio : pandas.DataFrame
        :func:`kamlib.portfolio_matrix`.
    threshold : float, default 0.5
        Where the quadrants are split.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
    """
    if ax is None:
        _fig, ax = plt.subplots(figsize=(7, 6))
    frame = portfolio.assign(
        marked=portfolio["key_account"].map({True: "key account", False: "other"})
    )
    sns.scatterplot(
        data=frame,
        x="relationship",
        y="attractiveness",
        hue="marked",
        hue_order=["key account", "other"],
        palette={"key account": "#c0392b", "other": "#bdc3c7"},
        size="marked",
        sizes={"key account": 60, "other": 18},
        linewidth=0,
        ax=ax,
    )
    ax.axvline(threshold, color="grey", linestyle="--", linewidth=0.8)
    ax.axhline(threshold, color="grey", linestyle="--", linewidth=0.8)
    corners = {
        "development": (0.02, 0.98, "left"),
        "strategic": (0.98, 0.98, "right"),
        "streamline": (0.02, 0.02, "left"),
        "maintenance": (0.98, 0.02, "right"),
    }
    for name, (x, y, ha) in corners.items():
        ax.text(x, y, name, transform=ax.transAxes, ha=ha, va="top" if y > 0.5 else "bottom",
                fontsize=11, color="#555555", weight="bold")  # fmt: skip
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("our relationship strength →")
    ax.set_ylabel("account attractiveness →")
    ax.set_title("Account portfolio (McDonald and Rogers)")
    ax.legend(title="", loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False)
    return ax


def plot_account_sales(
    monthly: pd.DataFrame, *, value: str = "revenue", label: str = "", ax: Axes | None = None
) -> Axes:
    """One account's purchases per month (a dossier's ``monthly`` table).

    Parameters
    ----------
    monthly : pandas.DataFrame
        ``Dossier.monthly`` (``month`` and the value columns).
    value : {"revenue", "quantity", "margin"}
    label : str
        Axis label, e.g. "net sales (EUR)".
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
    """
    if ax is None:
        _fig, ax = plt.subplots(figsize=(10, 3.2))
    frame = monthly.assign(when=monthly["month"].dt.to_timestamp())
    ax.bar(frame["when"], frame[value], width=20, color="#2e86c1")
    _money_axis(ax, "")  # 120k rather than 120000
    ax.set_ylabel(label or value)
    ax.set_xlabel("")
    ax.set_title(f"{value.capitalize()} per month, last {len(frame)} months")
    return ax


def plot_satisfaction(satisfaction: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """Satisfaction scores (0-10) over time (a dossier's ``satisfaction`` table).

    Returns
    -------
    matplotlib.axes.Axes
    """
    if ax is None:
        _fig, ax = plt.subplots(figsize=(7, 2.8))
    sns.lineplot(data=satisfaction, x="date", y="score", marker="o", ax=ax)
    ax.set_ylim(0, 10.5)
    ax.set_ylabel("score (0-10)")
    ax.set_xlabel("")
    ax.set_title("Satisfaction")
    return ax


# --- loss analysis (kamlib.loss) ---------------------------------------------------------

_CONFIRMED = "#1f5f8b"
_FALSE_ALARM = "#f0a868"
_UNEXPLAINED = "#b3b3b3"
_PERCENT = FuncFormatter(lambda v, _p: f"{v:.0%}")


def _no_data(ax: Axes | None, title: str, text: str = "no data", size=(7, 4)) -> Axes:
    """An Axes that says there is nothing to draw."""
    if ax is None:
        _fig, ax = plt.subplots(figsize=size)
    ax.text(0.5, 0.5, text, transform=ax.transAxes, ha="center", va="center", color="grey")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(title)
    return ax


def _twin(ax: Axes) -> Axes:
    """A second y axis on the right; kept as ``ax.right_ax`` (as pandas does)."""
    right = ax.twinx()
    right.grid(False)
    ax.right_ax = right
    return right


_SETTING_LABELS = {
    "days": "D: days without a purchase",
    "k": "k: usual gaps without a purchase",
    "theta": "θ: last 12 months ÷ the 12 before",
}


def _setting_of(rule_text: str) -> str | None:
    """Which setting a rule in words (``LossRule.describe``) varies."""
    if "usual gap" in rule_text:
        return "k"
    if "falls below" in rule_text:
        return "theta"
    if "days without a purchase" in rule_text:
        return "days"
    return None


def plot_back_test(
    summary: pd.DataFrame, *, setting_label: str | None = None, ax: Axes | None = None
) -> Axes:
    """Back-test of a loss rule: confirmed losses and false alarms per setting, and the delay.

    Stacked bars per setting: confirmed losses (dark) and false alarms (light); under
    each setting its share of false alarms among the losses declared. The median delay
    (months from the last purchase to the declaration) is the line on the right
    axis, each point labelled; the ``decline`` rule has no delay, so no line.

    Parameters
    ----------
    summary : pandas.DataFrame
        ``BackTest.summary`` of :func:`kamlib.back_test` (one row per setting).
    setting_label : str, optional
        Label of the x axis; by default read from the ``rule`` column (days, k or θ).
    ax : matplotlib Axes, optional
        Where to draw; a new figure when omitted. The delay axis is ``ax.right_ax``.

    Returns
    -------
    matplotlib.axes.Axes
    """
    title = "Back-test: false alarms and delay per setting"
    if summary.empty:
        return _no_data(ax, title)
    if ax is None:
        _fig, ax = plt.subplots(figsize=(8, 4.2))
    if setting_label is None:
        kind = _setting_of(str(summary["rule"].iloc[0])) if "rule" in summary else None
        setting_label = _SETTING_LABELS.get(kind, "setting")
    x = np.arange(len(summary))
    confirmed = summary["confirmed"].to_numpy(dtype=float)
    false = summary["false_alarms"].to_numpy(dtype=float)
    ax.bar(x, confirmed, width=0.6, color=_CONFIRMED, label="confirmed losses")
    ax.bar(x, false, width=0.6, bottom=confirmed, color=_FALSE_ALARM, label="false alarms")
    top = max(float((confirmed + false).max()), 1.0)
    ax.set_ylim(0, top * 1.15)
    shares = [
        "nothing declared" if pd.isna(share) else f"{share:.0%} false"
        for share in summary["false_alarm_share"]
    ]
    ax.set_xticks(
        x, [f"{v:g}\n{share}" for v, share in zip(summary["setting"], shares, strict=True)]
    )
    ax.set_xlabel(setting_label)
    ax.set_ylabel("losses declared")
    if (summary["declared"] == 0).all():
        ax.text(
            0.5,
            0.5,
            "no loss declared at any setting in the judged period",
            transform=ax.transAxes,
            ha="center",
            va="center",
            color="grey",
        )
    handles, labels = ax.get_legend_handles_labels()
    delay = summary["median_delay_months"].to_numpy(dtype=float)
    if np.isfinite(delay).any():
        right = _twin(ax)
        right.plot(x, delay, color="black", marker="o", linewidth=1.5, label="median delay")
        for xi, months in zip(x, delay, strict=True):
            if np.isfinite(months):
                right.annotate(
                    f"{months:.1f} mo",
                    (xi, months),
                    xytext=(0, 8),
                    textcoords="offset points",
                    ha="center",
                    fontsize=8,
                    bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.8},
                )
        right.set_ylim(0, max(float(np.nanmax(delay)), 0.5) * 1.25)
        right.set_ylabel("median delay (months from the last order)")
        more = right.get_legend_handles_labels()
        handles, labels = handles + more[0], labels + more[1]
    ax.legend(
        handles, labels, loc="upper center", bbox_to_anchor=(0.5, -0.22), ncol=3, frameon=False
    )
    ax.set_title(title)
    return ax


def plot_loss_dynamics(dynamics: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """Lost accounts per period (bars) and the churn rate (line on the right axis).

    With several groups the bars are the losses of all groups together and each
    group has its own churn-rate line. A partial period (the last one, ending at
    ``as_of``) is drawn lighter and hatched, and its churn rate hollow on a dashed
    line: it is not comparable with whole periods yet.

    Parameters
    ----------
    dynamics : pandas.DataFrame
        :func:`kamlib.loss_dynamics`.
    ax : matplotlib Axes, optional
        Where to draw; a new figure when omitted. The churn-rate axis is ``ax.right_ax``.

    Returns
    -------
    matplotlib.axes.Axes
    """
    title = "Lost accounts and churn rate per period"
    if dynamics.empty:
        return _no_data(ax, title)
    if ax is None:
        _fig, ax = plt.subplots(figsize=(9, 4.2))
    periods = list(dict.fromkeys(dynamics["period"]))
    groups = list(dict.fromkeys(dynamics["group"]))
    per = dynamics.groupby("period", sort=False).agg(
        lost=("lost", "sum"), partial=("partial", "any")
    )
    per = per.reindex(periods)
    partial = per["partial"].to_numpy(dtype=bool)
    x = np.arange(len(periods))
    one = len(groups) == 1
    bars = ax.bar(
        x,
        per["lost"].to_numpy(dtype=float),
        width=0.7,
        color=_CONFIRMED if one else "#b9c9d9",
        label="lost accounts" if one else "lost accounts (all groups)",
    )
    for bar, half in zip(bars, partial, strict=True):
        if half:
            bar.set_alpha(0.45)
            bar.set_hatch("///")
            bar.set_edgecolor("white")
    right = _twin(ax)
    colors = ["#c0392b"] if one else sns.color_palette("tab10", len(groups))
    for group, color in zip(groups, colors, strict=True):
        part = dynamics[dynamics["group"] == group].set_index("period").reindex(periods)
        rate = part["churn_rate"].to_numpy(dtype=float)
        # whole periods solid; a partial period dashed, its point hollow
        right.plot(x, rate, color=color, linestyle="--", linewidth=1.0)
        whole = np.where(partial, np.nan, rate)
        name = "churn rate" if one else f"churn rate: {group}"
        right.plot(x, whole, color=color, marker="o", linewidth=1.5, label=name)
        right.plot(
            x[partial],
            rate[partial],
            linestyle="none",
            marker="o",
            color=color,
            markerfacecolor="white",
        )
    rotate = len(periods) > 8
    ax.set_xticks(
        x,
        periods,
        rotation=45 if rotate else 0,
        ha="right" if rotate else "center",
        rotation_mode="anchor",
    )
    ax.set_xlabel("period" + (" (hatched: partial, up to as_of)" if partial.any() else ""))
    ax.set_ylabel("lost accounts")
    ax.set_ylim(0, max(float(per["lost"].max()), 1) * 1.15)
    top = np.nanmax(dynamics["churn_rate"].to_numpy(dtype=float), initial=0.0)
    right.set_ylim(0, max(top, 0.01) * 1.15)
    right.yaxis.set_major_formatter(
        FuncFormatter(lambda v, _p: f"{v:.1%}" if top < 0.1 else f"{v:.0%}")
    )
    right.set_ylabel("churn rate (lost ÷ active at start)")
    handles, labels = ax.get_legend_handles_labels()
    more = right.get_legend_handles_labels()
    ax.legend(
        handles + more[0],
        labels + more[1],
        loc="upper center",
        bbox_to_anchor=(0.5, -0.28 if rotate else -0.18),
        ncol=min(len(labels) + len(more[1]), 3),
        frameon=False,
        fontsize=9,
    )
    ax.set_title(title)
    return ax


def plot_loss_reasons(pareto: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """Pareto chart of the reasons for losses: bars of losses, cumulative share line.

    ``unexplained`` (no recorded reason) is drawn in grey.

    Parameters
    ----------
    pareto : pandas.DataFrame
        :func:`kamlib.reason_pareto` (most frequent reason first).
    ax : matplotlib Axes, optional
        Where to draw; a new figure when omitted. The cumulative axis is ``ax.right_ax``.

    Returns
    -------
    matplotlib.axes.Axes
    """
    title = "Why accounts were lost"
    if pareto.empty:
        return _no_data(ax, title)
    if ax is None:
        _fig, ax = plt.subplots(figsize=(8, 4.2))
    x = np.arange(len(pareto))
    reasons = pareto["reason"].astype(str)
    colors = [_UNEXPLAINED if r == "unexplained" else _CONFIRMED for r in reasons]
    bars = ax.bar(x, pareto["losses"], width=0.7, color=colors)
    ax.bar_label(bars, fontsize=8)
    ax.set_xticks(x, reasons.str.replace("_", " "), rotation=30, ha="right")
    ax.set_ylabel("losses")
    ax.set_ylim(0, max(float(pareto["losses"].max()), 1) * 1.12)
    ax.set_xlabel("")
    right = _twin(ax)
    right.plot(x, pareto["cumulative_share"], color="#c0392b", marker="o", linewidth=1.5)
    right.axhline(0.8, color="grey", linestyle="--", linewidth=0.8)
    right.set_ylim(0, 1.05)
    right.yaxis.set_major_formatter(_PERCENT)
    right.set_ylabel("cumulative share of losses")
    ax.set_title(f"{title} ({int(pareto['losses'].sum())} losses; grey: no recorded reason)")
    return ax


def plot_survival(curve: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """Kaplan-Meier curves: share of accounts still buying after so many years.

    One step curve per group with its 95 % band shaded; the dashed line at 50 %
    crosses each curve at the group's median lifetime.

    Parameters
    ----------
    curve : pandas.DataFrame
        :func:`kamlib.kaplan_meier` (``group``, ``time`` in years, ``survival``,
        ``lower``, ``upper``).
    ax : matplotlib Axes, optional
        Where to draw; a new figure when omitted.

    Returns
    -------
    matplotlib.axes.Axes
    """
    title = "Share of accounts still buying (Kaplan-Meier)"
    if curve.empty:
        return _no_data(ax, title)
    if ax is None:
        _fig, ax = plt.subplots(figsize=(8, 4.5))
    groups = list(dict.fromkeys(curve["group"]))
    colors = sns.color_palette("tab10", len(groups))
    for group, color in zip(groups, colors, strict=True):
        part = curve[curve["group"] == group].sort_values("time", kind="stable")
        ax.fill_between(
            part["time"],
            part["lower"],
            part["upper"],
            step="post",
            color=color,
            alpha=0.2 if len(groups) == 1 else 0.08,
            linewidth=0,
        )
        ax.plot(
            part["time"],
            part["survival"],
            drawstyle="steps-post",
            color=color,
            linewidth=1.8,
            label=str(group),
        )
    ax.axhline(0.5, color="grey", linestyle="--", linewidth=0.8)
    ax.text(
        0.99,
        0.5,
        "50 %: the median lifetime",
        transform=ax.get_yaxis_transform(),
        ha="right",
        va="bottom",
        fontsize=8,
        color="grey",
    )
    ax.set_ylim(0, 1.02)
    ax.set_xlim(0, float(curve["time"].max()) * 1.02 or 1)
    ax.yaxis.set_major_formatter(_PERCENT)
    ax.set_xlabel("years since the first order")
    ax.set_ylabel("accounts still buying")
    if len(groups) > 1 or groups[0] != "all":
        ax.legend(title="", loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False)
    ax.set_title(title + " — shaded: 95 % band")
    return ax
