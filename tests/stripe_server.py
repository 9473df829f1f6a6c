"""A localstripe server for tests: a subprocess on 127.0.0.1 with its state in a temp folder.

localstripe's own CLI listens on every interface and keeps its state in
/tmp/localstripe.pickle; this starts its aiohttp app on loopback only and points the pickle
into the given folder instead. Its fake Stripe.js is served at <base>/js.stripe.com/v3/."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from core import dates
from invoices.stripe_gateway import StripeGateway
from tests.helpers import TEST_NOW, travelled_env

SERVER_SCRIPT = r"""
import pickle, sys
from aiohttp import web
import localstripe.resources as resources
from localstripe.server import app

state = sys.argv[2]

def dump_to_disk(self):
    with open(state, "wb") as handle:
        pickle.dump(dict(self), handle, protocol=pickle.HIGHEST_PROTOCOL)

def try_load_from_disk(self):
    pass  # every test session starts from scratch

resources.Store.dump_to_disk = dump_to_disk
resources.Store.try_load_from_disk = try_load_from_disk
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None, access_log=None)
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class LocalStripe:
    """The running server: its base URL, and the process to stop."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = Path(workdir)
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.js_url = f"{self.base}/js.stripe.com/v3/"
        self.process: subprocess.Popen | None = None
        self._log = None

    def start(self, timeout: float = 20) -> LocalStripe:
        self._log = (self.workdir / "server.log").open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-c", SERVER_SCRIPT, str(self.port), str(self.workdir / "state")],
            cwd=self.workdir,
            # The emulator signs its events and dates its objects with its own clock: it
            # starts at the run's chosen moment, so the portal (frozen there) finds their
            # signatures fresh and their dates the test's own.
            env=travelled_env(at=TEST_NOW),
            stdout=subprocess.DEVNULL,
            stderr=self._log,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                log = (self.workdir / "server.log").read_text(errors="replace")
                raise RuntimeError(f"localstripe exited: {log}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return self
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError("localstripe did not start")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self._log is not None:
            self._log.close()
            self._log = None

    def register_webhook(self, url: str, secret: str, name: str = "portal") -> None:
        """Ask localstripe to POST its events, signed with `secret`, to `url`."""
        data = f"url={url}&secret={secret}".encode()
        request = urllib.request.Request(f"{self.base}/_config/webhooks/{name}", data=data)
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 200


class WebhookCatcher:
    """A tiny HTTP server on loopback that keeps what localstripe's webhooks deliver (body and
    Stripe-Signature), so a test can hand exactly those bytes to the Flask test client."""

    def __init__(self) -> None:
        self.received: list[tuple[bytes, str]] = []
        self._arrived = threading.Condition()
        catcher = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's name)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                with catcher._arrived:
                    catcher.received.append((body, self.headers.get("Stripe-Signature", "")))
                    catcher._arrived.notify_all()
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def wait_for(self, event_type: str, object_id: str, timeout: float = 15):
        """The first delivery of that event type about that object: (body, signature)."""
        deadline = time.monotonic() + timeout
        with self._arrived:
            while True:
                for body, signature in self.received:
                    event = json.loads(body)
                    if event["type"] == event_type and event["data"]["object"]["id"] == object_id:
                        return body, signature
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"no {event_type} for {object_id} from localstripe")
                self._arrived.wait(remaining)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


# --- pytest fixtures (import them into a test module to use them) ------------------------------

WEBHOOK_SECRET = "whsec_portal_test_secret"


@pytest.fixture(scope="session")
def localstripe_server(tmp_path_factory):
    server = LocalStripe(tmp_path_factory.mktemp("localstripe")).start()
    catcher = WebhookCatcher()
    server.register_webhook(catcher.url, WEBHOOK_SECRET)
    server.catcher = catcher
    try:
        yield server
    finally:
        catcher.close()
        server.stop()


@pytest.fixture
def stripe_on(app, localstripe_server, monkeypatch):
    """Stripe configured for this test, pointed at localstripe."""
    for key, value in {
        "STRIPE_SECRET_KEY": "sk_test_portal",
        "STRIPE_PUBLISHABLE_KEY": "pk_test_portal",
        "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "STRIPE_API_BASE": localstripe_server.base,
        "STRIPE_JS_URL": localstripe_server.js_url,
    }.items():
        monkeypatch.setitem(app.config, key, value)
    monkeypatch.setitem(app.extensions, "stripe", StripeGateway.from_config(app.config))
    return localstripe_server


def sign(payload: bytes, secret: str = WEBHOOK_SECRET, timestamp: int | None = None) -> str:
    """A Stripe-Signature header for the payload, computed as Stripe does."""
    timestamp = int(dates.now().timestamp()) if timestamp is None else timestamp
    signed = f"{timestamp}.".encode() + payload
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def event(event_type: str, obj: dict, event_id: str | None = None, created: int | None = None):
    """A Stripe event as JSON bytes around an object (for events localstripe never sends)."""
    body = {
        "id": event_id or f"evt_{hashlib.sha1(json.dumps(obj).encode()).hexdigest()[:14]}",  # noqa: S324
        "object": "event",
        "type": event_type,
        "created": created or int(dates.now().timestamp()),
        "data": {"object": obj},
    }
    return json.dumps(body).encode()
