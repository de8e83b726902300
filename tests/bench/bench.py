# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vergeio.billing contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""``make bench``: how fast and how lean ``view: summary`` and ``view: latest`` are. A benchmark, not a test.

For each size (1,000, 10,000 and 100,000 records by default) the VergeOS API simulator is started as a separate
process from its command line (its CPU is not ours, as with a real server), with a fixed seed and records ending
now, and each of these is run N times (median reported), every run in a fresh process tree:

- ours:    ``ansible localhost -m vergeio.billing.verge_billing_info -a view=summary`` (connection from VERGEOS_*)
- ref:     the reference SDK, ``pyvergeos.VergeClient(...).billing.get_summary()``, in a small driver process
- floor:   one raw ``requests`` GET of the fields our summary asks for (same filter and sort, ``limit=0``) plus
           ``json`` parsing, in its own process: what any client must at least spend
- ping:    ``ansible localhost -m ansible.builtin.ping``: Ansible's own start-up
- latest:  ``... verge_billing_info -a view=latest``
- uri:     ``ansible localhost -m ansible.builtin.uri`` fetching the same record with the same query

Figures: wall time; peak memory; HTTP requests and response bytes the simulator served (its request log,
``GET /_sim/requests``); CPU time (user + system) of the process tree.

Peak memory: each run happens under a fresh wrapper process that starts the command, waits for it and reads
``resource.getrusage(RUSAGE_CHILDREN).ru_maxrss``. Linux reports there the largest peak resident set size of
any one process among the waited-for descendants (the command and every process it waited for: for ansible,
the controller, its forked worker and the module process), so for ansible it is the peak of whichever of those
grew largest: the module process in a summary. The wrapper's own memory is not included.

The simulator serves records without its quirks (``--no-quirks``: no nulls, no numbers as strings), because
the reference SDK crashes on a null counter (``int(None)``).

Results: printed as a table, and written to ``bench-results/`` as JSON and markdown. ``--docs FILE`` also
replaces the part of FILE between ``<!-- bench:begin -->`` and ``<!-- bench:end -->`` with the markdown.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import argparse
import datetime
import json
import os
import platform
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from urllib.parse import parse_qsl, urlencode

import requests

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SIMULATOR = os.path.join(ROOT, 'tests', 'simulator', 'vergeos_sim.py')
BIN = os.path.dirname(sys.executable)
API_KEY = 'sim-api-key'
SUBJECTS = ('ours', 'ref', 'floor', 'ping', 'latest', 'uri')
LABELS = {
    'ours': 'ours: view=summary',
    'ref': 'reference get_summary()',
    'floor': 'floor: 1 GET + json',
    'ping': 'ansible start-up (ping)',
    'latest': 'ours: view=latest',
    'uri': 'ansible.builtin.uri, same GET',
}
TARGET_SIZE = 100000
_SCRUB_PREFIXES = ('VERGEOS_', 'VERGE_', 'ANSIBLE_')
_SCRUB = ('REQUESTS_CA_BUNDLE', 'CURL_CA_BUNDLE', 'SSL_CERT_FILE')
_RESULT = re.compile(r'^\S+ \| [A-Z!]+(?: \| rc=\d+)? => ', re.M)

# A fresh process per run: starts the command, waits, reports wall time and the children's rusage.
WRAPPER = r'''
import json, resource, subprocess, sys, time
cmd = json.loads(sys.argv[1])
start = time.perf_counter()
proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)
wall = time.perf_counter() - start
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
json.dump(dict(wall=wall, maxrss_kb=usage.ru_maxrss, cpu=usage.ru_utime + usage.ru_stime, rc=proc.returncode,
               stdout=proc.stdout.decode('utf-8', 'replace')[-200000:], stderr=proc.stderr.decode('utf-8', 'replace')[-4000:]),
          sys.stdout)
'''

REF_DRIVER = r'''
import json, os, pyvergeos
client = pyvergeos.VergeClient(host=os.environ['BENCH_HOST'], token=os.environ['BENCH_TOKEN'])
print(json.dumps(client.billing.get_summary()))
'''

FLOOR_DRIVER = r'''
import json, os, requests
response = requests.get(os.environ['BENCH_URL'], headers={'Authorization': 'Bearer ' + os.environ['BENCH_TOKEN']},
                        verify=os.environ['BENCH_CA'], timeout=600)
response.raise_for_status()
rows = json.loads(response.content)
print(json.dumps(dict(record_count=len(rows))))
'''


class Simulator:
    """The simulator as a separate process, started from its command line."""

    def __init__(self, records, seed, workdir, extra=()):
        """``extra``: more command line options of the simulator (``--end`` ...)."""
        self.records = records
        ready = os.path.join(workdir, 'ready-%d.json' % records)
        certs = os.path.join(workdir, 'certs-%d' % records)
        self.errors = os.path.join(workdir, 'simulator-%d.log' % records)
        command = [sys.executable, SIMULATOR, '--port', '0', '--records', str(records), '--seed', str(seed),
                   '--no-quirks', '--ready-file', ready, '--cert-dir', certs] + list(extra)
        with open(self.errors, 'wb') as errors:
            self.proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=errors)  # pylint: disable=consider-using-with
        deadline = time.monotonic() + 300
        while not os.path.exists(ready):
            if self.proc.poll() is not None:
                with open(self.errors, encoding='utf-8', errors='replace') as handle:
                    raise SystemExit('the simulator exited with %s: %s' % (self.proc.returncode, handle.read()[-2000:]))
            if time.monotonic() > deadline:
                self.stop()
                raise SystemExit('the simulator did not start within 300 s')
            time.sleep(0.05)
        with open(ready, encoding='utf-8') as handle:
            info = json.load(handle)
        self.url = info['url']
        self.host = '127.0.0.1:%d' % info['port']
        self.ca_path = info['ca_path']
        self.admin = requests.Session()
        self.admin.verify = self.ca_path

    def reset_log(self):
        self.admin.delete(self.url + '/_sim/requests', verify=self.ca_path, timeout=60).raise_for_status()

    def log(self):
        response = self.admin.get(self.url + '/_sim/requests', verify=self.ca_path, timeout=60)
        response.raise_for_status()
        return [entry for entry in response.json() if entry['path'].startswith('/api/')]

    def stop(self):
        self.admin.close()
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def base_env(collections):
    """The caller's environment minus anything VergeOS/Ansible/CA related, plus what every run needs."""
    env = dict((k, v) for k, v in os.environ.items() if not k.startswith(_SCRUB_PREFIXES) and k not in _SCRUB)
    env.update(
        ANSIBLE_COLLECTIONS_PATH=collections,
        ANSIBLE_NOCOLOR='1',
        ANSIBLE_LOCALHOST_WARNING='0',
        ANSIBLE_INVENTORY_UNPARSED_WARNING='0',
        ANSIBLE_PYTHON_INTERPRETER=sys.executable,
        ANSIBLE_CALLBACK_RESULT_FORMAT='json',
        ANSIBLE_STDOUT_CALLBACK='default',
        ANSIBLE_RETRY_FILES_ENABLED='0',
        PATH=BIN + os.pathsep + env.get('PATH', ''),
        PYTHONDONTWRITEBYTECODE='1',
    )
    return env


def ansible(module, args):
    return [os.path.join(BIN, 'ansible'), 'localhost', '-m', module] + (['-a', args] if args else [])


def measure(command, env, sim):
    """Run ``command`` once under a fresh wrapper process; returns the figures of that run."""
    sim.reset_log()
    proc = subprocess.run([sys.executable, '-c', WRAPPER, json.dumps(command)], env=env, capture_output=True, check=False)
    if proc.returncode != 0:
        raise SystemExit('the measuring wrapper failed: %s' % proc.stderr.decode('utf-8', 'replace')[-2000:])
    run = json.loads(proc.stdout)
    log = sim.log()
    run['requests'] = len(log)
    run['bytes'] = sum(entry.get('bytes') or 0 for entry in log)
    run['queries'] = [entry['query'] for entry in log]
    run['result'] = parse_result(run['stdout'])
    if run['rc'] != 0:
        sys.stderr.write('warning: %s exited %d\n%s\n%s\n' % (' '.join(command[:5]), run['rc'], run['stdout'][-1500:], run['stderr'][-1500:]))
    del run['stdout'], run['stderr']
    return run


def parse_result(stdout):
    """The JSON an ad hoc ansible run or a driver printed (None when there is none)."""
    match = _RESULT.search(stdout)
    start = match.end() if match else stdout.find('{')
    if start < 0:
        return None
    try:
        return json.JSONDecoder().raw_decode(stdout, start)[0]
    except ValueError:
        return None


def summary_count(result):
    if not isinstance(result, dict):
        return None
    if 'summary' in result:
        return result['summary'].get('record_count')
    return result.get('record_count')


def bench_size(records, args, env, workdir):
    """Every subject, N runs each (interleaved), against one simulator of ``records`` records."""
    sim = Simulator(records, args.seed, workdir)
    try:
        conn = dict(env, VERGEOS_HOST=sim.host, VERGEOS_API_KEY=API_KEY, VERGEOS_CA_PATH=sim.ca_path)
        ref_env = dict(env, BENCH_HOST=sim.host, BENCH_TOKEN=API_KEY, REQUESTS_CA_BUNDLE=sim.ca_path)
        # Warm-up (not measured): file caches, and the exact queries ours sends, for the floor and uri to repeat.
        summary_args = 'view=summary' + (' page_size=%d' % args.page_size if args.page_size else '')
        warm_summary = measure(ansible('vergeio.billing.verge_billing_info', summary_args), conn, sim)
        warm_latest = measure(ansible('vergeio.billing.verge_billing_info', 'view=latest'), conn, sim)
        if not warm_summary['queries'] or not warm_latest['queries']:
            raise SystemExit('ours sent no request: is the collection at %s? (make tree, or --collections)' % args.collections)
        # The page query (not the one that reads the newest record, limit=2, for the bound and the capacities).
        pages = [query for query in warm_summary['queries'] if dict(parse_qsl(query)).get('limit') != '2']
        floor_query = dict(parse_qsl(pages[0], keep_blank_values=True))
        floor_query.pop('offset', None)
        floor_query['limit'] = '0'
        floor_env = dict(env, BENCH_URL='%s/api/v4/billing?%s' % (sim.url, urlencode(floor_query)), BENCH_TOKEN=API_KEY,
                         BENCH_CA=sim.ca_path)
        uri_args = json.dumps(dict(url='%s/api/v4/billing?%s' % (sim.url, warm_latest['queries'][0]),
                                   headers=dict(Authorization='Bearer ' + API_KEY), ca_path=sim.ca_path))
        commands = dict(
            ours=(ansible('vergeio.billing.verge_billing_info', summary_args), conn),
            ref=([sys.executable, '-c', REF_DRIVER], ref_env),
            floor=([sys.executable, '-c', FLOOR_DRIVER], floor_env),
            ping=(ansible('ansible.builtin.ping', None), env),
            latest=(ansible('vergeio.billing.verge_billing_info', 'view=latest'), conn),
            uri=(ansible('ansible.builtin.uri', uri_args), env),
        )
        runs = dict((name, []) for name in args.subjects)
        for number in range(args.runs):
            for name in args.subjects:
                command, run_env = commands[name]
                run = measure(command, run_env, sim)
                runs[name].append(run)
                if args.verbose:
                    print('  %7d %-7s run %d: %.3f s, %.1f MB, %d requests' % (
                        records, name, number + 1, run['wall'], run['maxrss_kb'] / 1024.0, run['requests']), flush=True)
        return dict(records=records, floor_query=floor_query, subjects=dict((name, summarize(name, items)) for name, items in runs.items()))
    finally:
        sim.stop()


def summarize(name, items):
    def median(key):
        return statistics.median(item[key] for item in items)

    counts = [summary_count(item['result']) for item in items] if name in ('ours', 'ref', 'floor') else []
    return dict(
        wall=median('wall'), maxrss_mb=median('maxrss_kb') / 1024.0, cpu=median('cpu'), requests=median('requests'),
        bytes=median('bytes'), failures=sum(1 for item in items if item['rc'] != 0), record_counts=sorted(set(c for c in counts)),
        runs=[dict((k, item[k]) for k in ('wall', 'maxrss_kb', 'cpu', 'requests', 'bytes', 'rc')) for item in items],
    )


def ratios(size):
    s = size['subjects']

    def div(a, b):
        return a / b if a is not None and b else None

    def get(name, key):
        return s[name][key] if name in s else None

    out = dict(
        ours_ref_wall=div(get('ours', 'wall'), get('ref', 'wall')),
        ours_ref_mem=div(get('ours', 'maxrss_mb'), get('ref', 'maxrss_mb')),
        latest_uri_wall=div(get('latest', 'wall'), get('uri', 'wall')),
    )
    if 'floor' in s and 'ping' in s:
        out['ours_floor_ping_wall'] = div(get('ours', 'wall'), s['floor']['wall'] + s['ping']['wall'])
    else:
        out['ours_floor_ping_wall'] = None
    return out


def targets(size):
    """The issue's targets at 100,000 records: (label, measured, limit, met)."""
    r = size['ratios']
    s = size['subjects']
    rows = []
    if 'ours' in s:
        rows.append(('HTTP requests of view=summary', s['ours']['requests'], 21, s['ours']['requests'] <= 21))
    for label, key, limit in (('wall: ours / reference', 'ours_ref_wall', 0.6),
                              ('wall: ours / (floor + ansible start-up)', 'ours_floor_ping_wall', 1.5),
                              ('peak memory: ours / reference', 'ours_ref_mem', 0.5),
                              ('wall: view=latest / ansible.builtin.uri', 'latest_uri_wall', 1.1)):
        if r.get(key) is not None:
            rows.append((label, r[key], limit, r[key] <= limit))
    return rows


def machine():
    info = dict(nproc=len(os.sched_getaffinity(0)) if hasattr(os, 'sched_getaffinity') else os.cpu_count(),
                python=platform.python_version(), platform=platform.platform())
    try:
        with open('/proc/cpuinfo', encoding='utf-8') as handle:
            models = [line.split(':', 1)[1].strip() for line in handle if line.startswith('model name')]
        info['cpu'] = models[0] if models else platform.processor()
    except OSError:
        info['cpu'] = platform.processor()
    try:
        with open('/proc/meminfo', encoding='utf-8') as handle:
            for line in handle:
                if line.startswith('MemTotal:'):
                    info['ram_gb'] = round(int(line.split()[1]) / 1024.0 / 1024.0, 1)
    except OSError:
        pass
    versions = subprocess.run([sys.executable, '-c', 'import ansible.release, requests, json; import importlib.metadata as m\n'
                               'print(json.dumps(dict(ansible_core=ansible.release.__version__, requests=requests.__version__, '
                               'pyvergeos=m.version("pyvergeos"))))'], capture_output=True, text=True, check=False)
    try:
        info.update(json.loads(versions.stdout))
    except ValueError:
        pass
    commit = subprocess.run(['git', 'rev-parse', '--short', 'HEAD'], cwd=ROOT, capture_output=True, text=True, check=False)
    changed = subprocess.run(['git', 'status', '--porcelain', '--untracked-files=no', '--', 'plugins'], cwd=ROOT, capture_output=True,
                             text=True, check=False)
    info['commit'] = (commit.stdout.strip() + (' with local changes to plugins/' if changed.stdout.strip() else '')) or None
    return info


def _load():
    """The 1-minute load average: other work on the machine shows in wall times (CPU times are steadier)."""
    return round(os.getloadavg()[0], 2) if hasattr(os, 'getloadavg') else None


def fmt(value, spec):
    return '-' if value is None else format(value, spec)


def markdown(report):
    m = report['machine']
    lines = [
        'Measured %s (UTC) at commit %s, median of %d runs, seed %d.' % (report['date'], m.get('commit'), report['runs'], report['seed']),
        '',
        'Machine: %s CPU(s), %s, %s GB RAM; Python %s; ansible-core %s; requests %s; pyvergeos %s. '
        'Load average (1 min) before and after: %s, %s.' % (
            m.get('nproc'), m.get('cpu'), m.get('ram_gb'), m.get('python'), m.get('ansible_core'), m.get('requests'), m.get('pyvergeos'),
            report.get('load_before'), report.get('load_after')),
        '',
        'ours: `view=summary`%s.' % (' page_size=%d' % report['page_size'] if report.get('page_size') else ' (default page_size)'),
        '',
        '| records | what | wall s | peak RSS MB | CPU s | HTTP requests | MB served | record_count |',
        '| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |',
    ]
    for size in report['sizes']:
        for name in SUBJECTS:
            s = size['subjects'].get(name)
            if s is None:
                continue
            lines.append('| %s | %s | %.2f | %.0f | %.2f | %d | %.3f | %s |' % (
                format(size['records'], ','), LABELS[name], s['wall'], s['maxrss_mb'], s['cpu'], s['requests'], s['bytes'] / 1e6,
                ', '.join(str(c) for c in s['record_counts']) or ''))
    lines += ['', '| records | wall ours / ref | memory ours / ref | wall ours / (floor + start-up) | wall latest / uri |',
              '| ---: | ---: | ---: | ---: | ---: |']
    for size in report['sizes']:
        r = size['ratios']
        lines.append('| %s | %s | %s | %s | %s |' % (format(size['records'], ','), fmt(r['ours_ref_wall'], '.2f'), fmt(r['ours_ref_mem'], '.2f'),
                                                     fmt(r['ours_floor_ping_wall'], '.2f'), fmt(r['latest_uri_wall'], '.2f')))
    for size in report['sizes']:
        if size['records'] == TARGET_SIZE and size['targets']:
            lines += ['', 'Targets at %s records:' % format(TARGET_SIZE, ','), '', '| target | measured | limit | |', '| --- | ---: | ---: | --- |']
            for label, measured, limit, met in size['targets']:
                lines.append('| %s | %s | %s | %s |' % (label, fmt(measured, '.2f') if isinstance(measured, float) else measured, limit,
                                                        'met' if met else 'MISSED'))
    return '\n'.join(lines) + '\n'


def update_docs(path, text):
    begin, end = '<!-- bench:begin -->', '<!-- bench:end -->'
    with open(path, encoding='utf-8') as handle:
        doc = handle.read()
    if begin not in doc or end not in doc:
        raise SystemExit('%s has no %s ... %s section to replace' % (path, begin, end))
    head, rest = doc.split(begin, 1)
    tail = rest.split(end, 1)[1]
    with open(path, 'w', encoding='utf-8') as handle:
        handle.write(head + begin + '\n' + text + end + tail)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n', 1)[0])
    parser.add_argument('--sizes', default='1000,10000,100000', help='record counts, comma separated (default %(default)s)')
    parser.add_argument('--runs', type=int, default=int(os.environ.get('BENCH_RUNS', 3)), help='runs per figure; the median is shown (default 3)')
    parser.add_argument('--seed', type=int, default=1, help='simulator seed (default %(default)s)')
    parser.add_argument('--collections', default=os.environ.get('ANSIBLE_COLLECTIONS_PATH') or os.path.join(ROOT, 'build', 'collections'),
                        help='ANSIBLE_COLLECTIONS_PATH holding vergeio.billing (default: $ANSIBLE_COLLECTIONS_PATH, which make sets, '
                             'else build/collections)')
    parser.add_argument('--subjects', default=','.join(SUBJECTS), help='what to run (default %(default)s)')
    parser.add_argument('--out', default=os.path.join(ROOT, 'bench-results'), help='directory for the JSON and markdown results')
    parser.add_argument('--docs', default=None, help='also put the markdown between the bench markers of this file (docs/benchmarks.md)')
    parser.add_argument('--page-size', type=int, default=None, help="page_size for ours' summary (default: the module's default)")
    parser.add_argument('--verbose', action='store_true', help='print every run')
    args = parser.parse_args(argv)
    args.collections = os.pathsep.join(os.path.abspath(path) for path in args.collections.split(os.pathsep) if path)
    args.subjects = [name for name in args.subjects.split(',') if name]
    unknown = sorted(set(args.subjects) - set(SUBJECTS))
    if unknown:
        parser.error('unknown subject(s) %s; choose from %s' % (', '.join(unknown), ', '.join(SUBJECTS)))
    if not any(os.path.isdir(os.path.join(path, 'ansible_collections', 'vergeio', 'billing')) for path in args.collections.split(os.pathsep)):
        parser.error('no vergeio.billing under %s: run make tree (or pass --collections)' % args.collections)
    sizes = [int(size) for size in args.sizes.split(',') if size]
    env = base_env(args.collections)
    report = dict(date=datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d %H:%M'), runs=args.runs, seed=args.seed,
                  page_size=args.page_size, machine=machine(), sizes=[], load_before=_load())
    with tempfile.TemporaryDirectory(prefix='verge-bench-') as workdir:
        for records in sizes:
            print('benchmarking %s records (%d runs each) ...' % (format(records, ','), args.runs), flush=True)
            size = bench_size(records, args, env, workdir)
            size['ratios'] = ratios(size)
            size['targets'] = targets(size) if records == TARGET_SIZE else []
            report['sizes'].append(size)
    report['load_after'] = _load()
    text = markdown(report)
    print()
    print(text)
    os.makedirs(args.out, exist_ok=True)
    stamp = report['date'].replace(' ', 'T').replace(':', '')
    for name in ('bench-%s' % stamp, 'latest'):
        with open(os.path.join(args.out, name + '.json'), 'w', encoding='utf-8') as handle:
            json.dump(report, handle, indent=2, sort_keys=True)
        with open(os.path.join(args.out, name + '.md'), 'w', encoding='utf-8') as handle:
            handle.write(text)
    print('results written to %s/bench-%s.{json,md}' % (os.path.relpath(args.out, os.getcwd()), stamp))
    if args.docs:
        update_docs(args.docs, text)
        print('table written to %s' % args.docs)
    return 0


if __name__ == '__main__':
    sys.exit(main())
