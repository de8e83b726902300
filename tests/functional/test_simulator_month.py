# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vergeio.billing contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""`make simulator`, then `ansible-playbook vergeio.billing.monthly_chargeback -e month=previous`, as the README has it.

The simulator runs as the program `make simulator` runs (its defaults, ending now), the playbook gets nothing but the
environment the simulator printed, and the report of the previous month must cover every hour of that month on the
calendar of UTC and of Europe/Berlin: counted here from the month's bounds (zoneinfo), not from the report code.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import requests

from conftest import ROOT, run_playbook, sim_env  # pylint: disable=import-error

SIM_SCRIPT = os.path.join(ROOT, 'tests', 'simulator', 'vergeos_sim.py')


def previous_month(zone):
    """(label, hours) of the calendar month before this one on ``zone``'s calendar, counted by zoneinfo."""
    here = datetime.now(ZoneInfo(zone))
    this_month = here.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    start = (this_month - timedelta(days=1)).replace(day=1)
    return start.strftime('%Y-%m'), (this_month.timestamp() - start.timestamp()) / 3600


@pytest.fixture(scope='module')
def printed(tmp_path_factory):
    """The simulator as `make simulator` starts it; yields the environment it printed."""
    work = tmp_path_factory.mktemp('simulator')
    ready = work / 'ready.json'
    proc = subprocess.Popen([sys.executable, SIM_SCRIPT, '--print-env', '--cert-dir', str(work), '--ready-file', str(ready)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.time() + 60
        while not ready.exists() and time.time() < deadline and proc.poll() is None:
            time.sleep(0.05)
        assert ready.exists(), proc.stderr.read() if proc.poll() is not None else 'no ready file'
        lines = [proc.stdout.readline() for _line in range(9)]
        yield dict(line[len('export '):].strip().split('=', 1) for line in lines if line.startswith('export '))
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.mark.parametrize('zone', ['UTC', 'Europe/Berlin'])
def test_the_previous_month_is_complete(printed, tmp_path, zone):  # pylint: disable=redefined-outer-name
    label, hours = previous_month(zone)
    env = sim_env(None, extra=printed)
    run = run_playbook('vergeio.billing.monthly_chargeback', env,
                       extra_vars=dict(month='previous', timezone=zone, output_dir=str(tmp_path)))
    assert run.rc == 0, run.output[-3000:]
    with open(str(tmp_path / ('vergeos-%s.json' % label))) as handle:
        report = json.load(handle)
    assert report['period']['label'] == label
    assert report['summary']['hours'] == hours
    assert report['summary']['record_count'] >= hours


def test_every_tenant_sample_of_the_previous_month_is_served(printed):  # pylint: disable=redefined-outer-name
    """Hourly statistics of a tenant that runs all the time (acme), at every hour of the month in both calendars."""
    def get(path, **params):
        resp = requests.get('https://%s/api/v4/%s' % (printed['VERGEOS_HOST'], path), params=params, timeout=30,
                            headers={'Authorization': 'Bearer ' + printed['VERGEOS_API_KEY']}, verify=printed['VERGEOS_CA_PATH'])
        resp.raise_for_status()
        return resp.json()
    acme = [row['$key'] for row in get('tenants', fields='$key,name,is_snapshot', filter="name eq 'acme' and is_snapshot eq false")]
    history = get('tenant_stats_history_long', fields='tenant,timestamp', filter='tenant eq %d' % acme[0])
    stamps = set(int(float(row['timestamp'])) for row in history)
    for zone in ('UTC', 'Europe/Berlin'):
        here = datetime.now(ZoneInfo(zone))
        stop = here.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        start = (stop - timedelta(days=1)).replace(day=1)
        missing = [hour for hour in range(int(start.timestamp()), int(stop.timestamp()) + 1, 3600) if hour not in stamps]
        assert not missing, (zone, missing[:3])
