# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vergeio.billing contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The SVG line charts of the HTML reports: geometry checked against the chart's own axes, read back as XML."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import math
import xml.etree.ElementTree as ET
from datetime import datetime, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.vergeio.billing.plugins.plugin_utils._svg import compact, downsample, line_chart, nice_step, time_ticks, y_axis

NS = {'svg': 'http://www.w3.org/2000/svg'}
T0 = int(datetime(2026, 10, 1, tzinfo=timezone.utc).timestamp())


def parse(svg):
    return ET.fromstring(svg)


def polylines(root):
    return [[tuple(float(n) for n in pair.split(',')) for pair in line.get('points').split()] for line in root.iter('{%s}polyline' % NS['svg'])]


def grid(root):
    """{label: y} of the y axis, and (x1, x2) of the baseline."""
    labels = {}
    for text in root.iter('{%s}text' % NS['svg']):
        if text.get('text-anchor') == 'end' and text.text != 'UTC':
            labels[text.text] = float(text.get('y')) - 4
    lines = [line for line in root.iter('{%s}line' % NS['svg']) if line.get('y1') == line.get('y2') and line.get('stroke') == '#9a9a9a']
    return labels, (float(lines[0].get('x1')), float(lines[0].get('x2')))


def test_values_land_on_their_gridlines():
    svg = line_chart('c1', 'CPU cores', [dict(name='Used', points=[(T0, 0), (T0 + 3600, 50), (T0 + 7200, 100)])], 'cores')
    root = parse(svg)
    [line] = polylines(root)
    labels, (left, right) = grid(root)
    assert labels['0'] > labels['100']  # SVG y grows downwards
    assert line[0] == pytest.approx((left, labels['0']), abs=0.06)
    assert line[2] == pytest.approx((right, labels['100']), abs=0.06)
    assert line[1][0] == pytest.approx((left + right) / 2, abs=0.06)
    assert line[1][1] == pytest.approx((labels['0'] + labels['100']) / 2, abs=0.06)


def test_title_legend_and_text_alternative():
    svg = line_chart('c2', 'RAM <used>', [dict(name='Used & more', points=[(T0, 5)]), dict(name='Total', points=[], dashed=True)], 'GB')
    root = parse(svg)  # well-formed XML: the names are escaped
    assert root.find('svg:title', NS).text == 'RAM <used> (GB)'
    assert 'From 2026-09-30' in root.find('svg:desc', NS).text
    texts = [t.text for t in root.iter('{%s}text' % NS['svg'])]
    assert 'Used & more' in texts and 'Total (no data)' in texts
    assert root.get('role') == 'img' and root.get('aria-labelledby') == 'c2-title c2-desc'
    assert len(polylines(root)) == 1  # the empty series draws nothing
    assert len(list(root.iter('{%s}circle' % NS['svg']))) == 1  # few points get markers


def test_dashed_series_and_colours_differ():
    root = parse(line_chart('c3', 'x', [dict(name='a', points=[(T0, 1), (T0 + 9000, 2)]), dict(name='b', points=[(T0, 3), (T0 + 9000, 3)], dashed=True)]))
    lines = list(root.iter('{%s}polyline' % NS['svg']))
    assert lines[0].get('stroke') != lines[1].get('stroke')
    assert lines[1].get('stroke-dasharray') and not lines[0].get('stroke-dasharray')


def test_same_input_same_bytes():
    series = [dict(name='s', points=[(T0 + i * 3600, (i * 7) % 13) for i in range(300)])]
    assert line_chart('c', 't', series) == line_chart('c', 't', series)


def test_long_series_are_capped():
    series = [dict(name='s', points=[(T0 + i * 3600, i % 24) for i in range(5000)])]
    [line] = polylines(parse(line_chart('c', 't', series)))
    assert len(line) <= 1000
    assert all(b[0] > a[0] for a, b in zip(line, line[1:]))


@settings(max_examples=200, deadline=None, database=None)
@given(st.lists(st.floats(0, 1e6, allow_nan=False), min_size=1, max_size=3000), st.integers(1, 500))
def test_downsample_keeps_order_bounds_and_limit(values, limit):
    points = [(float(T0 + 3600 * i), v) for i, v in enumerate(values)]
    out = downsample(points, limit)
    assert len(out) <= limit
    assert min(values) - 1e-6 <= min(p[1] for p in out) and max(p[1] for p in out) <= max(values) + 1e-6
    assert all(b[0] > a[0] for a, b in zip(out, out[1:]))
    if len(values) % len(out) == 0:  # equal runs: the mean of the means is the mean
        assert math.fsum(p[1] for p in out) / len(out) == pytest.approx(math.fsum(values) / len(values), rel=1e-9, abs=1e-9)


@settings(max_examples=300, deadline=None, database=None)
@given(st.floats(1e-6, 1e12, allow_nan=False))
def test_y_axis_is_nice_and_covers_the_maximum(maximum):
    top, step = y_axis(maximum)
    mantissa = step / 10 ** math.floor(math.log10(step))
    assert any(math.isclose(mantissa, m, rel_tol=1e-9) for m in (1, 2, 2.5, 5, 10))
    assert top >= maximum * (1 - 1e-9)
    assert top / step <= 11


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


@pytest.mark.parametrize('value, text', [(0, '0'), (950, '950'), (1200, '1.2k'), (34000, '34k'), (1500000, '1.5M'), (0.25, '0.25'), (2.5, '2.5')])
def test_compact_labels(value, text):
    assert compact(value) == text


@settings(max_examples=100, deadline=None, database=None)
@given(st.floats(0.001, 1e9))
def test_nice_step_gives_about_five_ticks(span):
    step = nice_step(span)
    assert 2 <= span / step <= 5.0000001
