# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vergeio.billing contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The workbook writer, read back with openpyxl (test-only): number cells, formats, inert text, frozen headers,
autofilters, widths, reproducible bytes, errors that name the cell."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import sys
from decimal import Decimal

import pytest

pytest.importorskip('xlsxwriter', reason='XlsxWriter is a test requirement of the xlsx format (tests/unit/requirements.txt)')
openpyxl = pytest.importorskip('openpyxl', reason='openpyxl reads the workbooks back (tests/unit/requirements.txt)')

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from ansible_collections.vergeio.billing.plugins.module_utils._rating import (  # noqa: E402
    Bill, Meter, edges, price, rate_card, system_owner, tenant_owner,
)
from ansible_collections.vergeio.billing.plugins.module_utils._reports import workbook as wb  # noqa: E402

HOSTILE = ['=1+1', '+SUM(A1)', '-2+3', '@SUM(A1)', '\tcmd', '\r=x', '=HYPERLINK("http://evil","x")', 'http://example.com', '0042', '1e5']


def _bill(card, owner=None):
    owner = owner or system_owner('east')
    meter = Meter(edges(0, 10 * 3600, 'hour'))
    meter.add(owner, 0, 10 * 3600, {'cores': 3, 'ram': 7.25, 'tier1': 1000.5})
    return Bill(owner, price(meter.lines(), card), card)


def _cells(path, sheet):
    return [list(row) for row in openpyxl.load_workbook(path)[sheet].iter_rows()]


def test_numbers_are_number_cells_with_formats_and_amounts_add_up(tmp_path):
    card = rate_card({'core_hour': 0.0213, 'ram_gb_hour': 0.011, 'tier1_gb_hour': 0.000135, 'currency': 'EUR', 'precision': 2})
    bill = _bill(card)
    path = str(tmp_path / 'r.xlsx')
    book = wb.Workbook(path, card.currency, card.precision, created=1793487600, title='east 2026-10')
    summary = book.sheet('Summary', (('Item', 'text'), ('Value', 'text'), ('Unit', 'text')))
    summary.pairs([('Name', 'east', 'text'), ('Hours', 745, 'int', 'hours'), ('Total', bill.total, 'money')])
    costs = book.sheet('Costs', wb.BILL_COLUMNS)
    costs.rows(wb.bill_rows(bill)).end_table().write(wb.total_row('Total', bill.total, bill.exact))
    book.close()
    rows = _cells(path, 'Costs')
    assert [cell.value for cell in rows[0]] == [title for title, _kind in wb.BILL_COLUMNS]
    lines = rows[1:-1]
    assert len(lines) == len(bill.lines) == 3
    for cells, line in zip(lines, bill.lines):
        assert [cell.data_type for cell in cells] == ['s', 'n', 's', 'n', 'n', 'n']
        assert cells[1].value == line.quantity and cells[3].value == line.unit_price and cells[5].value == line.exact
        assert Decimal(repr(cells[4].value)) == line.amount
        assert cells[4].number_format == '#,##0.00 "EUR"'
        assert cells[1].number_format == '#,##0.000'
    total = rows[-1]
    assert total[0].value == 'Total' and Decimal(repr(total[4].value)) == bill.total == sum(Decimal(repr(c[4].value)) for c in lines)
    sheet = openpyxl.load_workbook(path)['Costs']
    assert sheet.freeze_panes == 'A2'
    assert sheet.auto_filter.ref == 'A1:F4'  # the lines, not the totals row
    widths = [sheet.column_dimensions[letter].width for letter in 'ABCDEF']
    assert all(wb.MIN_WIDTH <= width <= wb.MAX_WIDTH + 1 for width in widths)
    pairs = _cells(path, 'Summary')
    assert (pairs[2][1].value, pairs[2][1].data_type, pairs[2][2].value) == (745, 'n', 'hours')
    assert Decimal(repr(pairs[3][1].value)) == bill.total and pairs[3][1].number_format == '#,##0.00 "EUR"'
    assert openpyxl.load_workbook(path).sheetnames == ['Summary', 'Costs']


@pytest.mark.parametrize('currency, precision, expected', [
    ('JPY', 0, '#,##0 "JPY"'), ('BHD', 3, '#,##0.000 "BHD"'), ('', 2, '#,##0.00'), ('"x"\\', 2, '#,##0.00\\ \\"\\x\\"\\\\'),
])
def test_the_currency_format(currency, precision, expected):
    assert wb.money_format(currency, precision) == expected


@pytest.mark.parametrize('text', HOSTILE)
def test_text_is_never_a_formula_and_keeps_the_csv_rule(tmp_path, text):
    path = str(tmp_path / 'r.xlsx')
    book = wb.Workbook(path, '=EUR', 2)
    sheet = book.sheet('Lines', (('Tenant', 'text'), ('Amount', 'money')))
    sheet.write((text, Decimal('1.50')))
    book.close()
    cell = _cells(path, 'Lines')[1][0]
    assert cell.data_type == 's'  # a string cell: no formula, no number, no hyperlink
    expected = "'" + text if text[0] in '=+-@\t\r' else text
    assert cell.value == expected.replace('\r', '_x000D_')  # XlsxWriter escapes CR as OOXML does (Excel shows a CR)
    formulas = openpyxl.load_workbook(path, data_only=False)['Lines']
    assert formulas.cell(2, 1).data_type != 'f'
    assert _cells(path, 'Lines')[1][1].number_format == '#,##0.00 "=EUR"'


def test_the_same_data_gives_the_same_bytes(tmp_path):
    def write(path):
        book = wb.Workbook(path, 'EUR', 2, created=1793487600)
        book.sheet('Records', (('key', 'id'), ('cores', 'number'))).rows((i, i * 1.5) for i in range(100))
        book.close()
        with open(path, 'rb') as handle:
            return handle.read()
    assert write(str(tmp_path / 'a.xlsx')) == write(str(tmp_path / 'b.xlsx'))


@pytest.mark.parametrize('value, message', [
    (float('nan'), 'sheet Records, row 2, column cores'), (float('inf'), 'not a finite number'), ('lots', "'lots' is not a number"),
    (True, 'True is not a number'),
])
def test_a_value_that_is_no_number_is_refused_naming_the_cell(tmp_path, value, message):
    path = str(tmp_path / 'r.xlsx')
    book = wb.Workbook(path, 'EUR', 2)
    sheet = book.sheet('Records', (('key', 'id'), ('cores', 'number')))
    with pytest.raises(ValueError) as error:
        sheet.write((1, value))
    assert message in str(error.value)
    book.discard()
    assert not os.path.exists(path) and not os.path.exists(book.tmpdir)


def test_the_workbook_is_written_in_constant_memory_mode_and_cleans_up(tmp_path):
    path = str(tmp_path / 'r.xlsx')
    book = wb.Workbook(path, 'EUR', 2)
    assert book.xlsx.constant_memory and not book.xlsx.strings_to_formulas and not book.xlsx.strings_to_urls
    sheet = book.sheet('Records', (('key', 'id'), ('note', 'text')))
    sheet.rows(((1, 'a'), (2, 'b')))
    assert os.listdir(book.tmpdir)  # rows go to a temporary file, not memory
    book.close()
    assert not os.path.exists(book.tmpdir)
    assert [[cell.value for cell in row] for row in _cells(path, 'Records')] == [['key', 'note'], [1, 'a'], [2, 'b']]


def test_owner_columns_and_the_row_limit(tmp_path, monkeypatch):
    card = rate_card({'core_hour': 0.02, 'currency': 'USD'})
    bills = [_bill(card, tenant_owner(7, '=cmd')), _bill(card, tenant_owner(9, '', deleted=True))]
    path = str(tmp_path / 'r.xlsx')
    book = wb.Workbook(path, 'USD', 2)
    lines = book.sheet('Lines', wb.OWNER_COLUMNS + wb.BILL_COLUMNS)
    for bill in bills:
        lines.rows(wb.bill_rows(bill, owner=True))
    book.close()
    rows = _cells(path, 'Lines')
    assert [cell.value for cell in rows[1][:3]] == ["'=cmd", 7, 'active']
    assert [cell.value for cell in rows[-1][:3]] == ['tenant 9 (deleted)', 9, 'deleted']
    assert sum(Decimal(repr(row[7].value)) for row in rows[1:]) == sum(bill.total for bill in bills)
    monkeypatch.setattr(wb, 'MAX_ROWS', 3)
    book = wb.Workbook(str(tmp_path / 's.xlsx'), 'USD', 2)
    sheet = book.sheet('Records', (('key', 'id'),))
    sheet.rows([(1,), (2,)])
    with pytest.raises(ValueError, match="the sheet Records would need more than 2 rows"):
        sheet.write((3,))
    book.discard()


@settings(max_examples=25, deadline=None)  # floats within Excel's range (its largest number is 9.99999999999999E+307)
@given(st.lists(st.one_of(st.text(max_size=40), st.floats(min_value=-1e300, max_value=1e300), st.integers(-10 ** 15, 10 ** 15)),
                min_size=1, max_size=6))
def test_any_text_stays_text_and_any_number_stays_the_number(tmp_path_factory, values):
    path = str(tmp_path_factory.mktemp('h') / 'r.xlsx')
    book = wb.Workbook(path, 'EUR', 2)
    columns = [('c%d' % index, 'text' if isinstance(value, str) else 'number') for index, value in enumerate(values)]
    book.sheet('S', columns).write(values)
    book.close()
    cells = _cells(path, 'S')[1] if len(_cells(path, 'S')) > 1 else []
    by_column = dict((cell.column - 1, cell) for cell in cells)
    for index, value in enumerate(values):
        cell = by_column.get(index)
        if isinstance(value, str):
            if value == '':
                assert cell is None or cell.value in (None, '')
                continue
            assert cell.data_type == 's'
            assert not str(cell.value).startswith(('=', '+', '-', '@', '\t'))
        else:
            # Excel keeps 15 significant digits; XlsxWriter writes 16 (%.16G)
            assert cell.data_type == 'n' and cell.value == pytest.approx(float(value), rel=1e-15, abs=0)


def test_without_xlsxwriter_the_module_fails_with_missing_required_lib(monkeypatch):
    monkeypatch.setitem(sys.modules, 'xlsxwriter', None)

    class Module:
        def fail_json(self, **result):
            raise SystemExit(result)

    with pytest.raises(SystemExit) as failed:
        wb.require_xlsxwriter(Module(), ['csv', 'xlsx'])
    result = failed.value.args[0]
    assert 'XlsxWriter' in result['msg'] and 'xlsx format' in result['msg'] and 'xlsxwriter' in result['exception']
    wb.require_xlsxwriter(Module(), ['csv', 'json'])  # not asked: nothing imported, no failure
