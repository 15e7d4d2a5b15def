#!/usr/bin/env python3
"""A local stand-in for Binance's public market-data endpoints, for tests
and benchmarks: the combined-stream WebSocket (/stream?streams=...) and the
REST depth snapshot and exchangeInfo (spot /api/v3/..., USD-M /fapi/v1/...),
on one plain-HTTP port. It serves the captured messages of
../shared/data/binance (gzip, `<recv ns> <JSON>` per line) at their recorded
pace times --speed (0 = as fast as the client reads), keeps the book the
diffs describe so a depth snapshot is true at any moment, and can misbehave
on purpose: drop the connection, leave out one depth diff (a gap in the
update ids), or stall. Python standard library only; the WebSocket framing
(RFC 6455) is written out below.

Usage: binance_server.py --port-file F [--market spot|usdm] [--speed X]
       [--drop-after N] [--skip-at N] [--stall-at N --stall-ms M]
       [--max-messages N] [--ping-ms M] FILE.gz [FILE.gz ...]
--max-messages counts messages of the capture (from its start, all
streams); the other counts are of messages sent. The port is written to F.
"""
import argparse
import base64
import gzip
import hashlib
import heapq
import json
import re
import os
import signal
import socket
import socketserver
import struct
import sys
import threading
import time
from decimal import Decimal

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
# event and trade times ("E", "T") are restamped to the moment of sending:
# the captures are old, and the host compares exchange time with its clock
TIMES = re.compile(r'"([ET])":\d+')
# exchangeInfo of the captured symbols, as Binance gives them
SPOT_INFO = {
    "BTCUSDT": ("0.01000000", "0.00001000"),
    "ETHUSDT": ("0.01000000", "0.00010000"),
}
USDM_INFO = {"BTCUSDT": ("0.10", "0.001", 2, 3)}


def log(msg):
    sys.stderr.write("binance_server: %s\n" % msg)
    sys.stderr.flush()


class Market:
    """The capture as one merged stream, the cursor, and the books."""

    def __init__(self, files, usdm):
        self.usdm = usdm
        self.lock = threading.Lock()
        streams = [self._read(f) for f in files]
        self.msgs = []  # (recv_ns, symbol, kind, json text)
        self.books = {}  # symbol -> [last u, {px: qty} bids, {px: qty} asks]
        snaps = {}
        last_sym = None
        for recv, text in heapq.merge(*streams, key=lambda m: m[0]):
            if text.startswith('{"stream"'):
                stream = text[11 : text.index('"', 11)]
                sym, _, kind = stream.partition("@")
                sym = sym.upper()
                last_sym = sym
                kind = "depth" if kind.startswith("depth") else kind
                self.msgs.append((recv, sym, kind, text))
            elif '"lastUpdateId"' in text and last_sym and last_sym not in snaps:
                snaps[last_sym] = len(self.msgs)
                s = json.loads(text)
                self.books[last_sym] = [
                    s["lastUpdateId"],
                    {p: q for p, q in s["bids"]},
                    {p: q for p, q in s["asks"]},
                ]
        # The books start from the capture's snapshots, and the stream from
        # its first message: diffs already in a snapshot leave the book as
        # it is (u <= its id), and the diff that bridges a snapshot is often
        # received before it, so it must not be skipped.
        self.pos = 0
        self.symbols = sorted(self.books)
        self.sent = 0
        log("%d messages, symbols %s, serving from message %d"
            % (len(self.msgs), ",".join(self.symbols), self.pos))

    @staticmethod
    def _read(path):
        with gzip.open(path, "rt") as f:
            for line in f:
                sp = line.find(" ")
                if sp > 0:
                    yield int(line[:sp]), line[sp + 1 :].rstrip("\n")

    def apply(self, sym, text):
        d = json.loads(text)["data"]
        with self.lock:
            book = self.books.get(sym)
            if book is None or d["u"] <= book[0]:
                return
            for side, levels in ((1, d["b"]), (2, d["a"])):
                for p, q in levels:
                    if Decimal(q) == 0:
                        book[side].pop(p, None)
                    else:
                        book[side][p] = q
            book[0] = d["u"]

    def snapshot(self, sym, limit):
        with self.lock:
            book = self.books.get(sym)
            if book is None:
                return None
            bids = sorted(book[1].items(), key=lambda l: Decimal(l[0]), reverse=True)[:limit]
            asks = sorted(book[2].items(), key=lambda l: Decimal(l[0]))[:limit]
            out = {"lastUpdateId": book[0]}
            if self.usdm:
                now = int(time.time() * 1000)
                out.update({"E": now, "T": now})
            out.update({"bids": [list(l) for l in bids], "asks": [list(l) for l in asks]})
            return json.dumps(out, separators=(",", ":"))


class Handler(socketserver.BaseRequestHandler):
    def handle(self):
        sock = self.request
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(4096)
            if not chunk:
                return
            data += chunk
        head = data.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
        method, target = head[0].split(" ")[:2]
        hdrs = {}
        for h in head[1:]:
            k, _, v = h.partition(":")
            hdrs[k.strip().lower()] = v.strip()
        path, _, query = target.partition("?")
        args = {}
        for kv in query.split("&"):
            k, _, v = kv.partition("=")
            args[k] = v
        if hdrs.get("upgrade", "").lower() == "websocket":
            self.websocket(sock, hdrs, args)
        else:
            self.rest(sock, path, args)

    def reply(self, sock, status, body):
        b = body.encode()
        sock.sendall(("HTTP/1.1 %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n"
                      "Connection: close\r\n\r\n" % (status, len(b))).encode() + b)

    def rest(self, sock, path, args):
        srv = self.server
        m = srv.market
        pre = "/fapi/v1/" if m.usdm else "/api/v3/"
        if path == pre + "depth":
            sym = args.get("symbol", "").upper()
            body = m.snapshot(sym, int(args.get("limit", "1000")))
            if body is None:
                return self.reply(sock, "400 Bad Request", '{"code":-1121,"msg":"Invalid symbol."}')
            log("rest: depth %s lastUpdateId=%s" % (sym, json.loads(body)["lastUpdateId"]))
            srv.snapshots += 1
            return self.reply(sock, "200 OK", body)
        if path == pre + "exchangeInfo":
            out = []
            for sym in m.symbols:
                if m.usdm:
                    tick, step, pp, qp = USDM_INFO[sym]
                    out.append({"symbol": sym, "status": "TRADING", "pricePrecision": pp,
                                "quantityPrecision": qp, "filters": [
                                    {"filterType": "PRICE_FILTER", "tickSize": tick},
                                    {"filterType": "LOT_SIZE", "stepSize": step, "minQty": step}]})
                else:
                    tick, step = SPOT_INFO[sym]
                    out.append({"symbol": sym, "status": "TRADING", "baseAssetPrecision": 8,
                                "quotePrecision": 8, "filters": [
                                    {"filterType": "PRICE_FILTER", "tickSize": tick},
                                    {"filterType": "LOT_SIZE", "stepSize": step, "minQty": step}]})
            return self.reply(sock, "200 OK", json.dumps({"timezone": "UTC", "symbols": out}))
        self.reply(sock, "404 Not Found", '{"code":-1,"msg":"not found"}')

    @staticmethod
    def frame(opcode, payload):
        n = len(payload)
        if n < 126:
            head = struct.pack("!BB", 0x80 | opcode, n)
        elif n < 65536:
            head = struct.pack("!BBH", 0x80 | opcode, 126, n)
        else:
            head = struct.pack("!BBQ", 0x80 | opcode, 127, n)
        return head + payload

    def reader(self, sock, wlock, closed):
        """Client frames: pong counted, ping answered, close ends it."""
        buf = b""
        try:
            while not closed.is_set():
                chunk = sock.recv(65536)
                if not chunk:
                    break
                buf += chunk
                while len(buf) >= 2:
                    op, ln = buf[0] & 0x0F, buf[1] & 0x7F
                    off = 2
                    if ln == 126:
                        if len(buf) < 4:
                            break
                        ln, off = struct.unpack("!H", buf[2:4])[0], 4
                    elif ln == 127:
                        if len(buf) < 10:
                            break
                        ln, off = struct.unpack("!Q", buf[2:10])[0], 10
                    masked = buf[1] & 0x80
                    need = off + (4 if masked else 0) + ln
                    if len(buf) < need:
                        break
                    mask = buf[off : off + 4] if masked else b"\0\0\0\0"
                    start = off + (4 if masked else 0)
                    payload = bytes(b ^ mask[i % 4] for i, b in enumerate(buf[start:need]))
                    buf = buf[need:]
                    if op == 0xA:
                        self.server.pongs += 1
                    elif op == 0x9:
                        with wlock:
                            sock.sendall(self.frame(0xA, payload))
                    elif op == 0x8:
                        closed.set()
        except OSError:
            pass
        closed.set()

    def websocket(self, sock, hdrs, args):
        srv, m, o = self.server, self.server.market, self.server.opts
        accept = base64.b64encode(
            hashlib.sha1((hdrs.get("sec-websocket-key", "") + GUID).encode()).digest()).decode()
        sock.sendall(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                      "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n" % accept).encode())
        wanted = set()
        for st in args.get("streams", "").split("/"):
            sym, _, kind = st.partition("@")
            wanted.add((sym.upper(), "depth" if kind.startswith("depth") else kind))
        srv.connections += 1
        log("ws: client connected (%d), %d streams" % (srv.connections, len(wanted)))
        wlock, closed = threading.Lock(), threading.Event()
        threading.Thread(target=self.reader, args=(sock, wlock, closed), daemon=True).start()
        t0 = d0 = None
        last_ping = time.monotonic()
        limit = len(m.msgs) if not o.max_messages else min(len(m.msgs), o.max_messages)
        try:
            while not closed.is_set():
                if o.ping_ms and time.monotonic() - last_ping > o.ping_ms / 1000:
                    last_ping = time.monotonic()
                    with wlock:
                        sock.sendall(self.frame(0x9, b"qts"))
                if m.pos >= limit:
                    if not srv.ended:
                        srv.ended = True
                        log("end of data: %d messages sent" % m.sent)
                    time.sleep(0.05)
                    continue
                recv, sym, kind, text = m.msgs[m.pos]
                if o.speed > 0:
                    if t0 is None:
                        t0, d0 = time.monotonic(), recv
                    wait = t0 + (recv - d0) / 1e9 / o.speed - time.monotonic()
                    if wait > 0:
                        time.sleep(min(wait, 0.05))
                        continue
                m.pos += 1
                if (sym, kind) not in wanted:
                    continue
                if kind == "depth":
                    m.apply(sym, text)
                m.sent += 1
                if o.skip_at and m.sent == o.skip_at:
                    o.skip_at = 0
                    log("skip: depth diffs of %s left out from message %d on (one diff)"
                        % (sym, m.sent))
                    srv.skip_pending = sym
                if kind == "depth" and srv.skip_pending == sym:
                    srv.skip_pending = None
                    log("skip: left out %s" % text[:120])
                    continue
                if o.stall_at and m.sent == o.stall_at:
                    o.stall_at = 0
                    log("stall: %d ms at message %d" % (o.stall_ms, m.sent))
                    time.sleep(o.stall_ms / 1000)
                    t0 = None
                now = '"\\1":%d' % (time.time_ns() // 1000000)
                with wlock:
                    sock.sendall(self.frame(0x1, TIMES.sub(now, text).encode()))
                if o.drop_after and m.sent == o.drop_after:
                    o.drop_after = 0
                    log("drop: closing the connection after message %d" % m.sent)
                    break
        except OSError as e:
            log("ws: client gone (%s)" % e)
        closed.set()
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        sock.close()


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("files", nargs="+")
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--market", default="spot", choices=["spot", "usdm"])
    ap.add_argument("--speed", type=float, default=1.0)
    ap.add_argument("--drop-after", type=int, default=0)
    ap.add_argument("--skip-at", type=int, default=0)
    ap.add_argument("--stall-at", type=int, default=0)
    ap.add_argument("--stall-ms", type=int, default=0)
    ap.add_argument("--max-messages", type=int, default=0)
    ap.add_argument("--ping-ms", type=int, default=1000)
    o = ap.parse_args()
    srv = Server(("127.0.0.1", 0), Handler)
    srv.market = Market(o.files, o.market == "usdm")
    srv.opts = o
    srv.connections = srv.snapshots = srv.pongs = 0
    srv.ended = False
    srv.skip_pending = None
    with open(o.port_file + ".tmp", "w") as f:
        f.write("%d\n" % srv.server_address[1])
    os.rename(o.port_file + ".tmp", o.port_file)
    log("listening on 127.0.0.1:%d" % srv.server_address[1])
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt))
    try:
        srv.serve_forever(poll_interval=0.05)
    except KeyboardInterrupt:
        pass
    log("pongs received: %d" % srv.pongs)


if __name__ == "__main__":
    main()
