"""Every route in the URL map, classified: who may use it, and whose objects it shows.

The table below is the authorization policy. A route missing from it fails
`test_every_route_is_classified` with its name, so a new page cannot ship unclassified.
Each route is then checked against an anonymous visitor, every role, and users of another
employer / another worker (whose ids must answer 404, never 403 and never the page).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import timedelta

import pytest

from core import dates, outbox
from core.models import (
    STAFF_ROLES,
    InvoiceStatus,
    PlacementStatus,
    Role,
    User,
)
from tests import factories
from tests.helpers import csrf_token
from tests.stripe_server import localstripe_server, stripe_on

__all__ = ["localstripe_server", "stripe_on"]  # fixtures used below

PUBLIC = frozenset()  # no log-in needed
ALL = frozenset(Role)
STAFF = frozenset(STAFF_ROLES)
DESK = frozenset({Role.CONSULTANT, Role.ADMIN})
MONEY = frozenset({Role.FINANCE, Role.ADMIN})
EMPLOYER = frozenset({Role.EMPLOYER})
WORKER = frozenset({Role.WORKER})
PARTIES = frozenset({Role.EMPLOYER, Role.WORKER})


@dataclass(frozen=True)
class Route:
    """Who may use a route, and what its url arguments are.

    `roles`: PUBLIC, or the roles allowed (others get 403). `args`: url argument -> the kind
    of object it names ("order", "placement" ...) or a literal value. Kinds are tenant-scoped
    for employer and worker users (their own object, and another employer's/worker's one that
    must answer 404); staff see every object. `anonymous`: the status per method an anonymous
    visitor gets from a public route on a CSRF-valid empty post or a plain GET (a made-up token
    or key is simply not found)."""

    roles: frozenset
    args: dict = field(default_factory=dict)
    anonymous: dict = field(default_factory=lambda: {"GET": 200, "POST": 200})


MATRIX: dict[str, Route] = {
    # public pages
    "main.index": Route(PUBLIC),
    "main.language": Route(PUBLIC, {"code": "en"}, anonymous={"POST": 302}),
    "auth.login": Route(PUBLIC, anonymous={"GET": 200, "POST": 401}),
    "auth.logout": Route(PUBLIC, anonymous={"POST": 302}),
    "auth.forgot": Route(PUBLIC, anonymous={"GET": 200, "POST": 400}),  # no address given
    "auth.set_password": Route(PUBLIC, {"token": "no-such-token"}, {"GET": 404, "POST": 404}),
    "auth.reset_password": Route(PUBLIC, {"token": "no-such-token"}, {"GET": 404, "POST": 404}),
    "orders.public_order": Route(PUBLIC, anonymous={"GET": 200, "POST": 400}),
    # two-factor log-in: the code after the password (no one is logged in yet), enrolment
    "twofactor.verify": Route(PUBLIC, anonymous={"GET": 302, "POST": 302}),  # back to log in
    "twofactor.cancel": Route(PUBLIC, anonymous={"POST": 302}),
    "twofactor.setup": Route(STAFF | EMPLOYER),
    "twofactor.manage": Route(STAFF | EMPLOYER),
    "twofactor.disable": Route(STAFF | EMPLOYER),
    "twofactor.recovery_codes": Route(STAFF | EMPLOYER),
    "orders.received": Route(PUBLIC, {"key": "x" * 32}, anonymous={"GET": 404}),
    # admin
    "admin.settings": Route(frozenset({Role.ADMIN})),
    "admin.users": Route(frozenset({Role.ADMIN})),
    "admin.toggle_active": Route(frozenset({Role.ADMIN}), {"user_id": "user"}),
    "admin.reinvite": Route(frozenset({Role.ADMIN}), {"user_id": "user"}),
    "admin.reset_two_factor": Route(frozenset({Role.ADMIN}), {"user_id": "user"}),
    "admin.invite": Route(frozenset({Role.ADMIN})),
    "admin.work_areas": Route(frozenset({Role.ADMIN})),
    "admin.work_area": Route(frozenset({Role.ADMIN}), {"area_id": "area"}),
    # the consultant's desk
    "consultant.inbox": Route(DESK),
    "consultant.order": Route(DESK, {"order_id": "order"}),
    "consultant.cancel": Route(DESK, {"order_id": "order"}),
    "consultant.company": Route(DESK, {"order_id": "order"}),
    "consultant.match": Route(DESK, {"order_id": "order"}),
    "consultant.propose": Route(DESK, {"order_id": "order", "worker_id": "worker"}),
    "consultant.take": Route(DESK, {"order_id": "order"}),
    "workers.index": Route(DESK),
    "workers.new": Route(DESK),
    "workers.edit": Route(DESK, {"worker_id": "worker"}),
    # personal data: the export (staff for a worker, a worker their own) and erasure
    "privacy.worker_data": Route(DESK, {"worker_id": "worker"}),
    "privacy.erase": Route(DESK, {"worker_id": "worker"}),
    "privacy.my_data": Route(WORKER),
    # employers' orders and proposals
    "orders.index": Route(EMPLOYER),
    "orders.new": Route(EMPLOYER),
    "orders.invoicing": Route(EMPLOYER),
    "orders.detail": Route(EMPLOYER, {"order_id": "order"}),
    "orders.cancel": Route(EMPLOYER, {"order_id": "order"}),
    "orders.proposal": Route(EMPLOYER, {"placement_id": "proposal"}),
    "orders.accept": Route(EMPLOYER, {"placement_id": "proposal"}),
    "orders.decline": Route(EMPLOYER, {"placement_id": "proposal"}),
    # placements
    "placements.index": Route(ALL),
    "placements.detail": Route(ALL, {"placement_id": "placement"}),
    "placements.accept": Route(WORKER, {"placement_id": "proposal"}),
    "placements.decline": Route(WORKER, {"placement_id": "proposal"}),
    "placements.end": Route(DESK, {"placement_id": "placement"}),
    "placements.change_hours": Route(DESK, {"placement_id": "placement"}),
    "placements.add_note": Route(DESK, {"placement_id": "placement"}),
    "placements.pattern": Route(EMPLOYER | DESK, {"placement_id": "placement"}),
    # hours
    "hours.index": Route(ALL),
    "hours.week": Route(PARTIES),
    "hours.sign_week": Route(PARTIES),
    "hours.record": Route(frozenset({Role.WORKER, Role.EMPLOYER, Role.CONSULTANT})),
    "hours.entry": Route(ALL, {"entry_id": "entry"}),
    "hours.sign": Route(PARTIES, {"entry_id": "entry"}),
    "hours.edit": Route(PARTIES, {"entry_id": "entry"}),
    "hours.dispute": Route(PARTIES, {"entry_id": "entry"}),
    "hours.disputes": Route(frozenset({Role.CONSULTANT})),
    "hours.correct": Route(frozenset({Role.CONSULTANT}), {"entry_id": "entry"}),
    "hours.resolve": Route(frozenset({Role.CONSULTANT}), {"entry_id": "entry"}),
    "hours.mine": Route(WORKER),
    "hours.statement": Route(WORKER),
    "hours.timesheet": Route(ALL),
    "hours.confirm_planned": Route(WORKER, {"placement_id": "placement"}),
    # planned shifts in a calendar app: the page, and the secret ICS address (public)
    "calendar.index": Route(PARTIES),
    "calendar.create": Route(PARTIES),
    "calendar.revoke": Route(PARTIES),
    "calendar.feed": Route(PUBLIC, {"token": "no-such-token"}, anonymous={"GET": 404}),
    # invoicing
    "invoices.run_preview": Route(MONEY),
    "invoices.run_preview_employer": Route(MONEY, {"employer_id": "employer"}),
    "invoices.run_issue": Route(MONEY),
    "invoices.run_history": Route(MONEY),
    "invoices.run_detail": Route(MONEY, {"run_id": "run"}),
    "invoices.run_resume": Route(MONEY, {"run_id": "run"}),
    "invoices.finance_list": Route(MONEY),
    "invoices.finance_detail": Route(MONEY, {"invoice_id": "invoice"}),
    "invoices.finance_credit": Route(MONEY, {"invoice_id": "invoice"}),
    "invoices.finance_reduce": Route(MONEY, {"invoice_id": "invoice"}),
    "invoices.finance_write_off": Route(MONEY, {"invoice_id": "invoice"}),
    "invoices.finance_resend": Route(MONEY, {"invoice_id": "invoice"}),
    "invoices.bookkeeping_export": Route(MONEY),
    "books.journal_export": Route(MONEY),
    "books.reconciliation_page": Route(MONEY),
    "invoices.employer_list": Route(EMPLOYER),
    "invoices.employer_detail": Route(EMPLOYER, {"invoice_id": "invoice"}),
    "invoices.invoice_pdf": Route(EMPLOYER | MONEY, {"invoice_id": "invoice"}),
    "invoices.timesheet_pdf": Route(EMPLOYER | MONEY, {"invoice_id": "invoice"}),
    "invoices.einvoice_xml": Route(EMPLOYER | MONEY, {"invoice_id": "invoice"}),
    "invoices.einvoices": Route(MONEY),
    "invoices.einvoice_send": Route(MONEY, {"invoice_id": "invoice"}),
    "outbox.undelivered": Route(MONEY),
    "outbox.send_again": Route(MONEY, {"message_id": "message"}),
    "outbox.give_up": Route(MONEY, {"message_id": "message"}),
    # payments: the employer's card page, the signed public pay link, Stripe's webhook
    "payments.pay_invoice": Route(EMPLOYER, {"invoice_id": "invoice"}),
    "payments.pay_link": Route(PUBLIC, {"token": "no-such-token"}, anonymous={"GET": 404}),
    "payments.pay_link_pdf": Route(PUBLIC, {"token": "no-such-token"}, anonymous={"GET": 404}),
    "payments.stripe_webhook": Route(PUBLIC, anonymous={"POST": 400}),  # unsigned: refused
    # payments: finance
    "payments.manual_payment": Route(MONEY),
    "payments.overview": Route(MONEY),
    "payments.assign_payment": Route(MONEY, {"payment_id": "payment"}),
    "payments.dismiss_prompt": Route(MONEY, {"invoice_id": "invoice"}),
    "receivables.dispute": Route(MONEY, {"invoice_id": "invoice"}),
    "payments.bank_import_page": Route(MONEY),
    "payments.bank_import_result": Route(MONEY, {"import_id": "bank_import"}),
    "payments.match_line": Route(MONEY, {"line_id": "bank_line"}),
    "receivables.reminders_page": Route(MONEY),
    "receivables.send_reminders": Route(MONEY),
    "receivables.reminder_pdf": Route(MONEY, {"reminder_id": "reminder"}),
    "receivables.receivables_page": Route(MONEY),
    # payroll
    "payroll.index": Route(MONEY),
    "payroll.download": Route(MONEY, {"export_id": "export"}),
    # outcomes report: aggregated figures for the desk, never for employers or workers
    "reports.outcomes_page": Route(DESK),
    "reports.outcomes_csv": Route(DESK),
}
SKIPPED = {"static"}


def _rules(app):
    return [r for r in app.url_map.iter_rules() if r.endpoint not in SKIPPED]


def test_every_route_is_classified(app):
    endpoints = {rule.endpoint for rule in _rules(app)}
    missing = sorted(endpoints - MATRIX.keys())
    assert not missing, f"routes missing from the authorization matrix: {missing}"
    stale = sorted(MATRIX.keys() - endpoints)
    assert not stale, f"the matrix names routes that no longer exist: {stale}"


def test_the_matrix_matches_the_decorators(app):
    """The table and @role_required say the same thing (the behaviour is checked below)."""
    for endpoint, route in MATRIX.items():
        declared = frozenset(getattr(app.view_functions[endpoint], "allowed_roles", ()))
        assert declared == route.roles, endpoint


# --- the world: two employers, two workers, their objects --------------------------------------


@dataclass
class Side:
    """One tenant's users and objects."""

    employer_user: User
    worker_user: User
    objects: dict


def _side(db, label: str) -> Side:
    employer_user = factories.user_for(
        Role.EMPLOYER,
        full_name=f"Leder {label}",
        employer=factories.EmployerFactory(name=f"Firma {label} ApS"),
    )
    worker_user = factories.user_for(Role.WORKER, full_name=f"Medarbejder {label}")
    worker = factories.worker_profile(worker_user)
    order = factories.JobOrderFactory(employer=employer_user.employer)
    placement = factories.PlacementFactory(job_order=order, worker=worker)
    proposal = factories.PlacementFactory(
        job_order=factories.JobOrderFactory(employer=employer_user.employer),
        worker=worker,
        status=PlacementStatus.PROPOSED,
        employer_accepted_at=dates.now(),
    )
    entry = factories.TimeEntryFactory(
        placement=placement, work_date=dates.today() - timedelta(days=3)
    )
    invoice = factories.InvoiceFactory(
        employer=employer_user.employer,
        year=2026,
        number=1 if label == "A" else 2,
        status=InvoiceStatus.ISSUED,
        issue_date=dates.today(),
        due_date=dates.today() + timedelta(days=14),
        total_ore=1000,
        subtotal_ore=800,
        vat_ore=200,
        pdf=b"%PDF-1.4 test",
        pdf_sha256="0" * 64,
        timesheet_pdf=b"%PDF-1.4 test",
        timesheet_sha256="0" * 64,
        ubl_xml=b"<Invoice/>",
        ubl_sha256="0" * 64,
    )
    db.flush()
    return Side(
        employer_user,
        worker_user,
        {
            "order": order.id,
            "placement": placement.id,
            "proposal": proposal.id,
            "entry": entry.id,
            "invoice": invoice.id,
            "worker": worker.id,
            "employer": employer_user.employer_id,
        },
    )


@pytest.fixture
def world(db, stripe_on):
    """Two tenants' objects, staff users, and Stripe switched on (against localstripe)."""
    from tests.invoicing import organisation

    organisation(db)
    own, other = _side(db, "A"), _side(db, "B")
    staff = {role: factories.UserFactory(role=role) for role in STAFF_ROLES}
    spare = factories.UserFactory(role=Role.CONSULTANT, full_name="Reserve")
    area = factories.WorkAreaFactory()
    run = factories.InvoiceRunFactory()
    export = factories.PayrollExportFactory()
    payment = factories.PaymentFactory(invoice=None, amount_ore=1000)
    line = factories.BankLineFactory()
    reminder = factories.ReminderFactory(pdf=b"%PDF-1.4 test")
    message = outbox.add(db, "account", "someone@example.dk", subject="Hej", body="Tekst")
    db.commit()
    shared = {
        "user": spare.id,
        "area": area.id,
        "run": run.id,
        "export": export.id,
        "payment": payment.id,
        "bank_import": line.import_id,
        "bank_line": line.id,
        "reminder": reminder.id,
        "message": message.id,
    }
    own.objects.update(shared)
    other.objects.update(shared)
    users = {
        Role.EMPLOYER: own.employer_user,
        Role.WORKER: own.worker_user,
        **staff,
    }
    return {"own": own, "other": other, "users": users}


def _log_in(client, user: User | None) -> None:
    """Put the user in the session directly (the log-in form is tested in test_auth)."""
    with client.session_transaction() as session:
        session.clear()
        if user is not None:
            session["_user_id"] = user.get_id()
            session["_fresh"] = True


def _url(app, rule, objects: dict, route: Route) -> str:
    values = {}
    for name in rule.arguments:
        if rule.defaults and name in rule.defaults:
            continue
        kind = route.args[name]
        values[name] = objects.get(kind, kind)
    with app.test_request_context():
        from flask import url_for

        return url_for(rule.endpoint, **values)


def _request(client, method: str, url: str):
    if method == "GET":
        return client.get(url)
    return client.post(url, data={"csrf_token": csrf_token(client, "/")})


def _cases(app_rules):
    for rule in app_rules:
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield pytest.param(rule.rule, method, id=f"{method} {rule.rule}")


# Parametrized over the URL map itself, so new rules are checked as soon as they exist.
def _all_rules():
    from portal import create_app

    return _rules(create_app({"ENV": "testing", "SECRET_KEY": "x", "DATABASE_URL": "sqlite://"}))


RULE_CASES = list(_cases(_all_rules()))


def _rule(app, path: str):
    return next(r for r in _rules(app) if r.rule == path)


def _tenant_scoped(route: Route) -> bool:
    return any(
        kind in {"order", "placement", "proposal", "entry", "invoice"}
        for kind in route.args.values()
    )


@pytest.mark.parametrize(("path", "method"), RULE_CASES)
def test_route_against_every_role(app, client, world, path, method):
    rule = _rule(app, path)
    route = MATRIX.get(rule.endpoint)
    assert route is not None, f"{rule.endpoint} is not in the authorization matrix"
    own, other = world["own"], world["other"]

    # Anonymous: public routes answer, the others send the visitor to log in.
    _log_in(client, None)
    response = _request(client, method, _url(app, rule, own.objects, route))
    if route.roles == PUBLIC:
        assert response.status_code == route.anonymous[method], (path, response.status_code)
    else:
        assert response.status_code == 302, (path, response.status_code)
        assert response.headers["Location"].startswith("/auth/login")

    # Another employer's / another worker's objects look missing (404), never forbidden.
    if _tenant_scoped(route):
        for role in (Role.EMPLOYER, Role.WORKER):
            if role not in route.roles:
                continue
            _log_in(client, world["users"][role])
            response = _request(client, method, _url(app, rule, other.objects, route))
            assert response.status_code == 404, (role, path, response.status_code)

    # Each role: refused roles get 403; allowed roles get the page (or a form answer),
    # never 403, never a 404 for their own object and never a 500.
    for role in Role:
        _log_in(client, world["users"][role])
        response = _request(client, method, _url(app, rule, own.objects, route))
        status = response.status_code
        assert status != 500, (role, path, response.text[:300])
        if route.roles == PUBLIC:
            continue
        if role in route.roles:
            assert status not in (403, 404), (role, method, path, status)
            location = response.headers.get("Location", "")
            assert not location.startswith("/auth/login"), (role, path)
        else:
            assert status == 403, (role, method, path, status)


# 2**31 and beyond do not fit an integer column: the database driver would fail on them.
@pytest.mark.parametrize("unknown", [999_999, 2**31, 2**63, 10**20])
def test_unknown_ids_are_404(app, client, world, unknown):
    """An id that does not exist is simply not found, for staff (who see every object) too;
    so is one too large for any column, on posts as well."""
    missing = dict.fromkeys(
        [
            "order",
            "placement",
            "proposal",
            "entry",
            "invoice",
            "worker",
            "user",
            "area",
            "run",
            "export",
            "payment",
            "bank_import",
            "bank_line",
            "reminder",
            "message",
            "employer",
        ],
        unknown,
    )
    for rule in _rules(app):
        route = MATRIX[rule.endpoint]
        names = set(rule.arguments) - set(rule.defaults or {})
        if not {route.args[n] for n in names} & missing.keys():
            continue
        role = next(r for r in (*STAFF_ROLES, Role.EMPLOYER, Role.WORKER) if r in route.roles)
        _log_in(client, world["users"][role])
        url = _url(app, rule, missing, route)
        methods = {"GET"} if unknown == 999_999 else {"GET", "POST"}
        for method in sorted(methods & rule.methods):
            response = _request(client, method, url)
            assert response.status_code == 404, (rule.rule, method, response.status_code)


def test_foreign_objects_never_leak_into_pages(app, client, world):
    """An employer's lists show nothing of the other employer's; likewise for workers."""
    _log_in(client, world["users"][Role.EMPLOYER])
    for path in ("/orders", "/placements", "/invoices", "/hours/week", "/hours/timesheet"):
        page = client.get(path)
        assert page.status_code == 200, path
        assert "Firma B ApS" not in page.text, path
    _log_in(client, world["users"][Role.WORKER])
    for path in ("/placements", "/hours/week", "/hours/mine", "/hours/timesheet"):
        page = client.get(path)
        assert page.status_code == 200, path
        assert "Firma B ApS" not in page.text, path


# --- two-factor log-in: with the setting on, the password alone reaches no page ----------------


@pytest.mark.parametrize("enrolled", [True, False], ids=["code awaited", "not enrolled yet"])
@pytest.mark.parametrize("role", STAFF_ROLES)
def test_staff_reach_no_route_without_the_second_factor(app, client, db, world, role, enrolled):
    """Every route, GET and POST: a staff user who gave only the password is sent to the code
    page (or, not enrolled yet, to the enrolment page); after the code the matrix holds."""
    import pyotp

    from core import settings
    from portal.auth import OPEN_HALF_WAY
    from portal.services import twofactor
    from tests.helpers import post_form

    settings.get(db).staff_two_factor = True
    user = world["users"][role]
    secret = pyotp.random_base32()
    if enrolled:  # a minute ago: the code of the step before, so the current one is unused
        twofactor.enable(db, user, secret, pyotp.TOTP(secret).at(dates.now(), counter_offset=-1))
    db.commit()
    _log_in(client, None)
    post_form(client, "/auth/login", {"email": user.email, "password": "correct-horse-battery"})
    gate = "/auth/two-factor" if enrolled else "/auth/two-factor/setup"
    token = csrf_token(client, gate)
    open_half_way = OPEN_HALF_WAY | ({"twofactor.setup"} if not enrolled else set())

    def every_route(skip=frozenset()):
        for rule in _rules(app):
            route = MATRIX[rule.endpoint]
            if rule.endpoint in open_half_way | skip or rule.endpoint == "auth.logout":
                continue
            url = _url(app, rule, world["own"].objects, route)
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                send = client.get if method == "GET" else client.post
                response = send(url, data=None if method == "GET" else {"csrf_token": token})
                yield rule, route, method, response

    for rule, _route, method, response in every_route():
        assert response.status_code == 302, (method, rule.rule, response.status_code)
        assert response.headers["Location"] == gate, (method, rule.rule)
    # What stays open half-way is public or the second factor's own pages.
    for endpoint in open_half_way - {"static"}:
        assert MATRIX[endpoint].roles == PUBLIC or endpoint == "twofactor.setup", endpoint

    if enrolled:
        response = client.post(
            gate, data={"csrf_token": token, "code": pyotp.TOTP(secret).at(dates.now())}
        )
    else:
        page = client.get(gate).text
        response = client.post(
            gate,
            data={
                "csrf_token": token,
                "enrolment": re.search(r'name="enrolment" type="hidden" value="([^"]+)"', page)[1],
                "code": pyotp.TOTP(secret_on_page(page)).at(dates.now()),
            },
        )
    assert response.status_code == 302, response.text[:300]
    token = csrf_token(client, "/")
    # (Not deactivating the spare user: the routes after it name that user.)
    for rule, route, method, response in every_route(skip={"admin.toggle_active"}):
        location = response.headers.get("Location", "").partition("?")[0]
        assert location not in ("/auth/two-factor", "/auth/two-factor/setup"), (method, rule.rule)
        assert not location.startswith("/auth/login"), (method, rule.rule)
        if route.roles == PUBLIC:
            continue  # made-up tokens answer 404, as they do for anyone
        if role not in route.roles:
            assert response.status_code == 403, (method, rule.rule, response.status_code)
        else:
            assert response.status_code not in (403, 404, 500), (method, rule.rule)


def secret_on_page(page: str) -> str:
    """The enrolment page's secret, typed by hand."""
    return re.search(r'<code class="two-factor-secret">([A-Z2-7 ]+)</code>', page)[1].replace(
        " ", ""
    )
