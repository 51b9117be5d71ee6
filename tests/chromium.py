"""A headless Chromium for the browser tests (``tests/test_browser.py``), driven over the DevTools
protocol on a pipe (``--remote-debugging-pipe``: no port, no websocket, no package to install).

    with Chromium.start(tmp_path) as browser:        # ChromiumUnavailable (the reason) if it cannot
        page = browser.open(Path("page.html"))        # waits for the load event
        page.evaluate("document.title")
        page.screenshot(tmp_path / "page.png")
        page.requests                                  # every URL the page asked for

The browser runs on a temporary profile with no network: a proxy that nothing listens on, so a
page that reaches for a CDN gets nothing (and the URL is in ``page.requests``). ``close`` stops
exactly the process it started (and its children, its own process group), then removes the profile.
Debian's package is ``chromium`` (``make chromium`` installs it when missing and possible).
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import select
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

CANDIDATES = ("/usr/lib/chromium/chromium", "chromium", "chromium-browser", "google-chrome")
START_SECONDS = 60
COMMAND_SECONDS = 60


class ChromiumUnavailable(RuntimeError):
    """No Chromium here, or it does not start; the message says which."""


def find_chromium() -> str | None:
    """The Chromium binary: Debian's real one behind its launcher script, else one on PATH."""
    for name in CANDIDATES:
        path = name if os.path.isabs(name) else shutil.which(name)
        if path and os.path.isfile(path) and os.access(path, os.X_OK):
            return path
    return None


class Chromium:
    def __init__(
        self, process: subprocess.Popen, to_browser: int, from_browser: int, profile: Path
    ):
        self.process = process
        self._out = to_browser
        self._in = from_browser
        self._profile = profile
        self._buffer = b""
        self._next_id = 0
        self.events: list[dict] = []

    @classmethod
    def start(cls, width: int = 1280, height: int = 900) -> Chromium:
        binary = find_chromium()
        if binary is None:
            raise ChromiumUnavailable(
                "Chromium is not installed (Debian's package `chromium`; `make chromium` installs it)"
            )
        profile = Path(tempfile.mkdtemp(prefix="dlhw-chromium-"))
        # fd 3: the browser reads commands; fd 4: it writes replies and events
        cmd_read, cmd_write = os.pipe()
        reply_read, reply_write = os.pipe()
        args = [
            binary,
            "--headless=new",
            "--remote-debugging-pipe",
            f"--user-data-dir={profile}",
            f"--window-size={width},{height}",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-extensions",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            "--proxy-server=http://127.0.0.1:9",  # nothing listens there: no network for the page
            "--allow-file-access-from-files",  # MathJax loads its own files with XHR from file://
            "about:blank",
        ]
        if os.geteuid() == 0:
            args.insert(1, "--no-sandbox")  # Chromium refuses to run as root with its sandbox

        # the browser reads commands on its fd 3 and writes on its fd 4: the pipes' ends are put
        # there in the child (through fds above 9 first, so that neither overwrites the other);
        # every other fd of this process is non-inheritable (PEP 446), so none leaks into it
        def fds():
            high = [fcntl.fcntl(fd, fcntl.F_DUPFD, 10) for fd in (cmd_read, reply_write)]
            for target, fd in zip((3, 4), high, strict=True):
                os.dup2(fd, target)
                os.close(fd)

        try:
            process = subprocess.Popen(
                args,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                close_fds=False,  # it would close the child's 3 and 4 after preexec_fn
                preexec_fn=fds,
                start_new_session=True,  # its own process group: close() stops exactly it
            )
        except OSError as err:
            shutil.rmtree(profile, ignore_errors=True)
            raise ChromiumUnavailable(f"{binary} does not start ({err})") from err
        finally:
            os.close(cmd_read)
            os.close(reply_write)
        browser = cls(process, cmd_write, reply_read, profile)
        try:
            browser.send("Browser.getVersion", timeout=START_SECONDS)
        except Exception as err:
            browser.close()
            raise ChromiumUnavailable(
                f"{binary} does not answer on its DevTools pipe ({err})"
            ) from err
        return browser

    # ------------------------------------------------------------------ the protocol

    def send(
        self, method: str, params: dict | None = None, session: str | None = None, timeout=None
    ):
        self._next_id += 1
        message = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._out, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + (timeout or COMMAND_SECONDS)
        while True:
            reply = self._receive(deadline)
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error'].get('message')}")
                return reply.get("result", {})
            self.events.append(reply)

    def wait_for(self, method: str, session: str, timeout: float = COMMAND_SECONDS) -> dict:
        """The first event ``method`` of ``session`` not seen yet (kept events are looked at first)."""
        deadline = time.monotonic() + timeout
        seen = 0
        while True:
            for i, event in enumerate(self.events[seen:], seen):
                if event.get("method") == method and event.get("sessionId") == session:
                    return self.events.pop(i)
            seen = len(self.events)
            self.events.append(self._receive(deadline))

    def _receive(self, deadline: float) -> dict:
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no answer from Chromium in time")
            ready, _, _ = select.select([self._in], [], [], left)
            if ready:
                chunk = os.read(self._in, 1 << 20)
                if not chunk:
                    raise RuntimeError("Chromium closed its DevTools pipe (it exited)")
                self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)

    def open(self, path: Path, width: int = 1280, height: int = 900) -> Page:
        """A new tab on the file ``path``, loaded (its load event fired)."""
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})[
            "sessionId"
        ]
        page = Page(self, session)
        for domain in ("Page", "Network", "Runtime"):
            self.send(f"{domain}.enable", session=session)
        self.send(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
            session=session,
        )
        self.send("Page.navigate", {"url": Path(path).resolve().as_uri()}, session=session)
        self.wait_for("Page.loadEventFired", session)
        return page

    def close(self) -> None:
        """Stop the browser this object started (its process group) and remove its profile."""
        try:
            os.close(self._out)
            os.close(self._in)
        except OSError:
            pass
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGTERM)
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)
            except ProcessLookupError:
                pass
        shutil.rmtree(self._profile, ignore_errors=True)

    def __enter__(self) -> Chromium:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class Page:
    def __init__(self, browser: Chromium, session: str):
        self.browser = browser
        self.session = session

    def evaluate(self, expression: str, timeout: float = COMMAND_SECONDS):
        """The value of a JavaScript expression in the page (a promise is awaited)."""
        result = self.browser.send(
            "Runtime.evaluate",
            {"expression": expression, "returnByValue": True, "awaitPromise": True},
            session=self.session,
            timeout=timeout,
        )
        if "exceptionDetails" in result:
            details = result["exceptionDetails"]
            text = details.get("exception", {}).get("description") or details.get("text")
            raise RuntimeError(f"the page's JavaScript failed: {text}")
        return result["result"].get("value")

    def screenshot(self, path: Path) -> Path:
        """A PNG of the whole page (beyond the viewport), written to ``path``."""
        data = self.browser.send(
            "Page.captureScreenshot",
            {"format": "png", "captureBeyondViewport": True},
            session=self.session,
        )["data"]
        path = Path(path)
        path.write_bytes(base64.b64decode(data))
        return path

    @property
    def requests(self) -> list[str]:
        """Every URL this page requested so far."""
        return [
            e["params"]["request"]["url"]
            for e in self.browser.events
            if e.get("method") == "Network.requestWillBeSent" and e.get("sessionId") == self.session
        ]
