"""Payments: card payment (the employer's page and the public pay link), the Stripe webhook,
and finance's payments by hand, the payments overview and the bank statement import.
Reminders and receivables have their own blueprint (receivables.py)."""

from __future__ import annotations

import logging

import stripe
from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from core import dates, links
from core.db import get_session
from core.errors import DomainError
from core.models import (
    BankImport,
    BankLine,
    BankLineStatus,
    Invoice,
    InvoiceKind,
    Payment,
    PaymentMethod,
    Role,
)
from invoices import bank_import, payments, queries
from invoices.stripe_gateway import StripeGateway, WebhookRefused
from portal.auth import role_required
from portal.config import card_payment_status
from portal.forms.payments import (
    BankImportForm,
    ButtonForm,
    InvoiceNumberForm,
    ManualPaymentForm,
)
from portal.security import csrf, limiter
from portal.views import Done, submit

log = logging.getLogger(__name__)
bp = Blueprint("payments", __name__)

FINANCE = (Role.FINANCE, Role.ADMIN)
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
        "card_payments_demo": payments.card_payments_demo(),
        "method_labels": METHOD_LABELS,
        "invoice_payable": payments.payable,
        "card_failure": lambda invoice: payments.latest_card_failure(get_session(), invoice),
    }


# --- card payment: the employer's page and the public pay link ---------------------------------


def _card_intent(gw: StripeGateway, invoice: Invoice) -> tuple[str | None, str | None]:
    """(the client secret of the invoice's card intent, or why there is none)."""
    if not payments.payable(invoice):
        return None, None
    session = get_session()
    try:
        _row, client_secret = payments.card_intent_for(session, gw, invoice)
    except DomainError as problem:
        session.rollback()
        return None, problem.message
    except stripe.StripeError:
        session.rollback()
        log.exception("Stripe refused an intent for invoice %s", invoice.id)
        return None, _("Card payment is not available right now. Please try again later.")
    session.commit()
    return client_secret, None


def _card_page(invoice: Invoice, *, public_token: str | None = None):
    gw = gateway()
    if gw is None:
        # Card payment is not configured (an old pay link, a typed address): the invoice is
        # still there to be paid, so the page says so and shows the bank transfer (200).
        return render_template(
            "payments/pay.html",
            invoice=invoice,
            card_off=True,
            public_token=public_token,
            overpaid_ore=payments.overpaid_ore(invoice),
        )
    client_secret, error = _card_intent(gw, invoice)
    if public_token:
        endpoint, values = "payments.pay_link", {"token": public_token}
    else:
        endpoint, values = "payments.pay_invoice", {"invoice_id": invoice.id}
    return render_template(
        "payments/pay.html",
        invoice=invoice,
        client_secret=client_secret,
        publishable_key=gw.publishable_key,
        stripe_js_url=gw.js_url,
        error=error,
        failure=payments.latest_card_failure(get_session(), invoice),
        return_url=url_for(endpoint, **values),
        public_token=public_token,
        overpaid_ore=payments.overpaid_ore(invoice),
        # MobilePay when the Stripe account offers it (STRIPE_PAYMENT_METHOD_TYPES lists it).
        mobilepay="mobilepay" in gw.payment_method_types,
        absolute_return_url=links.absolute_url(endpoint, **values),
    )


@bp.get("/invoices/<int:invoice_id>/pay")
@role_required(Role.EMPLOYER)
def pay_invoice(invoice_id: int):
    invoice = queries.issued(
        get_session(), invoice_id, employer_id=current_user.employer_id, kind=InvoiceKind.INVOICE
    )
    if invoice is None:
        abort(404)
    return _card_page(invoice)


def _invoice_from_token(token: str) -> Invoice:
    invoice_id = links.invoice_id_from_pay_token(token)
    invoice = (
        queries.issued(get_session(), invoice_id, kind=InvoiceKind.INVOICE) if invoice_id else None
    )
    if invoice is None:
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
    try:
        event = gw.verify(request.get_data(cache=False), request.headers.get("Stripe-Signature"))
    except WebhookRefused as refusal:
        log.warning("Stripe webhook refused: %s", refusal)
        return {"error": "invalid signature"}, 400
    return _apply(event)


def _apply(event: dict):
    session = get_session()
    try:
        outcome = payments.apply_stripe_event(session, event)
    except DomainError as problem:
        session.rollback()
        log.warning("Stripe event %s not applied: %s", event.get("id"), problem.message)
        return {"error": problem.message}, 400
    session.commit()
    return {"received": True, "outcome": outcome}


# --- finance: payments by hand, refunds, the payments overview ---------------------------------


@bp.route("/finance/payments/new", methods=["GET", "POST"])
@role_required(*FINANCE)
def manual_payment():
    form = ManualPaymentForm()
    if not form.is_submitted():
        form.received_on.data = dates.today()
        form.invoice_number.data = request.args.get("invoice", "")[:30]
    return submit(
        form,
        lambda: _registered(form),
        page=lambda: render_template("payments/manual.html", form=form),
    )


def _registered(form: ManualPaymentForm) -> Done:
    record = payments.record_refund if form.is_refund else payments.record_payment
    record(
        get_session(),
        form.invoice,
        form.amount.data,
        PaymentMethod.MANUAL,
        # The form's one-time key is also the payment's external id: unique in the database.
        f"manual:{form.idempotency_key.data}",
        bank_import.received_at(form.received_on.data),
        current_user,
        form.note.data or "",
    )
    number = form.invoice.display_number
    return Done(
        url_for("payments.overview"), _("Payment registered on invoice %(number)s.", number=number)
    )


@bp.get("/finance/payments")
@role_required(*FINANCE)
def overview():
    listed = queries.payments_overview(get_session())
    return render_template(
        "payments/overview.html",
        card_status=card_payment_status(current_app.config),
        recent=listed.recent,
        unassigned=listed.unassigned,
        prompts=listed.prompts,
        button=ButtonForm(),
        assign_form=InvoiceNumberForm(),
    )


@bp.post("/finance/payments/<int:payment_id>/assign")
@role_required(*FINANCE)
def assign_payment(payment_id: int):
    payment = get_session().get(Payment, payment_id)
    if payment is None:
        abort(404)
    form = InvoiceNumberForm()

    def assigned() -> Done:
        payments.assign(get_session(), payment, form.invoice, current_user)
        number = form.invoice.display_number
        return Done(
            url_for("payments.overview"),
            _("Payment recorded on invoice %(number)s.", number=number),
        )

    return submit(form, assigned, back=url_for("payments.overview"))


@bp.post("/finance/invoices/<int:invoice_id>/credit-note-prompt/dismiss")
@role_required(*FINANCE)
def dismiss_prompt(invoice_id: int):
    invoice = queries.issued(get_session(), invoice_id, kind=InvoiceKind.INVOICE)
    if invoice is None:
        abort(404)

    def dismissed() -> Done:
        payments.dismiss_credit_note_prompt(get_session(), invoice, current_user)
        return Done(url_for("payments.overview"), "")

    return submit(ButtonForm(), dismissed, back=url_for("payments.overview"))


# --- finance: bank statement import ------------------------------------------------------------


@bp.route("/finance/bank-import", methods=["GET", "POST"])
@role_required(*FINANCE)
def bank_import_page():
    form = BankImportForm()
    return submit(form, lambda: _imported(form), page=lambda: _bank_import_page(form))


def _bank_import_page(form: BankImportForm) -> str:
    session = get_session()
    return render_template(
        "payments/bank_import.html",
        form=form,
        recent=queries.recent_bank_imports(session),
        waiting=bank_import.open_lines(session),
        match_form=InvoiceNumberForm(),
    )


def _imported(form: BankImportForm) -> Done:
    upload = form.statement.data
    content = upload.read(bank_import.MAX_BYTES + 1)
    batch, errors = bank_import.import_statement(
        get_session(), current_user, upload.filename or "", content
    )
    return Done(
        url_for("payments.bank_import_result", import_id=batch.id),
        _("The statement is imported."),
        after_commit=lambda: _unreadable(errors),
    )


def _unreadable(errors: list[str]) -> None:
    """Lines that could not be read are named on the result page."""
    for error in errors[:20]:
        flash(error, "error")


@bp.get("/finance/bank-import/<int:import_id>")
@role_required(*FINANCE)
def bank_import_result(import_id: int):
    session = get_session()
    batch = session.get(BankImport, import_id)
    if batch is None:
        abort(404)
    statement = queries.bank_statement(session, batch, request.args)
    invoices = {line.invoice_id: line.invoice for line in statement.lines if line.invoice}
    charges = payments.charges_by_invoice(session, list(invoices))
    return render_template(
        "payments/bank_import_result.html",
        batch=batch,
        statement=statement,
        # Beyond the invoice and the fees, interest and compensation on its reminders.
        overpaid={
            invoice_id: payments.overpaid_ore(invoice, charges.get(invoice_id, 0))
            for invoice_id, invoice in invoices.items()
        },
        labels=LINE_STATUS_LABELS,
        match_form=InvoiceNumberForm(),
    )


@bp.post("/finance/bank-import/lines/<int:line_id>/match")
@role_required(*FINANCE)
def match_line(line_id: int):
    line = get_session().get(BankLine, line_id)
    if line is None:
        abort(404)
    form = InvoiceNumberForm()
    back = url_for("payments.bank_import_result", import_id=line.import_id)

    def matched() -> Done:
        bank_import.match_by_hand(get_session(), line, form.invoice, current_user)
        number = form.invoice.display_number
        return Done(back, _("The line is recorded on invoice %(number)s.", number=number))

    return submit(form, matched, back=back)
