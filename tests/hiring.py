"""Helpers shared by the hiring tests (orders, placements, workers)."""

from __future__ import annotations

import re
from datetime import timedelta

from core import dates
from core import models as m
from portal.forms import new_key
from tests import factories
from tests.helpers import csrf_token, login

NEW_CVR = "27355021"  # valid (modulus 11) and not among the factories' numbers
KNOWN_CVR = "13585628"


def switch_to(client, user, password: str = factories.PASSWORD) -> None:
    """Log out whoever is logged in and log this user in."""
    token = csrf_token(client, "/")
    client.post("/auth/logout", data={"csrf_token": token})
    login(client, user, password)


def post(client, path: str, data: dict | None = None, page: str = "/"):
    """POST with a CSRF token taken from a page the user can open (the home page), as a form
    freshly shown would send it (with a new one-time key)."""
    fields = {"csrf_token": csrf_token(client, page), "idempotency_key": new_key()}
    return client.post(path, data={**fields, **(data or {})})


def submission_key(client, path: str) -> str:
    page = client.get(path)
    match = re.search(r'name="submission_key" type="hidden" value="([^"]+)"', page.text)
    assert match, page.text[:500]
    return match.group(1)


def task_data(area: m.WorkArea, **changes) -> dict:
    start = dates.today() + timedelta(days=10)
    data = {
        "work_area_id": str(area.id),
        "title": "Tomme kasser på lageret",
        "description": "Pap og kasser skal væk",
        "address": "Lagervej 4, 5000 Odense C",
        "postcode": "5000",
        "hours_per_week": "10",
        "preferred_days": ["0", "2"],
        "start_date": start.isoformat(),
        "end_date": "",
        "head_count": "1",
    }
    data.update(changes)
    return data


def public_data(area: m.WorkArea, **changes) -> dict:
    data = {
        "cvr": NEW_CVR,
        "company_name": "Ny Virksomhed ApS",
        "company_address": "Lagervej 4",
        "company_postcode": "5000",
        "company_city": "Odense C",
        "ean": "",
        "contact_name": "Kim Kontakt",
        "email": "kim@nyvirksomhed.dk",
        "phone": "+45 12 34 56 78",
        "website": "",
        **task_data(area),
    }
    data.update(changes)
    return data


def submit_public(client, area, **changes):
    """Fill in and send the public order form like a browser (one key per form)."""
    key = submission_key(client, "/order")
    data = {"submission_key": key, **public_data(area, **changes)}
    return key, post(client, "/order", data, page="/order")


def hiring_cast(db, *, head_count: int = 1, order_status=m.OrderStatus.TAKEN):
    """A consultant with a taken order, the employer's user and a worker with a login."""
    area = factories.WorkAreaFactory(pay_rate_ore=13500, bill_rate_ore=18900)
    consultant = factories.UserFactory(role=m.Role.CONSULTANT, full_name="Mette Madsen")
    employer_user = factories.user_for(m.Role.EMPLOYER, full_name="Lise Leder")
    order = factories.JobOrderFactory(
        employer=employer_user.employer,
        work_area=area,
        status=order_status,
        consultant=consultant if order_status != m.OrderStatus.NEW else None,
        head_count=head_count,
        start_date=dates.today(),
    )
    worker_user = factories.user_for(m.Role.WORKER, full_name="Jonas Jensen")
    worker = db.query(m.Worker).filter_by(user_id=worker_user.id).one()
    worker.first_name, worker.last_name = "Jonas", "Jensen"
    worker.phone, worker.postcode = "+45 99 88 77 66", "5792"
    worker.work_areas = [area]
    db.flush()
    return {
        "area": area,
        "consultant": consultant,
        "employer_user": employer_user,
        "employer": employer_user.employer,
        "order": order,
        "worker_user": worker_user,
        "worker": worker,
    }


def audit_actions(db, obj) -> list[str]:
    return [
        e.action
        for e in db.query(m.AuditEvent)
        .filter_by(object_type=type(obj).__name__, object_id=obj.id)
        .order_by(m.AuditEvent.id)
    ]
