# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vergeio.billing contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""A stand-in for the get-pip.py that ansible-test downloads from its own CI file host to bootstrap pip.

That host is not a package registry and cannot be reached here, so `make sanity` installs this file as
ansible-test's cached bootstrap script (~/.ansible/test/cache/get_pip_<version>.py). It does what get-pip.py
does with the same arguments: put pip into the empty virtual environment (from Python's own ensurepip), then
`pip install` the packages ansible-test asked for (from PyPI).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ensurepip
import os
import subprocess
import sys


def main():
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
