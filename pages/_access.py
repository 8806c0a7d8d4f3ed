"""Sign-in and roles in the app: OIDC through st.login when configured, else local mode."""

from __future__ import annotations

import os

import streamlit as st

from consentlens import service
from consentlens.access import ADMIN, ROLES, VIEWER, Forbidden, Identity, role_for


def _auth_configured() -> bool:
    try:
        return "auth" in st.secrets
    except FileNotFoundError:
        return False


def _roles_setting() -> dict[str, str]:
    try:
        return dict(st.secrets.get("consentlens", {}).get("roles", {}))
    except FileNotFoundError:
        return {}


def identify() -> Identity:
    """Who is here. Stops the script with a sign-in prompt, or a refusal, when needed."""
    if not _auth_configured():
        role = os.environ.get("CONSENTLENS_LOCAL_ROLE", ADMIN)
        # An unknown role fails closed to the least one.
        return Identity("local user", role if role in ROLES else VIEWER, "local")
    if not st.user.is_logged_in:
        st.title("ConsentLens")
        st.write("Sign in to see your organisation's privacy and marketing figures.")
        st.button("Sign in", on_click=st.login, type="primary")
        st.stop()
    email = st.user.get("email")
    # A provider that says the address is unverified gets no role from it.
    role = None if st.user.get("email_verified") is False else role_for(email, _roles_setting())
    if role is None:
        st.error("Your account has no role in ConsentLens yet. Ask an administrator for one.")
        st.button("Sign out", on_click=st.logout)
        st.stop()
    identity = Identity(str(email), role, "oidc")
    if not st.session_state.get("login_recorded"):
        service.record_login(identity)
        st.session_state["login_recorded"] = True
    return identity


def banner(identity: Identity) -> None:
    """The sidebar line saying who is signed in, or that this is local mode."""
    if identity.mode == "local":
        st.sidebar.warning(
            f"Local mode: no sign-in, single user with the **{identity.role}** role."
            + (" Counts carry a small fixed noise." if identity.perturbed else ""),
            icon=":material/person_off:",
        )
        # How to change either, in words that wrap: the setting names go in code spans of
        # their own line, not in the middle of a sentence a narrow sidebar breaks.
        st.sidebar.caption(
            "Sign-in: an `[auth]` section in secrets.toml"
            + ("  \nExact counts: `CONSENTLENS_LOCAL_EXACT=1`" if identity.perturbed else "")
        )
    else:
        name = st.user.get("name") or identity.name
        st.sidebar.caption(f"Signed in as {name} ({identity.role.replace('_', ' ')})")
        st.sidebar.button("Sign out", on_click=st.logout)


def current() -> Identity:
    """The identity app.py established for this run."""
    identity = st.session_state.get("identity")
    if identity is None:
        st.stop()
    return identity


def require(permission: str) -> Identity:
    """The current identity, or stop the page with a refusal when it lacks `permission`."""
    identity = current()
    try:
        identity.require(permission)
    except Forbidden as refusal:
        st.error(f"Not allowed: {refusal}.")
        st.stop()
    return identity
