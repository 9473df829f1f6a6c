"""The state of a shift, read from its two signatures, its dispute and its invoice line: one
definition for the sign-off pages (hours), the invoice run, payroll and the timesheets."""

from __future__ import annotations

import enum

from sqlalchemy import and_, or_

from core.models import TimeEntry


class EntryState(enum.StrEnum):
    WAITING_FOR_EMPLOYER = "waiting_for_employer"  # the worker's side is signed
    WAITING_FOR_WORKER = "waiting_for_worker"  # the employer's side is signed
    WAITING_FOR_BOTH = "waiting_for_both"  # recorded by a consultant, or corrected
    APPROVED = "approved"  # both sides signed
    DISPUTED = "disputed"
    INVOICED = "invoiced"  # on an invoice line: frozen for good


def state_of(entry: TimeEntry) -> EntryState:
    if entry.invoice_line_id is not None:
        return EntryState.INVOICED
    if entry.disputed_at is not None:
        return EntryState.DISPUTED
    worker, employer = entry.worker_confirmed_at, entry.employer_approved_at
    if worker is not None and employer is not None:
        return EntryState.APPROVED
    if worker is not None:
        return EntryState.WAITING_FOR_EMPLOYER
    if employer is not None:
        return EntryState.WAITING_FOR_WORKER
    return EntryState.WAITING_FOR_BOTH


# The same rule in SQL: both sides signed and nobody disputes it. Approved shifts are what is
# paid (payroll) and billed (the invoice run); an invoiced one is still approved.
APPROVED = and_(
    TimeEntry.worker_confirmed_at.is_not(None),
    TimeEntry.employer_approved_at.is_not(None),
    TimeEntry.disputed_at.is_(None),
)

# Exactly one side has signed: what auto-approval completes once nobody answers.
ONE_SIDE_SIGNED = or_(
    and_(TimeEntry.worker_confirmed_at.is_not(None), TimeEntry.employer_approved_at.is_(None)),
    and_(TimeEntry.worker_confirmed_at.is_(None), TimeEntry.employer_approved_at.is_not(None)),
)
