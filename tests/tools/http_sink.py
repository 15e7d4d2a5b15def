#!/usr/bin/env python3
"""http_sink.py — a local HTTP server that stands in for the Telegram Bot API
and a webhook receiver in the alert tests: it answers every POST with 200 and
{"ok": true} and appends one JSON line per request (path, body) to a file.

usage: http_sink.py PORT_FILE LOG_FILE   (binds 127.0.0.1 on a free port and
writes the port to PORT_FILE once it listens)
"""
import http.server
import json
import sys


class Sink(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n).decode("utf-8", "replace")
        with open(sys.argv[2], "a") as f:
            f.write(json.dumps({"path": self.path, "body": body}) + "\n")
        out = b'{"ok": true}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    def log_message(self, *args):
        pass


srv = http.server.HTTPServer(("127.0.0.1", 0), Sink)
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write(str(srv.server_address[1]))
import os
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
srv.serve_forever()
