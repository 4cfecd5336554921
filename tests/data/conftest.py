"""A loopback HTTP server serving a temporary folder, for download tests (no network needed)."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest


class _Handler(SimpleHTTPRequestHandler):
    """Serves files and counts the requests; ``/truncated/...`` promises 100 bytes and sends 3, like a dropped
    connection; ``/slow/<path>`` serves ``<path>`` after a second."""

    def do_GET(self) -> None:
        with self.server.lock:  # type: ignore[attr-defined]
            self.server.requests[self.path] += 1  # type: ignore[attr-defined]
        if self.path.startswith("/slow/"):  # a long download: other processes start while it runs
            time.sleep(1.0)
            self.path = self.path[len("/slow") :]
        if self.path.startswith("/truncated/"):
            self.send_response(200)
            self.send_header("Content-Length", "100")
            self.end_headers()
            self.wfile.write(b"abc")
            self.close_connection = True
            return
        super().do_GET()

    def log_message(self, format: str, *args: object) -> None:  # keep test output quiet
        pass


@dataclass
class LocalServer:
    url: str  # ends with "/"
    folder: Path  # what the server serves
    requests: Counter[str]  # GET requests by path

    def put(self, relative: str, content: bytes) -> Path:
        path = self.folder / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        return path


@pytest.fixture
def local_server(tmp_path: Path) -> Iterator[LocalServer]:
    """An HTTP server on 127.0.0.1 serving ``tmp_path / "served"``."""
    folder = tmp_path / "served"
    folder.mkdir()
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_Handler, directory=str(folder)))
    server.requests, server.lock = Counter(), threading.Lock()  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield LocalServer(f"http://127.0.0.1:{server.server_address[1]}/", folder, server.requests)  # type: ignore[attr-defined]
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
