"""Comparators: how similar two records are on one feature, from 0 to 1 (None when either is
missing). Names say what they do; rapidfuzz does the string work.

Every comparator has a scalar form (one pair: online matching, explanations) and may have a
vector form over many pairs at once (file mode), which must give the same numbers.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
from rapidfuzz import fuzz, process
from rapidfuzz.distance import JaroWinkler, Levenshtein

from matching.features import Features

Scalar = Callable[[Features, Features, str], float | None]


def _pair(a: Features, b: Features, feature: str) -> tuple[str, str] | None:
    left, right = a.get(feature, ""), b.get(feature, "")
    return (left, right) if left and right else None


def exact(a: Features, b: Features, feature: str) -> float | None:
    pair = _pair(a, b, feature)
    return None if pair is None else float(pair[0] == pair[1])


def jaro_winkler(a: Features, b: Features, feature: str) -> float | None:
    pair = _pair(a, b, feature)
    return None if pair is None else JaroWinkler.normalized_similarity(*pair)


def levenshtein(a: Features, b: Features, feature: str) -> float | None:
    pair = _pair(a, b, feature)
    return None if pair is None else Levenshtein.normalized_similarity(*pair)


def token_set(a: Features, b: Features, feature: str) -> float | None:
    pair = _pair(a, b, feature)
    return None if pair is None else fuzz.token_set_ratio(*pair) / 100


def abbreviation(short: str, long_words: Sequence[str]) -> bool:
    """ "nat" for "national consulting", "icsah" for "independent trading co ss4500 hoodie":
    a prefix of the first word (2+ letters) or of the initials, or the initials themselves."""
    if len(short) < 2 or " " in short or not long_words:
        return False
    initials = "".join(w[0] for w in long_words)
    joined = "".join(long_words)
    return (
        long_words[0].startswith(short)
        or initials.startswith(short)
        or short == initials
        or (len(short) >= 3 and joined.startswith(short))
        or _initials_subsequence(short, long_words)
        or (3 <= len(short) <= 6 and short[0] == joined[0] and _subsequence(short, joined))
    )


def _subsequence(short: str, text: str) -> bool:
    """Every letter of ``short`` appears in ``text`` in order ("aju" in "adjustable")."""
    letters = iter(text)
    return all(letter in letters for letter in short)


def _initials_subsequence(short: str, words: Sequence[str]) -> bool:
    """Each letter of ``short`` starts a later word, in order (tolerates dropped small words)."""
    position = 0
    for letter in short:
        while position < len(words) and not words[position].startswith(letter):
            position += 1
        if position == len(words):
            return False
        position += 1
    return len(short) >= 3


ABBREVIATION_SCORE = 0.8


def name(a: Features, b: Features, feature: str) -> float | None:
    """Names as people type them: the best of token-set and Jaro-Winkler similarity, and
    ``ABBREVIATION_SCORE`` when one name is an abbreviation or the initials of the other."""
    pair = _pair(a, b, feature)
    if pair is None:
        return None
    left, right = pair
    score = max(
        fuzz.token_set_ratio(left, right) / 100, JaroWinkler.normalized_similarity(left, right)
    )
    return max(score, _abbreviation_score(left, right))


def _abbreviation_score(left: str, right: str) -> float:
    short, long = (left, right) if len(left) <= len(right) else (right, left)
    return ABBREVIATION_SCORE if abbreviation(short, long.split()) else 0.0


def phone(a: Features, b: Features, feature: str) -> float | None:
    """1 when the E.164 numbers or the digit strings (extension included) agree; otherwise
    the edit similarity of the digit strings (a mistyped digit scores high)."""
    pair = _pair(a, b, feature)
    if pair is None:
        return None
    digits_a, digits_b = a.get(f"{feature}.digits", ""), b.get(f"{feature}.digits", "")
    if pair[0] == pair[1] or (digits_a and digits_a == digits_b):
        return 1.0
    return Levenshtein.normalized_similarity(digits_a, digits_b) if digits_a and digits_b else 0.0


def numeric(a: Features, b: Features, feature: str) -> float | None:
    pair = _pair(a, b, feature)
    if pair is None:
        return None
    try:
        x, y = float(pair[0]), float(pair[1])
    except ValueError:
        return None
    scale = max(abs(x), abs(y))
    return 1.0 if scale == 0 else max(0.0, 1 - abs(x - y) / scale)


def geo(a: Features, b: Features, feature: str) -> float | None:
    """Similarity of two "lat,lon" features: 1 at the same point, 0 at 10 km or more."""
    pair = _pair(a, b, feature)
    if pair is None:
        return None
    (lat1, lon1), (lat2, lon2) = (map(float, p.split(",")) for p in pair)
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    h = (
        math.sin((phi2 - phi1) / 2) ** 2
        + math.cos(phi1) * math.cos(phi2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    )
    km = 2 * 6371 * math.asin(math.sqrt(h))
    return max(0.0, 1 - km / 10)


SCALAR: dict[str, Scalar] = {
    "exact": exact,
    "jaro_winkler": jaro_winkler,
    "levenshtein": levenshtein,
    "token_set": token_set,
    "name": name,
    "phone": phone,
    "numeric": numeric,
    "geo": geo,
}


def vector(comparator: str, left: Sequence[str], right: Sequence[str]) -> np.ndarray:
    """Similarities of many pairs (left[i], right[i]); NaN where either side is missing."""
    lhs = np.asarray(left, dtype=object)
    rhs = np.asarray(right, dtype=object)
    present = (lhs != "") & (rhs != "")
    out = np.full(len(lhs), np.nan)
    if not present.any():
        return out
    ls, rs = list(lhs[present]), list(rhs[present])
    if comparator == "exact":
        values = (lhs[present] == rhs[present]).astype(float)
    elif comparator == "jaro_winkler":
        values = process.cpdist(ls, rs, scorer=JaroWinkler.normalized_similarity, workers=-1)
    elif comparator == "levenshtein":
        values = process.cpdist(ls, rs, scorer=Levenshtein.normalized_similarity, workers=-1)
    elif comparator == "token_set":
        values = process.cpdist(ls, rs, scorer=fuzz.token_set_ratio, workers=-1) / 100
    elif comparator == "name":
        token = process.cpdist(ls, rs, scorer=fuzz.token_set_ratio, workers=-1) / 100
        jw = process.cpdist(ls, rs, scorer=JaroWinkler.normalized_similarity, workers=-1)
        values = np.maximum(token, jw)
        for i in np.flatnonzero(values < ABBREVIATION_SCORE):
            values[i] = max(values[i], _abbreviation_score(ls[i], rs[i]))
    else:
        scalar = SCALAR[comparator]
        values = np.array(
            [scalar({"f": x}, {"f": y}, "f") for x, y in zip(ls, rs, strict=True)], dtype=float
        )
    out[present] = values
    return out


def vector_with_features(
    comparator: str, feature: str, features: Sequence[Features], left: np.ndarray, right: np.ndarray
) -> np.ndarray:
    """Like ``vector``, for comparators that read more than one feature of each record."""
    out = np.full(len(left), np.nan)
    for i, (a, b) in enumerate(zip(left.tolist(), right.tolist(), strict=True)):
        value = SCALAR[comparator](features[a], features[b], feature)
        if value is not None:
            out[i] = value
    return out


MULTI_FEATURE = frozenset({"phone"})
