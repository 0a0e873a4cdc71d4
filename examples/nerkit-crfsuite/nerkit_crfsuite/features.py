"""Classic hand-made word features for a linear-chain CRF (the CoNLL-2002/2003 kind).

Each token becomes a list of feature strings (CRFsuite's attributes, weight 1):

* the token itself: lower case, prefixes and suffixes up to ``affixes`` characters,
  its shape (``Xxxx``, ``dd-dd``) and its short shape (runs collapsed: ``Xx``, ``d-d``),
  and flags: all upper case, title case, all digits, contains a digit, a hyphen,
  only punctuation;
* each neighbour up to ``window`` tokens away: lower case, short shape and the
  upper / title / digit flags, prefixed by its offset (``w[-1]=the``); a neighbour
  beyond the sentence is a padding feature (``w[-2]=<s>``), so the CRF learns about
  sentence starts and ends.

Pure Python, no CRFsuite: the features can be read and tested on their own. They never
look at tags, so raw text and tagged text get the same features.
"""

from __future__ import annotations

from collections.abc import Sequence

BEGIN = "<s>"
END = "</s>"


def shape(token: str) -> str:
    """``"McDonald's"`` -> ``"XxXxxxxx'x"``: upper ``X``, lower ``x``, digit ``d``, others kept."""
    out = []
    for char in token:
        if char.isupper():
            out.append("X")
        elif char.islower():
            out.append("x")
        elif char.isdigit():
            out.append("d")
        else:
            out.append(char)
    return "".join(out)


def short_shape(token: str) -> str:
    """The shape with runs of one class collapsed: ``"McDonald's"`` -> ``"XxXx'x"``."""
    full = shape(token)
    return "".join(c for i, c in enumerate(full) if i == 0 or c != full[i - 1])


def _flags(token: str) -> list[str]:
    flags = []
    if token.isupper():
        flags.append("upper")
    if token.istitle():
        flags.append("title")
    if token.isdigit():
        flags.append("digit")
    return flags


def token_features(
    tokens: Sequence[str], i: int, *, window: int = 2, affixes: int = 3
) -> list[str]:
    """The features of ``tokens[i]`` in its sentence."""
    token = tokens[i]
    lower = token.lower()
    features = ["bias", f"w={lower}", f"shape={shape(token)}", f"sshape={short_shape(token)}"]
    for n in range(1, min(affixes, len(lower)) + 1):
        features.append(f"p{n}={lower[:n]}")
        features.append(f"s{n}={lower[-n:]}")
    features.extend(_flags(token))
    if any(c.isdigit() for c in token):
        features.append("has_digit")
    if "-" in token:
        features.append("has_hyphen")
    if token and not any(c.isalnum() for c in token):
        features.append("punct")
    for offset in range(-window, window + 1):
        j = i + offset
        if offset == 0:
            continue
        at = f"[{offset:+d}]"
        if j < 0 or j >= len(tokens):
            features.append(f"w{at}={BEGIN if j < 0 else END}")
            continue
        other = tokens[j]
        features.append(f"w{at}={other.lower()}")
        features.append(f"sshape{at}={short_shape(other)}")
        features.extend(f"{flag}{at}" for flag in _flags(other))
    return features


def sentence_features(
    tokens: Sequence[str], *, window: int = 2, affixes: int = 3
) -> list[list[str]]:
    """One feature list per token (CRFsuite's item sequence)."""
    return [token_features(tokens, i, window=window, affixes=affixes) for i in range(len(tokens))]
