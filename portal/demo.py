"""Demo data that tells the real story; loading it twice adds nothing twice."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import dates, settings
from core.models import (
    BillingCadence,
    Employer,
    EmployerStatus,
    JobOrder,
    NoteKind,
    OrderStatus,
    Placement,
    PlacementEndReason,
    PlacementHoursChange,
    PlacementNote,
    PlacementStatus,
    PlannedSlot,
    Role,
    TimeEntry,
    User,
    WorkArea,
    Worker,
    WorkerStatus,
)
from portal.auth import hash_password
from portal.services.hours.rules import week_start

PASSWORD = "demo-password"  # noqa: S105 (the documented demo login)

# Every demo login (README "Demo logins" lists the same; a test keeps the two in step):
# e-mail, role, what to try.
LOGINS = [
    ("admin@demo.dk", "admin", "Settings (card payment status), price list, users"),
    ("finance@demo.dk", "finance", "Invoicing, payments, reminders, payroll"),
    ("consultant@demo.dk", "consultant", "Mette Madsen: orders, matching, placements, disputes"),
    ("consultant2@demo.dk", "consultant", "Kasper Kjær: the second consultant and his workers"),
    ("employer@demo.dk", "employer", "Frugtlageret Fyn ApS: approve hours, answer a proposal, pay"),
    ("cafe@demo.dk", "employer", "Café Bønnen I/S: fortnightly invoices, a cancelled order"),
    ("kommune@demo.dk", "employer", "Odense Kommune, Park og Natur: EAN and e-invoices"),
    ("worker@demo.dk", "worker", "Jørgen Hansen, warehouse: record hours, say yes to a job"),
    ("sara@demo.dk", "worker", "Sara Nielsen: cleaning, proposed for another order"),
    ("ahmed@demo.dk", "worker", "Ahmed Yusuf: dishwashing at the café"),
    ("birthe@demo.dk", "worker", "Birthe Larsen: the municipality's park, hours raised"),
    ("mikkel@demo.dk", "worker", "Mikkel Holm: cleaning and office, no job yet"),
    ("fatima@demo.dk", "worker", "Fatima Ali: kitchen and cleaning, the best match, no job yet"),
]

WORK_AREAS = [
    # name, English name, bill rate, pay rate (øre per hour)
    ("Lager", "Warehouse", 18900, 13500),
    ("Rengøring", "Cleaning", 18500, 13200),
    ("Køkken og café", "Kitchen and café", 18700, 13400),
    ("Have og grønne områder", "Gardening", 19200, 13800),
    ("Service og kontor", "Service and office", 18500, 13200),
]

EMPLOYERS = [
    # key, name, cvr, ean, address, postcode, city, contact, invoice e-mail, cadence
    (
        "fruit",
        "Frugtlageret Fyn ApS",
        "29000018",
        None,
        "Havnegade 12",
        "5000",
        "Odense C",
        "Lise Frugt",
        "faktura@frugtlageret.dk",
        BillingCadence.MONTHLY,
    ),
    (
        "cafe",
        "Café Bønnen I/S",
        "29000026",
        None,
        "Vestergade 3",
        "5000",
        "Odense C",
        "Ali Bønne",
        "regnskab@cafeboennen.dk",
        BillingCadence.FORTNIGHTLY,
    ),
    (
        "kommune",
        "Odense Kommune, Park og Natur",
        "29000034",
        "5798000554504",
        "Flakhaven 2",
        "5000",
        "Odense C",
        "Karen Park",
        "park@odense.dk",
        BillingCadence.MONTHLY,
    ),
]

STAFF = [
    ("admin@demo.dk", "Anne Admin", Role.ADMIN, "+45 60 00 00 01"),
    ("finance@demo.dk", "Frederik Finans", Role.FINANCE, "+45 60 00 00 02"),
    ("consultant@demo.dk", "Mette Madsen", Role.CONSULTANT, "+45 60 00 00 03"),
    ("consultant2@demo.dk", "Kasper Kjær", Role.CONSULTANT, "+45 60 00 00 04"),
]

WORKERS = [
    # payroll no., first, last, e-mail, postcode, areas, min, max, days bitmask, consultant
    ("1001", "Jørgen", "Hansen", "worker@demo.dk", "5000", ["Lager"], 8, 15, 0b0011111, 0),
    (
        "1002",
        "Sara",
        "Nielsen",
        "sara@demo.dk",
        "5200",
        ["Lager", "Rengøring"],
        5,
        12,
        0b0010101,
        0,
    ),
    ("1003", "Ahmed", "Yusuf", "ahmed@demo.dk", "5000", ["Køkken og café"], 6, 10, 0b1111100, 1),
    (
        "1004",
        "Birthe",
        "Larsen",
        "birthe@demo.dk",
        "5220",
        ["Have og grønne områder"],
        10,
        15,
        0b0001111,
        1,
    ),
    (
        "1005",
        "Mikkel",
        "Holm",
        "mikkel@demo.dk",
        "5230",
        ["Rengøring", "Service og kontor"],
        5,
        10,
        0b0011111,
        0,
    ),
    (
        "1006",
        "Fatima",
        "Ali",
        "fatima@demo.dk",
        "5000",
        ["Køkken og café", "Rengøring"],
        5,
        15,
        0b0111110,
        1,
    ),
]

PLACEMENTS = [
    # worker payroll no., employer key, work area, title, hours/week, weekdays worked, shift
    (
        "1001",
        "fruit",
        "Lager",
        "Lagerhjælp – tomme kasser og pap",
        12,
        (0, 2, 4),
        (time(8, 0), time(12, 30), 30),
    ),
    (
        "1002",
        "fruit",
        "Rengøring",
        "Rengøring af kantine og kontor",
        8,
        (1, 3),
        (time(14, 0), time(18, 30), 30),
    ),
    (
        "1003",
        "cafe",
        "Køkken og café",
        "Opvask og klargøring",
        10,
        (4, 5),
        (time(10, 0), time(15, 30), 30),
    ),
    (
        "1004",
        "kommune",
        "Have og grønne områder",
        "Pleje af bede i byparken",
        12,
        (0, 1, 2),
        (time(7, 30), time(11, 45), 15),
    ),
]


def load(session: Session, today: date | None = None) -> int:
    """Create whatever demo rows are missing; return how many were created."""
    today = today or dates.today()
    created = 0
    org = settings.get(session)
    if not org.legal_name:
        org.legal_name = "Småjob Fyn (foreningen)"
        org.cvr = "29000042"
        org.address_line = "Kongensgade 40"
        org.postcode, org.city = "5000", "Odense C"
        org.email, org.phone = "kontakt@smajobfyn.dk", "+45 66 00 00 00"
        org.bank_reg, org.bank_account = "1234", "0012345678"
        org.iban, org.bic = "DK5912340012345678", "DABADKKK"
        org.fi_creditor_number = "81234567"
        org.staff_two_factor = False  # the README's demo logins work with the password alone
        created += 1

    areas = {}
    for name, name_en, bill, pay in WORK_AREAS:
        area = session.scalar(select(WorkArea).where(WorkArea.name == name))
        if area is None:
            area = WorkArea(name=name, name_en=name_en, bill_rate_ore=bill, pay_rate_ore=pay)
            session.add(area)
            created += 1
        areas[name] = area

    password = hash_password(PASSWORD)
    users = {}
    for email, name, role, phone in STAFF:
        users[email], new = _user(session, email, name, role, password, phone=phone)
        created += new

    employers = {}
    for key, name, cvr, ean, address, postcode, city, contact, invoice_email, cadence in EMPLOYERS:
        employer = session.scalar(select(Employer).where(Employer.cvr == cvr))
        if employer is None:
            employer = Employer(
                name=name,
                cvr=cvr,
                ean=ean,
                address_line=address,
                postcode=postcode,
                city=city,
                contact_name=contact,
                invoice_email=invoice_email,
                billing_cadence=cadence,
                status=EmployerStatus.ACTIVE,
                phone=f"+45 70 00 00 0{len(employers)}",
            )
            session.add(employer)
            created += 1
        employers[key] = employer
    session.flush()
    for key, email, name in [
        ("fruit", "employer@demo.dk", "Lise Frugt"),
        ("cafe", "cafe@demo.dk", "Ali Bønne"),
        ("kommune", "kommune@demo.dk", "Karen Park"),
    ]:
        _, new = _user(session, email, name, Role.EMPLOYER, password, employer=employers[key])
        created += new

    consultants = [users["consultant@demo.dk"], users["consultant2@demo.dk"]]
    workers = {}
    for payroll, first, last, email, postcode, area_names, low, high, days, c in WORKERS:
        worker = session.scalar(select(Worker).where(Worker.payroll_number == payroll))
        if worker is None:
            user, _ = _user(session, email, f"{first} {last}", Role.WORKER, password)
            worker = Worker(
                payroll_number=payroll,
                first_name=first,
                last_name=last,
                email=email,
                postcode=postcode,
                hours_min=low,
                hours_max=high,
                available_days=days,
                consultant=consultants[c],
                user=user,
                phone=f"+45 50 00 1{payroll[-3:]}",
                work_areas=[areas[a] for a in area_names],
            )
            session.add(worker)
            created += 1
        workers[payroll] = worker
    session.flush()

    monday = today - timedelta(days=today.weekday())
    start = monday - timedelta(weeks=4)
    for payroll, key, area_name, title, hours, weekdays, shift in PLACEMENTS:
        worker, employer, area = workers[payroll], employers[key], areas[area_name]
        placement = session.scalar(
            select(Placement).where(
                Placement.worker_id == worker.id, Placement.employer_id == employer.id
            )
        )
        if placement is None:
            order = JobOrder(
                employer=employer,
                work_area=area,
                title=title,
                hours_per_week=hours,
                description=title,
                address=employer.address_line,
                postcode=employer.postcode,
                preferred_days=sum(1 << d for d in weekdays),
                start_date=start,
                status=OrderStatus.FILLED,
                consultant=worker.consultant,
                order_reference="PO-2026-117" if employer.ean else "",
                person_reference="Karen Park" if employer.ean else "",
            )
            placement = Placement(
                job_order=order,
                employer=employer,
                worker=worker,
                consultant=worker.consultant,
                pay_rate_ore=area.pay_rate_ore,
                bill_rate_ore=area.bill_rate_ore,
                hours_per_week=hours,
                start_date=start,
                status=PlacementStatus.ACTIVE,
                employer_accepted_at=_at(start - timedelta(days=5)),
                worker_accepted_at=_at(start - timedelta(days=4)),
            )
            session.add_all([order, placement])
            worker.status = WorkerStatus.PLACED
            session.flush()
            created += 1
            created += _hours(session, placement, start, today, weekdays, shift)
        created += _pattern(placement, weekdays, shift)
    created += _hiring(session, today, areas, employers, workers, users)
    return created


def _pattern(placement: Placement, weekdays: tuple[int, ...], shift) -> int:
    """The placement's weekly pattern: the days and the shift its hours were worked on, so
    the week pages and the calendar feed show planned shifts ahead."""
    if placement.planned_slots:
        return 0
    start_time, end_time, break_minutes = shift
    placement.planned_slots.extend(
        PlannedSlot(
            weekday=day,
            start_time=start_time,
            end_time=end_time,
            break_minutes=break_minutes,
            planned_from=week_start(placement.start_date),  # planned from the job's start
        )
        for day in weekdays
    )
    return len(weekdays)


def _order(session, employer, title, **values) -> tuple[JobOrder, int]:
    order = session.scalar(
        select(JobOrder).where(JobOrder.employer_id == employer.id, JobOrder.title == title)
    )
    if order is not None:
        return order, 0
    order = JobOrder(employer=employer, title=title, description=title, **values)
    session.add(order)
    session.flush()
    return order, 1


def _hiring(session, today, areas, employers, workers, users) -> int:
    """Orders in every state, proposals the demo employer and worker can answer, follow-up
    notes and a change of agreed hours (12 → 15) on a running placement."""
    created = 0
    mette = users["consultant@demo.dk"]
    fruit, cafe = employers["fruit"], employers["cafe"]
    lise = session.scalar(select(User).where(User.email == "employer@demo.dk"))
    soon = today + timedelta(days=14)

    # New, from a company we have never seen (as the public form leaves it).
    bikes = session.scalar(select(Employer).where(Employer.cvr == "29000050"))
    if bikes is None:
        bikes = Employer(
            name="Cykelværkstedet Nord ApS",
            cvr="29000050",
            address_line="Nørregade 8",
            postcode="5000",
            city="Odense C",
            contact_name="Per Eger",
            phone="+45 61 11 22 33",
            invoice_email="per@cykelnord.dk",
            status=EmployerStatus.PENDING,
        )
        session.add(bikes)
        created += 1
    _, new = _order(
        session,
        bikes,
        "Klargøring af brugte cykler",
        work_area=areas["Service og kontor"],
        address="Nørregade 8, 5000 Odense C",
        postcode="5000",
        hours_per_week=8,
        preferred_days=0b0000101,
        start_date=soon,
        head_count=2,
        contact_name="Per Eger",
        contact_email="per@cykelnord.dk",
        contact_phone="+45 61 11 22 33",
    )
    created += new

    # New, naming a CVR that is already a customer: waits for a consultant to confirm.
    twin = session.scalar(
        select(Employer).where(Employer.cvr == cafe.cvr, Employer.duplicate_of_id.is_not(None))
    )
    if twin is None:
        twin = Employer(
            name="Café Bønnen",
            cvr=cafe.cvr,
            address_line="Vestergade 3",
            postcode="5000",
            city="Odense",
            contact_name="Sofie Bønne",
            phone="+45 62 22 33 44",
            invoice_email="sofie@cafeboennen.dk",
            status=EmployerStatus.PENDING,
            duplicate_of=cafe,
        )
        session.add(twin)
        created += 1
    _, new = _order(
        session,
        twin,
        "Hjælp til weekendbrunch",
        work_area=areas["Køkken og café"],
        address="Vestergade 3, 5000 Odense C",
        postcode="5000",
        hours_per_week=6,
        preferred_days=0b1100000,
        start_date=soon,
        contact_name="Sofie Bønne",
        contact_email="sofie@cafeboennen.dk",
        contact_phone="+45 62 22 33 44",
    )
    created += new

    common = {
        "work_area": areas["Lager"],
        "address": f"{fruit.address_line}, {fruit.postcode} {fruit.city}",
        "postcode": fruit.postcode,
        "contact_name": "Lise Frugt",
        "contact_email": "employer@demo.dk",
        "created_by_id": lise.id if lise else None,
    }
    # Taken: Mette is matching.
    _, new = _order(
        session,
        fruit,
        "Oprydning i kølerummet",
        hours_per_week=6,
        preferred_days=0b0000011,
        start_date=soon,
        status=OrderStatus.TAKEN,
        consultant=mette,
        taken_at=_at(today - timedelta(days=1)),
        **common,
    )
    created += new

    # Proposed, waiting for the employer (employer@demo.dk answers).
    order, new = _order(
        session,
        fruit,
        "Sortering af returemballage",
        hours_per_week=4,
        preferred_days=0b0001010,
        start_date=soon,
        status=OrderStatus.PROPOSED,
        consultant=mette,
        taken_at=_at(today - timedelta(days=3)),
        **common,
    )
    created += new
    if new:
        session.add(_proposal(order, workers["1002"], mette))
        created += 1

    # Proposed, the employer said yes, waiting for the worker (worker@demo.dk answers).
    order, new = _order(
        session,
        fruit,
        "Pakning af frugtkurve til jul",
        hours_per_week=3,
        preferred_days=0b0010000,
        start_date=soon,
        status=OrderStatus.PROPOSED,
        consultant=mette,
        taken_at=_at(today - timedelta(days=4)),
        **common,
    )
    created += new
    if new:
        proposal = _proposal(order, workers["1001"], mette)
        proposal.employer_accepted_at = _at(today - timedelta(days=1))
        proposal.employer_accepted_by_id = lise.id if lise else None
        session.add(proposal)
        created += 1

    # Cancelled by the café.
    _, new = _order(
        session,
        cafe,
        "Ekstra opvask til julefrokosten",
        work_area=areas["Køkken og café"],
        address=f"{cafe.address_line}, {cafe.postcode} {cafe.city}",
        postcode=cafe.postcode,
        hours_per_week=5,
        start_date=soon,
        status=OrderStatus.CANCELLED,
        cancelled_at=_at(today - timedelta(days=2)),
        cancelled_reason="Julefrokosten blev aflyst.",
        contact_name="Ali Bønne",
        contact_email="cafe@demo.dk",
    )
    created += new

    # Follow-up on Jørgen's placement, and Birthe's hours raised from 12 to 15.
    jorgen = session.scalar(
        select(Placement).where(
            Placement.worker_id == workers["1001"].id,
            Placement.employer_id == fruit.id,
            Placement.status == PlacementStatus.ACTIVE,
        )
    )
    if jorgen is not None and not jorgen.notes:
        session.add_all(
            [
                PlacementNote(
                    placement=jorgen,
                    author=jorgen.consultant,
                    note_date=jorgen.start_date + timedelta(days=7),
                    kind=NoteKind.CALL,
                    text="Ringede til Lise: glad for Jørgen, vil gerne have ham tirsdag også.",
                ),
                PlacementNote(
                    placement=jorgen,
                    author=jorgen.consultant,
                    note_date=jorgen.start_date + timedelta(days=14),
                    kind=NoteKind.VISIT,
                    text="Besøg på lageret. Jørgen trives; aftalt sikkerhedssko.",
                ),
            ]
        )
        created += 2
    birthe = session.scalar(
        select(Placement).where(
            Placement.worker_id == workers["1004"].id, Placement.status == PlacementStatus.ACTIVE
        )
    )
    if birthe is not None and not birthe.hours_changes and birthe.hours_per_week == 12:
        session.add(
            PlacementHoursChange(
                placement=birthe,
                old_hours_per_week=12,
                new_hours_per_week=15,
                effective_from=birthe.start_date + timedelta(weeks=2),
                changed_by=birthe.consultant,
            )
        )
        birthe.hours_per_week = 15
        created += 1
    session.flush()
    created += _earlier_placements(session, today, areas, employers, users)
    return created


# Placements earlier this year that have ended, for the outcomes report: 7 of 10 into an
# ordinary job (as the programmes report), 2 with more hours, 1 stopped. Their workers have no
# login. Per row: payroll no., first and last name, employer key, work area, hours per week,
# weeks ago it started, weeks it lasted, end reason, consultant (0 Mette, 1 Kasper).
ORDINARY, MORE, STOPPED = (
    PlacementEndReason.ORDINARY_JOB,
    PlacementEndReason.MORE_HOURS,
    PlacementEndReason.STOPPED,
)
EARLIER = [
    ("1007", "Lene", "Poulsen", "fruit", "Lager", 10, 30, 16, ORDINARY, 0),
    ("1008", "Karim", "Haddad", "cafe", "Køkken og café", 8, 28, 16, ORDINARY, 1),
    ("1009", "Susanne", "Friis", "kommune", "Have og grønne områder", 12, 27, 17, MORE, 1),
    ("1010", "Peter", "Lund", "fruit", "Rengøring", 6, 26, 10, STOPPED, 0),
    ("1011", "Hanne", "Berg", "kommune", "Have og grønne områder", 10, 25, 14, ORDINARY, 1),
    ("1012", "Omar", "Said", "cafe", "Køkken og café", 10, 24, 15, ORDINARY, 1),
    ("1013", "Jonas", "Krogh", "fruit", "Lager", 12, 22, 14, ORDINARY, 0),
    ("1014", "Louise", "Dam", "fruit", "Lager", 8, 22, 12, ORDINARY, 0),
    ("1015", "Nadia", "Rahimi", "cafe", "Rengøring", 6, 20, 13, ORDINARY, 1),
    ("1016", "Bent", "Møller", "fruit", "Lager", 10, 18, 12, MORE, 0),
]
# Each one's order title and the consultant's note when it ended.
EARLIER_TEXTS = {
    "1007": ("Lagerhjælp i foråret", "Fastansat som lagermedarbejder hos Frugtlageret."),
    "1008": ("Opvask i weekenden", "Fik job i et storkøkken i Odense."),
    "1009": ("Forårsplantning", "Kommunen ansatte hende 20 timer om ugen i samme job (før 12)."),
    "1010": ("Rengøring af frugthallen", "Stoppede af helbredsgrunde; vi tager kontakt igen."),
    "1011": ("Pleje af kirkegården", "Ordinært job som gartnermedhjælper."),
    "1012": ("Klargøring til frokost", "Ansat som kokkeelev."),
    "1013": ("Modtagelse af varer", "Ordinært job som chauffør."),
    "1014": ("Pakning af gavekurve", "Ansat på deltid i en dagligvarebutik."),
    "1015": ("Rengøring af caféen", "Ordinært job som rengøringsassistent."),
    "1016": ("Sortering af emballage", "Frugtlageret gav ham 18 timer om ugen."),
}


def _earlier_placements(session, today, areas, employers, users) -> int:
    """Ten ended placements from earlier this year (EARLIER), each with its order, a shift a
    week (approved) and the consultant's follow-ups, so the outcomes report has figures above
    the five-person rule: people placed, ended into an ordinary job, approved hours."""
    created = 0
    consultants = [users["consultant@demo.dk"], users["consultant2@demo.dk"]]
    monday = today - timedelta(days=today.weekday())
    for row in EARLIER:
        payroll, first, last, key, area_name, hours, ago, weeks, reason, c = row
        title, note = EARLIER_TEXTS[payroll]
        worker = session.scalar(select(Worker).where(Worker.payroll_number == payroll))
        if worker is not None:
            continue
        employer, area, consultant = employers[key], areas[area_name], consultants[c]
        start = monday - timedelta(weeks=ago) + timedelta(days=1)  # a Tuesday
        end = start + timedelta(weeks=weeks, days=-1)
        worker = Worker(
            payroll_number=payroll,
            first_name=first,
            last_name=last,
            postcode="5000",
            hours_min=5,
            hours_max=15,
            consultant=consultant,
            work_areas=[area],
            # Stopped for a while; gone on to work of their own otherwise.
            status=WorkerStatus.PAUSED
            if reason == PlacementEndReason.STOPPED
            else WorkerStatus.LEFT,
        )
        order = JobOrder(
            employer=employer,
            work_area=area,
            title=title,
            description=title,
            address=f"{employer.address_line}, {employer.postcode} {employer.city}",
            postcode=employer.postcode,
            hours_per_week=hours,
            preferred_days=0b0000010,
            start_date=start,
            status=OrderStatus.CLOSED,
            consultant=consultant,
            taken_at=_at(start - timedelta(days=13)),
            created_at=_at(start - timedelta(days=14)),
            order_reference="PO-2026-117" if employer.ean else "",  # the standing order no.
            person_reference="Karen Park" if employer.ean else "",
        )
        placement = Placement(
            job_order=order,
            employer=employer,
            worker=worker,
            consultant=consultant,
            pay_rate_ore=area.pay_rate_ore,
            bill_rate_ore=area.bill_rate_ore,
            hours_per_week=hours,
            start_date=start,
            end_date=end,
            status=PlacementStatus.ENDED,
            employer_accepted_at=_at(start - timedelta(days=7)),
            worker_accepted_at=_at(start - timedelta(days=6)),
            end_reason=reason.value,
            end_note=note,
        )
        session.add_all([worker, order, placement])
        session.flush()
        if payroll == "1009":  # "from 12 to 20 hours a week in the same job"
            placement.hours_per_week = 20
            session.add(
                PlacementHoursChange(
                    placement=placement,
                    old_hours_per_week=hours,
                    new_hours_per_week=20,
                    effective_from=start + timedelta(weeks=weeks // 2),
                    changed_by_id=consultant.id,
                )
            )
        employer_user = employer.users[0] if employer.users else None
        for week in range(weeks):
            day = start + timedelta(weeks=week)
            session.add(
                TimeEntry(
                    placement=placement,
                    worker_id=worker.id,
                    work_date=day,
                    start_time=time(9, 0),
                    end_time=time(13, 0),
                    minutes=240,
                    entered_by_id=consultant.id,
                    worker_confirmed_at=_at(day, 14),
                    employer_approved_at=_at(day + timedelta(days=1)),
                    employer_approved_by_id=employer_user.id if employer_user else None,
                )
            )
        notes = [(start + timedelta(days=7), NoteKind.CALL, f"Ringede til {first}: godt i gang.")]
        if reason == PlacementEndReason.ORDINARY_JOB:
            notes.append(
                (end - timedelta(days=14), NoteKind.VISIT, "Besøg: talte om ansøgninger og CV.")
            )
        session.add_all(
            PlacementNote(placement=placement, author=consultant, note_date=d, kind=k, text=t)
            for d, k, t in notes
        )
        created += 3 + weeks + len(notes)
    session.flush()
    return created


def _proposal(order: JobOrder, worker: Worker, consultant: User) -> Placement:
    return Placement(
        job_order=order,
        employer=order.employer,
        worker=worker,
        consultant=consultant,
        pay_rate_ore=order.work_area.pay_rate_ore,
        bill_rate_ore=order.work_area.bill_rate_ore,
        hours_per_week=order.hours_per_week,
        start_date=order.start_date,
        status=PlacementStatus.PROPOSED,
    )


def _user(session, email, name, role, password_hash, phone="", employer=None):
    user = session.scalar(select(User).where(User.email == email))
    if user is not None:
        return user, 0
    user = User(
        email=email,
        full_name=name,
        role=role,
        password_hash=password_hash,
        phone=phone,
        employer=employer,
    )
    session.add(user)
    session.flush()
    return user, 1


def _at(day: date, hour: int = 9) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=UTC)


def _hours(session, placement, start, today, weekdays, shift) -> int:
    """Four weeks of shifts: old weeks approved (one auto-approved), last week waiting for
    the employer with one disputed shift, this week entered by the employer."""
    worker_user = placement.worker.user
    employer_user = placement.employer.users[0] if placement.employer.users else None
    start_time, end_time, break_minutes = shift
    minutes = (
        (end_time.hour * 60 + end_time.minute)
        - (start_time.hour * 60 + start_time.minute)
        - break_minutes
    )
    count = 0
    for week in range(5):
        for weekday in weekdays:
            day = start + timedelta(weeks=week, days=weekday)
            if day > today:
                continue
            entry = TimeEntry(
                placement=placement,
                worker_id=placement.worker_id,
                work_date=day,
                start_time=start_time,
                end_time=end_time,
                break_minutes=break_minutes,
                minutes=minutes,
                entered_by_id=worker_user.id,
                worker_confirmed_at=_at(day, 16),
                worker_confirmed_by_id=worker_user.id,
            )
            if week <= 2:
                entry.employer_approved_at = _at(day + timedelta(days=2))
                if week == 2 and weekday == weekdays[-1]:
                    entry.auto_approved = True  # the employer never answered
                elif employer_user is not None:
                    entry.employer_approved_by_id = employer_user.id
            elif week == 3 and weekday == weekdays[0] and employer_user is not None:
                entry.disputed_at = _at(day + timedelta(days=1))
                entry.disputed_by_id = employer_user.id
                entry.dispute_reason = "Vi lukkede kl. 11 den dag."
            elif week == 4 and employer_user is not None:
                entry.entered_by_id = employer_user.id
                entry.worker_confirmed_at = entry.worker_confirmed_by_id = None
                entry.employer_approved_at = _at(day, 17)
                entry.employer_approved_by_id = employer_user.id
            session.add(entry)
            count += 1
    return count


CARD_PAYER = "Frugtlageret Fyn ApS"  # employer@demo.dk: its invoice is left open to pay by card


def invoice_history(factory, today: date | None = None) -> int:
    """Issue the demo's oldest two weeks once, so there are invoices to look at; the newer
    approved hours stay for a demo invoice run. Returns how many invoices were issued."""
    from sqlalchemy import func

    from core.models import Invoice
    from invoices import runs

    today = today or dates.today()
    period_end = today - timedelta(days=today.weekday()) - timedelta(weeks=2, days=1)
    with factory() as session:
        if session.scalar(select(func.count()).select_from(Invoice)):
            return 0
        if not runs.billable_employer_ids(session, period_end):
            return 0
        run_id = runs.start_run(session, None, period_end).id
        session.commit()
    issued = runs.process_run(factory, run_id)
    _payments_received(factory, issued)
    return len(issued)


def _payments_received(factory, invoice_ids: list[int]) -> None:
    """One demo invoice paid in full by bank transfer and another in part, by hand, so the
    payments pages, the journal and the reconciliation have money to show; never the fruit
    warehouse's, which employer@demo.dk pays by card in the demo (the README says so)."""
    from core.models import Invoice, PaymentMethod
    from invoices import payments

    with factory() as session:
        found = [session.get(Invoice, i) for i in sorted(invoice_ids)]
        invoices = [i for i in found if i.employer.name != CARD_PAYER][:2]
        received = dates.now()
        if invoices:
            first = invoices[0]
            payments.record_payment(
                session,
                first,
                first.total_ore,
                PaymentMethod.BANK,
                "demo:bank:1",
                received,
                note="Demo: bankoverførsel",
            )
        if len(invoices) > 1:
            second = invoices[1]
            payments.record_payment(
                session,
                second,
                second.total_ore // 2,
                PaymentMethod.MANUAL,
                "demo:manual:1",
                received,
                note="Demo: delbetaling",
            )
        session.commit()
