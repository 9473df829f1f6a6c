"""Faults in the production shape: `make serve` (gunicorn, the RQ worker and the outbox sender
under supervisord) on PostgreSQL, with a Redis and an SMTP server of the test's own, which the
test stops in the middle of the work and starts again.

What must hold: with Redis down, log-in and pages answer (the rate limits fall back to
memory), and mail still leaves (the outbox sender needs only the database); the worker waits
for Redis instead of exiting and takes the next run when it is back; a process that dies is
started again; every invoice of the run is e-mailed exactly once."""

from __future__ import annotations

import os
import re
import signal
import time
from collections import Counter

import pytest

from core import dates
from tests.peers import PrivateRedis, PrivateSmtp
from tests.stack import Browser, Stack, fresh_database, require_services

pytestmark = pytest.mark.faults


def wait_for(what: str, check, stack: Stack, timeout: float = 90):
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        assert time.monotonic() < deadline, f"{what} did not happen:\n{stack.log()[-4000:]}"
        time.sleep(0.5)


@pytest.fixture
def peers(tmp_path):
    require_services("the production fault test")
    redis = PrivateRedis(tmp_path).start()
    smtp = PrivateSmtp().start()
    with fresh_database("portal_faults") as url:
        stack = Stack(
            url,
            redis.url,
            tmp_path,
            PORTAL_SMTP_HOST="127.0.0.1",
            PORTAL_SMTP_PORT=str(smtp.port),
        ).start()
        try:
            yield stack, redis, smtp
        finally:
            stack.stop()
            smtp.stop()
            redis.stop()


def test_redis_down_pages_answer_mail_leaves_and_the_worker_comes_back(peers):
    stack, redis, smtp = peers
    seeded = stack.flask("demo")
    assert seeded.returncode == 0, seeded.stderr
    wait_for("the demo's e-mails", lambda: smtp.mailbox.messages, stack)

    redis.stop()
    browser = Browser(stack.base)
    status, url, home = browser.log_in("finance@demo.dk", "demo-password")
    assert status == 200 and url == stack.base + "/", url
    for path in ("/finance/invoices", "/finance/outbox", "/finance/reminders", "/placements"):
        status, _url, _page = browser.get(path)
        assert status == 200, path
    # A message written while Redis is down still leaves: the sender needs only the database.
    visitor = Browser(stack.base)
    _status, _url, page = visitor.get("/auth/forgot")
    fields = [("csrf_token", visitor.csrf(page)), ("email", "consultant@demo.dk")]
    status, _url, _page = visitor.post("/auth/forgot", fields)
    assert status == 200
    wait_for("the reset e-mail", lambda: smtp.mailbox.to("consultant@demo.dk"), stack)
    # The worker waits for Redis instead of exiting; supervisord keeps it either way.
    waiting = ("Redis is unreachable", "could not connect to Redis")  # ours, or RQ's own
    wait_for("the worker noticing", lambda: any(w in stack.log() for w in waiting), stack)
    assert stack.pids("flask --app wsgi worker")

    redis.start()  # back, empty: every queued job was lost with it
    before = len(smtp.mailbox.messages)
    # The run is issued by the worker, which has reconnected by itself.
    employers, run_page = browser.invoice_everyone(dates.today().isoformat(), stack.log)
    invoice_ids = browser.invoice_ids(run_page)
    assert len(invoice_ids) == employers
    numbers = []
    for invoice_id in invoice_ids:
        _status, _url, detail = browser.get(f"/finance/invoices/{invoice_id}")
        numbers.append(re.search(rb"F-\d{4}-\d{4}", detail).group(0).decode())

    def e_mailed() -> Counter:
        subjects = Counter(
            number
            for message in smtp.mailbox.messages[before:]
            for number in numbers
            if number in str(message["Subject"])
        )
        return subjects if set(subjects) == set(numbers) else Counter()

    sent = wait_for("every invoice's e-mail", e_mailed, stack)
    time.sleep(6)  # a sender round more: nothing goes twice
    assert e_mailed() == sent and set(sent.values()) == {1}, sent

    # A process that dies is started again by supervisord.
    [sender] = stack.pids("flask --app wsgi outbox work")
    os.kill(sender, signal.SIGKILL)
    restarted = wait_for(
        "the sender's restart",
        lambda: [pid for pid in stack.pids("flask --app wsgi outbox work") if pid != sender],
        stack,
    )
    assert restarted
