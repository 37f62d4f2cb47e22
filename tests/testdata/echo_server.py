#!/usr/bin/env python3
"""A tiny HTTP echo server for the bgmux end-to-end tests (stdlib only).

It binds 127.0.0.1 on a free port, prints "Server running on port N",
and answers every POST with its body as JSON: {"echo": "<body>"}. The
body is also printed to stdout so the test can find it in bgmux logs.
"""
import json
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer


class EchoHandler(BaseHTTPRequestHandler):
    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode("utf-8", "replace")
        print(body, flush=True)
        reply = json.dumps({"echo": body}).encode("utf-8")
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def log_message(self, format, *args):
        pass  # keep the output to what the test looks for


def main():
    server = HTTPServer(("127.0.0.1", 0), EchoHandler)
    print("Server running on port %d" % server.server_address[1], flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
