"""A contract's fit once more, in a new Python process with another hash seed.

Strings hash differently under each ``PYTHONHASHSEED``, and so a set of strings is
iterated in another order: a component whose fit depends on that order predicts the
same twice in one process and differently in the next run. The new process imports
the contract class by its module and name, with the caller's ``sys.path``, calls its
``prepare`` and sends back the predictions (the tagger's, or the corrector's
corrections). Run as ``python -m nerkit.testing.process``.
"""

from __future__ import annotations

import importlib
import json
import os
import pickle
import subprocess
import sys
from pathlib import Path
from typing import Any

from nerkit.types import Prediction

#: how much of the new process's error output a failure shows
_SHOWN = 4000


def other_hash_seed() -> int:
    """A hash seed other than this process's: one more than ``PYTHONHASHSEED`` when it
    is set to a number, else 1 (this process's seed is then a random one)."""
    current = os.environ.get("PYTHONHASHSEED", "")
    return (int(current) + 1) % 2**32 if current.isdigit() else 1


def prepared_outputs(contract: type, work_dir: Path, hash_seed: int) -> list[Prediction]:
    """What ``contract().prepare(work_dir / "fit")`` predicts in a new process run with
    ``PYTHONHASHSEED=hash_seed``; an ``AssertionError`` says why when it fails there."""
    name = f"{contract.__module__}.{contract.__qualname__}"
    if "<locals>" in contract.__qualname__:
        raise AssertionError(
            f"checks_hash_seed: {name} is defined inside a function, so a new process cannot "
            "import it; define the contract class at the top of a test module"
        )
    work_dir.mkdir(parents=True, exist_ok=True)
    out = work_dir / "outputs.pickle"
    request = {
        "module": contract.__module__,
        "qualname": contract.__qualname__,
        "path": [p or os.getcwd() for p in sys.path],
        "work_dir": str(work_dir / "fit"),
        "out": str(out),
    }
    env = {**os.environ, "PYTHONHASHSEED": str(hash_seed)}
    done = subprocess.run(
        [sys.executable, "-m", "nerkit.testing.process", json.dumps(request)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise AssertionError(
            f"checks_hash_seed: fitting {name} in a new process (PYTHONHASHSEED={hash_seed}) "
            f"failed with exit status {done.returncode}; the contract class must be "
            f"importable there by its module and name:\n{done.stderr[-_SHOWN:]}"
        )
    outputs: list[Prediction] = pickle.loads(out.read_bytes())
    return outputs


def _prepare_here(request: dict[str, Any]) -> None:
    sys.path[:] = request["path"]
    contract: Any = importlib.import_module(request["module"])
    for part in request["qualname"].split("."):
        contract = getattr(contract, part)
    trained = contract().prepare(Path(request["work_dir"]))
    # a TrainedTagger holds predictions, a TrainedCorrector its corrections
    outputs = getattr(trained, "predictions", None)
    if outputs is None:
        outputs = trained.corrected
    Path(request["out"]).write_bytes(pickle.dumps(list(outputs)))


if __name__ == "__main__":
    _prepare_here(json.loads(sys.argv[1]))
