#!/usr/bin/env python3
"""dashboard_cdp.py — drive headless Chromium over the DevTools protocol
(test_dashboard_chromium.sh). Python's standard library only: the
WebSocket client is written out here (RFC 6455, the client side of text
frames), so the test needs no package beyond Debian's chromium.

usage: dashboard_cdp.py DEVTOOLS_PORT
Reads one command a line on standard input, answers each with one line (a
JSON value, or "error: ..."), over one DevTools connection:
  open URL            navigate the first page to URL
  eval EXPR           the JSON value of the JavaScript expression (one line)
  click ELEMENT_ID    a real mouse click (press and release) on the element,
                      scrolled into view first
  shot FILE           save a PNG screenshot of the page
"""
import base64
import json
import os
import socket
import struct
import sys
import urllib.request


class WebSocket:
    def __init__(self, url):
        assert url.startswith("ws://")
        hostport, path = url[5:].split("/", 1)
        host, port = hostport.split(":")
        self.sock = socket.create_connection((host, int(port)), timeout=30)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall(
            (f"GET /{path} HTTP/1.1\r\nHost: {hostport}\r\nUpgrade: websocket\r\n"
             f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
             "Sec-WebSocket-Version: 13\r\n\r\n").encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(1)
            if not chunk:
                raise OSError("DevTools closed the connection during the handshake")
            head += chunk
        if b" 101 " not in head.split(b"\r\n", 1)[0]:
            raise OSError("DevTools refused the WebSocket: " + head.decode(errors="replace"))

    def _read(self, n):
        buf = b""
        while len(buf) < n:
            chunk = self.sock.recv(n - len(buf))
            if not chunk:
                raise OSError("DevTools closed the connection")
            buf += chunk
        return buf

    def send(self, text):
        data = text.encode()
        mask = os.urandom(4)
        n = len(data)
        if n < 126:
            head = struct.pack("!BB", 0x81, 0x80 | n)
        elif n < 65536:
            head = struct.pack("!BBH", 0x81, 0x80 | 126, n)
        else:
            head = struct.pack("!BBQ", 0x81, 0x80 | 127, n)
        self.sock.sendall(head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data)))

    def recv(self):
        message = b""
        while True:
            b0, b1 = self._read(2)
            n = b1 & 0x7F
            if n == 126:
                n = struct.unpack("!H", self._read(2))[0]
            elif n == 127:
                n = struct.unpack("!Q", self._read(8))[0]
            payload = self._read(n)  # the server never masks
            opcode = b0 & 0x0F
            if opcode == 0x9:  # ping: answer, keep reading
                continue
            if opcode == 0x8:
                raise OSError("DevTools closed the WebSocket")
            message += payload
            if b0 & 0x80:  # FIN
                return message.decode()


class Page:
    def __init__(self, port):
        targets = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list"))
        page = next(t for t in targets if t["type"] == "page")
        self.ws = WebSocket(page["webSocketDebuggerUrl"])
        self.next_id = 0

    def call(self, method, **params):
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == self.next_id:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg["result"]

    def eval(self, expr):
        r = self.call("Runtime.evaluate", expression=expr, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in r:
            raise RuntimeError(f"{expr}: {r['exceptionDetails']}")
        return r["result"].get("value")


def run(page, cmd, arg):
    if cmd == "open":
        page.call("Page.navigate", url=arg)
        return True
    if cmd == "eval":
        return page.eval(arg)
    if cmd == "click":
        box = page.eval(
            f"(() => {{ const e = document.getElementById({json.dumps(arg)}); "
            "e.scrollIntoView({block: 'center'}); const r = e.getBoundingClientRect(); "
            "return [r.x + r.width / 2, r.y + r.height / 2, r.width, r.height]; })()")
        if box[2] <= 0 or box[3] <= 0:
            raise RuntimeError(f"#{arg} is not visible")
        for kind in ("mousePressed", "mouseReleased"):
            page.call("Input.dispatchMouseEvent", type=kind, x=box[0], y=box[1],
                      button="left", clickCount=1)
        return True
    if cmd == "shot":
        png = page.call("Page.captureScreenshot", format="png")["data"]
        with open(arg, "wb") as f:
            f.write(base64.b64decode(png))
        return True
    raise RuntimeError(f"unknown command {cmd}")


def main():
    page = Page(sys.argv[1])
    for line in sys.stdin:
        cmd, _, arg = line.rstrip("\n").partition(" ")
        try:
            print(json.dumps(run(page, cmd, arg)), flush=True)
        except (RuntimeError, KeyError, TypeError) as e:
            print(f"error: {e}", flush=True)


if __name__ == "__main__":
    main()
