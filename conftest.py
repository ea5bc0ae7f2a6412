"""Root conftest: lets nbval check stable facts in notebooks committed without outputs.

Notebooks are committed without outputs, and nbval skips the output check of a
cell whose committed copy was never run. A cell tagged ``NBVAL_CHECK_OUTPUT``
(``# NBVAL_CHECK_OUTPUT`` in its source) therefore keeps its expected output in
its metadata (``kam.expected_output``),
and this hook hands that text to nbval as the reference before the cell runs, so
nbval really compares it. A tagged cell without an expectation is an error: it
would check nothing.
"""

from __future__ import annotations

import nbformat
import pytest


def pytest_collection_modifyitems(session, config, items):
    for item in items:
        cell = getattr(item, "cell", None)
        options = getattr(item, "options", None)
        if cell is None or not options or not options.get("check") or not config.option.nbval_lax:
            continue  # only the cells nbval-lax checks: marked "# NBVAL_CHECK_OUTPUT"
        expected = cell.get("metadata", {}).get("kam", {}).get("expected_output")
        if expected is None:
            raise pytest.UsageError(
                f"{item.nodeid}: a NBVAL_CHECK_OUTPUT cell needs metadata kam.expected_output "
                "(the text it must print), or it checks nothing"
            )
        cell.execution_count = 1
        cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=expected)]
