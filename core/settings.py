"""The intermediary's settings and the price list."""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core import audit
from core.errors import Invalid, NotFound
from core.models import OrganisationSettings, User, WorkArea

# The bookkeeping journal's accounts (invoices/journal.py), each 1-10 digits.
ACCOUNT_SETTINGS = (
    "account_receivables",
    "account_sales",
    "account_output_vat",
    "account_bank",
    "account_card_clearing",
    "account_fee_income",
    "account_interest_income",
    "account_bad_debts",
)
EDITABLE_SETTINGS = (
    "legal_name",
    "cvr",
    "address_line",
    "postcode",
    "city",
    "email",
    "phone",
    "bank_reg",
    "bank_account",
    "iban",
    "bic",
    "fi_creditor_number",
    "vat_rate_bp",
    "payment_terms_days",
    "invoice_series",
    "credit_note_series",
    "reminder_fee_ore",
    "late_interest_rate_bp",
    "compensation_enabled",
    "compensation_ore",
    "auto_approve_days",
    "rate_adjust_limit_bp",
    "payroll_wage_type",
    "staff_two_factor",
    *ACCOUNT_SETTINGS,
)


def get(session: Session) -> OrganisationSettings:
    """The one settings row, created with the defaults on first use."""
    row = session.get(OrganisationSettings, 1)
    if row is None:
        try:  # two first requests at once: one inserts the row, the other then reads it
            with session.begin_nested():
                row = OrganisationSettings(id=1)
                session.add(row)
        except IntegrityError:
            row = session.get(OrganisationSettings, 1, populate_existing=True)
    return row


def staff_two_factor(session: Session) -> bool:
    """Whether staff must log in with a second factor: the stored choice, else the
    environment's default (on in production)."""
    stored = get(session).staff_two_factor
    return stored if stored is not None else current_app.config.get("ENV") == "production"


def update(session: Session, by: User, values: dict[str, Any]) -> list[str]:
    """Apply the changed values, audit them, and return the names that changed."""
    row = get(session)
    changed = {}
    for name in EDITABLE_SETTINGS:
        # The form shows what is in force; the environment's default stays unstored until the
        # admin chooses otherwise.
        now = staff_two_factor(session) if name == "staff_two_factor" else getattr(row, name)
        if name in values and values[name] is not None and now != values[name]:
            changed[name] = [getattr(row, name), values[name]]
            setattr(row, name, values[name])
    if changed:
        audit.record(session, by, "settings.updated", row, changes=changed)
    return sorted(changed)


def work_areas(session: Session, only_active: bool = False) -> list[WorkArea]:
    stmt = select(WorkArea).order_by(WorkArea.name)
    if only_active:
        stmt = stmt.where(WorkArea.active)
    return list(session.scalars(stmt))


def save_work_area(
    session: Session,
    by: User,
    *,
    area_id: int | None,
    name: str,
    name_en: str,
    bill_rate_ore: int,
    pay_rate_ore: int,
    active: bool,
) -> WorkArea:
    """Create or change a price-list line; the bill rate must cover the pay rate."""
    name = name.strip()
    if not name:
        raise Invalid(_("Give the work area a name."))
    if bill_rate_ore <= 0 or pay_rate_ore <= 0:
        raise Invalid(_("Rates must be above zero."))
    if bill_rate_ore < pay_rate_ore:
        raise Invalid(_("The bill rate must be at least the pay rate."))
    clash = session.scalar(
        select(WorkArea).where(
            # The exact name too: SQL lower() may leave non-ASCII letters as they are.
            or_(func.lower(WorkArea.name) == name.lower(), WorkArea.name == name),
            WorkArea.id != (area_id or 0),
        )
    )
    if clash is not None:
        raise Invalid(_("A work area called %(name)s already exists.", name=name))
    if area_id is None:
        area = WorkArea(name=name)
        session.add(area)
    else:
        area = session.get(WorkArea, area_id)
        if area is None:
            raise NotFound()
    before = {
        "name": area.name,
        "bill_rate_ore": area.bill_rate_ore,
        "pay_rate_ore": area.pay_rate_ore,
        "active": area.active,
    }
    area.name, area.name_en = name, name_en.strip()
    area.bill_rate_ore, area.pay_rate_ore, area.active = bill_rate_ore, pay_rate_ore, active
    session.flush()
    audit.record(
        session,
        by,
        "work_area.created" if area_id is None else "work_area.updated",
        area,
        before=before if area_id is not None else None,
        after={
            "name": name,
            "bill_rate_ore": bill_rate_ore,
            "pay_rate_ore": pay_rate_ore,
            "active": active,
        },
    )
    return area
