"""Differencing across views (spec section 5): the scripted attack, and the properties of the
cell-key noise that defeat it (metrics/perturbation.py)."""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import replace
from datetime import date, timedelta

import pytest

from data.generator import generate
from data.keys import noise_key
from data.store import open_store
from metrics import perturbation
from metrics.params import Filters, Params, resolve_params
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


_memo: dict[tuple, dict] = {}


def _true(tables: Tables, params: Params) -> dict:
    return _computed(tables, replace(params, perturbed=False), exact=True)


def _published(tables: Tables, params: Params, perturbed: bool) -> dict:
    return _computed(tables, replace(params, perturbed=perturbed), exact=False)


def _computed(tables: Tables, params: Params, exact: bool) -> dict:
    """True counts (`exact`) or published ones of a view, each view computed once."""
    key = (id(tables.customers), params)
    if key not in _memo:
        cells = compute(tables, params).cells
        _memo[key] = {
            "true": dict(cells.values),
            "published": {k: cells.count(k) for k in cells.values},
        }
    return _memo[key]["true" if exact else "published"]


def _pairs(tables: Tables, span: tuple) -> list[tuple[Params, Params, Params]]:
    """(everyone, everyone but one group, that group alone) over countries, segments and
    channels, and (up to a month, up to the month before, that month alone) over the last
    year's months."""
    base = resolve_params(span)
    c = tables.customers
    values = {
        "countries": c.country.name("v").as_table().distinct().to_pyarrow()["v"].to_pylist(),
        "segments": c.segment.name("v").as_table().distinct().to_pyarrow()["v"].to_pylist(),
        "channels": c.acquisition_channel.name("v")
        .as_table()
        .distinct()
        .to_pyarrow()["v"]
        .to_pylist(),
    }
    out = []
    for dimension, found in values.items():
        found = sorted(v for v in found if v is not None)
        for one in found:
            rest = Filters(**{dimension: tuple(v for v in found if v != one)})
            alone = Filters(**{dimension: (one,)})
            out.append((base, replace(base, filters=rest), replace(base, filters=alone)))
    # The last twelve months: each as what a period up to it adds to the one before.
    month = date(base.end.year - 1, base.end.month, 1)
    while True:
        nxt = date(month.year + month.month // 12, month.month % 12 + 1, 1)
        if nxt > base.end:
            break
        up_to = resolve_params(span, start=base.start, end=nxt + timedelta(days=27))
        before = resolve_params(span, start=base.start, end=nxt - timedelta(days=1))
        alone = resolve_params(span, start=nxt, end=nxt + timedelta(days=27))
        if up_to.end <= base.end:
            out.append((up_to, before, alone))
        month = nxt
    return out


def _attack(tables: Tables, span: tuple) -> list[tuple[int, int]]:
    """All minus all but one, for every small count that exact figures give away: (the true
    count, the attack's guess from perturbed figures, clipped to 1..k-1)."""
    found = []
    for whole, rest, alone in _pairs(tables, span):
        truth = _true(tables, alone)
        exact = (_published(tables, whole, False), _published(tables, rest, False))
        noisy = (_published(tables, whole, True), _published(tables, rest, True))
        for key, n in truth.items():
            if not 1 <= n < K:
                continue
            a, b = exact[0].get(key), exact[1].get(key)
            if a is None or b is None or a - b != n:
                continue  # not a count exact figures give away by this difference
            a, b = noisy[0].get(key), noisy[1].get(key)
            assert a is not None and b is not None  # withheld alike in both modes
            found.append((n, min(max(a - b, 1), K - 1)))
    return found


def test_the_differencing_attack_recovers_small_counts_no_more_often_than_chance(demo):
    tables, span = demo
    found = _attack(tables, span)
    # Exact figures give every one of these away (that is how they were chosen); enough of
    # them for the comparison to mean something.
    assert len(found) >= 150
    hits = sum(n == guess for n, guess in found)
    # Chance: always guessing the commonest small count, which needs no figure at all.
    commonest = Counter(n for n, _ in found).most_common(1)[0][1]
    p = commonest / len(found)
    margin = 2 * math.sqrt(len(found) * p * (1 - p))
    assert hits <= commonest + margin, (hits, commonest, len(found))
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
