"""Finance's view of the outbox: every message not delivered yet (what, to whom, since when,
how often tried, why not, next try), with *Send again* and *Give up*, each once per click."""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from core import outbox
from core.db import get_session
from core.models import OutboxMessage, OutboxState, Role
from core.pages import page_number, paginate
from portal.auth import role_required
from portal.forms.invoices import GiveUpForm, SendAgainForm
from portal.views import Done, submit

bp = Blueprint("outbox", __name__)

FINANCE = (Role.FINANCE, Role.ADMIN)
KIND_LABELS = {
    "invoice": _l("Invoice"),
    "credit_note": _l("Credit note"),
    "einvoice": _l("E-invoice"),
    "reminder": _l("Reminder"),
    "account": _l("Log-in e-mail"),
    "order": _l("Order or job e-mail"),
    "hours": _l("Hours e-mail"),
}
STATE_LABELS = {
    OutboxState.QUEUED: _l("Waiting"),
    OutboxState.SENDING: _l("Being sent"),
    OutboxState.RETRYING: _l("Will try again"),
    OutboxState.DELIVERED: _l("Delivered"),
    OutboxState.GIVEN_UP: _l("Given up"),
}


@bp.get("/finance/outbox")
@role_required(*FINANCE)
def undelivered():
    session = get_session()
    listing = paginate(session, outbox.undelivered(), page_number(request.args.get("page")))
    return render_template(
        "outbox/undelivered.html",
        listing=listing,
        kinds=KIND_LABELS,
        states=STATE_LABELS,
        send_form=SendAgainForm(),
        give_up_form=GiveUpForm(),
    )


def _message(message_id: int) -> OutboxMessage:
    row = get_session().get(OutboxMessage, message_id)
    if row is None:
        abort(404)
    return row


@bp.post("/finance/outbox/<int:message_id>/send")
@role_required(*FINANCE)
def send_again(message_id: int):
    row, back = _message(message_id), url_for("outbox.undelivered")

    def queued() -> Done:
        outbox.resend(get_session(), row, current_user)
        return Done(back, _("The message is on its way again."))

    return submit(SendAgainForm(), queued, back=back)


@bp.post("/finance/outbox/<int:message_id>/give-up")
@role_required(*FINANCE)
def give_up(message_id: int):
    row, back = _message(message_id), url_for("outbox.undelivered")
    form = GiveUpForm()

    def given_up() -> Done:
        default = _("given up by %(name)s", name=current_user.email)
        reason = (form.reason.data or "").strip() or default
        outbox.give_up(get_session(), row, reason, current_user)
        return Done(back, _("The message will not be sent."))

    return submit(form, given_up, back=back)
