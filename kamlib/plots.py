"""Figures. Each function takes a computed frame and an optional ``ax`` and
returns the Axes; analysis modules never import matplotlib."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes
from matplotlib.ticker import FuncFormatter

__all__ = ["plot_monthly_sales"]


def _money_axis(ax: Axes, currency: str, axis: str = "y") -> None:
    def fmt(value, _pos):
        if abs(value) >= 1e6:
            return f"{value / 1e6:,.1f}M"
        if abs(value) >= 1e3:
            return f"{value / 1e3:,.0f}k"
        return f"{value:,.0f}"

    (ax.yaxis if axis == "y" else ax.xaxis).set_major_formatter(FuncFormatter(fmt))
    (ax.set_ylabel if axis == "y" else ax.set_xlabel)(f"net sales ({currency})")


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
