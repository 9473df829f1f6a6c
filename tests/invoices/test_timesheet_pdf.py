"""Timesheet and hours statement PDFs, read back with pypdf; the asset-only URL fetcher."""

from __future__ import annotations

import http.server
import threading
from datetime import UTC, date, datetime, time, timedelta
from io import BytesIO

import pytest
import time_machine
from flask_babel import force_locale
from pypdf import PdfReader

from core import settings as settings_service
from core.models import Role
from invoices import pdf
from invoices.pdf import ASSETS_DIR, AssetFetcher, PdfEngine, RefusedURL
from invoices.timesheets import hours_statement_data, timesheet_data
from portal.services import hours
from tests import factories
from tests.helpers import login

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def text_of(data: bytes) -> str:
    assert data.startswith(b"%PDF")
    return "\n".join(page.extract_text() for page in PdfReader(BytesIO(data)).pages)


@pytest.fixture
def sheet(db):
    """A week of hours: worker-recorded and approved, auto-approved, and one waiting."""
    with time_machine.travel(NOW, tick=False) as clock, force_locale("da"):
        org = settings_service.get(db)
        org.legal_name, org.cvr = "Småjob Fyn ApS", "13748136"
        org.address_line, org.postcode, org.city = "Vestergade 1", "5000", "Odense C"
        worker = factories.user_for(Role.WORKER, full_name="Anna Worker")
        profile = factories.worker_profile(worker)
        profile.first_name, profile.last_name = "Anna", "Østergaard"
        employer = factories.user_for(Role.EMPLOYER, full_name="Erik Approver")
        employer.employer.name = "Lager & Co ApS"
        placement = factories.placement_between(worker, employer, start_date=date(2026, 11, 2))
        clock.move_to(datetime(2026, 11, 16, 18, 0, tzinfo=UTC))
        first = hours.record_shift(
            db, worker, placement, hours.Shift(date(2026, 11, 16), time(8), time(12), 30)
        )
        clock.move_to(datetime(2026, 11, 17, 7, 30, tzinfo=UTC))
        hours.approve_entry(db, employer, first)
        second = hours.record_shift(
            db,
            worker,
            placement,
            hours.Shift(
                date(2026, 11, 17), time(22), time(2), 0, 'Nat <img src="file:///etc/passwd">'
            ),
        )
        clock.move_to(datetime(2026, 11, 21, 8, 0, tzinfo=UTC))
        hours.auto_approve(db)
        hours.record_shift(
            db, employer, placement, hours.Shift(date(2026, 11, 20), time(9), time(11), 0)
        )
        db.commit()
        yield worker, employer, placement, first, second


def test_timesheet_pdf_shows_parties_shifts_totals_and_evidence(db, sheet):
    _worker, _employer, placement, _first, second = sheet
    with force_locale("da"):
        data = timesheet_data(db, placement, date(2026, 11, 16), date(2026, 11, 22))
    assert second.auto_approved
    text = text_of(pdf.render_timesheet_pdf(data))
    assert "Timeseddel" in text
    assert "Småjob Fyn ApS" in text and "13748136" in text  # the intermediary's header
    assert "Anna Østergaard" in text and "Lager & Co ApS" in text
    assert "16-11-2026 – 22-11-2026" in text
    assert "16-11-2026" in text and "17-11-2026" in text and "20-11-2026" in text
    assert "08:00–12:00" in text and "22:00–02:00 (+1)" in text
    # 210 + 240 + 120 minutes recorded; 450 approved by both sides.
    assert "570" in text and "9,50" in text
    assert "450" in text and "7,50" in text
    # Who signed each side and when (Copenhagen time), and the auto-approved mark.
    assert "Anna Worker" in text and "Erik Approver" in text
    assert "16-11-2026 19:00" in text and "17-11-2026 08:30" in text
    assert "auto-godkendt" in text and "21-11-2026 09:00" in text
    assert "Afventer" in text  # the employer's entry waits for the worker
    # The user's note is printed as text, never loaded.
    assert '<img src="file:///etc/passwd">' in text


def test_timesheet_route_tenancy_and_download(client, db, sheet):
    _worker, employer, placement, *_rest = sheet
    login(client, employer)
    url = f"/hours/timesheet?placement_id={placement.id}&start=2026-11-16&end=2026-11-22"
    response = client.get(url)
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert "Anna Østergaard" in text_of(response.data)
    bad = client.get(
        f"/hours/timesheet?placement_id={placement.id}&start=2026-11-22&end=2026-11-01"
    )
    assert bad.status_code == 400 and "Slutdatoen" in bad.text
    assert client.get("/hours/timesheet").status_code == 200


def test_hours_statement_lists_employers_dates_and_approved_hours(client, db, sheet):
    worker, *_rest = sheet
    login(client, worker)
    page = client.get("/hours/mine")
    assert page.status_code == 200 and "7,50" in page.text
    # Pay basis: 450 approved minutes × 135,00 kr. per hour = 1.012,50 kr.
    assert "1.012,50" in page.text
    response = client.get("/hours/statement.pdf?start=2026-11-01&end=2026-11-30")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    text = text_of(response.data)
    assert "Timeopgørelse" in text and "Anna Østergaard" in text
    assert "Lager & Co ApS" in text and "01-11-2026 – 30-11-2026" in text
    assert "16-11-2026" in text and "17-11-2026" in text
    assert "20-11-2026" not in text  # not approved yet, so not on the statement
    assert "7,50" in text
    missing = client.get("/hours/statement.pdf?start=2026-11-30")
    assert missing.status_code == 400


def test_statement_data_totals_per_employer(db, sheet):
    worker, *_rest = sheet
    second_employer = factories.user_for(Role.EMPLOYER)
    other = factories.placement_between(worker, second_employer, start_date=date(2026, 11, 2))
    factories.TimeEntryFactory(
        placement=other,
        work_date=date(2026, 11, 18),
        minutes=60,
        worker_confirmed_at=NOW,
        employer_approved_at=NOW,
    )
    with force_locale("da"):
        data = hours_statement_data(
            db, factories.worker_profile(worker), date(2026, 11, 1), date(2026, 11, 30)
        )
    assert data.total_minutes == 450 + 60
    assert sorted(e.minutes for e in data.employers) == [60, 450]


# --- The URL fetcher -----------------------------------------------------------------------------


@pytest.fixture
def http_probe():
    """A real local HTTP server that records every request it gets."""
    hits: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server's name)
            hits.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "text/css")
            self.end_headers()
            self.wfile.write(b"body { color: red }")

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", hits
    finally:
        server.shutdown()
        server.server_close()


def test_fetcher_serves_only_files_under_static_pdf():
    fetcher = AssetFetcher()
    css = (ASSETS_DIR / "pdf.css").as_uri()
    response = fetcher.fetch(css)
    assert b"@page" in response.read() and response.content_type == "text/css"
    for url in (
        "file:///etc/passwd",
        (ASSETS_DIR / ".." / ".." / "portal" / "config.py").as_uri(),
        (ASSETS_DIR / "missing.css").as_uri(),
        "http://127.0.0.1/secret",
        "https://example.com/logo.png",
        "data:text/css,body{}",
        "ftp://127.0.0.1/x",
        "file://otherhost" + str(ASSETS_DIR / "pdf.css"),
    ):
        with pytest.raises(RefusedURL):
            fetcher.fetch(url)
    assert fetcher.fetched == [css]
    assert len(fetcher.refused) == 8 and "file:///etc/passwd" in fetcher.refused


def test_engine_refuses_files_and_urls_even_in_raw_html(http_probe):
    base, hits = http_probe
    engine = PdfEngine()
    html = (
        '<html><head><link rel="stylesheet" href="pdf.css">'
        f'<link rel="stylesheet" href="{base}/evil.css"></head><body>'
        '<p>Before</p><img src="file:///etc/passwd">'
        f'<img src="{base}/tracker.png"><p>After</p></body></html>'
    )
    data, fetcher = engine.html_to_pdf(html)
    text = text_of(data)
    assert "Before" in text and "After" in text
    assert "root:" not in text
    assert "file:///etc/passwd" in fetcher.refused
    assert f"{base}/evil.css" in fetcher.refused and f"{base}/tracker.png" in fetcher.refused
    assert fetcher.fetched == [(ASSETS_DIR / "pdf.css").as_uri()]
    assert hits == []  # the server was never called
    assert "file:///etc/passwd" in engine.refused


def test_a_note_with_markup_is_escaped_and_never_fetched(db, sheet, http_probe):
    base, hits = http_probe
    _worker, _employer, placement, first, _second = sheet
    first.note = f'<img src="file:///etc/passwd"> <link rel="stylesheet" href="{base}/x.css">'
    engine = PdfEngine()
    with force_locale("da"):
        data = timesheet_data(db, placement, date(2026, 11, 16), date(2026, 11, 22))
    html = engine.render_html("pdf/timesheet.html", sheet=data)
    assert "&lt;img src=" in html
    pdf_bytes, fetcher = engine.html_to_pdf(html)
    assert fetcher.refused == [] and hits == []
    assert fetcher.fetched == []  # the engine parsed its stylesheet once, up front
    text = text_of(pdf_bytes)
    assert '<img src="file:///etc/passwd">' in text and f"{base}/x.css" in text


def test_a_30_row_timesheet_renders(db, sheet):
    _worker, _employer, placement, *_rest = sheet
    start = date(2026, 10, 1)
    placement.start_date = start
    for n in range(30):
        factories.TimeEntryFactory(
            placement=placement, work_date=start + timedelta(days=n), minutes=210
        )
    with force_locale("da"):
        data = timesheet_data(db, placement, start, start + timedelta(days=29))
    text = text_of(pdf.render_timesheet_pdf(data))
    assert len(data.rows) == 30 and "105,00" in text  # 30 × 3,50 hours
