"""A layout check for the PDFs we make, as a reader would look at them: every glyph's box on
the page, no two glyphs drawn over each other, nothing outside the page, the totals once and
after the last line, and every page with its header and "Side N af M". The pages are also
kept as PNG pictures (`save_pictures`) for a person to look at."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from pathlib import Path

import pdfplumber

# Two glyphs overlap when their boxes share more than this share of the narrower one's width
# (and of the lower one's height): a kerned pair such as "r." in bold shares up to 37 % of the
# full stop; text drawn over other text, far more.
OVERLAP = 0.45


@dataclass
class Page:
    number: int
    text: str
    chars: list[dict]
    width: float
    height: float


@dataclass
class Layout:
    pages: list[Page]
    problems: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "\n".join(page.text for page in self.pages)


def read(pdf: bytes) -> Layout:
    with pdfplumber.open(io.BytesIO(pdf)) as document:
        pages = [
            Page(n, page.extract_text() or "", list(page.chars), page.width, page.height)
            for n, page in enumerate(document.pages, start=1)
        ]
    layout = Layout(pages)
    for page in pages:
        layout.problems += _outside(page) + _overlaps(page)
    return layout


def _outside(page: Page) -> list[str]:
    return [
        f"page {page.number}: {c['text']!r} at x={c['x0']:.0f}–{c['x1']:.0f} "
        f"y={c['top']:.0f}–{c['bottom']:.0f} lies outside the page"
        for c in page.chars
        if c["x0"] < -0.5
        or c["x1"] > page.width + 0.5
        or c["top"] < -0.5
        or c["bottom"] > page.height + 0.5
    ]


def _overlaps(page: Page) -> list[str]:
    found = []
    chars = [c for c in page.chars if c["text"].strip()]
    chars.sort(key=lambda c: (round(c["top"]), c["x0"]))
    for i, a in enumerate(chars):
        for b in chars[i + 1 : i + 40]:  # neighbours on about the same line
            if b["top"] > a["bottom"]:
                break
            wide = min(a["x1"] - a["x0"], b["x1"] - b["x0"])
            high = min(a["bottom"] - a["top"], b["bottom"] - b["top"])
            across = min(a["x1"], b["x1"]) - max(a["x0"], b["x0"])
            down = min(a["bottom"], b["bottom"]) - max(a["top"], b["top"])
            if wide > 0 and high > 0 and across > OVERLAP * wide and down > OVERLAP * high:
                found.append(
                    f"page {page.number}: {a['text']!r} and {b['text']!r} overlap at "
                    f"x={a['x0']:.0f} y={a['top']:.0f}: {_line_at(page, a)!r}"
                )
    return found


def _line_at(page: Page, char: dict) -> str:
    same = [c for c in page.chars if abs(c["top"] - char["top"]) < 2]
    return "".join(c["text"] for c in sorted(same, key=lambda c: c["x0"]))[:80]


def page_numbers_problems(layout: Layout, word: str = "Side", of: str = "af") -> list[str]:
    """Every page says which page it is of how many."""
    total = len(layout.pages)
    return [
        f"page {page.number} lacks '{word} {page.number} {of} {total}'"
        for page in layout.pages
        if f"{word} {page.number} {of} {total}" not in page.text
    ]


def once_after(layout: Layout, total: str, last_line: str) -> list[str]:
    """The total appears once, and after the table's last line (on its page or a later one;
    what follows the total, such as how to pay, may go on to another page)."""
    count = layout.text.count(total)
    if count != 1:
        return [f"{total!r} appears {count} times"]

    def places(text: str) -> list[tuple[int, int]]:
        return [
            (page.number, index)
            for page in layout.pages
            for index, line in enumerate(page.text.splitlines())
            if text in line
        ]

    [at] = places(total)
    lines = places(last_line)
    if not lines or max(lines) > at:
        return [f"{total!r} is not after the last line {last_line!r}"]
    return []


def save_pictures(pdf: bytes, folder: Path, name: str, resolution: int = 60) -> list[Path]:
    """Each page as a PNG under the folder, for a person to look at."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    with pdfplumber.open(io.BytesIO(pdf)) as document:
        for n, page in enumerate(document.pages, start=1):
            path = folder / f"{re.sub(r'[^a-z0-9-]+', '-', name.lower())}-{n:03d}.png"
            page.to_image(resolution=resolution).save(str(path))
            paths.append(path)
    return paths
