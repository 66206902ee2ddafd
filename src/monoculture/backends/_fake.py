"""The ``fake:`` models: seeded simulated populations whose truth is known, for calibration, tests and docs.

* ``fake:uniform``: every answer drawn uniformly from the task's answer space (random hex codes, random
  choices): a population of random individuals, whose internal and population variability are equal.
* ``fake:constant``: everyone gives the same answer: a perfectly homogeneous population (ΔE 0, one concept).
* ``fake:human``: answers drawn from the human data of the task's item (where the task has raw human answers):
  a homogeneous population with the people's answer distribution.

Each answer is drawn with the request's seed, so a fake model honours seeds exactly as a real one should, and
it reports the probability of what it drew, so the sampling checks can be run on it. Temperature 0 gives the
same answer whatever the seed (greedy decoding ignores the seed).
"""

from __future__ import annotations

import math
import random

from monoculture import __version__
from monoculture.backends._base import (
    DEFAULT_DECODING,
    Backend,
    Generation,
    GenerationRequest,
    ModelInfo,
    ModelKind,
)
from monoculture.backends._distribution import AnswerDistribution
from monoculture.errors import BackendError, ModelSpecError
from monoculture.tasks import Task

POPULATIONS = ("uniform", "constant", "human")
_GREEDY_SEED = 0


class FakeBackend(Backend):
    """A simulated population (see the module docstring); answers instantly and in any number at once."""

    def __init__(self, spec: str, population: str, kind: ModelKind | None = None, *,
                 deterministic: bool = False) -> None:
        if population not in POPULATIONS:
            raise ModelSpecError(f"unknown fake model {population!r} in {spec!r}: choose one of "
                                 f"{', '.join('fake:' + p for p in POPULATIONS)}")
        self.population = population
        self.info = ModelInfo(spec=spec, kind=kind or "chat", backend="fake",
                              runtime=f"monoculture {__version__} simulated {population} population",
                              licence="none (simulated)", default_decoding=dict(DEFAULT_DECODING),
                              # Its answers depend on the request alone, so it honours deterministic mode as it is.
                              max_concurrency=64, deterministic=deterministic)

    def check_task(self, task: Task, mode: str) -> None:
        """fake:human needs the task's raw human answers; every fake model needs a closed set for exact mode."""
        if self.population == "human" and not task.has_human_answers:
            raise ModelSpecError(f"{self.info.spec} has no human answers to draw for the {task.name} task "
                                 "(its human data are published as summaries only): use fake:uniform or fake:constant")

    def _answer(self, request: GenerationRequest) -> tuple[str, float]:
        if request.asked is None:
            raise BackendError(f"{self.info.spec} answers task prompts only; this request names no task")
        seed = _GREEDY_SEED if request.decoding.temperature <= 0 else request.seed
        answer = request.asked.task.simulated_answer(request.asked.prompt, self.population, random.Random(seed))
        if answer is None:
            raise BackendError(f"{self.info.spec} cannot answer item {request.asked.prompt.item!r} of the "
                               f"{request.asked.task.name} task: there is no human answer for it")
        return answer

    async def generate(self, request: GenerationRequest) -> Generation:
        """The simulated answer as text, with its probability."""
        text, probability = self._answer(request)
        return Generation(text=text, finish_reason="stop", logprob=math.log(probability))

    async def answer_distribution(self, request: GenerationRequest, choices: tuple[str, ...]) -> AnswerDistribution:
        """Uniform over the choices, or all mass on the constant answer; nothing outside the answers."""
        if self.population == "constant":
            return AnswerDistribution({choice: float(choice == sorted(choices)[0]) for choice in choices}, 0.0)
        if self.population == "uniform":
            return AnswerDistribution({choice: 1.0 / len(choices) for choice in choices}, 0.0)
        raise BackendError(f"{self.info.spec} has no exact mode: use mode = \"free\" or \"constrained\"")
