"""Worker profiles: consultants create them (the worker is invited) and keep them current."""

from __future__ import annotations

from sqlalchemy import select

from core import models as m
from tests import factories
from tests.helpers import link_in, post_form
from tests.hiring import audit_actions, post, switch_to


def worker_data(area, **changes) -> dict:
    data = {
        "first_name": "Sara",
        "last_name": "Nielsen",
        "email": "Sara.Nielsen@example.dk",
        "phone": "+45 50 00 10 02",
        "postcode": "5200",
        "work_areas": [str(area.id)],
        "hours_min": "5",
        "hours_max": "12",
        "available_days": ["0", "2", "4"],
        "consultant_id": "0",
        "status": "available",
        "payroll_number": "",
    }
    data.update(changes)
    return data


def test_consultant_creates_a_worker_who_is_invited_by_e_mail(client, db, as_role, mailbox):
    me = as_role(m.Role.CONSULTANT)
    area = factories.WorkAreaFactory(name="Lager")
    db.commit()
    response = post_form(client, "/workers/new", worker_data(area, consultant_id=str(me.id)))
    assert response.status_code == 302
    worker = db.scalars(select(m.Worker).where(m.Worker.email == "sara.nielsen@example.dk")).one()
    assert response.headers["Location"] == f"/workers/{worker.id}"
    assert [a.name for a in worker.work_areas] == ["Lager"]
    assert (worker.hours_min, worker.hours_max) == (5, 12)
    assert worker.available_days == 0b10101  # Monday, Wednesday, Friday
    assert worker.consultant_id == me.id and worker.postcode == "5200"
    assert worker.payroll_number.isdigit()
    assert worker.user.role == m.Role.WORKER and worker.user.password_hash is None
    assert "worker.created" in audit_actions(db, worker)
    [invitation] = mailbox.to("sara.nielsen@example.dk")
    link = link_in(invitation)
    assert link.startswith("/auth/set-password/")

    # The worker chooses a password and lands in their own portal.
    switch_to_anonymous = client.post("/auth/logout", data={"csrf_token": _token(client)})
    assert switch_to_anonymous.status_code == 302
    response = post_form(
        client, link, {"password": "a-good-long-password", "confirm": "a-good-long-password"}
    )
    assert response.status_code == 302
    assert client.get("/placements").status_code == 200


def _token(client) -> str:
    from tests.helpers import csrf_token

    return csrf_token(client, "/")


def test_new_worker_form_refuses_bad_input_and_duplicate_e_mails(client, db, as_role, mailbox):
    as_role(m.Role.CONSULTANT)
    area = factories.WorkAreaFactory()
    factories.WorkerFactory(email="taken@example.dk")
    db.commit()
    bad = post_form(client, "/workers/new", worker_data(area, hours_min="12", hours_max="5"))
    assert bad.status_code == 400 and 'id="hours_max-error"' in bad.text
    bad = post_form(client, "/workers/new", worker_data(area, postcode="52"))
    assert bad.status_code == 400 and 'id="postcode-error"' in bad.text
    taken = post_form(client, "/workers/new", worker_data(area, email="taken@example.dk"))
    assert taken.status_code == 400 and "taken@example.dk" in taken.text
    assert db.scalars(select(m.Worker).where(m.Worker.first_name == "Sara")).all() == []
    assert mailbox.messages == []


def test_consultant_edits_a_profile_and_the_change_is_audited(client, db, as_role):
    as_role(m.Role.CONSULTANT)
    area = factories.WorkAreaFactory()
    other_area = factories.WorkAreaFactory()
    worker = factories.WorkerFactory(first_name="Sara", work_areas=[area])
    db.commit()
    page = client.get(f"/workers/{worker.id}")
    assert page.status_code == 200 and 'value="Sara"' in page.text
    data = worker_data(other_area, hours_min="8", hours_max="15", status="paused")
    del data["email"]
    response = post_form(client, f"/workers/{worker.id}", data)
    assert response.status_code == 302
    db.refresh(worker)
    assert [a.id for a in worker.work_areas] == [other_area.id]
    assert (worker.hours_min, worker.hours_max, worker.status) == (8, 15, m.WorkerStatus.PAUSED)
    assert "worker.updated" in audit_actions(db, worker)
    assert "Sara" in client.get("/workers").text


def test_paused_workers_are_not_candidates(client, db, as_role):
    me = as_role(m.Role.CONSULTANT)
    area = factories.WorkAreaFactory()
    order = factories.JobOrderFactory(work_area=area, status=m.OrderStatus.TAKEN, consultant=me)
    factories.WorkerFactory(first_name="Aktiv", work_areas=[area])
    factories.WorkerFactory(first_name="Pause", work_areas=[area], status=m.WorkerStatus.PAUSED)
    db.commit()
    page = client.get(f"/consultant/orders/{order.id}/match").text
    assert "Aktiv" in page and "Pause" not in page


def test_worker_pages_are_for_consultants_only(client, db, as_role):
    worker = factories.WorkerFactory()
    db.commit()
    user = as_role(m.Role.EMPLOYER)
    for path in ("/workers", "/workers/new", f"/workers/{worker.id}"):
        assert client.get(path).status_code == 403, path
    assert post(client, f"/workers/{worker.id}", {"first_name": "X"}).status_code == 403
    worker_user = factories.user_for(m.Role.WORKER)
    db.commit()
    switch_to(client, worker_user)
    assert client.get(f"/workers/{worker.id}").status_code == 403
    consultant = factories.UserFactory(role=m.Role.CONSULTANT)
    db.commit()
    switch_to(client, consultant)
    assert client.get("/workers/999999").status_code == 404
    assert post(client, "/workers/999999", {"first_name": "X"}).status_code == 404
    assert user.employer_id  # the employer never saw a worker profile


def test_a_worker_sees_only_their_own_jobs(client, db, as_role):
    me = as_role(m.Role.WORKER)
    mine = factories.PlacementFactory(
        worker=db.scalars(select(m.Worker).where(m.Worker.user_id == me.id)).one()
    )
    theirs = factories.PlacementFactory()
    db.commit()
    listing = client.get("/placements").text
    assert f"/placements/{mine.id}" in listing and f"/placements/{theirs.id}" not in listing
    assert client.get(f"/placements/{mine.id}").status_code == 200
    assert client.get(f"/placements/{theirs.id}").status_code == 404


def test_the_list_tells_a_move_to_an_ordinary_job_from_a_drop_out(client, db, as_role):
    """Both left, for different reasons: the list says which (issue 23)."""
    from datetime import date

    as_role(m.Role.CONSULTANT)
    for name, reason in (("Jobbet", "ordinary_job"), ("Droppet", "stopped")):
        worker = factories.WorkerFactory(first_name=name, status=m.WorkerStatus.LEFT)
        factories.PlacementFactory(
            worker=worker,
            status=m.PlacementStatus.ENDED,
            end_date=date(2026, 10, 30),
            end_reason=reason,
        )
    db.commit()
    rows = client.get("/workers").text.split("<tr>")
    [moved] = [row for row in rows if "Jobbet Jensen" in row]
    [dropped] = [row for row in rows if "Droppet Jensen" in row]
    assert "Gået i ordinært job" in moved and "Droppet ud" in dropped
    assert "Stoppet" not in moved + dropped
