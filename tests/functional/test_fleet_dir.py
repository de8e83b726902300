# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vergeio.billing contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""verge_billing_fleet_report over a real directory, and the role's artifact keys, through real ansible runs.

The directory holds what verge_billing_report really writes against the simulator (two systems' reports, one system's
tenant reports and tenants overview, one report of September), plus what goes wrong in real directories: a report
with NaN, one with Infinity, one with a negative cost, one with an object where a number belongs, a dangling symbolic
link and a file the user may not read (as root, which reads anything, the fleet module runs without the capabilities
that override file permissions). Expected
figures are computed here from the per-system JSON reports with Fraction and a half-up rounding of the test's own.
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
import shutil
import subprocess
import tempfile
from fractions import Fraction

import pytest

from conftest import BIN, COLLECTIONS, AnsibleRun, listing, run_module, run_playbook, sim_env  # pylint: disable=import-error
from simulator.vergeos_sim import Simulator, make_tenant_data  # pylint: disable=import-error

END = 1793491200  # 2026-11-01T00:00:00Z
RATES = dict(core_hour=0.02, ram_gb_hour=0.01, tier1_gb_hour=0.0001, gpu_hour=1.5, currency='EUR')


def read_json(path):
    with open(path, encoding='utf-8') as handle:
        return json.load(handle)


def write_json(path, data):
    with open(path, 'w', encoding='utf-8') as handle:
        handle.write(json.dumps(data, allow_nan=True))
    os.chmod(path, 0o644)


@pytest.fixture(scope='module')
def written():
    """Real reports: verge-east (with tenants) and verge-west for 2026-10, verge-west for 2026-09, in one directory."""
    base = tempfile.mkdtemp(prefix='fleet-dir.')  # not pytest's private tmp: the unprivileged run must get in
    os.chmod(base, 0o755)
    source = os.path.join(base, 'source')
    try:
        with Simulator(records=24 * 40, seed=21, end=END) as east, Simulator(records=24 * 40, seed=22, end=END) as west:
            east.set_tenant_data(make_tenant_data(3, seed=21, end=END))
            for sim, name, month, tenants in ((east, 'verge-east', '2026-10', True), (west, 'verge-west', '2026-10', False),
                                              (west, 'verge-west', '2026-09', False)):
                run = run_module('verge_billing_report', dict(month=month, dest=source, name=name, rates=RATES, tenants=tenants), sim_env(sim))
                assert run.rc == 0, run.output
        os.chmod(source, 0o755)
        yield dict(base=base, source=source)
    finally:
        shutil.rmtree(base, ignore_errors=True)


def directory(written, name, files):  # pylint: disable=redefined-outer-name
    """A fresh directory ``name`` under the base with copies of ``files`` of the source directory."""
    path = os.path.join(written['base'], name)
    os.mkdir(path)
    os.chmod(path, 0o777)
    for file_name in files:
        shutil.copy(os.path.join(written['source'], file_name), os.path.join(path, file_name))
        os.chmod(os.path.join(path, file_name), 0o644)
    return path


def tenant_files(written, month='2026-10'):  # pylint: disable=redefined-outer-name
    return sorted(name for name in os.listdir(written['source'])
                  if name.startswith('verge-east-') and name.endswith('-%s.json' % month) and name != 'verge-east-%s.json' % month)


def fleet(args, unprivileged=False):
    """``ansible localhost -m vergeio.billing.verge_billing_fleet_report``. With ``unprivileged``, a root run (root
    reads a mode-000 file) drops the capabilities that override file permissions (setpriv), so permissions hold."""
    command = [os.path.join(BIN, 'ansible'), 'localhost', '-m', 'vergeio.billing.verge_billing_fleet_report', '-a', json.dumps(args)]
    if unprivileged and os.geteuid() == 0:
        command = ['setpriv', '--bounding-set', '-dac_override,-dac_read_search', '--'] + command
    proc = subprocess.run(command, env=sim_env(None), capture_output=True, text=True, timeout=300, check=False)
    return AnsibleRun(proc, command)


def half_up(value):
    return Fraction(math.floor(Fraction(repr(float(value))) * 100 + Fraction(1, 2)), 100)


def shown_total(cost):
    """The test's own shown total of a system: each priced part rounded to cents, then added."""
    parts = [cost['cpu'], cost['ram'], cost['gpu'], cost['vgpu']] + list(cost['tiers'].values())
    return sum(half_up(part) for part in parts)


def test_tenant_reports_overview_dangling_link_and_unreadable_file_are_listed(written, tmp_path):  # pylint: disable=redefined-outer-name
    tenants = tenant_files(written)
    assert 'verge-east-tenants-2026-10.json' in tenants and len(tenants) == 4  # three tenant reports and the overview
    path = directory(written, 'listed', ['verge-east-2026-10.json', 'verge-west-2026-10.json', 'verge-east-2026-10.csv'] + tenants)
    os.symlink(os.path.join(path, 'moved-away.json'), os.path.join(path, 'verge-north-2026-10.json'))
    locked = os.path.join(path, 'verge-south-2026-10.json')
    shutil.copy(os.path.join(path, 'verge-west-2026-10.json'), locked)
    os.chmod(locked, 0)
    dest = os.path.join(written['base'], 'listed-out')
    os.mkdir(dest)
    os.chmod(dest, 0o777)
    run = fleet(dict(from_dir=path, dest=dest), unprivileged=True)
    assert run.rc == 0, run.output
    result = run.result
    assert run.result['_status'] == 'CHANGED' and 'skipped' not in result and 'converted to bool' not in run.output
    assert [s['name'] for s in result['systems']] == ['verge-east', 'verge-west']
    reasons = dict((os.path.basename(item['path']), item['reason']) for item in result['not_systems'])
    assert reasons.pop('verge-east-tenants-2026-10.json') == 'a tenants overview (system verge-east)'
    assert reasons.pop('verge-north-2026-10.json') == 'a dangling symbolic link (to %s)' % os.path.join(path, 'moved-away.json')
    assert reasons.pop('verge-south-2026-10.json') == 'cannot be read (Permission denied)'
    assert len(reasons) == 3 and all(re.match(r'^a tenant report \(tenant .+ of system verge-east\)$', r) for r in reasons.values())
    output = ' '.join(run.output.split())  # warnings are wrapped at the terminal's width (2.16)
    for name in ('verge-north-2026-10.json', 'verge-south-2026-10.json'):  # warned: a system may be missing from the bill
        assert re.search(r'\[WARNING\]: from_dir: \S*%s is not in the fleet report' % re.escape(name), output), run.output

    # The figures: the sums of the two system reports only (the tenants' are not added), shown amounts add up.
    reports = [read_json(os.path.join(path, 'verge-%s-2026-10.json' % side)) for side in ('east', 'west')]
    assert result['totals']['record_count'] == sum(r['summary']['record_count'] for r in reports) > 0
    exact = sum(Fraction(r['summary']['cost']['total']) for r in reports)
    assert result['totals']['cost']['total'] == pytest.approx(float(exact), rel=1e-12)
    with open(os.path.join(dest, 'fleet-2026-10.csv'), encoding='utf-8', newline='') as handle:
        rows = list(csv.DictReader(io.StringIO(handle.read(), newline='')))
    assert [row['system'] for row in rows] == ['verge-east', 'verge-west', 'fleet total (2 systems)']
    # One period on every row: the system rows no longer start at their first record's 'from', an hour early.
    assert set((row['period'], row['period_start'], row['period_end']) for row in rows) == set([
        ('2026-10', '2026-10-01T00:00:00+00:00', reports[0]['period']['until'])])
    for row, report in zip(rows, reports):
        assert Fraction(row['cost_total']) == shown_total(report['summary']['cost'])
    assert Fraction(rows[2]['cost_total']) == Fraction(rows[0]['cost_total']) + Fraction(rows[1]['cost_total'])
    with open(os.path.join(dest, 'fleet-2026-10.md'), encoding='utf-8') as handle:
        markdown = handle.read()
    total = Fraction(rows[2]['cost_total'])
    assert '**{:,.2f} EUR**'.format(float(total)) in markdown and '| **Total** | {:,.2f} |'.format(float(total)) in markdown
    assert os.path.exists(os.path.join(dest, 'fleet-2026-10.html'))


@pytest.mark.parametrize('change, words', [
    (lambda d: d['summary']['cost'].update(total=float('nan')), 'summary.cost.total is NaN, not a finite number'),
    (lambda d: d['summary'].update(twa_cpu_cores=float('inf')), 'summary.twa_cpu_cores is Infinity, not a finite number'),
    (lambda d: d['summary']['cost'].update(cpu=-55.6, total=d['summary']['cost']['total'] - d['summary']['cost']['cpu'] - 55.6),
     'summary.cost.cpu is negative (-55.6)'),
    (lambda d: d['summary'].update(hours=dict(value=744)), 'summary.hours must be a number, got an object'),
    (lambda d: d.pop('summary'), 'summary is missing'),
])
def test_damaged_reports_fail_naming_the_file_and_key(written, change, words):  # pylint: disable=redefined-outer-name
    path = directory(written, 'damaged-%s' % hashlib.sha1(words.encode('utf-8')).hexdigest()[:8],
                     ['verge-east-2026-10.json', 'verge-west-2026-10.json'])
    report = os.path.join(path, 'verge-west-2026-10.json')
    data = read_json(report)
    change(data)
    write_json(report, data)
    dest = os.path.join(path, 'out')
    run = fleet(dict(from_dir=path, dest=dest))
    assert run.rc != 0 and run.result['_status'] == 'FAILED!', run.output
    assert run.result['msg'].startswith('from_dir: %s: ' % report) and words in run.result['msg'], run.result['msg']
    assert 'Traceback' not in run.output and not os.path.exists(dest)


def test_two_periods_without_label_fail_naming_both_and_label_picks_one(written):  # pylint: disable=redefined-outer-name
    path = directory(written, 'two-periods', ['verge-east-2026-10.json', 'verge-west-2026-09.json'])
    run = fleet(dict(from_dir=path, dest=os.path.join(path, 'out')))
    assert run.rc != 0, run.output
    assert run.result['msg'] == ('from_dir %s holds reports of more than one period: 2026-09 (%s) and 2026-10 (%s); give label to take '
                                 'one period (a fleet bill adds up one period)'
                                 % (path, os.path.join(path, 'verge-west-2026-09.json'), os.path.join(path, 'verge-east-2026-10.json')))
    run = fleet(dict(from_dir=path, dest=os.path.join(path, 'out'), label='2026-10'))
    assert run.rc == 0, run.output
    assert [s['name'] for s in run.result['systems']] == ['verge-east']
    assert run.result['not_systems'] == [dict(path=os.path.join(path, 'verge-west-2026-09.json'), reason='period 2026-09, not 2026-10')]


def test_a_tenants_only_directory_is_not_consolidated_as_systems(written):  # pylint: disable=redefined-outer-name
    path = directory(written, 'tenants-only', tenant_files(written))
    run = fleet(dict(from_dir=path, dest=os.path.join(path, 'out')))
    assert run.rc != 0, run.output
    msg = run.result['msg']
    assert msg.startswith('no system to report on') and '%s holds no system report, only 4 JSON files that are not' % path in msg
    assert 'verge-east-tenants-2026-10.json (a tenants overview (system verge-east))' in msg
    assert not os.path.exists(os.path.join(path, 'out'))


def test_a_fleet_of_failures_writes_no_files(tmp_path):
    dest = tmp_path / 'out'
    systems = [dict(name='verge-east', ok=False, error='HTTP 401'), dict(name='verge-west', ok=False, error='timed out')]
    run = fleet(dict(systems=systems, dest=str(dest)))
    assert run.rc == 0, run.output
    assert run.result['files'] == {} and run.result['changed'] is False and run.result['failed_systems'] == ['verge-east', 'verge-west']
    assert 'no system reported (2 failed: verge-east, verge-west), so no fleet report was written' in ' '.join(run.output.split())
    assert not dest.exists()
    run = fleet(dict(systems=systems, dest=str(dest), allow_empty=True))  # asked for: a report that names the failures
    assert run.rc == 0 and listing(dest) == ['fleet-mixed.%s' % ext for ext in ('csv', 'html', 'json', 'md')]


# ---- the role's artifact key, rendered by real Ansible ----------------------------------------------------------------

HOSTILE_NAMES = ['verge.east.example.com', 'verge-east.example.com', 'verge_east.example.com', 'VERGE-EAST.example.com',
                 'verge east example com', 'M\u00fcnchen-1', 'Muenchen-1', '\u6771\u4eac', '\u041c\u043e\u0441\u043a\u0432\u0430',
                 'x' * 300, "it's \"quoted\"", '-leading', '123', 'rocket \U0001f680', 'a/b\\c', 'tab\there']


def expected_key(name):
    """The key as the role documents it (independent of the collection's code)."""
    return 'billing_report_system_%s_%s' % (re.sub('[^A-Za-z0-9]+', '_', name)[:40], hashlib.sha1(name.encode('utf-8')).hexdigest()[:12])


def test_the_roles_artifact_key_is_one_per_exact_name(tmp_path):
    vars_file = os.path.join(COLLECTIONS, 'ansible_collections', 'vergeio', 'billing', 'roles', 'billing_report', 'vars', 'main.yml')
    out = tmp_path / 'keys.json'
    playbook = tmp_path / 'keys.yml'
    playbook.write_text('''
- hosts: localhost
  gather_facts: false
  tasks:
    - ansible.builtin.include_vars: {file: "%s"}
    - ansible.builtin.set_fact:
        keys: "{{ keys | default([]) + [billing_report__stats_key] }}"
      vars:
        billing_report_name: "{{ item }}"
      loop: "{{ names }}"
    - ansible.builtin.copy: {content: "{{ keys | to_json }}", dest: "%s"}
''' % (vars_file, out))
    command = [os.path.join(BIN, 'ansible-playbook'), str(playbook), '-e', json.dumps(dict(names=HOSTILE_NAMES))]
    proc = subprocess.run(command, env=sim_env(None), capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    keys = json.loads(out.read_text())
    assert keys == [expected_key(name) for name in HOSTILE_NAMES]
    assert len(set(keys)) == len(HOSTILE_NAMES)
    assert all(re.match(r'^[A-Za-z0-9_]+$', key) for key in keys)


def test_the_role_writes_no_fleet_files_when_every_system_failed(tmp_path):
    """The fleet task of the role over two systems that both refuse the key: each host fails with its own error, the
    fleet module warns, and no fleet-* file is written (the decision is the module's: every path runs it)."""
    with Simulator(records=50, seed=31, end=END, api_key='another-key') as lab, Simulator(records=50, seed=32, end=END, api_key='another-key') as dev:
        inventory = tmp_path / 'inventory.json'
        inventory.write_text(json.dumps(dict(vergeos=dict(
            hosts=dict((name, dict(billing_report_host=sim.host, billing_report_ca_path=sim.ca_path)) for name, sim in (('lab', lab), ('dev', dev))),
            vars=dict(ansible_connection='local', billing_report_api_key='sim-api-key')))))
        out = tmp_path / 'out'
        run = run_playbook('playbooks/fleet_chargeback.yml', sim_env(None), inventory=str(inventory),
                           extra_vars=dict(month='2026-10', output_dir=str(out)))
    assert run.rc == 2 and run.stats['lab']['failed'] == 1 and run.stats['dev']['failed'] == 1, run.output
    assert 'VergeOS system lab could not report' in run.output and 'VergeOS system dev could not report' in run.output
    assert re.search(r'no system reported \(2 failed: dev, lab\), so no fleet report was\s+written', run.output), run.output
    assert not [name for name in (os.listdir(str(out)) if out.exists() else []) if name.startswith('fleet-')]
