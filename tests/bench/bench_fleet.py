# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vergeio.billing contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The fleet part of ``make bench-report``: 40 systems, one month each, forks 10. A benchmark, not a test.

Forty VergeOS API simulators run as separate processes (their CPU is not ours, as with real systems), each with
hourly records (800, the newest ending 2026-11-01T00:00:00Z, so October 2026 holds 744), without quirks, one seed
each. One inventory of 40 hosts (``ansible_connection: local``), ``ansible-playbook --forks 10``, and these plays,
each run N times (median), taking turns:

- ping:   ``ansible.builtin.ping`` on each host: Ansible's own cost of 40 hosts
- uri:    one ``ansible.builtin.uri`` GET per host of ``/api/v4/billing`` (no query: the list as the API gives it by
          default, the yardstick of ``bench_report.py`` and of the issue). The target: ``fleet`` at most 3x this.
- uridata: the same GET with the very query the report sends for October's records (every field, the month's
          filter; taken from a simulator's log): the bytes the report reads, without the report.
- role:   ``playbooks/fleet_chargeback.yml`` with ``consolidate=false``: the per-system reports only (four formats)
- fleet:  ``playbooks/fleet_chargeback.yml``: the per-system reports and the consolidated fleet report

Wall time, CPU time of the process tree (user + system), and the requests and bytes the simulators served.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import argparse
import datetime
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

import requests

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from bench import ROOT, SIMULATOR, WRAPPER, base_env, machine, _load  # noqa: E402  pylint: disable=wrong-import-position

API_KEY = 'sim-api-key'
END = 1793491200  # 2026-11-01T00:00:00Z
RATES = dict(core_hour=0.02, ram_gb_hour=0.01, tier1_gb_hour=0.0001, tier2_gb_hour=0.00005, gpu_hour=1.5, vgpu_hour=0.4, currency='EUR')
SUBJECTS = ('ping', 'uri', 'uridata', 'role', 'fleet')
LABELS = dict(ping='ansible.builtin.ping per host', uri='ansible.builtin.uri, one GET /api/v4/billing per host',
              uridata="ansible.builtin.uri, one GET per host with the report's query",
              role='per-system reports (fleet_chargeback, consolidate=false)', fleet='fleet_chargeback (reports + fleet report)')
TARGET = 3.0
DOCS_BEGIN, DOCS_END = '<!-- bench-fleet:begin -->', '<!-- bench-fleet:end -->'

PING = '''- hosts: vergeos
  gather_facts: false
  tasks:
    - ansible.builtin.ping:
'''
URI = '''- hosts: vergeos
  gather_facts: false
  tasks:
    - ansible.builtin.uri:
        url: "https://{{ billing_report_host }}/api/v4/billing{{ ('?' ~ query) if query else '' }}"
        headers:
          Authorization: "Bearer {{ billing_report_api_key }}"
        ca_path: "{{ billing_report_ca_path }}"
        return_content: false
      delegate_to: localhost
'''


class Simulators:
    """``count`` simulators as separate processes, started together."""

    def __init__(self, count, records, workdir):
        self.procs, self.info = [], []
        readies = []
        for number in range(count):
            ready = os.path.join(workdir, 'ready-%02d.json' % number)
            command = [sys.executable, SIMULATOR, '--port', '0', '--records', str(records), '--seed', str(1000 + number), '--end', str(END),
                       '--no-quirks', '--ready-file', ready, '--cert-dir', os.path.join(workdir, 'certs-%02d' % number)]
            self.procs.append(subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))  # pylint: disable=consider-using-with
            readies.append(ready)
        deadline = time.monotonic() + 600
        for proc, ready in zip(self.procs, readies):
            while not os.path.exists(ready):
                if proc.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise SystemExit('a simulator did not start (exit %s)' % proc.poll())
                time.sleep(0.05)
            with open(ready, encoding='utf-8') as handle:
                self.info.append(json.load(handle))
        self.session = requests.Session()

    def admin(self, method, info, path):
        response = self.session.request(method, info['url'] + path, verify=info['ca_path'], timeout=60)
        response.raise_for_status()
        return response

    def reset_logs(self):
        for info in self.info:
            self.admin('DELETE', info, '/_sim/requests')

    def logs(self):
        return [[entry for entry in self.admin('GET', info, '/_sim/requests').json() if entry['path'].startswith('/api/')]
                for info in self.info]

    def stop(self):
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def measure(command, env, sims, cwd):
    sims.reset_logs()
    proc = subprocess.run([sys.executable, '-c', WRAPPER, json.dumps(command)], env=env, capture_output=True, check=False, cwd=cwd)
    if proc.returncode != 0:
        raise SystemExit('the measuring wrapper failed: %s' % proc.stderr.decode('utf-8', 'replace')[-2000:])
    run = json.loads(proc.stdout)
    logs = sims.logs()
    run['requests'] = sum(len(log) for log in logs)
    run['bytes'] = sum(entry.get('bytes') or 0 for log in logs for entry in log)
    # The query that carried the data (the report also asks for the newest record first, to pin the period's end).
    run['data_query'] = max(logs[0], key=lambda entry: entry.get('bytes') or 0)['query'] if logs and logs[0] else None
    if run['rc'] != 0:
        sys.stderr.write('warning: %s exited %d\n%s\n%s\n' % (' '.join(command[:4]), run['rc'], run['stdout'][-3000:], run['stderr'][-1500:]))
    del run['stdout'], run['stderr']
    return run


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n', 1)[0])
    parser.add_argument('--systems', type=int, default=40)
    parser.add_argument('--forks', type=int, default=10)
    parser.add_argument('--records', type=int, default=800, help='hourly records per system, the newest ending 2026-11-01 (default 800)')
    parser.add_argument('--runs', type=int, default=int(os.environ.get('BENCH_RUNS', 3)))
    parser.add_argument('--subjects', default=','.join(SUBJECTS))
    parser.add_argument('--collections', default=os.environ.get('ANSIBLE_COLLECTIONS_PATH') or os.path.join(ROOT, 'build', 'collections'))
    parser.add_argument('--out', default=os.path.join(ROOT, 'bench-results'))
    parser.add_argument('--docs', default=None, help='put the table between the bench-fleet markers of this file (docs/benchmarks.md)')
    parser.add_argument('--verbose', action='store_true')
    args = parser.parse_args(argv)
    subjects = [name for name in args.subjects.split(',') if name]
    env = base_env(os.path.abspath(args.collections))
    report = dict(date=datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d %H:%M'), systems=args.systems, forks=args.forks,
                  records=args.records, runs=args.runs, machine=machine(), load_before=_load())
    workdir = tempfile.mkdtemp(prefix='verge-bench-fleet-')
    print('starting %d simulators ...' % args.systems, flush=True)
    sims = Simulators(args.systems, args.records, workdir)
    try:
        hosts = dict(('system-%02d' % number, dict(billing_report_host='127.0.0.1:%d' % info['port'], billing_report_ca_path=info['ca_path']))
                     for number, info in enumerate(sims.info, 1))
        inventory = os.path.join(workdir, 'inventory.json')
        with open(inventory, 'w', encoding='utf-8') as handle:
            group_vars = dict(ansible_connection='local', ansible_python_interpreter=sys.executable, billing_report_api_key=API_KEY,
                              billing_report_rates=RATES)
            json.dump(dict(vergeos=dict(hosts=hosts, vars=group_vars)), handle)
        plays = {}
        for name, text in (('ping', PING), ('uri', URI)):
            plays[name] = os.path.join(workdir, name + '.yml')
            with open(plays[name], 'w', encoding='utf-8') as handle:
                handle.write(text)
        playbook = [os.path.join(os.path.dirname(sys.executable), 'ansible-playbook'), '-i', inventory, '--forks', str(args.forks)]
        reports = os.path.join(workdir, 'reports')

        def fleet_command(consolidate):
            return playbook + ['vergeio.billing.fleet_chargeback', '-e', json.dumps(dict(month='2026-10', output_dir=reports,
                                                                                         consolidate=consolidate))]
        # Warm-up (not measured): file caches, and the query the report sends, for the uri play to repeat.
        warm = measure(fleet_command(True), env, sims, workdir)
        if not warm['data_query']:
            raise SystemExit('the fleet run sent no request: is the collection at %s?' % args.collections)
        query = warm['data_query']
        commands = dict(ping=playbook + [plays['ping']], uri=playbook + [plays['uri'], '-e', json.dumps(dict(query=''))],
                        uridata=playbook + [plays['uri'], '-e', json.dumps(dict(query=query))],
                        role=fleet_command(False), fleet=fleet_command(True))
        runs = dict((name, []) for name in subjects)
        for number in range(args.runs):
            for name in subjects:
                shutil.rmtree(reports, ignore_errors=True)  # every run writes all files afresh
                run = measure(commands[name], env, sims, workdir)
                runs[name].append(run)
                if args.verbose:
                    print('  %-6s run %d: %.2f s wall, %.2f s CPU, %d requests, %.1f MB' % (
                        name, number + 1, run['wall'], run['cpu'], run['requests'], run['bytes'] / 1e6), flush=True)
        report['query'] = query
        report['subjects'] = dict((name, dict(wall=statistics.median(r['wall'] for r in items), cpu=statistics.median(r['cpu'] for r in items),
                                              walls=[r['wall'] for r in items], requests=items[-1]['requests'], bytes=items[-1]['bytes'],
                                              rc=[r['rc'] for r in items])) for name, items in runs.items())
    finally:
        sims.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    report['load_after'] = _load()
    subjects_ = report['subjects']
    if 'uri' in subjects_ and 'fleet' in subjects_:
        report['ratio'] = subjects_['fleet']['wall'] / subjects_['uri']['wall']
    text = markdown(report)
    print()
    print(text)
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, 'fleet-latest.json'), 'w', encoding='utf-8') as handle:
        json.dump(report, handle, indent=2, sort_keys=True)
    with open(os.path.join(args.out, 'fleet-latest.md'), 'w', encoding='utf-8') as handle:
        handle.write(text)
    if args.docs:
        with open(args.docs, encoding='utf-8') as handle:
            doc = handle.read()
        head, marker, rest = doc.partition(DOCS_BEGIN)
        if not marker or DOCS_END not in rest:
            raise SystemExit('%s has no %s ... %s section to replace' % (args.docs, DOCS_BEGIN, DOCS_END))
        with open(args.docs, 'w', encoding='utf-8') as handle:
            handle.write(head + DOCS_BEGIN + '\n' + text + DOCS_END + rest.split(DOCS_END, 1)[1])
        print('table written to %s' % args.docs)
    return 0


def markdown(report):
    lines = ['Fleet: %d systems, one month each (%d hourly records a system in October 2026), forks %d; median of %d runs, %s UTC.'
             % (report['systems'], 744, report['forks'], report['runs'], report['date']), '',
             '| what | wall s | CPU s | HTTP requests | MB served | runs (wall s) |', '| --- | ---: | ---: | ---: | ---: | --- |']
    for name in SUBJECTS:
        item = report['subjects'].get(name)
        if item:
            walls = ', '.join('%.2f' % w for w in item['walls'])
            lines.append('| %s | %.2f | %.2f | %d | %.2f | %s |' % (LABELS[name], item['wall'], item['cpu'], item['requests'], item['bytes'] / 1e6, walls))
    if 'ratio' in report:
        cpu = report['subjects']['fleet']['cpu'] / report['subjects']['uri']['cpu']
        lines += ['', 'fleet / uri: **%.2fx** wall time, %.2fx CPU time (target at most %.0fx: %s)'
                  % (report['ratio'], cpu, TARGET, 'met' if report['ratio'] <= TARGET else 'MISSED')]
    lines += ['', 'Load average (1 min) before and after: %s, %s.' % (report['load_before'], report['load_after']), '']
    return '\n'.join(lines)


if __name__ == '__main__':
    sys.exit(main())
