"""Which individuals were sampled: a bootstrap over individuals of P(multiple concepts), reweighting the CRP's
posterior partitions.

The CRP's posterior interval covers the sampler's uncertainty about how *these* individuals sit, not the
uncertainty of having sampled these individuals rather than others: at 10 individuals per target, concepts of
shares 0.5/0.3/0.2 (1 − Σπ² = 0.62) and 5% of answers flipped, the posterior interval of the unbiased statistic
is 0.003 wide and covered the truth for 2 of 400 targets (``benchmarks/crp_bootstrap.py``).

**The resample.** Draw N individuals with replacement (weights w_i, Σ w_i = N) and one partition z from the
posterior draws, and recompute the statistic from that partition's tables with the resampled weights. A
resample that repeats one individual N times has no pair of distinct individuals and is drawn again (probability
N^(1−N): 1.6e-3 at N = 5). The statistic counts pairs of *distinct* individuals, as the unbiased one does in the
sample:

    U* = Σ_{i≠j} w_i w_j [z_i ≠ z_j] / Σ_{i≠j} w_i w_j = (N² − Σ_t m_t²) / (N² − Σ_i w_i²),  m_t = Σ_{i∈t} w_i,

which is the unbiased N/(N − 1) · (1 − Σ_t (n_t/N)²) when every w_i = 1. Counting a duplicated individual as a
pair of two people (the plain N/(N − 1) · (1 − Σ (m_t/N)²)) would centre the resamples at the *plug-in* value,
(N − 1)/N of the estimate (0.07 low at N = 10), because a duplicate always shares its own table. Shifting those
plain resamples onto the estimate instead gave narrower intervals at N = 10 (0.42 against 0.48) that covered a known
truth for 173 of 200 targets against 196: the distinct-pairs statistic errs wide, and is kept for that.

**Why reweighting and not re-clustering.** Re-running the CRP on each resample would let the clustering react
to who was drawn, but a resample repeats about a third of its individuals, and two identical answer vectors are
strong evidence of a shared concept under α = 0.16: re-clustering turns duplicates into concepts that no two
sampled people share (measured in ``benchmarks/crp_bootstrap.py``). Reweighting keeps each posterior partition
of the people actually observed and asks only how the shares of its tables vary with who was sampled; it is
valid when an individual's table is set by their own answers rather than by who else was sampled, which is the
case for concepts the CRP separates clearly (the case where the statistic means something, methods.md
section 4.5), and the posterior draws carry the uncertainty about the rest.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

# Fewer individuals than this get no interval over individuals: at 3 per target a nominal 95% interval covered
# the truth for 274 of 400 targets (at 5: 386 of 400, at 10: 394 of 400; benchmarks/crp_bootstrap.py).
MIN_BOOTSTRAP_INDIVIDUALS = 5
BOOTSTRAP_RESAMPLES = 2000


def bootstrap_p_multiple_concepts(partitions: NDArray[np.integer], *, resamples: int = BOOTSTRAP_RESAMPLES,
                                  seed: int | Sequence[int] = 0) -> NDArray[np.float64]:
    """Resampled unbiased P(multiple concepts), shape ``(resamples,)``: each resample draws the individuals with
    replacement and one of the posterior ``partitions`` (shape ``(draws, N)``, table labels per individual),
    and counts the pairs of distinct individuals at different tables (see the module docstring).

    Range [0, 1]; centred on the unbiased estimate N/(N − 1) · (1 − Σ_t (n_t/N)²). Its percentiles are an
    interval over which individuals were sampled and how they sit. Needs N >= 2.
    """
    labels = np.asarray(partitions)
    if labels.ndim != 2 or labels.shape[0] < 1 or labels.shape[1] < 2:
        raise ValueError(f"partitions must have shape (draws, individuals >= 2), got {labels.shape}")
    if resamples < 1:
        raise ValueError("resamples must be at least 1")
    draws, n = labels.shape
    rng = np.random.default_rng(seed if isinstance(seed, (int, np.integer)) else list(seed))
    chosen = labels[rng.integers(0, draws, size=resamples)]
    # Table labels may be any integers: number each draw's tables 0..K-1 so a (resample, table) cell is one bin.
    _, dense = np.unique(chosen, return_inverse=True)
    dense = dense.reshape(resamples, n)
    weights = rng.multinomial(n, np.full(n, 1.0 / n), size=resamples)
    single = weights.max(axis=1) == n
    while single.any():  # one individual drawn N times: no pair of distinct individuals
        weights[single] = rng.multinomial(n, np.full(n, 1.0 / n), size=int(single.sum()))
        single = weights.max(axis=1) == n
    width = int(dense.max()) + 1
    cells = (dense + width * np.arange(resamples)[:, None]).ravel()
    table_weights = np.bincount(cells, weights=weights.ravel().astype(float), minlength=resamples * width)
    same_table = (table_weights.reshape(resamples, width) ** 2).sum(axis=1)
    self_pairs = (weights.astype(float) ** 2).sum(axis=1)
    total = float(n * n)
    return (total - same_table) / (total - self_pairs)
