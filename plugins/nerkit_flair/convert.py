"""nerkit Sentences to flair Sentences and flair's token labels back, token for token.

flair drops tokens whose text is ``""`` and its embeddings choke on tokens that are only
whitespace or invisible characters (a transformer tokenizer gives them no sub-tokens).
So every token is given to flair as a :class:`flair.data.Token` built by hand, and a
token without a visible character is replaced by :data:`PLACEHOLDER`. The replacement
depends on the token alone, so training and prediction see the same text, and the
i-th flair token is always the i-th nerkit token.
"""

from __future__ import annotations

import unicodedata
from typing import TYPE_CHECKING

from nerkit import schemes
from nerkit.types import Sentence

if TYPE_CHECKING:
    import flair.data

#: what a token without any visible character is called inside flair
PLACEHOLDER = "<blank>"
#: the annotation layer nerkit's entities live in
LABEL_TYPE = "ner"
#: bump when ``flair_text`` changes: a saved model was trained on its output
TEXT_VERSION = 1

# separators, controls, format characters (zero-width space, joiners), unassigned
_INVISIBLE = frozenset({"Zs", "Zl", "Zp", "Cc", "Cf", "Cs", "Co", "Cn"})

#: nerkit's name of the scheme of flair's internal tags
FLAIR_SCHEMES = {"BIO": "IOB2", "BIOES": "BIOES"}


def flair_text(token: str) -> str:
    """The text flair sees for ``token``: itself, with whitespace and invisible
    characters replaced by ``_``, or :data:`PLACEHOLDER` if nothing visible is left."""
    # the common case, without a category look-up per character: str.isprintable is
    # false exactly for the _INVISIBLE categories, except for the ASCII space
    if token and token.isprintable() and " " not in token:
        return token
    if not any(unicodedata.category(c) not in _INVISIBLE for c in token):
        return PLACEHOLDER
    if all(unicodedata.category(c) not in _INVISIBLE for c in token):
        return token
    # a token such as "a b" stays one token: a tokenizer must not split it in two words
    return "".join("_" if unicodedata.category(c) in _INVISIBLE else c for c in token)


def to_flair(sentence: Sentence, scheme: str | None = None) -> flair.data.Sentence:
    """A flair Sentence with one Token per nerkit token; with ``scheme``, the sentence's
    entities (read leniently from its tags) become span labels of type ``ner``."""
    from flair.data import Sentence as FlairSentence
    from flair.data import Token

    tokens = []
    offset = 0
    for text in map(flair_text, sentence.tokens):
        # explicit offsets: otherwise flair recomputes the sentence text for every
        # token added, quadratic in the sentence length
        tokens.append(Token(text, start_position=offset, whitespace_after=1))
        offset += len(text) + 1
    flair_sentence = FlairSentence(tokens) if tokens else FlairSentence([])
    if scheme is not None and sentence.tags:
        for span in schemes.spans(sentence.tags, scheme):
            flair_sentence[span.start : span.end].add_label(LABEL_TYPE, span.label)
    return flair_sentence


def token_tags(flair_sentence: flair.data.Sentence) -> list[tuple[str, float | None]]:
    """The tag (in the model's tag format) and flair's score of every token after a
    ``predict(..., force_token_predictions=True)``; ``O`` tokens carry no label in
    flair, so their score is None."""
    out: list[tuple[str, float | None]] = []
    for token in flair_sentence.tokens:
        labels = token.get_labels(LABEL_TYPE)
        if labels:
            out.append((labels[0].value, float(labels[0].score)))
        else:
            out.append((schemes.OUTSIDE, None))
    return out
