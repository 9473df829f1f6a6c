"""Security headers, cookie flags, production configuration."""

from __future__ import annotations

import pytest

from portal import create_app
from portal.security import is_safe_redirect


def test_security_headers(client):
    response = client.get("/")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["Referrer-Policy"] == "same-origin"


def test_session_cookie_is_httponly_and_lax(client):
    client.get("/auth/login")
    cookie = client.get_cookie("session")
    assert cookie is not None and cookie.http_only and cookie.same_site == "Lax"


def test_production_requires_a_secret_and_secure_cookies(tmp_path, monkeypatch):
    monkeypatch.delenv("PORTAL_SECRET_KEY", raising=False)
    with pytest.raises(RuntimeError, match="PORTAL_SECRET_KEY"):
        create_app({"ENV": "production", "DATABASE_URL": "sqlite://"})
    app = create_app({"ENV": "production", "DATABASE_URL": "sqlite://", "SECRET_KEY": "s" * 32})
    assert app.config["SESSION_COOKIE_SECURE"] and app.config["REMEMBER_COOKIE_SECURE"]
    with app.test_client() as client:
        assert "Strict-Transport-Security" in client.get("/").headers


@pytest.mark.parametrize(
    ("target", "safe"),
    [
        ("/", True),
        ("/admin/users?x=1", True),
        ("", False),
        (None, False),
        ("//evil.example", False),
        ("/\\evil.example", False),
        ("https://evil.example", False),
        ("javascript:alert(1)", False),
        ("/\x00evil", False),
    ],
)
def test_is_safe_redirect(target, safe):
    assert is_safe_redirect(target) is safe


def test_environment_variables_configure_the_app(monkeypatch, tmp_path):
    monkeypatch.setenv("PORTAL_DATABASE_URL", f"sqlite:///{tmp_path}/x.db")
    monkeypatch.setenv("PORTAL_BASE_URL", "https://smajob.example")
    monkeypatch.setenv("PORTAL_SMTP_PORT", "2525")
    app = create_app({"SECRET_KEY": "x"})
    assert app.config["DATABASE_URL"].endswith("/x.db")
    assert app.config["BASE_URL"] == "https://smajob.example"
    assert app.config["SMTP_PORT"] == 2525
