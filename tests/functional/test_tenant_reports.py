# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vergeio.billing contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Tenant reports of verge_billing_report (``tenants``) and of the billing_report role (``billing_report_tenants``),
through real ``ansible`` / ``ansible-playbook`` against the simulator.

Costs are checked against the shared brute force of oracles.py over the simulator's raw samples (weights: the gap to
the next sample, at most twice the median gap; the newest the median gap; only the part inside the period), never
against the files under test.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import csv
import json
import math
import os
from decimal import Decimal
from fractions import Fraction

import pytest

from conftest import listing, run_module, run_playbook, sim_env  # pylint: disable=import-error
from oracles import amounts, half_up, tenant_usage  # pylint: disable=import-error
from simulator.vergeos_sim import Simulator, make_tenant_data  # pylint: disable=import-error

END = 1793491200  # 2026-11-01T00:00:00Z
RATES = dict(core_hour=0.02, ram_gb_hour=0.01, tier1_gb_hour=0.0001, gpu_hour=1.5, currency='EUR')
EXTS = dict(csv='csv', json='json', markdown='md', html='html')


def num(value):
    if value is None or value == '':
        return 0
    return int(float(value)) if isinstance(value, str) else int(value)


def bill_of(sim, tenant, period, basis='allocated', rates=None):
    """(metric -> exact amount, unit-hours, hours, samples billed) of one tenant over the report's period, from the
    oracles (each sample prorated to the part of its weight inside [since, until + 1))."""
    rows = [row for row in sim.tenant_data['long'] if num(row.get('tenant')) == tenant]
    quantities, hours, billed = tenant_usage(rows, period['since_epoch'], period['until_epoch'] + 1, basis)
    return amounts(quantities, rates or RATES), quantities, hours, billed


@pytest.fixture(scope='module')
def sim():
    with Simulator(records=24 * 40, seed=9, end=END) as server:
        server.set_tenant_data(make_tenant_data(6, seed=9, end=END, days=31))
        yield server


def test_module_writes_a_report_per_tenant_and_an_overview(sim, tmp_path):  # pylint: disable=redefined-outer-name
    out = str(tmp_path / 'reports')
    args = dict(month='2026-10', dest=out, name='prod', tenants=True, rates=RATES, group_by='week')
    sim.reset_log()
    run = run_module('verge_billing_report', args, sim_env(sim))
    assert run.rc == 0, run.output
    result = run.result
    assert result['changed'] is True
    tenants = sorted((t['name'], t['$key']) for t in sim.tenant_data['tenants'] if not t['is_snapshot'])
    assert sorted(result['tenant_files']) == [name for name, _key in tenants] and result['tenant_count'] == 6
    assert (result['period']['until_epoch'] + 1 - result['period']['since_epoch']) == 744 * 3600
    assert [r['path'] for r in sim.requests_log()].count('/api/v4/tenant_stats_history_long') == 1
    overview = json.load(open(result['tenants_overview']['json']))
    assert overview['kind'] == 'tenants' and [row['tenant'] for row in overview['tenants']] == [name for name, _key in tenants]
    samples = 0
    for name, key in tenants:
        files = result['tenant_files'][name]
        for fmt, ext in EXTS.items():
            assert files[fmt] == os.path.join(out, 'prod-%s-2026-10.%s' % (name, ext)) and os.path.getsize(files[fmt]) > 0
        exact, _quantities, _hours, billed = bill_of(sim, key, result['period'])
        with open(files['csv'], newline='') as handle:
            rows = list(csv.DictReader(handle))
        assert len(rows) == billed and [int(row['key']) for row in rows] == sorted(int(row['key']) for row in rows)
        report = json.load(open(files['json']))
        assert report['kind'] == 'tenant' and report['tenant'] == dict(key=key, name=name, state='active')
        assert report['sample_count'] == billed == len(report['records'])
        expected = sum(exact.values(), Fraction(0))
        assert math.isclose(report['bill']['exact'], expected, rel_tol=1e-9), name
        assert Decimal(report['bill']['total']) == sum((half_up(amount) for metric, amount in exact.items()
                                                        if any(line['metric'] == metric for line in report['bill']['lines'])), Decimal(0))
        row = [r for r in overview['tenants'] if r['tenant'] == name][0]
        assert math.isclose(row['exact_total'], expected, rel_tol=1e-9) and row['cost_total'] == report['bill']['total']
        assert name in open(files['html']).read() and 'chart-cores' in open(files['html']).read()
        samples += billed
    assert result['tenant_sample_count'] == samples
    assert Decimal(overview['totals']['cost_total']) == sum((Decimal(r['cost_total']) for r in overview['tenants']), Decimal(0))
    html = open(result['tenants_overview']['html']).read()
    assert 'chart-tenant-cost' in html and html.count('<rect x="220"') == 6
    again = run_module('verge_billing_report', args, sim_env(sim))
    assert again.rc == 0 and again.result['changed'] is False and again.result['tenant_changed_files'] == {}, again.output


def test_tenants_only_check_mode_and_basis(sim, tmp_path):  # pylint: disable=redefined-outer-name
    out = tmp_path / 'only'
    args = dict(since='2026-10-20', until='2026-10-26', dest=str(out), tenants=['acme', 'contoso'], tenants_only=True,
                tenant_basis='used', rates=RATES, formats=['json', 'csv'])
    checked = run_module('verge_billing_report', args, sim_env(sim), check=True)
    assert checked.rc == 0 and checked.result['changed'] is True, checked.output
    assert not out.exists()
    run = run_module('verge_billing_report', args, sim_env(sim))
    assert run.rc == 0, run.output
    assert listing(out) == sorted('vergeos-%s-2026-10-20_2026-10-26.%s' % (stem, ext) for stem in ('acme', 'contoso', 'tenants')
                                  for ext in ('csv', 'json'))
    assert 'files' not in run.result and run.result['period']['label'] == '2026-10-20_2026-10-26'
    keys = dict((t['name'], t['$key']) for t in sim.tenant_data['tenants'] if not t['is_snapshot'])
    period = run.result['period']
    for name in ('acme', 'contoso'):
        report = json.load(open(run.result['tenant_files'][name]['json']))
        exact = bill_of(sim, keys[name], period, basis='used')[0]
        assert report['basis'] == 'used' and math.isclose(report['bill']['exact'], sum(exact.values(), Fraction(0)), rel_tol=1e-9)


def test_tenant_reports_bill_ip_addresses_and_the_system_report_ignores_ip_hour(sim, tmp_path):  # pylint: disable=redefined-outer-name
    ip_hour = 0.0075
    args = dict(since='2026-10-05', until='2026-10-18', dest=str(tmp_path / 'ips'), name='ips', tenants=['acme', 'contoso'],
                rates=dict(RATES, ip_hour=ip_hour), formats=['json', 'csv', 'markdown'])
    run = run_module('verge_billing_report', args, sim_env(sim))
    assert run.rc == 0, run.output
    keys = dict((t['name'], t['$key']) for t in sim.tenant_data['tenants'] if not t['is_snapshot'])
    period = run.result['period']
    overview = json.load(open(run.result['tenants_overview']['json']))
    for name in ('acme', 'contoso'):
        exact, quantities, _hours, _billed = bill_of(sim, keys[name], period, rates=dict(RATES, ip_hour=ip_hour))
        assert quantities['ips'] > 0, 'the simulator gives %s no IP addresses: the test would prove nothing' % name
        bill = json.load(open(run.result['tenant_files'][name]['json']))['bill']
        ips = [line for line in bill['lines'] if line['metric'] == 'ips'][0]
        assert ips['quantity_unit'] == 'IP-hours' and math.isclose(ips['exact'], exact['ips'], rel_tol=1e-9), name
        assert ips['unit_price'] == ip_hour and Decimal(ips['amount']) == half_up(exact['ips'])
        assert math.isclose(bill['exact'], sum(exact.values(), Fraction(0)), rel_tol=1e-9), name
        row = [r for r in overview['tenants'] if r['tenant'] == name][0]
        assert row['cost_ip'] == ips['amount']
        assert 'IP-hours' in open(run.result['tenant_files'][name]['markdown']).read()
    # One rate card: the system report shows the same card, ip_hour included, but billing records count no IP
    # addresses, so its costs are those of the card without ip_hour.
    without = run_module('verge_billing_report', dict(args, rates=RATES, dest=str(tmp_path / 'no-ips'), tenants=False), sim_env(sim))
    assert without.rc == 0, without.output
    system = json.load(open(run.result['files']['json']))
    assert system['rates']['ip_hour'] == ip_hour and json.load(open(without.result['files']['json']))['rates']['ip_hour'] == 0
    assert system['summary']['cost'] == without.result['summary']['cost']


def test_bad_tenant_options(sim, tmp_path):  # pylint: disable=redefined-outer-name
    for args, message in [
        (dict(tenants=['no-such-tenant']), "'no-such-tenant'"),
        (dict(tenants_only=True), 'tenants_only needs tenants'),
        (dict(tenants=[True, 3]), 'tenants must be true'),
        (dict(tenants=True, rates=dict(ip_hour=-1)), 'rates.ip_hour must be a finite number of 0 or more'),
    ]:
        run = run_module('verge_billing_report', dict(args, month='2026-10', dest=str(tmp_path / 'bad')), sim_env(sim))
        assert run.rc != 0 and message in run.result['msg'], (args, run.output)
        assert 'Traceback' not in run.output


def test_role_billing_report_tenants(sim, tmp_path):  # pylint: disable=redefined-outer-name
    out = tmp_path / 'role'
    playbook = tmp_path / 'role.yml'
    playbook.write_text(
        '- hosts: localhost\n'
        '  gather_facts: false\n'
        '  roles:\n'
        '    - role: vergeio.billing.billing_report\n'
        '      billing_report_month: "2026-10"\n'
        '      billing_report_output_dir: "%s"\n'
        '      billing_report_name: east\n'
        '      billing_report_formats: [markdown, json]\n'
        '      billing_report_tenants: [acme, blue-harbor]\n'
        '      billing_report_rates: {core_hour: 0.02, currency: EUR}\n' % out)
    run = run_playbook(str(playbook), sim_env(sim))
    assert run.rc == 0, run.output[-4000:]
    names = listing(out)
    assert names == sorted(['east-2026-10.md', 'east-2026-10.json'] + ['east-%s-2026-10.%s' % (stem, ext) for stem in ('acme', 'blue-harbor', 'tenants')
                                                                       for ext in ('md', 'json')])
    overview = open(str(out / 'east-tenants-2026-10.md')).read()
    assert '| acme |' in overview and '| blue-harbor |' in overview and '**Total**' in overview
