# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vergeio.billing contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""HTTP client for the VergeOS REST API v4.

This file knows HTTP and VergeOS conventions (authentication, TLS, retries,
paging, error bodies) and nothing about billing. It is private to the
collection (leading underscore): its API may change in any release.

Decisions:
- One ``requests.Session`` per module run, so every page reuses one TLS
  connection (keep-alive).
- ``verify=`` is passed on every request. requests would otherwise let
  ``REQUESTS_CA_BUNDLE``/``CURL_CA_BUNDLE`` override ``session.verify``
  (the reference SDK's bug): ``validate_certs: false`` must mean false.
- Reads (GET) are retried by urllib3's ``Retry`` (``_Retry`` below) on
  429/502/503/504, dropped connections and read timeouts, with exponential
  backoff (0.5s, 1s, 2s, ...) plus jitter, each wait capped by
  ``retry_max_wait`` (a ``Retry-After`` too). A read whose body is cut off
  after its headers arrived is retried here, within the same count.
- The time a task loses to failed reads and to the waits between their tries
  is bounded by ``retry_budget``, summed over the whole task (every page of a
  summary): once spent, a failing read is not retried again. A task therefore
  lasts at most ``retry_budget + timeout`` seconds longer than it would with no
  errors.
- POST is never retried once sent: ``allowed_methods`` only names GET, so
  urllib3 re-sends a POST only when the connection could not even be opened
  (nothing was sent). When a POST was sent but its outcome is unknown (no
  answer, a dropped connection, a 5xx, a 2xx whose body is not JSON), the
  client raises ``OutcomeUnknown`` and the caller decides what to check.
- 401 and 403 are never retried, so a wrong password cannot lock an account.
- Errors become ``VergeError`` carrying status, method, path and the server's
  own text. No message ever contains credentials: URLs in messages are built
  from the scheme, host and path only, the Authorization header is never
  formatted into text, and any text taken from the server or from an exception
  has the password, the API key and the Basic credential masked (a proxy page
  may echo request headers).
- With certificate verification on, nothing is sent to a server whose
  certificate fails the check: the credentials never reach it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import email.utils
import json
import math
import os
import platform
import random
import time
import traceback

from ansible.module_utils.basic import env_fallback, missing_required_lib
from ansible.module_utils.common.text.converters import to_text
from ansible.module_utils.errors import AnsibleFallbackNotFound
from ansible.module_utils.six.moves.urllib.parse import quote, urlsplit

try:
    import requests
    from requests.adapters import HTTPAdapter
    from urllib3 import exceptions as urllib3_errors
    from urllib3.util.retry import Retry
except ImportError:
    HAS_REQUESTS = False
    REQUESTS_IMPORT_ERROR = traceback.format_exc()
    Retry = object  # so the subclass below can still be defined
else:
    HAS_REQUESTS = True
    REQUESTS_IMPORT_ERROR = None

try:
    from ansible.module_utils.ansible_release import __version__ as ANSIBLE_VERSION
except ImportError:  # pragma: no cover - always present in ansible-core
    ANSIBLE_VERSION = 'unknown'

COLLECTION_NAME = 'vergeio.billing'
COLLECTION_VERSION = '0.1.0'
API_PREFIX = '/api/v4/'

# Environment variables, both families (DESIGN.md section 5). The first one set wins.
ENV = {
    'host': ['VERGEOS_HOST', 'VERGE_HOST'],
    'username': ['VERGEOS_USERNAME', 'VERGE_USERNAME'],
    'password': ['VERGEOS_PASSWORD', 'VERGE_PASSWORD'],
    'api_key': ['VERGEOS_API_KEY', 'VERGE_API_KEY', 'VERGE_TOKEN'],
    'validate_certs': ['VERGEOS_VERIFY_SSL', 'VERGE_VERIFY_SSL'],
    'insecure': ['VERGEOS_INSECURE'],
    'ca_path': ['VERGEOS_CA_PATH', 'VERGE_CA_PATH'],
    'timeout': ['VERGEOS_TIMEOUT', 'VERGE_TIMEOUT'],
    'retries': ['VERGEOS_RETRIES', 'VERGE_RETRIES'],
    'retry_max_wait': ['VERGEOS_RETRY_MAX_WAIT', 'VERGE_RETRY_MAX_WAIT'],
    'retry_budget': ['VERGEOS_RETRY_BUDGET', 'VERGE_RETRY_BUDGET'],
}

RETRY_STATUSES = (429, 502, 503, 504)
BACKOFF_FACTOR = 0.5
BACKOFF_JITTER = 0.5
DEFAULT_TIMEOUT = 30.0
DEFAULT_RETRIES = 4
DEFAULT_RETRY_MAX_WAIT = 60.0
DEFAULT_RETRY_BUDGET = 300.0
# Upper bounds of the connection options (a typo of 10 digits must not hang a nightly job for years).
MAX_TIMEOUT = 86400.0
MAX_RETRIES = 100
MAX_RETRY_MAX_WAIT = 3600.0
MAX_RETRY_BUDGET = 86400.0
TRUE_WORDS = ('1', 'true', 'yes', 'on', 'y', 't')
FALSE_WORDS = ('0', 'false', 'no', 'off', 'n', 'f')
MASK = '********'


class VergeError(Exception):
    """A failure talking to VergeOS, with everything a user needs to fix it."""

    def __init__(self, msg, status=None, method=None, path=None, api_error=None, hint=None):
        super(VergeError, self).__init__(msg)
        self.msg = msg
        self.status = status
        self.method = method
        self.path = path
        self.api_error = api_error
        self.hint = hint

    def details(self):
        """The keys a module adds to fail_json next to msg."""
        return dict((k, v) for k, v in (
            ('status', self.status), ('method', self.method), ('path', self.path), ('api_error', self.api_error),
        ) if v is not None)


class OutcomeUnknown(VergeError):
    """A request was sent but its outcome is unknown (no answer, dropped connection, 5xx, a 2xx that is not JSON)."""


def _validate_certs_fallback():
    """validate_certs from the environment: VERGEOS_VERIFY_SSL/VERGE_VERIFY_SSL, or VERGEOS_INSECURE inverted."""
    for name in ENV['validate_certs']:
        value = os.environ.get(name)
        if value is not None and value.strip():
            return value
    for name in ENV['insecure']:
        value = os.environ.get(name)
        if value is not None and value.strip():
            lowered = value.strip().lower()
            if lowered in TRUE_WORDS:
                return False
            if lowered in FALSE_WORDS:
                return True
            return value  # left for the bool check to reject with the option's name
    raise AnsibleFallbackNotFound()


def connection_argument_spec():
    """The connection options every module shares; documented in doc_fragments/connection.py."""
    return dict(
        host=dict(type='str', fallback=(env_fallback, ENV['host'])),
        username=dict(type='str', fallback=(env_fallback, ENV['username'])),
        password=dict(type='str', no_log=True, fallback=(env_fallback, ENV['password'])),
        api_key=dict(type='str', no_log=True, fallback=(env_fallback, ENV['api_key'])),
        validate_certs=dict(type='bool', default=True, fallback=(_validate_certs_fallback,)),
        ca_path=dict(type='path', fallback=(env_fallback, ENV['ca_path'])),
        timeout=dict(type='float', default=DEFAULT_TIMEOUT, fallback=(env_fallback, ENV['timeout'])),
        retries=dict(type='int', default=DEFAULT_RETRIES, fallback=(env_fallback, ENV['retries'])),
        retry_max_wait=dict(type='float', default=DEFAULT_RETRY_MAX_WAIT, fallback=(env_fallback, ENV['retry_max_wait'])),
        retry_budget=dict(type='float', default=DEFAULT_RETRY_BUDGET, fallback=(env_fallback, ENV['retry_budget'])),
    )


def check_connection_options(params):
    """The numeric connection options, checked; returns (timeout, retries, retry_max_wait, retry_budget).

    Raises ValueError naming the option and the accepted values. ``None`` means the default.
    """
    def number(name, default, low, high, low_open=False):
        value = params.get(name)
        if value is None:
            return default
        try:
            bad = isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
                or value > high or value < low or (low_open and value == low)
        except OverflowError:  # an integer too large for a float
            bad = True
        if bad:
            env = ' (or %s)' % ' / '.join(ENV[name])
            raise ValueError('%s%s must be a number of seconds %s %s and at most %s, got %r'
                             % (name, env, 'more than' if low_open else 'from', _num(low), _num(high), value))
        return value

    timeout = float(number('timeout', DEFAULT_TIMEOUT, 0, MAX_TIMEOUT, low_open=True))
    retries = params.get('retries')
    if retries is None:
        retries = DEFAULT_RETRIES
    if isinstance(retries, bool) or not isinstance(retries, int) or not 0 <= retries <= MAX_RETRIES:
        raise ValueError('retries (or %s) must be a whole number from 0 to %d (how many times a failed read is tried again), got %r'
                         % (' / '.join(ENV['retries']), MAX_RETRIES, retries))
    max_wait = float(number('retry_max_wait', DEFAULT_RETRY_MAX_WAIT, 0, MAX_RETRY_MAX_WAIT))
    budget = float(number('retry_budget', DEFAULT_RETRY_BUDGET, 0, MAX_RETRY_BUDGET))
    return timeout, retries, max_wait, budget


def _num(value):
    return ('%d' % value) if float(value).is_integer() else ('%s' % value)


def parse_host(host):
    """Turn ``host``, ``host:port`` or ``https://host[:port]`` into ``https://host[:port]``.

    Raises ValueError with a message naming the accepted forms.
    """
    forms = "a hostname, 'host:port' or 'https://host[:port]'"
    if host is None or not str(host).strip():
        raise ValueError("host is required: set the host option or VERGEOS_HOST (or VERGE_HOST) to %s" % forms)
    text = str(host).strip()
    if '://' in text:
        scheme = text.split('://', 1)[0].lower()
        if scheme != 'https':
            if '@' in text:
                raise ValueError('host must use https and must not carry credentials; use %s and the username/password '
                                 'or api_key options' % forms)
            raise ValueError("host must use https (VergeOS API v4 is HTTPS only), got scheme %r; use %s" % (scheme[:20], forms))
    else:
        text = 'https://' + text
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as exc:
        if '@' in text:
            raise ValueError('host must not carry credentials; use the username/password or api_key options instead')
        raise ValueError('host %r is not valid (%s); use %s' % (str(host)[:200], exc, forms))
    if parts.username is not None or parts.password is not None or '@' in parts.netloc or '@' in text:
        raise ValueError('host must not carry credentials; use the username/password or api_key options instead')
    if parts.path not in ('', '/') or parts.query or parts.fragment:
        raise ValueError("host %r must not contain a path or query (the collection adds /api/v4/ itself); use %s"
                         % (str(host)[:200], forms))
    hostname = parts.hostname
    if not hostname:
        raise ValueError('host %r has no hostname; use %s' % (str(host)[:200], forms))
    if any(char.isspace() for char in hostname):
        raise ValueError('host %r holds white space; use %s' % (str(host)[:200], forms))
    if ':' in hostname:  # IPv6 literal
        hostname = '[%s]' % hostname
    return 'https://%s%s' % (hostname, ':%d' % port if port else '')


class _RetryState:
    """What the retries of one client have used: tries of the current request, and the task's retry budget."""

    def __init__(self, retries, max_wait, budget):
        self.max_tries = retries + 1
        self.max_wait = max_wait
        self.budget = budget
        self.spent = 0.0
        self.tries = 0
        self.started = time.monotonic()
        self.out_of_budget = False

    def begin(self):
        """A new request: its first try starts now."""
        self.tries = 1
        self.started = time.monotonic()
        self.out_of_budget = False

    def failed(self):
        """The current try failed: its time counts against the budget."""
        self.spent += max(0.0, time.monotonic() - self.started)

    def allows(self, wait):
        """Whether one more try, after ``wait`` seconds, is within the retry count and the budget."""
        if self.tries >= self.max_tries:
            return False
        if self.spent + wait > self.budget:
            self.out_of_budget = True
            return False
        return True

    def wait(self, seconds):
        """Sleep before the next try and count it."""
        if seconds > 0:
            time.sleep(seconds)
        self.spent += seconds
        self.tries += 1
        self.started = time.monotonic()

    def backoff(self, errors):
        """The wait before the next try after ``errors`` consecutive failures: 0.5s, 1s, 2s, ... plus jitter, capped."""
        if errors <= 0:
            return 0.0
        value = BACKOFF_FACTOR * 2 ** min(errors - 1, 30) + random.uniform(0, BACKOFF_JITTER)
        return min(value, self.max_wait)

    def retry_after(self, header):
        """Seconds a Retry-After header asks for (seconds or an HTTP date), capped; None when absent or unreadable."""
        if header is None:
            return None
        text = to_text(header).strip()
        try:
            if text.isdigit():
                seconds = float(text)
            else:
                when = _parse_http_date(text)
                if when is None:
                    return None
                seconds = when - time.time()
        except (ValueError, OverflowError):
            return None
        return min(max(seconds, 0.0), self.max_wait)

    def summary(self):
        """How the last request ended, for messages: '3 tries', or '2 tries; the retry_budget of 300s for this task was spent'."""
        text = '%d %s' % (self.tries, 'try' if self.tries == 1 else 'tries')
        if self.out_of_budget:
            text += '; the retry_budget of %ss for this task was spent' % _num(self.budget)
        return text


def _parse_http_date(text):
    parsed = email.utils.parsedate_tz(text)
    if parsed is None:
        return None
    return email.utils.mktime_tz(parsed)


class _Retry(Retry):
    """urllib3's Retry for reads, bounded by the client's _RetryState.

    - the wait before a try is 0.5s, 1s, 2s, ... plus up to 0.5s of jitter, capped by retry_max_wait; a
      Retry-After header (429, 503) replaces it, capped the same way; an unreadable Retry-After is ignored;
    - a try is made only while the request has tries left and the task's retry budget has room for the
      failed try's time plus the wait; otherwise urllib3 gives up (and returns the last 429/5xx response, or
      raises the last error).
    """

    state = None
    planned_wait = None

    def new(self, **kw):
        new = super(_Retry, self).new(**kw)
        new.state = self.state
        return new

    def get_retry_after(self, response):
        state = self.state
        if state is None:  # pragma: no cover - the client always sets it
            return None
        return state.retry_after(response.headers.get('Retry-After'))

    def get_backoff_time(self):
        if self.state is None:  # pragma: no cover - the client always sets it
            return 0.0
        return self.state.backoff(len(self.history))

    def increment(self, method=None, url=None, response=None, error=None, _pool=None, _stacktrace=None):
        state = self.state
        if state is not None:
            state.failed()
        new = super(_Retry, self).increment(method, url, response, error, _pool, _stacktrace)
        if state is None:  # pragma: no cover
            return new
        wait = None
        if response is not None and response.status in self.RETRY_AFTER_STATUS_CODES:
            wait = new.get_retry_after(response)
        if not wait:
            wait = new.get_backoff_time()
        if not state.allows(wait):
            reason = error or urllib3_errors.ResponseError(
                'too many %s error responses' % (response.status if response is not None else 'error'))
            raise urllib3_errors.MaxRetryError(_pool, url, reason)
        new.planned_wait = wait
        return new

    def sleep(self, response=None):
        if self.state is None:  # pragma: no cover
            return
        wait = self.planned_wait if self.planned_wait is not None else self.get_backoff_time()
        self.state.wait(wait)


def build_retry(state):
    """The urllib3 retry policy for reads. POST is not in allowed_methods, so it is never re-sent once sent."""
    retries = state.max_tries - 1
    retry = _Retry(
        total=retries, connect=retries, read=retries, status=retries, other=0,
        backoff_factor=BACKOFF_FACTOR, status_forcelist=RETRY_STATUSES,
        allowed_methods=frozenset(['GET', 'HEAD']), respect_retry_after_header=True,
        raise_on_status=False, raise_on_redirect=False, redirect=0,
    )
    retry.state = state
    return retry


class VergeClient:
    """A session to one VergeOS system. ``params`` are the connection options of connection_argument_spec()."""

    def __init__(self, params):
        if not HAS_REQUESTS:
            raise VergeError(missing_required_lib('requests'))
        self.base_url = parse_host(params.get('host'))
        self.timeout, retries, max_wait, budget = check_connection_options(params)
        self.verify = self._verify_setting(params)
        self.retry_state = _RetryState(retries, max_wait, budget)
        self._secrets = []
        self.session = requests.Session()
        self.session.headers['User-Agent'] = '%s/%s (ansible-core %s; python-requests %s; Python %s)' % (
            COLLECTION_NAME, COLLECTION_VERSION, ANSIBLE_VERSION, requests.__version__, platform.python_version())
        self.session.headers['Accept'] = 'application/json'
        self._set_auth(params)
        self.session.mount('https://', HTTPAdapter(max_retries=build_retry(self.retry_state)))
        self.request_count = 0

    @staticmethod
    def _verify_setting(params):
        if not params.get('validate_certs', True):
            return False
        ca_path = params.get('ca_path')
        if ca_path:
            _check_ca_path(ca_path)
            return ca_path
        return True

    def _set_auth(self, params):
        api_key = params.get('api_key')
        username = params.get('username')
        password = params.get('password')
        # whole header values first (scrub() replaces the longest first), so an echoed header loses its scheme too
        if api_key:
            self._secrets.extend([to_text('Bearer %s' % api_key), to_text(api_key)])
        if username and password:
            basic = to_text(base64.b64encode(('%s:%s' % (username, password)).encode('utf-8')))
            self._secrets.extend(['Basic ' + basic, basic])
        if password:
            self._secrets.append(to_text(password))
        if api_key:
            # API keys bypass MFA and cannot lock a user account: preferred when both are given.
            if any(char in api_key for char in '\r\n\0'):
                raise ValueError('api_key holds a line break or NUL character; give the key exactly as VergeOS showed it')
            self.session.headers['Authorization'] = 'Bearer %s' % api_key
            self.auth_method = 'api_key'
        elif username and password:
            self.session.auth = (username, password)
            self.auth_method = 'basic'
        else:
            missing = 'password' if username else 'username and password' if not password else 'username'
            raise ValueError(
                'No VergeOS credentials: set api_key (or VERGEOS_API_KEY / VERGE_API_KEY), or username and password '
                '(or VERGEOS_USERNAME and VERGEOS_PASSWORD); %s missing' % missing)

    def scrub(self, text):
        """``text`` with every credential of this client masked (server pages and exception texts may echo them)."""
        if text is None:
            return None
        text = to_text(text)
        for secret in sorted(self._secrets, key=len, reverse=True):
            if secret and secret in text:
                text = text.replace(secret, MASK)
        return text

    def url(self, path):
        return self.base_url + API_PREFIX + path.lstrip('/')

    def request(self, method, path, params=None, json_body=None, expect=None):
        """Send one request and return the decoded JSON body (None for an empty body).

        ``expect`` is ``list`` or ``dict`` to reject a body of the wrong shape. Every error is a VergeError
        (OutcomeUnknown when a non-GET request was sent but its outcome is unknown), with credentials masked.
        """
        where = '%s %s%s' % (method, API_PREFIX, path.lstrip('/'))
        state = self.retry_state
        state.begin()
        while True:
            self.request_count += 1
            try:
                response = self.session.request(
                    method, self.url(path), params=params, json=json_body, timeout=self.timeout, verify=self.verify,
                    allow_redirects=False)
            except (requests.exceptions.ChunkedEncodingError, requests.exceptions.ConnectionError) as exc:
                # The body was cut off (or timed out) after the headers came: urllib3 retries only what happens
                # before the headers, so a read is tried again here, within the same count and budget.
                if method == 'GET' and _body_failure(exc):
                    state.failed()
                    wait = state.backoff(state.tries)
                    if state.allows(wait):
                        state.wait(wait)
                        continue
                raise self._error(exc, method, path, where)
            except (requests.exceptions.RequestException, urllib3_errors.HTTPError) as exc:
                raise self._error(exc, method, path, where)
            return self._decode(response, method, path, where, expect)

    def _error(self, exc, method, path, where):
        """The VergeError for a requests/urllib3 exception (nothing is raised here)."""
        reason = _reason(exc)
        detail = self.scrub(_describe(reason if reason is not None else exc))
        tries = self.retry_state.summary()
        if isinstance(exc, requests.exceptions.SSLError) or isinstance(reason, urllib3_errors.SSLError):
            return VergeError(self._tls_message(detail), method=method, path=path)
        if isinstance(reason, urllib3_errors.ConnectTimeoutError):
            # nothing was sent (refused, DNS, unreachable, no TCP connection within timeout): safe for any method
            return VergeError('Could not reach %s (%s); check host, port, DNS and firewalls (%s).'
                              % (self.base_url, detail, tries), method=method, path=path)
        timed_out = isinstance(exc, requests.exceptions.Timeout) or isinstance(reason, urllib3_errors.ReadTimeoutError)
        if method != 'GET':
            if timed_out:
                return OutcomeUnknown('%s: no answer within %ss (%s)' % (where, _num(self.timeout), detail), method=method, path=path)
            return OutcomeUnknown('%s: the connection dropped after the request was sent (%s)' % (where, detail), method=method, path=path)
        if timed_out:
            return VergeError('%s: no answer within %ss (%s). Raise timeout, or retries and retry_budget.'
                              % (where, _num(self.timeout), tries), method=method, path=path)
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

    def _decode(self, response, method, path, where, expect):
        status = response.status_code
        tries = self.retry_state
        if status >= 400 or status < 200 or 300 <= status < 400:
            api_error = _error_text(response, self.scrub)
            hint = _STATUS_HINTS.get(status, '')
            if 300 <= status < 400:
                hint = 'Redirects are not followed: give as host the VergeOS system itself'
            msg = '%s returned HTTP %d%s%s' % (where, status, ': %s' % api_error if api_error else '', ('. ' + hint) if hint else '')
            if method == 'GET' and status in RETRY_STATUSES:
                msg += ' (%s)' % tries.summary()
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
                            key = str(key) if key.__class__ is int else to_text(key)
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


def _check_ca_path(ca_path):
    """ca_path must be a readable PEM file or a directory; raises ValueError saying how to fix it."""
    if not os.path.exists(ca_path):
        raise ValueError('ca_path %r does not exist; give a PEM CA bundle file or a directory of hashed CA certificates' % ca_path)
    if os.path.isdir(ca_path):
        return
    try:
        with open(ca_path, 'rb') as handle:
            head = handle.read(1024 * 1024)
    except (IOError, OSError) as exc:
        raise ValueError('ca_path %r cannot be read (%s)' % (ca_path, exc.strerror or exc))
    if b'-----BEGIN CERTIFICATE-----' not in head and b'-----BEGIN TRUSTED CERTIFICATE-----' not in head:
        raise ValueError('ca_path %r holds no PEM certificate (-----BEGIN CERTIFICATE-----); give the CA certificate in PEM '
                         'form (a DER file converts with: openssl x509 -inform der -in CA.der -out ca.pem)' % ca_path)


def _reason(exc):
    """The urllib3 error inside a requests exception, unwrapping MaxRetryError; None when there is none."""
    inner = exc.args[0] if getattr(exc, 'args', None) else None
    if HAS_REQUESTS and isinstance(inner, urllib3_errors.MaxRetryError):
        inner = inner.reason
    return inner if isinstance(inner, BaseException) else None


def _body_failure(exc):
    """True when a requests exception means the response body was cut off or timed out after the headers came."""
    if isinstance(exc, requests.exceptions.ChunkedEncodingError):
        return True
    inner = exc.args[0] if getattr(exc, 'args', None) else None
    return isinstance(inner, urllib3_errors.ReadTimeoutError)  # raised bare (no MaxRetryError) only while reading a body


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
    text = to_text(exc)
    for marker in (' (Caused by ', ', Caused by '):
        if marker in text:
            head, cause = text.split(marker, 1)
            reason = cause.rstrip(')').split(': ', 1)[-1]
            text = '%s: %s' % (head.split(' with url:', 1)[0], reason)
    if text.startswith(('HTTPSConnectionPool(', 'HTTPConnectionPool(', '<urllib3', 'HTTPSConnection(', 'HTTPConnection(')):
        text = text.split('): ', 1)[-1] if '): ' in text else text
    return text.replace('\n', ' ').replace('\r', ' ')[:300]


_STATUS_HINTS = {
    401: 'Authentication failed: check api_key, or username and password (not retried, to avoid locking the account)',
    403: 'The account lacks permission for this billing call (not retried)',
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
                return scrub(to_text(data[field])[:4096])[:500]
    text = (response.text or '').strip()
    if not text:
        return None
    content_type = response.headers.get('Content-Type', '')
    if 'html' in content_type.lower() or text.startswith('<'):
        return "an HTML page (%s) instead of the API's JSON" % (scrub(content_type[:100]) or 'text/html')
    return scrub(text[:4096])[:200].replace('\n', ' ').replace('\r', ' ')


def host_secrets(host):
    """The user info of a ``host`` that carries credentials (``https://user:pw@host``), to be masked; else empty.

    Such a host is refused by parse_host without echoing it; this keeps Ansible's own ``invocation`` echo of the
    option from showing the password at -vvv.
    """
    text = to_text(host or '')
    if '@' not in text:
        return set()
    userinfo = text.split('://', 1)[-1].rsplit('@', 1)[0]
    return set([userinfo]) if userinfo else set()


def key_path(endpoint, key):
    return '%s/%s' % (endpoint, quote(to_text(key), safe=''))
