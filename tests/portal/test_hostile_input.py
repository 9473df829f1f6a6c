"""Hostile input: Hypothesis fills every form with unicode, very long strings, negative and huge
numbers, HTML and SQL. Never a 500, never an invalid row, every stored payload escaped in pages
and PDFs; and every POST without a CSRF token is refused."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from stdnum.dk import cvr as stdnum_cvr

from core import dates
from core import models as m
from invoices import issuer, runs
from portal.forms import MAX_MONEY_ORE
from portal.security import limiter
from portal.services import accounts
from tests import factories
from tests.helpers import csrf_token, csrf_token_in, one_time_key
from tests.hiring import public_data, task_data
from tests.invoicing import approved_entry, organisation, pdf_text

EXAMPLES = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)

# Raw markers that must never come back unescaped in a page.
SCRIPT = "<script>xss()</script>"
IMAGE = '"><img src=x onerror=xss()>'
PAYLOADS = [
    SCRIPT,
    IMAGE,
    "'; DROP TABLE users; --",
    "1' OR '1'='1",
    "Robert'); DELETE FROM job_orders;--",
    "{{ 7*7 }} {% raw %}",
    "\u202eÆøÅ 😀 ﷽ \u200b",
    "nul\x00byte",
    "\r\n\t",
    "-1",
    "-0,01",
    "0",
    "99999999999999999999999999",
    "-99999999999999999999",
    "1e309",
    "NaN",
    "1.234.567,89",
    "",
    " ",
    "9999-12-31",
    "0001-01-01",
    "2026-02-30",
    "24:00",
    "23:59:59",
]
NUMBERS = [
    "99999999999999999999999999",
    "2147483648",
    "-2147483649",
    "-1",
    "0",
    "9999-W52",
    "0001-W01",
    "2026-W99",
    "9999-12-31",
    "0001-01-01",
]
hostile = st.one_of(
    st.sampled_from(PAYLOADS),
    st.sampled_from(NUMBERS),
    st.text(max_size=30),
    st.text(max_size=10).map(lambda s: f"{s}\x00{s}"),
    st.text(min_size=1, max_size=40).map(lambda s: s * 300),  # very long
    st.integers(-(10**30), 10**30).map(str),
    st.dates().map(date.isoformat),
    st.times().map(lambda t: t.strftime("%H:%M")),
)


def _log_in(client, user: m.User | None) -> None:
    """Put the user in the session directly (the log-in form is tested in test_auth)."""
    with client.session_transaction() as session:
        session.clear()
        if user is not None:
            session["_user_id"] = user.get_id()
            session["_fresh"] = True


def assert_safe(response) -> None:
    """No 500 and no input echoed back as live HTML."""
    assert response.status_code != 500, response.text[:500]
    if response.mimetype == "text/html":
        text = response.get_data(as_text=True)
        assert "xss()</script>" not in text
        assert "<img src=x" not in text
    location = response.headers.get("Location", "")
    if location:
        assert location.startswith("/") and not location.startswith("//"), location


@pytest.fixture
def no_limits():
    enabled = limiter.enabled
    limiter.enabled = False
    yield
    limiter.enabled = enabled


# --- the cast every form needs ---------------------------------------------------------------


@pytest.fixture
def cast(db):
    organisation(db)
    area = factories.WorkAreaFactory(name="Lager", name_en="Warehouse")
    consultant = factories.UserFactory(role=m.Role.CONSULTANT, full_name="Mette Madsen")
    users = {
        m.Role.ADMIN: factories.UserFactory(role=m.Role.ADMIN),
        m.Role.FINANCE: factories.UserFactory(role=m.Role.FINANCE),
        m.Role.CONSULTANT: consultant,
        m.Role.EMPLOYER: factories.user_for(m.Role.EMPLOYER, full_name="Lise Leder"),
        m.Role.WORKER: factories.user_for(m.Role.WORKER, full_name="Jonas Jensen"),
    }
    employer = users[m.Role.EMPLOYER].employer
    worker = factories.worker_profile(users[m.Role.WORKER])
    worker.work_areas = [area]
    start = dates.today() - timedelta(days=60)
    order = factories.JobOrderFactory(
        employer=employer,
        work_area=area,
        consultant=consultant,
        status=m.OrderStatus.TAKEN,
        start_date=dates.today() + timedelta(days=3),
        head_count=3,
    )
    spare = factories.WorkerFactory(first_name="Sofie", last_name="Berg")
    spare.work_areas = [area]
    placement = factories.PlacementFactory(
        job_order=factories.JobOrderFactory(employer=employer, work_area=area, start_date=start),
        worker=worker,
        consultant=consultant,
        start_date=start,
    )
    proposal = factories.PlacementFactory(
        job_order=order,
        worker=worker,
        consultant=consultant,
        status=m.PlacementStatus.PROPOSED,
        employer_accepted_at=dates.now(),
    )
    day = dates.today() - timedelta(days=10)
    worker_user = users[m.Role.WORKER]
    mine = factories.TimeEntryFactory(
        placement=placement,
        work_date=day,
        entered_by_id=worker_user.id,
        worker_confirmed_at=dates.now(),
    )
    disputed = factories.TimeEntryFactory(
        placement=placement,
        work_date=day - timedelta(days=1),
        disputed_at=dates.now(),
        disputed_by_id=users[m.Role.EMPLOYER].id,
        dispute_reason="Forkert",
    )
    for n in range(4):
        approved_entry(placement, day - timedelta(days=20 + n))
    db.commit()
    return {
        "users": users,
        "area": area,
        "employer": employer,
        "order": order,
        "placement": placement,
        "proposal": proposal,
        "spare": spare,
        "mine": mine,
        "disputed": disputed,
    }


def issued_invoice(db, cast) -> m.Invoice:
    """Issue a real invoice over the cast's approved hours (PDFs and all)."""
    run = m.InvoiceRun(period_end=dates.today(), total=1, errors=[])
    db.add(run)
    db.flush()
    invoice = runs.issue_for_employer(db, run, cast["employer"].id)
    issuer.complete(db, invoice)
    db.commit()
    return invoice


# --- the forms --------------------------------------------------------------------------------


@dataclass
class FormCase:
    """A form: who fills it in, where it is posted, valid data to corrupt, pages that show
    what it stores."""

    role: m.Role | None
    path: Callable[[dict], str]
    valid: Callable[[dict], dict]
    page: Callable[[dict], str] = lambda c: "/"
    show: list = field(default_factory=list)  # (role, path builder)
    key: bool = False  # the form carries a one-time submission key from its page
    prepare: Callable | None = None  # (db, cast) -> extra cast entries


def _shift(day: date, **changes) -> dict:
    data = {
        "work_date": day.isoformat(),
        "start_time": "08:00",
        "end_time": "12:30",
        "break_minutes": "30",
        "note": "Pakkede kasser",
    }
    data.update(changes)
    return data


def _settings_data(_c) -> dict:
    return {
        "legal_name": "Småjob Fyn",
        "cvr": "13585628",
        "address_line": "Kongensgade 40",
        "postcode": "5000",
        "city": "Odense C",
        "email": "kontakt@smajob.dk",
        "phone": "66 00 00 00",
        "bank_reg": "1234",
        "bank_account": "0012345678",
        "iban": "DK5912340012345678",
        "bic": "DABADKKK",
        "fi_creditor_number": "81234567",
        "vat_rate_bp": "25",
        "payment_terms_days": "14",
        "invoice_series": "F",
        "credit_note_series": "K",
        "reminder_fee_ore": "100",
        "late_interest_rate_bp": "10",
        "compensation_enabled": "y",
        "compensation_ore": "310",
        "auto_approve_days": "3",
        "payroll_wage_type": "1",
        "rate_adjust_limit_bp": "20",
    }


def _worker_data(c) -> dict:
    return {
        "first_name": "Ahmad",
        "last_name": "Nielsen",
        "email": "ahmad@example.dk",
        "phone": "+45 22 33 44 55",
        "postcode": "5000",
        "work_areas": [str(c["area"].id)],
        "hours_min": "5",
        "hours_max": "15",
        "available_days": ["0", "2"],
        "consultant_id": str(c["users"][m.Role.CONSULTANT].id),
        "status": "available",
        "payroll_number": "",
    }


DESK_PAGES = [(m.Role.CONSULTANT, lambda c: "/consultant/orders")]
PLACEMENT_PAGES = [
    (m.Role.CONSULTANT, lambda c: f"/placements/{c['placement'].id}"),
    (m.Role.EMPLOYER, lambda c: f"/placements/{c['placement'].id}"),
]

FORMS: dict[str, FormCase] = {
    "public order": FormCase(
        None,
        lambda c: "/order",
        lambda c: public_data(c["area"]),
        page=lambda c: "/order",
        key=True,
        show=[
            (m.Role.CONSULTANT, lambda c: "/consultant/orders"),
            (m.Role.CONSULTANT, lambda c: f"/consultant/orders/{_last(c, m.JobOrder)}"),
        ],
    ),
    "log in": FormCase(
        None,
        lambda c: "/auth/login",
        lambda c: {"email": c["users"][m.Role.FINANCE].email, "password": factories.PASSWORD},
    ),
    "forgot": FormCase(
        None, lambda c: "/auth/forgot", lambda c: {"email": c["users"][m.Role.FINANCE].email}
    ),
    "set password": FormCase(
        None,
        lambda c: f"/auth/set-password/{c['token']}",
        lambda c: {"password": "en-lang-adgangskode", "confirm": "en-lang-adgangskode"},
        prepare=lambda db, c: {
            "token": accounts.issue_token(
                db,
                factories.UserFactory(password_hash=None),
                accounts.INVITE,
                timedelta(days=1),
            )
        },
    ),
    "admin settings": FormCase(
        m.Role.ADMIN,
        lambda c: "/admin/settings",
        _settings_data,
        show=[(m.Role.ADMIN, lambda c: "/admin/settings")],
    ),
    "price list": FormCase(
        m.Role.ADMIN,
        lambda c: "/admin/work-areas/new",
        lambda c: {
            "name": "Have",
            "name_en": "Garden",
            "bill_rate_ore": "192,00",
            "pay_rate_ore": "138",
            "active": "y",
        },
        show=[(m.Role.ADMIN, lambda c: "/admin/work-areas"), (None, lambda c: "/order")],
    ),
    "price list edit": FormCase(
        m.Role.ADMIN,
        lambda c: f"/admin/work-areas/{c['area'].id}",
        lambda c: {"name": "Lager", "name_en": "", "bill_rate_ore": "189", "pay_rate_ore": "135"},
        show=[(m.Role.ADMIN, lambda c: "/admin/work-areas")],
    ),
    "invite": FormCase(
        m.Role.ADMIN,
        lambda c: "/admin/users/invite",
        lambda c: {
            "full_name": "Ny Bruger",
            "email": "ny@example.dk",
            "role": "employer",
            "employer_id": str(c["employer"].id),
        },
        show=[(m.Role.ADMIN, lambda c: "/admin/users")],
    ),
    "worker profile": FormCase(
        m.Role.CONSULTANT,
        lambda c: "/workers/new",
        _worker_data,
        show=[(m.Role.CONSULTANT, lambda c: "/workers")],
    ),
    "worker profile edit": FormCase(
        m.Role.CONSULTANT,
        lambda c: f"/workers/{c['spare'].id}",
        lambda c: {k: v for k, v in _worker_data(c).items() if k != "email"},
        show=[
            (m.Role.CONSULTANT, lambda c: "/workers"),
            (m.Role.CONSULTANT, lambda c: f"/consultant/orders/{c['order'].id}/match"),
        ],
    ),
    "employer order": FormCase(
        m.Role.EMPLOYER,
        lambda c: "/orders/new",
        lambda c: task_data(c["area"]),
        page=lambda c: "/orders/new",
        key=True,
        show=[(m.Role.EMPLOYER, lambda c: "/orders"), *DESK_PAGES],
    ),
    "employer cancels order": FormCase(
        m.Role.EMPLOYER,
        lambda c: f"/orders/{c['order'].id}/cancel",
        lambda c: {"reason": "Vi har ikke brug for hjælp alligevel"},
        show=[(m.Role.CONSULTANT, lambda c: f"/consultant/orders/{c['order'].id}")],
    ),
    "consultant cancels order": FormCase(
        m.Role.CONSULTANT,
        lambda c: f"/consultant/orders/{c['order'].id}/cancel",
        lambda c: {"reason": "Kunden trak sig"},
        show=[(m.Role.EMPLOYER, lambda c: f"/orders/{c['order'].id}")],
    ),
    "proposal": FormCase(
        m.Role.CONSULTANT,
        lambda c: f"/consultant/orders/{c['order'].id}/propose/{c['spare'].id}",
        lambda c: {
            "pay_rate_ore": "135,00",
            "bill_rate_ore": "189",
            "hours_per_week": "10",
            "start_date": (dates.today() + timedelta(days=5)).isoformat(),
        },
        show=[(m.Role.CONSULTANT, lambda c: f"/consultant/orders/{c['order'].id}")],
    ),
    "employer declines proposal": FormCase(
        m.Role.EMPLOYER,
        lambda c: f"/orders/proposals/{c['proposal'].id}/decline",
        lambda c: {"reason": "Passer ikke"},
        show=[(m.Role.CONSULTANT, lambda c: f"/consultant/orders/{c['order'].id}")],
    ),
    "worker declines proposal": FormCase(
        m.Role.WORKER,
        lambda c: f"/placements/{c['proposal'].id}/decline",
        lambda c: {"reason": "For langt væk"},
        show=[(m.Role.CONSULTANT, lambda c: f"/consultant/orders/{c['order'].id}")],
    ),
    "placement note": FormCase(
        m.Role.CONSULTANT,
        lambda c: f"/placements/{c['placement'].id}/notes",
        lambda c: {"note_date": dates.today().isoformat(), "kind": "call", "text": "Godt i gang"},
        show=PLACEMENT_PAGES,
    ),
    "placement hours change": FormCase(
        m.Role.CONSULTANT,
        lambda c: f"/placements/{c['placement'].id}/hours",
        lambda c: {"hours_per_week": "12", "effective_from": dates.today().isoformat()},
        show=PLACEMENT_PAGES,
    ),
    "placement end": FormCase(
        m.Role.CONSULTANT,
        lambda c: f"/placements/{c['placement'].id}/end",
        lambda c: {"reason": "other", "end_date": dates.today().isoformat(), "note": "Flyttet"},
        show=PLACEMENT_PAGES,
    ),
    "shift recording": FormCase(
        m.Role.WORKER,
        lambda c: "/hours/record",
        lambda c: {"placement_id": str(c["placement"].id), **_shift(dates.today())},
        page=lambda c: "/hours/record",
        show=[
            (m.Role.WORKER, lambda c: "/hours/week"),
            (m.Role.EMPLOYER, lambda c: "/hours/week"),
            (m.Role.WORKER, lambda c: f"/hours/entries/{_last(c, m.TimeEntry)}"),
        ],
    ),
    "shift edit": FormCase(
        m.Role.WORKER,
        lambda c: f"/hours/entries/{c['mine'].id}/edit",
        lambda c: _shift(c["mine"].work_date, end_time="13:00"),
        page=lambda c: f"/hours/entries/{c['mine'].id}/edit",
        show=[(m.Role.EMPLOYER, lambda c: f"/hours/entries/{c['mine'].id}")],
    ),
    "shift dispute": FormCase(
        m.Role.EMPLOYER,
        lambda c: f"/hours/entries/{c['mine'].id}/dispute",
        lambda c: {"reason": "Han gik kl. 11"},
        show=[
            (m.Role.CONSULTANT, lambda c: "/hours/disputes?all=1"),
            (m.Role.WORKER, lambda c: f"/hours/entries/{c['mine'].id}"),
        ],
    ),
    "shift correction": FormCase(
        m.Role.CONSULTANT,
        lambda c: f"/hours/entries/{c['disputed'].id}/correct",
        lambda c: {
            **_shift(c["disputed"].work_date, end_time="11:00"),
            "correction_note": "Rettet efter samtale",
        },
        page=lambda c: f"/hours/entries/{c['disputed'].id}/correct",
        show=[(m.Role.WORKER, lambda c: f"/hours/entries/{c['disputed'].id}")],
    ),
    "dispute resolution": FormCase(
        m.Role.CONSULTANT,
        lambda c: f"/hours/entries/{c['disputed'].id}/resolve",
        lambda c: {"resolution": "Timerne står ved magt"},
        show=[(m.Role.EMPLOYER, lambda c: f"/hours/entries/{c['disputed'].id}")],
    ),
    "invoice run": FormCase(
        m.Role.FINANCE,
        lambda c: "/finance/invoicing/issue",
        lambda c: {
            "period_end": dates.today().isoformat(),
            "cadence": "",
            "employer_ids": [str(c["employer"].id)],
        },
        show=[
            (m.Role.FINANCE, lambda c: "/finance/runs"),
            (m.Role.FINANCE, lambda c: "/finance/invoices"),
        ],
    ),
    "credit note": FormCase(
        m.Role.FINANCE,
        lambda c: f"/finance/invoices/{c['invoice']}/credit",
        lambda c: {"line_ids": [], "release": "y", "reason": "Forkert timetal"},
        prepare=lambda db, c: {"invoice": issued_invoice(db, c).id},
        show=[(m.Role.FINANCE, lambda c: "/finance/invoices")],
    ),
    "payroll export": FormCase(
        m.Role.FINANCE,
        lambda c: "/payroll/",
        lambda c: {
            "start": (dates.today() - timedelta(days=90)).isoformat(),
            "end": dates.today().isoformat(),
            "format": "csv",
            "reexport": "",
        },
        page=lambda c: "/payroll/",
        show=[(m.Role.FINANCE, lambda c: "/payroll/")],
    ),
    "language": FormCase(None, lambda c: "/language/en", lambda c: {"next": "/orders"}),
}


def _last(cast: dict, model) -> int:
    from core.db import get_session

    return get_session().scalar(select(model.id).order_by(model.id.desc()).limit(1)) or 0


def corrupted(valid: dict):
    """Valid data with up to four fields (or all of them) replaced by hostile values."""
    names = sorted(valid)
    return st.tuples(
        st.one_of(
            st.lists(st.sampled_from(names), max_size=4, unique=True),
            st.just(names),
        ),
        st.fixed_dictionaries({name: hostile for name in names}),
    ).map(lambda picked: {**valid, **{n: picked[1][n] for n in picked[0]}})


# --- what a stored row may look like -------------------------------------------------------------

DIGITS4 = re.compile(r"^\d{4}$")


def _length(value: str | None, low: int, high: int) -> bool:
    return value is not None and low <= len(value) <= high


def assert_rows_valid(db) -> None:
    """Every row the forms can write still obeys the rules the forms promise."""
    db.expire_all()
    for employer in db.scalars(select(m.Employer)):
        assert stdnum_cvr.is_valid(employer.cvr), employer.cvr
        assert _length(employer.name, 1, 200) and _length(employer.city, 0, 100)
        assert not employer.postcode or DIGITS4.match(employer.postcode)
        assert "\x00" not in employer.name
    for order in db.scalars(select(m.JobOrder)):
        assert 1 <= order.hours_per_week <= 37 and 1 <= order.head_count <= 10
        assert _length(order.title, 1, 200) and _length(order.description, 0, 4000)
        assert _length(order.address, 0, 300) and DIGITS4.match(order.postcode)
        assert order.end_date is None or order.end_date > order.start_date
        assert 0 <= order.preferred_days < 128
        assert _length(order.cancelled_reason, 0, 1000)
    for user in db.scalars(select(m.User)):
        assert (
            "@" in user.email and _length(user.email, 3, 254) and user.email == user.email.lower()
        )
        assert _length(user.full_name, 0, 200)
    for worker in db.scalars(select(m.Worker)):
        assert 0 <= worker.hours_min <= worker.hours_max <= 37
        assert _length(worker.first_name, 1, 100) and _length(worker.last_name, 1, 100)
        assert not worker.postcode or DIGITS4.match(worker.postcode)
        assert worker.payroll_number.isdigit() and len(worker.payroll_number) <= 20
    for area in db.scalars(select(m.WorkArea)):
        assert _length(area.name.strip(), 1, 100) and _length(area.name_en, 0, 100)
        assert 0 < area.pay_rate_ore <= area.bill_rate_ore <= MAX_MONEY_ORE
    org = db.get(m.OrganisationSettings, 1)
    assert 0 <= org.vat_rate_bp <= 100_00 and 1 <= org.payment_terms_days <= 60
    assert 0 <= org.reminder_fee_ore <= 100_00 and 1 <= org.auto_approve_days <= 30
    assert re.fullmatch(r"[A-Z0-9]{1,10}", org.invoice_series)
    assert re.fullmatch(r"[A-Z0-9]{1,10}", org.credit_note_series)
    assert DIGITS4.match(org.postcode) and stdnum_cvr.is_valid(org.cvr)
    for placement in db.scalars(select(m.Placement)):
        assert 1 <= placement.hours_per_week <= 37
        assert 0 < placement.pay_rate_ore <= placement.bill_rate_ore <= MAX_MONEY_ORE
        assert placement.end_date is None or placement.end_date >= placement.start_date
        assert _length(placement.declined_reason, 0, 1000)
    for note in db.scalars(select(m.PlacementNote)):
        assert _length(note.text.strip(), 1, 4000)
    for change in db.scalars(select(m.PlacementHoursChange)):
        assert 1 <= change.new_hours_per_week <= 37
    for entry in db.scalars(select(m.TimeEntry)):
        assert 15 <= entry.minutes <= 12 * 60 and 0 <= entry.break_minutes < 12 * 60
        assert _length(entry.note, 0, 500) and _length(entry.dispute_reason, 0, 1000)
        assert entry.work_date <= dates.today() + timedelta(days=2)
        assert entry.work_date >= entry.placement.start_date
    for invoice in db.scalars(select(m.Invoice).where(m.Invoice.number.is_not(None))):
        assert invoice.subtotal_ore == sum(line.amount_ore for line in invoice.lines)
        assert invoice.total_ore == invoice.subtotal_ore + invoice.vat_ore >= 0
    for export in db.scalars(select(m.PayrollExport)):
        assert export.period_start <= export.period_end
        assert (export.period_end - export.period_start).days <= 366


# --- the tests ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(FORMS))
def test_hostile_form_input(app, client, db, cast, mailbox, no_limits, name):
    case = FORMS[name]
    if case.prepare:
        cast.update(case.prepare(db, cast))
    valid = case.valid(cast)

    @EXAMPLES
    @given(data=corrupted(valid), with_key=st.booleans(), bad_key=hostile)
    def fill_in(data, with_key, bad_key):
        _log_in(client, cast["users"][case.role] if case.role else None)
        page = client.get(case.page(cast)).text
        token = csrf_token_in(page)
        if case.key:
            found = re.search(r'name="submission_key" type="hidden" value="([^"]+)"', page)
            data = {**data, "submission_key": found.group(1) if with_key else bad_key}
        once = one_time_key(page)
        if once:  # the form's one-time key (portal.submissions), or something hostile
            data = {**data, "idempotency_key": once if with_key else bad_key}
        response = client.post(case.path(cast), data={**data, "csrf_token": token})
        assert_safe(response)
        assert_rows_valid(db)
        for role, path in case.show:
            _log_in(client, cast["users"][role] if role else None)
            assert_safe(client.get(path(cast)))

    fill_in()


QUERIES = {
    m.Role.WORKER: {
        "/hours/week": {"week": hostile},
        "/hours/mine": {"start": hostile, "end": hostile},
        "/hours/statement.pdf": {"start": hostile, "end": hostile},
        "/hours/timesheet": {"placement_id": hostile, "start": hostile, "end": hostile},
        "/hours/record": {"placement_id": hostile},
    },
    m.Role.EMPLOYER: {
        "/hours/week": {"week": hostile},
        "/placements": {"mine": hostile},
    },
    m.Role.CONSULTANT: {"/hours/disputes": {"all": hostile}},
    m.Role.FINANCE: {
        "/finance/invoicing": {"period_end": hostile, "cadence": hostile},
        "/finance/invoices": {
            "status": hostile,
            "kind": hostile,
            "employer": hostile,
            "from": hostile,
            "to": hostile,
            "overdue": hostile,
            "page": hostile,
        },
        "/finance/bookkeeping.csv": {"date_from": hostile, "date_to": hostile},
        "/finance/journal.csv": {"date_from": hostile, "date_to": hostile},
        "/finance/reconciliation": {"date_from": hostile, "date_to": hostile},
    },
    None: {"/auth/login": {"next": hostile}, "/order": {"x": hostile}},
}


@pytest.mark.parametrize(
    ("role", "path"),
    [(role, path) for role, paths in QUERIES.items() for path in paths],
    ids=lambda v: str(v),
)
def test_hostile_query_strings(app, client, db, cast, role, path):
    @EXAMPLES
    @given(args=st.fixed_dictionaries(QUERIES[role][path]))
    def visit(args):
        _log_in(client, cast["users"][role] if role else None)
        assert_safe(client.get(path, query_string=args))

    visit()


def test_nul_characters_are_refused_not_stored(app, client, db, cast):
    """PostgreSQL cannot store a NUL in text; every form and query answers 400 instead."""
    _log_in(client, cast["users"][m.Role.CONSULTANT])
    token = csrf_token(client, "/")
    notes = db.query(m.PlacementNote).count()
    response = client.post(
        f"/placements/{cast['placement'].id}/notes",
        data={"csrf_token": token, "note_date": "2026-01-05", "kind": "call", "text": "a\x00b"},
    )
    assert response.status_code == 400
    assert client.get("/workers", query_string={"q": "\x00"}).status_code == 400
    db.expire_all()
    assert db.query(m.PlacementNote).count() == notes


def test_a_non_ascii_price_list_name_twice_is_a_form_error(app, client, db, cast):
    """Found by Hypothesis: SQL lower() leaves 'Ë' alone, so the duplicate check missed it."""
    _log_in(client, cast["users"][m.Role.ADMIN])
    data = {"name": "Ëgetræ", "bill_rate_ore": "190", "pay_rate_ore": "130", "active": "y"}
    first = client.post(
        "/admin/work-areas/new", data={**data, "csrf_token": csrf_token(client, "/")}
    )
    again = client.post(
        "/admin/work-areas/new", data={**data, "csrf_token": csrf_token(client, "/")}
    )
    assert first.status_code == 302 and again.status_code == 400  # a form error is a 4xx
    assert "Ëgetræ" in again.text


# --- PDFs: stored payloads come out as text ------------------------------------------------------

PDF_PAYLOADS = [
    "<script>alert(1)</script>",
    '<img src="file:///etc/passwd">',
    "'; DROP TABLE invoices; --",
    "<b>fed</b> & {{ 7*7 }}",
]


@pytest.mark.parametrize("payload", PDF_PAYLOADS)
def test_payloads_are_text_in_invoice_and_timesheet_pdfs(app, client, db, ctx, payload):
    organisation(db)
    employer = factories.EmployerFactory(name=f"Firma {payload}", address_line=payload)
    area = factories.WorkAreaFactory(name=f"Lager {payload}")
    order = factories.JobOrderFactory(
        employer=employer, work_area=area, title=payload, order_reference=payload[:50]
    )
    worker = factories.WorkerFactory(first_name=payload[:100], last_name="Hansen")
    placement = factories.PlacementFactory(
        job_order=order, worker=worker, start_date=date(2026, 1, 5)
    )
    for day in (date(2026, 1, 5), date(2026, 1, 7)):
        approved_entry(placement, day, note=payload)
    run = m.InvoiceRun(period_end=date(2026, 1, 31), total=1, errors=[])
    db.add(run)
    db.flush()
    invoice = runs.issue_for_employer(db, run, employer.id)
    issuer.complete(db, invoice)
    text = pdf_text(invoice.pdf)
    assert f"Firma {payload}" in text
    assert payload in text  # the address line, verbatim
    assert payload in pdf_text(invoice.timesheet_pdf)


# --- CSRF ---------------------------------------------------------------------------------------


def _post_rules(app):
    return [
        rule
        for rule in app.url_map.iter_rules()
        if "POST" in rule.methods and rule.endpoint != "static"
    ]


def _url_for(app, rule) -> str:
    from flask import url_for

    values = {
        name: ("en" if name == "code" else "tok" if name in ("token", "key") else 1)
        for name in rule.arguments - set(rule.defaults or {})
    }
    with app.test_request_context():
        return url_for(rule.endpoint, **values)


def test_posts_without_a_csrf_token_are_refused_everywhere(app, client, db, cast, no_limits):
    """Every POST route, anonymous and as each role; only a payment webhook may be exempt."""
    rules = _post_rules(app)
    assert len(rules) > 30
    exempt = [r.endpoint for r in rules if "webhook" in r.endpoint]
    assert len(exempt) <= 1, exempt
    counts_before = {model: db.query(model).count() for model in (m.JobOrder, m.AuditEvent)}
    for user in [None, *cast["users"].values()]:
        _log_in(client, user)
        for rule in rules:
            if rule.endpoint in exempt:
                continue
            response = client.post(_url_for(app, rule), data={"reason": "x", "text": "y"})
            assert response.status_code == 400, (
                rule.rule,
                user and user.role,
                response.status_code,
            )
            assert "The form had expired" in response.text or "udløbet" in response.text
    # A token from another session is no better than none.
    _log_in(client, cast["users"][m.Role.CONSULTANT])
    other = app.test_client()
    stolen = csrf_token(other, "/")
    response = client.post(
        f"/placements/{cast['placement'].id}/notes",
        data={
            "csrf_token": stolen,
            "note_date": dates.today().isoformat(),
            "kind": "call",
            "text": "x",
        },
    )
    assert response.status_code == 400
    db.expire_all()
    assert {model: db.query(model).count() for model in counts_before} == counts_before
