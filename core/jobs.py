"""Background jobs behind one class: RQ on Redis when configured, otherwise inline."""

from __future__ import annotations

import importlib
import logging
import os
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Flask, current_app, g, has_app_context

log = logging.getLogger(__name__)

QUEUE_NAME = "portal"
_worker_app: Flask | None = None


class JobQueue:
    """Enqueue a function call; run it now when no Redis is configured."""

    def __init__(
        self, redis_url: str | None, mode: str | None = None, name: str = QUEUE_NAME
    ) -> None:
        self.mode = mode or ("rq" if redis_url else "inline")
        self.redis_url = redis_url
        self.name = name
        self._queue = None

    @property
    def queue(self):
        if self._queue is None:
            from redis import Redis
            from rq import Queue

            # Short timeouts: a Redis that is down or unreachable costs a page a second, not
            # a gunicorn worker (the caller decides what waits for it: nothing is lost).
            redis = Redis.from_url(self.redis_url, socket_connect_timeout=2, socket_timeout=5)
            self._queue = Queue(self.name, connection=redis)
        return self._queue

    def try_enqueue(self, func: Callable, *args: Any, **kwargs: Any) -> bool:
        """Queue the call if Redis takes it; False (logged) when Redis cannot be reached.
        For work whose truth is in the database already (a queued run, an outbox row): a
        worker or the cron picks it up when Redis is back."""
        try:
            self.enqueue(func, *args, **kwargs)
        except Exception as error:
            log.warning("could not queue %s: %s", getattr(func, "__name__", func), error)
            return False
        return True

    def enqueue(self, func: Callable, *args: Any, retries: int = 0, **kwargs: Any) -> str | None:
        """Queue func(*args); returns the RQ job id, or None when it already ran inline."""
        if self.mode == "inline":
            # Like a worker, the job must see only committed data and must not run inside the
            # request's open transaction: end that first (callers keep ids, not objects).
            if has_app_context() and "db_session" in g:
                g.pop("db_session").close()
            func(*args, **kwargs)
            return None
        from rq import Retry

        retry = Retry(max=retries, interval=[10, 60, 300][:retries]) if retries else None
        job = self.queue.enqueue(func, *args, retry=retry, job_timeout=3600, **kwargs)
        return job.id


def under_rq() -> bool:
    """Whether this call runs inside an RQ job (so raising makes RQ retry it)."""
    try:
        from rq import get_current_job
    except ImportError:  # pragma: no cover
        return False
    return get_current_job() is not None


def queue() -> JobQueue:
    return current_app.extensions["jobs"]


def job(func: Callable) -> Callable:
    """Make a function runnable by an RQ worker: it gets an app context if it has none."""

    @wraps(func)
    def wrapper(*args, **kwargs):
        if has_app_context():
            return func(*args, **kwargs)
        with worker_app().app_context():
            return func(*args, **kwargs)

    return wrapper


def worker_app() -> Flask:
    """The app a worker process runs jobs in: the one gunicorn serves (`wsgi:app`, or the
    module PORTAL_WORKER_APP names), configured from the same environment."""
    global _worker_app
    if _worker_app is None:
        module = importlib.import_module(os.environ.get("PORTAL_WORKER_APP", "wsgi"))
        _worker_app = module.app
    return _worker_app


def init_app(app: Flask) -> None:
    app.extensions["jobs"] = JobQueue(
        app.config.get("REDIS_URL"),
        app.config.get("JOBS"),
        app.config.get("JOBS_QUEUE", QUEUE_NAME),
    )
