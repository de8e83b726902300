# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vergeio.billing contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""``make bench-report``: how fast and how lean ``verge_billing_report`` is for one system. A benchmark, not a test.

The simulator runs as its own process (as ``make bench`` starts it) with hourly records ending 2026-11-01T00:00Z
(``--no-quirks``), so October 2026 in UTC holds 744 records and 2025-11-01 .. 2026-10-31 holds 8,760. Each of these
``ansible-playbook`` runs is measured N times (interleaved; medians), each in a fresh process tree under the
wrapper of ``bench.py`` (wall time, peak RSS of the largest process, CPU of the tree), with the simulator's request
log giving requests and response bytes:

- uri:    a play with one ``ansible.builtin.uri`` GET of ``/api/v4/billing`` (no query: the list as the API gives it
          by default), the yardstick of the issue;
- uri1:   the same with ``?limit=1&sort=-created`` (the smallest useful answer: Ansible's own cost alone);
- month:  a play with one ``verge_billing_report`` task, ``month: 2026-10``, the four formats, a rate card;
- year:   the same with ``since: 2025-11-01, until: 2026-10-31``;
- month_tenants: the month report with ``tenants: true`` (50 tenants with 32 days of hourly history);
- focus_month:   ``verge_billing_export`` of the month with the same 50 tenants as SubAccounts, daily charge periods;
- focus_year:    ``verge_billing_export`` of the year, hourly charge periods (the system only);
- month_xlsx, year_xlsx: the month and the year with ``formats: [csv, json, markdown, html, xlsx]`` (issue 16: a
          year's report with a workbook stays within the report speed targets).

Each report run writes into a fresh empty directory (so every run writes its four files). Ratios are taken
within this one run: month / uri <= 2, year / month <= 1.5; peak memory of the year <= 200 MB; its JSON <= 8 MB;
focus_month / month_tenants <= 1.5, focus_year / year <= 1.5, peak memory of both exports <= 200 MB; year_xlsx /
month_xlsx <= 1.5 and its peak memory <= 200 MB.
``--docs docs/benchmarks.md`` replaces the part between ``<!-- bench-report:begin -->`` and ``<!-- bench-report:end -->``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import argparse
import datetime
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from bench import API_KEY, BIN, ROOT, WRAPPER, Simulator, _load, base_env, machine  # noqa: E402  pylint: disable=wrong-import-position

END = 1793491200  # 2026-11-01T00:00:00Z
RECORDS = 9000  # 8,760 for the year and some before it
TENANTS = 50
SUBJECTS = ('uri', 'uri1', 'month', 'year', 'month_tenants', 'focus_month', 'focus_year', 'month_xlsx', 'year_xlsx')
LABELS = dict(uri='ansible.builtin.uri GET /api/v4/billing', uri1='ansible.builtin.uri GET ?limit=1',
              month='verge_billing_report, month (744 records)', year='verge_billing_report, year (8,760 records)',
              month_tenants='verge_billing_report, month, 50 tenants', focus_month='verge_billing_export, month, 50 tenants, daily',
              focus_year='verge_billing_export, year, hourly', month_xlsx='verge_billing_report, month, five formats with xlsx',
              year_xlsx='verge_billing_report, year, five formats with xlsx')
XLSX_FORMATS = ['csv', 'json', 'markdown', 'html', 'xlsx']
RATES = dict(core_hour=0.02, ram_gb_hour=0.01, tier1_gb_hour=0.0001, tier3_gb_hour=0.00002, gpu_hour=1.5, vgpu_hour=0.4, currency='EUR')


def play(tasks):
    return [dict(name='bench', hosts='localhost', gather_facts=False, tasks=tasks)]


def playbooks(sim, workdir):
    """name -> (playbook path, report directory or None)."""
    out = {}
    for name, query in (('uri', ''), ('uri1', '?limit=1&sort=-created')):
        task = {'name': 'GET', 'ansible.builtin.uri': dict(url='%s/api/v4/billing%s' % (sim.url, query), ca_path=sim.ca_path,
                                                           headers=dict(Authorization='Bearer ' + API_KEY))}
        out[name] = (play([task]), None)
    month, year = dict(month='2026-10'), dict(since='2025-11-01', until='2026-10-31')
    for name, module, options in (('month', 'verge_billing_report', month), ('year', 'verge_billing_report', year),
                                  ('month_tenants', 'verge_billing_report', dict(month, tenants=True)),
                                  ('focus_month', 'verge_billing_export', dict(month, tenants=True)),
                                  ('focus_year', 'verge_billing_export', dict(year, charge_period='hour')),
                                  ('month_xlsx', 'verge_billing_report', dict(month, formats=XLSX_FORMATS)),
                                  ('year_xlsx', 'verge_billing_report', dict(year, formats=XLSX_FORMATS))):
        dest = os.path.join(workdir, 'reports-' + name)
        task = {'name': 'Report', 'vergeio.billing.%s' % module: dict(options, dest=dest, name='bench', rates=RATES), 'delegate_to': 'localhost'}
        out[name] = (play([task]), dest)
    paths = {}
    for name, (document, dest) in out.items():
        path = os.path.join(workdir, name + '.yml')
        with open(path, 'w', encoding='utf-8') as handle:
            json.dump(document, handle)
        paths[name] = (path, dest)
    return paths


def measure(command, env, sim, dest):
    if dest:
        shutil.rmtree(dest, ignore_errors=True)
    sim.reset_log()
    proc = subprocess.run([sys.executable, '-c', WRAPPER, json.dumps(command)], env=env, capture_output=True, check=False)
    if proc.returncode != 0:
        raise SystemExit('the measuring wrapper failed: %s' % proc.stderr.decode('utf-8', 'replace')[-2000:])
    run = json.loads(proc.stdout)
    if run['rc'] != 0:
        raise SystemExit('%s failed (rc %d):\n%s\n%s' % (' '.join(command), run['rc'], run['stdout'][-3000:], run['stderr'][-2000:]))
    log = sim.log()
    run['requests'] = len(log)
    run['bytes'] = sum(entry.get('bytes') or 0 for entry in log)
    run['files'] = {}
    if dest:
        for folder, _dirs, names in os.walk(dest):
            for name in sorted(names):
                path = os.path.join(folder, name)
                run['files'][name.rsplit('.', 1)[-1]] = os.path.getsize(path)
                if name.endswith('.json'):
                    with open(path, encoding='utf-8') as handle:
                        head = json.load(handle)
                    if 'record_count' in head:  # the system's JSON report
                        run['record_count'] = head['record_count']
                    elif name.endswith('-Manifest.json'):  # a FOCUS export: its rows
                        run['record_count'] = head['row_count']
    del run['stdout'], run['stderr']
    return run


def summarize(items):
    def median(key):
        return statistics.median(item[key] for item in items)

    out = dict(wall=median('wall'), maxrss_mb=median('maxrss_kb') / 1024.0, cpu=median('cpu'), requests=median('requests'),
               bytes=median('bytes'), files=items[-1]['files'], record_count=items[-1].get('record_count'),
               runs=[dict((k, item[k]) for k in ('wall', 'maxrss_kb', 'cpu', 'requests', 'bytes')) for item in items])
    return out


def targets(subjects):
    """(label, measured, limit, met) for the issue's single-system targets."""
    s = subjects
    month_uri = s['month']['wall'] / s['uri']['wall']
    year_month = s['year']['wall'] / s['month']['wall']
    year_mem = s['year']['maxrss_mb']
    year_json = s['year']['files'].get('json', 0) / 1e6
    return [
        ('wall: month report / uri GET', month_uri, 2.0, month_uri <= 2.0),
        ('wall: year report / month report', year_month, 1.5, year_month <= 1.5),
        ('peak memory of the year report, MB', year_mem, 200, year_mem <= 200),
        ('JSON of the year, MB', year_json, 8, year_json <= 8),
    ] + ([
        ('wall: FOCUS month, 50 tenants / month report, 50 tenants', s['focus_month']['wall'] / s['month_tenants']['wall'], 1.5,
         s['focus_month']['wall'] / s['month_tenants']['wall'] <= 1.5),
        ('wall: FOCUS year, hourly / year report', s['focus_year']['wall'] / s['year']['wall'], 1.5, s['focus_year']['wall'] / s['year']['wall'] <= 1.5),
        ('peak memory of the FOCUS month, MB', s['focus_month']['maxrss_mb'], 200, s['focus_month']['maxrss_mb'] <= 200),
        ('peak memory of the FOCUS year, MB', s['focus_year']['maxrss_mb'], 200, s['focus_year']['maxrss_mb'] <= 200),
    ] if all(name in s for name in ('month_tenants', 'focus_month', 'focus_year')) else []) + ([
        ('wall: year report / month report, both with xlsx', s['year_xlsx']['wall'] / s['month_xlsx']['wall'], 1.5,
         s['year_xlsx']['wall'] / s['month_xlsx']['wall'] <= 1.5),
        ('peak memory of the year report with xlsx, MB', s['year_xlsx']['maxrss_mb'], 200, s['year_xlsx']['maxrss_mb'] <= 200),
    ] if all(name in s for name in ('month_xlsx', 'year_xlsx')) else [])


def markdown(report):
    m = report['machine']
    lines = [
        'Measured %s (UTC) at commit %s, median of %d runs.' % (report['date'], m.get('commit'), report['runs']),
        '',
        'Machine: %s CPU(s), %s, %s GB RAM; Python %s; ansible-core %s. Load average (1 min) before and after: %s, %s.' % (
            m.get('nproc'), m.get('cpu'), m.get('ram_gb'), m.get('python'), m.get('ansible_core'), report.get('load_before'),
            report.get('load_after')),
        '',
        '| what (one ansible-playbook run) | wall s | peak RSS MB | CPU s | HTTP requests | MB served | records (rows) | CSV MB | JSON MB | MD kB '
        '| HTML kB | FOCUS csv.gz MB |',
        '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ]
    for name in SUBJECTS:
        s = report['subjects'].get(name)
        if s is None:
            continue
        files = s['files']

        def size(ext, scale):
            return '%.1f' % (files[ext] / scale) if ext in files else ''
        focus = name.startswith('focus_')
        if name == 'month_tenants':  # 52 files of each format: no single size to show
            files = {}
        lines.append('| %s | %.2f | %.0f | %.2f | %d | %.3f | %s | %s | %s | %s | %s | %s |' % (
            LABELS[name], s['wall'], s['maxrss_mb'], s['cpu'], s['requests'], s['bytes'] / 1e6,
            '' if s['record_count'] is None else format(s['record_count'], ','), '' if focus else size('csv', 1e6),
            '' if focus else size('json', 1e6), size('md', 1e3), size('html', 1e3), size('gz', 1e6) if focus else ''))
    if report.get('targets'):
        lines += ['', '| target | measured | limit | |', '| --- | ---: | ---: | --- |']
        for label, measured, limit, met in report['targets']:
            lines.append('| %s | %.2f | %s | %s |' % (label, measured, limit, 'met' if met else 'MISSED'))
        s = report['subjects']
        lines += ['', 'CPU time (steadier than wall time on a shared machine): month / uri %.2f, year / month %.2f.' % (
            s['month']['cpu'] / s['uri']['cpu'], s['year']['cpu'] / s['month']['cpu'])]
    return '\n'.join(lines) + '\n'


def update_docs(path, text):
    begin, end = '<!-- bench-report:begin -->', '<!-- bench-report:end -->'
    with open(path, encoding='utf-8') as handle:
        doc = handle.read()
    if begin not in doc or end not in doc:
        raise SystemExit('%s has no %s ... %s section to replace' % (path, begin, end))
    head, rest = doc.split(begin, 1)
    with open(path, 'w', encoding='utf-8') as handle:
        handle.write(head + begin + '\n' + text + end + rest.split(end, 1)[1])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n', 1)[0])
    parser.add_argument('--runs', type=int, default=int(os.environ.get('BENCH_RUNS', 3)), help='runs per figure (median; default 3)')
    parser.add_argument('--seed', type=int, default=1)
    parser.add_argument('--collections', default=os.environ.get('ANSIBLE_COLLECTIONS_PATH') or os.path.join(ROOT, 'build', 'collections'))
    parser.add_argument('--subjects', default=','.join(SUBJECTS))
    parser.add_argument('--out', default=os.path.join(ROOT, 'bench-results'))
    parser.add_argument('--docs', default=None, help='put the table between the bench-report markers of this file')
    parser.add_argument('--verbose', action='store_true')
    args = parser.parse_args(argv)
    args.collections = os.pathsep.join(os.path.abspath(path) for path in args.collections.split(os.pathsep) if path)
    subjects = [name for name in args.subjects.split(',') if name]
    env = base_env(args.collections)
    playbook_bin = os.path.join(BIN, 'ansible-playbook')
    report = dict(date=datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d %H:%M'), runs=args.runs, machine=machine(),
                  load_before=_load())
    with tempfile.TemporaryDirectory(prefix='verge-bench-report-') as workdir:
        sim = Simulator(RECORDS, args.seed, workdir, extra=['--end', str(END), '--tenants', str(TENANTS), '--tenant-days', '32'])
        try:
            conn = dict(env, VERGEOS_HOST=sim.host, VERGEOS_API_KEY=API_KEY, VERGEOS_CA_PATH=sim.ca_path)
            books = playbooks(sim, workdir)
            for name in subjects:  # warm-up, not measured
                measure([playbook_bin, books[name][0]], conn, sim, books[name][1])
            runs = dict((name, []) for name in subjects)
            for number in range(args.runs):
                for name in subjects:
                    run = measure([playbook_bin, books[name][0]], conn, sim, books[name][1])
                    runs[name].append(run)
                    if args.verbose:
                        print('  %-6s run %d: %.3f s, %.1f MB, %d requests'
                              % (name, number + 1, run['wall'], run['maxrss_kb'] / 1024.0, run['requests']), flush=True)
        finally:
            sim.stop()
    report['subjects'] = dict((name, summarize(items)) for name, items in runs.items())
    report['load_after'] = _load()
    if all(name in report['subjects'] for name in ('uri', 'month', 'year')):
        report['targets'] = targets(report['subjects'])
    text = markdown(report)
    print()
    print(text)
    os.makedirs(args.out, exist_ok=True)
    stamp = report['date'].replace(' ', 'T').replace(':', '')
    with open(os.path.join(args.out, 'bench-report-%s.json' % stamp), 'w', encoding='utf-8') as handle:
        json.dump(report, handle, indent=2, sort_keys=True)
    if args.docs:
        update_docs(args.docs, text)
        print('table written to %s' % args.docs)
    return 0


if __name__ == '__main__':
    sys.exit(main())
