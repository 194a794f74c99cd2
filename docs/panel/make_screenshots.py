"""The hint panel in a real JupyterLab, driven by headless Chromium: screenshots before and after a click.

    python docs/panel/make_screenshots.py [--photo PATH] [--model HINT_MODEL.keras] [--out docs/panel]

Needs JupyterLab (the notebooks extra), Debian's `chromium` package and `pip install playwright` (it drives the
system's Chromium; no browser is downloaded). It starts JupyterLab on a free port in a temporary folder, opens a
notebook whose one cell shows `HintPanel(photo)`, runs it, screenshots the panel, clicks on the photo at --click
(fractions of its width and height), waits until the panel reports the point, and screenshots it again. It fails
(exit 1) if the panel does not appear or the click is not registered. Not part of the test suite: CI has no
Chromium. The unit tests of the panel's actions are tests/apps/test_panel.py.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def notebook(photo: Path, model: str | None, color: str) -> dict:
    source = ("from colorize_utils.panel import HintPanel\n"
              f"panel = HintPanel({str(photo)!r}, model={model!r})\n"
              f"panel.picker.value = {color!r}\n"
              "panel")
    return {"cells": [{"cell_type": "code", "execution_count": None, "id": "panel", "metadata": {},
                       "outputs": [], "source": source}],
            "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}},
            "nbformat": 4, "nbformat_minor": 5}


def wait_for_server(url: str, seconds: float = 90) -> None:
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError(f"JupyterLab did not answer at {url} within {seconds:.0f} s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--photo", required=True, help="the photo to show (it is not copied into the project)")
    parser.add_argument("--model", default=None, help="a hint model (default: the shipped hint colorizer)")
    parser.add_argument("--out", default=str(HERE))
    parser.add_argument("--click", default="0.5,0.5", help="where to click, as fractions of the photo's size")
    parser.add_argument("--color", default="#c0392b", help="the picker's color for the click")
    parser.add_argument("--chromium", default=shutil.which("chromium") or "/usr/bin/chromium")
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    fx, fy = (float(v) for v in args.click.split(","))
    port = free_port()
    with tempfile.TemporaryDirectory() as folder:
        model = str(Path(args.model).resolve()) if args.model else None  # the notebook runs in another folder
        (Path(folder) / "panel.ipynb").write_text(json.dumps(notebook(Path(args.photo).resolve(), model, args.color)))
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        server = subprocess.Popen(
            [sys.executable, "-m", "jupyter", "lab", "--no-browser", f"--port={port}", "--allow-root",
             "--ServerApp.token=", "--ServerApp.password=", "--ServerApp.disable_check_xsrf=True",
             "--LabApp.news_url=", f"--ServerApp.root_dir={folder}"],
            cwd=folder, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_for_server(f"http://127.0.0.1:{port}/lab")
            with sync_playwright() as driver:
                browser = driver.chromium.launch(executable_path=args.chromium, headless=True,
                                                 args=["--no-sandbox"])
                page = browser.new_page(viewport={"width": 1400, "height": 900})
                page.goto(f"http://127.0.0.1:{port}/lab/tree/panel.ipynb", wait_until="networkidle")
                page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60_000)
                page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=120_000)
                news = page.get_by_role("button", name="No")  # JupyterLab's "get notified about news?" toast
                if news.count():
                    news.first.click()
                dialog = page.locator(".jp-Dialog")
                if dialog.count():  # e.g. a fresh JupyterLab asking which kernel: its default button accepts
                    print("a JupyterLab dialog: " + dialog.first.inner_text().replace("\n", " | ")[:300])
                    dialog.locator(".jp-mod-accept").first.click()
                    dialog.first.wait_for(state="detached", timeout=30_000)
                page.locator(".jp-Notebook .jp-Cell").first.click()
                page.keyboard.press("Shift+Enter")
                pictures = page.locator(".widget-image")
                try:
                    pictures.first.wait_for(timeout=300_000)
                except Exception:
                    page.screenshot(path=str(out / "panel_failed.png"))  # what the notebook showed instead
                    raise
                status = page.locator(".widget-label", has_text="point(s)")
                status.first.wait_for(timeout=60_000)
                if "0 point(s)" not in status.first.inner_text():
                    raise RuntimeError(f"the panel starts with {status.first.inner_text()!r}, not 0 points")
                panel = page.locator(".widget-vbox").first
                panel.scroll_into_view_if_needed()
                time.sleep(1)
                panel.screenshot(path=str(out / "panel_before.png"))
                box = pictures.first.bounding_box()
                page.mouse.click(box["x"] + fx * box["width"], box["y"] + fy * box["height"])
                page.locator(".widget-label", has_text="1 point(s)").first.wait_for(timeout=60_000)
                time.sleep(1)
                panel.screenshot(path=str(out / "panel_after.png"))
                browser.close()
        finally:
            server.terminate()
            server.wait(timeout=30)
    print(f"wrote {out / 'panel_before.png'} and {out / 'panel_after.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
