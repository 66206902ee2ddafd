"""The user-facing model: one wrapper around any backend that keeps it busy, retries and times.

Backends only talk to their provider; concurrency, retries with backoff and timing happen here, once,
for every backend (STYLE principle 2). Results are handed to a callback as they arrive, so the caller
stores every sample the moment it exists and an interruption loses nothing that was finished.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from monoculture._identity import SampleKey
from monoculture.backends._base import Backend, Generation, GenerationRequest, ModelInfo, TransientBackendError
from monoculture.errors import BackendError


@dataclass(frozen=True)
class Job:
    """One sample to draw: its identity and the request that draws it."""

    key: SampleKey
    request: GenerationRequest


@dataclass(frozen=True)
class Outcome:
    """A finished job: the generation, when it started (unix time) and how long it took."""

    job: Job
    generation: Generation
    started_at: float
    latency_s: float


class Model:
    """A backend with concurrency, retries and timing."""

    def __init__(self, backend: Backend, *, concurrency: int | None = None, retries: int = 4,
                 backoff_s: float = 0.5) -> None:
        self.backend = backend
        # A couple of requests beyond the slots keep every slot busy while Python stores results.
        self.concurrency = concurrency or backend.info.max_concurrency + 2
        self.retries = retries
        self.backoff_s = backoff_s

    @property
    def info(self) -> ModelInfo:
        """What the backend says about its model."""
        return self.backend.info

    async def _one(self, job: Job) -> Outcome:
        for attempt in range(self.retries + 1):
            started = time.time()
            clock = time.perf_counter()
            try:
                generation = await self.backend.generate(job.request)
            except TransientBackendError as error:
                if attempt == self.retries:
                    raise BackendError(f"{self.info.spec} failed {self.retries + 1} times in a row ({error}); "
                                       "what was collected is stored, run again to continue") from error
                await asyncio.sleep(self.backoff_s * 2**attempt)
                continue
            return Outcome(job, generation, started, time.perf_counter() - clock)
        raise AssertionError("unreachable")  # pragma: no cover

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
                for task in done:
                    on_outcome(task.result())
        finally:
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.gather(*pending, return_exceptions=True)

    async def aclose(self) -> None:
        """Release the backend."""
        await self.backend.aclose()
