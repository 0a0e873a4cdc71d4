"""nerkit's own components, registered through the ``nerkit`` entry-point group like
any third-party plugin (see ``[project.entry-points.nerkit]`` in pyproject.toml).

Classes are named by ``"module:Class"`` strings so that loading this plugin imports
nothing heavy.
"""

from __future__ import annotations

from nerkit.plugin.spec import Register, hookimpl


@hookimpl
def register_decoders(register: Register) -> None:
    register("conlleval.decoder.v1", "nerkit.decoders:ConllevalDecoder")
    register("discard.decoder.v1", "nerkit.decoders:DiscardDecoder")
    register("viterbi.decoder.v1", "nerkit.decoders:ViterbiDecoder")
    register("none.decoder.v1", "nerkit.decoders:NoDecoder")


@hookimpl
def register_metrics(register: Register) -> None:
    register("entity.metric.v1", "nerkit.metrics.components:EntityMetric")
    register("seqeval.metric.v1", "nerkit.metrics.components:SeqevalMetric")


@hookimpl
def register_datasets(register: Register) -> None:
    from nerkit.datasets.builtin import BUILTIN_DATASETS

    for spec in BUILTIN_DATASETS:
        register(spec.name, spec)
