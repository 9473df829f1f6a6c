"""Each role reaches its own pages and is refused the others'."""

from __future__ import annotations

import pytest

from core.models import Role

ADMIN_PAGES = ["/admin/settings", "/admin/work-areas", "/admin/work-areas/new", "/admin/users"]
HOME_HEADINGS = {
    Role.ADMIN: "Administration",
    Role.FINANCE: "Økonomi",
    Role.CONSULTANT: "Godt at se dig",
    Role.EMPLOYER: "Virksomhed",
    Role.WORKER: "Hej Medarbejder",
}
NAV_LINKS = {
    Role.ADMIN: ["/admin/settings", "/admin/users"],
}


@pytest.mark.parametrize("role", list(Role))
def test_home_page_and_navigation_per_role(client, as_role, role):
    as_role(role)
    page = client.get("/")
    assert page.status_code == 200
    assert HOME_HEADINGS[role] in page.text
    for other_role, links in NAV_LINKS.items():
        for link in links:
            assert (f'href="{link}"' in page.text) == (role == other_role)


@pytest.mark.parametrize("role", [Role.EMPLOYER, Role.WORKER, Role.CONSULTANT, Role.FINANCE])
@pytest.mark.parametrize("path", ADMIN_PAGES)
def test_admin_pages_are_refused_to_other_roles(client, as_role, role, path):
    as_role(role)
    response = client.get(path)
    assert response.status_code == 403
    assert "Du har ikke adgang til denne side" in response.text


@pytest.mark.parametrize("path", [*ADMIN_PAGES, "/admin/users/invite"])
def test_anonymous_visitors_are_sent_to_log_in(client, db, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/auth/login?next=")


@pytest.mark.parametrize("role", [Role.FINANCE, Role.CONSULTANT, Role.EMPLOYER])
def test_invite_page_is_for_admins_only(client, as_role, role):
    as_role(role)
    assert client.get("/admin/users/invite").status_code == 403
    assert 'href="/admin/users/invite"' not in client.get("/").text
