# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vergeio.billing contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""verge_billing_report through real ansible-playbook / ansible runs against the simulator.

Every expected figure is computed here from the simulator's raw records with the test's own reading of them
(``num``, ``expected_cost``) and its own calendar (zoneinfo), never taken from the files under test.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import csv
import json
import math
import os
import subprocess
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from conftest import BIN, listing, run_module, run_playbook, sim_env  # pylint: disable=import-error
from simulator.vergeos_sim import Simulator  # pylint: disable=import-error

END = 1793491200  # 2026-11-01T00:00:00Z: the newest simulated record ends there
BERLIN = ZoneInfo('Europe/Berlin')
GIB = 1024 ** 3
RATES = dict(core_hour=0.02, ram_gb_hour=0.01, tier1_gb_hour=0.0001, tier3_gb_hour=0.00002, gpu_hour=1.5, vgpu_hour=0.4, currency='EUR')
EXTS = dict(csv='csv', json='json', markdown='md', html='html')


def num(value):
    """The test's own reading of a simulated counter: null, missing or '' is 0; numbers may come as strings."""
    if value is None or value == '':
        return 0
    return int(float(value)) if isinstance(value, str) else int(value)


def hours_of(raw):
    start, end = num(raw.get('from')), num(raw.get('to'))
    return max(end - start, 0) / 3600 if start and end else 0.0


def expected_cost(raw):
    hours = hours_of(raw)
    parts = dict(cpu=num(raw.get('used_cores')) * RATES['core_hour'] * hours,
                 ram=num(raw.get('used_ram')) / 1024 * RATES['ram_gb_hour'] * hours,
                 tier1=num(raw.get('tier_1_used')) / GIB * RATES['tier1_gb_hour'] * hours,
                 tier3=num(raw.get('tier_3_used')) / GIB * RATES['tier3_gb_hour'] * hours,
                 gpu=num(raw.get('gpus')) * RATES['gpu_hour'] * hours,
                 vgpu=num(raw.get('vgpus')) * RATES['vgpu_hour'] * hours)
    parts['total'] = math.fsum(parts.values())
    return parts


def local_month(year, month, zone):
    """[first, last] epoch seconds of a calendar month in ``zone``, by zoneinfo (wall-clock midnights)."""
    first = int(datetime(year, month, 1, tzinfo=zone).timestamp())
    following = datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=zone)
    return first, int(following.timestamp()) - 1


def close(a, b):
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)


def write_playbook(tmp_path, args, name='report.yml'):
    task = dict({'vergeio.billing.verge_billing_report': args, 'register': 'report', 'delegate_to': 'localhost'}, name='Write the report')
    show = {'name': 'Show the result', 'ansible.builtin.debug': {'var': 'report'}}
    play = [dict(name='Report', hosts='localhost', gather_facts=False, tasks=[task, show])]
    path = tmp_path / name
    path.write_text(json.dumps(play))
    return str(path)


def result_of(run):
    """The registered result printed by the debug task (callback result_format json)."""
    text = run.stdout
    start = text.index('"report": ')
    return json.JSONDecoder().raw_decode(text, start + len('"report": '))[0]


@pytest.fixture(scope='module')
def berlin_sim():
    with Simulator(records=2400, seed=5, end=END) as server:
        yield server


def test_berlin_october_matches_brute_force_and_rerun_is_unchanged(berlin_sim, tmp_path):
    """The Must show: timezone Europe/Berlin, month 2026-10, four files whose count and totals match a brute-force
    count of the records created in that local month; a rerun reports no change."""
    first, last = local_month(2026, 10, BERLIN)
    # The issue states the instants: 2026-09-30T22:00:00Z to 2026-10-31T22:59:59Z inclusive.
    assert (first, last) == (int(datetime(2026, 9, 30, 22, tzinfo=timezone.utc).timestamp()),
                             int(datetime(2026, 10, 31, 22, 59, 59, tzinfo=timezone.utc).timestamp()))
    inside = [raw for raw in berlin_sim.records if first <= num(raw.get('created')) <= last]
    assert 740 <= len(inside) <= 760  # 745 local hours, plus a few the simulator repeats
    dest = tmp_path / 'reports'
    playbook = write_playbook(tmp_path, dict(month='2026-10', timezone='Europe/Berlin', dest=str(dest), name='prod/berlin', rates=RATES))
    env = sim_env(berlin_sim)
    run = run_playbook(playbook, env)
    assert run.rc == 0, run.output[-4000:]
    assert run.stats['localhost']['changed'] == 1
    result = result_of(run)
    names = listing(dest)
    assert names == ['prod_berlin-2026-10.%s' % ext for ext in ('csv', 'html', 'json', 'md')]  # nothing else (no temporary file)
    assert result['record_count'] == len(inside)
    assert result['period']['since_epoch'] == first and result['period']['until_epoch'] == last
    assert result['period']['since'] == '2026-10-01T00:00:00+02:00' and result['period']['until'] == '2026-10-31T23:59:59+01:00'

    # Totals, by brute force over the raw records of the local month.
    costs = [expected_cost(raw) for raw in inside]
    want = dict((part, math.fsum(cost[part] for cost in costs)) for part in ('cpu', 'ram', 'tier1', 'tier3', 'gpu', 'vgpu', 'total'))
    hours = math.fsum(hours_of(raw) for raw in inside)
    newest = max(inside, key=lambda raw: (num(raw.get('created')), num(raw.get('$key'))))
    # JSON
    with open(str(dest / 'prod_berlin-2026-10.json')) as handle:
        document = json.load(handle)
    summary = document['summary']
    assert document['name'] == 'prod/berlin' and document['period'] == result['period'] and document['record_count'] == len(inside)
    assert summary['record_count'] == len(inside) and close(summary['hours'], hours)
    for part in ('cpu', 'ram', 'gpu', 'vgpu', 'total'):
        assert close(summary['cost'][part], want[part]), part
    assert close(summary['cost']['tiers']['tier1'], want['tier1']) and close(summary['cost']['tiers']['tier3'], want['tier3'])
    assert summary['total_gpus'] == num(newest.get('gpus_total')) and summary['total_vgpus'] == num(newest.get('vgpus_total'))
    assert summary['tiers'][1]['total_gb'] == num(newest.get('tier_1_total')) / GIB
    assert summary == result['summary']
    fields = document['record_fields']
    rows = document['records']
    assert len(rows) == len(inside)
    assert [row[fields.index('key')] for row in rows] == [num(raw.get('$key')) for raw in sorted(
        inside, key=lambda raw: num(raw.get('created')))]  # oldest first
    assert close(math.fsum(row[fields.index('cost_total')] for row in rows), want['total'])
    by_key = dict((num(raw.get('$key')), raw) for raw in inside)
    for row in rows:
        raw = by_key[row[fields.index('key')]]
        assert row[fields.index('used_ram')] == num(raw.get('used_ram'))  # MB, as the API gives it
        assert row[fields.index('tier1_used')] == num(raw.get('tier_1_used'))  # bytes
        assert close(row[fields.index('cost_total')], expected_cost(raw)['total'])
    # CSV
    with open(str(dest / 'prod_berlin-2026-10.csv'), newline='') as handle:
        table = list(csv.DictReader(handle))
    assert len(table) == len(inside)
    assert sorted(int(row['key']) for row in table) == sorted(by_key)
    assert close(math.fsum(float(row['cost_total']) for row in table), want['total'])
    assert all(row['created'].endswith(('+02:00', '+01:00')) for row in table)  # Berlin times
    for row in table:
        assert close(float(row['used_ram_gb']), num(by_key[int(row['key'])].get('used_ram')) / 1024)
    # Markdown and HTML say the same count and total (rounded for display).
    markdown = (dest / 'prod_berlin-2026-10.md').read_text()
    html = (dest / 'prod_berlin-2026-10.html').read_text()
    shown_total = '{:,.2f}'.format(want['total'])
    for text in (markdown, html):
        assert '{:,} records'.format(len(inside)) in text
        assert shown_total in text
        assert '2026-10-01 00:00:00 +02:00' in text and '2026-10-31 23:59:59 +01:00' in text
    assert '1970' not in html
    # The result's digests are those of the files.
    import hashlib  # pylint: disable=import-outside-toplevel
    for fmt, path in result['files'].items():
        with open(path, 'rb') as handle:
            assert hashlib.sha256(handle.read()).hexdigest() == result['sha256'][fmt]
    stamps = dict((name, os.stat(str(dest / name)).st_mtime_ns) for name in names)

    rerun = run_playbook(playbook, env)
    assert rerun.rc == 0, rerun.output[-4000:]
    assert rerun.stats['localhost']['changed'] == 0
    assert result_of(rerun)['changed_files'] == {}
    assert dict((name, os.stat(str(dest / name)).st_mtime_ns) for name in names) == stamps  # left alone, not rewritten


def test_check_mode_writes_nothing_and_diff_lists_the_files(berlin_sim, tmp_path):
    dest = tmp_path / 'not-yet'
    env = sim_env(berlin_sim)
    args = dict(month='2026-10', timezone='Europe/Berlin', dest=str(dest), formats=['csv', 'json'])
    command = [os.path.join(BIN, 'ansible'), 'localhost', '-m', 'vergeio.billing.verge_billing_report', '-a', json.dumps(args), '--check', '--diff']
    proc = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert not dest.exists()  # not even the directory
    assert 'would write %s' % (dest / 'vergeos-2026-10.csv') in proc.stdout
    assert 'would write %s' % (dest / 'vergeos-2026-10.json') in proc.stdout
    # Written for real, then a check run over a file someone edited says that one would change.
    run = run_module('verge_billing_report', args, env)
    assert run.rc == 0 and run.result['changed'] is True
    with open(str(dest / 'vergeos-2026-10.csv'), 'a') as handle:
        handle.write('tampered\r\n')
    before = (dest / 'vergeos-2026-10.csv').read_bytes()
    check = run_module('verge_billing_report', args, env, check=True)
    assert check.rc == 0 and check.result['changed'] is True
    assert check.result['changed_files'] == {'csv': str(dest / 'vergeos-2026-10.csv')}
    assert (dest / 'vergeos-2026-10.csv').read_bytes() == before
    assert listing(dest) == ['vergeos-2026-10.csv', 'vergeos-2026-10.json']


def test_empty_period_warns_and_the_files_say_no_records(berlin_sim, tmp_path):
    dest = tmp_path / 'empty'
    run = run_module('verge_billing_report', dict(month='2020-02', dest=str(dest), rates=RATES), sim_env(berlin_sim))
    assert run.rc == 0, run.output[-3000:]
    assert run.result['record_count'] == 0
    warning = 'No billing records were created in 2020-02-01T00:00:00+00:00 .. 2020-02-29T23:59:59+00:00 (UTC)'
    assert warning in ' '.join(run.output.split())  # the [WARNING] line (wrapped by the display)
    assert 'No billing records' in (dest / 'vergeos-2020-02.md').read_text()
    html = (dest / 'vergeos-2020-02.html').read_text()
    assert 'No billing records' in html and '1970' not in html and '<svg' not in html
    with open(str(dest / 'vergeos-2020-02.csv'), newline='') as handle:
        assert len(list(csv.reader(handle))) == 1  # the header only
    assert json.loads((dest / 'vergeos-2020-02.json').read_text())['records'] == []


def test_a_system_without_gpus_gets_no_gpu_chart_but_a_note(tmp_path):
    with Simulator(records=200, seed=3, end=END) as sim:
        for raw in sim.records:
            for field in ('gpus', 'gpus_total', 'gpus_idle', 'vgpus', 'vgpus_total', 'vgpus_idle'):
                raw[field] = 0
        sim.invalidate()
        dest = tmp_path / 'nogpu'
        run = run_module('verge_billing_report', dict(since='2026-10-25', until='2026-10-31', dest=str(dest), formats=['html']), sim_env(sim))
        assert run.rc == 0, run.output[-3000:]
        html = (dest / 'vergeos-2026-10-25_2026-10-31.html').read_text()
    assert 'id="chart-cores"' in html and 'id="chart-gpus"' not in html and 'id="chart-vgpus"' not in html
    assert 'GPUs: chart left out, no GPUs in this period.' in html and 'vGPUs: chart left out, no vGPUs in this period.' in html
    assert '1970' not in html


@pytest.mark.parametrize('dest_kind', ['file', 'under-a-file'])
def test_a_dest_that_cannot_be_written_fails_cleanly(berlin_sim, tmp_path, dest_kind):
    blocker = tmp_path / 'plain-file'
    blocker.write_text('x')
    dest = blocker if dest_kind == 'file' else blocker / 'reports'
    run = run_module('verge_billing_report', dict(month='2026-10', dest=str(dest)), sim_env(berlin_sim))
    assert run.rc != 0
    assert 'dest' in run.result['msg'] and str(dest) in run.result['msg']
    assert 'Traceback' not in run.output


@pytest.mark.parametrize('args, words', [
    (dict(month='2026-13'), 'month must be a calendar month like 2026-10'),
    (dict(month='2026-10', timezone='Mars/Olympus'), 'timezone: unknown time zone'),
    (dict(since='yesterday'), 'since:'),
    (dict(month='2026-10', mode='u=rw'), 'mode must be octal permissions'),
    (dict(month='2026-10', name='///'), 'name must contain letters or digits'),
    (dict(month='2026-10', rates=dict(core_hour=-1)), 'rates.core_hour'),
])
def test_bad_options_fail_naming_the_option(berlin_sim, tmp_path, args, words):
    run = run_module('verge_billing_report', dict(args, dest=str(tmp_path / 'r')), sim_env(berlin_sim))
    assert run.rc != 0
    assert words in run.result['msg']
    assert 'Traceback' not in run.output


def test_info_summary_takes_the_timezone(berlin_sim):
    """verge_billing_info with timezone: a date alone is a local day, and the day periods are local days."""
    first, _last = local_month(2026, 10, BERLIN)
    day_end = int(datetime(2026, 10, 2, tzinfo=BERLIN).timestamp()) - 1
    run = run_module('verge_billing_info', dict(view='summary', since='2026-10-01', until='2026-10-01', timezone='Europe/Berlin',
                                                group_by='day'), sim_env(berlin_sim))
    assert run.rc == 0, run.output[-3000:]
    inside = [raw for raw in berlin_sim.records if first <= num(raw.get('created')) <= day_end]
    assert run.result['range']['since_epoch'] == first and run.result['range']['until_epoch'] == day_end
    assert run.result['summary']['record_count'] == len(inside)
    assert [period['period'] for period in run.result['summary']['periods']] == ['2026-10-01']
    assert run.result['summary']['periods'][0]['start'] == '2026-10-01T00:00:00+02:00'


def test_a_read_that_fails_says_how_far_it_got_and_writes_nothing(tmp_path):
    """25,000 records are five pages of 5,000 (and an empty one): the fifth fails (HTTP 400 is not retried)."""
    with Simulator(records=25000, seed=9, end=END, quirks=False) as sim:
        sim.add_fault(method='GET', path='/api/v4/billing', match_query='offset=20000', action='status', status=400, times=0)
        dest = tmp_path / 'partial'
        run = run_module('verge_billing_report', dict(since='2020-01-01', until='2026-11-01', dest=str(dest)), sim_env(sim))
    assert run.rc != 0
    message = run.result['msg']
    assert 'page 5 (offset 20000) after 20000 rows were read' in message
    assert 'The report had read 4 page(s) and 20000 record(s)' in message and 'no file was written' in message
    assert os.listdir(str(dest)) == []  # not even a temporary file is left
