# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vergeio.billing contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Both modules through real ``ansible`` against the simulator, and a differential test against the reference SDK.

The reference is pyvergeos (the VergeOS Python SDK), talking to the same simulator: our ``summary`` (its first 11
keys), ``latest`` and ``records`` must equal what it computes from the same data.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import math
import re
import subprocess
import sys
import time

import pytest

from conftest import API_KEY, run_module, sim_env  # pylint: disable=import-error

sys.path.insert(0, __file__.rsplit('/functional/', 1)[0])

from simulator.vergeos_sim import Simulator, make_records  # noqa: E402  pylint: disable=wrong-import-position,import-error

import pyvergeos  # noqa: E402  pylint: disable=wrong-import-position  # pinned test dependency: missing must fail, not skip

REFERENCE_SUMMARY_KEYS = ('record_count', 'avg_cpu_utilization', 'peak_cpu_cores', 'avg_ram_utilization', 'peak_ram_gb',
                          'avg_storage_used_gb', 'peak_storage_used_gb', 'total_gpus', 'avg_gpus_used', 'total_vgpus',
                          'avg_vgpus_used')


@pytest.fixture(scope='module')
def clean_sim():
    """A simulator whose records the reference SDK can read (it crashes on nulls: see test_reference_crashes_on_null)."""
    with Simulator(records=10, seed=5) as server:
        server.set_records(make_records(1500, seed=5, quirks=False))
        # Numbers as strings are part of the API's behaviour and the reference handles integer strings: keep some.
        for index, record in enumerate(server.records):
            if record.get('sent') is None:
                record['sent'] = 0  # the reference crashes on a null 'sent' too
            if index % 37 == 0:
                record['used_cores'] = str(record['used_cores'])
                record['tier_1_used'] = str(record['tier_1_used'])
        server.invalidate()
        yield server


@pytest.fixture
def reference(clean_sim, monkeypatch):  # pylint: disable=redefined-outer-name
    monkeypatch.setenv('REQUESTS_CA_BUNDLE', clean_sim.ca_path)
    client = pyvergeos.VergeClient(host=clean_sim.host, token=API_KEY, verify_ssl=True)
    yield client
    client.disconnect()


def reference_value(record, name):
    """Our output name -> the reference BillingRecord property (datetimes as ISO strings, like ours)."""
    value = getattr(record, name)
    if isinstance(value, datetime.datetime):
        return value.isoformat()
    return value


def assert_record_equal(ours, theirs):
    for name, value in ours.items():
        if name == 'key':
            expected = int(theirs.key)
        else:
            expected = reference_value(theirs, name)
        if name == 'sent_epoch' and expected == 0:
            expected = None  # not sent: the reference's sent is None but its sent_epoch 0; ours agree (both null)
        if isinstance(expected, float):
            assert math.isclose(value, expected, rel_tol=1e-12, abs_tol=1e-12), name
        else:
            assert value == expected, name


def window(sim, days):
    newest = max(int(r['created']) for r in sim.records)
    return newest - days * 86400, newest


def test_summary_equals_reference(clean_sim, reference):  # pylint: disable=redefined-outer-name
    since, until = window(clean_sim, 30)
    run = run_module('verge_billing_info', dict(view='summary', since=since, until=until), sim_env(clean_sim))
    assert run.rc == 0, run.output
    ours = run.result['summary']
    theirs = reference.billing.get_summary(since=since, until=until)
    assert theirs['record_count'] > 700
    for key in REFERENCE_SUMMARY_KEYS:
        if isinstance(theirs[key], float):
            assert math.isclose(ours[key], theirs[key], rel_tol=1e-12, abs_tol=1e-12), key
        else:
            assert ours[key] == theirs[key], key


def test_latest_equals_reference(clean_sim, reference):  # pylint: disable=redefined-outer-name
    run = run_module('verge_billing_info', dict(view='latest'), sim_env(clean_sim))
    assert run.rc == 0, run.output
    assert_record_equal(run.result['record'], reference.billing.get_latest())


def test_records_equal_reference(clean_sim, reference):  # pylint: disable=redefined-outer-name
    since, until = window(clean_sim, 3)
    run = run_module('verge_billing_info', dict(since=since, until=until), sim_env(clean_sim))
    assert run.rc == 0, run.output
    ours = run.result['records']
    theirs = reference.billing.list(since=since, until=until)
    assert len(ours) == len(theirs) > 70
    for mine, other in zip(ours, theirs):
        assert_record_equal(mine, other)


def test_reference_crashes_on_null_and_we_do_not(tmp_path):
    """The reference's int(None) bug (docs/design.md, "Reference SDK bugs not repeated"): a null counter crashes it; we count it as 0."""
    with Simulator(records=10, seed=1) as server:
        records = make_records(50, seed=1, quirks=False)
        records[-1]['used_cores'] = None
        records[-1]['description'] = None
        server.set_records(records)
        script = tmp_path / 'ref.py'
        script.write_text(
            'import os, pyvergeos\n'
            'c = pyvergeos.VergeClient(host=%r, token=%r)\n'
            'print(c.billing.get_latest().used_cores)\n' % (server.host, API_KEY))
        proc = subprocess.run([sys.executable, str(script)], env=dict(sim_env(server), REQUESTS_CA_BUNDLE=server.ca_path),
                              capture_output=True, text=True, check=False)
        assert proc.returncode != 0 and 'int()' in proc.stderr
        run = run_module('verge_billing_info', dict(view='latest'), sim_env(server))
        assert run.rc == 0, run.output
        assert run.result['record']['used_cores'] == 0
        assert run.result['record']['description'] == ''


def test_ad_hoc_with_environment_only(sim):
    """The issue's ad hoc command: only VERGEOS_HOST, VERGEOS_API_KEY and VERGEOS_INSECURE=true in the environment."""
    env = sim_env(sim, ca=False, extra=dict(VERGEOS_INSECURE='true'))
    assert 'VERGEOS_CA_PATH' not in env
    run = run_module('verge_billing_info', dict(view='summary', since='-30d'), env)
    assert run.rc == 0, run.output
    summary = run.result['summary']
    assert abs(run.result['range']['since_epoch'] - (time.time() - 86400 * 30)) < 120
    in_range = [r for r in sim.records if run.result['range']['since_epoch'] <= int(r['created']) <= run.result['range']['until_epoch']]
    assert summary['record_count'] == len(in_range)


def test_ad_hoc_verge_family_of_variables(sim):
    """The Python SDK / CLI names (VERGE_HOST, VERGE_TOKEN, VERGE_VERIFY_SSL) work as well."""
    env = sim_env(None, extra=dict(VERGE_HOST=sim.url, VERGE_TOKEN=API_KEY, VERGE_VERIFY_SSL='false'))
    run = run_module('verge_billing_info', dict(view='latest'), env)
    assert run.rc == 0, run.output
    assert run.result['record']['key'] == max(int(r['$key']) for r in sim.records)


def posts(sim):
    return [entry for entry in sim.requests_log() if entry['method'] == 'POST']


def test_generate_sends_exactly_one_post(sim):
    sim.reset_log()
    before = len(sim.records)
    run = run_module('verge_billing_generate', dict(wait=True, poll_interval=0.2, wait_timeout=30), sim_env(sim))
    assert run.rc == 0, run.output
    assert run.result['changed'] is True
    assert len(posts(sim)) == 1
    assert posts(sim)[0]['path'] == '/api/v4/billing_actions'
    assert len(sim.records) == before + 1
    assert run.result['record']['key'] == max(int(r['$key']) for r in sim.records)


def test_generate_check_mode_sends_no_post(sim):
    sim.reset_log()
    before = len(sim.records)
    run = run_module('verge_billing_generate', dict(), sim_env(sim), check=True)
    assert run.rc == 0, run.output
    assert run.result['changed'] is True
    assert not posts(sim)
    assert len(sim.records) == before


def test_generate_min_interval_is_idempotent(sim):
    first = run_module('verge_billing_generate', dict(wait=True, poll_interval=0.2), sim_env(sim))
    assert first.rc == 0 and first.result['changed'], first.output
    sim.reset_log()
    second = run_module('verge_billing_generate', dict(min_interval='1h'), sim_env(sim))
    assert second.rc == 0, second.output
    assert second.result['changed'] is False
    assert second.result['record']['key'] == first.result['record']['key']
    assert not posts(sim)


@pytest.mark.parametrize('offset', [-3700, 3700])
def test_min_interval_is_measured_by_the_vergeos_clock(offset):
    """VergeOS's clock, not the controller's, measures the newest record's age: its created is stamped by that clock.

    Behind by 3,700 s, a record made a minute ago (by VergeOS's clock) looked 3,760 s old to the controller, and
    min_interval: 1h let a second bill through; ahead by 3,700 s, a record two hours old looked 3,500 s old and
    min_interval: 1h held back a bill that was due. Expected ages come from the simulator's records and clock."""
    # the newest record: a minute old (behind) or two hours old (ahead), by the simulator's clock
    server_now = int(time.time()) + offset
    end = server_now - 60 if offset < 0 else server_now - 7200
    with Simulator(records=30, seed=21, interval=600, end=end, clock_offset=offset) as server:
        newest = max(server.records, key=lambda record: int(record['created']))
        run = run_module('verge_billing_generate', dict(min_interval='1h'), sim_env(server))
        assert run.rc == 0, run.output
        age = server.now() - int(newest['created'])
        # a warning Ansible printed (it may wrap it); a Date header has whole seconds, so the offset is +-1 s
        told = re.search(r"VergeOS's clock is (\d+)s (ahead of|behind) this controller's", ' '.join(run.output.split()))
        assert told and abs(int(told.group(1)) - abs(offset)) <= 1, run.output
        assert told.group(2) == ('ahead of' if offset > 0 else 'behind')
        if offset < 0:
            assert age < 3600
            assert run.result['changed'] is False and not posts(server)
            assert "old by VergeOS's clock, younger than min_interval (3600s)" in run.result['skipped_reason']
            assert run.result['record']['key'] == int(newest['$key'])
        else:
            assert age > 3600
            assert run.result['changed'] is True and len(posts(server)) == 1


def test_retry_after_as_a_date_is_counted_by_the_servers_clock():
    """A Retry-After date is counted from the answer's own Date (RFC 9110): VergeOS's clock an hour behind asks
    for 3 s, not for "an hour ago" (0 s, then the 0.5 s backoff)."""
    with Simulator(records=5, seed=22, clock_offset=-3600) as server:
        # the date 3 s after the 503, by the simulator's clock; both headers are floored to the second and written a
        # moment apart, so the wait is 2 to 4 s (counted from this controller's clock: 0 s, then a backoff of <= 1 s)
        server.add_fault(method='GET', path='/api/v4/billing', action='status', status=503, times=1, retry_after_in=3)
        run = run_module('verge_billing_info', dict(view='latest', retry_max_wait=30), sim_env(server), verbosity=3)
        assert run.rc == 0, run.output
        (retried,) = [entry for entry in run.result['api_requests'] if entry['tries'] == 2]
        assert 2000 <= retried['ms'] < 30000


def test_missing_credentials_say_what_to_set(sim):
    env = sim_env(sim, auth=None)
    run = run_module('verge_billing_info', dict(view='latest'), env)
    assert run.rc != 0
    assert 'VERGEOS_API_KEY' in run.result['msg'] and 'Traceback' not in run.output


def test_unreachable_host_says_so():
    env = sim_env(None, extra=dict(VERGEOS_HOST='127.0.0.1:1', VERGEOS_API_KEY=API_KEY))
    run = run_module('verge_billing_info', dict(view='latest', retries=0), env)
    assert run.rc != 0
    assert 'Could not reach https://127.0.0.1:1' in run.result['msg'] and 'Traceback' not in run.output
