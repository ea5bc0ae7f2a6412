"""A dataset whose every free-text cell and name carries a script or formula payload.

The payloads are valid data: every command accepts them (exit 0), writes them as
visible text, and no page it writes runs them.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest

from .hostile import (
    DATASET_TOKEN,
    changes,
    check_result,
    html_problems,
    page_text,
    pages,
    parse_page,
    run_cli,
    tree_state,
)

NOTEBOOKS = sorted(
    p.stem for p in (Path(__file__).parents[2] / "notebooks").glob("[0-9][0-9]_*.ipynb")
)
#: Text in a copy or export that shows a payload was kept as it came.
LIVE = ("<script", "<img", "<svg", "onerror=", "onload=", "javascript:")


def _run_folder(out: Path) -> Path:
    runs = [p for p in out.iterdir() if p.is_dir() and not p.name.startswith(".")]
    assert len(runs) == 1, f"expected one run folder in {out}, found {runs}"
    return runs[0]


def _batch_folder(out: Path) -> Path:
    return _run_folder(out)


def _formula_cells(folder: Path) -> list[str]:
    """Cells of the CSV files under ``folder`` that a spreadsheet would run as formulas."""
    found = []
    for path in sorted(folder.rglob("*.csv")):
        with path.open(encoding="utf-8-sig", newline="") as fh:
            for line, row in enumerate(csv.reader(fh), start=1):
                for cell in row:
                    if re.match(r"[=+\-@\t\r]", cell) and not re.fullmatch(
                        r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?", cell
                    ):
                        found.append(f"{path.relative_to(folder)} line {line}: {cell[:60]!r}")
    return found


def _csp_problem(path: Path) -> str:
    """What is wrong with the page's Content-Security-Policy for scripts ("" if nothing)."""
    policies = parse_page(path).csp
    if not policies:
        return f"{path.name} has no <meta http-equiv='Content-Security-Policy'>"
    for policy in policies:
        directives = {d.split()[0].lower(): d.split()[1:] for d in policy.split(";") if d.split()}
        scripts = directives.get("script-src", directives.get("default-src"))
        if scripts is not None and not {"'unsafe-inline'", "*", "data:", "http:", "https:"} & {
            s.lower() for s in scripts
        }:
            return ""
    return f"{path.name}: no policy forbids inline and foreign scripts: {policies}"


def _unsafe_pages(folder: Path) -> dict[str, list[str]]:
    found = {}
    for page in pages(folder):
        problems = html_problems(page)
        if problems:
            found[str(page.relative_to(folder))] = problems[:3]
    return found


# --- kam check ---------------------------------------------------------------------------


def test_check_accepts_payloads_as_text(payload_data, payload_base):
    before = tree_state(payload_base)
    result = run_cli(["check", payload_data.folder], timeout=120)
    check_result(result, 0)
    assert "is valid" in result.out
    assert changes(before, tree_state(payload_base)) == []


# --- kam report ----------------------------------------------------------------------------


def test_report_runs_every_notebook_on_payloads(payload_report):
    check_result(payload_report.result, 0)


def test_report_changes_nothing_outside_its_out_folder(payload_report):
    assert changes(payload_report.before, payload_report.after) == []


@pytest.mark.parametrize("page", [*NOTEBOOKS, "index"])
def test_report_page_runs_no_payload(payload_report, page):
    path = _run_folder(payload_report.out) / f"{page}.html"
    assert path.is_file(), f"no {path.name} in {path.parent}"
    assert html_problems(path) == []


@pytest.mark.parametrize("page", NOTEBOOKS)
def test_report_page_has_no_script_at_all(payload_report, page):
    # the reports are static: no script element, so nothing can be slipped into one
    scripts = parse_page(_run_folder(payload_report.out) / f"{page}.html").scripts
    assert [s[:80] for s in scripts] == []


@pytest.mark.parametrize("page", NOTEBOOKS)
def test_report_page_has_a_content_security_policy(payload_report, page):
    path = _run_folder(payload_report.out) / f"{page}.html"
    assert _csp_problem(path) == ""


def test_every_page_of_the_run_carries_the_kits_policy(payload_report):
    # the notebooks' pages, the run's index and the dossier pages notebook 03 exports
    import kamlib.safe

    folder = _run_folder(payload_report.out)
    found = pages(folder)
    assert any("exports" in p.parts for p in found), f"no exported page in {folder}"
    wrong = {
        str(p.relative_to(folder)): parse_page(p).csp
        for p in found
        if parse_page(p).csp != [kamlib.safe.CSP]
    }
    assert wrong == {}
    assert _unsafe_pages(folder) == {}


def test_report_shows_payloads_as_text(payload_report):
    # the payloads reached the pages (else the checks above prove nothing) and read as text
    folder = _run_folder(payload_report.out)
    shown = [p.name for p in pages(folder) if "alert(1)" in page_text(p)]
    assert shown, f"no report page in {folder} shows a payload as text"
    text = " ".join(page_text(folder / f"{nb}.html") for nb in NOTEBOOKS)
    for payload in ("<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "(javascript:"):
        assert payload in text, f"{payload!r} is not shown as text on any notebook's page"


def test_report_exports_neutralise_formulas(payload_report):
    exports = _run_folder(payload_report.out) / "exports"
    assert any(exports.rglob("*.csv")), f"no exported table in {exports}"
    assert _formula_cells(exports) == []


# --- kam dossiers -------------------------------------------------------------------------


def test_dossiers_accept_payloads(payload_dossiers):
    check_result(payload_dossiers.result, 0)
    assert changes(payload_dossiers.before, payload_dossiers.after) == []


def test_dossier_pages_run_no_payload(payload_dossiers, payload_data):
    folder = _batch_folder(payload_dossiers.out)
    assert len(pages(folder)) >= len(payload_data.account_names)
    assert _unsafe_pages(folder) == {}


@pytest.mark.parametrize("batch", ["payload_dossiers", "payload_customer"])
def test_dossier_and_customer_pages_have_a_content_security_policy(request, batch):
    folder = _batch_folder(request.getfixturevalue(batch).out)
    problems = [_csp_problem(p) for p in pages(folder)]
    assert [p for p in problems if p][:5] == []


def test_customer_reports_accept_payloads(payload_customer):
    check_result(payload_customer.result, 0)
    assert changes(payload_customer.before, payload_customer.after) == []


def test_customer_report_pages_run_no_payload(payload_customer, payload_data):
    folder = _batch_folder(payload_customer.out)
    assert len(pages(folder)) >= len(payload_data.account_names)
    assert _unsafe_pages(folder) == {}


def _mentioned(text: str, ids: dict[str, str]) -> set[str]:
    """The accounts whose id or (distinctive) name occurs in ``text``."""
    names = list(ids.values())
    found = set()
    for account, name in ids.items():
        distinctive = not any(name != other and name in other for other in names)
        if re.search(rf"(?<![\w]){re.escape(account)}(?![\w])", text) or (
            distinctive and name in text
        ):
            found.add(account)
    return found


def _file_text(path: Path) -> str:
    if path.suffix == ".html":
        return page_text(path)
    return path.read_text(encoding="utf-8", errors="replace")


def test_every_customer_has_a_folder_about_it_alone(payload_customer, payload_data):
    # the folder holding a customer's page is what is sent to that customer: nothing in it
    # may name another customer or the internal dataset (an overview beside those folders
    # is fine)
    batch = _batch_folder(payload_customer.out)
    accounts = payload_data.account_names
    folders: dict[Path, set[str]] = {}
    for page in pages(batch):
        about = _mentioned(page_text(page), accounts)
        if len(about) == 1:
            folders.setdefault(page.parent, set()).update(about)
    customers = set().union(*folders.values()) if folders else set()
    assert customers == set(accounts), f"no page of its own for {set(accounts) - customers}"
    leaks = {}
    for folder, owner in folders.items():
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            text = _file_text(path)
            others = _mentioned(text, accounts) - owner
            where = str(path.relative_to(batch))
            if len(owner) > 1 or others:
                leaks[where] = f"in a folder shared by {len(owner | others)} customers"
            if DATASET_TOKEN in text:
                leaks[where] = "names the internal dataset"
    assert leaks == {}


# --- kam anonymize ---------------------------------------------------------------------------


def _copy_texts(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): p.read_text(encoding="utf-8", errors="replace")
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_anonymize_accepts_payloads(payload_anonymized):
    check_result(payload_anonymized.result, 0)
    assert changes(payload_anonymized.before, payload_anonymized.after) == []


def test_anonymized_copy_holds_no_script_payload(payload_anonymized):
    found = {
        name: [m for m in LIVE if m in text.lower()]
        for name, text in _copy_texts(payload_anonymized.out).items()
    }
    assert {name: m for name, m in found.items() if m} == {}


def test_anonymized_copy_neutralises_formulas(payload_anonymized):
    assert _formula_cells(payload_anonymized.out) == []


def test_anonymized_copy_holds_no_original_name(payload_anonymized, payload_data):
    names = [
        *payload_data.account_names.values(),
        *payload_data.contact_names,
        # the first word of a company name, written into its group's name
        *{n.split()[0] for n in payload_data.account_names.values() if len(n.split()[0]) >= 5},
        DATASET_TOKEN,
    ]
    texts = {name: text.lower() for name, text in _copy_texts(payload_anonymized.out).items()}
    names += [
        login for name in payload_data.contact_names for login in [name.lower().replace(" ", ".")]
    ]
    names += [".example", "+49 171 55"]  # the e-mail addresses and phone numbers in job titles
    leaks = {
        file: sorted({n for n in names if n.lower() in text})[:5] for file, text in texts.items()
    }
    assert {file: found for file, found in leaks.items() if found} == {}
