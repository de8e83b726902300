# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vergeio.billing contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The AWX credential type of extras/awx, end to end: the environment AWX would inject reaches the simulator.

Injectors are rendered as AWX renders them (sandboxed Jinja2; inputs not given are absent, booleans not given are
False; a file injector becomes a file named by ``tower.filename.<name>``); see tests/unit/extras for the static checks.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import yaml
from jinja2.sandbox import ImmutableSandboxedEnvironment

from conftest import API_KEY, ROOT, run_module, sim_env  # pylint: disable=import-error

PATH = os.path.join(ROOT, 'extras', 'awx', 'credential_type_vergeos.yml')


def awx_env(inputs, private_dir):
    with open(PATH) as handle:
        credential_type = yaml.safe_load(handle)
    sandbox = ImmutableSandboxedEnvironment()

    class Namespace(object):
        pass

    tower = Namespace()
    tower.filename = Namespace()
    namespace = dict((name, value) for name, value in inputs.items() if isinstance(value, bool) or value)
    namespace['tower'] = tower
    for field in credential_type['inputs']['fields']:
        if field.get('type') == 'boolean' and field['id'] not in inputs:
            namespace[field['id']] = False
    for label, template in credential_type['injectors']['file'].items():
        path = os.path.join(private_dir, label.replace('.', '_'))
        with open(path, 'w') as handle:
            handle.write(sandbox.from_string(template).render(**namespace))
        setattr(tower.filename, label.split('.', 1)[1], path)
    return dict((name, sandbox.from_string(template).render(**namespace)) for name, template in credential_type['injectors']['env'].items())


def test_injected_environment_reaches_the_system(sim, tmp_path):
    with open(sim.ca_path) as handle:
        pem = handle.read()
    env = sim_env(None, extra=awx_env(dict(host=sim.host, api_key=API_KEY, ca_cert=pem), str(tmp_path)))
    run = run_module('verge_billing_info', dict(view='latest'), env)
    assert run.rc == 0, run.output
    newest = max(sim.records, key=lambda raw: (int(raw['created'] or 0), int(raw['$key'])))
    assert run.result['record']['key'] == int(newest['$key'])
    assert API_KEY not in run.output


def test_without_a_ca_certificate_checks_stay_on(sim, tmp_path):
    """The boolean 'insecure' left unset is injected as False: the private CA of the simulator is not trusted."""
    env = sim_env(None, extra=awx_env(dict(host=sim.host, username='admin', password='sim-password'), str(tmp_path)))
    assert env['VERGEOS_INSECURE'] == 'False' and env['VERGEOS_CA_PATH'] == '' and env['VERGEOS_API_KEY'] == ''
    run = run_module('verge_billing_info', dict(view='latest'), env)
    assert run.rc != 0 and 'certificate' in run.output.lower(), run.output
    insecure = sim_env(None, extra=awx_env(dict(host=sim.host, username='admin', password='sim-password', insecure=True), str(tmp_path)))
    run = run_module('verge_billing_info', dict(view='latest'), insecure)
    assert run.rc == 0, run.output
    assert 'sim-password' not in run.output
