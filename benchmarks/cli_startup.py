"""Time `nerkit --help` and `nerkit plugins` as whole processes (medians).

Targets: `nerkit --help` under 0.5 s, `nerkit plugins` under 1.5 s, with every
installed plugin loaded: the built-ins and the example third-party plugin
(examples/nerkit-crfsuite, which `make test` installs; `--require` checks that it is).
The two commands alternate, so that a busy moment of a shared machine slows both; the
CPU time of each process (user + system) is printed too, as it depends less on what
else the machine is doing than wall time does.
Compile the byte code first (`python -m compileall -q nerkit plugins examples`) where
PYTHONDONTWRITEBYTECODE is set, or every run pays for compiling.

    python benchmarks/cli_startup.py [--repeats 15] [--require crfsuite]
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

TARGETS = {"--help": 0.5, "plugins": 1.5}


def nerkit_command() -> list[str]:
    script = Path(sys.executable).with_name("nerkit")
    return [str(script)] if script.exists() else [sys.executable, "-m", "nerkit"]


def installed_plugins() -> dict[str, str]:
    """Plugin name -> status, as `nerkit plugins --json` reports them."""
    done = subprocess.run(
        [*nerkit_command(), "plugins", "--json"], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"nerkit plugins --json failed: {done.stderr}")
    return {info["name"]: info["status"] for info in json.loads(done.stdout)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument(
        "--require",
        default="crfsuite",
        help="comma-separated plugins that must be installed and loaded ('' for none)",
    )
    args = parser.parse_args(argv)
    plugins = installed_plugins()
    missing = [p for p in filter(None, args.require.split(",")) if plugins.get(p) != "loaded"]
    if missing:
        raise SystemExit(f"not installed or not loaded: {', '.join(missing)} (plugins: {plugins})")
    print("plugins:", ", ".join(f"{name} ({status})" for name, status in sorted(plugins.items())))
    times: dict[str, list[float]] = {name: [] for name in TARGETS}
    cpu: dict[str, list[float]] = {name: [] for name in TARGETS}
    for _ in range(args.repeats):
        for name in TARGETS:  # interleaved
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            start = time.perf_counter()
            done = subprocess.run([*nerkit_command(), name], capture_output=True, check=False)
            times[name].append(time.perf_counter() - start)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu[name].append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
            if done.returncode != 0:
                raise SystemExit(f"nerkit {name} failed: {done.stderr.decode()}")
    for name, values in times.items():
        median = statistics.median(values)
        verdict = "meets" if median < TARGETS[name] else "misses"
        runs = " ".join(f"{v:.3f}" for v in values)
        print(
            f"nerkit {name:8s} median {median:.3f} s ({verdict} < {TARGETS[name]} s), "
            f"CPU {statistics.median(cpu[name]):.3f} s; runs {runs}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
