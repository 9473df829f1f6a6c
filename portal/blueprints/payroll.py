"""Finance: create and download payroll exports (lønfiler)."""

from __future__ import annotations

from flask import Blueprint, Response, render_template, url_for
from flask_babel import ngettext
from flask_login import current_user

from core import dates
from core.db import get_session
from core.errors import NotFound
from core.models import PayrollExport, PayrollFormat, Role
from invoices import payroll
from portal.auth import role_required
from portal.forms.payroll import FORMAT_LABELS, ExportForm
from portal.views import Done, submit

bp = Blueprint("payroll", __name__, url_prefix="/payroll")


@bp.route("/", methods=["GET", "POST"])
@role_required(Role.FINANCE, Role.ADMIN)
def index():
    form = ExportForm()
    form.previous_month(dates.today())
    return submit(form, lambda: _exported(form), page=lambda: _page(form))


def _page(form: ExportForm) -> str:
    exports = payroll.exports(get_session())
    return render_template(
        "payroll/index.html", form=form, exports=exports, format_labels=FORMAT_LABELS
    )


def _exported(form: ExportForm) -> Done:
    export = payroll.create_export(
        get_session(),
        current_user,
        form.start.data,
        form.end.data,
        reexport=form.reexport.data,
        fmt=PayrollFormat(form.format.data),
    )
    message = ngettext(
        "Payroll export %(id)d created with %(num)d shift.",
        "Payroll export %(id)d created with %(num)d shifts.",
        export.entry_count,
        id=export.id,
    )
    return Done(url_for("payroll.index"), message)


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
