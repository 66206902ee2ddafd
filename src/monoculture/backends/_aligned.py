"""``aligned:BASE``: the exact optimum of alignment pressure on a real model's answer distribution.

For every closed-set prompt the twin asks BASE for its exact answer distribution π_ref (the individual's context
included, at the condition's temperature: see ``_distribution``), applies the reward's KL-regularised optimum
π ∝ π_ref · exp(r / β) (:mod:`monoculture.alignment`; ``rounds`` times, each round on the previous round's policy,
and with ``samples_per_round`` learning from that many draws instead of the exact policy), and answers with a draw
from the result with the sample's own seed. It is an exact optimum over a closed answer set, not a trained
network: what a perfectly optimised RLHF/RLAIF objective would make of this model's answers to this prompt.

Rewards (README, "Aligned twins"):

* ``consensus``: RLHF by a pool of ``raters`` people, drawn with the study's seed from the people's answers to the
  item where the task has them, else from BASE's own answers to the prompt; r(y) = log of the pool's smoothed
  share of y's answer.
* ``typicality``: r = α · log π_ref (the typicality bias of preference data; the optimum is π_ref^(1 + α/β)).
* ``preference_matching``: the target π ∝ exp(r) of Xiao et al. (2024), with the consensus reward: it keeps
  minority answers in proportion to their reward instead of collapsing onto the majority.
* ``judge:MODEL``: RLAIF. MODEL compares every two answers ("Which answer fits the question better, A or B?"),
  both orders, with exact probabilities from its log-probabilities; a Bradley-Terry fit gives r.
* ``module:function``: ``function(choices, reference, prompt) -> rewards`` (one per choice, any Python callable).
"""

from __future__ import annotations

import asyncio
import hashlib
import importlib
import math
from collections.abc import Callable, Sequence
from dataclasses import replace

import numpy as np

from monoculture.backends._base import Backend, Generation, GenerationRequest, ModelInfo
from monoculture.backends._distribution import AnswerDistribution, answer_grammar, draw_answer, spellings
from monoculture.backends._twin_settings import TwinSettings
from monoculture.errors import BackendError, ModelSpecError

JUDGE_PROMPT = ("Question: {question}\nAnswer A: {first}\nAnswer B: {second}\n"
                "Which answer fits the question better, A or B? Answer with A or B.")
JUDGE_CHOICES = ("A", "B")


def _seed(*parts: object) -> int:
    return int.from_bytes(hashlib.sha256("\x1f".join(map(str, parts)).encode()).digest()[:8], "big")


class AlignedBackend(Backend):
    """An aligned twin of ``base`` (see the module docstring)."""

    # Every prompt it answers must have a closed answer set: checked for all planned samples before any sampling.
    needs_answer_sets = True

    def __init__(self, spec: str, settings: TwinSettings, base: Backend, judge: Backend | None, *,
                 seed: int = 0, memo: dict | None = None) -> None:
        from monoculture.backends._model import Model

        self.settings, self.base, self.judge, self.seed = settings, base, judge, seed
        # Through Models sharing the run's memo: the base's own exact distributions, when the base ran earlier in
        # the run, are reused instead of computed again (the twin then costs almost nothing).
        self._base_model = Model(base, memo=memo)
        self._judge_model = self._base_model if judge is None or judge is base else Model(judge, memo=memo)
        info = base.info
        self.info = ModelInfo(
            spec=spec, kind=info.kind, backend="aligned", file=info.file, sha256=info.sha256,
            size_bytes=info.size_bytes, licence=info.licence,
            runtime=f"aligned twin {settings.suffix()} of {info.spec} ({info.runtime})",
            default_decoding=dict(info.default_decoding), max_concurrency=info.max_concurrency,
            deterministic=info.deterministic and (judge is None or judge.info.deterministic))
        self._policies: dict[tuple, asyncio.Future] = {}
        self._judged: dict[tuple, asyncio.Future] = {}
        self._custom = _load_callable(settings.reward) if _is_callable(settings.reward) else None

    def check_task(self, task: object, mode: str) -> None:
        """The base model must serve the task (the twin needs its exact distributions)."""
        self.base.check_task(task, mode)  # type: ignore[arg-type]

    # answers -------------------------------------------------------------------------------------
    def _choices(self, request: GenerationRequest) -> tuple[str, ...]:
        asked = request.asked
        choices = asked.task.answer_set(asked.prompt) if asked is not None else None
        if choices is None:
            task = asked.task.name if asked is not None else "this"
            raise BackendError(f"{self.info.spec} answers only prompts with a closed answer set; the {task} task's "
                               "prompt has none (give its questions answers, or use another task)")
        return tuple(choices)

    async def generate(self, request: GenerationRequest) -> Generation:
        """A draw from the aligned distribution with the request's seed (the most likely answer at temperature 0)."""
        choices = self._choices(request)
        policy = (await self._policy(request, choices)).probabilities
        if request.decoding.temperature <= 0:
            answer = max(sorted(policy), key=lambda choice: policy[choice])
        else:
            answer = draw_answer(policy, request.seed)
        probability = policy[answer]
        return Generation(text=answer, finish_reason="stop",
                          logprob=math.log(probability) if probability > 0 else None)

    async def answer_distribution(self, request: GenerationRequest, choices: tuple[str, ...]) -> AnswerDistribution:
        """The aligned distribution itself (exact mode on the twin)."""
        return await self._policy(request, tuple(choices))

    async def _policy(self, request: GenerationRequest, choices: tuple[str, ...]) -> AnswerDistribution:
        # One computation per distinct prompt and temperature, however many individuals and draws share it.
        key = (request.prompt, request.messages, request.decoding.temperature, choices)
        pending = self._policies.get(key)
        if pending is None:
            pending = asyncio.ensure_future(self._compute(request, choices))
            self._policies[key] = pending
        try:
            return await asyncio.shield(pending)
        except BaseException:
            if pending.done() and self._policies.get(key) is pending:
                del self._policies[key]  # a failure is not remembered: a retry asks again
            raise

    async def _compute(self, request: GenerationRequest, choices: tuple[str, ...]) -> AnswerDistribution:
        from monoculture import alignment

        asked = request.asked
        grammar = asked.task.grammar(asked.prompt) if asked is not None else None
        # Exact distributions ignore truncation: asked as exact mode asks (untruncated), so a free-mode twin shares them.
        base_request = replace(request, grammar=grammar or answer_grammar(list(spellings(choices))),
                               decoding=request.decoding.untruncated(), seed=0)
        reference = await self._base_model.distribution(base_request, choices)
        pi_ref = np.array([reference.probabilities.get(choice, 0.0) for choice in choices], dtype=float)
        if pi_ref.sum() <= 0:
            raise BackendError(f"{self.base.info.spec} gave no probability to any answer of the prompt")
        pi_ref = pi_ref / pi_ref.sum()
        settings = self.settings
        fixed, reward_of = await self._reward(request, choices, pi_ref)
        # The reward the first round optimises (a policy-dependent one: of the base's distribution), kept with the
        # result so that the mean reward and the KL to the base are recomputed from the store.
        first_reward = fixed if fixed is not None else reward_of(pi_ref.copy())
        if reward_of is not None and settings.samples_per_round is None:
            reward_of = _first_then(first_reward, reward_of)  # round 1 optimises exactly the reward recorded
        if settings.reward == "preference_matching":
            policy = alignment.preference_matching(first_reward)
        elif settings.samples_per_round is not None:
            loop = alignment.finite_sample_loop(pi_ref, fixed, settings.beta, settings.rounds,
                                                settings.samples_per_round, seed=self._prompt_seed(request, "loop"),
                                                reward_of=reward_of)
            policies = loop.policies
        else:
            policies = alignment.iterate(pi_ref, fixed, settings.beta, settings.rounds, reward_of=reward_of)
        loop_record = {}
        if settings.reward != "preference_matching":
            policy = policies[-1]
            # Collapse: the first round whose largest answer holds 99%; the survivors: the answers (as the task
            # reads them) still holding probability at the end.
            survivors = sorted({value for value, p in zip(self._values(request, choices), policy) if p > 0})
            loop_record = {"rounds_to_collapse": alignment.rounds_to_collapse(policies), "survivors": survivors}
        policy = _decoded(np.asarray(policy, dtype=float), settings.sampling_temperature, settings.sampling_min_p)
        record = {"reference": {c: float(p) for c, p in zip(choices, pi_ref)},
                  "reward": {c: (float(r) if np.isfinite(r) else None) for c, r in zip(choices, first_reward)},
                  **loop_record}
        return AnswerDistribution({choice: float(p) for choice, p in zip(choices, policy)}, reference.outside_mass,
                                  reference.unexplored_mass, reference.steps, alignment=record)

    # rewards -------------------------------------------------------------------------------------
    def _prompt_seed(self, request: GenerationRequest, purpose: str) -> int:
        asked = request.asked
        item = asked.prompt.item if asked is not None else ""
        task = asked.task.name if asked is not None else ""
        # The twin's family, not its beta: twins of one base and rater at different strengths share their raters.
        family = (self.settings.base, self.settings.reward, self.settings.raters)
        return _seed(self.seed, *family, task, item, purpose) % 2**32

    async def _reward(self, request: GenerationRequest, choices: tuple[str, ...], pi_ref: np.ndarray
                      ) -> tuple[np.ndarray | None, Callable[[np.ndarray], np.ndarray] | None]:
        """The reward per choice (fixed), or for a reward that depends on the policy, how to compute it from each
        round's reference (the first round's is ``pi_ref``)."""
        from monoculture import alignment

        settings = self.settings
        if settings.reward == "typicality":
            return None, lambda policy: alignment.typicality_reward(policy, settings.alpha)
        if self._custom is not None:
            rewards = np.asarray(self._custom(choices, pi_ref.copy(), request.asked.prompt if request.asked else None),
                                 dtype=float)
            if rewards.shape != pi_ref.shape or not np.all(np.isfinite(rewards)):
                raise BackendError(f"reward {settings.reward} returned {rewards.shape} values, not {len(choices)} "
                                   "finite rewards (one per choice)")
            return rewards, None
        values = self._values(request, choices)
        labels = sorted(set(values))
        index = np.array([labels.index(value) for value in values])

        def per_choice(per_label: np.ndarray) -> np.ndarray:
            return per_label[index]

        def label_shares(policy: np.ndarray) -> np.ndarray:
            return np.bincount(index, weights=policy, minlength=len(labels))

        if settings.reward.startswith("judge:"):
            return per_choice(await self._judge_reward(request, choices, values, labels)), None
        # consensus and preference matching: a pool of raters' answers
        people = request.asked.task.people_answers(request.asked.prompt) if request.asked is not None else None
        seed = self._prompt_seed(request, "raters")
        if people:
            counts = np.array([people.get(label, 0) for label in labels], dtype=float)
            if counts.sum() <= 0:
                raise BackendError(f"the people's answers to {request.asked.prompt.item!r} name none of its answers")
            pool = alignment.rater_pool(counts / counts.sum(), settings.raters, seed=seed)
            return per_choice(alignment.consensus_reward(pool, settings.smoothing)), None
        stream = np.random.default_rng(seed)  # one stream: each round's pool is a new draw

        def from_policy(policy: np.ndarray) -> np.ndarray:
            # No people's answers: the raters are drawn from the model's own (current) population.
            pool = alignment.rater_pool(label_shares(policy), settings.raters, seed=stream)
            return per_choice(alignment.consensus_reward(pool, settings.smoothing))

        return None, from_policy

    def _values(self, request: GenerationRequest, choices: tuple[str, ...]) -> list[str]:
        """Each choice's answer as the task reads it ("White" and "white" are one answer)."""
        if request.asked is None:
            return list(choices)
        values = []
        for choice in choices:
            parsed = request.asked.task.parse(request.asked.prompt, choice)
            values.append(parsed.value if parsed.valid and parsed.value is not None else choice)
        return values

    async def _judge_reward(self, request: GenerationRequest, choices: tuple[str, ...], values: list[str],
                            labels: list[str]) -> np.ndarray:
        """Bradley-Terry rewards from the judge's pairwise preferences, both orders, once per question text."""
        from monoculture import alignment

        asked = request.asked
        question = asked.prompt.text if asked is not None else (request.prompt or "")
        key = (question, tuple(labels), request.decoding.temperature)
        pending = self._judged.get(key)
        if pending is None:
            shown = {label: choices[values.index(label)] for label in labels}  # one spelling per answer
            pending = asyncio.ensure_future(self._judge_all(question, [shown[label] for label in labels], request))
            self._judged[key] = pending
        wins = await asyncio.shield(pending)
        return alignment.bradley_terry(alignment.pairwise_from_judge(wins))

    async def _judge_all(self, question: str, answers: list[str], request: GenerationRequest) -> np.ndarray:
        from monoculture.tasks import render

        judge = self._judge_model
        size = len(answers)
        first_wins = np.full((size, size), 0.5)
        decoding = replace(request.decoding.untruncated(), temperature=1.0)
        for i in range(size):
            for j in range(size):
                if i == j:
                    continue
                text = JUDGE_PROMPT.format(question=question.removeprefix("Question: "), first=answers[i],
                                           second=answers[j])
                rendered = render(judge.info.kind, "", text)
                judged = await judge.distribution(
                    GenerationRequest(decoding=decoding, seed=0, prompt=rendered.prompt, messages=rendered.messages,
                                      grammar=answer_grammar(list(spellings(JUDGE_CHOICES)))), JUDGE_CHOICES)
                total = sum(judged.probabilities.values())
                first_wins[i, j] = judged.probabilities.get("A", 0.0) / total if total > 0 else 0.5
        return first_wins

    async def aclose(self) -> None:
        """Unload the base (and the judge, if it is another model)."""
        await self.base.aclose()
        if self.judge is not None and self.judge is not self.base:
            await self.judge.aclose()


def _decoded(policy: np.ndarray, temperature: float, min_p: float) -> np.ndarray:
    """The aligned model decoded at a temperature (p^(1/T); T = 0: its most likely answer) and with min-p (answers
    below min_p times the most likely one dropped), renormalised."""
    if temperature == 1.0 and min_p == 0.0:
        return policy
    if temperature <= 0:
        decoded = np.zeros_like(policy)
        decoded[int(np.argmax(policy))] = 1.0
        return decoded
    with np.errstate(divide="ignore"):
        logits = np.log(policy) / temperature
    decoded = np.exp(logits - logits.max())
    decoded /= decoded.sum()
    if min_p > 0:
        decoded = np.where(decoded >= min_p * decoded.max(), decoded, 0.0)
        decoded /= decoded.sum()
    return decoded


def _first_then(first: np.ndarray, reward_of: Callable[[np.ndarray], np.ndarray]
                ) -> Callable[[np.ndarray], np.ndarray]:
    """A policy-dependent reward whose first call returns ``first`` (already computed from the same policy)."""
    calls = iter(range(10**9))

    def reward(policy: np.ndarray) -> np.ndarray:
        return first.copy() if next(calls) == 0 else reward_of(policy)

    return reward


def _is_callable(reward: str) -> bool:
    return ":" in reward and not reward.startswith("judge:")


def _load_callable(reward: str) -> Callable[[Sequence[str], np.ndarray, object], Sequence[float]]:
    module, _, name = reward.partition(":")
    try:
        function = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as error:
        raise ModelSpecError(f"reward {reward!r} cannot be loaded ({error}): name an importable module:function") \
            from None
    if not callable(function):
        raise ModelSpecError(f"reward {reward!r} is not callable")
    return function
