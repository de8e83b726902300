# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vergeio.billing contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The billing_report role with budgets, run the way AWX runs it (ansible-runner): the flags in the reports and in the
``set_stats`` artifact, and ``billing_report_fail_on_budget: true`` failing the play after everything is written."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import re
import time
from datetime import datetime, timezone

import pytest

from conftest import API_KEY  # pylint: disable=import-error
from simulator.vergeos_sim import Simulator, make_tenant_data  # pylint: disable=import-error
from test_fleet_runner import artifact_data, expected_key, runner_env, stdout_of  # pylint: disable=import-error

try:
    import ansible_runner
except ImportError:  # a test-only dependency: its absence is a broken test environment, not a reason to skip
    ansible_runner = None

RATES = dict(core_hour=0.02, ram_gb_hour=0.01, tier1_gb_hour=0.0001, currency='EUR')


def play(base, name, role_vars):
    """A playbook of one play on localhost with the role and ``role_vars``; returns its path."""
    path = base / ('%s.json' % name)
    path.write_text(json.dumps([dict(name='Budgets', hosts='verge-east', gather_facts=False,
                                     roles=[dict(role='vergeio.billing.billing_report', vars=role_vars)])]))
    return str(path)


def run(base, ident, playbook):
    assert ansible_runner is not None, 'ansible-runner is not installed: it is a test dependency (tests/requirements-dev.in)'
    return ansible_runner.run(private_data_dir=str(base), ident=ident, playbook=playbook, inventory=str(base / 'inventory.json'),
                              envvars=runner_env(), quiet=True, timeout=900)


@pytest.fixture(scope='module')
def system(tmp_path_factory):
    """One system with hourly records and three tenants up to now: the current month so far."""
    base = tmp_path_factory.mktemp('budgets')
    with Simulator(records=24 * 40, seed=44) as sim:
        data = make_tenant_data(3, seed=44, gaps=False)
        sim.set_tenant_data(data)
        hosts = {'verge-east': dict(ansible_connection='local', billing_report_host=sim.host, billing_report_ca_path=sim.ca_path,
                                    billing_report_api_key=API_KEY)}
        (base / 'inventory.json').write_text(json.dumps(dict(all=dict(hosts=hosts))))
        (base / 'project').mkdir()
        names = sorted(tenant['name'] for tenant in data['tenants'] if not tenant.get('is_snapshot'))
        yield dict(base=base, sim=sim, month=datetime.fromtimestamp(time.time(), timezone.utc).strftime('%Y-%m'), tenants=names)


def role_vars(base, **extra):
    out = dict(billing_report_month='current', billing_report_output_dir=str(base / 'reports'), billing_report_rates=RATES,
               billing_report_formats=['json', 'markdown'], billing_report_name='verge-east')
    out.update(extra)
    return out


def test_a_system_forecast_over_its_budget_is_flagged_published_and_fails_the_play(system):  # pylint: disable=redefined-outer-name
    base = system['base']
    budgets = dict(system=1)
    failing = run(base, 'fail', play(base, 'fail', role_vars(base, billing_report_budgets=budgets, billing_report_fail_on_budget=True)))
    output = stdout_of(failing)
    assert failing.rc != 0 and failing.status == 'failed', output[-3000:]
    assert 'Fail when a budget is exceeded or forecast to be' in output
    assert 'VergeOS system verge-east, %s: system verge-east:' % system['month'] in output and 'budget 1 EUR' in output, output[-3000:]
    # the files were written and the outcome with its flags published before the play failed
    report = os.path.join(str(base / 'reports'), 'verge-east-%s.json' % system['month'])
    with open(report, encoding='utf-8') as handle:
        figures = json.load(handle)['budgets']
    assert figures['system']['forecast_over_budget'] and figures['flagged'] == ['verge-east']
    artifact = artifact_data(failing)[expected_key('verge-east')]
    assert artifact['budgets']['system'] == figures['system'] and artifact['budgets']['flagged'] == ['verge-east']
    # without billing_report_fail_on_budget the play passes and still publishes the flags
    passing = run(base, 'pass', play(base, 'pass', role_vars(base, billing_report_budgets=budgets)))
    assert passing.rc == 0, stdout_of(passing)[-3000:]
    assert artifact_data(passing)[expected_key('verge-east')]['budgets']['system']['forecast_over_budget']
    # a budget the month stays within: no flag, no failure
    variables = role_vars(base, billing_report_budgets=dict(system=10 ** 9), billing_report_fail_on_budget=True)
    within = run(base, 'within', play(base, 'within', variables))
    assert within.rc == 0, stdout_of(within)[-3000:]
    published = artifact_data(within)[expected_key('verge-east')]['budgets']
    assert published['flagged'] == [] and not published['forecast_over_budget']


def test_a_tenant_forecast_over_its_budget_is_flagged_published_and_fails_the_play(system):  # pylint: disable=redefined-outer-name
    base, first = system['base'], system['tenants'][0]
    budgets = dict(system=10 ** 9, tenants={first: 1})
    variables = role_vars(base, billing_report_tenants=True, billing_report_budgets=budgets, billing_report_fail_on_budget=True)
    failing = run(base, 'tenant', play(base, 'tenant', variables))
    output = stdout_of(failing)
    assert failing.rc != 0, output[-3000:]
    assert re.search(r'tenant %s: [0-9.,]+ EUR so far, forecast [0-9.,]+ EUR, budget 1 EUR \(over budget\)' % re.escape(first), output), output[-3000:]
    assert 'system verge-east:' not in output  # the system is within its budget: not named
    overview = os.path.join(str(base / 'reports'), 'verge-east-tenants-%s.json' % system['month'])
    with open(overview, encoding='utf-8') as handle:
        flagged = [item for item in json.load(handle)['budgets']['tenants'] if item['forecast_over_budget']]
    assert [item['name'] for item in flagged] == [first] and not flagged[0]['complete']
    published = artifact_data(failing)[expected_key('verge-east')]['budgets']
    # the artifact keeps the tenants that have a budget: the one flagged here
    assert [item['name'] for item in published['tenants']] == [first] and published['tenants'][0] == flagged[0]
    assert published['flagged'] == [first] and published['forecast_over_budget']
