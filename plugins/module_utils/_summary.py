# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vergeio.billing contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Summary math over billing records: pure functions, no HTTP.

The first 11 keys are the reference SDK's ``get_summary()`` with its semantics
(each record counts once; the totals come from the newest record). The rest
are ours, for chargeback:

- the **weight** of a record: ``max(to - from, 0)`` seconds (0 without ``from`` or ``to``); for a summary of a
  billing period by usage (``Summary(period=(start, end))``), only the seconds of that interval inside the period
  (and, for each ``group_by`` period, inside that period): a record that straddles two days or two months is
  prorated between them.
- ``hours``: the sum of the weights / 3600.
- ``twa_*``: time-weighted means, each record weighted by its weight; the plain mean when the weights sum to 0.
- ``avg_*``, ``peak_*``, ``p95_*``: over the records, each counted once (``_stats``: mean, peak, nearest-rank p95).
- ``cost``: the rating engine's (``_rating.price``, the one cost formula): per metric, the usage line of
  level x weight / 3600 unit-hours (a negative level counts as 0), times its unit price; ``storage`` is the sum of
  the tiers, ``total`` the sum of every metric. A report passes the engine's priced lines (``Summary.result``)
  so its summary and its bill are the same figures.
- sums use ``math.fsum`` (correctly rounded, independent of record order).
Nothing is rounded here: rounding belongs to presentation (``_rating.Bill``).

Speed and memory: each page of raw records is converted column by column (one list comprehension a field,
plain integers taken as they are), its figures appended to one ``array('d')`` per figure (8 bytes a record; the
integer figures cores/GPUs/vGPUs are kept as ints so their peaks and percentiles stay exact), and the page is
dropped: memory grows with the figures, not with the raw JSON.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import math
import operator
from array import array
from bisect import bisect_right
from collections import OrderedDict

from ansible_collections.vergeio.billing.plugins.module_utils._rating import HOUR, UsageLine, edges, plain_counters, price, price_quantities, rate_card
from ansible_collections.vergeio.billing.plugins.module_utils._records import (
    BYTES_PER_GB, MAX_COUNTER, MB_PER_GB, TIERS, to_int,
)
from ansible_collections.vergeio.billing.plugins.module_utils._stats import mean, p95, peak, twa
from ansible_collections.vergeio.billing.plugins.module_utils._time import GROUPS, calendar_bucket, iso_in


# Raw fields of each summary row: what the per-record figures need (and nothing more: a summary of 100,000 records
# should not pull 38 fields).
SUMMARY_ROW_FIELDS = ('$key', 'created', 'from', 'to', 'used_cores', 'total_cores', 'used_ram', 'total_ram') + tuple(
    'tier_%d_used' % tier for tier in TIERS) + ('gpus', 'vgpus')
# Capacities the summary takes from the newest record alone (the reference's semantics): asked of that record only,
# unless periods are wanted (each period's totals come from its own newest record, which no single request names).
TOTAL_FIELDS = ('gpus_total', 'vgpus_total') + tuple('tier_%d_total' % tier for tier in TIERS)
SUMMARY_RAW_FIELDS = SUMMARY_ROW_FIELDS + TOTAL_FIELDS

# The per-record figures, by name (one column each in a page or a group):
# weight: max(to - from, 0) seconds, 0 without from or to; cpu_pct / ram_pct: used / total x 100 (0 when total is
# 0); cores, gpus, vgpus: counts; ram_gb: MB / 1024; tierN_gb: bytes / 1024**3; storage_gb: the sum of the tiers.
COLUMNS = ('weight', 'cpu_pct', 'cores', 'ram_pct', 'ram_gb', 'storage_gb', 'gpus', 'vgpus') + tuple(
    'tier%d_gb' % tier for tier in TIERS)

# Each metric of the rating engine a record measures: (the figure column that holds its level, the part of ``cost``
# that shows its amount).
METRIC_FIGURES = OrderedDict([('cores', ('cores', 'cpu')), ('ram', ('ram_gb', 'ram'))] + [
    ('tier%d' % tier, ('tier%d_gb' % tier, 'tier%d' % tier)) for tier in TIERS] + [('gpus', ('gpus', 'gpu')), ('vgpus', ('vgpus', 'vgpu'))])
TIER_PARTS = tuple('tier%d' % tier for tier in TIERS)
# The parts of a cost in the order reports show them (storage is the sum of the tiers, total the sum of the rest).
COST_PARTS = ('cpu', 'ram') + TIER_PARTS + ('storage', 'gpu', 'vgpu', 'total')
# The period of records whose 'created' is not a time a calendar can hold; listed last, start and end null.
UNKNOWN_PERIOD = 'unknown'


def record_figures(raw, problems=None):
    """The figures of one raw record by name: every COLUMNS entry plus created, key, from, to and its totals.

    The very computation a page of records goes through (a page of one), so a record and a summary agree.
    """
    return _Page([raw], problems).row(0)


def bucket_of(epoch, group_by, zone=None):
    """(label, start epoch, end epoch exclusive) of the day / ISO week (Monday) / month holding ``epoch`` in ``zone``
    (None: UTC); see _time.calendar_bucket."""
    return calendar_bucket(epoch, group_by, zone)


def shape_cost(parts, currency):
    """The ``cost`` dict users see from one figure a part: cpu, ram, storage, gpu, vgpu, total, tiers, currency."""
    cost = dict((part, parts[part]) for part in COST_PARTS if part not in TIER_PARTS)
    cost['tiers'] = dict((part, parts[part]) for part in TIER_PARTS)
    cost['currency'] = currency
    return cost


def cost_of(priced, currency):
    """The ``cost`` dict of priced usage lines (``_rating.price``): each part the fsum of the amounts of its metric's
    lines, ``storage`` the fsum of the tiers, ``total`` the fsum of every metric (as ``_rating.Bill.exact``). Exact."""
    amounts = dict((part, []) for _column, part in METRIC_FIGURES.values())
    for line in priced:
        if line.metric in METRIC_FIGURES:
            amounts[METRIC_FIGURES[line.metric][1]].append(line.amount)
    parts = dict((part, math.fsum(values)) for part, values in amounts.items())
    parts['storage'] = math.fsum(parts[part] for part in TIER_PARTS)
    parts['total'] = math.fsum(parts[part] for _column, part in METRIC_FIGURES.values())
    return shape_cost(parts, currency)


def _held(values):
    """Levels as the engine bills them: a negative level counts as 0 (``_rating.level``)."""
    return [value if value > 0 else 0 for value in values]


def record_cost_columns(page, card, weights=None):
    """The cost of each record of a page (a _Page), part -> one value a record: each record's usage lines (its level
    of each metric x its weight / 3600, or x ``weights``: the seconds of each record to bill) priced by the engine."""
    weights = page.floats['weight'] if weights is None else weights
    out = {}
    for metric, (column, part) in METRIC_FIGURES.items():
        out[part] = price_quantities(metric, [value * weight / HOUR for value, weight in zip(_held(page.column(column)), weights)], card)
    out['storage'] = list(map(math.fsum, zip(*[out[part] for part in TIER_PARTS])))
    out['total'] = list(map(math.fsum, zip(*[out[part] for _column, part in METRIC_FIGURES.values()])))
    return out


def record_costs(raws, rates):
    """The ``cost`` dict of each raw record of a list (its whole ``from``..``to``), computed a page at a time."""
    if not raws:
        return []
    card = rate_card(rates)
    parts = record_cost_columns(_Page(raws), card)
    return [shape_cost(dict(zip(parts, values)), card['currency']) for values in zip(*parts.values())]


# The raw fields in the order a record is converted (and its junk values noted): usage first, then the totals.
CONVERT_ORDER = ('created', '$key', 'from', 'to', 'used_cores', 'total_cores', 'used_ram', 'total_ram') + tuple(
    'tier_%d_used' % tier for tier in TIERS) + ('gpus', 'vgpus', 'gpus_total', 'vgpus_total') + tuple(
    'tier_%d_total' % tier for tier in TIERS)
_USAGE_COUNT = len(CONVERT_ORDER) - len(TOTAL_FIELDS)
# Figures kept as integers (exact peaks and percentiles); the others are floats, 8 bytes a record in an array('d').
INT_COLUMNS = ('cores', 'gpus', 'vgpus')
FLOAT_COLUMNS = tuple(name for name in COLUMNS if name not in INT_COLUMNS)
_NO_TOTALS = dict(gpus_total=0, vgpus_total=0, tiers_total_gb=[0.0] * len(TIERS))


class _Notes(list):
    """Collects the junk values of one column with their row, so they can be noted in row-by-row order."""

    def __init__(self, position):
        super(_Notes, self).__init__()
        self.position = position
        self.row = 0

    def note(self, field, value):
        self.append((self.row, self.position, field, value))


def _int_column(rows, field, position, notes):
    """``to_int`` of ``field`` over ``rows``; plain in-range ints (nearly every value) are taken as they are."""
    column = [row.get(field) for row in rows]
    if plain_counters(column, -MAX_COUNTER):
        return column
    found = _Notes(position)
    for row, value in enumerate(column):
        if value.__class__ is not int or not -MAX_COUNTER <= value <= MAX_COUNTER:
            found.row = row
            column[row] = to_int(value, field, found)
    notes.extend(found)
    return column


class _Page:
    """The figures of a list of raw records, one column (list) each; computed column by column, not row by row.

    ``totals``: whether the rows carry TOTAL_FIELDS (False: they were not asked for, and are not converted).
    """

    def __init__(self, rows, problems=None, totals=True):
        notes = []
        fields = CONVERT_ORDER if totals else CONVERT_ORDER[:_USAGE_COUNT]
        ints = [_int_column(rows, field, position, notes) for position, field in enumerate(fields)]
        if notes and problems is not None:
            notes.sort(key=lambda note: note[:2])  # by row, then field: the order a record-by-record conversion notes them
            for _row, _position, field, value in notes:
                problems.note(field, value)
        created, keys, starts, ends, cores, total_cores, ram, total_ram = ints[:8]
        tiers_used = ints[8:14]
        self.size = len(rows)
        self.created, self.keys, self.starts, self.ends = created, keys, starts, ends
        self.totals = ints[16:] if totals else None  # gpus_total, vgpus_total, tier_0_total .. tier_5_total
        self.ints = dict(cores=cores, gpus=ints[14], vgpus=ints[15])
        floats = dict(
            weight=[float(end - start) if start and end and end > start else 0.0 for start, end in zip(starts, ends)],
            cpu_pct=[used / total * 100 if total else 0.0 for used, total in zip(cores, total_cores)],
            ram_pct=[used / total * 100 if total else 0.0 for used, total in zip(ram, total_ram)],
            ram_gb=[used / MB_PER_GB for used in ram],
            storage_gb=[(t0 + t1 + t2 + t3 + t4 + t5) / BYTES_PER_GB for t0, t1, t2, t3, t4, t5 in zip(*tiers_used)],
        )
        for tier in TIERS:
            floats['tier%d_gb' % tier] = [used / BYTES_PER_GB for used in tiers_used[tier]]
        self.floats = floats

    def column(self, name):
        """The values of one figure (COLUMNS), one a record of the page."""
        return self.ints[name] if name in self.ints else self.floats[name]

    def figures(self):
        """Every figure column by name."""
        return dict((name, self.column(name)) for name in COLUMNS)

    def totals_of(self, row):
        if self.totals is None:
            return None
        gpus_total, vgpus_total = self.totals[0][row], self.totals[1][row]
        return dict(gpus_total=gpus_total, vgpus_total=vgpus_total,
                    tiers_total_gb=[column[row] / BYTES_PER_GB for column in self.totals[2:]])

    def row(self, row):
        """The figures of one record by name: COLUMNS, created, key, from, to and (when read) its totals."""
        out = dict((name, self.column(name)[row]) for name in COLUMNS)
        out.update(created=self.created[row], key=self.keys[row], start=self.starts[row], end=self.ends[row])
        totals = self.totals_of(row)
        if totals is not None:
            out.update(totals)
        return out


def totals_of_raw(raw, problems=None):
    """The capacities of one raw record (the newest of a range), as the summary reports them."""
    if raw is None:
        return None
    return _Page([raw], problems).totals_of(0)


def _iso(epoch, zone):
    """ISO 8601 with the zone's offset; None for 0/None or a time no calendar can hold (as _records.to_iso)."""
    if not epoch:
        return None
    try:
        return iso_in(epoch, zone)
    except (OverflowError, ValueError, OSError):
        return None


def _pick(column, rows):
    return column if rows is None else [column[row] for row in rows]


class _Group:
    """The columns of one set of records (the whole range, or one period)."""

    def __init__(self, zone=None):
        self.zone = zone
        self.columns = dict((name, array('d')) for name in FLOAT_COLUMNS)
        self.ints = dict((name, []) for name in INT_COLUMNS)
        self.count = 0
        self.first_from = None
        self.last_to = None
        self.newest = None  # ((created, key), totals)

    def add(self, page, rows=None, weights=None):
        """Add the records of ``page`` (or those at the indexes ``rows``, ascending); ``weights``: the seconds each of
        them counts for in this group (default: the page's ``weight`` column)."""
        for name, column in self.columns.items():
            if name == 'weight' and weights is not None:
                column.extend(weights)
            else:
                column.extend(_pick(page.floats[name], rows))
        for name, column in self.ints.items():
            column.extend(_pick(page.ints[name], rows))
        count = page.size if rows is None else len(rows)
        if not count:
            return
        self.count += count
        starts = [start for start in _pick(page.starts, rows) if start]
        if starts:
            start = min(starts)
            if self.first_from is None or start < self.first_from:
                self.first_from = start
        ends = [end for end in _pick(page.ends, rows) if end]
        if ends:
            end = max(ends)
            if self.last_to is None or end > self.last_to:
                self.last_to = end
        # The newest record: the greatest (created, key); on a tie the first one seen.
        index = range(page.size) if rows is None else rows
        created, key, minus_row = max(zip(_pick(page.created, rows), _pick(page.keys, rows), [-row for row in index]))
        if self.newest is None or (created, key) > self.newest[0]:
            self.newest = ((created, key), page.totals_of(-minus_row))

    def __len__(self):
        return self.count

    def _floats(self, name):
        return self.columns[name] if name in self.columns else array('d', self.ints[name])

    def usage_lines(self):
        """The group's usage lines, one per metric: fsum(level x weight) / 3600 unit-hours (a negative level is 0)."""
        weights = self.columns['weight']
        return [UsageLine(None, metric, None, None, math.fsum(map(operator.mul, _held(self._floats(column)), weights)) / HOUR)
                for metric, (column, _part) in METRIC_FIGURES.items()]

    def result(self, rates, totals=None, priced=None):
        """The summary of the group; ``totals`` (capacities of the newest record, read on their own) overrides the
        totals of the newest row (rows read without TOTAL_FIELDS carry none); ``priced``: the engine's priced lines of
        the group (a report's meter), else the group's own usage lines are priced."""
        count = self.count
        weights = self.columns['weight']
        if totals is None:
            totals = self.newest[1] if self.newest and self.newest[1] is not None else _NO_TOTALS

        def avg(name):
            return mean(self._floats(name))

        def weighted(name):
            return twa(self._floats(name), weights)

        def top(name):  # 0.0 (a float) for no record: these figures are floats
            return peak(self.columns[name]) if count else 0.0

        def rank95(name):
            return p95(self.columns[name]) if count else 0.0

        out = dict(
            record_count=count,
            avg_cpu_utilization=avg('cpu_pct'),
            peak_cpu_cores=peak(self.ints['cores']),
            avg_ram_utilization=avg('ram_pct'),
            peak_ram_gb=top('ram_gb'),
            avg_storage_used_gb=avg('storage_gb'),
            peak_storage_used_gb=top('storage_gb'),
            total_gpus=totals['gpus_total'],
            avg_gpus_used=avg('gpus'),
            total_vgpus=totals['vgpus_total'],
            avg_vgpus_used=avg('vgpus'),
            period_start=_iso(self.first_from, self.zone),
            period_end=_iso(self.last_to, self.zone),
            hours=math.fsum(weights) / HOUR,
            twa_cpu_cores=weighted('cores'),
            twa_ram_gb=weighted('ram_gb'),
            twa_storage_used_gb=weighted('storage_gb'),
            twa_gpus_used=weighted('gpus'),
            twa_vgpus_used=weighted('vgpus'),
            p95_cpu_cores=p95(self.ints['cores']),
            p95_ram_gb=rank95('ram_gb'),
            p95_storage_used_gb=rank95('storage_gb'),
            p95_gpus_used=p95(self.ints['gpus']),
            p95_vgpus_used=p95(self.ints['vgpus']),
            peak_gpus_used=peak(self.ints['gpus']),
            peak_vgpus_used=peak(self.ints['vgpus']),
            tiers=[dict(
                tier=tier,
                avg_used_gb=avg('tier%d_gb' % tier),
                twa_used_gb=weighted('tier%d_gb' % tier),
                peak_used_gb=top('tier%d_gb' % tier),
                p95_used_gb=rank95('tier%d_gb' % tier),
                total_gb=totals['tiers_total_gb'][tier],
            ) for tier in TIERS],
        )
        if rates is not None:
            out['cost'] = cost_of(price(self.usage_lines(), rates) if priced is None else priced, rates['currency'])
        return out


class Summary:
    """Feed raw record pages with ``add_rows``; read the summary with ``result()``.

    Each page is converted column by column (``_Page``); its figures are appended to arrays, and the page itself
    is not kept.

    ``period``: None for a summary of the records as they are (``verge_billing_info``'s default, ``period_by:
    created``: each record's whole weight, ``group_by`` periods by ``created``), or ``(start, end)`` (end
    exclusive) for a billing period by usage: each record weighs the seconds of its ``from``..``to`` inside the
    period, and the ``group_by`` periods are the charge periods of ``_rating.edges``, each record counted in every
    one its interval overlaps, with the seconds inside it.
    """

    def __init__(self, group_by=None, rates=None, problems=None, zone=None, totals=True, period=None):
        """``totals``: the rows carry TOTAL_FIELDS; False when they were not asked for, and the capacities of the range
        come from ``newest(raw)`` instead (the newest record, read on its own)."""
        if group_by is not None and group_by not in GROUPS:
            raise ValueError('group_by must be one of %s, got %r' % (', '.join(GROUPS), group_by))
        self.group_by = group_by
        self.zone = zone
        self.rates = rate_card(rates)
        self.problems = problems
        self.row_totals = totals
        self.newest_totals = None
        self.all = _Group(zone)
        self.buckets = {}
        self.period = period
        self.bounds = None
        if period is not None:
            self.bounds = edges(period[0], period[1], group_by, zone)

    def newest(self, raw):
        """Take the capacities (GPU, vGPU and tier totals) of the whole range from ``raw``, its newest record."""
        self.newest_totals = totals_of_raw(raw, self.problems)

    def add_rows(self, rows):
        """Add a page of raw records; returns its figures (a _Page, for the rows of a report), None for no rows."""
        rows = rows if isinstance(rows, list) else list(rows)
        if not rows:
            return None
        page = _Page(rows, self.problems, self.row_totals)
        if self.period is not None:
            start, end = self.period
            page.floats['weight'] = [float(max(min(finish, end) - max(begin, start), 0)) if begin and finish and finish > begin else 0.0
                                     for begin, finish in zip(page.starts, page.ends)]
        self.all.add(page)
        if self.group_by and self.period is not None:
            self._add_by_usage(page)
        elif self.group_by:
            self._add_by_created(page)
        return page

    def _add_by_usage(self, page):
        """Each record into every charge period its interval overlaps, with the seconds inside it (a record without
        an interval inside the period: into the charge period of its ``from``, or ``to``, with no weight)."""
        bounds = self.bounds
        start, end = bounds[0], bounds[-1]
        members = {}
        for row, (begin, finish) in enumerate(zip(page.starts, page.ends)):
            low, high = max(begin, start), min(finish, end)
            index = min(max(bisect_right(bounds, low) - 1, 0), len(bounds) - 2)
            if not (begin and finish) or high <= low:
                members.setdefault(index, ([], []))[0].append(row)
                members[index][1].append(0.0)
                continue
            while low < high:
                stop = min(high, bounds[index + 1])
                found = members.setdefault(index, ([], []))
                found[0].append(row)
                found[1].append(float(stop - low))
                low = stop
                index += 1
        for index, (rows, weights) in members.items():
            if index not in self.buckets:
                label = calendar_bucket(bounds[index], self.group_by, self.zone)[0]
                self.buckets[index] = (bounds[index], bounds[index + 1], _Group(self.zone), label)
            self.buckets[index][2].add(page, rows, weights)

    def _add_by_created(self, page):
        members = {}
        indexes = None
        start = end = 0  # the bucket [start, end) of the previous record: consecutive records mostly share one
        for row, created in enumerate(page.created):
            if not start <= created < end:
                try:
                    label, start, end = bucket_of(created, self.group_by, self.zone)
                    bounds = (start, end)
                except (ValueError, OverflowError, OSError):
                    # a 'created' no calendar can hold (year > 9999 or < 1): counted, noted, in its own period
                    if self.problems is not None:
                        self.problems.note('created', created)
                    label, start, end, bounds = UNKNOWN_PERIOD, created, created, (None, None)
                if label not in self.buckets:
                    self.buckets[label] = bounds + (_Group(self.zone), label)
                indexes = members.setdefault(label, [])
            indexes.append(row)
        for label, indexes in members.items():
            self.buckets[label][2].add(page, indexes)

    def result(self, priced=None):
        """The summary; ``priced``: the engine's priced lines of the period (``_rating.price`` of a Meter's lines at
        the charge periods of ``group_by``), whose amounts become the costs of the whole and of each period."""
        out = self.all.result(self.rates, self.newest_totals, priced)
        if self.group_by:
            periods = []
            by_start = {}
            for line in priced or ():
                by_start.setdefault(line.start, []).append(line)
            ordered = sorted(self.buckets.values(), key=lambda item: (item[0] is None, item[0] or 0))
            for b_start, b_end, group, label in ordered:
                if b_start is None:
                    period = dict(period=label, start=None, end=None)
                else:
                    period = dict(period=label, start=iso_in(b_start, self.zone), end=iso_in(b_end, self.zone))
                mine = None if priced is None else by_start.get(b_start, [])
                period.update(group.result(self.rates, priced=mine))
                periods.append(period)
            out['periods'] = periods
        return out
