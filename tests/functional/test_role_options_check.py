# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vergeio.billing contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The billing_report role checks month, timezone, rates and tenants once, before any system reports.

A real ansible-playbook run of playbooks/fleet_chargeback.yml over three inventory hosts, each a simulator: a bad
value must give one message (not one per system, nor a rescue and a "could not report"), write no file, send no
request to any system, and fail the play.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import time
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from conftest import API_KEY, listing, run_module, run_playbook, sim_env  # pylint: disable=import-error
from simulator.vergeos_sim import Simulator  # pylint: disable=import-error

END = 1793491200  # 2026-11-01T00:00:00Z
RATES = dict(core_hour=0.02, ram_gb_hour=0.01, currency='EUR')
SITES = ('site-a', 'site-b', 'site-c')


@pytest.fixture(scope='module')
def sims():
    with Simulator(records=50, seed=1, end=END) as east, Simulator(records=50, seed=2, end=END) as west, \
            Simulator(records=50, seed=3, end=END) as lab:
        yield dict(zip(SITES, (east, west, lab)))


def fleet_run(sims, tmp_path, extra_vars, host_vars=None):  # pylint: disable=redefined-outer-name
    for sim in sims.values():
        sim.reset_log()
    inventory = dict(vergeos=dict(
        hosts=dict((name, dict(billing_report_host=sim.host, billing_report_ca_path=sim.ca_path)) for name, sim in sims.items()),
        vars=dict(dict(ansible_connection='local', billing_report_api_key=API_KEY, billing_report_rates=RATES), **(host_vars or {}))))
    path = tmp_path / 'inventory.json'
    path.write_text(json.dumps(inventory))
    extra = dict(month='2026-10', output_dir=str(tmp_path / 'reports'))
    extra.update(extra_vars)
    return run_playbook('playbooks/fleet_chargeback.yml', sim_env(None), inventory=str(path), extra_vars=extra)


@pytest.mark.parametrize('extra_vars, host_vars, words', [
    (dict(month='2026-13'), None, "month must be a calendar month like 2026-10 (YYYY-MM, 1970 to 9999), previous or current, got '2026-13'"),
    (dict(timezone='Mars/Olympus'), None, "timezone: unknown time zone 'Mars/Olympus'"),
    (dict(), dict(billing_report_rates=dict(core_hour='two cents', currency='EUR')), 'rates.core_hour'),
    (dict(), dict(billing_report_tenants=['acme', '']), 'tenants must be true'),
], ids=['month', 'timezone', 'rates', 'tenants'])
def test_a_bad_option_is_said_once_and_nothing_runs(sims, tmp_path, extra_vars, host_vars, words):  # pylint: disable=redefined-outer-name
    run = fleet_run(sims, tmp_path, extra_vars, host_vars)
    assert run.rc != 0, run.output[-3000:]
    output = ' '.join(run.stdout.split())
    fatal = [line for line in run.stdout.splitlines() if line.startswith('fatal:')]
    assert len(fatal) == 1 and words in ' '.join(fatal[0].split()), run.stdout[-3000:]
    # no per-system failure, rescue or "could not report"; no system task ran at all
    assert 'could not report' not in output and 'Report on the VergeOS system' not in output
    assert all(run.stats[site]['rescued'] == 0 for site in SITES), run.stats
    assert sum(run.stats[site]['failed'] for site in SITES) == 1, run.stats
    assert not os.path.exists(str(tmp_path / 'reports'))
    assert all(sim.requests_log() == [] for sim in sims.values())


def test_good_options_pass_the_check_and_every_system_reports(sims, tmp_path):  # pylint: disable=redefined-outer-name
    run = fleet_run(sims, tmp_path, dict())
    assert run.rc == 0, run.output[-3000:]
    assert 'fatal:' not in run.stdout
    written = listing(tmp_path / 'reports')
    assert written == sorted('%s-2026-10.%s' % (name, ext) for name in SITES + ('fleet',) for ext in ('csv', 'json', 'md', 'html'))
    assert all(sim.count('GET', '/api/v4/billing') >= 1 for sim in sims.values())


def test_validate_only_checks_without_connecting_or_writing(sims, tmp_path):  # pylint: disable=redefined-outer-name
    sim = sims['site-a']
    sim.reset_log()
    dest = tmp_path / 'not-made'
    args = dict(validate_only=True, month='2026-10', timezone='Europe/Berlin', dest=str(dest), rates=RATES, tenants=True)
    run = run_module('verge_billing_report', args, sim_env(sim))
    assert run.rc == 0 and run.result['changed'] is False, run.output[-2000:]
    berlin = ZoneInfo('Europe/Berlin')
    start = int(datetime(2026, 10, 1, tzinfo=berlin).timestamp())
    end = int(datetime(2026, 11, 1, tzinfo=berlin).timestamp())
    period = run.result['period']
    assert (period['label'], period['since_epoch'], period['until_epoch']) == ('2026-10', start, end - 1)
    assert (end - start) / 3600 == 745
    before = int(time.time())
    run = run_module('verge_billing_report', dict(validate_only=True, since='-1d', dest=str(dest)), sim_env(sim))
    assert run.rc == 0 and before - 86400 - 5 <= run.result['period']['since_epoch'] <= before - 86400 + 60
    assert before - 5 <= run.result['period']['until_epoch'] <= int(time.time())
    assert sim.requests_log() == [] and not dest.exists()
