"""Invoicing pages: finance runs, lists and corrects invoices; employers see and download theirs."""

from __future__ import annotations

from datetime import date, timedelta

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload
from wtforms import (
    BooleanField,
    DateField,
    SelectField,
    SelectMultipleField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional

from core.db import get_session
from core.jobs import queue
from core.models import (
    BillingCadence,
    Employer,
    Invoice,
    InvoiceKind,
    InvoiceLine,
    InvoiceRun,
    InvoiceStatus,
    Role,
    RunStatus,
)
from invoices import bookkeeping, credit, delivery, runs
from portal.auth import role_required
from portal.forms import Form, db_id
from portal.submissions import Done, OnceForm, flash_and_redirect, once

bp = Blueprint("invoices", __name__)

CADENCE_LABELS = {
    BillingCadence.WEEKLY: _l("Weekly"),
    BillingCadence.FORTNIGHTLY: _l("Every second week"),
    BillingCadence.MONTHLY: _l("Monthly"),
}
STATUS_LABELS = {
    InvoiceStatus.DRAFT: _l("Draft"),
    InvoiceStatus.ISSUED: _l("Issued"),
    InvoiceStatus.PARTLY_PAID: _l("Partly paid"),
    InvoiceStatus.PAID: _l("Paid"),
    InvoiceStatus.CREDITED: _l("Credited"),
}
PAGE_SIZE = 50


@bp.app_context_processor
def _invoice_context():
    return {"status_labels": STATUS_LABELS, "today": date.today}


class RunForm(Form):
    period_end = DateField(
        _l("Bill approved hours up to and including"), validators=[DataRequired()]
    )
    cadence = SelectField(_l("Billing cadence"), default="")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.cadence.choices = [("", _("All employers"))] + [
            (c.value, label) for c, label in CADENCE_LABELS.items()
        ]


class IssueForm(OnceForm):
    period_end = DateField(validators=[DataRequired()])
    cadence = SelectField(validate_choice=False, default="")
    employer_ids = SelectMultipleField(_l("Employers"), coerce=db_id, validate_choice=False)


class CreditForm(OnceForm):
    line_ids = SelectMultipleField(_l("Lines to credit"), coerce=db_id, validate_choice=False)
    release = BooleanField(_l("Release the credited hours so they can be billed again"))
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=500)])


class ButtonForm(Form):
    pass


class BookkeepingForm(Form):
    class Meta:
        csrf = False  # a GET download

    date_from = DateField(_l("From"), validators=[Optional()])
    date_to = DateField(_l("To"), validators=[Optional()])


def _cadence(value: str | None) -> BillingCadence | None:
    try:
        return BillingCadence(value) if value else None
    except ValueError:
        return None


# --- finance: runs ----------------------------------------------------------------------------


@bp.get("/finance/invoicing")
@role_required(Role.FINANCE, Role.ADMIN)
def run_preview():
    session = get_session()
    form = RunForm(request.args, meta={"csrf": False})
    preview = None
    if request.args and form.validate():
        preview = runs.preview(session, form.period_end.data, _cadence(form.cadence.data))
    elif not request.args:
        form.period_end.data = date.today().replace(day=1) - timedelta(days=1)
    recent = session.scalars(select(InvoiceRun).order_by(InvoiceRun.id.desc()).limit(10)).all()
    return render_template(
        "invoices/run_preview.html",
        form=form,
        preview=preview,
        issue_form=IssueForm(),
        recent=recent,
        cadence_labels=CADENCE_LABELS,
    )


@bp.post("/finance/invoicing/issue")
@role_required(Role.FINANCE, Role.ADMIN)
def run_issue():
    session = get_session()
    form = IssueForm()
    if not form.validate_on_submit():
        flash(_("Choose a period end and at least one employer."), "error")
        return redirect(url_for("invoices.run_preview"))
    if not form.employer_ids.data:
        flash(_("Choose at least one employer to invoice."), "error")
        return redirect(
            url_for("invoices.run_preview", period_end=form.period_end.data.isoformat())
        )

    def perform() -> Done:
        run = runs.start_run(
            session,
            current_user,
            form.period_end.data,
            _cadence(form.cadence.data),
            form.employer_ids.data,
        )
        run_id = run.id

        def start() -> None:
            queue().enqueue(runs.run_job, run_id)

        return Done(
            url_for("invoices.run_detail", run_id=run_id),
            _("The invoice run has started."),
            after_commit=start,
        )

    return once(session, form, perform, flash_and_redirect(url_for("invoices.run_preview")))


@bp.get("/finance/runs")
@role_required(Role.FINANCE, Role.ADMIN)
def run_history():
    session = get_session()
    rows = session.execute(
        select(InvoiceRun, func.count(Invoice.id), func.coalesce(func.sum(Invoice.total_ore), 0))
        .outerjoin(Invoice, Invoice.run_id == InvoiceRun.id)
        .group_by(InvoiceRun.id)
        .order_by(InvoiceRun.id.desc())
        .limit(100)
    ).all()
    return render_template("invoices/runs.html", rows=rows)


@bp.get("/finance/runs/<int:run_id>")
@role_required(Role.FINANCE, Role.ADMIN)
def run_detail(run_id: int):
    session = get_session()
    run = session.get(InvoiceRun, run_id)
    if run is None:
        abort(404)
    invoices = session.scalars(
        select(Invoice).where(Invoice.run_id == run_id).order_by(Invoice.number)
    ).all()
    stalled = runs.is_stalled(run)
    running = run.status in (RunStatus.QUEUED, RunStatus.RUNNING) and not stalled
    return render_template(
        "invoices/run_detail.html",
        run=run,
        invoices=invoices,
        running=running,
        stalled=stalled,
        button=ButtonForm(),
    )


@bp.post("/finance/runs/<int:run_id>/resume")
@role_required(Role.FINANCE, Role.ADMIN)
def run_resume(run_id: int):
    """Hand a run that a dead worker left unfinished to a worker again (once, however often
    the button is pressed)."""
    session = get_session()
    if session.get(InvoiceRun, run_id) is None:
        abort(404)
    if not ButtonForm().validate_on_submit():
        abort(400)
    if not runs.claim_resume(session, run_id, current_user):
        session.rollback()
        flash(_("This run has not stopped: it is still working or has finished."), "info")
        return redirect(url_for("invoices.run_detail", run_id=run_id))
    session.commit()
    queue().enqueue(runs.run_job, run_id)
    flash(_("The run continues where it stopped; nothing is issued twice."), "success")
    return redirect(url_for("invoices.run_detail", run_id=run_id))


# --- finance: invoices ------------------------------------------------------------------------


def _filters(args) -> list:
    """The invoice list's filters from the query string (bad values are ignored)."""
    conditions = [Invoice.number.is_not(None)]
    status = args.get("status", "")
    if status in {s.value for s in InvoiceStatus}:
        conditions.append(Invoice.status == InvoiceStatus(status))
    kind = args.get("kind", "")
    if kind in {k.value for k in InvoiceKind}:
        conditions.append(Invoice.kind == InvoiceKind(kind))
    employer_id = args.get("employer", type=db_id)
    if employer_id:
        conditions.append(Invoice.employer_id == employer_id)
    for name, op in (("from", "__ge__"), ("to", "__le__")):
        try:
            value = date.fromisoformat(args.get(name, ""))
        except ValueError:
            continue
        conditions.append(getattr(Invoice.issue_date, op)(value))
    if args.get("overdue"):
        conditions += [
            Invoice.due_date < date.today(),
            Invoice.status.in_([InvoiceStatus.ISSUED, InvoiceStatus.PARTLY_PAID]),
        ]
    return conditions


@bp.get("/finance/invoices")
@role_required(Role.FINANCE, Role.ADMIN)
def finance_list():
    session = get_session()
    conditions = _filters(request.args)
    sums = session.execute(
        select(
            func.count(),
            func.coalesce(func.sum(Invoice.subtotal_ore), 0),
            func.coalesce(func.sum(Invoice.vat_ore), 0),
            func.coalesce(func.sum(Invoice.total_ore), 0),
            func.coalesce(func.sum(Invoice.paid_ore), 0),
        ).where(*conditions)
    ).one()
    page = request.args.get("page", 1, type=db_id)
    invoices = session.scalars(
        select(Invoice)
        .where(*conditions)
        .order_by(Invoice.issue_date.desc(), Invoice.id.desc())
        .limit(PAGE_SIZE)
        .offset((page - 1) * PAGE_SIZE)
    ).all()
    employers = session.execute(select(Employer.id, Employer.name).order_by(Employer.name)).all()
    return render_template(
        "invoices/finance_list.html",
        invoices=invoices,
        sums=sums,
        page=page,
        pages=max((sums[0] + PAGE_SIZE - 1) // PAGE_SIZE, 1),
        employers=employers,
        args=request.args,
    )


def _finance_invoice(session, invoice_id: int) -> Invoice:
    invoice = session.get(Invoice, invoice_id)
    if invoice is None or invoice.number is None:
        abort(404)
    return invoice


@bp.get("/finance/invoices/<int:invoice_id>")
@role_required(Role.FINANCE, Role.ADMIN)
def finance_detail(invoice_id: int):
    session = get_session()
    invoice = _finance_invoice(session, invoice_id)
    credited = credit.credited_line_ids(session, invoice)
    notes = session.scalars(
        select(Invoice).where(Invoice.credited_invoice_id == invoice.id).order_by(Invoice.id)
    ).all()
    form = CreditForm()
    return render_template(
        "invoices/finance_detail.html",
        invoice=invoice,
        credited=credited,
        credit_notes=notes,
        form=form,
        button=ButtonForm(),
    )


@bp.post("/finance/invoices/<int:invoice_id>/credit")
@role_required(Role.FINANCE, Role.ADMIN)
def finance_credit(invoice_id: int):
    session = get_session()
    invoice = _finance_invoice(session, invoice_id)
    back = url_for("invoices.finance_detail", invoice_id=invoice_id)
    form = CreditForm()
    if not form.validate_on_submit():
        flash(_("Give a reason for the credit note."), "error")
        return redirect(back)

    def perform() -> Done:
        note = credit.issue_credit_note(
            session,
            current_user,
            invoice,
            form.line_ids.data or None,
            form.release.data,
            form.reason.data,
        )
        note_id = note.id

        def deliver() -> None:
            queue().enqueue(delivery.deliver, note_id, retries=3)

        return Done(
            url_for("invoices.finance_detail", invoice_id=note_id),
            _("Credit note %(number)s issued.", number=note.display_number),
            after_commit=deliver,
        )

    return once(session, form, perform, flash_and_redirect(back))


@bp.post("/finance/invoices/<int:invoice_id>/resend")
@role_required(Role.FINANCE, Role.ADMIN)
def finance_resend(invoice_id: int):
    session = get_session()
    invoice = _finance_invoice(session, invoice_id)
    if not ButtonForm().validate_on_submit():
        abort(400)
    session.close()
    if delivery.deliver(invoice.id, force=True):
        flash(_("The invoice was sent again."), "success")
    else:
        flash(_("The invoice could not be sent. See the delivery error below."), "error")
    return redirect(url_for("invoices.finance_detail", invoice_id=invoice_id))


@bp.get("/finance/bookkeeping.csv")
@role_required(Role.FINANCE, Role.ADMIN)
def bookkeeping_export():
    session = get_session()
    form = BookkeepingForm(request.args)
    today = date.today()
    if not form.validate():
        abort(400)
    date_from = form.date_from.data or today.replace(day=1)
    date_to = form.date_to.data or today
    if date_to < date_from:
        abort(400)
    body = bookkeeping.bookkeeping_csv(session, date_from, date_to)
    filename = f"bogfoering-{date_from.isoformat()}-{date_to.isoformat()}.csv"
    return Response(
        "\ufeff" + body,  # a BOM so spreadsheet programs read æøå right
        mimetype="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


# --- employers (and finance) ------------------------------------------------------------------


def _own_invoice(session, invoice_id: int) -> Invoice:
    """An issued invoice the current user may see: an employer's own, or any for finance."""
    invoice = session.get(Invoice, invoice_id)
    if invoice is None or invoice.number is None:
        abort(404)
    if current_user.role == Role.EMPLOYER and invoice.employer_id != current_user.employer_id:
        abort(404)
    return invoice


@bp.get("/invoices")
@role_required(Role.EMPLOYER)
def employer_list():
    session = get_session()
    invoices = session.scalars(
        select(Invoice)
        .where(Invoice.employer_id == current_user.employer_id, Invoice.number.is_not(None))
        .order_by(Invoice.issue_date.desc(), Invoice.id.desc())
        .limit(200)
    ).all()
    return render_template("invoices/employer_list.html", invoices=invoices)


@bp.get("/invoices/<int:invoice_id>")
@role_required(Role.EMPLOYER)
def employer_detail(invoice_id: int):
    session = get_session()
    invoice = _own_invoice(session, invoice_id)
    lines = session.scalars(
        select(InvoiceLine)
        .where(InvoiceLine.invoice_id == invoice.id)
        .options(selectinload(InvoiceLine.entries))
        .order_by(InvoiceLine.position)
    ).all()
    return render_template("invoices/employer_detail.html", invoice=invoice, lines=lines)


def _pdf_response(content: bytes | None, filename: str) -> Response:
    if not content:
        abort(404)
    return Response(
        content,
        mimetype="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{filename}"'},
    )


@bp.get("/invoices/<int:invoice_id>/invoice.pdf")
@role_required(Role.EMPLOYER, Role.FINANCE, Role.ADMIN)
def invoice_pdf(invoice_id: int):
    invoice = _own_invoice(get_session(), invoice_id)
    return _pdf_response(invoice.pdf, f"{invoice.display_number}.pdf")


@bp.get("/invoices/<int:invoice_id>/timesheet.pdf")
@role_required(Role.EMPLOYER, Role.FINANCE, Role.ADMIN)
def timesheet_pdf(invoice_id: int):
    invoice = _own_invoice(get_session(), invoice_id)
    return _pdf_response(invoice.timesheet_pdf, f"{invoice.display_number}-timeseddel.pdf")
