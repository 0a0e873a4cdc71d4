"""`nerkit run` as a user sees it: the scores it prints, errors that name the config
file a setting came from, names shown as they are, and a device it can compute on."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from test_runs import cli, only_run

from nerkit import pipeline, store

# ------------------------------------------------------------ the scores printed


def _micro(run: Path, split: str) -> list[str]:
    """P, R, F1 (in %) and support of ``split``'s micro average in ``run``, as printed."""
    rows = [
        r
        for r in store.read_table(run, "metrics").to_pylist()
        if (r["split"], r["stage"], r["mode"], r["label"]) == (split, "base", "lenient", "micro")
    ]
    values = {r["metric"]: r for r in rows}
    support = str(values["f1"]["support"])
    return [f"{100 * values[m]['value']:.2f}" for m in ("precision", "recall", "f1")] + [support]


def _row(output: str, label: str) -> list[str]:
    """The cells of the table row ``label`` in ``output``."""
    line = next(line for line in output.splitlines() if line.startswith(f"│ {label} "))
    return [cell.strip() for cell in line.strip("│").split("│")][1:]


def test_a_dataset_without_a_test_split_shows_the_dev_scores_it_computed(
    toy: Path, tmp_path: Path
) -> None:
    """Not an empty test table (support 0, no P/R/F1): the dev scores, saying which
    split they are and why."""
    data = tmp_path / "notest"
    data.mkdir()
    for split in ("train", "dev"):
        shutil.copy(toy / f"{split}.conll", data)
    out = tmp_path / "runs"
    code, output = cli("run", "-t", "lexicon", "-d", str(data), "-o", str(out))
    assert code == 0, output
    run = only_run(out)
    assert f"{run.name}: dev (lenient), as the dataset has no test split" in output
    assert "test (lenient)" not in output
    assert _row(output, "micro") == _micro(run, "dev")
    assert _row(output, "micro")[3] != "0"
    # nerkit runs lists its dev F1 (its test F1 cell stays empty)
    code, listed = cli("runs", str(out), "--json")
    assert code == 0, listed
    (summary,) = json.loads(listed)
    assert summary["test_f1"] is None
    assert f"{100 * summary['dev_f1']:.2f}" == _micro(run, "dev")[2]
    code, listed = cli("runs", str(out))
    row = _row(listed, run.name)
    assert row[4:6] == [_micro(run, "dev")[2], ""], listed


def test_a_dataset_with_a_test_split_still_shows_the_test_scores(toy: Path, tmp_path: Path) -> None:
    out = tmp_path / "runs"
    code, output = cli("run", "-t", "lexicon", "-d", str(toy), "-o", str(out))
    assert code == 0, output
    run = only_run(out)
    assert f"{run.name}: test (lenient)" in output and "no test split" not in output
    assert "dev (lenient)" not in output
    assert _row(output, "micro") == _micro(run, "test")


def test_a_dataset_with_neither_a_dev_nor_a_test_split_says_nothing_was_scored(
    toy: Path, tmp_path: Path
) -> None:
    data = tmp_path / "trainonly"
    data.mkdir()
    shutil.copy(toy / "train.conll", data)
    out = tmp_path / "runs"
    code, output = cli("run", "-t", "lexicon", "-d", str(data), "-o", str(out))
    assert code == 0, output
    assert "nothing scored: the dataset has neither a dev nor a test split" in output
    assert "(lenient)" not in output and "support" not in output


# ------------------------------------------------- errors that name the config file


def _config(tmp_path: Path, *lines: str) -> Path:
    config = tmp_path / "run.toml"
    config.write_text("\n".join([*lines, '[tagger]\nname = "lexicon"']) + "\n")
    return config


def test_an_unknown_dataset_in_a_config_file_names_the_file_and_the_key(tmp_path: Path) -> None:
    config = _config(tmp_path, 'dataset = "nope"')
    out = tmp_path / "runs"
    code, output = cli("run", "--config", str(config), "-o", str(out))
    assert code == 2, output
    assert f"Error: {config}: dataset: unknown dataset 'nope' (known: " in output
    assert "Traceback" not in output and not out.exists()
    # named by the flag, the same mistake does not blame the file
    code, output = cli("run", "--config", str(config), "-d", "nope", "-o", str(out))
    assert code == 2 and "Error: unknown dataset 'nope'" in output and str(config) not in output


def test_a_file_given_as_the_dataset_in_a_config_file_names_the_config_file(
    toy: Path, tmp_path: Path
) -> None:
    config = _config(tmp_path, f'dataset = "{(toy / "train.conll").as_posix()}"')
    code, output = cli("run", "--config", str(config), "-o", str(tmp_path / "runs"))
    assert code == 2, output
    assert f"Error: {config}: dataset: {toy / 'train.conll'} is a file" in output


@pytest.mark.parametrize(
    ("lines", "flags", "key"),
    [
        (['dataset = "hironsan"', "dataset_options = { tag_col = 1 }"], [], "dataset_options"),
        (['dataset = "hironsan"'], ["-D", "tag_col=1"], "dataset"),
        (["dataset_options = { tag_col = 1 }"], ["-d", "hironsan"], "dataset_options"),
        (['dataset = "hironsan"', "dataset_options = { tag_col = 1 }"], ["-d", "hironsan"], None),
    ],
)
def test_dataset_options_for_a_named_dataset_blame_the_config_file_where_it_set_them(
    tmp_path: Path, lines: list[str], flags: list[str], key: str | None
) -> None:
    """The options, or the dataset they do not fit, set in the file: the error names
    the file and that key; both given as flags (the file's options overridden by -D,
    or the dataset by -d with the options from -D): the file is not blamed."""
    if key is None:
        flags = [*flags, "-D", "tag_col=1"]
    config = _config(tmp_path, *lines)
    code, output = cli("run", "--config", str(config), *flags, "-o", str(tmp_path / "runs"))
    assert code == 2, output
    message = "dataset options (tag_col) are for a folder or a Hub data set; 'hironsan' is"
    if key is None:
        assert f"Error: {message}" in output and str(config) not in output
    else:
        assert f"Error: {config}: {key}: {message}" in output
    assert "Traceback" not in output


# ------------------------------------------------------- names shown as they are


def test_rich_markup_in_a_dataset_name_is_shown_as_it_is(toy: Path, tmp_path: Path) -> None:
    data = tmp_path / "[bold]corpus"
    shutil.copytree(toy, data)
    out = tmp_path / "[red]runs"
    code, output = cli("run", "-t", "lexicon", "-d", str(data), "-o", str(out))
    assert code == 0, output
    shown = output.replace("\n", "")  # long paths wrap
    assert f"(lexicon on {data})" in shown
    assert f"loading dataset {data} (" in shown
    assert f"stored in {only_run(out)}" in shown


# ---------------------------------------------------------------------- device


@pytest.fixture
def torch_sees(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """Set what torch reports: ``torch_sees(cuda=N, mps=bool)``."""
    torch = pytest.importorskip("torch")

    def see(cuda: int = 0, mps: bool = False) -> None:
        monkeypatch.setattr(torch.cuda, "is_available", lambda: cuda > 0)
        monkeypatch.setattr(torch.cuda, "device_count", lambda: cuda)
        monkeypatch.setattr(torch.backends.mps, "is_available", lambda: mps)

    return see


@pytest.mark.parametrize(
    ("device", "seen", "problem"),
    [
        ("cuda", {}, "torch sees no CUDA GPU"),
        ("cuda:0", {}, "torch sees no CUDA GPU"),
        ("cuda:1", {"cuda": 1}, "torch sees 1 CUDA GPU (cuda:0)"),
        ("cuda:2", {"cuda": 2}, "torch sees 2 CUDA GPUs (cuda:0 to cuda:1)"),
        ("mps", {"cuda": 1}, "torch sees no MPS device"),
    ],
)
def test_a_device_torch_does_not_see_is_refused_before_the_run(
    toy: Path, tmp_path: Path, torch_sees, device: str, seen: dict, problem: str
) -> None:  # type: ignore[no-untyped-def]
    """A lexicon run asked to use a GPU there is not would succeed and be stored, and
    compared, as a GPU run: refused up front, as a torch tagger would refuse it only
    once it starts to train."""
    torch_sees(**seen)
    out = tmp_path / "runs"
    code, output = cli("run", "-t", "lexicon", "-d", str(toy), "--device", device, "-o", str(out))
    assert code == 2, output
    assert f"Error: --device '{device}': {problem}; use cpu" in output
    assert not out.exists()
    config = _config(tmp_path, f'dataset = "{toy.as_posix()}"', f'device = "{device}"')
    code, output = cli("run", "--config", str(config), "-o", str(out))
    assert code == 2 and f"Error: {config}: device '{device}': {problem}" in output
    assert not out.exists()


@pytest.mark.parametrize(("device", "seen"), [("cuda", {"cuda": 1}), ("cuda:1", {"cuda": 2})])
def test_a_device_torch_sees_is_taken_and_stored(
    toy: Path, tmp_path: Path, torch_sees, device: str, seen: dict
) -> None:  # type: ignore[no-untyped-def]
    torch_sees(**seen)
    out = tmp_path / "runs"
    code, output = cli("run", "-t", "lexicon", "-d", str(toy), "--device", device, "-o", str(out))
    assert code == 0, output
    assert pipeline.stored_config(only_run(out))["device"] == device


def test_an_unknown_device_name_lists_the_names_taken(toy: Path, tmp_path: Path) -> None:
    for device in ("gpu", "cuda:", "cuda:x", "mps:0"):
        code, output = cli("run", "-t", "lexicon", "-d", str(toy), "--device", device)
        assert code == 2, output
        assert f"Error: --device must be cpu, cuda or auto, not '{device}' (or cuda:N" in output


def test_a_resumed_run_started_on_a_gpu_is_refused_where_torch_sees_none(
    toy: Path, tmp_path: Path, torch_sees
) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "runs"
    run = pipeline.Run.create(
        out, pipeline.RunConfig(tagger="lexicon", dataset=str(toy), device="cuda")
    )
    torch_sees(cuda=0)
    code, output = cli("run", "--resume", run.run_id, "-o", str(out))
    assert code == 2, output
    assert (
        f"Error: run {run.run_id} was started with device 'cuda', a setting it keeps, and "
        "torch sees no CUDA GPU: resume it where torch sees that device"
    ) in output.replace("\n", " ")
    assert [p.name for p in out.iterdir()] == [run.dir.name]  # still unfinished
    torch_sees(cuda=1)
    code, output = cli("run", "--resume", run.run_id, "-o", str(out))
    assert code == 0, output


def test_a_run_on_the_cpu_does_not_import_torch(toy: Path, tmp_path: Path) -> None:
    """Only a GPU asked for is checked with torch: a plain run stays fast."""
    script = (
        "import sys\n"
        "from typer.testing import CliRunner\n"
        "from nerkit.cli.app import app\n"
        f"args = ['run', '-t', 'lexicon', '-d', {str(toy)!r}, '-o', {str(tmp_path / 'runs')!r}]\n"
        "for device in ([], ['--device', 'cpu'], ['--device', 'auto']):\n"
        "    result = CliRunner().invoke(app, args + device)\n"
        "    assert result.exit_code == 0, result.output\n"
        "print('torch' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"
