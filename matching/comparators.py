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

from matching import standardise as std
from matching.features import Features

Scalar = Callable[[Features, Features, str], float | None]
Ceiling = Callable[[str, str], float]
"""The most a pair of standardised values may score, from what their numbers say (1: no cap)."""


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


NUMBERS_DIFFER = 0.5
"""The most two values whose numbers disagree can score (``text``, ``street``, ``code``): sizes,
gauges, house and model numbers are identity, not typos ("Gloves 6 mil" is not "Gloves 4 mil",
"171 Gutenberg St" is not "141 Gutenberg St", SKU "SAF10026" is not "SAF10012"). Rules give such
pairs their own level at this similarity, or leave them in the level of different values."""


def numbers_agree(left: str, right: str) -> bool:
    """Whether two standardised texts (names, street lines) may describe one thing as far as
    their numbers go: yes when either has none, or when the numbers of one are among those of
    the other (one name has the manufacturer's "3M" in front, or leaves out the pack size, one
    street line has a suite number), in any order, written any way ("6mil" and "6 mil", "05"
    and "5", "1/2" and "0.5"). A text cut off in a number ("... 200w 50") may have that number's
    first digits only ("5000")."""
    return _agree(std.numbers(left), left, std.numbers(right), right)


def street_numbers_agree(left: str, right: str) -> bool:
    """``numbers_agree`` for street lines, whose numbers are whole words ("2v486" is 2486)."""
    return _agree(std.street_numbers(left), left, std.street_numbers(right), right)


def _agree(a: tuple[str, ...], left: str, b: tuple[str, ...], right: str) -> bool:
    if not a or not b or a == b:
        return True
    return _numbers_within(a, left, b) or _numbers_within(b, right, a)


def _numbers_within(few: tuple[str, ...], text: str, many: tuple[str, ...]) -> bool:
    if len(few) > len(many):
        return False
    remaining = list(many)
    missing = []
    for number in few:
        if number in remaining:
            remaining.remove(number)
        else:
            missing.append(number)
    if not missing:
        return True
    # Cut off in its last number: "200w 50" for "200w 5000k".
    return (
        len(missing) == 1
        and missing[0] == few[-1]
        and text[-1:].isdigit()
        and any(other.startswith(missing[0]) for other in remaining)
    )


def code_numbers_agree(left: str, right: str) -> bool:
    """Whether two standardised codes carry the same digits (leading zeros aside): "SAF10026"
    and "SAF10012" do not (sequential codes are other items, not typos); "X05868" and "X5868",
    "WH12" and "FAC0012" do; a code without digits agrees with any."""
    a, b = std.code_numbers(left), std.code_numbers(right)
    return not a or not b or a == b


NUMBER_DROPPED = 0.6
"""The most two street lines can score whose house numbers differ by one digit left out or
typed twice ("135 sunrise st" and "1335 sunrise st"): a keyboard's slip more often than another
building (neighbours differ in a digit, not in length: 171 and 141). Rules give it its own level
at this similarity, below the street levels whose numbers agree."""


def _text_ceiling(left: str, right: str) -> float:
    if numbers_agree(left, right):
        return 1.0
    # An abbreviation's digits are the initials of numbers ("fhvn2p": "... non slip 20 pack").
    return max(NUMBERS_DIFFER, _abbreviation_score(left, right))


def _street_ceiling(left: str, right: str) -> float:
    a, b = std.street_numbers(left), std.street_numbers(right)
    if _agree(a, left, b, right):
        return 1.0
    if len(a) == len(b) and sum(x != y for x, y in zip(a, b, strict=True)) == 1:
        x, y = next((x, y) for x, y in zip(a, b, strict=True) if x != y)
        if abs(len(x) - len(y)) == 1 and Levenshtein.distance(x, y) == 1:
            return NUMBER_DROPPED
    return NUMBERS_DIFFER


NUMBER_MISTYPED = 0.55
"""The most two codes can score whose digits differ in one place only, one digit for another or
two neighbouring digits swapped ("T83750" and "T83720", "A65497" and "A64597"): a typist's slip
or a neighbour in the numbering, more often the slip than codes further apart ("SAF10060" and
"SAF10009": another item). Rules give it its own level, between ``NUMBERS_DIFFER`` and the
levels whose digits agree."""


def digit_mistyped(a: str, b: str) -> bool:
    """Whether two digit strings of one length differ in one digit or by two neighbouring
    digits swapped."""
    if len(a) != len(b) or a == b:
        return False
    wrong = [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
    if len(wrong) == 1:
        return True
    i = wrong[0]
    return len(wrong) == 2 and wrong[1] == i + 1 and a[i] == b[i + 1] and a[i + 1] == b[i]


def _code_ceiling(left: str, right: str) -> float:
    a, b = std.code_numbers(left), std.code_numbers(right)
    if not a or not b or a == b:
        return 1.0
    return NUMBER_MISTYPED if digit_mistyped(a, b) else NUMBERS_DIFFER


NUMBERS_CLOSE = 0.6
"""Values at least this similar whose numbers disagree score ``NUMBERS_DIFFER`` (or
``NUMBER_DROPPED``): the look-alikes that differ in a number. Less similar ones score at most
``NUMBERS_FAR``, with the values that differ anyway, below the look-alikes' level."""
NUMBERS_FAR = 0.45


CODE_NUMBER_LEVELS = NUMBERS_CLOSE
"""Codes whose digits agree but that are less similar than this score at most ``NUMBERS_FAR``:
the similarities just below it are the levels of codes whose digits differ
(``NUMBER_MISTYPED``, ``NUMBERS_DIFFER``), not of two codes of one number with many letters
apart."""


def _cap(score: float, left: str, right: str, ceiling: Ceiling, reserved: float = 0.0) -> float:
    """``score`` under what the numbers of two different values allow; a score of values whose
    numbers agree that falls among the numbers' levels (above ``NUMBERS_FAR``, below
    ``reserved``) is ``NUMBERS_FAR``."""
    allowed = ceiling(left, right)
    if allowed >= 1.0:
        return NUMBERS_FAR if NUMBERS_FAR < score < reserved else score
    if allowed < 1.0 and score < NUMBERS_CLOSE:
        allowed = NUMBERS_FAR
    return min(score, allowed)


def _capped(
    score: float | None,
    a: Features,
    b: Features,
    feature: str,
    ceiling: Ceiling,
    reserved: float = 0.0,
) -> float | None:
    if score is None or score <= NUMBERS_FAR or a[feature] == b[feature]:
        return score
    return _cap(score, a[feature], b[feature], ceiling, reserved)


SHORT_FORM_SCORE = 0.65
"""What a product name scores against another when it is a short form of no known shape: one
word of at most ``SHORT_FORM_LENGTH`` characters that starts as the other, much longer, name does
but is no abbreviation ``abbreviation`` recognises ("bswt" for "banana republic wool topcoat",
"stemrvce" for "steam rice cooker fuzzy logic 10 cup", "cw" for "cryptovaultwallet"). A mangled
short form says little either way: rules give it a level of about no weight, not the strong
evidence against of two names that differ."""
SHORT_FORM_LENGTH = 8


def short_form(short: str, long: str) -> bool:
    """Whether ``short`` is a short form of ``long`` as far as one can tell: one word of 2 to
    ``SHORT_FORM_LENGTH`` characters, the same first letter, and ``long`` more than one word or
    at least twice as long."""
    return (
        2 <= len(short) <= SHORT_FORM_LENGTH
        and " " not in short
        and short[0] == long[:1]
        and (" " in long or len(long) >= 2 * len(short))
    )


def _short_form_score(left: str, right: str) -> float:
    short, long = (left, right) if len(left) <= len(right) else (right, left)
    return SHORT_FORM_SCORE if short_form(short, long) else 0.0


def text(a: Features, b: Features, feature: str) -> float | None:
    """``name`` for descriptions (product names): at most ``NUMBERS_DIFFER`` when the numbers
    disagree ("Nitrile Gloves, 6 mil, Size L" and "... 4 mil ..." are two products), unless one
    is an abbreviation of the other; a short form of the other scores ``SHORT_FORM_SCORE``."""
    score = name(a, b, feature)
    if score is not None and score < SHORT_FORM_SCORE:
        score = max(score, _short_form_score(a[feature], b[feature]))
    return _capped(score, a, b, feature, _text_ceiling)


def street(a: Features, b: Features, feature: str) -> float | None:
    """Edit similarity of two standardised street lines, at most ``NUMBERS_DIFFER`` when their
    numbers disagree ("171 gutenberg st" and "141 gutenberg st" are two buildings, while "4680
    copper ave" and "4680 coper ave" are one), ``NUMBER_DROPPED`` when a house number lost or
    doubled a digit."""
    return _capped(levenshtein(a, b, feature), a, b, feature, _street_ceiling)


def code(a: Features, b: Features, feature: str) -> float | None:
    """Edit similarity of two standardised codes (SKU, MPN, site code), at most
    ``NUMBERS_DIFFER`` when their digits differ: a mistyped letter is a typo, another number is
    another item (or site) of the same numbering."""
    return _capped(levenshtein(a, b, feature), a, b, feature, _code_ceiling, CODE_NUMBER_LEVELS)


PHONE_CORE = 7
"""The fewest digits a phone number written without its country code or extension has."""


def same_number(e164_a: str, digits_a: str, e164_b: str, digits_b: str) -> bool:
    """Whether two phone numbers are one written with and without its country code (the
    E.164 digits of one end with those of the other: "+13805550181" read in Czechia as
    "+42013805550181") or with and without an extension run into it (the digit string of one
    starts with that of the other: "4115550182" and "41155501825658"), the shorter one at least
    ``PHONE_CORE`` digits long."""
    for short, long in (
        sorted((e164_a.lstrip("+"), e164_b.lstrip("+")), key=len),
        sorted((digits_a, digits_b), key=len),
    ):
        if PHONE_CORE <= len(short) < len(long) and (
            long.endswith(short) or long.startswith(short)
        ):
            return True
    return False


def phone(a: Features, b: Features, feature: str) -> float | None:
    """1 when the E.164 numbers or the digit strings (extension included) agree, or they are
    one number with and without its country code or extension (``same_number``); otherwise
    the edit similarity of the digit strings (a mistyped digit scores high)."""
    pair = _pair(a, b, feature)
    if pair is None:
        return None
    digits_a, digits_b = a.get(f"{feature}.digits", ""), b.get(f"{feature}.digits", "")
    if pair[0] == pair[1] or (digits_a and digits_a == digits_b):
        return 1.0
    if same_number(pair[0], digits_a, pair[1], digits_b):
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
    "text": text,
    "street": street,
    "code": code,
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
    elif comparator == "text":
        values = _vector_name(ls, rs)
        for i in np.flatnonzero(values < SHORT_FORM_SCORE).tolist():
            values[i] = max(values[i], _short_form_score(ls[i], rs[i]))
        values = _cap_vector(values, ls, rs, _text_ceiling)
    elif comparator == "street":
        values = _cpdist(Levenshtein.normalized_similarity, ls, rs)
        values = _cap_vector(values, ls, rs, _street_ceiling)
    elif comparator == "code":
        values = _cpdist(Levenshtein.normalized_similarity, ls, rs)
        values = _cap_vector(values, ls, rs, _code_ceiling, CODE_NUMBER_LEVELS)
    else:
        scalar = SCALAR[comparator]
        values = np.array(
            [scalar({"f": x}, {"f": y}, "f") for x, y in zip(ls, rs, strict=True)], dtype=float
        )
    out[present] = values
    return out


def _cap_vector(
    values: np.ndarray, left: list[str], right: list[str], ceiling: Ceiling, reserved: float = 0.0
) -> np.ndarray:
    """``_capped`` for many pairs: the ceiling is asked only of pairs above ``NUMBERS_FAR``
    whose values differ (numbers rarely matter: most pairs are settled without a Python call)."""
    for i in np.flatnonzero(values > NUMBERS_FAR).tolist():
        if left[i] != right[i]:
            values[i] = _cap(float(values[i]), left[i], right[i], ceiling, reserved)
    return values


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
    # One number with and without its country code or extension: lengths differ.
    lengths = np.vectorize(len, otypes=[np.int64])
    unequal = ~same & (
        (lengths(number_a) != lengths(number_b)) | (lengths(digits_a) != lengths(digits_b))
    )
    for i in np.flatnonzero(unequal).tolist():
        same[i] = same_number(number_a[i], digits_a[i], number_b[i], digits_b[i])
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
