"""Time `nerkit --help` and `nerkit plugins` as whole processes (medians).

Targets: `nerkit --help` under 0.5 s, `nerkit plugins` under 1.5 s, with every
installed plugin loaded.

    python benchmarks/cli_startup.py [--repeats 9]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

TARGETS = {"--help": 0.5, "plugins": 1.5}


def nerkit_command() -> list[str]:
    script = Path(sys.executable).with_name("nerkit")
    return [str(script)] if script.exists() else [sys.executable, "-m", "nerkit"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=9)
    args = parser.parse_args(argv)
    times: dict[str, list[float]] = {name: [] for name in TARGETS}
    for _ in range(args.repeats):
        for name in TARGETS:  # interleaved
            start = time.perf_counter()
            done = subprocess.run([*nerkit_command(), name], capture_output=True, check=False)
            times[name].append(time.perf_counter() - start)
            if done.returncode != 0:
                raise SystemExit(f"nerkit {name} failed: {done.stderr.decode()}")
    for name, values in times.items():
        median = statistics.median(values)
        verdict = "meets" if median < TARGETS[name] else "misses"
        print(
            f"nerkit {name:8s} median {median:.3f} s ({verdict} < {TARGETS[name]} s); runs {' '.join(f'{v:.3f}' for v in values)}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
