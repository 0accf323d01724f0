"""Browser tests: Playwright (pytest-playwright) drives Debian's Chromium, headless."""

from __future__ import annotations

import os

import pytest

CHROMIUM = os.environ.get("MDM_CHROMIUM", "/usr/bin/chromium")


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "headless": True}


@pytest.fixture(scope="session")
def _async_unsafe_allowed():
    """Playwright's sync API keeps an event loop in the test thread; Django refuses ORM calls
    from a thread with a running loop unless told the calls are synchronous (they are: the
    live server runs in its own thread). Set once the first browser test starts, since the
    session's browser keeps running until the end."""
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
