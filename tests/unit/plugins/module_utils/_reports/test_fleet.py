# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vergeio.billing contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The fleet consolidation (module_utils/_reports/fleet.py and fleet_render.py).

Totals are checked against sums written here with Fraction (exact), over random fleets (hypothesis): any mix of
systems that reported, failed, with and without costs, in one or two currencies. Shown amounts are checked against a
half-up rounding written here with Fraction (not the rating engine's ``money``).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import csv
import hashlib
import io
import json
import math
import os
import re
import stat
import subprocess
import sys
import tempfile
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ansible_collections.vergeio.billing.plugins.module_utils._reports.fleet import (
    FleetError, artifact_key, artifact_warnings, consolidate, load_reports, outcomes_from, plural, render_csv, render_json, with_periods, write_reports,
)
from ansible_collections.vergeio.billing.plugins.module_utils._reports.fleet_render import render_html, render_markdown

PERIOD = dict(label='2026-10', month='2026-10', since='2026-10-01T00:00:00+00:00', until='2026-10-31T23:59:59+00:00',
              since_epoch=1790812800, until_epoch=1793491199, timezone='UTC')
SUMS = ('hours', 'twa_cpu_cores', 'twa_ram_gb', 'twa_storage_used_gb', 'twa_gpus_used', 'twa_vgpus_used')
COUNTS = ('record_count', 'total_gpus', 'total_vgpus')
PARTS = ('cpu', 'ram', 'storage', 'gpu', 'vgpu', 'total')

money = st.floats(min_value=0, max_value=1e9, allow_nan=False, allow_infinity=False)
figure = st.floats(min_value=0, max_value=1e7, allow_nan=False, allow_infinity=False)


@st.composite
def summaries(draw):
    summary = dict((key, draw(figure)) for key in SUMS)
    summary.update((key, draw(st.integers(min_value=0, max_value=10 ** 6))) for key in COUNTS)
    summary.update(peak_cpu_cores=draw(st.integers(0, 500)), period_start=PERIOD['since'], period_end=PERIOD['until'])
    summary['tiers'] = [dict(tier=tier, twa_used_gb=draw(figure), total_gb=draw(figure)) for tier in range(6)]
    if draw(st.booleans()):
        cost = dict((part, draw(money)) for part in ('cpu', 'ram', 'gpu', 'vgpu'))
        cost['tiers'] = dict(('tier%d' % tier, draw(money)) for tier in range(6))
        cost['storage'] = math.fsum(cost['tiers'].values())
        cost['total'] = math.fsum([cost['cpu'], cost['ram'], cost['storage'], cost['gpu'], cost['vgpu']])
        cost['currency'] = draw(st.sampled_from(['EUR', 'USD']))
        summary['cost'] = cost
    summary['periods'] = [dict(period='2026-10-%02d' % day, start='2026-10-%02dT00:00:00+00:00' % day, twa_cpu_cores=draw(figure),
                               twa_ram_gb=1.0, twa_storage_used_gb=2.0, twa_gpus_used=0.0, twa_vgpus_used=0.0) for day in (1, 2)]
    return summary


@st.composite
def fleets(draw):
    count = draw(st.integers(min_value=1, max_value=8))
    outcomes = []
    for number in range(count):
        if draw(st.integers(0, 4)) == 0:
            outcomes.append(dict(name='sys-%d' % number, ok=False, error='HTTP 401 <b>denied</b>', period=None, summary=None, files={}))
        else:
            outcomes.append(dict(name='sys-%d' % number, ok=True, error=None, period=PERIOD, summary=draw(summaries()), files={}))
    return draw(st.permutations(outcomes))


def exact(values):
    return float(sum((Fraction(v) for v in values), Fraction(0)))


def half_up(value):
    """An amount as a person rounds it by hand: its shortest decimal form, to cents, halves away from zero (>= 0 here)."""
    return Fraction(math.floor(Fraction(repr(float(value))) * 100 + Fraction(1, 2)), 100)


def shown_parts(cost):
    """The test's own shown amounts of a system: each priced part rounded, storage and total the sums of those."""
    parts = dict((part, half_up(cost[part])) for part in ('cpu', 'ram', 'gpu', 'vgpu'))
    parts.update(('tier%d' % tier, half_up(cost['tiers']['tier%d' % tier])) for tier in range(6))
    parts['storage'] = sum(parts['tier%d' % tier] for tier in range(6))
    parts['total'] = parts['cpu'] + parts['ram'] + parts['storage'] + parts['gpu'] + parts['vgpu']
    return parts


def cents(value):
    """A Fraction of whole cents as the reports print it: 1,234.50."""
    value = Fraction(value)
    assert (value * 100).denominator == 1
    whole, cent = divmod(value.numerator * 100 // value.denominator, 100)
    return '{:,}.{:02d}'.format(whole, cent)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(fleets())
def test_totals_are_the_sums_over_the_systems_that_reported(outcomes):
    fleet = consolidate(outcomes_from(outcomes), name='f')
    ok = [o for o in outcomes if o['ok']]
    totals = fleet['totals']
    assert (totals['systems'], totals['reported'], totals['failed']) == (len(outcomes), len(ok), len(outcomes) - len(ok))
    assert fleet['failed'] == sorted(o['name'] for o in outcomes if not o['ok'])
    assert [s['name'] for s in fleet['systems']] == sorted(o['name'] for o in outcomes)
    for key in COUNTS:
        assert totals[key] == sum(o['summary'][key] for o in ok)
    for key in SUMS:
        assert totals[key] == exact(o['summary'][key] for o in ok)  # fsum is correctly rounded: equal to the exact sum
    for tier in range(6):
        assert totals['tiers'][tier]['twa_used_gb'] == exact(o['summary']['tiers'][tier]['twa_used_gb'] for o in ok)
    currencies = sorted(set(o['summary']['cost']['currency'] for o in ok if 'cost' in o['summary']))
    assert sorted(totals['cost_by_currency']) == currencies
    for currency in currencies:
        costs = [o['summary']['cost'] for o in ok if o['summary'].get('cost', {}).get('currency') == currency]
        entry = totals['cost_by_currency'][currency]
        assert entry['systems'] == len(costs)
        for part in PARTS:
            assert entry[part] == exact(c[part] for c in costs), part
        assert entry['tiers']['tier3'] == exact(c['tiers']['tier3'] for c in costs)
    assert totals['cost'] == (totals['cost_by_currency'][currencies[0]] if len(currencies) == 1 else None)

    # CSV: a row per system, then one total row per currency (one without costs), with the same sums. Every row shows
    # the period of the report. Costs are shown rounded to cents, and a currency's column adds up to its total row.
    rows = list(csv.DictReader(io.StringIO(render_csv(fleet), newline='')))
    systems, total_rows = rows[:len(outcomes)], rows[len(outcomes):]
    assert [row['status'] for row in systems] == ['ok' if s['ok'] else 'failed' for s in fleet['systems']]
    assert len(total_rows) == max(len(currencies), 1) and all(row['status'] == 'total' for row in total_rows)
    by_name = dict((o['name'], o) for o in outcomes)
    for row in systems:
        outcome = by_name[row['system']]
        if outcome['ok']:
            assert (row['period_start'], row['period_end']) == (PERIOD['since'], PERIOD['until'])
        if outcome['ok'] and 'cost' in outcome['summary']:
            parts = shown_parts(outcome['summary']['cost'])
            for part, value in parts.items():
                assert Fraction(row['cost_' + part]) == value and re.match(r'^\d+\.\d\d$', row['cost_' + part]), (part, row)
        elif currencies:  # a failed system, or one without a rate card: no cost
            assert row['cost_total'] == '' and row['currency'] == ''
    for row in total_rows:
        assert row['system'] == 'fleet total (%s)' % plural(len(ok), 'system')
        assert (row['period_start'], row['period_end']) == ((PERIOD['since'], PERIOD['until']) if ok else ('', ''))
        assert int(row['record_count']) == totals['record_count'] and float(row['hours']) == totals['hours']
        assert row['peak_cpu_cores'] == ''
        if currencies:
            mine = [r for r in systems if r['currency'] == row['currency']]
            for part in PARTS + ('storage', 'tier3'):
                assert Fraction(row['cost_' + part]) == sum(Fraction(r['cost_' + part]) for r in mine), part
            assert Fraction(row['cost_total']) == sum(shown_parts(o['summary']['cost'])['total'] for o in ok
                                                      if o['summary'].get('cost', {}).get('currency') == row['currency'])

    # JSON: the same totals, the summaries without their per-period breakdown.
    data = json.loads(render_json(fleet))
    assert data['totals'] == json.loads(json.dumps(totals))
    assert all('periods' not in (s['summary'] or {}) for s in data['systems'])

    # Markdown and HTML: the plural agrees with the count; names and errors are never markup; the fleet total shown is
    # the sum of the system totals shown, and each cost table's lines add up to its total.
    markdown, html = render_markdown(fleet), render_html(fleet)
    for currency in currencies:
        mine = [shown_parts(o['summary']['cost']) for o in ok if o['summary'].get('cost', {}).get('currency') == currency]
        fleet_total = sum(parts['total'] for parts in mine)
        assert '%s %s' % (cents(fleet_total), currency) in html
        assert '| **Total** | %s |' % cents(fleet_total) in markdown
        lines = [sum(parts[part] for parts in mine) for part in ('cpu', 'ram', 'gpu', 'vgpu')]
        lines += [sum(parts['tier%d' % tier] for parts in mine) for tier in range(6)]
        assert sum(lines) == fleet_total
        for parts in mine:
            assert '| %s %s |' % (cents(parts['total']), currency) in markdown
    if len(currencies) == 1:
        assert '**%s %s**' % (cents(sum(shown_parts(o['summary']['cost'])['total'] for o in ok if 'cost' in o['summary'])),
                              currencies[0]) in markdown
    assert '**Fleet total (%s)**' % plural(len(ok), 'system') in markdown
    assert 'Fleet total (%s)' % plural(len(ok), 'system') in html
    assert '<b>denied</b>' not in html and '<b>denied</b>' not in markdown
    assert '1 systems' not in html and '1 systems' not in markdown


def test_plural():
    assert [plural(n, 'system') for n in (0, 1, 2, 11)] == ['0 systems', '1 system', '2 systems', '11 systems']


def test_names_must_be_unique_and_outcomes_well_formed():
    with pytest.raises(FleetError, match='more than one outcome for: a'):
        consolidate(outcomes_from([dict(name='a', summary={}), dict(name='a', summary={})]))
    with pytest.raises(FleetError, match=r'systems\[0\] has no name'):
        outcomes_from([dict(ok=True)])
    with pytest.raises(FleetError, match='systems must be a list'):
        outcomes_from('a')
    # The artifacts: a dict of any keys to outcomes.
    assert [o['name'] for o in outcomes_from(dict(b=dict(name='x', ok=False, error='e'), a=dict(name='y', summary={})))] == ['y', 'x']


def report_file(directory, name, label='2026-10', summary=None, **extra):
    data = dict(generator='vergeio.billing.verge_billing_report', layout=1, name=name, period=dict(PERIOD, label=label),
                summary=summary or dict(record_count=3, hours=3.0, twa_cpu_cores=1.5), record_count=3, records=[])
    data.update(extra)
    path = os.path.join(str(directory), '%s-%s.json' % (name, label))
    with open(path, 'w', encoding='utf-8') as handle:
        json.dump(data, handle)
    return path


def test_load_reports_takes_per_system_reports_of_the_period(tmp_path):
    report_file(tmp_path, 'east')
    report_file(tmp_path, 'west')
    report_file(tmp_path, 'west', label='2026-09')
    (tmp_path / 'west-2026-10.csv').write_text('x')
    (tmp_path / 'fleet-2026-10.json').write_text(json.dumps(dict(generator='vergeio.billing.verge_billing_fleet_report', systems=[], totals={})))
    (tmp_path / 'other.json').write_text('[1, 2]')
    (tmp_path / 'sub').mkdir()
    report_file(tmp_path / 'sub', 'north')
    outcomes, not_systems, warnings = load_reports(str(tmp_path), '2026-10')
    assert [o['name'] for o in outcomes] == ['east', 'west'] and warnings == []
    assert outcomes[1]['files'] == dict(csv=str(tmp_path / 'west-2026-10.csv'), json=str(tmp_path / 'west-2026-10.json'))
    reasons = ['a fleet report', 'not a report of vergeio.billing (an array)', 'period 2026-09, not 2026-10']
    assert sorted(item['reason'] for item in not_systems) == reasons
    # Without a label the directory holds two periods: refused, naming both periods and a file of each.
    with pytest.raises(FleetError) as info:
        load_reports(str(tmp_path))
    assert 'more than one period: 2026-09 (%s) and 2026-10 (%s)' % (tmp_path / 'west-2026-09.json', tmp_path / 'east-2026-10.json') in str(info.value)


def test_a_damaged_report_fails_naming_the_file(tmp_path):
    report_file(tmp_path, 'east')
    (tmp_path / 'west-2026-10.json').write_text('{"name": "west", "summ')
    with pytest.raises(FleetError, match='west-2026-10.json is not a readable JSON report'):
        load_reports(str(tmp_path))
    with pytest.raises(FleetError, match='cannot be read'):
        load_reports(str(tmp_path / 'missing'))


def test_outcome_without_periods_takes_the_summary_of_its_json_report(tmp_path):
    full = dict(record_count=3, hours=3.0, periods=[dict(period='2026-10-01')])
    path = report_file(tmp_path, 'east', summary=full)
    outcome = outcomes_from([dict(name='east', ok=True, summary=dict(record_count=3), files=dict(json=path))])[0]
    assert with_periods(outcome)['summary'] == full
    other = outcomes_from([dict(name='west', ok=True, summary=dict(record_count=3), files=dict(json=path))])[0]
    assert with_periods(other)['summary'] == dict(record_count=3)  # another system's file is not taken
    gone = outcomes_from([dict(name='east', ok=True, summary=dict(record_count=3), files=dict(json=str(tmp_path / 'nope.json')))])[0]
    assert with_periods(gone)['summary'] == dict(record_count=3)


def test_write_reports_is_idempotent_and_check_mode_writes_nothing(tmp_path):
    dest = tmp_path / 'out'
    contents = dict(csv=b'a,b\r\n', json=b'{}\n')
    files, digests, changed, _removed = write_reports(str(dest), 'fleet-2026-10', contents, 0o640, check_mode=True)
    assert sorted(changed) == ['csv', 'json'] and not dest.exists()
    files, digests, changed, _removed = write_reports(str(dest), 'fleet-2026-10', contents, 0o640, check_mode=False)
    assert sorted(changed) == ['csv', 'json'] and (dest / 'fleet-2026-10.csv').read_bytes() == b'a,b\r\n'
    assert oct(os.stat(files['json']).st_mode & 0o777) == oct(0o640)
    assert sorted(os.listdir(str(dest))) == ['.vergeio-billing', 'fleet-2026-10.csv', 'fleet-2026-10.json']  # no temporary file left
    assert os.listdir(str(dest / '.vergeio-billing')) == ['fleet-2026-10.owner']  # the claim of the stem
    assert write_reports(str(dest), 'fleet-2026-10', contents, 0o640, check_mode=False)[2] == {}
    assert write_reports(str(dest), 'fleet-2026-10', dict(contents, csv=b'c\r\n'), 0o640, check_mode=True)[2] == dict(csv=files['csv'])
    assert digests == dict((fmt, hashlib.sha256(data).hexdigest()) for fmt, data in contents.items())


def test_mixed_periods_get_a_span_label():
    early = dict(PERIOD, label='a', since_epoch=100, until_epoch=200)
    late = dict(PERIOD, label='b', since_epoch=150, until_epoch=300)
    fleet = consolidate(outcomes_from([dict(name='x', summary={}, period=early), dict(name='y', summary={}, period=late)]))
    assert fleet['period']['label'] == '19700101T000140Z_19700101T000500Z' and fleet['period']['mixed'] == ['a', 'b']
    assert fleet['period']['timezone'] == 'UTC' and fleet['period']['month'] is None
    assert 'Period 1970-01-01 00:01:40 +00:00 to 1970-01-01 00:05:00 +00:00 (inclusive, UTC)' in render_markdown(fleet)
    berlin = dict(late, timezone='Europe/Berlin')
    mixed = consolidate(outcomes_from([dict(name='x', summary={}, period=early), dict(name='y', summary={}, period=berlin)]))
    assert mixed['period']['timezone'] is None and '(inclusive). 2 systems.' in render_html(mixed)
    nothing = consolidate(outcomes_from([dict(name='x', ok=False, error='down')]))  # no period at all
    assert nothing['period']['label'] == 'mixed' and 'x' in render_html(nothing) and '**x**: down' in render_markdown(nothing)
    assert consolidate(outcomes_from([dict(name='x', summary={}, period=early)]), label='custom')['period']['label'] == 'custom'


# ---- from a directory: what is not a system, what is refused -------------------------------------------------------

COST = dict(cpu=10.0, ram=5.0, storage=2.5, gpu=0.0, vgpu=0.0, total=17.5, currency='EUR',
            tiers=dict(tier0=0.0, tier1=2.5, tier2=0.0, tier3=0.0, tier4=0.0, tier5=0.0))


def tenant_file(directory, system, tenant, key, label='2026-10'):
    """A tenant report and the overview as verge_billing_report writes them beside the system's report."""
    data = dict(generator='vergeio.billing.verge_billing_report', layout=1, kind='tenant', name=system, tenant=dict(key=key, name=tenant),
                period=dict(PERIOD, label=label), summary=dict(sample_count=3, hours=3.0), sample_count=3, record_fields=[], records=[])
    (directory / ('%s-%s-%s.json' % (system, tenant, label))).write_text(json.dumps(data))
    overview = dict(generator='vergeio.billing.verge_billing_report', layout=1, kind='tenants', name=system, period=dict(PERIOD, label=label),
                    tenants=[dict(tenant=tenant, tenant_key=key)], totals={})
    (directory / ('%s-tenants-%s.json' % (system, label))).write_text(json.dumps(overview))


def test_tenant_reports_and_overviews_are_listed_not_consolidated(tmp_path):
    report_file(tmp_path, 'verge-east', summary=dict(record_count=3, hours=3.0, cost=COST))
    tenant_file(tmp_path, 'verge-east', 'acme', 7)
    outcomes, not_systems, warnings = load_reports(str(tmp_path))
    assert [o['name'] for o in outcomes] == ['verge-east'] and warnings == []
    assert sorted((os.path.basename(item['path']), item['reason']) for item in not_systems) == [
        ('verge-east-acme-2026-10.json', 'a tenant report (tenant acme of system verge-east)'),
        ('verge-east-tenants-2026-10.json', 'a tenants overview (system verge-east)')]
    assert consolidate(outcomes)['totals']['cost']['total'] == 17.5  # the tenant's figures are not added to the system's

    only = tmp_path / 'tenants-only'
    only.mkdir()
    tenant_file(only, 'verge-east', 'acme', 7)  # a tenants_only run: no system report at all
    outcomes, not_systems, _warnings = load_reports(str(only))
    assert outcomes == [] and len(not_systems) == 2


def hostile(directory, name, change, text=None):
    """A system report of ``name`` changed by ``change(data)`` (or replaced by ``text``); its path."""
    path = report_file(directory, name, summary=dict(record_count=3, hours=3.0, twa_cpu_cores=1.5, cost=dict(COST, tiers=dict(COST['tiers']))))
    with open(path, encoding='utf-8') as handle:
        data = json.load(handle)
    change(data)
    with open(path, 'w', encoding='utf-8') as handle:
        handle.write(text if text is not None else json.dumps(data, allow_nan=True))
    return path


def set_key(dotted, value):
    def change(data):
        *parents, last = dotted.split('.')
        target = data
        for part in parents:
            target = target[part]
        target[last] = value
    return change


@pytest.mark.parametrize('dotted, value, words', [
    ('summary.cost.total', float('nan'), 'summary.cost.total is NaN, not a finite number'),
    ('summary.cost.total', float('inf'), 'summary.cost.total is Infinity, not a finite number'),
    ('summary.cost.tiers.tier1', float('-inf'), 'summary.cost.tiers.tier1 is -Infinity, not a finite number'),
    ('summary.twa_cpu_cores', float('nan'), 'summary.twa_cpu_cores is NaN'),
    ('summary.avg_cpu_utilization', float('nan'), 'summary.avg_cpu_utilization is not a finite number'),  # not summed, still damage
    ('period.since_epoch', float('nan'), 'period.since_epoch must be a whole number (Unix seconds), got NaN'),
    ('summary.cost.cpu', -55.6, 'summary.cost.cpu is negative (-55.6)'),
    ('summary.hours', -1, 'summary.hours is negative (-1)'),
    ('summary.hours', dict(value=3), 'summary.hours must be a number, got an object'),
    ('summary.record_count', '3', "summary.record_count must be a number, got a string ('3')"),
    ('summary.record_count', 2.5, 'summary.record_count must be a whole number, got 2.5'),
    ('summary.cost.total', None, 'summary.cost.total must be a number, got null'),
    ('summary.cost.total', True, 'summary.cost.total must be a number, got a boolean (true)'),
    ('summary.cost.total', 99.0, 'summary.cost.total (99.0) is not the sum of the cost parts'),
    ('summary.cost', [1, 2], 'summary.cost must be an object, got an array'),
    ('summary.cost.currency', 5, 'summary.cost.currency must be a text, got a number (5)'),
    ('summary.tiers', [dict(tier=1, twa_used_gb='x')], "summary.tiers[0].twa_used_gb must be a number, got a string ('x')"),
    ('summary.periods', [dict(start='2026-10-01T00:00:00+00:00', twa_ram_gb=float('nan'))], 'summary.periods[0].twa_ram_gb is NaN'),
    ('summary', 'none', "summary must be an object, got a string ('none')"),
    ('period', None, 'period must be an object, got null'),
    ('period.label', 7, 'period.label must be a text, got a number (7)'),
    ('name', 7, 'name must be the name of the system (a text), got a number (7)'),
])
def test_a_report_of_another_shape_is_refused_naming_the_file_and_key(tmp_path, dotted, value, words):
    report_file(tmp_path, 'a-good-one')
    path = hostile(tmp_path, 'verge-west', set_key(dotted, value))
    with pytest.raises(FleetError) as info:
        load_reports(str(tmp_path))
    assert str(info.value).startswith('from_dir: %s: ' % path) and words in str(info.value), str(info.value)


@pytest.mark.parametrize('token', ['NaN', 'Infinity', '-Infinity', '1e999'])
def test_non_finite_json_numbers_are_caught_as_written(tmp_path, token):
    """Python's json reads these as floats; the report must be refused, not summed into nan or inf."""
    path = hostile(tmp_path, 'verge-west', lambda data: None)
    with open(path, encoding='utf-8') as handle:
        text = handle.read()
    assert '"total": 17.5' in text
    with open(path, 'w', encoding='utf-8') as handle:
        handle.write(text.replace('"total": 17.5', '"total": %s' % token))
    with pytest.raises(FleetError, match=r'%s: summary\.cost\.total is .*not a finite number' % re.escape(path)):
        load_reports(str(tmp_path))


def test_a_missing_summary_is_refused_and_other_json_is_listed(tmp_path):
    path = hostile(tmp_path, 'verge-west', lambda data: data.pop('summary'))
    with pytest.raises(FleetError, match='%s: summary is missing' % re.escape(path)):
        load_reports(str(tmp_path))
    os.unlink(path)
    (tmp_path / 'package.json').write_text(json.dumps(dict(name='x', version='1')))  # not a report of this collection
    (tmp_path / 'list.json').write_text('[1]')
    (tmp_path / 'other-kind.json').write_text(json.dumps(dict(generator='vergeio.billing.verge_billing_report', kind='focus', name='x')))
    outcomes, not_systems, warnings = load_reports(str(tmp_path))
    assert outcomes == [] and warnings == []
    assert sorted(item['reason'] for item in not_systems) == [
        'a report of kind focus, not a system report', 'not a report of vergeio.billing (an array)',
        'not a report of vergeio.billing (no name and summary)']


def test_two_reports_of_one_system_name_both_files(tmp_path):
    first = report_file(tmp_path, 'east')
    second = str(tmp_path / 'east-copy.json')
    with open(first, encoding='utf-8') as source, open(second, 'w', encoding='utf-8') as copy:
        copy.write(source.read())
    with pytest.raises(FleetError) as info:
        load_reports(str(tmp_path), '2026-10')
    assert str(info.value) == 'from_dir: %s and %s are both reports of system east for 2026-10; remove one of them' % (first, second)


def unprivileged(function, *args):
    """``function(*args)`` as a user who cannot read a mode-000 file: this user, or, for root (which reads anything),
    a forked child that has become ``nobody``. Returns the result, or the FleetError message."""
    if os.geteuid() != 0:
        try:
            return function(*args)
        except FleetError as exc:
            return str(exc)
    reader, writer = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: drop to nobody, run, send the answer back, and leave without pytest's clean-up
        os.close(reader)
        try:
            os.setgroups([])
            os.setgid(65534)
            os.setuid(65534)
            try:
                answer = function(*args)
            except FleetError as exc:
                answer = str(exc)
            os.write(writer, json.dumps(answer).encode('utf-8'))
        finally:
            os._exit(0)
    os.close(writer)
    chunks = []
    while True:
        chunk = os.read(reader, 1 << 16)
        if not chunk:
            break
        chunks.append(chunk)
    os.close(reader)
    os.waitpid(pid, 0)
    return json.loads(b''.join(chunks).decode('utf-8'))


def test_dangling_links_unreadable_files_and_fifos_are_listed_and_warned(tmp_path):
    directory = tempfile.mkdtemp(prefix='fleet-unreadable.')  # not under pytest's private tmp_path: nobody must get in
    try:
        os.chmod(directory, 0o755)
        report_file(directory, 'east')
        locked = report_file(directory, 'west')
        os.chmod(locked, 0)
        os.symlink(os.path.join(directory, 'gone.json'), os.path.join(directory, 'north-2026-10.json'))
        os.mkfifo(os.path.join(directory, 'pipe.json'))  # open() would block: never opened
        for path in os.listdir(directory):
            if not os.path.islink(os.path.join(directory, path)):
                os.chown(os.path.join(directory, path), 0, 0)
        answer = unprivileged(load_reports, directory)
        assert not isinstance(answer, str), answer
        outcomes, not_systems, warnings = answer
        assert [o['name'] for o in outcomes] == ['east']
        reasons = dict((os.path.basename(item['path']), item['reason']) for item in not_systems)
        assert reasons == {'north-2026-10.json': 'a dangling symbolic link (to %s)' % os.path.join(directory, 'gone.json'),
                           'west-2026-10.json': 'cannot be read (Permission denied)', 'pipe.json': 'not a regular file'}
        assert len(warnings) == 3 and all('is not in the fleet report' in w and 'missing from the bill' in w for w in warnings)
        assert sorted(os.path.basename(w.split(' ')[1]) for w in warnings) == sorted(reasons)
    finally:
        for name in os.listdir(directory):
            path = os.path.join(directory, name)
            if not os.path.islink(path) and stat.S_ISREG(os.lstat(path).st_mode):
                os.chmod(path, 0o600)
        subprocess.call([sys.executable, '-c', 'import shutil, sys; shutil.rmtree(sys.argv[1])', directory])


def test_outcomes_and_their_json_reports_are_checked_too(tmp_path):
    with pytest.raises(FleetError, match=r'^systems\[billing_report_system_x\]: summary\.cost\.total is nan, not a finite number'):
        outcomes_from(dict(billing_report_system_x=dict(name='x', ok=True, summary=dict(cost=dict(COST, total=float('nan'))))))
    with pytest.raises(FleetError, match=r'^systems\[0\]: summary\.hours is negative'):
        outcomes_from([dict(name='x', ok=True, summary=dict(hours=-3.0))])
    path = hostile(tmp_path, 'east', set_key('summary.cost.gpu', -1.0))
    outcome = outcomes_from([dict(name='east', ok=True, summary=dict(record_count=3), files=dict(json=path))])[0]
    with pytest.raises(FleetError, match=r'%s \(files\.json of system east\): summary\.cost\.gpu is negative' % re.escape(path)):
        with_periods(outcome)
    with open(path, 'w', encoding='utf-8') as handle:
        handle.write('{"name": "east", "summ')
    with pytest.raises(FleetError, match='%s .*is not a readable JSON report' % re.escape(path)):
        with_periods(outcome)


# ---- AWX artifact keys ---------------------------------------------------------------------------------------------

def test_artifact_keys_keep_apart_names_that_make_one_stem():
    names = ['verge.east.example.com', 'verge-east.example.com', 'verge_east.example.com', 'VERGE-EAST.example.com',
             'verge east example com', 'verge--east..example.com']
    keys = [artifact_key(name) for name in names]
    assert len(set(keys)) == len(names)
    assert keys[0] == 'billing_report_system_verge_east_example_com_' + hashlib.sha1(b'verge.east.example.com').hexdigest()[:12]
    assert len(set(key[:-13] for key in keys[:3] + keys[4:])) == 1  # one stem: only the hash tells them apart
    long_key = artifact_key('a' * 300)
    assert long_key == 'billing_report_system_%s_%s' % ('a' * 40, hashlib.sha1(b'a' * 300).hexdigest()[:12])
    assert artifact_key('\u6771\u4eac') == 'billing_report_system___%s' % hashlib.sha1('\u6771\u4eac'.encode('utf-8')).hexdigest()[:12]


@settings(max_examples=300, deadline=None)
@given(st.text(min_size=1, max_size=80))
def test_an_artifact_key_is_an_identifier_with_the_exact_names_hash(name):
    key = artifact_key(name)
    assert re.match(r'^billing_report_system_[A-Za-z0-9_]{1,40}_[0-9a-f]{12}$', key), key
    assert key.endswith('_' + hashlib.sha1(name.encode('utf-8', 'surrogatepass')).hexdigest()[:12])


def test_outcomes_from_reads_the_name_inside_the_artifact():
    twins = dict((artifact_key(name), dict(name=name, ok=True, summary=dict(record_count=1, hours=1.0)))
                 for name in ('verge.east.example.com', 'verge-east.example.com'))
    fleet = consolidate(outcomes_from(twins))
    assert [s['name'] for s in fleet['systems']] == ['verge-east.example.com', 'verge.east.example.com']
    assert (fleet['totals']['systems'], fleet['totals']['reported'], fleet['totals']['record_count']) == (2, 2, 2)


def test_artifacts_under_an_older_key_are_warned_about():
    new = dict((artifact_key(name), dict(name=name, ok=False, error='x')) for name in ('verge.east.example.com', 'verge-east.example.com'))
    assert artifact_warnings(new) == [] and artifact_warnings(list(new.values())) == []
    assert artifact_warnings(dict(anything=dict(name='a'), other=dict(name='b'))) == []  # a dict of the user's own keys
    old = dict(new, billing_report_system_verge_east_example_com=dict(name='verge.east.example.com', ok=False, error='x'))
    warnings = artifact_warnings(old)
    assert len(warnings) == 1 and warnings[0].startswith(
        'systems: 1 artifact key is not the key of the system named inside (billing_report_system_verge_east_example_com)')
