"""kam.yaml and report configs under hostile and careless input (issue 12).

Bombs, repeated keys, wrong encodings, files outside the dataset folder and
options that used to fail later with a traceback: each gives a problem naming it.
"""

from __future__ import annotations

import codecs
import os
import textwrap
from pathlib import Path

import pytest

from kamlib import DatasetError, load_dataset
from kamlib._yaml import MAX_ALIASES, MAX_BYTES, ConfigError, load_yaml, load_yaml_file
from kamlib.config import read_config

BILLION_LAUGHS = """\
lol1: &lol1 ["lol","lol","lol","lol","lol","lol","lol","lol","lol","lol"]
lol2: &lol2 [*lol1,*lol1,*lol1,*lol1,*lol1,*lol1,*lol1,*lol1,*lol1,*lol1]
lol3: &lol3 [*lol2,*lol2,*lol2,*lol2,*lol2,*lol2,*lol2,*lol2,*lol2,*lol2]
lol4: &lol4 [*lol3,*lol3,*lol3,*lol3,*lol3,*lol3,*lol3,*lol3,*lol3,*lol3]
lol5: &lol5 [*lol4,*lol4,*lol4,*lol4,*lol4,*lol4,*lol4,*lol4,*lol4,*lol4]
lol6: &lol6 [*lol5,*lol5,*lol5,*lol5,*lol5,*lol5,*lol5,*lol5,*lol5,*lol5]
lol7: &lol7 [*lol6,*lol6,*lol6,*lol6,*lol6,*lol6,*lol6,*lol6,*lol6,*lol6]
lol8: &lol8 [*lol7,*lol7,*lol7,*lol7,*lol7,*lol7,*lol7,*lol7,*lol7,*lol7]
lol9: &lol9 [*lol8,*lol8,*lol8,*lol8,*lol8,*lol8,*lol8,*lol8,*lol8,*lol8]
"""

TX_YAML = "tables:\n  transactions: transactions.csv\n"


def problems_of(root) -> list[str]:
    with pytest.raises(DatasetError) as info:
        load_dataset(root)
    return [str(p) for p in info.value.problems]


def config_problems(tmp_path: Path, text: str) -> list[str]:
    """Problems of read_config for a kam.yaml with ``text`` (no table file needed)."""
    folder = tmp_path / "cfg"
    folder.mkdir(exist_ok=True)
    (folder / "kam.yaml").write_text(textwrap.dedent(text), encoding="utf-8")
    _, problems = read_config(folder)
    return [str(p) for p in problems]


def config_of(tmp_path: Path, text: str):
    folder = tmp_path / "cfg"
    folder.mkdir(exist_ok=True)
    (folder / "kam.yaml").write_text(textwrap.dedent(text), encoding="utf-8")
    config, problems = read_config(folder)
    assert problems == [], [str(p) for p in problems]
    return config


# --- kamlib._yaml.load_yaml ------------------------------------------------------


def test_load_yaml_keeps_yes_no_as_text_and_true_false_as_booleans():
    data = load_yaml("a: [yes, no, ja, on]\nb: true\nc: False\n", source="x.yaml")
    assert data == {"a": ["yes", "no", "ja", "on"], "b": True, "c": False}


def test_billion_laughs_is_refused_while_composing():
    # refused at lol5 (111,111 values > 100,000) before anything is built, so
    # this test ends at once whatever the machine
    with pytest.raises(ConfigError) as info:
        load_yaml(BILLION_LAUGHS, source="reports.yaml")
    assert str(info.value).startswith("reports.yaml, line 5: this value expands to more than")
    assert "alias bomb" in str(info.value)
    assert info.value.line == 5 and info.value.source == "reports.yaml"
    assert isinstance(info.value, ValueError)


def test_too_many_aliases_are_refused():
    text = "a: &a x\nb: [" + ", ".join(["*a"] * (MAX_ALIASES + 1)) + "]\n"
    with pytest.raises(ConfigError) as info:
        load_yaml(text, source="kam.yaml")
    assert f"kam.yaml, line 2: more than {MAX_ALIASES} YAML aliases (*a)" in str(info.value)


def test_a_recursive_alias_is_refused():
    with pytest.raises(ConfigError) as info:
        load_yaml("a: &a [1, *a]\n", source="kam.yaml")
    assert "kam.yaml, line 1: the alias *a refers to the value that contains it" in str(info.value)


def test_deep_nesting_is_refused():
    with pytest.raises(ConfigError) as info:
        load_yaml("x: " + "[" * 5000 + "]" * 5000, source="kam.yaml")
    assert "kam.yaml, line 1: values nested more than 50 levels deep" in str(info.value)


def test_an_oversized_file_is_refused_before_parsing():
    with pytest.raises(ConfigError) as info:
        load_yaml(b"#" * (MAX_BYTES + 1), source="kam.yaml")
    assert f"kam.yaml is larger than the {MAX_BYTES:,} bytes a settings file may" in str(info.value)


def test_repeated_keys_are_named_with_both_lines():
    text = "name: A\ntables:\n  transactions: t.csv\n  accounts: a.csv\n  transactions: u.csv\nname: B\n"
    with pytest.raises(ConfigError) as info:
        load_yaml(text, source="kam.yaml")
    msg = str(info.value)
    assert "kam.yaml: a key is written twice in the same place" in msg
    assert "'transactions' on lines 3 and 5" in msg
    assert "'name' on lines 1 and 6" in msg


def test_repeated_key_in_one_flow_mapping_says_line_once():
    with pytest.raises(ConfigError) as info:
        load_yaml("x: {a: 1, a: 2}\n", source="kam.yaml")
    assert "'a' twice on line 1" in str(info.value)


def test_a_merge_key_may_be_overridden():
    data = load_yaml("base: &b {x: 1, y: 2}\nm:\n  <<: *b\n  x: 3\n", source="kam.yaml")
    assert data["m"] == {"x": 3, "y": 2}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("as_of: 2025-13-45\n", "kam.yaml, line 1: cannot read the value '2025-13-45'"),
        ("skip_rows: " + "9" * 5000 + "\n", "kam.yaml, line 1: cannot read the value '999"),
        ("x: !!python/object/apply:os.system [ls]\n", "kam.yaml: not valid YAML at line 1"),
    ],
)
def test_values_that_cannot_be_built_name_the_line(text, expected):
    with pytest.raises(ConfigError) as info:
        load_yaml(text, source="kam.yaml")
    assert str(info.value).startswith(expected)


def test_load_yaml_file_reads_a_bounded_prefix_and_names_read_errors(tmp_path):
    big = tmp_path / "big.yaml"
    big.write_bytes(b"#" * (MAX_BYTES * 3))
    with pytest.raises(ConfigError) as info:
        load_yaml_file(big, source="reports.yaml")
    assert f"reports.yaml is larger than the {MAX_BYTES:,} bytes" in str(info.value)
    with pytest.raises(ConfigError) as info:
        load_yaml_file(tmp_path)  # a folder
    assert f"{tmp_path}: cannot be read (Is a directory)" in str(info.value)


def test_bytes_utf16_with_bom_are_decoded():
    assert load_yaml(codecs.BOM_UTF16_LE + "a: ä\n".encode("utf-16-le"), source="k") == {"a": "ä"}
    assert load_yaml(codecs.BOM_UTF8 + "a: ä\n".encode(), source="k") == {"a": "ä"}


# --- kam.yaml: bombs, repeated keys, encodings -------------------------------------


def test_alias_bomb_in_kam_yaml_is_a_problem(make_dataset, good_files):
    root = make_dataset(good_files, TX_YAML + BILLION_LAUGHS + "name: *lol9\n")
    (msg,) = problems_of(root)
    assert "kam.yaml, line 7: this value expands to more than 100,000 values" in msg


def test_repeated_keys_in_kam_yaml_are_a_problem(make_dataset, good_files):
    root = make_dataset(
        good_files,
        """\
        tables:
          transactions:
            file: transactions.csv
            columns:
              amount: amount
              amount: cost
        """,
    )
    (msg,) = problems_of(root)
    assert "kam.yaml: a key is written twice in the same place ('amount' on lines 5 and 6)" in msg


def test_kam_yaml_in_latin1_says_the_byte_and_how_to_save_it(make_dataset, good_files):
    root = make_dataset(good_files)
    (root / "kam.yaml").write_bytes("name: Müller\n".encode("latin-1") + TX_YAML.encode())
    (msg,) = problems_of(root)
    assert "kam.yaml is not UTF-8 (byte 7, line 1: b'\\xfc')" in msg
    assert "save it as UTF-8 (in Notepad: Save as, Encoding UTF-8)" in msg


def test_kam_yaml_in_utf16_with_bom_is_read(make_dataset, good_files):
    root = make_dataset(good_files)
    (root / "kam.yaml").write_bytes(("name: Müller\n" + TX_YAML).encode("utf-16"))
    assert load_dataset(root).name == "Müller"


def test_kam_yaml_in_utf16_without_bom_says_so(make_dataset, good_files):
    root = make_dataset(good_files)
    (root / "kam.yaml").write_bytes(("name: Müller\n" + TX_YAML).encode("utf-16-le"))
    (msg,) = problems_of(root)
    assert "kam.yaml holds NUL bytes (first at byte 1, line 1)" in msg
    assert "saved as UTF-16" in msg and "save it as UTF-8" in msg


def test_unreadable_kam_yaml_is_a_problem(make_dataset, good_files, monkeypatch):
    root = make_dataset(good_files, TX_YAML)

    def denied(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr("kamlib._yaml.open", denied, raising=False)
    (msg,) = problems_of(root)
    assert "kam.yaml: cannot be read (Permission denied)" in msg


# --- silent config mistakes ------------------------------------------------------


def test_invoices_and_payments_both_given(tmp_path):
    (msg,) = config_problems(
        tmp_path, "tables:\n  transactions: t.csv\n  invoices: i.csv\n  payments: p.csv\n"
    )
    assert "tables `invoices` and `payments` are the same table" in msg
    assert "keep one" in msg


def test_amount_and_cost_from_one_column(tmp_path):
    (msg,) = config_problems(
        tmp_path,
        """\
        tables:
          transactions:
            file: t.csv
            columns: {amount: Umsatz, cost: Umsatz}
        """,
    )
    assert "tables.transactions.columns maps `amount` and `cost` to the same column 'Umsatz'" in msg
    assert "margin would always be 0" in msg


def test_account_and_product_from_one_column(tmp_path):
    (msg,) = config_problems(
        tmp_path,
        """\
        tables:
          transactions:
            file: t.csv
            columns: {account_id: Nr, product_id: Nr}
        """,
    )
    assert "maps `account_id` and `product_id` to the same column 'Nr'" in msg


def test_an_id_may_double_as_the_name(tmp_path):
    config = config_of(
        tmp_path,
        """\
        tables:
          transactions: t.csv
          accounts:
            file: a.csv
            columns: {account_id: Kundennr, name: Kundennr}
        """,
    )
    assert config.tables["accounts"].columns == {"account_id": "Kundennr", "name": "Kundennr"}


@pytest.mark.parametrize(
    ("options", "shown"),
    [
        ('decimal: ","\n    thousands: ","', "','"),
        ('decimal: "."\n    thousands: "."', "'.'"),
    ],
)
def test_decimal_equal_to_thousands(tmp_path, options, shown):
    (msg,) = config_problems(
        tmp_path, f"tables:\n  transactions:\n    file: t.csv\n    {options}\n"
    )
    assert f"tables.transactions: decimal and thousands are both {shown}" in msg


def test_decimal_from_defaults_equal_to_a_tables_thousands(tmp_path):
    (msg,) = config_problems(
        tmp_path,
        'defaults: {decimal: ","}\ntables:\n  transactions: {file: t.csv, thousands: ","}\n',
    )
    assert "tables.transactions: decimal and thousands are both ','" in msg


def test_decimal_equal_to_thousands_in_defaults_is_said_once(tmp_path):
    problems = config_problems(
        tmp_path,
        'defaults: {decimal: ",", thousands: ","}\ntables: {transactions: t.csv, accounts: a.csv}\n',
    )
    assert len(problems) == 1 and "defaults: decimal and thousands are both ','" in problems[0]


def test_a_value_both_true_and_false(tmp_path):
    (msg,) = config_problems(
        tmp_path,
        "tables:\n  transactions: t.csv\n  accounts:\n    file: a.csv\n"
        "    true_values: [ja, x]\n    false_values: [nein, X]\n",
    )
    assert "tables.accounts: 'x' is in both true_values and false_values" in msg


# --- files outside the dataset folder ---------------------------------------------


@pytest.fixture
def secret(tmp_path) -> Path:
    path = tmp_path / "secret.csv"
    path.write_text("SECRET-FIRST-LINE\naccount_id,date,amount\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("how", ["relative", "absolute", "symlink"])
def test_table_file_outside_the_folder_is_refused(make_dataset, good_files, secret, how):
    root = make_dataset(good_files)
    if how == "symlink":
        (root / "link.csv").symlink_to(secret)
        name = "link.csv"
    else:
        name = "../../../../../../.." + str(secret) if how == "relative" else str(secret)
    (root / "kam.yaml").write_text(
        f"tables:\n  transactions: transactions.csv\n  accounts:\n    file: '{name}'\n",
        encoding="utf-8",
    )
    (msg,) = problems_of(root)
    assert f"tables.accounts.file {name!r} is outside the dataset folder" in msg
    assert f"it resolves to {secret}" in msg
    assert "allow_outside_files: true" in msg
    assert "SECRET" not in msg


def test_outside_files_allowed_when_asked(make_dataset, good_files, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "accounts.csv").write_text(good_files["accounts.csv"], encoding="utf-8")
    root = make_dataset(
        {"transactions.csv": good_files["transactions.csv"]},
        "allow_outside_files: true\n"
        "tables:\n  transactions: transactions.csv\n  accounts: ../elsewhere/accounts.csv\n",
    )
    assert len(load_dataset(root).get("accounts")) == 3


def test_allow_outside_files_must_be_true_or_false(tmp_path):
    (msg,) = config_problems(tmp_path, "allow_outside_files: yes\ntables: {transactions: t.csv}\n")
    assert "allow_outside_files must be true or false, not 'yes'" in msg


def test_symlink_out_of_a_folder_without_kam_yaml(make_dataset, good_files, secret):
    root = make_dataset({"accounts.csv": good_files["accounts.csv"]})
    (root / "transactions.csv").symlink_to(secret)
    msg = problems_of(root)[0]  # then: no transactions table
    assert f"transactions.csv is outside the dataset folder (it resolves to {secret}" in msg
    assert "SECRET" not in msg


# --- options checked when kam.yaml is read ---------------------------------------------


def table_problems(tmp_path, options: str) -> list[str]:
    return config_problems(tmp_path, f"tables:\n  transactions:\n    file: t.csv\n    {options}\n")


def test_unknown_encoding_suggests_close_names(tmp_path):
    (msg,) = table_problems(tmp_path, "encoding: lattin-1")
    assert "tables.transactions.encoding 'lattin-1' is not an encoding Python knows" in msg
    assert "did you mean 'latin-1'?" in msg
    (msg,) = table_problems(tmp_path, "encoding: ansi")
    assert "did you mean 'cp1252'?" in msg


def test_a_codec_that_is_not_a_text_encoding(tmp_path):
    (msg,) = table_problems(tmp_path, "encoding: base64")
    assert "'base64' is not a text encoding" in msg


def test_invalid_date_format_directive(tmp_path):
    (msg,) = table_problems(tmp_path, 'date_format: "%d.%m.%Q"')
    assert "tables.transactions.date_format '%d.%m.%Q' cannot be used" in msg
    assert "'Q' is a bad directive" in msg


def test_date_format_without_codes(tmp_path):
    (msg,) = table_problems(tmp_path, "date_format: dd.mm.yyyy")
    assert "date_format 'dd.mm.yyyy' has no % codes" in msg
    assert 'date_format: "%d.%m.%Y"' in msg


def test_date_format_without_year(tmp_path):
    (msg,) = table_problems(tmp_path, 'date_format: "%d.%m"')
    assert "date_format '%d.%m' has no year" in msg


def test_iso_date_format_words_are_accepted(tmp_path):
    config = config_of(tmp_path, "tables:\n  transactions: {file: t.csv, date_format: ISO8601}\n")
    assert config.tables["transactions"].date_format == "ISO8601"


def test_skip_rows_is_bounded(tmp_path):
    (msg,) = table_problems(tmp_path, "skip_rows: 1000000000")
    assert "tables.transactions.skip_rows 1000000000 is more than 1,000,000" in msg


def test_delimiter_empty_or_multicharacter(tmp_path):
    (msg,) = table_problems(tmp_path, 'delimiter: ""')
    assert "tables.transactions.delimiter is empty" in msg
    config = config_of(tmp_path, 'tables:\n  transactions: {file: t.csv, delimiter: "||"}\n')
    assert config.tables["transactions"].delimiter == "||"
    config = config_of(tmp_path, 'tables:\n  transactions: {file: t.csv, delimiter: "\\\\t"}\n')
    assert config.tables["transactions"].delimiter == "\t"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("-1", "tables.transactions.sheet -1 is negative"),
        ("5000", 'sheet: "5000"'),
        ("[0, 1]", "tables.transactions.sheet must be one sheet name or number"),
        ("''", "tables.transactions.sheet is empty"),
    ],
)
def test_sheet_negative_or_absurd(tmp_path, value, expected):
    (msg,) = table_problems(tmp_path, f"sheet: {value}")
    assert expected in msg


def test_normalize_ids_option(tmp_path):
    config = config_of(
        tmp_path,
        "defaults: {normalize_ids: true}\n"
        "tables:\n  transactions: t.csv\n  accounts: {file: a.csv, normalize_ids: false}\n",
    )
    assert config.tables["transactions"].normalize_ids is True
    assert config.tables["accounts"].normalize_ids is False
    assert config_of(tmp_path, TX_YAML).tables["transactions"].normalize_ids is False
    (msg,) = table_problems(tmp_path, "normalize_ids: ja")
    assert "tables.transactions.normalize_ids must be true or false, not 'ja'" in msg


def test_text_settings_are_plain_strings(tmp_path):
    config = config_of(tmp_path, "name: 2024\ncurrency: EUR\n" + TX_YAML)
    assert config.name == "2024"
    (msg,) = config_problems(tmp_path, "name: [a, b]\n" + TX_YAML)
    assert "name must be text, not a list" in msg


BAD_VALUES = ["[1, 2]", "{a: 1}", "null", "true", "3.5", "-7", "''"]
OPTIONS = [
    "delimiter",
    "decimal",
    "thousands",
    "encoding",
    "date_format",
    "sheet",
    "skip_rows",
    "true_values",
    "false_values",
    "normalize_ids",
    "file",
    "columns",
    "values",
]


#: Values among BAD_VALUES that are fine for an option (empty means "not set").
FINE = {
    "thousands": {"null", "''"},
    "true_values": {"[1, 2]"},
    "false_values": {"[1, 2]"},
    "date_format": {"null"},
    "sheet": {"null"},
    "normalize_ids": {"true"},
    "file": {"3.5", "-7"},
    "columns": {"null"},
    "values": {"null"},
}


@pytest.mark.parametrize("option", OPTIONS)
def test_every_option_with_bad_values_gives_problems_not_exceptions(tmp_path, option):
    for value in BAD_VALUES:
        for where in ("table", "defaults"):
            if where == "defaults" and option in ("file", "columns", "values"):
                continue
            if where == "table":
                text = f"tables:\n  transactions:\n    file: t.csv\n    {option}: {value}\n"
                if option == "file":
                    text = f"tables:\n  transactions:\n    {option}: {value}\n"
            else:
                text = f"defaults:\n  {option}: {value}\n" + TX_YAML
            problems = config_problems(tmp_path, text)  # must not raise
            if value in FINE.get(option, ()):
                assert problems == [], (option, value, problems)
            else:
                assert problems, (option, value)
                assert all(option in p for p in problems), (option, value, problems)


@pytest.mark.parametrize(
    "text",
    [
        "[1, 2]",
        "defaults: [1, 2]\n" + TX_YAML,
        "tables: [transactions]\n",
        "tables:\n  transactions: {file: t.csv, columns: {amount: [a, b]}}\n",
        "tables:\n  transactions: {file: t.csv, values: {amount: {a: [1]}}}\n",
        "tables:\n  accounts: {file: a.csv, values: {country: [DE]}}\n",
        "name: {a: 1}\ncurrency: [EUR]\nquantity_unit: {}\ndescription: [x]\n" + TX_YAML,
        "tables:\n  1: t.csv\n  null: u.csv\n",
        'tables:\n  transactions: {file: "t\\0.csv"}\n',
        "? [a]\n: 1\n",
    ],
)
def test_odd_documents_give_problems_not_exceptions(tmp_path, text):
    assert config_problems(tmp_path, text)


def test_file_with_nul_in_its_name_is_a_problem(tmp_path):
    (msg,) = config_problems(tmp_path, 'tables:\n  transactions: {file: "t\\0.csv"}\n')
    assert "tables.transactions.file is not a usable file name" in msg


def test_read_config_accepts_the_bundled_examples():
    here = Path(__file__).resolve().parents[1]
    for folder in ("data/samples/klebwerk", "docs/examples/awkward-export"):
        _, problems = read_config(here / folder)
        assert problems == [], problems


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symlinks")
def test_a_dataset_folder_reached_through_a_symlink_is_fine(make_dataset, good_files, tmp_path):
    root = make_dataset(good_files, TX_YAML)
    link = tmp_path / "link-to-ds"
    link.symlink_to(root, target_is_directory=True)
    assert len(load_dataset(link).transactions) == 4


def test_unreadable_dataset_folder_is_a_problem(make_dataset, good_files, monkeypatch):
    # as root chmod cannot deny reading, so the stat of a file inside fails by monkeypatch
    root = make_dataset(good_files)
    real_is_file = Path.is_file

    def is_file(self):
        if self.parent == root:
            raise PermissionError(13, "Permission denied", str(self))
        return real_is_file(self)

    monkeypatch.setattr(Path, "is_file", is_file)
    config, problems = read_config(root)
    assert config is None
    (msg,) = [str(p) for p in problems]
    assert f"{root}: cannot be read (Permission denied)" in msg
