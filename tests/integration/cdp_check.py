#!/usr/bin/env python3
"""cdp_check.py PAGE -- opens PAGE (a file) in headless Chromium and checks,
through the DevTools protocol, that it loads with no console error or
warning, no uncaught exception, no failed request and no broken image.

Prints each problem and exits 1 when there is one, 0 when the page is
clean, 77 when Chromium cannot run here (the reason on stderr): the caller
skips then. Standard library only: a minimal WebSocket client (RFC 6455,
text frames) speaks to Chromium's --remote-debugging-port.
Usage: cdp_check.py PAGE [CHROMIUM]"""
import base64
import json
import os
import re
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time

SKIP = 77


def skip(why):
    print("cdp_check: skipped: " + why, file=sys.stderr)
    sys.exit(SKIP)


class WS:
    def __init__(self, url):
        m = re.match(r"ws://([^:/]+):(\d+)(/.*)", url)
        self.s = socket.create_connection((m.group(1), int(m.group(2))), timeout=30)
        key = base64.b64encode(os.urandom(16)).decode()
        self.s.sendall(("GET %s HTTP/1.1\r\nHost: %s:%s\r\nUpgrade: websocket\r\n"
                        "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
                        "Sec-WebSocket-Version: 13\r\n\r\n"
                        % (m.group(3), m.group(1), m.group(2), key)).encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.s.recv(4096)
            if not chunk:
                raise OSError("DevTools closed the connection during the handshake")
            head += chunk
        status, self.buf = head.split(b"\r\n\r\n", 1)
        if b" 101 " not in status.split(b"\r\n")[0]:
            raise OSError("DevTools refused the WebSocket: %r" % status[:200])

    def send(self, obj):
        data = json.dumps(obj).encode()
        mask = os.urandom(4)
        n = len(data)
        if n < 126:
            hdr = struct.pack("!BB", 0x81, 0x80 | n)
        elif n < 65536:
            hdr = struct.pack("!BBH", 0x81, 0x80 | 126, n)
        else:
            hdr = struct.pack("!BBQ", 0x81, 0x80 | 127, n)
        self.s.sendall(hdr + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data)))

    def _read(self, n):
        while len(self.buf) < n:
            chunk = self.s.recv(65536)
            if not chunk:
                raise OSError("DevTools closed the connection")
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def recv(self):
        msg = b""
        while True:
            b0, b1 = self._read(2)
            n = b1 & 0x7F
            if n == 126:
                n = struct.unpack("!H", self._read(2))[0]
            elif n == 127:
                n = struct.unpack("!Q", self._read(8))[0]
            if b1 & 0x80:
                mask = self._read(4)
                payload = bytes(b ^ mask[i % 4] for i, b in enumerate(self._read(n)))
            else:
                payload = self._read(n)
            op = b0 & 0x0F
            if op == 0x8:
                raise OSError("DevTools closed the WebSocket")
            if op in (0x9, 0xA):  # ping, pong: nothing to answer for this short use
                continue
            msg += payload
            if b0 & 0x80:
                return json.loads(msg)


def main():
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    page = os.path.abspath(sys.argv[1])
    browser = sys.argv[2] if len(sys.argv) > 2 else (shutil.which("chromium") or
                                                     shutil.which("chromium-browser"))
    if not browser:
        skip("no chromium on PATH (scripts/setup installs Debian's chromium)")
    profile = tempfile.mkdtemp(prefix="lumos-cdp-")
    args = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
            "--no-first-run", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--disable-extensions", "--user-data-dir=" + profile,
            "--remote-debugging-port=0", "about:blank"]
    try:
        proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE)
    except OSError as e:
        skip("chromium cannot start: %s" % e)
    url, seen = None, []
    deadline = time.time() + 30
    try:
        while time.time() < deadline:
            line = proc.stderr.readline().decode(errors="replace")
            if not line:
                if proc.poll() is not None:
                    break
                continue
            seen.append(line.rstrip())
            m = re.search(r"DevTools listening on (ws://\S+)", line)
            if m:
                url = m.group(1)
                break
        if not url:
            proc.kill()
            skip("chromium did not start its DevTools endpoint (exit %s): %s"
                 % (proc.poll(), " | ".join(seen[-5:])))
        # Keep its stderr drained so that it never blocks on a full pipe.
        import threading
        threading.Thread(target=lambda: proc.stderr.read(), daemon=True).start()
        problems = check(WS(url), page)
    finally:
        proc.kill()
        proc.wait()
        shutil.rmtree(profile, ignore_errors=True)
    for p in problems:
        print("cdp_check: " + p)
    sys.exit(1 if problems else 0)


def check(ws, page):
    next_id = [0]

    def call(method, params=None, session=None):
        next_id[0] += 1
        msg = {"id": next_id[0], "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        ws.send(msg)
        while True:
            r = ws.recv()
            events.append(r)
            if r.get("id") == next_id[0]:
                if "error" in r:
                    raise OSError("%s: %s" % (method, r["error"]))
                return r.get("result", {})

    events = []
    target = call("Target.createTarget", {"url": "about:blank"})["targetId"]
    session = call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
    for m in ("Page.enable", "Runtime.enable", "Log.enable", "Network.enable"):
        call(m, session=session)
    events.clear()
    call("Page.navigate", {"url": "file://" + page}, session=session)
    deadline = time.time() + 30
    loaded = False
    while time.time() < deadline and not loaded:
        r = ws.recv()
        events.append(r)
        loaded = r.get("method") == "Page.loadEventFired"
    if not loaded:
        return ["the page did not finish loading in 30 s"]
    # Late console messages and image decoding: a moment more.
    ws.s.settimeout(0.5)
    try:
        while True:
            events.append(ws.recv())
    except (socket.timeout, OSError):
        pass
    ws.s.settimeout(30)
    broken = call("Runtime.evaluate", {
        "expression": "JSON.stringify(Array.from(document.images)"
                      ".filter(i => !i.complete || i.naturalWidth === 0).map(i => i.src))",
        "returnByValue": True}, session=session)["result"]["value"]
    problems = ["broken image: " + s for s in json.loads(broken)]
    for e in events:
        m, p = e.get("method"), e.get("params", {})
        if m == "Runtime.consoleAPICalled" and p.get("type") in ("error", "warning", "assert"):
            problems.append("console %s: %s" % (p["type"], " ".join(
                str(a.get("value", a.get("description", ""))) for a in p.get("args", []))))
        elif m == "Runtime.exceptionThrown":
            problems.append("exception: %s" % p.get("exceptionDetails", {}).get("text"))
        elif m == "Log.entryAdded" and p.get("entry", {}).get("level") in ("error", "warning"):
            en = p["entry"]
            problems.append("log %s: %s %s" % (en["level"], en.get("text"), en.get("url", "")))
        elif m == "Network.loadingFailed":
            problems.append("failed request: %s (%s)" % (p.get("requestId"), p.get("errorText")))
        elif m == "Network.responseReceived" and p.get("response", {}).get("status", 200) >= 400:
            problems.append("HTTP %s: %s" % (p["response"]["status"], p["response"]["url"]))
    images = call("Runtime.evaluate", {"expression": "document.images.length",
                                       "returnByValue": True}, session=session)["result"]["value"]
    print("cdp_check: %s loaded, %d images" % (page, images))
    return problems


if __name__ == "__main__":
    main()
