"""The parties of an invoice as frozen when it was issued: typed, stored as JSON.

An invoice keeps its buyer and seller in JSON columns so that it never changes when the
employer or the organisation does. These classes are the one place that knows the keys:
code and templates read attributes, and `to_json()` writes exactly the shape stored today."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, fields
from typing import TYPE_CHECKING, Any, Self

if TYPE_CHECKING:
    from core.models import Employer, JobOrder, OrganisationSettings


class Snapshot:
    """JSON in and out for the frozen dataclasses below (their fields are the stored keys)."""

    def to_json(self) -> dict[str, Any]:
        """The dict to store; its keys and their order are the fields'."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> Self:
        """Read a stored snapshot; values are kept as stored.

        Older rows and hand-made ones may lack a key (it reads as the field's default) or
        carry one no field knows (it is ignored), so every row ever stored still reads."""
        data = data or {}
        known = {f.name for f in fields(cls)}
        return cls(**{key: value for key, value in data.items() if key in known})


@dataclass(frozen=True)
class BuyerSnapshot(Snapshot):
    """The employer billed, as it was when the invoice was issued."""

    name: str = ""
    address_line: str = ""
    postcode: str = ""
    city: str = ""
    cvr: str = ""
    ean: str = ""
    email: str = ""
    # Public bodies need the order number and person reference on every invoice.
    order_reference: str = ""
    person_reference: str = ""

    @classmethod
    def of(cls, employer: Employer, orders: Iterable[JobOrder]) -> Self:
        """The employer now, with the references of the job orders the invoice bills."""
        orders = set(orders)
        return cls(
            name=employer.name,
            address_line=employer.address_line,
            postcode=employer.postcode,
            city=employer.city,
            cvr=employer.cvr,
            ean=employer.ean or "",
            email=employer.invoice_email,
            order_reference=", ".join(
                sorted({o.order_reference for o in orders if o.order_reference})
            ),
            person_reference=", ".join(
                sorted({o.person_reference for o in orders if o.person_reference})
            ),
        )


@dataclass(frozen=True)
class SellerSnapshot(Snapshot):
    """The organisation issuing the invoice, as it was then (its bank and terms included)."""

    legal_name: str = ""
    cvr: str = ""
    address_line: str = ""
    postcode: str = ""
    city: str = ""
    email: str = ""
    phone: str = ""
    bank_reg: str = ""
    bank_account: str = ""
    iban: str = ""
    bic: str = ""
    fi_creditor_number: str = ""
    late_interest_rate_bp: int = 0
    payment_terms_days: int = 0

    @classmethod
    def of(cls, org: OrganisationSettings) -> Self:
        """The organisation's details as they are now, to be frozen into an invoice."""
        return cls(**{f.name: getattr(org, f.name) for f in fields(cls)})
