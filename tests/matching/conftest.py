from __future__ import annotations

import pytest

from matching import online


@pytest.fixture(autouse=True)
def _fresh_saturation_memory():
    """online._saturated is process-wide: keep one test's saturated keys out of the next."""
    online._saturated.clear()
    yield
    online._saturated.clear()
