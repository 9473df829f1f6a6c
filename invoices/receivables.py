"""What is owed: open and overdue totals, aging per employer, invoiced vs paid per month."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.models import Employer, Invoice, InvoiceKind, InvoiceStatus, Payment

# (key, first overdue day, last overdue day); "not due" is every day up to the due date.
BUCKETS = (
    ("not_due", None, 0),
    ("d1_30", 1, 30),
    ("d31_60", 31, 60),
    ("d61_90", 61, 90),
    ("d90_plus", 91, None),
)


def bucket_for(days_overdue: int) -> str:
    """The aging bucket of an invoice that is `days_overdue` days past its due date."""
    for key, low, high in BUCKETS:
        if (low is None or days_overdue >= low) and (high is None or days_overdue <= high):
            return key
    return "not_due"


@dataclass
class EmployerAging:
    employer_id: int
    name: str
    buckets: dict[str, int] = field(default_factory=lambda: {k: 0 for k, _, _ in BUCKETS})
    invoices: int = 0

    @property
    def total_ore(self) -> int:
        return sum(self.buckets.values())

    @property
    def overdue_ore(self) -> int:
        return self.total_ore - self.buckets["not_due"]


@dataclass
class Receivables:
    today: date
    employers: list[EmployerAging]
    totals: dict[str, int]

    @property
    def open_ore(self) -> int:
        return sum(self.totals.values())

    @property
    def overdue_ore(self) -> int:
        return self.open_ore - self.totals["not_due"]

    @property
    def open_count(self) -> int:
        return sum(e.invoices for e in self.employers)


def aging(session: Session, today: date) -> Receivables:
    """Open amounts of issued invoices by employer and bucket, largest overdue first."""
    # Columns, not Invoice objects: thousands of open invoices must stay cheap to age.
    rows = session.execute(
        select(
            Invoice.employer_id,
            Employer.name,
            Invoice.due_date,
            Invoice.total_ore - Invoice.paid_ore - Invoice.credited_ore,
        )
        .join(Employer, Invoice.employer_id == Employer.id)
        .where(
            Invoice.kind == InvoiceKind.INVOICE,
            Invoice.number.is_not(None),
            Invoice.status.in_([InvoiceStatus.ISSUED, InvoiceStatus.PARTLY_PAID]),
        )
    ).all()
    by_employer: dict[int, EmployerAging] = {}
    totals = {key: 0 for key, _, _ in BUCKETS}
    for employer_id, name, due_date, amount in rows:
        if amount <= 0:
            continue
        overdue = (today - due_date).days if due_date else 0
        key = bucket_for(overdue)
        entry = by_employer.get(employer_id)
        if entry is None:
            entry = by_employer[employer_id] = EmployerAging(employer_id, name)
        entry.buckets[key] += amount
        entry.invoices += 1
        totals[key] += amount
    employers = sorted(by_employer.values(), key=lambda e: (-e.overdue_ore, -e.total_ore, e.name))
    return Receivables(today, employers, totals)


@dataclass(frozen=True)
class Month:
    year: int
    month: int
    invoiced_ore: int
    paid_ore: int

    @property
    def label(self) -> str:
        return f"{self.month:02d}-{self.year}"


def month_starts(today: date, count: int) -> list[date]:
    """The first day of each of the last `count` months, oldest first, this month last."""
    year, month = today.year, today.month
    starts = []
    for _ in range(count):
        starts.append(date(year, month, 1))
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    return starts[::-1]


def monthly(session: Session, today: date, count: int = 12) -> list[Month]:
    """Invoiced (invoices less credit notes, incl. VAT, by issue date) and paid (payments
    less refunds, by receipt date) per month."""
    starts = month_starts(today, count)
    first = starts[0]
    invoiced: dict[tuple[int, int], int] = defaultdict(int)
    for issue_date, kind, total in session.execute(
        select(Invoice.issue_date, Invoice.kind, func.sum(Invoice.total_ore))
        .where(Invoice.number.is_not(None), Invoice.issue_date >= first)
        .group_by(Invoice.issue_date, Invoice.kind)  # a row per day, not per invoice
    ):
        sign = -1 if kind == InvoiceKind.CREDIT_NOTE else 1
        invoiced[(issue_date.year, issue_date.month)] += sign * int(total)  # PG sums: numeric
    paid: dict[tuple[int, int], int] = defaultdict(int)
    since = datetime.combine(first, time(0), tzinfo=UTC)
    for received_at, amount in session.execute(
        select(Payment.received_at, Payment.amount_ore).where(Payment.received_at >= since)
    ):
        paid[(received_at.year, received_at.month)] += amount
    return [
        Month(s.year, s.month, invoiced[(s.year, s.month)], paid[(s.year, s.month)]) for s in starts
    ]


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    value_ore: int
    kind: str  # "invoiced" or "paid"


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    bars: list[Bar]
    labels: list[tuple[float, str]]
    gridlines: list[tuple[float, int]]  # (y, value in øre)
    baseline: float


def chart(months: list[Month], width: int = 720, height: int = 260) -> Chart:
    """Geometry of a grouped bar chart (invoiced next to paid per month) for an inline SVG."""
    left, right, top, bottom = 70, 10, 10, 30
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = max([1] + [max(m.invoiced_ore, m.paid_ore, 0) for m in months])
    step = _nice_step(peak)
    ceiling = step * -(-peak // step)
    slot = plot_w / max(len(months), 1)
    bar_w = slot * 0.38
    bars, labels = [], []
    for i, m in enumerate(months):
        x0 = left + i * slot + slot * 0.1
        for j, (kind, value) in enumerate((("invoiced", m.invoiced_ore), ("paid", m.paid_ore))):
            h = plot_h * max(value, 0) / ceiling
            bars.append(
                Bar(
                    round(x0 + j * bar_w, 1),
                    round(top + plot_h - h, 1),
                    round(bar_w, 1),
                    round(h, 1),
                    value,
                    kind,
                )
            )
        labels.append((round(left + i * slot + slot / 2, 1), m.label))
    gridlines = [
        (round(top + plot_h - plot_h * v / ceiling, 1), v) for v in range(0, ceiling + 1, step)
    ]
    return Chart(width, height, bars, labels, gridlines, top + plot_h)


def _nice_step(peak_ore: int) -> int:
    """A round gridline step (1, 2 or 5 × a power of ten kroner) giving 3-6 lines."""
    step = 100  # 1 kr.
    while True:
        for factor in (1, 2, 5):
            if peak_ore / (step * factor) <= 5:
                return step * factor
        step *= 10
