"""A failing plugin provides nothing: not the components of its other hooks, whichever
registry is filled first, nor its commands; a failing register_commands hook, and a
command with a built-in command's name, fail the plugin where `nerkit plugins` shows it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import typer
from fakes import MajorityCorrector
from plugin_utils import make_plugin, run_nerkit
from test_plugin_host import OutsideTagger, TwoVersions, host_with

from nerkit.errors import NerkitError
from nerkit.plugin import PluginHost, hookimpl

KINDS = ("tagger", "corrector")


class HalfBroken:
    """Registers a tagger and a corrector, or raises in the hook named by ``failing``."""

    def __init__(self, failing: str) -> None:
        self.failing = failing

    @hookimpl
    def register_taggers(self, register):  # type: ignore[no-untyped-def]
        if self.failing == "tagger":
            raise RuntimeError("no taggers today")
        register("half.tagger.v1", OutsideTagger)

    @hookimpl
    def register_correctors(self, register):  # type: ignore[no-untyped-def]
        if self.failing == "corrector":
            raise RuntimeError("no correctors today")
        register("half.corrector.v1", MajorityCorrector)


def provided(host: PluginHost) -> list[str]:
    return [name for kind in KINDS for name in host.registry(kind).names()]


@pytest.mark.parametrize("failing", KINDS)
@pytest.mark.parametrize("first", KINDS)
def test_a_plugin_failing_in_one_hook_provides_nothing_whatever_is_filled_first(
    failing: str, first: str
) -> None:
    """`-c half` worked when the plugin's register_taggers failed: each registry ran only
    its own hook, so the corrector's registry never learnt that the plugin had failed."""
    host = host_with(HalfBroken(failing), TwoVersions())
    host.registry(first)
    assert provided(host) == ["outside.tagger.v1", "outside.tagger.v2"]
    info = {i.name: i for i in host.plugins()}["p0"]
    assert (info.status, info.registered) == ("failed", {})
    assert info.error == f"RuntimeError: no {failing}s today"


def test_a_plugin_added_after_the_registries_are_filled_is_all_or_nothing_too() -> None:
    host = host_with(TwoVersions())
    host.registry("tagger")
    host.add(HalfBroken("tagger"), name="late")
    assert provided(host) == ["outside.tagger.v1", "outside.tagger.v2"]
    assert {i.name: i.status for i in host.plugins()}["late"] == "failed"


def test_a_later_hook_failing_takes_back_what_the_earlier_ones_registered() -> None:
    """Its corrector's name is taken: the tagger registered before that goes too."""

    class Taken:
        @hookimpl
        def register_correctors(self, register):  # type: ignore[no-untyped-def]
            register("half.corrector.v1", MajorityCorrector)

    class Late:
        @hookimpl
        def register_taggers(self, register):  # type: ignore[no-untyped-def]
            register("late.tagger.v1", OutsideTagger)

        @hookimpl
        def register_correctors(self, register):  # type: ignore[no-untyped-def]
            register("half.corrector.v1", MajorityCorrector)

    host = host_with(Taken(), Late())
    assert host.registry("tagger").names() == []
    info = {i.name: i for i in host.plugins()}["p1"]
    assert info.status == "failed" and "registered twice" in info.error


class CommandsRaise:
    @hookimpl
    def register_taggers(self, register):  # type: ignore[no-untyped-def]
        register("cmd.tagger.v1", OutsideTagger)

    @hookimpl
    def register_commands(self, app):  # type: ignore[no-untyped-def]
        @app.command("fine")
        def fine() -> None:
            """Added before the hook fails."""

        raise RuntimeError("no commands today")


@pytest.mark.parametrize(
    ("plugin", "kind", "message"),
    [
        (HalfBroken("tagger"), "corrector", "no taggers today"),
        (CommandsRaise(), "tagger", "no commands today"),
    ],
)
def test_strict_mode_fails_when_any_hook_fails_whichever_registry_is_needed(
    monkeypatch: pytest.MonkeyPatch, plugin: object, kind: str, message: str
) -> None:
    monkeypatch.setenv("NERKIT_STRICT_PLUGINS", "1")
    with pytest.raises(NerkitError, match=message):
        host_with(plugin).registry(kind)


def test_a_failing_register_commands_hook_fails_the_plugin() -> None:
    """`nerkit plugins` listed it as loaded, with no error, and its tagger worked: the
    hook ran only when nerkit's whole app was built, never for `nerkit plugins`."""
    host = host_with(CommandsRaise(), TwoVersions())
    info = {i.name: i for i in host.plugins()}["p0"]
    assert (info.status, info.error) == ("failed", "RuntimeError: no commands today")
    assert info.registered == {}
    assert "cmd.tagger.v1" not in host.registry("tagger")
    app = typer.Typer()
    host.call_register_commands(app)
    assert app.registered_commands == []  # "fine" was added, then taken back


def plugin_with_command(name: str, form: str) -> object:
    """A plugin adding its command ``mine`` and command ``name`` in the way ``form``."""

    class Commands:
        @hookimpl
        def register_taggers(self, register):  # type: ignore[no-untyped-def]
            register("mine.tagger.v1", OutsideTagger)

        @hookimpl
        def register_commands(self, app):  # type: ignore[no-untyped-def]
            @app.command()
            def mine() -> None:
                """The plugin's own command."""

            def command() -> None:
                """A command."""

            if form == "named":
                app.command(name)(command)
            elif form == "function":
                command.__name__ = name
                app.command()(command)
            else:  # a group of commands
                group = typer.Typer(help="A group.")
                group.command("inner")(command)
                app.add_typer(group, name=name)

    return Commands()


@pytest.mark.parametrize("form", ["named", "function", "group"])
@pytest.mark.parametrize("first", ["registries", "app"])
def test_a_command_with_a_built_in_command_s_name_fails_its_plugin(form: str, first: str) -> None:
    """`@app.command("run")` was dropped without a word (the built-in `run` was added
    after it and won) and `nerkit plugins` said loaded."""
    host = host_with(plugin_with_command("run", form))
    app = typer.Typer()
    if first == "registries":
        host.registry("tagger")
    host.call_register_commands(app)
    (info,) = host.plugins()
    assert info.status == "failed", info
    assert info.error == (
        "NerkitError: command 'run' is nerkit's own: p0 may not register that name, "
        "so it registers nothing"
    )
    assert (app.registered_commands, app.registered_groups) == ([], [])
    assert "mine.tagger.v1" not in host.registry("tagger")


def test_a_command_another_plugin_has_fails_the_later_plugin() -> None:
    host = host_with(plugin_with_command("mine2", "named"), plugin_with_command("other", "named"))
    app = typer.Typer()
    host.call_register_commands(app)
    infos = {i.name: i for i in host.plugins()}
    assert infos["p0"].registered == {"command": ["mine", "mine2"], "tagger": ["mine.tagger.v1"]}
    assert infos["p1"].status == "failed"
    assert "command 'mine' registered twice (by p0 and p1)" in infos["p1"].error
    assert [c.callback.__name__ for c in app.registered_commands] == ["mine", "command"]


def test_commands_of_a_plugin_failing_in_another_hook_are_taken_back() -> None:
    """nerkit's app gets the plugins' commands before any registry is filled: a
    plugin found failing then loses its commands, and running one is refused."""

    class Both(HalfBroken):
        @hookimpl
        def register_commands(self, app):  # type: ignore[no-untyped-def]
            @app.command()
            def half() -> None:
                """The plugin's command."""

    host = host_with(Both("tagger"))
    app = typer.Typer()
    host.call_register_commands(app)
    assert [c.name or c.callback.__name__ for c in app.registered_commands] == ["half"]
    with pytest.raises(NerkitError, match="command 'half' comes from plugin 'p0', which failed"):
        host.check_command("half")
    assert app.registered_commands == []
    host.check_command("run")  # not a plugin's: nothing to check


def test_register_commands_is_called_once_when_the_registries_come_first() -> None:
    calls: list[Any] = []

    class Counted:
        @hookimpl
        def register_commands(self, app):  # type: ignore[no-untyped-def]
            calls.append(app)

            @app.command()
            def counted() -> None:
                """Counted."""

    host = host_with(Counted())
    host.registry("tagger")  # calls the hook on a scratch app
    app = typer.Typer()
    host.call_register_commands(app)
    host.call_register_commands(app)
    assert len(calls) == 1 and calls[0] is not app
    assert [c.callback.__name__ for c in app.registered_commands] == ["counted"]


# ------------------------------------------------------ installed plugins, real processes

HALF = """
import typer

from nerkit.interfaces import Corrector
from nerkit.plugin import hookimpl


class KeepCorrector(Corrector):
    \"\"\"Keeps the tagger's predictions.\"\"\"

    def fit(self, train, train_predictions, dev=None, dev_predictions=None, *, scheme="IOB2",
            context=None):
        pass

    def correct(self, sentences, predictions):
        return list(predictions)

    def save(self, directory):
        pass

    @classmethod
    def load(cls, directory):
        return cls()


@hookimpl
def register_taggers(register):
    raise RuntimeError("half broken on purpose")


@hookimpl
def register_correctors(register):
    register("halfkeep.corrector.v1", KeepCorrector)


@hookimpl
def register_commands(app):
    @app.command("halfcmd")
    def halfcmd() -> None:
        \"\"\"The half-broken plugin's command.\"\"\"
        typer.echo("halfcmd ran")
"""


def strict_env(plugin: str) -> dict[str, str]:
    """Strict, with only these plugins: the error is about ``plugin`` whatever else is
    installed."""
    return {"NERKIT_STRICT_PLUGINS": "1", "NERKIT_LOAD_PLUGINS": f"nerkit,lexicon,{plugin}"}


def test_an_installed_plugin_failing_in_one_hook_provides_nothing(
    tmp_path: Path, toy: Path
) -> None:
    path = make_plugin(tmp_path / "site", "nerkit_half_demo", HALF)
    listed = run_nerkit(["plugins", "--json"], path=path)
    assert listed.returncode == 0, listed.stderr
    info = {i["name"]: i for i in json.loads(listed.stdout)}["nerkit_half_demo"]
    assert (info["status"], info["registered"]) == ("failed", {})
    assert info["error"] == "RuntimeError: half broken on purpose"

    runs = tmp_path / "runs"
    args = ["run", "-t", "lexicon", "-c", "halfkeep", "-d", str(toy), "--folds", "2", "-o"]
    done = run_nerkit([*args, str(runs)], path=path)
    assert done.returncode == 2, done.stderr
    assert "unknown corrector 'halfkeep'" in done.stderr
    assert not runs.exists()

    strict = run_nerkit(
        ["info", "halfkeep", "--kind", "corrector"], path=path, env=strict_env("nerkit_half_demo")
    )
    assert strict.returncode == 2, strict.stdout
    assert strict.stderr.startswith("Error: plugin 'nerkit_half_demo'"), strict.stderr

    command = run_nerkit(["halfcmd"], path=path)
    assert command.returncode == 2 and "halfcmd ran" not in command.stdout
    assert "command 'halfcmd' comes from plugin 'nerkit_half_demo', which failed" in (
        command.stderr
    )


COMMANDS_RAISE = """
from nerkit.plugin import hookimpl


@hookimpl
def register_commands(app):
    raise RuntimeError("commands broken on purpose")
"""


def test_an_installed_plugin_failing_in_register_commands_is_listed_as_failed(
    tmp_path: Path,
) -> None:
    path = make_plugin(tmp_path / "site", "nerkit_nocmd_demo", COMMANDS_RAISE)
    listed = run_nerkit(["plugins", "--json"], path=path)
    assert listed.returncode == 0, listed.stderr
    info = {i["name"]: i for i in json.loads(listed.stdout)}["nerkit_nocmd_demo"]
    assert (info["status"], info["error"]) == ("failed", "RuntimeError: commands broken on purpose")
    strict = run_nerkit(["plugins"], path=path, env=strict_env("nerkit_nocmd_demo"))
    assert strict.returncode == 2, strict.stdout
    assert strict.stderr.startswith("Error: plugin 'nerkit_nocmd_demo'"), strict.stderr


TAKES_RUN = """
import typer

from nerkit.plugin import hookimpl


@hookimpl
def register_commands(app):
    @app.command("run")
    def run() -> None:
        \"\"\"Not nerkit's run.\"\"\"
        typer.echo("the plugin's run")

    @app.command("takesrun")
    def takesrun() -> None:
        \"\"\"The plugin's own command.\"\"\"
        typer.echo("takesrun ran")
"""


def test_an_installed_plugin_s_command_named_run_fails_the_plugin(tmp_path: Path) -> None:
    path = make_plugin(tmp_path / "site", "nerkit_takesrun_demo", TAKES_RUN)
    listed = run_nerkit(["plugins", "--json"], path=path)
    assert listed.returncode == 0, listed.stderr
    info = {i["name"]: i for i in json.loads(listed.stdout)}["nerkit_takesrun_demo"]
    assert info["status"] == "failed"
    assert info["error"].startswith("NerkitError: command 'run' is nerkit's own")
    builtin = run_nerkit(["run", "--help"], path=path, env={"COLUMNS": "200"})
    assert builtin.returncode == 0 and "--tagger" in builtin.stdout
    own = run_nerkit(["takesrun"], path=path)
    assert own.returncode == 2 and "No such command 'takesrun'" in own.stderr
