"""Running a study: what it draws (the plan), the sampling probe, and the runner that stores every sample."""

from monoculture._run._plan import PlannedSample, plan, plan_record, sample_settings
from monoculture._run._runner import RunObserver, RunResult, draw, environment, run_study
from monoculture._run._preview import PlanPreview, PlanRow, preview
from monoculture._run._simulate import Simulation, simulate, simulation_study

__all__ = ["PlanPreview", "PlanRow", "PlannedSample", "RunObserver", "RunResult", "Simulation", "draw", "environment",
           "plan", "plan_record", "preview", "run_study", "sample_settings", "simulate", "simulation_study"]
