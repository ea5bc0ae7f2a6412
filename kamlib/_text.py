"""Small vectorised text helpers shared by the analyses."""

from __future__ import annotations

from functools import reduce

import numpy as np


def join_where(mask: np.ndarray, labels) -> np.ndarray:
    """Per row of ``mask`` (rows × labels), the labels where it is true, joined by ", ".

    Works column by column (one NumPy string operation per label), never row by row.
    """
    mask = np.asarray(mask, dtype=bool)
    labels = np.asarray(labels, dtype=str)
    if mask.shape[1] == 0:
        return np.full(mask.shape[0], "", dtype=object)
    parts = np.where(mask, np.char.add(labels, ", ")[None, :], "")
    joined = reduce(np.char.add, parts.T)
    return np.char.rstrip(joined, ", ").astype(object)
