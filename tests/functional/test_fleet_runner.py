# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vergeio.billing contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""A fleet run the way AWX runs it: ansible-runner, three job slices, then a consolidation workflow node.

Twelve simulated VergeOS systems (one of them refuses the fleet's API key). Each slice is an ansible-runner run of
``vergeio.billing.fleet_chargeback`` limited to a third of the hosts (AWX gives slice i of n the hosts
``hosts[i-1::n]``), with ``consolidate=false``. Each system's outcome is read back the way AWX reads it: the
``artifact_data`` of the ``playbook_on_stats`` event (what ``set_stats`` published with ``per_host: false``). The
artifacts of the slices are combined key by key (a dict update, as AWX does for a workflow node's parents) and given
to ``vergeio.billing.fleet_consolidate`` as extra variables. A second consolidation reads the directory of per-system
JSON reports (``billing_report_consolidate_from``). Both must give totals equal to the sums of the per-system JSON
reports, whose record counts and costs are checked against the simulators' raw records.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import csv
import io
import json
import hashlib
import math
import os
import re
import sys

import pytest

from conftest import API_KEY, BIN, COLLECTIONS  # pylint: disable=import-error
from simulator.vergeos_sim import Simulator  # pylint: disable=import-error
# The test's own brute-force readings of simulated records (written once, in the role's tests).
from test_report_role import END, RATES, expected_cost, in_october  # pylint: disable=import-error

try:
    import ansible_runner
except ImportError:  # a test-only dependency: its absence is a broken test environment, not a reason to skip
    ansible_runner = None

# Two names that make the same artifact stem (verge_east_example_com): they must stay two systems, two keys.
TWINS = ['verge-east.example.com', 'verge.east.example.com']
NAMES = sorted(['site-%02d' % number for number in range(1, 11)] + TWINS)
REFUSING = 'site-10'
SLICES = 3


def expected_key(name):
    """The artifact key as the role documents it: stem (runs of other characters than letters and digits as _, at most
    40) and the first 12 hex digits of the SHA-1 of the exact name."""
    return 'billing_report_system_%s_%s' % (re.sub('[^A-Za-z0-9]+', '_', name)[:40], hashlib.sha1(name.encode('utf-8')).hexdigest()[:12])


def cost_of(raw):
    return expected_cost(raw)['total']


def runner_env():
    env = dict(ANSIBLE_COLLECTIONS_PATH=COLLECTIONS, ANSIBLE_NOCOLOR='1', ANSIBLE_LOCALHOST_WARNING='0',
               ANSIBLE_INVENTORY_UNPARSED_WARNING='0', ANSIBLE_PYTHON_INTERPRETER=sys.executable, ANSIBLE_RETRY_FILES_ENABLED='0',
               PATH=BIN + os.pathsep + os.environ.get('PATH', ''))
    for name in list(os.environ):  # nothing of the developer's own VergeOS or TLS settings
        if name.startswith(('VERGEOS_', 'VERGE_')) or name in ('REQUESTS_CA_BUNDLE', 'CURL_CA_BUNDLE', 'SSL_CERT_FILE'):
            env[name] = ''
    return env


def artifact_data(run):
    """What AWX stores as the job's artifacts: the artifact_data of the playbook_on_stats event."""
    stats = [event for event in run.events if event.get('event') == 'playbook_on_stats']
    assert len(stats) == 1, [event.get('event') for event in run.events][-5:]
    return stats[0]['event_data'].get('artifact_data') or {}


def run_playbook(base, ident, playbook, extravars, limit=None):
    return ansible_runner.run_async(private_data_dir=str(base), ident=ident, playbook=playbook, inventory=str(base / 'inventory.json'),
                                    limit=limit, extravars=extravars, envvars=runner_env(), quiet=True, timeout=900)


@pytest.fixture(scope='module')
def fleet(tmp_path_factory):
    assert ansible_runner is not None, 'ansible-runner is not installed: it is a test dependency (tests/requirements-dev.in)'
    base = tmp_path_factory.mktemp('awx')
    sims = {}
    try:
        for index, name in enumerate(NAMES):
            sims[name] = Simulator(records=800, seed=100 + index, end=END, api_key='another-key' if name == REFUSING else API_KEY).start()
        hosts = dict((name, dict(billing_report_host=sim.host, billing_report_ca_path=sim.ca_path)) for name, sim in sims.items())
        inventory = dict(vergeos=dict(hosts=hosts, vars=dict(ansible_connection='local', billing_report_api_key=API_KEY,
                                                             billing_report_rates=RATES)))
        (base / 'inventory.json').write_text(json.dumps(inventory))
        (base / 'project').mkdir()
        reports = base / 'reports'
        slices = [NAMES[number::SLICES] for number in range(SLICES)]
        started = [run_playbook(base, 'slice%d' % (number + 1), 'vergeio.billing.fleet_chargeback',
                                dict(month='2026-10', output_dir=str(reports), consolidate=False), limit=','.join(hosts_))
                   for number, hosts_ in enumerate(slices)]
        runs = []
        for thread, run in started:
            thread.join(900)
            runs.append(run)
        artifacts = {}
        for run in runs:
            artifacts.update(artifact_data(run))  # AWX: a node's extra variables are its parents' artifacts, dict-updated
        consolidated = base / 'fleet-artifacts'
        extravars = dict(artifacts)
        extravars.update(output_dir=str(consolidated))
        thread, from_artifacts = run_playbook(base, 'consolidate', 'vergeio.billing.fleet_consolidate', extravars)
        thread.join(900)
        from_dir = base / 'fleet-dir'
        thread, from_directory = run_playbook(base, 'consolidate-dir', 'vergeio.billing.fleet_consolidate',
                                              dict(billing_report_consolidate_from=str(reports), label='2026-10', output_dir=str(from_dir)))
        thread.join(900)
        yield dict(base=base, sims=sims, slices=slices, runs=runs, artifacts=artifacts, reports=reports,
                   from_artifacts=from_artifacts, consolidated=consolidated, from_directory=from_directory, from_dir=from_dir)
    finally:
        for sim in sims.values():
            sim.stop()


def stdout_of(run):
    return run.stdout.read() if hasattr(run.stdout, 'read') else str(run.stdout)


def per_system_reports(directory):
    reports = {}
    for name in NAMES:
        path = os.path.join(str(directory), '%s-2026-10.json' % name)
        if os.path.exists(path):
            with open(path, encoding='utf-8') as handle:
                reports[name] = json.load(handle)
    return reports


def test_slices_report_their_third_and_publish_each_system(fleet):  # pylint: disable=redefined-outer-name
    for run, hosts in zip(fleet['runs'], fleet['slices']):
        expected_rc = 2 if REFUSING in hosts else 0
        assert run.rc == expected_rc, stdout_of(run)[-4000:]
        assert sorted(run.stats['ok']) == sorted(hosts)  # the slice ran exactly its hosts
    artifacts = fleet['artifacts']
    assert sorted(artifacts) == sorted(expected_key(name) for name in NAMES)
    assert len(set(expected_key(name) for name in TWINS)) == 2  # the twins' keys differ in the hash only
    assert len(set(re.sub('_[0-9a-f]{12}$', '', expected_key(name)) for name in TWINS)) == 1
    for name in NAMES:
        outcome = artifacts[expected_key(name)]
        assert outcome['name'] == name
        if name == REFUSING:
            assert outcome['ok'] is False and 'HTTP 401' in outcome['error'] and outcome['summary'] is None
            continue
        assert outcome['ok'] is True and outcome['error'] is None
        assert outcome['period']['label'] == '2026-10'
        assert outcome['summary']['record_count'] == len(in_october(fleet['sims'][name]))
        assert 'periods' not in outcome['summary']  # artifacts stay small: the breakdown is in the JSON report
        assert 'records' not in outcome and set(outcome['files']) == set(['csv', 'json', 'markdown', 'html'])
    assert len(json.dumps(artifacts)) < 12 * 8000
    assert API_KEY not in json.dumps(artifacts)
    assert not os.path.exists(os.path.join(str(fleet['reports']), 'fleet-2026-10.json'))  # consolidate=false: no slice wrote one


def check_consolidated(directory, reports, sims, with_failed=True):
    with open(os.path.join(str(directory), 'fleet-2026-10.json'), encoding='utf-8') as handle:
        fleet = json.load(handle)
    ok = [name for name in NAMES if name != REFUSING]
    assert sorted(reports) == ok
    for name in ok:  # each per-system report against a brute-force reading of its simulator's records
        raws = in_october(sims[name])
        assert reports[name]['summary']['record_count'] == len(raws)
        assert reports[name]['summary']['cost']['total'] == pytest.approx(math.fsum(cost_of(raw) for raw in raws), rel=1e-9)
    summaries = [reports[name]['summary'] for name in ok]
    totals = fleet['totals']
    if with_failed:
        assert (totals['systems'], totals['reported'], totals['failed']) == (12, 11, 1)
        assert fleet['failed'] == [REFUSING]
    else:  # the system that failed wrote no report, so a directory of reports does not know it
        assert (totals['systems'], totals['reported'], totals['failed']) == (11, 11, 0)
        assert fleet['failed'] == []
    for key in ('record_count', 'total_gpus', 'total_vgpus'):
        assert totals[key] == sum(summary[key] for summary in summaries), key
    for key in ('hours', 'twa_cpu_cores', 'twa_ram_gb', 'twa_storage_used_gb', 'twa_gpus_used', 'twa_vgpus_used'):
        assert totals[key] == pytest.approx(math.fsum(summary[key] for summary in summaries), rel=1e-12), key
    for part in ('cpu', 'ram', 'storage', 'gpu', 'vgpu', 'total'):
        assert totals['cost'][part] == pytest.approx(math.fsum(summary['cost'][part] for summary in summaries), rel=1e-12), part
    assert totals['cost']['currency'] == 'EUR'

    with open(os.path.join(str(directory), 'fleet-2026-10.csv'), encoding='utf-8', newline='') as handle:
        rows = list(csv.DictReader(io.StringIO(handle.read(), newline='')))
    assert [row['system'] for row in rows[:-1]] == (NAMES if with_failed else ok)
    assert [row['status'] for row in rows] == ['failed' if name == REFUSING else 'ok' for name in (NAMES if with_failed else ok)] + ['total']
    for name in TWINS:  # both twins are in the bill, each with its own figures
        assert fleet['systems'][[s['name'] for s in fleet['systems']].index(name)]['summary']['record_count'] == len(in_october(sims[name]))
    total_row = rows[-1]
    assert total_row['system'] == 'fleet total (11 systems)'
    shown = [row for row in rows[:-1] if row['status'] == 'ok']
    assert int(total_row['record_count']) == sum(int(row['record_count']) for row in shown)
    assert float(total_row['cost_total']) == pytest.approx(math.fsum(float(row['cost_total']) for row in shown), rel=1e-12)
    assert total_row['peak_cpu_cores'] == ''  # peaks do not add up across systems

    with open(os.path.join(str(directory), 'fleet-2026-10.html'), encoding='utf-8') as handle:
        html = handle.read()
    assert 'Fleet total (11 systems)' in html
    if with_failed:
        assert '1 system of 12 failed to report' in html and '<b>%s</b>: ' % REFUSING in html and 'HTTP 401' in html
    else:
        assert 'failed to report' not in html
    for name in ok:  # one series per system in each chart drawn
        assert html.count('<title>%s</title>' % name) == html.count('<svg ')
    assert html.count('<svg ') >= 3 and '<script' not in html.lower()
    return fleet


def test_consolidation_from_the_artifacts_adds_up(fleet):  # pylint: disable=redefined-outer-name
    run = fleet['from_artifacts']
    assert run.rc == 0, stdout_of(run)[-4000:]
    check_consolidated(fleet['consolidated'], per_system_reports(fleet['reports']), fleet['sims'])


def test_consolidation_from_a_directory_adds_up_the_same(fleet):  # pylint: disable=redefined-outer-name
    run = fleet['from_directory']
    assert run.rc == 0, stdout_of(run)[-4000:]
    from_dir = check_consolidated(fleet['from_dir'], per_system_reports(fleet['reports']), fleet['sims'], with_failed=False)
    with open(os.path.join(str(fleet['consolidated']), 'fleet-2026-10.json'), encoding='utf-8') as handle:
        from_artifacts = json.load(handle)
    # The failed system is only in the artifacts (it wrote no report): the directory knows 11 systems.
    assert from_dir['totals']['cost'] == from_artifacts['totals']['cost']
