"""The keyboard focus ring is visible (WCAG 2.1, 1.4.11 non-text contrast: 3:1) on every
background the stylesheet paints: issue 15 measured the old yellow ring at 1.53-1.64:1 on the
light page and form backgrounds."""

from __future__ import annotations

import re

from tests.helpers import ROOT

CSS = (ROOT / "static/css/app.css").read_text()


def variable(name: str) -> str:
    colour = re.search(rf"--{name}:\s*(#[0-9a-fA-F]{{3,6}})\b", CSS).group(1)
    return colour if len(colour) == 7 else "#" + "".join(c * 2 for c in colour[1:])


def luminance(colour: str) -> float:
    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def contrast(a: str, b: str) -> float:
    light, dark = sorted((luminance(a), luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def test_the_focus_ring_stands_out_on_every_light_background():
    ring = variable("focus")
    light = {variable("bg"), variable("card"), "#ffffff"}
    # Every other light background colour the stylesheet uses (notices, flashes, badges).
    light |= {
        c.lower() for c in re.findall(r"background:\s*(#[0-9a-fA-F]{6})", CSS) if luminance(c) > 0.5
    }
    for background in sorted(light):
        assert contrast(ring, background) >= 3, (ring, background, contrast(ring, background))


def test_the_ring_in_the_dark_header_stands_out_there():
    assert ".site-header :focus-visible { outline-color: var(--focus-on-dark); }" in CSS
    assert contrast(variable("focus-on-dark"), variable("brand")) >= 3
    assert contrast("#ffbf47", variable("bg")) < 3  # why the old ring failed
