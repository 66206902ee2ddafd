"""The replication page: the paper's Figure 4 redrawn with both recipes, the verdicts, and every cell's numbers."""

from __future__ import annotations

from monoculture.replicate._models import Replication
from monoculture.replicate._published import FAMILIES, PUBLISHED_CONDITIONS

__all__ = ["replication_figure", "replication_page"]

CONDITION_ORDER = [f"{prompt}/{temperature}" for prompt, temperature in PUBLISHED_CONDITIONS]


def replication_figure(replication: Replication) -> str:
    """One panel per family: per condition (both categories averaged), the base's and the aligned model's
    P(multiple concepts) under the paper's recipe (bars) and monoculture's (dots), the people's as a line."""
    from monoculture.display import HUMAN_COLOUR, figure_style, to_svg

    families = [verdict.family for verdict in replication.families]
    people = [c.people for c in replication.cells if c.people is not None]
    people_mean = sum(people) / len(people) if people else None
    with figure_style("replication") as plt:
        fig, axes = plt.subplots(1, max(len(families), 1), figsize=(3.0 * max(len(families), 1), 3.2), sharey=True,
                                 squeeze=False)
        for ax, family in zip(axes.flat, families):
            base, aligned, method = FAMILIES[family]
            for offset, (model, colour) in enumerate(((base, "#7f7f7f"), (aligned, "#d62728"))):
                xs, bars, dots = [], [], []
                for position, condition in enumerate(CONDITION_ORDER):
                    cells = [c for c in replication.cells if c.model == model and f"{c.prompt}/{c.temperature}" ==
                             condition]
                    paper = [c.paper_recipe for c in cells if c.paper_recipe is not None]
                    own = [c.monoculture for c in cells if c.monoculture is not None]
                    if paper:
                        xs.append(position + (offset - 0.5) * 0.38)
                        bars.append(sum(paper) / len(paper))
                        dots.append(sum(own) / len(own) if own else float("nan"))
                ax.bar(xs, bars, width=0.36, color=colour, alpha=0.55,
                       label=f"{model} (paper's recipe)")
                ax.plot(xs, dots, linestyle="none", marker="o", markersize=3.5, color=colour,
                        label=f"{model} (monoculture)")
            if people_mean is not None:
                ax.axhline(people_mean, color=HUMAN_COLOUR, linewidth=1, linestyle="--", label="people")
            ax.set_xticks(range(len(CONDITION_ORDER)), [c.replace("/default", "") for c in CONDITION_ORDER],
                          rotation=60, ha="right")
            ax.set_title(f"{family} ({method})")
            ax.legend(fontsize=6, frameon=False, loc="upper right")
        axes.flat[0].set_ylabel("P(multiple concepts)")
        return to_svg(fig, "P(multiple concepts) of each base and aligned model per condition, both recipes, "
                           "with the people's", "replication")


def replication_page(replication: Replication) -> str:
    """The standalone HTML page (autoescaped: the only markup not escaped is the figure)."""
    from markupsafe import Markup

    from monoculture.display import render_template

    return render_template("monoculture.replicate", "replication.html.j2", r=replication,
                           figure=Markup(replication_figure(replication)))
