"""A fault-injecting HTTP proxy on 127.0.0.1, in front of the embedded S3/STS server or Azurite.

Tests point the tap's endpoint_url here and add faults: error responses (503 SlowDown, 500, or any
S3 error code with its status, e.g. 403 AccessDenied), bodies cut after N bytes (the
Content-Length promised more), bodies that stall after N bytes, added latency, hooks that run
before a request is forwarded (to replace or delete an object "between listing and reading"), a
server that ignores Range (200 with the whole object), a Range header rewritten on its way, query
parameters set on the forwarded request (a small listing page size: max-keys, maxresults), and
answers whose body is replaced (emptied, corrupted or truncated) with the status kept; cuts and
replaced bodies may be aimed at the answers that hold given bytes (one page of a listing).
"""

import http.client
import http.server
import re
import socket
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from typing import Callable

from devtools.s3server import free_port

ERROR_BODIES = {
    503: ("SlowDown", "Please reduce your request rate."),
    500: ("InternalError", "We encountered an internal error. Please try again."),
    403: ("AccessDenied", "Access Denied"),
}


@dataclass
class Fault:
    pattern: str             # regex searched in "METHOD /path?query" (and the body for POST)
    # "status", "cut", "stall", "delay", "hook", "ignore_range", "range", "query" or "body"
    kind: str
    times: float = 1         # how many matching requests it applies to (float("inf"): always)
    status: int = 503
    code: str | None = None  # S3 error code for "status" (default: the status's usual one)
    cut_after: int = 0       # bytes of body sent before the connection is dropped or stalls
    seconds: float = 0.0     # for "delay" and "stall"
    range_header: str = ""   # for "range": the Range header forwarded instead of the asked one
    hook: Callable[[], None] | None = None
    # for "query": parameters set (added or replaced) in the forwarded request's query string;
    # moto checks no signature and an Azure SAS does not sign them (a shared key does: 403)
    query: dict = field(default_factory=dict)
    # for "body": the body sent instead of the upstream answer's (bytes, or a function of it),
    # with the upstream status and headers and a Content-Length that matches it
    body: bytes | Callable[[bytes], bytes] = b""
    # for "cut", "stall" and "body": only answers whose upstream body holds these bytes (a
    # listing page chosen by a name it lists); hits count those answers only
    answer: bytes | None = None
    hits: int = 0


class FaultProxy:
    def __init__(self, upstream_port, rewrite=None, rewrite_headers=None):
        self.upstream_port = upstream_port
        self._rewrite = rewrite  # (request line, body) -> body, applied to every upstream answer
        # (request line, [(header, value)]) -> [(header, value)], applied to every answer too
        self._rewrite_headers = rewrite_headers
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.faults = []
        self.log = []  # (request line, Range header or None, status sent)
        self._lock = threading.Lock()
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_args):
                pass

            def _any(self):
                proxy._handle(self)

            do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = _any

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._server.shutdown()
        self._server.server_close()

    def add(self, pattern, kind, **options):
        fault = Fault(pattern, kind, **options)
        with self._lock:
            self.faults.append(fault)
        return fault

    def clear(self):
        with self._lock:
            self.faults.clear()
            self.log.clear()

    def _take_faults(self, text, answer=None):
        """The faults for this request: those without `answer` (answer None, before it is
        forwarded), or those whose `answer` bytes are in the upstream answer's body."""
        with self._lock:
            taken = []
            for fault in self.faults:
                if (fault.answer is None) != (answer is None) or (
                        answer is not None and fault.answer not in answer):
                    continue
                if fault.hits < fault.times and re.search(fault.pattern, text):
                    fault.hits += 1
                    taken.append(fault)
            return taken

    def _handle(self, handler):
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        request = f"{handler.command} {handler.path}"
        text = request + "\n" + body.decode("latin-1")
        faults = self._take_faults(text)
        headers = {k: v for k, v in handler.headers.items() if k.lower() != "connection"}
        path = handler.path
        for fault in faults:
            if fault.kind == "status":
                self._record(request, handler, fault.status)
                self._send_error(handler, fault.status, fault.code)
                return
            if fault.kind == "query":
                path = _with_query(path, fault.query)
            elif fault.kind not in ("cut", "stall", "body"):
                headers = self._apply(fault, headers)
        upstream = http.client.HTTPConnection("127.0.0.1", self.upstream_port, timeout=30)
        try:
            response, payload = self._forward(upstream, handler, path, body, headers)
            cut = stall = None
            for fault in faults + self._take_faults(text, payload):
                if fault.kind in ("cut", "stall"):
                    cut = fault.cut_after
                    stall = fault.seconds if fault.kind == "stall" else None
                elif fault.kind == "body":
                    payload = fault.body(payload) if callable(fault.body) else fault.body
            self._record(request, handler, response.status)
            headers = response.getheaders()
            if self._rewrite_headers is not None:
                headers = self._rewrite_headers(request, headers)
            self._send(handler, response.status, headers, payload, cut=cut, stall=stall)
        finally:
            upstream.close()

    @staticmethod
    def _send(handler, status, headers, payload, *, cut, stall):
        """The answer: upstream's status and headers with payload, cut after `cut` bytes (then
        stalling `stall` seconds before the connection is dropped) when cut is not None. A HEAD
        answer keeps upstream's Content-Length (the object's size; it has no payload)."""
        handler.send_response(status)
        length = str(len(payload))
        for key, value in headers:
            if key.lower() == "content-length" and handler.command == "HEAD":
                length = value
            if key.lower() not in ("connection", "transfer-encoding", "content-length",
                                   "date", "server"):
                handler.send_header(key, value)
        handler.send_header("Content-Length", length)
        if cut is not None:
            handler.send_header("Connection", "close")
        handler.end_headers()
        if cut is None or handler.command == "HEAD":
            handler.wfile.write(payload)
            return
        handler.wfile.write(payload[:cut])
        handler.wfile.flush()
        if stall is not None:
            time.sleep(stall)
        handler.close_connection = True
        handler.connection.shutdown(socket.SHUT_RDWR)

    def _forward(self, upstream, handler, path, body, headers):
        """(upstream response, its body after the rewrite given at construction)."""
        upstream.request(handler.command, path, body=body, headers=headers)
        response = upstream.getresponse()
        payload = response.read()
        if self._rewrite is not None:
            payload = self._rewrite(f"{handler.command} {handler.path}", payload)
        return response, payload

    @staticmethod
    def _apply(fault, headers):
        """Run a delay or hook fault; returns the headers to forward (changed by range faults)."""
        if fault.kind == "delay":
            time.sleep(fault.seconds)
        elif fault.kind == "hook":
            fault.hook()
        elif fault.kind in ("ignore_range", "range"):
            # moto checks no signature (unless a test enforces auth): a changed Range passes
            headers = {k: v for k, v in headers.items() if k.lower() != "range"}
            if fault.kind == "range":
                headers["Range"] = fault.range_header
        return headers

    def _record(self, request, handler, status):
        with self._lock:
            byte_range = handler.headers.get("Range") or handler.headers.get("x-ms-range")
            self.log.append((request, byte_range, status))

    @staticmethod
    def _send_error(handler, status, code=None):
        usual_code, message = ERROR_BODIES.get(status, ("ServiceUnavailable", "Try again."))
        code = code or usual_code
        payload = (f'<?xml version="1.0" encoding="UTF-8"?><Error><Code>{code}</Code>'
                   f"<Message>{message}</Message></Error>").encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/xml")
        handler.send_header("x-ms-error-code", code)  # where Azure clients look for it
        handler.send_header("Content-Length", str(len(payload)))
        handler.end_headers()
        handler.wfile.write(payload)


def _with_query(path, params):
    """path with the given query parameters set (added, or replacing the ones sent)."""
    base, _, query = path.partition("?")
    pairs = [(k, v) for k, v in urllib.parse.parse_qsl(query, keep_blank_values=True)
             if k not in params]
    pairs += [(k, str(v)) for k, v in params.items()]
    return f"{base}?{urllib.parse.urlencode(pairs, quote_via=urllib.parse.quote)}"
