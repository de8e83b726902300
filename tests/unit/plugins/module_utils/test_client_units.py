# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vergeio.billing contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The connection options' pure parts: host parsing, the argument spec against its doc fragment, environment
fallbacks and the names they give in messages, credentials and their sources, the action group and the collection
version."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.module_utils.errors import AnsibleFallbackNotFound

from ansible_collections.vergeio.billing.plugins.doc_fragments.connection import ModuleDocFragment
from ansible_collections.vergeio.billing.plugins.module_utils import _client, _version
from ansible_collections.vergeio.billing.plugins.module_utils._connection import (
    ENV, Origin, auth_from, check_connection_options, client_settings, connection_argument_spec, parse_host,
)

# tests/unit/plugins/module_utils/<this file> -> the collection root
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))
ALL_ENV_NAMES = sorted(set(name for names in ENV.values() for name in names))


def read_yaml(*path):
    with open(os.path.join(ROOT, *path)) as handle:
        return yaml.safe_load(handle)


def collection_info():
    """namespace, name and version: from galaxy.yml in a source tree, from MANIFEST.json in an installed collection."""
    if os.path.exists(os.path.join(ROOT, 'galaxy.yml')):
        return read_yaml('galaxy.yml')
    assert os.path.exists(os.path.join(ROOT, 'MANIFEST.json')), 'neither galaxy.yml nor MANIFEST.json in %s' % ROOT
    return read_yaml('MANIFEST.json')['collection_info']  # JSON is YAML


@pytest.fixture
def clean_env(monkeypatch):
    """No VergeOS variable from the shell running the tests leaks into them."""
    for name in list(os.environ):
        if name.startswith('VERGE'):
            monkeypatch.delenv(name)
    return monkeypatch


# ---------------------------------------------------------------------------------------------------------------
# parse_host


@pytest.mark.parametrize('host, expected', [
    ('verge.example.com', 'https://verge.example.com'),
    (' verge.example.com ', 'https://verge.example.com'),
    ('verge.example.com:8443', 'https://verge.example.com:8443'),
    ('verge.example.com:443', 'https://verge.example.com:443'),
    ('https://verge.example.com', 'https://verge.example.com'),
    ('https://verge.example.com/', 'https://verge.example.com'),
    ('https://verge.example.com:8443', 'https://verge.example.com:8443'),
    ('https://verge.example.com:8443/', 'https://verge.example.com:8443'),
    ('HTTPS://Verge.Example.COM:8443', 'https://verge.example.com:8443'),
    ('verge', 'https://verge'),
    ('10.0.0.5', 'https://10.0.0.5'),
    ('10.0.0.5:8443', 'https://10.0.0.5:8443'),
    ('[::1]', 'https://[::1]'),
    ('[::1]:8443', 'https://[::1]:8443'),
    ('https://[fe80::1]', 'https://[fe80::1]'),
    ('https://[2001:db8::5]:8443/', 'https://[2001:db8::5]:8443'),
])
def test_parse_host_accepts(host, expected):
    assert parse_host(host).lower() == expected


@pytest.mark.parametrize('host, words', [
    (None, ['host is required', 'VERGEOS_HOST']),
    ('', ['host is required']),
    ('   ', ['host is required']),
    ('http://verge.example.com', ['https']),
    ('HTTP://verge.example.com:80', ['https']),
    ('ftp://verge.example.com', ['https']),
    ('verge.example.com/api/v4', ['path']),
    ('https://verge.example.com/api/v4/', ['path']),
    ('https://verge.example.com/ui', ['path']),
    ('https://verge.example.com?x=1', ['query']),
    ('verge.example.com:99999', ['not valid']),
    ('verge.example.com:port', ['not valid']),
    ('https://:8443', ['no hostname']),
])
def test_parse_host_rejects(host, words):
    with pytest.raises(ValueError) as excinfo:
        parse_host(host)
    message = str(excinfo.value)
    for word in words:
        assert word in message, message
    # every rejection says what is accepted, except the credentials one
    assert 'host:port' in message or 'credentials' in message, message


@pytest.mark.parametrize('host', [
    'https://admin:S3cretPw@verge.example.com',
    'https://admin:S3cretPw@verge.example.com:8443',
    'https://admin:S3cretPw@verge.example.com/api',
    'admin:S3cretPw@verge.example.com',
    'admin:S3cretPw@verge.example.com:8443',
    'http://admin:S3cretPw@verge.example.com',
    'https://admin:S3cretPw@verge.example.com:notaport',
    'https://S3cretPw@verge.example.com',
    'https://admin:S3cretPw@@verge.example.com',
    'https://admin:p@S3cretPw@verge.example.com',
    'https://admin:p@S3cretPw@verge.example.com:bad',
    # a password holding a URL delimiter: urlsplit takes the part before it as the port
    'https://admin:S3cretPw#1@verge.example.com',
    'https://admin:S3cretPw/x@verge.example.com',
    'https://admin:S3cretPw?x@verge.example.com',
    'admin:S3cretPw#1@verge.example.com',
])
def test_parse_host_never_echoes_a_password(host):
    with pytest.raises(ValueError) as excinfo:
        parse_host(host)
    message = str(excinfo.value)
    assert 'S3cretPw' not in message, message


@settings(max_examples=200, deadline=None, database=None)
@given(st.sampled_from(['https://', '']),
       st.sampled_from(['admin:', '', 'a@b:']),
       st.text(alphabet='abcdefghijkXYZ0123456789', min_size=1, max_size=8),
       st.sampled_from(['', '#', '/', '?', '@', ':', '%', '!', '[']),
       st.text(alphabet='abcXYZ0123456789#/?@:', max_size=8),
       st.sampled_from(['verge.example.com', 'verge.example.com:8443', '[::1]:8443', '10.0.0.5']))
def test_parse_host_never_echoes_a_password_property(scheme, user, head, delimiter, tail, host):
    secret = 'Pw' + head + 'Q'  # no form of the message contains "Pw...Q" unless it came from the password
    url = '%s%s%s%s%s@%s' % (scheme, user, secret, delimiter, tail, host)
    try:
        parse_host(url)
    except ValueError as exc:
        assert secret not in str(exc), (url, str(exc))
    else:
        pytest.fail('a host with user info was accepted: %r -> %r' % (url, parse_host(url)))


# ---------------------------------------------------------------------------------------------------------------
# The argument spec and its doc fragment


def fragment_options():
    return yaml.safe_load(ModuleDocFragment.DOCUMENTATION)['options']


def test_spec_options_equal_documented_options():
    assert sorted(connection_argument_spec()) == sorted(fragment_options())


@pytest.mark.parametrize('name', sorted(yaml.safe_load(ModuleDocFragment.DOCUMENTATION)['options']))
def test_spec_type_and_default_match_the_docs(name):
    spec = connection_argument_spec()[name]
    doc = fragment_options()[name]
    assert spec.get('type', 'str') == doc.get('type', 'str')
    assert spec.get('default') == doc.get('default')
    if 'default' in doc:
        assert type(spec['default']) is type(doc['default']) or spec['type'] == 'float'
    assert bool(spec.get('required')) == bool(doc.get('required'))
    assert bool(spec.get('no_log')) == (name in ('password', 'api_key'))


def test_secrets_are_no_log():
    spec = connection_argument_spec()
    assert spec['password']['no_log'] is True and spec['api_key']['no_log'] is True


def documented_env(text):
    return set(re.findall(r'E\((VERGE[A-Z0-9_]*)', text))


def test_env_vars_in_the_docs_are_wired_and_vice_versa():
    assert documented_env(ModuleDocFragment.DOCUMENTATION) == set(ALL_ENV_NAMES)


@pytest.mark.parametrize('name', sorted(yaml.safe_load(ModuleDocFragment.DOCUMENTATION)['options']))
def test_each_option_documents_its_own_env_vars(name):
    doc_env = documented_env(' '.join(fragment_options()[name]['description']))
    spec = connection_argument_spec()[name]
    function, args = spec['fallback']
    assert function.__name__ == 'fallback' and isinstance(function.__self__, Origin) and args == [name]
    if name == 'validate_certs':
        assert doc_env == set(ENV['validate_certs'] + ENV['insecure'])
    else:
        assert doc_env == set(ENV[name])


def test_design_names_are_all_honoured():
    # docs/design.md, "Names users already have": both families of names must just work
    for name in ('VERGEOS_HOST', 'VERGEOS_USERNAME', 'VERGEOS_PASSWORD', 'VERGEOS_API_KEY', 'VERGEOS_INSECURE',
                 'VERGEOS_VERIFY_SSL', 'VERGEOS_TIMEOUT', 'VERGE_HOST', 'VERGE_USERNAME', 'VERGE_PASSWORD', 'VERGE_TOKEN',
                 'VERGE_API_KEY', 'VERGE_VERIFY_SSL', 'VERGE_TIMEOUT'):
        assert name in ALL_ENV_NAMES, name


def validate(params):
    result = ArgumentSpecValidator(connection_argument_spec()).validate(params)
    assert result.error_messages == [], result.error_messages
    return result


def test_defaults_without_env(clean_env):
    params = validate({}).validated_parameters
    assert params == dict(host=None, username=None, password=None, api_key=None, validate_certs=True, ca_path=None,
                          timeout=30.0, retries=4, retry_max_wait=60.0, retry_budget=300.0)


@pytest.mark.parametrize('option, names, value, expected', [
    ('host', ENV['host'], 'verge.example.com', 'verge.example.com'),
    ('username', ENV['username'], 'admin', 'admin'),
    ('password', ENV['password'], 'pw-from-env', 'pw-from-env'),
    ('api_key', ENV['api_key'], 'key-from-env', 'key-from-env'),
    ('timeout', ENV['timeout'], '12.5', 12.5),
    ('retries', ENV['retries'], '7', 7),
    ('retry_max_wait', ENV['retry_max_wait'], '3', 3.0),
    ('retry_budget', ENV['retry_budget'], '45', 45.0),
])
def test_env_fallbacks_first_set_wins(clean_env, option, names, value, expected):
    for index, name in enumerate(names):
        clean_env.setenv(name, value)
        for later in names[index + 1:]:
            clean_env.setenv(later, 'other')
        assert validate({}).validated_parameters[option] == expected, name
        # an explicit option beats the environment
        if option not in ('timeout', 'retries', 'retry_max_wait', 'retry_budget'):
            assert validate({option: 'explicit'}).validated_parameters[option] == 'explicit'
        for later in names[index:]:
            clean_env.delenv(later)


def test_secrets_from_env_are_masked(clean_env):
    clean_env.setenv('VERGE_PASSWORD', 'pw-from-env-123')
    clean_env.setenv('VERGEOS_API_KEY', 'key-from-env-456')
    result = validate({})
    assert set(['pw-from-env-123', 'key-from-env-456']) <= set(result._no_log_values)


@pytest.mark.parametrize('env, expected', [
    ({'VERGEOS_INSECURE': 'true'}, False),
    ({'VERGEOS_INSECURE': 'TRUE'}, False),
    ({'VERGEOS_INSECURE': 'yes'}, False),
    ({'VERGEOS_INSECURE': '1'}, False),
    ({'VERGEOS_INSECURE': 'false'}, True),
    ({'VERGEOS_INSECURE': 'no'}, True),
    ({'VERGEOS_INSECURE': '0'}, True),
    ({'VERGEOS_VERIFY_SSL': 'false'}, False),
    ({'VERGEOS_VERIFY_SSL': 'true'}, True),
    ({'VERGE_VERIFY_SSL': 'no'}, False),
    ({'VERGE_VERIFY_SSL': '1'}, True),
    # an explicit verify setting beats the inverted INSECURE one
    ({'VERGEOS_VERIFY_SSL': 'true', 'VERGEOS_INSECURE': 'true'}, True),
    ({'VERGE_VERIFY_SSL': 'false', 'VERGEOS_INSECURE': 'false'}, False),
    ({'VERGEOS_VERIFY_SSL': '', 'VERGEOS_INSECURE': 'true'}, False),
    ({'VERGEOS_VERIFY_SSL': 'true', 'VERGE_VERIFY_SSL': 'false'}, True),
])
def test_validate_certs_from_env(clean_env, env, expected):
    for name, value in env.items():
        clean_env.setenv(name, value)
    assert validate({}).validated_parameters['validate_certs'] is expected
    assert validate({'validate_certs': not expected}).validated_parameters['validate_certs'] is (not expected)


def test_validate_certs_fallback_without_env():
    with pytest.raises(AnsibleFallbackNotFound):
        Origin({}).fallback('validate_certs')
    with pytest.raises(AnsibleFallbackNotFound):
        Origin({'VERGEOS_INSECURE': '  '}).fallback('validate_certs')


def test_validate_certs_fallback_values_and_source():
    origin = Origin({'VERGEOS_INSECURE': 'true'})
    assert origin.fallback('validate_certs') is False and origin.name('validate_certs') == 'VERGEOS_INSECURE'
    assert Origin({'VERGEOS_INSECURE': 'off'}).fallback('validate_certs') is True
    origin = Origin({'VERGEOS_INSECURE': 'off', 'VERGE_VERIFY_SSL': 'false'})
    assert origin.fallback('validate_certs') is False and origin.name('validate_certs') == 'VERGE_VERIFY_SSL'


@pytest.mark.parametrize('variable, value, words', [
    ('VERGEOS_INSECURE', 'maybe', ["VERGEOS_INSECURE='maybe' is not valid", 'true/false, yes/no, on/off or 1/0']),
    ('VERGE_VERIFY_SSL', '2', ["VERGE_VERIFY_SSL='2' is not valid"]),
    ('VERGEOS_TIMEOUT', 'abc', ["VERGEOS_TIMEOUT='abc' is not valid", 'a number of seconds more than 0 and at most 86400']),
    ('VERGE_TIMEOUT', '1,5', ["VERGE_TIMEOUT='1,5' is not valid"]),
    ('VERGEOS_RETRIES', '2.0', ["VERGEOS_RETRIES='2.0' is not valid", 'a whole number', 'from 0 to 100']),
    ('VERGE_RETRY_MAX_WAIT', 'x', ["VERGE_RETRY_MAX_WAIT='x' is not valid", 'from 0 to 3600']),
    ('VERGEOS_RETRY_BUDGET', '5m', ["VERGEOS_RETRY_BUDGET='5m' is not valid", 'from 0 to 86400']),
])
def test_a_bad_environment_value_is_kept_as_a_problem_naming_the_variable(clean_env, variable, value, words):
    clean_env.setenv(variable, value)
    origin = Origin()
    result = ArgumentSpecValidator(connection_argument_spec(origin)).validate({})
    assert result.error_messages == []  # Ansible never sees the bad text, so it cannot misname it
    assert len(origin.problems) == 1
    for word in words:
        assert word in origin.problems[0], origin.problems[0]


@pytest.mark.parametrize('environ, params, words', [
    ({'VERGEOS_TIMEOUT': '0'}, {}, 'timeout (from VERGEOS_TIMEOUT) must be a number of seconds more than 0 and at most 86400, got 0.0'),
    ({'VERGE_TIMEOUT': 'inf'}, {}, 'timeout (from VERGE_TIMEOUT) must be'),
    ({'VERGEOS_RETRIES': '101'}, {}, 'retries (from VERGEOS_RETRIES) must be a whole number'),
    ({}, {'retry_budget': -1.0}, 'retry_budget must be a number of seconds from 0 to 86400, got -1.0'),
])
def test_a_value_out_of_range_names_the_option_and_its_variable(environ, params, words):
    origin = Origin(environ)
    result = ArgumentSpecValidator(connection_argument_spec(origin)).validate(dict(params))
    assert result.error_messages == [] and origin.problems == []
    with pytest.raises(ValueError) as excinfo:
        check_connection_options(result.validated_parameters, origin)
    assert words in str(excinfo.value)


def test_host_from_the_environment_is_named_in_its_error():
    origin = Origin({'VERGE_HOST': 'http://verge'})
    params = ArgumentSpecValidator(connection_argument_spec(origin)).validate({}).validated_parameters
    with pytest.raises(ValueError) as excinfo:
        parse_host(params['host'], origin)
    assert str(excinfo.value).startswith('host (from VERGE_HOST) must use https')


@pytest.mark.parametrize('environ, params, kind, described', [
    ({'VERGE_TOKEN': 't'}, {}, 'token', 'the API token from VERGE_TOKEN'),
    ({'VERGE_API_KEY': 'k', 'VERGE_TOKEN': 't'}, {}, 'api_key', 'the API key from VERGE_API_KEY'),
    ({'VERGE_TOKEN': 't'}, {'api_key': 'k'}, 'api_key', 'the API key from the api_key option'),
    ({'VERGEOS_USERNAME': 'u'}, {'password': 'p'}, 'basic',
     'the user name and password (HTTP Basic) from VERGEOS_USERNAME and the password option'),
])
def test_the_credential_sent_and_its_source(environ, params, kind, described):
    origin = Origin(environ)
    validated = ArgumentSpecValidator(connection_argument_spec(origin)).validate(dict(params)).validated_parameters
    auth = auth_from(validated, origin)
    assert auth.kind == kind and auth.describe() == described
    for secret in ('t', 'k', 'p'):
        assert "'%s'" % secret not in auth.describe()


def test_unused_credentials_are_named():
    origin = Origin({'VERGE_TOKEN': 'tok', 'VERGEOS_USERNAME': 'u', 'VERGE_PASSWORD': 'p'})
    validated = ArgumentSpecValidator(connection_argument_spec(origin)).validate({}).validated_parameters
    auth = auth_from(validated, origin)
    assert auth.unused == ('username and password (VERGEOS_USERNAME and VERGE_PASSWORD) were set too but not sent: '
                           'an API key or token wins')


def test_client_settings_are_plain_data():
    settings = client_settings(dict(host='verge:8443', api_key='k', validate_certs=False, timeout=5.0, retries=1,
                                    retry_max_wait=2.0, retry_budget=3.0))
    assert settings['base_url'] == 'https://verge:8443' and settings['verify'] is False and settings['timeout'] == 5.0
    retry = settings['retry']
    assert (retry.retries, retry.max_wait, retry.budget) == (1, 2.0, 3.0)
    assert settings['user_agent'].startswith('vergeio.billing/%s (ansible-core ' % _version.COLLECTION_VERSION)


# ---------------------------------------------------------------------------------------------------------------
# Collection metadata


def module_names():
    folder = os.path.join(ROOT, 'plugins', 'modules')
    return sorted(name[:-3] for name in os.listdir(folder) if name.endswith('.py') and not name.startswith('_'))


def test_root_is_the_collection_root():
    info = collection_info()
    assert info['namespace'] == 'vergeio' and info['name'] == 'billing'


def connected_module_names():
    """The modules that talk to VergeOS: those with the connection options (verge_billing_fleet_report only reads and
    writes files, so module_defaults for the group, the connection, do not concern it)."""
    folder = os.path.join(ROOT, 'plugins', 'modules')
    names = []
    for name in module_names():
        with open(os.path.join(folder, name + '.py')) as handle:
            if re.search(r'^  - vergeio\.billing\.connection$', handle.read(), re.M):
                names.append(name)
    return names


def test_action_group_lists_exactly_the_modules_that_connect():
    modules = connected_module_names()
    assert modules and 'verge_billing_info' in modules and 'verge_billing_fleet_report' not in modules
    group = read_yaml('meta', 'runtime.yml')['action_groups']['verge']
    assert len(group) == len(set(group))
    assert sorted(group) == modules


def test_action_group_name_matches_the_docs():
    membership = yaml.safe_load(ModuleDocFragment.ATTRIBUTES)['attributes']['action_group']['membership']
    groups = read_yaml('meta', 'runtime.yml')['action_groups']
    assert membership == ['vergeio.billing.%s' % name for name in groups]
    assert 'group/vergeio.billing.verge' in ModuleDocFragment.DOCUMENTATION


def test_collection_version_is_the_galaxy_version():
    info = collection_info()
    assert _version.COLLECTION_VERSION == str(info['version'])
    assert _version.COLLECTION_NAME == '%s.%s' % (info['namespace'], info['name'])
    # the client reads them from there, not a copy of its own
    assert _client.COLLECTION_VERSION is _version.COLLECTION_VERSION
