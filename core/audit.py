"""The append-only audit log."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from core.models import AuditEvent, Base, User


def record(
    session: Session,
    actor: User | None,
    action: str,
    obj: Base | None = None,
    **details: Any,
) -> AuditEvent:
    """Append one event; the caller's commit makes it permanent with the change it describes."""
    if obj is not None and getattr(obj, "id", None) is None:
        session.flush()
    event = AuditEvent(
        actor_id=actor.id if actor is not None and actor.is_authenticated else None,
        action=action,
        object_type=type(obj).__name__ if obj is not None else "",
        object_id=getattr(obj, "id", None),
        details=_jsonable(details),
    )
    session.add(event)
    return event


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, bool | int | str):
        return value
    return str(value)
