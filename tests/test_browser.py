"""Real-browser tests: the curriculum's widgets and charts render in JupyterLab.

Each scenario opens a notebook in a real JupyterLab in headless Chromium, runs all cells,
checks what rendered, moves a widget, and saves a screenshot under tests/artifacts/browser/.
Every widget image must be displayed with the aspect ratio it was drawn with (within 2%).
A scenario that fails is retried once, and the retry is logged, because a browser step
can time out for reasons outside our code; a second failure fails the test.
"""

from __future__ import annotations

import os
import re
import time
import warnings

import pytest

from .browser import JupyterLab, chromium_path, launch, run_all_cells
from .conftest import ARTIFACTS, ROOT

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

SHOTS = ARTIFACTS / "browser"


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    if chromium_path() is None:
        message = "Debian's chromium is not installed (apt-get install chromium)"
        if os.environ.get("WORKBENCH_REQUIRE_BROWSER") == "1":
            pytest.fail(message + "; WORKBENCH_REQUIRE_BROWSER=1 requires the browser tests")
        pytest.skip(message)
    pytest.importorskip("playwright")
    with JupyterLab(ROOT / "notebooks", tmp_path_factory.mktemp("lab")) as server:
        yield server


def _with_one_retry(scenario, *args):
    try:
        return scenario(*args)
    except Exception as first:  # noqa: BLE001 - any browser hiccup gets one retry
        warnings.warn(f"browser scenario failed once, retrying: {first!r}")
        print(f"RETRY after: {first!r}")
        return scenario(*args)


def _slider_readout_moves(page, output_selector: str, presses: int = 5) -> tuple[str, str]:
    """Focus the first slider handle in ``output_selector``, press ArrowRight; return readouts."""
    slider = page.locator(f"{output_selector} .widget-slider").first
    readout = slider.locator(".widget-readout")
    before = readout.inner_text()
    handle = slider.locator(".noUi-handle")
    handle.focus()
    for _ in range(presses):
        handle.press("ArrowRight")
    page.wait_for_function(
        "([el, before]) => el.textContent.trim() !== before.trim()",
        arg=[readout.element_handle(), before], timeout=30_000)
    return before, readout.inner_text()


_IMAGE_SIZES = """() => Array.from(document.querySelectorAll('.jp-OutputArea-output img.widget-image'))
    .filter(img => img.naturalWidth > 0 && img.offsetParent !== null)
    .map(img => ({w: img.getBoundingClientRect().width, h: img.getBoundingClientRect().height,
                  nw: img.naturalWidth, nh: img.naturalHeight}))"""


def _distorted_images(page) -> list[dict]:
    """Widget images whose displayed width/height differs from their natural ratio by > 2%."""
    sizes = page.evaluate(_IMAGE_SIZES)
    return [s for s in sizes if s["h"] > 0 and
            abs((s["w"] / s["h"]) / (s["nw"] / s["nh"]) - 1) > 0.02]


def _shoot_widgets(page, stem: str, limit: int = 6) -> None:
    """A screenshot of each widget output (at most ``limit``), to look at by eye."""
    widgets = page.locator(".jp-OutputArea-output:has(> .jupyter-widgets)")
    for k in range(min(widgets.count(), limit)):
        try:
            widgets.nth(k).scroll_into_view_if_needed()
            widgets.nth(k).screenshot(path=str(SHOTS / f"{stem}_widget{k}.png"))
        except Exception as err:  # noqa: BLE001 - a picture for people, not a check
            print(f"no screenshot of {stem} widget {k}: {err!r}")


def _start_here(lab):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = launch(p)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1600})
            page.goto(lab.url("00_start_here.ipynb"))
            state = run_all_cells(page)
            outputs = ".jp-OutputArea-output"
            page.wait_for_selector(f"{outputs} .widget-slider", timeout=60_000)
            # Altair renders through anywidget and vega-embed, offline: an svg or canvas.
            page.wait_for_selector(f"{outputs} .vega-embed :is(svg, canvas)", timeout=60_000)
            html = page.locator(f"{outputs} .widget-html").first
            html_before = html.inner_text()
            before, after = _slider_readout_moves(page, outputs)
            page.wait_for_function("([el, b]) => el.textContent !== b",
                                   arg=[html.element_handle(), html_before], timeout=30_000)
            widget = page.locator(f"{outputs} .widget-vbox").first
            widget.scroll_into_view_if_needed()
            time.sleep(1.0)  # let vega finish its redraw before the picture
            SHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SHOTS / "00_start_here.png"))
            widget.screenshot(path=str(SHOTS / "00_start_here_widget.png"))
            assert not _distorted_images(page), _distorted_images(page)
            return state, before, after, html_before, html.inner_text()
        finally:
            browser.close()


def test_start_here_widget_and_chart_render_and_respond(lab):
    state, before, after, html_before, html_after = _with_one_retry(_start_here, lab)
    assert state["done"] == state["total"] > 0
    assert float(after) > float(before), "the slider moved right"
    numbers = lambda s: [float(x) for x in re.findall(r"-?\d+\.\d+", s)]  # noqa: E731
    assert numbers(html_after) != numbers(html_before), "the readout followed the slider"
    assert (SHOTS / "00_start_here.png").stat().st_size > 10_000


# Every notebook but the start page (checked in detail above) runs in the real browser;
# where it shows a slider, moving the first one must change what its widget shows.
from workbench.devtools.notebooks import find_notebooks  # noqa: E402

from .browser import move_first_slider  # noqa: E402

LESSONS = [p for p in find_notebooks(ROOT / "notebooks") if p.name != "00_start_here.ipynb"]


def _lesson(lab, name):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = launch(p)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1400})
            page.goto(lab.url(name))
            state = run_all_cells(page)
            distorted = _distorted_images(page)
            moved = None
            if page.locator(".jp-OutputArea-output .widget-slider").count():
                moved = move_first_slider(page)
                time.sleep(1.0)
            SHOTS.mkdir(parents=True, exist_ok=True)
            shot = SHOTS / name.replace(".ipynb", ".png")
            cell = page.locator(".jp-Cell", has=page.locator(".jp-OutputArea-output .widget-slider")).first
            if moved:
                cell.screenshot(path=str(shot))
            else:
                page.screenshot(path=str(shot))
            distorted += _distorted_images(page)
            _shoot_widgets(page, name.replace(".ipynb", ""))
            return state, moved, distorted
        finally:
            browser.close()


@pytest.mark.timeout(1200)
@pytest.mark.parametrize("path", LESSONS, ids=[p.stem for p in LESSONS])
def test_lesson_runs_in_the_browser_and_its_widget_responds(lab, path):
    state, moved, distorted = _with_one_retry(_lesson, lab, path.name)
    assert state["done"] == state["total"] > 0
    assert not distorted, f"widget images shown with another aspect ratio than drawn: {distorted}"
    if moved is not None:
        before, after = moved
        assert before != after
