"""Headless Debian chromium driven by Playwright (its own browser download is not used;
`.ci/run` installs chromium when it is missing)."""
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium), as .ci/run does")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield b
        b.close()


class PageErrors(list):
    """JavaScript errors and failed loads seen by a page."""

    def watch(self, page):
        page.on("pageerror", lambda e: self.append(f"page error: {e}"))
        page.on("console", lambda m: self.append(f"console error: {m.text}") if m.type == "error" else None)
        return page


@pytest.fixture
def page_errors():
    return PageErrors()
