# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vergeio.billing contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Checks of what the collection ships: the tarball (``make package``, ``make units-installed``) and the execution
environment (``make ee``).

The tarball is built from the working tree into ``--work`` (each check its own, so two can run at once).
``--contents``: it holds no development-only file and every file a user or Galaxy needs; no image is large; no folder
is empty. ``--importer``: ``galaxy-importer`` prints no warning or error on it. ``--units``: installed with
``ansible-galaxy`` outside any git checkout, its unit tests pass the standard way (a fresh venv holding only
ansible-core from the constraints file, then ``ansible-test units --requirements``, which installs
tests/unit/requirements.txt under tests/unit/constraints.txt).

``--ee``: the execution environment definition pins ansible-core to a tested line and vergeio.billing to this
version, and the build context ``ansible-builder create`` wrote carries both pins.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import argparse
import fnmatch
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.dirname(sys.executable)

# Development-only paths: none of them may be in the tarball (galaxy.yml's build_ignore keeps them out).
FORBIDDEN = [
    'Makefile', '.ci/*', '.github/*', '.git/*', '.gitignore', '.ansible-lint', '.venv*', 'build/*', 'tests/output/*',
    'tests/bench/*', 'tests/demo.py', 'tests/docsite_inventory.py', 'tests/focus/*', 'tests/functional/*', 'tests/unit_sim/*', 'tests/simulator/*',
    'tests/constraints/*',
    'tests/requirements-*', 'tests/run-all.sh', 'tests/run_integration.py', 'tests/sanity/*', 'tests/check_package.py',
    'tests/galaxy-importer.cfg', 'tests/integration/integration_config.yml', 'importer_result.json', '*.pyc', '*/__pycache__/*', '*.tar.gz',
    '*.hypothesis/*', '*.pytest_cache/*', '.mypy_cache/*', '.tox/*', '.coverage', 'htmlcov/*', '.idea/*', '.vscode/*', '*.swp',
]
# What a user, Galaxy or ansible-test needs from the tarball.
REQUIRED = [
    'MANIFEST.json', 'FILES.json', 'README.md', 'COPYING', 'CHANGELOG.rst', 'changelogs/changelog.yaml', 'meta/runtime.yml',
    'meta/execution-environment.yml', 'meta/ee-requirements.txt', 'requirements.txt', 'extras/awx/execution-environment.yml',
    'tests/unit/requirements.txt', 'tests/unit/constraints.txt', 'tests/integration/requirements.txt',
    'tests/integration/constraints.txt', 'docs/images/report-screenshot.png',
]
IMAGE_LIMIT = 100 * 1024  # bytes; an image larger than this would be most of the tarball
IMPORTER_PROBLEM = re.compile(r'^(WARNING|ERROR|CRITICAL)\b|Traceback', re.M)


def galaxy_version():
    with open(os.path.join(ROOT, 'galaxy.yml')) as handle:
        return str(yaml.safe_load(handle)['version'])


def build_tarball(work):
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    subprocess.check_call([os.path.join(BIN, 'ansible-galaxy'), 'collection', 'build', '--output-path', work, ROOT],
                          stdout=subprocess.DEVNULL)
    return os.path.join(work, 'vergeio-billing-%s.tar.gz' % galaxy_version())


def check_contents(tarball):
    problems = []
    with tarfile.open(tarball) as archive:
        members = dict((m.name[2:] if m.name.startswith('./') else m.name, m) for m in archive.getmembers())
    files = dict((name, m.size) for name, m in members.items() if m.isfile())
    for name in sorted(files):
        hits = [pattern for pattern in FORBIDDEN if fnmatch.fnmatch(name, pattern)]
        if hits:
            problems.append('development-only file in the tarball: %s (matches %s)' % (name, hits[0]))
        if name.endswith(('.png', '.jpg', '.jpeg', '.gif', '.svg')) and files[name] > IMAGE_LIMIT:
            problems.append('image %s is %d bytes (limit %d)' % (name, files[name], IMAGE_LIMIT))
    for name in REQUIRED:
        if name not in files:
            problems.append('missing from the tarball: %s' % name)
    dirs = set(name.rstrip('/') for name, m in members.items() if m.isdir())
    for folder in sorted(dirs):
        if not any(other.startswith(folder + '/') for other in files) and folder != 'changelogs/fragments':
            problems.append('empty folder in the tarball: %s' % folder)
    largest = sorted(files.items(), key=lambda item: -item[1])[:3]
    listed = ', '.join('%s %d' % item for item in largest)
    print('tarball %s: %d bytes, %d files; largest: %s' % (os.path.basename(tarball), os.path.getsize(tarball), len(files), listed))
    return problems


def run_importer(tarball, work):
    """galaxy-importer on the tarball. Its ansible-lint step resolves vergeio.billing.* through the collection paths:
    they hold only this tarball, installed in a scratch directory (HOME included), so no other copy of the collection
    (the source tree of a stage running at the same time, or ~/.ansible/collections left by an earlier ansible-lint
    run of another version) can answer for it."""
    scratch = tempfile.mkdtemp(prefix='vergeio-billing-importer-')
    try:
        collections = os.path.join(scratch, 'collections')
        subprocess.check_call([os.path.join(BIN, 'ansible-galaxy'), 'collection', 'install', '--force', '-p', collections, tarball],
                              stdout=subprocess.DEVNULL, env=dict(os.environ, ANSIBLE_COLLECTIONS_PATH=collections))
        env = dict(os.environ, GALAXY_IMPORTER_CONFIG=os.path.join(ROOT, 'tests', 'galaxy-importer.cfg'),
                   PATH=BIN + os.pathsep + os.environ.get('PATH', ''), ANSIBLE_LOCAL_TEMP=os.path.join(work, 'ansible-tmp'),
                   ANSIBLE_COLLECTIONS_PATH=collections, HOME=scratch)
        proc = subprocess.run([sys.executable, '-m', 'galaxy_importer.main', tarball], cwd=work, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, check=False)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    print(proc.stdout.rstrip())
    problems = ['galaxy-importer: %s' % line for line in proc.stdout.splitlines() if IMPORTER_PROBLEM.search(line)]
    if proc.returncode:
        problems.append('galaxy-importer exited with %d' % proc.returncode)
    if 'Importer processing completed successfully' not in proc.stdout:
        problems.append('galaxy-importer did not report success')
    return problems


def quiet_pip(command):
    """pip, without the warnings about the machine's configured local indexes that do not exist."""
    proc = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, check=False)
    noise = 'is ignored: it is neither a file nor a directory'
    sys.stdout.write(''.join(line for line in proc.stdout.splitlines(True) if noise not in line))
    if proc.returncode:
        raise subprocess.CalledProcessError(proc.returncode, command)


def run_units_installed(tarball, work, python, py_version, constraints):
    """Install the tarball outside any git checkout, then run its unit tests the way ansible-collections CI does."""
    scratch = tempfile.mkdtemp(prefix='vergeio-billing-installed-')
    try:
        subprocess.check_call([os.path.join(BIN, 'ansible-galaxy'), 'collection', 'install', '--force', '-p', scratch, tarball],
                              stdout=subprocess.DEVNULL, env=dict(os.environ, ANSIBLE_COLLECTIONS_PATH=scratch))
        venv = os.path.join(work, 'fresh-venv')
        shutil.rmtree(venv, ignore_errors=True)
        subprocess.check_call([python, '-m', 'venv', venv])
        pip = [os.path.join(venv, 'bin', 'pip'), 'install', '--quiet', '--disable-pip-version-check']
        quiet_pip(pip + ['ansible-core', '-c', os.path.abspath(constraints)])
        env = dict((k, v) for k, v in os.environ.items() if not k.startswith(('ANSIBLE_', 'VERGE')))
        env['PATH'] = os.path.join(venv, 'bin') + os.pathsep + env.get('PATH', '')
        tree = os.path.join(scratch, 'ansible_collections', 'vergeio', 'billing')
        command = [os.path.join(venv, 'bin', 'ansible-test'), 'units', '--requirements', '--python', py_version, '--color', 'no']
        print('in %s (no galaxy.yml, no git): %s' % (tree, ' '.join(command)), flush=True)
        proc = subprocess.run(command, cwd=tree, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              universal_newlines=True, check=False)
        tail = proc.stdout.splitlines()
        print('\n'.join(line for line in tail if re.search(r'passed|failed|error', line, re.I))[-3000:])
        if proc.returncode:
            print(proc.stdout[-6000:])
            return ['ansible-test units --requirements in the installed collection exited with %d' % proc.returncode]
        if not re.search(r'\b\d+ passed\b', proc.stdout):
            return ['ansible-test units in the installed collection ran no test']
        return []
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def check_ee(definition, context, lines):
    problems = []
    with open(definition) as handle:
        ee = yaml.safe_load(handle)
    core = str(ee['dependencies']['ansible_core']['package_pip'])
    match = re.match(r'^ansible-core==(\d+\.\d+)\.\d+$', core)
    if not match:
        problems.append('the EE must pin ansible-core exactly (ansible-core==X.Y.Z), not %r' % core)
    elif match.group(1) not in lines:
        problems.append('the EE pins ansible-core %s, a line make test does not run (%s)' % (match.group(1), ', '.join(lines)))
    runner = str(ee['dependencies'].get('ansible_runner', {}).get('package_pip', ''))
    if not re.match(r'^ansible-runner==\d+(\.\d+)+$', runner):
        problems.append('the EE must pin ansible-runner exactly, not %r' % runner)
    version = galaxy_version()
    ours = [c for c in ee['dependencies']['galaxy']['collections'] if c.get('name') == 'vergeio.billing']
    if not ours or str(ours[0].get('version')) != version:
        problems.append('the EE must pin vergeio.billing to this version %s, not %r' % (version, ours and ours[0].get('version')))
    written = []
    for folder, _dirs, names in os.walk(context):
        for name in names:
            with open(os.path.join(folder, name), errors='replace') as handle:
                written.append(handle.read())
    text = '\n'.join(written)
    for pin in (core, runner, version):
        if pin not in text:
            problems.append('ansible-builder create wrote no %r into %s' % (pin, context))
    print('execution environment: %s, %s, vergeio.billing %s; build context %s' % (core, runner, version, context))
    return problems


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--work', default=os.path.join(ROOT, 'build', 'package'), help='where the tarball is built (emptied first)')
    parser.add_argument('--contents', action='store_true', help="check the tarball's files")
    parser.add_argument('--importer', action='store_true', help='run galaxy-importer on the tarball')
    parser.add_argument('--units', action='store_true', help='run the unit tests of the installed tarball in a fresh venv')
    parser.add_argument('--python', help='interpreter for that fresh venv')
    parser.add_argument('--py-version', help='its version, for ansible-test --python')
    parser.add_argument('--constraints', help="the constraints file pinning that venv's ansible-core")
    parser.add_argument('--ee', help='execution environment definition')
    parser.add_argument('--ee-context', help='the build context ansible-builder create wrote')
    parser.add_argument('--lines', default='', help='ansible-core lines make test runs, comma separated')
    args = parser.parse_args()
    problems = []
    if args.contents or args.importer or args.units:
        tarball = build_tarball(os.path.abspath(args.work))
        if args.contents:
            problems += check_contents(tarball)
        if args.importer:
            problems += run_importer(tarball, os.path.abspath(args.work))
        if args.units:
            problems += run_units_installed(tarball, os.path.abspath(args.work), args.python, args.py_version, args.constraints)
    if args.ee:
        problems += check_ee(args.ee, args.ee_context, [line for line in args.lines.split(',') if line])
    for problem in problems:
        print('PROBLEM: %s' % problem)
    print('package checks: %d problem(s)' % len(problems))
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main())
