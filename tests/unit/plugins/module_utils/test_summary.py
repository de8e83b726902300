# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vergeio.billing contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The money tests: Summary against an independent brute-force reference written here.

The reference below follows the documented semantics (the module docstring of _summary and RETURN ``summary`` of
verge_billing_info) in exact rational arithmetic (fractions.Fraction) over the integers each raw value stands
for. The generator knows those integers itself (it builds "36", "36.0", 36.25, null, missing, junk from them),
so nothing here reuses the collection's conversion code.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import math
import random
from datetime import date, datetime, timedelta, timezone
from fractions import Fraction

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyvergeos.resources.billing import BillingRecord as ReferenceRecord  # the reference SDK (tests/requirements*.txt)

from ansible_collections.vergeio.billing.plugins.module_utils._records import ConversionProblems
from ansible_collections.vergeio.billing.plugins.module_utils._rating import rate_card as validate_rates
from ansible_collections.vergeio.billing.plugins.module_utils._summary import (
    SUMMARY_RAW_FIELDS, Summary, bucket_of,
)
from ansible_collections.vergeio.billing.plugins.modules.verge_billing_info import RETURN


GIB = 1024 ** 3
DAY = 86400
EPOCH0 = datetime(1970, 1, 1, tzinfo=timezone.utc)
TIERS = range(6)
RATE_NAMES = ['core_hour', 'ram_gb_hour'] + ['tier%d_gb_hour' % tier for tier in TIERS] + ['gpu_hour', 'vgpu_hour']
REFERENCE_KEYS = ['record_count', 'avg_cpu_utilization', 'peak_cpu_cores', 'avg_ram_utilization', 'peak_ram_gb',
                  'avg_storage_used_gb', 'peak_storage_used_gb', 'total_gpus', 'avg_gpus_used', 'total_vgpus',
                  'avg_vgpus_used']
COUNTERS = ['used_cores', 'total_cores', 'used_ram', 'total_ram', 'gpus', 'gpus_total', 'vgpus', 'vgpus_total'] + [
    'tier_%d_%s' % (tier, kind) for tier in TIERS for kind in ('used', 'total')]
EXAMPLES = settings(max_examples=200, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def summary_of(rows, group_by=None, rates=None, problems=None, zone=None):
    """The summary of a list of raw records, fed as one page (as Billing.summary feeds each page)."""
    summary = Summary(group_by=group_by, rates=rates, problems=problems, zone=zone)
    summary.add_rows(rows)
    return summary.result()


# ---------------------------------------------------------------------------------------------------------------
# The independent reference


def exactly(value, cls):
    """isinstance, except that a bool is no int here."""
    return isinstance(value, cls) and not isinstance(value, bool)


def iso(epoch):
    return (EPOCH0 + timedelta(seconds=epoch)).isoformat()


def ref_summary(recs, rates=None):
    """The documented summary of ``recs`` (dicts of true integers). Floats are Fractions; ints are ints."""
    n = len(recs)
    zero = Fraction(0)

    def mean(values):
        return sum(values, zero) / n if n else zero

    def peak(values, exact=Fraction):
        return exact(max(values)) if n else exact(0)

    def p95(values, exact=Fraction):
        if not n:
            return exact(0)
        rank = -(-95 * n // 100)  # ceil(0.95 * n) in integers
        return exact(sorted(values)[rank - 1])

    weights = [max(r['to'] - r['from'], 0) if r['from'] and r['to'] else 0 for r in recs]
    total_weight = sum(weights)

    def twa(values):
        if not n:
            return zero
        if total_weight == 0:
            return mean(values)
        return sum((Fraction(v) * w for v, w in zip(values, weights)), zero) / total_weight

    def pct(used, total):
        return Fraction(100 * used, total) if total else zero

    cores = [r['used_cores'] for r in recs]
    ram_gb = [Fraction(r['used_ram'], 1024) for r in recs]
    storage_gb = [Fraction(sum(r['tier_%d_used' % t] for t in TIERS), GIB) for r in recs]
    tier_gb = dict((t, [Fraction(r['tier_%d_used' % t], GIB) for r in recs]) for t in TIERS)
    gpus = [r['gpus'] for r in recs]
    vgpus = [r['vgpus'] for r in recs]
    newest = max(recs, key=lambda r: (r['created'], r['key'])) if n else None
    froms = [r['from'] for r in recs if r['from']]
    tos = [r['to'] for r in recs if r['to']]

    out = dict(
        record_count=n,
        avg_cpu_utilization=mean([pct(r['used_cores'], r['total_cores']) for r in recs]),
        peak_cpu_cores=peak(cores, int),
        avg_ram_utilization=mean([pct(r['used_ram'], r['total_ram']) for r in recs]),
        peak_ram_gb=peak(ram_gb),
        avg_storage_used_gb=mean(storage_gb),
        peak_storage_used_gb=peak(storage_gb),
        total_gpus=newest['gpus_total'] if n else 0,
        avg_gpus_used=mean([Fraction(g) for g in gpus]),
        total_vgpus=newest['vgpus_total'] if n else 0,
        avg_vgpus_used=mean([Fraction(g) for g in vgpus]),
        period_start=iso(min(froms)) if froms else None,
        period_end=iso(max(tos)) if tos else None,
        hours=Fraction(total_weight, 3600),
        twa_cpu_cores=twa(cores),
        twa_ram_gb=twa(ram_gb),
        twa_storage_used_gb=twa(storage_gb),
        twa_gpus_used=twa(gpus),
        twa_vgpus_used=twa(vgpus),
        p95_cpu_cores=p95(cores, int),
        p95_ram_gb=p95(ram_gb),
        p95_storage_used_gb=p95(storage_gb),
        p95_gpus_used=p95(gpus, int),
        p95_vgpus_used=p95(vgpus, int),
        peak_gpus_used=peak(gpus, int),
        peak_vgpus_used=peak(vgpus, int),
        tiers=[dict(
            tier=t,
            avg_used_gb=mean(tier_gb[t]),
            twa_used_gb=twa(tier_gb[t]),
            peak_used_gb=peak(tier_gb[t]),
            p95_used_gb=p95(tier_gb[t]),
            total_gb=Fraction(newest['tier_%d_total' % t], GIB) if n else zero,
        ) for t in TIERS],
    )
    if rates is not None:
        price = dict((name, Fraction(float(rates[name])) if rates.get(name) not in (None, '') else zero)
                     for name in RATE_NAMES)
        cost = dict(cpu=zero, ram=zero, gpu=zero, vgpu=zero)
        tiers = dict(('tier%d' % t, zero) for t in TIERS)
        for r, weight in zip(recs, weights):
            hours = Fraction(weight, 3600)
            cost['cpu'] += r['used_cores'] * price['core_hour'] * hours
            cost['ram'] += Fraction(r['used_ram'], 1024) * price['ram_gb_hour'] * hours
            cost['gpu'] += r['gpus'] * price['gpu_hour'] * hours
            cost['vgpu'] += r['vgpus'] * price['vgpu_hour'] * hours
            for t in TIERS:
                tiers['tier%d' % t] += Fraction(r['tier_%d_used' % t], GIB) * price['tier%d_gb_hour' % t] * hours
        cost['storage'] = sum(tiers.values(), zero)
        cost['total'] = cost['cpu'] + cost['ram'] + cost['storage'] + cost['gpu'] + cost['vgpu']
        cost['tiers'] = tiers
        cost['currency'] = '' if rates.get('currency') is None else str(rates['currency'])
        out['cost'] = cost
    return out


def ref_bucket(created, group_by):
    """(label, start, end) by calendar arithmetic on days since 1970-01-01 (a Thursday)."""
    days = created // DAY
    day = date(1970, 1, 1) + timedelta(days=days)
    if group_by == 'day':
        return day.isoformat(), days * DAY, (days + 1) * DAY
    if group_by == 'week':
        monday = days - (days + 3) % 7
        year, week = (date(1970, 1, 1) + timedelta(days=monday)).isocalendar()[:2]
        return '%04d-W%02d' % (year, week), monday * DAY, (monday + 7) * DAY
    first = date(day.year, day.month, 1)
    following = date(day.year + 1, 1, 1) if day.month == 12 else date(day.year, day.month + 1, 1)
    return ('%04d-%02d' % (day.year, day.month), (first - date(1970, 1, 1)).days * DAY,
            (following - date(1970, 1, 1)).days * DAY)


def ref_full(recs, group_by=None, rates=None):
    out = ref_summary(recs, rates)
    if group_by:
        buckets = {}
        for r in recs:
            label, start, end = ref_bucket(r['created'], group_by)
            buckets.setdefault((start, end, label), []).append(r)
        out['periods'] = []
        for (start, end, label), members in sorted(buckets.items()):
            period = dict(period=label, start=iso(start), end=iso(end))
            period.update(ref_summary(members, rates))
            out['periods'].append(period)
    return out


def assert_matches(actual, expected, path='summary'):
    if isinstance(expected, dict):
        assert isinstance(actual, dict), path
        assert sorted(actual) == sorted(expected), (path, sorted(set(actual) ^ set(expected)))
        for name in expected:
            assert_matches(actual[name], expected[name], '%s.%s' % (path, name))
    elif isinstance(expected, list):
        assert isinstance(actual, list) and len(actual) == len(expected), (path, actual)
        for index, (got, want) in enumerate(zip(actual, expected)):
            assert_matches(got, want, '%s[%d]' % (path, index))
    elif isinstance(expected, Fraction):
        assert exactly(actual, float), (path, actual)
        assert math.isclose(actual, float(expected), rel_tol=1e-9, abs_tol=1e-9), (path, actual, float(expected))
    elif isinstance(expected, int):
        assert exactly(actual, int), (path, actual)
        assert actual == expected, (path, actual, expected)
    else:
        assert actual == expected, (path, actual, expected)


# ---------------------------------------------------------------------------------------------------------------
# The generator: raw records plus the integers they stand for

MISSING = object()


def encoded(rnd, number):
    """A raw API value standing for ``number`` (or for 0: null, missing, empty, junk), and whether it is junk."""
    forms = ['int', 'int', 'str']
    if number < 2 ** 50:
        forms += ['float_str', 'float']
    if number == 0:
        forms += ['null', 'missing', 'empty', 'junk']
    form = rnd.choice(forms)
    value = {
        'int': number, 'str': str(number), 'float_str': '%d.0' % number, 'float': number + 0.25, 'null': None,
        'missing': MISSING, 'empty': '', 'junk': 'n/a',
    }[form]
    return value, form == 'junk'


def magnitude(rnd, maximum):
    """0 often, small numbers often (ties, percentiles), and anything up to ``maximum``."""
    kind = rnd.random()
    if kind < 0.3:
        return 0
    if kind < 0.6:
        return rnd.randint(0, min(maximum, 64))
    return rnd.randint(0, maximum)


COUNTER_MAX = dict(used_cores=10 ** 6, total_cores=10 ** 6, used_ram=2 ** 40, total_ram=2 ** 40, gpus=1000,
                   gpus_total=1000, vgpus=1000, vgpus_total=1000)
for _tier in TIERS:
    COUNTER_MAX['tier_%d_used' % _tier] = 2 ** 62
    COUNTER_MAX['tier_%d_total' % _tier] = 2 ** 62

LATEST = 4102444800  # 2100-01-01


TIME_POOL = st.lists(st.integers(min_value=0, max_value=LATEST), min_size=4, max_size=4)


def record_truth(rnd, key, pool):
    """The integers of one record: created (often shared with others), from/to of every shape, the counters."""
    truth = dict(key=key)
    kind = rnd.random()
    truth['created'] = pool[rnd.randrange(4)] if kind < 0.4 else 0 if kind < 0.45 else rnd.randint(0, LATEST)
    start = 0 if rnd.random() < 0.15 else rnd.randint(1, LATEST)
    shape = rnd.choice(['none', 'equal', 'before', 'after', 'after', 'after'])
    if shape == 'none' or not start:
        end = 0 if rnd.random() < 0.5 else rnd.randint(1, LATEST)
    elif shape == 'equal':
        end = start
    elif shape == 'before':
        end = max(start - rnd.randint(1, 10 ** 6), 0)
    else:
        end = start + rnd.randint(1, 40 * DAY)
    truth['from'], truth['to'] = start, end
    for field in COUNTERS:
        truth[field] = magnitude(rnd, COUNTER_MAX[field])
    return truth


@st.composite
def records(draw, max_size=60):
    """(raw records, the integers they stand for, how many junk values they hold).

    Hypothesis draws the number of records, a pool of created times (so some records share one) and a seed a
    record, from which a random generator makes the record's figures and their raw encodings. (Drawing the ~30
    figures of each record through Hypothesis makes 60-record examples, and above all their shrinking, too slow;
    shrinking still removes records.)
    """
    count = draw(st.integers(min_value=0, max_value=max_size))
    seeds = draw(st.lists(st.integers(min_value=0, max_value=2 ** 32), min_size=count, max_size=count))
    keys = list(range(1, count + 1))
    random.Random(draw(st.integers(min_value=0, max_value=2 ** 32))).shuffle(keys)
    pool = draw(TIME_POOL)
    raws, truths, junk = [], [], 0
    for key, seed in zip(keys, seeds):
        rnd = random.Random(seed)
        truth = record_truth(rnd, key, pool)
        raw = {'$key': rnd.choice([key, str(key)])}
        for field in ('created', 'from', 'to') + tuple(COUNTERS):
            value, is_junk = encoded(rnd, truth[field])
            junk += is_junk
            if value is not MISSING:
                raw[field] = value
        raw['description'] = 'not summed'
        raws.append(raw)
        truths.append(truth)
    return raws, truths, junk


rate_value = st.one_of(st.none(), st.floats(min_value=0, max_value=100, allow_nan=False),
                       st.integers(min_value=0, max_value=100), st.sampled_from(['0.5', '2', '0', '']))


@st.composite
def rate_cards(draw):
    card = draw(st.fixed_dictionaries({}, optional=dict((name, rate_value) for name in RATE_NAMES)))
    currency = draw(st.one_of(st.just(MISSING), st.none(), st.sampled_from(['EUR', 'USD', ''])))
    if currency is not MISSING:
        card['currency'] = currency
    return card


# ---------------------------------------------------------------------------------------------------------------
# The property: Summary == reference


@EXAMPLES
@given(records(), st.sampled_from([None, 'day', 'week', 'month']), st.one_of(st.none(), rate_cards()))
def test_summarize_matches_the_reference(case, group_by, rates):
    raws, truths, junk = case
    problems = ConversionProblems()
    actual = summary_of(raws, group_by=group_by, rates=rates, problems=problems)
    assert_matches(actual, ref_full(truths, group_by, rates))
    assert len(problems) == min(junk, 50)


@EXAMPLES
@given(records(), st.sampled_from([None, 'day', 'week', 'month']), st.one_of(st.none(), rate_cards()), st.randoms(),
       st.lists(st.integers(min_value=0, max_value=25), max_size=8))
def test_order_and_paging_do_not_matter(case, group_by, rates, rnd, page_sizes):
    """The module feeds Summary.add_rows one API page at a time, newest first: any split and order gives one result."""
    raws, truths = case[0], case[1]
    expected = summary_of(raws, group_by=group_by, rates=rates)
    order = list(range(len(raws)))
    rnd.shuffle(order)
    shuffled = [raws[index] for index in order]
    summary = Summary(group_by=group_by, rates=rates)
    position = 0
    for size in page_sizes + [len(raws)]:
        summary.add_rows(iter(shuffled[position:position + size]))
        position += size
    assert summary.result() == expected
    assert_matches(summary.result(), ref_full([truths[index] for index in order], group_by, rates))


@EXAMPLES
@given(records(max_size=30), st.sampled_from([None, 'day', 'month']), st.one_of(st.none(), rate_cards()))
def test_summary_needs_only_its_raw_fields(case, group_by, rates):
    raws = case[0]
    trimmed = [dict((field, raw[field]) for field in SUMMARY_RAW_FIELDS if field in raw) for raw in raws]
    assert summary_of(trimmed, group_by=group_by, rates=rates) == summary_of(raws, group_by=group_by, rates=rates)


def test_summary_raw_fields_are_what_the_reference_reads():
    expected = set(['$key', 'created', 'from', 'to', 'used_cores', 'total_cores', 'used_ram', 'total_ram', 'gpus',
                    'gpus_total', 'vgpus', 'vgpus_total'] + ['tier_%d_%s' % (t, k) for t in TIERS for k in ('used', 'total')])
    assert len(SUMMARY_RAW_FIELDS) == len(set(SUMMARY_RAW_FIELDS))
    assert set(SUMMARY_RAW_FIELDS) == expected


# ---------------------------------------------------------------------------------------------------------------
# The reference SDK's get_summary() math, on records it can read


SDK_SHAPE = st.tuples(st.integers(min_value=1, max_value=LATEST), st.integers(min_value=0, max_value=2 ** 32))


@st.composite
def sdk_records(draw):
    count = draw(st.integers(min_value=0, max_value=40))
    shapes = draw(st.lists(SDK_SHAPE, min_size=count, max_size=count))
    keys = draw(st.permutations(range(1, len(shapes) + 1)))
    out = []
    for key, (created, seed) in zip(keys, shapes):
        rnd = random.Random(seed)
        raw = {'$key': key, 'created': created}
        for field in COUNTERS:
            raw[field] = magnitude(rnd, COUNTER_MAX[field])
        out.append(raw)
    return out


def sdk_get_summary(raws):
    """BillingManager.get_summary()'s arithmetic, verbatim, over pyvergeos BillingRecords listed newest first."""
    records_ = sorted((ReferenceRecord(dict(raw), None) for raw in raws), key=lambda r: (r.created_epoch, r.key),
                      reverse=True)
    if not records_:
        return {
            "record_count": 0, "avg_cpu_utilization": 0.0, "peak_cpu_cores": 0, "avg_ram_utilization": 0.0,
            "peak_ram_gb": 0.0, "avg_storage_used_gb": 0.0, "peak_storage_used_gb": 0.0, "total_gpus": 0,
            "avg_gpus_used": 0.0, "total_vgpus": 0, "avg_vgpus_used": 0.0,
        }
    cpu_utils = [r.cpu_utilization_pct for r in records_]
    ram_utils = [r.ram_utilization_pct for r in records_]
    storage_used = [r.total_storage_used_gb for r in records_]
    cpu_cores = [r.used_cores for r in records_]
    ram_gb = [r.used_ram_gb for r in records_]
    gpus_used = [r.gpus_used for r in records_]
    vgpus_used = [r.vgpus_used for r in records_]
    return {
        "record_count": len(records_),
        "avg_cpu_utilization": sum(cpu_utils) / len(cpu_utils),
        "peak_cpu_cores": max(cpu_cores),
        "avg_ram_utilization": sum(ram_utils) / len(ram_utils),
        "peak_ram_gb": max(ram_gb),
        "avg_storage_used_gb": sum(storage_used) / len(storage_used),
        "peak_storage_used_gb": max(storage_used),
        "total_gpus": records_[0].gpus_total,
        "avg_gpus_used": sum(gpus_used) / len(gpus_used),
        "total_vgpus": records_[0].vgpus_total,
        "avg_vgpus_used": sum(vgpus_used) / len(vgpus_used),
    }


@EXAMPLES
@given(sdk_records())
def test_first_eleven_keys_are_the_sdk_get_summary(raws):
    ours = summary_of(raws)
    theirs = sdk_get_summary(raws)
    assert list(ours)[:11] == REFERENCE_KEYS == list(theirs)
    for name in REFERENCE_KEYS:
        assert type(ours[name]) is type(theirs[name]), name
        if isinstance(theirs[name], float):
            assert math.isclose(ours[name], theirs[name], rel_tol=1e-9, abs_tol=1e-9), name
        else:
            assert ours[name] == theirs[name], name


# ---------------------------------------------------------------------------------------------------------------
# Worked examples (hand arithmetic)

A = {'$key': 1, 'created': 1735693200, 'from': 1735689600, 'to': 1735693200, 'used_cores': 10, 'total_cores': 40,
     'used_ram': 2048, 'total_ram': 8192, 'tier_1_used': 2 * GIB, 'tier_1_total': 10 * GIB, 'gpus': 1, 'gpus_total': 2,
     'vgpus': 0, 'vgpus_total': 4}
B = {'$key': '2', 'created': '1735700400', 'from': 1735693200, 'to': '1735700400', 'used_cores': '20', 'total_cores': 40,
     'used_ram': '4096.0', 'total_ram': 8192, 'tier_1_used': 4 * GIB, 'tier_1_total': 12 * GIB, 'gpus': 2, 'gpus_total': 2,
     'vgpus': 4, 'vgpus_total': 8}
C = {'$key': 3, 'created': 1735779600, 'from': None, 'used_cores': 30, 'total_cores': 60, 'used_ram': 1024,
     'total_ram': 4096, 'tier_1_used': 0, 'tier_1_total': 16 * GIB, 'gpus': 0, 'gpus_total': 3, 'vgpus': 2,
     'vgpus_total': 8}
RATES = {'core_hour': 0.5, 'ram_gb_hour': 0.25, 'tier1_gb_hour': 0.1, 'gpu_hour': 2, 'vgpu_hour': '1', 'currency': 'EUR'}


def close(value, expected):
    return math.isclose(value, expected, rel_tol=1e-12, abs_tol=1e-12)


def test_worked_example():
    s = summary_of([C, A, B], rates=RATES)
    assert s['record_count'] == 3
    assert close(s['avg_cpu_utilization'], 125 / 3)  # 25 %, 50 %, 50 %
    assert s['peak_cpu_cores'] == 30
    assert close(s['avg_ram_utilization'], 100 / 3)  # 25 %, 50 %, 25 %
    assert s['peak_ram_gb'] == 4.0
    assert close(s['avg_storage_used_gb'], 2.0) and s['peak_storage_used_gb'] == 4.0
    assert (s['total_gpus'], s['total_vgpus']) == (3, 8)  # from C, the newest
    assert close(s['avg_gpus_used'], 1.0) and close(s['avg_vgpus_used'], 2.0)
    assert s['period_start'] == '2025-01-01T00:00:00+00:00' and s['period_end'] == '2025-01-01T03:00:00+00:00'
    assert close(s['hours'], 3.0)  # A 1 h, B 2 h, C none
    assert close(s['twa_cpu_cores'], 50 / 3)  # (10 x 1 + 20 x 2) / 3
    assert close(s['twa_ram_gb'], 10 / 3) and close(s['twa_storage_used_gb'], 10 / 3)
    assert close(s['twa_gpus_used'], 5 / 3) and close(s['twa_vgpus_used'], 8 / 3)
    assert (s['p95_cpu_cores'], s['p95_ram_gb'], s['p95_storage_used_gb'], s['p95_gpus_used'], s['p95_vgpus_used']) == (
        30, 4.0, 4.0, 2, 4)
    assert (s['peak_gpus_used'], s['peak_vgpus_used']) == (2, 4)
    tier1 = s['tiers'][1]
    assert tier1['tier'] == 1 and close(tier1['avg_used_gb'], 2.0) and close(tier1['twa_used_gb'], 10 / 3)
    assert tier1['peak_used_gb'] == 4.0 and tier1['p95_used_gb'] == 4.0 and tier1['total_gb'] == 16.0
    assert [t['tier'] for t in s['tiers']] == [0, 1, 2, 3, 4, 5]
    assert all(t['avg_used_gb'] == t['peak_used_gb'] == t['total_gb'] == 0.0 for t in s['tiers'] if t['tier'] != 1)
    cost = s['cost']
    assert close(cost['cpu'], 25.0)  # 10 x 0.5 x 1 + 20 x 0.5 x 2
    assert close(cost['ram'], 2.5)  # 2 x 0.25 x 1 + 4 x 0.25 x 2
    assert close(cost['tiers']['tier1'], 1.0) and close(cost['storage'], 1.0)  # 2 x 0.1 x 1 + 4 x 0.1 x 2
    assert close(cost['gpu'], 10.0) and close(cost['vgpu'], 8.0)
    assert close(cost['total'], 46.5) and cost['currency'] == 'EUR'
    assert sorted(cost['tiers']) == ['tier%d' % t for t in TIERS]


def test_worked_example_by_day_week_month():
    days = summary_of([B, C, A], group_by='day', rates=RATES)['periods']
    assert [(p['period'], p['start'], p['end'], p['record_count']) for p in days] == [
        ('2025-01-01', '2025-01-01T00:00:00+00:00', '2025-01-02T00:00:00+00:00', 2),
        ('2025-01-02', '2025-01-02T00:00:00+00:00', '2025-01-03T00:00:00+00:00', 1)]
    first, second = days
    assert first['total_gpus'] == 2 and close(first['hours'], 3.0) and close(first['cost']['total'], 46.5)
    assert second['period_start'] is None and second['period_end'] is None
    assert second['hours'] == 0.0 and second['twa_cpu_cores'] == 30.0  # no weight: the plain mean
    assert second['cost']['total'] == 0.0 and second['cost']['currency'] == 'EUR'
    weeks = summary_of([A, B, C], group_by='week')['periods']  # 2025-01-01 is a Wednesday
    assert [(p['period'], p['start'], p['end'], p['record_count']) for p in weeks] == [
        ('2025-W01', '2024-12-30T00:00:00+00:00', '2025-01-06T00:00:00+00:00', 3)]
    months = summary_of([A, B, C], group_by='month')['periods']
    assert [(p['period'], p['start'], p['end'], p['record_count']) for p in months] == [
        ('2025-01', '2025-01-01T00:00:00+00:00', '2025-02-01T00:00:00+00:00', 3)]
    assert 'periods' not in summary_of([A, B, C])


def test_empty():
    s = summary_of([], group_by='day', rates={})
    assert s['record_count'] == 0 and s['periods'] == []
    for name in ('avg_cpu_utilization', 'peak_ram_gb', 'hours', 'twa_cpu_cores', 'p95_ram_gb'):
        assert s[name] == 0.0 and exactly(s[name], float)
    for name in ('peak_cpu_cores', 'total_gpus', 'total_vgpus', 'p95_cpu_cores', 'peak_gpus_used'):
        assert s[name] == 0 and exactly(s[name], int)
    assert s['period_start'] is None and s['period_end'] is None
    assert s['cost']['total'] == 0.0 and s['cost']['currency'] == ''
    assert len(s['tiers']) == 6


@pytest.mark.parametrize('n, expected', [(1, 1), (2, 2), (19, 19), (20, 19), (21, 20), (40, 38), (99, 95), (100, 95),
                                         (101, 96), (200, 190), (1000, 950)])
def test_p95_is_the_nearest_rank(n, expected):
    # values 1..n: the value at rank ceil(0.95 n); ceil(0.95 * 100) in floating point is 96, not 95
    rows = [{'$key': i, 'created': i, 'used_cores': i, 'gpus': i} for i in range(n, 0, -1)]
    s = summary_of(rows)
    assert s['p95_cpu_cores'] == expected and s['p95_gpus_used'] == expected


@pytest.mark.parametrize('start, end, hours, period_start, period_end', [
    (3600, 7200, 1.0, '1970-01-01T01:00:00+00:00', '1970-01-01T02:00:00+00:00'),
    (7200, 7200, 0.0, '1970-01-01T02:00:00+00:00', '1970-01-01T02:00:00+00:00'),  # zero length
    (7200, 3600, 0.0, '1970-01-01T02:00:00+00:00', '1970-01-01T01:00:00+00:00'),  # to before from
    (None, 7200, 0.0, None, '1970-01-01T02:00:00+00:00'),  # no from: no weight
    (3600, None, 0.0, '1970-01-01T01:00:00+00:00', None),
    (0, 7200, 0.0, None, '1970-01-01T02:00:00+00:00'),
    ('', '', 0.0, None, None),
])
def test_record_periods(start, end, hours, period_start, period_end):
    s = summary_of([{'$key': 1, 'created': 10, 'from': start, 'to': end, 'used_cores': 4}], rates={'core_hour': 1})
    assert s['hours'] == hours and s['cost']['cpu'] == 4 * hours
    assert s['period_start'] == period_start and s['period_end'] == period_end
    assert s['twa_cpu_cores'] == 4.0


def test_newest_record_breaks_created_ties_by_key():
    old = {'$key': 9, 'created': 100, 'gpus_total': 1, 'vgpus_total': 1, 'tier_0_total': GIB}
    tie_low = {'$key': 5, 'created': 200, 'gpus_total': 2, 'vgpus_total': 2, 'tier_0_total': 2 * GIB}
    tie_high = {'$key': '7', 'created': '200', 'gpus_total': 3, 'vgpus_total': 3, 'tier_0_total': 3 * GIB}
    for rows in ([old, tie_low, tie_high], [tie_high, tie_low, old], [tie_low, old, tie_high]):
        s = summary_of(rows)
        assert (s['total_gpus'], s['total_vgpus'], s['tiers'][0]['total_gb']) == (3, 3, 3.0)


def test_junk_values_are_noted_and_count_as_zero():
    problems = ConversionProblems()
    s = summary_of([{'$key': 1, 'created': 5, 'used_cores': 'many', 'total_cores': 4, 'gpus': 'n/a'}], problems=problems)
    assert s['peak_cpu_cores'] == 0 and s['avg_gpus_used'] == 0.0
    assert sorted(note.split('=')[0] for note in problems) == ['gpus', 'used_cores']


def test_big_counters_stay_exact():
    # used_cores is an integer; its peak and p95 must be that integer, as max() gives in the reference SDK
    big = 2 ** 53 + 1
    s = summary_of([{'$key': 1, 'created': 5, 'used_cores': big, 'gpus': big, 'vgpus': big}])
    assert s['peak_cpu_cores'] == big and s['p95_cpu_cores'] == big
    assert s['peak_gpus_used'] == big and s['peak_vgpus_used'] == big and s['p95_vgpus_used'] == big


@pytest.mark.parametrize('raw', [
    {'created': 10 ** 12},  # year 33658
    {'created': 10 ** 17},
    {'created': '-100000000000000'},
    {'from': 1, 'to': 10 ** 12},
    {'from': 10 ** 17, 'to': 10 ** 17 + 5},
    {'from': -(10 ** 13), 'to': 5},
    {'created': 253402300799},  # 9999-12-31T23:59:59, the last time parse_time accepts: its month ends in year 10000
])
def test_times_no_datetime_can_hold_do_not_crash_the_summary(raw):
    # the records view turns such times into null (and notes them); one such record must not end a whole summary
    row = dict(raw, **{'$key': 1, 'used_cores': 3})
    for group_by in (None, 'day', 'week', 'month'):
        s = summary_of([row, {'$key': 2, 'created': 1735866014, 'used_cores': 5}], group_by=group_by, problems=ConversionProblems())
        assert s['record_count'] == 2 and s['peak_cpu_cores'] == 5, group_by


json_scalar = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=12),
                        st.sampled_from(['36', '36.0', '1e400', 'nan', '']))


@settings(EXAMPLES, report_multiple_bugs=False)
@given(st.lists(st.fixed_dictionaries({}, optional=dict((field, json_scalar) for field in SUMMARY_RAW_FIELDS)), max_size=8),
       st.sampled_from([None, 'day', 'week', 'month']))
def test_summarize_never_raises_on_junk(rows, group_by):
    s = summary_of(rows, group_by=group_by, rates={'core_hour': 1}, problems=ConversionProblems())
    assert s['record_count'] == len(rows)
    assert all(isinstance(s[name], float) and math.isfinite(s[name]) for name in ('hours', 'avg_cpu_utilization'))


# ---------------------------------------------------------------------------------------------------------------
# bucket_of


@pytest.mark.parametrize('epoch, group_by, expected', [
    (1735866014, 'day', ('2025-01-03', 1735862400, 1735948800)),
    (1735866014, 'week', ('2025-W01', 1735516800, 1736121600)),  # Friday; Monday 2024-12-30
    (1735866014, 'month', ('2025-01', 1735689600, 1738368000)),
    (1734220800, 'month', ('2024-12', 1733011200, 1735689600)),  # December -> January of the next year
    (1709164800, 'month', ('2024-02', 1706745600, 1709251200)),  # 2024-02-29, a leap day
    (1609459200, 'week', ('2020-W53', 1609113600, 1609718400)),  # 2021-01-01 is in ISO week 53 of 2020
    (1735862400, 'day', ('2025-01-03', 1735862400, 1735948800)),  # midnight is the start of its own day
    (1735948799, 'day', ('2025-01-03', 1735862400, 1735948800)),
    (0, 'day', ('1970-01-01', 0, 86400)),
    (0, 'week', ('1970-W01', -259200, 345600)),  # Thursday; Monday 1969-12-29
])
def test_bucket_of(epoch, group_by, expected):
    assert bucket_of(epoch, group_by) == expected


def test_bucket_of_rejects_unknown_groups():
    with pytest.raises(ValueError) as excinfo:
        bucket_of(0, 'year')
    assert 'day, week, month' in str(excinfo.value)
    with pytest.raises(ValueError):
        summary_of([], group_by='quarter')


@settings(max_examples=200, deadline=None, database=None)
@given(st.integers(min_value=0, max_value=253397030399), st.sampled_from(['day', 'week', 'month']))  # to 9999-10-31
def test_bucket_of_property(epoch, group_by):
    label, start, end = bucket_of(epoch, group_by)
    assert (label, start, end) == ref_bucket(epoch, group_by)
    assert start <= epoch < end
    assert bucket_of(start, group_by) == (label, start, end)
    assert bucket_of(end, group_by)[1] == end  # buckets tile the time line
    assert bucket_of(end - 1, group_by) == (label, start, end)


# ---------------------------------------------------------------------------------------------------------------
# validate_rates


def test_validate_rates_fills_and_converts():
    assert validate_rates(None) is None
    clean = validate_rates({})
    assert clean == dict(((name, 0.0) for name in RATE_NAMES + ['ip_hour']), currency='', precision=2)
    clean = validate_rates({'core_hour': '0.5', 'gpu_hour': 2, 'ram_gb_hour': None, 'tier0_gb_hour': '', 'currency': 'EUR'})
    assert clean['core_hour'] == 0.5 and clean['gpu_hour'] == 2.0 and exactly(clean['gpu_hour'], float)
    assert clean['ram_gb_hour'] == 0.0 and clean['tier0_gb_hour'] == 0.0 and clean['currency'] == 'EUR'
    assert sorted(clean) == sorted(RATE_NAMES + ['ip_hour', 'currency', 'precision'])


@pytest.mark.parametrize('rates, words', [
    ({'core_hour': 'abc'}, ['rates.core_hour', 'number', "'abc'"]),
    ({'ram_gb_hour': [1]}, ['rates.ram_gb_hour', 'number']),
    ({'gpu_hour': True}, ['rates.gpu_hour', 'number']),
    ({'core_hour': -1}, ['rates.core_hour', '0 or more', '-1']),
    ({'tier3_gb_hour': '-0.5'}, ['rates.tier3_gb_hour', '0 or more']),
    ({'vgpu_hour': float('nan')}, ['rates.vgpu_hour', 'finite']),
    ({'vgpu_hour': 'nan'}, ['rates.vgpu_hour', 'finite']),
    ({'core_hour': float('inf')}, ['rates.core_hour', 'finite']),
    ({'cpu_hour': 1}, ['unknown', 'cpu_hour', 'core_hour', 'currency']),
    ({'core_hour': 1, 'tier6_gb_hour': 1, 'ram_hour': 1}, ['ram_hour', 'tier6_gb_hour']),
    ('0.5', ['rates must be a dict', 'str']),
    ([0.5], ['rates must be a dict', 'list']),
])
def test_validate_rates_errors(rates, words):
    with pytest.raises(ValueError) as excinfo:
        validate_rates(rates)
    message = str(excinfo.value)
    for word in words:
        assert word in message, message
    with pytest.raises(ValueError):
        summary_of([A], rates=rates)


# ---------------------------------------------------------------------------------------------------------------
# The module's RETURN documentation


DOC_TYPES = {'int': int, 'float': float, 'str': (str, type(None)), 'list': list, 'dict': dict}


def test_documented_summary_keys_and_types():
    documented = yaml.safe_load(RETURN)['summary']['contains']
    s = summary_of([A, B, C], group_by='day', rates=RATES)
    assert sorted(s) == sorted(documented)
    for name, doc in documented.items():
        assert exactly(s[name], DOC_TYPES[doc['type']]), (name, s[name], doc['type'])
    tier_doc = documented['tiers']['contains']
    for tier in s['tiers']:
        assert sorted(tier) == sorted(tier_doc)
        for name, doc in tier_doc.items():
            assert exactly(tier[name], DOC_TYPES[doc['type']]), (name, doc['type'])
    assert sorted(s['cost']) == sorted(documented['cost']['sample'])
    assert sorted(s['cost']['tiers']) == sorted(documented['cost']['sample']['tiers'])
    for period in s['periods']:
        assert sorted(period) == sorted(set(documented) - set(['periods']) | set(['period', 'start', 'end']))
    assert REFERENCE_KEYS == list(s)[:11]


# ---------------------------------------------------------------------------------------------------------------
# period_by usage: each record prorated to the period and to each group_by period (reference written here, with
# the calendar read from zoneinfo wall-clock midnights, not from the collection)


BASE = 1788220800  # 2026-09-01T00:00:00Z


def ref_buckets(start, end, group_by, zone):
    """[(label, bucket start, bucket end)] of the local days / ISO weeks / months that overlap [start, end), each
    cut to [start, end)."""
    day = datetime.fromtimestamp(start, zone).date()
    if group_by == 'week':
        day -= timedelta(days=day.weekday())
    elif group_by == 'month':
        day = day.replace(day=1)
    out = []
    while True:
        if group_by == 'day':
            following, label = day + timedelta(days=1), day.isoformat()
        elif group_by == 'week':
            following, label = day + timedelta(days=7), '%04d-W%02d' % day.isocalendar()[:2]
        else:
            following = date(day.year + (day.month == 12), day.month % 12 + 1, 1)
            label = '%04d-%02d' % (day.year, day.month)
        low = int(datetime(day.year, day.month, day.day, tzinfo=zone).timestamp())
        high = int(datetime(following.year, following.month, following.day, tzinfo=zone).timestamp())
        if low >= end:
            return out
        out.append((label, max(low, start), min(high, end)))
        day = following


@st.composite
def usage_case(draw):
    """Well-formed records (from < to) over three months, and a period [start, end) that cuts some of them."""
    count = draw(st.integers(min_value=0, max_value=25))
    rows = []
    for key in range(1, count + 1):
        begin = BASE + draw(st.integers(min_value=0, max_value=90 * DAY))
        length = draw(st.sampled_from([1, 1800, 3600, 3600, 5400, DAY, 31 * DAY]))
        rows.append({'$key': key, 'created': begin + length + 5, 'from': begin, 'to': begin + length,
                     'used_cores': draw(st.integers(min_value=-2, max_value=500)), 'total_cores': 512,
                     'used_ram': draw(st.integers(min_value=0, max_value=2 ** 22)), 'total_ram': 2 ** 22,
                     'tier_1_used': draw(st.integers(min_value=0, max_value=2 ** 45)), 'gpus': draw(st.integers(min_value=0, max_value=4)),
                     'vgpus': draw(st.integers(min_value=0, max_value=9))})
    start = BASE + draw(st.integers(min_value=0, max_value=60 * DAY))
    end = start + draw(st.integers(min_value=1, max_value=40 * DAY))
    return rows, start, end


@EXAMPLES
@given(usage_case(), st.sampled_from([None, 'day', 'week', 'month']), st.sampled_from(['UTC', 'Europe/Berlin']),
       st.one_of(st.none(), rate_cards()))
def test_a_period_by_usage_prorates_every_record(case, group_by, zone_name, rates):
    from zoneinfo import ZoneInfo  # pylint: disable=import-outside-toplevel
    from ansible_collections.vergeio.billing.plugins.module_utils._time import get_zone  # pylint: disable=import-outside-toplevel
    rows, start, end = case
    chosen = [row for row in rows if row['to'] > start and row['from'] < end]  # what the server's filter gives
    summary = Summary(group_by=group_by, rates=rates, zone=get_zone(zone_name), period=(start, end))
    summary.add_rows(chosen)
    out = summary.result()

    def inside(row, low, high):
        return max(0, min(row['to'], high) - max(row['from'], low))

    def check(got, members, low, high):
        weights = [inside(row, low, high) for row in members]
        assert got['record_count'] == len(members)
        assert got['hours'] == sum(weights) / 3600  # whole seconds: exact in a float
        if sum(weights):
            want = Fraction(sum(row['used_cores'] * weight for row, weight in zip(members, weights)), sum(weights))
            assert math.isclose(got['twa_cpu_cores'], float(want), rel_tol=1e-9, abs_tol=1e-9)
        if rates is not None:
            price = dict((name, Fraction(float(rates[name])) if rates.get(name) not in (None, '') else Fraction(0)) for name in RATE_NAMES)
            cpu = sum((Fraction(max(row['used_cores'], 0) * weight, 3600) * price['core_hour'] for row, weight in zip(members, weights)), Fraction(0))
            ram = sum((Fraction(row['used_ram'] * weight, 3600 * 1024) * price['ram_gb_hour'] for row, weight in zip(members, weights)), Fraction(0))
            tier1 = sum((Fraction(row['tier_1_used'] * weight, 3600 * GIB) * price['tier1_gb_hour'] for row, weight in zip(members, weights)),
                        Fraction(0))
            gpu = sum((Fraction(row['gpus'] * weight, 3600) * price['gpu_hour'] for row, weight in zip(members, weights)), Fraction(0))
            vgpu = sum((Fraction(row['vgpus'] * weight, 3600) * price['vgpu_hour'] for row, weight in zip(members, weights)), Fraction(0))
            for part, want in (('cpu', cpu), ('ram', ram), ('gpu', gpu), ('vgpu', vgpu), ('total', cpu + ram + tier1 + gpu + vgpu)):
                assert math.isclose(got['cost'][part], float(want), rel_tol=1e-9, abs_tol=1e-9), part
            assert math.isclose(got['cost']['tiers']['tier1'], float(tier1), rel_tol=1e-9, abs_tol=1e-9)

    check(out, chosen, start, end)
    if group_by:
        expected = []
        for label, low, high in ref_buckets(start, end, group_by, ZoneInfo(zone_name)):
            members = [row for row in chosen if inside(row, low, high)]
            if members:
                expected.append((label, low, high, members))
        assert [period['period'] for period in out['periods']] == [label for label, _low, _high, _members in expected]
        for period, (label, low, high, members) in zip(out['periods'], expected):
            assert datetime.fromisoformat(period['start']).timestamp() == low
            assert datetime.fromisoformat(period['end']).timestamp() == high
            check(period, members, low, high)
        assert math.isclose(math.fsum(period['hours'] for period in out['periods']), out['hours'], rel_tol=1e-12)
