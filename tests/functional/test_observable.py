# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vergeio.billing contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""An observable core, through real ``ansible`` / ``ansible-playbook`` runs against the simulator (issue 11):

- at -vvv the result lists every HTTP request (path, query, status, bytes, milliseconds, tries), and they are
  exactly the requests the simulator received;
- a retried request warns at any verbosity; an empty range warns;
- a bad environment value names the variable, a 401 names the kind of credential and where it came from, a bad
  rate names its key and value;
- a summary without ``until`` counts every record the server holds, whichever way its clock is off.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import secrets
import time
from urllib.parse import parse_qsl

import pytest

from conftest import ROOT, run_module, run_playbook, sim_env  # pylint: disable=import-error
from simulator.vergeos_sim import Simulator  # pylint: disable=import-error

API_KEY = 'ob-%s' % secrets.token_hex(12)
PASSWORD = 'pw-%s' % secrets.token_hex(12)
BILLING = '/api/v4/billing'


def said(run, text):
    """Whether Ansible printed ``text`` (white space normalised: warnings may be wrapped)."""
    return ' '.join(text.split()) in ' '.join(run.output.split())


def no_secret(run):
    for secret in (API_KEY, PASSWORD, 'Bearer '):
        assert secret not in run.output, 'secret %r... in the output' % secret[:6]
    assert 'Traceback' not in run.output
    return run


@pytest.fixture
def sim():
    with Simulator(records=2500, seed=11, api_key=API_KEY, password=PASSWORD) as server:
        yield server


def environment(server, **extra):
    return sim_env(server, api_key=API_KEY, password=PASSWORD, extra=extra)


# ---------------------------------------------------------------------------------------------------------------
# The request trace and retry warnings


def test_vvv_lists_every_request_with_path_status_bytes_time_and_tries(sim):
    sim.add_fault(method='GET', path=BILLING, action='status', status=503, times=2)
    run = no_secret(run_module('verge_billing_info', dict(view='summary', page_size=1000, retry_max_wait=0.2), environment(sim), verbosity=3))
    assert run.rc == 0, run.output[-3000:]
    trace = run.result['api_requests']
    received = [entry for entry in sim.requests_log() if entry['path'].startswith('/api/')]
    # one entry per request, retries folded in: 2 503s + the pin + 3 pages of 1000 (the last one short)
    assert len(received) == 2 + 1 + 3
    assert [entry['tries'] for entry in trace] == [3, 1, 1, 1]
    assert sum(entry['tries'] for entry in trace) == len(received)
    answered = [entry for entry in received if entry['status'] == 200]
    for mine, theirs in zip(trace, answered):
        assert mine['method'] == theirs['method'] == 'GET' and mine['path'] == theirs['path'] == BILLING
        assert mine['status'] == 200 and mine['bytes'] == theirs['bytes'] and mine['ms'] > 0
        assert dict((k, str(v)) for k, v in mine['query'].items()) == dict(parse_qsl(theirs['query']))
    assert trace[0]['query']['limit'] == 2 and trace[0]['query']['sort'] == '-created'
    assert [entry['query']['offset'] for entry in trace[1:]] == [0, 1000, 2000]
    # the retried pin waited at least 2 backoffs of 0.2s (capped), which its time includes
    assert trace[0]['ms'] >= 400
    assert said(run, 'GET /api/v4/billing was tried 3 times (HTTP 503, HTTP 503, then HTTP 200)')


def test_no_trace_below_vvv_but_the_retry_warning_at_any_verbosity(sim):
    sim.add_fault(method='GET', path=BILLING, action='status', status=503, times=2, skip=1)
    run = no_secret(run_module('verge_billing_info', dict(view='summary', retry_max_wait=0.1), environment(sim), verbosity=2))
    assert run.rc == 0, run.output[-3000:]
    assert 'api_requests' not in run.result
    assert said(run, '[WARNING]: GET /api/v4/billing was tried 3 times (HTTP 503, HTTP 503, then HTTP 200)')


def test_playbook_with_two_503s_warns_and_traces_at_vvv(sim, tmp_path):
    sim.add_fault(method='GET', path=BILLING, action='status', status=503, times=2)
    playbook = tmp_path / 'summary.yml'
    playbook.write_text('''
- name: Summary against a VergeOS answering 503 twice
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Summarize every record
      vergeio.billing.verge_billing_info:
        view: summary
        retry_max_wait: 0.1
      register: out
    - name: Check what the module returned
      ansible.builtin.assert:
        that:
          - out.summary.record_count == %d
          - out.api_requests | length == 2
          - out.api_requests[0].tries == 3
''' % len(sim.records))
    run = no_secret(run_playbook(str(playbook), environment(sim), verbosity=3))
    assert run.rc == 0, run.output[-4000:]
    assert said(run, 'GET /api/v4/billing was tried 3 times (HTTP 503, HTTP 503, then HTTP 200)')
    assert '"path": "/api/v4/billing"' in run.stdout and '"status": 200' in run.stdout and '"ms":' in run.stdout


def test_a_failed_read_carries_its_trace_and_warns(sim):
    sim.add_fault(method='GET', path=BILLING, action='status', status=502, times=0)
    run = no_secret(run_module('verge_billing_info', dict(view='latest', retries=1, retry_max_wait=0.1), environment(sim), verbosity=3))
    assert run.rc != 0
    assert run.result['api_requests'] == [dict(method='GET', path=BILLING, query=run.result['api_requests'][0]['query'],
                                               status=502, bytes=run.result['api_requests'][0]['bytes'],
                                               ms=run.result['api_requests'][0]['ms'], tries=2)]
    assert said(run, 'GET /api/v4/billing was tried 2 times (HTTP 502, then HTTP 502)')


@pytest.mark.parametrize('args, words', [
    (dict(view='summary', since='2001-01-01', until='2001-01-31'),
     'No billing record in the range 2001-01-01T00:00:00+00:00 to 2001-01-31T23:59:59+00:00: the summary is empty'),
    (dict(view='records', since='2001-01-01', until='2001-01-31', filter='used_cores gt 0'),
     "No billing record in the range 2001-01-01T00:00:00+00:00 to 2001-01-31T23:59:59+00:00 matching filter 'used_cores gt 0': the list is empty"),
    (dict(view='summary', filter='used_cores lt 0'),
     "No billing record in the range the oldest record to the newest record matching filter 'used_cores lt 0': the summary is empty"),
])
def test_an_empty_range_warns_naming_it(sim, args, words):
    run = no_secret(run_module('verge_billing_info', args, environment(sim)))
    assert run.rc == 0, run.output[-3000:]
    assert said(run, '[WARNING]: ' + words), run.output[-2000:]


def test_a_full_range_does_not_warn(sim):
    run = no_secret(run_module('verge_billing_info', dict(view='summary', since='-2d'), environment(sim)))
    assert run.rc == 0 and '[WARNING]' not in run.output, run.output[-2000:]


# ---------------------------------------------------------------------------------------------------------------
# Errors that name their source


@pytest.mark.parametrize('variable, value, words', [
    ('VERGEOS_TIMEOUT', 'abc', ["VERGEOS_TIMEOUT='abc' is not valid", 'a number of seconds more than 0 and at most 86400']),
    ('VERGE_TIMEOUT', '30s', ["VERGE_TIMEOUT='30s' is not valid", 'more than 0']),
    ('VERGEOS_RETRIES', '2.5', ["VERGEOS_RETRIES='2.5' is not valid", 'a whole number']),
    ('VERGE_RETRY_BUDGET', 'lots', ["VERGE_RETRY_BUDGET='lots' is not valid", 'from 0 to 86400']),
    ('VERGEOS_INSECURE', 'maybe', ["VERGEOS_INSECURE='maybe' is not valid", 'true/false, yes/no, on/off or 1/0']),
    ('VERGE_VERIFY_SSL', 'sure', ["VERGE_VERIFY_SSL='sure' is not valid", 'true/false']),
    # parsed, but out of range: the option is named with the variable it came from
    ('VERGEOS_TIMEOUT', '0', ['timeout (from VERGEOS_TIMEOUT) must be a number of seconds more than 0', 'got 0.0']),
    ('VERGEOS_RETRIES', '1000', ['retries (from VERGEOS_RETRIES) must be a whole number', 'got 1000']),
    ('VERGEOS_HOST', 'http://127.0.0.1:1', ['host (from VERGEOS_HOST) must use https']),
])
def test_a_bad_environment_value_names_the_variable_and_sends_nothing(sim, variable, value, words):
    run = no_secret(run_module('verge_billing_info', dict(view='latest'), environment(sim, **{variable: value})))
    assert run.rc != 0
    for word in words:
        assert said(run, word), run.output[-2000:]
    assert "argument '" not in run.result['msg']
    assert sim.requests_log() == []


def test_a_task_option_beats_a_bad_environment_value_it_replaces(sim):
    run = no_secret(run_module('verge_billing_info', dict(view='latest', timeout=12), environment(sim, VERGEOS_TIMEOUT='abc')))
    assert run.rc == 0, run.output[-2000:]


@pytest.mark.parametrize('where, expected, lock', [
    (dict(VERGE_TOKEN='stale-token-1', VERGEOS_USERNAME='admin', VERGEOS_PASSWORD=PASSWORD),
     ['Authentication failed with the API token from VERGE_TOKEN: the token may be wrong, expired or revoked',
      'username and password (VERGEOS_USERNAME and VERGEOS_PASSWORD) were set too but not sent'], False),
    (dict(VERGE_API_KEY='stale-key-2'), ['Authentication failed with the API key from VERGE_API_KEY: the key may be wrong'], False),
    (dict(VERGE_USERNAME='admin', VERGEOS_PASSWORD='wrong-%s' % PASSWORD),
     ['Authentication failed with the user name and password (HTTP Basic) from VERGE_USERNAME and VERGEOS_PASSWORD',
      'so that failed logins cannot lock the account'], True),
])
def test_401_names_the_credential_kind_and_its_source_once(sim, where, expected, lock):
    env = sim_env(sim, auth=None, extra=where)
    run = no_secret(run_module('verge_billing_info', dict(view='latest'), env, verbosity=3))
    assert run.rc != 0 and run.result['status'] == 401
    for words in expected:
        assert said(run, words), run.result['msg']
    # an API key or token cannot lock an account: only a password's message speaks of locking
    assert ('lock' in run.result['msg']) is lock, run.result['msg']
    for value in where.values():
        if value not in ('admin',):
            assert value not in run.output  # neither the token nor the password
    assert len(sim.requests_log()) == 1  # never retried


def test_401_names_the_api_key_option(sim):
    env = sim_env(sim, auth=None)
    run = no_secret(run_module('verge_billing_info', dict(view='latest', api_key='stale-key-3'), env))
    assert run.rc != 0 and 'Authentication failed with the API key from the api_key option' in run.result['msg']
    # (ansible-core itself echoes an ad hoc command line's -a in its error origin: only the module's result is ours)
    assert 'stale-key-3' not in json.dumps(run.result)


def test_a_text_rate_from_a_template_names_its_key_and_value(sim, tmp_path):
    playbook = tmp_path / 'rates.yml'
    playbook.write_text('''
- name: A rate card written as text, as a role's variables often are
  hosts: localhost
  gather_facts: false
  vars:
    core: abc
    ram: "0.01"
  tasks:
    - name: Summarize with a bad rate
      vergeio.billing.verge_billing_info:
        view: summary
        rates:
          core_hour: "{{ core }}"
          ram_gb_hour: "{{ ram }}"
''')
    run = no_secret(run_playbook(str(playbook), environment(sim)))
    assert run.rc != 0
    assert said(run, "rates.core_hour must be a number (a price per unit-hour), got 'abc'"), run.output[-2000:]
    assert '_AnsibleTaggedStr' not in run.output and "argument 'core_hour'" not in run.output


def test_a_text_rate_holding_a_number_is_taken(sim):
    run = no_secret(run_module('verge_billing_info', dict(view='summary', since='-1d', rates=dict(core_hour='0.5')), environment(sim)))
    assert run.rc == 0, run.output[-2000:]
    # independent reference: used_cores x 0.5 x hours of every record created in the range
    until = run.result['range']['until_epoch']
    since = run.result['range']['since_epoch']
    expected = 0.0
    for record in sim.records:
        if since <= int(record['created']) <= until:
            hours = max(int(record['to']) - int(record['from']), 0) / 3600
            expected += int(float(record.get('used_cores') or 0)) * 0.5 * hours
    assert run.result['summary']['cost']['cpu'] == pytest.approx(expected, rel=1e-9)


# ---------------------------------------------------------------------------------------------------------------
# Ranges pinned by the server's clock


@pytest.mark.parametrize('offset', [600, -600])
def test_a_summary_without_until_counts_every_record_whatever_the_server_clock(offset):
    with Simulator(records=1500, seed=5, interval=60, clock_offset=offset, api_key=API_KEY, password=PASSWORD) as server:
        server.generate()  # a record created by the server's clock, this very second
        newest = max(int(record['created']) for record in server.records)
        if offset > 0:
            # the server's newest records are ahead of this machine's clock: a bound from the controller's
            # clock would leave them out
            assert newest > time.time() + 60
        run = no_secret(run_module('verge_billing_info', dict(view='summary', page_size=400), environment(server)))
        assert run.rc == 0, run.output[-3000:]
        assert run.result['summary']['record_count'] == len(server.records) == 1501
        assert run.result['range']['until_epoch'] == newest
        # with since, the same: every record from since on
        since = newest - 3600
        run = no_secret(run_module('verge_billing_info', dict(view='summary', since=since), environment(server)))
        assert run.result['summary']['record_count'] == sum(1 for record in server.records if int(record['created']) >= since)


def test_the_simulator_clock_offset_shows_in_its_date_header():
    import requests  # pylint: disable=import-outside-toplevel
    import email.utils  # pylint: disable=import-outside-toplevel
    with Simulator(records=1, clock_offset=600) as server:
        answer = requests.get(server.url + '/api/v4/billing', verify=server.ca_path, headers={'Authorization': 'Bearer sim-api-key'},
                              timeout=10)
        said_time = email.utils.mktime_tz(email.utils.parsedate_tz(answer.headers['Date']))
        assert 590 <= said_time - time.time() <= 610


def test_the_simulator_program_takes_a_clock_offset(tmp_path):
    import json  # pylint: disable=import-outside-toplevel
    import subprocess  # pylint: disable=import-outside-toplevel
    import sys  # pylint: disable=import-outside-toplevel
    ready = tmp_path / 'ready.json'
    proc = subprocess.Popen([sys.executable, os.path.join(ROOT, 'tests', 'simulator', 'vergeos_sim.py'), '--records', '3',
                             '--interval', '60', '--clock-offset', '-600', '--ready-file', str(ready)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.time() + 30
        while not ready.exists() and time.time() < deadline:
            time.sleep(0.1)
        info = json.loads(ready.read_text())
        import requests  # pylint: disable=import-outside-toplevel
        rows = requests.get(info['url'] + '/api/v4/billing', params=dict(fields='created', sort='-created', limit=1),
                            verify=info['ca_path'], headers={'Authorization': 'Bearer sim-api-key'}, timeout=10).json()
        # the newest record ends at the server's clock floored to the interval and is created 1 to 9 seconds later
        assert time.time() - 600 - 60 <= rows[0]['created'] <= time.time() - 600 + 10
    finally:
        proc.terminate()
        proc.wait(timeout=30)
