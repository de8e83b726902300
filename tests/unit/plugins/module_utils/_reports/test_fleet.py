# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vergeio.billing contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The fleet consolidation (module_utils/_reports/fleet.py and _fleet_render.py).

Totals are checked against sums written here with Fraction (exact), over random fleets (hypothesis): any mix of
systems that reported, failed, with and without costs, in one or two currencies.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import csv
import hashlib
import io
import json
import os
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ansible_collections.vergeio.billing.plugins.module_utils._reports.fleet import (
    FleetError, consolidate, load_reports, outcomes_from, plural, render_csv, render_json, with_periods, write_reports,
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
        cost = dict((part, draw(money)) for part in PARTS)
        cost['tiers'] = dict(('tier%d' % tier, draw(money)) for tier in range(6))
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

    # CSV: a row per system, then one total row per currency (one without costs), with the same sums.
    rows = list(csv.DictReader(io.StringIO(render_csv(fleet), newline='')))
    systems, total_rows = rows[:len(outcomes)], rows[len(outcomes):]
    assert [row['status'] for row in systems] == ['ok' if s['ok'] else 'failed' for s in fleet['systems']]
    assert len(total_rows) == max(len(currencies), 1) and all(row['status'] == 'total' for row in total_rows)
    for row in total_rows:
        assert row['system'] == 'fleet total (%s)' % plural(len(ok), 'system')
        assert int(row['record_count']) == totals['record_count'] and float(row['hours']) == totals['hours']
        assert row['peak_cpu_cores'] == ''
        if currencies:
            assert float(row['cost_total']) == totals['cost_by_currency'][row['currency']]['total']

    # JSON: the same totals, the summaries without their per-period breakdown.
    data = json.loads(render_json(fleet))
    assert data['totals'] == json.loads(json.dumps(totals))
    assert all('periods' not in (s['summary'] or {}) for s in data['systems'])

    # Markdown and HTML: the plural agrees with the count; names and errors are never markup.
    markdown, html = render_markdown(fleet), render_html(fleet)
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
    outcomes, skipped = load_reports(str(tmp_path), '2026-10')
    assert [o['name'] for o in outcomes] == ['east', 'west']
    assert outcomes[1]['files'] == dict(csv=str(tmp_path / 'west-2026-10.csv'), json=str(tmp_path / 'west-2026-10.json'))
    reasons = ['a fleet report', 'not a per-system report (no name and summary)', 'period 2026-09, not 2026-10']
    assert sorted(item['reason'] for item in skipped) == reasons
    # Without a label both periods of west come in, and the names clash: the message says which.
    with pytest.raises(FleetError, match='more than one outcome for: west'):
        consolidate(load_reports(str(tmp_path))[0])


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
