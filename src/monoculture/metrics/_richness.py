"""How many concepts a population holds, estimated from one partition: bias-corrected Chao1 plus iChao1.

Source: the formula of Martí et al. (2023) as coded in the published sampler
(skmur/onefish-twofish ``concept-task/Chinese Restaurant Model/Model.py``) and written out in docs/methods.md
section 4. With ``f_k`` the number of tables with exactly ``k`` members, ``K`` tables and ``N`` people::

    x     = f1² / (2 f2)          if f2 > 0 else f1 (f1 − 1) / 2
    Chao1 = K + ((N − 1) / N) · x
    if f4 > 0:  Chao1 += ((N − 3) / N) · (f3 / (4 f4)) · max(f1 − ((N − 3) / (N − 1)) · f2 f3 / (2 f4), 0)
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

__all__ = ["chao1_from_frequencies", "chao1_richness"]


def chao1_from_frequencies(
    f1: np.ndarray | int,
    f2: np.ndarray | int,
    f3: np.ndarray | int,
    f4: np.ndarray | int,
    tables: np.ndarray | int,
    n_people: int,
) -> np.ndarray | float:
    """Chao1 with the iChao1 correction from the table-size frequencies (element-wise over arrays).

    Range: at least ``tables`` (never below the observed number of concepts); higher = more concepts
    estimated to exist beyond those seen. ``f1``..``f4`` count the tables with 1..4 members.
    """
    f1, f2, f3, f4 = (np.asarray(f, dtype=float) for f in (f1, f2, f3, f4))
    tables = np.asarray(tables, dtype=float)
    # A numpy scalar, not a float: with one person (N - 1) = 0 and a Python float division would raise.
    people = np.float64(n_people)
    with np.errstate(divide="ignore", invalid="ignore"):
        # np.where evaluates both branches; the divisions by zero it discards are harmless.
        x = np.where(f2 > 0, f1**2 / (2 * f2), f1 * (f1 - 1) / 2)
        chao1 = tables + ((people - 1) / people) * x
        shortfall = f1 - ((people - 3) / (people - 1)) * f2 * f3 / (2 * f4)
        correction = ((people - 3) / people) * (f3 / (4 * f4)) * np.maximum(shortfall, 0.0)
        richness = np.where(f4 > 0, chao1 + correction, chao1)
    return float(richness) if richness.ndim == 0 else richness


def chao1_richness(table_sizes: Iterable[int]) -> float:
    """Chao1 + iChao1 richness of one partition given its table sizes (empty tables are ignored).

    ``table_sizes`` lists how many people sit at each table; ``N`` is their sum. Range: ≥ number of
    non-empty tables. Raises ``ValueError`` on an empty partition or a negative size.
    """
    sizes = np.asarray(list(table_sizes), dtype=np.int64)
    if sizes.size and sizes.min() < 0:
        raise ValueError("table sizes must be non-negative")
    sizes = sizes[sizes > 0]
    if sizes.size == 0:
        raise ValueError("a partition needs at least one person")
    f1, f2, f3, f4 = (int(np.count_nonzero(sizes == k)) for k in (1, 2, 3, 4))
    return float(chao1_from_frequencies(f1, f2, f3, f4, sizes.size, int(sizes.sum())))
