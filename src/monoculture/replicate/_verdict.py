"""Does the paper's conclusion hold? Aligned minus base, paired per condition and concept, per family and pooled,
under each recipe; the paper's mixed model p ~ aligned + (1 | family) across families (docs/methods.md, 13)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from monoculture.replicate._models import RecipeVerdict
from monoculture.replicate._published import FAMILIES

__all__ = ["Values", "family_verdict", "pooled_verdict", "verdict_words"]

# (model, condition label, concept) -> P(multiple concepts) under one recipe
Values = Mapping[tuple[str, str, str], float]
# The paper left llama2 out of its model: its base gave almost no complete answers.
POOLED_WITHOUT = ("llama2",)


def _pairs(values: Values, base: str, aligned: str) -> tuple[list[float], list[float]]:
    keys = sorted((condition, concept) for model, condition, concept in values if model == base
                  and (aligned, condition, concept) in values)
    return [values[(base, *k)] for k in keys], [values[(aligned, *k)] for k in keys]


def _verdict(recipe: str, base_values: list[float], aligned_values: list[float], seed: int) -> dict:
    from monoculture.metrics import paired_difference

    paired = paired_difference(base_values, aligned_values, seed=seed)
    # Holds: the interval over pairs lies below 0 and the sign-flip test agrees (with under 5 pairs it cannot:
    # the smallest two-sided p of 4 pairs is 2/16).
    holds = None if paired["ci"] is None else bool(paired["ci"][1] < 0 and paired["p_value"] < 0.05)
    return {"recipe": recipe, "difference": paired["mean"], "ci": paired["ci"], "p_value": paired["p_value"],
            "n_pairs": paired["n_items"], "holds": holds}


def family_verdict(family: str, recipes: Mapping[str, Values], seed: int) -> list[RecipeVerdict]:
    """The family's aligned − base difference under each recipe."""
    base, aligned, _ = FAMILIES[family]
    return [RecipeVerdict.model_validate(_verdict(recipe, *_pairs(values, base, aligned), seed))
            for recipe, values in recipes.items()]


def _mixed(values: Values) -> tuple[float, tuple[float, float], float] | None:
    """p ~ aligned + (1 | family) on every model × condition × concept value (statsmodels MixedLM)."""
    try:
        import pandas as pd
        import statsmodels.formula.api as smf
    except ImportError:
        return None
    import warnings

    rows = []
    for (model, condition, concept), value in values.items():
        family = next((f for f, (b, a, _) in FAMILIES.items() if model in (b, a)), None)
        if family is None or family in POOLED_WITHOUT:
            continue
        rows.append({"value": value, "aligned": int(model == FAMILIES[family][1]), "family": family})
    frame = pd.DataFrame(rows)
    if frame.empty or frame["family"].nunique() < 2 or frame["aligned"].nunique() < 2:
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = smf.mixedlm("value ~ aligned", frame, groups="family").fit(reml=True)
        low, high = result.conf_int().loc["aligned"]
        return float(result.params["aligned"]), (float(low), float(high)), float(result.pvalues["aligned"])
    except (ValueError, ArithmeticError, KeyError, IndexError):
        return None


def pooled_verdict(recipes: Mapping[str, Values], seed: int) -> list[RecipeVerdict]:
    """All families but llama2 together: the paired difference over every family's pairs, and the mixed model."""
    verdicts = []
    for recipe, values in recipes.items():
        base_values: list[float] = []
        aligned_values: list[float] = []
        for family, (base, aligned, _) in FAMILIES.items():
            if family not in POOLED_WITHOUT:
                b, a = _pairs(values, base, aligned)
                base_values += b
                aligned_values += a
        verdict = _verdict(recipe, base_values, aligned_values, seed)
        fit = _mixed(values)
        if fit is not None:
            verdict.update(mixed_effect=fit[0], mixed_ci=fit[1], mixed_p_value=fit[2])
        verdicts.append(RecipeVerdict.model_validate(verdict))
    return verdicts


RECIPE_NAMES = {"paper": "the paper's recipe", "monoculture": "monoculture's converged sampler",
                "monoculture_unbiased": "monoculture's unbiased estimator",
                "monoculture_fixed_n": "monoculture's unbiased estimator at a fixed N"}


def verdict_words(verdicts: Sequence[RecipeVerdict]) -> str:
    """"holds under ... (−0.061 [−0.08, −0.04], p = 0.0001); no clear difference under ..." for a sentence."""
    if verdicts and all(v.difference is None for v in verdicts):
        return "cannot be judged: no condition and concept has complete subjects of both models"
    parts = []
    for v in verdicts:
        if v.difference is None:
            parts.append(f"cannot be judged under {RECIPE_NAMES[v.recipe]} (no paired values)")
            continue
        interval = f" [{v.ci[0]:+.3f}, {v.ci[1]:+.3f}]" if v.ci else ""
        if v.holds:
            word = "holds"
        elif v.ci and v.ci[0] > 0 and v.p_value < 0.05:
            word = "is reversed"
        else:
            word = "is not clear"
        parts.append(f"{word} under {RECIPE_NAMES[v.recipe]} ({v.difference:+.3f}{interval} over {v.n_pairs} "
                     f"pairs, p = {v.p_value:.2g})")
    return "; ".join(parts)
