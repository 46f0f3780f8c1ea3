"""A real HTTP server on 127.0.0.1 for download tests, with the failure modes a user meets.

Routes (``server.url(path)``):
  /file/<name>      the registered bytes, honours Range (206)
  /norange/<name>   the bytes, ignores Range (always 200: the client must restart cleanly)
  /cut/<name>       first request: the full Content-Length but only half the bytes, then
                    the connection drops; later requests behave like /file
  /html/<name>      a login page, text/html
  /sniff/<name>     a login page sent as application/octet-stream
  /missing          404
  /slow             accepts and never answers (until the server stops)
  /trickle/<name>   the bytes in 64 KB pieces, each after the server's pace event fires
                    (``server.pace.set()`` lets everything through), to test Cancel
A proxy mode (``proxy=True``) answers requests for any host with an absolute URL the same
way, recording them, like an HTTP proxy.
"""
from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlparse

LOGIN_PAGE = b"<!DOCTYPE html><html><body>Please sign in to the network</body></html>\n"


class LocalServer:
    def __init__(self, files: dict[str, bytes] | None = None, proxy: bool = False):
        self.files = dict(files or {})
        self.requests: list[tuple[str, dict]] = []  # (request line path, headers)
        self.cut_done: set[str] = set()
        self.stop_event = threading.Event()
        self.pace = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):  # noqa: N802 (http.server's name)
                server.requests.append((self.path, dict(self.headers)))
                path = urlparse(self.path).path if proxy else self.path
                kind, _, name = path.lstrip("/").partition("/")
                if kind == "slow":
                    server.stop_event.wait(30)
                    return
                if kind in ("html", "sniff"):
                    ctype = "text/html; charset=utf-8" if kind == "html" else "application/octet-stream"
                    return self._send(200, LOGIN_PAGE, ctype)
                data = server.files.get(name)
                if kind == "trickle" and data is not None:
                    self.send_response(200)
                    self.send_header("Content-Type", "application/octet-stream")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    try:
                        for i in range(0, len(data), 1 << 16):
                            self.wfile.write(data[i:i + (1 << 16)])
                            self.wfile.flush()
                            server.pace.wait(0.05)
                            if server.stop_event.is_set():
                                return
                    except OSError:  # the client hung up (cancelled)
                        pass
                    return
                if data is None or kind not in ("file", "norange", "cut"):
                    return self._send(404, b"not found", "text/plain")
                if kind == "cut" and name not in server.cut_done:
                    server.cut_done.add(name)
                    self.send_response(200)
                    self.send_header("Content-Type", "application/octet-stream")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data[:len(data) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    return
                rng = self.headers.get("Range")
                if rng and kind != "norange" and rng.startswith("bytes=") and rng.endswith("-"):
                    start = int(rng[6:-1])
                    if start >= len(data):
                        return self._send(416, b"", "text/plain")
                    self.send_response(206)
                    self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
                    return self._body(data[start:], "application/octet-stream")
                self._send(200, data, "application/octet-stream")

            def _send(self, code, body, ctype):
                self.send_response(code)
                self._body(body, ctype)

            def _body(self, body, ctype):
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return self.httpd.server_address[1]

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}/{path.lstrip('/')}"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop_event.set()
        self.httpd.shutdown()
        self.httpd.server_close()


def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (bound, then released)."""
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port
