"""Posting the same form from several connections at the same moment, as a double click, a
retried request or two people do: real threads through the WSGI app on committed data."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from tests.helpers import csrf_token_in, one_time_key


class Browser:
    """One logged-in browser: a session cookie and the forms its pages show."""

    def __init__(self, app, user=None) -> None:
        self.app = app
        self.client = app.test_client()
        if user is not None:
            with self.client.session_transaction() as session:
                session["_user_id"] = user.get_id()
                session["_fresh"] = True

    def form(self, page: str) -> dict[str, str]:
        """The hidden fields of the first form on a page: CSRF token and one-time key."""
        html = self.client.get(page).text
        fields = {"csrf_token": csrf_token_in(html)}
        key = one_time_key(html)
        if key:
            fields["idempotency_key"] = key
        return fields

    def tabs(self, count: int) -> list:
        """`count` connections sharing this browser's session (tabs, or a click sent twice)."""
        cookie = self.client.get_cookie("session")
        clients = []
        for _ in range(count):
            client = self.app.test_client()
            if cookie is not None:
                client.set_cookie("session", cookie.value)
            clients.append(client)
        return clients


def race(sends: list[Callable[[], Any]]) -> list[Any]:
    """Run every send at the same moment, each in its own thread; returns their responses."""
    barrier = threading.Barrier(len(sends))
    results: list[Any] = [None] * len(sends)
    errors: list[BaseException] = []

    def run(index: int, send: Callable[[], Any]) -> None:
        try:
            barrier.wait(timeout=30)
            results[index] = send()
        except BaseException as error:  # noqa: BLE001 (reported below)
            errors.append(error)

    threads = [threading.Thread(target=run, args=item) for item in enumerate(sends)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    return results


def post_many(clients: list, path: str, data: dict | Callable[[], dict]) -> list:
    """The same post from every client at once (`data` may build fresh data, e.g. files)."""
    build = data if callable(data) else (lambda: dict(data))
    return race([lambda c=c: c.post(path, data=build()) for c in clients])
