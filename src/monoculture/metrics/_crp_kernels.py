"""The CRP sampler's inner loops, compiled: the Gibbs sweep, the split-merge proposal, and the bookkeeping of
the per-table arrays both share. :class:`monoculture.metrics._crp._Sampler` owns the arrays (their layout is
in its docstring) and draws every random number; the model is in :mod:`monoculture.metrics._crp`'s docstring.

Why compiled: a sweep re-seats every person of every replica, and each seat scores a handful of tables of
Q + 1 numbers. Written with numpy, 85% of a run was the interpreter's overhead around those tiny arrays; here
the same arithmetic runs as machine code (numba): 8-12x faster (``benchmarks/crp_speed.py``). ``cache=True``
keeps the machine code on disk, in the package's ``__pycache__`` or, where the package cannot be written, in
the user's cache folder (``~/.cache/numba``; ``NUMBA_CACHE_DIR`` moves it). Compiling takes 8-14 s of CPU,
once per machine and version of this file, and ``scripts/setup.sh`` does it at install
(:func:`monoculture.metrics.compile_crp_kernels`); a new process, a spawned summary worker among them, loads the
cache in about 0.25 s instead (plus 0.15 s to import numba).

Nothing here draws a random number: the caller draws them from each replica's numpy Generator, in the order
the numpy sampler did, and passes them in. Sums run in index order where numpy's matrix products left the
order to BLAS, so a score can differ from the numpy sampler's in the last bits, and a seat only when its
uniform falls within that rounding of a boundary between two tables' cumulative weights (measured: the
traces of all 1,190 runs the CRP tests make are identical to the numpy sampler's).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from numba import njit


class Restaurant(NamedTuple):
    """Every replica's partition and per-table statistics (``_Sampler.state``), changed in place."""

    counts: np.ndarray  # (rows, 2Q) int64: per question, the members who answered 0, then those who answered 1
    size: np.ndarray  # (rows,) int64: members per table
    weights: np.ndarray  # (rows, Q + 1): [x, 1] · row = log score of seating answers x at the table (power 1)
    removed: np.ndarray  # (rows, Q + 1): the same for a member x with x taken out
    seat: np.ndarray  # (N, replicas) int64: the row of each person's table
    tables: np.ndarray  # (replicas,) int64: occupied tables, slots 0..K-1; slot K is the new-table slot
    beta: np.ndarray  # (replicas,) the power of the posterior each replica samples
    population: np.ndarray  # (replicas,) int64: the population each replica samples
    answers: np.ndarray  # (P, N, Q) int64: 0/1 answers
    columns: np.ndarray  # (P, N, Q) int64: the count column each answer adds to (q for a 0, Q + q for a 1)


class Lookup(NamedTuple):
    """A sampler's constants: log-probability tables indexed by a count or a table size (length N + 2)."""

    log_a: np.ndarray  # log(m + α)
    log_a_less: np.ndarray  # log(m − 1 + α): a count that includes the person scored
    log_den: np.ndarray  # log(n + 2α)
    log_size: np.ndarray  # log n (log 0 = -inf)
    size_term: np.ndarray  # log n − Q log(n + 2α): the count-free part of seating someone new
    less_term: np.ndarray  # the same for a member scored without themselves (a table of one: the new table)
    new_slot_value: np.ndarray  # by the size of the person's own table: -inf when alone (they hold one already)
    lgamma_a: np.ndarray  # log Γ(m + α)
    lgamma_den: np.ndarray  # log Γ(n + 2α)
    lgamma_size: np.ndarray  # log Γ(n), 0 for n = 0
    new_table_score: float  # log concentration + Q log 0.5
    log_concentration: float
    log_beta_aa: float  # log B(α, α)
    normalise: bool  # scores can reach exp()'s underflow: subtract each replica's maximum first


# --- the per-table arrays ------------------------------------------------------------------------------------


@njit(cache=True)
def refresh(state: Restaurant, lookup: Lookup, row: int) -> None:
    """Recompute row ``row``'s scores from its counts (an empty row scores -inf)."""
    q = state.answers.shape[2]
    seated = 0.0
    member = 0.0
    for question in range(q):
        zeros, ones = state.counts[row, question], state.counts[row, q + question]
        state.weights[row, question] = lookup.log_a[ones] - lookup.log_a[zeros]
        state.removed[row, question] = lookup.log_a_less[ones] - lookup.log_a_less[zeros]
        seated += lookup.log_a[zeros]
        member += lookup.log_a_less[zeros]
    size = state.size[row]
    state.weights[row, q] = seated + lookup.size_term[size]
    state.removed[row, q] = member + lookup.less_term[size]


@njit(cache=True)
def open_table(state: Restaurant, lookup: Lookup, replica: int) -> None:
    """Make slot K of ``replica`` (empty) its new-table slot."""
    q = state.answers.shape[2]
    state.weights[state.tables[replica] * state.seat.shape[1] + replica, q] = lookup.new_table_score


@njit(cache=True)
def close_table(state: Restaurant, lookup: Lookup, replica: int, row: int) -> None:
    """Row ``row`` of ``replica`` has just emptied: move the replica's last table into it, shift the new slot.

    Keeping the tables packed at slots 0..K-1 is what lets a seat score only K + 1 slots.
    """
    q = state.answers.shape[2]
    replicas = state.seat.shape[1]
    last_row = (state.tables[replica] - 1) * replicas + replica
    new_row = state.tables[replica] * replicas + replica
    if row != last_row:
        state.counts[row] = state.counts[last_row]
        state.size[row] = state.size[last_row]
        state.weights[row] = state.weights[last_row]
        state.removed[row] = state.removed[last_row]
        for person in range(state.seat.shape[0]):
            if state.seat[person, replica] == last_row:
                state.seat[person, replica] = row
        state.counts[last_row] = 0
        state.size[last_row] = 0
    state.weights[new_row, q] = -np.inf
    state.weights[last_row, :q] = 0.0
    state.tables[replica] -= 1
    open_table(state, lookup, replica)


@njit(cache=True)
def place(state: Restaurant, lookup: Lookup, replica: int, labels: np.ndarray) -> None:
    """Seat an empty ``replica`` by ``labels`` (tables numbered 0..K-1)."""
    q = state.answers.shape[2]
    replicas = state.seat.shape[1]
    columns = state.columns[state.population[replica]]
    for person in range(labels.shape[0]):
        row = labels[person] * replicas + replica
        state.seat[person, replica] = row
        for question in range(q):
            state.counts[row, columns[person, question]] += 1
        state.size[row] += 1
    state.tables[replica] = labels.max() + 1
    for slot in range(state.tables[replica] + 1):
        refresh(state, lookup, slot * replicas + replica)
    open_table(state, lookup, replica)


# --- Gibbs ---------------------------------------------------------------------------------------------------


@njit(cache=True, inline="always")  # a call per slot cost 20% of the sweep
def seating_score(scores: np.ndarray, row: int, answers: np.ndarray, population: int, person: int) -> float:
    """[answers[population, person], 1] · scores[row], summed in index order."""
    q = answers.shape[2]
    total = 0.0
    for question in range(q):
        # Multiplied, not skipped when 0 (the same sum): a branch on random answers mispredicts half the time,
        # which made the sweep 3x slower (2.1 -> 0.7 ms for 40 replicas of 100 people).
        total += scores[row, question] * answers[population, person, question]
    return total + scores[row, q]


@njit(cache=True)
def move(state: Restaurant, lookup: Lookup, person: int, replica: int, leave: int, join: int) -> None:
    """Move ``person`` of ``replica`` from row ``leave`` to row ``join``; open or close tables as needed."""
    columns = state.columns[state.population[replica], person]
    for question in range(columns.shape[0]):
        state.counts[leave, columns[question]] -= 1
        state.counts[join, columns[question]] += 1
    state.size[leave] -= 1
    state.size[join] += 1
    refresh(state, lookup, leave)
    refresh(state, lookup, join)
    state.seat[person, replica] = join
    if join == state.tables[replica] * state.seat.shape[1] + replica:
        state.tables[replica] += 1
        open_table(state, lookup, replica)
    if state.size[leave] == 0:
        close_table(state, lookup, replica, leave)


@njit(cache=True)
def gibbs_sweep(state: Restaurant, lookup: Lookup, uniforms: np.ndarray) -> None:
    """Re-seat every person once in every replica by the exact conditional: person p of replica r takes the first
    slot whose cumulative weight exceeds ``uniforms[p, r]`` x the total."""
    # Taken out of the tuples once per sweep, not per seat: each access counts a reference atomically, which
    # per seat doubled the sweep's time.
    weights, removed, size, seat = state.weights, state.removed, state.size, state.seat
    tables, beta, population, answers = state.tables, state.beta, state.population, state.answers
    new_slot_value, normalise = lookup.new_slot_value, lookup.normalise
    people, replicas = seat.shape
    cumulative = np.empty(people + 1)
    for person in range(people):
        for replica in range(replicas):
            own = seat[person, replica]
            new_slot = tables[replica]
            answered = population[replica]
            power = beta[replica]
            top = -np.inf
            for slot in range(new_slot + 1):
                row = slot * replicas + replica
                if row == own:
                    score = seating_score(removed, row, answers, answered, person)
                elif slot == new_slot:
                    score = new_slot_value[size[own]]
                else:
                    score = seating_score(weights, row, answers, answered, person)
                score *= power  # exact at power 1
                cumulative[slot] = score
                top = max(top, score)
            total = 0.0
            for slot in range(new_slot + 1):
                total += math.exp(cumulative[slot] - top if normalise else cumulative[slot])
                cumulative[slot] = total
            threshold = total * uniforms[person, replica]
            chosen = 0  # when no slot passes (an all-zero total), slot 0, as numpy's argmax of all False gave
            for slot in range(new_slot + 1):
                if cumulative[slot] > threshold:
                    chosen = slot
                    break
            join = chosen * replicas + replica
            if join != own:
                move(state, lookup, person, replica, own, join)


# --- split-merge ---------------------------------------------------------------------------------------------


@njit(cache=True)
def split_gain(first: np.ndarray, second: np.ndarray, size_first: int, size_second: int, lookup: Lookup) -> float:
    """log P(two tables with these counts) − log P(one table of both), at power 1."""
    q = first.shape[0] // 2
    total = size_first + size_second
    first_sum = 0.0
    second_sum = 0.0
    merged_sum = 0.0
    for column in range(2 * q):
        first_sum += lookup.lgamma_a[first[column]]
        second_sum += lookup.lgamma_a[second[column]]
        merged_sum += lookup.lgamma_a[first[column] + second[column]]
    return (lookup.log_concentration + lookup.lgamma_size[size_first] + lookup.lgamma_size[size_second]
            - lookup.lgamma_size[total] + (first_sum + second_sum - merged_sum)
            - q * (lookup.lgamma_den[size_first] + lookup.lgamma_den[size_second] - lookup.lgamma_den[total]
                   + lookup.log_beta_aa))


@njit(cache=True)
def side_log_odds(stats: np.ndarray, sizes: np.ndarray, columns: np.ndarray, leaving: int, beta: float,
                  lookup: Lookup) -> float:
    """log P(side 0) − log P(side 1) of seating a person (count columns ``columns``) on one of two restricted
    tables ``stats`` (2, 2Q) of sizes ``sizes``; ``leaving`` is the side whose counts include them (-1: none)."""
    q = columns.shape[0]
    first = 0.0
    second = 0.0
    for question in range(q):
        column = columns[question]
        first += lookup.log_a[stats[0, column] - (leaving == 0)]
        second += lookup.log_a[stats[1, column] - (leaving == 1)]
    return beta * (first - second - q * (lookup.log_den[sizes[0]] - lookup.log_den[sizes[1]])
                   + lookup.log_size[sizes[0]] - lookup.log_size[sizes[1]])


@njit(cache=True)
def probability_first(log_odds: float) -> float:
    """1 / (1 + e^−log_odds) without overflow."""
    if log_odds >= 0:
        return 1.0 / (1.0 + math.exp(-log_odds))
    odds = math.exp(log_odds)
    return odds / (1.0 + odds)


@njit(cache=True)
def log1p_exp(value: float) -> float:
    """log(1 + e^value) without overflow."""
    return value + math.log1p(math.exp(-value)) if value > 0 else math.log1p(math.exp(value))


@njit(cache=True)
def split_merge(state: Restaurant, lookup: Lookup, replica: int, first: int, second: int, members: np.ndarray,
                draws: np.ndarray, scans: int, log_accept: float, log_attempt: float) -> bool:
    """The rest of one Jain-Neal proposal once its random numbers are drawn; True if accepted.

    ``first`` and ``second`` are the two people drawn, ``members`` the others at their table(s) in launch order,
    ``draws`` at least ``len(members) * (scans + 2)`` uniforms, consumed in order; the proposal is accepted
    when ``log_accept`` falls below the log Metropolis-Hastings ratio. Launch by sequential allocation, then
    ``scans`` restricted Gibbs scans, then the last scan: sampled for a split, evaluated for a merge.
    """
    q = state.answers.shape[2]
    replicas = state.seat.shape[1]
    beta = state.beta[replica]
    columns = state.columns[state.population[replica]]
    seat = state.seat[:, replica]
    row_first, row_second = seat[first], seat[second]
    same = row_first == row_second
    stats = np.zeros((2, 2 * q), dtype=np.int64)  # the two sides' counts
    for question in range(q):
        stats[0, columns[first, question]] += 1
        stats[1, columns[second, question]] += 1
    sizes = np.ones(2, dtype=np.int64)
    sides = np.zeros(members.shape[0], dtype=np.int64)
    draw = 0
    for position in range(members.shape[0]):  # launch: sequential allocation
        person = members[position]
        odds = side_log_odds(stats, sizes, columns[person], -1, beta, lookup)
        side = 0 if draws[draw] < probability_first(odds) else 1
        draw += 1
        for question in range(q):
            stats[side, columns[person, question]] += 1
        sizes[side] += 1
        sides[position] = side
    log_proposal = 0.0
    for scan in range(scans + 1):
        final = scan == scans
        for position in range(members.shape[0]):
            person = members[position]
            side = sides[position]
            sizes[side] -= 1
            odds = side_log_odds(stats, sizes, columns[person], side, beta, lookup)
            if final and not same:  # the merge's reverse: the probability of the current split
                new_side = 0 if seat[person] == row_first else 1
            else:
                new_side = 0 if draws[draw] < probability_first(odds) else 1
                draw += 1
            if final:
                log_proposal -= log1p_exp(-odds if new_side == 0 else odds)
            if new_side != side:
                for question in range(q):
                    stats[side, columns[person, question]] -= 1
                    stats[new_side, columns[person, question]] += 1
                sides[position] = new_side
            sizes[new_side] += 1
    gain = beta * split_gain(stats[0], stats[1], sizes[0], sizes[1], lookup)
    if log_accept >= (gain - log_proposal - log_attempt if same else log_proposal - gain + log_attempt):
        return False
    if same:
        new_row = state.tables[replica] * replicas + replica
        for position in range(members.shape[0]):
            if sides[position] == 1:
                seat[members[position]] = new_row
        seat[second] = new_row
        state.counts[row_first] = stats[0]
        state.size[row_first] = sizes[0]
        state.counts[new_row] = stats[1]
        state.size[new_row] = sizes[1]
        state.tables[replica] += 1
        refresh(state, lookup, row_first)
        refresh(state, lookup, new_row)
        open_table(state, lookup, replica)
    else:
        for person in range(seat.shape[0]):
            if seat[person] == row_second:
                seat[person] = row_first
        state.counts[row_first] += state.counts[row_second]
        state.size[row_first] += state.size[row_second]
        state.counts[row_second] = 0
        state.size[row_second] = 0
        refresh(state, lookup, row_first)
        refresh(state, lookup, row_second)
        close_table(state, lookup, replica, row_second)
    return True


@njit(cache=True)
def canonical(labels: np.ndarray) -> np.ndarray:
    """Tables renumbered 0, 1, 2, ... by first appearance (a partition's one name). np.unique did this in 40 µs per
    call; runs that keep every sweep's partition call it chains x sweeps times."""
    out = np.empty(labels.size, dtype=np.int64)
    renamed = np.full(labels.max() + 1, -1, dtype=np.int64)
    tables = 0
    for person in range(labels.size):
        label = labels[person]
        if renamed[label] < 0:
            renamed[label] = tables
            tables += 1
        out[person] = renamed[label]
    return out
