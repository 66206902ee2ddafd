"""``monoculture crp FILE.csv``: the CRP concept clustering of a published ``*-forCRP.csv`` file."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

DEFAULT_STARTS = "alone,together,kmeans"


def _finite(value: float) -> float | None:
    """JSON has no infinity or NaN: an R-hat that is not a finite number is written as null."""
    return float(value) if math.isfinite(value) else None


def _row(concept: str, responses: Any, result: Any) -> dict[str, object]:
    """One concept's JSON record (``result`` None: no complete individual to cluster)."""
    row: dict[str, object] = {"concept": concept, "n_individuals": int(responses.shape[0])}
    if result is None:
        row.update(p_multiple_concepts=None, p_multiple_concepts_ci=None, tables=None, richness=None, r_hat=None,
                   chain_means=None, log_posterior=None, starts=None, tempering=None, split_merge_acceptance=None,
                   converged=None,
                   convergence_problems=None)
        return row
    proposed = result.split_merge_proposed
    accepted = result.split_merge_accepted
    row.update(
        p_multiple_concepts=result.p_multiple_concepts,
        p_multiple_concepts_ci=list(result.p_multiple_concepts_ci),
        tables=result.tables,
        richness=result.richness,
        r_hat={"p_multiple_concepts": _finite(result.r_hat_p_multiple_concepts),
               "tables": _finite(result.r_hat_tables)},
        chain_means={"p_multiple_concepts": result.chain_p_multiple_concepts.tolist(),
                     "tables": result.chain_tables.tolist()},
        log_posterior={"final": result.chain_final_log_posterior.tolist(),
                       "mean": result.chain_mean_log_posterior.tolist()},
        starts=list(result.starts),
        tempering={"temperatures": list(result.temperatures), "sweeps": result.tempered_sweeps,
                   "swap_acceptance": [float(a / p) if p else None for a, p in
                                       zip(result.swaps_accepted.tolist(), result.swaps_proposed.tolist())]},
        split_merge_acceptance=[float(a / p) if p else None for a, p in zip(accepted.tolist(), proposed.tolist())],
        converged=result.converged,
        convergence_problems=list(result.convergence_problems),
    )
    return row


def register(app: typer.Typer) -> None:
    """Add ``crp``."""

    @app.command()
    def crp(
        file: Annotated[Path, typer.Argument(help="A *-forCRP.csv file (Concept, ID, Question, ChoiceNumber).",
                                             metavar="FILE.csv")],
        sweeps: Annotated[int, typer.Option(min=2, help="Sweeps per chain (each: a Gibbs pass over everyone, "
                                            "then the split-merge proposals).")] = 500,
        burn_in: Annotated[int, typer.Option(min=0, help="Sweeps discarded (those with index <= burn-in).")] = 100,
        chains: Annotated[int, typer.Option(min=1, help="Chains per concept; chain c starts from the c-th of "
                                            "--starts (cycling).")] = 3,
        alpha: Annotated[float, typer.Option(help="Beta(alpha, alpha) prior per question and table.")] = 0.16,
        split_merge: Annotated[float, typer.Option(min=0.0, help="Split-merge proposals per chain and sweep (a "
                                                   "fraction: one every 1/rate sweeps; 0: Gibbs moves only, as the "
                                                   "published sampler).")] = 1.0,
        starts: Annotated[str, typer.Option(help="Comma-separated starting partitions, cycled over the chains: "
                                            "alone (the published start), together, kmeans.")] = DEFAULT_STARTS,
        tempering: Annotated[bool, typer.Option(help="Tempered replicas with replica exchange (by default through "
                                                "the whole run up to 60 people, the burn-in up to 1,000).")] = True,
        max_people: Annotated[Optional[int], typer.Option(min=1, help="Cluster only the first N complete "
                                                          "individuals of each concept (the paper: 100).")] = None,
        seed: Annotated[int, typer.Option(min=0, help="Seed; concept k's chains use (seed, k, chain).")] = 0,
        json_output: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
    ) -> None:
        """Cluster each concept's complete individuals with the CRP; print P(multiple concepts), tables, richness
        and whether the chains agree (split-R-hat and chain means)."""
        from monoculture.errors import DataError, MonocultureError

        if not math.isfinite(alpha) or alpha <= 0:
            raise MonocultureError(f"--alpha must be a positive finite number, got {alpha}")
        if not math.isfinite(split_merge) or split_merge < 0:
            raise MonocultureError(f"--split-merge must be a non-negative finite number, got {split_merge}")
        if burn_in + 1 >= sweeps:
            raise MonocultureError(f"--burn-in {burn_in} leaves no sweeps to average: use --burn-in below "
                                   f"{sweeps - 1} or more --sweeps")
        from monoculture.metrics import CHAIN_SPREAD_TOLERANCE, R_HAT_THRESHOLD, START_KINDS, run_crp

        start_kinds = tuple(part.strip() for part in starts.split(",") if part.strip())
        unknown = [kind for kind in start_kinds if kind not in START_KINDS]
        if not start_kinds or unknown:
            raise MonocultureError(f"--starts takes a comma-separated list of {', '.join(START_KINDS)}, "
                                   f"got {starts!r}")
        from monoculture.tasks.concepts import read_crp_input

        try:
            inputs = read_crp_input(file)
        except UnicodeDecodeError as error:
            raise DataError(f"malformed {file.name}: not UTF-8 text ({error.reason} at byte {error.start}): "
                            "save it as UTF-8 CSV") from None

        rows = []
        for index, (concept, data) in enumerate(inputs.items()):
            responses = data.responses if max_people is None else data.responses[:max_people]
            result = None
            if responses.shape[0] > 0:
                result = run_crp(responses, sweeps=sweeps, burn_in=burn_in, chains=chains, alpha=alpha,
                                 seed=(seed, index), split_merge=split_merge, starts=start_kinds,
                                 tempered_sweeps=None if tempering else 0)
            rows.append(_row(concept, responses, result))

        if json_output:
            typer.echo(json.dumps(rows, indent=2))
            return
        from rich.console import Console
        from rich.markup import escape
        from rich.table import Table

        table = Table(title=escape(f"CRP concepts in {file.name} ({chains} chains x {sweeps} sweeps, "
                                   f"burn-in {burn_in})"))
        table.add_column("concept", no_wrap=True)
        for heading in ("n", "P(multiple concepts)", "tables", "richness", "R-hat"):
            table.add_column(heading, justify="right")
        table.add_column("warning", no_wrap=True)
        for row in rows:
            numbers = [row["p_multiple_concepts"], row["tables"], row["richness"]]
            r_hat = None if row["r_hat"] is None else row["r_hat"]["p_multiple_concepts"]  # type: ignore[index]
            shown_r_hat = "-" if row["r_hat"] is None else ("inf" if r_hat is None else f"{r_hat:.2f}")
            table.add_row(escape(str(row["concept"])), str(row["n_individuals"]),
                          *("-" if value is None else f"{value:.3f}" for value in numbers),
                          shown_r_hat, "chains disagree" if row["converged"] is False else "")
        console = Console()
        console.print(table)
        for row in rows:
            if row["converged"] is False:
                console.print(escape(f"warning: {row['concept']}: {'; '.join(row['convergence_problems'])}"),
                              soft_wrap=True)
        if any(row["converged"] is False for row in rows):
            console.print(f"Chains that disagree have not converged: their values depend on the seed. Run more "
                          f"--sweeps (e.g. 5000) before reading them (the check: split-R-hat above "
                          f"{R_HAT_THRESHOLD} or chain means of P(multiple concepts) more than "
                          f"{CHAIN_SPREAD_TOLERANCE} apart).", soft_wrap=True)
