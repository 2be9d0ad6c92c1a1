"""One message's TF-IDF vector for one view of its text, computed without sklearn.

The NLU intent classifier (``nlu_components``) and the FAQ ranker both score one message at a time
against vectorizers fitted with sklearn (sublinear tf, idf, l2 norm per view); building that vector
from a dict of counts is several times faster than sklearn's ``transform`` for a single text.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np
import numpy.typing as npt

EMPTY = (np.zeros(0, dtype=np.int64), np.zeros(0))


def view_vector(
    terms: Iterable[str], vocabulary: Mapping[str, int], idf: npt.NDArray[np.float64]
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    """(columns, values) of the l2-normalised ``(1 + log count) * idf`` of the known ``terms``,
    as ``TfidfVectorizer(sublinear_tf=True)`` computes them; empty when no term is known."""
    counts: dict[int, int] = {}
    for term in terms:
        column = vocabulary.get(term)
        if column is not None:
            counts[column] = counts.get(column, 0) + 1
    if not counts:
        return EMPTY
    columns = np.fromiter(counts.keys(), dtype=np.int64, count=len(counts))
    values = (np.log(np.fromiter(counts.values(), dtype=np.float64, count=len(counts))) + 1.0) * idf[columns]
    return columns, values / np.sqrt(values @ values)
