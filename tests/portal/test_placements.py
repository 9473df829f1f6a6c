"""Proposals, both sides' consent, the placement page, follow-up, hours history, ending."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from core import dates
from core import models as m
from portal.services.placements import rate_range
from tests import factories
from tests.helpers import body, link_in, login
from tests.hiring import audit_actions, hiring_cast, post, switch_to


def propose_data(**changes) -> dict:
    data = {
        "pay_rate_ore": "135,00",
        "bill_rate_ore": "189,00",
        "hours_per_week": "10",
        "start_date": (dates.today() + timedelta(days=7)).isoformat(),
    }
    data.update(changes)
    return data


def propose(client, cast, **changes):
    order, worker = cast["order"], cast["worker"]
    return post(
        client, f"/consultant/orders/{order.id}/propose/{worker.id}", propose_data(**changes)
    )


def only_placement(db) -> m.Placement:
    db.expire_all()
    return db.scalars(select(m.Placement)).one()


def test_full_flow_proposal_employer_accepts_worker_accepts_active(client, db, mailbox):
    cast = hiring_cast(db)
    db.commit()
    consultant, employer_user = cast["consultant"], cast["employer_user"]
    worker_user, worker, order = cast["worker_user"], cast["worker"], cast["order"]

    # The consultant sees the worker ranked, with reasons, and proposes with price-list rates.
    login(client, consultant)
    match = client.get(f"/consultant/orders/{order.id}/match")
    assert "Jonas Jensen" in match.text and "100" in match.text
    form = client.get(f"/consultant/orders/{order.id}/propose/{worker.id}")
    assert 'value="135,00"' in form.text and 'value="189,00"' in form.text
    response = propose(client, cast)
    assert response.status_code == 302
    placement = only_placement(db)
    assert placement.status == m.PlacementStatus.PROPOSED
    assert (placement.pay_rate_ore, placement.bill_rate_ore) == (13500, 18900)
    assert placement.consultant_id == consultant.id
    assert db.get(m.JobOrder, order.id).status == m.OrderStatus.PROPOSED
    [to_employer] = mailbox.to(employer_user.email)
    assert link_in(to_employer) == f"/orders/proposals/{placement.id}"
    assert "Jonas J." in body(to_employer) and "Jensen" not in body(to_employer)
    assert mailbox.to(worker_user.email) == []  # the worker hears once the employer said yes

    # The employer sees only what it needs: first name and initial, areas, hours, start.
    switch_to(client, employer_user)
    page = client.get(f"/orders/proposals/{placement.id}")
    assert page.status_code == 200
    assert "Jonas J." in page.text and cast["area"].name in page.text
    for private in ("Jensen", worker.email, "+45 99 88 77 66", "5792"):
        assert private not in page.text, private
    assert "Jonas" in client.get(f"/orders/{order.id}").text
    # Not yet visible to the worker.
    mailbox.clear()
    assert post(client, f"/orders/proposals/{placement.id}/accept").status_code == 302
    placement = only_placement(db)
    assert placement.employer_accepted_by_id == employer_user.id
    assert placement.status == m.PlacementStatus.PROPOSED
    [to_worker] = mailbox.to(worker_user.email)
    assert link_in(to_worker) == f"/placements/{placement.id}"
    assert mailbox.to(consultant.email) == []

    # The worker says yes in their own portal: only now is the placement active.
    switch_to(client, worker_user)
    offer = client.get("/placements")
    assert f"/placements/{placement.id}" in offer.text
    page = client.get(f"/placements/{placement.id}")
    assert f'action="/placements/{placement.id}/accept"' in page.text
    assert "135,00" in page.text and "189,00" not in page.text  # own pay, not the bill rate
    mailbox.clear()
    assert post(client, f"/placements/{placement.id}/accept").status_code == 302
    placement = only_placement(db)
    assert placement.status == m.PlacementStatus.ACTIVE
    assert placement.worker_accepted_at is not None
    assert db.get(m.JobOrder, order.id).status == m.OrderStatus.FILLED
    assert db.get(m.Worker, worker.id).status == m.WorkerStatus.PLACED
    for address in (consultant.email, employer_user.email):
        [started] = mailbox.to(address)
        assert link_in(started) == f"/placements/{placement.id}"
    assert audit_actions(db, placement) == [
        "placement.proposed",
        "placement.employer_accepted",
        "placement.worker_accepted",
        "placement.activated",
    ]

    # Answering twice changes nothing.
    assert post(client, f"/placements/{placement.id}/accept").status_code == 400
    switch_to(client, employer_user)
    assert post(client, f"/orders/proposals/{placement.id}/accept").status_code == 302
    assert only_placement(db).status == m.PlacementStatus.ACTIVE


def test_the_worker_cannot_answer_before_the_employer(client, db):
    cast = hiring_cast(db)
    db.commit()
    login(client, cast["consultant"])
    propose(client, cast)
    placement = only_placement(db)
    switch_to(client, cast["worker_user"])
    assert client.get(f"/placements/{placement.id}").status_code == 404
    assert post(client, f"/placements/{placement.id}/accept").status_code == 404
    assert only_placement(db).status == m.PlacementStatus.PROPOSED


def test_head_count_two_fills_only_when_both_are_placed(client, db):
    cast = hiring_cast(db, head_count=2)
    ida_user = factories.user_for(m.Role.WORKER)
    ida = db.scalars(select(m.Worker).where(m.Worker.user_id == ida_user.id)).one()
    ida.work_areas = [cast["area"]]
    third = factories.WorkerFactory(work_areas=[cast["area"]])
    db.commit()
    order_id = cast["order"].id
    login(client, cast["consultant"])
    assert propose(client, cast).status_code == 302
    assert (
        post(client, f"/consultant/orders/{order_id}/propose/{ida.id}", propose_data()).status_code
        == 302
    )
    refused = post(client, f"/consultant/orders/{order_id}/propose/{third.id}", propose_data())
    assert refused.status_code == 400  # two asked for, two proposed already
    proposals = db.scalars(select(m.Placement).order_by(m.Placement.id)).all()
    assert len(proposals) == 2
    switch_to(client, cast["employer_user"])
    for proposal in proposals:
        post(client, f"/orders/proposals/{proposal.id}/accept")
    switch_to(client, cast["worker_user"])
    post(client, f"/placements/{proposals[0].id}/accept")
    db.expire_all()
    assert db.get(m.JobOrder, order_id).status == m.OrderStatus.PROPOSED
    switch_to(client, ida_user)
    post(client, f"/placements/{proposals[1].id}/accept")
    db.expire_all()
    assert db.get(m.JobOrder, order_id).status == m.OrderStatus.FILLED


def test_employer_declines_with_a_reason_and_the_consultant_is_told(client, db, mailbox):
    cast = hiring_cast(db)
    db.commit()
    login(client, cast["consultant"])
    propose(client, cast)
    placement = only_placement(db)
    switch_to(client, cast["employer_user"])
    empty = post(client, f"/orders/proposals/{placement.id}/decline", {"reason": " "})
    assert empty.status_code == 400 and 'id="reason-error"' in empty.text
    assert only_placement(db).status == m.PlacementStatus.PROPOSED
    mailbox.clear()
    response = post(
        client,
        f"/orders/proposals/{placement.id}/decline",
        {"reason": "Vi mangler en med kørekort"},
    )
    assert response.status_code == 302
    placement = only_placement(db)
    assert placement.status == m.PlacementStatus.DECLINED
    assert placement.declined_reason == "Vi mangler en med kørekort"
    assert placement.declined_by_id == cast["employer_user"].id
    assert db.get(m.JobOrder, cast["order"].id).status == m.OrderStatus.TAKEN
    [notice] = mailbox.to(cast["consultant"].email)
    assert "Vi mangler en med kørekort" in body(notice)
    assert link_in(notice) == f"/consultant/orders/{cast['order'].id}/match"
    assert "placement.employer_declined" in audit_actions(db, placement)
    # The worker is free to be proposed again.
    switch_to(client, cast["consultant"])
    assert "Jonas Jensen" in client.get(f"/consultant/orders/{cast['order'].id}/match").text


def test_worker_declines_after_the_employer_accepted(client, db, mailbox):
    cast = hiring_cast(db)
    db.commit()
    login(client, cast["consultant"])
    propose(client, cast)
    placement = only_placement(db)
    switch_to(client, cast["employer_user"])
    post(client, f"/orders/proposals/{placement.id}/accept")
    switch_to(client, cast["worker_user"])
    mailbox.clear()
    post(client, f"/placements/{placement.id}/decline", {"reason": "For langt at cykle"})
    placement = only_placement(db)
    assert placement.status == m.PlacementStatus.DECLINED
    [notice] = mailbox.to(cast["consultant"].email)
    assert "For langt at cykle" in body(notice)
    assert "placement.worker_declined" in audit_actions(db, placement)
    # The worker's reason is for the consultant, not for the employer.
    switch_to(client, cast["employer_user"])
    page = client.get(f"/orders/proposals/{placement.id}")
    assert page.status_code == 200 and "For langt at cykle" not in page.text


def test_rates_default_from_the_price_list_and_stay_within_the_admin_limit(client, db):
    cast = hiring_cast(db)
    org = db.get(m.OrganisationSettings, 1) or m.OrganisationSettings(id=1)
    org.rate_adjust_limit_bp = 2000  # ± 20 %
    db.add(org)
    db.commit()
    assert rate_range(13500, 2000) == rate_range(13500, 2000)
    assert (rate_range(13500, 2000).low_ore, rate_range(13500, 2000).high_ore) == (10800, 16200)
    login(client, cast["consultant"])
    too_high = propose(client, cast, pay_rate_ore="162,01")
    assert too_high.status_code == 400
    assert "108,00" in too_high.text and "162,00" in too_high.text
    too_low = propose(client, cast, bill_rate_ore="151,19")  # 189 × 0.8 = 151,20
    assert too_low.status_code == 400 and "151,20" in too_low.text and "226,80" in too_low.text
    below_pay = propose(client, cast, pay_rate_ore="160,00", bill_rate_ore="155,00")
    assert below_pay.status_code == 400
    assert db.scalars(select(m.Placement)).all() == []
    at_the_limit = propose(client, cast, pay_rate_ore="162,00", bill_rate_ore="226,80")
    assert at_the_limit.status_code == 302
    placement = only_placement(db)
    assert (placement.pay_rate_ore, placement.bill_rate_ore) == (16200, 22680)


def test_an_order_must_be_taken_and_owned_before_proposing(client, db):
    cast = hiring_cast(db, order_status=m.OrderStatus.NEW)
    db.commit()
    login(client, cast["consultant"])
    assert propose(client, cast).status_code == 400
    cast["order"].status = m.OrderStatus.TAKEN
    cast["order"].consultant = factories.UserFactory(role=m.Role.CONSULTANT)
    db.commit()
    assert propose(client, cast).status_code == 400  # a colleague's order
    assert db.scalars(select(m.Placement)).all() == []


# --- The placement page -------------------------------------------------------------------


def placed(db):
    cast = hiring_cast(db, order_status=m.OrderStatus.FILLED)
    placement = factories.PlacementFactory(
        job_order=cast["order"],
        worker=cast["worker"],
        consultant=cast["consultant"],
        hours_per_week=12,
        start_date=date(2026, 1, 5),
        pay_rate_ore=13500,
        bill_rate_ore=18900,
    )
    cast["worker"].status = m.WorkerStatus.PLACED
    return cast, placement


def test_placement_page_for_each_side(client, db):
    cast, placement = placed(db)
    finance = factories.UserFactory(role=m.Role.FINANCE)
    db.commit()
    login(client, cast["employer_user"])
    page = client.get(f"/placements/{placement.id}").text
    assert "Jonas J." in page and "189,00" in page and "135,00" not in page
    assert cast["consultant"].full_name in page and cast["consultant"].email in page
    assert "Jensen" not in page
    switch_to(client, cast["worker_user"])
    page = client.get(f"/placements/{placement.id}").text
    assert cast["employer"].name in page and "135,00" in page and "189,00" not in page
    for staff in (cast["consultant"], finance):
        switch_to(client, staff)
        page = client.get(f"/placements/{placement.id}").text
        assert "Jonas Jensen" in page and "135,00" in page and "189,00" in page


def test_notes_are_shown_to_staff_only(client, db):
    cast, placement = placed(db)
    finance = factories.UserFactory(role=m.Role.FINANCE)
    db.commit()
    secret = "Jonas havde en svær uge – ring igen fredag"
    login(client, cast["consultant"])
    response = post(
        client,
        f"/placements/{placement.id}/notes",
        {"note_date": dates.today().isoformat(), "kind": "call", "text": secret},
    )
    assert response.status_code == 302
    [note] = db.scalars(select(m.PlacementNote)).all()
    assert (note.kind, note.author_id) == (m.NoteKind.CALL, cast["consultant"].id)
    assert secret in client.get(f"/placements/{placement.id}").text
    empty = post(
        client,
        f"/placements/{placement.id}/notes",
        {"note_date": dates.today().isoformat(), "kind": "visit", "text": ""},
    )
    assert empty.status_code == 400
    switch_to(client, finance)
    assert secret in client.get(f"/placements/{placement.id}").text
    for outsider in (cast["employer_user"], cast["worker_user"]):
        switch_to(client, outsider)
        for path in (f"/placements/{placement.id}", "/placements", "/"):
            page = client.get(path)
            assert page.status_code == 200
            assert secret not in page.text and "svær uge" not in page.text, (outsider.role, path)
        assert (
            post(
                client,
                f"/placements/{placement.id}/notes",
                {"note_date": dates.today().isoformat(), "kind": "note", "text": "x"},
            ).status_code
            == 403
        )
    assert len(db.scalars(select(m.PlacementNote)).all()) == 1


def test_changing_hours_keeps_the_history(client, db):
    cast, placement = placed(db)
    db.commit()
    login(client, cast["consultant"])
    response = post(
        client,
        f"/placements/{placement.id}/hours",
        {"hours_per_week": "20", "effective_from": "2026-12-01"},
    )
    assert response.status_code == 302
    db.refresh(placement)
    assert placement.hours_per_week == 20
    [change] = placement.hours_changes
    assert (change.old_hours_per_week, change.new_hours_per_week) == (12, 20)
    assert (
        change.effective_from == date(2026, 12, 1) and change.changed_by_id == cast["consultant"].id
    )
    assert "placement.hours_changed" in audit_actions(db, placement)
    for user in (cast["consultant"], cast["employer_user"], cast["worker_user"]):
        switch_to(client, user)
        assert "12 → 20" in client.get(f"/placements/{placement.id}").text
        assert "01-12-2026" in client.get(f"/placements/{placement.id}").text
    switch_to(client, cast["consultant"])
    same = post(
        client,
        f"/placements/{placement.id}/hours",
        {"hours_per_week": "20", "effective_from": "2026-12-01"},
    )
    too_many = post(
        client,
        f"/placements/{placement.id}/hours",
        {"hours_per_week": "38", "effective_from": "2026-12-01"},
    )
    before_start = post(
        client,
        f"/placements/{placement.id}/hours",
        {"hours_per_week": "8", "effective_from": "2025-12-01"},
    )
    assert same.status_code == too_many.status_code == before_start.status_code == 400
    db.refresh(placement)
    assert len(placement.hours_changes) == 1 and placement.hours_per_week == 20


def test_ending_a_placement_with_a_reason(client, db):
    cast, placement = placed(db)
    db.commit()
    login(client, cast["consultant"])
    other = post(
        client,
        f"/placements/{placement.id}/end",
        {"reason": "other", "end_date": dates.today().isoformat(), "note": ""},
    )
    assert other.status_code == 400  # "other" needs words
    early = post(
        client,
        f"/placements/{placement.id}/end",
        {"reason": "stopped", "end_date": "2025-01-01", "note": ""},
    )
    assert early.status_code == 400
    response = post(
        client,
        f"/placements/{placement.id}/end",
        {"reason": "ordinary_job", "end_date": dates.today().isoformat(), "note": "Fastansat"},
    )
    assert response.status_code == 302
    db.refresh(placement)
    assert placement.status == m.PlacementStatus.ENDED
    assert (placement.end_reason, placement.end_note) == ("ordinary_job", "Fastansat")
    assert placement.end_date == dates.today()
    assert db.get(m.Worker, cast["worker"].id).status == m.WorkerStatus.AVAILABLE
    assert "placement.ended" in audit_actions(db, placement)
    again = post(
        client,
        f"/placements/{placement.id}/end",
        {"reason": "stopped", "end_date": dates.today().isoformat()},
    )
    assert again.status_code == 400
    switch_to(client, cast["employer_user"])
    assert "Fastansat" in client.get(f"/placements/{placement.id}").text


# --- Tenancy ------------------------------------------------------------------------------


def test_foreign_placements_answer_404(client, db):
    cast, placement = placed(db)
    other_employer_user = factories.user_for(m.Role.EMPLOYER)
    other_worker_user = factories.user_for(m.Role.WORKER)
    db.commit()
    for outsider in (other_employer_user, other_worker_user):
        login(client, outsider) if outsider is other_employer_user else switch_to(client, outsider)
        assert client.get(f"/placements/{placement.id}").status_code == 404
        assert f"/placements/{placement.id}" not in client.get("/placements").text
        assert client.get("/placements/999999").status_code == 404
    # The worker's own consent routes answer 404 for someone else's placement.
    assert post(client, f"/placements/{placement.id}/accept").status_code == 404
    assert post(client, f"/placements/{placement.id}/decline", {"reason": "x"}).status_code == 404
    # Staff-only actions are refused by role for employers and workers, whoever owns it.
    for user in (cast["employer_user"], cast["worker_user"]):
        switch_to(client, user)
        for action in ("notes", "hours", "end"):
            assert post(client, f"/placements/{placement.id}/{action}").status_code == 403
    switch_to(client, cast["consultant"])
    for action in ("notes", "hours", "end"):
        assert post(client, f"/placements/999999/{action}").status_code == 404
    db.refresh(placement)
    assert placement.status == m.PlacementStatus.ACTIVE


def test_employers_never_see_proposals_or_declines_of_others(client, db):
    cast = hiring_cast(db)
    proposal = factories.PlacementFactory(
        job_order=cast["order"], worker=cast["worker"], status=m.PlacementStatus.PROPOSED
    )
    db.commit()
    # The employer's own proposal is not a placement page yet (the proposal page is).
    login(client, cast["employer_user"])
    assert client.get(f"/placements/{proposal.id}").status_code == 404
    assert client.get(f"/orders/proposals/{proposal.id}").status_code == 200
