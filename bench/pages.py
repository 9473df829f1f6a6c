"""The five busiest pages with 100,000 shifts and 10,000 invoices loaded: p95 server time and
SQL queries per request, on SQLite and PostgreSQL. Queries are also counted on a tenth of the
data first, to show that they do not grow with it."""

from __future__ import annotations

import statistics
import time
from datetime import UTC, datetime, timedelta
from datetime import time as clock

from sqlalchemy import event, insert, text, update

from bench import Row, benchmark, on_both_databases
from bench.invoice_run import make_app, migrate
from core import dates

REQUESTS = 60
PAGES = [
    ("employer: week", "employer", "/hours/week"),
    ("employer: invoices", "employer", "/invoices"),
    ("worker: my hours", "worker", "/hours/mine"),
    ("finance: invoice list", "finance", "/finance/invoices"),
    ("finance: receivables", "finance", "/finance/receivables"),
    # The pages that made a query per row or rendered every shift before issue 12:
    ("consultant: placements", "consultant", "/placements"),
    ("consultant: my placements", "consultant", "/placements?mine=1"),
    ("consultant: workers", "consultant", "/workers"),
    ("finance: reminders", "finance", "/finance/reminders"),
    ("finance: run preview", "finance", "/finance/invoicing?period_end={today}&cadence="),
]
EMPLOYERS = 500
PLACEMENTS = 4  # per employer
WEEKS = 50  # of history: one shift per placement per week
ENTRIES = 100_000
INVOICES = 10_000


class Seeder:
    """Bulk inserts through Core: fast enough to load 100,000 rows in seconds."""

    def __init__(self, app) -> None:
        self.app = app
        self.engine = app.extensions["db"].engine
        self.signed = datetime(2026, 1, 1, tzinfo=UTC)
        self.today = dates.today()
        self.next_invoice_number = 1

    def base(self) -> dict:
        from core import models as m
        from portal.auth import hash_password

        with self.app.app_context():
            session = self.app.extensions["db"].sessionmaker()
            from core import settings

            org = settings.get(session)
            org.legal_name, org.cvr = "Småjob Bench", "13585628"
            area = m.WorkArea(name="Lager", bill_rate_ore=18900, pay_rate_ore=13500)
            password = hash_password("bench-password")
            finance = m.User(email="finance@bench.dk", role=m.Role.FINANCE, password_hash=password)
            consultant = m.User(
                email="konsulent@bench.dk", role=m.Role.CONSULTANT, password_hash=password
            )
            session.add_all([area, finance, consultant])
            session.commit()
            ids = {
                "area": area.id,
                "finance": finance.id,
                "consultant": consultant.id,
                "password": password,
            }
            session.close()
        return ids

    def employers(self, start: int, count: int, ids: dict) -> None:
        """Employers with placements, shifts over WEEKS weeks, and invoices."""
        from core import models as m

        per_placement = ENTRIES // (EMPLOYERS * PLACEMENTS)
        invoices_per_employer = INVOICES // EMPLOYERS
        first_monday = self.today - timedelta(days=self.today.weekday(), weeks=WEEKS - 1)
        with self.engine.begin() as connection:
            for n in range(start, start + count):
                employer_id = connection.execute(
                    insert(m.Employer).returning(m.Employer.id),
                    {
                        "name": f"Bench {n:04d} ApS",
                        "cvr": "29000050",
                        "address_line": "Vej 1",
                        "postcode": "5000",
                        "city": "Odense",
                        "contact_name": "",
                        "phone": "",
                        "invoice_email": f"b{n}@example.dk",
                        "billing_cadence": "monthly",
                        "status": "active",
                        "created_at": self.signed,
                    },
                ).scalar_one()
                user_id = connection.execute(
                    insert(m.User).returning(m.User.id),
                    {
                        "email": f"employer{n}@bench.dk",
                        "full_name": f"Chef {n}",
                        "phone": "",
                        "password_hash": ids["password"],
                        "role": "employer",
                        "locale": "da",
                        "employer_id": employer_id,
                        "active": True,
                        "created_at": self.signed,
                    },
                ).scalar_one()
                if n == 0:
                    ids["employer"] = user_id
                entries = []
                for p in range(PLACEMENTS):
                    worker_user = connection.execute(
                        insert(m.User).returning(m.User.id),
                        {
                            "email": f"w{n}-{p}@bench.dk",
                            "full_name": f"Arbejder {n}-{p}",
                            "phone": "",
                            "password_hash": ids["password"],
                            "role": "worker",
                            "locale": "da",
                            "active": True,
                            "created_at": self.signed,
                        },
                    ).scalar_one()
                    if n == 0 and p == 0:
                        ids["worker"] = worker_user
                    worker_id = connection.execute(
                        insert(m.Worker).returning(m.Worker.id),
                        {
                            "user_id": worker_user,
                            "payroll_number": f"{n}-{p}",
                            "first_name": f"Arbejder{p}",
                            "last_name": f"Nr{n}",
                            "email": "",
                            "phone": "",
                            "postcode": "5000",
                            "hours_min": 5,
                            "hours_max": 15,
                            "available_days": 31,
                            "status": "placed",
                            "consultant_id": ids["consultant"],
                            "created_at": self.signed,
                        },
                    ).scalar_one()
                    order_id = connection.execute(
                        insert(m.JobOrder).returning(m.JobOrder.id),
                        {
                            "employer_id": employer_id,
                            "work_area_id": ids["area"],
                            "title": "Lagerhjælp",
                            "description": "",
                            "address": "",
                            "postcode": "5000",
                            "hours_per_week": 12,
                            "preferred_days": 21,
                            "start_date": first_monday,
                            "head_count": 1,
                            "status": "filled",
                            "order_reference": "",
                            "person_reference": "",
                            "created_at": self.signed,
                        },
                    ).scalar_one()
                    placement_id = connection.execute(
                        insert(m.Placement).returning(m.Placement.id),
                        {
                            "job_order_id": order_id,
                            "employer_id": employer_id,
                            "worker_id": worker_id,
                            "pay_rate_ore": 13500,
                            "bill_rate_ore": 18900,
                            "hours_per_week": 12,
                            "start_date": first_monday,
                            "status": "active",
                            "consultant_id": ids["consultant"],
                            "declined_reason": "",
                            "end_reason": "",
                            "created_at": self.signed,
                        },
                    ).scalar_one()
                    for k in range(per_placement):  # one shift a week, this week included
                        day = min(first_monday + timedelta(weeks=k % WEEKS), self.today)
                        entries.append(
                            {
                                "placement_id": placement_id,
                                "worker_id": worker_id,
                                "work_date": day,
                                "start_time": clock(8 + k % 2 * 5, 0),
                                "end_time": clock(12 + k % 2 * 5, 0),
                                "break_minutes": 0,
                                "minutes": 240,
                                "note": "",
                                "entered_by_id": worker_user,
                                "worker_confirmed_at": self.signed,
                                "employer_approved_at": self.signed if k % 5 else None,
                                "auto_approved": False,
                                "dispute_reason": "",
                                "created_at": self.signed,
                                "updated_at": self.signed,
                            }
                        )
                invoices = []
                for k in range(invoices_per_employer):
                    number = self.next_invoice_number
                    self.next_invoice_number += 1
                    issued = self.today - timedelta(days=7 * (invoices_per_employer - k))
                    invoices.append(
                        {
                            "kind": "invoice",
                            "series": "F",
                            "year": issued.year,
                            "number": number,
                            "employer_id": employer_id,
                            "period_start": issued - timedelta(days=30),
                            "period_end": issued,
                            "issue_date": issued,
                            "due_date": issued + timedelta(days=14),
                            "subtotal_ore": 226800,
                            "vat_rate_bp": 2500,
                            "vat_ore": 56700,
                            "total_ore": 283500,
                            "paid_ore": 283500 if k % 3 else 0,
                            "credited_ore": 0,
                            "status": "paid" if k % 3 else "issued",
                            "payment_id": f"{number:015d}",
                            "buyer": {"name": f"Bench {n:04d}"},
                            "seller": {},
                            "pdf": b"%PDF",
                            "pdf_sha256": "0" * 64,
                            "timesheet_pdf": b"%PDF",
                            "timesheet_sha256": "0" * 64,
                            "delivery_state": "sent",
                            "delivery_attempts": 1,
                            "delivery_error": "",
                            "created_at": self.signed,
                            "issued_at": self.signed,
                        }
                    )
                # The latest invoice gets its line before its number, as the issuer does (the
                # database refuses lines on an issued invoice).
                latest = invoices.pop()
                connection.execute(insert(m.Invoice), invoices)
                latest_id = connection.execute(
                    insert(m.Invoice).returning(m.Invoice.id), {**latest, "number": None}
                ).scalar_one()
                # Shifts older than five weeks were billed (on one line of the employer's
                # latest invoice, enough for "uninvoiced" to mean what it does in production):
                # the run preview sees about a tenth of them, as a monthly run would.
                line_id = connection.execute(
                    insert(m.InvoiceLine).returning(m.InvoiceLine.id),
                    {
                        "invoice_id": latest_id,
                        "description": "Lager",
                        "minutes": 0,
                        "rate_ore": 18900,
                        "amount_ore": 0,
                    },
                ).scalar_one()
                connection.execute(
                    update(m.Invoice)
                    .where(m.Invoice.id == latest_id)
                    .values(number=latest["number"])
                )
                billed_until = self.today - timedelta(weeks=5)
                for entry in entries:
                    billed = entry["work_date"] < billed_until
                    entry["invoice_line_id"] = line_id if billed else None
                connection.execute(insert(m.TimeEntry), entries)


def log_in_ids(app, ids: dict) -> dict[str, str]:
    """What a log-in stores in the session for each role's user (id and session version)."""
    from core import models as m

    with app.app_context():
        session = app.extensions["db"].sessionmaker()
        found = {
            role: session.get(m.User, ids[role]).get_id()
            for role in ("employer", "worker", "finance", "consultant")
        }
        session.close()
    return found


def measure(app, users: dict, path_filter=None) -> dict[str, tuple[float, float]]:
    """p95 milliseconds and queries per request for each page."""
    engine = app.extensions["db"].engine
    counter = {"n": 0}

    def count(*_args):
        counter["n"] += 1

    event.listen(engine, "before_cursor_execute", count)
    results = {}
    try:
        for name, role, path in PAGES:
            path = path.format(today=dates.today().isoformat())
            if path.split("?")[0] not in {r.rule for r in app.url_map.iter_rules()}:
                continue
            client = app.test_client()
            with client.session_transaction() as session:
                session["_user_id"] = users[role]
                session["_fresh"] = True
            for _ in range(3):
                response = client.get(path)
                assert response.status_code == 200, (path, response.status_code)
            timings, queries = [], []
            for _ in range(REQUESTS):
                counter["n"] = 0
                started = time.perf_counter()
                client.get(path)
                timings.append((time.perf_counter() - started) * 1000)
                queries.append(counter["n"])
            p95 = statistics.quantiles(timings, n=20)[-1]
            results[name] = (p95, statistics.median(queries))
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return results


def run_on(database_url: str, kind: str) -> list[Row]:
    app = make_app(database_url)
    migrate(app)
    seeder = Seeder(app)
    ids = seeder.base()
    seeder.employers(0, EMPLOYERS // 10, ids)
    users = log_in_ids(app, ids)
    small = measure(app, users)
    seeder.employers(EMPLOYERS // 10, EMPLOYERS - EMPLOYERS // 10, ids)
    if database_url.startswith("postgresql"):
        with app.extensions["db"].engine.begin() as connection:
            connection.execute(text("ANALYZE"))
    large = measure(app, users)
    app.extensions["db"].engine.dispose()
    rows = []
    for name, (p95, queries) in large.items():
        grew = "" if queries <= small[name][1] else f" (grew from {small[name][1]:.0f})"
        rows.append(
            Row(
                f"{name} ({kind}, 100k shifts, 10k invoices) p95",
                p95,
                f"{queries:.0f} SQL queries{grew}; {small[name][1]:.0f} at 10k/1k",
            )
        )
    return rows


@benchmark
def busiest_pages() -> list[Row]:
    """p95 and query counts of the busiest pages on SQLite and PostgreSQL."""
    return on_both_databases(run_on, "pages")
