# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vergeio.billing contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Summary math over billing records: pure functions, no HTTP.

The first 11 keys are the reference SDK's ``get_summary()`` with its semantics
(each record counts once; the totals come from the newest record). The rest
are ours, for chargeback:

- ``hours``: sum over records of ``max(to - from, 0)`` / 3600. A record with no
  ``from`` or ``to`` (0/absent) covers no known time: its weight is 0.
- ``twa_*``: time-weighted means, each record weighted by ``max(to - from, 0)``;
  equal to the plain mean when the total weight is 0.
- ``p95_*``: nearest-rank 95th percentile: values sorted ascending, the value at
  1-based rank ``ceil(0.95 * n)``, computed in integers as ``(95 * n + 99) // 100``
  (floating point gives ``ceil(0.95 * 100) == 95`` only by luck).
- ``cost``: each record costs usage x rate x its hours; sums over records.
- sums use ``math.fsum`` (correctly rounded, independent of record order).
Nothing is rounded here: rounding belongs to presentation.

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

from ansible_collections.vergeio.billing.plugins.module_utils._rating import rate_card
from ansible_collections.vergeio.billing.plugins.module_utils._records import (
    BYTES_PER_GB, MAX_COUNTER, MB_PER_GB, TIERS, to_int,
)
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

# The cost formula, one row a part: (part, figure, rate). A record's part costs figure x rate x hours of its period.
COST_TERMS = (('cpu', 'cores', 'core_hour'), ('ram', 'ram_gb', 'ram_gb_hour')) + tuple(
    ('tier%d' % tier, 'tier%d_gb' % tier, 'tier%d_gb_hour' % tier) for tier in TIERS) + (
    ('gpu', 'gpus', 'gpu_hour'), ('vgpu', 'vgpus', 'vgpu_hour'))
TIER_PARTS = tuple('tier%d' % tier for tier in TIERS)
# The parts of a cost in the order reports show them (storage is the sum of the tiers, total the sum of the rest).
COST_PARTS = ('cpu', 'ram') + TIER_PARTS + ('storage', 'gpu', 'vgpu', 'total')
# The period of records whose 'created' is not a time a calendar can hold; listed last, start and end null.
UNKNOWN_PERIOD = 'unknown'

REFERENCE_KEYS = ('record_count', 'avg_cpu_utilization', 'peak_cpu_cores', 'avg_ram_utilization', 'peak_ram_gb',
                  'avg_storage_used_gb', 'peak_storage_used_gb', 'total_gpus', 'avg_gpus_used', 'total_vgpus',
                  'avg_vgpus_used')


def record_figures(raw, problems=None):
    """The figures of one raw record by name: every COLUMNS entry plus created, key, from, to and its totals.

    The very computation a page of records goes through (a page of one), so a record and a summary agree.
    """
    return _Page([raw], problems).row(0)


def bucket_of(epoch, group_by, zone=None):
    """(label, start epoch, end epoch exclusive) of the day / ISO week (Monday) / month holding ``epoch`` in ``zone``
    (None: UTC); see _time.calendar_bucket."""
    return calendar_bucket(epoch, group_by, zone)


def cost_columns(figures, rates):
    """THE cost formula, over columns of figures (name -> sequence, one value a record): part -> per-record costs.

    Each COST_TERMS part is figure x rate x hours, hours = weight / 3600; ``storage`` is the fsum of the tier parts of
    the record and ``total`` the fsum of cpu, ram, storage, gpu and vgpu. Used for one record (columns of one value),
    for the rows of a report and, summed, for a summary.
    """
    hours = [weight / 3600 for weight in figures['weight']]
    out = {}
    for part, figure, rate in COST_TERMS:
        price = rates[rate]
        out[part] = [value * price * hour for value, hour in zip(figures[figure], hours)]
    out['storage'] = list(map(math.fsum, zip(*[out[part] for part in TIER_PARTS])))
    out['total'] = list(map(math.fsum, zip(out['cpu'], out['ram'], out['storage'], out['gpu'], out['vgpu'])))
    return out


def shape_cost(parts, currency):
    """The ``cost`` dict users see from one figure a part: cpu, ram, storage, gpu, vgpu, total, tiers, currency."""
    cost = dict((part, parts[part]) for part in COST_PARTS if part not in TIER_PARTS)
    cost['tiers'] = dict((part, parts[part]) for part in TIER_PARTS)
    cost['currency'] = currency
    return cost


def record_costs(raws, rates):
    """The cost of each raw record of a list (record_cost of each), computed a column at a time."""
    if not raws:
        return []
    parts = cost_columns(_Page(raws).figures(), rates)
    return [shape_cost(dict(zip(parts, values)), rates['currency']) for values in zip(*parts.values())]


def record_cost(figures, rates):
    """The cost of one record from its named figures (record_figures): cost_columns over columns of one value."""
    columns = cost_columns(dict((name, (figures[name],)) for name in COLUMNS), rates)
    return shape_cost(dict((part, values[0]) for part, values in columns.items()), rates['currency'])


# The raw fields in the order a record is converted (and its junk values noted): usage first, then the totals.
CONVERT_ORDER = ('created', '$key', 'from', 'to', 'used_cores', 'total_cores', 'used_ram', 'total_ram') + tuple(
    'tier_%d_used' % tier for tier in TIERS) + ('gpus', 'vgpus', 'gpus_total', 'vgpus_total') + tuple(
    'tier_%d_total' % tier for tier in TIERS)
_USAGE_COUNT = len(CONVERT_ORDER) - len(TOTAL_FIELDS)
# Figures kept as integers (exact peaks and percentiles); the others are floats, 8 bytes a record in an array('d').
INT_COLUMNS = ('cores', 'gpus', 'vgpus')
FLOAT_COLUMNS = tuple(name for name in COLUMNS if name not in INT_COLUMNS)
_JUST_INT = frozenset([int])
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
    if set(map(type, column)) == _JUST_INT and -MAX_COUNTER <= min(column) and max(column) <= MAX_COUNTER:
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
        """Every figure column by name (for cost_columns)."""
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

    def add(self, page, rows=None):
        """Add the records of ``page`` (or those at the indexes ``rows``, ascending)."""
        for name, column in self.columns.items():
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

    def result(self, rates, totals=None):
        """The summary of the group; ``totals`` (capacities of the newest record, read on their own) overrides the
        totals of the newest row (rows read without TOTAL_FIELDS carry none)."""
        count = self.count
        weights = self.columns['weight']
        total_weight = math.fsum(weights)
        if totals is None:
            totals = self.newest[1] if self.newest and self.newest[1] is not None else _NO_TOTALS
        rank = (95 * count + 99) // 100 - 1  # 0-based nearest rank of the 95th percentile

        def avg(name):
            return math.fsum(self._floats(name)) / count if count else 0.0

        def twa(name):
            if not count:
                return 0.0
            if total_weight <= 0:
                return avg(name)
            return math.fsum(map(operator.mul, self._floats(name), weights)) / total_weight

        def peak(name):
            return max(self.columns[name]) if count else 0.0

        def p95(name):
            return sorted(self.columns[name])[rank] if count else 0.0

        def peak_int(name):
            return max(self.ints[name]) if count else 0

        def p95_int(name):
            return sorted(self.ints[name])[rank] if count else 0

        out = dict(
            record_count=count,
            avg_cpu_utilization=avg('cpu_pct'),
            peak_cpu_cores=peak_int('cores'),
            avg_ram_utilization=avg('ram_pct'),
            peak_ram_gb=peak('ram_gb'),
            avg_storage_used_gb=avg('storage_gb'),
            peak_storage_used_gb=peak('storage_gb'),
            total_gpus=totals['gpus_total'],
            avg_gpus_used=avg('gpus'),
            total_vgpus=totals['vgpus_total'],
            avg_vgpus_used=avg('vgpus'),
            period_start=_iso(self.first_from, self.zone),
            period_end=_iso(self.last_to, self.zone),
            hours=total_weight / 3600,
            twa_cpu_cores=twa('cores'),
            twa_ram_gb=twa('ram_gb'),
            twa_storage_used_gb=twa('storage_gb'),
            twa_gpus_used=twa('gpus'),
            twa_vgpus_used=twa('vgpus'),
            p95_cpu_cores=p95_int('cores'),
            p95_ram_gb=p95('ram_gb'),
            p95_storage_used_gb=p95('storage_gb'),
            p95_gpus_used=p95_int('gpus'),
            p95_vgpus_used=p95_int('vgpus'),
            peak_gpus_used=peak_int('gpus'),
            peak_vgpus_used=peak_int('vgpus'),
            tiers=[dict(
                tier=tier,
                avg_used_gb=avg('tier%d_gb' % tier),
                twa_used_gb=twa('tier%d_gb' % tier),
                peak_used_gb=peak('tier%d_gb' % tier),
                p95_used_gb=p95('tier%d_gb' % tier),
                total_gb=totals['tiers_total_gb'][tier],
            ) for tier in TIERS],
        )
        if rates is not None:
            out['cost'] = self._cost(rates)
        return out

    def _cost(self, rates):
        """cost_columns() of every record (the one cost formula), each part summed over the records with fsum."""
        figures = dict((name, self._floats(name)) for name in COLUMNS)
        parts = cost_columns(figures, rates)
        return shape_cost(dict((part, math.fsum(values)) for part, values in parts.items()), rates['currency'])


class Summary:
    """Feed raw record pages with ``add_rows``; read the summary with ``result()``.

    Each page is converted column by column (``_Page``); its figures are appended to arrays, and the page itself
    is not kept.
    """

    def __init__(self, group_by=None, rates=None, problems=None, zone=None, totals=True):
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

    def newest(self, raw):
        """Take the capacities (GPU, vGPU and tier totals) of the whole range from ``raw``, its newest record."""
        self.newest_totals = totals_of_raw(raw, self.problems)

    def add_rows(self, rows):
        """Add a page of raw records; returns its figures (a _Page, for the rows of a report), None for no rows."""
        rows = rows if isinstance(rows, list) else list(rows)
        if not rows:
            return None
        page = _Page(rows, self.problems, self.row_totals)
        self.all.add(page)
        if self.group_by:
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
                        self.buckets[label] = bounds + (_Group(self.zone),)
                    indexes = members.setdefault(label, [])
                indexes.append(row)
            for label, indexes in members.items():
                self.buckets[label][2].add(page, indexes)
        return page

    def result(self):
        out = self.all.result(self.rates, self.newest_totals)
        if self.group_by:
            periods = []
            ordered = sorted(self.buckets.items(), key=lambda item: (item[1][0] is None, item[1][0] or 0))
            for label, (b_start, b_end, group) in ordered:
                if b_start is None:
                    period = dict(period=label, start=None, end=None)
                else:
                    period = dict(period=label, start=iso_in(b_start, self.zone), end=iso_in(b_end, self.zone))
                period.update(group.result(self.rates))
                periods.append(period)
            out['periods'] = periods
        return out


def summarize(rows, group_by=None, rates=None, problems=None, zone=None):
    """The summary of an iterable of raw records (each with every SUMMARY_RAW_FIELDS field it has)."""
    summary = Summary(group_by=group_by, rates=rates, problems=problems, zone=zone)
    summary.add_rows(rows)
    return summary.result()
