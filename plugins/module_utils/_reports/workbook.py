# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vergeio.billing contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Excel workbooks (``.xlsx``) of the reports, written with XlsxWriter (BSD; imported only when ``xlsx`` is asked).

The reports hand plain data to a ``Workbook``: sheets of columns (a title and a kind each) and rows (any iterable,
written as they come), ``_rating.Bill`` objects (``bill_rows``) and label/value pairs (``Sheet.pairs``). Nothing
here reads the API or knows the report it writes.

- **Numbers are numbers**: every figure is a number cell with a number format (``KINDS``): counts and keys as
  integers, quantities with three decimals shown, unit prices with up to ten, amounts in the currency's format with
  the card's ``precision`` decimals (``#,##0.00 "EUR"``). The cell holds the figure itself; only the display rounds.
  Amounts shown on a bill are the bill's rounded amounts, so a column of amounts adds up to the total shown.
- **Text is text**: every text cell is written with ``write_string`` (never ``write``), the workbook is opened with
  ``strings_to_formulas``, ``strings_to_numbers`` and ``strings_to_urls`` off, and a text starting with ``=``, ``+``,
  ``-``, ``@``, tab or CR gets the apostrophe of the collection's CSV rule (``files.csv_text``): a hostile tenant name
  or description is never a formula, neither in the workbook nor after Excel re-saves it as CSV.
- **Readable**: the header row is bold and frozen, every table sheet has an autofilter over its rows (a totals row
  below the table stays out of it, so sorting never moves it), and column widths follow the longest value
  (between the header's width and 60 characters).
- **Constant memory**: the workbook is written in XlsxWriter's ``constant_memory`` mode, so each row goes to a
  temporary file as soon as the next one starts; a year of hourly records (8,760 rows of 60 columns) never sits in
  memory. Every sheet is therefore written top to bottom (sheets may be created first and filled later, which keeps
  the Summary first). XlsxWriter's temporary files live in a private directory removed by ``close``/``discard``.
- **Reproducible**: the document's creation time is a figure of the data (``created``, the period's end), not the
  clock, and XlsxWriter stamps the zip entries with a fixed date, so the same data gives the same bytes and a
  rerun changes nothing.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import math
import shutil
import tempfile
import traceback
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation

from ansible.module_utils.basic import missing_required_lib
from ansible.module_utils.common.text.converters import to_text

from ansible_collections.vergeio.billing.plugins.module_utils._reports.files import csv_text

MAX_ROWS = 1048576  # Excel's rows per sheet, the header included
MAX_TEXT = 32767  # Excel's characters per cell
MIN_WIDTH, MAX_WIDTH = 8, 60


def require_xlsxwriter(module, formats):
    """Fail ``module`` the standard way (missing_required_lib, with the import's traceback) when ``formats`` has ``xlsx``
    and XlsxWriter cannot be imported; nothing is imported otherwise."""
    if 'xlsx' not in formats:
        return
    try:
        import xlsxwriter  # noqa: F401  pylint: disable=import-outside-toplevel,unused-import
    except ImportError:
        module.fail_json(msg=missing_required_lib('XlsxWriter (pip install XlsxWriter), for the xlsx format'), exception=traceback.format_exc())


# ---- kinds of columns -----------------------------------------------------------------------------------------------

# kind -> number format (None: text). Counts and keys show no decimals (keys and epochs no thousands separator either);
# figures three decimals; unit prices at least two and up to ten; money: see Workbook.money_format.
KINDS = {
    'text': None,
    'int': '#,##0',
    'id': '0',
    'number': '#,##0.000',
    'percent': '0.00',
    'quantity': '#,##0.000',
    'price': '#,##0.00########',
    'money': 'money',
    'exact': 'exact',
}


def currency_literal(currency):
    """The currency as a literal of an Excel number format: quoted, or (a text holding ``"``) every character escaped."""
    if not currency:
        return ''
    if '"' not in currency and '\\' not in currency:
        return ' "%s"' % currency
    return '\\ ' + ''.join('\\' + char for char in currency)


def money_format(currency, precision, extra=0):
    """The number format of amounts: thousands separators, ``precision`` decimals (and up to ``extra`` more shown only
    when they are not 0: exact amounts), then the currency."""
    digits = ('.' + '0' * precision + '#' * extra) if precision or extra else ''
    return '#,##0%s%s' % (digits, currency_literal(currency))


def as_number(value, where):
    """A figure as a float for a number cell (Decimal, int, float, or the text of a decimal number such as a bill's
    ``amount``); None stays None (an empty cell). ValueError naming ``where`` for anything else, NaN or Infinity."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueError('%s: %r is not a number' % (where, value))
    if isinstance(value, (int, float)):
        number = float(value)
    else:
        try:
            number = float(Decimal(to_text(value).strip()) if not isinstance(value, Decimal) else value)
        except (InvalidOperation, ValueError, TypeError):
            raise ValueError('%s: %r is not a number' % (where, value))
    if math.isnan(number) or math.isinf(number):
        raise ValueError('%s: %r is not a finite number' % (where, value))
    return number


def as_text(value):
    """A text cell's value: the collection's formula guard (``csv_text``) and Excel's length limit."""
    text = csv_text(to_text(value))
    return text if len(text) <= MAX_TEXT else text[:MAX_TEXT - 1] + '\u2026'


_DECIMALS = dict(int=0, id=0, number=3, percent=2, quantity=3, price=4)


def shown_width(kind, largest, precision, currency):
    """The characters a number of magnitude ``largest`` takes in a column of ``kind``."""
    decimals = _DECIMALS.get(kind, precision)
    width = len('{:,.0f}'.format(largest)) + 1 + (decimals + 1 if decimals else 0)  # digits, sign, decimals
    return width + (len(currency) + 1 if kind in ('money', 'exact') and currency else 0)


# ---- the workbook ---------------------------------------------------------------------------------------------------

class Sheet:
    """One sheet: a frozen header row of ``columns`` (``(title, kind)`` pairs), rows written top to bottom."""

    def __init__(self, book, name, columns, table=True):
        self.book = book
        self.name = name
        self.columns = [(to_text(title), kind) for title, kind in columns]
        for title, kind in self.columns:
            if kind not in KINDS:
                raise ValueError('workbook: unknown kind %r of column %r' % (kind, title))
        self.table = table
        self.sheet = book.xlsx.add_worksheet(name)
        self.row = 0
        self.table_end = None
        self.width = [len(title) + 2 for title, _kind in self.columns]  # characters, grown by the values
        self.largest = [0.0] * len(self.columns)
        self.formats = [book.format_of(kind) for _title, kind in self.columns]
        self.texts = [kind == 'text' for _title, kind in self.columns]
        for col, (title, _kind) in enumerate(self.columns):
            self.sheet.write_string(0, col, title, book.header)
        self.row = 1

    def write(self, values, kinds=None):
        """Append one row (``values`` in column order; ``kinds`` overrides the columns' kinds, for label/value sheets).
        The loop is the Records sheet's hot path (a year is 8,760 rows): floats go straight to their cell."""
        if self.row >= MAX_ROWS:
            raise ValueError('xlsx: the sheet %s would need more than %d rows (Excel\'s limit); report a shorter period, or leave '
                             'xlsx out of formats' % (self.name, MAX_ROWS - 1))
        if kinds is not None:
            return self._write_kinds(values, kinds)
        row, texts, formats, largest, width = self.row, self.texts, self.formats, self.largest, self.width
        write_string, write_number, text_format = self.sheet.write_string, self.sheet.write_number, self.book.text
        for col, value in enumerate(values):
            if value is None:
                continue
            if texts[col]:
                text = as_text(value)
                write_string(row, col, text, text_format)
                if len(text) > width[col]:
                    width[col] = len(text)
                continue
            if type(value) is not float or value - value != 0:  # pylint: disable=unidiomatic-typecheck  # not a finite float
                value = as_number(value, self._where(col))
            write_number(row, col, value, formats[col])
            largest[col] = max(largest[col], abs(value))
        self.row += 1
        return None

    def _where(self, col):
        return 'xlsx: sheet %s, row %d, column %s' % (self.name, self.row + 1, self.columns[col][0])

    def _write_kinds(self, values, kinds):
        book = self.book
        for col, (value, kind) in enumerate(zip(values, kinds)):
            if value is None:
                continue
            if kind == 'text':
                text = as_text(value)
                self.sheet.write_string(self.row, col, text, book.text)
                self.width[col] = max(self.width[col], len(text))
            else:
                number = as_number(value, self._where(col))
                self.sheet.write_number(self.row, col, number, book.format_of(kind))
                self.width[col] = max(self.width[col], shown_width(kind, abs(number), book.precision, book.currency))
        self.row += 1

    def rows(self, rows):
        """Append every row of an iterable (streamed: nothing is kept)."""
        for values in rows:
            self.write(values)
        return self

    def pairs(self, items):
        """Append ``(label, value, kind[, unit])`` items as rows of a label/value sheet (columns: text, any, text)."""
        for item in items:
            label, value, kind = item[:3]
            unit = item[3] if len(item) > 3 else None
            self.write((label, value, unit), kinds=('text', kind, 'text'))
        return self

    def end_table(self):
        """The rows written so far are the table (autofilter); rows written after it (totals) stay out of it."""
        self.table_end = self.row - 1
        return self

    def finish(self):
        """Widths, frozen header, autofilter (called by Workbook.close)."""
        for col, (_title, kind) in enumerate(self.columns):
            width = self.width[col]
            if kind != 'text':
                width = max(width, shown_width(kind, self.largest[col], self.book.precision, self.book.currency))
            self.sheet.set_column(col, col, min(max(width + 1, MIN_WIDTH), MAX_WIDTH))
        self.sheet.freeze_panes(1, 0)
        end = self.table_end if self.table_end is not None else self.row - 1
        if self.table and self.columns:
            self.sheet.autofilter(0, 0, max(end, 0), len(self.columns) - 1)


class Workbook:
    """An ``.xlsx`` file at ``path`` (written by ``close``). ``currency`` and ``precision``: the rate card's (amounts
    are shown in them); ``created``: epoch seconds stored as the document's creation time (a figure of the data, so
    that the same data gives the same bytes); ``title``: the document's title."""

    def __init__(self, path, currency='', precision=2, created=0, title=''):
        import xlsxwriter  # pylint: disable=import-outside-toplevel  # optional: the module checked it (require_xlsxwriter)
        self.path = path
        self.currency = to_text(currency or '')
        self.precision = int(precision)
        self.tmpdir = tempfile.mkdtemp(prefix='verge-report-xlsx.')
        self.sheets = []
        self.closed = False
        self.xlsx = xlsxwriter.Workbook(path, dict(
            constant_memory=True, tmpdir=self.tmpdir, strings_to_formulas=False, strings_to_numbers=False, strings_to_urls=False,
        ))
        self.xlsx.set_properties(dict(title=to_text(title), author='vergeio.billing', comments='Written by the vergeio.billing collection',
                                      created=datetime.fromtimestamp(int(created or 0), timezone.utc).replace(tzinfo=None)))
        self.header = self.xlsx.add_format(dict(bold=True, bottom=1, bg_color='#E8EBF0', text_wrap=False))
        self.text = self.xlsx.add_format(dict(num_format='@'))
        self._formats = {}

    def format_of(self, kind):
        if kind not in self._formats:
            code = KINDS[kind]
            if code == 'money':
                code = money_format(self.currency, self.precision)
            elif code == 'exact':
                code = money_format(self.currency, self.precision, extra=8)
            self._formats[kind] = self.xlsx.add_format(dict(num_format=code)) if code else self.text
        return self._formats[kind]

    def sheet(self, name, columns, table=True):
        """A new sheet (in the order of creation) with a header row of ``columns``: ``(title, kind)`` pairs."""
        sheet = Sheet(self, name, columns, table)
        self.sheets.append(sheet)
        return sheet

    def close(self):
        """Write the file; the temporary files go."""
        try:
            for sheet in self.sheets:
                sheet.finish()
            self.xlsx.close()
            self.closed = True
        finally:
            shutil.rmtree(self.tmpdir, ignore_errors=True)

    def discard(self):
        """Drop an unfinished workbook (after a failure): its temporary files go, the file is not written."""
        if not self.closed:
            for sheet in self.xlsx.worksheets():
                handle = getattr(sheet, 'row_data_fh', None)
                if handle is not None and not handle.closed:
                    handle.close()
            self.closed = True
        shutil.rmtree(self.tmpdir, ignore_errors=True)


# ---- plain data of the rating engine ----------------------------------------------------------------------------------

BILL_COLUMNS = (('Metric', 'text'), ('Quantity', 'quantity'), ('Unit', 'text'), ('Unit price', 'price'), ('Amount', 'money'),
                ('Exact amount', 'exact'))
OWNER_COLUMNS = (('Owner', 'text'), ('$key', 'id'), ('State', 'text'))


def bill_rows(bill, owner=False, lines=None):
    """The rows of a ``_rating.Bill`` under ``BILL_COLUMNS`` (with ``owner``: ``OWNER_COLUMNS`` first): one per line of
    ``lines`` (default: every line of the bill). Amounts are the bill's rounded amounts (Decimal), so their sum is the
    bill's total; ``Exact amount`` is the unrounded one."""
    who = (bill.owner.name, bill.owner.key, bill.owner.state) if owner else ()
    for line in bill.lines if lines is None else lines:
        yield who + (line.label, line.quantity, line.quantity_unit, line.unit_price, line.amount, line.exact)


def total_row(label, total, exact, owner=False):
    """The totals row below a bill's lines (outside the autofilter): the label, the total in Amount, exact in Exact."""
    return ((label, None, None) if owner else ()) + ((None if owner else label), None, None, None, total, exact)
