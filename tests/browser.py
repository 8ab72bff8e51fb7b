"""A real JupyterLab in headless Chromium, driven by Playwright, for the browser tests.

JupyterLab is started on 127.0.0.1 with a random token (auth and XSRF checks stay on), on
a copy of notebooks/ in a temporary folder. Chromium is Debian's package, found with
``shutil.which("chromium")``; Playwright never downloads a browser.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

CHROMIUM_FLAGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
]


def chromium_path() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class JupyterLab:
    """A JupyterLab server on a private copy of the notebooks; use as a context manager."""

    def __init__(self, notebooks: Path, workdir: Path):
        self.root = workdir / "lab"
        shutil.copytree(notebooks, self.root, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
        self.settings = workdir / "settings"
        news = self.settings / "@jupyterlab" / "apputils-extension"
        news.mkdir(parents=True)
        (news / "notification.jupyterlab-settings").write_text(json.dumps({"fetchNews": "false"}))
        self.token, self.port = secrets.token_hex(16), _free_port()
        self.log = workdir / "jupyterlab.log"
        self.process = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, notebook: str) -> str:
        workspace = uuid.uuid4().hex[:8]
        return f"{self.base}/lab/workspaces/w{workspace}/tree/{notebook}?reset&token={self.token}"

    def __enter__(self):
        cmd = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1",
               f"--port={self.port}", f"--IdentityProvider.token={self.token}",
               f"--ServerApp.root_dir={self.root}", "--LabApp.expose_app_in_browser=True",
               f"--LabApp.user_settings_dir={self.settings}",
               f"--LabApp.workspaces_dir={self.settings / 'workspaces'}"]
        if hasattr(os, "getuid") and os.getuid() == 0:
            cmd.append("--allow-root")
        env = dict(os.environ, OMP_NUM_THREADS="1", JUPYTER_PLATFORM_DIRS="1")
        self.process = subprocess.Popen(cmd, stdout=self.log.open("w"), stderr=subprocess.STDOUT,
                                        env=env)
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                with urllib.request.urlopen(f"{self.base}/api/status?token={self.token}", timeout=2):
                    return self
            except OSError:
                if self.process.poll() is not None:
                    break
                time.sleep(0.3)
        raise RuntimeError(f"JupyterLab did not start; log:\n{self.log.read_text()[-3000:]}")

    def __exit__(self, *exc):
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()


RUN_ALL = """async () => {
  const app = window.jupyterapp;
  const panel = app.shell.currentWidget;
  await panel.context.ready;
  await panel.sessionContext.ready;
  await app.commands.execute('notebook:run-all-cells');
  return panel.content.widgets.filter(c => c.model.type === 'code').length;
}"""

CELL_STATE = """() => {
  const panel = window.jupyterapp.shell.currentWidget;
  const code = panel.content.widgets.filter(c => c.model.type === 'code');
  const done = code.filter(c => c.model.executionCount !== null && c.model.executionCount !== undefined
                               && !c.node.querySelector('.jp-InputArea-prompt').textContent.includes('*'));
  const errors = [];
  for (const c of code) {
    for (const o of c.model.outputs.toJSON()) {
      if (o.output_type === 'error') errors.push(o.ename + ': ' + o.evalue);
    }
  }
  const idle = panel.sessionContext.session?.kernel?.status === 'idle';
  return {total: code.length, done: done.length, errors, idle};
}"""


def run_all_cells(page, timeout_s: float = 600) -> dict:
    """Run every cell of the open notebook; wait until all are done; return the state."""
    page.wait_for_selector(".jp-NotebookPanel", state="visible", timeout=60_000)
    page.wait_for_function("() => window.jupyterapp && window.jupyterapp.shell.currentWidget "
                           "&& window.jupyterapp.shell.currentWidget.sessionContext",
                           timeout=60_000)
    page.evaluate(RUN_ALL)
    deadline = time.time() + timeout_s
    state = {}
    while time.time() < deadline:
        state = page.evaluate(CELL_STATE)
        if state["errors"]:
            raise AssertionError(f"a cell raised in the browser: {state['errors']}")
        if state["total"] and state["done"] == state["total"] and state["idle"]:
            return state
        time.sleep(0.5)
    raise TimeoutError(f"cells did not finish in {timeout_s} s: {state}")


def launch(playwright):
    return playwright.chromium.launch(executable_path=chromium_path(), headless=True,
                                      args=CHROMIUM_FLAGS)


# What a widget shows, minus the slider itself: pictures, charts, text. When a slider moves,
# the widget's view must change this signature.
OUTPUT_SIGNATURE = """(cell) => {
  const parts = [];
  for (const img of cell.querySelectorAll('.jp-OutputArea-output img')) parts.push(img.src.length + ':' + img.src.slice(-64));
  for (const svg of cell.querySelectorAll('.jp-OutputArea-output .vega-embed svg')) parts.push(svg.innerHTML.length + svg.innerHTML.slice(-200));
  for (const c of cell.querySelectorAll('.jp-OutputArea-output canvas')) { try { parts.push(c.toDataURL().slice(-64)); } catch (e) {} }
  for (const el of cell.querySelectorAll('.jp-OutputArea-output :is(.widget-html-content, .widget-htmlmath-content, pre, table)')) parts.push(el.textContent);
  return parts.join('|');
}"""


def move_first_slider(page, presses: int = 3, timeout_ms: int = 60_000) -> tuple[str, str]:
    """Move the first slider in the notebook's outputs; wait until its cell's view changes.

    Returns the slider's readout before and after.
    """
    cell = page.locator(".jp-Cell", has=page.locator(".jp-OutputArea-output .widget-slider")).first
    cell.scroll_into_view_if_needed()
    slider = cell.locator(".jp-OutputArea-output .widget-slider").first
    readout = slider.locator(".widget-readout")
    before_readout = readout.inner_text()
    before = cell.evaluate(OUTPUT_SIGNATURE)
    handle = slider.locator(".noUi-handle").first
    handle.focus()
    for _ in range(presses):
        handle.press("ArrowRight")
    page.wait_for_function(f"([cell, before]) => ({OUTPUT_SIGNATURE})(cell) !== before",
                           arg=[cell.element_handle(), before], timeout=timeout_ms)
    return before_readout, readout.inner_text()
