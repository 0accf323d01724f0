"""``--actor``: who runs a command that writes, for its history rows (default: the OS user)."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from golden_records.history import ChangeOrigin


def add_actor_argument(parser: ArgumentParser) -> None:
    parser.add_argument(
        "--actor",
        default=None,
        help="Who runs this, written on every history row it causes (default: the login name "
        "of the operating-system user).",
    )


def command_origin(name: str, options: dict[str, Any], reason: str = "") -> ChangeOrigin:
    return ChangeOrigin.command(name, reason=reason, actor=(options.get("actor") or "").strip())
