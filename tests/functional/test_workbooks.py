# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vergeio.billing contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Excel workbooks (``formats: [xlsx]``) written by real ansible runs against the simulator, read back with openpyxl
(test-only): number cells where the CSV has numbers, the same totals as the JSON, formula-looking names as text,
reproducible bytes, and the missing-library failure without XlsxWriter."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import csv
import os
import shutil
import tempfile
from decimal import Decimal

import pytest

from conftest import run_module, sim_env  # pylint: disable=import-error
from simulator.vergeos_sim import Simulator  # pylint: disable=import-error

openpyxl = pytest.importorskip('openpyxl', reason='openpyxl (test-only) reads the workbooks back')
pytest.importorskip('xlsxwriter', reason='XlsxWriter writes the workbooks (the xlsx format needs it)')

END = 1793491200  # 2026-11-01T00:00:00Z
RATES = dict(core_hour=0.0213, ram_gb_hour=0.0117, tier1_gb_hour=0.000135, gpu_hour=1.5, currency='EUR')
HOSTILE = '=HYPERLINK("http://evil.example/","pay")'


def rows_of(path, sheet):
    return [[cell for cell in row] for row in openpyxl.load_workbook(path)[sheet].iter_rows()]


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
