"""Finance: create and download payroll exports (lønfiler)."""

from __future__ import annotations

from flask import Blueprint, Response, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import BooleanField, DateField, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired

from core.db import get_session
from core.errors import NotFound
from core.models import PayrollExport, PayrollFormat, Role
from invoices import payroll
from portal.auth import role_required
from portal.services.hours import business_today
from portal.submissions import Done, OnceForm, once

bp = Blueprint("payroll", __name__, url_prefix="/payroll")

FORMAT_LABELS = {
    PayrollFormat.CSV.value: _l("CSV (documented columns)"),
    PayrollFormat.DANLON.value: _l("Danløn import lines"),
}


class ExportForm(OnceForm):
    start = DateField(_l("From"), validators=[InputRequired(message=_l("Choose a start date."))])
    end = DateField(_l("To"), validators=[InputRequired(message=_l("Choose an end date."))])
    format = SelectField(
        _l("Format"),
        choices=[SelectChoice(value, label) for value, label in FORMAT_LABELS.items()],
        default="csv",
    )
    reexport = BooleanField(
        _l("Export hours of this period again, even if they were exported before"),
        description=_l("Only for a lost or rejected file: the hours would be paid twice."),
    )


def _previous_month():
    first = business_today().replace(day=1)
    end = first.fromordinal(first.toordinal() - 1)
    return end.replace(day=1), end


@bp.route("/", methods=["GET", "POST"])
@role_required(Role.FINANCE, Role.ADMIN)
def index():
    session = get_session()
    form = ExportForm()
    if not form.is_submitted():
        form.start.data, form.end.data = _previous_month()

    def page(error: str | None = None):
        if error:
            form.form_errors.append(error)
        return render_template(
            "payroll/index.html",
            form=form,
            exports=payroll.exports(session),
            format_labels=FORMAT_LABELS,
        ), (400 if form.is_submitted() else 200)

    if not form.validate_on_submit():
        return page()

    def perform() -> Done:
        export = payroll.create_export(
            session,
            current_user,
            form.start.data,
            form.end.data,
            reexport=form.reexport.data,
            fmt=PayrollFormat(form.format.data),
        )
        return Done(
            url_for("payroll.index"),
            _(
                "Payroll export %(id)d created with %(n)d shift(s).",
                id=export.id,
                n=export.entry_count,
            ),
        )

    return once(session, form, perform, page)


@bp.get("/<int:export_id>/download")
@role_required(Role.FINANCE, Role.ADMIN)
def download(export_id: int):
    export = get_session().get(PayrollExport, export_id)
    if export is None:
        raise NotFound()
    mimetype = "text/csv" if export.format == PayrollFormat.CSV else "text/plain"
    return Response(
        export.content.encode("utf-8"),
        mimetype=mimetype,
        headers={
            "Content-Disposition": f'attachment; filename="{payroll.filename(export)}"',
            "Content-Type": f"{mimetype}; charset=utf-8",
        },
    )
