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

Each e-invoice has a state on its invoice (queued, sent, accepted, rejected, failed) with the
reason; a job sends it once under the invoice's row lock and retries with back-off under RQ;
finance sees every one not yet accepted (`/finance/einvoices`) and can send it again."""

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

from core import dates, extensions
from core.db import database
from core.jobs import job, queue, under_rq
from core.models import EinvoiceState, Invoice
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
        self.folder.mkdir(parents=True, exist_ok=True)
        name = f"{number}.xml"
        # Written beside, then renamed: the client never sees half a file.
        handle, temporary = tempfile.mkstemp(dir=self.folder, prefix=".", suffix=".part")
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(xml)
            os.replace(temporary, self.folder / name)
        except OSError as error:
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


def queue_send(invoice: Invoice) -> None:
    """Mark the e-invoice queued and queue its sending (the caller commits first)."""
    queue().enqueue(send, invoice.id, retries=5)


@job
def send(invoice_id: int, again: bool = False) -> EinvoiceState | None:
    """Send the invoice's e-invoice once (again after a rejection or a failure when asked);
    records the outcome. Raises after recording a failure under RQ, so RQ retries it."""
    with database().sessionmaker() as session:
        # Under the row lock: two jobs for the same invoice send it once.
        invoice = session.get(Invoice, invoice_id, with_for_update=True)
        if invoice is None or not due(invoice):
            return None
        done = (EinvoiceState.SENT, EinvoiceState.ACCEPTED)
        if invoice.einvoice_state in done or (
            invoice.einvoice_state == EinvoiceState.REJECTED and not again
        ):
            return invoice.einvoice_state
        invoice.einvoice_attempts += 1
        try:
            receipt = sender().send(invoice.display_number, invoice.ubl_xml)
        except TransportError as error:
            invoice.einvoice_state, invoice.einvoice_error = EinvoiceState.FAILED, str(error)[:500]
            session.commit()
            log.warning("e-invoice %s not sent: %s", invoice.display_number, error)
            if under_rq():
                raise
            return EinvoiceState.FAILED
        invoice.einvoice_state = receipt.state
        invoice.einvoice_reference = receipt.reference[:100]
        invoice.einvoice_error = receipt.reason[:500]
        invoice.einvoice_sent_at = dates.now()
        session.commit()
        return receipt.state
