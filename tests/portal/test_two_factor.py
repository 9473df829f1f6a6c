"""Two-factor log-in (issue 16): enrolment with a QR code, the code after the password,
recovery codes, rate limits, the organisation's setting, the admin's reset, and codes sent
twice at once that work once."""

from __future__ import annotations

import os
import re

import pyotp
import pytest
from sqlalchemy import func, select

from core import dates, settings
from core.models import AuditEvent, RecoveryCode, Role, User
from portal import create_app
from portal.auth import PENDING
from portal.services import twofactor
from tests import factories
from tests.helpers import (
    RATE_LIMIT_PREFIX,
    ClosingClient,
    csrf_token,
    einvoice_rules_dir,
    login,
    post_form,
    reset_limits,
    rolled_back,
)
from tests.portal.test_nothing_twice import seeding
from tests.racing import Browser, race

VERIFY, SETUP, ACCOUNT = "/auth/two-factor", "/auth/two-factor/setup", "/auth/two-factor/account"


@pytest.fixture(autouse=True)
def english(request):
    """The pages in English: the assertions read the texts as written in the code."""
    if "client" in request.fixturenames:
        with request.getfixturevalue("client").session_transaction() as session:
            session["locale"] = "en"


def code(secret: str, offset: int = 0) -> str:
    """The code an authenticator app shows now (offset: steps of 30 s before or after)."""
    return pyotp.TOTP(secret).at(dates.now(), counter_offset=offset)


def enrol(db, user: User) -> tuple[str, list[str]]:
    """Turn two-factor log-in on for the user, as if a minute ago (the code of the step
    before), so the current code is still unused; returns the secret and recovery codes."""
    secret = pyotp.random_base32()
    codes = twofactor.enable(db, user, secret, code(secret, -1))
    db.commit()
    return secret, codes


def require_staff_two_factor(db, on: bool = True) -> None:
    settings.get(db).staff_two_factor = on
    db.commit()


def password_only(client, user: User):
    return post_form(client, "/auth/login", {"email": user.email, "password": factories.PASSWORD})


def send_code(client, data: dict):
    # The token from the log-in page: the code page itself answers only while it waits.
    return client.post(VERIFY, data={"csrf_token": csrf_token(client, "/auth/login"), **data})


def enrol_on_the_page(client, offset: int = 0) -> tuple[str, object]:
    """Scan the enrolment page's secret and confirm it with a code; returns the secret and
    the response."""
    page = client.get(SETUP).text
    secret = secret_on(page)
    data = {"csrf_token": csrf_token(client, SETUP), "enrolment": sealed_on(page)}
    return secret, client.post(SETUP, data={**data, "code": code(secret, offset)})


def sealed_on(page: str) -> str:
    return re.search(r'name="enrolment" type="hidden" value="([^"]+)"', page)[1]


def secret_on(page: str) -> str:
    match = re.search(r'<code class="two-factor-secret">([A-Z2-7 ]+)</code>', page)
    assert match, page
    return match.group(1).replace(" ", "")


def codes_on(page: str) -> list[str]:
    return re.findall(r"<li><code>([a-z0-9]{5}-[a-z0-9]{5})</code></li>", page)


# --- enrolment ----------------------------------------------------------------------------------


def test_enrolment_shows_a_qr_code_and_the_recovery_codes_once(client, db, as_role):
    user = as_role(Role.FINANCE)
    page = client.get(SETUP)
    assert page.status_code == 200
    assert 'src="data:image/svg+xml' in page.text and "QR code" in page.text
    secret = secret_on(page.text)
    uri = twofactor.provisioning_uri(user, secret)
    assert uri.startswith("otpauth://totp/Sm%C3%A5jobportalen:") and "issuer=Sm%C3%A5job" in uri

    token = csrf_token(client, SETUP)
    enrolment = {"csrf_token": token, "enrolment": sealed_on(page.text)}
    wrong = client.post(SETUP, data={**enrolment, "code": "000000", "unused": code(secret)})
    wrong = wrong if code(secret) != "000000" else client.post(SETUP, data={**enrolment})
    assert wrong.status_code == 400 and "That code is not right" in wrong.text
    assert secret_on(wrong.text) == secret  # the same secret comes back with the form
    db.refresh(user)
    assert user.totp_enabled_at is None
    # Without the page's sealed secret (or with an old one) nothing is turned on.
    missing = client.post(SETUP, data={"csrf_token": token, "code": code(secret)})
    assert missing.status_code == 400 and "open too long" in missing.text

    response = client.post(SETUP, data={**enrolment, "code": code(secret)})
    assert response.status_code == 302 and response.headers["Location"] == ACCOUNT
    shown = client.get(ACCOUNT)
    codes = codes_on(shown.text)
    assert len(codes) == 10 and len(set(codes)) == 10
    assert "shown only this once" in shown.text
    assert codes_on(client.get(ACCOUNT).text) == []  # once

    db.refresh(user)
    assert user.totp_enabled_at is not None
    assert secret not in user.totp_secret  # kept encrypted
    hashes = db.scalars(select(RecoveryCode.code_hash).where(RecoveryCode.user_id == user.id))
    assert all(c.replace("-", "") not in h for h in hashes for c in codes)
    assert db.scalar(select(AuditEvent).where(AuditEvent.action == "user.two_factor_enabled"))
    assert client.get("/").status_code == 200  # this session goes on


def test_a_tampered_or_foreign_enrolment_secret_is_not_accepted(app, db, ctx):
    one, other = factories.UserFactory(), factories.UserFactory()
    db.flush()
    sealed = twofactor.seal_enrolment(one, "JBSWY3DPEHPK3PXP")
    assert twofactor.open_enrolment(one, sealed) == "JBSWY3DPEHPK3PXP"
    assert twofactor.open_enrolment(other, sealed) is None
    assert twofactor.open_enrolment(one, sealed[:-4] + "AAAA") is None


# --- log-in with the second factor --------------------------------------------------------------


def test_the_password_alone_does_not_log_in(client, db):
    user = factories.UserFactory(role=Role.CONSULTANT)
    db.flush()
    secret, _codes = enrol(db, user)

    response = password_only(client, user)
    assert response.headers["Location"] == VERIFY
    assert client.get("/").headers["Location"] == VERIFY  # nothing else before the code
    assert client.get("/workers").headers["Location"] == VERIFY
    page = client.get(VERIFY)
    assert page.status_code == 200 and 'autocomplete="one-time-code"' in page.text

    wrong = send_code(client, {"code": "12345"})
    assert wrong.status_code == 400
    response = send_code(client, {"code": code(secret)})
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert client.get("/workers").status_code == 200
    login_event = db.scalar(
        select(AuditEvent).where(AuditEvent.action == "user.login", AuditEvent.actor_id == user.id)
    )
    assert login_event.details == {"second_factor": True}


def test_the_next_page_is_kept_through_the_code(client, db):
    user = factories.UserFactory(role=Role.ADMIN)
    db.flush()
    secret, _codes = enrol(db, user)
    client.post(
        "/auth/login?next=/admin/users",
        data={
            "csrf_token": csrf_token(client, "/auth/login"),
            "email": user.email,
            "password": factories.PASSWORD,
            "next": "/admin/users",
        },
    )
    assert send_code(client, {"code": code(secret)}).headers["Location"] == "/admin/users"


def test_a_code_works_once(client, db):
    user = factories.UserFactory(role=Role.FINANCE)
    db.flush()
    secret, _codes = enrol(db, user)
    used = code(secret)
    password_only(client, user)
    assert send_code(client, {"code": used}).status_code == 302
    post_form(client, "/auth/logout", {}, page="/")

    password_only(client, user)
    replay = send_code(client, {"code": used})
    assert replay.status_code == 400 and "was used a moment ago" in replay.text
    assert "Wait for the next code" in replay.text
    # The code of the step before is older than the one used: refused as well.
    assert send_code(client, {"code": code(secret, -1)}).status_code == 400
    assert send_code(client, {"code": code(secret, 1)}).status_code == 302  # the next one


def test_a_recovery_code_works_once(client, db):
    user = factories.UserFactory(role=Role.CONSULTANT)
    db.flush()
    _secret, codes = enrol(db, user)
    password_only(client, user)
    response = send_code(client, {"recovery_code": codes[0].upper().replace("-", " ")})
    assert response.status_code == 302
    assert "9 are left" in client.get("/").text
    post_form(client, "/auth/logout", {}, page="/")

    password_only(client, user)
    again = send_code(client, {"recovery_code": codes[0]})
    assert again.status_code == 400 and "recovery code" in again.text
    assert send_code(client, {"recovery_code": "aaaaa-bbbbb"}).status_code == 400
    assert send_code(client, {"recovery_code": codes[1]}).status_code == 302


def test_the_waiting_marker_expires_after_five_minutes(client, db):
    user = factories.UserFactory(role=Role.CONSULTANT)
    db.flush()
    secret, _codes = enrol(db, user)
    password_only(client, user)
    with client.session_transaction() as session:
        session[PENDING] = {**session[PENDING], "at": int(dates.now().timestamp()) - 301}
    response = send_code(client, {"code": code(secret)})
    assert response.status_code == 302 and response.headers["Location"] == "/auth/login"
    assert client.get("/workers").headers["Location"].startswith("/auth/login")


def test_a_new_password_or_a_reset_voids_the_waiting_marker(client, db):
    user = factories.UserFactory(role=Role.CONSULTANT)
    db.flush()
    secret, _codes = enrol(db, user)
    password_only(client, user)
    user.session_version += 1  # what a new password or the admin's reset does
    db.commit()
    assert send_code(client, {"code": code(secret)}).headers["Location"] == "/auth/login"


def test_cancel_forgets_the_waiting_marker(client, db):
    user = factories.UserFactory(role=Role.CONSULTANT)
    db.flush()
    enrol(db, user)
    password_only(client, user)
    response = post_form(client, "/auth/two-factor/cancel", {}, page=VERIFY)
    assert response.headers["Location"] == "/auth/login"
    assert client.get("/").status_code == 200  # the landing page, not the code page


def test_a_reset_link_does_not_bypass_the_second_factor(client, db, mailbox):
    user = factories.UserFactory(role=Role.FINANCE, email="glemsk@example.dk")
    db.flush()
    secret, _codes = enrol(db, user)
    post_form(client, "/auth/forgot", {"email": user.email})
    [message] = mailbox.to(user.email)
    path = re.search(r"http://localhost(/\S+)", message.get_body().get_content())[1]
    response = post_form(client, path, {"password": "a-new-password", "confirm": "a-new-password"})
    assert response.headers["Location"] == VERIFY
    assert client.get("/finance/invoicing").headers["Location"] == VERIFY
    assert send_code(client, {"code": code(secret)}).status_code == 302


def test_wrong_codes_are_rate_limited_with_a_clear_message(client, db):
    user = factories.UserFactory(role=Role.CONSULTANT)
    db.flush()
    secret, _codes = enrol(db, user)
    password_only(client, user)
    for _ in range(5):
        assert send_code(client, {"code": "000000"}).status_code in (400,)
    locked = send_code(client, {"code": code(secret)})
    assert locked.status_code == 429
    assert "Too many wrong codes" in locked.text
    assert send_code(client, {"recovery_code": "whatever"}).status_code == 429


def test_a_used_code_says_wait_for_the_next_and_is_not_a_wrong_guess(client, db):
    """The code shown at enrolment, entered again at the log-in straight after: told to wait
    for the next code, and not counted toward the lock-out (issue 23)."""
    user = factories.UserFactory(role=Role.CONSULTANT)
    db.flush()
    secret = pyotp.random_base32()
    twofactor.enable(db, user, secret, code(secret))  # enrolled with this step's code
    db.commit()
    password_only(client, user)
    for _ in range(8):  # more than the five wrong codes that lock an account
        again = send_code(client, {"code": code(secret)})
        assert again.status_code == 400 and "Wait for the next code" in again.text
    wrong = send_code(client, {"code": "000000"})
    assert wrong.status_code == 400 and "not right" in wrong.text
    assert send_code(client, {"code": code(secret, 1)}).status_code == 302  # not locked


# --- the organisation's setting -----------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.ADMIN, Role.FINANCE, Role.CONSULTANT])
def test_staff_must_enrol_when_the_setting_is_on(client, db, role):
    require_staff_two_factor(db)
    user = factories.UserFactory(role=role)
    db.commit()
    login(client, user)
    for path in ("/", "/placements", "/workers"):
        assert client.get(path).headers["Location"] == SETUP, path
    page = client.get(SETUP)
    assert page.status_code == 200 and "requires" in page.text
    assert post_form(client, "/language/en", {}, page=SETUP).status_code == 302  # allowed

    secret, response = enrol_on_the_page(client)
    assert response.headers["Location"] == ACCOUNT
    assert client.get("/").status_code == 200
    # Staff cannot turn it off while the organisation requires it.
    refused = post_form(
        client, "/auth/two-factor/disable", {"disable-code": code(secret, 1)}, page=ACCOUNT
    )
    assert refused.status_code == 400 and "requires two-factor log-in" in refused.text
    db.expire_all()
    assert db.get(User, user.id).totp_enabled_at is not None


def test_staff_are_free_when_the_setting_is_off(client, db):
    require_staff_two_factor(db, on=False)
    user = factories.UserFactory(role=Role.ADMIN)
    db.commit()
    login(client, user)
    assert client.get("/").status_code == 200
    assert client.get("/admin/users").status_code == 200


def test_employers_and_workers_are_never_forced(client, db, as_role):
    require_staff_two_factor(db)
    as_role(Role.EMPLOYER)
    assert client.get("/").status_code == 200
    post_form(client, "/auth/logout", {}, page="/")
    as_role(Role.WORKER)
    assert client.get("/").status_code == 200
    assert client.get(SETUP).status_code == 403  # not offered to workers


def test_the_setting_is_off_by_default_outside_production(db):
    assert settings.get(db).staff_two_factor is None
    assert settings.staff_two_factor(db) is False  # testing


def test_the_setting_is_on_by_default_in_production(app, database_url, tmp_path):
    production = create_app(
        {
            "ENV": "production",
            "SECRET_KEY": "a-long-production-secret",
            "DATABASE_URL": database_url,
            "SESSION_COOKIE_SECURE": False,  # the test client speaks plain http
            "REDIS_URL": os.environ.get("REDIS_URL"),
            "RATELIMIT_KEY_PREFIX": RATE_LIMIT_PREFIX,
            "OUTBOX_DIR": str(tmp_path),
            "EINVOICE_RULES_DIR": einvoice_rules_dir(),
            "EINVOICE_FOLDER": str(tmp_path),
        }
    )
    production.test_client_class = ClosingClient
    try:
        with rolled_back(production) as session:
            user = factories.UserFactory(role=Role.FINANCE)
            session.commit()
            assert settings.staff_two_factor(session) is True
            with production.test_client() as client:
                login(client, user)
                assert client.get("/").headers["Location"] == SETUP
                settings.get(session).staff_two_factor = False  # the admin turned it off
                session.commit()
                assert client.get("/").status_code == 200
    finally:
        reset_limits(production)
        production.extensions["db"].engine.dispose()


def test_the_admin_sets_it_on_the_settings_page(client, db, as_role):
    from tests.invoicing import organisation

    organisation(db)
    db.commit()
    as_role(Role.ADMIN)
    page = client.get("/admin/settings")
    assert 'name="staff_two_factor"' in page.text
    assert 'name="staff_two_factor" type="checkbox" value="y">' in page.text  # off: testing
    fields = dict(re.findall(r'<input[^>]*name="([a-z_]+)"[^>]*value="([^"]*)"', page.text))
    fields = {k: v for k, v in fields.items() if k not in ("csrf_token", "staff_two_factor")}
    fields["compensation_enabled"] = ""
    fields.pop("compensation_enabled")
    response = post_form(client, "/admin/settings", fields)
    assert response.status_code == 302
    assert settings.get(db).staff_two_factor is None  # unchanged: still the default
    response = post_form(client, "/admin/settings", {**fields, "staff_two_factor": "y"})
    assert response.status_code == 302
    db.expire_all()
    assert settings.get(db).staff_two_factor is True
    event = db.scalars(select(AuditEvent).where(AuditEvent.action == "settings.updated")).all()[-1]
    assert event.details["changes"]["staff_two_factor"] == [None, True]


# --- employers: voluntary ----------------------------------------------------------------------


def test_an_employer_turns_it_on_and_off(client, db, as_role):
    user = as_role(Role.EMPLOYER)
    secret, enrolled = enrol_on_the_page(client, -1)
    assert enrolled.status_code == 302
    post_form(client, "/auth/logout", {}, page="/")

    assert password_only(client, user).headers["Location"] == VERIFY
    assert send_code(client, {"code": code(secret)}).status_code == 302
    wrong = post_form(client, "/auth/two-factor/disable", {"disable-code": "000000"}, page=ACCOUNT)
    assert wrong.status_code == 400
    response = post_form(
        client, "/auth/two-factor/disable", {"disable-code": code(secret, 1)}, page=ACCOUNT
    )
    assert response.status_code == 302
    db.expire_all()
    assert db.get(User, user.id).totp_enabled_at is None
    assert db.scalar(select(func.count()).select_from(RecoveryCode)) == 0
    post_form(client, "/auth/logout", {}, page="/")
    login(client, user)
    assert client.get("/").status_code == 200  # the password alone again


def test_new_recovery_codes_void_the_old_ones(client, db):
    user = factories.UserFactory(role=Role.CONSULTANT)
    db.flush()
    secret, old = enrol(db, user)
    password_only(client, user)
    send_code(client, {"code": code(secret)})
    response = post_form(
        client, "/auth/two-factor/recovery-codes", {"codes-code": code(secret, 1)}, page=ACCOUNT
    )
    assert response.headers["Location"] == ACCOUNT
    new = codes_on(client.get(ACCOUNT).text)
    assert len(new) == 10 and not set(new) & set(old)
    post_form(client, "/auth/logout", {}, page="/")
    password_only(client, user)
    assert send_code(client, {"recovery_code": old[0]}).status_code == 400
    assert send_code(client, {"recovery_code": new[0]}).status_code == 302


# --- the admin's reset --------------------------------------------------------------------------


def test_an_admin_resets_a_colleagues_second_factor(app, client, db, as_role):
    colleague = factories.UserFactory(role=Role.CONSULTANT, email="mistet@example.dk")
    db.flush()
    secret, _codes = enrol(db, colleague)
    theirs = app.test_client()
    password_only(theirs, colleague)
    send_code(theirs, {"code": code(secret)})
    assert theirs.get("/workers").status_code == 200

    admin = as_role(Role.ADMIN)
    users = client.get("/admin/users")
    assert "Nulstil anden faktor" in users.text  # Reset second factor
    response = post_form(
        client, f"/admin/users/{colleague.id}/two-factor-reset", {}, page="/admin/users"
    )
    assert response.status_code == 302
    assert theirs.get("/workers").headers["Location"].startswith("/auth/login")  # ended

    db.expire_all()
    assert db.get(User, colleague.id).totp_enabled_at is None
    event = db.scalar(select(AuditEvent).where(AuditEvent.action == "user.two_factor_reset"))
    assert event.actor_id == admin.id and event.object_id == colleague.id
    assert event.details == {"email": "mistet@example.dk", "was_enabled": True}
    # Not for oneself: no button, and the post is refused.
    enrol(db, admin)
    response = post_form(client, f"/admin/users/{admin.id}/two-factor-reset", {}, page="/")
    assert response.status_code == 302  # back to the list with the reason
    assert db.get(User, admin.id).totp_enabled_at is not None


# --- sent twice at once -------------------------------------------------------------------------


seeded = seeding  # a session whose factories commit for real (test_nothing_twice)


def _waiting_tabs(app, committed, tabs: int = 4):
    """A user with two-factor log-in whose password was right, in `tabs` connections."""
    with seeded(committed) as session:
        user = factories.UserFactory(role=Role.FINANCE)
        session.flush()
        secret, codes = enrol(session, user)
    browser = Browser(app)
    password_only(browser.client, user)
    token = csrf_token(browser.client, VERIFY)
    return browser.tabs(tabs), token, secret, codes


def test_the_same_code_sent_four_times_at_once_logs_in_once(app, committed):
    reset_limits(app)
    tabs, token, secret, _codes = _waiting_tabs(app, committed)
    same = code(secret)
    responses = race(
        [lambda c=c: c.post(VERIFY, data={"csrf_token": token, "code": same}) for c in tabs]
    )
    assert sorted(r.status_code for r in responses) == [302, 400, 400, 400]
    reset_limits(app)


def test_a_recovery_code_sent_four_times_at_once_works_once(app, committed):
    reset_limits(app)
    tabs, token, _secret, codes = _waiting_tabs(app, committed)
    responses = race(
        [
            lambda c=c: c.post(VERIFY, data={"csrf_token": token, "recovery_code": codes[0]})
            for c in tabs
        ]
    )
    assert sorted(r.status_code for r in responses) == [302, 400, 400, 400]
    with committed() as session:
        used = session.scalar(
            select(func.count()).select_from(RecoveryCode).where(RecoveryCode.used_at.is_not(None))
        )
    assert used == 1
    reset_limits(app)
