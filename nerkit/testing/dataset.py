"""The contract every dataset loader keeps. It takes any ``load() -> Corpus``, so it
tests a named dataset, a ``DatasetLoader`` or a plain function alike:

    from nerkit.testing import DatasetContract

    class TestMyDataset(DatasetContract):
        def load(self):
            return load_dataset("my-corpus")
"""

from __future__ import annotations

import hashlib
from typing import ClassVar

import pytest

from nerkit import schemes
from nerkit.errors import SchemeError
from nerkit.types import Corpus


def corpus_digest(corpus: Corpus) -> str:
    """A SHA-256 over split names, tokens and tags, independent of where the corpus
    was read from (the separators cannot occur inside tokens read from CoNLL files)."""
    digest = hashlib.sha256()
    for split in sorted(corpus.splits):
        digest.update(f"\x00split\x00{split}\x00".encode())
        for sentence in corpus[split]:
            digest.update("\x1f".join(sentence.tokens).encode() + b"\x1e")
            digest.update("\x1f".join(sentence.tags).encode() + b"\x1d")
    return digest.hexdigest()


class DatasetContract:
    """Promises of a dataset loader; subclass as ``TestXxx`` and define :meth:`load`."""

    required_splits: ClassVar[tuple[str, ...]] = ("train",)
    #: splits that may hold raw text (sentences without tags)
    unannotated_splits: ClassVar[tuple[str, ...]] = ()

    def load(self) -> Corpus:
        raise NotImplementedError(f"{type(self).__name__} must define load()")

    def fingerprint(self, corpus: Corpus) -> str:
        return corpus_digest(corpus)

    @pytest.fixture(scope="class")
    @classmethod
    def loaded_corpus(cls) -> Corpus:
        corpus = cls().load()
        assert isinstance(corpus, Corpus), f"load() returned {type(corpus).__name__}, not a Corpus"
        return corpus

    def test_has_the_required_splits_and_none_is_empty(self, loaded_corpus: Corpus) -> None:
        missing = [s for s in self.required_splits if s not in loaded_corpus]
        assert not missing, f"no {', '.join(missing)} split (has: {', '.join(loaded_corpus)})"
        for split in loaded_corpus:
            assert len(loaded_corpus[split]) > 0, f"split {split!r} has no sentences"

    def test_every_sentence_has_tokens_and_one_tag_per_token(self, loaded_corpus: Corpus) -> None:
        for split in loaded_corpus:
            for i, sentence in enumerate(loaded_corpus[split]):
                where = f"{split} sentence {sentence.sentence_id or i}"
                assert len(sentence.tokens) > 0, f"{where} has no tokens"
                assert all(isinstance(t, str) and t for t in sentence.tokens), (
                    f"{where}: empty token"
                )
                if split in self.unannotated_splits and not sentence.tags:
                    continue
                assert len(sentence.tags) == len(sentence.tokens), (
                    f"{where}: {len(sentence.tokens)} tokens but {len(sentence.tags)} tags"
                )

    def test_tags_have_the_form_of_the_corpus_scheme(self, loaded_corpus: Corpus) -> None:
        scheme = schemes.get_scheme(loaded_corpus.scheme)
        for tag in loaded_corpus.labels():
            try:
                schemes.check_tag(tag, scheme)
            except SchemeError as exc:
                raise AssertionError(f"corpus {loaded_corpus.name!r}: {exc}") from None

    def test_loading_twice_gives_the_same_fingerprint(self, loaded_corpus: Corpus) -> None:
        assert self.fingerprint(self.load()) == self.fingerprint(loaded_corpus)
