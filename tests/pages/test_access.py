"""Roles: each sees exactly its pages and actions, sign-in through OIDC when configured, a
local single-user mode otherwise; refusals hold without the widgets, through direct paths."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from consentlens import service
from consentlens.access import Forbidden, Identity, role_for
from tests.pages.conftest import APP

AGGREGATE = [
    "pages/overview.py",
    "pages/consent.py",
    "pages/ymn.py",
    "pages/erasure.py",
    "pages/impact.py",
]
PERSONAL = ["pages/person.py", "pages/forget.py", "pages/audit.py"]
ROLES = {
    "cmo@example.com": "viewer",
    "ana@example.com": "analyst",
    "*@privacy.example.com": "privacy_officer",
    "root@example.com": "admin",
}
EXPECTED = {
    "cmo@example.com": AGGREGATE,
    "ana@example.com": AGGREGATE,
    "dpo@privacy.example.com": AGGREGATE + PERSONAL,
    "root@example.com": AGGREGATE + PERSONAL,
}


def signed_in(email: str | None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.secrets["auth"] = {
        "redirect_uri": "http://127.0.0.1:8501/oauth2callback",
        "cookie_secret": "a-test-cookie-secret-of-some-length",
        "client_id": "consentlens",
        "client_secret": "secret",
        "server_metadata_url": "http://127.0.0.1:9/.well-known/openid-configuration",
    }
    at.secrets["consentlens"] = {"roles": ROLES}
    at.user = {"is_logged_in": True, "email": email} if email else {"is_logged_in": False}
    return at


def reachable(at: AppTest) -> list[str]:
    pages = []
    for path in AGGREGATE + PERSONAL:
        try:
            at.switch_page(path)
        except ValueError:
            continue
        at.run()
        assert not at.exception, path
        pages.append(path)
    return pages


@pytest.fixture(autouse=True)
def store_env(demo_db, monkeypatch):
    monkeypatch.setenv("CONSENTLENS_DB", str(demo_db))


@pytest.mark.parametrize("email", list(EXPECTED))
def test_each_role_reaches_exactly_its_pages(email):
    at = signed_in(email)
    at.run()
    assert not at.exception
    assert reachable(at) == EXPECTED[email]
    role = role_for(email, ROLES)
    assert f"({role.replace('_', ' ')})" in at.sidebar.caption[0].value


def test_a_signed_out_visitor_sees_only_the_sign_in(app):
    at = signed_in(None)
    at.run()
    assert [b.label for b in at.button] == ["Sign in"]
    assert not at.metric


def test_an_account_without_a_role_is_refused():
    at = signed_in("stranger@elsewhere.example")
    at.run()
    assert "no role" in at.error[0].value
    assert not at.metric


def test_without_sign_in_configured_the_app_runs_in_local_mode_and_says_so(app):
    at = app()
    assert "Local mode" in at.sidebar.warning[0].value
    assert reachable(at) == AGGREGATE + PERSONAL


@pytest.mark.parametrize("path", PERSONAL)
def test_a_personal_page_refuses_a_viewer_even_when_run_directly(path):
    # Bypass the router: the page itself checks the role before any query.
    at = AppTest.from_file(str(APP).replace("app.py", path), default_timeout=60)
    at.session_state["identity"] = Identity("cmo", "viewer", "oidc")
    at.run()
    assert at.error[0].value.startswith("Not allowed")
    assert not at.dataframe


def test_actions_check_the_role_before_touching_anything():
    viewer = Identity("cmo", "viewer", "oidc")
    with pytest.raises(Forbidden):
        service.forget(viewer, ["0000001"], None)
    with pytest.raises(Forbidden):
        service.look_up(viewer, "0000001")
    with pytest.raises(Forbidden):
        service.audit_entries(Identity("ana", "analyst", "oidc"))


def test_role_mapping_is_exact_or_by_domain():
    assert role_for("CMO@Example.com", ROLES) == "viewer"
    assert role_for("x@privacy.example.com", ROLES) == "privacy_officer"
    assert role_for("x@sub.privacy.example.com", ROLES) is None
    assert role_for("cmo@example.com", {"cmo@example.com": "superuser"}) is None
