"""Ordering help: the public form, employers' own orders, the consultant's inbox."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import func, select

from core import dates
from core import models as m
from tests import factories
from tests.helpers import body, link_in, login
from tests.hiring import (
    KNOWN_CVR,
    NEW_CVR,
    audit_actions,
    hiring_cast,
    post,
    public_data,
    submission_key,
    submit_public,
    switch_to,
    task_data,
)


def count(db, model) -> int:
    return db.scalar(select(func.count()).select_from(model))


# --- The public order form ----------------------------------------------------------------


def test_order_page_shows_prices_before_submitting(client, db):
    factories.WorkAreaFactory(name="Lager", bill_rate_ore=18900)
    factories.WorkAreaFactory(name="Gammelt", bill_rate_ore=9900, active=False)
    db.commit()
    page = client.get("/order")
    assert page.status_code == 200
    assert "Lager" in page.text and "189,00\xa0kr." in page.text
    assert "Gammelt" not in page.text  # inactive price-list lines are not offered
    assert 'name="website"' in page.text and 'class="hp"' in page.text
    # Anonymous visitors find the page from the front page and the menu.
    front = client.get("/")
    assert front.text.count('href="/order"') >= 2


def test_public_order_creates_pending_employer_user_and_order(client, db, mailbox):
    area = factories.WorkAreaFactory()
    factories.UserFactory(role=m.Role.ADMIN)  # the organisation exists
    org = db.get(m.OrganisationSettings, 1) or m.OrganisationSettings(id=1)
    org.legal_name, org.phone, org.email = "Småjob Fyn", "+45 66 00 00 00", "kontakt@smajob.dk"
    db.add(org)
    db.commit()

    key, response = submit_public(client, area)
    assert response.status_code == 302
    assert response.headers["Location"] == f"/order/received/{key}"

    order = db.scalar(select(m.JobOrder).where(m.JobOrder.submission_key == key))
    assert order.status == m.OrderStatus.NEW
    assert order.hours_per_week == 10 and order.preferred_days == 0b101  # Monday, Wednesday
    assert order.contact_email == "kim@nyvirksomhed.dk"
    employer = order.employer
    assert (employer.cvr, employer.status) == (NEW_CVR, m.EmployerStatus.PENDING)
    assert employer.duplicate_of_id is None
    [user] = employer.users
    assert user.email == "kim@nyvirksomhed.dk" and user.password_hash is None
    assert "order.submitted" in audit_actions(db, order)

    [invitation] = mailbox.to("kim@nyvirksomhed.dk")
    assert link_in(invitation).startswith("/auth/set-password/")

    receipt = client.get(response.headers["Location"])
    assert receipt.status_code == 200
    assert "Tomme kasser på lageret" in receipt.text
    assert "kim@nyvirksomhed.dk" in receipt.text  # the invitation went here
    assert "+45 66 00 00 00" in receipt.text and "kontakt@smajob.dk" in receipt.text


def test_the_first_order_needs_only_what_is_needed_now(client, db, mailbox):
    """Issue 15: plug and play. Nine fields are asked at once; the workplace defaults to the
    company's address, and the rest (description, days, end, head count, EAN) is folded away
    unless one of them has an error."""
    area = factories.WorkAreaFactory(name="Lager", bill_rate_ore=18900)
    db.commit()
    page = client.get("/order").text
    folded = page[page.index('<details class="later"') :]
    assert '<details class="later">' in page  # closed
    for later in ('name="description"', 'name="preferred_days"', 'name="ean"', 'name="address"'):
        assert later in folded and later not in page[: page.index('<details class="later"')]
    assert "Lager – 189,00\xa0kr." in page  # the price stays visible, in the choice itself
    minimal = {
        "cvr": NEW_CVR,
        "company_name": "Ny Virksomhed ApS",
        "company_address": "Lagervej 4",
        "company_postcode": "5000",
        "company_city": "Odense C",
        "contact_name": "Kim Kontakt",
        "email": "kim@nyvirksomhed.dk",
        "phone": "+45 12 34 56 78",
        "work_area_id": area.id,
        "title": "Tomme kasser",
        "hours_per_week": "10",
        "start_date": dates.today().isoformat(),  # Copenhagen's today
        "head_count": "1",
    }
    key = submission_key(client, "/order")
    response = post(client, "/order", {"submission_key": key, **minimal}, page="/order")
    assert response.status_code == 302, response.text
    order = db.scalar(select(m.JobOrder).where(m.JobOrder.submission_key == key))
    assert (order.address, order.postcode) == ("Lagervej 4, 5000 Odense C", "5000")

    # A public body's EAN without references: the folded part opens with the error.
    key = submission_key(client, "/order")
    data = {"submission_key": key, **minimal, "cvr": KNOWN_CVR, "ean": "5798000554504"}
    refused = post(client, "/order", data, page="/order")
    assert refused.status_code == 400 and '<details class="later" open>' in refused.text


def test_double_submit_creates_one_order(client, db, mailbox):
    area = factories.WorkAreaFactory()
    db.commit()
    key = submission_key(client, "/order")
    data = {"submission_key": key, **public_data(area)}
    first = post(client, "/order", data, page="/order")
    second = post(client, "/order", data, page="/order")  # double click or back + resend
    assert first.status_code == second.status_code == 302
    assert first.headers["Location"] == second.headers["Location"]
    assert count(db, m.JobOrder) == 1 and count(db, m.Employer) == 1
    assert len(mailbox.to("kim@nyvirksomhed.dk")) == 1
    assert client.get(second.headers["Location"]).status_code == 200


def test_bad_cvr_re_renders_with_a_message_and_stores_nothing(client, db, mailbox):
    area = factories.WorkAreaFactory()
    db.commit()
    _key, response = submit_public(client, area, cvr="13585627")  # fails modulus 11
    assert response.status_code == 400
    assert 'id="cvr-error"' in response.text
    assert 'value="Ny Virksomhed ApS"' in response.text  # what was typed is kept
    assert count(db, m.JobOrder) == 0 and count(db, m.Employer) == 0
    assert mailbox.messages == []


def test_other_bad_input_is_refused_field_by_field(client, db):
    area = factories.WorkAreaFactory()
    db.commit()
    yesterday = (dates.today() - timedelta(days=1)).isoformat()
    _key, response = submit_public(
        client,
        area,
        hours_per_week="40",
        head_count="0",
        start_date=yesterday,
        email="not-an-address",
        work_area_id="0",
    )
    assert response.status_code == 400
    for field in ("hours_per_week", "head_count", "start_date", "email", "work_area_id"):
        assert f'id="{field}-error"' in response.text, field
    start = dates.today() + timedelta(days=5)
    _key, response = submit_public(
        client, area, start_date=start.isoformat(), end_date=start.isoformat()
    )
    assert response.status_code == 400 and 'id="end_date-error"' in response.text
    assert count(db, m.JobOrder) == 0


def test_honeypot_pretends_success_and_stores_nothing(client, db, mailbox):
    area = factories.WorkAreaFactory()
    db.commit()
    _key, response = submit_public(client, area, website="http://cheap-pills.example")
    assert response.status_code == 200
    assert "<h1>" in response.text and 'name="cvr"' not in response.text  # the receipt
    assert count(db, m.JobOrder) == 0 and count(db, m.Employer) == 0
    assert mailbox.messages == []


def test_order_form_is_rate_limited_per_ip(app, client, db):
    area = factories.WorkAreaFactory()
    db.commit()
    app.config["ORDER_LIMIT_PER_IP"] = "2 per hour"
    try:
        statuses = [submit_public(client, area, cvr="x")[1].status_code for _ in range(3)]
    finally:
        del app.config["ORDER_LIMIT_PER_IP"]
    assert statuses == [400, 400, 429]


def test_known_cvr_waits_for_the_consultant_then_attaches(client, db, mailbox):
    area = factories.WorkAreaFactory()
    known = factories.EmployerFactory(cvr=KNOWN_CVR, name="Kendt Lager A/S")
    known_user = factories.user_for(m.Role.EMPLOYER, employer=known)
    consultant = factories.UserFactory(role=m.Role.CONSULTANT)
    db.commit()

    key, response = submit_public(client, area, cvr=KNOWN_CVR, company_name="Kendt Lager")
    assert response.status_code == 302
    order = db.scalar(select(m.JobOrder).where(m.JobOrder.submission_key == key))
    # Not silently attached: the submitted company waits as a possible duplicate.
    assert order.employer_id != known.id
    assert order.employer.duplicate_of_id == known.id
    assert order.employer.name == "Kendt Lager"
    # No login to a known company's data: the contact gets the receipt, not an invitation.
    [receipt] = mailbox.to("kim@nyvirksomhed.dk")
    assert "/auth/set-password/" not in body(receipt)
    login(client, known_user)
    assert "Tomme kasser" not in client.get("/orders").text
    assert client.get(f"/orders/{order.id}").status_code == 404

    switch_to(client, consultant)
    page = client.get(f"/consultant/orders/{order.id}")
    assert "Kendt Lager A/S" in page.text and 'value="attach"' in page.text
    post(client, f"/consultant/orders/{order.id}/take")
    # Matching may start, but nobody is proposed before the company is confirmed.
    worker = factories.WorkerFactory()
    db.commit()
    refused = post(
        client,
        f"/consultant/orders/{order.id}/propose/{worker.id}",
        {
            "pay_rate_ore": "135,00",
            "bill_rate_ore": "189,00",
            "hours_per_week": "10",
            "start_date": (dates.today() + timedelta(days=10)).isoformat(),
        },
    )
    assert refused.status_code == 400 and count(db, m.Placement) == 0

    pending_id = order.employer_id
    response = post(client, f"/consultant/orders/{order.id}/company", {"decision": "attach"})
    assert response.status_code == 302
    db.expire_all()
    assert db.get(m.JobOrder, order.id).employer_id == known.id
    assert db.get(m.Employer, pending_id) is None
    assert "order.attached_to_employer" in audit_actions(db, order)

    switch_to(client, known_user)
    assert "Tomme kasser" in client.get("/orders").text


def test_known_cvr_kept_separate_invites_the_contact(client, db, mailbox):
    area = factories.WorkAreaFactory()
    known = factories.EmployerFactory(cvr=KNOWN_CVR)
    consultant = factories.UserFactory(role=m.Role.CONSULTANT)
    db.commit()
    key, _response = submit_public(client, area, cvr=KNOWN_CVR)
    order = db.scalar(select(m.JobOrder).where(m.JobOrder.submission_key == key))
    login(client, consultant)
    response = post(client, f"/consultant/orders/{order.id}/company", {"decision": "separate"})
    assert response.status_code == 302
    db.expire_all()
    employer = db.get(m.JobOrder, order.id).employer
    assert employer.id != known.id and employer.duplicate_of_id is None
    assert [u.email for u in employer.users] == ["kim@nyvirksomhed.dk"]
    invitations = [m for m in mailbox.to("kim@nyvirksomhed.dk") if "/auth/set-password/" in body(m)]
    assert len(invitations) == 1
    # Nothing left to confirm.
    again = post(client, f"/consultant/orders/{order.id}/company", {"decision": "attach"})
    assert again.status_code == 302 and db.get(m.JobOrder, order.id).employer_id == employer.id


def test_receipt_for_an_unknown_key_is_not_found(client, db):
    assert client.get("/order/received/" + "x" * 32).status_code == 404
    assert client.get("/order/received/bad").status_code == 404


# --- Logged-in employers ------------------------------------------------------------------


def test_employer_sees_own_orders_with_status_and_contact_consultant(client, db, as_role):
    user = as_role(m.Role.EMPLOYER)
    consultant = factories.UserFactory(
        role=m.Role.CONSULTANT, full_name="Mette Madsen", phone="+45 60 00 00 03"
    )
    factories.JobOrderFactory(
        employer=user.employer,
        title="Vores opgave",
        status=m.OrderStatus.TAKEN,
        consultant=consultant,
    )
    factories.JobOrderFactory(title="Andres opgave")
    db.commit()
    page = client.get("/orders")
    assert page.status_code == 200
    assert "Vores opgave" in page.text and "Andres opgave" not in page.text
    assert "Mette Madsen" in page.text and "+45 60 00 00 03" in page.text
    assert consultant.email in page.text


def test_employer_creates_a_further_order_once(client, db, as_role):
    user = as_role(m.Role.EMPLOYER)
    area = factories.WorkAreaFactory()
    db.commit()
    key = submission_key(client, "/orders/new")
    data = {"submission_key": key, **task_data(area, title="Mere hjælp")}
    first = post(client, "/orders/new", data, page="/orders/new")
    second = post(client, "/orders/new", data, page="/orders/new")
    assert first.status_code == second.status_code == 302
    [order] = db.scalars(select(m.JobOrder).where(m.JobOrder.employer_id == user.employer_id))
    assert order.title == "Mere hjælp" and order.created_by_id == user.id
    assert order.contact_email == user.email and order.status == m.OrderStatus.NEW
    assert first.headers["Location"] == f"/orders/{order.id}"
    bad = post(
        client,
        "/orders/new",
        {**data, "submission_key": submission_key(client, "/orders/new"), "hours_per_week": "0"},
        page="/orders/new",
    )
    assert bad.status_code == 400 and count(db, m.JobOrder) == 1


def test_logged_in_employer_is_sent_from_the_public_form_to_its_own(client, db, as_role):
    as_role(m.Role.EMPLOYER)
    response = client.get("/order")
    assert response.status_code == 302 and response.headers["Location"] == "/orders/new"


def test_employer_cancels_an_order_with_a_reason(client, db, as_role, mailbox):
    user = as_role(m.Role.EMPLOYER)
    consultant = factories.UserFactory(role=m.Role.CONSULTANT)
    order = factories.JobOrderFactory(
        employer=user.employer, status=m.OrderStatus.TAKEN, consultant=consultant
    )
    db.commit()
    refused = post(client, f"/orders/{order.id}/cancel", {"reason": ""})
    assert refused.status_code == 400
    db.refresh(order)
    assert order.status == m.OrderStatus.TAKEN
    response = post(client, f"/orders/{order.id}/cancel", {"reason": "Vi har selv fundet en"})
    assert response.status_code == 302
    db.refresh(order)
    assert order.status == m.OrderStatus.CANCELLED
    assert order.cancelled_reason == "Vi har selv fundet en"
    assert "order.cancelled" in audit_actions(db, order)
    [notice] = mailbox.to(consultant.email)
    assert "Vi har selv fundet en" in body(notice)


def test_an_order_with_an_active_placement_cannot_be_cancelled(client, db, as_role):
    user = as_role(m.Role.EMPLOYER)
    order = factories.JobOrderFactory(employer=user.employer, status=m.OrderStatus.FILLED)
    factories.PlacementFactory(job_order=order)
    open_order = factories.JobOrderFactory(employer=user.employer, status=m.OrderStatus.PROPOSED)
    factories.PlacementFactory(job_order=open_order, status=m.PlacementStatus.ACTIVE)
    db.commit()
    for job in (order, open_order):
        assert f'action="/orders/{job.id}/cancel"' not in client.get(f"/orders/{job.id}").text
        post(client, f"/orders/{job.id}/cancel", {"reason": "Alligevel ikke"})
        db.refresh(job)
        assert job.status != m.OrderStatus.CANCELLED


def test_cancelling_withdraws_open_proposals(client, db, as_role):
    user = as_role(m.Role.EMPLOYER)
    order = factories.JobOrderFactory(employer=user.employer, status=m.OrderStatus.PROPOSED)
    proposal = factories.PlacementFactory(job_order=order, status=m.PlacementStatus.PROPOSED)
    db.commit()
    post(client, f"/orders/{order.id}/cancel", {"reason": "Budgettet forsvandt"})
    db.refresh(proposal)
    assert proposal.status == m.PlacementStatus.DECLINED


# --- The consultant's inbox ---------------------------------------------------------------


def test_inbox_lists_new_orders_first_then_my_open_ones(client, db, as_role, mailbox):
    me = as_role(m.Role.CONSULTANT)
    other = factories.UserFactory(role=m.Role.CONSULTANT)
    employer_user = factories.user_for(m.Role.EMPLOYER)
    new = factories.JobOrderFactory(title="Helt ny", employer=employer_user.employer)
    mine = factories.JobOrderFactory(title="Min egen", status=m.OrderStatus.TAKEN, consultant=me)
    factories.JobOrderFactory(title="Kollegas", status=m.OrderStatus.TAKEN, consultant=other)
    factories.JobOrderFactory(title="Aflyst", status=m.OrderStatus.CANCELLED)
    db.commit()
    page = client.get("/consultant/orders").text
    assert page.index("Helt ny") < page.index("Min egen")
    assert "Kollegas" not in page and "Aflyst" not in page

    response = post(client, f"/consultant/orders/{new.id}/take")
    assert response.status_code == 302
    db.refresh(new)
    assert new.status == m.OrderStatus.TAKEN and new.consultant_id == me.id
    assert new.taken_at is not None
    assert "order.taken" in audit_actions(db, new)
    [hello] = mailbox.to(employer_user.email)
    assert me.full_name in body(hello) and link_in(hello) == f"/orders/{new.id}"
    assert mine.id  # still listed as mine
    assert "Helt ny" in client.get("/consultant/orders").text.split("<h2>")[2]


def test_an_order_taken_by_a_colleague_stays_theirs(client, db, as_role):
    as_role(m.Role.CONSULTANT)
    other = factories.UserFactory(role=m.Role.CONSULTANT, full_name="Kasper Kjær")
    order = factories.JobOrderFactory(status=m.OrderStatus.TAKEN, consultant=other)
    db.commit()
    response = post(client, f"/consultant/orders/{order.id}/take")
    assert response.status_code == 302
    db.refresh(order)
    assert order.consultant_id == other.id
    assert "Kasper Kjær" in client.get(response.headers["Location"]).text


def test_consultant_cancels_an_order(client, db, as_role):
    me = as_role(m.Role.CONSULTANT)
    order = factories.JobOrderFactory(status=m.OrderStatus.TAKEN, consultant=me)
    db.commit()
    assert post(client, f"/consultant/orders/{order.id}/cancel", {"reason": ""}).status_code == 400
    post(client, f"/consultant/orders/{order.id}/cancel", {"reason": "Kunden ringede"})
    db.refresh(order)
    assert order.status == m.OrderStatus.CANCELLED


# --- Tenancy ------------------------------------------------------------------------------


def test_another_employers_order_and_proposal_answer_404(client, db, as_role):
    as_role(m.Role.EMPLOYER)
    foreign = factories.JobOrderFactory(status=m.OrderStatus.PROPOSED)
    proposal = factories.PlacementFactory(job_order=foreign, status=m.PlacementStatus.PROPOSED)
    db.commit()
    assert client.get(f"/orders/{foreign.id}").status_code == 404
    assert post(client, f"/orders/{foreign.id}/cancel", {"reason": "x"}).status_code == 404
    assert client.get(f"/orders/proposals/{proposal.id}").status_code == 404
    assert post(client, f"/orders/proposals/{proposal.id}/accept").status_code == 404
    assert (
        post(client, f"/orders/proposals/{proposal.id}/decline", {"reason": "x"}).status_code == 404
    )
    assert client.get("/orders/999999").status_code == 404
    db.refresh(foreign)
    db.refresh(proposal)
    assert foreign.status == m.OrderStatus.PROPOSED
    assert proposal.status == m.PlacementStatus.PROPOSED


def test_consultant_pages_are_staff_only_and_unknown_ids_404(client, db, as_role):
    cast = hiring_cast(db)
    db.commit()
    order, worker = cast["order"], cast["worker"]
    paths = [
        f"/consultant/orders/{order.id}",
        f"/consultant/orders/{order.id}/match",
        f"/consultant/orders/{order.id}/propose/{worker.id}",
    ]
    posts = [
        f"/consultant/orders/{order.id}/take",
        f"/consultant/orders/{order.id}/company",
        f"/consultant/orders/{order.id}/cancel",
    ]
    login(client, cast["employer_user"])
    for path in [*paths, "/consultant/orders"]:
        assert client.get(path).status_code == 403, path
    for path in posts:
        assert post(client, path, {"reason": "x"}).status_code == 403, path
    switch_to(client, cast["consultant"])
    for path in paths:
        assert client.get(path).status_code == 200, path
        assert client.get(path.replace(str(order.id), "999999", 1)).status_code == 404, path
    assert client.get(f"/consultant/orders/{order.id}/propose/999999").status_code == 404
    for path in posts:
        missing = path.replace(str(order.id), "999999", 1)
        assert post(client, missing, {"reason": "x"}).status_code == 404, path


# --- Demo data ----------------------------------------------------------------------------


def test_demo_has_orders_in_every_state_and_answerable_proposals(client, db):
    from portal import demo

    assert demo.load(db) > 0
    db.commit()
    assert demo.load(db) == 0  # loading twice adds nothing
    states = set(db.scalars(select(m.JobOrder.status)))
    assert states >= {
        m.OrderStatus.NEW,
        m.OrderStatus.TAKEN,
        m.OrderStatus.PROPOSED,
        m.OrderStatus.FILLED,
        m.OrderStatus.CANCELLED,
    }
    assert (
        db.scalar(
            select(func.count())
            .select_from(m.Employer)
            .where(m.Employer.duplicate_of_id.is_not(None))
        )
        == 1
    )
    assert db.scalar(select(func.count()).select_from(m.PlacementNote)) >= 2
    changes = {
        (c.old_hours_per_week, c.new_hours_per_week)
        for c in db.scalars(select(m.PlacementHoursChange))
    }
    assert (12, 15) in changes  # Birthe's hours raised (and the outcomes story's 12 → 20)

    employer = db.scalars(select(m.User).where(m.User.email == "employer@demo.dk")).one()
    worker = db.scalars(select(m.User).where(m.User.email == "worker@demo.dk")).one()
    waiting = db.scalars(
        select(m.Placement).where(m.Placement.status == m.PlacementStatus.PROPOSED)
    ).all()
    for_employer = [p for p in waiting if p.employer_accepted_at is None]
    for_worker = [p for p in waiting if p.employer_accepted_at is not None]
    assert for_employer and for_employer[0].employer_id == employer.employer_id
    assert for_worker and for_worker[0].worker.user_id == worker.id
    login(client, employer, demo.PASSWORD)
    assert post(client, f"/orders/proposals/{for_employer[0].id}/accept").status_code == 302
    switch_to(client, worker, demo.PASSWORD)
    assert post(client, f"/placements/{for_worker[0].id}/accept").status_code == 302
    db.expire_all()
    assert db.get(m.Placement, for_worker[0].id).status == m.PlacementStatus.ACTIVE


def test_the_receipt_reads_the_same_whether_or_not_the_address_has_a_login(client, db, mailbox):
    """The public form must not tell anyone which addresses have an account."""
    area = factories.WorkAreaFactory()
    factories.user_for(m.Role.EMPLOYER, email="has-login@example.dk")
    db.commit()
    pages = {}
    for email, cvr in (("has-login@example.dk", KNOWN_CVR), ("new@example.dk", NEW_CVR)):
        key, response = submit_public(client, area, email=email, cvr=cvr, company_name="Firma")
        assert response.status_code == 302
        order = db.scalar(select(m.JobOrder).where(m.JobOrder.submission_key == key))
        text = client.get(response.headers["Location"]).text
        pages[email] = (
            re.sub(r'name="csrf_token"[^>]*>', "", text)
            .replace(email, "EMAIL")
            .replace(key, "KEY")
            .replace(f"nr. {order.id}", "nr. N")
        )
        assert len(mailbox.to(email)) == 1  # an invitation or a receipt, never nothing
    assert pages["has-login@example.dk"] == pages["new@example.dk"]


def test_a_public_body_is_asked_for_an_order_number_or_a_person_reference(client, db):
    """Asked when ordering, not found out at the invoice run: with an EAN, at least one of
    them is needed (the e-invoice bounces without, PEPPOL-EN16931-R003)."""
    area = factories.WorkAreaFactory()
    db.commit()
    _key, response = submit_public(
        client, area, ean="5798000554504", order_reference="", person_reference=""
    )
    assert response.status_code == 400  # the form again, with the reason at the field
    assert "skal have et ordrenummer eller en personreference" in response.text
    assert db.scalar(select(func.count()).select_from(m.JobOrder)) == 0
    _key, response = submit_public(
        client, area, ean="5798000554504", order_reference="", person_reference="Karen Park"
    )
    assert response.status_code == 302
    assert db.scalar(select(m.JobOrder.person_reference)) == "Karen Park"
