# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vergeio.billing contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""billing_fleet and its renderers: totals are the sums over the systems that reported, failures are named."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import csv
import io
import math
import re
import xml.etree.ElementTree as ET

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible.errors import AnsibleFilterError

from ansible_collections.vergeio.billing.plugins.filter.billing_fleet import billing_fleet
from ansible_collections.vergeio.billing.plugins.filter.billing_fleet_csv import billing_fleet_csv
from ansible_collections.vergeio.billing.plugins.filter.billing_fleet_html import billing_fleet_html
from ansible_collections.vergeio.billing.plugins.filter.billing_fleet_markdown import billing_fleet_markdown
from ansible_collections.vergeio.billing.plugins.filter.billing_period import billing_period
from ansible_collections.vergeio.billing.plugins.module_utils._summary import summarize

GIB = 1024 ** 3
T0 = 1790812800
SUMMED = ('record_count', 'hours', 'twa_cpu_cores', 'twa_ram_gb', 'twa_storage_used_gb', 'twa_gpus_used', 'twa_vgpus_used',
          'total_gpus', 'total_vgpus')


def records(seed, count=48):
    out = []
    for index in range(count):
        start = T0 + index * 3600
        out.append({'$key': index + 1, 'created': start + 3605, 'from': start, 'to': start + 3600,
                    'used_cores': (seed * 7 + index * 3) % 50, 'total_cores': 64, 'used_ram': 1024 * ((seed + index) % 9),
                    'total_ram': 65536, 'tier_1_used': GIB * (seed + index), 'tier_1_total': 1000 * GIB, 'tier_3_used': GIB * seed,
                    'tier_3_total': 50 * GIB, 'gpus': index % 3, 'gpus_total': 4, 'vgpus': seed % 5, 'vgpus_total': 8})
    return out


def system(name, seed, currency='EUR'):
    rates = dict(core_hour=0.01 * seed, ram_gb_hour=0.002, tier1_gb_hour=0.0001, gpu_hour=1.0, currency=currency)
    return dict(name=name, ok=True, error=None, summary=summarize(records(seed), group_by='day', rates=rates), files={})


FAILED = dict(name='site-c', ok=False, error='GET /api/v4/billing returned HTTP 401: Invalid credentials', summary=None)


def fleet(*results):
    return billing_fleet(list(results), period=billing_period({'month': '2026-10'}))


def test_totals_are_sums_over_the_systems_that_reported():
    a, b = system('site-a', 1), system('site-b', 2)
    result = fleet(b, FAILED, a)
    assert [s['name'] for s in result['systems']] == ['site-a', 'site-b', 'site-c']
    assert result['failed'] == ['site-c']
    totals = result['totals']
    assert (totals['systems'], totals['reported'], totals['failed']) == (3, 2, 1)
    for key in SUMMED:
        assert totals[key] == pytest.approx(a['summary'][key] + b['summary'][key], rel=1e-12), key
    for tier in range(6):
        assert totals['tiers'][tier]['twa_used_gb'] == pytest.approx(
            a['summary']['tiers'][tier]['twa_used_gb'] + b['summary']['tiers'][tier]['twa_used_gb'], rel=1e-12)
    cost = totals['cost']
    assert cost['currency'] == 'EUR' and cost['systems'] == 2
    for part in ('cpu', 'ram', 'storage', 'gpu', 'vgpu', 'total'):
        assert cost[part] == pytest.approx(a['summary']['cost'][part] + b['summary']['cost'][part], rel=1e-12), part
    assert cost['tiers']['tier1'] == pytest.approx(a['summary']['cost']['tiers']['tier1'] + b['summary']['cost']['tiers']['tier1'])


def test_mixed_currencies_are_not_added_up():
    result = fleet(system('site-a', 1, 'EUR'), system('site-b', 2, 'USD'))
    assert result['totals']['cost'] is None
    assert sorted(result['totals']['cost_by_currency']) == ['EUR', 'USD']
    assert 'mixed currencies' in billing_fleet_markdown(result)


@settings(max_examples=50, deadline=None, database=None)
@given(st.lists(st.tuples(st.booleans(), st.floats(0, 1e6), st.integers(0, 10 ** 6)), max_size=6))
def test_any_fleet_adds_up(systems):
    results = []
    for index, (ok, value, count) in enumerate(systems):
        summary = dict((key, value) for key in SUMMED)
        summary.update(record_count=count, total_gpus=count, total_vgpus=count)
        results.append(dict(name='s%d' % index, ok=ok, summary=summary if ok else None, error=None if ok else 'boom'))
    totals = billing_fleet(results)['totals']
    reported = [s for ok, s in zip((x[0] for x in systems), systems) if ok]
    assert totals['record_count'] == sum(s[2] for s in reported)
    assert totals['twa_cpu_cores'] == pytest.approx(math.fsum(s[1] for s in reported), rel=1e-12)
    assert totals['failed'] == len(systems) - len(reported)


def test_csv_has_one_row_per_system():
    result = fleet(system('site-a', 1), FAILED)
    rows = list(csv.DictReader(io.StringIO(billing_fleet_csv(result), newline='')))
    assert [(r['system'], r['status']) for r in rows] == [('site-a', 'ok'), ('site-c', 'failed')]
    assert rows[1]['error'].startswith('GET /api/v4/billing returned HTTP 401') and rows[1]['record_count'] == ''
    assert float(rows[0]['twa_cpu_cores']) == result['systems'][0]['summary']['twa_cpu_cores']
    assert float(rows[0]['cost_total']) == result['systems'][0]['summary']['cost']['total']


def test_markdown_names_the_failed_system():
    result = fleet(system('site-a', 1), system('site-b', 2), FAILED)
    text = billing_fleet_markdown(result)
    assert '| site-c | FAILED |' in text
    assert '- **site-c**: GET /api/v4/billing returned HTTP 401: Invalid credentials' in text
    total_row = [line for line in text.splitlines() if line.startswith('| **Fleet total')][0]
    assert '**%s**' % '{:,}'.format(result['totals']['record_count']) in total_row


def test_html_names_the_failure_and_draws_a_series_per_system():
    result = fleet(system('site-a', 1), system('site-b', 2), FAILED)
    html = billing_fleet_html(result)
    assert 'failed to report' in html and '<b>site-c</b>: GET /api/v4/billing returned HTTP 401' in html
    assert '<script' not in html
    svgs = [ET.fromstring(svg) for svg in re.findall(r'<svg .*?</svg>', html, re.S)]
    assert len(svgs) == 5
    for root in svgs:
        lines = root.findall('{http://www.w3.org/2000/svg}polyline')
        assert [line.find('{http://www.w3.org/2000/svg}title').text for line in lines] == ['site-a', 'site-b']
        assert all(len(line.get('points').split()) == 3 for line in lines)  # 48 hourly records: 3 UTC days (the last one record)


def test_errors():
    with pytest.raises(AnsibleFilterError, match='unique'):
        fleet(system('a', 1), system('a', 2))
    with pytest.raises(AnsibleFilterError, match='list'):
        billing_fleet({'a': 1})
    with pytest.raises(AnsibleFilterError, match='billing_fleet filter'):
        billing_fleet_html({'systems': 1})
