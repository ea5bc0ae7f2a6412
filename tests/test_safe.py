"""kamlib.safe: data-derived text in notebook sentences and tables never becomes markup.

Each case goes through the path of ``kam report``: the display object's outputs are put
in a notebook, rendered by the report's HTMLExporter (lab template, kam_report.html.j2,
nbconvert's own mistune Markdown renderer), and the page is parsed with the standard
library's HTMLParser.
"""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

import nbformat
import pandas as pd
import pytest
from IPython.core.formatters import DisplayFormatter

from kamlib.exercises import Exercise, Text
from kamlib.report import _render_html
from kamlib.safe import escape_frame, escape_markdown, literal, say, table

PAYLOADS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "<svg onload=alert(1)>",
    "[x](javascript:alert(1))",
    "<javascript:alert(1)>",
    "![x](javascript:alert(1))",
    '" onmouseover="alert(1)',
    "&lt;script&gt;alert(1)&lt;/script&gt;",
    "A**B** _c_ `d`",
    "x](javascript:alert(1)) [y",
    "a|b\n-|-\n<img src=x onerror=alert(1)>|",
    "```\n</code><script>alert(1)</script>",
    "$<img src=x onerror=alert(1)>$",
    "[x]: javascript:alert(1)\n\n[x]",
    "\\<script>alert(1)\\</script>",
    "JaVaScRiPt:alert(1) data:text/html,<b>x</b> vbscript:msgbox(1)",
]
CSP = (
    "default-src 'none'; img-src data:; style-src 'unsafe-inline'; font-src data:; "
    "base-uri 'none'; form-action 'none'"
)
_BAD_URL = re.compile(r"^\s*(javascript|vbscript|data:text)", re.IGNORECASE)
_URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "srcset", "poster", "data"}


class _Page(HTMLParser):
    """What a browser would run or follow, and the visible text of the page body."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.scripts: list[str] = []
        self.handlers: list[tuple[str, str]] = []
        self.urls: list[tuple[str, str]] = []
        self.csp: list[str] = []
        self.text: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag == "script":
            self.scripts.append(str(attrs))
        if tag in ("script", "style"):
            self._skip += 1
        for name, value in attrs:
            if name.lower().startswith("on"):
                self.handlers.append((tag, f"{name}={value}"))
            if name in _URL_ATTRIBUTES and value and _BAD_URL.match(html.unescape(value)):
                self.urls.append((tag, f"{name}={value}"))
        if tag == "meta" and dict(attrs).get("http-equiv", "").lower() == "content-security-policy":
            self.csp.append(dict(attrs).get("content", ""))

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self._skip = max(0, self._skip - 1)

    def handle_data(self, data):
        if not self._skip:
            self.text.append(data)

    @property
    def visible(self) -> str:
        return " ".join("".join(self.text).split())


def _outputs(*objects) -> list:
    formatter = DisplayFormatter()
    outputs = []
    for obj in objects:
        data, _ = formatter.format(obj)
        outputs.append(nbformat.v4.new_output("display_data", data=data))
    return outputs


def _render(tmp_path, outputs) -> _Page:
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("shown()")
    cell.outputs = outputs
    nb.cells.append(cell)
    target = tmp_path / "page.html"
    _render_html(nb, target)
    page = _Page()
    page.feed(target.read_text(encoding="utf-8"))
    return page


def _assert_inert(page: _Page) -> None:
    assert page.scripts == [], f"script element(s) in the page: {page.scripts}"
    assert page.handlers == [], f"event-handler attribute(s): {page.handlers}"
    assert page.urls == [], f"javascript:/vbscript:/data:text URL(s): {page.urls}"
    assert page.csp == [CSP], f"Content-Security-Policy of the page: {page.csp}"


def _flat(text: str) -> str:
    return " ".join(text.split())


@pytest.mark.parametrize("payload", PAYLOADS)
def test_say_shows_every_payload_as_text(tmp_path, payload):
    sentences = [
        say(f"**{literal(payload)}** bought it; the account *{literal(payload)}* is kept."),
        say(f"## {literal(payload)} (K1)\n\nDossier at **30 Sep 2025**."),
    ]
    page = _render(tmp_path, _outputs(*sentences))
    _assert_inert(page)
    assert page.visible.count(_flat(payload)) == 3, page.visible


@pytest.mark.parametrize("payload", PAYLOADS)
def test_say_neutralises_payloads_written_into_a_sentence_unescaped(tmp_path, payload):
    # describe_* functions interpolate names without literal(): the whole sentence is escaped.
    sentences = [
        say(f"**{payload}** bought it, `{payload}` and {payload}."),
        say(f"## {payload}\n\n{payload}"),
        say(f"`{payload}`"),
    ]
    page = _render(tmp_path, _outputs(*sentences))
    _assert_inert(page)
    if "*" not in payload and "_" not in payload and "\\" not in payload:
        # emphasis and backslashes in data may merge with the kit's Markdown; all else shows
        assert _flat(payload) in page.visible, page.visible


def test_say_keeps_the_kits_markdown(tmp_path):
    from nbconvert.filters.markdown_mistune import markdown2html_mistune

    sentence = (
        "## Acme GmbH (K10001)\n\nLoaded **Klebwerk**: 1,234 lines, *lost* after 180 days; "
        "see `as_of` and `key_accounts.csv`. Share ≤ 5 % of 12.3 k EUR — done."
    )
    assert escape_markdown(sentence) == sentence
    rendered = markdown2html_mistune(escape_markdown("Share < 5 % & `date > as_of` [A]"))
    assert rendered == ("<p>Share &lt; 5 % &amp; <code>date &gt; as_of</code> [A]</p>\n"), rendered


def test_say_is_text_when_printed():
    sentence = say("**<b>x</b>**")
    assert str(sentence) == "**<b>x</b>**"
    assert sentence._repr_markdown_() == "**&lt;b&gt;x&lt;/b&gt;**"


def test_literal_escapes_markdown_and_line_breaks():
    assert literal("A**B**\n# h") == r"A\*\*B\*\* \# h"
    assert literal(12.5) == r"12\.5"


def _hostile_frame() -> pd.DataFrame:
    payload = PAYLOADS
    n = len(payload)
    frame = pd.DataFrame(
        {
            "name": payload,
            "segment": pd.Categorical(payload),
            "mixed": [p if i % 2 else [p] for i, p in enumerate(payload)],
            "revenue": [1234.5] * n,
            "date": pd.Timestamp("2025-09-30"),
            payload[0]: payload[::-1],
        },
        index=pd.Index(payload, name=payload[1]),
    )
    frame.columns.name = payload[2]
    return frame


def test_table_escapes_cells_labels_and_survives_later_formats(tmp_path):
    frame = _hostile_frame()
    styler = (
        table(frame)
        .format({"revenue": "{:,.0f}", "date": "{:%d %b %Y}"}, na_rep="—")
        .format(lambda v: v, subset=["name"])  # a later formatter replaces any escape="html"
        .format(str, subset=["mixed"])
    )
    page = _render(tmp_path, _outputs(styler))
    _assert_inert(page)
    for payload in PAYLOADS:
        assert _flat(payload) in page.visible, payload
    assert "1,234" in page.visible and "30 Sep 2025" in page.visible


def test_unescaped_styler_is_caught_by_the_check(tmp_path):
    # The control case: what the notebooks did before, and what the parser catches.
    page = _render(tmp_path, _outputs(_hostile_frame().style))
    assert page.scripts and page.handlers


def test_plain_dataframe_display_is_escaped_by_pandas(tmp_path):
    page = _render(tmp_path, _outputs(_hostile_frame()))
    _assert_inert(page)
    assert _flat(PAYLOADS[0]) in page.visible


def test_table_hide_index_and_series(tmp_path):
    series = pd.Series(PAYLOADS, name=PAYLOADS[0])
    page = _render(tmp_path, _outputs(table(series, hide_index=True)))
    _assert_inert(page)
    assert _flat(PAYLOADS[1]) in page.visible


def test_escape_frame_keeps_numbers_dates_and_the_input():
    frame = _hostile_frame()
    before = frame.copy()
    out = escape_frame(frame)
    pd.testing.assert_frame_equal(frame, before)
    assert out["revenue"].dtype == frame["revenue"].dtype
    assert out["date"].dtype == frame["date"].dtype
    assert isinstance(out["segment"].dtype, pd.CategoricalDtype)
    assert out["name"].iloc[0] == "&lt;script&gt;alert(1)&lt;/script&gt;"
    assert out["mixed"].iloc[0] == "[&#x27;&lt;script&gt;alert(1)&lt;/script&gt;&#x27;]"
    assert out.index[0] == "&lt;script&gt;alert(1)&lt;/script&gt;"
    assert out.columns[-1] == "&lt;script&gt;alert(1)&lt;/script&gt;"
    assert out.index.name == "&lt;img src=x onerror=alert(1)&gt;"


def test_escape_frame_multiindex_and_missing_values():
    frame = pd.DataFrame(
        {"group": ["<b>", None, "c"], "year": [2024, 2025, 2025], "rate": [0.1, None, 0.3]}
    ).set_index(["group", "year"])
    out = escape_frame(frame)
    assert list(out.index.get_level_values("group")[:1]) == ["&lt;b&gt;"]
    assert out["rate"].isna().sum() == 1


def test_table_refuses_a_styler():
    with pytest.raises(ValueError, match=r"not a Styler; pass the data and style the result"):
        table(pd.DataFrame({"a": [1]}).style)


def test_exercise_text_escapes_questions_and_fences_code(tmp_path):
    payload = "<img src=x onerror=alert(1)>"
    exercise = Exercise(
        key="rank",
        question=f"Rank **{payload}**, `[x](javascript:alert(1))` and [y](javascript:alert(1)).",
        expected=1,
        hint_text=payload,
        solution_code=f"answer = '```'\n# {payload}\n```\n<script>alert(1)</script>",
    )
    solution = Text("Solution", exercise.solution_code, code=True, fold=False)
    page = _render(tmp_path, _outputs(exercise, exercise.hint(), solution))
    _assert_inert(page)
    assert payload in page.visible and "<script>alert(1)</script>" in page.visible


def test_report_template_runs_no_script_at_all(tmp_path):
    outputs = [
        nbformat.v4.new_output("display_data", data={"application/javascript": "alert(1)"}),
        nbformat.v4.new_output(
            "display_data",
            data={
                "application/vnd.jupyter.widget-view+json": {"model_id": "x"},
                "text/plain": "widget",
            },
        ),
    ]
    page = _render(tmp_path, outputs)
    _assert_inert(page)


def test_one_policy_for_every_page_the_kit_writes():
    """The templates and the run's index carry kamlib.safe.CSP, word for word."""
    from pathlib import Path

    import kamlib.safe

    assert kamlib.safe.CSP == CSP
    templates = Path(kamlib.safe.__file__).parent / "templates"
    for name in ("kam_report.html.j2", "dossier.html.j2"):
        assert f'content="{CSP}"' in (templates / name).read_text(encoding="utf-8"), name
