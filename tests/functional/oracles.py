# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vergeio.billing contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Brute-force oracles the functional tests share: what a period, a tenant or a system should be billed, computed from
the simulator's raw rows in exact rational arithmetic (fractions.Fraction) and the standard library's calendar
(zoneinfo), with no code of the collection.

- ``month_bounds``: [start, end) of a calendar month in a zone, found by walking the zone's wall clock.
- ``counter``: a raw counter as the API's integer (null, missing, '' and negative count as 0).
- ``tenant_usage``: one tenant's unit-hours per metric on a basis and the hours it is billed for in [start, end):
  each sample stands for the gap to the tenant's next sample, at most twice the median gap; the newest for the
  median gap; only the part inside [start, end) counts.
- ``system_usage``: the system's unit-hours per metric: each billing record's usage held from ``from`` to ``to``,
  only the part inside [start, end).
- ``amounts`` and ``half_up``: quantity x unit price, and an amount rounded as an invoice rounds it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import math
from datetime import datetime, timezone
from decimal import Decimal
from fractions import Fraction
from zoneinfo import ZoneInfo

GIB = 1024 ** 3
TIERS = range(6)
METRICS = ('cores', 'ram') + tuple('tier%d' % tier for tier in TIERS) + ('gpus', 'vgpus', 'ips')
SYSTEM_METRICS = METRICS[:-1]
RATE_KEYS = dict(cores='core_hour', ram='ram_gb_hour', gpus='gpu_hour', vgpus='vgpu_hour', ips='ip_hour')
RATE_KEYS.update(('tier%d' % tier, 'tier%d_gb_hour' % tier) for tier in TIERS)
# The overview's columns: part -> metrics.
PARTS = dict(cpu=('cores',), ram=('ram',), storage=tuple('tier%d' % tier for tier in TIERS), gpu=('gpus',), vgpu=('vgpus',), ip=('ips',))


def month_bounds(month, zone_name):
    """[start, end) epochs of ``month`` (YYYY-MM) on the wall clock of ``zone_name``: the first second whose local
    date is in the month, and the first whose local date is in the next one (searched minute by minute, then by second)."""
    zone = ZoneInfo(zone_name)
    year, number = (int(part) for part in month.split('-'))
    following = (year + 1, 1) if number == 12 else (year, number + 1)

    def first_second(y, m):
        guess = int(datetime(y, m, 1, tzinfo=timezone.utc).timestamp()) - 15 * 3600
        while datetime.fromtimestamp(guess, zone).date() < datetime(y, m, 1).date():
            guess += 60
        while datetime.fromtimestamp(guess - 1, zone).date() >= datetime(y, m, 1).date():
            guess -= 1
        return guess

    return first_second(year, number), first_second(*following)


def counter(value):
    """A raw counter as the integer the API means: int, float (truncated), numeric text; null, missing, '' and
    negative values count as 0."""
    if value is None or value == '':
        return 0
    number = int(float(value)) if isinstance(value, str) else int(value)
    return max(number, 0)


def overlap(begin, finish, start, end):
    return max(Fraction(0), min(Fraction(finish), Fraction(end)) - max(Fraction(begin), Fraction(start)))


def tenant_levels(row, basis):
    """metric -> the level one raw sample bills on ``basis`` (cores, GB, GPUs, vGPUs, IP addresses)."""
    used = basis == 'used'
    out = dict(
        cores=Fraction(counter(row.get('core_count')) * counter(row.get('total_cpu')), 100) if used else Fraction(counter(row.get('core_count'))),
        ram=Fraction(counter(row.get('ram_used' if used else 'ram_allocated')), 1024),
        gpus=Fraction(counter(row.get('gpus_used' if used else 'gpus_total'))),
        vgpus=Fraction(counter(row.get('vgpus_used' if used else 'vgpus_total'))),
        ips=Fraction(counter(row.get('ip_count'))),
    )
    kind = dict(allocated='allocated', used='used', provisioned='provisioned')[basis]
    for tier in TIERS:
        out['tier%d' % tier] = Fraction(counter(row.get('tier%d_%s' % (tier, kind))), GIB)
    return out


def sample_spans(rows):
    """[(row, stamp, seconds it stands for)] of one tenant's raw rows, oldest first (then by $key)."""
    ordered = sorted(rows, key=lambda row: (int(float(row['timestamp'])), int(row['$key'])))
    stamps = [int(float(row['timestamp'])) for row in ordered]
    gaps = sorted(later - earlier for earlier, later in zip(stamps, stamps[1:]))
    if not gaps:
        return [(row, stamp, Fraction(0)) for row, stamp in zip(ordered, stamps)]
    count = len(gaps)
    median = Fraction(gaps[count // 2]) if count % 2 else Fraction(gaps[count // 2 - 1] + gaps[count // 2], 2)
    spans = [min(Fraction(later - earlier), 2 * median) for earlier, later in zip(stamps, stamps[1:])] + [min(median, 2 * median)]
    return list(zip(ordered, stamps, spans))


def tenant_usage(rows, start, end, basis='allocated'):
    """(metric -> unit-hours, hours billed, samples that bill a part) of one tenant's raw history rows in [start, end)."""
    totals = dict((metric, Fraction(0)) for metric in METRICS)
    seconds = Fraction(0)
    billed = 0
    for row, stamp, span in sample_spans(rows):
        inside = overlap(stamp, stamp + span, start, end)
        if inside or start <= stamp < end:
            billed += 1
        seconds += inside
        for metric, value in tenant_levels(row, basis).items():
            totals[metric] += value * inside / 3600
    return totals, seconds / 3600, billed


def record_levels(raw):
    """metric -> the system's usage level in one raw billing record."""
    out = dict(cores=Fraction(counter(raw.get('used_cores'))), ram=Fraction(counter(raw.get('used_ram')), 1024),
               gpus=Fraction(counter(raw.get('gpus'))), vgpus=Fraction(counter(raw.get('vgpus'))))
    for tier in TIERS:
        out['tier%d' % tier] = Fraction(counter(raw.get('tier_%d_used' % tier)), GIB)
    return out


def system_usage(records, start, end):
    """metric -> the system's unit-hours in [start, end): every record prorated to the part of from..to inside."""
    totals = dict((metric, Fraction(0)) for metric in SYSTEM_METRICS)
    for raw in records:
        begin, finish = counter(raw.get('from')), counter(raw.get('to'))
        if begin <= 0 or finish <= begin:
            continue
        inside = overlap(begin, finish, start, end)
        for metric, value in record_levels(raw).items():
            totals[metric] += value * inside / 3600
    return totals


def amounts(quantities, rates):
    """metric -> quantity x the rate card's unit price (exact)."""
    return dict((metric, quantity * Fraction(str(rates.get(RATE_KEYS[metric]) or 0))) for metric, quantity in quantities.items())


def half_up(value, places=2):
    """An exact amount rounded half up (away from zero) to ``places`` decimals, as a Decimal."""
    scaled = Fraction(value) * 10 ** places
    whole = math.floor(abs(scaled) + Fraction(1, 2))
    return (Decimal(-whole if scaled < 0 else whole)).scaleb(-places)
