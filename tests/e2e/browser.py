"""Shared set-up for tests that drive Debian's chromium with Playwright."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = REPO_ROOT / "screenshots"
# Without the networking flags chromium spends its time on connections this network refuses.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}


def require_browser() -> object:
    """Skip the calling module unless chromium and Playwright are installed; return ``sync_api``."""
    if not CHROMIUM.exists():
        pytest.skip("Debian chromium (/usr/bin/chromium) is not installed: apt-get install chromium fonts-noto-cjk",
                    allow_module_level=True)
    return pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
