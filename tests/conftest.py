"""Shared fixtures: small hand-made datasets written into a temporary folder."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

ACCOUNTS = """\
account_id,name,country,is_prestige
A1,Alpha GmbH,DE,yes
A2,Beta AG,CH,no
A3,Gamma SAS,FR,
"""

TRANSACTIONS = """\
account_id,date,amount,quantity,cost,product_id,invoice_id
A1,2025-01-15,1000.00,100,600.00,P1,R1
A1,2025-02-15,500.00,50,300.00,P1,R2
A2,2025-01-20,250.50,20,200.00,P2,R3
A3,2025-03-01,-50.00,-5,-30.00,P1,R4
"""


@pytest.fixture
def make_dataset(tmp_path: Path):
    """Write files (name -> text or bytes) and an optional kam.yaml; return the folder."""

    def make(files: dict[str, str | bytes], yaml: str | None = None, folder: str = "ds") -> Path:
        root = tmp_path / folder
        root.mkdir(parents=True, exist_ok=True)
        for name, content in files.items():
            path = root / name
            if isinstance(content, bytes):
                path.write_bytes(content)
            else:
                path.write_text(content, encoding="utf-8")
        if yaml is not None:
            (root / "kam.yaml").write_text(textwrap.dedent(yaml), encoding="utf-8")
        return root

    return make


@pytest.fixture
def good_files() -> dict[str, str]:
    return {"transactions.csv": TRANSACTIONS, "accounts.csv": ACCOUNTS}
