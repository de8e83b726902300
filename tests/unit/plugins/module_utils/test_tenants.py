# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vergeio.billing contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Tenant samples and the tenant summary against an independent brute-force reference written here.

The generator knows the integer each raw value stands for (it writes 36 as 36, "36", 36.75, or leaves it null or
missing for 0), and the reference below computes every documented figure from those integers in exact rational
arithmetic (fractions.Fraction), without the collection's conversion or statistics code.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import math
from datetime import date, datetime, timedelta, timezone
from fractions import Fraction

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyvergeos.resources.tenant_stats import TenantStatsHistory  # the reference SDK (tests/requirements*.txt)

from ansible_collections.vergeio.billing.plugins.module_utils._records import ConversionProblems
from ansible_collections.vergeio.billing.plugins.module_utils._stats import median, p95, sample_weights
from ansible_collections.vergeio.billing.plugins.module_utils._rating import Anomalies
from ansible_collections.vergeio.billing.plugins.module_utils._rating import rate_card as validate_tenant_rates
from ansible_collections.vergeio.billing.plugins.module_utils._tenants import (
    COLUMNS, FIELDS, RAW_FIELDS, SUMMARY_FIELDS, convert_sample, output_names, sample_figures, sample_levels, shape, summarize_samples,
)
from ansible_collections.vergeio.billing.plugins.modules.verge_tenant_usage_info import RETURN

GIB = 1024 ** 3
TIERS = range(6)
EPOCH0 = datetime(1970, 1, 1, tzinfo=timezone.utc)
KINDS = ('provisioned', 'used', 'allocated')
COUNTERS = ['total_cpu', 'core_count', 'ram_used', 'vram_used', 'ram_allocated', 'ram_pct', 'ip_count'] + [
    'tier%d_%s' % (tier, kind) for tier in TIERS for kind in KINDS + ('pct',)] + [
    'gpus_used', 'gpus_total', 'gpus_pct', 'vgpus_used', 'vgpus_total', 'vgpus_pct']
RATE_NAMES = ['core_hour', 'ram_gb_hour'] + ['tier%d_gb_hour' % tier for tier in TIERS] + ['gpu_hour', 'vgpu_hour', 'ip_hour']
EXAMPLES = settings(max_examples=120, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
BASIS = {
    'allocated': dict(cpu='cores', ram='ram_allocated', tier='tier%d_allocated', gpu='gpus_total', vgpu='vgpus_total'),
    'used': dict(cpu='used_cores', ram='ram_used', tier='tier%d_used', gpu='gpus_used', vgpu='vgpus_used'),
    'provisioned': dict(cpu='cores', ram='ram_allocated', tier='tier%d_provisioned', gpu='gpus_total', vgpu='vgpus_total'),
}


def iso(epoch, zone=None):
    """ISO 8601 with the offset of ``zone`` (UTC when None), by timedelta arithmetic from 1970 in UTC."""
    moment = EPOCH0 + timedelta(seconds=epoch)
    return (moment if zone is None else moment.astimezone(zone)).isoformat()


# ---------------------------------------------------------------------------------------------------------------
# The generator: raw samples and the integers they stand for


@st.composite
def raw_value(draw, low=0, high=10 ** 6):
    """(raw value as an API may send it, the integer it stands for)."""
    truth = draw(st.integers(low, high))
    form = draw(st.sampled_from(['int', 'int', 'int', 'str', 'float', 'null', 'missing']))
    if form == 'int':
        return truth, truth
    if form == 'str':
        return str(truth), truth
    if form == 'float':
        return truth + draw(st.sampled_from([0.0, 0.25, 0.75])), truth
    return (None if form == 'null' else 'MISSING'), 0


@st.composite
def tenant_samples(draw, max_samples=30):
    """[(raw row, truth dict)] of one tenant: timestamps with regular gaps, long gaps and duplicates."""
    count = draw(st.integers(0, max_samples))
    stamp = draw(st.integers(1700000000, 1800000000))
    rows = []
    order = draw(st.permutations(range(count)))
    for index in range(count):
        truth, raw = dict(key=1000 + order[index], timestamp=stamp), {'$key': 1000 + order[index], 'tenant': 7, 'timestamp': stamp}
        for name in COUNTERS:
            high = 100 if name == 'total_cpu' or name.endswith('_pct') else (64 if name in ('core_count', 'ip_count') else 10 ** 13)
            value, number = draw(raw_value(0, high))
            truth[name] = number
            if value != 'MISSING':
                raw[name] = value
        rows.append((raw, truth))
        stamp += draw(st.sampled_from([3600, 3600, 3600, 300, 0, 7200, 86400 + 3600])) + draw(st.integers(0, 59))
    return rows


# ---------------------------------------------------------------------------------------------------------------
# The independent reference


def ref_figures(truth):
    value = dict(
        cores=Fraction(truth['core_count']),
        used_cores=Fraction(truth['core_count'] * truth['total_cpu'], 100),
        ram_used_gb=Fraction(truth['ram_used'], 1024),
        ram_allocated_gb=Fraction(truth['ram_allocated'], 1024),
        gpus_used=Fraction(truth['gpus_used']), gpus_total=Fraction(truth['gpus_total']),
        vgpus_used=Fraction(truth['vgpus_used']), vgpus_total=Fraction(truth['vgpus_total']),
        ip_count=Fraction(truth['ip_count']),
    )
    for kind in KINDS:
        value['storage_%s_gb' % kind] = Fraction(sum(truth['tier%d_%s' % (tier, kind)] for tier in TIERS), GIB)
        for tier in TIERS:
            value['tier%d_%s_gb' % (tier, kind)] = Fraction(truth['tier%d_%s' % (tier, kind)], GIB)
    return value


def ref_weights(stamps, max_gap):
    if not stamps:
        return [], None, max_gap
    gaps = [b - a for a, b in zip(stamps, stamps[1:])]
    if not gaps:
        return [Fraction(0)], None, max_gap
    ordered = sorted(gaps)
    middle = len(ordered) // 2
    med = Fraction(ordered[middle]) if len(ordered) % 2 else Fraction(ordered[middle - 1] + ordered[middle], 2)
    cap = Fraction(max_gap) if max_gap is not None else 2 * med
    return [min(Fraction(gap), cap) for gap in gaps] + [min(med, cap)], med, cap


def ref_stats(values, weights):
    n = len(values)
    if not n:
        return dict(avg=0, twa=0, peak=0, p95=0)
    avg = sum(values, Fraction(0)) / n
    total = sum(weights, Fraction(0))
    twa = avg if total == 0 else sum((v * w for v, w in zip(values, weights)), Fraction(0)) / total
    rank = -(-95 * n // 100)
    return dict(avg=avg, twa=twa, peak=max(values), p95=sorted(values)[rank - 1])


def ref_group(members, weights, rates, basis, zone=None):
    """The summary keys of one set of (truth, weight) pairs, ordered by time; times with the offset of ``zone``."""
    figures = [ref_figures(truth) for truth in members]
    out = dict(sample_count=len(members), hours=sum(weights, Fraction(0)) / 3600,
               period_start=iso(members[0]['timestamp'], zone) if members else None,
               period_end=iso(members[-1]['timestamp'] + int(weights[-1]), zone) if members else None)
    for name in ('cores', 'used_cores', 'ram_used_gb', 'ram_allocated_gb', 'storage_used_gb', 'storage_allocated_gb',
                 'storage_provisioned_gb', 'gpus_used', 'gpus_total', 'vgpus_used', 'vgpus_total', 'ip_count'):
        for stat, value in ref_stats([f[name] for f in figures], weights).items():
            out['%s_%s' % (stat, name)] = value
    out['tiers'] = []
    for tier in TIERS:
        entry = dict(tier=tier)
        for kind in ('used', 'allocated', 'provisioned'):
            for stat, value in ref_stats([f['tier%d_%s_gb' % (tier, kind)] for f in figures], weights).items():
                entry['%s_%s_gb' % (stat, kind)] = value
        out['tiers'].append(entry)
    if rates is not None:
        price = dict((name, Fraction(rates[name]) if rates.get(name) is not None else Fraction(0)) for name in RATE_NAMES)
        chosen = BASIS[basis]
        cost = dict(cpu=Fraction(0), ram=Fraction(0), gpu=Fraction(0), vgpu=Fraction(0), ip=Fraction(0))
        tiers = dict(('tier%d' % tier, Fraction(0)) for tier in TIERS)
        for truth, weight in zip(members, weights):
            hours = weight / 3600
            cores = Fraction(truth['core_count'] * truth['total_cpu'], 100) if chosen['cpu'] == 'used_cores' else truth['core_count']
            cost['cpu'] += cores * price['core_hour'] * hours
            cost['ram'] += Fraction(truth[chosen['ram']], 1024) * price['ram_gb_hour'] * hours
            cost['gpu'] += truth[chosen['gpu']] * price['gpu_hour'] * hours
            cost['vgpu'] += truth[chosen['vgpu']] * price['vgpu_hour'] * hours
            cost['ip'] += truth['ip_count'] * price['ip_hour'] * hours
            for tier in TIERS:
                tiers['tier%d' % tier] += Fraction(truth[chosen['tier'] % tier], GIB) * price['tier%d_gb_hour' % tier] * hours
        cost['storage'] = sum(tiers.values(), Fraction(0))
        cost['total'] = cost['cpu'] + cost['ram'] + cost['storage'] + cost['gpu'] + cost['vgpu'] + cost['ip']
        cost['tiers'] = tiers
        cost['currency'] = rates.get('currency') or ''
        cost['basis'] = basis
        out['cost'] = cost
    return out


def ref_day(epoch, zone):
    """(label, start, end) of the local day holding ``epoch``: a walk over the zone's offsets, hour by hour."""
    local = datetime.fromtimestamp(epoch, zone).date()

    def first_second(day):
        guess = int(datetime(day.year, day.month, day.day, tzinfo=timezone.utc).timestamp()) - 15 * 3600
        while datetime.fromtimestamp(guess, zone).date() < day:
            guess += 60
        while datetime.fromtimestamp(guess - 1, zone).date() >= day:
            guess -= 1
        return guess

    return local.isoformat(), first_second(local), first_second(local + timedelta(days=1))


def reference(rows, max_gap=None, rates=None, basis='allocated', zone=None):
    truths = sorted((truth for _raw, truth in rows), key=lambda t: (t['timestamp'], t['key']))
    weights, med, cap = ref_weights([t['timestamp'] for t in truths], max_gap)
    out = ref_group(truths, weights, rates, basis, zone)
    out['median_gap'] = med
    out['max_gap'] = cap
    if zone is not None:
        buckets = {}
        for truth, weight in zip(truths, weights):
            label, start, end = ref_day(truth['timestamp'], zone)
            buckets.setdefault((start, end, label), []).append((truth, weight))
        out['periods'] = []
        for (start, end, label), members in sorted(buckets.items()):
            period = dict(period=label, start=datetime.fromtimestamp(start, zone).isoformat(),
                          end=datetime.fromtimestamp(end, zone).isoformat())
            period.update(ref_group([m[0] for m in members], [m[1] for m in members], rates, basis, zone))
            out['periods'].append(period)
    return out


def assert_matches(actual, expected, path='summary'):
    if isinstance(expected, dict):
        assert isinstance(actual, dict), path
        assert sorted(actual) == sorted(expected), (path, sorted(set(actual) ^ set(expected)))
        for name in expected:
            assert_matches(actual[name], expected[name], '%s.%s' % (path, name))
    elif isinstance(expected, list):
        assert isinstance(actual, list) and len(actual) == len(expected), path
        for index, (got, want) in enumerate(zip(actual, expected)):
            assert_matches(got, want, '%s[%d]' % (path, index))
    elif isinstance(expected, Fraction):
        assert isinstance(actual, (int, float)) and not isinstance(actual, bool), (path, actual)
        assert math.isclose(actual, float(expected), rel_tol=1e-9, abs_tol=1e-9), (path, actual, float(expected))
    else:
        assert actual == expected, (path, actual, expected)


def ours(rows, **kwargs):
    samples = []
    for raw, _truth in rows:
        sample = convert_sample(raw, ConversionProblems(), SUMMARY_FIELDS)
        levels = sample_levels(raw, kwargs.get('basis', 'allocated'), Anomalies(), sample['key'])
        samples.append((sample['timestamp_epoch'], sample['key'], sample_figures(sample), levels))
    return summarize_samples(samples, **kwargs)


# ---------------------------------------------------------------------------------------------------------------
# Properties

rate_cards = st.none() | st.fixed_dictionaries({}, optional=dict(
    [(name, st.floats(0, 5, allow_nan=False, allow_infinity=False)) for name in RATE_NAMES]
    + [('currency', st.sampled_from(['EUR', 'USD']))]))


@EXAMPLES
@given(rows=tenant_samples(max_samples=14), max_gap=st.none() | st.integers(1, 200000), rates=rate_cards,
       basis=st.sampled_from(sorted(BASIS)))
def test_summary_and_cost_equal_the_reference(rows, max_gap, rates, basis):
    clean = validate_tenant_rates(rates)
    expected = reference(rows, max_gap, rates, basis)
    assert_matches(ours(rows, max_gap=max_gap, rates=clean, basis=basis), expected)


@settings(max_examples=60, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=tenant_samples(max_samples=10), zone_name=st.sampled_from(['UTC', 'Europe/Berlin', 'America/New_York', 'Asia/Kolkata']),
       rates=rate_cards)
def test_periods_per_local_day_equal_the_reference(rows, zone_name, rates):
    from zoneinfo import ZoneInfo
    zone = timezone.utc if zone_name == 'UTC' else ZoneInfo(zone_name)
    expected = reference(rows, None, rates, 'used', zone)
    assert_matches(ours(rows, group_by='day', zone=zone, rates=validate_tenant_rates(rates), basis='used'), expected)


def test_a_stopped_day_is_not_billed():
    """Hourly samples with a day missing: the sample before the gap stands for 2 hours (twice the median), not 25."""
    stamps = [3600 * hour for hour in range(48)] + [3600 * hour for hour in range(72, 96)]
    weights, middle, cap = sample_weights(stamps)
    assert middle == 3600 and cap == 7200
    assert weights[47] == 7200 and weights[-1] == 3600
    assert sum(weights) / 3600 == 47 + 2 + 23 + 1


def test_one_sample_weighs_nothing_and_means_are_plain():
    row = {'$key': 1, 'tenant': 3, 'timestamp': 1790000000, 'core_count': 8, 'total_cpu': 50, 'ip_count': 2}
    summary = ours([(row, None)], rates=validate_tenant_rates({'core_hour': 1}))
    assert summary['sample_count'] == 1 and summary['hours'] == 0
    assert summary['avg_cores'] == summary['twa_cores'] == summary['peak_cores'] == summary['p95_cores'] == 8
    assert summary['twa_used_cores'] == 4.0
    assert summary['cost']['total'] == 0 and summary['median_gap'] is None and summary['max_gap'] is None
    assert summary['period_start'] == summary['period_end'] == iso(1790000000)


def test_no_samples():
    summary = ours([])
    assert summary['sample_count'] == 0 and summary['period_start'] is None and summary['hours'] == 0
    assert summary['avg_cores'] == 0 and summary['p95_ip_count'] == 0


def test_median_and_p95_by_hand():
    assert median([5, 1, 3]) == 3 and median([4, 1, 3, 2]) == 2.5 and median([]) is None
    assert p95(list(range(1, 21))) == 19 and p95(list(range(1, 101))) == 95 and p95([7]) == 7


# ---------------------------------------------------------------------------------------------------------------
# Records: the reference SDK's TenantStatsHistory on the same raw row


def sdk_value(obj, name):
    value = getattr(obj, name)
    return value.isoformat() if isinstance(value, datetime) else value


@EXAMPLES
@given(data=st.data())
def test_record_properties_equal_the_sdk_where_it_can_read_them(data):
    """Every property the SDK has, on rows it can read (no nulls, no "37.5"): same value, same type."""
    raw = {'$key': data.draw(st.integers(1, 10 ** 9)), 'tenant': data.draw(st.integers(1, 500)),
           'timestamp': data.draw(st.integers(0, 2 ** 33))}
    for name in COUNTERS:
        form = data.draw(st.sampled_from(['int', 'str', 'float', 'missing']))
        number = data.draw(st.integers(0, 10 ** 13))
        if form != 'missing':
            raw[name] = {'int': number, 'str': str(number), 'float': number + 0.5}[form]
    mine = convert_sample(raw)
    theirs = TenantStatsHistory(raw, None)
    sdk_names = [name for name in dir(TenantStatsHistory) if isinstance(getattr(TenantStatsHistory, name), property)
                 and name not in ('is_modified', 'modified_fields')]
    assert len(sdk_names) == 44
    for name in sdk_names:
        expected = sdk_value(theirs, name)
        assert mine[name] == expected and type(mine[name]) is type(expected), name


def test_nulls_strings_and_junk_do_not_crash():
    problems = ConversionProblems()
    raw = dict((name, None) for name in RAW_FIELDS)
    raw.update(core_count='16', total_cpu='37.5', ram_used='n/a', tier1_used=12.9)
    sample = convert_sample(raw, problems)
    assert sample['core_count'] == 16 and sample['total_cpu'] == 37 and sample['ram_used_mb'] == 0
    assert sample['tier1_used'] == 12 and sample['timestamp'] is None and sample['timestamp_epoch'] == 0
    assert problems == ["ram_used='n/a'"]
    assert convert_sample({}) == convert_sample(dict((name, None) for name in RAW_FIELDS))


def test_units():
    sample = convert_sample({'ram_used': 1536, 'ram_allocated': 4096, 'vram_used': 512, 'tier2_used': 3 * GIB,
                             'tier2_allocated': GIB // 2, 'tier0_provisioned': 10 * GIB, 'tier5_provisioned': GIB})
    assert sample['ram_used_gb'] == 1.5 and sample['ram_allocated_gb'] == 4.0 and sample['vram_used_gb'] == 0.5
    assert sample['tier2_used_gb'] == 3.0 and sample['tier2_allocated_gb'] == 0.5
    assert sample['total_storage_provisioned'] == 11 * GIB and sample['total_storage_provisioned_gb'] == 11.0
    assert sample['total_storage_used_gb'] == 3.0


def test_documented_record_keys_are_the_output():
    documented = yaml.safe_load(RETURN)['tenants']['contains']['records']['contains']
    assert sorted(documented) == sorted(output_names())


def test_documented_summary_keys_are_the_output():
    documented = yaml.safe_load(RETURN)['tenants']['contains']['summary']['contains']
    summary = ours([], rates=validate_tenant_rates({}), group_by='day')
    assert sorted(documented) == sorted(summary)


def test_fields_table_is_the_sdk_field_list():
    from pyvergeos.resources.tenant_stats import TenantStatsManager
    assert list(RAW_FIELDS) == TenantStatsManager._history_fields  # pylint: disable=protected-access
    assert len(FIELDS) == len(set(name for name, _raw, _kind in FIELDS))
    assert len(COLUMNS) == 12 + 18


@pytest.mark.parametrize('rates, message', [
    ({'ip_hour': -1}, 'rates.ip_hour must be a finite number of 0 or more'),
    ({'ip_hour': 'x'}, 'rates.ip_hour must be a number'),
    ({'ip_hour': True}, 'rates.ip_hour must be a number'),
    ({'cpu_hour': 1}, 'unknown key(s) cpu_hour'),
    ({'core_hour': float('nan')}, 'rates.core_hour must be a finite number'),
    ('cheap', 'rates must be a dict'),
])
def test_bad_rates(rates, message):
    with pytest.raises(ValueError, match=message.replace('(', r'\(').replace(')', r'\)')):
        validate_tenant_rates(rates)


def test_rates_clean():
    clean = validate_tenant_rates({'core_hour': 0.02, 'ip_hour': '0.5', 'currency': 'EUR'})
    assert clean['ip_hour'] == 0.5 and clean['core_hour'] == 0.02 and clean['ram_gb_hour'] == 0.0 and clean['currency'] == 'EUR'
    assert validate_tenant_rates(None) is None


def test_shape_sorts_by_name_then_key():
    out = shape([(3, 'b'), (1, 'c'), (2, 'a'), (9, 'a')], 'latest', {1: None, 2: {'x': 1}, 3: None, 9: None})
    assert [(t['name'], t['key']) for t in out] == [('a', 2), ('a', 9), ('b', 3), ('c', 1)]
    assert out[0]['record'] == {'x': 1} and 'summary' not in out[0]


def test_day_reference_walks_dst():
    """The reference's day walk itself: Europe/Berlin's 2026-03-29 has 23 hours."""
    from zoneinfo import ZoneInfo
    label, start, end = ref_day(int(datetime(2026, 3, 29, 12, tzinfo=timezone.utc).timestamp()), ZoneInfo('Europe/Berlin'))
    assert label == '2026-03-29' and end - start == 23 * 3600
    assert date.fromisoformat(label).weekday() == 6


def test_negative_null_and_missing_counters_cost_nothing_and_are_said():
    """-4 cores for two hours would lower the bill; they count as 0, and one message says how many samples, which fields
    and the first keys."""
    rows = []
    for hour in range(4):
        raw = dict((field, 0) for field in RAW_FIELDS)  # every field sent, as the API does when asked for them
        raw.update({'$key': 100 + hour, 'tenant': 3, 'timestamp': 1790000000 + 3600 * hour, 'core_count': 8, 'ram_allocated': 2048, 'ip_count': 1})
        rows.append(raw)
    rows[0]['core_count'] = -4
    rows[1]['core_count'] = '-4'
    rows[2]['ram_allocated'] = None
    del rows[3]['ip_count']
    anomalies = Anomalies()
    samples = []
    for raw in rows:
        sample = convert_sample(raw, ConversionProblems(), SUMMARY_FIELDS)
        samples.append((sample['timestamp_epoch'], sample['key'], sample_figures(sample), sample_levels(raw, 'allocated', anomalies, sample['key'])))
    card = validate_tenant_rates({'core_hour': 1, 'ram_gb_hour': 1, 'ip_hour': 1})
    cost = summarize_samples(samples, rates=card)['cost']
    # every sample weighs an hour: cores 0 + 0 + 8 + 8, RAM 2 + 2 + 0 + 2 GB, IPs 1 + 1 + 1 + 0
    assert cost['cpu'] == 16 and cost['ram'] == 6 and cost['ip'] == 3 and cost['total'] == 25
    messages = anomalies.messages()
    assert messages[0] == '2 row(s) had negative values, each counted as 0 (core_count): sample 100, sample 101'
    assert messages[1] == '2 row(s) had null or missing values, each counted as 0 (ip_count, ram_allocated): sample 102, sample 103'
