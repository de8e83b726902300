# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vergeio.billing contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""HTTP client for the VergeOS REST API v4.

This file knows HTTP and VergeOS conventions (authentication, TLS, retries, paging, error bodies) and nothing
about billing or Ansible: it takes plain settings (base URL, credential, TLS, timeout, retry policy) and records
what it did as plain data (``trace``, ``retried``). The connection options, their environment fallbacks and their
checks live in _connection.py; docs/design.md explains the decisions. Private to the collection (leading
underscore): its API may change in any release.

Decisions:
- One ``requests.Session`` per module run, so every page reuses one TLS connection (keep-alive).
- ``verify=`` is passed on every request. requests would otherwise let ``REQUESTS_CA_BUNDLE``/``CURL_CA_BUNDLE``
  override ``session.verify`` (the reference SDK's bug): ``validate_certs: false`` must mean false.
- One retry loop, here in ``_send`` (urllib3 retries nothing: the adapter has ``max_retries=0``). A read (GET) is
  tried again after 429/502/503/504, a dropped connection, a body cut off after its headers, or a read timeout,
  waiting 0.5s, 1s, 2s, ... plus up to 0.5s of jitter, each wait capped by ``max_wait`` (a ``Retry-After`` header
  replaces the wait, capped the same way).
- The time a task loses to failed tries and the waits between them is bounded by the policy's ``budget``, summed
  over the whole client (every page of a summary): once spent, a failing read is not tried again.
- A request that could not even be connected (refused, DNS, connect timeout) was not sent: any method is tried
  again. Once a POST was sent it is never sent again; when its outcome is unknown (no answer, a dropped
  connection, a 5xx, a 2xx whose body is not JSON) ``OutcomeUnknown`` is raised and the caller decides what to check.
- 401 and 403 are never retried, so a wrong password cannot lock an account; their message says which kind of
  credential was sent and where it came from, never the credential (and speaks of locking only for a password: an
  API key or token locks no account).
- Errors become ``VergeError`` carrying status, method, path and the server's own text. No message contains a
  credential: URLs in messages are scheme, host and path only, the Authorization header is never formatted into
  text, and any text from the server or an exception has the password, key and Basic credential masked.
- With certificate verification on, nothing is sent to a server whose certificate fails the check.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import email.utils
import json
import os
import platform
import random
import time
import traceback
from urllib.parse import quote

from ansible_collections.vergeio.billing.plugins.module_utils._version import COLLECTION_NAME, COLLECTION_VERSION

try:
    import requests
    from requests.adapters import HTTPAdapter
    from urllib3 import exceptions as urllib3_errors
except ImportError:
    HAS_REQUESTS = False
    REQUESTS_IMPORT_ERROR = traceback.format_exc()
else:
    HAS_REQUESTS = True
    REQUESTS_IMPORT_ERROR = None

API_PREFIX = '/api/v4/'
RETRY_STATUSES = (429, 502, 503, 504)
BACKOFF_FACTOR = 0.5
BACKOFF_JITTER = 0.5
MASK = '********'
# Query parameters that are never shown in a trace (none is ever sent; this is the belt to those braces).
SECRET_PARAMS = ('api_key', 'password', 'token', 'authorization', 'key_secret')


class VergeError(Exception):
    """A failure talking to VergeOS, with everything a user needs to fix it."""

    def __init__(self, msg, status=None, method=None, path=None, api_error=None):
        super(VergeError, self).__init__(msg)
        self.msg = msg
        self.status = status
        self.method = method
        self.path = path
        self.api_error = api_error

    def details(self):
        """The keys a module adds to fail_json next to msg."""
        return dict((k, v) for k, v in (
            ('status', self.status), ('method', self.method), ('path', self.path), ('api_error', self.api_error),
        ) if v is not None)

    def reworded(self, msg):
        """A VergeError saying ``msg`` about the same request (status, method, path and the server's text kept)."""
        return VergeError(msg, status=self.status, method=self.method, path=self.path, api_error=self.api_error)


class OutcomeUnknown(VergeError):
    """A request was sent but its outcome is unknown (no answer, dropped connection, 5xx, a 2xx that is not JSON)."""


class RetryPolicy:
    """How reads are retried: ``retries`` more tries per request, waits capped by ``max_wait`` seconds, and at most
    ``budget`` seconds of failed tries and waits over the client's life."""

    def __init__(self, retries=4, max_wait=60.0, budget=300.0):
        self.retries = retries
        self.max_wait = max_wait
        self.budget = budget

    def backoff(self, errors):
        """The wait after ``errors`` consecutive failures: 0.5s, 1s, 2s, ... plus jitter, capped by max_wait."""
        if errors <= 0:
            return 0.0
        value = BACKOFF_FACTOR * 2 ** min(errors - 1, 30) + random.uniform(0, BACKOFF_JITTER)
        return min(value, self.max_wait)

    def retry_after(self, header, date=None):
        """Seconds a Retry-After header asks for (seconds or an HTTP date), capped; None when absent or unreadable.

        An HTTP date is counted from the answer's own ``date`` header when it has one (RFC 9110: the server's clock,
        which may run ahead of or behind this controller's), else from this controller's clock."""
        if header is None:
            return None
        text = str(header).strip()
        if text.isdigit():
            try:
                seconds = float(text)
            except ValueError:  # digits of other scripts ('²', '٣') are digits to isdigit, not to float
                return None
        else:
            then = http_date(text)
            if then is None:
                return None
            sent = http_date(date)
            seconds = then - (time.time() if sent is None else sent)
        return min(max(seconds, 0.0), self.max_wait)


def http_date(text):
    """Epoch seconds of an HTTP date (``Sat, 05 Dec 2026 03:00:00 GMT``), None when absent or unreadable."""
    if not text:
        return None
    try:
        parsed = email.utils.parsedate_tz(str(text).strip())
        return None if parsed is None else email.utils.mktime_tz(parsed)
    except (ValueError, OverflowError, TypeError):
        return None


class Auth:
    """The credential a client sends, and where it came from (for messages only).

    ``kind`` is ``api_key`` or ``token`` (both sent as ``Authorization: Bearer``) or ``basic``; ``source`` names
    where it was set (``the api_key option``, ``VERGE_TOKEN``); ``unused`` says what else was set but not sent.
    """

    NAMES = {'api_key': 'the API key', 'token': 'the API token', 'basic': 'the user name and password (HTTP Basic)'}

    def __init__(self, kind, source, api_key=None, username=None, password=None, unused=None):
        if kind not in self.NAMES:
            raise ValueError('unknown credential kind %r' % kind)
        self.kind = kind
        self.source = source
        self.api_key = api_key
        self.username = username
        self.password = password
        self.unused = unused

    def describe(self):
        """``the API token from VERGE_TOKEN``: what was sent and where it came from, never the secret."""
        return '%s from %s' % (self.NAMES[self.kind], self.source)

    def secrets(self):
        """Every text that would give the credential away, whole header values first."""
        found = []
        if self.api_key:
            found.extend(['Bearer %s' % self.api_key, self.api_key])
        if self.username and self.password:
            basic = base64.b64encode(('%s:%s' % (self.username, self.password)).encode('utf-8')).decode('ascii')
            found.extend(['Basic ' + basic, basic])
        if self.password:
            found.append(self.password)
        return found

    def apply(self, session):
        if self.kind == 'basic':
            session.auth = (self.username, self.password)
        else:
            session.headers['Authorization'] = 'Bearer %s' % self.api_key


class _Attempt:
    """The tries of one request: how many, what each failed one got ('HTTP 503', 'read timeout'), and whether the
    budget stopped them."""

    def __init__(self):
        self.tries = 0
        self.failures = []
        self.out_of_budget = False

    def summary(self, budget):
        """'3 tries', or '2 tries; the retry_budget of 300s for this task was spent', for messages."""
        text = '%d %s' % (self.tries, 'try' if self.tries == 1 else 'tries')
        if self.out_of_budget:
            text += '; the retry_budget of %ss for this task was spent' % format_number(budget)
        return text


def format_number(value):
    """Seconds and other numbers in messages: 30 rather than 30.0, 0.5 as it is."""
    return ('%d' % value) if float(value).is_integer() else ('%s' % value)


class VergeClient:
    """A session to one VergeOS system.

    ``base_url`` is ``https://host[:port]``; ``auth`` an Auth; ``verify`` True, False or a CA file/directory;
    ``timeout`` seconds per try; ``retry`` a RetryPolicy. Every request is recorded in ``trace`` (method, path,
    query, status, bytes, ms, tries) and every retried one in ``retried``.
    """

    def __init__(self, base_url, auth, verify=True, timeout=30.0, retry=None, user_agent=None):
        if not HAS_REQUESTS:
            raise VergeError('The Python library requests is needed on the controller: pip install requests')
        self.base_url = base_url
        self.auth = auth
        self.verify = verify
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        self.spent = 0.0  # seconds of failed tries and waits, against retry.budget
        # seconds VergeOS's clock is ahead of this controller's (negative: behind), from the Date header of the
        # newest answer that had one; None until then
        self.clock_offset = None
        self.trace = []
        self.retried = []
        self._secrets = auth.secrets()
        self.session = requests.Session()
        self.session.headers['User-Agent'] = user_agent or '%s/%s (python-requests %s; Python %s)' % (
            COLLECTION_NAME, COLLECTION_VERSION, requests.__version__, platform.python_version())
        self.session.headers['Accept'] = 'application/json'
        auth.apply(self.session)
        self.session.mount('https://', HTTPAdapter(max_retries=0))

    def scrub(self, text):
        """``text`` with every credential of this client masked (server pages and exception texts may echo them)."""
        if text is None:
            return None
        text = str(text)
        for secret in sorted(self._secrets, key=len, reverse=True):
            if secret and secret in text:
                text = text.replace(secret, MASK)
        return text

    def url(self, path):
        return self.base_url + API_PREFIX + path.lstrip('/')

    def _query(self, params):
        """The query of a request as the trace shows it: no credential, whatever the parameters hold."""
        return dict((str(name), self.scrub(value) if isinstance(value, str) else value)
                    for name, value in (params or {}).items() if str(name).lower() not in SECRET_PARAMS)

    def request(self, method, path, params=None, json_body=None, expect=None):
        """Send one request (with its retries) and return the decoded JSON body (None for an empty body).

        ``expect`` is ``list`` or ``dict`` to reject a body of the wrong shape. Every error is a VergeError
        (OutcomeUnknown when a non-GET request was sent but its outcome is unknown), with credentials masked.
        """
        path = path.lstrip('/')
        where = '%s %s%s' % (method, API_PREFIX, path)
        entry = dict(method=method, path=API_PREFIX + path, query=self._query(params), status=None, bytes=None, ms=None, tries=0)
        attempt = _Attempt()
        started = time.monotonic()
        try:
            response = self._send(method, path, params, json_body, where, attempt)
            entry['status'] = response.status_code
            said = http_date(response.headers.get('Date'))
            if said is not None:
                # a Date header has no fraction (the server's clock, floored): the middle of its second is the best
                # guess, and the offset is known to within a second
                self.clock_offset = int(round(said + 0.5 - time.time()))
            entry['bytes'] = len(response.content)
            return self._decode(response, method, path, where, expect, attempt)
        finally:
            entry['ms'] = round((time.monotonic() - started) * 1000, 1)
            entry['tries'] = attempt.tries
            self.trace.append(entry)
            if attempt.tries > 1:
                # every try but the last failed; the last one got a status, or failed too
                ended = 'HTTP %d' % entry['status'] if entry['status'] is not None else attempt.failures[-1]
                self.retried.append(dict(method=method, path=API_PREFIX + path, tries=attempt.tries,
                                         failures=attempt.failures[:attempt.tries - 1], ended=ended))

    def _send(self, method, path, params, json_body, where, attempt):
        """The one retry loop: the response to the last try, or a VergeError."""
        while True:
            attempt.tries += 1
            began = time.monotonic()
            try:
                response = self.session.request(
                    method, self.url(path), params=params, json=json_body, timeout=self.timeout, verify=self.verify,
                    allow_redirects=False)
            except (requests.exceptions.RequestException, urllib3_errors.HTTPError) as exc:
                self.spent += max(0.0, time.monotonic() - began)
                attempt.failures.append(_failure_name(exc))
                if _may_resend(method, exc) and self._wait_for_next_try(attempt, self.retry.backoff(attempt.tries)):
                    continue
                raise self._error(exc, method, path, where, attempt)
            if method == 'GET' and response.status_code in RETRY_STATUSES:
                self.spent += max(0.0, time.monotonic() - began)
                wait = (self.retry.retry_after(response.headers.get('Retry-After'), response.headers.get('Date'))
                        or self.retry.backoff(attempt.tries))
                attempt.failures.append('HTTP %d' % response.status_code)
                if self._wait_for_next_try(attempt, wait):
                    continue
            return response

    def _wait_for_next_try(self, attempt, wait):
        """Sleep ``wait`` seconds and say True when one more try is within the retries and the budget."""
        if attempt.tries > self.retry.retries:
            return False
        if self.spent + wait > self.retry.budget:
            attempt.out_of_budget = True
            return False
        if wait > 0:
            time.sleep(wait)
        self.spent += wait
        return True

    def retry_warnings(self):
        """One sentence per retried request: method, path, what each failed try got, how many tries, how it ended."""
        return ['%s %s was tried %d times (%s, then %s)' % (
            event['method'], event['path'], event['tries'], ', '.join(event['failures']), event['ended'])
            for event in self.retried]

    def _auth_hint(self, status):
        """What a 401 or 403 means, naming the kind of credential sent and where it came from."""
        if status == 401:
            if self.auth.kind == 'basic':
                # repeated failed logins can lock a user account
                why = 'check the user name and password (not retried, so that failed logins cannot lock the account)'
            else:
                # an API key (or the SDK's token) locks no account: it is wrong, expired or revoked
                why = ('the %s may be wrong, expired or revoked: fix or replace it (not retried)'
                       % ('token' if self.auth.kind == 'token' else 'key'))
            hint = 'Authentication failed with %s: %s' % (self.auth.describe(), why)
            if self.auth.unused:
                hint += '. The %s' % self.auth.unused
            return hint
        if status == 403:
            return ('The account of %s lacks permission for this call (not retried)' % self.auth.describe())
        return None

    def _error(self, exc, method, path, where, attempt):
        """The VergeError for a requests/urllib3 exception (nothing is raised here)."""
        reason = _reason(exc)
        detail = self.scrub(_describe(reason if reason is not None else exc))
        tries = attempt.summary(self.retry.budget)
        if isinstance(exc, requests.exceptions.SSLError) or isinstance(reason, urllib3_errors.SSLError):
            return VergeError(self._tls_message(detail), method=method, path=path)
        if _not_sent(exc):
            # nothing was sent (refused, DNS, unreachable, no TCP connection within timeout): safe for any method
            return VergeError('Could not reach %s (%s); check host, port, DNS and firewalls (%s).'
                              % (self.base_url, detail, tries), method=method, path=path)
        timed_out = isinstance(exc, requests.exceptions.Timeout) or isinstance(reason, urllib3_errors.ReadTimeoutError)
        if method != 'GET':
            if timed_out:
                return OutcomeUnknown('%s: no answer within %ss (%s)' % (where, format_number(self.timeout), detail), method=method, path=path)
            return OutcomeUnknown('%s: the connection dropped after the request was sent (%s)' % (where, detail), method=method, path=path)
        if timed_out:
            return VergeError('%s: no answer within %ss (%s). Raise timeout, or retries and retry_budget.'
                              % (where, format_number(self.timeout), tries), method=method, path=path)
        if isinstance(exc, (requests.exceptions.ConnectionError, requests.exceptions.ChunkedEncodingError)):
            return VergeError('%s: the connection was dropped before a complete answer came (%s; %s). VergeOS drops the '
                              'connections of a session that sends too many requests: run it later, or raise retries and '
                              'retry_max_wait.' % (where, detail, tries), method=method, path=path)
        return VergeError('%s failed: %s (%s)' % (where, detail, tries), method=method, path=path)

    def _tls_message(self, detail):
        if self.verify is False:
            return 'TLS connection to %s failed (%s); certificate checks are off, so this is no certificate problem.' % (
                self.base_url, detail)
        lowered = detail.lower()
        if 'certificate' not in lowered and 'hostname' not in lowered and "doesn't match" not in lowered:
            return 'TLS connection to %s failed (%s). Is host a VergeOS system serving HTTPS on this port?' % (self.base_url, detail)
        if self.verify is True:
            bundle = os.environ.get('REQUESTS_CA_BUNDLE') or os.environ.get('CURL_CA_BUNDLE')
            against = 'the CA bundle %s (from REQUESTS_CA_BUNDLE/CURL_CA_BUNDLE)' % bundle if bundle else "the system's trusted CAs"
        else:
            against = 'ca_path %s' % self.verify
        hint = ''
        if 'hostname' in lowered or "doesn't match" in lowered:
            hint = ' The certificate is not for this host name: set host to a name the certificate was issued for.'
        return ('TLS certificate check failed for %s (%s), verified against %s; nothing was sent.%s To fix it, give the CA '
                'that signed the server certificate as a PEM file with ca_path (or VERGEOS_CA_PATH), or, for a lab '
                'system with a self-signed certificate, set validate_certs: false (or VERGEOS_INSECURE=true).'
                % (self.base_url, detail, against, hint))

    def _decode(self, response, method, path, where, expect, attempt=None):
        status = response.status_code
        if status >= 400 or status < 200 or 300 <= status < 400:
            api_error = _error_text(response, self.scrub)
            hint = self._auth_hint(status) or _STATUS_HINTS.get(status, '')
            if 300 <= status < 400:
                hint = 'Redirects are not followed: give as host the VergeOS system itself'
            msg = '%s returned HTTP %d%s%s' % (where, status, ': %s' % api_error if api_error else '', ('. ' + hint) if hint else '')
            if method == 'GET' and status in RETRY_STATUSES:
                msg += ' (%s)' % attempt.summary(self.retry.budget)
            cls = OutcomeUnknown if method != 'GET' and status >= 500 else VergeError
            raise cls(msg, status=status, method=method, path=path, api_error=api_error)
        text = response.text
        if not text.strip():
            if expect is not None:
                raise VergeError('%s returned HTTP %d with an empty body where a JSON %s was expected'
                                 % (where, status, _JSON_NAMES[expect]), status=status, method=method, path=path)
            return None
        try:
            data = json.loads(text)
        except (ValueError, RecursionError) as exc:
            content_type = response.headers.get('Content-Type', 'none')
            if 'html' in content_type.lower() or text.lstrip().startswith('<'):
                what = 'an HTML page (Content-Type %s) instead of JSON: is host the VergeOS API itself, not a proxy or portal?' % content_type
            else:
                what = 'a body that is not valid JSON (%s; Content-Type %s; %d bytes, starting %r)' % (
                    _short_text(exc), content_type, len(text), self.scrub(text[:4096])[:60])
            msg = '%s returned HTTP %d with %s' % (where, status, what)
            if method != 'GET':
                raise OutcomeUnknown(msg, status=status, method=method, path=path)
            raise VergeError(msg, status=status, method=method, path=path)
        if expect is not None and not isinstance(data, expect):
            raise VergeError('%s returned a JSON %s where a JSON %s was expected' % (where, _json_name(data), _JSON_NAMES[expect]),
                             status=status, method=method, path=path)
        return data

    def get_all(self, path, params, page_size, on_page=None, limit=None):
        """GET every row matching ``params`` by explicit limit/offset paging.

        Returns the rows (or, with ``on_page``, feeds each page to it and returns the row count).
        ``limit`` caps the rows returned. Rows are de-duplicated by ``$key``: a row created while paging
        shifts later pages by one under ``sort=-created``, which repeats a row but never skips one.
        A page that fails (after its retries) fails the whole call: no partial result is ever returned.
        """
        rows = []
        seen = set()
        offset = int(params.get('offset') or 0)
        total = 0
        pages = 0
        # Without a limit, the next page is requested (in one helper thread, over the same session) as soon as this
        # one is known to be full, so the server works on it while this one is counted: the same requests, in the
        # same order, one at a time on the wire. ``on_page`` must therefore not use this client.
        ahead = None
        helper = None
        try:
            while True:
                want = page_size if limit is None else min(page_size, limit - total)
                if want <= 0:
                    break
                try:
                    if ahead is not None:
                        page, ahead = ahead.result(), None
                    else:
                        page = self.request('GET', path, params=dict(params, limit=want, offset=offset), expect=list)
                except VergeError as exc:
                    if pages:
                        exc.msg = '%s. This was page %d (offset %d) after %d rows were read; nothing is reported from a partial read.' % (
                            exc.msg.rstrip('.'), pages + 1, offset, total)
                    raise
                pages += 1
                if limit is None and len(page) >= want:
                    if helper is None:
                        from concurrent.futures import ThreadPoolExecutor  # pylint: disable=import-outside-toplevel
                        helper = ThreadPoolExecutor(max_workers=1)
                    ahead = helper.submit(self.request, 'GET', path, params=dict(params, limit=want, offset=offset + len(page)), expect=list)
                fresh = []
                for row in page:
                    if not isinstance(row, dict):
                        raise VergeError('GET %s%s returned a list holding a JSON %s where objects were expected'
                                         % (API_PREFIX, path, _json_name(row)), method='GET', path=path)
                    key = row.get('$key')
                    if key is not None:
                        if key.__class__ is not str:
                            key = str(key)
                        if key in seen:
                            continue
                        seen.add(key)
                    fresh.append(row)
                if limit is not None:
                    fresh = fresh[:limit - total]
                total += len(fresh)
                if on_page is not None:
                    on_page(fresh)
                else:
                    rows.extend(fresh)
                if len(page) < want:
                    break
                offset += len(page)
        finally:
            if helper is not None:
                helper.shutdown(wait=True)  # a page still being fetched after a failure is awaited, then dropped
        return total if on_page is not None else rows

    def close(self):
        self.session.close()


_JSON_NAMES = {list: 'list (array)', dict: 'object'}


def _json_name(value):
    if isinstance(value, dict):
        return 'object'
    if isinstance(value, list):
        return 'list (array)'
    if isinstance(value, bool):
        return 'boolean'
    if value is None:
        return 'null'
    if isinstance(value, (int, float)):
        return 'number'
    return 'string'


def _not_sent(exc):
    """True when the request never left: no connection could be made (refused, DNS, unreachable, connect timeout)."""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return True
    reason = _reason(exc)
    return isinstance(reason, (urllib3_errors.NewConnectionError, urllib3_errors.ConnectTimeoutError))


def _may_resend(method, exc):
    """Whether a failed try may be made again: never after a TLS failure; any method when nothing was sent; else
    reads only (a dropped connection, a cut-off body, a read timeout)."""
    if isinstance(exc, requests.exceptions.SSLError) or isinstance(_reason(exc), urllib3_errors.SSLError):
        return False
    if _not_sent(exc):
        return True
    return method == 'GET' and isinstance(exc, (requests.exceptions.ConnectionError, requests.exceptions.ChunkedEncodingError,
                                                requests.exceptions.Timeout, urllib3_errors.ProtocolError,
                                                urllib3_errors.ReadTimeoutError))


def _failure_name(exc):
    """A failed try in a retry warning: 'read timeout', 'connection dropped', 'connection refused'."""
    if isinstance(exc, requests.exceptions.Timeout) or isinstance(_reason(exc), urllib3_errors.ReadTimeoutError):
        return 'connect timeout' if _not_sent(exc) else 'read timeout'
    if _not_sent(exc):
        return 'no connection'
    return 'connection dropped'


def _reason(exc):
    """The urllib3 error inside a requests exception, unwrapping MaxRetryError; None when there is none."""
    inner = exc.args[0] if getattr(exc, 'args', None) else None
    if HAS_REQUESTS and isinstance(inner, urllib3_errors.MaxRetryError):
        inner = inner.reason
    return inner if isinstance(inner, BaseException) else None


def _describe(error):
    """A one-line description of a requests/urllib3 error: no pool reprs, no URLs with their query strings."""
    if HAS_REQUESTS and isinstance(error, urllib3_errors.ProtocolError) and len(error.args) > 1 \
            and isinstance(error.args[1], BaseException):
        cause = error.args[1]
        return '%s: %s' % (type(cause).__name__, _short_text(cause) or 'no details')
    if HAS_REQUESTS and isinstance(error, urllib3_errors.ReadTimeoutError):
        return 'read timed out'
    return _short_text(error)


def _short_text(exc):
    """An exception's text on one line, without ``HTTPSConnectionPool(...)`` heads, URLs or ``Caused by`` chains."""
    text = str(exc)
    for marker in (' (Caused by ', ', Caused by '):
        if marker in text:
            head, cause = text.split(marker, 1)
            reason = cause.rstrip(')').split(': ', 1)[-1]
            text = '%s: %s' % (head.split(' with url:', 1)[0], reason)
    if text.startswith(('HTTPSConnectionPool(', 'HTTPConnectionPool(', '<urllib3', 'HTTPSConnection(', 'HTTPConnection(')):
        text = text.split('): ', 1)[-1] if '): ' in text else text
    return text.replace('\n', ' ').replace('\r', ' ')[:300]


_STATUS_HINTS = {
    404: 'Not found',
    405: 'Method not allowed: is host a VergeOS system running API v4?',
    429: 'Rate limited: VergeOS allows about 1,000 requests an hour per API key; run it later, or raise retries and retry_max_wait',
}


def _error_text(response, scrub):
    """The server's own error text from {"err"|"error"|"message": ...}, or a short snippet of a non-JSON body.

    ``scrub`` masks credentials; it runs before the text is cut, so no part of a secret survives the cut.
    """
    try:
        data = response.json()
    except (ValueError, RecursionError):
        data = None
    if isinstance(data, dict):
        for field in ('err', 'error', 'message'):
            if data.get(field):
                return scrub(str(data[field])[:4096])[:500]
    text = (response.text or '').strip()
    if not text:
        return None
    content_type = response.headers.get('Content-Type', '')
    if 'html' in content_type.lower() or text.startswith('<'):
        return "an HTML page (%s) instead of the API's JSON" % (scrub(content_type[:100]) or 'text/html')
    return scrub(text[:4096])[:200].replace('\n', ' ').replace('\r', ' ')


def key_path(endpoint, key):
    return '%s/%s' % (endpoint, quote(str(key), safe=''))
