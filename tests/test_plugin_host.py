"""The plugin host: registries, versions, broken plugins, environment switches."""

from __future__ import annotations

import inspect
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest
from plugin_utils import make_plugin, run_nerkit, set_entry_point

from nerkit.errors import ConfigError, NerkitError
from nerkit.interfaces import RunContext, Tagger
from nerkit.plugin import PluginHost, PluginInfo, hookimpl
from nerkit.plugin.spec import REGISTER_HOOKS, NerkitSpec
from nerkit.types import Prediction, Sentence


class OutsideTagger(Tagger):
    """Tags every token O (the majority baseline)."""

    def fit(
        self,
        train: Sequence[Sentence],
        dev: Sequence[Sentence] | None = None,
        *,
        scheme: str = "IOB2",
        context: RunContext | None = None,
    ) -> None:
        self.scheme = scheme

    def predict(self, sentences: Sequence[Sentence]) -> list[Prediction]:
        return [Prediction(tags=("O",) * len(s)) for s in sentences]

    def save(self, directory: Path) -> None:
        (directory / "scheme").write_text(self.scheme)

    @classmethod
    def load(cls, directory: Path) -> OutsideTagger:
        tagger = cls()
        tagger.scheme = (directory / "scheme").read_text()
        return tagger


class OutsideTaggerV2(OutsideTagger):
    pass


class TwoVersions:
    @hookimpl
    def register_taggers(self, register):  # type: ignore[no-untyped-def]
        register("outside.tagger.v1", OutsideTagger)
        register("outside.tagger.v2", OutsideTaggerV2)


def host_with(*plugins: object) -> PluginHost:
    host = PluginHost(use_entry_points=False)
    for i, plugin in enumerate(plugins):
        host.add(plugin, name=f"p{i}")
    return host


def test_a_short_name_means_the_newest_version() -> None:
    registry = host_with(TwoVersions()).registry("tagger")
    assert registry.resolve("outside") == "outside.tagger.v2"
    assert registry.get("outside") is OutsideTaggerV2
    assert registry.get("outside.tagger.v1") is OutsideTagger


def test_unknown_name_lists_the_known_ones() -> None:
    registry = host_with(TwoVersions()).registry("tagger")
    with pytest.raises(
        ConfigError,
        match=r"unknown tagger 'flair'; available: outside.tagger.v1, outside.tagger.v2",
    ):
        registry.resolve("flair")


def test_duplicate_name_is_an_error_and_the_plugin_registers_nothing() -> None:
    class Again:
        @hookimpl
        def register_taggers(self, register):  # type: ignore[no-untyped-def]
            register("other.tagger.v1", OutsideTagger)
            register("outside.tagger.v1", OutsideTagger)

    host = host_with(TwoVersions(), Again())
    registry = host.registry("tagger")
    assert registry.names() == ["outside.tagger.v1", "outside.tagger.v2"]  # all or nothing
    info = {i.name: i for i in host.plugins()}["p1"]
    assert info.status == "failed" and "registered twice" in info.error


def test_a_name_registered_twice_by_one_plugin_leaves_none_of_its_own() -> None:
    class Twice:
        @hookimpl
        def register_taggers(self, register):  # type: ignore[no-untyped-def]
            register("twice.tagger.v1", OutsideTagger)
            register("twice.tagger.v1", OutsideTagger)

    host = host_with(Twice())
    assert "twice.tagger.v1" not in host.registry("tagger")
    (info,) = host.plugins()
    assert "registered twice by p0: it registers nothing" in info.error
    assert "stays" not in info.error


def test_registry_checks_the_type_and_the_name() -> None:
    class WrongType:
        @hookimpl
        def register_taggers(self, register):  # type: ignore[no-untyped-def]
            register("dict.tagger.v1", dict)

    class NoVersion:
        @hookimpl
        def register_taggers(self, register):  # type: ignore[no-untyped-def]
            register("plain", OutsideTagger)

    host = host_with(WrongType(), NoVersion())
    assert host.registry("tagger").names() == []
    errors = {i.name: i.error for i in host.plugins()}
    assert "must be a Tagger" in errors["p0"]
    assert "NAME.KIND.vN" in errors["p1"]


def test_a_short_name_means_its_newest_version_of_the_registry_s_kind_only() -> None:
    """``-t outside`` is ``outside.tagger.vN``: another plugin's ``outside.other.v7``
    (or ``outside.v9``) cannot take it over, whatever its version; full names, and
    dotted prefixes, still reach those."""

    class Others:
        @hookimpl
        def register_taggers(self, register):  # type: ignore[no-untyped-def]
            register("outside.other.v7", OutsideTaggerV2)
            register("outside.v9", OutsideTaggerV2)

        @hookimpl
        def register_metrics(self, register):  # type: ignore[no-untyped-def]
            register("entity.metric.v1", "nerkit.metrics.components:EntityMetric")
            register("entity.other.v5", "nerkit.metrics.components:SeqevalMetric")

        @hookimpl
        def register_datasets(self, register):  # type: ignore[no-untyped-def]
            from nerkit.datasets import DataFile, DatasetSpec

            files = {"train": DataFile("toyset/train.conll")}
            register("toyset.extra", DatasetSpec("toyset.extra", "", "en", "CC0-1.0", "", files))

    class One:
        @hookimpl
        def register_taggers(self, register):  # type: ignore[no-untyped-def]
            register("outside.tagger.v1", OutsideTagger)

    host = host_with(Others(), One())
    taggers = host.registry("tagger")
    assert taggers.resolve("outside") == "outside.tagger.v1"
    assert taggers.resolve("outside.tagger") == "outside.tagger.v1"
    assert taggers.get("outside") is OutsideTagger
    assert taggers.resolve("outside.other") == "outside.other.v7"
    assert taggers.get("outside.v9") is OutsideTaggerV2
    assert host.registry("metric").resolve("entity") == "entity.metric.v1"
    datasets = host.registry("dataset")
    assert datasets.resolve("toyset.extra") == "toyset.extra"
    assert "toyset" not in datasets  # datasets have no versions: full names only


def test_an_instance_is_refused_as_a_factory_at_registration() -> None:
    """A run calls a tagger's factory with its options: an instance would fail only
    then (``'OutsideTagger' object is not callable``)."""

    class Instance:
        @hookimpl
        def register_taggers(self, register):  # type: ignore[no-untyped-def]
            register("instance.tagger.v1", OutsideTagger())

    host = host_with(Instance(), TwoVersions())
    assert host.registry("tagger").names() == ["outside.tagger.v1", "outside.tagger.v2"]
    error = {i.name: i.error for i in host.plugins()}["p0"]
    assert "'instance.tagger.v1' must be a Tagger subclass, got an instance" in error


def test_a_built_in_component_s_name_stays_built_in_whatever_the_order() -> None:
    """Added first, and with its hook marked ``trylast`` (first in pluggy's list), a
    plugin still registers after the built-in plugins: registering a built-in name
    fails it, and the built-in component stays."""

    class Impostor:
        @hookimpl(trylast=True)
        def register_taggers(self, register):  # type: ignore[no-untyped-def]
            register("impostor.tagger.v1", OutsideTaggerV2)
            register("outside.tagger.v1", OutsideTaggerV2)

    host = PluginHost(use_entry_points=False)
    host.add(Impostor(), name="aaa")
    builtin = PluginInfo(name="outside", module="nerkit_outside", builtin=True)
    host.add(TwoVersions(), name="outside", info=builtin)
    registry = host.registry("tagger")
    assert registry.names() == ["outside.tagger.v1", "outside.tagger.v2"]
    assert registry.get("outside.tagger.v1") is OutsideTagger
    info = {i.name: i for i in host.plugins()}["aaa"]
    assert info.status == "failed" and info.registered == {}
    assert "'outside.tagger.v1' is nerkit's own (built-in plugin outside)" in info.error


def test_lazy_factory_strings_are_imported_on_use_and_checked() -> None:
    class Lazy:
        @hookimpl
        def register_decoders(self, register):  # type: ignore[no-untyped-def]
            register("good.decoder.v1", "nerkit.decoders:ConllevalDecoder")
            register("bad.decoder.v1", "nerkit.decoders:repair_conlleval")
            register("gone.decoder.v1", "no_such_module_xyz:Thing")

    registry = host_with(Lazy()).registry("decoder")
    assert registry.get("good").__name__ == "ConllevalDecoder"
    with pytest.raises(NerkitError, match="must be a Decoder"):
        registry.get("bad")
    with pytest.raises(NerkitError, match="no_such_module_xyz"):
        registry.get("gone")


@dataclass(frozen=True)
class ApartOptions:
    size: int = 3


class ApartTagger(OutsideTagger):
    options_class = ApartOptions


def test_options_registered_apart_are_read_without_importing_the_component() -> None:
    """``register(..., options=...)``: nerkit reads a component's options (compare, sweep,
    the checks before a run) without importing its module, which may be heavy."""

    class Apart:
        @hookimpl
        def register_taggers(self, register):  # type: ignore[no-untyped-def]
            register("far.tagger.v1", "no_such_module_xyz:Tagger", options=ApartOptions)
            register(
                "near.tagger.v1", f"{__name__}:ApartTagger", options=f"{__name__}:ApartOptions"
            )
            register("plain.tagger.v1", ApartTagger)

    registry = host_with(Apart()).registry("tagger")
    assert registry.options_class("far") is ApartOptions
    with pytest.raises(NerkitError, match="no_such_module_xyz"):
        registry.get("far")  # the component itself was never imported
    assert registry.options_class("near") is ApartOptions
    assert registry.get("near") is ApartTagger
    assert registry.options_class("plain") is ApartOptions  # from the class itself


@pytest.mark.parametrize(
    ("options", "problem"),
    [
        (42, "must be a dataclass or a 'module:Class' path"),
        ("nerkit.options", "is not a 'module:Class' path"),
        (OutsideTagger, "must be a dataclass"),
    ],
)
def test_options_registered_apart_must_be_an_options_class(options: object, problem: str) -> None:
    class Bad:
        @hookimpl
        def register_taggers(self, register):  # type: ignore[no-untyped-def]
            register("bad.tagger.v1", ApartTagger, options=options)

    host = host_with(Bad())
    assert "bad.tagger.v1" not in host.registry("tagger")
    (info,) = [i for i in host.plugins() if i.name == "p0"]
    assert problem in (info.error or "")


def test_options_registered_apart_must_be_the_component_s_own() -> None:
    """Options that are not the class the component builds itself from would let
    compare and sweep read other defaults than a run uses: refused, at registration for
    a class and when the component is imported for a path."""

    class Other:
        @hookimpl
        def register_taggers(self, register):  # type: ignore[no-untyped-def]
            register("now.tagger.v1", OutsideTagger, options=ApartOptions)

    host = host_with(Other())
    assert "now.tagger.v1" not in host.registry("tagger")  # the plugin registers nothing
    (info,) = [i for i in host.plugins() if i.name == "p0"]
    assert "builds from nerkit.options.NoOptions" in (info.error or "")

    class Later:
        @hookimpl
        def register_taggers(self, register):  # type: ignore[no-untyped-def]
            register("later.tagger.v1", f"{__name__}:OutsideTagger", options=ApartOptions)

    registry = host_with(Later()).registry("tagger")
    assert registry.options_class("later") is ApartOptions
    with pytest.raises(NerkitError, match="register the component's own options_class"):
        registry.get("later")


def test_a_sweep_checks_options_registered_apart_before_it_skips_runs(
    tmp_path: Path, toy: Path
) -> None:
    """A sweep plans and skips stored runs by their options, read without importing
    the component: options that are not the component's own would skip a run it should
    make. Before it plans, a sweep imports the components to check (a dry run does
    not); the built-in ones pass."""
    from nerkit.sweep.driver import run_sweep
    from nerkit.sweep.plan import plan_sweep
    from nerkit.sweep.spec import load_spec

    class Drifted:
        @hookimpl
        def register_taggers(self, register):  # type: ignore[no-untyped-def]
            register("drift.tagger.v1", f"{__name__}:OutsideTagger", options=ApartOptions)

    host = PluginHost()  # the installed plugins (decoders, ...) and this one
    host.add(Drifted(), name="drifted")
    path = tmp_path / "spec.toml"
    path.write_text(
        f'name = "t"\ndatasets = ["{toy.as_posix()}"]\nseeds = [1]\n'
        '[[tagger]]\nname = "drift"\n[[corrector]]\nname = "none"\n'
    )
    spec, out = load_spec(path), tmp_path / "runs"
    assert [r.status for r in plan_sweep(spec, out, host=host, download=False).runs] == ["new"]
    with pytest.raises(NerkitError, match="register the component's own options_class"):
        run_sweep(spec, out, host=host)
    assert not out.exists() or not any(out.iterdir())  # nothing run, nothing written


def test_built_in_options_registered_apart_are_the_components_own() -> None:
    from nerkit.plugin.host import get_host

    registry = get_host().registry("tagger")
    apart = [entry.name for entry in registry.entries() if entry.options is not None]
    assert {"bert.tagger.v1", "lear.tagger.v1"} <= set(apart)
    for name in apart:
        registry.check_options(name)
        assert registry.options_class(name) is registry.get(name).options_class


def test_reading_a_built_in_component_s_options_imports_no_heavy_library() -> None:
    """nerkit compare types and labels runs by their components' options: for runs of
    bert or lear that imported torch (compare of one run took seconds, not a fraction)."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from nerkit.plugin.host import get_host\n"
        "from nerkit.pipeline import options_class\n"
        "from nerkit.compare import ran_options\n"
        "host = get_host()\n"
        "for role in ('tagger', 'corrector'):\n"
        "    for name in host.registry(role).names():\n"
        "        options_class(host, role, name)\n"
        "        print('READ', name, file=sys.stderr)\n"
        "ran_options({'tagger': 'bert', 'tagger_options': {'epochs': '3'},\n"
        "             'corrector': 'openner'}, {})\n"
        "heavy = sorted(m for m in ('torch', 'transformers', 'flair') if m in sys.modules)\n"
        "print('HEAVY', heavy, file=sys.stderr)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    for name in ("bert.tagger.v1", "lear.tagger.v1", "flair.tagger.v1", "openner.corrector.v1"):
        assert f"READ {name}" in done.stderr, done.stderr
    assert "HEAVY []" in done.stderr, done.stderr


def test_info_on_components_with_options_apart_imports_no_heavy_library() -> None:
    """nerkit info bert took seconds to import torch for a docstring and a table."""
    import subprocess
    import sys

    from nerkit.plugin.host import get_host

    code = (
        "import sys\n"
        "from nerkit.cli import main\n"
        "for name in ('bert', 'lear'):\n"
        "    try:\n        main(['info', name])\n    except SystemExit:\n        pass\n"
        "heavy = sorted(m for m in ('torch', 'transformers', 'flair') if m in sys.modules)\n"
        "print('HEAVY', heavy, file=sys.stderr)\n"
    )
    env = {**os.environ, "COLUMNS": "400"}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, env=env
    )
    assert "HEAVY []" in done.stderr, done.stderr
    registry = get_host().registry("tagger")
    for name in ("bert", "lear"):
        # what the loaded class says, word for word
        doc = inspect.getdoc(registry.get(name))
        assert doc and doc.splitlines()[0] in done.stdout
        assert registry.description(name) == doc
    assert "max_length" in done.stdout


class Documented(OutsideTagger):
    """A tagger documented in its source.

    Second paragraph."""

    options_class = ApartOptions

    class Inner(OutsideTagger):
        """An inner class's words."""

        options_class = ApartOptions


class Undocumented(OutsideTagger):
    options_class = ApartOptions


Undocumented.__doc__ = "Words made at run time."


def test_a_description_is_read_from_the_source_where_options_are_apart() -> None:
    class Apart:
        @hookimpl
        def register_taggers(self, register):  # type: ignore[no-untyped-def]
            register("doc.tagger.v1", f"{__name__}:Documented", options=ApartOptions)
            register("inner.tagger.v1", f"{__name__}:Documented.Inner", options=ApartOptions)
            register("late.tagger.v1", f"{__name__}:Undocumented", options=ApartOptions)
            register("plain.tagger.v1", Documented)

    registry = host_with(Apart()).registry("tagger")
    assert registry.description("doc") == "A tagger documented in its source.\n\nSecond paragraph."
    assert registry.description("inner") == "An inner class's words."
    # none in the source: the class is loaded and asked
    assert registry.description("late") == "Words made at run time."
    assert registry.description("plain") == inspect.getdoc(Documented)


def test_misspelled_hook_is_caught() -> None:
    class Typo:
        @hookimpl
        def register_tagger(self, register):  # type: ignore[no-untyped-def]
            register("x.tagger.v1", OutsideTagger)

    host = host_with(Typo())
    info = host.plugins()[0]
    assert info.status == "failed" and "register_tagger" in info.error


def test_a_plugin_raising_in_its_hook_is_reported_not_fatal() -> None:
    class Raises:
        @hookimpl
        def register_taggers(self, register):  # type: ignore[no-untyped-def]
            raise RuntimeError("boom")

    host = host_with(Raises(), TwoVersions())
    assert "outside.tagger.v2" in host.registry("tagger").names()
    assert {i.name: i.error for i in host.plugins()}["p0"] == "RuntimeError: boom"


def test_a_plugin_exiting_in_its_hooks_is_reported_not_fatal() -> None:
    """``sys.exit`` in a plugin's hook (SystemExit is no Exception) fails that plugin
    alone; Ctrl-C still stops everything."""

    class Exits:
        @hookimpl
        def register_taggers(self, register):  # type: ignore[no-untyped-def]
            raise SystemExit("plugin wants out")

        @hookimpl
        def register_commands(self, app):  # type: ignore[no-untyped-def]
            raise SystemExit(3)

    class Interrupted:
        @hookimpl
        def register_taggers(self, register):  # type: ignore[no-untyped-def]
            raise KeyboardInterrupt

    host = host_with(Exits(), TwoVersions())
    assert "outside.tagger.v2" in host.registry("tagger").names()
    host.call_register_commands(app=None)
    assert {i.name: i.error for i in host.plugins()}["p0"] == "SystemExit: 3"
    with pytest.raises(KeyboardInterrupt):
        host_with(Interrupted()).registry("tagger")


def test_strict_mode_turns_failures_into_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    class Raises:
        @hookimpl
        def register_taggers(self, register):  # type: ignore[no-untyped-def]
            raise RuntimeError("boom")

    monkeypatch.setenv("NERKIT_STRICT_PLUGINS", "1")
    with pytest.raises(NerkitError, match="boom"):
        host_with(Raises()).registry("tagger")


def test_every_hook_is_documented_and_has_a_registry_or_the_app() -> None:
    hooks = [n for n in vars(NerkitSpec) if n.startswith("register_")]
    assert sorted(hooks) == sorted([*REGISTER_HOOKS, "register_commands"])
    for name in hooks:
        assert (getattr(NerkitSpec, name).__doc__ or "").strip(), name


def test_builtins_are_registered_through_entry_points() -> None:
    from importlib.metadata import entry_points

    names = {ep.name: ep.value for ep in entry_points(group="nerkit")}
    assert names.get("nerkit") == "nerkit.builtins"
    assert names.get("lexicon") == "nerkit_lexicon"
    host = PluginHost()
    assert host.registry("tagger").resolve("lexicon") == "lexicon.tagger.v1"
    assert host.registry("decoder").names() == [
        "conlleval.decoder.v1",
        "discard.decoder.v1",
        "none.decoder.v1",
        "viterbi.decoder.v1",
    ]
    assert {"wnut17", "conll2002-es", "conll2002-nl", "weibo", "hironsan"} <= set(
        host.registry("dataset").names()
    )
    assert {"entity.metric.v1", "seqeval.metric.v1"} <= set(host.registry("metric").names())


# ------------------------------------------------------ installed plugins, real processes

BROKEN = """
raise ImportError("this plugin is broken on purpose")
"""


def test_broken_installed_plugin_is_listed_as_failed(tmp_path: Path) -> None:
    path = make_plugin(tmp_path / "site", "nerkit_broken_demo", BROKEN)
    done = run_nerkit(["plugins", "--json"], path=path)
    assert done.returncode == 0, done.stderr
    infos = {i["name"]: i for i in json.loads(done.stdout)}
    assert infos["nerkit_broken_demo"]["status"] == "failed"
    assert "broken on purpose" in infos["nerkit_broken_demo"]["error"]
    assert infos["lexicon"]["status"] == "loaded"
    assert "lexicon.tagger.v1" in infos["lexicon"]["registered"]["tagger"]

    table = run_nerkit(["plugins"], path=path, env={"COLUMNS": "200"})
    assert table.returncode == 0
    assert "nerkit_broken_demo" in table.stdout and "failed" in table.stdout

    strict = run_nerkit(["plugins"], path=path, env={"NERKIT_STRICT_PLUGINS": "1"})
    assert strict.returncode == 2
    assert (
        "nerkit_broken_demo" in strict.stderr and "Traceback" not in strict.stderr.splitlines()[0]
    )

    disabled = run_nerkit(
        ["plugins", "--json"], path=path, env={"NERKIT_DISABLE_PLUGINS": "nerkit_broken_demo"}
    )
    infos = {i["name"]: i for i in json.loads(disabled.stdout)}
    assert infos["nerkit_broken_demo"]["status"] == "disabled"


IMPOSTOR = """
from nerkit.plugin import hookimpl
from nerkit_lexicon.tagger import LexiconTagger


class Impostor(LexiconTagger):
    \"\"\"Not the lexicon tagger.\"\"\"


@hookimpl(trylast=True)
def register_taggers(register):
    register("impostor.tagger.v1", Impostor)
    register("lexicon.tagger.v1", Impostor)
"""


def test_an_installed_plugin_cannot_take_a_built_in_component_s_name(tmp_path: Path) -> None:
    """Its entry point sorts before every built-in one: it still loads after them, and
    registering ``lexicon.tagger.v1`` fails it, not the built-in lexicon plugin."""
    path = make_plugin(tmp_path / "site", "aaa_impostor_demo", IMPOSTOR)
    done = run_nerkit(["plugins", "--json"], path=path)
    assert done.returncode == 0, done.stderr
    infos = {i["name"]: i for i in json.loads(done.stdout)}
    assert infos["lexicon"]["registered"] == {"tagger": ["lexicon.tagger.v1"]}
    assert infos["lexicon"]["status"] == "loaded" and infos["lexicon"]["builtin"]
    impostor = infos["aaa_impostor_demo"]
    assert impostor["status"] == "failed" and impostor["registered"] == {}
    assert "'lexicon.tagger.v1' is nerkit's own (built-in plugin lexicon)" in impostor["error"]
    shown = run_nerkit(["info", "lexicon"], path=path)
    assert shown.stdout.startswith("lexicon.tagger.v1 (tagger, plugin lexicon)"), shown.stdout


OTHER_LEXICON = """
from nerkit.plugin import hookimpl
from nerkit_lexicon.tagger import LexiconTagger


@hookimpl
def register_taggers(register):
    register("otherlex.tagger.v1", LexiconTagger)
"""


def test_another_distribution_s_plugin_under_a_built_in_entry_point_name_is_reported(
    tmp_path: Path,
) -> None:
    """``[nerkit] lexicon = other_module`` in another distribution: two plugins, one
    name. The built-in one loads; the other is listed as failed, saying why, instead
    of either hiding the other without a word."""
    path = make_plugin(tmp_path / "site", "otherlex_demo", OTHER_LEXICON)
    set_entry_point(path, "otherlex_demo", "lexicon")
    done = run_nerkit(["plugins", "--json"], path=path)
    assert done.returncode == 0, done.stderr
    infos = {i["name"]: i for i in json.loads(done.stdout)}
    assert infos["lexicon"]["registered"] == {"tagger": ["lexicon.tagger.v1"]}
    assert infos["lexicon"]["status"] == "loaded" and infos["lexicon"]["builtin"]
    other = infos["otherlex_demo:lexicon"]
    assert other["status"] == "failed" and other["distribution"] == "otherlex_demo"
    taken = "entry point 'lexicon' of otherlex_demo is taken by nerkit's built-in plugin"
    assert taken in other["error"]
    table = run_nerkit(["plugins"], path=path, env={"COLUMNS": "250"})
    assert table.returncode == 0 and "otherlex_demo:lexicon" in table.stdout


EXITS = """
raise SystemExit("this plugin exits on import")
"""


def test_a_plugin_exiting_on_import_is_listed_as_failed(tmp_path: Path, toy: Path) -> None:
    path = make_plugin(tmp_path / "site", "nerkit_exit_demo", EXITS)
    done = run_nerkit(["plugins", "--json"], path=path)
    assert done.returncode == 0, done.stderr
    infos = {i["name"]: i for i in json.loads(done.stdout)}
    assert infos["nerkit_exit_demo"]["status"] == "failed"
    assert infos["nerkit_exit_demo"]["error"] == "SystemExit: this plugin exits on import"
    runs = tmp_path / "runs"
    args = ["run", "--tagger", "lexicon", "--dataset", str(toy), "--out", str(runs)]
    done = run_nerkit(args, path=path)
    assert done.returncode == 0, done.stderr
    assert [p.name for p in runs.iterdir() if not p.name.endswith(".partial")]


def test_plugins_command_does_not_import_heavy_libraries() -> None:
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from nerkit.cli import main\n"
        "try:\n    main(['plugins', '--json'])\nexcept SystemExit:\n    pass\n"
        "heavy = sorted(m for m in ('torch', 'transformers', 'flair') if m in sys.modules)\n"
        "print('HEAVY', heavy, file=sys.stderr)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert "HEAVY []" in done.stderr, done.stderr


COMMAND = """
import typer

from nerkit.plugin import hookimpl


@hookimpl
def register_commands(app):
    @app.command("hello")
    def hello(name: str = typer.Option("world", help="Who to greet.")) -> None:
        \"\"\"Greet someone (a plugin's command).\"\"\"
        typer.echo(f"hello {name}")
"""


def test_a_plugin_adds_a_command(tmp_path: Path) -> None:
    path = make_plugin(tmp_path / "site", "nerkit_hello_demo", COMMAND)
    done = run_nerkit(["hello", "--name", "nerkit"], path=path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "hello nerkit"
    listed = json.loads(run_nerkit(["plugins", "--json"], path=path).stdout)
    assert {i["name"]: i["hooks"] for i in listed}["nerkit_hello_demo"] == ["register_commands"]


# ------------------------------------------- the hooks without a test elsewhere


def test_a_plugin_adds_a_metric() -> None:
    from nerkit.interfaces import Metric, MetricRow

    class TokenCount(Metric):
        def compute(self, gold, predicted, *, scheme="IOB2", mode="lenient"):  # type: ignore[no-untyped-def]
            return [MetricRow("tokens", "all", float(sum(map(len, gold))), len(gold))]

    class Metrics:
        @hookimpl
        def register_metrics(self, register):  # type: ignore[no-untyped-def]
            register("tokens.metric.v1", TokenCount)

    class WrongKind:
        @hookimpl
        def register_metrics(self, register):  # type: ignore[no-untyped-def]
            register("outside.metric.v1", OutsideTagger)

    host = host_with(Metrics(), WrongKind())
    registry = host.registry("metric")
    assert registry.names() == ["tokens.metric.v1"]
    rows = registry.get("tokens")().compute([["O", "B-PER"], ["O"]], [["O", "O"], ["O"]])
    assert rows == [MetricRow("tokens", "all", 3.0, 2)]
    assert "must be a Metric" in {i.name: i.error for i in host.plugins()}["p1"]


DATASET = """
from nerkit.datasets import DataFile, DatasetSpec
from nerkit.plugin import hookimpl

SPLITS = ("train", "dev", "test")


@hookimpl
def register_datasets(register):
    register(
        "toyplug",
        DatasetSpec(
            name="toyplug",
            description="the contracts' toy corpus, from a plugin",
            language="en",
            license="CC0-1.0",
            citation="",
            files={s: DataFile(f"toyplug/{s}.conll") for s in SPLITS},
        ),
    )
"""


def test_a_plugin_adds_a_dataset_that_runs_use(tmp_path: Path, toy: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    toy.rename(data / "toyplug")
    path = make_plugin(tmp_path / "site", "nerkit_toyplug_demo", DATASET)
    env = {"NERKIT_DATA_DIR": str(data)}
    listed = json.loads(run_nerkit(["plugins", "--json"], path=path, env=env).stdout)
    info = {i["name"]: i for i in listed}["nerkit_toyplug_demo"]
    assert info["registered"] == {"dataset": ["toyplug"]}
    runs = tmp_path / "runs"
    done = run_nerkit(
        ["run", "--tagger", "lexicon", "--dataset", "toyplug", "--out", str(runs)],
        path=path,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    (run,) = runs.iterdir()
    from nerkit import store

    (row,) = store.read_table(run, "run").to_pylist()
    assert (row["dataset"], row["dataset_license"]) == ("toyplug", "CC0-1.0")


# ------------------------------------------- a broken plugin next to working ones


def test_a_broken_plugin_leaves_runs_working_unless_strict(tmp_path: Path, toy: Path) -> None:
    path = make_plugin(tmp_path / "site", "nerkit_broken_demo", BROKEN)
    listed = json.loads(run_nerkit(["plugins", "--json"], path=path).stdout)
    assert {i["name"]: i["status"] for i in listed}["nerkit_broken_demo"] == "failed"

    runs = tmp_path / "runs"
    args = ["run", "--tagger", "lexicon", "--dataset", str(toy), "--out", str(runs)]
    done = run_nerkit(args, path=path)
    assert done.returncode == 0, done.stderr
    (run,) = runs.iterdir()
    assert (run / "metrics.arrow").is_file() and not run.name.endswith(".partial")

    # only these plugins, so that the error is about the broken one whatever else is installed
    strict_env = {
        "NERKIT_STRICT_PLUGINS": "1",
        "NERKIT_LOAD_PLUGINS": "nerkit,lexicon,nerkit_broken_demo",
    }
    strict = run_nerkit(args, path=path, env=strict_env)
    assert strict.returncode == 2, strict.stderr
    first = strict.stderr.splitlines()[0]
    assert first.startswith("Error: plugin 'nerkit_broken_demo'"), strict.stderr
    assert "broken on purpose" in strict.stderr
    assert [p.name for p in runs.iterdir()] == [run.name]  # the strict run stored nothing


def test_load_plugins_imports_only_the_named_ones(tmp_path: Path) -> None:
    path = make_plugin(tmp_path / "site", "nerkit_broken_demo", BROKEN)
    env = {"NERKIT_LOAD_PLUGINS": "nerkit, lexicon", "NERKIT_STRICT_PLUGINS": "1"}
    done = run_nerkit(["plugins", "--json"], path=path, env=env)
    # strict, yet no error: the broken plugin was never imported
    assert done.returncode == 0, done.stderr
    status = {i["name"]: i["status"] for i in json.loads(done.stdout)}
    assert status["nerkit"] == status["lexicon"] == "loaded"
    assert status["nerkit_broken_demo"] == "disabled"
    assert {s for name, s in status.items() if name not in ("nerkit", "lexicon")} == {"disabled"}
    lexicon_only = run_nerkit(["info", "lexicon"], path=path, env=env)
    assert lexicon_only.returncode == 0 and "lexicon.tagger.v1" in lexicon_only.stdout
    flair = run_nerkit(["info", "flair"], path=path, env=env)
    assert flair.returncode == 2 and "'flair'" in flair.stderr
    assert "taggers: lexicon.tagger.v1;" in flair.stderr


def test_trace_logs_each_hook_call_to_stderr() -> None:
    done = run_nerkit(["info", "lexicon"], env={"NERKIT_TRACE_PLUGINS": "1"})
    assert done.returncode == 0, done.stderr
    assert "lexicon.tagger.v1" in done.stdout
    lines = done.stderr.splitlines()
    assert "[nerkit plugins] lexicon.register_taggers registered lexicon.tagger.v1" in lines
    assert any(line.startswith("[nerkit plugins] import lexicon = ") for line in lines)
    quiet = run_nerkit(["info", "lexicon"], env={"NERKIT_TRACE_PLUGINS": "0"})
    assert "[nerkit plugins]" not in quiet.stderr
