"""The core schema: typed SQLAlchemy 2 models. Money is integer øre, time integer minutes."""

from __future__ import annotations

import enum
from datetime import UTC, date, datetime, time

from flask_login import UserMixin
from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    Time,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from core import dates
from core.snapshots import BuyerSnapshot, SellerSnapshot


class UTCDateTime(TypeDecorator):
    """Store naive UTC, hand out aware UTC (SQLite has no time zones)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use aware UTC datetimes")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect):
        return None if value is None else value.replace(tzinfo=UTC)


def enum_column(enum_class: type[enum.Enum]) -> Enum:
    """Store an enum by its value in a plain string column."""
    return Enum(
        enum_class,
        native_enum=False,
        create_constraint=False,
        length=20,
        values_callable=lambda members: [m.value for m in members],
    )


class Base(DeclarativeBase):
    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(column_0_label)s",
            "uq": "uq_%(table_name)s_%(column_0_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )
    type_annotation_map = {datetime: UTCDateTime(), date: Date(), time: Time(), int: Integer()}


class Role(enum.StrEnum):
    EMPLOYER = "employer"
    WORKER = "worker"
    CONSULTANT = "consultant"
    FINANCE = "finance"
    ADMIN = "admin"


STAFF_ROLES = (Role.CONSULTANT, Role.FINANCE, Role.ADMIN)


class BillingCadence(enum.StrEnum):
    WEEKLY = "weekly"
    FORTNIGHTLY = "fortnightly"
    MONTHLY = "monthly"


class EmployerStatus(enum.StrEnum):
    PENDING = "pending"
    ACTIVE = "active"
    INACTIVE = "inactive"


class OrderStatus(enum.StrEnum):
    NEW = "new"  # submitted, no consultant yet
    TAKEN = "taken"  # a consultant owns it and is matching
    PROPOSED = "proposed"  # at least one worker proposed, waiting for consent
    FILLED = "filled"  # every head count placed
    CANCELLED = "cancelled"
    CLOSED = "closed"


class WorkerStatus(enum.StrEnum):
    AVAILABLE = "available"
    PLACED = "placed"
    PAUSED = "paused"
    LEFT = "left"


class PlacementStatus(enum.StrEnum):
    PROPOSED = "proposed"
    ACTIVE = "active"
    DECLINED = "declined"
    ENDED = "ended"


class InvoiceKind(enum.StrEnum):
    INVOICE = "invoice"
    CREDIT_NOTE = "credit_note"


class InvoiceStatus(enum.StrEnum):
    DRAFT = "draft"
    ISSUED = "issued"
    PARTLY_PAID = "partly_paid"
    PAID = "paid"
    CREDITED = "credited"
    WRITTEN_OFF = "written_off"  # what was open is booked as a loss (a WriteOff)


class DeliveryState(enum.StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


class EinvoiceState(enum.StrEnum):
    QUEUED = "queued"  # waiting for its job
    SENT = "sent"  # handed to the access point, no answer yet
    ACCEPTED = "accepted"
    REJECTED = "rejected"  # the receiver or the access point refused it (the reason is kept)
    FAILED = "failed"  # did not reach the access point; sent again with back-off


class OutboxState(enum.StrEnum):
    QUEUED = "queued"  # written with its fact, waiting for the first attempt
    SENDING = "sending"  # a sender holds it until lease_until (then it is due again)
    RETRYING = "retrying"  # an attempt failed; tried again at next_attempt_at
    DELIVERED = "delivered"  # the channel took it (the mail server, the folder, the access point)
    GIVEN_UP = "given_up"  # no more attempts: the reason is kept and finance sees it


class OutboxChannel(enum.StrEnum):
    EMAIL = "email"
    EINVOICE = "einvoice"  # to a public body through the access point (folder or API)
    WEBHOOK = "webhook"


class RunStatus(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class PaymentMethod(enum.StrEnum):
    CARD = "card"
    BANK = "bank"
    MANUAL = "manual"


class OrganisationSettings(Base):
    """The intermediary itself; one row (id 1). Legal figures are defaults an admin can change."""

    __tablename__ = "organisation_settings"
    id: Mapped[int] = mapped_column(primary_key=True)
    legal_name: Mapped[str] = mapped_column(String(200), default="")
    cvr: Mapped[str] = mapped_column(String(8), default="")
    address_line: Mapped[str] = mapped_column(String(200), default="")
    postcode: Mapped[str] = mapped_column(String(4), default="")
    city: Mapped[str] = mapped_column(String(100), default="")
    email: Mapped[str] = mapped_column(String(254), default="")
    phone: Mapped[str] = mapped_column(String(30), default="")
    bank_reg: Mapped[str] = mapped_column(String(4), default="")
    bank_account: Mapped[str] = mapped_column(String(10), default="")
    iban: Mapped[str] = mapped_column(String(34), default="")
    bic: Mapped[str] = mapped_column(String(11), default="")
    fi_creditor_number: Mapped[str] = mapped_column(String(8), default="")
    vat_rate_bp: Mapped[int] = mapped_column(default=2500)  # basis points: 2500 = 25 %
    payment_terms_days: Mapped[int] = mapped_column(default=14)
    invoice_series: Mapped[str] = mapped_column(String(10), default="F")
    credit_note_series: Mapped[str] = mapped_column(String(10), default="K")
    reminder_fee_ore: Mapped[int] = mapped_column(default=10000)  # renteloven § 9 b: max 100 kr
    late_interest_rate_bp: Mapped[int] = mapped_column(default=1000)  # reference rate + 8 pp
    compensation_enabled: Mapped[bool] = mapped_column(default=False)
    compensation_ore: Mapped[int] = mapped_column(default=31000)  # renteloven § 9 a: 310 kr
    auto_approve_days: Mapped[int] = mapped_column(default=3)
    rate_adjust_limit_bp: Mapped[int] = mapped_column(default=2000)  # ±20 % off the price list
    payroll_wage_type: Mapped[str] = mapped_column(String(10), default="1")
    # The accounts of the bookkeeping journal (invoices/journal.py). Defaults: Erhvervsstyrelsen's
    # public standard chart of accounts (standardkontoplan, the chart Odoo's and Business
    # Central's Danish localisations ship); an organisation on another chart sets its own.
    account_receivables: Mapped[str] = mapped_column(String(10), default="6190")  # debitorer
    account_sales: Mapped[str] = mapped_column(String(10), default="1010")  # salg
    account_output_vat: Mapped[str] = mapped_column(String(10), default="7680")  # salgsmoms
    account_bank: Mapped[str] = mapped_column(String(10), default="6480")  # bankkonto
    # Card payments wait at Stripe until its payout: "other short-term receivables" by default.
    account_card_clearing: Mapped[str] = mapped_column(String(10), default="6330")
    # Reminder fees and compensation (no VAT): "other operating income".
    account_fee_income: Mapped[str] = mapped_column(String(10), default="1550")
    # Late interest: "interest on receivables from sales of goods and services".
    account_interest_income: Mapped[str] = mapped_column(String(10), default="3490")
    # Konstaterede tab på debitorer (the standard chart's 1745): the net of a write-off; its
    # VAT goes back on the output VAT account (momsloven § 27, stk. 6).
    account_bad_debts: Mapped[str] = mapped_column(String(10), default="1745")
    # Staff must log in with a second factor. None: the environment's default (on in
    # production, off elsewhere; core.settings.staff_two_factor).
    staff_two_factor: Mapped[bool | None]
    updated_at: Mapped[datetime] = mapped_column(default=dates.now, onupdate=dates.now)


class User(UserMixin, Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    # Stored lower-case; the unique index is therefore case-insensitive.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    full_name: Mapped[str] = mapped_column(String(200), default="")
    phone: Mapped[str] = mapped_column(String(30), default="")
    password_hash: Mapped[str | None] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(enum_column(Role))
    locale: Mapped[str] = mapped_column(String(5), default="da")
    employer_id: Mapped[int | None] = mapped_column(ForeignKey("employers.id"), index=True)
    active: Mapped[bool] = mapped_column(default=True)
    # Part of every log-in session's id: raising it (log-out, a new password, deactivation)
    # ends every session the user had, on every device, however the cookie was kept.
    session_version: Mapped[int] = mapped_column(default=0)
    # When the owner was last told that the account is locked by failed log-ins.
    lockout_notified_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=dates.now)
    last_login_at: Mapped[datetime | None]
    # Two-factor log-in (portal/services/twofactor.py): the TOTP secret, encrypted with the
    # app's key; when it was confirmed; the last 30-second step accepted (never twice).
    totp_secret: Mapped[str | None] = mapped_column(String(255))
    totp_enabled_at: Mapped[datetime | None]
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)

    employer: Mapped[Employer | None] = relationship(back_populates="users")

    __table_args__ = (
        CheckConstraint("(role = 'employer') = (employer_id IS NOT NULL)", name="employer_link"),
    )

    @property
    def is_active(self) -> bool:  # flask-login refuses inactive users
        return self.active

    def get_id(self) -> str:
        """The id flask-login keeps in the session: the user and the session version."""
        return f"{self.id}.{self.session_version}"

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES


class UserToken(Base):
    """A one-time link (invitation or password reset); only the SHA-256 is stored."""

    __tablename__ = "user_tokens"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    purpose: Mapped[str] = mapped_column(String(20))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=dates.now)

    user: Mapped[User] = relationship()


class Employer(Base):
    __tablename__ = "employers"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    cvr: Mapped[str] = mapped_column(String(8), index=True)
    ean: Mapped[str | None] = mapped_column(String(13))
    address_line: Mapped[str] = mapped_column(String(200), default="")
    postcode: Mapped[str] = mapped_column(String(4), default="")
    city: Mapped[str] = mapped_column(String(100), default="")
    contact_name: Mapped[str] = mapped_column(String(200), default="")
    phone: Mapped[str] = mapped_column(String(30), default="")
    invoice_email: Mapped[str] = mapped_column(String(254), default="")
    billing_cadence: Mapped[BillingCadence] = mapped_column(
        enum_column(BillingCadence), default=BillingCadence.MONTHLY
    )
    payment_terms_days: Mapped[int | None]  # None: the organisation's default
    stripe_customer_id: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[EmployerStatus] = mapped_column(
        enum_column(EmployerStatus), default=EmployerStatus.PENDING
    )
    # Set when a public order named a CVR we already know: the submitted company waits here
    # until a consultant attaches its orders to that employer or keeps it separate.
    duplicate_of_id: Mapped[int | None] = mapped_column(ForeignKey("employers.id"))
    created_at: Mapped[datetime] = mapped_column(default=dates.now)

    users: Mapped[list[User]] = relationship(back_populates="employer")
    duplicate_of: Mapped[Employer | None] = relationship(remote_side=[id])
    orders: Mapped[list[JobOrder]] = relationship(back_populates="employer")


class WorkArea(Base):
    """A line of the price list: what the employer pays and the worker earns per hour."""

    __tablename__ = "work_areas"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    name_en: Mapped[str] = mapped_column(String(100), default="")
    bill_rate_ore: Mapped[int]  # per hour, excl. VAT
    pay_rate_ore: Mapped[int]  # per hour
    active: Mapped[bool] = mapped_column(default=True)

    __table_args__ = (
        CheckConstraint("bill_rate_ore > 0 AND pay_rate_ore > 0", name="positive_rates"),
    )


worker_work_areas = Table(
    "worker_work_areas",
    Base.metadata,
    Column("worker_id", ForeignKey("workers.id", ondelete="CASCADE"), primary_key=True),
    Column("work_area_id", ForeignKey("work_areas.id"), primary_key=True),
)


class JobOrder(Base):
    """The employer's request for help."""

    __tablename__ = "job_orders"
    id: Mapped[int] = mapped_column(primary_key=True)
    employer_id: Mapped[int] = mapped_column(ForeignKey("employers.id"), index=True)
    work_area_id: Mapped[int] = mapped_column(ForeignKey("work_areas.id"))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    address: Mapped[str] = mapped_column(String(300), default="")
    postcode: Mapped[str] = mapped_column(String(4), default="")
    hours_per_week: Mapped[int]
    preferred_days: Mapped[int] = mapped_column(default=0)  # bit 0 = Monday ... bit 6 = Sunday
    start_date: Mapped[date]
    end_date: Mapped[date | None]
    head_count: Mapped[int] = mapped_column(default=1)
    status: Mapped[OrderStatus] = mapped_column(enum_column(OrderStatus), default=OrderStatus.NEW)
    consultant_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # Public bodies (EAN) need these on every invoice (DOMAIN-DK.md § 5).
    order_reference: Mapped[str] = mapped_column(String(50), default="")
    person_reference: Mapped[str] = mapped_column(String(100), default="")
    # The person the consultant calls about this order.
    contact_name: Mapped[str] = mapped_column(String(200), default="")
    contact_email: Mapped[str] = mapped_column(String(254), default="")
    contact_phone: Mapped[str] = mapped_column(String(30), default="")
    # The one-time key of the form that created it: a resubmitted form finds this order.
    submission_key: Mapped[str | None] = mapped_column(String(64), unique=True, index=True)
    taken_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]
    cancelled_reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=dates.now)

    employer: Mapped[Employer] = relationship(back_populates="orders")
    work_area: Mapped[WorkArea] = relationship()
    consultant: Mapped[User | None] = relationship(foreign_keys=[consultant_id])

    __table_args__ = (
        CheckConstraint("hours_per_week BETWEEN 1 AND 37", name="hours_range"),
        CheckConstraint("head_count >= 1", name="head_count_positive"),
    )


class Worker(Base):
    __tablename__ = "workers"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), unique=True)
    payroll_number: Mapped[str] = mapped_column(String(20), unique=True)
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    email: Mapped[str] = mapped_column(String(254), default="")
    phone: Mapped[str] = mapped_column(String(30), default="")
    postcode: Mapped[str] = mapped_column(String(4), default="")
    hours_min: Mapped[int] = mapped_column(default=5)
    hours_max: Mapped[int] = mapped_column(default=15)
    available_days: Mapped[int] = mapped_column(default=0b0011111)  # bit 0 = Monday
    consultant_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    status: Mapped[WorkerStatus] = mapped_column(
        enum_column(WorkerStatus), default=WorkerStatus.AVAILABLE
    )
    created_at: Mapped[datetime] = mapped_column(default=dates.now)
    # Personal data (portal/services/privacy.py): erased on request or after inactivity, the
    # profile is restricted to what bookkeeping needs (name and payroll number) and hidden
    # from lists and matching; after the bookkeeping retention the name is anonymised too.
    erased_at: Mapped[datetime | None]
    erasure_reason: Mapped[str] = mapped_column(Text, default="")
    anonymised_at: Mapped[datetime | None]

    user: Mapped[User | None] = relationship(foreign_keys=[user_id])
    consultant: Mapped[User | None] = relationship(foreign_keys=[consultant_id])
    work_areas: Mapped[list[WorkArea]] = relationship(secondary=worker_work_areas)

    __table_args__ = (CheckConstraint("hours_min <= hours_max", name="hours_order"),)

    @property
    def display_name(self) -> str:
        """First name and initial: what employers and invoices show."""
        return f"{self.first_name} {self.last_name[:1]}.".strip()


class Placement(Base):
    """A worker on a job order, with the rates fixed when both sides accepted."""

    __tablename__ = "placements"
    id: Mapped[int] = mapped_column(primary_key=True)
    job_order_id: Mapped[int] = mapped_column(ForeignKey("job_orders.id"), index=True)
    # Copied from the job order so tenancy checks need no join.
    employer_id: Mapped[int] = mapped_column(ForeignKey("employers.id"), index=True)
    worker_id: Mapped[int] = mapped_column(ForeignKey("workers.id"), index=True)
    consultant_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    pay_rate_ore: Mapped[int]
    bill_rate_ore: Mapped[int]
    hours_per_week: Mapped[int]
    start_date: Mapped[date]
    end_date: Mapped[date | None]
    status: Mapped[PlacementStatus] = mapped_column(
        enum_column(PlacementStatus), default=PlacementStatus.PROPOSED
    )
    employer_accepted_at: Mapped[datetime | None]
    employer_accepted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    worker_accepted_at: Mapped[datetime | None]
    declined_reason: Mapped[str] = mapped_column(Text, default="")
    declined_at: Mapped[datetime | None]
    declined_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    end_reason: Mapped[str] = mapped_column(String(200), default="")  # a PlacementEndReason
    end_note: Mapped[str] = mapped_column(Text, default="")
    # The weekly pattern plans public holidays too (by default they are left out).
    planned_on_holidays: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=dates.now)

    job_order: Mapped[JobOrder] = relationship()
    employer: Mapped[Employer] = relationship()
    worker: Mapped[Worker] = relationship()
    consultant: Mapped[User | None] = relationship(foreign_keys=[consultant_id])
    notes: Mapped[list[PlacementNote]] = relationship(
        back_populates="placement",
        order_by=lambda: (PlacementNote.note_date.desc(), PlacementNote.id.desc()),
    )
    hours_changes: Mapped[list[PlacementHoursChange]] = relationship(
        back_populates="placement",
        order_by=lambda: (PlacementHoursChange.effective_from, PlacementHoursChange.id),
    )
    # The weekly pattern: replaced as a whole (portal.services.hours.planned.set_pattern).
    planned_slots: Mapped[list[PlannedSlot]] = relationship(
        order_by=lambda: (PlannedSlot.weekday, PlannedSlot.start_time),
        cascade="all, delete-orphan",
    )

    __table_args__ = (
        CheckConstraint("pay_rate_ore > 0 AND bill_rate_ore > 0", name="positive_rates"),
        # A worker is proposed to (or placed on) an order once at a time, however many
        # proposals race for it.
        Index(
            "uq_placements_open_worker",
            "job_order_id",
            "worker_id",
            unique=True,
            postgresql_where=text("status IN ('proposed', 'active')"),
            sqlite_where=text("status IN ('proposed', 'active')"),
        ),
    )


class PlacementEndReason(enum.StrEnum):
    MORE_HOURS = "more_hours"  # moved on to more hours with the same employer
    ORDINARY_JOB = "ordinary_job"  # an ordinary job, here or elsewhere
    STOPPED = "stopped"
    OTHER = "other"


class NoteKind(enum.StrEnum):
    CALL = "call"
    VISIT = "visit"
    NOTE = "note"


class PlacementNote(Base):
    """A consultant's follow-up on a placement; only intermediary staff ever see these."""

    __tablename__ = "placement_notes"
    id: Mapped[int] = mapped_column(primary_key=True)
    placement_id: Mapped[int] = mapped_column(ForeignKey("placements.id"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    note_date: Mapped[date]
    kind: Mapped[NoteKind] = mapped_column(enum_column(NoteKind))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=dates.now)

    placement: Mapped[Placement] = relationship(back_populates="notes")
    author: Mapped[User | None] = relationship()


class PlacementHoursChange(Base):
    """One change of a placement's agreed hours per week, kept so '12 → 20' stays visible."""

    __tablename__ = "placement_hours_changes"
    id: Mapped[int] = mapped_column(primary_key=True)
    placement_id: Mapped[int] = mapped_column(ForeignKey("placements.id"), index=True)
    old_hours_per_week: Mapped[int]
    new_hours_per_week: Mapped[int]
    effective_from: Mapped[date]
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=dates.now)

    placement: Mapped[Placement] = relationship(back_populates="hours_changes")
    changed_by: Mapped[User | None] = relationship()


class TimeEntry(Base):
    """One shift. Approved only when both the worker's and the employer's side are signed."""

    __tablename__ = "time_entries"
    id: Mapped[int] = mapped_column(primary_key=True)
    placement_id: Mapped[int] = mapped_column(ForeignKey("placements.id"), index=True)
    # Copied from the placement: on PostgreSQL an exclusion constraint on (worker, time range)
    # refuses two overlapping shifts of one worker, however they arrive (migration 0006).
    worker_id: Mapped[int] = mapped_column(ForeignKey("workers.id"), index=True)
    work_date: Mapped[date] = mapped_column(index=True)
    start_time: Mapped[time]
    end_time: Mapped[time]  # earlier than start_time when the shift runs past midnight
    break_minutes: Mapped[int] = mapped_column(default=0)
    minutes: Mapped[int]  # worked minutes: (end - start) - break
    note: Mapped[str] = mapped_column(Text, default="")
    entered_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    worker_confirmed_at: Mapped[datetime | None]
    worker_confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    employer_approved_at: Mapped[datetime | None]
    employer_approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    auto_approved: Mapped[bool] = mapped_column(default=False)
    disputed_at: Mapped[datetime | None]
    disputed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    dispute_reason: Mapped[str] = mapped_column(Text, default="")
    # A consultant's resolution of the last dispute; the auto-approval clock restarts here.
    resolved_at: Mapped[datetime | None]
    invoice_line_id: Mapped[int | None] = mapped_column(ForeignKey("invoice_lines.id"), index=True)
    payroll_export_id: Mapped[int | None] = mapped_column(
        ForeignKey("payroll_exports.id"), index=True
    )
    # The minutes the payroll files have paid so far: a shift corrected after it was paid
    # (released by a credit note and put right) goes into the next file with the difference.
    paid_minutes: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(default=dates.now)
    updated_at: Mapped[datetime] = mapped_column(default=dates.now, onupdate=dates.now)

    placement: Mapped[Placement] = relationship()
    worker: Mapped[Worker] = relationship()
    entered_by: Mapped[User] = relationship(foreign_keys=[entered_by_id])
    worker_confirmed_by: Mapped[User | None] = relationship(foreign_keys=[worker_confirmed_by_id])
    employer_approved_by: Mapped[User | None] = relationship(foreign_keys=[employer_approved_by_id])
    disputed_by: Mapped[User | None] = relationship(foreign_keys=[disputed_by_id])
    changes: Mapped[list[TimeEntryChange]] = relationship(
        order_by="TimeEntryChange.id", passive_deletes=True
    )

    __table_args__ = (
        CheckConstraint("minutes > 0", name="positive_minutes"),
        CheckConstraint("break_minutes >= 0", name="break_not_negative"),
    )

    @property
    def approved(self) -> bool:
        return self.worker_confirmed_at is not None and self.employer_approved_at is not None


class InvoiceRun(Base):
    __tablename__ = "invoice_runs"
    id: Mapped[int] = mapped_column(primary_key=True)
    period_end: Mapped[date]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    status: Mapped[RunStatus] = mapped_column(enum_column(RunStatus), default=RunStatus.QUEUED)
    total: Mapped[int] = mapped_column(default=0)
    done: Mapped[int] = mapped_column(default=0)
    errors: Mapped[list] = mapped_column(JSON, default=list)
    # The selection: None means every employer with billable hours (of the cadence, if set).
    cadence: Mapped[BillingCadence | None] = mapped_column(enum_column(BillingCadence))
    employer_ids: Mapped[list | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=dates.now)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    # Touched by the worker at every employer: a RUNNING run whose heartbeat stopped was left
    # by a dead worker and can be resumed.
    heartbeat_at: Mapped[datetime | None]
    resumed_count: Mapped[int] = mapped_column(default=0)

    created_by: Mapped[User | None] = relationship()


class InvoiceNumberCounter(Base):
    """The last number issued per series and year; locked while an invoice is issued."""

    __tablename__ = "invoice_number_counters"
    series: Mapped[str] = mapped_column(String(10), primary_key=True)
    year: Mapped[int] = mapped_column(primary_key=True)
    last_number: Mapped[int] = mapped_column(default=0)


class Invoice(Base):
    """An invoice or a credit note. Once issued, nothing in it changes."""

    __tablename__ = "invoices"
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[InvoiceKind] = mapped_column(enum_column(InvoiceKind), default=InvoiceKind.INVOICE)
    series: Mapped[str] = mapped_column(String(10))
    year: Mapped[int | None]
    # None while draft; assigned in the issuing transaction. active_history: the flush guard
    # must see the old value even when the row was expired before the change.
    number: Mapped[int | None] = mapped_column(active_history=True)
    employer_id: Mapped[int] = mapped_column(ForeignKey("employers.id"), index=True)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("invoice_runs.id"), index=True)
    credited_invoice_id: Mapped[int | None] = mapped_column(ForeignKey("invoices.id"))
    period_start: Mapped[date | None]
    period_end: Mapped[date | None]
    issue_date: Mapped[date | None]
    due_date: Mapped[date | None]
    subtotal_ore: Mapped[int] = mapped_column(BigInteger, default=0)
    vat_rate_bp: Mapped[int] = mapped_column(default=2500)
    vat_ore: Mapped[int] = mapped_column(BigInteger, default=0)
    total_ore: Mapped[int] = mapped_column(BigInteger, default=0)
    paid_ore: Mapped[int] = mapped_column(BigInteger, default=0)
    credited_ore: Mapped[int] = mapped_column(BigInteger, default=0)  # by later credit notes
    written_off_ore: Mapped[int] = mapped_column(BigInteger, default=0)  # a WriteOff: a loss
    status: Mapped[InvoiceStatus] = mapped_column(
        enum_column(InvoiceStatus), default=InvoiceStatus.DRAFT
    )
    payment_id: Mapped[str | None] = mapped_column(String(15), unique=True)  # FI +71 id
    # A credit note's reason, printed on it: frozen with the document, which is rendered
    # after the issuing transaction from stored data only.
    reason: Mapped[str] = mapped_column(Text, default="")
    # Buyer and seller as they were when issued: the invoice must not change if they do.
    # Stored as BuyerSnapshot/SellerSnapshot.to_json(); read them through buyer_party and
    # seller_party, never by key.
    buyer: Mapped[dict] = mapped_column(JSON, default=dict)
    seller: Mapped[dict] = mapped_column(JSON, default=dict)
    # The archived documents load only when read (lists never need them).
    pdf: Mapped[bytes | None] = mapped_column(LargeBinary, active_history=True, deferred=True)
    pdf_sha256: Mapped[str | None] = mapped_column(String(64), active_history=True)
    timesheet_pdf: Mapped[bytes | None] = mapped_column(
        LargeBinary, active_history=True, deferred=True
    )
    timesheet_sha256: Mapped[str | None] = mapped_column(String(64), active_history=True)
    # The e-invoice (Peppol BIS Billing 3.0, UBL 2.1), validated before it is stored.
    ubl_xml: Mapped[bytes | None] = mapped_column(LargeBinary, active_history=True, deferred=True)
    ubl_sha256: Mapped[str | None] = mapped_column(String(64), active_history=True)
    # Its way to a public body through the access point (None: not sent as an e-invoice).
    einvoice_state: Mapped[EinvoiceState | None] = mapped_column(enum_column(EinvoiceState))
    einvoice_reference: Mapped[str] = mapped_column(String(100), default="")
    einvoice_error: Mapped[str] = mapped_column(Text, default="")
    einvoice_attempts: Mapped[int] = mapped_column(default=0)
    einvoice_sent_at: Mapped[datetime | None]
    delivery_state: Mapped[DeliveryState] = mapped_column(
        enum_column(DeliveryState), default=DeliveryState.PENDING
    )
    delivery_attempts: Mapped[int] = mapped_column(default=0)
    delivery_error: Mapped[str] = mapped_column(Text, default="")
    delivered_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=dates.now)
    issued_at: Mapped[datetime | None]

    employer: Mapped[Employer] = relationship()
    lines: Mapped[list[InvoiceLine]] = relationship(
        back_populates="invoice", order_by="InvoiceLine.position"
    )
    credited_invoice: Mapped[Invoice | None] = relationship(remote_side=[id])

    @property
    def display_number(self) -> str:
        if self.number is None or self.year is None:
            return ""
        return f"{self.series}-{self.year}-{self.number:04d}"

    @property
    def open_ore(self) -> int:
        return max(self.total_ore - self.paid_ore - self.credited_ore - self.written_off_ore, 0)

    @property
    def is_credit_note(self) -> bool:
        return self.kind == InvoiceKind.CREDIT_NOTE

    @property
    def documents_ready(self) -> bool:
        """Whether every document of the issued invoice is archived: only then is it shown
        as final, delivered and payable (they are rendered just after the number is taken)."""
        if self.number is None or self.pdf_sha256 is None:
            return False
        return self.is_credit_note or self.timesheet_sha256 is not None

    @property
    def buyer_party(self) -> BuyerSnapshot:
        return BuyerSnapshot.from_json(self.buyer)

    @property
    def seller_party(self) -> SellerSnapshot:
        return SellerSnapshot.from_json(self.seller)

    __table_args__ = (
        UniqueConstraint("series", "year", "number", name="uq_invoices_number"),
        Index("ix_invoices_employer_status", "employer_id", "status"),
    )


class InvoiceLine(Base):
    __tablename__ = "invoice_lines"
    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id"), index=True)
    placement_id: Mapped[int | None] = mapped_column(ForeignKey("placements.id"))
    credited_line_id: Mapped[int | None] = mapped_column(ForeignKey("invoice_lines.id"))
    position: Mapped[int] = mapped_column(default=0)
    description: Mapped[str] = mapped_column(String(300))
    period_start: Mapped[date | None]
    period_end: Mapped[date | None]
    minutes: Mapped[int]  # the shifts' worked minutes (the timesheet); 0 on an amount line
    # What the line bills, in hundredths of its unit: hours rounded half up to two decimals
    # (425 minutes: 708 = 7,08 timer), or pieces (100 = 1 stk.) on a price reduction. The
    # amount is always round-half-up(quantity × rate ÷ 100): what the customer recomputes.
    quantity_hundredths: Mapped[int] = mapped_column(BigInteger, default=0)
    unit_code: Mapped[str] = mapped_column(String(3), default="HUR")  # UN/ECE rec. 20: HUR, C62
    rate_ore: Mapped[int]  # per unit: the hourly rate, or the reduction's amount
    amount_ore: Mapped[int] = mapped_column(BigInteger)
    # On a credit note line: the credited hours may be billed again on a later invoice.
    released_entries: Mapped[bool] = mapped_column(default=False)

    invoice: Mapped[Invoice] = relationship(back_populates="lines")
    placement: Mapped[Placement | None] = relationship()
    entries: Mapped[list[TimeEntry]] = relationship(secondary="invoice_line_entries")


invoice_line_entries = Table(
    "invoice_line_entries",
    Base.metadata,
    Column("invoice_line_id", ForeignKey("invoice_lines.id"), primary_key=True),
    Column("time_entry_id", ForeignKey("time_entries.id"), primary_key=True, index=True),
)
"""Which shifts each invoice line billed: kept even when a credit note releases them."""


class Payment(Base):
    __tablename__ = "payments"
    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int | None] = mapped_column(ForeignKey("invoices.id"), index=True)
    amount_ore: Mapped[int] = mapped_column(BigInteger)
    method: Mapped[PaymentMethod] = mapped_column(enum_column(PaymentMethod))
    # Stripe payment intent, bank line fingerprint ...: a payment is recorded once.
    external_id: Mapped[str | None] = mapped_column(String(100), unique=True)
    received_at: Mapped[datetime]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=dates.now)

    invoice: Mapped[Invoice | None] = relationship()
    created_by: Mapped[User | None] = relationship()


class AuditEvent(Base):
    """Append-only: who did what to which object, and when."""

    __tablename__ = "audit_events"
    id: Mapped[int] = mapped_column(primary_key=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    action: Mapped[str] = mapped_column(String(60), index=True)
    object_type: Mapped[str] = mapped_column(String(40), default="")
    object_id: Mapped[int | None]
    details: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=dates.now, index=True)

    actor: Mapped[User | None] = relationship()


# --- Hours: change history, payroll exports, reminder bookkeeping -----------------------------


class EntryChangeKind(enum.StrEnum):
    EDITED = "edited"  # a party changed the entry; the other side's signature was cleared
    DISPUTED = "disputed"
    CORRECTED = "corrected"  # the consultant changed it; both signatures were cleared
    RESOLVED = "resolved"  # the consultant closed the dispute without a change


class TimeEntryChange(Base):
    """One step in an entry's history, with before/after values so both sides see what changed."""

    __tablename__ = "time_entry_changes"
    id: Mapped[int] = mapped_column(primary_key=True)
    time_entry_id: Mapped[int] = mapped_column(
        ForeignKey("time_entries.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[EntryChangeKind] = mapped_column(enum_column(EntryChangeKind))
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    before: Mapped[dict] = mapped_column(JSON, default=dict)
    after: Mapped[dict] = mapped_column(JSON, default=dict)
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=dates.now)

    changed_by: Mapped[User | None] = relationship()


class PayrollFormat(enum.StrEnum):
    CSV = "csv"  # the documented CSV (README "Payroll export")
    DANLON = "danlon"  # CVR;medarbejdernr;lønart;enheder;sats;beløb, numbers × 100


class PayrollExport(Base):
    """One payroll file; its entries point at it, and its bytes are kept as sent."""

    __tablename__ = "payroll_exports"
    id: Mapped[int] = mapped_column(primary_key=True)
    period_start: Mapped[date]
    period_end: Mapped[date]
    format: Mapped[PayrollFormat] = mapped_column(
        enum_column(PayrollFormat), default=PayrollFormat.CSV
    )
    reexport: Mapped[bool] = mapped_column(default=False)
    entry_count: Mapped[int] = mapped_column(default=0)
    total_minutes: Mapped[int] = mapped_column(default=0)
    total_ore: Mapped[int] = mapped_column(BigInteger, default=0)
    content: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=dates.now)

    created_by: Mapped[User | None] = relationship()

    __table_args__ = (CheckConstraint("period_start <= period_end", name="period_order"),)


class HoursReminder(Base):
    """When a user last got an 'hours are waiting' e-mail: at most one a day."""

    __tablename__ = "hours_reminders"
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    last_sent_at: Mapped[datetime]


class PlannedSlot(Base):
    """One shift of a placement's weekly pattern. Planned shifts are derived from it for the
    placement's dates (portal.services.hours.planned); it records no hours itself."""

    __tablename__ = "planned_slots"
    id: Mapped[int] = mapped_column(primary_key=True)
    placement_id: Mapped[int] = mapped_column(ForeignKey("placements.id"))
    weekday: Mapped[int]  # 0 = Monday ... 6 = Sunday
    start_time: Mapped[time]
    end_time: Mapped[time]  # earlier than start_time when the shift runs past midnight
    break_minutes: Mapped[int] = mapped_column(default=0)
    # The Monday of the week the pattern was saved: no shift is planned before it (a calendar
    # never shows a week gone by as planned when it was not).
    planned_from: Mapped[date]

    __table_args__ = (
        UniqueConstraint("placement_id", "weekday", "start_time", name="uq_planned_slots_time"),
        CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday_range"),
        CheckConstraint("break_minutes >= 0", name="break_not_negative"),
    )


class CalendarFeed(Base):
    """A user's secret calendar (ICS) address; only the SHA-256 of its secret is stored, so
    the address is shown once, when it is made. Revoked, it answers 404."""

    __tablename__ = "calendar_feeds"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=dates.now)
    revoked_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()


# --- Payments and receivables: card intents, webhooks, bank imports, reminders -----------------


class CardIntentStatus(enum.StrEnum):
    OPEN = "open"  # created; the employer has not paid (or may try again)
    FAILED = "failed"  # the last attempt failed; Stripe lets the employer try again
    SUCCEEDED = "succeeded"


class CardIntent(Base):
    """A Stripe PaymentIntent we created (or first heard of in a webhook) for an invoice."""

    __tablename__ = "card_intents"
    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int | None] = mapped_column(ForeignKey("invoices.id"), index=True)
    intent_id: Mapped[str] = mapped_column(String(100), unique=True)
    # invoice id + open amount: a double click (or two tabs) finds the same intent.
    idempotency_key: Mapped[str | None] = mapped_column(String(100), unique=True)
    amount_ore: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[CardIntentStatus] = mapped_column(
        enum_column(CardIntentStatus), default=CardIntentStatus.OPEN
    )
    failure_message: Mapped[str] = mapped_column(Text, default="")
    failed_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=dates.now)
    updated_at: Mapped[datetime] = mapped_column(default=dates.now, onupdate=dates.now)

    invoice: Mapped[Invoice | None] = relationship()


class ProcessedStripeEvent(Base):
    """Each Stripe event id once: a redelivered event finds its row and changes nothing."""

    __tablename__ = "processed_stripe_events"
    event_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    type: Mapped[str] = mapped_column(String(60))
    object_id: Mapped[str] = mapped_column(String(100), default="")
    outcome: Mapped[str] = mapped_column(String(40), default="")
    received_at: Mapped[datetime] = mapped_column(default=dates.now)


class InvoiceFlags(Base):
    """Finance's follow-up on an issued invoice, kept apart because the invoice is immutable."""

    __tablename__ = "invoice_flags"
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id"), primary_key=True)
    # A disputed claim gets no reminders (and so no fees) until finance clears the flag.
    disputed_at: Mapped[datetime | None]
    disputed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    dispute_note: Mapped[str] = mapped_column(Text, default="")
    # Set by a refund: finance should issue a credit note (or dismiss the prompt).
    credit_note_prompt_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=dates.now, onupdate=dates.now)

    invoice: Mapped[Invoice] = relationship()


class BankLineStatus(enum.StrEnum):
    MATCHED = "matched"  # recorded on an invoice by the import
    MANUAL = "manual"  # recorded on an invoice by finance
    UNMATCHED = "unmatched"  # waiting for finance
    DUPLICATE = "duplicate"  # already recorded by an earlier import
    OUTGOING = "outgoing"  # money out of the account: not a customer payment


class BankImport(Base):
    """One uploaded bank statement file."""

    __tablename__ = "bank_imports"
    id: Mapped[int] = mapped_column(primary_key=True)
    filename: Mapped[str] = mapped_column(String(200), default="")
    sha256: Mapped[str] = mapped_column(String(64))
    line_count: Mapped[int] = mapped_column(default=0)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=dates.now)

    created_by: Mapped[User | None] = relationship()
    lines: Mapped[list[BankLine]] = relationship(
        back_populates="bank_import", order_by="BankLine.line_number"
    )


class BankLine(Base):
    """A statement line and what became of it; its fingerprint is the payment's external id."""

    __tablename__ = "bank_lines"
    id: Mapped[int] = mapped_column(primary_key=True)
    import_id: Mapped[int] = mapped_column(ForeignKey("bank_imports.id"), index=True)
    line_number: Mapped[int]
    booking_date: Mapped[date]
    amount_ore: Mapped[int] = mapped_column(BigInteger)
    text: Mapped[str] = mapped_column(Text, default="")
    fingerprint: Mapped[str] = mapped_column(String(100), index=True)
    status: Mapped[BankLineStatus] = mapped_column(enum_column(BankLineStatus))
    invoice_id: Mapped[int | None] = mapped_column(ForeignKey("invoices.id"))
    # The invoice the text named when the amount did not match: a hint for manual matching.
    suggested_invoice_id: Mapped[int | None] = mapped_column(ForeignKey("invoices.id"))
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payments.id"))

    bank_import: Mapped[BankImport] = relationship(back_populates="lines")
    invoice: Mapped[Invoice | None] = relationship(foreign_keys=[invoice_id])
    suggested_invoice: Mapped[Invoice | None] = relationship(foreign_keys=[suggested_invoice_id])


class WriteOff(Base):
    """An invoice's open amount booked as a loss (konstateret tab på debitorer), once: the
    customer cannot pay (bankruptcy, a debt given up). Its VAT share is taken back off the
    output VAT (momsloven § 27, stk. 6)."""

    __tablename__ = "write_offs"
    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id"), unique=True)
    written_on: Mapped[date]  # the business date (Copenhagen)
    amount_ore: Mapped[int] = mapped_column(BigInteger)  # incl. VAT: what was open
    vat_ore: Mapped[int] = mapped_column(BigInteger)  # the VAT in it
    reason: Mapped[str] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=dates.now)

    invoice: Mapped[Invoice] = relationship()
    created_by: Mapped[User | None] = relationship()

    __table_args__ = (
        CheckConstraint("amount_ore > 0 AND vat_ore >= 0 AND vat_ore <= amount_ore", name="sane"),
    )


class Reminder(Base):
    """A payment reminder (rykker) under renteloven: level 1-3, fee, late interest, PDF."""

    __tablename__ = "reminders"
    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id"), index=True)
    level: Mapped[int]
    # The business date it was decided (Copenhagen): its interest runs to this day.
    sent_on: Mapped[date]
    principal_ore: Mapped[int] = mapped_column(BigInteger)  # open amount of the invoice then
    fee_ore: Mapped[int] = mapped_column(default=0)
    compensation_ore: Mapped[int] = mapped_column(default=0)
    interest_from: Mapped[date]
    interest_to: Mapped[date]
    interest_days: Mapped[int]
    interest_rate_bp: Mapped[int]
    interest_ore: Mapped[int] = mapped_column(BigInteger, default=0)
    total_due_ore: Mapped[int] = mapped_column(BigInteger)  # everything claimed on this reminder
    email_to: Mapped[str] = mapped_column(String(254), default="")
    # Written once, when its e-mail was delivered: the PDF as it went out (dated that day, its
    # deadline counted from it). Only a delivered reminder counts: its fee and interest stand
    # on the account, and the rest before the next one runs from this day (renteloven § 9 b).
    pdf: Mapped[bytes | None] = mapped_column(LargeBinary)
    pdf_sha256: Mapped[str | None] = mapped_column(String(64))
    delivered_at: Mapped[datetime | None]
    delivered_on: Mapped[date | None]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    @hybrid_property
    def delivered(self) -> bool:
        """The one rule of when a reminder counts: once its e-mail was delivered."""
        return self.delivered_on is not None

    @delivered.inplace.expression
    @classmethod
    def _delivered_expression(cls):
        return cls.delivered_on.is_not(None)

    created_at: Mapped[datetime] = mapped_column(default=dates.now)

    invoice: Mapped[Invoice] = relationship()

    __table_args__ = (
        UniqueConstraint("invoice_id", "level", name="uq_reminders_invoice_level"),
        CheckConstraint("level BETWEEN 1 AND 3", name="level_range"),
        CheckConstraint("fee_ore >= 0 AND fee_ore <= 10000", name="fee_cap"),
    )


# --- What leaves the portal ---------------------------------------------------------------------


class OutboxMessage(Base):
    """One message that leaves the portal (an e-mail, an e-invoice, a webhook), written in the
    same transaction as the fact it reports and sent by core.outbox until the channel takes it
    or it is given up. Redis only wakes the sender: this row is the truth."""

    __tablename__ = "outbox_messages"
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))  # "invoice", "reminder", "account" ...
    channel: Mapped[OutboxChannel] = mapped_column(enum_column(OutboxChannel))
    recipient: Mapped[str] = mapped_column(String(254), default="")
    # The stable content, or empty when it is composed from the frozen document it refers to.
    subject: Mapped[str] = mapped_column(String(300), default="")
    body: Mapped[str] = mapped_column(Text, default="")
    # The Message-ID (e-mail) or idempotency id (access point, webhook): the same on every
    # attempt, so a receiver can tell a repeat from a new message.
    message_id: Mapped[str] = mapped_column(String(120), unique=True)
    # One row per fact: a second write of the same fact (a retried job) finds the first.
    dedupe_key: Mapped[str | None] = mapped_column(String(120), unique=True)
    invoice_id: Mapped[int | None] = mapped_column(ForeignKey("invoices.id"), index=True)
    reminder_id: Mapped[int | None] = mapped_column(ForeignKey("reminders.id"), index=True)
    state: Mapped[OutboxState] = mapped_column(enum_column(OutboxState), default=OutboxState.QUEUED)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=dates.now)
    lease_until: Mapped[datetime | None]
    last_error: Mapped[str] = mapped_column(Text, default="")
    reference: Mapped[str] = mapped_column(String(200), default="")  # what the channel answered
    created_at: Mapped[datetime] = mapped_column(default=dates.now)
    delivered_at: Mapped[datetime | None]
    given_up_at: Mapped[datetime | None]

    invoice: Mapped[Invoice | None] = relationship()
    reminder: Mapped[Reminder | None] = relationship()

    __table_args__ = (
        Index("ix_outbox_messages_due", "state", "next_attempt_at"),
        CheckConstraint("attempts >= 0", name="attempts_not_negative"),
    )


# --- Writes that may arrive twice --------------------------------------------------------------


class Submission(Base):
    """A form post that took effect, under its one-time key (scoped to the URL it was sent to).

    A double click, a retry or a second tab sending the same form finds this row and shows the
    first result instead of doing the work again; two posts racing meet at the primary key."""

    __tablename__ = "submissions"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256(form key | path)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    endpoint: Mapped[str] = mapped_column(String(100), default="")
    # What was sent (sha256 of the fields): the same key with other values is refused.
    fingerprint: Mapped[str] = mapped_column(String(64), default="")
    result_url: Mapped[str] = mapped_column(String(500), default="")
    message: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=dates.now, index=True)


# --- Two-factor log-in -------------------------------------------------------------------------


class RecoveryCode(Base):
    """A one-time code that stands in for the authenticator app; only the SHA-256 is kept.

    Using one is a single conditional UPDATE (used_at still NULL), so two requests racing with
    the same code cannot both succeed."""

    __tablename__ = "recovery_codes"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    used_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=dates.now)

    __table_args__ = (UniqueConstraint("user_id", "code_hash", name="uq_recovery_codes_code"),)
