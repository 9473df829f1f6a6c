"""Every write may arrive twice: one-time form keys and what each post did.

A form that creates money or hours carries a one-time key (`portal.forms.OnceForm`, rendered
by `hidden_tag()`). The form-route helper (`portal.views.submit`) runs its service through
`once()`, which claims the key in the same transaction as the service's effects. A double
click, a retry or a second tab sending the same form finds the claim and is shown the first
result; nothing happens twice. Two posts that race meet at the claim's primary key: on
PostgreSQL the second waits for the first to commit and then finds its row; on SQLite every
POST takes the write lock before it reads (`core.db`), so the second simply reads the first's
row.

The key is scoped to the URL it is sent to, so one page may share a key among several small
forms (one per shift, say); the same key sent again with other values is refused.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING

from flask import flash, redirect, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core import dates
from core.models import Submission
from portal.forms import KEY_FIELD, OnceForm

if TYPE_CHECKING:
    from portal.views import Done


def once(
    session: Session,
    form: OnceForm,
    perform: Callable[[], Done],
    on_error: Callable[[str], ResponseReturnValue],
    run: Callable[..., ResponseReturnValue],
) -> ResponseReturnValue:
    """Run `perform` through `run` (portal.views.run: commit, tell, redirect) once for the
    form's key; a repeat of the key is redirected to the first result.

    The claim is written in the same transaction as the work, before it: a domain error rolls
    both back (the corrected form can be sent again), and a second post with the key waits
    for the first and then finds its claim."""
    key = scoped_key(form.idempotency_key.data)
    fingerprint = _fingerprint()
    user_id = current_user.id if current_user.is_authenticated else None
    first = _find(session, key)
    if first is not None:
        return _repeat(first, user_id, fingerprint, on_error)
    claim = Submission(
        key=key,
        user_id=user_id,
        endpoint=(request.endpoint or "")[:100],
        fingerprint=fingerprint,
        result_url="",
        message="",
    )
    try:
        with session.begin_nested():
            session.add(claim)
    except IntegrityError:
        # The same form committed while this post waited for it.
        session.rollback()
        first = _find(session, key)
        if first is None:
            raise
        return _repeat(first, user_id, fingerprint, on_error)

    def perform_and_remember() -> Done:
        done = perform()
        claim.result_url, claim.message = done.url[:500], done.message
        return done

    return run(session, perform_and_remember, on_error)


def prune(session: Session, *, days: int) -> int:
    """Delete the records of posts older than `days` days; returns how many went."""
    cutoff = dates.now() - timedelta(days=days)
    return session.execute(delete(Submission).where(Submission.created_at < cutoff)).rowcount


def scoped_key(form_key: str) -> str:
    return hashlib.sha256(f"{form_key}|{request.path}".encode()).hexdigest()


def _find(session: Session, key: str) -> Submission | None:
    return session.scalar(select(Submission).where(Submission.key == key))


def _repeat(
    first: Submission,
    user_id: int | None,
    fingerprint: str,
    on_error: Callable[[str], ResponseReturnValue],
) -> ResponseReturnValue:
    if first.user_id != user_id or first.fingerprint != fingerprint:
        return on_error(
            _(
                "This form has already been sent with other values. Open the page again to "
                "start over."
            )
        )
    flash(
        _("The form was sent more than once; it took effect once. %(first)s", first=first.message),
        "info",
    )
    return redirect(first.result_url)


def _fingerprint() -> str:
    """What the post carried besides its tokens, uploaded files included."""
    digest = hashlib.sha256()
    for name in sorted(request.form):
        if name in ("csrf_token", KEY_FIELD):
            continue
        for value in request.form.getlist(name):
            digest.update(f"{name}={value}\x00".encode())
    for name in sorted(request.files):
        for upload in request.files.getlist(name):
            digest.update(f"{name}:{upload.filename}\x00".encode())
            position = upload.stream.tell()
            digest.update(upload.stream.read())
            upload.stream.seek(position)
    return digest.hexdigest()
