"""Finance's receivables: what is owed (aging and the invoiced-versus-paid chart), payment
reminders under renteloven, and claims marked as disputed (which get no reminders)."""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user

from core import dates
from core.db import database, get_session
from core.models import InvoiceKind, Reminder, Role
from invoices import payments, queries, receivables, reminders
from portal.auth import role_required
from portal.forms.payments import ButtonForm, DisputeForm, SendForm
from portal.views import Done, submit

bp = Blueprint("receivables", __name__)

FINANCE = (Role.FINANCE, Role.ADMIN)
BUCKET_LABELS = {
    "not_due": _l("Not due"),
    "d1_30": _l("1–30 days"),
    "d31_60": _l("31–60 days"),
    "d61_90": _l("61–90 days"),
    "d90_plus": _l("Over 90 days"),
}
RECEIVABLES_TOP = 50  # customers in the aging table, most overdue first


@bp.get("/finance/reminders")
@role_required(*FINANCE)
def reminders_page():
    today = dates.today()
    listed = queries.reminder_overview(get_session(), today, request.args)
    return render_template(
        "receivables/reminders.html",
        business_day=today,
        due=listed.due,
        waiting=listed.waiting,
        disputed=listed.disputed,
        sent=listed.sent,
        button=ButtonForm(),
        send_form=SendForm(),
        dispute_form=DisputeForm(),
    )


@bp.post("/finance/reminders/send")
@role_required(*FINANCE)
def send_reminders():
    by_id = current_user.id
    back = url_for("receivables.reminders_page")
    # The reminders go out after this commits, one invoice per transaction (each is sent at
    # most once per level, whoever else is sending at the same time).
    return submit(SendForm(), lambda: Done(back, "", after_commit=lambda: _send(by_id)), back=back)


def _send(by_id: int) -> None:
    sent = reminders.send_due_reminders(database().sessionmaker, by_id=by_id)
    flash(ngettext("%(num)d reminder sent.", "%(num)d reminders sent.", len(sent)), "success")


@bp.get("/finance/reminders/<int:reminder_id>.pdf")
@role_required(*FINANCE)
def reminder_pdf(reminder_id: int):
    reminder = get_session().get(Reminder, reminder_id)
    if reminder is None or not reminder.pdf:
        abort(404)
    filename = f"rykker-{reminder.level}-{reminder.invoice.display_number}.pdf"
    return Response(
        reminder.pdf,
        mimetype="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{filename}"'},
    )


@bp.post("/finance/invoices/<int:invoice_id>/dispute")
@role_required(*FINANCE)
def dispute(invoice_id: int):
    invoice = queries.issued(get_session(), invoice_id, kind=InvoiceKind.INVOICE)
    if invoice is None:
        abort(404)
    form = DisputeForm()
    disputed = request.form.get("disputed") == "1"

    def marked() -> Done:
        payments.set_disputed(get_session(), invoice, current_user, disputed, form.note.data or "")
        return Done(url_for("receivables.reminders_page"), _dispute_message(invoice, disputed))

    return submit(form, marked, back=url_for("receivables.reminders_page"))


def _dispute_message(invoice, disputed: bool) -> str:
    number = invoice.display_number
    if disputed:
        return _("Invoice %(number)s is marked as disputed; it gets no reminders.", number=number)
    return _("Invoice %(number)s is no longer disputed.", number=number)


@bp.get("/finance/receivables")
@role_required(*FINANCE)
def receivables_page():
    session = get_session()
    today = dates.today()
    months = receivables.monthly(session, today)
    return render_template(
        "receivables/receivables.html",
        summary=receivables.aging(session, today),
        months=months,
        chart=receivables.chart(months),
        buckets=receivables.BUCKETS,
        bucket_labels=BUCKET_LABELS,
        top=RECEIVABLES_TOP,
    )
