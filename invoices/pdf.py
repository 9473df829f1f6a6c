"""PDF rendering behind one class: Jinja templates in templates/pdf/, WeasyPrint for the PDF.

Rendering is a pure function of plain data: `render_timesheet_pdf(data) -> bytes`. WeasyPrint
gets a URL fetcher that serves only the project's own files under static/pdf/ and refuses
every other URL and file, so text a user typed can never make the server read a file or call
a URL, even if it slipped past the template's escaping.
"""

from __future__ import annotations

import gc
import logging
import mimetypes
import threading
import warnings
from datetime import date, datetime, time
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

from babel.support import Translations
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

# Without Debian's libharfbuzz-subset0 WeasyPrint warns at import that a future version will
# need it (it subsets fonts with fontTools meanwhile). Only that warning is silenced here.
with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="HarfBuzz-Subset", category=DeprecationWarning)
    from weasyprint import CSS, HTML
    from weasyprint.text.fonts import FontConfiguration
    from weasyprint.urls import URLFetcher, URLFetcherResponse

from core import dates, extensions
from core.i18n import (
    FORMAT_LOCALES,
    format_hours,
    format_money,
    format_percent,
    format_quantity,
)

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES_DIR = ROOT / "templates"
ASSETS_DIR = ROOT / "static" / "pdf"
TRANSLATIONS_DIR = ROOT / "translations"
COPENHAGEN = dates.COPENHAGEN


class RefusedURL(ValueError):
    """The PDF asked for something that is not one of our own assets."""


class AssetFetcher(URLFetcher):
    """Serve files under one folder (static/pdf/) and refuse everything else, recording it."""

    def __init__(self, assets_dir: Path = ASSETS_DIR) -> None:
        super().__init__(allowed_protocols=("file",), allow_redirects=False)
        self.root = Path(assets_dir).resolve()
        self.fetched: list[str] = []
        self.refused: list[str] = []

    def resolve(self, url: str) -> Path | None:
        """The asset file a URL names, or None when it is not one of ours."""
        parts = urlsplit(url)
        if parts.scheme != "file" or parts.netloc not in ("", "localhost"):
            return None
        path = Path(url2pathname(unquote(parts.path))).resolve()
        if not path.is_relative_to(self.root) or not path.is_file():
            return None
        return path

    def fetch(self, url: str, headers: Any = None) -> URLFetcherResponse:
        path = self.resolve(url)
        if path is None:
            self.refused.append(url)
            log.warning("PDF rendering refused to fetch %r", url[:200])
            raise RefusedURL(f"not a PDF asset: {url[:200]}")
        self.fetched.append(url)
        mimetype = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return URLFetcherResponse(url, body=path.read_bytes(), headers={"Content-Type": mimetype})


# --- Formatting: pure, no Flask context needed ------------------------------------------------


def danish_date(value: date | datetime | None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = value.astimezone(COPENHAGEN).date()
    return value.strftime("%d-%m-%Y")


def danish_datetime(value: datetime | None) -> str:
    if value is None:
        return ""
    return value.astimezone(COPENHAGEN).strftime("%d-%m-%Y %H:%M")


def clock(value: time | None) -> str:
    return "" if value is None else value.strftime("%H:%M")


class PdfEngine:
    """Templates + data in, PDF bytes out; only our own assets are ever loaded."""

    def __init__(
        self,
        templates_dir: Path = TEMPLATES_DIR,
        assets_dir: Path = ASSETS_DIR,
        translations_dir: Path = TRANSLATIONS_DIR,
    ) -> None:
        self.templates_dir = Path(templates_dir)
        self.assets_dir = Path(assets_dir).resolve()
        self.translations_dir = Path(translations_dir)
        self.base_url = self.assets_dir.as_uri() + "/"
        self.refused: list[str] = []  # every refused URL since the engine was made
        self._environments: dict[str, Environment] = {}
        # Reused across documents: building the font map again for every PDF costs ~15 %, and
        # parsing the stylesheet again ~10 ms a document (the templates link none).
        self.font_config = FontConfiguration()
        self.stylesheet = CSS(
            filename=str(self.assets_dir / "pdf.css"),
            font_config=self.font_config,
            url_fetcher=AssetFetcher(self.assets_dir),
        )
        self._lock = threading.Lock()

    def environment(self, locale: str = "da") -> Environment:
        """One Jinja environment per language, with our filters and the gettext catalogue."""
        if locale not in FORMAT_LOCALES:
            locale = "da"
        with self._lock:
            env = self._environments.get(locale)
            if env is None:
                env = Environment(
                    loader=FileSystemLoader(self.templates_dir),
                    autoescape=select_autoescape(default=True, default_for_string=True),
                    undefined=StrictUndefined,
                    extensions=["jinja2.ext.i18n"],
                    # No lines of indentation around block tags: less for WeasyPrint to parse
                    # and box (a few per cent of a timesheet), the same text on the page.
                    trim_blocks=True,
                    lstrip_blocks=True,
                )
                env.install_gettext_translations(
                    Translations.load(str(self.translations_dir), [locale]), newstyle=True
                )
                env.filters.update(
                    money=lambda ore: format_money(ore, locale),
                    hours=lambda minutes: format_hours(minutes, locale),
                    quantity=lambda hundredths: format_quantity(hundredths, locale),
                    percent=lambda basis_points: format_percent(basis_points, locale),
                    date=danish_date,
                    datetime=danish_datetime,
                    clock=clock,
                )
                env.globals["lang"] = locale
                self._environments[locale] = env
        return env

    def render_html(self, template: str, locale: str = "da", **context: Any) -> str:
        return self.environment(locale).get_template(template).render(**context)

    def html_to_pdf(self, html: str) -> tuple[bytes, AssetFetcher]:
        """Render HTML through the asset-only fetcher; returns the PDF and the fetcher's log."""
        fetcher = AssetFetcher(self.assets_dir)
        # WeasyPrint allocates a box tree of short-lived objects; the cyclic collector would
        # walk it again and again (≈ 7 % of a render). Paused for the render, it runs after.
        collecting = gc.isenabled()
        gc.disable()
        try:
            pdf = HTML(string=html, base_url=self.base_url, url_fetcher=fetcher).write_pdf(
                stylesheets=[self.stylesheet], font_config=self.font_config
            )
        finally:
            if collecting:
                gc.enable()
            with self._lock:
                self.refused.extend(fetcher.refused)
        return pdf, fetcher

    def render(self, template: str, locale: str = "da", **context: Any) -> bytes:
        pdf, _fetcher = self.html_to_pdf(self.render_html(template, locale, **context))
        return pdf


_default_engine: PdfEngine | None = None


def engine() -> PdfEngine:
    """The app's engine (invoices.init_app registers it); outside an app, one per process. It
    keeps only compiled templates and the refusal log."""
    global _default_engine
    if extensions.has("pdf"):
        return extensions.get("pdf")
    if _default_engine is None:
        _default_engine = PdfEngine()
    return _default_engine


def render_timesheet_pdf(data) -> bytes:
    """A placement's timesheet for a period (invoices.timesheets.TimesheetData) as PDF bytes."""
    return engine().render("pdf/timesheet.html", locale=data.locale, sheet=data)


def render_hours_statement_pdf(data) -> bytes:
    """A worker's hours statement (invoices.timesheets.StatementData) as PDF bytes."""
    return engine().render("pdf/hours_statement.html", locale=data.locale, statement=data)
