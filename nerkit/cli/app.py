"""The Typer application: global options, error handling, and command discovery.

Every module of this package whose name ends in ``_cmd`` adds its command(s) through
a ``register(app)`` function, so adding a command means adding one module. Command
modules import only typer at import time and load everything else inside the command,
which keeps ``nerkit --help`` fast.
"""

from __future__ import annotations

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


app = typer.Typer(
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


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"nerkit {__version__}")
        raise typer.Exit()


@app.callback()
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


def _register_commands() -> None:
    import nerkit.cli

    for module in sorted(pkgutil.iter_modules(nerkit.cli.__path__), key=lambda m: m.name):
        if module.name.endswith("_cmd"):
            importlib.import_module(f"nerkit.cli.{module.name}").register(app)


def builtin_command_names() -> set[str]:
    return {c.name or c.callback.__name__ for c in app.registered_commands if c.callback}


def add_plugin_commands() -> None:
    """Let plugins add commands (the register_commands hook); a failing plugin is
    reported by `nerkit plugins` and leaves the other commands working."""
    from nerkit.plugin import get_host

    get_host().call_register_commands(app)


_register_commands()
