# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vergeio.billing contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""verge_tenant_usage_info through real ``ansible`` against the simulator, and a differential test against pyvergeos.

- The issue's ad hoc command (VERGEOS_* environment only) prints every tenant's summary with costs, in at most
  ceil(rows / page_size) + 2 requests, counted in the simulator's request log; the SDK needs one request a tenant.
- Every record property equals the SDK's ``TenantStatsHistory`` property on the same simulator data.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import math
import os
import subprocess
import sys
from fractions import Fraction

import pytest

from conftest import API_KEY, BIN, run_module, sim_env  # pylint: disable=import-error

sys.path.insert(0, __file__.rsplit('/functional/', 1)[0])

from simulator.vergeos_sim import Simulator, make_tenant_data, default_end  # noqa: E402  pylint: disable=wrong-import-position,import-error

import pyvergeos  # noqa: E402  pylint: disable=wrong-import-position  # pinned test dependency: missing must fail, not skip

LONG = '/api/v4/tenant_stats_history_long'
SHORT = '/api/v4/tenant_stats_history_short'
TENANTS = '/api/v4/tenants'


def in_range(rows, since, until, tenant=None):
    """The history rows a query for [since, until] (and one tenant) returns: counted from the simulator's data."""
    def number(value):
        try:
            return int(float(value))
        except (TypeError, ValueError):
            return None
    return [row for row in rows if number(row.get('timestamp')) is not None and since <= number(row['timestamp']) <= until
            and (tenant is None or number(row.get('tenant')) == tenant)]


@pytest.fixture(scope='module')
def fleet():
    """50 tenants with 31 days of hourly samples (744 each, no gaps) and one snapshot."""
    end = default_end(3600)
    with Simulator(records=10, seed=3) as server:
        server.set_tenant_data(make_tenant_data(50, seed=3, end=end, days=31, gaps=False))
        yield server


@pytest.fixture(scope='module')
def sdk_sim():
    """Six tenants with gaps, quirks the SDK can read (integer strings, floats, missing counters)."""
    with Simulator(records=10, seed=4) as server:
        server.set_tenant_data(make_tenant_data(6, seed=4, days=31, quirks='sdk'))
        yield server


@pytest.fixture(scope='module')
def quirky():
    """Six tenants with gaps and every quirk: nulls and "37.5" too (the SDK crashes on those)."""
    with Simulator(records=10, seed=5) as server:
        server.set_tenant_data(make_tenant_data(6, seed=5, days=31, quirks=True))
        yield server


def api_requests(sim):
    return [entry for entry in sim.requests_log() if entry['path'].startswith('/api/')]


def test_must_show_ad_hoc_summary_with_costs(fleet):
    """The issue's command, exactly, through real ``ansible`` with VERGEOS_* variables."""
    fleet.reset_log()
    command = [os.path.join(BIN, 'ansible'), 'localhost', '-m', 'vergeio.billing.verge_tenant_usage_info', '-a',
               '{"view":"summary","since":"-30d","rates":{"core_hour":0.02,"ram_gb_hour":0.01,"currency":"EUR"}}']
    proc = subprocess.run(command, env=sim_env(fleet), capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    from conftest import AnsibleRun  # pylint: disable=import-error,import-outside-toplevel
    result = AnsibleRun(proc, command).result
    since, until = result['range']['since_epoch'], result['range']['until_epoch']
    assert until - since == 30 * 86400 - 1
    names = sorted(t['name'] for t in fleet.tenant_data['tenants'] if not t['is_snapshot'])
    assert [t['name'] for t in result['tenants']] == names and len(names) == 50
    rows = in_range(fleet.tenant_data['long'], since, until)
    assert len(rows) >= 50 * 719
    requests = api_requests(fleet)
    assert len(requests) <= math.ceil(len(rows) / 10000) + 2, [(r['path'], r['query'][:80]) for r in requests]
    assert sum(1 for r in requests if r['path'] == LONG) == math.ceil(len(rows) / 10000)
    by_key = {}
    for row in rows:
        by_key.setdefault(int(row['tenant']), []).append(row)
    for tenant in result['tenants']:
        summary = tenant['summary']
        samples = sorted(by_key[tenant['key']], key=lambda row: (int(row['timestamp']), int(row['$key'])))
        assert summary['sample_count'] == len(samples)
        assert '"name": "%s"' % tenant['name'] in proc.stdout
        # hourly samples without gaps: each stands for one hour, the newest for the median gap (one hour)
        cpu = sum(Fraction(int(float(row.get('core_count') or 0))) * Fraction(0.02) for row in samples)
        ram = sum(Fraction(int(float(row.get('ram_allocated') or 0)), 1024) * Fraction(0.01) for row in samples)
        cost = summary['cost']
        assert cost['currency'] == 'EUR' and cost['basis'] == 'allocated'
        assert math.isclose(cost['cpu'], float(cpu), rel_tol=1e-12) and math.isclose(cost['ram'], float(ram), rel_tol=1e-12)
        assert math.isclose(cost['total'], float(cpu + ram), rel_tol=1e-12)
        assert summary['hours'] == len(samples)


@pytest.mark.parametrize('page_size', [5000, 7440, 10000, 37202])
def test_one_paged_query_for_50_tenants_by_744_samples(fleet, page_size):
    """50 tenants x 744 hourly samples: at most ceil(rows / page_size) + 2 requests; the SDK needs 51."""
    end = max(int(row['timestamp']) for row in fleet.tenant_data['long'])
    since = end - 743 * 3600
    rows = in_range(fleet.tenant_data['long'], since, end)
    real = set(t['$key'] for t in fleet.tenant_data['tenants'] if not t['is_snapshot'])
    assert sum(1 for row in rows if int(row['tenant']) in real) == 50 * 744 and len(real) == 50
    fleet.reset_log()
    run = run_module('verge_tenant_usage_info', dict(view='summary', since=since, until=end, page_size=page_size), sim_env(fleet))
    assert run.rc == 0, run.output
    assert all(t['summary']['sample_count'] == 744 for t in run.result['tenants'])
    requests = api_requests(fleet)
    assert len(requests) <= math.ceil(len(rows) / page_size) + 2
    history = [r for r in requests if r['path'] == LONG]
    assert len(history) == len(rows) // page_size + 1  # full pages, then the short (or empty) one that ends it
    for entry in history:
        assert 'tenant+eq' not in entry['query'] and 'timestamp+ge+%d' % since in entry['query']
        assert 'limit=%d' % page_size in entry['query']
        assert 'pct' not in entry['query'] and 'vram_used' not in entry['query']  # only the fields the summary needs


def test_the_sdk_needs_one_request_a_tenant(fleet, monkeypatch):
    monkeypatch.setenv('REQUESTS_CA_BUNDLE', fleet.ca_path)
    client = pyvergeos.VergeClient(host=fleet.host, token=API_KEY, verify_ssl=True)
    fleet.reset_log()
    for tenant in client.tenants.list():
        tenant.stats.history_long(since=0)
    client.disconnect()
    assert sum(1 for r in api_requests(fleet) if r['path'] in (TENANTS, LONG)) == 51


@pytest.fixture
def reference(sdk_sim, monkeypatch):  # pylint: disable=redefined-outer-name
    monkeypatch.setenv('REQUESTS_CA_BUNDLE', sdk_sim.ca_path)
    client = pyvergeos.VergeClient(host=sdk_sim.host, token=API_KEY, verify_ssl=True)
    yield client
    client.disconnect()


def assert_same_record(mine, theirs):
    names = [name for name in dir(type(theirs)) if isinstance(getattr(type(theirs), name), property)
             and name not in ('is_modified', 'modified_fields')]
    assert len(names) == 44
    for name in names:
        expected = getattr(theirs, name)
        if isinstance(expected, datetime.datetime):
            expected = expected.isoformat()
        assert mine[name] == expected and type(mine[name]) is type(expected), (name, mine[name], expected)


@pytest.mark.parametrize('history, days', [('long', 6), ('short', 1)])
def test_records_equal_the_sdk(sdk_sim, reference, history, days):  # pylint: disable=redefined-outer-name
    """Every record property equals the SDK's TenantStatsHistory property, record for record, in the same order."""
    end = max(int(row['timestamp']) for row in sdk_sim.tenant_data['long'])
    since, until = end - days * 86400, end
    run = run_module('verge_tenant_usage_info', dict(history=history, since=since, until=until), sim_env(sdk_sim))
    assert run.rc == 0, run.output
    theirs = dict((t.key, t) for t in reference.tenants.list())
    assert sorted(t['key'] for t in run.result['tenants']) == sorted(theirs)
    compared = 0
    for tenant in run.result['tenants']:
        sdk_tenant = theirs[tenant['key']]
        assert tenant['name'] == sdk_tenant.name
        points = getattr(sdk_tenant.stats, 'history_' + history)(since=since, until=until)
        assert len(tenant['records']) == len(points)
        for mine, other in zip(tenant['records'], points):
            assert_same_record(mine, other)
            compared += 1
    assert compared > (500 if history == 'long' else 1000)
    quirky_values = sum(1 for row in sdk_sim.tenant_data[history] for value in row.values() if isinstance(value, (str, float)))
    assert quirky_values > 10  # the comparison covered numbers sent as strings and floats


def test_latest_equals_the_sdk(sdk_sim, reference):  # pylint: disable=redefined-outer-name
    run = run_module('verge_tenant_usage_info', dict(view='latest', tenant=['acme', 'contoso', 'blue-harbor']), sim_env(sdk_sim))
    assert run.rc == 0, run.output
    assert [t['name'] for t in run.result['tenants']] == ['acme', 'blue-harbor', 'contoso']
    for tenant in run.result['tenants']:
        newest = reference.tenants.get(tenant['key']).stats.history_long(limit=1)[0]
        assert_same_record(tenant['record'], newest)


def test_nulls_and_junk_do_not_crash_us_but_crash_the_sdk(quirky, tmp_path):
    nulls = [row for row in quirky.tenant_data['long'] if None in row.values()]
    assert nulls
    run = run_module('verge_tenant_usage_info', dict(view='summary', group_by='day', basis='used',
                                                     rates=dict(core_hour=0.02, ip_hour=0.001)), sim_env(quirky))
    assert run.rc == 0, run.output
    assert all(t['summary']['sample_count'] > 0 for t in run.result['tenants'])
    row = [row for row in nulls if int(row['tenant']) in set(t['key'] for t in run.result['tenants'])][0]
    stamp = int(float(row['timestamp']))
    records = run_module('verge_tenant_usage_info', dict(tenant=str(row['tenant']), since=stamp, until=stamp), sim_env(quirky))
    assert records.rc == 0, records.output
    by_key = dict((r['key'], r) for t in records.result['tenants'] for r in t['records'])
    field = [name for name, value in row.items() if value is None][0]
    mine = by_key[int(row['$key'])]
    assert mine[{'ram_used': 'ram_used_mb', 'vram_used': 'vram_used_mb', 'ram_allocated': 'ram_allocated_mb'}.get(field, field)] == 0
    script = tmp_path / 'ref.py'
    script.write_text(
        'import pyvergeos\n'
        'c = pyvergeos.VergeClient(host=%r, token=%r)\n'
        'for p in c.tenants.get(%d).stats.history_long(since=0):\n'
        '    [getattr(p, n) for n in dir(type(p)) if isinstance(getattr(type(p), n), property)]\n'
        % (quirky.host, API_KEY, int(row['tenant'])))
    proc = subprocess.run([sys.executable, str(script)], env=dict(sim_env(quirky), REQUESTS_CA_BUNDLE=quirky.ca_path),
                          capture_output=True, text=True, check=False)
    assert proc.returncode != 0 and ('int()' in proc.stderr or 'NoneType' in proc.stderr)


def test_one_tenant_by_name_skips_the_snapshot_and_filters_on_the_server(sdk_sim):
    snapshot = [t for t in sdk_sim.tenant_data['tenants'] if t['is_snapshot']][0]
    real = [t for t in sdk_sim.tenant_data['tenants'] if t['name'] == snapshot['name'] and not t['is_snapshot']][0]
    sdk_sim.reset_log()
    run = run_module('verge_tenant_usage_info', dict(tenant=snapshot['name'], view='summary', since='-2d'), sim_env(sdk_sim))
    assert run.rc == 0, run.output
    assert [(t['key'], t['name']) for t in run.result['tenants']] == [(real['$key'], real['name'])]
    history = [r for r in api_requests(sdk_sim) if r['path'] == LONG]
    assert len(history) == 1 and 'tenant+eq+%d' % real['$key'] in history[0]['query']
    by_key = run_module('verge_tenant_usage_info', dict(tenant=[str(real['$key']), real['name']], view='latest'), sim_env(sdk_sim))
    assert by_key.rc == 0 and [t['key'] for t in by_key.result['tenants']] == [real['$key']], by_key.output


def test_unknown_tenant_fails_naming_it(sdk_sim):
    snapshot = [t for t in sdk_sim.tenant_data['tenants'] if t['is_snapshot']][0]
    run = run_module('verge_tenant_usage_info', dict(tenant=['acme', 'no-such-tenant', str(snapshot['$key'])]), sim_env(sdk_sim))
    assert run.rc != 0
    assert "'no-such-tenant'" in run.result['msg'] and "'%d'" % snapshot['$key'] in run.result['msg']
    assert 'Traceback' not in run.output


def test_stopped_tenant_is_not_billed_for_the_day_it_was_stopped(sdk_sim):
    run = run_module('verge_tenant_usage_info', dict(tenant='blue-harbor', view='summary', since='-7d',
                                                     rates=dict(core_hour=1)), sim_env(sdk_sim))
    assert run.rc == 0, run.output
    summary = run.result['tenants'][0]['summary']
    assert summary['median_gap'] == 3600 and summary['max_gap'] == 7200
    assert summary['sample_count'] in (7 * 24 - 24 - 1, 7 * 24 - 24)
    # every sample stands for an hour, except the one before the stop, which stands for max_gap (2 hours)
    assert summary['hours'] == summary['sample_count'] + 1
    longer = run_module('verge_tenant_usage_info', dict(tenant='blue-harbor', view='summary', since='-7d', max_gap='1d',
                                                        rates=dict(core_hour=1)), sim_env(sdk_sim))
    assert longer.result['tenants'][0]['summary']['hours'] == summary['sample_count'] + 23


def test_check_mode_and_bad_options(sdk_sim):
    env = sim_env(sdk_sim)
    checked = run_module('verge_tenant_usage_info', dict(view='latest', tenant='acme'), env, check=True)
    assert checked.rc == 0 and checked.result['changed'] is False and checked.result['tenants'][0]['record'], checked.output
    for args, message in [
        (dict(view='records', group_by='day'), 'group_by applies to view=summary only'),
        (dict(view='summary', max_gap='0'), 'max_gap must be more than 0 seconds'),
        (dict(view='summary', max_gap='soon'), 'max_gap'),
        (dict(view='summary', rates=dict(ip_hour=-1)), 'rates.ip_hour must be a finite number of 0 or more'),
        (dict(since='2026-10-02', until='2026-10-01'), 'since (2026-10-02) is after until'),
        (dict(timezone='Mars/Olympus'), 'unknown time zone'),
        (dict(page_size=0), 'page_size must be'),
    ]:
        run = run_module('verge_tenant_usage_info', args, env)
        assert run.rc != 0 and message in run.result['msg'], (args, run.output)
        assert 'Traceback' not in run.output
