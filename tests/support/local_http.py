"""What the local fake platform servers (fake_meta, fake_google_ads) share: a threaded HTTP
server on 127.0.0.1 on a free port, and a JSON answer written whole (or not at all, when the
client has gone)."""

from __future__ import annotations

import contextlib
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def serve(handler: type[BaseHTTPRequestHandler]) -> ThreadingHTTPServer:
    """Start serving on a free port of 127.0.0.1, in a daemon thread."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    ).start()
    return server


def stop(server: ThreadingHTTPServer | None) -> None:
    assert server is not None
    server.shutdown()
    server.server_close()


def send_json(
    handler: BaseHTTPRequestHandler, status: int, payload: bytes, headers: dict[str, str]
) -> None:
    """A JSON answer with its extra headers; a client that hung up is not an error here."""
    handler.send_response(status)
    handler.send_header("Content-Type", "application/json")
    for key, value in headers.items():
        handler.send_header(key, value)
    handler.send_header("Content-Length", str(len(payload)))
    handler.end_headers()
    with contextlib.suppress(BrokenPipeError, ConnectionResetError):
        handler.wfile.write(payload)
