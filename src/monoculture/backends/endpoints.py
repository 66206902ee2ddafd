"""One model served by several servers: requests spread over them, a failed server set aside and tried again later.

A study's model entry may list ``endpoints`` (README, "Many servers for one model"); each endpoint is a backend
of its own, and :class:`PooledBackend` routes every request to one of them:

* **least outstanding requests**: the endpoint with the fewest requests in flight takes the next one; ties go
  round robin, so idle endpoints take turns. A slow server keeps its requests longer and is given fewer.
* **a failed endpoint is taken out of rotation**: at once when it cannot be reached (connection refused or reset,
  no reply within the timeout: :class:`EndpointDown`), or after :data:`STRIKES` transient failures in a row (5xx,
  429): as many as the :class:`~monoculture.backends.Model` wrapper retries a request. It is tried again, by one
  request, :data:`FIRST_BACKOFF_S` later, then after twice as long each time it fails again, up to
  :data:`MAX_BACKOFF_S`; a request it answers puts it back.
* **no request is lost**: a request that failed on an endpoint is sent at once to another, before the wrapper's
  retries see it, so one dead server costs the run nothing but its share of the speed. Only when every endpoint
  has failed the request is the failure passed on to the wrapper, whose retries and give-up apply as for one
  server; while every endpoint is out of rotation, requests go to the one due back first, without waiting.

:class:`EndpointPool` is the bookkeeping alone (no I/O, the clock injected), so the rule above is tested with a
fake clock; :class:`PooledBackend` puts it in front of the endpoints' own backends.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, TypeVar

from monoculture.backends._base import (
    Backend,
    Generation,
    GenerationRequest,
    ModelInfo,
    TransientBackendError,
)
from monoculture.backends._distribution import AnswerDistribution
from monoculture.errors import ModelSpecError

if TYPE_CHECKING:
    from monoculture.backends._registry import ModelOptions
    from monoculture.tasks import Task

# Seconds before a failed endpoint is first tried again; each failed retry doubles it, up to the cap. A restarted
# llama.cpp server with a small model answers again within 2 s here (tests/test_endpoints.py starts three in 1.8 s);
# a large model takes longer to load, and a minute bounds how long a recovered server stays idle.
FIRST_BACKOFF_S = 5.0
MAX_BACKOFF_S = 60.0
# Transient failures in a row (5xx, 429) that take an endpoint out: the attempts the Model wrapper gives a request.
STRIKES = 5

T = TypeVar("T")
# What became of a request sent to an endpoint: answered, failed in a way a retry may fix, found the server
# unreachable, or ended without a verdict on the server (cancelled, or refused as a mistake of the request's own).
Verdict = Literal["served", "failed", "down", "abandoned"]


class EndpointDown(TransientBackendError):
    """An endpoint could not be reached: connection refused or reset, or no reply within the request timeout."""


@dataclass(frozen=True)
class Ticket:
    """One request's place at an endpoint, handed back with its verdict; ``trial``: it tests a failed endpoint."""

    endpoint: str
    trial: bool = False


@dataclass
class _Endpoint:
    outstanding: int = 0
    served: int = 0
    strikes: int = 0  # transient failures in a row since it last answered
    downs: int = 0  # times taken out in a row since it last answered: the back-off doubles with each
    retry_at: float | None = None  # out of rotation until then; None: in rotation
    trial: bool = False  # a request is testing whether it is back


class EndpointPool:
    """Which endpoint takes the next request, and which are out of rotation until when (see the module docstring).

    ``clock`` returns seconds (``time.monotonic`` by default; tests pass a fake one).
    """

    def __init__(self, endpoints: Sequence[str], *, clock: Callable[[], float] = time.monotonic,
                 first_backoff_s: float = FIRST_BACKOFF_S, max_backoff_s: float = MAX_BACKOFF_S,
                 strikes: int = STRIKES) -> None:
        if not endpoints or len(set(endpoints)) != len(endpoints):
            raise ValueError(f"a pool needs distinct endpoints, got {list(endpoints)}")
        self.endpoints = tuple(endpoints)
        self._clock = clock
        self._first_backoff_s, self._max_backoff_s, self._strikes = first_backoff_s, max_backoff_s, strikes
        self._state = {endpoint: _Endpoint() for endpoint in self.endpoints}
        self._next = 0  # where the round robin among equally busy endpoints starts

    def pick(self, exclude: frozenset[str] | set[str] = frozenset()) -> Ticket | None:
        """The endpoint for a request, leaving out those it already failed on; its request counts as outstanding
        until :meth:`release`. None when every endpoint in rotation is excluded: the request has failed on all."""
        now = self._clock()
        candidates = [endpoint for endpoint in self.endpoints if endpoint not in exclude and self._takes(endpoint, now)]
        if candidates:
            fewest = min(self._state[endpoint].outstanding for endpoint in candidates)
            rotated = self.endpoints[self._next:] + self.endpoints[:self._next]
            chosen = next(e for e in rotated if e in candidates and self._state[e].outstanding == fewest)
            self._next = (self.endpoints.index(chosen) + 1) % len(self.endpoints)
        elif any(state.retry_at is None for state in self._state.values()):
            return None
        else:  # every endpoint is out: the one due back first, without waiting for its back-off
            remaining = [endpoint for endpoint in self.endpoints if endpoint not in exclude]
            if not remaining:
                return None
            chosen = min(remaining, key=lambda endpoint: self._state[endpoint].retry_at or 0.0)
        state = self._state[chosen]
        state.outstanding += 1
        trial = state.retry_at is not None
        state.trial = state.trial or trial
        return Ticket(chosen, trial)

    def _takes(self, endpoint: str, now: float) -> bool:
        state = self._state[endpoint]
        return state.retry_at is None or (state.retry_at <= now and not state.trial)

    def release(self, ticket: Ticket, verdict: Verdict) -> None:
        """Hand a request's place back with what became of it."""
        state = self._state[ticket.endpoint]
        state.outstanding -= 1
        if ticket.trial:
            state.trial = False
        if verdict == "served":
            state.served += 1
            state.strikes = state.downs = 0
            state.retry_at = None
        elif verdict in ("failed", "down"):
            if state.retry_at is None:
                state.strikes += 1
                if verdict == "down" or state.strikes >= self._strikes:
                    self._take_out(state)
            elif ticket.trial:
                self._take_out(state)
            # else: a request sent before the endpoint was taken out, failing for the same reason

    def take_out(self, endpoint: str) -> None:
        """Take an endpoint out of rotation now, as a failed request would (it could not be reached at all)."""
        self._take_out(self._state[endpoint])

    def _take_out(self, state: _Endpoint) -> None:
        state.downs += 1
        state.strikes = 0
        state.retry_at = self._clock() + min(self._first_backoff_s * 2 ** (state.downs - 1), self._max_backoff_s)

    def in_rotation(self) -> list[str]:
        """The endpoints taking requests now (not taken out after a failure)."""
        return [endpoint for endpoint in self.endpoints if self._state[endpoint].retry_at is None]

    def retry_at(self, endpoint: str) -> float | None:
        """When a failed endpoint is tried again (on the pool's clock); None while it is in rotation."""
        return self._state[endpoint].retry_at

    def outstanding(self) -> dict[str, int]:
        """Requests in flight per endpoint."""
        return {endpoint: state.outstanding for endpoint, state in self._state.items()}

    def served(self) -> dict[str, int]:
        """Requests each endpoint has answered."""
        return {endpoint: state.served for endpoint, state in self._state.items()}


class PooledBackend(Backend):
    """One model behind several endpoints, each its own backend; every request goes to one (module docstring).

    ``members`` maps each endpoint to its backend, or to None for one that could not be reached when the model
    loaded: it starts out of rotation, and ``connect(endpoint)`` builds its backend when it is tried again (in a
    thread: it may probe over the network), raising :class:`EndpointDown` while it is still unreachable.
    """

    def __init__(self, info: ModelInfo, members: dict[str, Backend | None], connect: Callable[[str], Backend], *,
                 pool: EndpointPool | None = None) -> None:
        self.info = info
        self._members = dict(members)
        self._connect = connect
        self._connecting = {endpoint: asyncio.Lock() for endpoint in members}
        self.pool = pool or EndpointPool(list(members))
        self.endpoints = self.pool.endpoints
        for endpoint, member in members.items():
            if member is None:
                self.pool.take_out(endpoint)

    def replicas(self) -> dict[str, Backend]:
        """The endpoints' backends that exist so far (an endpoint unreachable since the model loaded has none)."""
        return {endpoint: member for endpoint, member in self._members.items() if member is not None}

    async def _member(self, endpoint: str) -> Backend:
        member = self._members[endpoint]
        if member is None:
            async with self._connecting[endpoint]:
                member = self._members[endpoint]
                if member is None:
                    member = await asyncio.to_thread(self._connect, endpoint)
                    self._members[endpoint] = member
        return member

    async def _routed(self, call: Callable[[Backend], Awaitable[T]]) -> T:
        tried: set[str] = set()
        failure: TransientBackendError | None = None
        while (ticket := self.pool.pick(exclude=tried)) is not None:
            tried.add(ticket.endpoint)
            verdict: Verdict = "abandoned"
            try:
                result = await call(await self._member(ticket.endpoint))
                verdict = "served"
                return result
            except EndpointDown as error:
                verdict, failure = "down", error
            except TransientBackendError as error:
                verdict, failure = "failed", error
            finally:
                self.pool.release(ticket, verdict)
        if failure is None:  # pragma: no cover - pick() always offers an endpoint before the first try
            raise TransientBackendError(f"no endpoint of {self.info.spec} took the request")
        others = len(tried) - 1
        also = f" (and on {others} other endpoint{'s' if others > 1 else ''})" if others else ""
        raise TransientBackendError(f"{failure}{also}") from failure

    async def generate(self, request: GenerationRequest) -> Generation:
        """The request on the least busy endpoint, and on the others in turn if it fails there."""
        return await self._routed(lambda member: member.generate(request))

    async def answer_distribution(self, request: GenerationRequest, choices: tuple[str, ...]) -> AnswerDistribution:
        """Exact mode: the whole distribution from one endpoint (its steps share that server's prompt cache)."""
        return await self._routed(lambda member: member.answer_distribution(request, choices))

    def check_task(self, task: Task, mode: str) -> None:
        """What one endpoint cannot serve, the model cannot (they run the same server, checked when it loaded)."""
        for member in self.replicas().values():
            member.check_task(task, mode)

    async def aclose(self) -> None:
        """Close every endpoint's connections."""
        for member in self.replicas().values():
            await member.aclose()


def load_with_endpoints(spec: str, endpoints: Sequence[str], options: ModelOptions) -> Backend:
    """Load an ``openai:`` model served at each of ``endpoints`` (the study file's ``endpoints`` of its entry).

    One endpoint is the plain backend at that URL, recorded as the spec ``openai:MODEL@URL`` would be.
    """
    from monoculture.backends._registry import guess_kind, split_spec

    prefix, rest = split_spec(spec)
    if prefix != "openai":
        raise ModelSpecError(f"endpoints apply only to openai: models, not {spec}: remove endpoints from its entry")
    from monoculture.backends._openai import DEFAULT_KEY_ENV, openai_servers

    model = rest.partition("@")[0]
    return openai_servers(spec, model, list(endpoints), options.kind or guess_kind(model),
                          api_key_env=options.api_key_env or DEFAULT_KEY_ENV, parallel=options.parallel)
