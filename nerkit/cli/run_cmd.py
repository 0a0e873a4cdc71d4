"""``nerkit run``: train a tagger on a dataset, predict, decode, score and store the run."""

import os
import shlex
import sys
import tempfile
import time
from pathlib import Path
from typing import Annotated, Any

import typer

_EXAMPLE = "nerkit run --tagger lexicon --dataset wnut17"
DEVICES = ("cpu", "cuda", "auto")


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
        typer.Option("--device", help="cpu, cuda or auto (default cpu).", show_default=False),
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

    from nerkit.options import parse_pairs
    from nerkit.pipeline import Run, RunConfig

    console = Console(stderr=True)
    rank, processes = _launch()
    if processes > 1 and resume is not None:
        from nerkit.errors import ConfigError

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
    else:
        settings = _settings(
            config,
            tagger,
            tagger_opt,
            corrector,
            corrector_opt,
            dataset,
            decoder,
            seed,
            threads,
            device,
            data_dir,
        )
        if dataset_opt:
            settings["dataset_options"] = dict(settings.get("dataset_options", {})) | parse_pairs(
                dataset_opt, flag="-D"
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
    console.print(
        f"[bold]run[/] {runner.run_id}  ({runner.config.tagger} on {runner.config.dataset})"
    )
    with _Reporter(console) as reporter:
        final = runner.execute(reporter.as_step_reporter())
    _print_scores(final)
    console.print(f"stored in [bold]{final}[/]")


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
    for required in ("tagger", "dataset"):
        if not settings.get(required):
            raise ConfigError(f"--{required} is required (or set it in --config); e.g. {_EXAMPLE}")
    if settings.get("device", "cpu") not in DEVICES:
        raise ConfigError(f"--device must be cpu, cuda or auto, not {settings['device']!r}")
    if config is not None:
        _check_file_components(config, base, settings, flags)
    return settings


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
        if key == "device" and value not in DEVICES:
            raise ConfigError(f"{path}: device must be cpu, cuda or auto, not {value!r}")
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
            TextColumn("{task.description}"),
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
        if self.current is not None:
            took = time.perf_counter() - self.started
            self.console.print(f"  {self.current} [dim]({took:.1f} s)[/]")

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


def _print_scores(run_dir: Path) -> None:
    from nerkit.cli.output import print_whole
    from nerkit.report import scores_table

    print_whole(scores_table(run_dir, split="test"))


def register(app: typer.Typer) -> None:
    app.command("run")(run)
