# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vergeio.billing contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The filter plugins of 0.1.0 that 0.2.0 retired: a playbook that still calls one fails naming the module to use.

The names come from the 0.1.0 release in changelogs/changelog.yaml (what users got), not from meta/runtime.yml.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import subprocess

import pytest
import yaml

from conftest import BIN, ROOT, AnsibleRun, sim_env  # pylint: disable=import-error


def released_filters(version):
    with open(os.path.join(ROOT, 'changelogs', 'changelog.yaml')) as handle:
        release = yaml.safe_load(handle)['releases'][version]
    return sorted(plugin['name'] for plugin in release.get('plugins', {}).get('filter', []))


RETIRED = [name for name in released_filters('0.1.0') if not os.path.exists(os.path.join(ROOT, 'plugins', 'filter', name + '.py'))]
# The module that replaces each filter, and what the message must say besides its name.
REPLACEMENT = dict(
    billing_period=('verge_billing_report', 'month, since, until and timezone options'),
    billing_csv=('verge_billing_report', 'formats [csv]'),
    billing_markdown=('verge_billing_report', 'formats [markdown]'),
    billing_html=('verge_billing_report', 'formats [html]'),
    billing_fleet=('verge_billing_fleet_report', 'consolidates'),
    billing_fleet_csv=('verge_billing_fleet_report', 'formats [csv]'),
    billing_fleet_markdown=('verge_billing_fleet_report', 'formats [markdown]'),
    billing_fleet_html=('verge_billing_fleet_report', 'formats [html]'),
)


def test_every_retired_filter_has_a_replacement():
    assert RETIRED and sorted(REPLACEMENT) == RETIRED
    for module, _words in REPLACEMENT.values():
        assert os.path.exists(os.path.join(ROOT, 'plugins', 'modules', module + '.py')), module


@pytest.mark.parametrize('name', RETIRED)
def test_a_retired_filter_fails_naming_its_replacement(name):
    module, words = REPLACEMENT[name]
    result = run_debug({'msg': '{{ [] | vergeio.billing.%s }}' % name}, sim_env(None))
    assert result.rc != 0
    message = ' '.join(result.result['msg'].split())
    assert 'vergeio.billing.%s' % name in message and 'removed' in message, message  # (the wording is ansible-core's)
    assert 'vergeio.billing.%s module' % module in message and words in message, message
    assert '0.2.0' in message


def run_debug(args, env):
    """``ansible localhost -m ansible.builtin.debug -a JSON`` (run_module runs modules of this collection only)."""
    command = [os.path.join(BIN, 'ansible'), 'localhost', '-m', 'ansible.builtin.debug', '-a', json.dumps(args)]
    proc = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120, check=False)
    return AnsibleRun(proc, command)
