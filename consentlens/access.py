"""Who may do what: roles, their permissions, and the mapping from a signed-in e-mail to a
role. Checked in Python before each query or action; hiding a widget is never the check."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

VIEWER, ANALYST, PRIVACY_OFFICER, ADMIN = "viewer", "analyst", "privacy_officer", "admin"
ROLES: tuple[str, ...] = (VIEWER, ANALYST, PRIVACY_OFFICER, ADMIN)

# Each permission and the roles holding it.
PERMISSIONS: dict[str, frozenset[str]] = {
    "view_aggregates": frozenset(ROLES),
    "upload": frozenset({ANALYST, PRIVACY_OFFICER, ADMIN}),
    "view_person": frozenset({PRIVACY_OFFICER, ADMIN}),
    "erase": frozenset({PRIVACY_OFFICER, ADMIN}),
    "audit": frozenset({PRIVACY_OFFICER, ADMIN}),
    "settings": frozenset({ADMIN}),
    # Exact counts, without the cell-key noise that defends against differencing
    # (metrics/perturbation.py): for those who may see person-level data anyway.
    "exact_figures": frozenset({PRIVACY_OFFICER, ADMIN}),
}

# Local mode (no sign-in) shows perturbed counts whatever its role, unless this is set to 1:
# a local dashboard is often shown to others, on a screen or in a training session.
LOCAL_EXACT_ENV = "CONSENTLENS_LOCAL_EXACT"


class Forbidden(PermissionError):
    """The current role lacks a permission."""


@dataclass(frozen=True)
class Identity:
    """The person using the dashboard: display name, role, and how they signed in."""

    name: str
    role: str
    mode: str  # "oidc" (signed in) or "local" (single-user, no sign-in)

    def can(self, permission: str) -> bool:
        """Whether this identity holds `permission`."""
        return self.role in PERMISSIONS[permission]

    @property
    def perturbed(self) -> bool:
        """Whether the counts this identity sees carry cell-key noise: for roles without
        access to person-level data, and in local mode unless $CONSENTLENS_LOCAL_EXACT=1."""
        if not self.can("exact_figures"):
            return True
        return self.mode == "local" and os.environ.get(LOCAL_EXACT_ENV, "") != "1"

    def require(self, permission: str) -> None:
        """Raise Forbidden unless this identity holds `permission`."""
        if not self.can(permission):
            raise Forbidden(f"the {self.role} role may not {permission.replace('_', ' ')}")


def role_for(email: str | None, mapping: Mapping[str, str]) -> str | None:
    """The role of a signed-in e-mail: an exact address first, then "*@domain"; None if
    the settings name neither (or name an unknown role)."""
    if not email:
        return None
    address = email.strip().lower()
    lowered = {key.strip().lower(): value for key, value in mapping.items()}
    domain = "*@" + address.rsplit("@", 1)[-1]
    role = lowered.get(address) or lowered.get(domain)
    return role if role in ROLES else None
