# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vergeio.billing contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The fleet report as an Excel workbook (``formats: [xlsx]`` of verge_billing_fleet_report; needs XlsxWriter).

Two sheets: **Summary** (the fleet, its period and how many systems reported) and **Systems** (the CSV report's
columns and rows: one row per system, failed ones with their error, then below the table, outside its autofilter,
one total row per currency). Figures are number cells; amounts are the shown amounts of the CSV, Markdown and HTML
reports (``fleet.shown_costs``: rounded half up per part, each total the sum of the parts shown), in the currency's
format when the fleet has one currency (several currencies: plain amounts and the ``currency`` column).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import tempfile

from ansible_collections.vergeio.billing.plugins.module_utils._rating import DEFAULT_PRECISION
from ansible_collections.vergeio.billing.plugins.module_utils._reports.fleet import (
    CSV_COLUMNS, INT_KEYS, SUM_KEYS, epoch_of, plural, shown_costs,
)
from ansible_collections.vergeio.billing.plugins.module_utils._reports.workbook import Workbook
from ansible_collections.vergeio.billing.plugins.module_utils._summary import COST_PARTS

_TEXT = ('system', 'status', 'error', 'period', 'period_start', 'period_end')


def _kind(column):
    if column in _TEXT or column == 'currency':
        return 'text'
    if column.startswith('cost_'):
        return 'money'
    return 'int' if column in INT_KEYS else 'number'


def render_xlsx(fleet):
    """The workbook's bytes (written to a private temporary file and read back: a fleet report is small)."""
    currencies = sorted(fleet['totals']['cost_by_currency'])
    with_cost = bool(currencies)
    columns = list(CSV_COLUMNS) + (['cost_%s' % part for part in COST_PARTS] + ['currency'] if with_cost else [])
    shown_systems, shown_fleet = shown_costs(fleet)
    precision = max([cost.get('precision', DEFAULT_PRECISION) for cost in fleet['totals']['cost_by_currency'].values()] or [DEFAULT_PRECISION])
    period = fleet['period']
    handle, path = tempfile.mkstemp(prefix='verge-fleet-', suffix='.xlsx')
    os.close(handle)
    book = Workbook(path, currencies[0] if len(currencies) == 1 else '', precision, created=epoch_of(period.get('until')) or 0,
                    title='VergeOS fleet report: %s, %s' % (fleet['name'], period.get('label')))
    try:
        summary = book.sheet('Summary', (('Item', 'text'), ('Value', 'text'), ('Unit', 'text')))
        totals = fleet['totals']
        summary.pairs([('Fleet', fleet['name'], 'text'), ('Period', period.get('label'), 'text'), ('From', period.get('since'), 'text'),
                       ('Until (inclusive)', period.get('until'), 'text'), ('Time zone', period.get('timezone'), 'text'),
                       ('Systems', totals['systems'], 'int'), ('Reported', totals['reported'], 'int'), ('Failed', totals['failed'], 'int')]
                      + [('Total cost', shown_fleet[currency]['total'], 'money' if len(currencies) == 1 else 'exact', currency)
                         for currency in currencies])
        systems = book.sheet('Systems', [(column, _kind(column)) for column in columns])
        for system in fleet['systems']:
            figures = system['summary'] or {}
            when = system['period'] or {}
            fixed = dict(system=system['name'], status='ok' if system['ok'] else 'failed', error=system['error'], period=when.get('label'),
                         period_start=when.get('since'), period_end=when.get('until'))
            shown = shown_systems.get(system['name'])
            cost = figures.get('cost') if isinstance(figures.get('cost'), dict) else {}
            systems.write([_value(column, fixed, figures, shown, cost.get('currency')) for column in columns])
        systems.end_table()
        for currency in currencies or [None]:
            fixed = dict(system='fleet total (%s)' % plural(totals['reported'], 'system'), status='total', period=period.get('label'),
                         period_start=period.get('since'), period_end=period.get('until'))
            sums = dict((key, totals[key]) for key in SUM_KEYS)
            systems.write([_value(column, fixed, sums, shown_fleet.get(currency), currency) for column in columns])
        book.close()
        with open(path, 'rb') as data:
            return data.read()
    finally:
        book.discard()
        os.unlink(path)


def _value(column, fixed, figures, shown, currency):
    if column in fixed:
        return fixed[column]
    if column == 'currency':
        return currency if shown is not None else None
    if column.startswith('cost_'):
        return shown[column[5:]] if shown is not None else None
    return figures.get(column)
