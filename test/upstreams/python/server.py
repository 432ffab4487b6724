"""An ordinary MCP server on the Python standard library, for Warden's differential tests.

It reads a request the way many small Python services do: ``http.server`` for HTTP and
``json.loads`` on the raw body bytes. ``json.loads(bytes)`` differs from JavaScript's JSON.parse
in ways a gateway must not be surprised by: it detects UTF-16 and UTF-32 (with or without a BOM)
and strips a UTF-8 BOM, accepts NaN and Infinity, keeps lone surrogates, reads integers exactly,
and lets the last duplicate member win. Like many services behind a compressing client, it also
inflates ``Content-Encoding: gzip``/``deflate`` bodies.

Every request it receives (method, raw target, headers, raw body) and every tool it runs is
recorded and served as JSON at the control path given with ``--control``, which only the test
knows. It listens on 127.0.0.1, on a port the kernel picks, and prints ``LISTENING <port>``.
"""

import argparse
import base64
import json
import socket
import sys
import threading
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

TOOLS = ["echo", "admin_delete", "h\u00e9llo"]

LOCK = threading.Lock()
REQUESTS = []
RUNS = []


def record(handler, body):
    headers = {}
    for name, value in handler.headers.items():
        # http.server decodes header bytes as Latin-1; record what the bytes say in UTF-8.
        value = value.encode("latin-1", "replace").decode("utf-8", "replace")
        headers.setdefault(name.lower(), []).append(value)
    with LOCK:
        seq = len(REQUESTS) + 1
        REQUESTS.append(
            {
                "seq": seq,
                "method": handler.command,
                "target": handler.path,
                "headers": headers,
                "body": base64.b64encode(body).decode("ascii"),
            }
        )
    return seq


def inflate(body, encoding):
    encoding = (encoding or "").strip().lower()
    if encoding == "gzip":
        return zlib.decompress(body, 16 + zlib.MAX_WBITS)
    if encoding == "deflate":
        return zlib.decompress(body)
    return body


def result(msg_id, value):
    return {"jsonrpc": "2.0", "id": msg_id, "result": value}


def error(msg_id, code, message):
    return {"jsonrpc": "2.0", "id": msg_id, "error": {"code": code, "message": message}}


def handle(message, seq):
    """Answers one message; None for a notification. A tools/call runs even without an id."""
    if not isinstance(message, dict):
        return error(None, -32600, "invalid request")
    msg_id = message.get("id")
    if message.get("jsonrpc") != "2.0":
        return error(msg_id, -32600, "invalid request")
    method = message.get("method")
    params = message.get("params")
    if method == "initialize":
        answer = result(
            msg_id,
            {
                "protocolVersion": "2025-06-18",
                "capabilities": {"tools": {}},
                "serverInfo": {"name": "upstream-python", "version": "1.0.0"},
            },
        )
    elif method == "ping":
        answer = result(msg_id, {})
    elif method == "tools/list":
        answer = result(msg_id, {"tools": [{"name": n, "inputSchema": {"type": "object"}} for n in TOOLS]})
    elif method == "tools/call":
        name = params.get("name") if isinstance(params, dict) else None
        if name not in TOOLS:
            answer = error(msg_id, -32602, "unknown tool")
        else:
            with LOCK:
                RUNS.append({"seq": seq, "tool": name})
            answer = result(msg_id, {"content": [{"type": "text", "text": "ran " + name}]})
    elif isinstance(method, str) and method.startswith("notifications/"):
        return None
    else:
        answer = error(msg_id, -32601, "method not found")
    return None if "id" not in message else answer


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    control = ""

    def setup(self):
        super().setup()
        # Headers and body go out in separate writes: without this, Nagle's algorithm and delayed
        # ACKs add 40 ms to every answer on a kept-alive connection.
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        pass

    def read_body(self):
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def send(self, status, value=None):
        data = b"" if value is None else json.dumps(value).encode("utf-8")
        self.send_response(status)
        if value is not None:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        target = urlsplit(self.path)
        if target.path == self.control:
            query = parse_qs(target.query)
            start_requests = int(query.get("requests", ["0"])[0])
            start_runs = int(query.get("runs", ["0"])[0])
            with LOCK:
                value = {
                    "requests": REQUESTS[start_requests:],
                    "runs": RUNS[start_runs:],
                    "counts": {"requests": len(REQUESTS), "runs": len(RUNS)},
                }
            self.send(200, value)
            return
        record(self, self.read_body())
        self.send(405)

    def do_DELETE(self):
        record(self, self.read_body())
        self.send(200)

    def do_PUT(self):
        record(self, self.read_body())
        self.send(405)

    do_PATCH = do_PUT

    def do_POST(self):
        raw = self.read_body()
        seq = record(self, raw)
        try:
            messages = json.loads(inflate(raw, self.headers.get("Content-Encoding")))
        except (ValueError, zlib.error, RecursionError):
            self.send(400, error(None, -32700, "parse error"))
            return
        try:
            if isinstance(messages, list):
                answers = [a for a in (handle(m, seq) for m in messages) if a is not None]
                self.send(200, answers) if answers else self.send(202)
            else:
                answer = handle(messages, seq)
                self.send(202) if answer is None else self.send(200, answer)
        except (RecursionError, ValueError):
            self.send(500, error(None, -32603, "internal error"))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--control", required=True)
    args = parser.parse_args()
    Handler.control = args.control
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    print(f"LISTENING {server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    sys.exit(main())
