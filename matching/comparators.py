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
    """Similarity of two "lat,lon" features: 1 at the same point, 0 at 10 km or more; None
    when either is missing or is not a point ("n/a", "91,0", "1;2")."""
    pair = _pair(a, b, feature)
    if pair is None:
        return None
    first, second = _point(pair[0]), _point(pair[1])
    if first is None or second is None:
        return None
    (lat1, lon1), (lat2, lon2) = first, second
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    h = (
        math.sin((phi2 - phi1) / 2) ** 2
        + math.cos(phi1) * math.cos(phi2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    )
    km = 2 * 6371 * math.asin(math.sqrt(min(1.0, max(0.0, h))))
    return max(0.0, 1 - km / 10)


def _point(value: str) -> tuple[float, float] | None:
    parts = value.split(",")
    if len(parts) != 2:
        return None
    try:
        lat, lon = float(parts[0]), float(parts[1])
    except ValueError:
        return None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):  # NaN fails both
        return None
    return lat, lon


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


def _cpdist(scorer: Callable[..., float], left: list[str], right: list[str]) -> np.ndarray:
    """rapidfuzz's pairwise scores in double precision: its default float32 turns 0.9 into
    0.8999999762, below a level starting at 0.9 that the scalar form reaches."""
    # Threads cost more than they save on the few pairs of an online match.
    workers = -1 if len(left) >= 20_000 else 1
    return process.cpdist(left, right, scorer=scorer, dtype=np.float64, workers=workers)


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
        values = _cpdist(JaroWinkler.normalized_similarity, ls, rs)
    elif comparator == "levenshtein":
        values = _cpdist(Levenshtein.normalized_similarity, ls, rs)
    elif comparator == "token_set":
        values = _cpdist(fuzz.token_set_ratio, ls, rs) / 100
    elif comparator == "name":
        values = _vector_name(ls, rs)
    else:
        scalar = SCALAR[comparator]
        values = np.array(
            [scalar({"f": x}, {"f": y}, "f") for x, y in zip(ls, rs, strict=True)], dtype=float
        )
    out[present] = values
    return out


def _vector_name(left: list[str], right: list[str]) -> np.ndarray:
    """``name`` for many present pairs. The abbreviation test runs only on pairs that score
    below ``ABBREVIATION_SCORE`` and whose shorter name is one word of two letters or more (an
    abbreviation is nothing else): most pairs are settled without a Python call each."""
    token = _cpdist(fuzz.token_set_ratio, left, right) / 100
    jw = _cpdist(JaroWinkler.normalized_similarity, left, right)
    values = np.maximum(token, jw)
    low = values < ABBREVIATION_SCORE
    if not low.any():
        return values
    lengths_left = np.fromiter(map(len, left), dtype=np.int64, count=len(left))
    lengths_right = np.fromiter(map(len, right), dtype=np.int64, count=len(right))
    one_word_left = np.fromiter((" " not in x for x in left), dtype=bool, count=len(left))
    one_word_right = np.fromiter((" " not in x for x in right), dtype=bool, count=len(right))
    left_short = lengths_left <= lengths_right
    short_length = np.where(left_short, lengths_left, lengths_right)
    short_one_word = np.where(left_short, one_word_left, one_word_right)
    for i in np.flatnonzero(low & (short_length >= 2) & short_one_word):
        values[i] = max(values[i], _abbreviation_score(left[i], right[i]))
    return values


def vector_with_features(
    comparator: str, feature: str, features: Sequence[Features], left: np.ndarray, right: np.ndarray
) -> np.ndarray:
    """Like ``vector``, for comparators that read more than one feature of each record."""
    if comparator == "phone":
        return _vector_phone(feature, features, left, right)
    out = np.full(len(left), np.nan)
    for i, (a, b) in enumerate(zip(left.tolist(), right.tolist(), strict=True)):
        value = SCALAR[comparator](features[a], features[b], feature)
        if value is not None:
            out[i] = value
    return out


def _vector_phone(
    feature: str, features: Sequence[Features], left: np.ndarray, right: np.ndarray
) -> np.ndarray:
    """``phone`` for many pairs, column-wise: the same numbers as the scalar form."""
    left = np.asarray(left, dtype=np.int64)
    right = np.asarray(right, dtype=np.int64)
    out = np.full(len(left), np.nan)
    if not len(left):
        return out
    # Only the records the pairs name, once each.
    used, inverse = np.unique(np.concatenate([left, right]), return_inverse=True)
    digits_name = f"{feature}.digits"
    numbers = np.asarray([features[i].get(feature, "") for i in used.tolist()], dtype=object)
    digits = np.asarray([features[i].get(digits_name, "") for i in used.tolist()], dtype=object)
    lpos, rpos = inverse[: len(left)], inverse[len(left) :]
    number_a, number_b = numbers[lpos], numbers[rpos]
    present = (number_a != "") & (number_b != "")
    if not present.any():
        return out
    number_a, number_b = number_a[present], number_b[present]
    digits_a, digits_b = digits[lpos][present], digits[rpos][present]
    both_digits = (digits_a != "") & (digits_b != "")
    same = (number_a == number_b) | (both_digits & (digits_a == digits_b))
    values = np.zeros(len(number_a))
    values[same] = 1.0
    edit = both_digits & ~same
    if edit.any():
        values[edit] = _cpdist(
            Levenshtein.normalized_similarity, list(digits_a[edit]), list(digits_b[edit])
        )
    out[present] = values
    return out


MULTI_FEATURE = frozenset({"phone"})
"""Comparators that read more than one feature of each record: ``vector_with_features``."""
