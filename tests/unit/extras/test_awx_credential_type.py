# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vergeio.billing contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The AWX credential type of extras/awx: it injects only variables the modules honour, secrets are secret, and the
modules' own fallbacks turn the injected values into the intended connection options.

Injectors are rendered the way AWX renders them (awx/main/models/credential/__init__.py, inject_credential): a
sandboxed Jinja2 environment, inputs that were not given are absent (so they render as ''), boolean inputs that were
not given are False, and each file injector becomes a file whose path is ``tower.filename.<name>``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re

import pytest
import yaml
from jinja2 import meta
from jinja2.sandbox import ImmutableSandboxedEnvironment

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.vergeio.billing.plugins.module_utils._connection import ENV, Origin, connection_argument_spec

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
PATH = os.path.join(ROOT, 'extras', 'awx', 'credential_type_vergeos.yml')
HONOURED = set(name for names in ENV.values() for name in names)
SENSITIVE = re.compile(r'pass|key|secret|token', re.I)


@pytest.fixture(scope='module')
def credential_type():
    with open(PATH) as handle:
        return yaml.safe_load(handle)


def render(credential_type, inputs, private_dir):
    """(env, files) as AWX would inject them for a credential with these inputs."""
    sandbox = ImmutableSandboxedEnvironment()

    class Namespace(object):
        pass

    tower = Namespace()
    namespace = {'tower': tower}
    for name, value in inputs.items():
        if isinstance(value, bool) or len(value):
            namespace[name] = value
    for field in credential_type['inputs']['fields']:
        if field.get('type') == 'boolean' and field['id'] not in inputs:
            namespace[field['id']] = False
    files = {}
    for label, template in credential_type['injectors'].get('file', {}).items():
        path = os.path.join(private_dir, 'env-%s' % label.replace('.', '-'))
        with open(path, 'w') as handle:
            handle.write(sandbox.from_string(template).render(**namespace))
        if not hasattr(tower, 'filename'):
            tower.filename = Namespace()
        setattr(tower.filename, label.split('.', 1)[1], path)
        files[label] = path
    env = dict((name, sandbox.from_string(template).render(**namespace)) for name, template in credential_type['injectors']['env'].items())
    return env, files


def connection_options(env, monkeypatch):
    """The connection options a module gets with only this environment (its real argument spec and fallbacks)."""
    for name in HONOURED:
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    origin = Origin()
    result = ArgumentSpecValidator(connection_argument_spec(origin)).validate({})
    assert not result.error_messages, result.error_messages
    assert not origin.problems, origin.problems
    return result.validated_parameters


def test_every_injected_variable_is_one_the_modules_read(credential_type):
    injected = set(credential_type['injectors']['env'])
    assert injected and injected <= HONOURED, sorted(injected - HONOURED)
    # and the ones that matter are there
    assert set(['VERGEOS_HOST', 'VERGEOS_API_KEY', 'VERGEOS_USERNAME', 'VERGEOS_PASSWORD', 'VERGEOS_CA_PATH']) <= injected


def test_secret_inputs_are_secret(credential_type):
    fields = dict((field['id'], field) for field in credential_type['inputs']['fields'])
    assert fields['api_key'].get('secret') is True
    assert fields['password'].get('secret') is True
    for name, field in fields.items():
        if SENSITIVE.search(name):
            assert field.get('secret') is True, name
    for name, field in fields.items():
        assert field.get('type', 'string') in ('string', 'boolean') and field.get('label'), name
    assert credential_type['kind'] == 'cloud'
    assert set(credential_type['inputs']['required']) <= set(fields)


def test_templates_use_only_declared_inputs(credential_type):
    declared = set(field['id'] for field in credential_type['inputs']['fields']) | set(['tower'])
    environment = ImmutableSandboxedEnvironment()
    templates = list(credential_type['injectors']['env'].values()) + list(credential_type['injectors'].get('file', {}).values())
    for template in templates:
        assert meta.find_undeclared_variables(environment.parse(template)) <= declared, template


def test_api_key_credential(credential_type, tmp_path, monkeypatch):
    env, files = render(credential_type, dict(host='verge.example.com', api_key='k3y'), str(tmp_path))
    options = connection_options(env, monkeypatch)
    assert options['host'] == 'verge.example.com' and options['api_key'] == 'k3y'
    assert not options['username'] and not options['password']
    assert options['validate_certs'] is True  # a boolean input left unset is False in AWX: "insecure" must not turn checks off
    assert not options['ca_path']  # no CA given: the trust store, not an empty file
    assert open(files['template.ca_cert']).read() == ''


def test_password_credential_with_a_private_ca(credential_type, tmp_path, monkeypatch):
    pem = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n'
    env, files = render(credential_type, dict(host='verge.example.com:8443', username='billing', password='pw', ca_cert=pem, insecure=False),
                        str(tmp_path))
    options = connection_options(env, monkeypatch)
    assert (options['username'], options['password']) == ('billing', 'pw') and not options['api_key']
    assert options['ca_path'] == files['template.ca_cert'] and open(options['ca_path']).read() == pem
    assert options['validate_certs'] is True


def test_insecure_turns_verification_off(credential_type, tmp_path, monkeypatch):
    env, _files = render(credential_type, dict(host='lab', api_key='k', insecure=True), str(tmp_path))
    assert connection_options(env, monkeypatch)['validate_certs'] is False


def test_execution_environment_metadata_lists_the_runtime_needs_only():
    """ansible-builder reads meta/execution-environment.yml: its Python file names requests, as requirements.txt does."""
    with open(os.path.join(ROOT, 'meta', 'execution-environment.yml')) as handle:
        metadata = yaml.safe_load(handle)
    path = os.path.join(ROOT, metadata['dependencies']['python'])

    def names(requirements):
        with open(requirements) as handle:
            lines = [line.split('#', 1)[0].strip() for line in handle]
        return sorted(re.split(r'[<>=!~; \[]', line, maxsplit=1)[0].lower() for line in lines if line)

    assert names(path) == ['requests']
    assert names(path) == names(os.path.join(ROOT, 'requirements.txt'))
