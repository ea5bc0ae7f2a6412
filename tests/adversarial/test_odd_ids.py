"""Account ids no file name can hold: too long, or with ``/`` and ``..`` in them."""

from __future__ import annotations

import pytest

from .hostile import changes, check_result, page_text, pages, run_cli, tiny_dataset, tree_state

LONG = "K" + "7" * 299  # 300 characters: longer than a file name may be
ODD_IDS = {
    "A1": "Firma Alpha",
    LONG: "Firma Lang",
    "../../evil/A2": "Firma Evil",
    "a/b/..": "Firma Slash",
}


def _odd_dataset(folder):
    accounts = "account_id,name\n" + "".join(
        f'"{account}",{name}\n' for account, name in ODD_IDS.items()
    )
    transactions = "account_id,date,amount\n" + "".join(
        f'"{account}",2025-0{month}-15,{100 * (n + 1)}.00\n'
        for n, account in enumerate(ODD_IDS)
        for month in (1, 2, 3)
    )
    return tiny_dataset(folder, files={"accounts.csv": accounts, "transactions.csv": transactions})


@pytest.mark.parametrize("customer_facing", [False, True], ids=["dossiers", "customer"])
def test_dossiers_write_a_page_for_every_odd_id(tmp_path, customer_facing):
    data = _odd_dataset(tmp_path / "case" / "data")
    out = tmp_path / "case" / "out"
    before = tree_state(tmp_path, exclude=[out])
    args = ["dossiers", "--data", data, "--out", out, "--accounts", "all"]
    result = run_cli([*args, "--customer-facing"] if customer_facing else args, timeout=300)
    check_result(result, 0)
    assert changes(before, tree_state(tmp_path, exclude=[out])) == []
    texts = [page_text(p) for p in pages(out) if p.name != "index.html"]
    without = [a for a, name in ODD_IDS.items() if not any(name in text for text in texts)]
    assert without == [], f"no page shows {without}; pages: {[p.name for p in pages(out)]}"
    assert len(texts) >= len(ODD_IDS)
