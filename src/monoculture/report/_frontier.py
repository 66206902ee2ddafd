"""The price of diversity, drawn: per task, each twin family's diversity against the reward its rater gives,
one point per β (the base at β = ∞), with the people's diversity marked (``monoculture simulate``)."""

from __future__ import annotations

import io
import math
from collections import defaultdict

from monoculture.display import HUMAN_COLOUR, figure_style, plot_label


def _label(beta: float | None) -> str:
    return "base" if beta is None else f"β={format(beta, 'g')}"


def frontier_figure(rows: list[dict], people: dict[str, dict[str, float | None]]) -> str:
    """A standalone SVG document: one panel per task, x = mean reward, y = the task's headline diversity."""
    tasks = list(dict.fromkeys(row["task"] for row in rows))
    with figure_style("frontier") as plt:
        fig, axes = plt.subplots(1, max(len(tasks), 1), figsize=(4.6 * max(len(tasks), 1), 3.8), squeeze=False)
        for ax, task in zip(axes.flat, tasks):
            task_rows = [row for row in rows if row["task"] == task]
            measure = next((name for row in task_rows for name in row["measures"]), None)
            lines: dict[tuple, list[dict]] = defaultdict(list)
            for row in task_rows:
                families = ([(row["reward"], row["rounds"])] if row["reward"] is not None else
                            {(other["reward"], other["rounds"]) for other in task_rows
                             if other["base"] == row["base"] and other["reward"] is not None})
                for reward, rounds in families:  # the base starts every family's line
                    lines[(row["base"], reward, rounds, row["condition"])].append(row)
            for index, ((base, reward, rounds, condition), members) in enumerate(sorted(lines.items(), key=str)):
                points = [(row["mean_reward"], row["measures"].get(measure), row["beta"]) for row in members
                          if row["mean_reward"] is not None and row["measures"].get(measure) is not None]
                points.sort(key=lambda point: -math.inf if point[2] is None else -point[2])  # the base, then β down
                if not points:
                    continue
                xs, ys, betas = zip(*points)
                name = plot_label(f"{base} · {reward}{f' ×{rounds}' if rounds and rounds > 1 else ''} · {condition}", 60)
                ax.plot(xs, ys, marker="o", markersize=4, linewidth=1.2, color=f"C{index % 10}", label=name)
                for x, y, beta in points:
                    ax.annotate(_label(beta), (x, y), textcoords="offset points", xytext=(3, 3), fontsize=6.5,
                                color=f"C{index % 10}")
            human = people.get(task, {}).get(measure) if measure else None
            if human is not None:
                ax.axhline(human, color=HUMAN_COLOUR, linestyle="--", linewidth=1)
                ax.annotate("people", (0.01, human), xycoords=("axes fraction", "data"), xytext=(0, 3),
                            textcoords="offset points", fontsize=7, color=HUMAN_COLOUR)
            ax.set_title(plot_label(task, 40), fontsize=9)
            ax.set_xlabel("mean reward under the rater, E_π[r] (higher: more acceptable)")
            ax.set_ylabel(plot_label((measure or "diversity").replace("_", " "), 40))
            ax.set_ylim(bottom=0)
            ax.grid(color="#eeeeee", linewidth=0.6)
            ax.legend(fontsize=6.5, loc="best", frameon=False)
        fig.tight_layout()
        buffer = io.StringIO()
        fig.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
        plt.close(fig)
    return buffer.getvalue()
