# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vergeio.billing contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""verge_billing_report through real ansible-playbook / ansible runs against the simulator.

Every expected figure is computed here from the simulator's raw records with the test's own reading of them
(``num``, ``expected_cost``: each record's usage prorated to the seconds of its ``from``..``to`` inside the period, in
exact fractions) and its own calendar (zoneinfo), never taken from the files under test.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import csv
import json
import math
import os
import re
import subprocess
import sys
from datetime import datetime, timezone
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from zoneinfo import ZoneInfo

import pytest

from conftest import BIN, COLLECTIONS, listing, run_module, run_playbook, sim_env  # pylint: disable=import-error
from simulator.vergeos_sim import Simulator  # pylint: disable=import-error

sys.path.insert(0, COLLECTIONS)

from ansible_collections.vergeio.billing.tests.unit.plugins.module_utils._reports.displayed import money_tables  # noqa: E402

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


def seconds_in(raw, first, last):
    """The seconds of the record's from..to inside [first, last] (both inclusive, as the period says)."""
    start, end = num(raw.get('from')), num(raw.get('to'))
    if not (start and end):
        return 0
    return max(0, min(end, last + 1) - max(start, first))


def overlapping(records, first, last):
    """The records whose usage overlaps the period: to > first and from < last + 1 (the records a report bills)."""
    return [raw for raw in records if num(raw.get('to')) > first and num(raw.get('from')) < last + 1]


def expected_cost(raw, first, last):
    """Exact cost parts of the record's usage inside the period (Fractions)."""
    hours = Fraction(seconds_in(raw, first, last), 3600)
    rate = dict((name, Fraction(repr(RATES[name]))) for name in RATES if name != 'currency')
    parts = dict(cpu=num(raw.get('used_cores')) * rate['core_hour'] * hours,
                 ram=Fraction(num(raw.get('used_ram')), 1024) * rate['ram_gb_hour'] * hours,
                 tier1=Fraction(num(raw.get('tier_1_used')), GIB) * rate['tier1_gb_hour'] * hours,
                 tier3=Fraction(num(raw.get('tier_3_used')), GIB) * rate['tier3_gb_hour'] * hours,
                 gpu=num(raw.get('gpus')) * rate['gpu_hour'] * hours,
                 vgpu=num(raw.get('vgpus')) * rate['vgpu_hour'] * hours)
    parts['total'] = sum(parts.values(), Fraction(0))
    return parts


def cents(value):
    """An exact amount (a Fraction) as a Decimal (28 digits), to round to the cent."""
    return Decimal(value.numerator) / Decimal(value.denominator) if isinstance(value, Fraction) else Decimal(value)


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
    """The Must show: timezone Europe/Berlin, month 2026-10: the report covers 745 hours, its first and last rows are
    inside the month, its totals equal a brute force over the prorated records, every displayed total is the sum of
    its displayed lines, and the period, first and last row and totals agree in every file; a rerun changes nothing."""
    first, last = local_month(2026, 10, BERLIN)
    # The issue states the instants: 2026-09-30T22:00:00Z to 2026-10-31T22:59:59Z inclusive.
    assert (first, last) == (int(datetime(2026, 9, 30, 22, tzinfo=timezone.utc).timestamp()),
                             int(datetime(2026, 10, 31, 22, 59, 59, tzinfo=timezone.utc).timestamp()))
    assert last + 1 - first == 745 * 3600
    inside = overlapping(berlin_sim.records, first, last)
    assert 740 <= len(inside) <= 760  # 745 local hours, plus the zero-length records the simulator makes
    # the record that measured 23:00-24:00 on 31 October (Berlin) was created in November, and is in October
    [last_hour] = [raw for raw in inside if num(raw.get('from')) == last + 1 - 3600]
    assert num(last_hour.get('created')) > last
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

    # Totals, by brute force over the raw records, each prorated to the local month.
    costs = [expected_cost(raw, first, last) for raw in inside]
    want = dict((part, sum((cost[part] for cost in costs), Fraction(0))) for part in ('cpu', 'ram', 'tier1', 'tier3', 'gpu', 'vgpu', 'total'))
    newest = max(inside, key=lambda raw: (num(raw.get('created')), num(raw.get('$key'))))
    # JSON
    with open(str(dest / 'prod_berlin-2026-10.json')) as handle:
        document = json.load(handle)
    summary = document['summary']
    assert document['name'] == 'prod/berlin' and document['period'] == result['period'] and document['record_count'] == len(inside)
    assert summary['record_count'] == len(inside) and summary['hours'] == 745.0
    for part in ('cpu', 'ram', 'gpu', 'vgpu', 'total'):
        assert close(summary['cost'][part], float(want[part])), part
    assert close(summary['cost']['tiers']['tier1'], float(want['tier1'])) and close(summary['cost']['tiers']['tier3'], float(want['tier3']))
    assert summary['total_gpus'] == num(newest.get('gpus_total')) and summary['total_vgpus'] == num(newest.get('vgpus_total'))
    assert summary['tiers'][1]['total_gb'] == num(newest.get('tier_1_total')) / GIB
    assert 'periods' not in result['summary'] and len(summary['periods']) == 31  # in the JSON; the result stays small
    assert dict((key, value) for key, value in summary.items() if key != 'periods') == result['summary']
    bill = document['bill']
    assert bill == result['bill'] and bill['currency'] == 'EUR' and bill['precision'] == 2
    by_metric = dict((line['metric'], line) for line in bill['lines'])
    for metric, part in (('cores', 'cpu'), ('ram', 'ram'), ('tier1', 'tier1'), ('tier3', 'tier3'), ('gpus', 'gpu'), ('vgpus', 'vgpu')):
        line = by_metric[metric]
        assert close(line['exact'], float(want[part])), metric
        assert Decimal(line['amount']) == cents(want[part]).quantize(Decimal('0.01'), rounding=ROUND_HALF_UP), metric
        assert close(line['quantity'] * line['unit_price'], line['exact'])
    assert by_metric['cores']['quantity_unit'] == 'core-hours' and by_metric['ram']['quantity_unit'] == 'GB-hours'
    total = Decimal(bill['total'])
    assert total == sum((Decimal(line['amount']) for line in bill['lines']), Decimal(0))
    assert sum((Decimal(period['amount']) for period in bill['periods']), Decimal(0)) == total
    assert [period['period'] for period in bill['periods']] == ['2026-10-%02d' % day for day in range(1, 32)]
    fields = document['record_fields']
    rows = document['records']
    ordered = sorted(inside, key=lambda raw: (num(raw.get('created')), num(raw.get('$key'))))
    assert [row[fields.index('key')] for row in rows] == [num(raw.get('$key')) for raw in ordered]  # oldest first
    assert close(math.fsum(row[fields.index('cost_total')] for row in rows), float(want['total']))
    by_key = dict((num(raw.get('$key')), raw) for raw in inside)
    for row in rows:
        raw = by_key[row[fields.index('key')]]
        assert row[fields.index('used_ram')] == num(raw.get('used_ram'))  # MB, as the API gives it
        assert row[fields.index('tier1_used')] == num(raw.get('tier_1_used'))  # bytes
        assert close(row[fields.index('cost_total')], float(expected_cost(raw, first, last)['total']))
    # first and last rows: inside the month
    assert rows[0][fields.index('to_epoch')] > first and rows[-1][fields.index('from_epoch')] <= last
    # CSV
    with open(str(dest / 'prod_berlin-2026-10.csv'), newline='') as handle:
        table = list(csv.DictReader(handle))
    assert len(table) == len(inside)
    assert [int(row['key']) for row in table] == [row[fields.index('key')] for row in rows]
    assert table[0]['from_time'] == '2026-10-01T00:00:00+02:00' and table[-1]['to_time'] == '2026-11-01T00:00:00+01:00'
    assert close(math.fsum(float(row['cost_total']) for row in table), float(want['total']))
    assert all(row['created'].endswith(('+02:00', '+01:00')) for row in table)  # Berlin times
    for row in table:
        assert close(float(row['used_ram_gb']), num(by_key[int(row['key'])].get('used_ram')) / 1024)
    # Markdown and HTML: the same count, hours and total; every shown total is the sum of the amounts it shows
    markdown = (dest / 'prod_berlin-2026-10.md').read_text()
    html = (dest / 'prod_berlin-2026-10.html').read_text()
    for text in (markdown, html):
        assert '{:,} records'.format(len(inside)) in text and '745.0 hours' in text
        assert '{:,.2f}'.format(total) in text
        assert '2026-10-01 00:00:00 +02:00' in text and '2026-10-31 23:59:59 +01:00' in text
    tables = money_tables(markdown, html)
    assert len(tables) == 4  # the cost table and the By-day table of each
    for label, lines, shown_total in tables:
        assert shown_total == total == sum(lines, Decimal(0)), label
    assert '| CPU cores | {:,.3f} | core-hours | 0.02 | {:,.2f} |'.format(by_metric['cores']['quantity'], Decimal(by_metric['cores']['amount'])) in markdown
    assert '1970' not in html
    # The result's digests are those of the files.
    import hashlib  # pylint: disable=import-outside-toplevel
    for fmt, path in result['files'].items():
        with open(path, 'rb') as handle:
            assert hashlib.sha256(handle.read()).hexdigest() == result['sha256'][fmt]
    stamps = dict((name, os.stat(str(dest / name)).st_mtime_ns) for name in names)

    with_periods = dict(month='2026-10', timezone='Europe/Berlin', dest=str(dest), name='prod/berlin', rates=RATES, return_periods=True)
    rerun = run_playbook(write_playbook(tmp_path, with_periods), env)
    assert rerun.rc == 0, rerun.output[-4000:]
    assert rerun.stats['localhost']['changed'] == 0
    assert result_of(rerun)['changed_files'] == {}
    assert result_of(rerun)['summary'] == summary  # return_periods: the periods too, as the JSON has them
    assert dict((name, os.stat(str(dest / name)).st_mtime_ns) for name in names) == stamps  # left alone, not rewritten

    # The same month from verge_billing_info by usage: the same summary (figures and costs)
    info = run_module('verge_billing_info', dict(view='summary', month='2026-10', timezone='Europe/Berlin', period_by='usage', group_by='day',
                                                 rates=RATES), env)
    assert info.rc == 0, info.output[-3000:]
    assert info.result['summary'] == summary
    assert info.result['range']['since_epoch'] == first and info.result['range']['until_epoch'] == last
    assert info.result['range']['month'] == '2026-10' and info.result['range']['period_by'] == 'usage'
    assert 'to gt %d and from lt %d' % (first, last + 1) in info.result['range']['filter']


def test_diff_shows_the_old_and_the_new_total(berlin_sim, tmp_path):
    dest = tmp_path / 'diff'
    args = dict(month='2026-10', timezone='Europe/Berlin', dest=str(dest), formats=['json', 'markdown'], rates=RATES)
    env = sim_env(berlin_sim)
    run = run_module('verge_billing_report', args, env)
    assert run.rc == 0, run.output[-3000:]
    old = run.result['bill']['total']
    dearer = dict(args, rates=dict(RATES, core_hour=0.03))
    command = [os.path.join(BIN, 'ansible'), 'localhost', '-m', 'vergeio.billing.verge_billing_report', '-a', json.dumps(dearer), '--check', '--diff']
    proc = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert '-total: %s EUR' % old in proc.stdout
    assert re.search(r'\+total: [0-9.]+ EUR', proc.stdout)
    new = re.search(r'\+total: ([0-9.]+) EUR', proc.stdout).group(1)
    assert Decimal(new) > Decimal(old)
    assert 'total: %s EUR -> total: %s EUR' % (old, new) in proc.stdout
    assert json.loads((dest / 'vergeos-2026-10.json').read_text())['bill']['total'] == old  # check mode: nothing written


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
    warning = 'No billing record measured usage in 2020-02-01T00:00:00+00:00 .. 2020-02-29T23:59:59+00:00 (UTC)'
    assert warning in ' '.join(run.output.split())  # the [WARNING] line (wrapped by the display)
    assert 'No billing record measured usage' in (dest / 'vergeos-2020-02.md').read_text()
    html = (dest / 'vergeos-2020-02.html').read_text()
    assert 'No billing record measured usage' in html and '1970' not in html and '<svg' not in html
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


@pytest.mark.parametrize('formats', [['csv', 'json'], ['xlsx']])  # xlsx alone: the helper process writes the workbook
def test_a_write_that_fails_ends_the_report_with_a_message(berlin_sim, tmp_path, formats):
    """A file larger than the host allows (RLIMIT_FSIZE: EFBIG, as a full disk gives ENOSPC) fails the task with a
    message naming dest and the file, no traceback, and leaves nothing in dest."""
    if 'xlsx' in formats:
        pytest.importorskip('xlsxwriter')
    dest = tmp_path / 'reports'
    dest.mkdir()
    # three months: every file of them is larger than the limit, which is above what Ansible itself writes (its
    # module payload) and below the report's files (the CSV 2 MB, the JSON 1.3 MB, the workbook's Records sheet)
    run = run_module('verge_billing_report', dict(since='2026-08-01', until='2026-10-31', dest=str(dest), formats=formats),
                     sim_env(berlin_sim), file_size=400 * 1000)
    assert run.rc != 0, run.output[-3000:]
    assert run.result['msg'] == 'Writing the report files in %s failed ([Errno 27] File too large); no file was replaced.' % dest
    assert 'Traceback' not in run.output
    assert [name for name in os.listdir(str(dest)) if name != '.vergeio-billing'] == []


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


def test_info_month_is_the_local_calendar_month_and_period_by_usage_needs_a_start(berlin_sim):
    env = sim_env(berlin_sim)
    first, last = local_month(2026, 10, BERLIN)
    by_month = run_module('verge_billing_info', dict(view='summary', month='2026-10', timezone='Europe/Berlin'), env)
    assert by_month.rc == 0, by_month.output[-3000:]
    by_dates = run_module('verge_billing_info', dict(view='summary', since='2026-10-01', until='2026-10-31', timezone='Europe/Berlin'), env)
    assert by_month.result['summary'] == by_dates.result['summary']  # period_by created: the SDK's records (by created)
    assert by_month.result['summary']['record_count'] == len([raw for raw in berlin_sim.records if first <= num(raw.get('created')) <= last])
    assert by_month.result['range']['month'] == '2026-10' and by_month.result['range']['period_by'] == 'created'
    for args, words in ((dict(month='2026-10', since='2026-10-01'), 'mutually exclusive'),
                        (dict(view='records', since='2026-10-01', period_by='usage'), 'period_by=usage needs view=summary'),
                        (dict(view='summary', period_by='usage'), 'period_by=usage needs the start of the range'),
                        (dict(view='summary', month='2026-13'), 'month must be a calendar month')):
        run = run_module('verge_billing_info', args, env)
        assert run.rc != 0 and words in run.result['msg'], (args, run.result.get('msg'))
        assert 'Traceback' not in run.output


def test_negative_and_null_counters_count_as_zero_with_a_warning(tmp_path):
    with Simulator(records=100, seed=3, end=END, quirks=False) as sim:
        for raw in sim.records[-10:-7]:
            raw['used_cores'] = -4
        sim.records[-5]['used_ram'] = None
        sim.invalidate()
        since = num(sim.records[0]['from'])
        run = run_module('verge_billing_report', dict(since=since, until=END - 1, dest=str(tmp_path), formats=['json'], rates=RATES), sim_env(sim))
        assert run.rc == 0, run.output[-3000:]
        text = ' '.join(run.output.split())
        assert '3 row(s) had negative values, each counted as 0 (used_cores): record %s' % num(sim.records[-10]['$key']) in text
        assert '1 row(s) had null or missing values, each counted as 0 (used_ram)' in text
        bill = run.result['bill']
        [cores] = [line for line in bill['lines'] if line['metric'] == 'cores']
        want = sum(max(num(raw['used_cores']), 0) for raw in sim.records)  # hourly records: one hour each
        assert cores['quantity'] == want and Decimal(cores['amount']) >= 0
