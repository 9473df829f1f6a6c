"""Finance's books: the bookkeeping journal for a period (the CSV a bookkeeping system
imports) and the page that reconciles it with the invoices, credit notes and payments."""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request

from core import dates
from core.db import get_session
from core.models import Role
from invoices import journal, reconciliation
from portal.auth import role_required
from portal.forms.invoices import BookkeepingForm
from portal.views import csv_download

bp = Blueprint("books", __name__)

FINANCE = (Role.FINANCE, Role.ADMIN)


@bp.get("/finance/journal.csv")
@role_required(*FINANCE)
def journal_export():
    period = BookkeepingForm(request.args).period(dates.today())
    if period is None:
        abort(400)
    filename = f"kassekladde-{period[0].isoformat()}-{period[1].isoformat()}.csv"
    return csv_download(journal.journal_csv(get_session(), *period), filename)


@bp.get("/finance/reconciliation")
@role_required(*FINANCE)
def reconciliation_page():
    form = BookkeepingForm(request.args)
    period = form.period(dates.today())
    if period is None:
        # A period that makes no sense (a bad date, or the end before the start).
        return render_template("books/reconciliation.html", form=form, result=None), 400
    form.date_from.data, form.date_to.data = period
    result = reconciliation.reconcile(get_session(), *period)
    return render_template("books/reconciliation.html", form=form, result=result)
