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

Memory: one ``array('d')`` per figure (8 bytes a record), not the raw JSON.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import math
from array import array
from datetime import datetime, timedelta, timezone

from ansible_collections.vergeio.billing.plugins.module_utils._records import (
    BYTES_PER_GB, MB_PER_GB, TIERS, ratio_pct, to_int,
)

UTC = timezone.utc

# Raw fields the summary needs (and nothing more: a summary of 100,000 records should not pull 38 fields).
SUMMARY_RAW_FIELDS = ('$key', 'created', 'from', 'to', 'used_cores', 'total_cores', 'used_ram', 'total_ram') + tuple(
    'tier_%d_used' % tier for tier in TIERS) + tuple('tier_%d_total' % tier for tier in TIERS) + (
    'gpus', 'gpus_total', 'vgpus', 'vgpus_total')

# Per-record figures kept, one column each.
COLUMNS = ('weight', 'cpu_pct', 'cores', 'ram_pct', 'ram_gb', 'storage_gb', 'gpus', 'vgpus') + tuple(
    'tier%d_gb' % tier for tier in TIERS)

RATE_KEYS = ('core_hour', 'ram_gb_hour') + tuple('tier%d_gb_hour' % tier for tier in TIERS) + ('gpu_hour', 'vgpu_hour')
GROUPS = ('day', 'week', 'month')

REFERENCE_KEYS = ('record_count', 'avg_cpu_utilization', 'peak_cpu_cores', 'avg_ram_utilization', 'peak_ram_gb',
                  'avg_storage_used_gb', 'peak_storage_used_gb', 'total_gpus', 'avg_gpus_used', 'total_vgpus',
                  'avg_vgpus_used')


def record_figures(raw, problems=None):
    """The per-record figures of one raw record: (created, key, from, to, figures tuple in COLUMNS order, totals)."""
    def num(field):
        return to_int(raw.get(field), field, problems)

    created, key, start, end = num('created'), num('$key'), num('from'), num('to')
    weight = float(max(end - start, 0)) if start and end else 0.0
    cores, total_cores = num('used_cores'), num('total_cores')
    ram, total_ram = num('used_ram'), num('total_ram')
    tiers_used = [num('tier_%d_used' % tier) for tier in TIERS]
    figures = (
        weight, ratio_pct(cores, total_cores), float(cores), ratio_pct(ram, total_ram), ram / MB_PER_GB,
        sum(tiers_used) / BYTES_PER_GB, float(num('gpus')), float(num('vgpus')),
    ) + tuple(used / BYTES_PER_GB for used in tiers_used)
    totals = dict(gpus_total=num('gpus_total'), vgpus_total=num('vgpus_total'),
                  tiers_total_gb=[num('tier_%d_total' % tier) / BYTES_PER_GB for tier in TIERS])
    return created, key, start, end, figures, totals


def bucket_of(epoch, group_by):
    """(label, start epoch, end epoch exclusive) of the UTC day / ISO week (Monday) / month holding ``epoch``."""
    moment = datetime.fromtimestamp(epoch, UTC)
    if group_by == 'day':
        start = moment.replace(hour=0, minute=0, second=0, microsecond=0)
        end = start + timedelta(days=1)
        label = start.strftime('%Y-%m-%d')
    elif group_by == 'week':
        start = (moment - timedelta(days=moment.weekday())).replace(hour=0, minute=0, second=0, microsecond=0)
        end = start + timedelta(days=7)
        year, week, _day = start.isocalendar()[:3]
        label = '%04d-W%02d' % (year, week)
    elif group_by == 'month':
        start = moment.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        end = (start + timedelta(days=32)).replace(day=1)
        label = start.strftime('%Y-%m')
    else:
        raise ValueError('group_by must be one of %s, got %r' % (', '.join(GROUPS), group_by))
    return label, int(start.timestamp()), int(end.timestamp())


def validate_rates(rates):
    """A clean rate card: every RATE_KEYS entry as a float (omitted = 0) plus ``currency``. Raises ValueError."""
    if rates is None:
        return None
    if not isinstance(rates, dict):
        raise ValueError('rates must be a dict like {core_hour: 0.02, ram_gb_hour: 0.01, currency: EUR}, got %s' % type(rates).__name__)
    unknown = sorted(set(rates) - set(RATE_KEYS) - set(['currency']))
    if unknown:
        raise ValueError('rates: unknown key(s) %s; accepted: %s, currency' % (', '.join(map(str, unknown)), ', '.join(RATE_KEYS)))
    clean = {}
    for name in RATE_KEYS:
        value = rates.get(name)
        if value is None or value == '':
            clean[name] = 0.0
            continue
        try:
            if isinstance(value, bool):
                raise ValueError()
            number = float(value)
        except (TypeError, ValueError):
            raise ValueError('rates.%s must be a number (a price per unit-hour), got %r' % (name, value))
        if math.isnan(number) or math.isinf(number) or number < 0:
            raise ValueError('rates.%s must be a finite number of 0 or more, got %r' % (name, value))
        clean[name] = number
    currency = rates.get('currency')
    clean['currency'] = '' if currency is None else str(currency)
    return clean


def record_cost(figures, rates):
    """The cost of one record (figures in COLUMNS order): usage x rate x hours of its period."""
    hours = figures[0] / 3600
    tiers = dict(('tier%d' % tier, figures[8 + tier] * rates['tier%d_gb_hour' % tier] * hours) for tier in TIERS)
    cost = dict(
        cpu=figures[2] * rates['core_hour'] * hours,
        ram=figures[4] * rates['ram_gb_hour'] * hours,
        gpu=figures[6] * rates['gpu_hour'] * hours,
        vgpu=figures[7] * rates['vgpu_hour'] * hours,
    )
    cost['storage'] = math.fsum(tiers.values())
    cost['tiers'] = tiers
    cost['total'] = math.fsum((cost['cpu'], cost['ram'], cost['storage'], cost['gpu'], cost['vgpu']))
    cost['currency'] = rates['currency']
    return cost


class _Group:
    """The columns of one set of records (the whole range, or one period)."""

    def __init__(self):
        self.columns = dict((name, array('d')) for name in COLUMNS)
        self.first_from = None
        self.last_to = None
        self.newest = None  # ((created, key), totals)

    def add(self, created, key, start, end, figures, totals):
        for name, value in zip(COLUMNS, figures):
            self.columns[name].append(value)
        if start and (self.first_from is None or start < self.first_from):
            self.first_from = start
        if end and (self.last_to is None or end > self.last_to):
            self.last_to = end
        if self.newest is None or (created, key) > self.newest[0]:
            self.newest = ((created, key), totals)

    def __len__(self):
        return len(self.columns['weight'])

    def result(self, rates):
        count = len(self)
        cols = self.columns
        weights = cols['weight']
        total_weight = math.fsum(weights)
        totals = self.newest[1] if self.newest else dict(gpus_total=0, vgpus_total=0, tiers_total_gb=[0.0] * len(TIERS))

        def avg(name):
            return math.fsum(cols[name]) / count if count else 0.0

        def twa(name):
            if not count:
                return 0.0
            if total_weight <= 0:
                return avg(name)
            return math.fsum(value * weight for value, weight in zip(cols[name], weights)) / total_weight

        def peak(name):
            return max(cols[name]) if count else 0.0

        def p95(name):
            if not count:
                return 0.0
            return sorted(cols[name])[(95 * count + 99) // 100 - 1]

        out = dict(
            record_count=count,
            avg_cpu_utilization=avg('cpu_pct'),
            peak_cpu_cores=int(peak('cores')),
            avg_ram_utilization=avg('ram_pct'),
            peak_ram_gb=peak('ram_gb'),
            avg_storage_used_gb=avg('storage_gb'),
            peak_storage_used_gb=peak('storage_gb'),
            total_gpus=totals['gpus_total'],
            avg_gpus_used=avg('gpus'),
            total_vgpus=totals['vgpus_total'],
            avg_vgpus_used=avg('vgpus'),
            period_start=_iso(self.first_from),
            period_end=_iso(self.last_to),
            hours=total_weight / 3600,
            twa_cpu_cores=twa('cores'),
            twa_ram_gb=twa('ram_gb'),
            twa_storage_used_gb=twa('storage_gb'),
            twa_gpus_used=twa('gpus'),
            twa_vgpus_used=twa('vgpus'),
            p95_cpu_cores=int(p95('cores')),
            p95_ram_gb=p95('ram_gb'),
            p95_storage_used_gb=p95('storage_gb'),
            p95_gpus_used=int(p95('gpus')),
            p95_vgpus_used=int(p95('vgpus')),
            peak_gpus_used=int(peak('gpus')),
            peak_vgpus_used=int(peak('vgpus')),
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
        parts = ('cpu', 'ram', 'storage', 'gpu', 'vgpu', 'total')
        sums = dict((part, array('d')) for part in parts)
        tier_sums = dict(('tier%d' % tier, array('d')) for tier in TIERS)
        for figures in zip(*(self.columns[name] for name in COLUMNS)):
            row = record_cost(figures, rates)
            for part in parts:
                sums[part].append(row[part])
            for name, value in row['tiers'].items():
                tier_sums[name].append(value)
        cost = dict((part, math.fsum(values)) for part, values in sums.items())
        cost['tiers'] = dict((name, math.fsum(values)) for name, values in tier_sums.items())
        cost['currency'] = rates['currency']
        return cost


def _iso(epoch):
    return datetime.fromtimestamp(epoch, UTC).isoformat() if epoch else None


class Summary:
    """Feed raw record pages with ``add_rows``; read the summary with ``result()``."""

    def __init__(self, group_by=None, rates=None, problems=None):
        if group_by is not None and group_by not in GROUPS:
            raise ValueError('group_by must be one of %s, got %r' % (', '.join(GROUPS), group_by))
        self.group_by = group_by
        self.rates = validate_rates(rates)
        self.problems = problems
        self.all = _Group()
        self.buckets = {}

    def add_rows(self, rows):
        for raw in rows:
            created, key, start, end, figures, totals = record_figures(raw, self.problems)
            self.all.add(created, key, start, end, figures, totals)
            if self.group_by:
                label, b_start, b_end = bucket_of(created, self.group_by)
                group = self.buckets.get(label)
                if group is None:
                    group = self.buckets[label] = (b_start, b_end, _Group())
                group[2].add(created, key, start, end, figures, totals)

    def result(self):
        out = self.all.result(self.rates)
        if self.group_by:
            periods = []
            for label, (b_start, b_end, group) in sorted(self.buckets.items(), key=lambda item: item[1][0]):
                period = dict(period=label, start=_iso(b_start) or _iso_zero(), end=_iso(b_end))
                period.update(group.result(self.rates))
                periods.append(period)
            out['periods'] = periods
        return out


def _iso_zero():
    return datetime.fromtimestamp(0, UTC).isoformat()


def summarize(rows, group_by=None, rates=None, problems=None):
    """The summary of an iterable of raw records."""
    summary = Summary(group_by=group_by, rates=rates, problems=problems)
    summary.add_rows(rows)
    return summary.result()
