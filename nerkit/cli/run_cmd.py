"""``nerkit run``: train a tagger on a dataset, predict, decode, score and store the run."""

import os
import re
import shlex
import sys
import tempfile
import time
from pathlib import Path
from typing import Annotated, Any

import typer

_EXAMPLE = "nerkit run --tagger lexicon --dataset wnut17"
DEVICES = ("cpu", "cuda", "auto")
# also taken, as the torch-based taggers hand them to torch: GPU N and a Mac's GPU
_OTHER_DEVICES = re.compile(r"cuda:\d+|mps")


def run(
    tagger: Annotated[
        str | None,
        typer.Option(
            "--tagger",
            "-t",
            help="Tagger name (see `nerkit plugins`), e.g. lexicon.",
            show_default=False,
        ),
    ] = None,
    tagger_opt: Annotated[
        list[str] | None,
        typer.Option(
            "--tagger-opt",
            "-T",
            help="Tagger option KEY=VALUE (repeatable; see `nerkit info NAME`).",
            show_default=False,
        ),
    ] = None,
    corrector: Annotated[
        str | None,
        typer.Option("--corrector", "-c", help="Corrector name, e.g. openner.", show_default=False),
    ] = None,
    corrector_opt: Annotated[
        list[str] | None,
        typer.Option(
            "--corrector-opt",
            "-C",
            help="Corrector option KEY=VALUE (repeatable).",
            show_default=False,
        ),
    ] = None,
    dataset: Annotated[
        str | None,
        typer.Option(
            "--dataset",
            "-d",
            help="Dataset name (see `nerkit datasets`), a Hugging Face Hub data set "
            "(hf:OWNER/NAME[:CONFIG]) or a folder of split files (a save_to_disk folder "
            "too).",
            show_default=False,
        ),
    ] = None,
    dataset_opt: Annotated[
        list[str] | None,
        typer.Option(
            "--dataset-opt",
            "-D",
            help="How a folder's or a Hub data set's files are read, KEY=VALUE "
            "(repeatable): from_scheme, format, tag_col, inner_tag_col, token_col, tag_names "
            "(e.g. -D tag_names=O,B-PER,I-PER for integer tags without names).",
            show_default=False,
        ),
    ] = None,
    decoder: Annotated[
        str | None,
        typer.Option(
            "--decoder",
            help="Decoder: conlleval (default), discard, viterbi or none.",
            show_default=False,
        ),
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            help="TOML file with the same settings; flags given here win.",
            show_default=False,
        ),
    ] = None,
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder that holds the runs.")] = Path(
        "runs"
    ),
    seed: Annotated[
        int | None, typer.Option("--seed", help="Random seed (default 13).", show_default=False)
    ] = None,
    threads: Annotated[
        int | None,
        typer.Option("--threads", help="CPU threads for the model libraries.", show_default=False),
    ] = None,
    device: Annotated[
        str | None,
        typer.Option(
            "--device",
            help="cpu, cuda, cuda:N, mps or auto (default cpu); a GPU torch does not see "
            "is refused.",
            show_default=False,
        ),
    ] = None,
    data_dir: Annotated[
        Path | None,
        typer.Option(
            "--data-dir",
            help="Where named datasets live (default: $NERKIT_DATA_DIR or ~/.cache/nerkit/data).",
            show_default=False,
        ),
    ] = None,
    folds: Annotated[
        int | None,
        typer.Option(
            "--folds",
            help="With a corrector: folds of out-of-fold predictions on train (default 5).",
            show_default=False,
        ),
    ] = None,
    fold_mode: Annotated[
        str | None,
        typer.Option(
            "--fold-mode", help="random (default) or entity-disjoint folds.", show_default=False
        ),
    ] = None,
    no_cache: Annotated[
        bool,
        typer.Option(
            "--no-cache",
            help="Retrain the folds and the base tagger even where another run trained the same.",
        ),
    ] = False,
    max_train_sentences: Annotated[
        int | None,
        typer.Option(
            "--max-train-sentences",
            help="Train on the first N training sentences only (their fingerprint is stored).",
            show_default=False,
        ),
    ] = None,
    max_dev_sentences: Annotated[
        int | None,
        typer.Option(
            "--max-dev-sentences",
            help="Use the first N dev sentences only, for early stopping and the gate.",
            show_default=False,
        ),
    ] = None,
    max_test_sentences: Annotated[
        int | None,
        typer.Option(
            "--max-test-sentences",
            help="Score on the first N test sentences only (comparable only with runs on "
            "the same cut; the test fingerprint tells them apart).",
            show_default=False,
        ),
    ] = None,
    resume: Annotated[
        str | None,
        typer.Option(
            "--resume",
            help="Finish the unfinished run ID in --out instead of starting one.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Train a tagger, predict dev and test, decode, score, and store the run as Arrow tables.

    Example: `nerkit run --tagger lexicon --dataset wnut17`
    """
    from rich.console import Console
    from rich.markup import escape

    from nerkit.errors import ConfigError
    from nerkit.pipeline import Run, RunConfig

    console = Console(stderr=True)
    rank, processes = _launch()
    if processes > 1 and resume is not None:
        raise ConfigError("--resume cannot be used under a multi-process launcher")
    if resume is not None:
        _refuse_settings_on_resume(
            resume,
            {
                "--tagger": tagger,
                "--tagger-opt": tagger_opt,
                "--corrector": corrector,
                "--corrector-opt": corrector_opt,
                "--dataset": dataset,
                "--dataset-opt": dataset_opt,
                "--decoder": decoder,
                "--config": config,
                "--seed": seed,
                "--threads": threads,
                "--device": device,
                "--data-dir": data_dir,
                "--folds": folds,
                "--fold-mode": fold_mode,
                "--no-cache": no_cache,
                "--max-train-sentences": max_train_sentences,
                "--max-dev-sentences": max_dev_sentences,
                "--max-test-sentences": max_test_sentences,
            },
        )
        runner = Run.resume(out, resume)
        if problem := _device_unavailable(runner.config.device):
            raise ConfigError(
                f"run {runner.run_id} was started with device {runner.config.device!r}, a "
                f"setting it keeps, and {problem}: resume it where torch sees that device"
            )
    else:
        settings = _settings(
            config,
            tagger,
            tagger_opt,
            corrector,
            corrector_opt,
            dataset,
            dataset_opt,
            decoder,
            seed,
            threads,
            device,
            data_dir,
        )
        if folds is not None:
            settings["folds"] = folds
        if fold_mode is not None:
            settings["fold_mode"] = fold_mode
        _refuse_folds_without_corrector(
            settings, config, {"--folds": folds, "--fold-mode": fold_mode}
        )
        if max_train_sentences is not None:
            settings["max_train_sentences"] = max_train_sentences
        if max_dev_sentences is not None:
            settings["max_dev_sentences"] = max_dev_sentences
        if max_test_sentences is not None:
            settings["max_test_sentences"] = max_test_sentences
        # Under a launcher every process trains the same folds; a cache shared between
        # them could let them see different stored state, so it is not used.
        if no_cache or processes > 1:
            settings["cache"] = False
        # quoted as a shell reads it: the stored command runs the same run again
        run_config = RunConfig(**settings, command=shlex.join(["nerkit", *sys.argv[1:]]))
        if rank != 0:
            # Processes other than rank 0 train with it and store nothing that stays.
            with tempfile.TemporaryDirectory(prefix=f"nerkit-rank{rank}-") as scratch:
                Run.create(Path(scratch), run_config).execute()
            return
        runner = Run.create(out, run_config)
    # names and paths are the user's text, not markup: a folder "[bold]corpus" is shown
    console.print(
        f"[bold]run[/] {escape(runner.run_id)}  ({escape(runner.config.tagger)} on "
        f"{escape(runner.config.dataset)})"
    )
    with _Reporter(console) as reporter:
        final = runner.execute(reporter.as_step_reporter())
    _print_scores(final, console)
    console.print(f"stored in [bold]{escape(str(final))}[/]")


def _refuse_settings_on_resume(run_id: str, flags: dict[str, Any]) -> None:
    """A resumed run goes on with the settings stored when it started (its
    ``config.json``: the steps it finished were made with them), so a setting given
    with ``--resume`` would be ignored: refused rather than silently dropped. Each of
    them is a setting of the run: threads and device too (a sweep and the reuse of a
    trained base tagger tell runs apart by them), and a data folder or ``--no-cache``
    would apply to the rest of the run only. ``--out`` says where the run is."""
    from nerkit.errors import ConfigError

    # `is`: --seed 0 is given, though 0 == False
    given = [
        f for f, value in flags.items() if not (value is None or value is False or value == [])
    ]
    if given:
        raise ConfigError(
            f"--resume {run_id} finishes the run with the settings it was started with; "
            f"leave out {', '.join(given)} (or start a new run with them)"
        )


def _refuse_folds_without_corrector(
    settings: dict[str, Any], config: Path | None, flags: dict[str, Any]
) -> None:
    """Folds are those of a corrector's out-of-fold predictions: without a corrector a
    run makes none, and a fold setting would only be stored in its config, where it
    tells it apart from the same run without it (``nerkit compare``). Given by a flag
    or set in the ``config`` file, it is refused, as ``-C`` is; a wrong value is said
    first."""
    from nerkit.errors import ConfigError
    from nerkit.pipeline import setting_problem

    if settings.get("corrector"):
        return
    for key in ("folds", "fold_mode"):
        if key in settings and (problem := setting_problem(key, settings[key])):
            raise ConfigError(problem)
    given = [flag for flag, value in flags.items() if value is not None]
    if given:
        raise ConfigError(
            f"{'/'.join(given)} given without --corrector: folds are made only for a "
            "corrector's out-of-fold predictions (add --corrector NAME, or leave "
            f"{'them' if len(given) > 1 else 'it'} out)"
        )
    in_file = [key for key in ("folds", "fold_mode") if key in settings]
    if in_file:
        raise ConfigError(
            f"{config}: {' and '.join(in_file)} set without a corrector: folds are made "
            "only for a corrector's out-of-fold predictions (name a corrector, or leave "
            f"{'them' if len(in_file) > 1 else 'it'} out)"
        )


def _launch() -> tuple[int, int]:
    """``(rank, processes)`` given by a multi-process launcher (``torchrun``,
    ``accelerate launch``) through the environment; ``(0, 1)`` without one."""
    return int(os.environ.get("RANK", "0") or 0), int(os.environ.get("WORLD_SIZE", "1") or 1)


def _settings(
    config: Path | None,
    tagger: str | None,
    tagger_opt: list[str] | None,
    corrector: str | None,
    corrector_opt: list[str] | None,
    dataset: str | None,
    dataset_opt: list[str] | None,
    decoder: str | None,
    seed: int | None,
    threads: int | None,
    device: str | None,
    data_dir: Path | None,
) -> dict[str, Any]:
    from nerkit.errors import ConfigError
    from nerkit.options import parse_pairs

    base = _read_config(config) if config is not None else {}
    flags = {
        "tagger": tagger,
        "dataset": dataset,
        "decoder": decoder,
        "seed": seed,
        "threads": threads,
        "device": device,
        "data_dir": str(data_dir) if data_dir is not None else None,
        "corrector": corrector,
    }
    settings = base | {k: v for k, v in flags.items() if v is not None}
    settings["tagger_options"] = dict(settings.get("tagger_options", {})) | parse_pairs(
        tagger_opt, flag="-T"
    )
    corrector_options = dict(settings.pop("corrector_options", {})) | parse_pairs(
        corrector_opt, flag="-C"
    )
    if corrector_options and not settings.get("corrector"):
        raise ConfigError("-C/--corrector-opt given without --corrector")
    if corrector_options:
        settings["corrector_options"] = corrector_options
    flag_dataset_options = parse_pairs(dataset_opt, flag="-D")
    if flag_dataset_options:
        settings["dataset_options"] = dict(settings.get("dataset_options", {})) | (
            flag_dataset_options
        )
    for required in ("tagger", "dataset"):
        if not settings.get(required):
            raise ConfigError(f"--{required} is required (or set it in --config); e.g. {_EXAMPLE}")
    device = settings.get("device", "cpu")
    if problem := _device_problem(device):
        raise ConfigError(f"--{problem}")
    if problem := _device_unavailable(device):
        where = f"{config}: device" if flags["device"] is None else "--device"
        raise ConfigError(
            f"{where} {device!r}: {problem}; use cpu (or auto: CUDA where torch sees it, "
            "else the CPU)"
        )
    if config is not None:
        _check_file_components(config, base, settings, flags)
        _check_file_dataset(config, base, settings, flags, flag_dataset_options)
    return settings


def _device_problem(device: str) -> str | None:
    """What is wrong with the name ``device``, or ``None``."""
    if device in DEVICES or _OTHER_DEVICES.fullmatch(device):
        return None
    return (
        f"device must be cpu, cuda or auto, not {device!r} (or cuda:N, the GPU numbered N, "
        "or mps, a Mac's GPU)"
    )


def _device_unavailable(device: str) -> str | None:
    """Why torch cannot compute on ``device`` (``cuda``, ``cuda:N``, ``mps``) here, or
    ``None``: a run that asked for a GPU and ran on none would be stored as a GPU run
    (the lexicon tagger never looks at the device; a torch tagger fails only once its
    training starts). As ``nerkit_hf``'s ``resolve_device`` sees it. Torch is imported
    only for such a device: ``cpu`` and ``auto`` (a GPU where there is one, else the
    CPU) need nothing checked, and a plain run stays fast."""
    if device in ("cpu", "auto"):
        return None
    try:
        import torch
    except ImportError:
        return "torch, which computes on it, is not installed"
    if device == "mps":
        return None if torch.backends.mps.is_available() else "torch sees no MPS device"
    if not torch.cuda.is_available():
        return "torch sees no CUDA GPU"
    count = torch.cuda.device_count()
    _, _, index = device.partition(":")
    if index and int(index) >= count:
        seen = "cuda:0" if count == 1 else f"cuda:0 to cuda:{count - 1}"
        return f"torch sees {count} CUDA GPU{'s' if count > 1 else ''} ({seen})"
    return None


def _check_file_components(
    path: Path, base: dict[str, Any], settings: dict[str, Any], flags: dict[str, Any]
) -> None:
    """The components named and the options set in the config file ``path``, checked
    here so that a mistake in them names the file (a flag's mistake does not)."""
    from nerkit.errors import ConfigError, NerkitError
    from nerkit.options import build_options
    from nerkit.pipeline import ROLES, options_class
    from nerkit.plugin.host import get_host

    host = get_host()
    for role in ROLES:
        name = settings.get(role)
        if not name:
            continue
        try:
            full, cls = options_class(host, role, name)
        except NerkitError as exc:
            if flags.get(role) is not None:
                raise  # named by the flag
            raise ConfigError(f"{path}: {role}: {exc}") from None
        try:
            build_options(cls, base.get(f"{role}_options"), component=full)
        except ConfigError as exc:
            raise ConfigError(f"{path}: [{role}.options] {exc}") from None


def _check_file_dataset(
    path: Path,
    base: dict[str, Any],
    settings: dict[str, Any],
    flags: dict[str, Any],
    flag_options: dict[str, Any],
) -> None:
    """The dataset named and the dataset options set in the config file ``path``,
    checked here so that a mistake in them names the file and the key (a flag's does
    not); the run loads the dataset only later."""
    from nerkit.datasets import hub, open_dataset, registered_datasets
    from nerkit.datasets.load import refuse_options_for_named
    from nerkit.errors import ConfigError, NerkitError

    name = settings["dataset"]
    named_in_file = flags.get("dataset") is None
    where = Path(name).expanduser()
    if (
        named_in_file
        and not name.startswith(hub.PREFIX)
        and name not in registered_datasets()
        and not where.is_dir()
    ):
        # neither a name nor a folder: opening it fails at once, saying which it is not
        try:
            open_dataset(name, data_dir=settings.get("data_dir"), scheme=None)
        except NerkitError as exc:
            raise ConfigError(f"{path}: dataset: {exc}") from None
    options = settings.get("dataset_options") or {}
    try:
        refuse_options_for_named(name, options)
    except ConfigError as exc:
        in_file = set(base.get("dataset_options") or {}) - set(flag_options)
        if in_file & set(options):
            raise ConfigError(f"{path}: dataset_options: {exc}") from None
        if named_in_file:
            raise ConfigError(f"{path}: dataset: {exc}") from None
        raise


def _read_config(path: Path) -> dict[str, Any]:
    """Read a TOML run config::

    dataset = "wnut17"
    seed = 13
    dataset_options = { tag_names = ["O", "B-PER", "I-PER"] }   # folders, hf: sets
    [tagger]
    name = "lexicon"
    [tagger.options]
    max_length = 6
    """
    import tomllib

    from nerkit.errors import ConfigError

    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    from nerkit.pipeline import setting_problem, typed_setting

    out: dict[str, Any] = {}
    for role in ("tagger", "corrector", "decoder"):
        section = raw.pop(role, None)
        if section is None:
            continue
        if isinstance(section, str):
            out[role] = section
            continue
        if not isinstance(section, dict):
            raise ConfigError(
                f"{path}: {role}: expected a name or a [{role}] table, got {section!r}"
            )
        if "name" not in section:
            raise ConfigError(f'{path}: [{role}] needs a name, e.g. name = "lexicon"')
        name = section.pop("name")
        if not isinstance(name, str):
            raise ConfigError(f"{path}: [{role}] name: expected a string, got {name!r}")
        out[role] = name
        options = section.pop("options", {})
        if not isinstance(options, dict):
            raise ConfigError(
                f"{path}: [{role}] options: expected a table (a [{role}.options] section), "
                f"got {options!r}"
            )
        if section:
            raise ConfigError(
                f"{path}: unknown key {next(iter(section))!r} in [{role}] (valid: name, options)"
            )
        out[f"{role}_options"] = options
    allowed = {
        "dataset",
        "dataset_options",
        "seed",
        "threads",
        "device",
        "data_dir",
        "folds",
        "fold_mode",
        "cache",
        "max_train_sentences",
        "max_dev_sentences",
        "max_test_sentences",
    }
    for key, value in raw.items():
        if key not in allowed:
            valid = ", ".join(sorted(allowed | {"tagger", "corrector", "decoder"}))
            raise ConfigError(f"{path}: unknown setting {key!r} (valid: {valid})")
        try:
            value = typed_setting(key, value)
        except ConfigError as exc:  # "seed: expected an integer, got 'abc'"
            raise ConfigError(f"{path}: {exc}") from None
        if problem := setting_problem(key, value):
            raise ConfigError(f"{path}: {problem}")
        if key == "device" and (problem := _device_problem(value)):
            raise ConfigError(f"{path}: {problem}")
        if key == "dataset_options":
            from nerkit.datasets.load import dataset_options

            try:
                value = dataset_options(value)
            except ConfigError as exc:
                raise ConfigError(f"{path}: {exc}") from None
        out[key] = value
    return out


class _Reporter:
    """Step lines with timings, and a progress bar for long steps."""

    def __init__(self, console: Any) -> None:
        from rich.progress import (
            BarColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self.console = console
        self.progress = Progress(
            TextColumn("{task.description}", markup=False),  # a plugin's text
            BarColumn(),
            TextColumn("{task.completed}/{task.total}"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=console,
            transient=True,
        )
        self.tasks: dict[str, Any] = {}
        self.started = time.perf_counter()
        self.current: str | None = None

    def __enter__(self) -> "_Reporter":
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._close_step()
        self.progress.stop()

    def _close_step(self) -> None:
        from rich.markup import escape

        if self.current is not None:
            took = time.perf_counter() - self.started
            # a step names datasets and splits: text, not markup
            self.console.print(f"  {escape(self.current)} [dim]({took:.1f} s)[/]")

    def step(self, name: str) -> None:
        self._close_step()
        self.current = name
        self.started = time.perf_counter()

    def note(self, text: str) -> None:
        """A line of its own under the step it belongs to (data, not markup)."""
        self._close_step()
        self.current = None
        self.console.print(f"    note: {text}", markup=False, highlight=False, soft_wrap=True)

    def update(self, description: str, done: int, total: int) -> None:
        if description not in self.tasks:
            self.tasks[description] = self.progress.add_task(description, total=total)
        self.progress.update(self.tasks[description], completed=done, total=total)

    def as_step_reporter(self) -> Any:
        from nerkit.pipeline import StepReporter

        return StepReporter(step=self.step, progress=self.update, note=self.note)


def _print_scores(run_dir: Path, console: Any) -> None:
    """The test scores of the run in ``run_dir``; on a dataset without a test split,
    the dev scores, saying so (``console``: where the notes go)."""
    from nerkit import store
    from nerkit.cli.output import print_whole
    from nerkit.report import scores_table

    scored = set(store.read_table(run_dir, "metrics").column("split").to_pylist())
    split = next((s for s in ("test", "dev") if s in scored), None)
    if split is None:
        console.print("nothing scored: the dataset has neither a dev nor a test split")
        return
    table = scores_table(run_dir, split=split)
    if split != "test":
        table.title = f"{table.title}, as the dataset has no test split"
    print_whole(table)


def register(app: typer.Typer) -> None:
    app.command("run")(run)
