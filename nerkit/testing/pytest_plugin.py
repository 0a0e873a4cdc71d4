"""pytest plugin registered by installing nerkit (entry point group ``pytest11``).

It only adds fixtures and imports nothing heavy, because pytest loads it in every
test run of an environment where nerkit is installed. Disable it with ``-p no:nerkit``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from nerkit.interfaces import RunContext
from nerkit.types import Corpus


@pytest.fixture(scope="session")
def nerkit_toy_corpus() -> Corpus:
    """The contracts' toy corpus: short English sentences, IOB2, PER / LOC / ORG."""
    from nerkit.testing.data import toy_corpus

    return toy_corpus()


@pytest.fixture
def nerkit_run_context(tmp_path: Path) -> RunContext:
    """A RunContext with seed 13 and a fresh work directory."""
    return RunContext(seed=13, work_dir=tmp_path)
