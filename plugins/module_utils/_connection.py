# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vergeio.billing contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The connection options every module shares: argument spec, environment fallbacks, checks, and the client.

This is the module side of the connection (docs/design.md, "Layers"): it turns task options and environment
variables into the plain settings ``VergeClient`` takes, and remembers where each value came from, so every
message can name what the user set: ``timeout`` or ``VERGEOS_TIMEOUT``, the ``api_key`` option or
``VERGE_TOKEN``. The options are documented in plugins/doc_fragments/connection.py; a unit test checks both agree.

Environment values are read and checked here, by the fallback itself, before Ansible's type checks run: Ansible
would otherwise reject ``VERGEOS_TIMEOUT=abc`` as "argument 'timeout' is of type str", naming an option the user
never wrote. A bad value is remembered (the option falls back to its default meanwhile) and ``new_module`` fails
with a message naming the variable and the accepted forms.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import math
import os
import platform
from urllib.parse import urlsplit

from ansible.module_utils.errors import AnsibleFallbackNotFound
from ansible.module_utils.parsing.convert_bool import BOOLEANS_FALSE, BOOLEANS_TRUE

from ansible_collections.vergeio.billing.plugins.module_utils._client import Auth, RetryPolicy, VergeClient, format_number
from ansible_collections.vergeio.billing.plugins.module_utils._version import COLLECTION_NAME, COLLECTION_VERSION

try:
    from ansible.module_utils.ansible_release import __version__ as ANSIBLE_VERSION
except ImportError:  # pragma: no cover - always present in ansible-core
    ANSIBLE_VERSION = 'unknown'

# Environment variables of both VergeOS tool families (docs/design.md, "Names users already have").
# The first one set (and not blank) wins.
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
# The variable the Python SDK calls a token: sent like an API key (Bearer), but named as a token in messages.
TOKEN_VARIABLES = ('VERGE_TOKEN',)

DEFAULT_TIMEOUT = 30.0
DEFAULT_RETRIES = 4
DEFAULT_RETRY_MAX_WAIT = 60.0
DEFAULT_RETRY_BUDGET = 300.0
# Upper bounds (a typo of 10 digits must not hang a nightly job for years).
MAX_TIMEOUT = 86400.0
MAX_RETRIES = 100
MAX_RETRY_MAX_WAIT = 3600.0
MAX_RETRY_BUDGET = 86400.0
DEFAULTS = dict(timeout=DEFAULT_TIMEOUT, retries=DEFAULT_RETRIES, retry_max_wait=DEFAULT_RETRY_MAX_WAIT,
                retry_budget=DEFAULT_RETRY_BUDGET)

# option -> (kind, low, high, low excluded, what it is): the numeric options and their accepted values.
NUMBERS = {
    'timeout': ('float', 0, MAX_TIMEOUT, True, 'a number of seconds'),
    'retries': ('int', 0, MAX_RETRIES, False, 'a whole number (how many times a failed read is tried again)'),
    'retry_max_wait': ('float', 0, MAX_RETRY_MAX_WAIT, False, 'a number of seconds'),
    'retry_budget': ('float', 0, MAX_RETRY_BUDGET, False, 'a number of seconds'),
}
BOOL_FORMS = 'true/false, yes/no, on/off or 1/0'
HOST_FORMS = "a hostname, 'host:port' or 'https://host[:port]'"


def number_forms(option):
    kind, low, high, low_open, what = NUMBERS[option]
    if low_open:
        return '%s more than %s and at most %s' % (what, format_number(low), format_number(high))
    return '%s from %s to %s' % (what, format_number(low), format_number(high))


class Origin:
    """Where each connection option's value came from: the task (or module_defaults), or an environment variable.

    Its ``fallback`` method is the environment fallback of every connection option. It reads and checks the
    variable's text itself; a value it cannot take is kept in ``problems`` (named by the variable) and the option
    is left to its default until ``new_module`` fails with that message.
    """

    def __init__(self, environ=None):
        self.environ = os.environ if environ is None else environ
        self.variables = {}  # option -> the environment variable its value came from
        self.problems = []

    def _first(self, names):
        for name in names:
            value = self.environ.get(name)
            if value is not None and value.strip():
                return name, value
        return None, None

    def fallback(self, option):
        """The value of ``option`` from the environment; AnsibleFallbackNotFound when none (or a bad one) is set."""
        if option == 'validate_certs':
            return self._validate_certs()
        name, value = self._first(ENV[option])
        if name is None:
            raise AnsibleFallbackNotFound()
        if option in NUMBERS:
            value = self._number(option, name, value)
        self.variables[option] = name
        return value

    def _number(self, option, name, text):
        kind = NUMBERS[option][0]
        try:
            number = int(text.strip()) if kind == 'int' else float(text.strip())
        except ValueError:
            self.problems.append('%s=%r is not valid: %s takes %s, for example %s'
                                 % (name, text[:40], name, number_forms(option),
                                    format_number(DEFAULTS[option])))
            raise AnsibleFallbackNotFound()
        return number

    def _validate_certs(self):
        """VERGEOS_VERIFY_SSL / VERGE_VERIFY_SSL as they are, or VERGEOS_INSECURE inverted."""
        name, value = self._first(ENV['validate_certs'])
        inverted = False
        if name is None:
            name, value = self._first(ENV['insecure'])
            inverted = True
        if name is None:
            raise AnsibleFallbackNotFound()
        word = value.strip().lower()
        if word not in BOOLEANS_TRUE and word not in BOOLEANS_FALSE:
            self.problems.append('%s=%r is not valid: %s takes %s (%s)' % (
                name, value[:40], name, BOOL_FORMS,
                'true turns certificate checks off' if inverted else 'false turns certificate checks off'))
            raise AnsibleFallbackNotFound()
        self.variables['validate_certs'] = name
        return (word in BOOLEANS_FALSE) if inverted else (word in BOOLEANS_TRUE)

    def name(self, option):
        """What the user set for ``option``: the environment variable's name, or the option's."""
        return self.variables.get(option, option)

    def label(self, option, value=None):
        """``timeout`` or ``timeout (from VERGEOS_TIMEOUT=0)`` for messages; the value only when ``value`` is given."""
        name = self.variables.get(option)
        if name is None:
            return option
        return '%s (from %s%s)' % (option, name, '' if value is None else '=%s' % value)

    def source(self, option):
        """Where a credential came from, for messages: 'the api_key option' or 'VERGE_TOKEN'."""
        return self.variables.get(option) or 'the %s option' % option


def connection_argument_spec(origin=None):
    """The connection options every module shares, with ``origin`` (a new Origin if None) as their env fallback."""
    origin = Origin() if origin is None else origin

    def fallback(option):
        return (origin.fallback, [option])

    return dict(
        host=dict(type='str', fallback=fallback('host')),
        username=dict(type='str', fallback=fallback('username')),
        password=dict(type='str', no_log=True, fallback=fallback('password')),
        api_key=dict(type='str', no_log=True, fallback=fallback('api_key')),
        validate_certs=dict(type='bool', default=True, fallback=fallback('validate_certs')),
        ca_path=dict(type='path', fallback=fallback('ca_path')),
        timeout=dict(type='float', default=DEFAULT_TIMEOUT, fallback=fallback('timeout')),
        retries=dict(type='int', default=DEFAULT_RETRIES, fallback=fallback('retries')),
        retry_max_wait=dict(type='float', default=DEFAULT_RETRY_MAX_WAIT, fallback=fallback('retry_max_wait')),
        retry_budget=dict(type='float', default=DEFAULT_RETRY_BUDGET, fallback=fallback('retry_budget')),
    )


def check_number(params, option, origin=None):
    """One numeric connection option within its range (None means its default); ValueError naming its source."""
    origin = Origin({}) if origin is None else origin
    kind, low, high, low_open, _what = NUMBERS[option]
    value = params.get(option)
    if value is None:
        return DEFAULTS[option]
    try:
        bad = isinstance(value, bool) or not isinstance(value, (int, float)) or (kind == 'int' and not isinstance(value, int)) \
            or not math.isfinite(value) or value > high or value < low or (low_open and value == low)
    except OverflowError:  # an integer too large for a float
        bad = True
    if bad:
        raise ValueError('%s must be %s, got %r' % (origin.label(option), number_forms(option), value))
    return int(value) if kind == 'int' else float(value)


def check_connection_options(params, origin=None):
    """The numeric connection options, checked: (timeout, retries, retry_max_wait, retry_budget)."""
    return tuple(check_number(params, option, origin) for option in ('timeout', 'retries', 'retry_max_wait', 'retry_budget'))


def parse_host(host, origin=None):
    """Turn ``host``, ``host:port`` or ``https://host[:port]`` into ``https://host[:port]``.

    Raises ValueError with a message naming the option (or its variable) and the accepted forms; never echoes
    credentials written into it.
    """
    label = 'host' if origin is None else origin.label('host')
    if host is None or not str(host).strip():
        raise ValueError("host is required: set the host option or VERGEOS_HOST (or VERGE_HOST) to %s" % HOST_FORMS)
    text = str(host).strip()
    if '://' in text:
        scheme = text.split('://', 1)[0].lower()
        if scheme != 'https':
            if '@' in text:
                raise ValueError('%s must use https and must not carry credentials; use %s and the username/password '
                                 'or api_key options' % (label, HOST_FORMS))
            raise ValueError("%s must use https (VergeOS API v4 is HTTPS only), got scheme %r; use %s" % (label, scheme[:20], HOST_FORMS))
    else:
        text = 'https://' + text
    no_credentials = '%s must not carry credentials; use the username/password or api_key options instead' % label
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as exc:
        if '@' in text:
            raise ValueError(no_credentials)
        raise ValueError('%s %r is not valid (%s); use %s' % (label, str(host)[:200], exc, HOST_FORMS))
    if parts.username is not None or parts.password is not None or '@' in parts.netloc or '@' in text:
        raise ValueError(no_credentials)
    if parts.path not in ('', '/') or parts.query or parts.fragment:
        raise ValueError("%s %r must not contain a path or query (the collection adds /api/v4/ itself); use %s"
                         % (label, str(host)[:200], HOST_FORMS))
    hostname = parts.hostname
    if not hostname:
        raise ValueError('%s %r has no hostname; use %s' % (label, str(host)[:200], HOST_FORMS))
    if any(char.isspace() for char in hostname):
        raise ValueError('%s %r holds white space; use %s' % (label, str(host)[:200], HOST_FORMS))
    if ':' in hostname:  # IPv6 literal
        hostname = '[%s]' % hostname
    return 'https://%s%s' % (hostname, ':%d' % port if port else '')


def host_secrets(host):
    """The user info of a ``host`` that carries credentials (``https://user:pw@host``), to be masked; else empty.

    Such a host is refused by parse_host without echoing it; this keeps Ansible's own ``invocation`` echo of the
    option from showing the password at -vvv.
    """
    text = str(host or '')
    if '@' not in text:
        return set()
    userinfo = text.split('://', 1)[-1].rsplit('@', 1)[0]
    return set([userinfo]) if userinfo else set()


def check_ca_path(ca_path, label='ca_path'):
    """ca_path must be a readable PEM file or a directory; raises ValueError saying how to fix it."""
    if not os.path.exists(ca_path):
        raise ValueError('%s %r does not exist; give a PEM CA bundle file or a directory of hashed CA certificates' % (label, ca_path))
    if os.path.isdir(ca_path):
        return
    try:
        with open(ca_path, 'rb') as handle:
            head = handle.read(1024 * 1024)
    except (IOError, OSError) as exc:
        raise ValueError('%s %r cannot be read (%s)' % (label, ca_path, exc.strerror or exc))
    if b'-----BEGIN CERTIFICATE-----' not in head and b'-----BEGIN TRUSTED CERTIFICATE-----' not in head:
        raise ValueError('%s %r holds no PEM certificate (-----BEGIN CERTIFICATE-----); give the CA certificate in PEM '
                         'form (a DER file converts with: openssl x509 -inform der -in CA.der -out ca.pem)' % (label, ca_path))


def auth_from(params, origin=None):
    """The credential to send, and where it came from (for messages); ValueError when there is none."""
    origin = Origin({}) if origin is None else origin
    api_key = params.get('api_key')
    username = params.get('username')
    password = params.get('password')
    basic_source = '%s and %s' % (origin.source('username'), origin.source('password'))
    if api_key:
        if any(char in api_key for char in '\r\n\0'):
            raise ValueError('%s holds a line break or NUL character; give the key exactly as VergeOS showed it'
                             % origin.label('api_key'))
        kind = 'token' if origin.name('api_key') in TOKEN_VARIABLES else 'api_key'
        unused = None
        if username or password:
            unused = 'username and password (%s) were set too but not sent: an API key or token wins' % basic_source
        # API keys bypass MFA and cannot lock a user account: preferred when both are given.
        return Auth(kind, origin.source('api_key'), api_key=api_key, username=username, password=password, unused=unused)
    if username and password:
        return Auth('basic', basic_source, username=username, password=password)
    missing = 'password' if username else 'username and password' if not password else 'username'
    raise ValueError(
        'No VergeOS credentials: set api_key (or VERGEOS_API_KEY / VERGE_API_KEY / VERGE_TOKEN), or username and password '
        '(or VERGEOS_USERNAME and VERGEOS_PASSWORD); %s missing' % missing)


def client_settings(params, origin=None):
    """The keyword arguments of VergeClient for the connection options ``params``; ValueError naming the option."""
    origin = Origin({}) if origin is None else origin
    base_url = parse_host(params.get('host'), origin)
    timeout, retries, max_wait, budget = check_connection_options(params, origin)
    verify = True
    if params.get('validate_certs') is False:
        verify = False
    elif params.get('ca_path'):
        check_ca_path(params['ca_path'], origin.label('ca_path'))
        verify = params['ca_path']
    return dict(base_url=base_url, auth=auth_from(params, origin), verify=verify, timeout=timeout,
                retry=RetryPolicy(retries=retries, max_wait=max_wait, budget=budget), user_agent=user_agent())


def user_agent():
    """What the client says it is: the collection, ansible-core, requests and Python versions."""
    try:
        import requests  # pylint: disable=import-outside-toplevel
        requests_version = requests.__version__
    except ImportError:
        requests_version = 'missing'
    return '%s/%s (ansible-core %s; python-requests %s; Python %s)' % (
        COLLECTION_NAME, COLLECTION_VERSION, ANSIBLE_VERSION, requests_version, platform.python_version())


def open_client(params, origin=None):
    """A VergeClient for the connection options ``params`` (``origin`` says which came from the environment)."""
    return VergeClient(**client_settings(params, origin))
