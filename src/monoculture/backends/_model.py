"""The user-facing model: one wrapper around any backend that keeps it busy, retries and times.

Backends only talk to their provider; concurrency, retries with backoff and timing happen here, once,
for every backend. Results are handed to a callback as they arrive, so the caller
stores every sample the moment it exists and an interruption loses nothing that was finished.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Hashable, Iterable
from dataclasses import dataclass
from typing import TypeVar

from monoculture.backends._base import (
    Backend,
    Generation,
    GenerationRequest,
    ModelInfo,
    TransientBackendError,
)
from monoculture.backends._distribution import AnswerDistribution
from monoculture.errors import BackendError

T = TypeVar("T")


@dataclass(frozen=True)
class Job:
    """One sample to draw: its identity and the request that draws it.

    With ``choices`` set (exact mode) the job asks for the answer distribution over them instead of text.
    """

    key: Hashable  # the sample's identity, opaque here
    request: GenerationRequest
    choices: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Outcome:
    """A finished job: the generation or the answer distribution, when it started (unix time), how long it took."""

    job: Job
    generation: Generation | None
    started_at: float
    latency_s: float
    distribution: AnswerDistribution | None = None


class Model:
    """A backend with concurrency, retries and timing."""

    def __init__(self, backend: Backend, *, concurrency: int | None = None, retries: int = 4,
                 backoff_s: float = 0.5, memo: dict | None = None) -> None:
        self.backend = backend
        # A couple of requests beyond the slots keep every slot busy while Python stores results.
        self.concurrency = concurrency or backend.info.max_concurrency + 2
        self.retries = retries
        self.backoff_s = backoff_s
        # Exact mode: identical requests (the seed aside) share one call; the seed only draws from the result.
        self._distributions: dict[tuple, asyncio.Future[AnswerDistribution]] = {}
        # Finished distributions shared by the models of one run: an aligned twin asks its base the very requests
        # the base itself was asked in exact mode earlier in the run, and reuses them instead of recomputing.
        self._memo = memo

    def _memo_key(self, key: tuple) -> tuple:
        info = self.backend.info
        return (info.spec, info.sha256, info.runtime, key)

    @property
    def info(self) -> ModelInfo:
        """What the backend says about its model."""
        return self.backend.info

    async def _with_retries(self, call: Callable[[], Awaitable[T]]) -> T:
        for attempt in range(self.retries + 1):
            try:
                return await call()
            except TransientBackendError as error:
                if attempt == self.retries:
                    raise BackendError(f"{self.info.spec} failed {self.retries + 1} times in a row ({error}); "
                                       "what was collected is stored, run again to continue") from error
                await asyncio.sleep(self.backoff_s * 2**attempt)
        raise AssertionError("unreachable")  # pragma: no cover

    async def generate(self, request: GenerationRequest) -> Generation:
        """One request, retried like the others (the sampling probe asks through this)."""
        return await self._with_retries(lambda: self.backend.generate(request))

    async def distribution(self, request: GenerationRequest, choices: tuple[str, ...]) -> AnswerDistribution:
        """The exact answer distribution of a request (shared by identical requests, the seed aside)."""
        key = (request.prompt, request.messages, request.grammar, request.decoding, choices)
        if self._memo is not None and self._memo_key(key) in self._memo:
            return self._memo[self._memo_key(key)]
        shared = self._distributions.get(key)
        if shared is None:
            shared = asyncio.ensure_future(
                self._with_retries(lambda: self.backend.answer_distribution(request, choices)))
            self._distributions[key] = shared
        result = await asyncio.shield(shared)
        if self._memo is not None:
            self._memo[self._memo_key(key)] = result
        return result

    async def _distribution(self, job: Job) -> AnswerDistribution:
        return await self.distribution(job.request, job.choices)

    async def _one(self, job: Job) -> Outcome:
        started = time.time()
        clock = time.perf_counter()
        if job.choices is not None:
            distribution = await self._distribution(job)
            return Outcome(job, None, started, time.perf_counter() - clock, distribution)
        generation = await self.generate(job.request)
        return Outcome(job, generation, started, time.perf_counter() - clock)

    async def run(self, jobs: Iterable[Job], on_outcome: Callable[[Outcome], None]) -> None:
        """Run every job, at most ``concurrency`` at a time, handing each outcome over as it arrives.

        On a failure, the requests in flight are cancelled and the error is raised; outcomes already
        handed over stay handed over.
        """
        pending: set[asyncio.Task[Outcome]] = set()
        queue = iter(jobs)
        try:
            while True:
                for job in queue:
                    pending.add(asyncio.ensure_future(self._one(job)))
                    if len(pending) >= self.concurrency:
                        break
                if not pending:
                    return
                done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
                failures = [task.exception() for task in done if task.exception() is not None]
                for task in done:
                    if task.exception() is None:  # store every success before reporting a failure
                        on_outcome(task.result())
                if failures:
                    raise failures[0]
        finally:
            leftovers = [*pending, *(shared for shared in self._distributions.values() if not shared.done())]
            for task in leftovers:
                task.cancel()
            if leftovers:
                await asyncio.gather(*leftovers, return_exceptions=True)

    async def aclose(self) -> None:
        """Release the backend."""
        await self.backend.aclose()
