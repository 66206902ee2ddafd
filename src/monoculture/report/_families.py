"""The report's opening comparison when a study has model families: one sentence per family and stage, and one
figure of each stage's share of the people's diversity with its interval over items."""

from __future__ import annotations

from monoculture.analysis import Summary
from monoculture.display import HUMAN_COLOUR, cut, figure_style, plot_label, to_svg


def families_section(summary: Summary) -> dict | None:
    """The sentences (escaped by the template), the figure and the mixed models, or None without families."""
    if not summary.families:
        return None
    sentences = [cut(sentence, 600) for comparison in summary.families for sentence in comparison.sentences]
    mixed = [cut(f"Across {fit.n_families} families ({fit.task}, {fit.condition}, {fit.comparison}): "
                 f"{fit.measure.replace('_', ' ')} {fit.effect:+.3f} [{fit.ci[0]:+.3f}, {fit.ci[1]:+.3f}], "
                 f"p = {fit.p_value:.3g} ({fit.n_observations} observations, {fit.n_items} items"
                 f"{'' if fit.converged else ', did not converge'}).", 600) for fit in summary.mixed_models]
    return {"sentences": sentences, "figure": _figure(summary), "mixed": mixed,
            "note": cut(summary.families_note, 600) if summary.families_note else ""}


def agreement_section(summary: Summary) -> list[dict]:
    """Every two models' agreement beside the people's (the template escapes every value)."""
    rows = []
    for row in summary.agreement:
        people = summary.people_agreement.get(row.task)
        rows.append({"condition": cut(row.condition), "task": cut(row.task), "a": cut(row.model_a),
                     "b": cut(row.model_b), "n_items": str(row.n_items), "answer": f"{row.answer_agreement:.2f}",
                     "modal": f"{row.modal_agreement:.0%}", "people": "" if people is None else f"{people:.2f}"})
    return rows


def _figure(summary: Summary) -> str | None:
    rows = []  # (label, share, interval, is_base)
    for comparison in summary.families:
        where = f"{comparison.task} · {comparison.condition}"
        rows.append((f"{comparison.family} {comparison.base_stage} · {where}", comparison.base_share_of_people,
                     comparison.base_share_of_people_ci, True))
        rows += [(f"{comparison.family} {stage.stage} · {where}", stage.share_of_people, stage.share_of_people_ci,
                  False) for stage in comparison.stages]
    if not any(share is not None for _, share, _, _ in rows):
        return None
    with figure_style("families") as plt:
        fig, ax = plt.subplots(figsize=(7.5, 0.9 + 0.32 * len(rows)))
        positions = list(range(len(rows)))[::-1]
        for position, (label, share, interval, is_base) in zip(positions, rows):
            if share is None:
                ax.text(0, position, "  no people's value", va="center", color="#a33", fontsize=8)
                continue
            colour = "C0" if is_base else "C3"
            error = None if interval is None else [[max(share - interval[0], 0)], [max(interval[1] - share, 0)]]
            ax.errorbar([share * 100], [position], xerr=None if error is None else [[e[0] * 100] for e in error],
                        fmt="o", color=colour, capsize=3, markersize=5, linewidth=1)
        ax.axvline(100, color=HUMAN_COLOUR, linestyle="--", linewidth=0.9)
        ax.set_yticks(positions, [plot_label(label, 60) for label, _, _, _ in rows])
        ax.set_ylim(-0.7, len(rows) - 0.3)
        ax.set_xlim(left=0)
        ax.set_xlabel("share of the people's diversity (%); dashed: the people")
        ax.grid(axis="x", color="#e5e5e5", linewidth=0.6)
        fig.tight_layout()
        return to_svg(fig, "each stage's share of the people's diversity per family", "families")
