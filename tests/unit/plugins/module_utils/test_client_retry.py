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
    BACKOFF_JITTER, MASK, OutcomeUnknown, RetryPolicy, VergeError, _Attempt,
)
from ansible_collections.vergeio.billing.plugins.module_utils._connection import host_secrets, open_client

API_KEY = 'retry-key-0d9e'
PASSWORD = 'retry-pass-77c1'
URL = 'https://127.0.0.1:1/api/v4/billing'


def new_client(**params):
    base = dict(host='127.0.0.1:1', api_key=API_KEY, username='ops', password=PASSWORD, retries=2, retry_max_wait=0.0)
    base.update(params)
    return open_client(base)


# ---------------------------------------------------------------------------------------------------------------
# Waits


@pytest.mark.parametrize('errors, low', [(1, 0.5), (2, 1.0), (3, 2.0), (4, 4.0)])
def test_backoff_doubles_with_bounded_jitter(errors, low):
    policy = RetryPolicy(retries=10, max_wait=100.0, budget=1000.0)
    waits = [policy.backoff(errors) for _dummy in range(200)]
    assert all(low <= wait <= low + BACKOFF_JITTER for wait in waits)
    assert len(set(waits)) > 1  # jitter


def test_backoff_is_capped_and_starts_at_zero():
    policy = RetryPolicy(retries=100, max_wait=3.0, budget=1000.0)
    assert policy.backoff(0) == 0.0
    assert policy.backoff(100) == 3.0


@pytest.mark.parametrize('header, expected', [
    ('5', 5.0), ('0', 0.0), (' 7 ', 7.0), ('3600', 60.0), ('9' * 400, 60.0),
    ('soon', None), ('', None), ('-5', None), ('1.5', None), (None, None), ('\u00b2', None), ('\u0663', 3.0),
])
def test_retry_after_is_read_and_capped(header, expected):
    assert RetryPolicy(retries=1, max_wait=60.0, budget=100.0).retry_after(header) == expected


def test_retry_after_as_a_date():
    policy = RetryPolicy(retries=1, max_wait=60.0, budget=100.0)
    assert 25 <= policy.retry_after(email.utils.formatdate(time.time() + 30, usegmt=True)) <= 31
    assert policy.retry_after(email.utils.formatdate(time.time() - 300, usegmt=True)) == 0.0
    assert policy.retry_after('Fri, 31 Dec 9999 23:59:59 GMT') == 60.0


@pytest.mark.parametrize('skew', [-7200, -30, 0, 45, 86400])
def test_retry_after_as_a_date_counts_from_the_answers_date(skew):
    # the server's clock is `skew` seconds off this one: its Retry-After date is 12 s after its own Date
    policy = RetryPolicy(retries=1, max_wait=60.0, budget=100.0)
    server_now = int(time.time()) + skew
    date = email.utils.formatdate(server_now, usegmt=True)
    assert policy.retry_after(email.utils.formatdate(server_now + 12, usegmt=True), date) == 12.0
    assert policy.retry_after(email.utils.formatdate(server_now - 12, usegmt=True), date) == 0.0
    # an unreadable Date: counted from this clock, as before
    assert policy.retry_after(email.utils.formatdate(time.time() + 30, usegmt=True), 'yesterday') >= 25


# ---------------------------------------------------------------------------------------------------------------
# The one retry loop, with a stand-in session (tests/functional/test_faults.py has the same against the simulator)


class FakeSession:
    """Stands in for requests.Session.request: each call takes the next item of ``script``: an exception is
    raised, a number is answered as that HTTP status (the last item repeats); ``sleep`` makes each call slow."""

    def __init__(self, script, body=b'[]', sleep=0.0, headers=None):
        self.script = list(script)
        self.calls = []
        self.body = body
        self.sleep = sleep
        self.headers = headers or {}

    def request(self, method, url, **_kwargs):
        self.calls.append(method)
        if self.sleep:
            time.sleep(self.sleep)
        item = self.script.pop(0) if len(self.script) > 1 else self.script[0]
        if isinstance(item, BaseException):
            raise item
        response = requests.Response()
        response.status_code = item
        response._content = self.body if 200 <= item < 300 else b'{"err": "injected"}'  # pylint: disable=protected-access
        response.headers.update(self.headers)
        return response


def faked(monkeypatch, script, **kwargs):
    client = new_client(**kwargs.pop('params', {}))
    fake = FakeSession(script, **kwargs)
    monkeypatch.setattr(client.session, 'request', fake.request)
    return client, fake


def cut_off():
    return requests.exceptions.ChunkedEncodingError(urllib3_errors.ProtocolError('Response ended prematurely'))


def dropped():
    return requests.exceptions.ConnectionError(urllib3_errors.ProtocolError('Connection aborted.', RemoteDisconnected('closed')))


def refused():
    return requests.exceptions.ConnectionError(urllib3_errors.MaxRetryError(None, URL, urllib3_errors.NewConnectionError(None, 'refused')))


def read_timeout():
    return requests.exceptions.ReadTimeout(urllib3_errors.ReadTimeoutError(None, URL, 'Read timed out.'))


@pytest.mark.parametrize('status', [429, 502, 503, 504])
def test_a_read_is_retried_on_its_statuses_and_traced(monkeypatch, status):
    client, fake = faked(monkeypatch, [status, status, 200])
    assert client.request('GET', 'billing', params=dict(limit=5), expect=list) == []
    assert fake.calls == ['GET'] * 3
    assert client.trace == [dict(method='GET', path='/api/v4/billing', query=dict(limit=5), status=200, bytes=2,
                                 ms=client.trace[0]['ms'], tries=3)]
    assert client.retry_warnings() == ['GET /api/v4/billing was tried 3 times (HTTP %d, HTTP %d, then HTTP 200)' % (status, status)]


@pytest.mark.parametrize('params, sent, lock', [
    (dict(), 'the API key from the api_key option: the key may be wrong, expired or revoked', False),
    (dict(api_key=None), 'the user name and password (HTTP Basic) from the username option and the password option', True),
])
def test_a_401_speaks_of_locking_only_for_a_password(monkeypatch, params, sent, lock):
    """A failed password can lock a user account, an API key cannot: only the former's message says so."""
    client, _fake = faked(monkeypatch, [401], params=params)
    with pytest.raises(VergeError) as excinfo:
        client.request('GET', 'billing', expect=list)
    message = str(excinfo.value)
    assert 'Authentication failed with %s' % sent in message
    assert ('lock' in message) is lock, message
    assert API_KEY not in message and PASSWORD not in message


@pytest.mark.parametrize('status', [400, 401, 403, 404, 409, 422, 500])
def test_other_statuses_are_never_retried(monkeypatch, status):
    client, fake = faked(monkeypatch, [status, 200])
    with pytest.raises(VergeError) as excinfo:
        client.request('GET', 'billing', expect=list)
    assert fake.calls == ['GET'] and excinfo.value.status == status
    assert client.retry_warnings() == [] and client.trace[0]['tries'] == 1 and client.trace[0]['status'] == status


@pytest.mark.parametrize('failure', [503, 502, dropped(), cut_off(), read_timeout()])
def test_a_sent_post_is_never_sent_again(monkeypatch, failure):
    client, fake = faked(monkeypatch, [failure, 201], body=b'{}')
    with pytest.raises(OutcomeUnknown):
        client.request('POST', 'billing_actions', json_body={'action': 'generate'})
    assert fake.calls == ['POST']


def test_a_post_that_could_not_connect_was_not_sent_and_is_tried_again(monkeypatch):
    client, fake = faked(monkeypatch, [refused(), refused(), 201], body=b'{"$key": 1}')
    assert client.request('POST', 'billing_actions', json_body={'action': 'generate'}) == {'$key': 1}
    assert fake.calls == ['POST'] * 3
    assert client.retry_warnings() == ['POST /api/v4/billing_actions was tried 3 times (no connection, no connection, then HTTP 201)']


def test_a_tls_failure_is_never_retried(monkeypatch):
    error = requests.exceptions.SSLError(urllib3_errors.MaxRetryError(None, URL, urllib3_errors.SSLError('certificate verify failed')))
    client, fake = faked(monkeypatch, [error, 200])
    with pytest.raises(VergeError) as excinfo:
        client.request('GET', 'billing', expect=list)
    assert fake.calls == ['GET'] and 'TLS certificate check failed' in excinfo.value.msg


def test_retry_after_replaces_the_backoff(monkeypatch):
    client, fake = faked(monkeypatch, [429, 200], headers={'Retry-After': '1'}, params=dict(retry_max_wait=0.3))
    started = time.monotonic()
    client.request('GET', 'billing', expect=list)
    assert 0.3 <= time.monotonic() - started < 0.6  # Retry-After 1, capped by retry_max_wait (no backoff of 0.5+)
    assert fake.calls == ['GET', 'GET']


def test_the_budget_is_shared_by_every_request_of_the_client(monkeypatch):
    client, fake = faked(monkeypatch, [503], params=dict(retries=50, retry_budget=0.3, retry_max_wait=0.05))
    with pytest.raises(VergeError) as excinfo:
        client.request('GET', 'billing', expect=list)
    first = len(fake.calls)
    assert 3 <= first <= 8  # waits of 0.05s (capped) until 0.3s are spent
    assert 'the retry_budget of 0.3s for this task was spent' in excinfo.value.msg
    with pytest.raises(VergeError):
        client.request('GET', 'billing', expect=list)
    assert len(fake.calls) == first + 1  # the next request has no budget left: tried once


def test_slow_failed_tries_spend_the_budget(monkeypatch):
    client, fake = faked(monkeypatch, [read_timeout()], sleep=0.06, params=dict(retries=50, retry_budget=0.05))
    with pytest.raises(VergeError) as excinfo:
        client.request('GET', 'billing', expect=list)
    assert len(fake.calls) == 1 and 'retry_budget' in excinfo.value.msg and 'no answer within' in excinfo.value.msg


def test_a_cut_off_body_is_read_again_within_the_retries(monkeypatch):
    client, fake = faked(monkeypatch, [cut_off(), cut_off(), 200])
    assert client.request('GET', 'billing', expect=list) == []
    assert len(fake.calls) == 3
    assert client.retry_warnings() == ['GET /api/v4/billing was tried 3 times (connection dropped, connection dropped, then HTTP 200)']


def test_a_cut_off_body_fails_after_the_retries(monkeypatch):
    client, fake = faked(monkeypatch, [cut_off()])
    with pytest.raises(VergeError) as excinfo:
        client.request('GET', 'billing', expect=list)
    assert len(fake.calls) == 3 and 'connection was dropped' in excinfo.value.msg and '3 tries' in excinfo.value.msg
    assert client.trace[0]['status'] is None and client.trace[0]['tries'] == 3
    assert client.retry_warnings() == ['GET /api/v4/billing was tried 3 times (connection dropped, connection dropped, then connection dropped)']


@pytest.mark.parametrize('params', [dict(api_key=API_KEY), dict(username='ops', password=PASSWORD)])
def test_the_trace_never_holds_a_credential(monkeypatch, params):
    client, _fake = faked(monkeypatch, [200])
    client.request('GET', 'billing', params=dict(params, fields='$key', note='x %s' % PASSWORD))
    expected = dict(fields='$key', note='x %s' % MASK)
    if 'username' in params:
        expected['username'] = 'ops'  # not a secret; the password next to it is
    assert client.trace[0]['query'] == expected
    assert API_KEY not in repr(client.trace) and PASSWORD not in repr(client.trace)


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
    attempt = _Attempt()
    attempt.tries = 1
    error = client._error(exc, method, 'billing', '%s /api/v4/billing' % method, attempt)  # pylint: disable=protected-access
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
