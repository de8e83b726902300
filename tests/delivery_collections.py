# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vergeio.billing contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The two collections playbooks/deliver_statements.yml needs (community.general for mail, amazon.aws for S3), for
the tests only: taken from PyPI's ``ansible`` package, which bundles them (Galaxy is not reachable where the tests
run; a package registry is). The wheel is downloaded once with pip (no install, no dependencies) into
``build/delivery-collections/`` and only these two collections are unpacked beside it.

    python tests/delivery_collections.py      # (make delivery-collections) prints the path to add to ANSIBLE_COLLECTIONS_PATH

They are never a dependency of vergeio.billing (galaxy.yml): a user of the delivery playbook installs them, see
docs/docsite/rst/statements.rst and the execution environment definition.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import glob
import os
import shutil
import subprocess
import sys
import zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# ansible 14.5.0 bundles community.general 13.5.0 and amazon.aws 11.4.0 (and needs ansible-core 2.21, which is not
# installed from it: only the two collections are unpacked).
PACKAGE = 'ansible==14.5.0'
COLLECTIONS = ('community/general', 'amazon/aws')
TARGET = os.path.join(ROOT, 'build', 'delivery-collections')


def collections_path(target=TARGET, fetch=True):
    """The path holding ansible_collections/community/general and amazon/aws, fetched when missing (``make
    delivery-collections`` fetches them at setup; the tests call this with ``fetch=False`` and never download)."""
    done = os.path.join(target, '.complete-' + PACKAGE)
    if os.path.exists(done):
        return target
    if not fetch:
        raise RuntimeError('the delivery test needs community.general from %s: run `make delivery-collections` (make test does)' % PACKAGE)
    wheels = os.path.join(target, 'wheel')
    os.makedirs(wheels, exist_ok=True)
    found = glob.glob(os.path.join(wheels, 'ansible-%s-*.whl' % PACKAGE.split('==')[1]))
    if not found:
        proc = subprocess.run([sys.executable, '-m', 'pip', 'download', '--quiet', '--disable-pip-version-check', '--no-deps',
                               '--only-binary', ':all:', '-d', wheels, PACKAGE], capture_output=True, text=True, check=False)
        found = glob.glob(os.path.join(wheels, 'ansible-%s-*.whl' % PACKAGE.split('==')[1]))
        if proc.returncode != 0 or not found:
            raise RuntimeError('pip download %s failed (the delivery test needs community.general from it): %s' % (PACKAGE, proc.stderr[-2000:]))
    for collection in COLLECTIONS:
        shutil.rmtree(os.path.join(target, 'ansible_collections', collection), ignore_errors=True)
    prefixes = tuple('ansible_collections/%s/' % collection for collection in COLLECTIONS)
    with zipfile.ZipFile(found[0]) as wheel:
        wheel.extractall(target, [name for name in wheel.namelist() if name.startswith(prefixes)])
    with open(done, 'w') as handle:
        handle.write(PACKAGE + '\n')
    return target


if __name__ == '__main__':
    print(collections_path())
