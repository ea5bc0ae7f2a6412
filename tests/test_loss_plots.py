"""The loss figures on small hand-made frames: what is drawn, the empty frame, ``ax=``."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.axes import Axes
from matplotlib.collections import PolyCollection
from matplotlib.patches import Rectangle

from kamlib.plots import plot_back_test, plot_loss_dynamics, plot_loss_reasons, plot_survival


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _bars(ax: Axes) -> list[Rectangle]:
    return [p for p in ax.patches if isinstance(p, Rectangle)]


def _labelled_lines(ax: Axes) -> list:
    return [line for line in ax.get_lines() if not line.get_label().startswith("_")]


def _texts(ax: Axes) -> list[str]:
    return [t.get_text() for t in ax.texts]


def _tick_labels(ax: Axes) -> list[str]:
    ax.figure.canvas.draw()
    return [t.get_text() for t in ax.get_xticklabels()]


def _summary(rule: str = "inactivity") -> pd.DataFrame:
    if rule == "decline":
        return pd.DataFrame(
            {
                "setting": [0.3, 0.5],
                "rule": [
                    "lost when its last 12 months' revenue falls below 30% of the 12 months before",
                    "lost when its last 12 months' revenue falls below 50% of the 12 months before",
                ],
                "declared": [4, 10],
                "false_alarms": [1, 5],
                "false_alarm_share": [0.25, 0.5],
                "confirmed": [3, 5],
                "median_delay_months": [np.nan, np.nan],
                "p90_delay_months": [np.nan, np.nan],
                "revenue_declared": [300.0, 500.0],
            }
        )
    return pd.DataFrame(
        {
            "setting": [90, 180, 365],
            "rule": [f"lost after {d} days without a purchase" for d in (90, 180, 365)],
            "declared": [10, 5, 0],
            "false_alarms": [8, 2, 0],
            "false_alarm_share": [0.8, 0.4, np.nan],
            "confirmed": [2, 3, 0],
            "median_delay_months": [2.96, 5.91, np.nan],
            "p90_delay_months": [2.96, 5.91, np.nan],
            "revenue_declared": [200.0, 300.0, 0.0],
        }
    )


def _dynamics(groups: tuple[str, ...] = ("all",)) -> pd.DataFrame:
    rows = []
    for g, group in enumerate(groups):
        for i, (period, partial) in enumerate(
            [("2025Q1", False), ("2025Q2", False), ("2025Q3", True)]
        ):
            start = pd.Timestamp("2025-01-01") + pd.DateOffset(months=3 * i)
            lost = i + g + 1
            rows.append(
                {
                    "group": group,
                    "period": period,
                    "start": start,
                    "end": start + pd.DateOffset(months=3) - pd.Timedelta(days=1),
                    "partial": partial,
                    "active_at_start": 100,
                    "lost": lost,
                    "revenue_lost": 1000.0 * lost,
                    "returned": 0,
                    "churn_rate": lost / 100,
                }
            )
    return pd.DataFrame(rows)


def _pareto() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "reason": ["price", "unexplained", "customer_closed"],
            "losses": [5, 3, 2],
            "share": [0.5, 0.3, 0.2],
            "cumulative_share": [0.5, 0.8, 1.0],
            "revenue_lost": [500.0, 300.0, 200.0],
        }
    )


def _curve() -> pd.DataFrame:
    parts = []
    for group, survival in (("A", [1.0, 0.8, 0.5]), ("B", [1.0, 0.9, 0.6])):
        parts.append(
            pd.DataFrame(
                {
                    "group": group,
                    "time": [0.0, 1.0, 2.5],
                    "at_risk": [10, 10, 5],
                    "lost": [0, 2, 2],
                    "censored": [0, 0, 3],
                    "survival": survival,
                    "std_err": [0.0, 0.1, 0.15],
                    "lower": [1.0] + [s - 0.2 for s in survival[1:]],
                    "upper": [1.0] + [min(s + 0.1, 1.0) for s in survival[1:]],
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


# --- back-test ---------------------------------------------------------------------------


def test_back_test_stacks_confirmed_and_false_alarms_per_setting():
    ax = plot_back_test(_summary())
    assert isinstance(ax, Axes)
    bars = _bars(ax)
    assert len(bars) == 6  # confirmed and false alarms for each of the 3 settings
    assert [b.get_height() for b in bars[:3]] == [2, 3, 0]  # confirmed
    assert [b.get_y() for b in bars[3:]] == [2, 3, 0]  # false alarms stacked on them
    assert [b.get_height() for b in bars[3:]] == [8, 2, 0]
    assert ax.get_xlabel().startswith("D: days")
    assert _tick_labels(ax) == ["90\n80% false", "180\n40% false", "365\nnothing declared"]
    assert ax.get_ylabel() == "losses declared"


def test_back_test_shows_the_median_delay_on_a_second_axis():
    ax = plot_back_test(_summary())
    right = ax.right_ax
    assert right in ax.figure.axes and len(ax.figure.axes) == 2
    (line,) = _labelled_lines(right)
    assert line.get_label() == "median delay"
    np.testing.assert_allclose(line.get_ydata(), [2.96, 5.91, np.nan])
    assert "months" in right.get_ylabel()
    assert [t.get_text() for t in right.texts] == ["3.0 mo", "5.9 mo"]
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["confirmed losses", "false alarms", "median delay"]


def test_back_test_of_decline_has_no_delay_axis_and_labels_theta():
    ax = plot_back_test(_summary("decline"))
    assert len(ax.figure.axes) == 1 and not hasattr(ax, "right_ax")
    assert len(_bars(ax)) == 4
    assert ax.get_xlabel().startswith("θ")
    assert _tick_labels(ax) == ["0.3\n25% false", "0.5\n50% false"]


def test_back_test_names_the_rhythm_setting_and_takes_a_label():
    summary = _summary().assign(
        setting=[2.0, 3.0, 4.0],
        rule=[f"lost after {k} × its usual gap (median of its own gaps)" for k in (2, 3, 4)],
    )
    assert plot_back_test(summary).get_xlabel().startswith("k:")
    assert plot_back_test(summary, setting_label="my D").get_xlabel() == "my D"
    assert plot_back_test(summary.drop(columns="rule")).get_xlabel() == "setting"


def test_back_test_with_nothing_declared_says_so():
    summary = _summary().assign(declared=0, false_alarms=0, confirmed=0, false_alarm_share=np.nan)
    summary["median_delay_months"] = np.nan
    ax = plot_back_test(summary)
    assert any("no loss declared" in t for t in _texts(ax))


# --- dynamics ----------------------------------------------------------------------------


def test_dynamics_bars_per_period_and_a_churn_rate_line():
    ax = plot_loss_dynamics(_dynamics())
    bars = _bars(ax)
    assert [b.get_height() for b in bars] == [1, 2, 3]
    assert [b.get_hatch() for b in bars] == [None, None, "///"]  # the partial period
    assert bars[2].get_alpha() < 1
    assert _tick_labels(ax) == ["2025Q1", "2025Q2", "2025Q3"]
    assert "partial" in ax.get_xlabel()
    assert ax.get_ylabel() == "lost accounts"
    (line,) = _labelled_lines(ax.right_ax)
    assert line.get_label() == "churn rate"
    np.testing.assert_allclose(line.get_ydata(), [0.01, 0.02, np.nan])  # partial not solid
    assert ax.right_ax.yaxis.get_major_formatter()(0.02, 0) == "2.0%"


def test_dynamics_with_groups_draws_one_churn_line_per_group():
    ax = plot_loss_dynamics(_dynamics(("OEM", "Craft")))
    assert [b.get_height() for b in _bars(ax)] == [3, 5, 7]  # both groups together
    labels = [line.get_label() for line in _labelled_lines(ax.right_ax)]
    assert labels == ["churn rate: OEM", "churn rate: Craft"]


def test_dynamics_without_a_partial_period_hatches_nothing():
    ax = plot_loss_dynamics(_dynamics().assign(partial=False))
    assert all(b.get_hatch() is None for b in _bars(ax))
    assert "partial" not in ax.get_xlabel()


# --- reasons -----------------------------------------------------------------------------


def test_reasons_pareto_bars_grey_unexplained_and_cumulative_line():
    ax = plot_loss_reasons(_pareto())
    bars = _bars(ax)
    assert [b.get_height() for b in bars] == [5, 3, 2]
    grey = matplotlib.colors.to_rgba("#b3b3b3")
    assert [b.get_facecolor() == grey for b in bars] == [False, True, False]
    assert _tick_labels(ax) == ["price", "unexplained", "customer closed"]
    assert ax.get_ylabel() == "losses"
    right = ax.right_ax
    (line,) = right.get_lines()[:1]
    np.testing.assert_allclose(line.get_ydata(), [0.5, 0.8, 1.0])
    assert right.get_ylim() == (0, 1.05)
    assert right.yaxis.get_major_formatter()(0.8, 0) == "80%"
    assert "10 losses" in ax.get_title()


# --- survival ----------------------------------------------------------------------------


def test_survival_step_curves_with_bands_per_group():
    ax = plot_survival(_curve())
    lines = _labelled_lines(ax)
    assert [line.get_label() for line in lines] == ["A", "B"]
    assert all(line.get_drawstyle() == "steps-post" for line in lines)
    np.testing.assert_allclose(lines[0].get_ydata(), [1.0, 0.8, 0.5])
    bands = [c for c in ax.collections if isinstance(c, PolyCollection)]
    assert len(bands) == 2
    half = [line for line in ax.get_lines() if line.get_linestyle() == "--"]
    assert len(half) == 1 and list(half[0].get_ydata()) == [0.5, 0.5]
    assert ax.get_ylim() == (0, 1.02)
    assert ax.yaxis.get_major_formatter()(0.5, 0) == "50%"
    assert "years" in ax.get_xlabel()
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["A", "B"]


def test_survival_of_one_curve_has_no_legend():
    ax = plot_survival(_curve().query("group == 'A'").assign(group="all"))
    assert len(_labelled_lines(ax)) == 1
    assert ax.get_legend() is None


# --- empty frames and ax= ----------------------------------------------------------------

PLOTS = [
    (plot_back_test, _summary),
    (plot_loss_dynamics, _dynamics),
    (plot_loss_reasons, _pareto),
    (plot_survival, _curve),
]


@pytest.mark.parametrize(("plot", "make"), PLOTS, ids=lambda v: getattr(v, "__name__", ""))
def test_an_empty_frame_gives_an_axes_that_says_no_data(plot, make):
    ax = plot(make().iloc[:0])
    assert isinstance(ax, Axes)
    assert _texts(ax) == ["no data"]
    assert not _bars(ax) and not ax.get_lines()
    assert ax.get_title()


@pytest.mark.parametrize(("plot", "make"), PLOTS, ids=lambda v: getattr(v, "__name__", ""))
def test_the_given_ax_is_drawn_on(plot, make):
    _fig, (left, right) = plt.subplots(1, 2)
    assert plot(make(), ax=right) is right
    assert not _bars(left) and not left.get_lines()  # the other Axes is untouched
    assert len(plt.get_fignums()) == 1  # no new figure
    assert plot(make().iloc[:0], ax=left) is left
    assert _texts(left) == ["no data"]
