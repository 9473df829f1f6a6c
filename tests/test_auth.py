"""Log in and out, invitations, password resets, CSRF, rate limits and redirects."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.models import AuditEvent, Role, User, UserToken, utcnow
from tests import factories
from tests.conftest import body, csrf_token, link_in, login, post_form


def test_login_and_logout(client, db):
    user = factories.UserFactory(email="mette@example.dk", role=Role.CONSULTANT)
    db.commit()
    response = post_form(
        client, "/auth/login", {"email": "Mette@Example.DK ", "password": factories.PASSWORD}
    )
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert "Godt at se dig" in client.get("/").text
    assert (
        db.scalar(select(AuditEvent).where(AuditEvent.action == "user.login")).actor_id == user.id
    )

    response = post_form(client, "/auth/logout", {}, page="/")
    assert response.status_code == 302
    assert "Du er logget ud" in client.get(response.headers["Location"]).text
    assert client.get("/admin/users").status_code == 302  # back to the login page


def test_wrong_password_is_refused_with_a_message(client, db):
    factories.UserFactory(email="a@example.dk")
    db.commit()
    response = post_form(client, "/auth/login", {"email": "a@example.dk", "password": "wrong"})
    assert response.status_code == 401
    assert "Forkert e-mail eller adgangskode" in response.text
    response = post_form(client, "/auth/login", {"email": "nobody@example.dk", "password": "x"})
    assert "Forkert e-mail eller adgangskode" in response.text  # no hint which part was wrong


def test_deactivated_user_cannot_log_in_and_is_logged_out(client, db):
    user = factories.UserFactory(email="gone@example.dk")
    db.commit()
    login(client, user)
    user.active = False
    db.commit()
    assert client.get("/admin/users/invite").status_code == 302  # session no longer valid
    response = post_form(
        client, "/auth/login", {"email": "gone@example.dk", "password": factories.PASSWORD}
    )
    assert response.status_code == 401


def test_passwords_are_hashed_with_scrypt(db):
    from portal.auth import hash_password

    assert hash_password("long enough password").startswith("scrypt:")


def test_post_without_csrf_token_is_refused(client, db):
    factories.UserFactory(email="b@example.dk")
    db.commit()
    response = client.post(
        "/auth/login", data={"email": "b@example.dk", "password": factories.PASSWORD}
    )
    assert response.status_code == 400
    assert "Formularen var udløbet" in response.text
    assert client.get("/admin/users").status_code == 302  # still anonymous


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example",
        "javascript:alert(1)",
        "http:/evil.example",
        " //evil.example",
    ],
)
def test_next_parameter_never_leaves_the_site(client, db, target):
    user = factories.UserFactory()
    db.commit()
    token = csrf_token(client, "/auth/login")
    response = client.post(
        "/auth/login",
        data={
            "csrf_token": token,
            "email": user.email,
            "password": factories.PASSWORD,
            "next": target,
        },
    )
    assert response.status_code == 302 and response.headers["Location"] == "/"


def test_next_parameter_inside_the_site_is_followed(client, db):
    user = factories.UserFactory(role=Role.ADMIN)
    db.commit()
    token = csrf_token(client, "/auth/login?next=/admin/users")
    response = client.post(
        "/auth/login?next=/admin/users",
        data={"csrf_token": token, "email": user.email, "password": factories.PASSWORD},
    )
    assert response.headers["Location"] == "/admin/users"


def test_login_is_rate_limited_per_account(client, db):
    user = factories.UserFactory(email="target@example.dk")
    db.commit()
    for _ in range(5):
        response = post_form(client, "/auth/login", {"email": user.email, "password": "guess"})
        assert response.status_code == 401
    response = post_form(client, "/auth/login", {"email": user.email, "password": "guess"})
    assert response.status_code == 429
    assert "For mange forsøg" in response.text
    # Even the right password waits now: the account is locked for a while ...
    response = post_form(
        client, "/auth/login", {"email": user.email, "password": factories.PASSWORD}
    )
    assert response.status_code == 429
    # ... but other accounts from the same address are not (the IP limit is higher).
    other = factories.UserFactory()
    db.commit()
    login(client, other)


def test_login_is_rate_limited_per_ip(client, db):
    for n in range(20):
        response = post_form(
            client, "/auth/login", {"email": f"spray{n}@example.dk", "password": "guess"}
        )
        assert response.status_code == 401
    response = post_form(client, "/auth/login", {"email": "spray99@example.dk", "password": "x"})
    assert response.status_code == 429


def test_invitation_link_sets_the_password_once(client, db, mailbox, as_role):
    admin = as_role(Role.ADMIN)
    response = post_form(
        client,
        "/admin/users/invite",
        {"full_name": "Frida Finans", "email": "Frida@Example.dk", "role": "finance"},
    )
    assert response.status_code == 302
    invited = db.scalar(select(User).where(User.email == "frida@example.dk"))
    assert invited.role == Role.FINANCE and invited.password_hash is None
    assert db.scalar(select(AuditEvent).where(AuditEvent.action == "user.invited")).actor_id == (
        admin.id
    )

    [message] = mailbox.to("frida@example.dk")
    assert message["Subject"] == "Din invitation til Småjobportalen"
    path = link_in(message)
    post_form(client, "/auth/logout", {}, page="/")

    page = client.get(path)
    assert page.status_code == 200 and "frida@example.dk" in page.text
    response = post_form(client, path, {"password": "short", "confirm": "short"})
    assert "mindst 10 tegn" in response.text
    response = post_form(
        client, path, {"password": "a-good-password", "confirm": "a-good-password"}
    )
    assert response.status_code == 302
    assert "Økonomi" in client.get("/").text  # logged in as finance

    post_form(client, "/auth/logout", {}, page="/")
    assert client.get(path).status_code == 404  # used up
    login(client, "frida@example.dk", "a-good-password")


def test_invitation_link_expires(client, db, mailbox, as_role):
    as_role(Role.ADMIN)
    post_form(
        client,
        "/admin/users/invite",
        {"full_name": "Sen Bruger", "email": "late@example.dk", "role": "consultant"},
    )
    path = link_in(mailbox.to("late@example.dk")[0])
    token = db.scalar(select(UserToken).join(User).where(User.email == "late@example.dk"))
    token.expires_at = utcnow() - timedelta(minutes=1)
    db.commit()
    page = client.get(path)
    assert page.status_code == 404 and "udløbet" in page.text


def test_password_reset_flow(client, db, mailbox):
    user = factories.UserFactory(email="glemsom@example.dk")
    db.commit()
    response = post_form(client, "/auth/forgot", {"email": "glemsom@example.dk"})
    assert response.status_code == 302
    # Unknown addresses get the same answer and no e-mail.
    post_form(client, "/auth/forgot", {"email": "unknown@example.dk"})
    assert mailbox.to("unknown@example.dk") == []

    [message] = mailbox.to("glemsom@example.dk")
    path = link_in(message)
    assert path.startswith("/auth/reset/")
    response = post_form(
        client, path, {"password": "brand-new-password", "confirm": "brand-new-password"}
    )
    assert response.status_code == 302
    post_form(client, "/auth/logout", {}, page="/")
    assert client.get(path).status_code == 404
    login(client, user.email, "brand-new-password")


def test_reset_link_expires_after_an_hour(client, db, mailbox):
    factories.UserFactory(email="slow@example.dk")
    db.commit()
    post_form(client, "/auth/forgot", {"email": "slow@example.dk"})
    path = link_in(mailbox.to("slow@example.dk")[0])
    token = db.scalar(select(UserToken).join(User).where(User.email == "slow@example.dk"))
    assert token.expires_at - token.created_at == timedelta(hours=1)
    token.expires_at = utcnow() - timedelta(seconds=1)
    db.commit()
    assert client.get(path).status_code == 404


def test_a_new_reset_link_voids_the_old_one(client, db, mailbox):
    factories.UserFactory(email="twice@example.dk")
    db.commit()
    post_form(client, "/auth/forgot", {"email": "twice@example.dk"})
    post_form(client, "/auth/forgot", {"email": "twice@example.dk"})
    first, second = (link_in(m) for m in mailbox.to("twice@example.dk"))
    assert client.get(first).status_code == 404
    assert client.get(second).status_code == 200


def test_links_in_e_mails_ignore_the_host_header(client, db, mailbox):
    factories.UserFactory(email="host@example.dk")
    db.commit()
    evil = "http://evil.example"
    page = client.get("/auth/forgot", base_url=evil)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.text).group(1)
    response = client.post(
        "/auth/forgot", data={"csrf_token": token, "email": "host@example.dk"}, base_url=evil
    )
    assert response.status_code == 302
    [message] = mailbox.to("host@example.dk")
    assert "evil.example" not in body(message) and "http://localhost/auth/reset/" in body(message)
