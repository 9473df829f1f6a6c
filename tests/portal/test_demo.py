"""The demo data loads, tells the story, and loads only once."""

from __future__ import annotations

from sqlalchemy import func, select

from core.models import Employer, Placement, PlacementStatus, Role, TimeEntry, User, Worker
from portal import demo
from tests.helpers import login


def test_demo_data_is_idempotent_and_complete(app, db, ctx):
    first = demo.load(db)
    db.flush()
    assert first > 0
    assert demo.load(db) == 0  # the second run adds nothing

    employers = db.scalars(select(Employer)).all()
    assert len(employers) >= 3
    assert any(e.ean == "5798000554504" for e in employers)  # the municipality
    assert db.scalar(select(func.count()).select_from(Worker)) >= 6
    consultants = db.scalar(
        select(func.count()).select_from(User).where(User.role == Role.CONSULTANT)
    )
    assert consultants >= 2
    active = db.scalars(select(Placement).where(Placement.status == PlacementStatus.ACTIVE)).all()
    assert len(active) >= 3

    entries = db.scalars(select(TimeEntry)).all()
    dates = sorted(e.work_date for e in entries)
    assert (dates[-1] - dates[0]).days >= 21  # four weeks of hours
    assert any(e.approved and not e.auto_approved for e in entries)
    assert any(e.auto_approved for e in entries)
    assert any(e.disputed_at for e in entries)
    assert any(e.worker_confirmed_at and not e.employer_approved_at for e in entries)


def test_demo_logins_work(app, db, client):
    with app.test_request_context("/"):
        demo.load(db)
    db.commit()
    for email, _role, _what in demo.LOGINS:
        with app.test_client() as fresh:
            login(fresh, email, demo.PASSWORD)
            assert fresh.get("/").status_code == 200


def test_demo_invoices_are_issued_once(app, db, ctx):
    from core.db import database
    from core.models import Invoice

    demo.load(db)
    db.commit()
    assert demo.invoice_history(database().sessionmaker) >= 3  # one per demo employer
    assert demo.invoice_history(database().sessionmaker) == 0
    invoices = db.scalars(select(Invoice)).all()
    assert all(i.pdf and i.timesheet_pdf for i in invoices)
    # Every demo invoice has its e-invoice, valid under the rules; the municipality's is
    # addressed by EAN with its order number, person reference and the timesheet inside.
    from invoices.einvoice import rules

    assert all(i.ubl_xml and rules().check(i.ubl_xml).ok for i in invoices)
    [municipal] = [i for i in invoices if i.buyer.get("ean") == "5798000554504"]
    xml = municipal.ubl_xml
    assert b'<cbc:EndpointID schemeID="0088">5798000554504</cbc:EndpointID>' in xml
    assert b"<cbc:BuyerReference>Karen Park</cbc:BuyerReference>" in xml
    assert b"<cbc:ID>PO-2026-117</cbc:ID>" in xml
    assert b'mimeCode="application/pdf"' in xml


def test_each_demo_employer_has_what_the_readme_says_to_try(app, db, ctx):
    """employer@demo.dk "pays an invoice by card": it has an open one (issue 23); the
    payments pages still have a paid and a part-paid invoice of the others to show."""
    from core.db import database
    from core.models import Invoice, InvoiceStatus, User
    from invoices import payments

    demo.load(db)
    db.commit()
    demo.invoice_history(database().sessionmaker)
    db.expire_all()
    lise = db.scalar(select(User).where(User.email == "employer@demo.dk"))
    own = db.scalars(select(Invoice).where(Invoice.employer_id == lise.employer_id)).all()
    assert own and any(payments.payable(i) for i in own)
    statuses = {i.status for i in db.scalars(select(Invoice))}
    assert {InvoiceStatus.PAID, InvoiceStatus.PARTLY_PAID} <= statuses


def readme_logins() -> set[tuple[str, str]]:
    """(e-mail, role) of every row of the README's "Demo logins" table."""
    from tests.helpers import ROOT

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Demo logins", 1)[1].split("\n## ", 1)[0]
    rows = set()
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 4 and cells[1].endswith("@demo.dk"):
            assert cells[2] == demo.PASSWORD, line
            assert cells[3], f"no 'what to try' for {cells[1]}"
            rows.add((cells[1], cells[0]))
    return rows


def test_the_readme_and_make_run_list_every_demo_login(app, db, ctx):
    demo.load(db)
    db.flush()
    users = {
        (user.email, user.role.value)
        for user in db.scalars(select(User).where(User.email.like("%@demo.dk")))
    }
    listed = {(email, role) for email, role, _what in demo.LOGINS}
    assert listed == users  # every user the demo makes, fatima@demo.dk among them
    assert ("fatima@demo.dk", "worker") in listed
    assert readme_logins() == listed


def test_the_demo_command_prints_every_login(app, db):
    runner = app.test_cli_runner()
    with app.app_context():
        result = runner.invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    for email, _role, what in demo.LOGINS:
        assert email in result.output and what in result.output
    assert f"password: {demo.PASSWORD}" in result.output
