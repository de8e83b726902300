# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vergeio.billing contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Functional tests: real ``ansible`` / ``ansible-playbook`` processes against the VergeOS API simulator over HTTPS.

The collection is taken from ``build/collections`` (``make tree``), or from VERGE_TEST_COLLECTIONS.
Every helper returns what Ansible printed, so tests can also scan it for secrets.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import re
import resource
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, 'tests'))

from simulator.vergeos_sim import Simulator  # noqa: E402  pylint: disable=wrong-import-position

COLLECTIONS = os.environ.get('VERGE_TEST_COLLECTIONS', os.path.join(ROOT, 'build', 'collections'))
BIN = os.path.dirname(sys.executable)
API_KEY = 'sim-api-key'
USERNAME = 'admin'
PASSWORD = 'sim-password'

# The directory in a report's dest where each report claims its file names (plugins/module_utils/_reports/files.py).
CLAIMS = '.vergeio-billing'


def listing(path):
    """The names in a report directory, sorted, without the claims directory (temporary files stay visible)."""
    return sorted(name for name in os.listdir(str(path)) if name != CLAIMS)


# Variables that would leak the developer's own environment into a test.
_SCRUB_PREFIXES = ('VERGEOS_', 'VERGE_', 'ANSIBLE_')
_SCRUB = ('REQUESTS_CA_BUNDLE', 'CURL_CA_BUNDLE', 'SSL_CERT_FILE')


class AnsibleRun:
    """What one ansible run did: return code, output, ad hoc results and the play recap.

    ansible-core's own callbacks are used (the json callback lives in ansible.posix, which we do not install):
    an ad hoc result is the JSON after ``host | STATUS =>``; a playbook's recap is parsed into ``stats``.
    """

    _RESULT = re.compile(r'^(\S+) \| ([A-Z!]+)(?: \| rc=\d+)? => ', re.M)
    _RECAP = re.compile(r'^(\S+)\s+: ((?:\w+=\d+\s*)+)$', re.M)

    def __init__(self, proc, command):
        self.rc = proc.returncode
        self.stdout = proc.stdout
        self.stderr = proc.stderr
        self.command = command
        self.results = []
        self.stats = {}
        decoder = json.JSONDecoder()
        for match in self._RESULT.finditer(self.stdout):
            try:
                result, _end = decoder.raw_decode(self.stdout, match.end())
            except ValueError:
                continue
            result['_host'] = match.group(1)
            result['_status'] = match.group(2)
            self.results.append(result)
        if 'PLAY RECAP' in self.stdout:
            recap = self.stdout[self.stdout.rindex('PLAY RECAP'):]
            for match in self._RECAP.finditer(recap):
                self.stats[match.group(1)] = dict((k, int(v)) for k, v in (item.split('=') for item in match.group(2).split()))

    @property
    def result(self):
        """The (last) result of an ad hoc run."""
        assert self.results, 'no result in output:\n%s\n%s' % (self.stdout[-3000:], self.stderr[-3000:])
        return self.results[-1]

    @property
    def output(self):
        return self.stdout + self.stderr


def sim_env(sim, auth='api_key', extra=None, ca=True, api_key=API_KEY, username=USERNAME, password=PASSWORD):
    """An environment with the connection to ``sim`` in VERGEOS_* variables and nothing of the caller's."""
    env = dict((k, v) for k, v in os.environ.items() if not k.startswith(_SCRUB_PREFIXES) and k not in _SCRUB)
    env.update(
        ANSIBLE_COLLECTIONS_PATH=COLLECTIONS,
        ANSIBLE_NOCOLOR='1',
        ANSIBLE_LOCALHOST_WARNING='0',
        ANSIBLE_INVENTORY_UNPARSED_WARNING='0',
        ANSIBLE_PYTHON_INTERPRETER=sys.executable,
        ANSIBLE_CALLBACK_RESULT_FORMAT='json',
        ANSIBLE_STDOUT_CALLBACK='default',
        ANSIBLE_RETRY_FILES_ENABLED='0',
        PATH=BIN + os.pathsep + env.get('PATH', ''),
    )
    if sim is not None:
        env['VERGEOS_HOST'] = sim.host
        if ca:
            env['VERGEOS_CA_PATH'] = sim.ca_path
        if auth == 'api_key':
            env['VERGEOS_API_KEY'] = api_key
        elif auth == 'basic':
            env['VERGEOS_USERNAME'] = username
            env['VERGEOS_PASSWORD'] = password
    env.update(extra or {})
    return env


def run_module(module, args, env, check=False, verbosity=0, timeout=300, open_files=None, file_size=None):
    """``ansible localhost -m vergeio.billing.MODULE -a JSON``; ``open_files``: the soft limit of open file descriptors
    of the run (RLIMIT_NOFILE, inherited by the module process), as a host with a low ``ulimit -n`` has it;
    ``file_size``: the largest file the run may write, in bytes (RLIMIT_FSIZE; a write beyond it fails with EFBIG, as
    on a full disk: Python ignores SIGXFSZ)."""
    command = [os.path.join(BIN, 'ansible'), 'localhost', '-m', 'vergeio.billing.%s' % module]
    if args:
        command += ['-a', json.dumps(args)]
    if check:
        command.append('--check')
    if verbosity:
        command.append('-' + 'v' * verbosity)

    def limit():
        if open_files:
            resource.setrlimit(resource.RLIMIT_NOFILE, (open_files, resource.getrlimit(resource.RLIMIT_NOFILE)[1]))
        if file_size:
            resource.setrlimit(resource.RLIMIT_FSIZE, (file_size, resource.getrlimit(resource.RLIMIT_FSIZE)[1]))

    proc = subprocess.run(command, env=env, capture_output=True, text=True, timeout=timeout, check=False,
                          preexec_fn=limit if open_files or file_size else None)  # pylint: disable=subprocess-popen-preexec-fn
    return AnsibleRun(proc, command)


def run_playbook(path, env, extra_vars=None, check=False, verbosity=0, inventory=None, timeout=600):
    command = [os.path.join(BIN, 'ansible-playbook'), path]
    if inventory:
        command += ['-i', inventory]
    if extra_vars:
        command += ['-e', json.dumps(extra_vars)]
    if check:
        command.append('--check')
    if verbosity:
        command.append('-' + 'v' * verbosity)
    proc = subprocess.run(command, env=env, capture_output=True, text=True, timeout=timeout, check=False, cwd=ROOT)
    return AnsibleRun(proc, command)


@pytest.fixture
def sim():
    """A simulator with 800 hourly records ending now."""
    with Simulator(records=800, seed=7) as server:
        yield server


@pytest.fixture
def env(sim):  # pylint: disable=redefined-outer-name
    return sim_env(sim)
