"""Documentation that must stay in step with the code."""

from __future__ import annotations

import kamlib
from kamlib.schema import MODEL, render_markdown, update_doc

DOC = kamlib.project_root() / "docs" / "data-model.md"


def test_data_model_doc_is_generated_from_the_schema():
    text = DOC.read_text(encoding="utf-8")
    assert render_markdown() in text
    assert update_doc(text) == text, "run: python -m kamlib.schema docs/data-model.md"


def test_every_table_and_column_is_documented():
    text = DOC.read_text(encoding="utf-8")
    for table in MODEL.values():
        assert f"### `{table.name}`" in text
        for column in table.columns:
            assert f"| `{column.name}` |" in text


def test_docs_named_by_the_issue_exist():
    docs = kamlib.project_root() / "docs"
    for name in ("data-model.md", "your-data.md", "notebook-conventions.md"):
        assert (docs / name).stat().st_size > 1000, name


def test_key_account_doc_quotes_the_default_weights():
    text = " ".join((kamlib.project_root() / "docs" / "key-accounts.md").read_text().split())
    quoted = ", ".join(
        f"{name.replace('_', ' ')} {weight:g}" for name, weight in kamlib.DEFAULT_WEIGHTS.items()
    )
    assert quoted in text, quoted
    for criterion in kamlib.CRITERIA["criterion"]:
        assert criterion.replace("_", " ") in text
