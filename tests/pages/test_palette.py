"""The colours that carry a meaning stay apart for colour-blind readers: every pair within a
group differs by at least DISTINCT in CAM02-UCS (colorspacious), seen normally and under
simulated deuteranomaly, protanomaly and tritanomaly at full severity (Machado et al. 2009);
and no series colour (purposes, request types) reuses one of them."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from colorspacious import cspace_convert, deltaE

from pages import _charts as charts
from pages import _erasure_charts as erasure

DISTINCT = 20.0  # CAM02-UCS; about 2 is a just-noticeable difference
SERIES_DISTINCT = 15.0  # told apart by their legend too
GROUPS = {
    "classes": list(charts.CLASS_COLOURS.values()),
    "consent states": list(charts.STATE_COLOURS.values()),
    "due dates": [erasure.OVERDUE_COLOUR, erasure.DUE_SOON_COLOUR, erasure.DUE_LATER_COLOUR],
    "backlog": [erasure.OPEN_COLOUR, erasure.OVERDUE_COLOUR],
    "on time": [erasure.ON_TIME_COLOUR, erasure.LATE_COLOUR],
}
VISION = [None, "deuteranomaly", "protanomaly", "tritanomaly"]


def _seen(colour: str, vision: str | None) -> np.ndarray:
    rgb = np.array([int(colour[i : i + 2], 16) for i in (1, 3, 5)]) / 255
    if vision is None:
        return rgb
    space = {"name": "sRGB1+CVD", "cvd_type": vision, "severity": 100}
    return np.clip(cspace_convert(rgb, space, "sRGB1"), 0, 1)


def _closest(colours: list[str], vision: str | None) -> float:
    return min(
        float(deltaE(_seen(a, vision), _seen(b, vision), input_space="sRGB1"))
        for a, b in itertools.combinations(colours, 2)
    )


@pytest.mark.parametrize("vision", VISION)
@pytest.mark.parametrize("group", list(GROUPS))
def test_colours_with_a_meaning_stay_apart(group, vision):
    assert _closest(GROUPS[group], vision) >= DISTINCT


@pytest.mark.parametrize("vision", VISION)
def test_series_colours_stay_apart(vision):
    assert _closest(list(charts.SERIES_COLOURS), vision) >= SERIES_DISTINCT


def test_no_series_colour_means_something_else():
    meaningful = {c for colours in GROUPS.values() for c in colours}
    assert not meaningful & set(charts.SERIES_COLOURS)


def test_the_old_amber_against_vermilion_would_fail():
    # The pair readers could not tell apart: the check sees it.
    assert _closest(["#E69F00", "#D55E00"], "deuteranomaly") < DISTINCT
