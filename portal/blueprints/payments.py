"""Payments: card payment (employer page and public pay link), the Stripe webhook, and
finance's bank import, manual payments, reminders and receivables."""

from __future__ import annotations

import logging
from datetime import date

import stripe
from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf.file import FileField, FileRequired
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from wtforms import (
    DateField,
    RadioField,
    SelectChoice,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from core import links
from core.db import database, get_session
from core.errors import DomainError
from core.models import (
    BankImport,
    BankLine,
    BankLineStatus,
    Invoice,
    InvoiceFlags,
    InvoiceKind,
    Payment,
    PaymentMethod,
    Reminder,
    Role,
)
from invoices import bank_import, payments, receivables, reminders
from invoices.stripe_gateway import StripeGateway, WebhookRefused
from portal.auth import role_required
from portal.forms import Form, MoneyField
from portal.security import csrf, limiter
from portal.submissions import Done, OnceForm, flash_and_redirect, once

log = logging.getLogger(__name__)
bp = Blueprint("payments", __name__)

FINANCE = (Role.FINANCE, Role.ADMIN)
BUCKET_LABELS = {
    "not_due": _l("Not due"),
    "d1_30": _l("1–30 days"),
    "d31_60": _l("31–60 days"),
    "d61_90": _l("61–90 days"),
    "d90_plus": _l("Over 90 days"),
}
LINE_STATUS_LABELS = {
    BankLineStatus.MATCHED: _l("Recorded"),
    BankLineStatus.MANUAL: _l("Recorded by hand"),
    BankLineStatus.UNMATCHED: _l("Not matched"),
    BankLineStatus.DUPLICATE: _l("Already recorded"),
    BankLineStatus.OUTGOING: _l("Outgoing, ignored"),
}
METHOD_LABELS = {
    PaymentMethod.CARD: _l("Card"),
    PaymentMethod.BANK: _l("Bank transfer"),
    PaymentMethod.MANUAL: _l("Registered by hand"),
}


def gateway() -> StripeGateway | None:
    return current_app.extensions["stripe"]


@bp.app_context_processor
def _payment_context():
    return {
        "card_payments": gateway() is not None,
        "method_labels": METHOD_LABELS,
        "invoice_payable": payments.payable,
        "card_failure": lambda invoice: payments.latest_card_failure(get_session(), invoice),
    }


def invoice_by_number(session, text: str) -> Invoice | None:
    """An issued invoice by its number ('F-2026-0001') or its FI payment id."""
    text = (text or "").strip()
    match = bank_import.INVOICE_NUMBER.fullmatch(text)
    if match:
        series, year, number = match.groups()
        return session.scalar(
            select(Invoice).where(
                Invoice.series == series.upper(),
                Invoice.year == int(year),
                Invoice.number == int(number),
                Invoice.kind == InvoiceKind.INVOICE,
            )
        )
    if text.isdigit() and len(text) == 15:
        return session.scalar(
            select(Invoice).where(Invoice.payment_id == text, Invoice.kind == InvoiceKind.INVOICE)
        )
    return None


class InvoiceNumber:
    """The field names an issued invoice; the form gets it as `form.invoice`."""

    def __call__(self, form, field):
        invoice = invoice_by_number(get_session(), field.data)
        if invoice is None:
            raise ValidationError(_l("No invoice with that number (e.g. F-2026-0001)."))
        form.invoice = invoice


# --- card payment: the employer's page and the public pay link ---------------------------------


def _card_page(invoice: Invoice, *, public_token: str | None = None):
    session = get_session()
    gw = gateway()
    if gw is None:
        abort(404)
    client_secret = None
    error = None
    if payments.payable(invoice):
        try:
            _row, client_secret = payments.card_intent_for(session, gw, invoice)
            session.commit()
        except DomainError as problem:
            session.rollback()
            error = problem.message
        except stripe.StripeError:
            session.rollback()
            log.exception("Stripe refused an intent for invoice %s", invoice.id)
            error = _("Card payment is not available right now. Please try again later.")
    failure = payments.latest_card_failure(session, invoice)
    return_url = (
        url_for("payments.pay_link", token=public_token, _external=False)
        if public_token
        else url_for("payments.pay_invoice", invoice_id=invoice.id)
    )
    return render_template(
        "payments/pay.html",
        invoice=invoice,
        client_secret=client_secret,
        publishable_key=gw.publishable_key,
        stripe_js_url=gw.js_url,
        error=error,
        failure=failure,
        return_url=return_url,
        public_token=public_token,
        overpaid_ore=payments.overpaid_ore(invoice),
        # MobilePay when the Stripe account offers it (STRIPE_PAYMENT_METHOD_TYPES lists it).
        mobilepay="mobilepay" in gw.payment_method_types,
        absolute_return_url=links.absolute_url(
            "payments.pay_link" if public_token else "payments.pay_invoice",
            **({"token": public_token} if public_token else {"invoice_id": invoice.id}),
        ),
    )


@bp.get("/invoices/<int:invoice_id>/pay")
@role_required(Role.EMPLOYER)
def pay_invoice(invoice_id: int):
    session = get_session()
    invoice = session.get(Invoice, invoice_id)
    if (
        invoice is None
        or invoice.number is None
        or invoice.kind != InvoiceKind.INVOICE
        or invoice.employer_id != current_user.employer_id
    ):
        abort(404)
    return _card_page(invoice)


def _invoice_from_token(token: str) -> Invoice:
    invoice_id = links.invoice_id_from_pay_token(token)
    if invoice_id is None:
        abort(404)
    invoice = get_session().get(Invoice, invoice_id)
    if invoice is None or invoice.number is None or invoice.kind != InvoiceKind.INVOICE:
        abort(404)
    return invoice


@bp.get("/pay/<token>")
@limiter.limit("60 per minute")
def pay_link(token: str):
    """The signed, expiring link from the invoice e-mail: this one invoice, no login."""
    return _card_page(_invoice_from_token(token), public_token=token)


@bp.get("/pay/<token>/invoice.pdf")
@limiter.limit("60 per minute")
def pay_link_pdf(token: str):
    invoice = _invoice_from_token(token)
    if not invoice.pdf:
        abort(404)
    return Response(
        invoice.pdf,
        mimetype="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{invoice.display_number}.pdf"'},
    )


# --- the Stripe webhook ------------------------------------------------------------------------


@bp.post("/stripe/webhook")
@csrf.exempt
def stripe_webhook():
    """Stripe's events: the signature is checked first; each event id is applied once."""
    gw = gateway()
    if gw is None or not gw.webhook_secret:
        abort(404)
    payload = request.get_data(cache=False)
    try:
        event = gw.verify(payload, request.headers.get("Stripe-Signature"))
    except WebhookRefused as refusal:
        log.warning("Stripe webhook refused: %s", refusal)
        return {"error": "invalid signature"}, 400
    session = get_session()
    try:
        outcome = payments.apply_stripe_event(session, event)
        session.commit()
    except DomainError as problem:
        session.rollback()
        log.warning("Stripe event %s not applied: %s", event.get("id"), problem.message)
        return {"error": problem.message}, 400
    return {"received": True, "outcome": outcome}


# --- finance: payments by hand, refunds, the payments overview ---------------------------------


class ManualPaymentForm(OnceForm):
    invoice_number = StringField(
        _l("Invoice number"),
        validators=[DataRequired(), Length(max=30), InvoiceNumber()],
        description=_l("E.g. F-2026-0001, or the 15-digit payment id."),
    )
    kind = RadioField(
        _l("Kind"),
        choices=[
            SelectChoice("payment", _l("Payment received")),
            SelectChoice("refund", _l("Refund paid back")),
        ],
        default="payment",
    )
    amount = MoneyField(_l("Amount (kr.)"), validators=[InputRequired()], min_ore=1)
    received_on = DateField(_l("Date"), validators=[DataRequired()])
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=500)])


@bp.route("/finance/payments/new", methods=["GET", "POST"])
@role_required(*FINANCE)
def manual_payment():
    session = get_session()
    form = ManualPaymentForm()
    if request.method == "GET":
        form.received_on.data = date.today()
        form.invoice_number.data = request.args.get("invoice", "")[:30]

    def page(error: str | None = None):
        if error:
            form.form_errors.append(error)
        status = 400 if request.method == "POST" else 200
        return render_template("payments/manual.html", form=form), status

    if not form.validate_on_submit():
        return page()

    def perform() -> Done:
        invoice = form.invoice
        # The form's one-time key is also the payment's external id: unique in the database.
        record = payments.record_refund if form.kind.data == "refund" else payments.record_payment
        record(
            session,
            invoice,
            form.amount.data,
            PaymentMethod.MANUAL,
            f"manual:{form.idempotency_key.data}",
            bank_import.received_at(form.received_on.data),
            current_user,
            form.note.data or "",
        )
        return Done(
            url_for("payments.overview"),
            _("Payment registered on invoice %(number)s.", number=invoice.display_number),
        )

    return once(session, form, perform, page)


class ButtonForm(Form):
    pass


class SendForm(OnceForm):
    pass


class DisputeForm(Form):
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=500)])


@bp.get("/finance/payments")
@role_required(*FINANCE)
def overview():
    session = get_session()
    recent = session.scalars(
        select(Payment)
        .options(selectinload(Payment.invoice))
        .order_by(Payment.received_at.desc(), Payment.id.desc())
        .limit(100)
    ).all()
    unassigned = session.scalars(
        select(Payment).where(Payment.invoice_id.is_(None)).order_by(Payment.received_at)
    ).all()
    prompts = session.scalars(
        select(InvoiceFlags)
        .where(InvoiceFlags.credit_note_prompt_at.is_not(None))
        .options(selectinload(InvoiceFlags.invoice))
    ).all()
    return render_template(
        "payments/overview.html",
        recent=recent,
        unassigned=unassigned,
        prompts=prompts,
        button=ButtonForm(),
        assign_form=InvoiceNumberForm(),
    )


class InvoiceNumberForm(OnceForm):
    """Which invoice a payment or a bank line belongs to, by its number."""

    invoice_number = StringField(
        _l("Invoice number"), validators=[DataRequired(), Length(max=30), InvoiceNumber()]
    )


@bp.post("/finance/payments/<int:payment_id>/assign")
@role_required(*FINANCE)
def assign_payment(payment_id: int):
    session = get_session()
    payment = session.get(Payment, payment_id)
    if payment is None:
        abort(404)
    back = url_for("payments.overview")
    form = InvoiceNumberForm()
    if not form.validate_on_submit():
        flash(" ".join(form.invoice_number.errors) or _("Enter an invoice number."), "error")
        return redirect(back)

    def perform() -> Done:
        payments.assign(session, payment, form.invoice, current_user)
        number = form.invoice.display_number
        return Done(back, _("Payment recorded on invoice %(number)s.", number=number))

    return once(session, form, perform, flash_and_redirect(back))


def _finance_invoice(session, invoice_id: int) -> Invoice:
    invoice = session.get(Invoice, invoice_id)
    if invoice is None or invoice.number is None or invoice.kind != InvoiceKind.INVOICE:
        abort(404)
    return invoice


@bp.post("/finance/invoices/<int:invoice_id>/credit-note-prompt/dismiss")
@role_required(*FINANCE)
def dismiss_prompt(invoice_id: int):
    session = get_session()
    invoice = _finance_invoice(session, invoice_id)
    if not ButtonForm().validate_on_submit():
        abort(400)
    payments.dismiss_credit_note_prompt(session, invoice, current_user)
    session.commit()
    return redirect(url_for("payments.overview"))


@bp.post("/finance/invoices/<int:invoice_id>/dispute")
@role_required(*FINANCE)
def dispute(invoice_id: int):
    session = get_session()
    invoice = _finance_invoice(session, invoice_id)
    form = DisputeForm()
    if not form.validate_on_submit():
        abort(400)
    disputed = request.form.get("disputed") == "1"
    try:
        payments.set_disputed(session, invoice, current_user, disputed, form.note.data or "")
    except DomainError as problem:
        session.rollback()
        flash(problem.message, "error")
        return redirect(url_for("payments.reminders_page"))
    session.commit()
    flash(
        _(
            "Invoice %(number)s is marked as disputed; it gets no reminders.",
            number=invoice.display_number,
        )
        if disputed
        else _("Invoice %(number)s is no longer disputed.", number=invoice.display_number),
        "success",
    )
    return redirect(url_for("payments.reminders_page"))


# --- finance: bank statement import ------------------------------------------------------------


class BankImportForm(OnceForm):
    statement = FileField(
        _l("Bank statement (CSV)"),
        validators=[FileRequired(_l("Choose the CSV file from your bank."))],
        description=_l(
            "Columns: booking date, amount and text. Separated by ; or , – see the "
            "README for the accepted formats."
        ),
    )


@bp.route("/finance/bank-import", methods=["GET", "POST"])
@role_required(*FINANCE)
def bank_import_page():
    session = get_session()
    form = BankImportForm()

    def page(error: str | None = None):
        if error:
            form.statement.errors = [error]
        return _bank_import_form(form), (400 if request.method == "POST" else 200)

    if not form.validate_on_submit():
        return page()

    def perform() -> Done:
        upload = form.statement.data
        content = upload.read(bank_import.MAX_BYTES + 1)
        batch, errors = bank_import.import_statement(
            session, current_user, upload.filename or "", content
        )
        batch_id = batch.id

        def report_unreadable() -> None:
            for error in errors[:20]:
                flash(error, "error")

        return Done(
            url_for("payments.bank_import_result", import_id=batch_id),
            _("The statement is imported."),
            after_commit=report_unreadable,
        )

    return once(session, form, perform, page)


def _bank_import_form(form):
    session = get_session()
    recent = session.scalars(select(BankImport).order_by(BankImport.id.desc()).limit(20)).all()
    waiting = bank_import.open_lines(session)
    return render_template(
        "payments/bank_import.html",
        form=form,
        recent=recent,
        waiting=waiting,
        match_form=InvoiceNumberForm(),
    )


@bp.get("/finance/bank-import/<int:import_id>")
@role_required(*FINANCE)
def bank_import_result(import_id: int):
    session = get_session()
    batch = session.get(BankImport, import_id)
    if batch is None:
        abort(404)
    lines = session.scalars(
        select(BankLine)
        .where(BankLine.import_id == batch.id)
        .options(selectinload(BankLine.invoice), selectinload(BankLine.suggested_invoice))
        .order_by(BankLine.line_number)
    ).all()
    counts = {status: 0 for status in BankLineStatus}
    for line in lines:
        counts[line.status] += 1
    return render_template(
        "payments/bank_import_result.html",
        batch=batch,
        lines=lines,
        counts=counts,
        labels=LINE_STATUS_LABELS,
        match_form=InvoiceNumberForm(),
    )


@bp.post("/finance/bank-import/lines/<int:line_id>/match")
@role_required(*FINANCE)
def match_line(line_id: int):
    session = get_session()
    line = session.get(BankLine, line_id)
    if line is None:
        abort(404)
    back = url_for("payments.bank_import_result", import_id=line.import_id)
    form = InvoiceNumberForm()
    if not form.validate_on_submit():
        flash(" ".join(form.invoice_number.errors) or _("Enter an invoice number."), "error")
        return redirect(back)

    def perform() -> Done:
        bank_import.match_by_hand(session, line, form.invoice, current_user)
        number = form.invoice.display_number
        return Done(back, _("The line is recorded on invoice %(number)s.", number=number))

    return once(session, form, perform, flash_and_redirect(back))


# --- finance: reminders ------------------------------------------------------------------------


@bp.get("/finance/reminders")
@role_required(*FINANCE)
def reminders_page():
    session = get_session()
    today = reminders.business_today()
    overdue = reminders.overdue_invoices(session, today)
    due, waiting, disputed = [], [], []
    for invoice in overdue:
        if reminders.is_disputed(session, invoice):
            disputed.append(invoice)
            continue
        plan = reminders.plan_next(session, invoice, today)
        if plan is None:
            continue
        (due if plan.due(today) else waiting).append(plan)
    sent = session.scalars(
        select(Reminder)
        .options(selectinload(Reminder.invoice))
        .order_by(Reminder.created_at.desc(), Reminder.id.desc())
        .limit(50)
    ).all()
    return render_template(
        "payments/reminders.html",
        business_day=today,
        due=due,
        waiting=waiting,
        disputed=disputed,
        sent=sent,
        button=ButtonForm(),
        send_form=SendForm(),
        dispute_form=DisputeForm(),
    )


@bp.post("/finance/reminders/send")
@role_required(*FINANCE)
def send_reminders():
    session = get_session()
    form = SendForm()
    back = url_for("payments.reminders_page")
    if not form.validate_on_submit():
        abort(400)
    by_id = current_user.id

    def perform() -> Done:
        # The reminders go out after this commits, one invoice per transaction (each is
        # sent at most once per level, whoever else is sending at the same time).
        def send() -> str:
            sent = reminders.send_due_reminders(database().sessionmaker, by_id=by_id)
            return _("%(n)d reminders sent.", n=len(sent))

        return Done(back, _("The reminders due today are sent."), after_commit=send)

    return once(session, form, perform, flash_and_redirect(back))


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


# --- finance: receivables ----------------------------------------------------------------------


RECEIVABLES_TOP = 50  # customers in the aging table, most overdue first


@bp.get("/finance/receivables")
@role_required(*FINANCE)
def receivables_page():
    session = get_session()
    today = reminders.business_today()
    summary = receivables.aging(session, today)
    months = receivables.monthly(session, today)
    return render_template(
        "payments/receivables.html",
        summary=summary,
        months=months,
        chart=receivables.chart(months),
        buckets=receivables.BUCKETS,
        bucket_labels=BUCKET_LABELS,
        top=RECEIVABLES_TOP,
    )
