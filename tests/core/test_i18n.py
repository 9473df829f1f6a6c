"""Danish is the default language: every UI text has a Danish translation."""

from __future__ import annotations

from datetime import UTC, date, datetime
from io import BytesIO
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from flask_babel import force_locale

from portal import i18n
from tests.helpers import ROOT

KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None}


def extracted_messages() -> set[str]:
    method_map = [
        ("portal/**.py", "python"),
        ("invoices/**.py", "python"),
        ("templates/**.html", "jinja2"),
    ]
    found = set()
    for _filename, _lineno, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map=method_map, keywords=KEYWORDS
    ):
        found.add(message if isinstance(message, str) else message[0])
    return found


def test_every_ui_text_has_a_danish_translation():
    catalog_path = ROOT / "translations/da/LC_MESSAGES/messages.po"
    catalog = read_po(BytesIO(catalog_path.read_bytes()), locale="da")
    translated = {
        m.id if isinstance(m.id, str) else m.id[0]  # a plural is known by its singular
        for m in catalog
        if m.id and (m.string if isinstance(m.string, str) else all(m.string)) and not m.fuzzy
    }
    missing = sorted(extracted_messages() - translated)
    assert not missing, "run `make messages` and translate: " + "; ".join(missing[:20])


def test_money_and_dates_in_danish_format(app):
    with app.test_request_context("/"), force_locale("da"):
        assert i18n.money(123450) == "1.234,50\xa0kr."
        assert i18n.money(-5) == "-0,05\xa0kr."
        assert i18n.money_plain(18900) == "189,00"
        assert i18n.hours(750) == "12,50"
        assert i18n.hours(1) == "0,02"  # 1/60 h = 0.0166… rounds half up to 0.02
        assert i18n.danish_date(date(2026, 11, 22)) == "22-11-2026"
        # UTC 23:30 on the 22nd is already the 23rd in Copenhagen.
        assert i18n.danish_date(datetime(2026, 11, 22, 23, 30, tzinfo=UTC)) == "23-11-2026"
        assert i18n.danish_datetime(datetime(2026, 6, 1, 12, 0, tzinfo=UTC)) == "01-06-2026 14:00"


def test_english_keeps_kroner(app):
    with app.test_request_context("/"), force_locale("en"):
        assert i18n.money(123450) == "1.234,50\xa0kr."


def test_language_switch(client):
    page = client.get("/")
    assert 'lang="da"' in page.text and "Log ind" in page.text
    from tests.helpers import post_form

    response = post_form(client, "/language/en", {"next": "/auth/login"}, page="/")
    assert response.status_code == 302 and response.headers["Location"] == "/auth/login"
    page = client.get("/auth/login")
    assert 'lang="en"' in page.text and "Log in" in page.text
    # The switch never redirects off the site.
    response = post_form(client, "/language/da", {"next": "https://evil.example/"}, page="/")
    assert response.headers["Location"] == "/"


def test_wtforms_messages_have_danish_translations():
    from wtforms.i18n import messages_path

    template = read_po(BytesIO((Path(messages_path()) / "wtforms.pot").read_bytes()))
    ours = read_po(
        BytesIO((ROOT / "translations/da/LC_MESSAGES/wtforms.po").read_bytes()), locale="da"
    )
    translated = {m.id if isinstance(m.id, str) else m.id[0] for m in ours if m.string}
    wanted = {m.id if isinstance(m.id, str) else m.id[0] for m in template if m.id}
    assert wanted <= translated, sorted(wanted - translated)
