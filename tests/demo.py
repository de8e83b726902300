# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vergeio.billing contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""`make demo`: start the VergeOS API simulator, run playbooks/demo.yml against it, stop the simulator."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)

from simulator.vergeos_sim import Simulator  # noqa: E402  pylint: disable=wrong-import-position


def main():
    with Simulator(records=24 * 90, seed=2029) as sim:
        print('VergeOS API simulator on %s with %d hourly billing records (CA %s)' % (sim.url, len(sim.records), sim.ca_path))
        env = dict(os.environ)
        env.update(
            VERGEOS_HOST=sim.host, VERGEOS_API_KEY='sim-api-key', VERGEOS_CA_PATH=sim.ca_path,
            ANSIBLE_PYTHON_INTERPRETER=sys.executable, ANSIBLE_LOCALHOST_WARNING='0', ANSIBLE_INVENTORY_UNPARSED_WARNING='0',
            ANSIBLE_CALLBACK_RESULT_FORMAT='yaml', PATH=os.path.dirname(sys.executable) + os.pathsep + env.get('PATH', ''),
        )
        command = [os.path.join(os.path.dirname(sys.executable), 'ansible-playbook'), os.path.join(ROOT, 'playbooks', 'demo.yml')]
        rc = subprocess.call(command, env=env, cwd=ROOT)
    print('simulator stopped')
    return rc


if __name__ == '__main__':
    sys.exit(main())
