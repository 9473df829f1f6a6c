"""Sending e-invoices to public bodies: one class in front of the access point, two ways in.

- `DropFolder` (the default): the validated XML is written, atomically, into a folder that an
  access point's client (NemHandel's, or a provider's) picks up and sends. Handing it over is
  all we can see: the state becomes *sent*.
- `AccessPointApi`: the XML is POSTed to a provider's HTTP API (`PORTAL_EINVOICE_API_URL`,
  `PORTAL_EINVOICE_API_TOKEN`), `POST {url}/documents`, `Content-Type: application/xml`,
  `Authorization: Bearer {token}`, header `X-Document-Id` with the invoice's number. The
  answer is JSON: `{"id": "...", "status": "accepted"}` (or `"sent"` while the network has
  not answered yet), or HTTP 422 `{"status": "rejected", "reason": "..."}`. Anything else
  (a 5xx, a timeout, no connection) is a failure worth retrying.

Each e-invoice is an outbox row written when its invoice is numbered (invoices.delivery) and
sent by core.outbox: tried again with back-off while the access point is down or the folder
unusable, given up at once when the receiver rejects it. The invoice keeps a summary of its
way (queued, sent, accepted, rejected, failed) with the reason; finance sees every one not yet
accepted (`/finance/einvoices`) and can send it again."""

from __future__ import annotations

import json
import logging
import os
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session

from core import dates, extensions, outbox
from core.models import EinvoiceState, Invoice, OutboxChannel, OutboxMessage, User
from core.snapshots import BuyerSnapshot

log = logging.getLogger(__name__)
TIMEOUT_SECONDS = 30


class TransportError(RuntimeError):
    """The document did not reach the access point; sending it again may work."""


@dataclass(frozen=True)
class Receipt:
    state: EinvoiceState
    reference: str = ""
    reason: str = ""


class DropFolder:
    """Hands the XML to an access point's client through a folder it watches."""

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)

    def send(self, number: str, xml: bytes) -> Receipt:
        name = f"{number}.xml"
        temporary = None
        try:
            # Inside the try: a folder that cannot be made (a file where it should be, no
            # permission) is a failure recorded on the message and tried again, like any other.
            self.folder.mkdir(parents=True, exist_ok=True)
            # Written beside, then renamed: the client never sees half a file.
            handle, temporary = tempfile.mkstemp(dir=self.folder, prefix=".", suffix=".part")
            with os.fdopen(handle, "wb") as out:
                out.write(xml)
            os.replace(temporary, self.folder / name)
        except OSError as error:
            if temporary is not None:
                Path(temporary).unlink(missing_ok=True)
            raise TransportError(f"drop folder {self.folder}: {error}") from error
        return Receipt(EinvoiceState.SENT, reference=name)


class AccessPointApi:
    """Sends the XML to an access point provider's HTTP API (see the module's docstring)."""

    def __init__(self, url: str, token: str) -> None:
        if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
            raise ValueError(f"PORTAL_EINVOICE_API_URL must be an http(s) address, not {url!r}")
        self.url = url.rstrip("/")
        self.token = token

    def send(self, number: str, xml: bytes) -> Receipt:
        request = urllib.request.Request(  # noqa: S310 (http or https only, checked above)
            f"{self.url}/documents",
            data=xml,
            method="POST",
            headers={
                "Content-Type": "application/xml",
                "Authorization": f"Bearer {self.token}",
                "X-Document-Id": number,
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
                answer = _json(response.read())
        except urllib.error.HTTPError as error:
            if error.code == 422:
                answer = _json(error.read())
                return Receipt(EinvoiceState.REJECTED, reason=str(answer.get("reason", "")))
            raise TransportError(f"access point answered {error.code}") from error
        except (urllib.error.URLError, OSError) as error:
            raise TransportError(f"access point unreachable: {error}") from error
        status = answer.get("status")
        state = EinvoiceState.ACCEPTED if status == "accepted" else EinvoiceState.SENT
        return Receipt(state, reference=str(answer.get("id", "")))


def _json(body: bytes) -> dict:
    try:
        answer = json.loads(body or b"{}")
    except ValueError:
        return {}
    return answer if isinstance(answer, dict) else {}


def sender() -> DropFolder | AccessPointApi:
    """The configured way in (PORTAL_EINVOICE_TRANSPORT: "folder", the default, or "api")."""
    if extensions.config("EINVOICE_TRANSPORT", "folder") == "api":
        return AccessPointApi(
            extensions.config("EINVOICE_API_URL") or "", extensions.config("EINVOICE_API_TOKEN")
        )
    return DropFolder(extensions.config("EINVOICE_FOLDER"))


def due(invoice: Invoice) -> bool:
    """Public bodies get e-invoices (a company by CVR gets the e-mailed PDFs)."""
    return bool(invoice.ubl_sha256 and BuyerSnapshot.from_json(invoice.buyer).ean)


REJECTED = "rejected by the receiver: "


def _compose(session: Session, row: OutboxMessage) -> outbox.Envelope:
    from invoices.delivery import ready

    invoice = ready(session, row.invoice_id)  # rendered by invoices.delivery.render
    if not invoice.ubl_xml:
        raise RuntimeError(f"{invoice.display_number} has no e-invoice (are the rules loaded?)")
    return outbox.Envelope(row.recipient, document=invoice.ubl_xml, name=invoice.display_number)


def _render(row: OutboxMessage) -> None:
    from invoices.delivery import render

    render(row)


def _transmit(_row: OutboxMessage, envelope: outbox.Envelope) -> str:
    receipt = sender().send(envelope.name, envelope.document)
    if receipt.state == EinvoiceState.REJECTED:
        raise outbox.Refused(REJECTED + (receipt.reason or "no reason given"))
    envelope.facts["state"] = receipt.state
    return receipt.reference


def _delivered(session: Session, row: OutboxMessage, envelope: outbox.Envelope) -> None:
    invoice = session.get(Invoice, row.invoice_id)
    invoice.einvoice_state = envelope.facts.get("state", EinvoiceState.SENT)
    invoice.einvoice_reference, invoice.einvoice_error = row.reference[:100], ""
    invoice.einvoice_attempts, invoice.einvoice_sent_at = row.attempts, dates.now()


def _failed(session: Session, row: OutboxMessage) -> None:
    invoice = session.get(Invoice, row.invoice_id)
    if row.last_error.startswith(REJECTED):
        invoice.einvoice_state = EinvoiceState.REJECTED
        invoice.einvoice_error = row.last_error.removeprefix(REJECTED)[:500]
    else:
        invoice.einvoice_state, invoice.einvoice_error = EinvoiceState.FAILED, row.last_error[:500]
    invoice.einvoice_attempts = row.attempts


outbox.register(
    outbox.Kind(
        "einvoice",
        OutboxChannel.EINVOICE,
        prepare=_render,
        compose=_compose,
        transmit=_transmit,
        delivered=_delivered,
        failed=_failed,
    )
)


def send_again(session: Session, invoice: Invoice, by: User | None = None) -> None:
    """Finance's *Send again*: the e-invoice once more (after a rejection or a failure, or a
    first time for an invoice issued before it was a public body's); the caller commits."""
    from invoices.delivery import latest

    row = latest(session, invoice.id, "einvoice")
    invoice.einvoice_state = EinvoiceState.QUEUED
    if row is None:
        outbox.add(
            session,
            "einvoice",
            BuyerSnapshot.from_json(invoice.buyer).ean or "",
            channel=OutboxChannel.EINVOICE,
            invoice_id=invoice.id,
        )
        return
    outbox.resend(session, row, by)
