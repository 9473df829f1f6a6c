"""Private copies of the portal's peers, which a test starts, stops in the middle of the work
and starts again: an SMTP server, a Redis server and an e-invoice access point, each on its
own free port on 127.0.0.1 (never the shared ones another test run may be using)."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from aiosmtpd.controller import Controller

from tests.helpers import Mailbox, free_port


def _wait_for_port(port: int, up: bool, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                if up:
                    return
        except OSError:
            if not up:
                return
        time.sleep(0.05)
    raise RuntimeError(f"port {port} did not come {'up' if up else 'down'}")


class PrivateSmtp:
    """An aiosmtpd server that can be stopped (connections refused) and started again on the
    same port; what it accepted is in `mailbox`."""

    def __init__(self) -> None:
        self.port = free_port()
        self.mailbox = Mailbox()
        self._controller: Controller | None = None

    def start(self) -> PrivateSmtp:
        self._controller = Controller(self.mailbox, hostname="127.0.0.1", port=self.port)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None
        _wait_for_port(self.port, up=False)

    def message_ids(self) -> list[str]:
        return [m["Message-ID"] for m in self.mailbox.messages]


class PrivateRedis:
    """A redis-server of the test's own, on a free port, keeping nothing on disk."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.workdir = Path(workdir)
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> PrivateRedis:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server is not installed (Debian: apt-get install redis)")
        self.process = subprocess.Popen(
            [
                binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.workdir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        _wait_for_port(self.port, up=True)
        return self

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        self.process = None
        _wait_for_port(self.port, up=False)


class AccessPoint:
    """An e-invoice access point's HTTP API (invoices.einvoice_delivery.AccessPointApi):
    401 without the token (when one is set); 503 to the first `unavailable` documents; 422
    with the reason when the rules (the app's, when given) fail or when told to `refuse`;
    else 201 accepted. Keeps what it got."""

    def __init__(self, unavailable: int = 0, token: str | None = None, rules=None) -> None:
        self.unavailable, self.token, self.rules = unavailable, token, rules
        self.refuse: str | None = None
        self.received: list[bytes] = []
        self.accepted: list[str] = []
        point = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if point.token and self.headers.get("Authorization") != f"Bearer {point.token}":
                    return self._answer(401, {})
                point.received.append(body)
                if point.unavailable > 0:
                    point.unavailable -= 1
                    return self._answer(503, {"status": "unavailable"})
                report = point.rules.check(body) if point.rules is not None else None
                if report is not None and not report.ok:
                    return self._answer(422, {"status": "rejected", "reason": str(report.fatal[0])})
                if point.refuse:
                    return self._answer(422, {"status": "rejected", "reason": point.refuse})
                number = self.headers["X-Document-Id"]
                point.accepted.append(number)
                return self._answer(201, {"id": f"ap-{number}", "status": "accepted"})

            def _answer(self, code: int, payload: dict) -> None:
                data = json.dumps(payload).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
