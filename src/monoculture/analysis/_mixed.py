"""The paper's mixed-effects model across families: measure ~ stage + (1 | family) + (1 | item) (statsmodels
MixedLM, crossed random intercepts as variance components of one group), fitted per task, condition and later
stage on every family that has both its base and that stage; needs two families or more, and the ``stats`` extra.
"""

from __future__ import annotations

from collections.abc import Sequence

from monoculture.analysis._models import MixedModelFit

# Families below this cannot separate a family effect from the stage effect.
MIN_FAMILIES = 2


def fit_mixed_models(observations: Sequence[dict]) -> tuple[list[MixedModelFit], str | None]:
    """Fits, and a note when some could not be made (too few families, statsmodels missing, no convergence).

    ``observations``: one per family, stage, item: task, condition, measure, family, stage ("base" side marked by
    ``later`` = 0), item and value.
    """
    groups: dict[tuple, list[dict]] = {}
    for row in observations:
        groups.setdefault((row["task"], row["condition"], row["measure"], row["comparison"]), []).append(row)
    eligible = {key: rows for key, rows in groups.items() if len({row["family"] for row in rows}) >= MIN_FAMILIES}
    if not eligible:
        return [], None
    try:
        import pandas as pd
        import statsmodels.formula.api as smf
    except ImportError:
        return [], ("the mixed-effects model across families needs statsmodels: pip install 'monoculture[stats]'")
    import warnings

    fits, failed = [], []
    for (task, condition, measure, comparison), rows in eligible.items():
        frame = pd.DataFrame(rows)
        frame["group"] = 1
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # convergence chatter: a failed fit is reported below
                model = smf.mixedlm("value ~ later", frame, groups="group",
                                    vc_formula={"family": "0 + C(family)", "item": "0 + C(item)"})
                result = model.fit(reml=True)
            low, high = result.conf_int().loc["later"]
            fits.append(MixedModelFit(task=task, condition=condition, measure=measure, comparison=comparison,
                                      effect=float(result.params["later"]), ci=(float(low), float(high)),
                                      p_value=float(result.pvalues["later"]), n_families=frame["family"].nunique(),
                                      n_items=frame["item"].nunique(), n_observations=len(frame),
                                      converged=bool(result.converged)))
        except (ValueError, ArithmeticError, KeyError, IndexError) as error:  # singular designs, too few items
            failed.append(f"{task} {condition} {comparison}: {type(error).__name__}")
    note = f"mixed model not fitted for {', '.join(failed)}" if failed else None
    return fits, note
