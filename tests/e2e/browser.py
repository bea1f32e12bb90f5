"""A page as a real browser leaves it: Debian's Chromium, headless, scripts run.

`scripts/setup.sh` installs the `chromium` package (CHROMIUM names another binary). The
flags keep it off the network (this machine has none; the page must need none) and out
of any profile; `--virtual-time-budget` lets the page's scripts finish before the DOM is
dumped.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--virtual-time-budget=15000",
)  # fmt: skip


def chromium() -> str:
    found = os.environ.get("CHROMIUM") or shutil.which("chromium")
    if not found:
        pytest.fail("chromium is not installed: run `make setup` (Debian package chromium)")
    return found


def rendered_dom(page: Path, profile: Path) -> str:
    """The DOM of `page` after its scripts ran, as HTML text."""
    done = subprocess.run(
        [chromium(), *FLAGS, f"--user-data-dir={profile}", "--dump-dom", page.resolve().as_uri()],
        capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    return done.stdout


class RenderedPage(HTMLParser):
    """Tables (cell texts per row, by table id), the texts drawn inside each element with
    an id (e.g. a chart's SVG labels) and the classes found inside each such element."""

    def __init__(self, dom: str) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self.texts: dict[str, list[str]] = {}
        self.classes: dict[str, set[str]] = {}
        self._open: list[str | None] = []  # the id of each open element (None: no id)
        self._table: str | None = None
        self._cell: list[str] | None = None
        self.feed(dom)

    def _inside(self) -> list[str]:
        return [i for i in self._open if i]

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for owner in self._inside():
            self.classes.setdefault(owner, set()).update((attrs.get("class") or "").split())
        if tag not in ("meta", "br", "img", "input", "link", "path", "rect", "line"):
            self._open.append(attrs.get("id"))
        if tag == "table":
            self._table = attrs.get("id")
            self.tables[self._table] = []
        elif tag == "tr" and self._table:
            self.tables[self._table].append([])
        elif tag in ("td", "th") and self._table:
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("meta", "br", "img", "input", "link", "path", "rect", "line"):
            return
        if tag in ("td", "th") and self._cell is not None and self._table:
            self.tables[self._table][-1].append("".join(self._cell).strip())
            self._cell = None
        elif tag == "table":
            self._table = None
        if self._open:
            self._open.pop()

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)
        for owner in self._inside():
            self.texts.setdefault(owner, []).append(data)
