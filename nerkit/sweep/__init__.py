"""``nerkit sweep``: a TOML spec expanded into runs, each stored as a normal run.

* ``spec``: reading and checking the spec (datasets, taggers, correctors, option
  grids, seeds, folds, resources);
* ``plan``: the runs it expands into, each matched against the runs stored already
  (same config and split fingerprints: skipped; unfinished: resumed);
* ``driver``: the only writer of the output folder; failures are recorded and the
  sweep goes on;
* ``executors``: ``local`` (sequential) and ``ray`` (each run and each fold a Ray task);
* ``tasks``: what a task does wherever it runs, values in and values out.
"""

from __future__ import annotations

from nerkit.sweep.driver import EXECUTORS, SweepEvent, SweepOutcome, run_sweep
from nerkit.sweep.plan import Plan, PlannedRun, plan_sweep, run_key
from nerkit.sweep.spec import SweepSpec, load_spec

__all__ = [
    "EXECUTORS",
    "Plan",
    "PlannedRun",
    "SweepEvent",
    "SweepOutcome",
    "SweepSpec",
    "load_spec",
    "plan_sweep",
    "run_key",
    "run_sweep",
]
