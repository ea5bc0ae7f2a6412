"""Stored script injection: a dataset whose every free-text field is a payload.

The sample company (``kam sample``) is rewritten so that account, contact and product
names, region, industry, segment, account manager, group, product group, job titles,
notes, reasons, outcomes, competitors, survey comments and the dataset's ``name:`` carry
HTML, Markdown-link and attribute payloads (ids stay valid, category columns keep their
allowed values). It then goes through ``kam report`` (all notebooks), ``kam dossiers
--accounts all`` and the customer-facing batch, and every HTML page written is parsed
with the standard library's HTMLParser: no script element, no event-handler attribute,
no javascript:/vbscript:/data:text URL, the Content-Security-Policy on the page, and the
payloads visible as text.
"""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest
import yaml

from kamlib.cli import main
from kamlib.schema import MODEL

PAYLOADS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "<svg onload=alert(1)>",
    "[x](javascript:alert(1))",
    "<javascript:alert(1)>",
    "![x](javascript:alert(1))",
    '" onmouseover="alert(1)',
    "&lt;script&gt;alert(1)&lt;/script&gt;",
    "**bold** `code` _it_",
    "<a href='javascript:alert(1)'>x</a>",
    "<iframe src=javascript:alert(1)>",
]
NAME = "<script>alert('name')</script> [n](javascript:alert(2))"
CSP = (
    "default-src 'none'; img-src data:; style-src 'unsafe-inline'; font-src data:; "
    "base-uri 'none'; form-action 'none'"
)
_BAD_URL = re.compile(r"^\s*(javascript|vbscript|data:text)", re.IGNORECASE)
_URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "srcset", "poster", "data"}


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.scripts: list[str] = []
        self.handlers: list[str] = []
        self.urls: list[str] = []
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
                self.handlers.append(f"<{tag} {name}={value!r}>")
            if name in _URL_ATTRIBUTES and value and _BAD_URL.match(html.unescape(value)):
                self.urls.append(f"<{tag} {name}={value!r}>")
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


def _parse(path: Path) -> _Page:
    page = _Page()
    page.feed(path.read_text(encoding="utf-8"))
    page.close()
    return page


def _free_text_columns(table: str) -> list[str]:
    """The model's string columns that hold free text (not ids, not fixed categories)."""
    return [
        c.name for c in MODEL[table].columns if c.type == "string" and not c.name.endswith("_id")
    ]


def _poison(folder: Path) -> None:
    """Every free-text cell of every table becomes a payload; kam.yaml's name: too."""
    config = yaml.safe_load((folder / "kam.yaml").read_text(encoding="utf-8"))
    for table, file in config["tables"].items():
        path = folder / file
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        for column in _free_text_columns(table):
            if column not in frame:
                continue
            cycled = [PAYLOADS[(i + len(column)) % len(PAYLOADS)] for i in range(len(frame))]
            # each value stays distinct (names and groups are compared), payload first
            values = pd.Series(cycled, index=frame.index) + " #" + frame.index.astype(str)
            frame[column] = values.where(frame[column] != "", "")
        frame.to_csv(path, index=False)
    config["name"] = NAME
    (folder / "kam.yaml").write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")


@pytest.fixture(scope="module")
def pages(tmp_path_factory) -> dict[str, list[Path]]:
    """The poisoned dataset through kam report, kam dossiers and the customer batch (once)."""
    root = tmp_path_factory.mktemp("injection")
    data = root / "hostile"
    assert (
        main(["sample", "--out", str(data), "--accounts", "60", "--years", "3", "--seed", "5"]) == 0
    )
    _poison(data)
    assert main(["check", str(data)]) == 0, "the poisoned dataset must still load"
    assert main(["report", "--data", str(data), "--out", str(root / "reports")]) == 0
    dossiers = root / "dossiers"
    assert main(["dossiers", "--data", str(data), "--accounts", "all", "--out", str(dossiers)]) == 0
    assert (
        main(
            [
                "dossiers",
                "--data",
                str(data),
                "--accounts",
                "all",
                "--out",
                str(dossiers),
                "--customer-facing",
            ]
        )
        == 0
    )
    written = sorted(dossiers.rglob("*.html"))

    def customer(path: Path) -> bool:
        return any(part.endswith("-customer") for part in path.relative_to(dossiers).parts)

    runs = [p for p in (root / "reports").iterdir() if p.is_dir()]
    assert len(runs) == 1, runs
    found = {
        "report": sorted(runs[0].glob("*.html")),  # the run's index.html and one page a notebook
        "exports": sorted((runs[0] / "exports").rglob("*.html")),  # notebook 03's dossier pages
        "dossier": [p for p in written if not customer(p)],
        "customer": [p for p in written if customer(p)],
    }
    for kind, paths in found.items():
        assert paths, f"no {kind} page was written under {root}"
    return found


def _report_index(pages) -> list[Path]:
    return [p for p in pages["report"] if p.name == "index.html"]


def _all_pages(pages) -> list[Path]:
    return [p for paths in pages.values() for p in paths]


def test_the_poisoned_dataset_reaches_every_kind_of_page(pages):
    notebooks = [p for p in pages["report"] if p.name != "index.html"]
    assert [p.name[:2] for p in notebooks] == ["00", "01", "02", "03", "04"], notebooks
    # the payloads are on the pages, as text: the checks below are not vacuous
    start = _parse(next(p for p in notebooks if p.name.startswith("00_")))
    assert html.unescape(NAME) in start.visible
    visible = " ".join(_parse(p).visible for p in notebooks)
    for payload in (
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        "[x](javascript:alert(1))",
    ):
        assert payload in visible, payload
    dossier = " ".join(_parse(p).visible for p in pages["dossier"][:5])
    assert "<svg onload=alert(1)>" in dossier or "<script>alert(1)</script>" in dossier


def test_no_page_has_a_script_an_event_handler_or_a_script_url(pages):
    problems = []
    for path in _all_pages(pages):
        page = _parse(path)
        for kind, found in (
            ("script element", page.scripts),
            ("event handler", page.handlers),
            ("URL", page.urls),
        ):
            if found:
                problems.append(f"{path.name}: {kind}: {found[:3]}")
    assert problems == [], "\n".join(problems)


def test_every_notebook_dossier_and_customer_page_has_the_csp(pages):
    missing = [
        str(path)
        for path in _all_pages(pages)
        if path not in _report_index(pages) and _parse(path).csp != [CSP]
    ]
    assert missing == [], f"pages without the Content-Security-Policy: {missing}"


def test_report_index_has_the_csp(pages):
    index = _report_index(pages)
    assert index and all(_parse(p).csp == [CSP] for p in index)
