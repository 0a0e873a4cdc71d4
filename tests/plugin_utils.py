"""Make an installed-looking plugin distribution in a folder, for subprocess tests.

A folder on ``PYTHONPATH`` holding ``NAME.py`` and ``NAME-0.1.dist-info/`` with an
``entry_points.txt`` is found by ``importlib.metadata`` exactly like a pip-installed
plugin, without installing anything.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path


def make_plugin(folder: Path, name: str, source: str, version: str = "0.1") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.py").write_text(textwrap.dedent(source))
    dist = folder / f"{name}-{version}.dist-info"
    dist.mkdir(exist_ok=True)
    (dist / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    (dist / "entry_points.txt").write_text(f"[nerkit]\n{name} = {name}\n")
    return folder


def set_entry_point(folder: Path, name: str, entry_point: str, version: str = "0.1") -> Path:
    """Make the plugin ``name`` (made by :func:`make_plugin`) declare its module under
    the entry-point name ``entry_point`` instead of its own name."""
    dist = folder / f"{name}-{version}.dist-info"
    (dist / "entry_points.txt").write_text(f"[nerkit]\n{entry_point} = {name}\n")
    return folder


def run_nerkit(
    args: list[str],
    *,
    path: Path | None = None,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m nerkit ARGS`` in a fresh process (with ``path`` on PYTHONPATH)."""
    full_env = dict(os.environ)
    full_env.pop("NERKIT_STRICT_PLUGINS", None)
    if path is not None:
        full_env["PYTHONPATH"] = os.pathsep.join(
            [str(path), full_env.get("PYTHONPATH", "")]
        ).rstrip(os.pathsep)
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "nerkit", *args],
        capture_output=True,
        text=True,
        env=full_env,
        cwd=cwd,
        check=False,
    )


#: a plugin whose tagger is the lexicon tagger, killed (SIGKILL) on its first test
#: prediction (10 sentences) when KILL_ON_TEST=1: an interrupted run, for resume tests
KILLER_PLUGIN = """
import os
import signal

from nerkit.plugin import hookimpl
from nerkit_lexicon.tagger import LexiconTagger


class KillerTagger(LexiconTagger):
    \"\"\"The lexicon tagger, killed (SIGKILL) on its first test prediction when asked.\"\"\"

    def predict(self, sentences):
        if os.environ.get("KILL_ON_TEST") == "1" and len(sentences) == 10:
            os.kill(os.getpid(), signal.SIGKILL)
        return super().predict(sentences)


@hookimpl
def register_taggers(register):
    register("killer.tagger.v1", KillerTagger)
"""
