"""Folders the kit did not write are never replaced or deleted, whatever their names."""

from __future__ import annotations

import os
from pathlib import Path

from .hostile import TINY_TRANSACTIONS, changes, check_result, run_cli, tree_state


def _foreign_things(out: Path, outside: Path) -> None:
    """Put into ``out`` what someone else left there, named as the kit names its own."""
    outside.mkdir(parents=True)
    (outside / "precious.txt").write_text("not the kit's\n", encoding="utf-8")
    (outside / "sub").mkdir()
    (outside / "sub" / "more.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    (outside / "run.json").write_text('{"status": "ok"}', encoding="utf-8")
    out.mkdir(parents=True)
    (out / ".incomplete-xyz").mkdir()
    (out / ".incomplete-xyz" / "work.txt").write_text("someone's work\n", encoding="utf-8")
    (out / ".incomplete-2020-01-01T00-00-00-abc").mkdir()
    (out / ".incomplete-2020-01-01T00-00-00-abc" / "pid").write_text("999999999")
    (out / "2020-01-01T00-00-00").mkdir()
    (out / "2020-01-01T00-00-00" / "run.json").write_text('{"status": "ok"}', encoding="utf-8")
    (out / "2020-01-01T00-00-00" / "index.html").write_text("<p>mine</p>", encoding="utf-8")
    (out / "2020-01-01").mkdir()
    (out / "2020-01-01" / "index.html").write_text("<p>a page of mine</p>", encoding="utf-8")
    os.symlink(outside, out / ".incomplete-link")
    os.symlink(outside, out / "2020-01-02T00-00-00")
    (out / "notes.txt").write_text("meeting notes\n", encoding="utf-8")


def _only_added_new_entries(before: dict, after: dict, out: Path, base: Path) -> list[str]:
    """Differences other than new top-level entries of ``out`` (the run's own folder)."""
    prefix = os.path.relpath(out, base)
    new_top = {
        p.split(os.sep)[len(prefix.split(os.sep))]
        for p in after.keys() - before.keys()
        if p.startswith(prefix + os.sep)
    }
    ours = {os.path.join(prefix, name) for name in new_top}
    return [
        line
        for line in changes(before, after)
        if not (
            line.startswith("created: ")
            and any(line[9:] == o or line[9:].startswith(o + os.sep) for o in ours)
        )
    ]


def test_sample_refuses_a_real_dataset_folder(tmp_path):
    folder = tmp_path / "klebwerk-data"
    folder.mkdir()
    (folder / "kam.yaml").write_text(
        "name: Our real data\ntables:\n  transactions: umsatz.csv\n", encoding="utf-8"
    )
    (folder / "umsatz.csv").write_text(TINY_TRANSACTIONS, encoding="utf-8")
    (folder / "exports").mkdir()
    (folder / "exports" / "key_accounts.csv").write_text("account_id\nA1\n", encoding="utf-8")
    (folder / "notes.docx").write_bytes(b"PK\x03\x04 not the kit's")
    before = tree_state(tmp_path)
    result = run_cli(["sample", "--out", folder, "--accounts", 20], timeout=120)
    check_result(result, 2)
    assert str(folder) in result.err or folder.name in result.err, result.describe()
    assert changes(before, tree_state(tmp_path)) == []


def test_report_leaves_foreign_folders_files_and_links_in_out(tmp_path, plain_sample):
    out, outside = tmp_path / "reports", tmp_path / "outside"
    _foreign_things(out, outside)
    before = tree_state(tmp_path)
    result = run_cli(
        ["report", "00_start_here", "--data", plain_sample, "--out", out, "--keep", 1],
        timeout=300,
    )
    check_result(result, 0)
    assert _only_added_new_entries(before, tree_state(tmp_path), out, tmp_path) == []


def test_dossiers_leave_foreign_folders_files_and_links_in_out(tmp_path, plain_sample):
    out, outside = tmp_path / "dossiers", tmp_path / "outside"
    _foreign_things(out, outside)
    before = tree_state(tmp_path)
    result = run_cli(
        ["dossiers", "--data", plain_sample, "--out", out, "--accounts", "K10001,K10002"],
        timeout=300,
    )
    check_result(result, 0)
    assert _only_added_new_entries(before, tree_state(tmp_path), out, tmp_path) == []


def test_dossiers_refuse_a_foreign_folder_named_like_their_batch(tmp_path, plain_sample):
    out = tmp_path / "dossiers"
    (out / "2026-09-28").mkdir(parents=True)
    (out / "2026-09-28" / "board-pack.pdf").write_bytes(b"%PDF-1.4 not the kit's")
    before = tree_state(tmp_path)
    args = ["dossiers", "--data", plain_sample, "--out", out, "--accounts", "K10001"]
    result = run_cli([*args, "--as-of", "2026-09-28"], timeout=300)
    check_result(result, 2)
    assert "2026-09-28" in result.err, result.describe()
    assert changes(before, tree_state(tmp_path)) == []
