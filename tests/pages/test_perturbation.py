"""Who sees perturbed counts (spec section 5, "Differencing across views"): the viewer and
analyst roles, and local mode unless $CONSENTLENS_LOCAL_EXACT=1; privacy officers and
administrators see exact counts, as the command line does."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from consentlens.access import LOCAL_EXACT_ENV
from metrics import perturbation
from metrics.params import DEFAULT_MIN_CELL
from tests.pages.conftest import APP
from tests.pages.test_access import signed_in


def _tiles(at: AppTest) -> dict[str, str]:
    assert not at.exception
    return {m.label: m.value for m in at.metric}


def _local(exact: bool, monkeypatch) -> AppTest:
    if exact:
        monkeypatch.setenv(LOCAL_EXACT_ENV, "1")
    else:
        monkeypatch.delenv(LOCAL_EXACT_ENV, raising=False)
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    return at


def _count(value: str) -> int:
    return int(value.replace(",", ""))


@pytest.fixture
def both(demo_db, monkeypatch):
    monkeypatch.setenv("CONSENTLENS_DB", str(demo_db))
    return _local(True, monkeypatch), _local(False, monkeypatch)


def test_local_mode_shows_counts_with_their_noise_and_says_so(both):
    exact, noisy = both
    shown, truth = _tiles(noisy), _tiles(exact)
    assert shown.keys() == truth.keys()
    counts = [label for label, value in truth.items() if value.replace(",", "").isdigit()]
    assert len(counts) >= 5
    d = perturbation.spread(DEFAULT_MIN_CELL)
    moved = [label for label in counts if shown[label] != truth[label]]
    assert moved, "no count carries noise"
    for label in counts:
        assert abs(_count(shown[label]) - _count(truth[label])) <= d, label
    captions = " ".join(c.value for c in noisy.caption)
    assert "noise" in captions and "noise" not in " ".join(c.value for c in exact.caption)
    # The store's sizes are rounded beside perturbed counts (the exact ones would give the
    # unfiltered figures' noise away).
    assert "about " in captions


@pytest.mark.parametrize(
    ("email", "exact"),
    [
        ("cmo@example.com", False),
        ("ana@example.com", False),
        ("dpo@privacy.example.com", True),
        ("root@example.com", True),
    ],
)
def test_roles_without_person_level_access_see_perturbed_counts(both, email, exact):
    local_exact, local_noisy = both
    at = signed_in(email)
    at.run()
    expected = local_exact if exact else local_noisy
    assert _tiles(at) == _tiles(expected)
