"""Random draws shared by every part of the demo (always from the world's one ``Random``)."""

from __future__ import annotations

from collections.abc import Sequence
from random import Random
from typing import Any


def weighted(rng: Random, options: Sequence[tuple[Any, int]]) -> Any:
    return rng.choices([o for o, _ in options], weights=[w for _, w in options])[0]


def chance(rng: Random, p: float) -> bool:
    return rng.random() < p
