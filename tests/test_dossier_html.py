"""Dossier pages and consumption reports as HTML, and the ``kam dossiers`` batch.

The pages are checked as a reader and a mail filter would see them: every section
there, charts inside the file, nothing loaded from the internet, values from the
data shown as text (never as markup), and nothing internal in the customer's page.
"""

from __future__ import annotations

import base64
import html
import re
from pathlib import Path

import pandas as pd
import pytest

import kamlib
from kamlib import dossier_html
from kamlib.cli import main
from kamlib.dossier import DOSSIER_SIGNALS, consumption_report
from kamlib.dossier_html import (
    render_consumption_report,
    render_dossier,
    write_dossiers,
)

from .conftest import TRANSACTIONS

HEADINGS = [
    "General information",
    "Key figures",
    "Sales history",
    "Half-yearly consumption",
    "Payment behaviour",
    "Relationship history",
    "Decision-making unit",
    "Competitors and our share",
    "Satisfaction",
    "Signals and next actions",
]
_PNG = re.compile(r"data:image/png;base64,([A-Za-z0-9+/=]+)")


def _without_images(page: str) -> str:
    return _PNG.sub("data:image/png;base64,", page)


def _text(page: str) -> str:
    """What a reader sees: no style, no tags, entities decoded."""
    page = re.sub(r"<style>.*?</style>", "", _without_images(page), flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


def _h2(page: str) -> list[str]:
    return [html.unescape(h) for h in re.findall(r"<h2>\d+\. ([^<]+)</h2>", page)]


# --- the bundled sample ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sample():
    ds = kamlib.load_sample()
    as_of = kamlib.resolve_as_of(ds.transactions, "")
    found = kamlib.account_features(
        ds.transactions,
        as_of=as_of,
        accounts=ds.get("accounts"),
        products=ds.get("products"),
        invoices=ds.get("invoices"),
        interactions=ds.get("interactions"),
    )
    selection = kamlib.select_key_accounts(kamlib.score_accounts(found.table))
    key_ids = selection.key_accounts["account_id"].tolist()
    types = kamlib.assign_types(found.table, accounts=key_ids)
    return ds, as_of, key_ids, types


@pytest.fixture(scope="module")
def suedline(sample):
    """K10127: contacts with a red rating, a competitor, proposals lost to it, margin."""
    ds, as_of, _key, types = sample
    dossier = kamlib.build_dossier(ds, "K10127", as_of=as_of, types=types)
    return dossier, render_dossier(dossier)


def test_sample_dossier_has_every_section_in_order(suedline):
    dossier, page = suedline
    assert page.startswith("<!doctype html>") and page.rstrip().endswith("</html>")
    assert _h2(page) == HEADINGS
    assert "<h1>Suedline GmbH</h1>" in page
    assert not dossier.notes  # the sample has every table: no section is skipped
    assert 'class="note"' not in page


def test_sample_dossier_embeds_its_charts_and_loads_nothing(suedline):
    _dossier, page = suedline
    images = _PNG.findall(page)
    assert len(images) == 2  # monthly sales, satisfaction (two surveys)
    pngs = [base64.b64decode(i) for i in images]
    assert all(png.startswith(b"\x89PNG\r\n\x1a\n") for png in pngs)
    assert not any(b"http" in png for png in pngs)  # not even matplotlib's address in the metadata
    assert re.findall(r'<img [^>]*src="([^",]*,)', page) == ["data:image/png;base64,"] * 2
    for external in ("http://", "https://", "//fonts", "url(", "@import", "<script", "<link"):
        assert external not in page.lower(), external
    assert "@media print" in page and "break-before: page" in page


def test_sample_dossier_shows_the_numbers_of_each_section(suedline):
    dossier, page = suedline
    text = _text(page)
    revenue = dossier.key_figures.set_index("measure").loc["revenue", "last_12_months"]
    assert f"{revenue:,.0f}" in text
    assert f"{dossier.facts['share_of_our_sales']:.2%}" in text
    assert f"ABC-XYZ cell {dossier.facts['abc_xyz']}" in " ".join(text.split())
    for total in dossier.half_years["total_quantity"]:
        assert f"{total:,.0f}" in text
    assert "2026 H2 (to 28 Sep)" in text  # the current half-year is marked
    assert "Bondline" in text and "relationship" in text  # lost proposals: reason, competitor
    assert (
        "<tr><td>Petr Martin</td><td>Quality Manager</td><td>blocker</td>"
        '<td class="num">5</td><td class="num">-2</td><td>2026-08-09</td></tr>'
    ) in page
    assert "<td>decision maker</td>" in page  # roles in words
    # the rating is a badge carrying the word, so it survives printing in black and white
    assert (
        f'<span class="badge rating-{dossier.coverage.rating}">{dossier.coverage.rating}</span>'
        in page
    )


def test_sample_dossier_lists_fired_signals_first_with_number_and_action(suedline):
    dossier, page = suedline
    section = page[page.index('<section id="signals">') :]
    rows = re.findall(
        r'<tr class="(fired|quiet)"><td class="num">(\d+)</td><td>([^<]+)</td>', section
    )
    fired = dossier.signals.loc[dossier.signals["fired"], "signal"].tolist()
    assert fired  # this account has signals firing
    assert [r[0] for r in rows] == ["fired"] * len(fired) + ["quiet"] * (6 - len(fired))
    assert [r[1] for r in rows] == [str(n) for n in range(1, 7)]
    assert [r[2] for r in rows[: len(fired)]] == fired
    actions = DOSSIER_SIGNALS.set_index("signal")["action"]
    for name in fired:
        assert html.escape(actions[name]) in section
    assert "2 blocker(s)" in section  # the number behind "blocker with high influence"


# --- values from the data are text -----------------------------------------------------------------


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    """A small generated company whose names and notes carry markup."""
    root = kamlib.write_sample(
        tmp_path_factory.mktemp("hostile") / "co", accounts=20, years=2, seed=3
    )
    account = "K10018"

    def rewrite(table, column, value, where):
        """Set ``column`` of the first row where ``where`` holds (every row: ``where=None``)."""
        path = root / f"{table}.csv"
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        rows = frame.index if where is None else frame.index[where(frame)][:1]
        assert len(rows), f"nothing to rewrite in {table}"
        frame.loc[rows, column] = value
        frame.to_csv(path, index=False)

    mine = lambda f: f["account_id"] == account  # noqa: E731
    rewrite("accounts", "name", "<script>alert(1)</script>", mine)
    rewrite("contacts", "name", "Eva <b>Bold</b>", mine)
    last_year = lambda f: mine(f) & (f["date"] >= "2025-12-01") & (f["type"] == "visit")  # noqa: E731
    rewrite("interactions", "note", 'Visit: <b>urgent</b> & "quoted"', last_year)
    rewrite("surveys", "comment", "<i>so-so</i>", mine)
    rewrite("products", "product_group", "<u>Glue</u>", None)  # a column heading
    return root, account


def test_markup_in_the_data_is_shown_as_text(hostile):
    root, account = hostile
    ds = kamlib.load_dataset(root)
    dossier = kamlib.build_dossier(ds, account, as_of=kamlib.resolve_as_of(ds.transactions, ""))
    page = render_dossier(dossier)
    for raw in ("<script", "<b>", "<i>", "<u>"):
        assert raw not in page.lower(), raw
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page  # title, heading, general table
    assert "Eva &lt;b&gt;Bold&lt;/b&gt;" in page
    assert "Visit: &lt;b&gt;urgent&lt;/b&gt; &amp; &#34;quoted&#34;" in page
    assert "&lt;i&gt;so-so&lt;/i&gt;" in page
    assert '<th class="num">&lt;u&gt;Glue&lt;/u&gt; (kg)</th>' in page
    report = render_consumption_report(consumption_report(dossier))
    assert "<script" not in report and "<u>" not in report
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in report


def test_markup_in_the_data_is_text_in_the_index_too(hostile, tmp_path):
    root, account = hostile
    batch = write_dossiers(root, [account], as_of=None, out=tmp_path, workers=1)
    index = batch.index.read_text(encoding="utf-8")
    assert "<script" not in index
    assert f'<a href="{account}.html">&lt;script&gt;alert(1)&lt;/script&gt;</a>' in index


# --- missing tables -------------------------------------------------------------------------------


@pytest.mark.filterwarnings("ignore:1 account with zero or negative revenue")  # A3's credit
def test_transactions_only_renders_with_the_missing_table_sentences(make_dataset):
    root = make_dataset({"transactions.csv": TRANSACTIONS})
    ds = kamlib.load_dataset(root)
    dossier = kamlib.build_dossier(ds, "A1", as_of=kamlib.resolve_as_of(ds.transactions, ""))
    page = render_dossier(dossier)
    assert _h2(page) == HEADINGS
    text = " ".join(_text(page).split())
    missing = ["accounts", "products", "invoices", "interactions", "proposals", "contacts",
               "competitors", "surveys"]  # fmt: skip
    assert {n.split("`")[1] for n in dossier.notes.values()} == set(missing)
    for note in dossier.notes.values():
        assert note.replace("`", "") in text  # every sentence, once per section
    assert "<code>contacts</code>" in page
    assert len(_PNG.findall(page)) == 1  # sales only: no surveys, no satisfaction chart
    assert 'class="badge' not in page  # no contacts table: no rating


# --- the customer's page --------------------------------------------------------------------------


def test_consumption_report_holds_nothing_internal(sample, suedline):
    ds, _as_of, _key, _types = sample
    dossier, _page = suedline
    # the account has everything there is to leak
    assert dossier.contacts is not None and len(dossier.contacts) > 0
    assert (dossier.proposals["outcome"] == "lost").any()
    rivals = set(dossier.competitors["competitor"]) | set(dossier.proposals["competitor"].dropna())
    assert rivals
    assert dossier.key_figures.set_index("measure").loc["margin", "last_12_months"] > 0
    manager = ds.get("accounts").set_index("account_id").loc["K10127", "account_manager"]

    page = render_consumption_report(consumption_report(dossier))
    visible = _without_images(page)  # base64 is random letters; everything else is checked
    lowered = visible.lower()
    assert "margin" not in lowered and "attitude" not in lowered and "signal" not in lowered
    for role in set(dossier.contacts["role"]):
        for spelling in (role, role.replace("_", " ")):
            assert not re.search(rf"\b{re.escape(spelling)}\b", lowered), role
    for name in rivals | set(dossier.contacts["name"]) | {manager}:
        assert name.lower() not in lowered, name
    for signal in DOSSIER_SIGNALS["signal"]:
        assert signal not in lowered
    assert not re.search(rf"\b{dossier.facts['abc_xyz']}\b", visible)
    for word in ("abc", "xyz", "internal", "competitor", "proposal", "key account"):
        assert word not in lowered, word

    assert "<h1>Your consumption report</h1>" in page
    assert len(_PNG.findall(page)) == 1
    assert "http://" not in page and "https://" not in page
    text = _text(page)
    for total in dossier.half_years["total_quantity"]:  # e.g. 23,178 kg so far in 2026 H2
        assert f"{total:,.0f}" in text
    assert f"{dossier.by_group['quantity'].sum():,.0f} kg" in text


# --- the batch and the command ----------------------------------------------------------------------


def _batch_folder(out: Path, name: str = "2026-09-28") -> Path:
    """The one folder a batch wrote: named after as_of (the sample's last day of sales)."""
    assert [p.name for p in out.iterdir()] == [name]
    return out / name


def test_cli_writes_two_pages_and_an_index(tmp_path, capsys):
    assert main(["dossiers", "--accounts", "K10127,K10004", "--out", str(tmp_path)]) == 0
    folder = _batch_folder(tmp_path)
    assert sorted(p.name for p in folder.iterdir()) == [
        ".kam-written",  # the kit's marker: a later batch may replace this folder
        "K10004.html",
        "K10127.html",
        "index.html",
    ]
    index = (folder / "index.html").read_text(encoding="utf-8")
    assert index.index('href="K10127.html"') < index.index('href="K10004.html"')  # as given
    assert "Suedline GmbH" in index and "ABC-XYZ" in index and "signals fired" in index
    page = (folder / "K10127.html").read_text(encoding="utf-8")
    assert _h2(page) == HEADINGS
    out = capsys.readouterr().out  # no progress line for two pages, no control characters
    summary = rf"2 dossiers written to {re.escape(str(folder))} in \d+\.\d s \(open index\.html\)\n"
    assert re.fullmatch(summary, out)


def test_cli_key_accounts_are_the_identified_ones(sample, tmp_path, capsys):
    _ds, _as_of, key_ids, types = sample
    assert main(["dossiers", "--out", str(tmp_path)]) == 0  # key accounts, 2 workers
    folder = _batch_folder(tmp_path)
    pages = sorted(p.name for p in folder.iterdir() if p.name not in ("index.html", ".kam-written"))
    assert pages == sorted(f"{i}.html" for i in key_ids)
    index = (folder / "index.html").read_text(encoding="utf-8")
    assert re.findall(r'<tr><td><a href="([^"]+)\.html">', index) == key_ids  # selection order
    first = types.iloc[0]
    row = index[index.index(f'href="{first.account_id}.html"') :].split("</tr>")[0]
    assert f"<td>{first.type}</td>" in row
    lines = capsys.readouterr().out.splitlines()
    assert len(key_ids) == 30 and lines[0] == "    25 of 30 dossiers written"  # one per 25
    assert lines[1].startswith("30 dossiers written to ") and len(lines) == 2


def test_cli_unknown_id_exits_2_naming_close_matches(tmp_path, capsys):
    out = tmp_path / "d"
    assert main(["dossiers", "--accounts", "K10127,K1O127", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("kam dossiers: unknown account id")
    assert "'K1O127': did you mean K10127 (Suedline GmbH)" in err
    assert not out.exists()  # nothing written, not even the folder


def test_cli_bad_dataset_exits_1_with_the_check_message(make_dataset, tmp_path, capsys):
    root = make_dataset({"transactions.csv": TRANSACTIONS.replace("amount", "betrag")})
    assert main(["dossiers", "--data", str(root), "--out", str(tmp_path / "d")]) == 1
    err = capsys.readouterr().err
    assert "required column `amount` is missing" in err and "kam check" in err
    assert not (tmp_path / "d").exists()


def test_cli_customer_facing_pages_hold_no_margin(tmp_path, capsys):
    args = ["dossiers", "--accounts", "K10127,K10004", "--out", str(tmp_path), "--customer-facing"]
    assert main(args) == 0
    folder = _batch_folder(tmp_path, "2026-09-28-customer")  # never among internal pages
    for name in ("K10127/K10127.html", "K10004/K10004.html", "internal-index.html"):
        page = _without_images((folder / name).read_text(encoding="utf-8"))
        assert "margin" not in page.lower() and "signal" not in page.lower(), name
    text = (folder / "K10127" / "K10127.html").read_text(encoding="utf-8")
    assert "Your consumption report" in text
    index = (folder / "internal-index.html").read_text(encoding="utf-8")
    assert "Consumption reports" in index and "ABC-XYZ" not in index
    assert 'href="K10127/K10127.html"' in index and not (folder / "index.html").exists()
    assert "2 consumption reports written to" in capsys.readouterr().out


def test_a_failing_page_leaves_no_folder_behind(tmp_path, monkeypatch):
    real = dossier_html._write_page
    calls = []

    def fail_on_second(item, path):
        calls.append(path)
        if len(calls) == 2:
            raise RuntimeError("disk full")
        real(item, path)

    monkeypatch.setattr(dossier_html, "_write_page", fail_on_second)
    with pytest.raises(RuntimeError, match="disk full"):
        write_dossiers("sample", "K10127,K10004,K10001", as_of=None, out=tmp_path, workers=1)
    assert list(tmp_path.iterdir()) == []  # the hidden temporary folder is gone too


def test_file_names_are_safe_and_distinct():
    names = dossier_html._file_names(["K1", "a/b", "A b", "index", "..", "k1", "Müller"])
    assert names == ["K1.html", "a_b.html", "A_b-2.html", "index-2.html", "account.html",
                     "k1-2.html", "Müller.html"]  # fmt: skip


def test_a_batch_for_the_same_date_replaces_the_earlier_one(tmp_path):
    first = write_dossiers("sample", "K10127,K10004", as_of="2026-06-30", out=tmp_path, workers=1)
    assert first.folder == tmp_path / "2026-06-30"
    assert first.files == (first.folder / "K10127.html", first.folder / "K10004.html", first.index)
    other_day = write_dossiers("sample", "K10127", as_of="2026-03-31", out=tmp_path, workers=1)
    again = write_dossiers("sample", "K10001", as_of="2026-06-30", out=tmp_path, workers=1)
    assert again.folder == first.folder and again.count == 1
    assert sorted(p.name for p in again.folder.iterdir()) == [
        ".kam-written",
        "K10001.html",
        "index.html",
    ]
    assert (other_day.folder / "K10127.html").is_file()  # another date is left alone
    assert sorted(p.name for p in tmp_path.iterdir()) == ["2026-03-31", "2026-06-30"]


def test_a_folder_not_written_by_a_batch_is_never_replaced(tmp_path):
    mine = tmp_path / "2026-09-28"
    mine.mkdir()
    (mine / "notes.txt").write_text("my own notes")
    with pytest.raises(ValueError, match="not written by `kam dossiers`"):
        write_dossiers("sample", "K10127", as_of=None, out=tmp_path, workers=1)
    assert [p.name for p in tmp_path.iterdir()] == ["2026-09-28"]
    assert [p.name for p in mine.iterdir()] == ["notes.txt"]
