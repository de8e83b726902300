# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vergeio.billing contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Run ``ansible-test integration`` against a VergeOS API simulator started here.

The simulator's address, CA and credentials reach the targets through
``tests/integration/integration_config.yml`` (ansible-test passes it as extra
vars). Every run's ``-vvv`` output is kept and scanned for the credentials the
simulator accepts: a leak fails the run.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import argparse
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from simulator.vergeos_sim import Simulator  # noqa: E402  pylint: disable=wrong-import-position

API_KEY = 'sim-api-key-7f3c9a1e5b'
USERNAME = 'billing-admin'
PASSWORD = 'sim-pass-Zq8!x2'


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--venv', required=True, help='virtualenv whose ansible-test and python to use')
    parser.add_argument('--tree', required=True, help='the collection copy under ansible_collections/vergeio/billing')
    parser.add_argument('targets', nargs='*', help='targets (default: all)')
    args = parser.parse_args()
    python = os.path.join(args.venv, 'bin', 'python')
    version = subprocess.check_output([python, '-c', 'import ansible; print(ansible.__version__)'], text=True).strip()
    log_dir = os.path.join(os.path.dirname(HERE), 'build', 'integration-logs')
    os.makedirs(log_dir, exist_ok=True)
    log_path = os.path.join(log_dir, 'ansible-core-%s.log' % version)
    with Simulator(records=2000, seed=11, api_key=API_KEY, username=USERNAME, password=PASSWORD) as sim:
        sim.set_tenant_data(tenants=6, seed=11, end=sim.end, days=31)  # six tenants, 31 days of hourly statistics
        config = dict(
            verge_host=sim.host, verge_api_key=API_KEY, verge_username=USERNAME, verge_password=PASSWORD,
            verge_ca_path=sim.ca_path, verge_sim_url=sim.url,
            # the hour the simulator's data ends at (its clock at start, floored): the tenant samples are frozen there,
            # so a target compares with it, never with the time it runs at (an hour may begin during the run)
            verge_sim_end=sim.end,
        )
        config_path = os.path.join(args.tree, 'tests', 'integration', 'integration_config.yml')
        with open(config_path, 'w') as handle:
            json.dump(config, handle)
        env = dict(os.environ)
        for name in list(env):
            if name.startswith(('VERGEOS_', 'VERGE_')) or name in ('REQUESTS_CA_BUNDLE', 'CURL_CA_BUNDLE'):
                del env[name]
        env['PATH'] = os.path.join(args.venv, 'bin') + os.pathsep + env.get('PATH', '')
        env['ANSIBLE_NOCOLOR'] = '1'
        # --requirements: ansible-test installs tests/integration/requirements.txt (under its constraints.txt), as the
        # ansible-collections CI does, instead of relying on what the venv happens to hold.
        command = [os.path.join(args.venv, 'bin', 'ansible-test'), 'integration', '--local', '--python-interpreter', python,
                   '--requirements', '--color', 'no', '-vvv'] + args.targets
        print('ansible-core %s: %s' % (version, ' '.join(command)), flush=True)
        with open(log_path, 'w') as log:
            proc = subprocess.Popen(command, cwd=args.tree, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            for line in proc.stdout:
                log.write(line)
                if line.startswith(('TASK [', 'PLAY RECAP', 'Running ', 'fatal:', 'FAILED', 'ERROR')) or 'failed=' in line:
                    sys.stdout.write(line)
            rc = proc.wait()
        requests_seen = len(sim.requests_log())
    leaks = scan(log_path, [API_KEY, PASSWORD])
    print('integration on ansible-core %s: exit %d, %d API requests in the simulator log at the end, -vvv log %s (%d bytes), secrets found in it: %d'
          % (version, rc, requests_seen, log_path, os.path.getsize(log_path), len(leaks)))
    for leak in leaks:
        print('LEAK: %s' % leak)
    return 1 if rc or leaks else 0


def scan(path, secrets):
    """Lines of ``path`` that hold a secret, its base64 Basic form, or a Bearer header."""
    import base64
    basic = base64.b64encode(('%s:%s' % (USERNAME, PASSWORD)).encode()).decode()
    needles = list(secrets) + [basic, 'Bearer ' + API_KEY]
    found = []
    with open(path) as handle:
        for number, line in enumerate(handle, 1):
            for needle in needles:
                if needle in line:
                    found.append('%s:%d holds %s...' % (path, number, needle[:4]))
    return found


if __name__ == '__main__':
    sys.exit(main())
