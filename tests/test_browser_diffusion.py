"""Notebook 08 in a real browser: each of its three widgets responds to its slider.

The generic lesson test moves only the first slider; here every widget cell of notebook
08 (denoising scrubber, inversion round trip, semantic edit) has its slider moved, its
output must change, and each cell is photographed under tests/artifacts/browser/.
"""

from __future__ import annotations

import time

import pytest

from .browser import OUTPUT_SIGNATURE, run_all_cells
from .test_browser import SHOTS, _with_one_retry, lab  # noqa: F401  (the fixture)

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

NOTEBOOK = "08_diffusion_latents.ipynb"
NAMES = ["scrubber", "inversion", "edit"]


def _move(page, cell, presses: int = 2, settled: str | None = None) -> tuple[str, str]:
    cell.scroll_into_view_if_needed()
    slider = cell.locator(".jp-OutputArea-output .widget-slider").first
    readout = slider.locator(".widget-readout")
    before_readout, before = readout.inner_text(), cell.evaluate(OUTPUT_SIGNATURE)
    handle = slider.locator(".noUi-handle").first
    handle.focus()
    for _ in range(presses):
        handle.press("ArrowRight")
    page.wait_for_function(f"([cell, before]) => ({OUTPUT_SIGNATURE})(cell) !== before",
                           arg=[cell.element_handle(), before], timeout=120_000)
    if settled:   # each press is its own round trip: wait for the one the readout names
        page.wait_for_function(settled, arg=cell.element_handle(), timeout=120_000)
    return before_readout, readout.inner_text()


# The inversion viewer's heading must name the S its slider shows, with the result drawn.
INVERSION_SETTLED = """(cell) => {
  const s = cell.querySelector('.widget-slider .widget-readout').textContent.trim();
  const text = cell.querySelector('.jp-OutputArea-output').textContent;
  return text.includes('S = ' + s + ':') && !text.includes('computing');
}"""


def _scenario(lab):  # noqa: F811
    from playwright.sync_api import sync_playwright

    from .browser import launch

    with sync_playwright() as p:
        browser = launch(p)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1400})
            page.goto(lab.url(NOTEBOOK))
            state = run_all_cells(page)
            cells = page.locator(".jp-Cell", has=page.locator(".jp-OutputArea-output .widget-slider"))
            moves = []
            SHOTS.mkdir(parents=True, exist_ok=True)
            for k, name in enumerate(NAMES):
                cell = cells.nth(k)
                moves.append(_move(page, cell, settled=INVERSION_SETTLED if name == "inversion" else None))
                time.sleep(0.5)
                cell.screenshot(path=str(SHOTS / f"08_{name}.png"))
            return state, cells.count(), moves
        finally:
            browser.close()


@pytest.mark.timeout(1200)
def test_every_diffusion_widget_responds(lab):  # noqa: F811
    state, count, moves = _with_one_retry(_scenario, lab)
    assert state["done"] == state["total"] > 0
    assert count == 3
    for before, after in moves:
        assert before != after
    for name in NAMES:
        assert (SHOTS / f"08_{name}.png").stat().st_size > 5_000
