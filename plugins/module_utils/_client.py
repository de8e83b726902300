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
- Reads (GET) are retried by urllib3's ``Retry`` on 429/502/503/504, dropped
  connections and read timeouts, with exponential backoff, jitter and a
  capped ``Retry-After``. POST is never retried: ``allowed_methods`` only
  names GET, so urllib3 re-sends a POST only when the connection could not
  even be opened (nothing was sent). 401 and 403 are never retried, so a
  wrong password cannot lock an account.
- Errors become ``VergeError`` carrying status, method, path and the server's
  own text. No message ever contains credentials: URLs in messages are built
  from the scheme, host and path only, and the Authorization header is never
  formatted into text.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import platform
import traceback

from ansible.module_utils.basic import env_fallback, missing_required_lib
from ansible.module_utils.common.text.converters import to_text
from ansible.module_utils.errors import AnsibleFallbackNotFound
from ansible.module_utils.six.moves.urllib.parse import quote, urlsplit

try:
    import requests
    from requests.adapters import HTTPAdapter
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
}

RETRY_STATUSES = (429, 502, 503, 504)
BACKOFF_FACTOR = 0.5
BACKOFF_JITTER = 0.5
TRUE_WORDS = ('1', 'true', 'yes', 'on', 'y', 't')
FALSE_WORDS = ('0', 'false', 'no', 'off', 'n', 'f')


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
    """A request was sent but its outcome is unknown (timeout, dropped connection, 5xx)."""


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
        timeout=dict(type='float', default=30.0, fallback=(env_fallback, ENV['timeout'])),
        retries=dict(type='int', default=4, fallback=(env_fallback, ENV['retries'])),
        retry_max_wait=dict(type='float', default=60.0, fallback=(env_fallback, ENV['retry_max_wait'])),
    )


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
            raise ValueError("host must use https (VergeOS API v4 is HTTPS only), got scheme %r; use %s" % (scheme, forms))
    else:
        text = 'https://' + text
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as exc:
        raise ValueError('host %r is not valid (%s); use %s' % (_strip_userinfo(str(host)), exc, forms))
    if parts.username is not None or parts.password is not None or '@' in parts.netloc:
        raise ValueError('host must not carry credentials; use the username/password or api_key options instead')
    if parts.path not in ('', '/') or parts.query or parts.fragment:
        raise ValueError("host %r must not contain a path or query (the collection adds /api/v4/ itself); use %s"
                         % (_strip_userinfo(str(host)), forms))
    hostname = parts.hostname
    if not hostname:
        raise ValueError('host %r has no hostname; use %s' % (str(host), forms))
    if ':' in hostname:  # IPv6 literal
        hostname = '[%s]' % hostname
    return 'https://%s%s' % (hostname, ':%d' % port if port else '')


def _strip_userinfo(text):
    if '@' in text:
        scheme, sep, rest = text.rpartition('://')
        return '%s%s%s' % (scheme, sep, rest.split('@', 1)[1])
    return text


class _CappedRetry(Retry):
    """urllib3 Retry whose Retry-After wait is capped (a server asking for an hour must not hang a job)."""

    retry_after_cap = 60.0

    def get_retry_after(self, response):
        value = super(_CappedRetry, self).get_retry_after(response)
        if value is None:
            return None
        return min(max(value, 0.0), self.retry_after_cap)

    def new(self, **kw):
        new = super(_CappedRetry, self).new(**kw)
        new.retry_after_cap = self.retry_after_cap
        return new


def build_retry(retries, max_wait):
    """The urllib3 retry policy for reads. POST is not in allowed_methods, so it is never re-sent once sent."""
    kwargs = dict(
        total=retries, connect=retries, read=retries, status=retries, other=0,
        backoff_factor=BACKOFF_FACTOR, status_forcelist=RETRY_STATUSES,
        allowed_methods=frozenset(['GET', 'HEAD']), respect_retry_after_header=True,
        raise_on_status=False, raise_on_redirect=False, redirect=0,
    )
    try:
        retry = _CappedRetry(backoff_jitter=BACKOFF_JITTER, backoff_max=max_wait, **kwargs)
    except TypeError:  # urllib3 < 2: no jitter or backoff_max arguments
        retry = _CappedRetry(**kwargs)
        retry.DEFAULT_BACKOFF_MAX = max_wait
    retry.retry_after_cap = max_wait
    return retry


class VergeClient:
    """A session to one VergeOS system. ``params`` are the connection options of connection_argument_spec()."""

    def __init__(self, params):
        if not HAS_REQUESTS:
            raise VergeError(missing_required_lib('requests'))
        self.base_url = parse_host(params.get('host'))
        self.timeout = params.get('timeout') or 30.0
        if self.timeout <= 0:
            raise ValueError('timeout must be a positive number of seconds, got %r' % params.get('timeout'))
        retries = params.get('retries')
        retries = 4 if retries is None else retries
        if retries < 0:
            raise ValueError('retries must be 0 or more, got %r' % retries)
        max_wait = params.get('retry_max_wait')
        max_wait = 60.0 if max_wait is None else max_wait
        if max_wait < 0:
            raise ValueError('retry_max_wait must be 0 or more seconds, got %r' % max_wait)
        self.verify = self._verify_setting(params)
        self.session = requests.Session()
        self.session.headers['User-Agent'] = '%s/%s (ansible-core %s; python-requests %s; Python %s)' % (
            COLLECTION_NAME, COLLECTION_VERSION, ANSIBLE_VERSION, requests.__version__, platform.python_version())
        self.session.headers['Accept'] = 'application/json'
        self._set_auth(params)
        adapter = HTTPAdapter(max_retries=build_retry(retries, max_wait))
        self.session.mount('https://', adapter)
        self.request_count = 0

    @staticmethod
    def _verify_setting(params):
        if not params.get('validate_certs', True):
            return False
        ca_path = params.get('ca_path')
        if ca_path:
            if not os.path.exists(ca_path):
                raise ValueError('ca_path %r does not exist; give a PEM CA bundle file or a directory of hashed CA certificates' % ca_path)
            return ca_path
        return True

    def _set_auth(self, params):
        api_key = params.get('api_key')
        username = params.get('username')
        password = params.get('password')
        if api_key:
            # API keys bypass MFA and cannot lock a user account: preferred when both are given.
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

    def url(self, path):
        return self.base_url + API_PREFIX + path.lstrip('/')

    def request(self, method, path, params=None, json_body=None, expect=None):
        """Send one request and return the decoded JSON body (None for an empty body).

        ``expect`` is ``list`` or ``dict`` to reject a body of the wrong shape.
        """
        where = '%s %s%s' % (method, API_PREFIX, path.lstrip('/'))
        self.request_count += 1
        try:
            response = self.session.request(
                method, self.url(path), params=params, json=json_body, timeout=self.timeout, verify=self.verify,
                allow_redirects=False)
        except requests.exceptions.SSLError as exc:
            raise VergeError(
                'TLS certificate check failed for %s (%s). The server certificate is not trusted: give its CA bundle '
                'with ca_path (or VERGEOS_CA_PATH), or set validate_certs: false (VERGEOS_INSECURE=true) for a '
                'self-signed lab system.' % (self.base_url, _short(exc)), method=method, path=path)
        except requests.exceptions.ConnectTimeout as exc:
            raise VergeError('Could not connect to %s within %ss (%s); check host and port, and that the system is up.'
                             % (self.base_url, self.timeout, _short(exc)), method=method, path=path)
        except requests.exceptions.ConnectionError as exc:
            if method != 'GET' and not _is_connect_failure(exc):
                raise OutcomeUnknown('%s: the connection dropped after the request was sent (%s)' % (where, _short(exc)),
                                     method=method, path=path)
            raise VergeError('Could not reach %s (%s); check host, port, DNS and firewalls. %s'
                             % (self.base_url, _short(exc), 'Reads were retried.' if method == 'GET' else ''),
                             method=method, path=path)
        except requests.exceptions.Timeout as exc:
            if method != 'GET':
                raise OutcomeUnknown('%s: no answer within %ss (%s)' % (where, self.timeout, _short(exc)), method=method, path=path)
            raise VergeError('%s: no answer within %ss after retries (%s); raise timeout or retries' % (where, self.timeout, _short(exc)),
                             method=method, path=path)
        except requests.exceptions.RequestException as exc:
            raise VergeError('%s failed: %s' % (where, _short(exc)), method=method, path=path)
        return self._decode(response, method, path, where, expect)

    def _decode(self, response, method, path, where, expect):
        status = response.status_code
        if status >= 400 or status < 200 or 300 <= status < 400:
            api_error = _error_text(response)
            hint = _STATUS_HINTS.get(status, '')
            msg = '%s returned HTTP %d%s%s' % (where, status, ': %s' % api_error if api_error else '', ('. ' + hint) if hint else '')
            cls = OutcomeUnknown if method != 'GET' and status >= 500 else VergeError
            raise cls(msg, status=status, method=method, path=path, api_error=api_error)
        text = response.text
        if not text.strip():
            if expect is list:
                raise VergeError('%s returned an empty body where a JSON list was expected' % where, status=status, method=method, path=path)
            return None
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise VergeError('%s returned a body that is not valid JSON (%s; Content-Type %s; starts with %r)'
                             % (where, exc, response.headers.get('Content-Type', 'unknown'), text[:80]),
                             status=status, method=method, path=path)
        if expect is not None and not isinstance(data, expect):
            raise VergeError('%s returned a JSON %s where a %s was expected' % (where, type(data).__name__, expect.__name__),
                             status=status, method=method, path=path)
        return data

    def get_all(self, path, params, page_size, on_page=None, limit=None):
        """GET every row matching ``params`` by explicit limit/offset paging.

        Returns the rows (or, with ``on_page``, feeds each page to it and returns the row count).
        ``limit`` caps the rows returned. Rows are de-duplicated by ``$key``: a row created while paging
        shifts later pages by one under ``sort=-created``, which repeats a row but never skips one.
        """
        rows = []
        seen = set()
        offset = int(params.get('offset') or 0)
        total = 0
        while True:
            want = page_size if limit is None else min(page_size, limit - total)
            if want <= 0:
                break
            page_params = dict(params, limit=want, offset=offset)
            page = self.request('GET', path, params=page_params, expect=list)
            fresh = []
            for row in page:
                if not isinstance(row, dict):
                    raise VergeError('GET %s%s returned a list holding a %s where objects were expected'
                                     % (API_PREFIX, path, type(row).__name__), method='GET', path=path)
                key = row.get('$key')
                if key is not None:
                    key = to_text(key)
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
        return total if on_page is not None else rows

    def close(self):
        self.session.close()


def _is_connect_failure(exc):
    """True when a ConnectionError happened before anything was sent (refused, DNS, unreachable)."""
    text = repr(exc)
    return any(marker in text for marker in ('NewConnectionError', 'NameResolutionError', 'Failed to establish', 'ConnectTimeout'))


def _short(exc):
    """A one-line description of a requests/urllib3 exception without URLs' query strings or object reprs."""
    text = to_text(exc)
    for marker in (' (Caused by ', ', Caused by '):
        if marker in text:
            head, cause = text.split(marker, 1)
            reason = cause.rstrip(')').split(': ', 1)[-1]
            text = '%s: %s' % (head.split(' with url:', 1)[0], reason)
    return text.replace('\n', ' ')[:300]


_STATUS_HINTS = {
    401: 'Authentication failed: check api_key, or username and password (not retried, to avoid locking the account)',
    403: 'The account lacks permission for this billing call (not retried)',
    404: 'Not found',
    405: 'Method not allowed: is host a VergeOS system running API v4?',
    429: 'Rate limited: VergeOS allows about 1,000 requests an hour per API key; retry later or raise retry_max_wait',
}


def _error_text(response):
    """The server's own error text from {"err"|"error"|"message": ...}, or a short snippet of a non-JSON body."""
    try:
        data = response.json()
    except ValueError:
        data = None
    if isinstance(data, dict):
        for field in ('err', 'error', 'message'):
            if data.get(field):
                return to_text(data[field])[:500]
    text = (response.text or '').strip()
    if not text:
        return None
    content_type = response.headers.get('Content-Type', '')
    if 'html' in content_type or text.startswith('<'):
        return "an HTML page (%s) instead of the API's JSON" % (content_type or 'text/html')
    return text[:200]


def key_path(endpoint, key):
    return '%s/%s' % (endpoint, quote(to_text(key), safe=''))
