# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vergeio.billing contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The chart axes of module_utils/_reports/charts.py (the HTML reports' SVG charts): nice y steps that cover the maximum,
time ticks on calendar bounds, compact labels. Carried over from the tests of the retired plugin_utils/_svg.py, whose
axis code _charts.py took over."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import math
from datetime import datetime, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.vergeio.billing.plugins.module_utils._reports.charts import compact, nice_step, time_ticks, y_axis

T0 = int(datetime(2026, 10, 1, tzinfo=timezone.utc).timestamp())


@settings(max_examples=300, deadline=None, database=None)
@given(st.floats(1e-6, 1e12, allow_nan=False))
def test_y_axis_is_nice_and_covers_the_maximum(maximum):
    top, step = y_axis(maximum)
    mantissa = step / 10 ** math.floor(math.log10(step))
    assert any(math.isclose(mantissa, m, rel_tol=1e-9) for m in (1, 2, 2.5, 5, 10))
    assert top >= maximum * (1 - 1e-9)
    assert top / step <= 11


@pytest.mark.parametrize('maximum', [0, None, -5])
def test_y_axis_without_a_positive_maximum_is_zero_to_one(maximum):
    assert y_axis(maximum) == (1.0, 0.2)


@pytest.mark.parametrize('span_days, expected_step', [(31, 7 * 86400), (7, 86400), (0.5, 2 * 3600), (400, 91 * 86400)])
def test_time_ticks(span_days, expected_step):
    start = T0 + 1234
    end = start + int(span_days * 86400)
    step, ticks = time_ticks(start, end)
    assert step == expected_step
    assert ticks and all(start <= t <= end for t in ticks) and len(ticks) <= 9
    if step == 7 * 86400:
        assert all(datetime.fromtimestamp(t, timezone.utc).weekday() == 0 for t in ticks)  # Mondays, 00:00 UTC
    if step in (86400, 2 * 3600):
        assert all(t % step == 0 for t in ticks)


@pytest.mark.parametrize('value, text', [(0, '0'), (950, '950'), (1200, '1.2k'), (34000, '34k'), (1500000, '1.5M'), (0.25, '0.25'),
                                         (2.5, '2.5'), (3e9, '3G'), (1.25e12, '1.2T')])
def test_compact_labels(value, text):
    assert compact(value) == text


@settings(max_examples=100, deadline=None, database=None)
@given(st.floats(0.001, 1e9))
def test_nice_step_gives_about_five_ticks(span):
    step = nice_step(span)
    assert 2 <= span / step <= 5.0000001
