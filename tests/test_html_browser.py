"""The HTML report as a person sees it: headless Chromium opens a passing and a failing suite's
report offline, with no console error and no request leaving the file, and keeps a screenshot.

Chromium is driven through the DevTools protocol over a pipe (``--remote-debugging-pipe``:
JSON messages separated by NUL bytes on file descriptors 3 and 4), so that nothing but the
standard library is needed. CI installs Debian's chromium (.ci/run); there (CI set) a missing
browser is a failure, not a skip.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import json
import os
import select
import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import Result

from gumbelcheck.suite.spec import DEFAULT_SUITE, parse_suite

Cli = Callable[..., Result]

#: The flags of a quiet, offline, throwaway browser.
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-dev-shm-usage",
    "--host-resolver-rules=MAP * ~NOTFOUND",  # a request is seen, never sent anywhere
    "--remote-debugging-pipe",
)

#: How long a page may take to load, in seconds.
TIMEOUT = 30.0

FAILING = """
alpha = 0.01

[[check]]
name = "exact"
check = "maxtrick"
pi = [0.2, 0.3, 0.5]
samples = 100_000
seed = 1

[[check]]
name = "wrong-scale"
check = "maxtrick"
pi = [0.2, 0.3, 0.5]
samples = 100_000
seed = 1
sampler = "gumbel-scale-2"

[[check]]
name = "topk-with-replacement"
check = "topk"
pi = [0.1, 0.2, 0.3, 0.4]
m = 2
samples = 100_000
seed = 2
noise = "with-replacement"
"""


def _chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        message = "chromium is not installed (apt-get install -y chromium)"
        if os.environ.get("CI"):
            pytest.fail(f"{message}; CI must install it (.ci/run does)")
        pytest.skip(message)
    return found


class Browser:
    """A headless Chromium and one page, spoken to in the DevTools protocol over a pipe."""

    def __init__(self, executable: str, profile: Path) -> None:
        to_browser_r, self._to_browser = os.pipe()
        self._from_browser, from_browser_w = os.pipe()
        # The browser reads commands on fd 3 and writes answers and events on fd 4; bash puts
        # the pipes there (no preexec_fn: a plain fork would upset a threaded JAX that other
        # tests imported). Above 9 first, so that the moves cannot collide (bash, not sh:
        # dash reads only one-digit descriptors).
        high_r = fcntl.fcntl(to_browser_r, fcntl.F_DUPFD, 10)
        high_w = fcntl.fcntl(from_browser_w, fcntl.F_DUPFD, 10)
        wire = f'exec "$0" "$@" 3<&{high_r} 4>&{high_w} {high_r}<&- {high_w}>&-'
        self._process = subprocess.Popen(
            ["bash", "-c", wire, executable, *FLAGS, f"--user-data-dir={profile}"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            pass_fds=(high_r, high_w),
        )
        for fd in (to_browser_r, from_browser_w, high_r, high_w):
            os.close(fd)
        self._buffer = b""
        self._next_id = 0
        self.events: list[dict[str, Any]] = []
        try:
            target = self.call("Target.createTarget", url="about:blank")["targetId"]
            attached = self.call("Target.attachToTarget", targetId=target, flatten=True)
        except BaseException:
            self.close()  # no browser left behind
            raise
        self._session = attached["sessionId"]

    def close(self) -> None:
        with contextlib.suppress(OSError, TimeoutError):  # it may be gone already
            self.call("Browser.close", session=False)
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        os.close(self._to_browser)
        os.close(self._from_browser)

    def _read(self, deadline: float) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._from_browser], [], [], left)[0]:
                raise TimeoutError("chromium did not answer")
            chunk = os.read(self._from_browser, 1 << 20)
            if not chunk:
                raise OSError("chromium closed its pipe")
            self._buffer += chunk
        message, _, self._buffer = self._buffer.partition(b"\0")
        decoded: dict[str, Any] = json.loads(message)
        return decoded

    def call(self, method: str, session: bool = True, **params: Any) -> dict[str, Any]:
        """Send a command (to the page unless ``session`` is False) and return its result;
        events that arrive meanwhile are kept in :attr:`events`."""
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params}
        if session and hasattr(self, "_session"):
            message["sessionId"] = self._session
        os.write(self._to_browser, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + TIMEOUT
        while True:
            answer = self._read(deadline)
            if answer.get("id") == self._next_id:
                if "error" in answer:
                    raise RuntimeError(f"{method}: {answer['error']}")
                result: dict[str, Any] = answer.get("result", {})
                return result
            self.events.append(answer)

    def wait_for(self, method: str) -> None:
        """Wait until the page sends the event ``method``."""
        deadline = time.monotonic() + TIMEOUT
        while not any(e.get("method") == method for e in self.events):
            self.events.append(self._read(deadline))

    def open(self, url: str) -> None:
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.call(f"{domain}.enable")
        self.call("Emulation.setDeviceMetricsOverride", width=1200, height=900,
                  deviceScaleFactor=1, mobile=False)  # fmt: skip
        self.call("Page.navigate", url=url)
        self.wait_for("Page.loadEventFired")

    def evaluate(self, expression: str) -> Any:
        answer = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        return answer["result"].get("value")

    def screenshot(self, path: Path) -> None:
        """A PNG of the whole page."""
        size = self.call("Page.getLayoutMetrics")["cssContentSize"]
        clip = {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1}
        shot = self.call("Page.captureScreenshot", format="png", clip=clip,
                         captureBeyondViewport=True)  # fmt: skip
        path.write_bytes(base64.b64decode(shot["data"]))

    def problems(self) -> list[str]:
        """Console errors and warnings, uncaught exceptions, and requests for anything but
        the report file itself."""
        found = []
        for event in self.events:
            method, params = event.get("method"), event.get("params", {})
            if method == "Runtime.consoleAPICalled" and params["type"] in ("error", "warning"):
                found.append(f"console {params['type']}: {params['args']}")
            elif method == "Runtime.exceptionThrown":
                found.append(f"exception: {params['exceptionDetails']}")
            elif method == "Log.entryAdded" and params["entry"]["level"] in ("error", "warning"):
                found.append(f"log {params['entry']['level']}: {params['entry']['text']}")
            elif method == "Network.requestWillBeSent":
                url = params["request"]["url"]
                if not url.startswith(("file:", "data:", "about:")):
                    found.append(f"request: {url}")
        return found


def _look(html: Path, shot: Path, tmp_path: Path) -> dict[str, Any]:
    """Open ``html`` in Chromium; what the page shows, after checking it asked for nothing."""
    browser = Browser(_chromium(), tmp_path / f"profile-{html.stem}")
    try:
        browser.open(html.resolve().as_uri())
        seen = browser.evaluate(
            """({
              sections: [...document.querySelectorAll('section[id]')].map(s => s.id),
              figures: [...document.querySelectorAll('section[id]')]
                .filter(s => s.querySelector('figure svg')).length,
              links: [...document.querySelectorAll('a[href^="#"]')]
                .map(a => a.getAttribute('href').slice(1)),
              verdicts: [...document.querySelectorAll('h2 .verdict')].map(v => v.textContent),
              drawn: [...document.querySelectorAll('figure svg')]
                .every(s => s.getBoundingClientRect().width > 300),
              scripts: document.scripts.length,
              title: document.title,
            })"""
        )
        browser.screenshot(shot)
        assert browser.problems() == []
    finally:
        browser.close()
    assert shot.stat().st_size > 10_000
    return dict(seen)


def test_a_passing_and_a_failing_suite_render_offline_in_chromium(cli: Cli, tmp_path: Path) -> None:
    _chromium()
    passing = tmp_path / "passing.html"
    assert cli("suite", "--html", str(passing), "-q").exit_code == 0
    seen = _look(passing, tmp_path / "passing.png", tmp_path)
    assert seen["title"] == "gumbelcheck suite: PASS"
    assert seen["scripts"] == 0
    checks = len(parse_suite(DEFAULT_SUITE).checks)
    assert len(seen["sections"]) == checks
    assert seen["figures"] == checks, "every check of the default suite shows its figure"
    assert seen["drawn"]
    assert set(seen["sections"]) <= set(seen["links"]), "the summary links every section"
    assert set(seen["verdicts"]) == {"PASS"}

    config = tmp_path / "failing.toml"
    config.write_text(FAILING)
    failing = tmp_path / "failing.html"
    assert cli("suite", "--config", str(config), "--html", str(failing), "-q").exit_code == 1
    seen = _look(failing, tmp_path / "failing.png", tmp_path)
    assert seen["title"] == "gumbelcheck suite: FAIL"
    assert seen["verdicts"] == ["PASS", "FAIL", "FAIL"]
    assert seen["figures"] == 3
    assert seen["drawn"]


def test_the_browser_check_sees_console_errors_and_external_requests(tmp_path: Path) -> None:
    page = tmp_path / "bad.html"
    page.write_text(
        '<!DOCTYPE html><html><head><meta charset="utf-8"><title>bad</title></head><body>'
        '<img src="http://gumbelcheck.invalid/x.png" alt="">'
        "<script>console.error('boom')</script></body></html>"
    )
    browser = Browser(_chromium(), tmp_path / "profile")
    try:
        browser.open(page.resolve().as_uri())
        problems = browser.problems()
    finally:
        browser.close()
    assert any(p.startswith("console error") and "boom" in p for p in problems), problems
    assert "request: http://gumbelcheck.invalid/x.png" in problems
