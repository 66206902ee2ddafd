"""The sampling probe: eight short requests at a run's start that show whether a backend honours seed and temperature.

A backend that ignores the seed (a gateway that drops the field, a server with a fixed seed), ignores the
temperature, or serves answers from a cache does not fail: it returns plausible text, and the population it
samples looks more homogeneous, or less reproducible, than the model is. So before sampling a model, the run
asks one of its own prompts, untruncated, as free text (after one request that warms the prompt cache):

1. four different seeds at a high temperature: they should not all give the same text (unless the model's
   own probability for that text explains it);
2. the first seed again: it should give the first text again (a seeded sample can be re-drawn);
3. two different seeds at temperature 0: they should give the same text (greedy decoding ignores the seed).

Every check records its texts as evidence; a failed check is an alarm in the summary and the report.

A model on several endpoints (``endpoints`` in the study file) is probed at each of them at once, since each server
honours the seed or not on its own, and its prompt cache is its own. Each check is then reported per endpoint (its
URL in the name), with one more: at temperature 0 every endpoint gives the same text, or they do not serve the same
model. An endpoint that cannot be reached is a failed check: samples it draws once it is back were not probed.

Before that, :func:`probe_modes` tries every elicitation mode the model will be asked in, so that a mode it cannot
serve is refused in one line before its first sample (not after the samples of another mode, followed by a
shortfall alarm that a re-run cannot clear): exact mode computes the first planned prompt's distribution (which
that prompt's samples then reuse), and constrained mode on a server sends one request whose grammar allows only a
text no model writes unasked (vLLM, whose grammar field is chosen by the version it reports). A server that ignores
the grammar field it is sent (a field its version does not know, a version string that misleads) answers something
else, and is refused rather than trusted.
"""

from __future__ import annotations

import asyncio
import json
import math
import time
from dataclasses import replace

from monoculture.backends import Decoding, Generation, GenerationRequest, Model
from monoculture.backends.endpoints import PooledBackend
from monoculture.errors import BackendError, ModelSpecError

PROBE_TEMPERATURE = 1.5
PROBE_TOKENS = 16
PROBE_SEEDS = (101, 202, 303, 404)
GREEDY_SEEDS = (505, 606)
# A warm-up, two greedy requests, four hot ones and the first hot one again.
PROBE_REQUESTS = 1 + len(GREEDY_SEEDS) + len(PROBE_SEEDS) + 1
# The four high-temperature texts are all equal by chance with probability p**3 when the model gives that text
# with probability p; below this the repetition is not the model's doing.
_CHANCE_LIMIT = 1e-3
_EVIDENCE_CHARS = 120
# The only text the grammar check allows: no model writes it unasked, so a server that ignores the grammar answers
# something else.
GRAMMAR_CHECK_TEXT = "zqx 7 vug"
_GRAMMAR_CHECK_TOKENS = 16


def _grammar_field_chosen_by_version(model: Model) -> bool:
    """Whether the model's server is sent its grammars in a field chosen by the version it reports (vLLM's changed
    from ``guided_grammar`` to ``structured_outputs``): those are checked. llama.cpp has read ``grammar`` since
    its grammars exist, and other servers are sent none."""
    backend = model.backend
    members = backend.replicas().values() if isinstance(backend, PooledBackend) else (backend,)
    return any(getattr(member, "grammar_field_by_version", False) for member in members)


async def probe_modes(model: Model, requests: dict[str, tuple[GenerationRequest, tuple[str, ...] | None]]) -> None:
    """Try each mode once before the first sample (see the module's text); a mode that cannot be served raises.

    ``requests`` maps a mode to its first planned request and, in exact mode, that prompt's answer set.
    """
    if "exact" in requests:
        request, choices = requests["exact"]
        assert choices is not None
        await model.distribution(request, choices)  # identical requests share it: the samples reuse it
    if "constrained" in requests and _grammar_field_chosen_by_version(model):
        request, _ = requests["constrained"]
        check = replace(request, grammar=f"root ::= {json.dumps(GRAMMAR_CHECK_TEXT)}\n", seed=GREEDY_SEEDS[0],
                        decoding=Decoding(temperature=1.0, top_k=0, top_p=1.0, min_p=0.0,
                                          max_tokens=_GRAMMAR_CHECK_TOKENS))
        answer = (await model.generate(check)).text
        if answer.strip() != GRAMMAR_CHECK_TEXT:
            shown = " ".join("".join(c if c.isprintable() else " " for c in answer).split())[:60]
            raise ModelSpecError(f"{model.info.spec} ignores grammars: asked with a grammar that allows only "
                                 f"{GRAMMAR_CHECK_TEXT!r}, it answered {shown!r}, so its constrained samples would "
                                 "be unconstrained; use mode = \"free\", or a server that honours grammars "
                                 "(llama.cpp, or vLLM 0.10.2 or later)")


def _evidence(generation: Generation) -> str:
    return generation.text[:_EVIDENCE_CHARS]


async def probe_sampling(model: Model, request: GenerationRequest) -> dict:
    """Probe ``model`` with ``request``'s prompt; returns the checks, each with its evidence and verdict."""
    if isinstance(model.backend, PooledBackend):
        return await _probe_endpoints(model, model.backend, request)
    result, _ = await _probe(model, request)
    return result


async def _probe(model: Model, request: GenerationRequest) -> tuple[dict, str]:
    """The probe of one backend, and its first text at temperature 0."""
    free = replace(request, grammar=None)

    def at(temperature: float, seed: int) -> GenerationRequest:
        decoding = Decoding(temperature=temperature, top_k=0, top_p=1.0, min_p=0.0, max_tokens=PROBE_TOKENS)
        return replace(free, decoding=decoding, seed=seed)

    # One request at a time: nothing else runs, so a deterministic backend has no reason to vary. The first
    # request only warms the prompt cache: llama.cpp computes a prompt read whole and one read from its cache
    # with different batch sizes, and the last digits of the logits differ (its documented cache_prompt caveat),
    # enough to change a draw at a high temperature.
    await model.generate(at(0.0, GREEDY_SEEDS[0]))
    greedy = [await model.generate(at(0.0, seed)) for seed in GREEDY_SEEDS]
    started = time.perf_counter()
    hot = [await model.generate(at(PROBE_TEMPERATURE, seed)) for seed in PROBE_SEEDS]
    latency = (time.perf_counter() - started) / len(PROBE_SEEDS)
    again = await model.generate(at(PROBE_TEMPERATURE, PROBE_SEEDS[0]))

    all_same = len({g.text for g in hot}) == 1
    chance = math.exp(3 * hot[0].logprob) if all_same and hot[0].logprob is not None else None
    checks = [
        {
            "name": "different seeds give different texts",
            "passed": not all_same or (chance is not None and chance >= _CHANCE_LIMIT),
            "alarm": "the backend ignores the seed or the temperature, or answers from a cache: "
                     f"{len(hot)} different seeds at temperature {PROBE_TEMPERATURE} gave the same text"
                     + (f" (chance {chance:.1e} by the model's own probability)" if chance is not None else ""),
            "texts": [_evidence(g) for g in hot],
        },
        {
            "name": "the same seed gives the same text",
            "passed": again.text == hot[0].text,
            "alarm": "the backend does not honour the seed: the same request with the same seed gave a different "
                     "text, so samples cannot be re-drawn and their seeds say nothing",
            "texts": [_evidence(hot[0]), _evidence(again)],
        },
        {
            "name": "temperature 0 is deterministic",
            "passed": greedy[0].text == greedy[1].text,
            "alarm": "the backend does not honour the temperature: two seeds at temperature 0 gave different texts",
            "texts": [_evidence(g) for g in greedy],
        },
    ]
    return ({"requests": PROBE_REQUESTS, "temperature": PROBE_TEMPERATURE, "max_tokens": PROBE_TOKENS,
             "latency_s": latency, "checks": checks}, greedy[0].text)


async def _probe_endpoints(model: Model, backend: PooledBackend, request: GenerationRequest) -> dict:
    """Every endpoint probed on its own, all at once; their checks side by side, and whether they agree."""
    members = backend.replicas()
    outcomes = await asyncio.gather(
        # An endpoint that is gone fails its probe after the wrapper's retries would (7.5 s), not after the whole
        # wait for a server to come back: the others go on without it.
        *(_probe(Model(member, retries=model.retries, backoff_s=model.backoff_s,
                       server_wait_s=min(model.server_wait_s, model.backoff_s * (2 ** model.retries - 1))), request)
          for member in members.values()), return_exceptions=True)
    probed: dict[str, tuple[dict, str]] = {}
    failures: dict[str, BackendError] = {}
    for endpoint, outcome in zip(members, outcomes):
        if isinstance(outcome, BackendError):
            failures[endpoint] = outcome
        elif isinstance(outcome, BaseException):
            raise outcome
        else:
            probed[endpoint] = outcome
    if not probed:  # every endpoint failed: the model's own error, as for one server
        raise next(iter(failures.values()))
    checks = []
    for endpoint in backend.endpoints:
        if endpoint in probed:
            checks += [{**check, "name": f"{check['name']} ({endpoint})", "alarm": f"{endpoint}: {check['alarm']}"}
                       for check in probed[endpoint][0]["checks"]]
        else:
            failure = failures.get(endpoint)
            # Why, without the wrapper's "run again to continue": the run goes on with the other endpoints.
            reason = str(failure.__cause__ or failure) if failure else "it could not be reached when the model loaded"
            checks.append({"name": f"the endpoint answers ({endpoint})", "passed": False, "texts": [],
                           "alarm": f"{endpoint} did not answer the sampling probe ({reason}): it was taken out of "
                                    "rotation, and samples it drew once it was back were not probed"})
    greedy = {endpoint: text for endpoint, (_, text) in probed.items()}
    checks.append({
        "name": "every endpoint gives the same text at temperature 0",
        "passed": len(set(greedy.values())) == 1,
        "alarm": "the endpoints do not serve the same model, or not the same way: the same prompt at temperature 0 "
                 f"gave different texts ({', '.join(greedy)})",
        "texts": [text[:_EVIDENCE_CHARS] for text in greedy.values()],
    })
    latencies = [result["latency_s"] for result, _ in probed.values()]
    return {"requests": PROBE_REQUESTS * len(probed), "temperature": PROBE_TEMPERATURE, "max_tokens": PROBE_TOKENS,
            "latency_s": sum(latencies) / len(latencies), "checks": checks}
