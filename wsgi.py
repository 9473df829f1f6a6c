"""Entry point for gunicorn and the flask CLI: app = create_app()."""

from portal import create_app

app = create_app()
