# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vergeio.billing contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The client's retry policy, error mapping and masking, with no server (tests/functional/test_faults.py has the
same against the simulator through real Ansible)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import email.utils
import time
from http.client import RemoteDisconnected

import pytest
import requests
from urllib3 import exceptions as urllib3_errors

from ansible_collections.vergeio.billing.plugins.module_utils import _client
from ansible_collections.vergeio.billing.plugins.module_utils._client import (
    BACKOFF_JITTER, MASK, OutcomeUnknown, VergeClient, VergeError, _RetryState, build_retry, host_secrets,
)

API_KEY = 'retry-key-0d9e'
PASSWORD = 'retry-pass-77c1'
URL = 'https://127.0.0.1:1/api/v4/billing'


def new_client(**params):
    base = dict(host='127.0.0.1:1', api_key=API_KEY, username='ops', password=PASSWORD, retries=2, retry_max_wait=0.0)
    base.update(params)
    return VergeClient(base)


# ---------------------------------------------------------------------------------------------------------------
# Waits


@pytest.mark.parametrize('errors, low', [(1, 0.5), (2, 1.0), (3, 2.0), (4, 4.0)])
def test_backoff_doubles_with_bounded_jitter(errors, low):
    state = _RetryState(retries=10, max_wait=100.0, budget=1000.0)
    waits = [state.backoff(errors) for _dummy in range(200)]
    assert all(low <= wait <= low + BACKOFF_JITTER for wait in waits)
    assert len(set(waits)) > 1  # jitter


def test_backoff_is_capped_and_starts_at_zero():
    state = _RetryState(retries=100, max_wait=3.0, budget=1000.0)
    assert state.backoff(0) == 0.0
    assert state.backoff(100) == 3.0


@pytest.mark.parametrize('header, expected', [
    ('5', 5.0), ('0', 0.0), (' 7 ', 7.0), ('3600', 60.0), ('9' * 400, 60.0),
    ('soon', None), ('', None), ('-5', None), ('1.5', None), (None, None),
])
def test_retry_after_is_read_and_capped(header, expected):
    assert _RetryState(retries=1, max_wait=60.0, budget=100.0).retry_after(header) == expected


def test_retry_after_as_a_date():
    state = _RetryState(retries=1, max_wait=60.0, budget=100.0)
    assert 25 <= state.retry_after(email.utils.formatdate(time.time() + 30, usegmt=True)) <= 31
    assert state.retry_after(email.utils.formatdate(time.time() - 300, usegmt=True)) == 0.0
    assert state.retry_after('Fri, 31 Dec 9999 23:59:59 GMT') == 60.0


# ---------------------------------------------------------------------------------------------------------------
# Counting tries and the budget


def test_tries_are_counted_per_request_and_the_budget_per_task():
    state = _RetryState(retries=2, max_wait=1.0, budget=1.0)
    state.begin()
    assert state.allows(0.4)
    state.wait(0.0)
    state.spent += 0.4
    assert state.tries == 2 and state.allows(0.5)
    state.wait(0.0)
    assert state.tries == 3 and not state.allows(0.0)  # retries + 1 tries made
    assert 'retry_budget' not in state.summary()
    state.begin()  # the next request: tries start again, the budget does not
    state.spent = 0.8
    assert not state.allows(0.3) and state.out_of_budget
    assert state.summary() == '1 try; the retry_budget of 1s for this task was spent'


def test_retry_policy_only_retries_reads():
    retry = build_retry(_RetryState(retries=3, max_wait=1.0, budget=10.0))
    assert retry.is_retry('GET', 503) and retry.is_retry('GET', 429)
    assert not retry.is_retry('POST', 503) and not retry.is_retry('POST', 429)
    for status in (400, 401, 403, 404, 409, 422, 500):
        assert not retry.is_retry('GET', status, has_retry_after=True)


def test_a_read_error_on_post_is_raised_not_retried():
    state = _RetryState(retries=3, max_wait=0.0, budget=10.0)
    state.begin()
    error = urllib3_errors.ProtocolError('Connection aborted.', RemoteDisconnected('closed'))
    with pytest.raises(urllib3_errors.ProtocolError):
        build_retry(state).increment('POST', URL, error=error)


def test_a_read_is_retried_until_the_budget_is_spent():
    state = _RetryState(retries=50, max_wait=0.0, budget=0.05)
    state.begin()
    retry = build_retry(state)
    error = urllib3_errors.ReadTimeoutError(None, URL, 'Read timed out.')
    retry = retry.increment('GET', URL, error=error)
    time.sleep(0.06)  # a slow failed try uses the budget up
    with pytest.raises(urllib3_errors.MaxRetryError):
        retry.increment('GET', URL, error=error)
    assert state.out_of_budget


# ---------------------------------------------------------------------------------------------------------------
# The loop for bodies cut off after the headers


class FakeSession:
    """Stands in for requests.Session.request: raises the given exceptions in turn, then answers."""

    def __init__(self, failures, body=b'[]'):
        self.failures = list(failures)
        self.calls = 0
        self.body = body

    def request(self, method, url, **_kwargs):
        self.calls += 1
        if self.failures:
            raise self.failures.pop(0)
        response = requests.Response()
        response.status_code = 200
        response._content = self.body  # pylint: disable=protected-access
        return response


def cut_off():
    return requests.exceptions.ChunkedEncodingError(urllib3_errors.ProtocolError('Response ended prematurely'))


def test_a_cut_off_body_is_read_again_within_the_retries(monkeypatch):
    client = new_client()
    fake = FakeSession([cut_off(), cut_off()])
    monkeypatch.setattr(client.session, 'request', fake.request)
    assert client.request('GET', 'billing', expect=list) == []
    assert fake.calls == 3


def test_a_cut_off_body_fails_after_the_retries(monkeypatch):
    client = new_client()
    fake = FakeSession([cut_off()] * 5)
    monkeypatch.setattr(client.session, 'request', fake.request)
    with pytest.raises(VergeError) as excinfo:
        client.request('GET', 'billing', expect=list)
    assert fake.calls == 3 and 'connection was dropped' in excinfo.value.msg and '3 tries' in excinfo.value.msg


def test_a_cut_off_answer_to_a_post_is_an_unknown_outcome_sent_once(monkeypatch):
    client = new_client()
    fake = FakeSession([cut_off()] * 5)
    monkeypatch.setattr(client.session, 'request', fake.request)
    with pytest.raises(OutcomeUnknown):
        client.request('POST', 'billing_actions', json_body={'action': 'generate'})
    assert fake.calls == 1


# ---------------------------------------------------------------------------------------------------------------
# Error mapping


def max_retry(reason):
    return urllib3_errors.MaxRetryError(None, URL, reason)


@pytest.mark.parametrize('method, exc, cls, words', [
    ('GET', requests.exceptions.ConnectionError(max_retry(urllib3_errors.ReadTimeoutError(None, URL, 'Read timed out.'))),
     VergeError, ['no answer within', 'timeout']),
    ('GET', requests.exceptions.ConnectionError(max_retry(urllib3_errors.ProtocolError('Connection aborted.', RemoteDisconnected('x')))),
     VergeError, ['connection was dropped', 'RemoteDisconnected']),
    ('GET', requests.exceptions.ConnectionError(max_retry(urllib3_errors.NewConnectionError(None, 'Failed to establish: refused'))),
     VergeError, ['Could not reach https://127.0.0.1:1']),
    ('POST', requests.exceptions.ConnectionError(max_retry(urllib3_errors.NewConnectionError(None, 'Failed to establish: refused'))),
     VergeError, ['Could not reach']),
    ('POST', requests.exceptions.ReadTimeout(urllib3_errors.ReadTimeoutError(None, URL, 'Read timed out.')),
     OutcomeUnknown, ['no answer within']),
    ('POST', requests.exceptions.ConnectionError(urllib3_errors.ProtocolError('Connection aborted.', ConnectionResetError(104, 'reset'))),
     OutcomeUnknown, ['dropped after the request was sent']),
    ('GET', requests.exceptions.SSLError(max_retry(urllib3_errors.SSLError('[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed'))),
     VergeError, ['TLS certificate check failed', 'ca_path', 'validate_certs: false', 'nothing was sent']),
    ('GET', requests.exceptions.SSLError(max_retry(urllib3_errors.SSLError("hostname '10.0.0.1' doesn't match 'verge'"))),
     VergeError, ['not for this host name']),
    ('GET', requests.exceptions.SSLError(max_retry(urllib3_errors.SSLError('[SSL: WRONG_VERSION_NUMBER] wrong version number'))),
     VergeError, ['TLS connection to', 'serving HTTPS']),
])
def test_exceptions_become_messages_that_say_what_happened(method, exc, cls, words):
    client = new_client()
    client.retry_state.begin()
    error = client._error(exc, method, 'billing', '%s /api/v4/billing' % method)  # pylint: disable=protected-access
    assert type(error) is cls  # pylint: disable=unidiomatic-typecheck
    for word in words:
        assert word in error.msg, error.msg
    assert 'HTTPSConnectionPool' not in error.msg and API_KEY not in error.msg


def test_untrusted_certificate_names_the_env_bundle(monkeypatch):
    monkeypatch.setenv('REQUESTS_CA_BUNDLE', '/etc/ssl/certs/ca-certificates.crt')
    client = new_client()
    message = client._tls_message('certificate verify failed')  # pylint: disable=protected-access
    assert 'REQUESTS_CA_BUNDLE' in message and '/etc/ssl/certs/ca-certificates.crt' in message


# ---------------------------------------------------------------------------------------------------------------
# Masking and validation


def test_scrub_masks_header_values_whole():
    client = new_client()
    basic = _client.base64.b64encode(('ops:%s' % PASSWORD).encode()).decode()
    text = 'Authorization: Bearer %s, Authorization: Basic %s, pw=%s' % (API_KEY, basic, PASSWORD)
    masked = client.scrub(text)
    assert masked == 'Authorization: %s, Authorization: %s, pw=%s' % (MASK, MASK, MASK)
    assert client.scrub(None) is None


@pytest.mark.parametrize('host, secret', [
    ('https://ops:%s@verge' % PASSWORD, 'ops:%s' % PASSWORD),
    ('ops:%s@verge:8443' % PASSWORD, 'ops:%s' % PASSWORD),
    ('https://a:b@c@verge', 'a:b@c'),
    ('verge.example.com', None),
    (None, None),
])
def test_host_secrets(host, secret):
    assert host_secrets(host) == (set([secret]) if secret else set())


@pytest.mark.parametrize('content, words', [
    (None, 'does not exist'),
    (b'', 'holds no PEM certificate'),
    (b'\x30\x82\x03', 'openssl x509 -inform der'),
])
def test_ca_path_is_checked(tmp_path, content, words):
    path = tmp_path / 'ca.pem'
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(ValueError) as excinfo:
        new_client(ca_path=str(path))
    assert words in str(excinfo.value) and 'ca_path' in str(excinfo.value)


def test_ca_path_directory_and_pem_are_accepted(tmp_path):
    assert new_client(ca_path=str(tmp_path)).verify == str(tmp_path)
    pem = tmp_path / 'ca.pem'
    pem.write_bytes(b'-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n')
    assert new_client(ca_path=str(pem)).verify == str(pem)
    assert new_client(ca_path=str(pem), validate_certs=False).verify is False


def test_api_key_with_a_line_break_is_refused_without_echo():
    with pytest.raises(ValueError) as excinfo:
        new_client(api_key='abc\r\nX-Injected: 1')
    assert 'api_key' in str(excinfo.value) and 'abc' not in str(excinfo.value)
