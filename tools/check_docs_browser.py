"""Checks the built documentation site in a real browser (headless Chromium).

    python tools/check_docs_browser.py SHOTS_DIR [--site site] [--build] [--allow-network]

Serves the built site (`mkdocs build --strict` writes it to `site/`; `--build` runs it
first, as does a missing `site/`) on 127.0.0.1, opens the home page and one API page in
headless Chromium, driven through the Chrome DevTools protocol (no Python dependency
beyond the standard library and Pillow, which matplotlib already needs), writes a
screenshot of each into SHOTS_DIR and fails (exit 1) when a page

- logs a console error, throws an uncaught exception, or fails to load one of the site's
  own files;
- is blank: fewer than `MIN_TEXT` characters of text in its main article, or fewer than
  `MIN_INK` of its screenshot's pixels differ from the background colour.

Requests to other hosts (the MathJax CDN) are blocked by default, so the check gives the
same answer with or without a network; each blocked URL is listed. `--allow-network` lets
them through, and then their failures count as errors too.

Chromium: Debian's `chromium` package (`apt-get install -y chromium`), or `--chromium
PATH`. Where it runs: by hand, on a machine that has it (docs/index.md, "Building the
documentation"); not in CI, whose machine has no browser.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import functools
import http.server
import io
import json
import os
import re
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAGES = ("index.html", "api/integration/index.html")
MIN_TEXT = 200  # characters of text in the page's main article
MIN_INK = 0.01  # fraction of screenshot pixels that differ from the background
WINDOW = (1280, 1400)


class CheckError(Exception):
    pass


# ---------------------------------------------------------------------------------------
# A minimal WebSocket client (RFC 6455), enough for the DevTools protocol
# ---------------------------------------------------------------------------------------


class WebSocket:
    def __init__(self, url: str, timeout: float):
        m = re.fullmatch(r"ws://([^:/]+):(\d+)(/.*)", url)
        if not m:
            raise CheckError(f"DevTools URL: got {url!r}, expected ws://host:port/path")
        host, port, path = m.group(1), int(m.group(2)), m.group(3)
        self.sock = socket.create_connection((host, port), timeout=timeout)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall(
            (
                f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
                f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                "Sec-WebSocket-Version: 13\r\n\r\n"
            ).encode()
        )
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise CheckError("DevTools: connection closed during the handshake")
            head += chunk
        status = head.split(b"\r\n", 1)[0]
        if b" 101 " not in status:
            raise CheckError(f"DevTools handshake: {status.decode(errors='replace')}")
        self.buffer = head.split(b"\r\n\r\n", 1)[1]

    def _read(self, n: int) -> bytes:
        while len(self.buffer) < n:
            chunk = self.sock.recv(1 << 16)
            if not chunk:
                raise CheckError("DevTools: connection closed")
            self.buffer += chunk
        out, self.buffer = self.buffer[:n], self.buffer[n:]
        return out

    def _send_frame(self, opcode: int, payload: bytes) -> None:
        header = bytes([0x80 | opcode])
        n = len(payload)
        if n < 126:
            header += bytes([0x80 | n])
        elif n < 1 << 16:
            header += bytes([0x80 | 126]) + struct.pack(">H", n)
        else:
            header += bytes([0x80 | 127]) + struct.pack(">Q", n)
        mask = os.urandom(4)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(header + mask + masked)

    def send(self, text: str) -> None:
        self._send_frame(0x1, text.encode())

    def recv(self) -> str:
        parts = []
        while True:
            b0, b1 = self._read(2)
            opcode, n = b0 & 0x0F, b1 & 0x7F
            if n == 126:
                (n,) = struct.unpack(">H", self._read(2))
            elif n == 127:
                (n,) = struct.unpack(">Q", self._read(8))
            mask = self._read(4) if b1 & 0x80 else None
            payload = self._read(n)
            if mask:
                payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
            if opcode == 0x9:  # ping
                self._send_frame(0xA, payload)
                continue
            if opcode == 0x8:
                raise CheckError("DevTools: the browser closed the connection")
            if opcode in (0x0, 0x1, 0x2):
                parts.append(payload)
                if b0 & 0x80:
                    return b"".join(parts).decode()

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._send_frame(0x8, b"")
            self.sock.close()


class DevTools:
    """Commands and events over one flattened DevTools connection."""

    def __init__(self, ws: WebSocket):
        self.ws = ws
        self.next_id = 0
        self.events: list[dict] = []

    def call(self, method: str, params: dict | None = None, session: str | None = None):
        self.next_id += 1
        msg: dict = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        self.ws.send(json.dumps(msg))
        while True:
            reply = json.loads(self.ws.recv())
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    raise CheckError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            if "method" in reply:
                self.events.append(reply)

    def wait_for(self, method: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not any(e["method"] == method for e in self.events):
            if time.monotonic() > deadline:
                raise CheckError(f"timed out after {timeout} s waiting for {method}")
            self.ws.sock.settimeout(max(0.05, deadline - time.monotonic()))
            try:
                self.events.append(json.loads(self.ws.recv()))
            except TimeoutError:
                continue

    def drain(self, seconds: float) -> None:
        """Collects the events that arrive within `seconds`."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self.ws.sock.settimeout(max(0.05, deadline - time.monotonic()))
            try:
                self.events.append(json.loads(self.ws.recv()))
            except TimeoutError:
                pass


# ---------------------------------------------------------------------------------------
# The site, the browser, the checks
# ---------------------------------------------------------------------------------------


@contextlib.contextmanager
def serve(site: Path):
    handler = functools.partial(QuietHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        pass


def find_chromium(given: str | None) -> str:
    for name in ([given] if given else []) + ["chromium", "chromium-browser", "google-chrome"]:
        path = shutil.which(name) if name else None
        if path:
            return path
    raise CheckError(
        "no Chromium found: install Debian's package (apt-get install -y chromium) or "
        "pass --chromium PATH"
    )


@contextlib.contextmanager
def browser(chromium: str, allow_network: bool, timeout: float):
    profile = tempfile.mkdtemp(prefix="check_docs_browser_")
    args = [
        chromium,
        "--headless=new",
        "--disable-gpu",
        "--no-first-run",
        "--no-default-browser-check",
        "--disable-extensions",
        "--hide-scrollbars",
        "--remote-debugging-port=0",
        f"--user-data-dir={profile}",
        f"--window-size={WINDOW[0]},{WINDOW[1]}",
        "about:blank",
    ]
    if not allow_network:
        # Every host but the local server resolves to nothing: no request leaves.
        args.insert(1, "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1")
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        args.insert(1, "--no-sandbox")  # Chromium refuses to sandbox as root
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        url, seen = None, []
        deadline = time.monotonic() + timeout
        assert proc.stderr is not None
        while url is None:
            line = proc.stderr.readline()
            if not line:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise CheckError("Chromium did not start:\n" + "".join(seen[-20:]))
                continue
            seen.append(line)
            m = re.search(r"DevTools listening on (ws://\S+)", line)
            url = m.group(1) if m else None
        # Keep reading stderr so that Chromium never blocks on a full pipe.
        threading.Thread(target=proc.stderr.read, daemon=True).start()
        ws = WebSocket(url, timeout)
        try:
            yield DevTools(ws)
        finally:
            ws.close()
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        shutil.rmtree(profile, ignore_errors=True)


def ink_fraction(png: bytes) -> float:
    """The fraction of pixels whose colour differs from the most common one."""
    from PIL import Image

    img = Image.open(io.BytesIO(png)).convert("RGB")
    small = img.resize((img.width // 2, img.height // 2))
    colours = small.getcolors(maxcolors=small.width * small.height)
    assert colours is not None
    background = max(colours)[0]
    return 1.0 - background / (small.width * small.height)


def check_page(
    tools: DevTools, base: str, page: str, shots: Path, timeout: float
) -> tuple[list[str], list[str], dict]:
    """Opens one page; returns (errors, blocked external URLs, measurements)."""
    target = tools.call("Target.createTarget", {"url": "about:blank"})["targetId"]
    session = tools.call("Target.attachToTarget", {"targetId": target, "flatten": True})[
        "sessionId"
    ]
    for domain in ("Page", "Runtime", "Log", "Network"):
        tools.call(f"{domain}.enable", session=session)
    tools.events.clear()
    url = base + page
    tools.call("Page.navigate", {"url": url}, session=session)
    tools.wait_for("Page.loadEventFired", timeout)
    tools.drain(1.5)  # scripts run after load (search index, MathJax, theme)

    errors, blocked, requests = [], [], {}
    for event in tools.events:
        if event.get("sessionId") != session:
            continue
        method, params = event["method"], event.get("params", {})
        if method == "Network.requestWillBeSent":
            requests[params["requestId"]] = params["request"]["url"]
        elif method == "Network.loadingFailed":
            failed = requests.get(params["requestId"], "?")
            if failed.startswith(base):
                errors.append(f"failed to load {failed}: {params.get('errorText')}")
            else:
                blocked.append(failed)
        elif method == "Network.responseReceived":
            response = params["response"]
            if response["url"].startswith(base) and response["status"] >= 400:
                errors.append(f"HTTP {response['status']} for {response['url']}")
        elif method == "Runtime.exceptionThrown":
            details = params["exceptionDetails"]
            text = details.get("exception", {}).get("description") or details.get("text")
            errors.append(f"uncaught exception: {text}")
        elif method == "Runtime.consoleAPICalled" and params["type"] in ("error", "assert"):
            text = " ".join(str(a.get("value", a.get("description", ""))) for a in params["args"])
            errors.append(f"console.{params['type']}: {text}")
        elif method == "Log.entryAdded" and params["entry"]["level"] == "error":
            entry = params["entry"]
            # A failed request to a blocked host is logged here too: listed, not failed.
            if entry.get("source") == "network" and not entry.get("url", "").startswith(base):
                continue
            errors.append(f"console error ({entry.get('source')}): {entry['text']}")

    evaluate = tools.call(
        "Runtime.evaluate",
        {
            "expression": "JSON.stringify({title: document.title, text: "
            "(document.querySelector('article') || document.body).innerText.trim().length})",
            "returnByValue": True,
        },
        session=session,
    )
    info = json.loads(evaluate["result"]["value"])
    shot = tools.call("Page.captureScreenshot", {"format": "png"}, session=session)
    png = base64.b64decode(shot["data"])
    name = page.replace("/index.html", "").replace("/", "_").replace(".html", "") or "index"
    (shots / f"{name}.png").write_bytes(png)
    ink = ink_fraction(png)
    if info["text"] < MIN_TEXT:
        errors.append(f"blank page: {info['text']} characters of main text (< {MIN_TEXT})")
    if ink < MIN_INK:
        errors.append(f"blank page: {ink:.3%} of the screenshot is not background")
    if not info["title"]:
        errors.append("the page has no title")
    tools.call("Target.closeTarget", {"targetId": target})
    return errors, blocked, dict(info, ink=ink, screenshot=str(shots / f"{name}.png"))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("shots", type=Path, help="folder for the screenshots (created)")
    parser.add_argument("--site", type=Path, default=ROOT / "site", help="the built site")
    parser.add_argument("--build", action="store_true", help="run mkdocs build --strict first")
    parser.add_argument("--pages", nargs="+", default=list(PAGES), help="pages to open")
    parser.add_argument("--chromium", help="the browser's executable")
    parser.add_argument("--allow-network", action="store_true", help="let external requests out")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per page")
    args = parser.parse_args(argv)

    try:
        chromium = find_chromium(args.chromium)
        if args.build or not (args.site / "index.html").exists():
            subprocess.run(
                [sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(args.site)],
                cwd=ROOT,
                check=True,
            )
        args.shots.mkdir(parents=True, exist_ok=True)
        failed = False
        with serve(args.site) as base, browser(chromium, args.allow_network, args.timeout) as t:
            for page in args.pages:
                errors, blocked, info = check_page(t, base, page, args.shots, args.timeout)
                status = "FAIL" if errors else "ok"
                print(
                    f"{status} {page}: title {info['title']!r}, {info['text']} characters, "
                    f"{info['ink']:.1%} ink, screenshot {info['screenshot']}"
                )
                for url in sorted(set(blocked)):
                    print(f"    blocked (external, not checked): {url}")
                for error in errors:
                    print(f"    {error}")
                failed |= bool(errors)
    except (CheckError, subprocess.CalledProcessError) as e:
        print(f"check_docs_browser: {e}", file=sys.stderr)
        return 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
