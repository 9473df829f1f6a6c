"""Log in and out, invitations, password resets, CSRF, rate limits and redirects."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from core import dates
from core.models import AuditEvent, Role, User, UserToken
from tests import factories
from tests.helpers import body, csrf_token, link_in, login, post_form


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
        "/x\n",  # a line break would split the Location header (was a 500)
        "/x\r\nSet-Cookie: a=b",
        "/x\t",
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
    token.expires_at = dates.now() - timedelta(minutes=1)
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
    token.expires_at = dates.now() - timedelta(seconds=1)
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


# --- sessions end when they should (issue 10) --------------------------------------------------


def _replay(client, cookie: str):
    """A second browser holding a copy of the session cookie (a stolen or saved one)."""
    client.set_cookie("session", cookie)
    return client.get("/hours/week")


def test_logging_out_ends_a_copied_session_cookie(app, client, db):
    user = factories.user_for(Role.WORKER, email="copy@example.dk")
    db.commit()
    login(client, user)
    saved = client.get_cookie("session").value
    thief = app.test_client()
    assert _replay(thief, saved).status_code == 200
    post_form(client, "/auth/logout", {}, page="/")
    response = _replay(thief, saved)
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


def test_a_password_reset_ends_every_earlier_session(app, client, db, mailbox):
    user = factories.user_for(Role.WORKER, email="reset-me@example.dk")
    db.commit()
    login(client, user)
    saved = client.get_cookie("session").value
    owner = app.test_client()
    post_form(owner, "/auth/forgot", {"email": user.email})
    path = link_in(mailbox.to(user.email)[0])
    new = "a-brand-new-password"
    response = post_form(owner, path, {"password": new, "confirm": new})
    assert response.status_code == 302
    assert owner.get("/hours/week").status_code == 200  # the reset logs the owner in
    assert _replay(app.test_client(), saved).status_code == 302


def test_deactivation_ends_every_session(app, client, db, as_role):
    user = factories.user_for(Role.WORKER, email="leaving@example.dk")
    db.commit()
    worker = app.test_client()
    login(worker, user)
    saved = worker.get_cookie("session").value
    admin = as_role(Role.ADMIN)
    assert admin.active
    post_form(client, f"/admin/users/{user.id}/active", {}, page="/admin/users")
    db.refresh(user)
    assert not user.active
    user.active = True  # even reactivated, the old session stays ended
    db.commit()
    assert _replay(app.test_client(), saved).status_code == 302


def test_a_locked_account_tells_its_owner_and_lets_them_in_by_a_reset_link(client, db, mailbox):
    user = factories.UserFactory(email="guessed@example.dk", role=Role.FINANCE)
    db.commit()
    for _ in range(5):
        post_form(client, "/auth/login", {"email": user.email, "password": "guess"})
    for _ in range(3):  # the guesser keeps trying: the owner is told once
        locked = post_form(client, "/auth/login", {"email": user.email, "password": "guess"})
        assert locked.status_code == 429
    for _ in range(6):
        unknown = post_form(client, "/auth/login", {"email": "nobody@example.dk", "password": "x"})
    # The page reads the same for a known and an unknown address.
    strip = re.compile(r'name="csrf_token"[^>]*>')
    assert strip.sub("", locked.text) == strip.sub("", unknown.text)
    assert "e-mailet" in locked.text or "e-mail" in locked.text

    [notice] = mailbox.to(user.email)
    assert mailbox.to("nobody@example.dk") == []
    assert "15 minutter" in body(notice)
    path = link_in(notice)
    assert path.startswith("/auth/reset/")
    # The owner gets in now, although the log-in form is still locked.
    new = "owner-is-back-in"
    response = post_form(client, path, {"password": new, "confirm": new})
    assert response.status_code == 302
    assert client.get("/").status_code == 200 and "Økonomi" in client.get("/").text


@pytest.mark.parametrize("target", ["/x\n", "/x\r\nSet-Cookie: a=b", "/\x7f"])
def test_the_language_switch_refuses_a_next_with_control_characters(client, db, target):
    response = post_form(client, "/language/en", {"next": target}, page="/")
    assert response.status_code == 302 and response.headers["Location"] == "/"
