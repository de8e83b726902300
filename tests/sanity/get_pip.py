# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vergeio.billing contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""A stand-in for the get-pip.py that ansible-test downloads from its own CI file host to bootstrap pip.

That host is not a package registry and cannot be reached here, so `make sanity` installs this file as
ansible-test's cached bootstrap script (~/.ansible/test/cache/get_pip_<version>.py). It does what get-pip.py
does with the same arguments: put pip into the empty virtual environment (from Python's own ensurepip), then
`pip install` the packages ansible-test asked for (from PyPI).

Each ansible-core line asks for its own pip release, so for its own cache name: ansible-test's
``_util/target/setup/requirements.py`` reads ``get_pip_<pip version with _ for .>.py``, the pip version coming from
``get_venv_packages()`` in ``_internal/python_requirements.py`` (23.1.2 in 2.16, 24.2 in 2.19, ...). Run with
``--cache-names`` by the Python of a venv holding ansible-core, this file prints the names that venv's ansible-test
can ask for, read from that source, so the Makefile needs no list of its own.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ensurepip
import importlib.util
import os
import re
import subprocess
import sys


def cache_names():
    """The get_pip_*.py names the ansible-test of this Python's ansible-core can ask for (every pip pinned in its source)."""
    spec = importlib.util.find_spec('ansible_test')
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit('ansible_test is not installed for %s' % sys.executable)
    source = os.path.join(list(spec.submodule_search_locations)[0], '_internal', 'python_requirements.py')
    with open(source) as handle:
        versions = sorted(set(re.findall(r"""\bpip\s*=\s*['"]([0-9][0-9.]*)['"]""", handle.read())))
    if not versions:
        raise SystemExit('no pip version found in %s: ansible-test changed how it names its get-pip cache' % source)
    return ['get_pip_%s.py' % version.replace('.', '_') for version in versions]


def main():
    if sys.argv[1:] == ['--cache-names']:
        print('\n'.join(cache_names()))
        return
    saved = os.environ.get('PIP_CONFIG_FILE')
    ensurepip.bootstrap(upgrade=True)
    # ensurepip sets PIP_CONFIG_FILE=/dev/null in this process; the real install must see the machine's pip config.
    if saved is None:
        os.environ.pop('PIP_CONFIG_FILE', None)
    else:
        os.environ['PIP_CONFIG_FILE'] = saved
    args = [arg for arg in sys.argv[1:] if arg not in ('--no-setuptools', '--no-wheel')]
    subprocess.check_call([sys.executable, '-m', 'pip', 'install'] + args)


if __name__ == '__main__':
    main()
