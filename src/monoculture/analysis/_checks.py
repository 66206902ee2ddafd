"""What every population's numbers rest on, and the alarms that say when they should not be trusted.

* **Accounting**: samples planned and stored, valid answers, refusals and parse failures, with examples.
* **Repeats beyond chance**: draws whose requests differ only by the seed are independent draws from one
  distribution. Two draws coincide with probability sum_x p(x)^2, and the mean of p(X) over the draws
  themselves estimates it without bias, where p(X) is the probability the backend reports for the text it
  drew (under temperature, truncation and grammar; the highest reported for that text in the group, since
  llama.cpp reports the probability of one tokenisation of it). A seed reused or a cache makes draws
  coincide whatever p says: many more identical pairs than the draws' own probabilities expect is an alarm.
* **Shortfall**: fewer samples stored than the study planned (an interrupted run, a failing backend).
* **Probe**: a backend that ignored the seed or the temperature at the run's start (see ``_probe``).
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable

from monoculture.analysis._models import Accounting, Alarm, Environment, Example, Probe, Repeat, Repeats
from monoculture.store import SampleRecord
from monoculture.tasks import looks_like_refusal, model_calls

_EXAMPLES = 5
_EXAMPLE_CHARS = 300
# The repeats alarm needs this many identical pairs, and this many times what the draws' probabilities expect.
# The margin leaves room for llama.cpp's reported probabilities under a grammar, which can run low (a text
# drawn through several tokenisations). On clean runs of the embedded models (benchmarks/alarm_false_positives.py)
# populations with several repeats sat near 1x; a cache gave 198 pairs against under 10 expected.
MIN_IDENTICAL_PAIRS = 10
RATIO_LIMIT = 20.0


def _example(sample: SampleRecord) -> Example:
    return Example(individual=sample.individual, item=sample.item, replicate=sample.replicate,
                   output=sample.raw_output[:_EXAMPLE_CHARS], reason=sample.invalid_reason)


def accounting(samples: list[SampleRecord], planned: int) -> Accounting:
    """Planned, stored, valid, refused and unreadable samples of one population, with examples of the last two."""
    invalid = [s for s in samples if not s.valid]
    # One value per distinct prompt: individuals who share a prompt share its distribution.
    outside = list({(s.prompt, s.item, s.replicate): s.outside_mass for s in samples
                    if s.outside_mass is not None}.values())
    refused = [looks_like_refusal(s.raw_output) for s in invalid]
    refusals = [s for s, r in zip(invalid, refused) if r]
    failures = [s for s, r in zip(invalid, refused) if not r]
    return Accounting(
        planned=planned, stored=len(samples), missing=max(planned - len(samples), 0),
        valid=len(samples) - len(invalid),
        valid_fraction=(len(samples) - len(invalid)) / len(samples) if samples else None,
        refusals=len(refusals), parse_failures=len(failures),
        refusal_examples=[_example(s) for s in refusals[:_EXAMPLES]],
        parse_failure_examples=[_example(s) for s in failures[:_EXAMPLES]],
        model_calls=model_calls(samples),
        parse_notes=dict(Counter(s.parse_note for s in samples if s.valid and s.parse_note)),
        outside_mass_mean=sum(outside) / len(outside) if outside else None,
        outside_mass_max=max(outside) if outside else None,
    )


def repeats_check(samples: Iterable[SampleRecord]) -> Repeats:
    """Identical draws against what the draws' own probabilities expect (see the module docstring)."""
    groups: dict[tuple[str, str], list[SampleRecord]] = defaultdict(list)
    greedy = exact = False
    for s in samples:
        if s.mode == "exact":  # exact-mode answers are drawn by monoculture itself from the stored distribution
            exact = True
            continue
        if float(s.decoding.get("temperature", 1.0)) <= 0:  # greedy: the same text every time, by design
            greedy = True
            continue
        groups[(s.prompt, str(sorted(s.decoding.items())))].append(s)
    observed, expected = 0, 0.0
    draws = checked_groups = unchecked = 0
    repeated: list[Repeat] = []
    for group in groups.values():
        if len(group) < 2:
            continue
        if any(s.logprob is None for s in group):
            unchecked += 1
            continue
        pairs = len(group) * (len(group) - 1) // 2
        counts = Counter(s.raw_output for s in group)
        # A text's probability: the highest any of its draws reported (each token path reports only its own).
        probability: dict[str, float] = {}
        for s in group:
            probability[s.raw_output] = max(probability.get(s.raw_output, 0.0), math.exp(s.logprob))
        observed += sum(n * (n - 1) // 2 for n in counts.values())
        expected += pairs * sum(probability[s.raw_output] for s in group) / len(group)
        draws += len(group)
        checked_groups += 1
        repeated += [Repeat(output=text[:_EXAMPLE_CHARS], count=n, draws=len(group),
                            model_probability=probability[text]) for text, n in counts.items() if n > 1]
    if not checked_groups:
        reason = ("the backend reports no probabilities of what it sampled (a vLLM server does when started with "
                  "--logprobs-mode processed_logprobs)" if unchecked else
                  "temperature 0: every draw of a request is the same by design" if greedy else
                  "exact mode: monoculture draws the answers from the stored distribution itself" if exact else
                  "no two draws share a request")
        return Repeats(checked=False, reason=reason)
    repeated.sort(key=lambda r: (r.model_probability ** (r.count - 1), -r.count))
    return Repeats(
        checked=True, groups=checked_groups, draws=draws, identical_pairs=observed,
        expected_identical_pairs=expected, ratio=observed / expected if expected > 0 else None,
        alarm=observed >= MIN_IDENTICAL_PAIRS and observed > RATIO_LIMIT * expected,
        most_unlikely_repeats=repeated[:_EXAMPLES],
    )


def population_alarms(model: str, condition: str, task: str, counts: Accounting, repeats: Repeats) -> list[Alarm]:
    """The alarms of one population in one mode (its accounting and its repeats)."""
    where = {"model": model, "condition": condition, "task": task}
    alarms = []
    if counts.missing:
        alarms.append(Alarm(**where, kind="shortfall",
                            message=f"{counts.missing} of {counts.planned} planned samples are missing "
                                    f"({counts.stored} stored): run the study again to complete it",
                            evidence={"planned": counts.planned, "stored": counts.stored}))
    if repeats.alarm:
        alarms.append(Alarm(**where, kind="repeats",
                            message=f"{repeats.identical_pairs} pairs of independent draws are identical where the "
                                    f"model's own probabilities expect {repeats.expected_identical_pairs:.1f}: "
                                    "a reused seed or a cache, not the model, made them alike",
                            evidence=repeats.model_dump(include={"groups", "draws", "identical_pairs",
                                                                 "expected_identical_pairs", "most_unlikely_repeats"})))
    return alarms


def mixed_version_alarm(model: str, condition: str, task: str, versions: dict[int | None, int]) -> list[Alarm]:
    """An alarm when one population's samples were drawn by more than one version of its model."""
    if len(versions) < 2:
        return []
    shown = ", ".join(f"version {v if v is not None else 'unknown'}: {n} samples" for v, n in sorted(
        versions.items(), key=lambda item: (item[0] is None, item[0] or 0)))
    return [Alarm(model=model, condition=condition, task=task, kind="mixed_versions",
                  message=f"the samples of this population were drawn by {len(versions)} versions of the model "
                          f"({shown}): the weights, runtime or defaults changed between runs; run the study into a "
                          "new folder to measure one version",
                  evidence={"versions": {str(v): n for v, n in versions.items()}})]


def probe_alarms(model: str, probe: Probe) -> list[Alarm]:
    """The failed checks of a model's sampling probe."""
    return [Alarm(model=model, condition=None, task=None, kind="probe", message=check.alarm,
                  evidence={"check": check.name, "texts": check.texts})
            for check in probe.checks if not check.passed]


def data_alarms(environment: Environment) -> list[Alarm]:
    """An alarm when the run used human data that does not match the manifest (allowed by the user)."""
    data = environment.data
    if data is None or not data.problems:
        return []
    allowed = " (allowed by MONOCULTURE_UNVERIFIED_DATA)" if data.unverified_allowed else ""
    return [Alarm(kind="data", model=None, condition=None, task=None,
                  message=f"the human data under {data.root} is not the published data{allowed}: "
                          f"{'; '.join(data.problems[:5])}; the human rows rest on it",
                  evidence={"problems": data.problems})]
