"""Admin pages: organisation settings, the price list and users; every change audited."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from core.errors import NotAllowed
from core.models import AuditEvent, OrganisationSettings, Role, User, WorkArea
from portal.services import accounts
from tests import factories
from tests.helpers import csrf_token, post_form

VALID_SETTINGS = {
    "legal_name": "Småjob Fyn",
    "cvr": "13585628",
    "address_line": "Kongensgade 40",
    "postcode": "5000",
    "city": "Odense C",
    "email": "kontakt@smajob.dk",
    "phone": "66 00 00 00",
    "bank_reg": "1234",
    "bank_account": "0012345678",
    "iban": "DK59 1234 0012 3456 78",
    "bic": "DABADKKK",
    "fi_creditor_number": "81234567",
    "vat_rate_bp": "25",
    "payment_terms_days": "14",
    "invoice_series": "F",
    "credit_note_series": "K",
    "reminder_fee_ore": "100,00",
    "late_interest_rate_bp": "10,25",
    "compensation_ore": "310",
    "auto_approve_days": "3",
    "rate_adjust_limit_bp": "20",
    "payroll_wage_type": "1",
}


def audit_actions(db, action: str) -> list[AuditEvent]:
    return list(db.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def test_admin_saves_settings_and_the_change_is_audited(client, db, as_role):
    admin = as_role(Role.ADMIN)
    response = post_form(client, "/admin/settings", VALID_SETTINGS)
    assert response.status_code == 302
    assert "Indstillingerne er gemt" in client.get("/admin/settings").text
    row = db.get(OrganisationSettings, 1)
    db.refresh(row)
    assert row.cvr == "13585628" and row.iban == "DK5912340012345678"
    assert row.late_interest_rate_bp == 1025 and row.reminder_fee_ore == 10000
    assert row.vat_rate_bp == 2500 and row.compensation_ore == 31000
    [event] = audit_actions(db, "settings.updated")
    assert event.actor_id == admin.id
    assert event.details["changes"]["cvr"] == ["", "13585628"]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("cvr", "13585627", "Ikke et gyldigt CVR-nummer"),
        ("iban", "DK5912340012345679", "Ikke en gyldig IBAN"),
        ("bank_reg", "12a4", "Reg.nr. har 4 cifre"),
        ("postcode", "500", "Et dansk postnummer har 4 cifre"),
        ("fi_creditor_number", "71234567", "FI-kreditornummeret er 8 cifre"),
        ("reminder_fee_ore", "100,01", "Rykkergebyret må ikke overstige 100 kr."),
        ("vat_rate_bp", "125", "Procentsatsen skal være mellem 0 og 100"),
        ("payment_terms_days", "-3", "Tallet skal være mellem 1 og 60"),
        ("legal_name", "", "Feltet skal udfyldes"),
        ("invoice_series", "f-1", "Brug 1–10 store bogstaver eller cifre"),
    ],
)
def test_bad_settings_are_refused_with_a_message(client, db, as_role, field, value, message):
    as_role(Role.ADMIN)
    response = post_form(client, "/admin/settings", {**VALID_SETTINGS, field: value})
    assert response.status_code == 400  # bad input is a 4xx, as on every other form
    assert message in response.text
    assert 'aria-invalid="true"' in response.text
    assert audit_actions(db, "settings.updated") == []
    row = db.get(OrganisationSettings, 1)
    assert row is None or row.cvr == ""


def test_price_list_add_and_edit(client, db, as_role):
    as_role(Role.ADMIN)
    response = post_form(
        client,
        "/admin/work-areas/new",
        {"name": "Lager", "name_en": "Warehouse", "bill_rate_ore": "189,50", "pay_rate_ore": "135"},
    )
    assert response.status_code == 302
    page = client.get("/admin/work-areas")
    assert "Lager" in page.text and "189,50\xa0kr." in page.text and "135,00\xa0kr." in page.text
    area = db.scalar(select(WorkArea).where(WorkArea.name == "Lager"))
    assert (area.bill_rate_ore, area.pay_rate_ore) == (18950, 13500)

    response = post_form(
        client,
        f"/admin/work-areas/{area.id}",
        {"name": "Lager", "bill_rate_ore": "1.200,00", "pay_rate_ore": "135", "active": "y"},
    )
    assert response.status_code == 302
    db.refresh(area)
    assert area.bill_rate_ore == 120000
    assert [e.action for e in db.scalars(select(AuditEvent).order_by(AuditEvent.id))][-2:] == [
        "work_area.created",
        "work_area.updated",
    ]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"bill_rate_ore": "12,345"}, "Angiv et beløb i kroner"),
        ({"bill_rate_ore": "100", "pay_rate_ore": "150"}, "Timeprisen skal mindst være timelønnen"),
        ({"bill_rate_ore": "-5"}, "Beløbet ligger uden for det tilladte interval"),
        ({"name": "lager"}, "Der findes allerede et arbejdsområde"),
    ],
)
def test_price_list_refuses_bad_rates(client, db, as_role, data, message):
    as_role(Role.ADMIN)
    factories.WorkAreaFactory(name="Lager")
    db.commit()
    before = db.scalars(select(WorkArea)).all()
    form = {"name": "Rengøring", "bill_rate_ore": "185", "pay_rate_ore": "132", **data}
    response = post_form(client, "/admin/work-areas/new", form)
    assert response.status_code == 400 and message in response.text
    assert db.scalars(select(WorkArea)).all() == before


def test_unknown_work_area_is_404(client, db, as_role):
    as_role(Role.ADMIN)
    assert client.get("/admin/work-areas/999999").status_code == 404


def test_admin_deactivates_and_reactivates_a_user(client, db, as_role):
    admin = as_role(Role.ADMIN)
    other = factories.UserFactory(email="old@example.dk")
    db.commit()
    assert "old@example.dk" in client.get("/admin/users").text
    post_form(client, f"/admin/users/{other.id}/active", {}, page="/admin/users")
    db.refresh(other)
    assert other.active is False
    post_form(client, f"/admin/users/{other.id}/active", {}, page="/admin/users")
    db.refresh(other)
    assert other.active is True
    actions = [
        e.action for e in db.scalars(select(AuditEvent).where(AuditEvent.object_id == other.id))
    ]
    assert actions == ["user.deactivated", "user.activated"]
    # An admin cannot lock themself out.
    response = post_form(client, f"/admin/users/{admin.id}/active", {}, page="/admin/users")
    assert response.status_code == 302
    db.refresh(admin)
    assert admin.active


def test_only_admins_create_employer_logins(client, db, as_role, mailbox):
    """A consultant who could invite an employer login to an address of their choosing could
    read that employer's invoices (README "Security notes")."""
    as_role(Role.CONSULTANT)
    employer = factories.EmployerFactory()
    db.commit()
    assert client.get("/admin/users/invite").status_code == 403
    token = csrf_token(client, "/")
    response = client.post(
        "/admin/users/invite",
        data={
            "csrf_token": token,
            "full_name": "Lis",
            "email": "lis@example.dk",
            "role": "employer",
            "employer_id": str(employer.id),
        },
    )
    assert response.status_code == 403
    assert db.scalar(select(User).where(User.email == "lis@example.dk")) is None
    assert mailbox.to("lis@example.dk") == []

    client.post("/auth/logout", data={"csrf_token": csrf_token(client, "/")})
    as_role(Role.ADMIN)
    response = post_form(
        client,
        "/admin/users/invite",
        {"full_name": "Lis", "email": "lis@example.dk", "role": "employer", "employer_id": "0"},
    )
    assert "præcis én virksomhed" in response.text
    response = post_form(
        client,
        "/admin/users/invite",
        {
            "full_name": "Lis",
            "email": "lis@example.dk",
            "role": "employer",
            "employer_id": str(employer.id),
        },
    )
    assert response.status_code == 302
    user = db.scalar(select(User).where(User.email == "lis@example.dk"))
    assert user.employer_id == employer.id
    assert len(mailbox.to("lis@example.dk")) == 1


def test_a_consultant_cannot_invite_an_employer_login_through_the_service(db, ctx):
    consultant = factories.UserFactory(role=Role.CONSULTANT)
    employer = factories.EmployerFactory()
    with pytest.raises(NotAllowed):
        accounts.invite(
            db,
            consultant,
            email="mine@example.dk",
            role=Role.EMPLOYER,
            full_name="Mig",
            employer=employer,
        )
    assert db.scalar(select(User).where(User.email == "mine@example.dk")) is None


def test_inviting_an_existing_e_mail_is_refused(client, db, as_role, mailbox):
    as_role(Role.ADMIN)
    factories.UserFactory(email="taken@example.dk")
    db.commit()
    response = post_form(
        client,
        "/admin/users/invite",
        {"full_name": "X", "email": "TAKEN@example.dk", "role": "finance"},
    )
    assert response.status_code == 400 and "findes allerede en bruger" in response.text
    assert mailbox.messages == []
