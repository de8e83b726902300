# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vergeio.billing contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Tenant reports of verge_billing_report (``tenants``) and of the billing_report role (``billing_report_tenants``),
through real ``ansible`` / ``ansible-playbook`` against the simulator.

Costs are checked against the test's own brute force from the simulator's raw samples (weights: the gap to the next
sample, at most twice the median gap; the newest the median gap), never against the files under test.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import csv
import json
import math
import os

import pytest

from conftest import listing, run_module, run_playbook, sim_env  # pylint: disable=import-error
from simulator.vergeos_sim import Simulator, make_tenant_data  # pylint: disable=import-error

END = 1793491200  # 2026-11-01T00:00:00Z
RATES = dict(core_hour=0.02, ram_gb_hour=0.01, tier1_gb_hour=0.0001, gpu_hour=1.5, currency='EUR')
GIB = 1024 ** 3
EXTS = dict(csv='csv', json='json', markdown='md', html='html')


def num(value):
    if value is None or value == '':
        return 0
    return int(float(value)) if isinstance(value, str) else int(value)


def sample_hours(rows):
    """(row, hours) of one tenant's raw samples, oldest first: each weighs the gap to the next sample, at most twice the
    median gap; the newest the median gap."""
    rows = sorted(rows, key=lambda row: (num(row['timestamp']), num(row['$key'])))
    stamps = [num(row['timestamp']) for row in rows]
    gaps = sorted(b - a for a, b in zip(stamps, stamps[1:]))
    if not gaps:
        return []
    middle = gaps[len(gaps) // 2] if len(gaps) % 2 else (gaps[len(gaps) // 2 - 1] + gaps[len(gaps) // 2]) / 2
    weights = [min(b - a, 2 * middle) for a, b in zip(stamps, stamps[1:])] + [middle]
    return [(row, weight / 3600) for row, weight in zip(rows, weights)]


def brute_cost(rows, basis='allocated'):
    """The cost of one tenant's raw samples, from first principles."""
    total = 0.0
    for row, hours in sample_hours(rows):
        cores = num(row.get('core_count')) * (num(row.get('total_cpu')) / 100 if basis == 'used' else 1)
        ram = num(row.get('ram_used' if basis == 'used' else 'ram_allocated')) / 1024
        tier1 = num(row.get('tier1_used' if basis == 'used' else 'tier1_allocated')) / GIB
        gpus = num(row.get('gpus_used' if basis == 'used' else 'gpus_total'))
        total += (cores * RATES['core_hour'] + ram * RATES['ram_gb_hour'] + tier1 * RATES['tier1_gb_hour'] + gpus * RATES['gpu_hour']) * hours
    return total


@pytest.fixture(scope='module')
def sim():
    with Simulator(records=24 * 40, seed=9, end=END) as server:
        server.set_tenant_data(make_tenant_data(6, seed=9, end=END, days=31))
        yield server


def in_period(sim, tenant, since, until):  # pylint: disable=redefined-outer-name
    return [row for row in sim.tenant_data['long'] if num(row.get('tenant')) == tenant and since <= num(row.get('timestamp')) <= until]


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
    since, until = result['period']['since_epoch'], result['period']['until_epoch']
    assert [r['path'] for r in sim.requests_log()].count('/api/v4/tenant_stats_history_long') == 1
    overview = json.load(open(result['tenants_overview']['json']))
    assert overview['kind'] == 'tenants' and [row['tenant'] for row in overview['tenants']] == [name for name, _key in tenants]
    samples = 0
    for name, key in tenants:
        files = result['tenant_files'][name]
        for fmt, ext in EXTS.items():
            assert files[fmt] == os.path.join(out, 'prod-%s-2026-10.%s' % (name, ext)) and os.path.getsize(files[fmt]) > 0
        raw = in_period(sim, key, since, until)
        with open(files['csv'], newline='') as handle:
            rows = list(csv.DictReader(handle))
        assert len(rows) == len(raw) and [int(row['key']) for row in rows] == sorted(num(r['$key']) for r in raw)
        report = json.load(open(files['json']))
        assert report['kind'] == 'tenant' and report['tenant'] == dict(key=key, name=name)
        assert report['sample_count'] == len(raw) == len(report['records'])
        expected = brute_cost(raw)
        assert math.isclose(report['summary']['cost']['total'], expected, rel_tol=1e-9), name
        row = [r for r in overview['tenants'] if r['tenant'] == name][0]
        assert math.isclose(row['cost_total'], expected, rel_tol=1e-9)
        assert name in open(files['html']).read() and 'chart-cores' in open(files['html']).read()
        samples += len(raw)
    assert result['tenant_sample_count'] == samples
    assert math.isclose(overview['totals']['cost_total'], math.fsum(r['cost_total'] for r in overview['tenants']), rel_tol=1e-12)
    html = open(result['tenants_overview']['html']).read()
    assert 'chart-tenant-cost' in html and html.count('<rect x="220"') == 6
    # the same figures as verge_tenant_usage_info over the same range
    usage = run_module('verge_tenant_usage_info', dict(view='summary', since=since, until=until, rates=RATES), sim_env(sim))
    assert usage.rc == 0, usage.output
    for tenant in usage.result['tenants']:
        report = json.load(open(result['tenant_files'][tenant['name']]['json']))
        assert report['summary']['cost'] == tenant['summary']['cost']
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
        expected = brute_cost(in_period(sim, keys[name], period['since_epoch'], period['until_epoch']), basis='used')
        assert report['basis'] == 'used' and math.isclose(report['summary']['cost']['total'], expected, rel_tol=1e-9)


def brute_ip_cost(rows, ip_hour):
    """The IP address part of one tenant's cost: ip_count x ip_hour x hours, summed over the samples."""
    return math.fsum(num(row.get('ip_count')) * ip_hour * hours for row, hours in sample_hours(rows))


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
        raw = in_period(sim, keys[name], period['since_epoch'], period['until_epoch'])
        assert any(num(row.get('ip_count')) for row in raw), 'the simulator gives %s no IP addresses: the test would prove nothing' % name
        ip_cost = brute_ip_cost(raw, ip_hour)
        cost = json.load(open(run.result['tenant_files'][name]['json']))['summary']['cost']
        assert ip_cost > 0 and math.isclose(cost['ip'], ip_cost, rel_tol=1e-9), name
        assert math.isclose(cost['total'], brute_cost(raw) + ip_cost, rel_tol=1e-9), name
        row = [r for r in overview['tenants'] if r['tenant'] == name][0]
        assert math.isclose(row['cost_ip'], ip_cost, rel_tol=1e-9)
        assert 'IP addresses' in open(run.result['tenant_files'][name]['markdown']).read()
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
