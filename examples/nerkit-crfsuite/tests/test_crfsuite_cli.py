"""The installed plugin through nerkit's command line, in fresh processes: listed by
``nerkit plugins``, usable by ``nerkit run`` alone and with the openner corrector."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from nerkit import store
from nerkit.io import write
from nerkit.testing import toy_corpus


def data_dir() -> Path:
    """``$NERKIT_DATA_DIR``, else nerkit's checkout's ``shared/data`` (where this example
    lives inside nerkit's repository; a plugin of your own points at its own data)."""
    env = os.environ.get("NERKIT_DATA_DIR")
    return Path(env) if env else Path(__file__).resolve().parents[4] / "shared" / "data"


DATA = data_dir()


def nerkit(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("NERKIT_")}
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "nerkit", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=full_env,
        check=False,
    )


def micro_f1(run: Path) -> dict[tuple[str, str], float]:
    return {
        (r["split"], r["stage"]): r["value"]
        for r in store.read_table(run, "metrics").to_pylist()
        if (r["metric"], r["label"], r["mode"]) == ("f1", "micro", "lenient")
    }


def test_nerkit_plugins_lists_the_plugin(tmp_path: Path) -> None:
    done = nerkit("plugins", "--json", "--hook", "register_taggers", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    info = {i["name"]: i for i in json.loads(done.stdout)}["crfsuite"]
    assert info["status"] == "loaded" and info["error"] == ""
    assert (info["distribution"], info["version"]) == ("nerkit-crfsuite", "0.1.0")
    assert info["module"] == "nerkit_crfsuite"
    assert Path(info["path"]).parts[-2:] == ("nerkit_crfsuite", "__init__.py")
    assert info["hooks"] == ["register_taggers"]
    assert info["registered"] == {"tagger": ["crfsuite.tagger.v1"]}
    # only the plugins that implement a hook
    correctors = nerkit("plugins", "--json", "--hook", "register_correctors", cwd=tmp_path)
    assert "crfsuite" not in {i["name"] for i in json.loads(correctors.stdout)}


def test_run_with_the_openner_corrector_stores_both_stages(tmp_path: Path) -> None:
    corpus = toy_corpus()
    toy = tmp_path / "toy"
    toy.mkdir()
    for split in corpus:
        write(corpus[split], toy / f"{split}.conll")
    args = ["run", "--tagger", "crfsuite", "--corrector", "openner", "--dataset", str(toy)]
    args += ["--folds", "2", "-T", "max_iterations=30", "--threads", "2"]
    # a corrector small enough for a CPU test: one epoch of short windows
    args += ["-C", "epochs=1", "-C", "max_length=32", "-C", "batch_size=8"]
    done = nerkit(*args, cwd=tmp_path, env={"NERKIT_CACHE_DIR": str(tmp_path / "cache")})
    assert done.returncode == 0, done.stderr
    (run,) = (tmp_path / "runs").iterdir()
    assert set(micro_f1(run)) == {
        ("dev", "base"),
        ("dev", "corrected"),
        ("test", "base"),
        ("test", "corrected"),
    }
    (row,) = store.read_table(run, "run").to_pylist()
    assert (row["tagger"], row["corrector"]) == ("crfsuite.tagger.v1", "openner.corrector.v1")
    options = json.loads((run / "tagger" / "options.json").read_text())
    assert options["max_iterations"] == 30


@pytest.mark.skipif(
    not (DATA / "wnut17").is_dir(),
    reason=f"WNUT-17 not found at {DATA / 'wnut17'}; set NERKIT_DATA_DIR",
)
def test_run_on_wnut17_stores_a_scored_run(tmp_path: Path) -> None:
    done = nerkit(
        "run", "--tagger", "crfsuite", "--dataset", "wnut17",
        cwd=tmp_path, env={"NERKIT_DATA_DIR": str(DATA)},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    (run,) = (tmp_path / "runs").iterdir()
    f1 = micro_f1(run)
    # a feature CRF is a weak baseline on WNUT-17's rare entities (about 0.17 on test),
    # far above a tagger that learnt nothing (0)
    assert 0.1 < f1[("test", "base")] < 0.5 and 0.1 < f1[("dev", "base")] < 0.5
    curves = store.read_table(run, "curves").to_pylist()
    losses = [c["value"] for c in curves if (c["split"], c["metric"]) == ("train", "loss")]
    assert len(losses) == 100 and losses[-1] < losses[0]
    (row,) = store.read_table(run, "run").to_pylist()
    assert json.loads(row["versions"])["plugin:crfsuite"] == "nerkit-crfsuite 0.1.0"
    assert (run / "tagger" / "model.crfsuite").is_file()
