# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vergeio.billing contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Line charts over time for the HTML reports: series kept small, and the geometry a template draws.

Nothing here writes markup: ``chart()`` returns numbers and labels (axes, legend, polylines), and the HTML template
of ``_templates.py`` draws them (autoescaped). Decisions:

- **Small series, peaks kept.** A series holds at most ``MAX_POINTS`` (1,500) points: longer ones are cut into
  ``MAX_POINTS / 2`` runs of consecutive points and each run keeps its lowest and its highest point (in time order),
  so a one-hour peak in a year of hourly records still shows. A year of hourly records (8,760 points a series)
  stays a few hundred kilobytes of HTML.
- **Axes.** y from 0 to a "nice" top (1, 2, 2.5, 5 x 10^k); time ticks on local hours, local days (weeks from
  Monday) or months of the report's time zone, labelled in that zone, whose name and offset(s) the axis shows.
- **No data, no chart.** A chart whose every series is empty is not drawn: the caller writes a one-line note
  instead (never an empty axis from 1970).
- Deterministic: the same input gives the same numbers, so a report written twice is unchanged.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import math
from array import array
from datetime import datetime, timedelta

from ansible_collections.vergeio.billing.plugins.module_utils._time import UTC, day_start, zone_name

# Okabe-Ito colours (distinguishable with the common colour-vision deficiencies), black last.
PALETTE = ('#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#000000', '#999933')
CAPACITY_COLOUR = '#6b6b6b'
MONTHS = ('Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec')
HOUR = 3600
DAY = 86400
# Candidate spacings of the time axis ticks, smallest first (91 and 364 days: every 3 and 12 months).
TIME_STEPS = (HOUR, 2 * HOUR, 3 * HOUR, 6 * HOUR, 12 * HOUR, DAY, 2 * DAY, 7 * DAY, 14 * DAY, 28 * DAY, 91 * DAY, 364 * DAY)
MAX_POINTS = 1500
MARKER_LIMIT = 60


def nice_step(span, count=5):
    """The tick step for 0..span with about ``count`` ticks: 1, 2, 2.5 or 5 times a power of ten."""
    if span <= 0 or math.isnan(span) or math.isinf(span):
        return 1.0
    raw = span / count
    if not raw > 0:  # a span so small (subnormal) that a fifth of it is 0: one step is the span
        return span
    power = 10 ** math.floor(math.log10(raw))
    if not power > 0:  # 10 ** -324 underflows to 0
        return span
    for factor in (1, 2, 2.5, 5, 10):
        if factor * power >= raw:
            return factor * power
    return 10 * power  # pragma: no cover - the loop always returns


def y_axis(max_value, count=5):
    """(top, step): the axis runs from 0 to ``top`` = a multiple of ``step`` at or above ``max_value``."""
    if not max_value or max_value <= 0:
        return 1.0, 0.2
    step = nice_step(max_value, count)
    top = math.ceil(max_value / step - 1e-9) * step
    if top < max_value:  # 4 x 2.4999999999999998e-06 rounds below 1e-05: the axis must still hold the peak
        top += step
    return top, step


def trim(text):
    """``1.50`` -> ``1.5``, ``2.0`` -> ``2``."""
    return text.rstrip('0').rstrip('.') if '.' in text else text


def compact(value):
    """A short axis label: 950, 1.2k, 34k, 1.5M, 0.25 (dot decimals)."""
    magnitude = abs(value)
    for limit, suffix in ((1e12, 'T'), (1e9, 'G'), (1e6, 'M'), (1e3, 'k')):
        if magnitude >= limit:
            return trim('%.1f' % (value / limit)) + suffix
    if magnitude >= 10 or value == int(value):
        return '%d' % round(value)
    return trim('%.2f' % value)


def offset_text(epoch, zone):
    """``+02:00`` for the zone's UTC offset at ``epoch``."""
    minutes = int(datetime.fromtimestamp(epoch, zone or UTC).utcoffset().total_seconds() // 60)
    return '%s%02d:%02d' % ('-' if minutes < 0 else '+', abs(minutes) // 60, abs(minutes) % 60)


def zone_note(start, end, zone):
    """``Europe/Berlin (UTC+02:00, then +01:00)`` or ``UTC``: the zone of a time axis and its offsets over it."""
    name = zone_name(zone)
    if name == 'UTC':
        return 'UTC'
    first, last = offset_text(start, zone), offset_text(end, zone)
    return '%s (UTC%s%s)' % (name, first, '' if first == last else ', then %s' % last)


def time_label(epoch, step, zone=None):
    moment = datetime.fromtimestamp(epoch, zone or UTC)
    day = '%s %d' % (MONTHS[moment.month - 1], moment.day)
    if step < DAY:
        return '%s %02d:%02d' % (day, moment.hour, moment.minute)
    if step >= 91 * DAY:
        return '%s %d' % (MONTHS[moment.month - 1], moment.year)
    return day


def time_ticks(start, end, zone=None, max_ticks=8):
    """(step, [tick epochs]) for a time axis between ``start`` and ``end`` on the local calendar of ``zone``.

    Under a day: local wall-clock hours that are multiples of the step. Days: local midnights (weekly steps from a
    Monday). 91 / 364 days: the first of every 3rd / 12th month.
    """
    zone = zone or UTC
    span = max(end - start, 1)
    step = TIME_STEPS[-1]
    for candidate in TIME_STEPS:
        if span / candidate <= max_ticks:
            step = candidate
            break
    ticks = []
    first_day = datetime.fromtimestamp(start, zone).date()
    if step < DAY:
        local = datetime.fromtimestamp(start, zone)
        hours = step // HOUR
        moment = day_start(first_day, zone) + (local.hour // hours) * step
        while moment <= end:
            if moment >= start:
                ticks.append(moment)
            moment += step
    elif step < 91 * DAY:
        days = step // DAY
        day = first_day
        if days >= 7:
            day -= timedelta(days=day.weekday())
        while True:
            moment = day_start(day, zone)
            if moment > end:
                break
            if moment >= start:
                ticks.append(moment)
            day += timedelta(days=days)
    else:
        months = 3 if step == 91 * DAY else 12
        year, month = first_day.year, first_day.month
        month = ((month - 1) // months) * months + 1
        while year <= 9999:
            moment = day_start(datetime(year, month, 1).date(), zone)
            if moment > end:
                break
            if moment >= start:
                ticks.append(moment)
            month += months
            if month > 12:
                year, month = year + (month - 1) // 12, (month - 1) % 12 + 1
    return step, ticks


class Series:
    """(time, value) points of one line, appended in time order, 16 bytes a point."""

    def __init__(self, name, dashed=False, colour=None):
        self.name = name
        self.dashed = dashed
        self.colour = colour
        self.xs = array('d')
        self.ys = array('d')

    def add(self, x, y):
        self.xs.append(x)
        self.ys.append(y)

    def extend(self, xs, ys):
        self.xs.extend(xs)
        self.ys.extend(ys)

    def __len__(self):
        return len(self.xs)

    def any_above_zero(self):
        return any(self.ys)

    def points(self, limit=MAX_POINTS):
        return minmax_points(self.xs, self.ys, limit)


def minmax_points(xs, ys, limit=MAX_POINTS):
    """At most ``limit`` points of a line (x ascending): consecutive runs keep their lowest and highest point."""
    count = len(xs)
    if count <= limit:
        return list(zip(xs, ys))
    runs = max(limit // 2, 1)
    size = int(math.ceil(count / runs))
    out = []
    for first in range(0, count, size):
        last = min(first + size, count)
        chunk = ys[first:last]
        low = first + chunk.index(min(chunk))  # the first lowest and the first highest point of the run
        high = first + chunk.index(max(chunk))
        for index in sorted(set((low, high))):
            out.append((xs[index], ys[index]))
    return out


def legend_rows(names, width, left, right):
    """Legend rows: lists of (index, x offset) with a rough text width of 8 px a character at 12 px; wraps at the plot width."""
    rows, row, used = [], [], 0
    for index, name in enumerate(names):
        needed = 48 + 8 * len(name)
        if row and used + needed > width - left - right:
            rows.append(row)
            row, used = [], 0
        row.append((index, used))
        used += needed
    if row:
        rows.append(row)
    return rows


def _num(value):
    """A coordinate with one decimal, without a trailing .0."""
    return trim('%.1f' % value)


def chart(chart_id, title, series, unit='', zone=None, width=960, height=300, limit=MAX_POINTS):
    """The geometry of one line chart for the template, or None when no series has a point.

    ``series``: Series objects. Returns a dict: id, title (with the unit), width, height, description (a text
    alternative), legend (x, y, colour, dashed, name), grid (y, label, base), ticks (x, label), axis_note, lines
    (colour, width, dashed, points, name, markers).
    """
    prepared = []
    for index, item in enumerate(series):
        if not len(item):
            continue
        prepared.append(dict(name=item.name, points=item.points(limit), dashed=item.dashed,
                             colour=item.colour or (CAPACITY_COLOUR if item.dashed else PALETTE[index % len(PALETTE)])))
    if not prepared:
        return None
    xs = [point[0] for item in prepared for point in item['points']]
    ys = [point[1] for item in prepared for point in item['points']]
    left, right, bottom = 70, 24, 46
    rows = [[(prepared[index], offset) for index, offset in row] for row in legend_rows([item['name'] for item in prepared], width, left, right)]
    top = 34 + 18 * len(rows) + 8
    plot_w, plot_h = width - left - right, height - top - bottom
    x_min, x_max = min(xs), max(xs)
    if x_max - x_min < HOUR:
        x_min, x_max = x_min - DAY / 2, x_max + DAY / 2
    y_top, y_step = y_axis(max(ys))

    def sx(x):
        return left + (x - x_min) / (x_max - x_min) * plot_w

    def sy(y):
        return top + plot_h - (y / y_top) * plot_h

    legend = []
    for number, legend_row in enumerate(rows):
        y = 34 + 18 * number + 8
        for item, offset in legend_row:
            legend.append(dict(x=left + offset, y=y, colour=item['colour'], dashed=item['dashed'], name=item['name']))
    grid = []
    for index in range(int(round(y_top / y_step)) + 1):
        value = index * y_step
        grid.append(dict(y=_num(sy(value)), label_y=_num(sy(value) + 4), label=compact(value), base=index == 0))
    step, stamps = time_ticks(x_min, x_max, zone)
    ticks = [dict(x=_num(sx(stamp)), label=time_label(stamp, step, zone)) for stamp in stamps]
    lines = []
    for item in prepared:
        lines.append(dict(
            colour=item['colour'], width='1.5' if item['dashed'] else '2', dashed=item['dashed'], name=item['name'],
            points=' '.join('%s,%s' % (_num(sx(x)), _num(sy(y))) for x, y in item['points']),
            markers=[dict(x=_num(sx(x)), y=_num(sy(y))) for x, y in item['points']] if len(item['points']) <= MARKER_LIMIT else [],
        ))
    heading = title + (' (%s)' % unit if unit else '')
    return dict(
        id=chart_id, title=heading, width=width, height=height, left=left, plot_right=left + plot_w, plot_bottom=top + plot_h,
        legend=legend, grid=grid, ticks=ticks, lines=lines, axis_note=zone_note(int(x_min), int(x_max), zone),
        description=describe(prepared, x_min, x_max, unit, zone),
    )


def describe(prepared, x_min, x_max, unit, zone=None):
    """A text alternative for screen readers: range and min/max of every series."""
    parts = []
    for item in prepared:
        values = [point[1] for point in item['points']]
        parts.append('%s from %s to %s%s' % (item['name'], compact(min(values)), compact(max(values)), ' ' + unit if unit else ''))
    start = datetime.fromtimestamp(x_min, zone or UTC).strftime('%Y-%m-%d %H:%M')
    end = datetime.fromtimestamp(x_max, zone or UTC).strftime('%Y-%m-%d %H:%M')
    return 'From %s to %s %s. %s.' % (start, end, zone_note(int(x_min), int(x_max), zone), '; '.join(parts))
