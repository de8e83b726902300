# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vergeio.billing contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Excel workbooks (``formats: [xlsx]``) written by real ansible runs against the simulator, read back with openpyxl
(test-only): number cells where the CSV has numbers, the same totals as the JSON, formula-looking names as text,
reproducible bytes, and the missing-library failure without XlsxWriter."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import csv
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from decimal import ROUND_HALF_UP, Decimal, localcontext
from fractions import Fraction

import pytest

from conftest import BIN, AnsibleRun, run_module, sim_env  # pylint: disable=import-error
from simulator.vergeos_sim import Simulator, make_tenant_data  # pylint: disable=import-error
from test_report_module import RATES as REPORT_RATES, expected_cost, overlapping, seconds_in  # pylint: disable=import-error

try:
    import openpyxl
    import xlsxwriter  # noqa: F401  pylint: disable=unused-import
except ImportError:  # the budget tests below need neither; the workbook tests skip, naming what is missing
    openpyxl = None

needs_xlsx = pytest.mark.skipif(openpyxl is None, reason='XlsxWriter and openpyxl (test-only) write and read the workbooks back')

END = 1793491200  # 2026-11-01T00:00:00Z
RATES = dict(core_hour=0.0213, ram_gb_hour=0.0117, tier1_gb_hour=0.000135, gpu_hour=1.5, currency='EUR')
HOSTILE = '=HYPERLINK("http://evil.example/","pay")'


def rows_of(path, sheet):
    return [list(row) for row in openpyxl.load_workbook(path)[sheet].iter_rows()]


def read_csv(path):
    with open(path, encoding='utf-8', newline='') as handle:
        return list(csv.reader(handle))


@pytest.fixture(scope='module')
def systems():
    """Two systems' October reports (JSON) in one directory; one system has a name that looks like a formula."""
    base = tempfile.mkdtemp(prefix='workbooks.')
    try:
        with Simulator(records=24 * 40, seed=31, end=END) as east, Simulator(records=24 * 40, seed=32, end=END) as west:
            for sim, name in ((east, 'verge-east'), (west, HOSTILE)):
                run = run_module('verge_billing_report', dict(month='2026-10', dest=base, name=name, rates=RATES, formats=['json']),
                                 sim_env(sim))
                assert run.rc == 0, run.output
        yield base
    finally:
        shutil.rmtree(base, ignore_errors=True)


@needs_xlsx
def test_the_fleet_workbook_has_the_csv_rows_as_number_cells_and_the_json_totals(systems, tmp_path):  # pylint: disable=redefined-outer-name
    dest = str(tmp_path / 'fleet')
    args = dict(from_dir=systems, dest=dest, formats=['csv', 'json', 'xlsx'])
    run = run_module('verge_billing_fleet_report', args, sim_env(None))
    assert run.rc == 0, run.output
    result = run.result
    assert result['changed'] and sorted(result['files']) == ['csv', 'json', 'xlsx']
    book = result['files']['xlsx']
    assert book.endswith('fleet-2026-10.xlsx')
    table = read_csv(result['files']['csv'])
    cells = rows_of(book, 'Systems')
    assert [cell.value for cell in cells[0]] == table[0]
    assert len(cells) == len(table) == 4  # header, two systems, the total row
    for row, line in zip(cells[1:], table[1:]):
        for cell, text, column in zip(row, line, table[0]):
            if text == '':
                assert cell.value is None, column
            elif column in ('system', 'status', 'error', 'period', 'period_start', 'period_end', 'currency'):
                assert cell.data_type == 's', column
                assert cell.value == text, column  # the CSV's guard and the workbook's are one rule
            else:
                assert cell.data_type == 'n', (column, cell.value)
                assert Decimal(repr(cell.value)) == Decimal(text) or cell.value == pytest.approx(float(text), rel=1e-15), column
                if column.startswith('cost_'):
                    assert cell.number_format == '#,##0.00 "EUR"'
    names = [row[0].value for row in cells[1:3]]
    assert "'" + HOSTILE in names  # a string cell with the apostrophe, never a formula
    assert all(row[0].data_type == 's' for row in cells[1:])
    # the JSON's totals: the workbook's total row is the sum of the shown system amounts, which the CSV shows too
    totals = result['totals']
    total_row = cells[-1]
    header = table[0]
    assert total_row[header.index('record_count')].value == totals['record_count']
    assert total_row[header.index('hours')].value == pytest.approx(totals['hours'], rel=1e-15)
    shown_total = Decimal(repr(total_row[header.index('cost_total')].value))
    assert shown_total == sum(Decimal(repr(row[header.index('cost_total')].value)) for row in cells[1:3])
    assert abs(shown_total - Decimal(repr(totals['cost']['total']))) <= Decimal('0.005') * 13 * 2  # half a cent per part
    sheet = openpyxl.load_workbook(book)['Systems']
    assert sheet.freeze_panes == 'A2' and sheet.auto_filter.ref.endswith('3')  # the total row is outside the filter
    summary = dict((row[0].value, row[1].value) for row in rows_of(book, 'Summary')[1:])
    assert summary['Systems'] == 2 and summary['Reported'] == 2 and Decimal(repr(summary['Total cost'])) == shown_total
    # a rerun writes the same bytes: nothing changes
    again = run_module('verge_billing_fleet_report', args, sim_env(None))
    assert again.rc == 0 and not again.result['changed'], again.output
    assert again.result['sha256']['xlsx'] == result['sha256']['xlsx']


def test_without_xlsxwriter_the_task_fails_with_missing_required_lib_before_writing(tmp_path, systems):  # pylint: disable=redefined-outer-name
    shadow = tmp_path / 'shadow'
    shadow.mkdir()
    (shadow / 'xlsxwriter.py').write_text(u'raise ImportError("No module named xlsxwriter (hidden by the test)")\n')
    dest = str(tmp_path / 'out')
    env = sim_env(None, extra=dict(PYTHONPATH=str(shadow)))
    run = run_module('verge_billing_fleet_report', dict(from_dir=systems, dest=dest, formats=['csv', 'xlsx']), env)
    assert run.rc != 0
    msg = run.result['msg']
    assert 'Failed to import the required Python library (XlsxWriter' in msg and 'xlsx format' in msg, msg
    assert not os.path.exists(dest)
    ok = run_module('verge_billing_fleet_report', dict(from_dir=systems, dest=dest, formats=['csv']), env)
    assert ok.rc == 0, ok.output  # without xlsx, XlsxWriter is never imported


# ---- the system report's workbook and budgets ---------------------------------------------------------------------

def half_up(value, places=2):
    """The test's own half-up rounding of a Fraction (Decimal division at 60 digits)."""
    with localcontext() as context:
        context.prec = 60
        return (Decimal(value.numerator) / Decimal(value.denominator)).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


@pytest.fixture(scope='module')
def berlin():
    with Simulator(records=2400, seed=5, end=END) as server:
        yield server


@needs_xlsx
def test_the_system_workbook_has_the_json_totals_and_the_budget(berlin, tmp_path):  # pylint: disable=redefined-outer-name
    dest = str(tmp_path / 'reports')
    args = dict(month='2026-10', timezone='Europe/Berlin', dest=dest, name='=east', rates=REPORT_RATES, formats=['json', 'markdown', 'xlsx'],
                budgets=dict(system=100))
    run = run_module('verge_billing_report', args, sim_env(berlin))
    assert run.rc == 0, run.output
    result = run.result
    with open(result['files']['json'], encoding='utf-8') as handle:
        report = json.load(handle)
    bill = report['bill']
    book = result['files']['xlsx']
    assert book.endswith('east-2026-10.xlsx')
    workbook = openpyxl.load_workbook(book)
    assert workbook.sheetnames == ['Summary', 'Costs', 'By day', 'Records']
    costs = rows_of(book, 'Costs')
    lines = costs[1:-1]
    assert [row[0].value for row in lines] == [line['label'] for line in bill['lines']]
    for row, line in zip(lines, bill['lines']):
        assert [cell.data_type for cell in row] == ['s', 'n', 's', 'n', 'n', 'n']
        assert Decimal(repr(row[4].value)) == Decimal(line['amount']) and row[4].number_format == '#,##0.00 "EUR"'
        assert row[1].value == pytest.approx(line['quantity'], rel=1e-15) and row[5].value == pytest.approx(line['exact'], rel=1e-15)
    assert costs[-1][0].value == 'Total' and Decimal(repr(costs[-1][4].value)) == Decimal(bill['total'])
    by_day = rows_of(book, 'By day')
    assert len(by_day) == 1 + 31 + 1
    assert sum(Decimal(repr(row[10].value)) for row in by_day[1:-1]) == Decimal(bill['total']) == Decimal(repr(by_day[-1][10].value))
    records = rows_of(book, 'Records')
    assert len(records) - 1 == report['record_count'] == result['record_count']
    assert all(row[0].data_type == 'n' and row[5].data_type == 'n' for row in records[1:])
    assert math.fsum(row[-1].value for row in records[1:]) == pytest.approx(bill['exact'], rel=1e-12)
    summary = dict((row[0].value, row[1].value) for row in rows_of(book, 'Summary')[1:])
    assert summary['Name'] == "'=east" and Decimal(repr(summary['Total'])) == Decimal(bill['total'])
    # October 2026 is over (the run is later): the forecast is the month's cost, over a budget of 100 EUR
    budget = result['budgets']['system']
    assert budget == report['budgets']['system']
    assert budget['complete'] and budget['hours_in_month'] == 745 and budget['month_to_date'] == bill['total'] == budget['forecast']
    assert budget['over_budget'] and budget['forecast_over_budget'] and result['budgets']['flagged'] == ['=east']
    assert summary['Over budget'] == 'yes' and Decimal(repr(summary['Budget'])) == 100
    with open(result['files']['markdown'], encoding='utf-8') as handle:
        markdown = handle.read()
    assert '## Budget, 2026-10' in markdown and 'Over budget: the cost of the month is' in markdown
    again = run_module('verge_billing_report', args, sim_env(berlin))
    assert again.rc == 0 and not again.result['changed'], again.output


def test_the_forecast_of_the_current_month_equals_a_brute_force_and_flags_the_budget(tmp_path):
    with Simulator(records=24 * 45, seed=9) as sim:  # hourly records up to now: this month so far and the one before
        now = int(time.time())
        moment = datetime.fromtimestamp(now, timezone.utc)
        first = int(datetime(moment.year, moment.month, 1, tzinfo=timezone.utc).timestamp())
        following = datetime(moment.year + (moment.month == 12), moment.month % 12 + 1, 1, tzinfo=timezone.utc)
        last = int(following.timestamp()) - 1
        args = dict(month='current', dest=str(tmp_path), rates=REPORT_RATES, formats=['json', 'html'], budgets=dict(system=1))
        run = run_module('verge_billing_report', args, sim_env(sim))
        assert run.rc == 0, run.output
        info = run_module('verge_billing_info', dict(view='summary', month='current', period_by='usage', rates=REPORT_RATES,
                                                     budgets=dict(system=1)), sim_env(sim))
        assert info.rc == 0, info.output
        records = overlapping(sim.records, first, last)
    figures = run.result['budgets']['system']
    # the summary of verge_billing_info bills the month as the report does: the same figures (its owner is 'system')
    assert dict(info.result['budgets']['system'], name=None) == dict(figures, name=None)
    assert info.result['budgets']['flagged'] == ['system'] and info.result['budgets']['forecast_over_budget']
    measured = sum(seconds_in(raw, first, last) for raw in records)
    exact = sum((expected_cost(raw, first, last)['total'] for raw in records), Fraction(0))
    assert not figures['complete'] and figures['hours_in_month'] == (last + 1 - first) / 3600
    assert figures['hours_measured'] == measured / 3600
    want = half_up(exact / measured * (last + 1 - first))
    assert abs(Decimal(figures['forecast']) - want) <= Decimal('0.01')  # the engine's floats may sit on the other side of a half cent
    if abs(cents_off(exact / measured * (last + 1 - first))) > Fraction(1, 10 ** 6):
        assert Decimal(figures['forecast']) == want
    assert figures['forecast_over_budget'] and figures['budget'] == '1'
    with open(run.result['files']['html'], encoding='utf-8') as handle:
        html = handle.read()
    assert '<h2>Budget, %s</h2>' % figures['month'] in html and 'hours measured' in html


def cents_off(value):
    """How far ``value`` (a Fraction) is from the nearest half cent, in cents."""
    scaled = value * 100
    return scaled - int(scaled) - Fraction(1, 2)


def test_budgets_need_a_month_and_rates_and_a_bad_amount_is_named(berlin, tmp_path):  # pylint: disable=redefined-outer-name
    base = dict(dest=str(tmp_path), formats=['json'])
    for args, words in ((dict(base, since='2026-10-01', until='2026-10-31', rates=REPORT_RATES, budgets=dict(system=5)), 'budgets are per calendar month'),
                        (dict(base, month='2026-10', budgets=dict(system=5)), 'budgets needs rates'),
                        (dict(base, month='2026-10', rates=REPORT_RATES, budgets=dict(system='lots')), 'budgets.system must be an amount'),
                        (dict(base, month='2026-10', rates=REPORT_RATES, budgets=dict(tenants=dict(acme=5))), 'budgets.tenants needs tenants')):
        run = run_module('verge_billing_report', args, sim_env(berlin))
        assert run.rc != 0 and words in run.result['msg'], (args, run.output)
        assert 'Traceback' not in run.output
    info = dict(view='summary', month='2026-10', rates=REPORT_RATES)
    for args, words in ((dict(info, budgets=dict(system=5)), 'budgets needs view=summary, month, period_by=usage and rates'),
                        (dict(info, period_by='usage', budgets=dict(tenants={'1': 5})), 'budgets.tenants: verge_billing_info bills the system only'),
                        (dict(info, period_by='usage', budgets=dict(system=-5)), 'budgets.system must be a finite amount of 0 or more')):
        run = run_module('verge_billing_info', args, sim_env(berlin))
        assert run.rc != 0 and words in run.result['msg'], (args, run.output)
        assert 'Traceback' not in run.output
    assert os.listdir(str(tmp_path)) == []


PEAK = ('import resource, subprocess, sys; proc = subprocess.run(sys.argv[1:], capture_output=True, text=True); '
        'sys.stdout.write(proc.stdout); sys.stderr.write(proc.stderr); '
        'print("PEAK_KB=%d" % resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); sys.exit(proc.returncode)')


def peak_run(args, env, tmp_path, name):
    """Run the report module in a process of its own and return (result, the peak RSS in MB of its largest process)."""
    command = [sys.executable, '-c', PEAK, os.path.join(BIN, 'ansible'), 'localhost', '-m', 'vergeio.billing.verge_billing_report',
               '-a', json.dumps(args)]
    proc = subprocess.run(command, env=env, capture_output=True, text=True, timeout=900, check=False)
    run = AnsibleRun(proc, command)
    assert run.rc == 0, run.output[-3000:]
    peak = int(re.search(r'PEAK_KB=(\d+)', proc.stdout).group(1)) / 1024.0
    return run.result, peak


@needs_xlsx
def test_a_years_records_sheet_is_written_in_constant_memory(tmp_path):
    with Simulator(records=24 * 366, seed=12, end=END) as sim:
        args = dict(since='2025-11-01', until='2026-10-31', rates=REPORT_RATES, group_by='month', dest=str(tmp_path / 'json'), formats=['json'])
        plain, peak_json = peak_run(args, sim_env(sim), tmp_path, 'json')
        book, peak_xlsx = peak_run(dict(args, dest=str(tmp_path / 'xlsx'), formats=['json', 'xlsx']), sim_env(sim), tmp_path, 'xlsx')
    records = rows_of(book['files']['xlsx'], 'Records')
    assert len(records) - 1 == book['record_count'] == plain['record_count'] >= 8760
    size = os.path.getsize(book['files']['xlsx']) / 1e6
    # Figures for the report (not asserted against a wall clock): peak memory of the module's process, the workbook's size
    print('\nyear report, %d records: peak RSS %.1f MB with JSON only, %.1f MB with JSON and xlsx; workbook %.2f MB'
          % (book['record_count'], peak_json, peak_xlsx, size))
    assert peak_xlsx < 200, peak_xlsx  # the report's memory target for a year (docs/benchmarks.md)
    assert peak_xlsx - peak_json < 40, (peak_json, peak_xlsx)  # rows go to a temporary file, not memory


@needs_xlsx
def test_the_tenants_workbook_has_every_tenants_lines_and_their_budgets(tmp_path):
    data = make_tenant_data(3, seed=23, end=END)
    first = sorted(tenant['name'] for tenant in data['tenants'] if not tenant.get('is_snapshot'))[0]
    with Simulator(records=24 * 40, seed=23, end=END) as sim:
        sim.set_tenant_data(data)
        args = dict(month='2026-10', dest=str(tmp_path), rates=REPORT_RATES, tenants=True, formats=['json', 'markdown', 'xlsx'],
                    budgets=dict(system=10 ** 9, tenants={first: 1, '99999': 5}))
        run = run_module('verge_billing_report', args, sim_env(sim))
    assert run.rc == 0, run.output
    result = run.result
    assert "budgets.tenants: '99999' matches no tenant of this report" in ' '.join(run.output.split())  # wrapped on 2.16
    assert all('xlsx' not in files for files in result['tenant_files'].values())  # a tenant's lines are on the Lines sheet
    book = result['tenants_overview']['xlsx']
    workbook = openpyxl.load_workbook(book)
    assert workbook.sheetnames == ['Overview', 'Lines', 'Budgets']
    lines = rows_of(book, 'Lines')
    for name, bill in result['tenant_bills'].items():
        mine = [row for row in lines[1:] if row[0].value == name]
        assert mine and all(row[1].data_type == 'n' for row in mine)
        assert sum(Decimal(repr(row[7].value)) for row in mine) == Decimal(bill['total'])
    with open(result['tenants_overview']['json'], encoding='utf-8') as handle:
        overview = json.load(handle)
    table = rows_of(book, 'Overview')
    header = [cell.value for cell in table[0]]
    total = [row for row in table if row[0].value == 'Total'][0]
    assert Decimal(repr(total[header.index('Total')].value)) == Decimal(str(overview['totals']['cost_total']))
    assert [row[0].value for row in table[-2:]] == ['Unallocated', 'System']
    # the budgets: the month is over, so each forecast is its cost; the first tenant is over its budget of 1 EUR
    budgets = result['budgets']
    assert budgets['system']['budget'] == str(10 ** 9) and not budgets['system']['over_budget']
    flagged = [item for item in budgets['tenants'] if item['over_budget']]
    assert [item['name'] for item in flagged] == [first] == budgets['flagged']
    assert all(item['forecast'] == item['month_to_date'] == result['tenant_bills'][item['name']]['total'] for item in budgets['tenants'])
    assert overview['budgets']['tenants'] == budgets['tenants']
    with open(result['tenant_files'][first]['json'], encoding='utf-8') as handle:
        assert json.load(handle)['budget']['over_budget']
    with open(result['tenant_files'][first]['markdown'], encoding='utf-8') as handle:
        assert 'Over budget: the cost of the month is' in handle.read()
    with open(result['tenants_overview']['markdown'], encoding='utf-8') as handle:
        assert '## Budgets, 2026-10' in handle.read()
    sheet = rows_of(book, 'Budgets')
    assert [row[6].value for row in sheet[1:] if row[0].value == first] == ['yes']


def test_tenant_usage_info_forecasts_the_tenants_as_the_report_bills_them(tmp_path):
    data = make_tenant_data(3, seed=61, gaps=False)
    names = sorted(tenant['name'] for tenant in data['tenants'] if not tenant.get('is_snapshot'))
    budgets = dict(tenants={names[0]: 1, names[1]: 10 ** 9})
    with Simulator(records=24 * 40, seed=61) as sim:
        sim.set_tenant_data(data)
        report = run_module('verge_billing_report', dict(month='current', dest=str(tmp_path), rates=REPORT_RATES, tenants=True,
                                                         formats=['json'], budgets=budgets), sim_env(sim))
        info = run_module('verge_tenant_usage_info', dict(view='summary', month='current', rates=REPORT_RATES, budgets=budgets), sim_env(sim))
        wrong = run_module('verge_tenant_usage_info', dict(view='summary', month='current', rates=REPORT_RATES, budgets=dict(system=5)),
                           sim_env(sim))
    assert report.rc == 0 and info.rc == 0, report.output + info.output
    got, want = info.result['budgets'], report.result['budgets']
    assert got['tenants'] == want['tenants'] and got['system'] is None
    by_name = dict((item['name'], item) for item in got['tenants'])
    assert by_name[names[0]]['forecast_over_budget'] and not by_name[names[1]]['forecast_over_budget']
    assert not by_name[names[0]]['complete'] and by_name[names[2]]['budget'] is None
    assert got['flagged'] == [names[0]]
    assert wrong.rc != 0 and 'budgets.system: verge_tenant_usage_info bills tenants only' in wrong.result['msg']
