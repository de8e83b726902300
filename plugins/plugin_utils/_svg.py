# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vergeio.billing contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Inline SVG line charts over time, for the HTML reports: pure functions, no dependencies.

A chart is one ``<svg>`` element with a title, a legend, a y axis from 0 with "nice" ticks (1, 2, 2.5, 5 x 10^k),
a UTC time axis, and one polyline per series (dashed for capacity lines). Output is deterministic: the same input
gives the same bytes, so reports written from it are idempotent.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import math
from datetime import datetime, timezone
from xml.sax.saxutils import escape, quoteattr

# The axes, colours and labels are those of the module's charts (one implementation of each).
from ansible_collections.vergeio.billing.plugins.module_utils._charts import (  # noqa: F401 pylint: disable=unused-import
    CAPACITY_COLOUR, DAY, HOUR, PALETTE, compact, legend_rows, nice_step, time_label, time_ticks, y_axis,
)  # nice_step is used by the fleet's tests through this module
from ansible_collections.vergeio.billing.plugins.module_utils._charts import trim as _trim

UTC = timezone.utc
MAX_POINTS = 1000
MARKER_LIMIT = 60


def downsample(points, limit=MAX_POINTS):
    """At most ``limit`` points: equal runs of consecutive points are replaced by their mean (x and y)."""
    if len(points) <= limit:
        return list(points)
    size = int(math.ceil(len(points) / limit))
    out = []
    for index in range(0, len(points), size):
        chunk = points[index:index + size]
        out.append((math.fsum(p[0] for p in chunk) / len(chunk), math.fsum(p[1] for p in chunk) / len(chunk)))
    return out


def _num(value):
    """A coordinate with one decimal, without a trailing .0."""
    return _trim('%.1f' % value)


def line_chart(chart_id, title, series, unit='', width=960, height=300, max_points=MAX_POINTS):
    """An inline ``<svg>`` line chart.

    ``series`` is a list of dicts: ``name``, ``points`` (list of (epoch seconds, number)), optional ``colour``
    and ``dashed`` (a capacity line). Series without points are left out of the plot but kept in the legend.
    """
    prepared = []
    for index, item in enumerate(series):
        points = sorted((float(x), float(y)) for x, y in item.get('points') or () if x is not None and y is not None)
        name = str(item.get('name', 'series %d' % (index + 1)))
        prepared.append(dict(
            name=name if points else name + ' (no data)',
            points=downsample(points, max_points),
            colour=item.get('colour') or (CAPACITY_COLOUR if item.get('dashed') else PALETTE[index % len(PALETTE)]),
            dashed=bool(item.get('dashed')),
            count=len(points),
        ))
    xs = [p[0] for item in prepared for p in item['points']]
    ys = [p[1] for item in prepared for p in item['points']]

    left, right, bottom = 70, 24, 46
    rows = [[(prepared[index], offset) for index, offset in row] for row in legend_rows([item['name'] for item in prepared], width, left, right)]
    top = 34 + 18 * len(rows) + 8
    plot_w, plot_h = width - left - right, height - top - bottom

    if xs:
        x_min, x_max = min(xs), max(xs)
    else:
        x_min, x_max = 0.0, float(DAY)
    if x_max - x_min < HOUR:
        x_min, x_max = x_min - DAY / 2, x_max + DAY / 2
    y_top, y_step = y_axis(max(ys) if ys else 0)

    def sx(x):
        return left + (x - x_min) / (x_max - x_min) * plot_w

    def sy(y):
        return top + plot_h - (y / y_top) * plot_h

    title_id, desc_id = '%s-title' % chart_id, '%s-desc' % chart_id
    heading = title + (' (%s)' % unit if unit else '')
    description = describe(prepared, x_min, x_max, unit)
    out = [
        '<svg xmlns="http://www.w3.org/2000/svg" class="chart" id=%s viewBox="0 0 %d %d" width="%d" height="%d" role="img" '
        'aria-labelledby="%s %s" font-family="system-ui, -apple-system, Segoe UI, Roboto, Helvetica, Arial, sans-serif">'
        % (quoteattr(chart_id), width, height, width, height, title_id, desc_id),
        '<title id="%s">%s</title>' % (title_id, escape(heading)),
        '<desc id="%s">%s</desc>' % (desc_id, escape(description)),
        '<rect x="0" y="0" width="%d" height="%d" fill="#ffffff"/>' % (width, height),
        '<text x="%d" y="22" font-size="16" font-weight="600" fill="#1a1a1a">%s</text>' % (left - 56, escape(heading)),
    ]
    for number, legend_row in enumerate(rows):
        y = 34 + 18 * number + 8
        for item, offset in legend_row:
            x = left + offset
            dash = ' stroke-dasharray="6 4"' if item['dashed'] else ''
            out.append('<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s" stroke-width="3"%s/>' % (x, y - 4, x + 24, y - 4, item['colour'], dash))
            out.append('<text x="%d" y="%d" font-size="12" fill="#333333">%s</text>' % (x + 30, y, escape(item['name'])))

    # Horizontal grid and y labels.
    ticks = int(round(y_top / y_step))
    for index in range(ticks + 1):
        value = index * y_step
        y = sy(value)
        out.append('<line x1="%d" y1="%s" x2="%d" y2="%s" stroke="%s" stroke-width="1"/>'
                   % (left, _num(y), left + plot_w, _num(y), '#9a9a9a' if index == 0 else '#e3e3e3'))
        out.append('<text x="%d" y="%s" font-size="12" fill="#444444" text-anchor="end">%s</text>' % (left - 8, _num(y + 4), compact(value)))

    # Time axis.
    step, stamps = time_ticks(x_min, x_max)
    for stamp in stamps:
        x = sx(stamp)
        out.append('<line x1="%s" y1="%d" x2="%s" y2="%d" stroke="#9a9a9a" stroke-width="1"/>' % (_num(x), top + plot_h, _num(x), top + plot_h + 5))
        out.append('<text x="%s" y="%d" font-size="12" fill="#444444" text-anchor="middle">%s</text>'
                   % (_num(x), top + plot_h + 20, escape(time_label(stamp, step))))
    out.append('<text x="%d" y="%d" font-size="11" fill="#666666" text-anchor="end">UTC</text>' % (left + plot_w, height - 6))

    for item in prepared:
        if not item['points']:
            continue
        coords = ' '.join('%s,%s' % (_num(sx(x)), _num(sy(y))) for x, y in item['points'])
        dash = ' stroke-dasharray="6 4"' if item['dashed'] else ''
        out.append('<polyline fill="none" stroke="%s" stroke-width="%s" stroke-linejoin="round"%s points="%s"><title>%s</title></polyline>'
                   % (item['colour'], '1.5' if item['dashed'] else '2', dash, coords, escape(item['name'])))
        if len(item['points']) <= MARKER_LIMIT:
            for x, y in item['points']:
                out.append('<circle cx="%s" cy="%s" r="3" fill="%s"/>' % (_num(sx(x)), _num(sy(y)), item['colour']))
    out.append('</svg>')
    return '\n'.join(out)


def describe(prepared, x_min, x_max, unit):
    """A text alternative for screen readers: range and min/max of every series."""
    parts = []
    for item in prepared:
        values = [p[1] for p in item['points']]
        if values:
            parts.append('%s from %s to %s%s' % (item['name'], compact(min(values)), compact(max(values)), ' ' + unit if unit else ''))
        else:
            parts.append(item['name'])
    start = datetime.fromtimestamp(x_min, UTC).strftime('%Y-%m-%d %H:%M')
    end = datetime.fromtimestamp(x_max, UTC).strftime('%Y-%m-%d %H:%M')
    return 'From %s to %s UTC. %s.' % (start, end, '; '.join(parts))
