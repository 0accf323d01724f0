"""Who or what made a change: the origin written on every history row.

Service functions receive a ``ChangeOrigin`` and write history rows themselves (in bulk, with the
fields each change touched). Saves outside the services, such as an admin editing an ownership
rule, get their origin from the ``pre_create_historical_record`` hook below: whatever
``origin_scope`` set for the current context, else the request's user through the admin channel,
else (a save from ``manage.py shell`` or a script, outside any request) the operating-system user
as a command: no history row is written without an actor.
"""

from __future__ import annotations

import contextlib
import contextvars
import getpass
import os
import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import models
from django.dispatch import receiver
from django.utils import timezone
from simple_history.models import HistoricalRecords
from simple_history.signals import pre_create_historical_record

from golden_records.bulk import bulk_insert
from golden_records.models import ActorType, Channel


@dataclass(frozen=True)
class ChangeOrigin:
    actor_type: str
    actor: str
    channel: str
    user_id: int | None = None
    reason: str = ""

    @classmethod
    def source_system(cls, code: str, channel: str = Channel.API, reason: str = "") -> ChangeOrigin:
        return cls(ActorType.SOURCE_SYSTEM, code, channel, reason=reason)

    @classmethod
    def steward(cls, user: Any, channel: str = Channel.UI, reason: str = "") -> ChangeOrigin:
        return cls(ActorType.STEWARD, user.get_username(), channel, user_id=user.pk, reason=reason)

    @classmethod
    def task(cls, name: str, reason: str = "") -> ChangeOrigin:
        return cls(ActorType.TASK, name, Channel.TASK, reason=reason)

    @classmethod
    def command(cls, name: str, reason: str = "", actor: str | None = None) -> ChangeOrigin:
        """A management command run by ``actor`` (its ``--actor`` option), else by the
        operating-system user; the reason names the command."""
        reason = f"{name}: {reason}" if reason else name
        return cls(ActorType.COMMAND, actor or os_user(), Channel.COMMAND, reason=reason)

    def with_reason(self, reason: str) -> ChangeOrigin:
        return ChangeOrigin(self.actor_type, self.actor, self.channel, self.user_id, reason)


def os_user() -> str:
    """The login name of the process's user; its uid where it has none (a container user
    without a passwd entry)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return f"uid:{os.getuid()}"


def _process_label() -> str:
    """What this process is, for a history row nobody labelled: ``manage.py shell``, a script."""
    program = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else "python"
    if program in ("manage.py", "django-admin") and len(sys.argv) > 1:
        return f"{program} {sys.argv[1]}"
    return program


_current_origin: contextvars.ContextVar[ChangeOrigin | None] = contextvars.ContextVar(
    "mdm_change_origin", default=None
)


@contextlib.contextmanager
def origin_scope(origin: ChangeOrigin) -> Iterator[None]:
    """Saves inside this block are recorded with ``origin``."""
    token = _current_origin.set(origin)
    try:
        yield
    finally:
        _current_origin.reset(token)


@receiver(pre_create_historical_record)
def _fill_origin(sender: Any, instance: Any, history_instance: Any, **kwargs: Any) -> None:
    origin = _current_origin.get()
    if origin is not None:
        history_instance.actor_type = origin.actor_type
        history_instance.actor = origin.actor
        history_instance.channel = origin.channel
        if origin.reason and not history_instance.history_change_reason:
            history_instance.history_change_reason = origin.reason
        if origin.user_id is not None and history_instance.history_user_id is None:
            history_instance.history_user_id = origin.user_id
        return
    user = history_instance.history_user
    if user is not None:
        history_instance.actor_type = ActorType.STEWARD
        history_instance.actor = user.get_username()
        history_instance.channel = Channel.ADMIN
        return
    if getattr(HistoricalRecords.context, "request", None) is None:
        # No origin and no request: the shell, a script, a command that set no scope.
        history_instance.actor_type = ActorType.COMMAND
        history_instance.actor = os_user()
        history_instance.channel = Channel.COMMAND
        if not history_instance.history_change_reason:
            history_instance.history_change_reason = _process_label()


def history_rows(
    model: type[models.Model],
    objs: Iterable[models.Model],
    history_type: str,
    origin: ChangeOrigin,
    changed_fields: dict[Any, Sequence[str]] | None = None,
    when: Any = None,
) -> list[models.Model]:
    """Historical rows for ``objs`` as they are now, each with the origin and its changed fields."""
    history_model = model.history.model  # type: ignore[attr-defined]
    tracked = history_model.tracked_fields
    when = when or timezone.now()
    rows = []
    for obj in objs:
        rows.append(
            history_model(
                history_date=when,
                history_type=history_type,
                history_user_id=origin.user_id,
                history_change_reason=origin.reason or None,
                actor_type=origin.actor_type,
                actor=origin.actor,
                channel=origin.channel,
                changed_fields=list((changed_fields or {}).get(obj.pk, ())),
                **{f.attname: getattr(obj, f.attname) for f in tracked},
            )
        )
    return rows


def write_history(
    model: type[models.Model],
    objs: Iterable[models.Model],
    history_type: str,
    origin: ChangeOrigin,
    changed_fields: dict[Any, Sequence[str]] | None = None,
    when: Any = None,
) -> None:
    rows = history_rows(model, objs, history_type, origin, changed_fields, when)
    bulk_insert(model.history.model, rows)  # type: ignore[attr-defined]
