# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vergeio.billing contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The workbooks of verge_billing_report (``formats: [xlsx]``): what the system report and the tenants overview put
into ``workbook.Workbook``.

- The system's workbook, ``<name>-<label>.xlsx``: **Summary** (name, period, records, hours, the bill's total and,
  with budgets, the month's figures), **Costs** (the bill: a line per metric, then the total), **By day** (or week, or
  month: the ``group_by`` periods with their time-weighted figures and amounts that add up to the total) and
  **Records** (one row per billing record, streamed page by page in constant-memory mode).
- The tenants overview's workbook, ``<name>-tenants-<label>.xlsx``: **Overview** (a row per tenant and the totals),
  **Lines** (every tenant's bill lines in one table, the tenant in the first columns: one autofilter finds a tenant,
  a metric or the largest amounts across all of them; a sheet per tenant would be 10,000 sheets for 10,000 tenants,
  and sheet names cannot hold every tenant name) and, with budgets, **Budgets**. Each tenant's own files are in the
  other formats; the Lines sheet is its workbook.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.vergeio.billing.plugins.module_utils._records import TIERS
from ansible_collections.vergeio.billing.plugins.module_utils._reports.workbook import (
    BILL_COLUMNS, OWNER_COLUMNS, Workbook, bill_rows, total_row,
)

PAIR_COLUMNS = (('Item', 'text'), ('Value', 'text'), ('Unit', 'text'))
# The Records sheet: the figures a bill is made of (the CSV has every field): title, kind, converted record field.
RECORD_COLUMNS = (
    ('Key', 'id', 'key'), ('Created', 'text', 'created'), ('From', 'text', 'from_time'), ('To', 'text', 'to_time'),
    ('Description', 'text', 'description'), ('CPU cores used', 'number', 'used_cores'), ('CPU cores total', 'number', 'total_cores'),
    ('RAM used GB', 'number', 'used_ram_gb'), ('RAM total GB', 'number', 'total_ram_gb'),
) + tuple(('Tier %d used GB' % tier, 'number', 'tier%d_used_gb' % tier) for tier in TIERS) + (
    ('GPUs used', 'number', 'gpus_used'), ('vGPUs used', 'number', 'vgpus_used'),
)
PERIOD_COLUMNS = (('Period', 'text'), ('Start', 'text'), ('End', 'text'), ('Records', 'int'), ('Hours', 'number'),
                  ('CPU cores', 'number'), ('RAM GB', 'number'), ('Storage GB', 'number'), ('GPUs', 'number'), ('vGPUs', 'number'))
PERIOD_FIGURES = ('record_count', 'hours', 'twa_cpu_cores', 'twa_ram_gb', 'twa_storage_used_gb', 'twa_gpus_used', 'twa_vgpus_used')
BUDGET_COLUMNS = (('Owner', 'text'), ('$key', 'id'), ('Month', 'text'), ('Month to date', 'money'), ('Forecast', 'money'),
                  ('Budget', 'money'), ('Over budget', 'text'), ('Forecast over budget', 'text'), ('Hours measured', 'number'),
                  ('Hours in month', 'number'), ('Month complete', 'text'))


def _yes(flag):
    return 'yes' if flag else 'no'


def budget_pairs(figures):
    """Summary rows of one owner's budget figures (``_budget.status``)."""
    if not figures:
        return []
    return [('Budget month', figures['month'], 'text'), ('Month to date', figures['month_to_date'], 'money'),
            ('Forecast for the month', figures['forecast'], 'money'), ('Budget', figures['budget'], 'money'),
            ('Over budget', _yes(figures['over_budget']), 'text'), ('Forecast over budget', _yes(figures['forecast_over_budget']), 'text'),
            ('Hours measured', figures['hours_measured'], 'number', 'hours'), ('Hours in the month', figures['hours_in_month'], 'number', 'hours')]


def budget_rows(figures):
    """Rows of the Budgets sheet: the system's (when there) and every tenant's figures."""
    owners = ([figures['system']] if figures.get('system') else []) + list(figures.get('tenants') or [])
    for item in owners:
        yield (item['name'], item.get('key'), item['month'], item['month_to_date'], item['forecast'], item['budget'],
               _yes(item['over_budget']), _yes(item['forecast_over_budget']), item['hours_measured'], item['hours_in_month'],
               _yes(item['complete']))


def _period_pairs(name, period):
    return [('Name', name, 'text'), ('Period', period['label'], 'text'), ('From', period['since'], 'text'),
            ('Until (inclusive)', period['until'], 'text'), ('Time zone', period['timezone'], 'text')]


def _created(period):
    return (period.get('until_epoch') or 0) + 1


class SystemWorkbook:
    """The system report's workbook at ``path``: ``title``, ``created`` (epoch seconds: the period's end, so the bytes
    depend on the data only), ``card`` the rate card (or None), ``group_by`` the periods' name. Sheets are created in
    their order first; Records is filled page by page (``add_page``), the others by ``finish``."""

    def __init__(self, path, title, created, card, group_by):
        self.card = card
        self.book = Workbook(path, card.currency if card else '', card.precision if card else 2, created=created, title=title)
        self.summary = self.book.sheet('Summary', PAIR_COLUMNS)
        self.costs = self.book.sheet('Costs', BILL_COLUMNS) if card else None
        amounts = (('Amount', 'money'), ('Exact amount', 'exact')) if card else ()
        self.periods = self.book.sheet('By %s' % (group_by or 'period'), PERIOD_COLUMNS + amounts)
        self.records = self.book.sheet('Records', [(title, kind) for title, kind, _field in RECORD_COLUMNS] + ([('Cost', 'exact')] if card else []))

    def add_page(self, columns, cost=None):
        """One page of converted records (``columns`` by name, as ``_records.convert_columns`` gives them) and, with a
        rate card, each record's cost (a column)."""
        data = [columns[field] for _title, _kind, field in RECORD_COLUMNS]
        if self.card:
            data.append(cost)
        self.records.rows(zip(*data))

    def finish(self, name, period, summary, record_count, bill=None, bill_periods=None, budget=None):
        """Summary, Costs and the periods; then the file is written. ``bill``: the ``_rating.Bill`` (with a rate card);
        ``bill_periods``: the amounts of the periods (``amount`` a Decimal string adding up to the total, ``exact``);
        ``budget``: the system's budget figures (``_budget.status``) or None."""
        pairs = _period_pairs(name, period) + [('Records', record_count, 'int'), ('Hours', summary.get('hours'), 'number', 'hours')]
        if bill is not None:
            pairs += [('Total', bill.total, 'money'), ('Exact total', bill.exact, 'exact'), ('Currency', bill.currency, 'text')]
        self.summary.pairs(pairs + budget_pairs(budget))
        if bill is not None:
            self.costs.rows(bill_rows(bill)).end_table().write(total_row('Total', bill.total, bill.exact))
        amounts = bill_periods or []
        for index, item in enumerate(summary.get('periods') or []):
            row = [item.get('period'), item.get('start'), item.get('end')] + [item.get(key) for key in PERIOD_FIGURES]
            if self.card:
                shown = amounts[index] if index < len(amounts) else {}
                row += [shown.get('amount'), shown.get('exact')]
            self.periods.write(row)
        self.periods.end_table()
        if bill is not None:
            self.periods.write(['Total', None, None, record_count, summary.get('hours'), None, None, None, None, None, bill.total, bill.exact])
        self.book.close()

    def discard(self):
        self.book.discard()


OVERVIEW_COLUMNS = (('Tenant', 'text'), ('$key', 'id'), ('State', 'text'), ('Hours', 'number'))


class OverviewWorkbook:
    """The tenants overview's workbook: Overview (``rows``: one per tenant, then the totals), Lines (every tenant's bill
    lines), Budgets (with budgets)."""

    def __init__(self, path, name, period, card):
        self.book = Workbook(path, card.currency if card else '', card.precision if card else 2, created=_created(period),
                             title='VergeOS tenants overview: %s, %s' % (name, period['label']))

    def write(self, columns, rows, totals=None, bills=(), budgets=None):
        """``columns``: (title, kind) of the Overview sheet; ``rows``: its rows; ``totals``: rows below the table;
        ``bills``: each tenant's ``_rating.Bill``; ``budgets``: the budgets block (``_budget.budget_figures``) or None."""
        overview = self.book.sheet('Overview', columns)
        lines = self.book.sheet('Lines', OWNER_COLUMNS + BILL_COLUMNS) if bills else None
        budget_sheet = self.book.sheet('Budgets', BUDGET_COLUMNS) if budgets else None
        overview.rows(rows).end_table()
        overview.rows(totals or ())
        for bill in bills:
            lines.rows(bill_rows(bill, owner=True))
        if budget_sheet is not None:
            budget_sheet.rows(budget_rows(budgets))
        self.book.close()

    def discard(self):
        self.book.discard()
