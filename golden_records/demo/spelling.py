"""How the same words come out differently: ASCII slugs, abbreviations and typos."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from random import Random

from golden_records.demo.randomness import chance


def ascii_slug(text: str, sep: str = "-") -> str:
    text = text.replace("ß", "ss").replace("ä", "ae").replace("ö", "oe").replace("ü", "ue")
    text = text.replace("Ä", "Ae").replace("Ö", "Oe").replace("Ü", "Ue")
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", sep, folded.lower()).strip(sep)


def apply_variants(text: str, pairs: Iterable[tuple[str, str]], rng: Random, p: float) -> str:
    for full, short in pairs:
        if re.search(rf"\b{re.escape(full)}\b", text) and chance(rng, p):
            text = re.sub(rf"\b{re.escape(full)}\b", short, text)
    return text


def typo(rng: Random, text: str) -> str:
    """One keyboard slip in a word of at least five letters: swap, drop or double a letter."""
    words = text.split(" ")
    candidates = [i for i, w in enumerate(words) if len(w) >= 5 and w.isalpha()]
    if not candidates:
        return text
    i = rng.choice(candidates)
    word = words[i]
    pos = rng.randrange(1, len(word) - 2)
    kind = rng.randrange(3)
    if kind == 0:
        word = word[:pos] + word[pos + 1] + word[pos] + word[pos + 2 :]
    elif kind == 1:
        word = word[:pos] + word[pos + 1 :]
    else:
        word = word[:pos] + word[pos] + word[pos:]
    words[i] = word
    return " ".join(words)
