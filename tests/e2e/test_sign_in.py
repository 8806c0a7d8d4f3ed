"""Sign-in through OpenID Connect against a local test identity provider: roles decide the
pages, and a viewer cannot reach a personal-data page even by its URL."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from oidc_provider_mock import User, run_server_in_thread
from playwright.sync_api import Page, expect

from tests.e2e.conftest import free_port, streamlit_server, wait_for_app

PEOPLE = {
    "cmo@example.com": ("Casey Marketing", "viewer"),
    "dpo@privacy.example.com": ("Dana Privacy", "privacy_officer"),
}


@pytest.fixture(scope="module")
def provider() -> Iterator[str]:
    users = [
        User(sub=email, claims={"email": email, "name": name})
        for email, (name, _role) in PEOPLE.items()
    ]
    with run_server_in_thread(user_claims=users) as server:
        yield f"http://localhost:{server.server_port}"


@pytest.fixture(scope="module")
def secured(provider: str, demo_store: Path, tmp_path_factory) -> Iterator[str]:
    port = free_port()
    secrets = tmp_path_factory.mktemp("oidc") / "secrets.toml"
    roles = "\n".join(f'"{email}" = "{role}"' for email, (_n, role) in PEOPLE.items())
    secrets.write_text(
        "[auth]\n"
        f'redirect_uri = "http://127.0.0.1:{port}/oauth2callback"\n'
        'cookie_secret = "a-long-random-cookie-secret-for-the-test-run"\n'
        'client_id = "consentlens"\n'
        'client_secret = "consentlens-secret"\n'
        f'server_metadata_url = "{provider}/.well-known/openid-configuration"\n'
        "\n[consentlens.roles]\n" + roles + "\n"
    )
    with streamlit_server(demo_store, port=port, args=["--secrets.files", str(secrets)]) as url:
        yield url


def sign_in(page: Page, url: str, email: str) -> None:
    page.goto(url)
    wait_for_app(page)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"localhost:\d+/oauth2/authorize"))
    page.locator('input[name="sub"]').fill(email)
    page.get_by_role("button", name="Authorize").click()
    page.wait_for_url(re.compile(r"127\.0\.0\.1"))
    wait_for_app(page)


def nav(page: Page) -> str:
    return page.locator('[data-testid="stSidebarNav"]').inner_text()


def test_a_viewer_signs_in_and_sees_only_aggregate_pages(page: Page, secured: str):
    sign_in(page, secured, "cmo@example.com")
    expect(page.locator('[data-testid="stSidebar"]')).to_contain_text(
        "Signed in as Casey Marketing (viewer)"
    )
    assert "Overview" in nav(page) and "What we know about you" not in nav(page)
    page.goto(f"{secured}/person-report")
    wait_for_app(page)
    expect(page.get_by_role("heading", name="What we know about you")).to_have_count(0)
    expect(page.get_by_label("Customer ID")).to_have_count(0)


def test_a_privacy_officer_reaches_the_personal_data_pages(page: Page, secured: str):
    sign_in(page, secured, "dpo@privacy.example.com")
    assert "What we know about you" in nav(page) and "Audit" in nav(page)
    page.goto(f"{secured}/person-report")
    wait_for_app(page)
    expect(page.get_by_role("heading", name="What we know about you")).to_be_visible()
