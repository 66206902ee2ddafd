"""Bradley–Terry rewards from pairwise preferences, and a judge's position bias cancelled.

In the Bradley–Terry model (Bradley & Terry 1952, Biometrika 39:324) answer i beats answer j with probability
P(i ≻ j) = γ_i / (γ_i + γ_j) = σ(θ_i − θ_j), θ = log γ. A reward model fitted on pairwise preferences (RLHF's
reward model, DPO's implicit one) estimates θ up to a constant; only differences matter to a tilt.

The maximum-likelihood θ from a matrix of wins w (w[i, j]: how often, or with what probability, i beat j;
n_ij = w_ij + w_ji comparisons) solves W_i = Σ_j n_ij σ(θ_i − θ_j), W_i = Σ_j w_ij. It exists and is unique up
to the constant when every split of the answers into two groups has a win each way (Ford 1957; Assumption 1 of
Hunter 2004, "MM algorithms for generalized Bradley-Terry models", Ann. Stat. 32:384). Without that (an answer
that never wins, a judge that ranks deterministically) the maximum lies at infinity: see the ``prior`` of
:func:`bradley_terry`. Hunter's MM iteration γ_i ← W_i / Σ_j n_ij / (γ_i + γ_j) is the classic solver; here
Newton's method on the concave log-likelihood solves the same equations (:func:`_maximise` says why).
"""

from __future__ import annotations

import math

import numpy as np

# Newton stops when no log-strength would move by more than this, and after this many steps at most.
TOLERANCE = 1e-10
MAX_STEPS = 500
# Pseudo-wins of each answer over each other one, as a fraction of the mean comparisons per pair: small enough
# to move a 0.7 preference's log-odds by 2e-6 nats, large enough that an answer that never wins ends some
# 13 nats (about log 1e6) below the ones that beat it instead of at minus infinity.
DEFAULT_PRIOR = 1e-6


def _square(matrix: object, name: str) -> np.ndarray:
    array = np.asarray(matrix, dtype=float)
    if array.ndim != 2 or array.shape[0] != array.shape[1] or array.shape[0] == 0:
        raise ValueError(f"{name} must be a square K x K matrix, got shape {array.shape}")
    return array


def _off_diagonal(size: int) -> np.ndarray:
    return ~np.eye(size, dtype=bool)


def _strongly_connected(beats: np.ndarray) -> bool:
    """Whether every answer reaches every other through "beat at least once" (Hunter's Assumption 1)."""
    reach = (beats | np.eye(beats.shape[0], dtype=bool)).astype(float)  # float: the product runs in BLAS
    for _ in range(int(math.ceil(math.log2(max(beats.shape[0], 2))))):  # squaring doubles the path length
        reach = ((reach @ reach) > 0).astype(float)
    return bool(reach.all())


def bradley_terry(wins: object, *, prior: float = DEFAULT_PRIOR) -> np.ndarray:
    """Maximum-likelihood Bradley–Terry log-strengths θ from a K x K win matrix, centred to mean 0.

    ``wins[i, j]`` is how often i beat j (counts, possibly fractional) or the probability that i beats j (as
    :func:`pairwise_from_judge` returns); the diagonal is ignored. θ_i − θ_j = log(P(i ≻ j) / P(j ≻ i)) for
    two answers, and θ is a reward for :func:`~monoculture.alignment.tilt` (exp(θ) normalised is the
    preference-matching policy).

    ``prior`` adds ``prior × n̄`` pseudo-wins of every answer over every other one, n̄ being the mean number of
    comparisons per pair, so counts and the same data as probabilities give the same θ. It keeps θ finite when
    an answer never wins (Hunter's Assumption 1 fails); ``prior=0`` gives the exact maximum-likelihood estimate
    and raises ValueError when it does not exist.
    """
    matrix = _square(wins, "wins")
    size = matrix.shape[0]
    mask = _off_diagonal(size)
    if not np.all(np.isfinite(matrix[mask])) or np.any(matrix[mask] < 0):
        raise ValueError("wins must be finite and non-negative off the diagonal")
    pseudo = float(prior)
    if not math.isfinite(pseudo) or pseudo < 0:
        raise ValueError(f"prior must be a finite number >= 0, got {prior!r}")
    if size == 1:
        return np.zeros(1)
    observed = np.where(mask, matrix, 0.0)
    total = observed.sum()
    if total <= 0:
        raise ValueError("wins holds no comparisons: every off-diagonal entry is 0")
    mean_per_pair = total / (size * (size - 1) / 2)
    counts = observed + np.where(mask, pseudo * mean_per_pair, 0.0)
    if not _strongly_connected(counts > 0):
        raise ValueError("the maximum-likelihood strengths are infinite: some answers never beat the others "
                         "(give prior > 0)")
    return _maximise(counts)


def _log_likelihood(counts: np.ndarray, theta: np.ndarray) -> float:
    # Σ_ij w_ij log σ(θ_i − θ_j) = −Σ_ij w_ij log(1 + exp(θ_j − θ_i)); the diagonal of counts is 0
    return -float(np.sum(counts * np.logaddexp(0.0, theta[None, :] - theta[:, None])))


def _maximise(counts: np.ndarray) -> np.ndarray:
    """Newton's method with backtracking on the concave log-likelihood, from θ = 0; θ centred to mean 0.

    The gradient is W_i − Σ_j n_ij σ(θ_i − θ_j) and minus the Hessian is the Laplacian of the weights
    n_ij σ_ij σ_ji, singular only along the constant vector (the unidentified level), which the centred solve
    removes. Hunter's MM step (γ_i ← W_i / Σ_j n_ij / (γ_i + γ_j)) had not converged after 100,000 steps
    (1.4 s) on a deterministic 5-answer ranking; Newton converges in 18.
    """
    size = counts.shape[0]
    won = counts.sum(axis=1)
    total = won.sum()
    compared = counts + counts.T
    centring = np.full((size, size), 1.0 / size)  # adds the constant direction back: L + 11ᵀ/K is invertible
    theta = np.zeros(size)
    current = _log_likelihood(counts, theta)
    for _ in range(MAX_STEPS):
        first_wins = 0.5 * (1.0 + np.tanh((theta[:, None] - theta[None, :]) / 2.0))  # σ(θ_i − θ_j), no overflow
        gradient = won - np.sum(compared * first_wins, axis=1)
        weights = compared * first_wins * first_wins.T
        laplacian = np.diag(weights.sum(axis=1)) - weights
        step = np.linalg.solve(laplacian + centring, gradient)
        # Done when θ would barely move, or when the gradient is down to rounding: where an answer almost never
        # wins, its tiny weights leave steps of ~1e-10 that are pure floating-point noise.
        if np.max(np.abs(step)) < TOLERANCE or np.max(np.abs(gradient)) <= 1e-13 * total:
            return theta + step - np.mean(theta + step)
        scale = 1.0
        while True:  # backtrack until the likelihood rises enough (Armijo); full steps near the optimum
            candidate = theta + scale * step
            proposed = _log_likelihood(counts, candidate)
            if proposed >= current + 1e-4 * scale * float(gradient @ step) or scale < 1e-12:
                break
            scale /= 2.0
        if proposed <= current and scale < 1e-12:
            break  # no further ascent is representable in floating point
        theta, current = candidate - np.mean(candidate), proposed
    return theta


def pairwise_from_judge(p_first: object) -> np.ndarray:
    """Win probabilities with a judge's position bias cancelled: q[i, j] = (p[i, j] + 1 − p[j, i]) / 2.

    ``p_first[i, j]`` is the probability that the judge prefers the first answer shown when i is shown first
    and j second; the diagonal is ignored. Judges favour one position (Zheng et al. 2023, "Judging LLM-as-a-Judge
    with MT-Bench and Chatbot Arena"); averaging P(i ≻ j) over both orders cancels a bias that adds the same
    amount to either order. q[i, j] + q[j, i] = 1, the diagonal is 0.5, and a judge that always picks the first
    answer gives 0.5 everywhere. The result is a win matrix for :func:`bradley_terry`.
    """
    matrix = _square(p_first, "p_first")
    mask = _off_diagonal(matrix.shape[0])
    if not np.all(np.isfinite(matrix[mask])) or np.any(matrix[mask] < 0) or np.any(matrix[mask] > 1):
        raise ValueError("p_first must hold probabilities in [0, 1] off the diagonal")
    filled = np.where(mask, matrix, 0.5)  # the diagonal may hold anything (NaN included): it is never read
    beats = (filled + 1.0 - filled.T) / 2.0
    np.fill_diagonal(beats, 0.5)
    return beats
