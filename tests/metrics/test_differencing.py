"""Differencing across views (spec section 5): the scripted attack, and the properties of the
cell-key noise that defeat it (metrics/perturbation.py)."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import date, timedelta

import pytest

from data.storage.keys import noise_key
from data.storage.store import open_store
from data.synthetic.generator import generate
from metrics import differencing, perturbation
from metrics.params import Filters, resolve_params
from metrics.report import compute, to_json
from metrics.rules import Tables

K = 11


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """A small seeded demo (about 3,000 customers), where small counts are common."""
    path = tmp_path_factory.mktemp("differencing") / "demo.duckdb"
    with open_store(path) as store:
        store.replace_all(generate(3_000, seed=21))
        with perturbation.secret(noise_key(path)):
            yield Tables.from_backend(store.backend), store.date_range()


def test_the_differencing_attack_recovers_small_counts_no_more_often_than_chance(demo):
    tables, span = demo
    outcome = differencing.attack(tables, span, K)
    found = outcome.found
    # Exact figures give every one of these away (that is how they were chosen); enough of
    # them for the comparison to mean something.
    assert len(found) >= 150
    # Chance: always guessing the commonest small count, which needs no figure at all.
    p = outcome.commonest / len(found)
    margin = 2 * math.sqrt(len(found) * p * (1 - p))
    assert outcome.hits <= outcome.commonest + margin, (outcome.hits, outcome.commonest)
    # And the guesses are off by up to the two noises' span, not by one or two.
    assert max(abs(n - guess) for n, guess in found) >= 5


def test_the_same_people_get_the_same_noise_whatever_the_view(demo):
    tables, span = demo
    base = replace(resolve_params(span), perturbed=True)
    everyone = to_json(compute(tables, base))
    for segment in ("premium", "student"):
        alone = to_json(compute(tables, replace(base, filters=Filters(segments=(segment,)))))
        for purpose, by_segment in everyone["opted_in_by_segment"].items():
            # The same customers: granted in one segment, and granted under that segment's filter.
            assert alone["consent"][purpose]["granted"] == by_segment[segment]
    # A period that ends on the same day counts the same customers at D.
    later_start = replace(base, start=base.start + timedelta(days=200))
    assert to_json(compute(tables, later_start))["customers"] == everyone["customers"]
    # Asked twice, the same answer: the noise does not average away.
    assert to_json(compute(tables, replace(base, min_cell=K))) == everyone


def test_perturbed_counts_keep_their_status_and_move_by_at_most_d(demo):
    tables, span = demo
    d = perturbation.spread(K)
    moved = 0
    for view in (
        resolve_params(span),
        resolve_params(span, start=date(2026, 3, 1), end=date(2026, 3, 31)),
        resolve_params(span, filters=Filters(countries=("FR",))),
    ):
        exact = compute(tables, view).cells
        noisy = compute(tables, replace(view, perturbed=True)).cells
        # What is withheld does not depend on who looks.
        assert noisy.suppressed == exact.suppressed
        for key, n in exact.values.items():
            shown = noisy.count(key)
            if shown is None:
                continue
            assert (shown == 0) == (n == 0)
            assert n == 0 or shown >= K
            assert abs(shown - n) <= d
            moved += shown != n
    assert moved > 50


def test_the_noise_is_drawn_under_the_store_key(demo):
    tables, span = demo
    view = replace(resolve_params(span), perturbed=True)
    mine = to_json(compute(tables, view))
    with perturbation.secret(b"another store"):
        other = to_json(compute(tables, view))
    assert other["ymn"] != mine["ymn"] or other["customers"] != mine["customers"]


@pytest.mark.parametrize("n", [0, 11, 12, 15, 16, 500, 10_000_000])
def test_perturb_keeps_zero_and_never_shows_a_published_count_below_k(n):
    d = perturbation.spread(K)
    shown = {perturbation.perturb(n, key, K, b"key") for key in range(0, 2**32, 2**32 // 997)}
    if n == 0:
        assert shown == {0}
        return
    assert min(shown) >= K
    assert max(abs(s - n) for s in shown) <= d
    # Every noise of -D..D is used (reflected near k).
    assert len(shown) == (2 * d + 1 if n - d >= K else len(shown))
    assert len(shown) >= d + 1


def test_k_of_one_publishes_exact_counts():
    assert perturbation.spread(1) == 0
    assert perturbation.perturb(7, 12345, 1, b"key") == 7
