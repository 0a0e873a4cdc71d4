"""The Typer application: global options, error handling, and command discovery.

Every module of this package whose name ends in ``_cmd`` adds its command(s) through
a ``register(app)`` function, so adding a command means adding one module. Command
modules import only typer at import time and load everything else inside the command,
which keeps ``nerkit --help`` fast.
"""

import errno
import importlib
import pkgutil
from typing import Annotated, Any, NoReturn

import typer
from typer.core import TyperGroup

from nerkit import __version__
from nerkit.errors import NerkitError

# Typer's own usage errors exit with 2; nerkit's errors use the same code so that a
# script can tell "you asked for something wrong" (2) from a crash (1).
ERROR_EXIT_CODE = 2


def fail(message: str) -> NoReturn:
    """Print one ``Error: ...`` message (no traceback) and exit with code 2."""
    typer.echo(f"Error: {message}", err=True)
    raise typer.Exit(ERROR_EXIT_CODE)


class NerkitGroup(TyperGroup):
    """Turns the errors a user can cause into one clear message and exit code 2."""

    def invoke(self, ctx: typer.Context) -> Any:  # type: ignore[override]
        try:
            return super().invoke(ctx)
        except NerkitError as exc:
            fail(str(exc))
        except OSError as exc:
            # A broken pipe (``nerkit datasets | head``) is left to Typer, which exits quietly.
            if exc.errno == errno.EPIPE:
                raise
            where = f"{exc.filename}: " if exc.filename else ""
            fail(f"{where}{exc.strerror or exc}")

    def resolve_command(  # type: ignore[override]
        self, ctx: typer.Context, args: list[str]
    ) -> tuple[str | None, Any, list[str]]:
        name, command, rest = super().resolve_command(ctx, args)
        if name is not None and name not in builtin_command_names():
            from nerkit.plugin import get_host

            # A plugin's command was added before its other hooks ran: a plugin that
            # fails in one of them provides no command either.
            get_host().check_command(name)
        return name, command, rest


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"nerkit {__version__}")
        raise typer.Exit()


def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            help="Show nerkit's version and exit.",
            callback=_show_version,
            is_eager=True,
        ),
    ] = False,
) -> None:
    """Train, evaluate, correct and compare named-entity recognisers."""


def _command_modules() -> list[str]:
    import nerkit.cli

    return sorted(
        m.name for m in pkgutil.iter_modules(nerkit.cli.__path__) if m.name.endswith("_cmd")
    )


def builtin_command_names() -> set[str]:
    """Command ``NAME`` lives in module ``NAME_cmd``."""
    return {name.removesuffix("_cmd") for name in _command_modules()}


def build_app(command: str | None = None, *, plugins: bool = True) -> typer.Typer:
    """The Typer app with every command, or only built-in ``command``: Typer builds
    each command's parameters up front, and `nerkit eval` on a big file is timed end
    to end. Plugins add theirs through the register_commands hook; a failing plugin,
    or one whose command takes a built-in command's name, is reported by `nerkit
    plugins` and leaves the other commands working."""
    new = typer.Typer(
        cls=NerkitGroup,
        name="nerkit",
        help="Train, evaluate, correct and compare named-entity recognisers.",
        no_args_is_help=True,
        add_completion=False,
        # Markdown joins the lines of a docstring paragraph, as a reader expects.
        rich_markup_mode="markdown",
        pretty_exceptions_show_locals=False,
        context_settings={"help_option_names": ["-h", "--help"]},
    )
    new.callback()(_root)
    modules = _command_modules()
    if command is not None and f"{command}_cmd" in modules:
        modules = [f"{command}_cmd"]
    elif plugins:
        from nerkit.plugin import get_host

        get_host().call_register_commands(new)
    for name in modules:
        importlib.import_module(f"nerkit.cli.{name}").register(new)
    return new


def __getattr__(name: str) -> Any:
    # ``app``: every built-in command (what tests and `typer.testing` drive)
    if name == "app":
        globals()["app"] = built = build_app(plugins=False)
        return built
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
