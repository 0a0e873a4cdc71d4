"""Shared test helpers: where the project's shared corpora are, and a marker for
tests that need them (skipped with a clear reason on a machine without them)."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest


def shared_data_dir() -> Path:
    """``$NERKIT_DATA_DIR`` when set, else ``shared/data`` beside the project checkout."""
    env = os.environ.get("NERKIT_DATA_DIR")
    if env:
        return Path(env).expanduser()
    return Path(__file__).resolve().parents[2] / "shared" / "data"


SHARED_DATA = shared_data_dir()
SHARED_DATA_REASON = f"shared corpora not found at {SHARED_DATA}; set NERKIT_DATA_DIR"


def has_shared_data(*folders: str) -> bool:
    """Whether the shared corpora (or the given folders of them) are present."""
    return SHARED_DATA.is_dir() and all((SHARED_DATA / f).is_dir() for f in folders)


requires_shared_data = pytest.mark.skipif(not has_shared_data(), reason=SHARED_DATA_REASON)


@pytest.fixture
def shared_data() -> Path:
    """The shared corpora folder; skips the test when it is absent."""
    if not has_shared_data():
        pytest.skip(SHARED_DATA_REASON)
    return SHARED_DATA


def closed_port_url(path: str) -> str:
    """An http URL on a local port that was free a moment ago: connecting is refused
    at once, as it is for a machine without a network."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/{path}"


@pytest.fixture
def toy(tmp_path: Path) -> Path:
    """nerkit.testing's toy corpus as a folder dataset (train/dev/test.conll)."""
    from nerkit.io import write
    from nerkit.testing import toy_corpus

    corpus = toy_corpus()
    folder = tmp_path / "toy"
    folder.mkdir()
    for split in corpus:
        write(corpus[split], folder / f"{split}.conll")
    return folder
