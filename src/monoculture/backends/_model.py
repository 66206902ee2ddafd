"""The user-facing model: one wrapper around any backend that keeps it busy, retries and times.

Backends only talk to their provider; concurrency, retries with backoff and timing happen here, once,
for every backend. Results are handed to a callback as they arrive, so the caller
stores every sample the moment it exists and an interruption loses nothing that was finished.

Two kinds of transient failure are retried differently:

* a server that answered badly (a 5xx or 429 reply, a reply that did not come in time) is asked ``retries`` more
  times with a doubling backoff (0.5 + 1 + 2 + 4 s), then the run stops with what it collected;
* a server that is gone (:class:`ServerDown`: the connection refused, reset or dropped, or HTTP 503 while it
  loads) is waited for: asked again every few seconds until it answers or has been gone for
  ``MONOCULTURE_SERVER_WAIT`` seconds (default :data:`DEFAULT_SERVER_WAIT_S`). A restarted vLLM server takes
  26-126 s here to listen again, a large model on a GPU minutes; the attempts-only rule gave up after 7.5 s.
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
    seconds_setting,
)
from monoculture.backends._distribution import AnswerDistribution
from monoculture.errors import BackendError

T = TypeVar("T")

SERVER_WAIT_ENV = "MONOCULTURE_SERVER_WAIT"
# Seconds a request waits for a server that is gone to come back: a restarted vLLM took 26 s (--enforce-eager) to
# 126 s here before it listened again; three minutes cover that with room, and a run whose server is gone for good
# stops within them.
DEFAULT_SERVER_WAIT_S = 180.0
# Longest pause between two attempts at a server that is gone: it is noticed within this long once it is back.
MAX_DOWN_BACKOFF_S = 5.0


class ServerDown(TransientBackendError):
    """The server is gone (connection refused, reset or dropped; HTTP 503 while it loads): waited for, up to
    ``MONOCULTURE_SERVER_WAIT`` seconds, instead of counting attempts."""


def server_wait() -> float:
    """Seconds a request waits for a server that is gone: ``MONOCULTURE_SERVER_WAIT`` if set, else 180."""
    return seconds_setting(SERVER_WAIT_ENV, DEFAULT_SERVER_WAIT_S, zero_allowed=True)


def _server_down(error: BaseException) -> ServerDown | None:
    """The :class:`ServerDown` behind a failure, if any (a model on several endpoints passes it on as the cause)."""
    seen: BaseException | None = error
    for _ in range(8):
        if seen is None:
            return None
        if isinstance(seen, ServerDown):
            return seen
        seen = seen.__cause__
    return None


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
                 backoff_s: float = 0.5, server_wait_s: float | None = None, memo: dict | None = None) -> None:
        self.backend = backend
        # A couple of requests beyond the slots keep every slot busy while Python stores results.
        self.concurrency = concurrency or backend.info.max_concurrency + 2
        self.retries = retries
        self.backoff_s = backoff_s
        self.server_wait_s = server_wait() if server_wait_s is None else server_wait_s
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
        failures = downs = 0  # failed attempts at a server that answered; attempts that found it gone
        gone_since: float | None = None  # when this request first found the server gone
        while True:
            try:
                return await call()
            except TransientBackendError as error:
                if _server_down(error) is None:
                    failures += 1
                    if failures > self.retries:
                        raise BackendError(f"{self.info.spec} failed {failures} times in a row ({error}); "
                                           "what was collected is stored, run again to continue") from error
                    await asyncio.sleep(self.backoff_s * 2 ** (failures - 1))
                    continue
                downs += 1
                now = time.monotonic()
                gone_since = now if gone_since is None else gone_since
                left = self.server_wait_s - (now - gone_since)
                if left <= 0:
                    raise BackendError(
                        f"{self.info.spec} could not be reached for {now - gone_since:.0f} s ({error}); what was "
                        "collected is stored: start the server and run again to continue "
                        f"({SERVER_WAIT_ENV} sets how long a run waits for it)") from error
                await asyncio.sleep(min(self.backoff_s * 2 ** (downs - 1), MAX_DOWN_BACKOFF_S, left))

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
