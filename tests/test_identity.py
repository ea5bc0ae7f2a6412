"""Ids that look identical but differ: reported, never merged or split silently."""

from __future__ import annotations

import dataclasses

import pandas as pd
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import kamlib
from kamlib import DatasetError, load_dataset
from kamlib._identity import id_key, lookalike_problems, normalize_id, normalize_tables
from kamlib.config import TableConfig, read_config
from kamlib.paths import resolve_dataset

FIX = "fix them in the source, or set `normalize_ids: true` for this table in kam.yaml"


def problems_of(root) -> list[str]:
    with pytest.raises(DatasetError) as info:
        load_dataset(root)
    return [str(p) for p in info.value.problems]


def tx_with(*ids: str, product: str = "P1") -> str:
    """transactions.csv with one line per account id (rows 2, 3, …)."""
    lines = [f"{i},2025-01-{n + 10},100.00,{product}" for n, i in enumerate(ids)]
    return "account_id,date,amount,product_id\n" + "\n".join(lines) + "\n"


# --- each kind of look-alike ------------------------------------------------------------


@pytest.mark.parametrize(
    ("main", "other", "shown", "kind"),
    [
        ("K100", "k100", "'k100'", "(case)"),
        ("K 100", "K\u00a0100", "'K⟨U+00A0⟩100'", "(non-breaking space U+00A0)"),
        ("K 100", "K  100", "'K  100'", "(extra spaces)"),
        ("K200", "K200\u200b", "'K200⟨U+200B⟩'", "(invisible character U+200B)"),
        ("K200", "K2\u200c00", "'K2⟨U+200C⟩00'", "(invisible character U+200C)"),
        ("K200", "K\u200d200", "'K⟨U+200D⟩200'", "(invisible character U+200D)"),
        ("K200", "K20\ufeff0", "'K20⟨U+FEFF⟩0'", "(invisible character U+FEFF)"),
        ("K200", "K2\u206000", "'K2⟨U+2060⟩00'", "(invisible character U+2060)"),
        ("K100", "K１００", "'K１００'", "(full-width characters)"),
        ("K100", "\u041a100", "'\u041a100'", "(Cyrillic \u041a U+041A)"),
        ("PAX1", "P\u0410X1", "'P\u0410X1'", "(Cyrillic \u0410 U+0410)"),
        ("KOP1", "\u039a\u039f\u03a11", "'\u039a\u039f\u03a11'", "(Greek \u039a U+039A, "),
    ],
)
def test_each_kind_of_lookalike_is_reported(make_dataset, main, other, shown, kind):
    # the usual spelling three times, the odd one once: the odd one's row is named
    root = make_dataset({"transactions.csv": tx_with(main, main, other, main)})
    (msg,) = problems_of(root)
    assert msg.startswith(
        "transactions.csv, column 'account_id' (transactions.account_id): "
        "2 ids look alike but differ — "
    )
    assert f"{main!r} / {shown} {kind}" in msg
    assert "— row 4 (the rarer spelling)." in msg
    assert FIX in msg


def test_message_names_the_mapped_column_every_group_and_the_rows(make_dataset):
    tx = (
        "Kundennr;Datum;Umsatz\n"
        "K100;2025-01-10;1\n"  # row 2
        "K200;2025-01-11;1\n"  # row 3
        "k100;2025-01-12;1\n"  # row 4
        "K200\u200b;2025-01-13;1\n"  # row 5
        "K200;2025-01-14;1\n"  # row 6
        "K100;2025-01-15;1\n"  # row 7
        "K300;2025-01-16;1\n"  # row 8: no partner, not reported
    )
    yaml = """\
        tables:
          transactions:
            file: umsatz.csv
            columns: {account_id: Kundennr, date: Datum, amount: Umsatz}
        """
    with pytest.raises(DatasetError) as info:
        load_dataset(make_dataset({"umsatz.csv": tx}, yaml))
    (problem,) = info.value.problems
    assert problem.message == (
        "umsatz.csv, column 'Kundennr' (transactions.account_id): 4 ids look alike but differ, "
        "in 2 groups — 'K100' / 'k100' (case); 'K200' / 'K200⟨U+200B⟩' "
        "(invisible character U+200B) — rows 4, 5 (the rarer spellings)."
    )
    assert problem.hint == FIX + " to merge them"
    assert (problem.file, problem.table, problem.column, problem.rows) == (
        "umsatz.csv",
        "transactions",
        "account_id",
        (4, 5),
    )


def test_three_spellings_of_one_id_and_long_lists(make_dataset):
    ids = ["K1", "k1", "K1\u200b"] + [f"X{i}" for i in range(7)] + [f"x{i}" for i in range(7)]
    (msg,) = problems_of(make_dataset({"transactions.csv": tx_with(*ids)}))
    assert "17 ids look alike but differ, in 8 groups — " in msg
    assert (
        "'K1' / 'k1' (case) / 'K1⟨U+200B⟩' (invisible character U+200B); 'X0' / 'x0' (case)" in msg
    )
    assert "… (3 more groups)" in msg
    assert "rows 3, 4, 12, 13, 14 … (9 rows in all) (the rarer spellings)" in msg


def test_each_id_column_of_each_table_is_checked_once(make_dataset):
    tx = (
        "account_id,date,amount,product_id,invoice_id\n"
        "A1,2025-01-10,1,P1,R1\n"
        "A1,2025-01-11,1,\u04201,R1\n"  # Cyrillic Р in the product
        "A2,2025-01-12,1,P1,r1\n"
        "A2,2025-01-13,1,P1,R1\n"
    )
    contacts = "contact_id,account_id\nC1,A1\nc1,A2\n"  # contacts.contact_id is a key
    interactions = "interaction_id,account_id,date,type,contact_id\nI1,A1,2025-01-01,visit,C1\n"
    accounts = "account_id\nA1\nA2\nA\u20602\n"
    msgs = problems_of(
        make_dataset(
            {
                "transactions.csv": tx,
                "accounts.csv": accounts,
                "products.csv": "product_id\nP1\n",
                "contacts.csv": contacts,
                "interactions.csv": interactions,
            }
        )
    )
    lookalike = [m for m in msgs if "look alike" in m]
    assert [m.split(":")[0] for m in lookalike] == [
        "transactions.csv, column 'product_id' (transactions.product_id)",
        "transactions.csv, column 'invoice_id' (transactions.invoice_id)",
        "accounts.csv, column 'account_id' (accounts.account_id)",
        "contacts.csv, column 'contact_id' (contacts.contact_id)",
    ]
    assert "'P1' / '\u04201' (Cyrillic \u0420 U+0420)" in lookalike[0]
    assert "'A2' / 'A⟨U+2060⟩2' (invisible character U+2060) — row 4" in lookalike[2]
    # the Cyrillic product is also not found in products.csv: reported by the reference check
    assert any("product_id value of `transactions` not found" in m for m in msgs)


def test_an_id_of_only_invisible_characters_is_reported(make_dataset):
    (msg,) = problems_of(make_dataset({"transactions.csv": tx_with("K1", "\u200b", "K2")}))
    assert (
        "transactions.csv, column 'account_id' (transactions.account_id): 1 id is only "
        "invisible characters and looks empty — row 3: '⟨U+200B⟩'." in msg
    )


def test_lookalike_problems_come_with_the_other_problems(make_dataset):
    tx = tx_with("K100", "k100").replace("2025-01-11", "11.01.2025")
    msgs = problems_of(make_dataset({"transactions.csv": tx}))
    assert len(msgs) == 2
    assert "not a date" in msgs[0]
    assert "'K100' / 'k100' (case)" in msgs[1]


# --- what is not a look-alike -----------------------------------------------------------


def test_surrounding_spaces_are_stripped_in_csv_and_excel(make_dataset):
    root = make_dataset(
        {"transactions.csv": tx_with("K100 ", " K100", "K100\u00a0", "\u3000K100", "K200")}
    )
    assert load_dataset(root).transactions["account_id"].tolist() == ["K100"] * 4 + ["K200"]
    frame = pd.DataFrame(
        {
            "account_id": ["K100 ", "K100", " K100\u00a0"],
            "date": ["2025-01-10"] * 3,
            "amount": [1.0, 2.0, 3.0],
        }
    )
    root = make_dataset({}, folder="xl")
    frame.to_excel(root / "transactions.xlsx", index=False)
    assert load_dataset(root).transactions["account_id"].tolist() == ["K100"] * 3


def test_ids_that_differ_in_more_than_folding_are_not_grouped(make_dataset):
    # O and 0, I and 1 are different characters, not spellings of one: no merging
    ds = load_dataset(make_dataset({"transactions.csv": tx_with("KO1", "K01", "KI1", "K11")}))
    assert ds.transactions["account_id"].nunique() == 4


def test_bundled_sample_has_no_lookalike_ids():
    ds = kamlib.load_sample()
    config, _ = read_config(resolve_dataset("sample"))
    assert lookalike_problems(dict(ds.tables), config.tables) == []


# --- the folded key and the normalised form ---------------------------------------------


def test_id_key_and_normalize_id():
    raw = pd.Series(
        ["K100", "k100", "K\u200b100", "\u041a100", "K１００", "a\u00a0 b", None, "ﬁ-1", "ı9"]
    )
    key, normal = id_key(raw), normalize_id(raw)
    assert key.fillna("<missing>").tolist() == [
        "k100",
        "k100",
        "k100",
        "k100",
        "k100",
        "a b",
        "<missing>",
        "fi-1",
        "i9",
    ]
    assert normal.fillna("<missing>").tolist() == [
        "K100",
        "K100",
        "K100",
        "K100",
        "K100",
        "A B",
        "<missing>",
        "FI-1",
        "I9",
    ]
    assert id_key(raw).index.equals(raw.index)


_PERTURB = {
    "upper": str.upper,
    "lower": str.lower,
    "zero_width": lambda s: s[:1] + "\u200b" + s[1:],
    "word_joiner": lambda s: "\u2060" + s,
    "bom": lambda s: s + "\ufeff",
    "nbsp": lambda s: s.replace(" ", "\u00a0"),
    "double_space": lambda s: s.replace(" ", "  "),
    "full_width": lambda s: "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in s),
    "cyrillic": lambda s: s.translate(str.maketrans("AEKOPCTXaeopcx", "АЕКОРСТХаеорсх")),
    "greek": lambda s: s.translate(str.maketrans("ABEKMNOPTXYZ", "ΑΒΕΚΜΝΟΡΤΧΥΖ")),
}
_ASCII_IDS = st.text(alphabet="ABCDEKMOPTXYZabcekopx0123456789- ", min_size=1, max_size=12)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(min_size=1, max_size=8), min_size=1, max_size=8))
@example(["\x00\r", "\x00"])  # numpy's str dtype would drop the trailing NUL
@example(["e\u200b\u0301", "\u00e9", "\u1e9e", "SS", "\u0131"])
def test_id_key_is_idempotent_and_groups_what_normalisation_merges(ids):
    raw = pd.Series(ids, dtype=object)
    key = id_key(raw)
    assert id_key(key).tolist() == key.tolist()
    norm = normalize_id(raw)
    assert normalize_id(norm).tolist() == norm.tolist()
    # ids equal after normalisation have one key, so the look-alike check groups them
    pairs = pd.DataFrame({"norm": norm, "key": key}).dropna()
    assert (pairs.groupby("norm")["key"].nunique() <= 1).all()


@settings(max_examples=200, deadline=None)
@given(_ASCII_IDS, st.lists(st.sampled_from(sorted(_PERTURB)), min_size=1, max_size=4))
def test_disguised_ids_fold_to_the_same_key(text, changes):
    disguised = text
    for change in changes:
        disguised = _PERTURB[change](disguised)
    keys = id_key(pd.Series([text, disguised])).tolist()
    assert keys[0] == keys[1] or keys[0] == ""


# --- normalize_ids ----------------------------------------------------------------------


def _configs(root, **normalize):
    config, problems = read_config(root)
    assert problems == []
    return {
        name: (
            dataclasses.replace(cfg, normalize_ids=normalize[name]) if name in normalize else cfg
        )
        for name, cfg in config.tables.items()
    }


def _Cfg(cfg: TableConfig, normalize_ids: bool) -> TableConfig:
    """``cfg`` with ``normalize_ids`` set."""
    return dataclasses.replace(cfg, normalize_ids=normalize_ids)


def test_normalize_tables_merges_spellings_in_the_table_and_where_its_ids_appear(
    make_dataset,
):
    tx = tx_with("K100", "k100", "K\u200b100", "\u041a100", "K200")
    root = make_dataset({"transactions.csv": tx, "accounts.csv": "account_id\nK100\nk200\n"})
    config, _ = read_config(root)
    tables = {
        "transactions": pd.DataFrame({"account_id": tx_ids(tx), "amount": 1.0}),
        "accounts": pd.DataFrame({"account_id": ["K100", "k200"]}),
    }
    configs = {
        "transactions": _Cfg(config.tables["transactions"], True),
        "accounts": _Cfg(config.tables["accounts"], False),
    }
    out, problems = normalize_tables(tables, configs)
    assert problems == []
    assert out["transactions"]["account_id"].tolist() == ["K100"] * 4 + ["K200"]
    # accounts hold the same kind of id: normalised too, so the references still match
    assert out["accounts"]["account_id"].tolist() == ["K100", "K200"]
    assert tables["transactions"]["account_id"].tolist()[1] == "k100"  # input untouched
    assert lookalike_problems(out, configs) == []
    # without the option nothing changes
    plain = {n: _Cfg(c, False) for n, c in config.tables.items()}
    same, problems = normalize_tables(tables, plain)
    assert problems == [] and same["transactions"] is tables["transactions"]


def tx_ids(tx: str) -> list[str]:
    return [line.split(",")[0] for line in tx.splitlines()[1:]]


def test_normalising_a_key_that_then_repeats_is_an_error(make_dataset):
    root = make_dataset({"transactions.csv": tx_with("K1"), "accounts.csv": "account_id\nK1\nk1\n"})
    config, _ = read_config(root)
    tables = {
        "transactions": pd.DataFrame({"account_id": ["K1"]}),
        "accounts": pd.DataFrame({"account_id": ["K1", "k1"]}),
    }
    configs = {n: _Cfg(c, n == "accounts") for n, c in config.tables.items()}
    _, problems = normalize_tables(tables, configs)
    (problem,) = problems
    assert str(problem) == (
        "accounts.csv: key account_id of `accounts` is not unique after normalize_ids — "
        "1 id written in several ways ('K1' from 'K1' / 'k1') in rows 2, 3.\n"
        "   Fix: these rows are one account_id: keep one of them in the source"
    )


@pytest.mark.parametrize("asks", ["transactions", "accounts"])
def test_normalize_ids_in_kam_yaml_merges_lookalikes(make_dataset, asks):
    # either side asking normalises account_id in both, so the references still match
    tx = tx_with("K100", "k100", "K\u200b100", "\u041a100")
    files = {"transactions": "transactions.csv", "accounts": "accounts.csv"}
    files[asks] = f"{{file: {files[asks]}, normalize_ids: true}}"
    yaml = f"tables:\n  transactions: {files['transactions']}\n  accounts: {files['accounts']}\n"
    root = make_dataset({"transactions.csv": tx, "accounts.csv": "account_id\nk100\n"}, yaml)
    ds = load_dataset(root)
    assert ds.transactions["account_id"].tolist() == ["K100"] * 4
    assert ds.get("accounts")["account_id"].tolist() == ["K100"]


def test_normalize_ids_in_defaults_applies_to_every_table(make_dataset):
    yaml = """\
        defaults: {normalize_ids: true}
        tables: {transactions: transactions.csv, accounts: accounts.csv}
        """
    tx = tx_with("k100", "K 100")
    root = make_dataset(
        {"transactions.csv": tx, "accounts.csv": "account_id\nK100\nK\u00a0100\n"}, yaml
    )
    ds = load_dataset(root)
    assert ds.transactions["account_id"].tolist() == ["K100", "K 100"]
    assert ds.get("accounts")["account_id"].tolist() == ["K100", "K 100"]


def test_normalised_config_still_reports_what_it_cannot_merge(make_dataset):
    yaml = "tables:\n  transactions: {file: transactions.csv, normalize_ids: true}\n"
    root = make_dataset({"transactions.csv": tx_with("K1", "K1", "k1")}, yaml)
    assert load_dataset(root).transactions["account_id"].tolist() == ["K1"] * 3
    root = make_dataset(
        {"transactions.csv": tx_with("K1"), "accounts.csv": "account_id\nK1\nk1\n"},
        "tables:\n  transactions: transactions.csv\n"
        "  accounts: {file: accounts.csv, normalize_ids: true}\n",
        folder="two",
    )
    (msg,) = problems_of(root)
    assert "not unique after normalize_ids" in msg
