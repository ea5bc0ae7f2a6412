"""kam anonymize: the copy names nobody, yet every finding comes out the same.

The invariance tests run each analysis on the original and on the written and
reloaded copy, and compare them through the alias table of
:func:`kamlib.anonymize.anonymization_key` (original id → alias), never by reading
the copy's ids back through the same code. What must match, per account (under its
alias):

- ``abc_xyz`` (12 months to ``as_of``): the same accounts, the same ``abc``, ``xyz``,
  ``cell``, ``rank`` and Syntetos-Boylan ``pattern``; ``share`` and ``cv`` equal to
  1e-6; ``value`` = original × money factor to 0.01 %;
- ``key_account_types``: the same key accounts in the same order (best score first),
  the same ``type`` and ``rules_met``, ``tenure_years`` exactly, ``demands`` exactly,
  ``key_profit_share`` to 1e-6;
- ``loss_status``: the same ``status`` (so the same lost accounts), ``purchases``,
  ``days_since_purchase``, ``times_lost``, ``came_back`` exactly; ``lost_on`` and
  ``last_purchase`` moved by exactly the date shift;
- ``loss_events``: the same number of events, and the same (account, last purchase,
  declared on, returned on, still lost) events under the shift;
- ``loss_reasons``: the same reason and source per event, the competitor under its alias;
- ``win_back_list``: the same accounts in the same order, with the same reason,
  ``winnable`` and ``priority`` (to 1e-9).

on the bundled sample and on a second company (seed 3, 60 accounts, 2 years).
"""

from __future__ import annotations

import hashlib
import hmac
import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import kamlib
from kamlib import anonymize
from kamlib.anonymize import (
    COLUMN_RULES,
    KINDS,
    anonymization_key,
    anonymize_dataset,
    write_anonymized,
)
from kamlib.cli import main
from kamlib.schema import MODEL

from .conftest import ACCOUNTS, TRANSACTIONS

SECRET = "training-room-secret-1"
# another secret, chosen so that its date shift differs too (there are only five shifts)
OTHER = "another-secret-for-tests"


@pytest.fixture(scope="module")
def sample_pair(tmp_path_factory):
    folder = tmp_path_factory.mktemp("anon") / "sample-copy"
    original = kamlib.load_sample()
    out = write_anonymized("sample", folder, secret=SECRET)
    return original, kamlib.load_dataset(out), anonymization_key(original, secret=SECRET), out


@pytest.fixture(scope="module")
def seed3_pair(tmp_path_factory):
    root = tmp_path_factory.mktemp("seed3")
    source = kamlib.sample.write_sample(
        root / "company", accounts=60, years=2, seed=3, end="2025-06-30"
    )
    original = kamlib.load_dataset(source)
    out = write_anonymized(source, root / "copy", secret=SECRET)
    return original, kamlib.load_dataset(out), anonymization_key(original, secret=SECRET), out


@pytest.fixture(params=["sample", "seed 3"])
def pair(request, sample_pair, seed3_pair):
    return sample_pair if request.param == "sample" else seed3_pair


def _as_of(original, copy, key):
    before = kamlib.resolve_as_of(original.transactions)
    after = kamlib.resolve_as_of(copy.transactions)
    return before, after


def _aliased(frame: pd.DataFrame, key, column: str = "account_id") -> pd.DataFrame:
    return frame.assign(**{column: frame[column].map(key.alias_map("account")).astype(object)})


# ------------------------------------------------------------------ invariance


def test_as_of_moves_by_whole_four_year_blocks(pair):
    original, copy, key, _ = pair
    before, after = _as_of(original, copy, key)
    assert after == key.shift(before)
    assert key.shift_days % 1461 == 0 and 1 <= key.shift_days // 1461 <= 5
    assert (after.month, after.day) == (before.month, before.day)
    assert before.year - after.year == 4 * (key.shift_days // 1461)


def test_abc_xyz_classes_are_the_same_under_the_aliases(pair):
    original, copy, key, _ = pair
    before, after = _as_of(original, copy, key)
    was = _aliased(kamlib.abc_xyz(original.transactions, as_of=before), key)
    now = kamlib.abc_xyz(copy.transactions, as_of=after)
    was, now = was.set_index("account_id"), now.set_index("account_id").loc[was["account_id"]]
    exact = ["abc", "xyz", "cell", "rank", "pattern"]
    pd.testing.assert_frame_equal(now[exact], was[exact], check_index_type=False)
    np.testing.assert_allclose(now["share"], was["share"], rtol=0, atol=1e-6)
    np.testing.assert_allclose(now["cv"], was["cv"], rtol=0, atol=1e-3)  # cents rounding
    np.testing.assert_allclose(now["value"], was["value"] * key.money_factor, rtol=1e-4)
    assert set(was["cell"]) >= {"AX", "CZ"}  # a real spread of classes, not a trivial match


def test_key_accounts_and_their_types_are_the_same(pair):
    original, copy, key, _ = pair
    before, after = _as_of(original, copy, key)
    was = _aliased(kamlib.key_account_types(original, as_of=before), key)
    now = kamlib.key_account_types(copy, as_of=after)
    assert now["account_id"].tolist() == was["account_id"].tolist()
    for column in ("type", "rules_met", "tenure_years", "demands"):
        assert now[column].tolist() == was[column].tolist(), column
    np.testing.assert_allclose(now["key_profit_share"], was["key_profit_share"], atol=1e-6)
    assert len(now) >= 8 and now["type"].nunique() >= 2
    codes = now["account_id"].str.removeprefix("ACC-")
    assert (now["name"] == "Account " + codes).all()


def test_lost_accounts_and_loss_events_are_the_same(pair):
    original, copy, key, _ = pair
    before, after = _as_of(original, copy, key)
    shift = pd.Timedelta(days=key.shift_days)
    was = _aliased(kamlib.loss_status(original.transactions, as_of=before), key)
    now = kamlib.loss_status(copy.transactions, as_of=after)
    was, now = was.set_index("account_id"), now.set_index("account_id").loc[was["account_id"]]
    exact = ["status", "purchases", "days_since_purchase", "times_lost", "came_back"]
    pd.testing.assert_frame_equal(now[exact], was[exact], check_index_type=False)
    for column in ("lost_on", "last_purchase", "first_purchase"):
        pd.testing.assert_series_equal(now[column], was[column] - shift, check_index_type=False)
    assert (was["status"] == "lost").sum() >= 3

    columns = ["account_id", "last_purchase", "lost_on", "returned_on", "still_lost"]
    events_was = kamlib.loss_events(original.transactions, as_of=before)
    events_now = kamlib.loss_events(copy.transactions, as_of=after)
    assert len(events_now) == len(events_was)
    moved = _aliased(events_was, key)[columns].assign(
        **{c: lambda f, c=c: f[c] - shift for c in ("last_purchase", "lost_on", "returned_on")}
    )
    sort = ["lost_on", "account_id"]
    pd.testing.assert_frame_equal(
        events_now[columns].sort_values(sort).reset_index(drop=True),
        moved.sort_values(sort).reset_index(drop=True),
    )


def _reasons(dataset, as_of):
    events = kamlib.loss_events(dataset.transactions, as_of=as_of)
    return kamlib.loss_reasons(
        events,
        as_of=as_of,
        interactions=dataset.get("interactions"),
        proposals=dataset.get("proposals"),
        surveys=dataset.get("surveys"),
    )


def test_loss_reasons_and_the_win_back_order_are_the_same(pair):
    original, copy, key, _ = pair
    before, after = _as_of(original, copy, key)
    shift = pd.Timedelta(days=key.shift_days)
    reasons_was = _aliased(_reasons(original, before), key)
    reasons_now = _reasons(copy, after)
    reasons_was = reasons_was.assign(
        lost_on=reasons_was["lost_on"] - shift,
        competitor=reasons_was["competitor"].map(key.alias_map("competitor")).astype(object),
    )
    columns = ["account_id", "lost_on", "reason", "reason_source", "competitor"]
    sort = ["lost_on", "account_id"]
    pd.testing.assert_frame_equal(
        reasons_now[columns].sort_values(sort).reset_index(drop=True),
        reasons_was[columns].sort_values(sort).reset_index(drop=True),
        check_dtype=False,  # text columns: object or str, by pandas version
    )
    assert reasons_was["reason"].nunique() >= 3

    was = kamlib.win_back_list(
        _reasons(original, before), as_of=before, accounts=original.get("accounts")
    )
    now = kamlib.win_back_list(reasons_now, as_of=after, accounts=copy.get("accounts"))
    assert now["account_id"].tolist() == was["account_id"].map(key.alias_map("account")).tolist()
    for column in ("rank", "reason", "winnable", "segment"):
        assert now[column].tolist() == was[column].tolist(), column
    np.testing.assert_allclose(now["priority"], was["priority"], rtol=0, atol=1e-9)
    assert len(now) >= 3


# ------------------------------------------------------------------ nothing identifies


def _blob(folder: Path) -> bytes:
    return b"".join(path.read_bytes() for path in sorted(folder.iterdir()))


def test_no_original_name_id_or_note_is_in_the_written_files(pair):
    original, _, key, out = pair
    blob = _blob(out)
    id_columns = {
        "transactions": ["account_id", "product_id", "invoice_id"],
        "accounts": ["account_id"],
        "contacts": ["contact_id"],
        "interactions": ["interaction_id"],
        "proposals": ["proposal_id"],
    }
    ids = {str(v) for t, cs in id_columns.items() for c in cs for v in original.tables[t][c]}
    texts = set()
    for table, column in [
        ("accounts", "name"),
        ("accounts", "account_manager"),
        ("accounts", "group"),
        ("contacts", "name"),
        ("products", "name"),
        ("competitors", "competitor"),
        ("interactions", "note"),
        ("surveys", "comment"),
    ]:
        texts |= {str(v) for v in original.tables[table][column].dropna() if str(v).strip()}
    assert len(ids) > 1000 and len(texts) > 150
    # ids are compared as whole tokens: C30001 could be part of a hex alias by chance
    tokens = {t.decode() for t in re.findall(rb"[0-9A-Za-z]+", blob)}
    assert not ids & tokens
    leaked = [t for t in texts if t.encode("utf-8") in blob]
    assert not leaked
    assert SECRET.encode() not in blob
    for factor in (key.money_factor, key.quantity_factor):
        assert repr(factor).encode() not in blob
    # scenario.csv (the planted truth, by account id) is not copied; the kit's own hidden
    # marker file (what wrote the folder) may be there, and was searched above with the rest
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) == sorted(
        ["kam.yaml", *(f"{t}.csv" for t in original.tables)]
    )


def test_aliases_are_keyed_hashes_of_kind_and_value(sample_pair):
    _, _, key, _ = sample_pair
    mac = hmac.new(
        SECRET.encode(),
        "\x1f".join(["kamlib.anonymize/1", "alias", "account", "K10001"]).encode(),
        hashlib.sha256,
    )
    assert key.alias_map("account")["K10001"] == "ACC-" + mac.hexdigest().upper()[:6]
    patterns = {
        "account": r"ACC-[0-9A-F]{6}",
        "contact": r"CON-[0-9A-F]{6}",
        "product": r"PRD-[0-9A-F]{6}",
        "invoice": r"INV-[0-9A-F]{8}",
        "interaction": r"INT-[0-9A-F]{8}",
        "proposal": r"PRP-[0-9A-F]{8}",
        "group": r"Group [0-9A-F]{4}",
        "manager": r"Manager [0-9A-F]{4}",
        "competitor": r"Competitor [0-9A-F]{4}",
    }
    assert set(patterns) == set(KINDS)
    for kind, pattern in patterns.items():
        aliases = pd.Series(list(key.alias_map(kind).values()), dtype=object)
        assert aliases.str.fullmatch(pattern + r"(?:[0-9A-F]{2})*").all(), kind
        assert aliases.is_unique, kind
    assert "factors and shift hidden" in repr(key) and str(key.money_factor) not in repr(key)


def test_aliases_that_would_clash_get_longer_and_stay_unique():
    # 10,000 accounts with 6 hex digits: a few pairs share a code (birthday bound)
    ids = [f"K{i:05d}" for i in range(10_000)]
    tx = pd.DataFrame(
        {"account_id": ids, "date": pd.Timestamp("2025-01-31"), "amount": 1.0}, dtype=object
    ).astype({"date": "datetime64[ns]", "amount": float})
    dataset = kamlib.Dataset(name="many", source=Path("many"), tables={"transactions": tx})
    aliases = pd.Series(anonymization_key(dataset, secret=SECRET).alias_map("account"))
    assert aliases.is_unique
    lengths = aliases.str.len().value_counts()
    assert set(lengths.index) == {10, 12} and lengths[12] % 2 == 0 and lengths[12] <= 20


def test_foreign_keys_still_match_and_free_text_is_gone(sample_pair):
    original, copy, key, _ = sample_pair
    accounts = set(copy.get("accounts")["account_id"])
    for table in ("transactions", "invoices", "contacts", "interactions", "proposals"):
        assert set(copy.tables[table]["account_id"]) <= accounts, table
    assert set(copy.transactions["invoice_id"]) >= set(copy.get("invoices")["invoice_id"])
    visits = copy.get("interactions")["contact_id"].dropna()
    assert len(visits) and set(visits) <= set(copy.get("contacts")["contact_id"])
    assert set(copy.get("interactions")["note"].dropna()) == {"(note removed)"}
    assert set(copy.get("surveys")["comment"].dropna()) <= {"(comment removed)"}
    # what the lessons need is kept as it is
    for table, column in [("accounts", "segment"), ("contacts", "role"), ("interactions", "type")]:
        assert sorted(copy.tables[table][column].dropna().unique()) == sorted(
            original.tables[table][column].dropna().unique()
        )
    # a price per unit keeps matching amount / quantity
    ratio = key.money_factor / key.quantity_factor
    prices = original.get("products").set_index("product_id")["list_price"]
    mapped = prices.rename(index=key.alias_map("product")) * ratio
    now = copy.get("products").set_index("product_id")["list_price"]
    np.testing.assert_allclose(now.loc[mapped.index], mapped, rtol=1e-4)


def test_every_model_column_has_one_documented_decision():
    assert set(COLUMN_RULES) == set(MODEL)
    for table, spec in MODEL.items():
        assert set(COLUMN_RULES[table]) == set(spec.column_names), table
        for column in spec.column_names:
            assert f"``{column}``" in anonymize.__doc__, f"{table}.{column}"
    assert "Teaching on your own company's data" in anonymize.__doc__


# ------------------------------------------------------------------ secret and reproducibility


def test_same_secret_gives_byte_identical_files(sample_pair, tmp_path):
    _, _, _, out = sample_pair
    again = write_anonymized("sample", tmp_path / "again", secret=SECRET)
    assert sorted(p.name for p in again.iterdir()) == sorted(p.name for p in out.iterdir())
    for path in out.iterdir():
        assert (again / path.name).read_bytes() == path.read_bytes(), path.name


def test_another_secret_gives_other_aliases_factors_and_shift(sample_pair, tmp_path):
    original, copy, key, _ = sample_pair
    other = anonymization_key(original, secret=OTHER)
    assert not set(key.alias_map("account").values()) & set(other.alias_map("account").values())
    assert other.money_factor != key.money_factor
    assert other.quantity_factor != key.quantity_factor
    assert other.shift_days != key.shift_days
    for factor in (key.money_factor, key.quantity_factor, other.money_factor):
        assert 0.5 <= factor <= 1 / 1.1 or 1.1 <= factor <= 2
    second = kamlib.load_dataset(write_anonymized("sample", tmp_path / "o", secret=OTHER))
    ratio = second.transactions["amount"].sum() / copy.transactions["amount"].sum()
    assert ratio == pytest.approx(other.money_factor / key.money_factor, rel=1e-6)
    assert kamlib.resolve_as_of(second.transactions) == other.shift(
        kamlib.resolve_as_of(original.transactions)
    )


def test_a_missing_or_short_secret_is_refused():
    dataset = kamlib.load_sample()
    for secret in ("", "   ", None):
        with pytest.raises(ValueError, match="KAM_SECRET"):
            anonymize_dataset(dataset, secret=secret)
    with pytest.raises(ValueError, match="at least 12 characters"):
        anonymize_dataset(dataset, secret="short")


def test_the_input_is_not_modified(tmp_path):
    dataset = kamlib.load_sample()
    before = {name: frame.copy(deep=True) for name, frame in dataset.tables.items()}
    copy = anonymize_dataset(dataset, secret=SECRET)
    for name, frame in dataset.tables.items():
        pd.testing.assert_frame_equal(frame, before[name])
    assert copy.name == "Anonymized copy" and copy.tables is not dataset.tables
    # nor the source folder: nothing written, nothing changed
    folder = kamlib.sample_dir()
    files = {p.name: p.read_bytes() for p in folder.iterdir()}
    write_anonymized("sample", tmp_path / "copy", secret=SECRET)
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == files


def test_the_copy_in_memory_is_the_copy_written(sample_pair):
    original, copy, _, _ = sample_pair
    in_memory = anonymize_dataset(original, secret=SECRET)
    for name, frame in in_memory.tables.items():
        written = copy.tables[name][list(frame.columns)]
        pd.testing.assert_frame_equal(written, frame, check_dtype=False, atol=1e-9)


# ------------------------------------------------------------------ text, dates


def test_names_in_kept_text_are_replaced_by_their_aliases(make_dataset):
    root = make_dataset(
        {
            "transactions.csv": TRANSACTIONS,
            "accounts.csv": ACCOUNTS,
            "competitors.csv": "account_id,competitor\nA1,Adhexa\n",
            "interactions.csv": (
                "interaction_id,account_id,date,type,outcome,reason,note\n"
                "I1,A1,2025-03-01,call,lost to ADHEXA,price,Talked to Mr Smith of Alpha GmbH\n"
                "I2,A2,2025-03-02,visit,follow-up,,\n"
            ),
        }
    )
    dataset = kamlib.load_dataset(root)
    key = anonymization_key(dataset, secret=SECRET)
    copy = anonymize_dataset(dataset, secret=SECRET)
    rival = key.alias_map("competitor")["Adhexa"]
    interactions = copy.get("interactions").set_index("account_id")
    first = interactions.loc[key.alias_map("account")["A1"]]
    assert first["outcome"] == f"lost to {rival}"
    assert first["reason"] == "price"
    assert first["note"] == "(note removed)"
    assert pd.isna(interactions.loc[key.alias_map("account")["A2"], "note"])
    assert copy.get("competitors")["competitor"].tolist() == [rival]


def test_leap_days_stay_leap_days_and_early_dates_take_fewer_blocks(make_dataset):
    tx = TRANSACTIONS + "A1,2024-02-29,10.00,1,5.00,P1,R5\n"
    accounts = "account_id,first_order_date\nA1,1906-01-01\nA2,2001-05-05\nA3,\n"
    dataset = kamlib.load_dataset(make_dataset({"transactions.csv": tx, "accounts.csv": accounts}))
    key = anonymization_key(dataset, secret=SECRET)
    assert key.shift_days == 1461  # 1906 leaves room for one block only, whatever the secret
    copy = anonymize_dataset(dataset, secret=SECRET)
    assert pd.Timestamp("2020-02-29") in set(copy.transactions["date"])
    assert pd.Timestamp("1902-01-01") in set(copy.get("accounts")["first_order_date"])


def test_dates_that_cannot_be_shifted_are_named(make_dataset):
    accounts = "account_id,first_order_date\nA1,1901-01-01\nA2,2001-05-05\nA3,\n"
    root = make_dataset({"transactions.csv": TRANSACTIONS, "accounts.csv": accounts})
    with pytest.raises(ValueError, match=r"accounts.first_order_date.*1901-01-01"):
        anonymize_dataset(kamlib.load_dataset(root), secret=SECRET)


# ------------------------------------------------------------------ the command


def test_cli_without_a_secret_exits_2_and_says_how_to_give_one(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("KAM_SECRET", raising=False)
    assert main(["anonymize", "sample", "--out", str(tmp_path / "copy")]) == 2
    err = capsys.readouterr().err
    assert "KAM_SECRET" in err and "--secret" in err
    assert main(["anonymize", "sample", "--out", str(tmp_path / "copy"), "--secret", "abc"]) == 2
    assert "at least 12 characters" in capsys.readouterr().err
    assert not (tmp_path / "copy").exists()


def test_cli_writes_the_copy_and_reminds_to_keep_the_secret(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("KAM_SECRET", SECRET)
    out = tmp_path / "copy"
    assert main(["anonymize", "sample", "--out", str(out)]) == 0
    printed = capsys.readouterr().out.strip().splitlines()
    assert len(printed) == 1
    assert str(out) in printed[0] and "keep the secret" in printed[0]
    assert main(["check", str(out)]) == 0  # the copy passes kam check
    assert "Anonymized copy" in capsys.readouterr().out
    # again into the same folder: an earlier anonymized copy is replaced
    assert main(["anonymize", "sample", "--out", str(out), "--secret", OTHER]) == 0


def test_cli_on_an_invalid_dataset_exits_1_with_the_validation_message(
    make_dataset, tmp_path, monkeypatch, capsys
):
    monkeypatch.setenv("KAM_SECRET", SECRET)
    root = make_dataset({"transactions.csv": TRANSACTIONS.replace("2025-02-15", "15.02.2025")})
    assert main(["anonymize", str(root), "--out", str(tmp_path / "copy")]) == 1
    err = capsys.readouterr().err
    assert "transactions.csv" in err and "'date'" in err and "not a date" in err
    assert "Nothing was written" in err
    assert not (tmp_path / "copy").exists()


def test_cli_refuses_folders_it_must_not_overwrite(make_dataset, tmp_path, capsys):
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "plan.txt").write_text("keep me", encoding="utf-8")
    assert main(["anonymize", "sample", "--out", str(notes), "--secret", SECRET]) == 2
    err = capsys.readouterr().err
    assert "notes holds files (plan.txt)" in err or "plan.txt" in err
    assert "replaces only a folder it wrote itself" in err
    assert (notes / "plan.txt").read_text(encoding="utf-8") == "keep me"

    real = make_dataset(
        {"transactions.csv": TRANSACTIONS},
        yaml="name: Real data\ntables:\n  transactions: transactions.csv\n",
    )
    assert main(["anonymize", "sample", "--out", str(real), "--secret", SECRET]) == 2
    err = capsys.readouterr().err
    assert "kam.yaml" in err and "replaces only a folder it wrote itself" in err
    assert (real / "transactions.csv").read_text(encoding="utf-8") == TRANSACTIONS

    inside = real / "anonymized"
    assert main(["anonymize", str(real), "--out", str(inside), "--secret", SECRET]) == 2
    assert "folder of the original data" in capsys.readouterr().err
    assert not inside.exists()


# ------------------------------------------------------------------ leaks through kept text

LEAKY_ACCOUNTS = """\
account_id,name,country,region,industry,segment,account_manager,group,headcount,annual_sales
A1,Müller Präzisionstechnik GmbH,DE,"Tel +49 (0)89 123-4567",Automotive,\
"=HYPERLINK(""http://evil.example/x"",""click"")",Ivo Novák,Zentrix Holding AG,1234,25000000
A2,Beta Automotive AG,CH,South,Automotive,OEM,Ivo Novák,,40,8000000
A3,Quality Foods Ltd,FR,Präzisionstechnik area,Packaging,OEM,Sabine Roth,,10,2000000
"""

LEAKY_PRODUCTS = """\
product_id,name,product_group,unit,list_price
P1,Hot Zentrolix-300,Hot melt,kg,5.50
P2,Hot Flex-310,"<script>alert(1)</script>Hot melt",kg,4.00
"""

LEAKY_CONTACTS = """\
contact_id,account_id,name,job_title,role
C1,A1,Lena Hoffmann,Buyer (l.hoffmann@mueller-praezision.de),buyer
C2,A1,Otto Weiß,Assistant to Hoffmann,user
C3,A2,Kai Brandt,see www.beta-ag.example/team,user
"""

LEAKY_INTERACTIONS = """\
interaction_id,account_id,date,type,outcome,reason,note
I1,A1,2025-03-01,call,"lost, Mueller went to Zentrolix","price: asked 12.345,67 EUR",x
I2,A1,2025-03-02,visit,credit note R-2024-00017,Ivo knows them,
I3,A2,2025-03-03,visit,account lost,quality,
I4,A3,2025-03-04,call,<img src=x onerror=alert(1)>done,Weiss said javascript:alert(1),
"""

#: Every piece of original text that must not survive, as the test folds it.
LEAKS = [
    "müller", "mueller", "präzisionstechnik", "praezision", "hoffmann", "ivo", "novák",
    "zentrix", "zentrolix", "weiß", "weiss", "123-4567", "4567", "(0)89",
    "l.hoffmann@", "beta-ag.example", "evil.example", "12.345,67", "345,67",
    "R-2024-00017", "00017", "1234", "<script", "<img", "onerror", "javascript:",
]  # fmt: skip


def _fold_for_search(text: str) -> str:
    """Case and accents folded, the way a reader would search for a name."""
    import unicodedata

    text = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in text if not unicodedata.combining(c))


@pytest.fixture
def leaky(make_dataset):
    tx = TRANSACTIONS.replace("P2", "P1")
    return make_dataset(
        {
            "transactions.csv": tx,
            "accounts.csv": LEAKY_ACCOUNTS,
            "products.csv": LEAKY_PRODUCTS,
            "contacts.csv": LEAKY_CONTACTS,
            "interactions.csv": LEAKY_INTERACTIONS,
        }
    )


def test_no_name_contact_or_number_in_kept_text_survives(leaky, tmp_path):
    out = write_anonymized(leaky, tmp_path / "copy", secret=SECRET)
    blob = _fold_for_search(_blob(out).decode("utf-8"))
    leaked = [leak for leak in LEAKS if _fold_for_search(leak) in blob]
    assert not leaked
    copy = kamlib.load_dataset(out)
    contacts = copy.get("contacts").set_index("role")
    assert contacts.loc["buyer", "job_title"] == "Buyer ([email])"
    assert sorted(contacts.loc["user", "job_title"]) == ["Assistant to [name]", "see [url]"]
    accounts = copy.get("accounts")
    assert "Tel [phone]" in set(accounts["region"])
    assert "[name] area" in set(accounts["region"])  # a partial account name
    reasons = set(copy.get("interactions")["reason"])
    assert {"price: asked [number] EUR", "[name] knows them", "quality"} <= reasons
    outcomes = set(copy.get("interactions")["outcome"])
    assert "credit note R-[number]-[number]" in outcomes
    assert "lost, [name] went to [name]" in outcomes  # spelling variant; a product's word


def test_kept_text_stays_readable_where_it_names_nobody(leaky):
    dataset = kamlib.load_dataset(leaky)
    copy = anonymize_dataset(dataset, secret=SECRET)
    accounts = copy.get("accounts")
    # "Automotive" is in an account's name but is the industry of another account too;
    # "quality" is in an account's name but is a loss reason the kit reads
    assert sorted(accounts["industry"]) == ["Automotive", "Automotive", "Packaging"]
    assert "quality" in set(copy.get("interactions")["reason"])
    assert "account lost" in set(copy.get("interactions")["outcome"])
    # "Hot" is in the product names and is the product family
    assert set(copy.get("products")["product_group"]) == {"Hot melt", "alert(1)Hot melt"}
    assert set(copy.get("contacts")["role"]) == {"buyer", "user"}


def test_formulas_and_markup_in_kept_text_are_neutralised(leaky, tmp_path):
    import csv
    import io

    copy = anonymize_dataset(kamlib.load_dataset(leaky), secret=SECRET)
    segments = set(copy.get("accounts")["segment"])
    assert '\'=HYPERLINK("[url]","click")' in segments
    outcomes = set(copy.get("interactions")["outcome"])
    assert "done" in outcomes  # the <img onerror> tag is removed, the text kept
    assert "[name] said [url]alert(1)" in set(copy.get("interactions")["reason"])
    out = write_anonymized(leaky, tmp_path / "copy", secret=SECRET)
    for path in out.glob("*.csv"):
        for row in csv.reader(io.StringIO(path.read_text(encoding="utf-8"))):
            for cell in row:
                if cell.startswith(("=", "+", "-", "@", "\t", "\r")):
                    float(cell)  # only a negative number may start like a formula
        text = path.read_text(encoding="utf-8")
        assert "<" not in text and ">" not in text, path.name


def test_a_category_value_outside_the_model_is_scrubbed(leaky):
    dataset = kamlib.load_dataset(leaky)
    contacts = dataset.tables["contacts"].copy()
    contacts.loc[contacts["contact_id"] == "C3", "role"] = "Hoffmann's deputy"
    tables = dict(dataset.tables, contacts=contacts)
    odd = kamlib.Dataset(name="odd", source=dataset.source, tables=tables)
    roles = set(anonymize_dataset(odd, secret=SECRET).get("contacts")["role"])
    assert roles == {"buyer", "user", "[name]'s deputy"}


def test_each_public_figure_has_its_own_factor(leaky, tmp_path):
    dataset = kamlib.load_dataset(leaky)
    separated = math.log2(1.1) - 1e-12
    for secret in (SECRET, OTHER, "a-third-secret-here", "and-a-fourth-secret"):
        key = anonymization_key(dataset, secret=secret)
        assert set(key.factors) == set(anonymize.FACTOR_GROUPS)
        values = list(key.factors.values())
        for i, a in enumerate(values):
            assert 0.5 <= a <= 1 / 1.1 or 1.1 <= a <= 2
            for b in values[i + 1 :]:
                assert abs(math.log2(a / b)) >= separated, (secret, key.factors)
    key = anonymization_key(dataset, secret=SECRET)
    assert key.factors["money"] == key.money_factor
    assert key.factors["quantity"] == key.quantity_factor
    out = write_anonymized(leaky, tmp_path / "copy", secret=SECRET)
    was = dataset.get("accounts").set_index("account_id")
    now = kamlib.load_dataset(out).get("accounts").set_index("account_id")
    now = now.loc[was.index.map(key.alias_map("account"))]
    np.testing.assert_allclose(
        now["annual_sales"], was["annual_sales"] * key.factors["annual_sales"], rtol=0, atol=0.005
    )
    assert now["headcount"].tolist() == [
        round(h * key.factors["headcount"]) for h in was["headcount"]
    ]
    assert key.factors["annual_sales"] != key.money_factor
    assert key.factors["headcount"] not in (key.money_factor, key.factors["annual_sales"])
    blob = _blob(out)
    for factor in key.factors.values():
        assert repr(factor).encode() not in blob


def test_invoices_keep_matching_their_lines(sample_pair):
    original, copy, key, _ = sample_pair
    lines = copy.transactions.groupby("invoice_id")["amount"].sum()
    invoices = copy.get("invoices").set_index("invoice_id")["amount"]
    was_lines = original.transactions.groupby("invoice_id")["amount"].sum()
    was = original.get("invoices").set_index("invoice_id")["amount"]
    both = was.index.intersection(was_lines.index)
    gap_was = (was.loc[both] - was_lines.loc[both]).abs()
    aliases = both.map(key.alias_map("invoice"))
    gap_now = (invoices.loc[aliases] - lines.loc[aliases]).abs().to_numpy()
    lines_per_invoice = original.transactions.groupby("invoice_id").size().loc[both].to_numpy()
    # the same reconciliation, give or take half a cent per rounded line
    assert (
        gap_now <= gap_was.to_numpy() * key.money_factor + 0.005 * (lines_per_invoice + 1)
    ).all()


def test_the_doc_lists_the_stopwords_and_the_factor_groups():
    text = (kamlib.project_root() / "docs" / "anonymize.md").read_text(encoding="utf-8")
    words = set(
        re.findall(r"[a-z_]+", " ".join(re.findall(r"\*\*Stop words\*\*.*?- \*\*", text, re.S)))
    )
    assert set(anonymize.STOPWORDS) <= words, set(anonymize.STOPWORDS) - words
    for group, columns in anonymize.FACTOR_GROUPS.items():
        row = next(line for line in text.splitlines() if line.startswith(f"| `{group}` |"))
        for column in columns:
            name = column.split(".")[1]
            assert f"`{column}`" in row or f"`.{name}`" in row, column
    assert "not anonymisation" in text and "GDPR" in text
