"""From the store to numbers: the typed :class:`Summary`, the accounting and the sampling alarms."""

from monoculture.analysis._checks import MIN_IDENTICAL_PAIRS, RATIO_LIMIT, accounting, repeats_check
from monoculture.analysis._models import (
    Accounting,
    Alarm,
    Cell,
    DataProvenance,
    Environment,
    Example,
    ModelRecord,
    Probe,
    ProbeCheck,
    Repeat,
    Repeats,
    Summary,
    TaskPopulation,
)
from monoculture.analysis._summary import summarize

__all__ = [
    "MIN_IDENTICAL_PAIRS",
    "RATIO_LIMIT",
    "Accounting",
    "Alarm",
    "Cell",
    "DataProvenance",
    "Environment",
    "Example",
    "ModelRecord",
    "Probe",
    "ProbeCheck",
    "Repeat",
    "Repeats",
    "Summary",
    "TaskPopulation",
    "accounting",
    "repeats_check",
    "summarize",
]
