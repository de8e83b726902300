# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vergeio.billing contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""verge_billing_export: real ``ansible`` runs against the simulator over HTTPS. The sums of the FOCUS files are
checked against a brute force over the simulator's own rows (fractions, second ranges; no collection code), and
against the rating engine's ``Bill`` of the same period. The FinOps Foundation's validator runs in tests/focus."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import csv
import gzip
import hashlib
import io
import json
import os
import sys
from datetime import datetime, timezone
from fractions import Fraction

import pytest

from conftest import API_KEY, COLLECTIONS, run_module, run_playbook, sim_env  # pylint: disable=import-error
from simulator.vergeos_sim import Simulator, make_tenant_data  # pylint: disable=import-error
from test_usage import brute_tenant, overlap  # pylint: disable=import-error

sys.path.insert(0, COLLECTIONS)

from ansible_collections.vergeio.billing.plugins.module_utils._client import Auth, VergeClient  # noqa: E402
from ansible_collections.vergeio.billing.plugins.module_utils._rating import (  # noqa: E402
    Bill, Meter, edges, price, rate_card, system_owner,
)
from ansible_collections.vergeio.billing.plugins.module_utils._time import get_zone, month_range  # noqa: E402
from ansible_collections.vergeio.billing.plugins.module_utils._usage import Usage  # noqa: E402

END = int(datetime(2026, 11, 1, 3, tzinfo=timezone.utc).timestamp())
GIB = 1024 ** 3
RATES = dict(core_hour=0.02, ram_gb_hour=0.01, tier0_gb_hour=0.0002, tier1_gb_hour=0.0001, tier2_gb_hour=0.00005, tier3_gb_hour=0.00002,
             gpu_hour=1.5, vgpu_hour=0.4, ip_hour=0.005, currency='EUR')
# (raw field, divisor to the priced unit, rate key): a billing record's usage, and a tenant sample's on the allocated basis
RECORD_PRICES = [('used_cores', 1, 'core_hour'), ('used_ram', 1024, 'ram_gb_hour')] + [
    ('tier_%d_used' % tier, GIB, 'tier%d_gb_hour' % tier) for tier in range(6)] + [('gpus', 1, 'gpu_hour'), ('vgpus', 1, 'vgpu_hour')]
TENANT_PRICES = [('core_count', 1, 'core_hour'), ('ram_allocated', 1024, 'ram_gb_hour')] + [
    ('tier%d_allocated' % tier, GIB, 'tier%d_gb_hour' % tier) for tier in range(6)] + [('gpus_total', 1, 'gpu_hour'), ('vgpus_total', 1, 'vgpu_hour')]
IP_PRICE = ('ip_count', 1, 'ip_hour')


def rate(key):
    return Fraction(RATES.get(key, 0))


@pytest.fixture(scope='module', name='sim')
def fixture_sim():
    with Simulator(records=34 * 24, seed=5, end=END, quirks=False) as server:
        server.set_tenant_data(make_tenant_data(3, seed=5, end=END, days=33, quirks=False, gaps=False))
        yield server


def period(month, zone):
    _label, start, last = month_range(month, get_zone(zone))
    return start, last + 1


def brute_system(records, start, end):
    """The system's cost of [start, end): every record's levels x the seconds of its interval inside, priced."""
    total = Fraction(0)
    for raw in records:
        seconds = overlap(int(raw['from']), int(raw['to']), start, end)
        if seconds:
            total += sum(Fraction(int(raw[field]), divisor) * rate(key) for field, divisor, key in RECORD_PRICES) * Fraction(seconds, 3600)
    return total


def brute_tenants(data, start, end):
    """{tenant key: (cost without IPs, IP cost)} on the allocated basis."""
    out = {}
    for tenant in data['tenants']:
        if tenant['is_snapshot']:
            continue
        rows = [row for row in data['long'] if int(row['tenant']) == int(tenant['$key'])]
        cost = sum(brute_tenant(rows, start, end, field, divisor) * rate(key) for field, divisor, key in TENANT_PRICES)
        out[int(tenant['$key'])] = (cost, brute_tenant(rows, start, end, IP_PRICE[0], IP_PRICE[1]) * rate(IP_PRICE[2]))
    return out


def read_rows(path):
    """The rows of a FOCUS CSV (gzip or not), read with the standard library only."""
    with open(path, 'rb') as handle:
        data = handle.read()
    if path.endswith('.gz'):
        data = gzip.decompress(data)
    return list(csv.DictReader(io.StringIO(data.decode('utf-8'), newline='')))


def close(got, expected, what):
    assert abs(Fraction(got) - expected) <= Fraction(1, 10 ** 9) * max(1, abs(expected)), (what, float(got), float(expected))


def export(sim, dest, check=False, diff=False, extra_env=None, **args):
    args = dict(dict(month='2026-10', timezone='Europe/Berlin', name='verge-east', rates=RATES, dest=str(dest)), **args)
    env = sim_env(sim, extra=dict(extra_env or {}, **({'ANSIBLE_DIFF_ALWAYS': '1'} if diff else {})))
    return run_module('verge_billing_export', args, env, check=check)


def test_system_month_in_berlin_sums_to_the_records_and_reruns_change_nothing(sim, tmp_path):
    run = export(sim, tmp_path)
    result = run.result
    assert run.rc == 0, run.output
    data, manifest_path = result['files']['data'], result['files']['manifest']
    assert data == str(tmp_path / 'data' / 'BILLING_PERIOD=2026-10' / 'verge-east.csv.gz')
    assert manifest_path == str(tmp_path / 'metadata' / 'BILLING_PERIOD=2026-10' / 'verge-east-Manifest.json')
    start, end = period('2026-10', 'Europe/Berlin')
    rows = read_rows(data)
    assert rows and len(rows) == result['row_count']
    expected = brute_system(sim.records, start, end)
    close(sum(Fraction(row['BilledCost']) for row in rows), expected, 'sum of BilledCost')
    close(result['totals']['billed_cost'], expected, 'totals.billed_cost')
    # 745 hours of October in Berlin: the system's core-hours are the brute force's
    cores = sum(Fraction(int(raw['used_cores']) * overlap(int(raw['from']), int(raw['to']), start, end), 3600) for raw in sim.records)
    close(sum(Fraction(row['ConsumedQuantity']) for row in rows if row['x_Metric'] == 'cores'), cores, 'core-hours')
    assert set(row['BillingPeriodStart'] for row in rows) == {'2026-09-30T22:00:00Z'}
    assert set(row['BillingPeriodEnd'] for row in rows) == {'2026-10-31T23:00:00Z'}
    assert min(row['ChargePeriodStart'] for row in rows) == '2026-09-30T22:00:00Z'
    assert max(row['ChargePeriodEnd'] for row in rows) == '2026-10-31T23:00:00Z'
    # the DST day (25 October) is a 25-hour charge period
    assert {(row['ChargePeriodStart'], row['ChargePeriodEnd']) for row in rows if row['ChargePeriodStart'].startswith('2026-10-24T22')} == {
        ('2026-10-24T22:00:00Z', '2026-10-25T23:00:00Z')}
    for row in rows:
        cost = float(row['BilledCost'])
        assert float(row['PricingQuantity']) * float(row['ListUnitPrice']) == float(row['ListCost']) == cost
        assert float(row['ContractedCost']) == float(row['EffectiveCost']) == cost
        assert row['SubAccountId'] == '' and row['x_Unallocated'] == '' and row['InvoiceId'] == 'verge-east-2026-10'
        assert row['PricingUnit'] in ('Core-Hours', 'GiB-Hours', 'GPU-Hours', 'vGPU-Hours') and 'e' not in row['PricingQuantity']
    with open(manifest_path, encoding='utf-8') as handle:
        manifest = json.load(handle)
    with open(data, 'rb') as handle:
        content = handle.read()
    assert manifest['focus_version'] == '1.2' and manifest['row_count'] == len(rows)
    assert manifest['files'] == [dict(path='data/BILLING_PERIOD=2026-10/verge-east.csv.gz', format='csv', compression='gzip',
                                      size=len(content), sha256=hashlib.sha256(content).hexdigest(), row_count=len(rows))]
    assert [column['name'] for column in manifest['columns']] == list(rows[0])
    assert manifest['billing_period'] == dict(label='2026-10', start='2026-09-30T22:00:00Z', end='2026-10-31T23:00:00Z', timezone='Europe/Berlin')
    stamps = dict((path, os.stat(path).st_mtime_ns) for path in (data, manifest_path))

    again = export(sim, tmp_path, diff=True)
    assert again.rc == 0 and again.result['changed'] is False, again.output
    assert again.result['changed_files'] == {} and again.result['sha256'] == result['sha256']
    assert all(os.stat(path).st_mtime_ns == stamp for path, stamp in stamps.items())

    cheaper = export(sim, tmp_path, check=True, diff=True, rates=dict(RATES, core_hour=0.01))
    assert cheaper.rc == 0 and cheaper.result['changed'] is True, cheaper.output
    assert set(cheaper.result['changed_files']) == {'data', 'manifest'}
    assert 'would write %s (updated)' % data in cheaper.stdout  # the diff, shown by Ansible
    assert all(os.stat(path).st_mtime_ns == stamp for path, stamp in stamps.items())  # check mode wrote nothing
    assert sorted(os.listdir(tmp_path / 'data' / 'BILLING_PERIOD=2026-10')) == ['verge-east.csv.gz']


def test_tenants_are_sub_accounts_and_unallocated_is_the_rest(sim, tmp_path):
    start, end = period('2026-10', 'Europe/Berlin')
    saved = [dict(raw) for raw in sim.records]
    # the system measured no core on the first local day of October: the tenants' cores there exceed it
    for raw in sim.records:
        if int(raw['from']) < start + 86400 and int(raw['to']) > start:
            raw['used_cores'] = 0
    sim.invalidate()
    try:
        run = export(sim, tmp_path, tenants=True)
        records, data = [dict(raw) for raw in sim.records], sim.tenant_data
        engine = engine_bills(sim, start, end)
    finally:
        sim.set_records(saved)
    assert run.rc == 0, run.output
    result = run.result
    assert 'Unallocated CPU cores is negative in 1 charge period(s)' in run.output
    rows = read_rows(result['files']['data'])
    system = brute_system(records, start, end)
    tenants = brute_tenants(data, start, end)
    by_sub = {}
    for row in rows:
        by_sub.setdefault(row['SubAccountId'], []).append(row)
    assert set(by_sub) == set(['verge-east-tenant-%d' % key for key in tenants] + [''])
    for key, (cost, ips) in tenants.items():
        sub = 'verge-east-tenant-%d' % key
        close(sum(Fraction(row['BilledCost']) for row in by_sub[sub]), cost + ips, sub)
        close(result['totals']['sub_accounts'][sub], cost + ips, sub)
        assert {row['InvoiceId'] for row in by_sub[sub]} == {sub + '-2026-10'}
        assert {row['SubAccountType'] for row in by_sub[sub]} == {'Tenant'} and {row['x_Unallocated'] for row in by_sub[sub]} == {'false'}
    unallocated = system - sum(cost for cost, _ips in tenants.values())
    assert all(row['x_Unallocated'] == 'true' and row['ResourceType'] == 'System' for row in by_sub[''])
    close(sum(Fraction(row['BilledCost']) for row in by_sub['']), unallocated, 'Unallocated')
    close(result['totals']['unallocated'], unallocated, 'totals.unallocated')
    assert any(Fraction(row['BilledCost']) < 0 for row in by_sub[''] if row['x_Metric'] == 'cores')
    # the account: the system's total plus the tenants' IP addresses, nothing counted twice
    close(sum(Fraction(row['BilledCost']) for row in rows), system + sum(ips for _cost, ips in tenants.values()), 'account')
    # the rating engine's bills of the same period: exact totals equal, rounded statements within half a cent a line
    for sub, bill in engine.items():
        invoice = result['totals']['invoices'][sub + '-2026-10']
        assert abs(bill.exact - invoice) <= 1e-9 * max(1.0, abs(invoice))
        assert abs(float(bill.total) - invoice) <= 0.005 * len(bill.lines) + 1e-9


def engine_bills(sim, start, end):
    """{SubAccountId: Bill} of every tenant, from the rating engine read in-process (a second, independent read)."""
    client = VergeClient('https://%s' % sim.host, Auth('api_key', 'the test', api_key=API_KEY), verify=sim.ca_path)
    meter = Meter(edges(start, end, 'day', get_zone('Europe/Berlin')))
    usage = Usage(client)
    usage.system(meter, system_owner('verge-east'))
    chosen = [(int(tenant['$key']), tenant['name']) for tenant in sim.tenant_data['tenants'] if not tenant['is_snapshot']]
    owners = usage.tenants(meter, 'tenant_stats_history_long', chosen, 'allocated')
    priced = price(meter.lines(), rate_card(RATES))
    return dict(('verge-east-tenant-%d' % owner.key, Bill(owner, priced, rate_card(RATES))) for owner in owners)


def test_each_system_replaces_only_its_own_files_of_the_period(sim, tmp_path):
    for name in ('east', 'west'):
        for month in ('2026-09', '2026-10'):
            assert export(sim, tmp_path, name=name, month=month).rc == 0
    files = sorted(os.path.relpath(os.path.join(folder, entry), str(tmp_path)) for folder, _dirs, entries in os.walk(str(tmp_path)) for entry in entries)
    assert files == sorted(['data/BILLING_PERIOD=%s/%s.csv.gz' % (month, name) for name in ('east', 'west') for month in ('2026-09', '2026-10')] + [
        'metadata/BILLING_PERIOD=%s/%s-Manifest.json' % (month, name) for name in ('east', 'west') for month in ('2026-09', '2026-10')] + [
        '.vergeio-billing/focus+east.owner', '.vergeio-billing/focus+west.owner'])  # each account's claim on its file name
    # a killed run of east left a temporary file; a run of west is writing one at this moment
    (tmp_path / 'data' / 'BILLING_PERIOD=2026-10' / '.focus-east+k1ll3d.tmp').write_text('half a file')
    (tmp_path / 'data' / 'BILLING_PERIOD=2026-10' / '.focus-west+wr1t1ng.tmp').write_text('in progress')
    before = dict((path, os.stat(str(tmp_path / path)).st_mtime_ns) for path in files)
    changed = export(sim, tmp_path, name='east', month='2026-10', rates=dict(RATES, tier1_gb_hour=0.0003))
    assert changed.rc == 0 and changed.result['changed'] is True
    after = dict((path, os.stat(str(tmp_path / path)).st_mtime_ns) for path in files)
    assert sorted(path for path in files if before[path] != after[path]) == [
        'data/BILLING_PERIOD=2026-10/east.csv.gz', 'metadata/BILLING_PERIOD=2026-10/east-Manifest.json']
    assert [entry for entry in os.listdir(str(tmp_path / 'data' / 'BILLING_PERIOD=2026-10')) if entry.startswith('.')] == [
        '.focus-west+wr1t1ng.tmp']  # east's leftover removed by east's run, west's left alone
    os.unlink(str(tmp_path / 'data' / 'BILLING_PERIOD=2026-10' / '.focus-west+wr1t1ng.tmp'))
    pytest.importorskip('pyarrow')
    parquet = export(sim, tmp_path, name='east', month='2026-10', file_format='parquet', diff=True)
    assert parquet.rc == 0, parquet.output
    assert parquet.result['removed_files'] == [str(tmp_path / 'data' / 'BILLING_PERIOD=2026-10' / 'east.csv.gz')]
    assert 'removed %s' % parquet.result['removed_files'][0] in parquet.stdout
    assert sorted(os.listdir(str(tmp_path / 'data' / 'BILLING_PERIOD=2026-10'))) == ['east.parquet', 'west.csv.gz']


def test_two_systems_whose_accounts_make_one_file_name_are_refused_before_a_read(sim, tmp_path):
    first = export(sim, tmp_path, name='acme (prod)')
    assert first.rc == 0, first.output
    data, account = first.result['files']['data'], first.result['billing_account_id']
    assert os.path.basename(data) == account + '.csv.gz'
    with open(data, 'rb') as handle:
        before = handle.read()
    for name, extra in (('acme [prod]', {}), ('acme-west', dict(billing_account_id=account))):
        sim.reset_log()
        second = export(sim, tmp_path, name=name, **extra)
        assert second.rc != 0, second.output
        message = ' '.join(second.result['msg'].split())
        assert "the FOCUS export of system 'acme (prod)'" in message and 'billing_account_id' in message, message
        assert not [entry for entry in sim.requests_log() if entry['path'].startswith('/api/')]  # refused before any read
        with open(data, 'rb') as handle:
            assert handle.read() == before  # the first system's rows are intact
    # an export of 0.2.0 (no claim yet) is recognised by its manifest
    os.unlink(str(tmp_path / '.vergeio-billing' / ('focus+%s.owner' % account)))
    third = export(sim, tmp_path, name='acme [prod]')
    assert third.rc != 0 and "system 'acme (prod)'" in third.result['msg'], third.output
    again = export(sim, tmp_path, name='acme (prod)')  # the owner itself goes on (and claims the name again)
    assert again.rc == 0 and again.result['changed'] is False, again.output
    assert os.path.isfile(str(tmp_path / '.vergeio-billing' / ('focus+%s.owner' % account)))


def test_parquet_without_pyarrow_fails_naming_it(sim, tmp_path):
    hidden = tmp_path / 'hide'
    (hidden / 'pyarrow').mkdir(parents=True)
    (hidden / 'pyarrow' / '__init__.py').write_text('raise ImportError("No module named pyarrow (hidden by the test)")\n')
    run = export(sim, tmp_path / 'out', file_format='parquet', extra_env=dict(PYTHONPATH=str(hidden)))
    assert run.rc != 0
    assert 'Failed to import the required Python library (pyarrow)' in run.result['msg'] and 'file_format=parquet' in run.result['msg']
    assert not (tmp_path / 'out').exists()


@pytest.mark.parametrize('args, words', [
    (dict(billing_account_id='123456'), ['billing_account_id', '123456']),
    (dict(rates=dict(core_hour=0.02)), ['rates.currency', 'ISO 4217']),
    (dict(rates=dict(core_hour=0.02, currency='Euro')), ['rates.currency', 'Euro']),
    (dict(rates=None), ['rates is required']),
    (dict(file_format='parquet', compression='gzip'), ['compression', 'Parquet']),
    (dict(invoice_id='{tenant}-{period}'), ['invoice_id', '{tenant}-{period}']),
    (dict(month='2026-13'), ['month']),
    (dict(timezone='Mars/Olympus'), ['timezone']),
])
def test_bad_options_fail_naming_the_option_before_anything_is_written(sim, tmp_path, args, words):
    sim.reset_log()
    run = export(sim, tmp_path / 'out', **args)
    assert run.rc != 0
    for word in words:
        assert word in run.result['msg'], run.result['msg']
    assert 'Traceback' not in run.output and not (tmp_path / 'out').exists()
    assert sim.count() == 0  # refused before any request


def test_an_empty_period_writes_a_header_and_says_so(sim, tmp_path):
    run = export(sim, tmp_path, month='2025-01', timezone='UTC')
    assert run.rc == 0, run.output
    assert run.result['row_count'] == 0 and read_rows(run.result['files']['data']) == []
    assert 'No usage in' in run.output
    with open(run.result['files']['manifest'], encoding='utf-8') as handle:
        assert json.load(handle)['row_count'] == 0


def test_monthly_chargeback_playbook_writes_the_focus_partition_and_reruns_unchanged(sim, tmp_path):
    # as `ansible-playbook vergeio.billing.monthly_chargeback -e billing_report_formats=focus,html -e billing_report_tenants=true`
    extra = dict(month='2026-10', output_dir=str(tmp_path), billing_report_formats='focus,html', billing_report_tenants='true')
    first = run_playbook('playbooks/monthly_chargeback.yml', sim_env(sim), extra_vars=extra)
    assert first.rc == 0, first.output
    assert first.stats['localhost']['changed'] == 2, first.output  # the report (HTML files) and the export
    assert os.path.exists(str(tmp_path / 'vergeos-2026-10.html')) and not os.path.exists(str(tmp_path / 'vergeos-2026-10.csv'))
    data = tmp_path / 'focus' / 'data' / 'BILLING_PERIOD=2026-10' / 'vergeos.csv.gz'
    manifest = tmp_path / 'focus' / 'metadata' / 'BILLING_PERIOD=2026-10' / 'vergeos-Manifest.json'
    rows = read_rows(str(data))
    assert json.loads(manifest.read_text())['row_count'] == len(rows) > 0
    assert {row['SubAccountType'] for row in rows} == {'Tenant', ''} and {row['BillingAccountName'] for row in rows} == {'vergeos'}
    again = run_playbook('playbooks/monthly_chargeback.yml', sim_env(sim), extra_vars=extra)
    assert again.rc == 0 and again.stats['localhost']['changed'] == 0, again.output
