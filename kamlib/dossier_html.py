"""Account dossiers as HTML pages: one self-contained, print-friendly file per account.

:func:`render_dossier` turns a :class:`~kamlib.dossier.Dossier` into a complete HTML
document (internal: margin, contacts' roles, competitors, signals), and
:func:`render_consumption_report` a :class:`~kamlib.dossier.CustomerReport` into the
page a customer may receive (only what it bought). Both pages

* carry everything inside them: CSS inline, charts as base64 PNG, no script and no
  address on the internet, so they open offline and can be mailed or archived;
* print cleanly (``@media print``: each section starts a page, colours are not needed
  to read them: the coverage rating is a word in a framed badge);
* escape every value taken from the data (Jinja2 with ``autoescape``): an account
  called ``<script>…</script>`` shows as that text.

:func:`write_dossiers` writes a batch (``kam dossiers``): the dossiers are built with
:func:`~kamlib.dossier.build_dossiers` (each table read once), and the charts drawn
and pages rendered in worker processes while the next dossiers are built. A batch
goes into a folder named after its ``as_of`` date (``<out>/2026-09-28/``; customer
reports into ``<out>/2026-09-28-customer/``, never mixed with internal pages), written
hidden and renamed into place when complete; a later batch for the same date replaces
it. The name comes from the data, not the clock, so the same data give the same folder.
In a customer batch each customer's page is in a folder of its own
(``<out>/2026-09-28-customer/K10127/K10127.html``): that folder holds nothing about any
other customer and can be sent as it is; the overview of the batch
(``internal-index.html``) is beside those folders, for the sender only.

A batch folder holds the kit's marker ``.kam-written`` (``kamlib._files``): only a folder
carrying it is replaced by a later batch, and only a killed batch's hidden folder
carrying it (its process gone) is removed; links and anything else are left alone.
The worker processes end when the batch's process ends, even when it is killed.
"""

from __future__ import annotations

import base64
import collections
import datetime as dt
import functools
import hashlib
import io
import itertools
import multiprocessing
import os
import re
import shutil
import signal
import tempfile
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import jinja2
import numpy as np
import pandas as pd
from markupsafe import Markup, escape

from kamlib._child import die_with_parent
from kamlib._files import (
    check_out_folder,
    new_run_id,
    remove_stale,
    swap_into_place,
    write_marker,
    written_by_kit,
)
from kamlib.account_types import key_account_types
from kamlib.dataset import Dataset, load_dataset
from kamlib.dates import resolve_as_of
from kamlib.dossier import (
    CustomerReport,
    Dossier,
    build_dossiers,
    consumption_report,
)
from kamlib.export import _umask
from kamlib.paths import resolve_output

__all__ = [
    "DOSSIER_SECTIONS",
    "DossierBatch",
    "dossier_accounts",
    "render_consumption_report",
    "render_dossier",
    "write_dossiers",
]

#: The sections of a dossier page, in page order: key and heading.
DOSSIER_SECTIONS = (
    ("general", "General information"),
    ("key_figures", "Key figures"),
    ("sales", "Sales history"),
    ("consumption", "Half-yearly consumption"),
    ("payments", "Payment behaviour"),
    ("relationship", "Relationship history"),
    ("dmu", "Decision-making unit"),
    ("competitors", "Competitors and our share"),
    ("satisfaction", "Satisfaction"),
    ("signals", "Signals and next actions"),
)

#: Which ``Dossier.notes`` entries each section shows (a note not listed goes to "general").
_NOTES_OF = {
    "general": ("general",),
    "sales": ("by_group",),
    "payments": ("payments",),
    "relationship": ("timeline", "proposals"),
    "dmu": ("contacts",),
    "competitors": ("competitors",),
    "satisfaction": ("satisfaction",),
}

_TEMPLATES = Path(__file__).parent / "templates"
_DPI = 90
_NONE = "—"
_BLUE, _GREEN, _SHADE = "#2e86c1", "#1e7b34", "#eef2f6"
_RATINGS = ("green", "amber", "red")
#: in the head of every index.html a batch writes
_GENERATOR = "kamlib kam dossiers"
_WRITTEN_BY = "kam dossiers"
#: the overview of a customer batch, beside (never inside) the customers' folders
_INTERNAL_INDEX = "internal-index.html"
#: longest part of an account id kept in a file name (a file name may have 255 bytes)
_STEM_CHARS = 40
#: a batch uses worker processes only with at least this many pages per worker;
#: for fewer, starting the workers costs more than they save
_PAGES_PER_WORKER = 6


@dataclass(frozen=True)
class DossierBatch:
    """What :func:`write_dossiers` wrote.

    Attributes
    ----------
    folder : pathlib.Path
        The folder named after ``as_of`` holding the pages and the index.
    files : tuple of pathlib.Path
        Every file written: one page per account, in the order given, then the index
        (``index.html``; for customer reports ``internal-index.html``, beside the
        customers' folders).
    seconds : float
        Wall-clock time of the whole batch.
    count : int
        Number of pages (accounts).
    """

    folder: Path
    files: tuple[Path, ...]
    seconds: float
    count: int

    @property
    def index(self) -> Path:
        """The index page linking every page of the batch."""
        return self.files[-1]


# --- formatting (every value becomes text here; the template escapes it) ---------------------


def _missing(value) -> bool:
    if value is None or value is pd.NaT:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _num(value, decimals: int = 0) -> str:
    """``1,234`` (``decimals`` places); a missing value is a dash."""
    if _missing(value):
        return _NONE
    return f"{float(value):,.{decimals}f}"


def _pct(value, decimals: int = 1, *, sign: bool = False) -> str:
    if _missing(value):
        return _NONE
    return f"{float(value):{'+' if sign else ''}.{decimals}%}"


def _date(value) -> str:
    if _missing(value):
        return _NONE
    if isinstance(value, pd.Period):
        return str(value)
    return pd.Timestamp(value).strftime("%Y-%m-%d")


def _long_date(value) -> str:
    return _NONE if _missing(value) else pd.Timestamp(value).strftime("%d %b %Y")


def _cell(value) -> str:
    """Any value of a mixed column (the general information) as text."""
    if _missing(value):
        return _NONE
    if isinstance(value, bool | np.bool_):
        return "yes" if value else "no"
    if isinstance(value, pd.Timestamp | dt.date | np.datetime64):
        return _date(value)
    if isinstance(value, int | np.integer):
        return f"{int(value):,}"
    if isinstance(value, float | np.floating):
        value = float(value)
        return f"{value:,.0f}" if value.is_integer() or abs(value) >= 100 else f"{value:,.1f}"
    return str(value)


def _words(text) -> str:
    """``decision_maker`` -> ``decision maker``."""
    return _NONE if _missing(text) else str(text).replace("_", " ")


def _code(text) -> Markup:
    """Escape ``text`` and show its `backticked` parts as code (notes name tables so)."""
    escaped = str(escape("" if text is None else text))
    return Markup(re.sub(r"`([^`<>]*)`", r"<code>\1</code>", escaped))


# --- charts (matplotlib's Agg canvas, no pyplot: no figure is kept anywhere) ---------------


def _figure(width: float, height: float):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=_DPI)
    FigureCanvasAgg(fig)
    # fixed margins: tight/constrained layout would double the drawing time
    fig.subplots_adjust(left=0.09, right=0.985, top=0.86, bottom=0.17)
    return fig


def _png(fig) -> str:
    """The figure as a ``data:`` URI; the figure is cleared (closed) afterwards."""
    buffer = io.BytesIO()
    # no Software/URL metadata: the page holds no address at all, and PNGs are reproducible
    fig.savefig(buffer, format="png", dpi=_DPI, metadata={"Software": None})
    fig.clear()
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _short_number(value, _pos=None) -> str:
    """Axis labels: 2.5k, 120k, 1.2M."""
    for size, suffix in ((1e6, "M"), (1e3, "k")):
        if abs(value) >= size:
            return f"{value / size:,.1f}".removesuffix(".0") + suffix
    return f"{value:,.0f}"


def _month_axis(ax, months: pd.Series, every: int) -> None:
    x = np.arange(len(months))
    labels = pd.PeriodIndex(months).strftime("%b %y")
    ax.set_xticks(x[::every], labels[::every], fontsize=7)
    ax.set_xlim(-0.7, len(months) - 0.3)
    ax.tick_params(axis="y", labelsize=7)
    ax.spines[["top", "right"]].set_visible(False)


def _bars(ax, values: pd.Series, color: str) -> None:
    """Bars at 0, 1, 2 … as one collection (36 separate bars take a third longer to draw)."""
    from matplotlib.collections import PolyCollection

    v = values.to_numpy(dtype=float)
    x = np.arange(len(v), dtype=float)
    zero = np.zeros_like(v)
    corners = [(x - 0.4, zero), (x - 0.4, v), (x + 0.4, v), (x + 0.4, zero)]
    boxes = np.stack([np.column_stack(c) for c in corners], axis=1)
    ax.add_collection(PolyCollection(boxes, facecolors=color, edgecolors="none", zorder=2))
    ax.update_datalim(np.column_stack([np.r_[x - 0.4, x + 0.4], np.r_[v, zero]]))
    ax.autoscale_view()


def _sales_chart(monthly: pd.DataFrame, currency: str) -> str:
    """Net sales per month (bars) and margin (line), the 36 months to ``as_of``."""
    from matplotlib.patches import Patch
    from matplotlib.ticker import FuncFormatter

    fig = _figure(8.6, 2.6)
    ax = fig.add_subplot()
    _bars(ax, monthly["revenue"], _BLUE)
    handles, labels = [Patch(color=_BLUE)], ["net sales"]
    if "margin" in monthly:
        (line,) = ax.plot(np.arange(len(monthly)), monthly["margin"], color=_GREEN, zorder=3)
        handles.append(line)
        labels.append("margin")
    ax.axhline(0, color="black", linewidth=0.6)
    _month_axis(ax, monthly["month"], 3)
    ax.yaxis.set_major_formatter(FuncFormatter(_short_number))
    ax.set_title(f"Net sales per month ({currency})", fontsize=9)
    ax.legend(
        handles,
        labels,
        fontsize=7,
        frameon=False,
        ncol=2,
        loc="lower right",
        bbox_to_anchor=(1, 1),
        borderaxespad=0.2,
    )
    return _png(fig)


def _quantity_chart(monthly: pd.DataFrame, unit: str) -> str:
    """Quantity per month, half-years alternately shaded (the customer's chart)."""
    from matplotlib.ticker import FuncFormatter

    fig = _figure(8.6, 2.6)
    ax = fig.add_subplot()
    months = pd.PeriodIndex(monthly["month"])
    x = np.arange(len(months))
    half = (months.year * 2 + (months.month > 6)).to_numpy()
    for h in np.unique(half)[1::2]:
        inside = x[half == h]
        ax.axvspan(inside.min() - 0.5, inside.max() + 0.5, color=_SHADE, zorder=0)
    _bars(ax, monthly["quantity"], _BLUE)
    _month_axis(ax, monthly["month"], 3)
    ax.yaxis.set_major_formatter(FuncFormatter(_short_number))
    ax.set_title(f"Quantity per month ({unit}), half-years shaded alternately", fontsize=9)
    return _png(fig)


def _satisfaction_chart(satisfaction: pd.DataFrame) -> str:
    fig = _figure(5.2, 2.0)
    fig.subplots_adjust(left=0.1, bottom=0.2)
    ax = fig.add_subplot()
    x = np.arange(len(satisfaction))
    ax.plot(x, satisfaction["score"], marker="o", color=_BLUE)
    ax.set_ylim(0, 10.5)
    ax.set_xticks(x, [_date(d) for d in satisfaction["date"]], fontsize=7)
    ax.tick_params(axis="y", labelsize=7)
    ax.spines[["top", "right"]].set_visible(False)
    ax.set_title("Satisfaction score (0-10) per survey", fontsize=9)
    return _png(fig)


# --- the pages ---------------------------------------------------------------------------------


@functools.cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(_TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["code"] = _code
    return env


def _table(head: list[str], rows: Iterable[Iterable], numeric: Iterable[int] = ()) -> dict:
    """What the template's ``table`` macro draws: headings, rows of text, right-aligned columns."""
    return {"head": list(head), "rows": [list(r) for r in rows], "numeric": set(numeric)}


def _frame_table(frame: pd.DataFrame, spec, numeric: Iterable[int] = ()) -> dict:
    """A table of ``frame``; ``spec`` is (heading, column, format) per column shown.

    A column the frame lacks (an optional column of the data model) shows dashes.
    """
    records = frame.to_dict("records")
    return _table(
        [heading for heading, _c, _f in spec],
        ([fmt(record.get(column)) for _h, column, fmt in spec] for record in records),
        numeric,
    )


def _signed(value) -> str:
    return _NONE if _missing(value) else (f"{int(value):+d}" if int(value) else "0")


def _score(value) -> str:
    return _num(value, 0 if _missing(value) or float(value).is_integer() else 1)


def _notes(d: Dossier) -> dict[str, list[str]]:
    """The sentences of ``d.notes`` by page section; one of no known section goes to general."""
    notes = {
        key: [d.notes[n] for n in _NOTES_OF.get(key, ()) if n in d.notes]
        for key, _heading in DOSSIER_SECTIONS
    }
    placed = {n for names in _NOTES_OF.values() for n in names}
    notes["general"] += [text for name, text in d.notes.items() if name not in placed]
    return notes


def _key_figures(d: Dossier) -> tuple[list, dict]:
    unit_of = {"revenue": d.currency, "margin": d.currency, "quantity": d.quantity_unit}
    facts = [
        ("share of our sales (last 12 months)", _pct(d.facts.get("share_of_our_sales"), 2)),
        ("ABC-XYZ cell", _cell(d.facts.get("abc_xyz")) or _NONE),
        ("key-account type", _cell(d.facts.get("type")) or _NONE),
        ("last order", _date(d.facts.get("last_order"))),
    ]
    table = _frame_table(
        d.key_figures.assign(
            measure=[f"{m} ({unit_of.get(m, '')})" for m in d.key_figures["measure"]]
        ),
        [
            ("measure", "measure", _cell),
            ("last 12 months", "last_12_months", _num),
            ("previous 12 months", "previous_12_months", _num),
            ("change", "change", functools.partial(_pct, sign=True)),
        ],
        numeric=(1, 2, 3),
    )
    return facts, table


def _product_groups(d: Dossier) -> dict | None:
    if d.by_group.empty:
        return None
    groups = d.by_group.assign(
        change=(d.by_group["revenue"] / d.by_group["revenue_previous"] - 1).where(
            d.by_group["revenue_previous"] > 0
        )
    )
    cur, unit = d.currency, d.quantity_unit
    return _frame_table(
        groups,
        [
            ("product group", "product_group", _cell),
            (f"net sales last 12 months ({cur})", "revenue", _num),
            (f"previous 12 months ({cur})", "revenue_previous", _num),
            ("change", "change", functools.partial(_pct, decimals=0, sign=True)),
            (f"quantity last 12 months ({unit})", "quantity", _num),
        ],
        numeric=(1, 2, 3, 4),
    )


def _half_year_table(half_years: pd.DataFrame, as_of, currency: str, unit: str) -> dict:
    """The consumption table: a column per product group, totals; the current half marked."""
    groups = [
        c
        for c in half_years.columns
        if c not in ("half_year", "total_quantity", "total_amount", "complete")
    ]
    labels = [
        f"{h} (to {pd.Timestamp(as_of):%d %b})" if complete is False else str(h)
        for h, complete in zip(
            half_years["half_year"],
            half_years["complete"] if "complete" in half_years else [True] * len(half_years),
            strict=True,
        )
    ]
    return _frame_table(
        half_years.assign(half_year=labels),
        [("half-year", "half_year", str)]
        + [(f"{g} ({unit})", g, _num) for g in groups]
        + [
            (f"total ({unit})", "total_quantity", _num),
            (f"amount ({currency})", "total_amount", _num),
        ],
        numeric=range(1, len(groups) + 3),
    )


def _payments(d: Dossier) -> dict:
    p, cur = d.payments, d.currency
    if p.days_late is None:
        return {"note": p.note, "facts": [], "table": None}
    cash = _NONE if p.cash_payer is None else ("yes" if p.cash_payer else "no")
    return {
        "note": p.note,
        "facts": [
            (f"open at {_long_date(d.as_of)} ({cur})", _num(p.open_amount)),
            (f"of which overdue ({cur})", _num(p.overdue_amount)),
            ("pays in cash", cash),
        ],
        "table": _frame_table(
            p.days_late,
            [
                ("paid", "bucket", _cell),
                ("invoices", "invoices", _num),
                (f"amount ({cur})", "amount", _num),
            ],
            numeric=(1, 2),
        ),
    }


def _timeline(timeline: pd.DataFrame, as_of) -> tuple[str, dict | None, dict]:
    """A sentence, the events per kind and month of the 12 months to ``as_of``, and
    every event but deliveries (counted, not listed: the sales chart shows them).
    """
    counts = timeline["kind"].astype(str).value_counts()
    plural = {"delivery": "deliveries"}
    summary = ", ".join(
        f"{n} {kind if n == 1 else plural.get(kind, kind + 's')}" for kind, n in counts.items()
    )
    start = pd.Timestamp(as_of) - pd.DateOffset(months=12) + pd.Timedelta(days=1)
    months = pd.period_range(start.to_period("M"), pd.Timestamp(as_of).to_period("M"), freq="M")
    grid = None
    if len(timeline):
        per_month = (
            pd.crosstab(timeline["kind"].astype(str), timeline["date"].dt.to_period("M"))
            .reindex(columns=months, fill_value=0)
            .loc[counts.index]
        )
        grid = _table(
            ["", *months.strftime("%b %y")],
            ([kind, *(str(n) if n else "" for n in row)] for kind, row in per_month.iterrows()),
            numeric=range(1, len(months) + 1),
        )
    events = _frame_table(
        timeline[timeline["kind"] != "delivery"],
        [
            ("date", "date", _date),
            ("what", "kind", _cell),
            ("detail", "detail", lambda v: "" if v == "" else _cell(v)),
        ],
    )
    return summary, grid, events


def _proposals(d: Dossier) -> tuple[dict | None, str]:
    if d.proposals is None:
        return None, ""
    pr = d.proposals
    outcome = pr["outcome"].astype(str).value_counts() if "outcome" in pr else pd.Series()
    won, lost = int(outcome.get("won", 0)), int(outcome.get("lost", 0))
    summary = (
        f"{len(pr)} proposal{'s' if len(pr) != 1 else ''} in the data: {won} won, {lost} lost"
        + (f", {len(pr) - won - lost} open or other." if len(pr) - won - lost else ".")
    )
    table = _frame_table(
        pr,
        [
            ("date", "date", _date),
            ("kind", "kind", _cell),
            (f"value ({d.currency})", "value", _num),
            ("outcome", "outcome", _cell),
            ("reason", "reason", _cell),
            ("competitor", "competitor", _cell),
            ("decided", "decided_date", _date),
        ],
        numeric=(2,),
    )
    return table, summary


def _decision_makers(d: Dossier) -> tuple[dict | None, dict | None]:
    contacts = coverage = None
    if d.contacts is not None:
        contacts = _frame_table(
            d.contacts,
            [
                ("name", "name", _cell),
                ("job title", "job_title", _cell),
                ("role", "role", _words),
                ("influence (1-5)", "influence", _cell),
                ("attitude (-2 to +2)", "attitude", _signed),
                ("last contact", "last_contact", _date),
            ],
            numeric=(3, 4),
        )
    if d.coverage is not None:
        coverage = {
            "table": _frame_table(
                d.coverage.checks,
                [
                    ("check", "check", _cell),
                    ("result", "ok", lambda ok: "yes" if ok else "NO"),
                    ("detail", "detail", lambda v: "" if _missing(v) else str(v)),
                ],
            ),
            # a class name from a fixed list, never from the data
            "rating": d.coverage.rating if d.coverage.rating in _RATINGS else "",
        }
    return contacts, coverage


def _signal_texts(signal: str, value, threshold, currency: str) -> tuple[str, str]:
    """The number behind a signal and the rule it is judged by, in words."""
    if signal == "overdue payments":
        return (
            f"{_num(value)} {currency} overdue",
            f"anything overdue (more than {_num(threshold)})",
        )
    if signal == "falling sales":
        return (
            f"{_pct(value, sign=True)} net sales on the year before",
            f"net sales change of {_pct(threshold, 0)} or worse",
        )
    if signal == "lost tender":
        return f"{_num(value)} lost", f"a proposal lost in the last {_num(threshold)} days"
    if signal == "blocker with high influence":
        return f"{_num(value)} blocker(s)", f"a blocker with influence {_num(threshold)} or more"
    if signal == "no recent contact":
        if _missing(value):
            shown = _NONE
        elif value >= 9999:  # the dossier's value when no visit, call or meeting was recorded
            shown = "none recorded"
        else:
            shown = f"{_num(value)} days since the last"
        return shown, f"more than {_num(threshold)} days without a visit, call or meeting"
    if signal == "falling satisfaction":
        return (
            _NONE if _missing(value) else f"{_num(value, 1)} points on the survey before",
            f"a score {_num(abs(threshold))} points or more below the one before",
        )
    return _cell(value), _cell(threshold)


def _signals(d: Dossier) -> list[dict]:
    ordered = d.signals.sort_values("fired", ascending=False, kind="stable")  # fired first
    rows = []
    for number, s in enumerate(ordered.to_dict("records"), start=1):
        value, rule = _signal_texts(s["signal"], s["value"], s["threshold"], d.currency)
        rows.append(
            {
                "number": number,
                "signal": s["signal"],
                "fired": bool(s["fired"]),
                "value": value,
                "rule": rule,
                "action": s["action"],
            }
        )
    return rows


def _dossier_context(d: Dossier) -> dict:
    """Everything the dossier template shows, as text (the template escapes it)."""
    facts, key_figures = _key_figures(d)
    summary, grid, events = _timeline(d.timeline, d.as_of)
    proposals, proposal_summary = _proposals(d)
    contacts, coverage = _decision_makers(d)
    competitors = satisfaction = satisfaction_chart = None
    if d.competitors is not None:
        competitors = _frame_table(
            d.competitors,
            [
                ("competitor", "competitor", _cell),
                ("since", "since", _date),
                ("estimated share", "estimated_share", _pct),
            ],
            numeric=(2,),
        )
    if d.satisfaction is not None:
        satisfaction = _frame_table(
            d.satisfaction,
            [
                ("survey", "date", _date),
                ("score (0-10)", "score", _score),
                ("comment", "comment", lambda v: "" if _missing(v) else str(v)),
            ],
            numeric=(1,),
        )
        if d.satisfaction["score"].notna().sum() >= 2:
            satisfaction_chart = _satisfaction_chart(d.satisfaction.dropna(subset=["score"]))
    signals = _signals(d)
    return {
        "d": d,
        "as_of": _long_date(d.as_of),
        "sections": dict(DOSSIER_SECTIONS),
        "notes": _notes(d),
        "general": _frame_table(d.general, [("", "field", _cell), ("", "value", _cell)]),
        "facts": facts,
        "key_figures": key_figures,
        "sales_chart": _sales_chart(d.monthly, d.currency),
        "by_group": _product_groups(d),
        "half_years": _half_year_table(d.half_years, d.as_of, d.currency, d.quantity_unit),
        "payments": _payments(d),
        "timeline_summary": summary,
        "timeline_grid": grid,
        "events": events,
        "proposals": proposals,
        "proposal_summary": proposal_summary,
        "contacts": contacts,
        "coverage": coverage,
        "competitors": competitors,
        "our_share": None if d.our_share is None else _pct(d.our_share, 0),
        "satisfaction": satisfaction,
        "satisfaction_chart": satisfaction_chart,
        "signals": signals,
        "fired": sum(s["fired"] for s in signals),
    }


def render_dossier(dossier: Dossier) -> str:
    """The dossier as one complete, self-contained HTML page (internal use).

    Sections in order: general information, key figures, sales history, half-yearly
    consumption, payment behaviour, relationship history, decision-making unit,
    competitors and our share, satisfaction, signals and next actions
    (:data:`DOSSIER_SECTIONS`). A section whose table the dataset lacks shows the
    sentence of ``dossier.notes`` instead.

    Parameters
    ----------
    dossier : Dossier
        From :func:`kamlib.build_dossier` or :func:`kamlib.build_dossiers`.

    Returns
    -------
    str
        The HTML document: CSS inline, charts as base64 PNG, every value escaped,
        nothing loaded from elsewhere.
    """
    return _environment().get_template("dossier.html.j2").render(_dossier_context(dossier))


def render_consumption_report(report: CustomerReport) -> str:
    """The customer's consumption report as one complete HTML page (safe to send).

    It shows the quantity per month (chart), the half-year table and the last
    12 months by product group: only what :class:`~kamlib.dossier.CustomerReport`
    holds, which is nothing internal (no margin, contacts, competitors, signals or
    classes).

    Parameters
    ----------
    report : CustomerReport
        From :func:`kamlib.consumption_report`.

    Returns
    -------
    str
        The HTML document, self-contained like :func:`render_dossier`.
    """
    r = report
    unit, cur = r.quantity_unit, r.currency
    months = pd.PeriodIndex(r.monthly["month"])
    context = {
        "r": r,
        "as_of": _long_date(r.as_of),
        "period": f"{months[0].strftime('%b %Y')} to {_long_date(r.as_of)}"
        if len(months)
        else _NONE,
        "chart": _quantity_chart(r.monthly, unit),
        "half_years": _half_year_table(r.half_years, r.as_of, cur, unit),
        "by_group": _table(
            ["product group", f"quantity ({unit})", f"amount ({cur})"],
            (
                (g.product_group, _num(g.quantity), _num(g.amount))
                for g in r.by_group.itertuples(index=False)
            ),
            numeric=(1, 2),
        ),
        "total_quantity": _num(r.by_group["quantity"].sum()),
        "total_amount": _num(r.by_group["amount"].sum()),
    }
    return _environment().get_template("consumption.html.j2").render(context)


_INDEX = """\
{% extends "dossier.html.j2" %}
{% block head %}<meta name="generator" content="{{ generator }}">{% endblock %}
{% block title %}{{ title }}{% endblock %}
{% block dossier_style %}{% endblock %}
{% block body %}
<header>
<h1>{{ title }}</h1>
<p class="meta">{{ count }} page{{ "s" if count != 1 }} · as of {{ as_of }} · {{ dataset }}</p>
{% if internal_note %}<p><b>{{ internal_note }}</b></p>{% endif %}
</header>
<table>
<thead><tr>{% for h in head %}<th{% if loop.index == 5 %} class="num"{% endif %}>{{ h }}</th>{% endfor %}</tr></thead>
<tbody>
{% for row in rows %}
<tr><td><a href="{{ row.href }}">{{ row.id }}</a></td><td><a href="{{ row.href }}">{{ row.name }}</a></td>
{% for cell in row.extra %}<td{% if loop.index == 3 %} class="num"{% endif %}>{{ cell }}</td>{% endfor %}</tr>
{% endfor %}
</tbody></table>
{% endblock %}
"""


def _render_index(rows: list[dict], *, customer_facing: bool, as_of, dataset: str) -> str:
    head = ["account", "name"] + ([] if customer_facing else ["ABC-XYZ", "type", "signals fired"])
    return (
        _environment()
        .from_string(_INDEX)
        .render(
            generator=_GENERATOR,
            title="Consumption reports: internal overview"
            if customer_facing
            else "Account dossiers",
            internal_note=(
                "Internal, not for customers: send each customer only its own folder, "
                "never this overview."
                if customer_facing
                else ""
            ),
            count=len(rows),
            as_of=_long_date(as_of),
            dataset=dataset,
            head=head,
            rows=rows,
        )
    )


# --- batches -----------------------------------------------------------------------------------


def _file_names(ids: list[str]) -> list[str]:
    """A safe, distinct file name per account id (``index`` is the index's).

    An id that is a safe name keeps it (``K10127.html``); in any other id characters
    other than letters, digits, ``-``, ``_`` and ``.`` become ``_``, and an id longer
    than 40 characters is cut, with a short hash of the whole id appended so that cut
    ids stay apart (``AAAA…AAA-3f2a9c1e.html``).
    """
    taken = {"index", Path(_INTERNAL_INDEX).stem}
    names = []
    for account in ids:
        stem = re.sub(r"[^\w\-.]+", "_", account).strip("._") or "account"
        if len(stem) > _STEM_CHARS:
            digest = hashlib.sha256(account.encode("utf-8", "surrogatepass")).hexdigest()[:8]
            stem = f"{stem[:_STEM_CHARS].rstrip('._-')}-{digest}"
        candidate, n = stem, 1
        while candidate.lower() in taken:  # distinct on case-insensitive disks too
            n += 1
            candidate = f"{stem}-{n}"
        taken.add(candidate.lower())
        names.append(f"{candidate}.html")
    return names


def _write_page(item: Dossier | CustomerReport, path: str) -> None:
    """Render one page and write it (runs in a worker process)."""
    text = render_dossier(item) if isinstance(item, Dossier) else render_consumption_report(item)
    Path(path).write_text(text, encoding="utf-8")


def _init_worker(parent: int) -> None:
    """Workers leave Ctrl-C to the main process, which stops them and cleans up, and end
    when it ends, even when it is killed."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    die_with_parent(parent)


def dossier_accounts(
    dataset: Dataset, which: str | Iterable[str], *, as_of, with_types: bool = True
) -> tuple[list[str], pd.DataFrame | None]:
    """The account ids of a batch and their key-account types.

    Parameters
    ----------
    dataset : Dataset
    which : str or iterable of str
        ``"key"`` (the key accounts of the identification pipeline, in selection order),
        ``"all"`` (every account, by id), a comma-separated list of ids or an iterable of ids.
    as_of : Timestamp
    with_types : bool, default True
        Run the identification for the types also when ``which`` is not ``"key"``.

    Returns
    -------
    ids : list of str
        Without duplicates; not checked (:func:`kamlib.build_dossiers` checks them).
    types : pandas.DataFrame or None
        ``account_id`` and ``type`` of the key accounts (:func:`kamlib.assign_types`);
        None when not asked for, or when the data are too thin for the identification
        (then ``"key"`` raises ValueError).
    """
    key_ids: list[str] = []
    types = None
    is_key = isinstance(which, str) and which == "key"
    if with_types or is_key:
        try:
            types = key_account_types(dataset, as_of=as_of)
            key_ids = [str(a) for a in types["account_id"]]
        except ValueError as exc:
            if is_key:
                raise ValueError(f"the key accounts cannot be identified: {exc}") from exc
    if isinstance(which, str):
        if which == "key":
            ids = key_ids
        elif which == "all":
            known = set(dataset.transactions["account_id"].astype(str))
            if dataset.has("accounts"):
                known |= set(dataset.get("accounts")["account_id"].astype(str))
            ids = sorted(known)
        else:
            ids = [part.strip() for part in which.split(",")]
    else:
        ids = [str(a).strip() for a in which]
    return list(dict.fromkeys(i for i in ids if i)), types


def write_dossiers(
    dataset: Dataset | str | os.PathLike[str],
    accounts: str | Iterable[str],
    *,
    as_of,
    out: str | os.PathLike[str] = "dossiers",
    customer_facing: bool = False,
    types: pd.DataFrame | None = None,
    workers: int = 2,
    progress: Callable[[int, int], None] | None = None,
) -> DossierBatch:
    """Write one HTML page per account and an ``index.html`` into a new dated folder.

    Parameters
    ----------
    dataset : Dataset, str or path-like
        A loaded dataset, or what :func:`kamlib.load_dataset` takes (``"sample"``).
    accounts : str or iterable of str
        ``"key"``, ``"all"``, ids separated by commas, or an iterable of ids (see
        :func:`dossier_accounts`). An unknown id raises
        :class:`~kamlib.dossier.UnknownAccountError` (listing close matches) before
        anything is written.
    as_of : date, str or Timestamp
        The reference date; None or ``""`` takes the last transaction date.
    out : path-like, default "dossiers"
        Parent folder (relative: in the project folder). The pages go into
        ``<out>/<as_of>/`` (``<out>/<as_of>-customer/`` when ``customer_facing``), which
        appears only when complete and replaces an earlier batch for the same date;
        batches for other dates are not touched. A folder of that name that no batch
        wrote (without the kit's marker ``.kam-written``), or a link, is never
        replaced: ValueError. So is an ``out`` that is a file or cannot be written.
    customer_facing : bool, default False
        Write each account's consumption report (nothing internal) instead of its
        dossier, each in a folder of its own named like its page
        (``<as_of>-customer/K10127/K10127.html``), which holds nothing about other
        customers; the overview ``internal-index.html`` (id and name of every customer,
        the dataset's name) is beside those folders and is not for customers.
    types : pandas.DataFrame, optional
        ``account_id`` and ``type``; by default the types of the key accounts from the
        identification pipeline.
    workers : int, default 2
        Processes drawing the charts and rendering the pages while this one builds the
        dossiers. Batches of fewer than six pages per worker are rendered here, where starting
        the workers would cost more than they save.
    progress : callable, optional
        Called as ``progress(done, total)`` after each page.

    Returns
    -------
    DossierBatch
        The folder, the files written, the seconds taken and the number of pages.

    Notes
    -----
    The workers are started with ``spawn`` (forking a process that runs threads can
    hang), so a script calling this with ``workers > 1`` needs the usual
    ``if __name__ == "__main__":`` guard; the ``kam`` command and notebooks need nothing.
    """
    t0 = time.perf_counter()
    ds = dataset if isinstance(dataset, Dataset) else load_dataset(dataset)
    as_of = resolve_as_of(ds.transactions, as_of)
    want_types = types is None and not customer_facing
    ids, found_types = dossier_accounts(ds, accounts, as_of=as_of, with_types=want_types)
    if not ids:
        raise ValueError(f"no accounts to write: {accounts!r} selects none in {ds.name!r}")
    if want_types:
        types = found_types
    dossiers = build_dossiers(ds, ids, as_of=as_of, types=types)
    # the first dossier checks every id: an unknown one raises before anything is written
    dossiers = itertools.chain([next(dossiers)], dossiers)
    names = _file_names(ids)

    root = resolve_output(out)
    check_out_folder(root)
    final = root / (f"{as_of:%Y-%m-%d}" + ("-customer" if customer_facing else ""))
    if final.is_symlink() or (final.exists() and not written_by_kit(final, written_by=_WRITTEN_BY)):
        raise ValueError(
            f"{final} exists and was not written by `kam dossiers` (it is a link, or has no "
            ".kam-written marker of the kit), so it is left alone; give another --out"
        )
    # a customer's page goes into a folder of its own, named like the page
    pages = [f"{Path(n).stem}/{n}" for n in names] if customer_facing else names
    index_name = _INTERNAL_INDEX if customer_facing else "index.html"
    root.mkdir(parents=True, exist_ok=True)
    remove_stale(root, written_by=_WRITTEN_BY)
    tmp = Path(tempfile.mkdtemp(prefix=f".incomplete-{final.name}-", dir=root))
    try:
        run_id = new_run_id()  # a killed batch's folder is removed by a later one
        write_marker(tmp, written_by=_WRITTEN_BY, run_id=run_id, running=True)
        tmp.chmod(0o777 & ~_umask())  # mkdtemp makes 0700; colleagues need to read
        rows = []

        def jobs():
            for dossier, page in zip(dossiers, pages, strict=True):
                rows.append(_index_row(dossier, page, customer_facing))
                item = consumption_report(dossier) if customer_facing else dossier
                if customer_facing:
                    (tmp / page).parent.mkdir(mode=0o777 & ~_umask())
                yield item, str(tmp / page)

        _run(jobs(), len(ids), workers, progress)
        (tmp / index_name).write_text(
            _render_index(rows, customer_facing=customer_facing, as_of=as_of, dataset=ds.name),
            encoding="utf-8",
        )
        write_marker(tmp, written_by=_WRITTEN_BY, run_id=run_id)  # complete: no pid
        swap_into_place(
            tmp, final, written_by=_WRITTEN_BY, aside_prefix=f".incomplete-replaced-{final.name}-"
        )
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    files = (*(final / n for n in pages), final / index_name)
    return DossierBatch(final, files, time.perf_counter() - t0, len(ids))


def _index_row(dossier: Dossier, file_name: str, customer_facing: bool) -> dict:
    extra = []
    if not customer_facing:
        extra = [
            _cell(dossier.facts.get("abc_xyz")) or _NONE,
            _cell(dossier.facts.get("type")) or _NONE,
            str(int(dossier.signals["fired"].sum())),
        ]
    return {
        "id": dossier.account_id,
        "name": dossier.name,
        "href": quote(file_name),
        "extra": extra,
    }


def _run(jobs, total: int, workers: int, progress) -> None:
    """Render the pages of ``jobs`` here or in ``workers`` processes, in order of submission."""
    done = 0

    def finished():
        nonlocal done
        done += 1
        if progress is not None:
            progress(done, total)

    n_workers = min(workers, total // _PAGES_PER_WORKER)
    if n_workers <= 1:
        for item, path in jobs:
            _write_page(item, path)
            finished()
        return
    # spawn, not fork: forking a process with threads (BLAS, pandas) can deadlock
    pool = ProcessPoolExecutor(
        max_workers=n_workers,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_init_worker,
        initargs=(os.getpid(),),
    )
    pending: collections.deque = collections.deque()
    try:
        for item, path in jobs:  # dossiers are built here while the workers draw
            pending.append(pool.submit(_write_page, item, path))
            while len(pending) >= 4 * n_workers:  # bounded: memory stays flat for any batch
                pending.popleft().result()
                finished()
        while pending:
            pending.popleft().result()
            finished()
    except BaseException:
        pool.shutdown(wait=True, cancel_futures=True)  # no worker writes after the cleanup
        raise
    pool.shutdown()
