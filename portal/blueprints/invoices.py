"""Invoicing pages: finance runs, lists and corrects invoices; employers see and download theirs."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from core import dates
from core.db import get_session
from core.errors import Conflict
from core.jobs import queue
from core.models import (
    BillingCadence,
    EinvoiceState,
    Employer,
    Invoice,
    InvoiceRun,
    InvoiceStatus,
    Role,
    RunStatus,
)
from core.pages import page_number
from invoices import (
    bookkeeping,
    credit,
    delivery,
    einvoice_delivery,
    numbering,
    queries,
    runs,
    writeoffs,
)
from portal.auth import role_required
from portal.forms.invoices import (
    CADENCE_LABELS,
    BookkeepingForm,
    ButtonForm,
    CreditForm,
    IssueForm,
    PartialCreditForm,
    RunForm,
    SendAgainForm,
    WriteOffForm,
    cadence,
)
from portal.views import Done, csv_download, submit

bp = Blueprint("invoices", __name__)

FINANCE = (Role.FINANCE, Role.ADMIN)
STATUS_LABELS = {
    InvoiceStatus.DRAFT: _l("Draft"),
    InvoiceStatus.ISSUED: _l("Issued"),
    InvoiceStatus.PARTLY_PAID: _l("Partly paid"),
    InvoiceStatus.PAID: _l("Paid"),
    InvoiceStatus.CREDITED: _l("Credited"),
    InvoiceStatus.WRITTEN_OFF: _l("Written off"),
}


@bp.app_context_processor
def _invoice_context():
    return {"status_labels": STATUS_LABELS}


# --- finance: runs ----------------------------------------------------------------------------


def _run_form() -> RunForm:
    """The period and cadence of a run from the query string (a GET form: no CSRF). Without a
    date, a chosen cadence bills up to the end of its last completed period (weekly: last
    Sunday; monthly: the last month's end, or today on a month's last day)."""
    form = RunForm(request.args, meta={"csrf": False})
    chosen = cadence(form.cadence.data)
    typed = (form.period_end.raw_data or [""])[0].strip()
    if chosen is not None and not typed:
        form.period_end.data = runs.cadence_end(chosen, dates.today())
        form.period_end.raw_data = [form.period_end.data.isoformat()]
        form.period_end.process_errors = []  # a blank date is the cadence's default here
    return form


def _cadence_ends() -> list[tuple[BillingCadence, date]]:
    """Each cadence's last completed period end, offered as a link on the run page."""
    today = dates.today()
    return [(c, runs.cadence_end(c, today)) for c in CADENCE_LABELS]


@bp.get("/finance/invoicing")
@role_required(*FINANCE)
def run_preview():
    session = get_session()
    form = _run_form()
    if not request.args:
        # Everything approved up to today (a run never bills a later day): nothing is left
        # out unless finance narrows it.
        form.period_end.data = dates.today()
    return render_template(
        "invoices/run_preview.html",
        form=form,
        preview=_summary(form) if request.args and form.validate() else None,
        issue_form=IssueForm(),
        recent=queries.recent_runs(session),
        cadence_ends=_cadence_ends(),
        cadence_labels=CADENCE_LABELS,
    )


def _summary(form: RunForm) -> runs.Summary:
    page = page_number(request.args.get("page"))
    return runs.summarise(get_session(), form.period_end.data, cadence(form.cadence.data), page)


@bp.get("/finance/invoicing/employers/<int:employer_id>")
@role_required(*FINANCE)
def run_preview_employer(employer_id: int):
    """One employer's draft from the run preview: its lines and the shifts behind them."""
    employer = get_session().get(Employer, employer_id) or abort(404)
    form = _run_form()
    if not form.validate():  # the preview's form shows what is wrong with the date
        return redirect(url_for("invoices.run_preview", **request.args))
    found = runs.employer_draft(
        get_session(), employer, form.period_end.data, cadence(form.cadence.data)
    )
    return render_template(
        "invoices/run_preview_employer.html", employer=employer, form=form, found=found
    )


@bp.post("/finance/invoicing/issue")
@role_required(*FINANCE)
def run_issue():
    form = IssueForm()
    back = url_for("invoices.run_preview", period_end=request.form.get("period_end") or None)
    return submit(form, lambda: _run_started(form), back=back)


def _run_started(form: IssueForm) -> Done:
    run = runs.start_run(
        get_session(),
        current_user,
        form.period_end.data,
        cadence(form.cadence.data),
        None if form.everyone.data else form.employer_ids.data,
    )
    return _queued(run.id, _("The invoice run has started."))


def _queued(run_id: int, message: str) -> Done:
    """The run's page, once its job is queued (after the commit: a worker must see the run).
    The run is a committed row: with Redis down, the worker starts it when it reconnects."""

    def enqueue() -> None:
        if not queue().try_enqueue(runs.run_job, run_id):
            flash(
                _(
                    "The job queue cannot be reached right now. The run is saved and starts "
                    "as soon as the worker is back."
                ),
                "info",
            )

    return Done(url_for("invoices.run_detail", run_id=run_id), message, after_commit=enqueue)


@bp.get("/finance/runs")
@role_required(*FINANCE)
def run_history():
    return render_template("invoices/runs.html", rows=queries.run_history(get_session()))


def _run(run_id: int) -> InvoiceRun:
    run = get_session().get(InvoiceRun, run_id)
    if run is None:
        abort(404)
    return run


@bp.get("/finance/runs/<int:run_id>")
@role_required(*FINANCE)
def run_detail(run_id: int):
    run = _run(run_id)
    stalled = runs.is_stalled(run)
    return render_template(
        "invoices/run_detail.html",
        run=run,
        invoices=queries.run_invoices(get_session(), run_id, page_number(request.args.get("page"))),
        running=run.status in (RunStatus.QUEUED, RunStatus.RUNNING) and not stalled,
        stalled=stalled,
        button=ButtonForm(),
    )


@bp.post("/finance/runs/<int:run_id>/resume")
@role_required(*FINANCE)
def run_resume(run_id: int):
    """Hand a run that a dead worker left unfinished to a worker again (once, however often
    the button is pressed)."""
    _run(run_id)
    back = url_for("invoices.run_detail", run_id=run_id)
    return submit(ButtonForm(), lambda: _resumed(run_id), back=back)


def _resumed(run_id: int) -> Done:
    if not runs.claim_resume(get_session(), run_id, current_user):
        raise Conflict(_("This run has not stopped: it is still working or has finished."))
    return _queued(run_id, _("The run continues where it stopped; nothing is issued twice."))


# --- finance: invoices ------------------------------------------------------------------------


@bp.get("/finance/invoices")
@role_required(*FINANCE)
def finance_list():
    session = get_session()
    return render_template(
        "invoices/finance_list.html",
        listing=queries.invoice_list(session, request.args, dates.today()),
        employers=queries.employer_names(session),
        args=request.args,
    )


def _issued(invoice_id: int, *, own: bool = False) -> Invoice:
    """An issued invoice or credit note; an employer sees only its own (others: 404)."""
    employer_id = current_user.employer_id if own and current_user.role == Role.EMPLOYER else None
    invoice = queries.issued(get_session(), invoice_id, employer_id=employer_id)
    if invoice is None:
        abort(404)
    return invoice


@bp.get("/finance/invoices/<int:invoice_id>")
@role_required(*FINANCE)
def finance_detail(invoice_id: int):
    session = get_session()
    invoice = _issued(invoice_id)
    credited = credit.credited_line_ids(session, invoice)
    return render_template(
        "invoices/finance_detail.html",
        invoice=invoice,
        credited=credited,
        line_credits=credit.line_credits(session, invoice),
        credit_notes=queries.credit_notes_of(session, invoice),
        form=CreditForm(),
        partial=PartialCreditForm(
            lines=[line for line in invoice.lines if line.id not in credited]
        ),
        button=ButtonForm(),
        resend=SendAgainForm(),
        write_off=writeoffs.of(session, invoice),
        write_off_form=WriteOffForm(),
    )


@bp.post("/finance/invoices/<int:invoice_id>/write-off")
@role_required(*FINANCE)
def finance_write_off(invoice_id: int):
    invoice = _issued(invoice_id)
    form = WriteOffForm()
    back = url_for("invoices.finance_detail", invoice_id=invoice_id)

    def written() -> Done:
        writeoffs.write_off(get_session(), current_user, invoice, form.reason.data)
        return Done(back, _("Invoice %(number)s is written off.", number=invoice.display_number))

    return submit(form, written, back=back)


@bp.post("/finance/invoices/<int:invoice_id>/credit")
@role_required(*FINANCE)
def finance_credit(invoice_id: int):
    invoice = _issued(invoice_id)
    form = CreditForm()
    back = url_for("invoices.finance_detail", invoice_id=invoice_id)
    return submit(form, lambda: _credited(invoice, form), back=back)


def _credited(invoice: Invoice, form: CreditForm) -> Done:
    note = credit.issue_credit_note(
        get_session(),
        current_user,
        invoice,
        form.line_ids.data or None,
        form.release.data,
        form.reason.data,
    )
    return _note_issued(note)


def _note_issued(note: Invoice) -> Done:
    """To the new credit note's page; its documents are made after the commit (its e-mail
    waits in the outbox and leaves once they exist)."""
    note_id = note.id
    return Done(
        url_for("invoices.finance_detail", invoice_id=note_id),
        _("Credit note %(number)s issued.", number=note.display_number),
        after_commit=lambda: delivery.render_now(note_id),
    )


@bp.post("/finance/invoices/<int:invoice_id>/reduce")
@role_required(*FINANCE)
def finance_reduce(invoice_id: int):
    invoice = _issued(invoice_id)
    form = PartialCreditForm(lines=invoice.lines)
    back = url_for("invoices.finance_detail", invoice_id=invoice_id)
    return submit(form, lambda: _reduced(invoice, form), back=back)


def _reduced(invoice: Invoice, form: PartialCreditForm) -> Done:
    note = credit.issue_partial_credit(
        get_session(),
        current_user,
        invoice,
        form.line_id.data,
        hours_hundredths=form.hours.data,
        amount_ore=form.amount.data,
        reason=form.reason.data,
    )
    return _note_issued(note)


@bp.post("/finance/invoices/<int:invoice_id>/resend")
@role_required(*FINANCE)
def finance_resend(invoice_id: int):
    invoice = _issued(invoice_id)
    back = url_for("invoices.finance_detail", invoice_id=invoice.id)
    message = _("The e-mail is on its way again; its state is shown below.")

    def send_again() -> Done:
        delivery.send_again(get_session(), invoice, current_user)
        return Done(back, message)

    return submit(SendAgainForm(), send_again, back=back)


@bp.get("/finance/bookkeeping.csv")
@role_required(*FINANCE)
def bookkeeping_export():
    period = BookkeepingForm(request.args).period(dates.today())
    if period is None:
        abort(400)
    body = "\ufeff" + bookkeeping.bookkeeping_csv(get_session(), *period)
    filename = f"bogfoering-{period[0].isoformat()}-{period[1].isoformat()}.csv"
    return csv_download(body, filename)


# --- employers (and finance) ------------------------------------------------------------------


@bp.get("/invoices")
@role_required(Role.EMPLOYER)
def employer_list():
    invoices = queries.employer_invoices(get_session(), current_user.employer_id)
    return render_template("invoices/employer_list.html", invoices=invoices)


@bp.get("/invoices/<int:invoice_id>")
@role_required(Role.EMPLOYER)
def employer_detail(invoice_id: int):
    invoice = _issued(invoice_id, own=True)
    lines = queries.lines_with_shifts(get_session(), invoice)
    # The FI line as the PDF prints it, from the seller the invoice froze (not today's settings).
    fi_line = None
    if not invoice.is_credit_note and invoice.payment_id:
        fi_line = numbering.fi_line(invoice.payment_id, invoice.seller_party.fi_creditor_number)
    return render_template(
        "invoices/employer_detail.html",
        invoice=invoice,
        lines=lines,
        fi_line=fi_line,
    )


def _document_response(
    content: bytes | None, filename: str, mimetype="application/pdf"
) -> Response:
    if not content:
        abort(404)
    disposition = "inline" if mimetype == "application/pdf" else "attachment"
    return Response(
        content,
        mimetype=mimetype,
        headers={"Content-Disposition": f'{disposition}; filename="{filename}"'},
    )


@bp.get("/invoices/<int:invoice_id>/invoice.pdf")
@role_required(Role.EMPLOYER, *FINANCE)
def invoice_pdf(invoice_id: int):
    invoice = _ready(invoice_id)
    return _document_response(invoice.pdf, f"{invoice.display_number}.pdf")


@bp.get("/invoices/<int:invoice_id>/timesheet.pdf")
@role_required(Role.EMPLOYER, *FINANCE)
def timesheet_pdf(invoice_id: int):
    invoice = _ready(invoice_id)
    return _document_response(invoice.timesheet_pdf, f"{invoice.display_number}-timeseddel.pdf")


@bp.get("/invoices/<int:invoice_id>/einvoice.xml")
@role_required(Role.EMPLOYER, *FINANCE)
def einvoice_xml(invoice_id: int):
    """The e-invoice (Peppol BIS Billing 3.0 UBL), as validated and archived."""
    invoice = _ready(invoice_id)
    filename = f"{invoice.display_number}.xml"
    return _document_response(invoice.ubl_xml, filename, mimetype="application/xml")


EINVOICE_STATES = {
    EinvoiceState.QUEUED: _l("Queued"),
    EinvoiceState.SENT: _l("Sent, waiting for an answer"),
    EinvoiceState.ACCEPTED: _l("Accepted"),
    EinvoiceState.REJECTED: _l("Rejected"),
    EinvoiceState.FAILED: _l("Not delivered"),
}


@bp.get("/finance/einvoices")
@role_required(*FINANCE)
def einvoices():
    listing = queries.einvoices_not_accepted(get_session(), page_number(request.args.get("page")))
    return render_template(
        "invoices/einvoices.html", listing=listing, states=EINVOICE_STATES, button=SendAgainForm()
    )


@bp.post("/finance/einvoices/<int:invoice_id>/send")
@role_required(*FINANCE)
def einvoice_send(invoice_id: int):
    """Send an e-invoice again (after a rejection once the data is right, or a failure): its
    outbox message is due now, and the sender is woken with the commit."""
    invoice = _issued(invoice_id)
    back = url_for("invoices.einvoices")
    message = _("E-invoice %(number)s is on its way again.", number=invoice.display_number)

    def send_again() -> Done:
        einvoice_delivery.send_again(get_session(), invoice, current_user)
        return Done(back, message)

    return submit(SendAgainForm(), send_again, back=back)


def _ready(invoice_id: int) -> Invoice:
    """An issued invoice whose documents exist (they are rendered just after issuing)."""
    invoice = _issued(invoice_id, own=True)
    if not invoice.documents_ready:
        raise Conflict(
            _(
                "The documents of %(number)s are being prepared. Try again in a moment.",
                number=invoice.display_number,
            )
        )
    return invoice
