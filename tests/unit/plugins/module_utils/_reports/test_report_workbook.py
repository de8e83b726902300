# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vergeio.billing contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The report workbooks (system, tenants overview) from real rating-engine bills, read back with openpyxl."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from decimal import Decimal

import pytest

pytest.importorskip('xlsxwriter', reason='XlsxWriter is a test requirement of the xlsx format (tests/unit/requirements.txt)')
openpyxl = pytest.importorskip('openpyxl', reason='openpyxl reads the workbooks back (tests/unit/requirements.txt)')

from ansible_collections.vergeio.billing.plugins.module_utils._budget import budget_figures, parse_budgets  # noqa: E402
from ansible_collections.vergeio.billing.plugins.module_utils._rating import (  # noqa: E402
    Bill, Meter, edges, price, rate_card, system_owner, tenant_owner,
)
from ansible_collections.vergeio.billing.plugins.module_utils._reports.report_workbook import (  # noqa: E402
    RECORD_COLUMNS, OverviewWorkbook, SystemWorkbook,
)
from ansible_collections.vergeio.billing.plugins.module_utils._time import get_zone, month_range  # noqa: E402

BERLIN = get_zone('Europe/Berlin')
CARD = rate_card({'core_hour': 0.0213, 'ram_gb_hour': 0.0117, 'tier1_gb_hour': 0.000135, 'currency': 'EUR'})


def _values(path, sheet):
    return [[cell.value for cell in row] for row in openpyxl.load_workbook(path)[sheet].iter_rows()]


def _dec(value):
    return Decimal(repr(value))


def test_the_system_workbook_adds_up_and_streams_its_records(tmp_path):
    _label, start, last = month_range('2026-10', BERLIN)
    period = dict(label='2026-10', since='2026-10-01T00:00:00+02:00', until='2026-10-31T23:59:59+01:00', since_epoch=start,
                  until_epoch=last, timezone='Europe/Berlin')
    owner = system_owner('east')
    meter = Meter(edges(start, last + 1, 'day', BERLIN))
    for hour in range(745):
        meter.add(owner, start + hour * 3600, start + (hour + 1) * 3600, {'cores': 3 + hour % 5, 'ram': 10.5, 'tier1': 2000 + hour})
    bill = Bill(owner, price(meter.lines(), CARD), CARD)
    days = [(line.start, line.end) for line in meter.lines() if line.metric == 'cores']
    exacts = [sum(p.amount for p in price(meter.lines(), CARD) if (p.start, p.end) == day) for day in days]
    from ansible_collections.vergeio.billing.plugins.module_utils._rating import money  # pylint: disable=import-outside-toplevel
    shown = [money(value, 2) for value in exacts]
    shown[-1] += bill.total - sum(shown)  # amounts that add up to the total, as the report apportions them
    summary = dict(hours=745.0, periods=[dict(period='day %d' % index, start=str(day[0]), end=str(day[1]), record_count=24, hours=24.0,
                                              twa_cpu_cores=5.0, twa_ram_gb=10.5, twa_storage_used_gb=2000.0, twa_gpus_used=0, twa_vgpus_used=0)
                                         for index, day in enumerate(days)])
    path = str(tmp_path / 'east-2026-10.xlsx')
    book = SystemWorkbook(path, 'east, 2026-10', last + 1, CARD, 'day')
    for page in range(2):  # two pages of records, as the report streams them
        count = 3
        columns = dict((field, [(page * count + row) if kind != 'text' else '=page %d' % page for row in range(count)])
                       for _title, kind, field in RECORD_COLUMNS)
        book.add_page(columns, cost=[0.5 * row for row in range(count)])
    budget = budget_figures(parse_budgets({'system': 1000}), '2026-10', BERLIN, last + 1, CARD, system=(bill, 745 * 3600))[0]['system']
    book.finish('east', period, summary, 6, bill, [dict(amount=str(amount), exact=exact) for amount, exact in zip(shown, exacts)], budget)
    workbook = openpyxl.load_workbook(path)
    assert workbook.sheetnames == ['Summary', 'Costs', 'By day', 'Records']
    costs = _values(path, 'Costs')
    assert costs[-1][0] == 'Total' and _dec(costs[-1][4]) == bill.total == sum(_dec(row[4]) for row in costs[1:-1])
    by_day = _values(path, 'By day')
    assert len(by_day) == 1 + 31 + 1  # header, 31 local days, the total
    assert _dec(by_day[-1][10]) == bill.total == sum(_dec(row[10]) for row in by_day[1:-1])
    assert workbook['By day'].auto_filter.ref == 'A1:L32'
    records = _values(path, 'Records')
    assert len(records) == 7 and records[1][4] == "'=page 0" and records[-1][-1] == 1.0 and records[-1][0] == 5
    summary_items = dict((row[0], row[1]) for row in _values(path, 'Summary')[1:])
    assert _dec(summary_items['Total']) == bill.total and summary_items['Records'] == 6 and summary_items['Budget month'] == '2026-10'
    assert _dec(summary_items['Budget']) == 1000 and summary_items['Forecast over budget'] == ('yes' if bill.total > 1000 else 'no')
    assert _dec(summary_items['Forecast for the month']) == bill.total  # a month that is over: the forecast is its cost


def test_the_overview_workbook_has_every_tenants_lines_and_budgets(tmp_path):
    _label, start, last = month_range('2026-10', BERLIN)
    period = dict(label='2026-10', since_epoch=start, until_epoch=last)
    meter = Meter(edges(start, last + 1))
    owners = [tenant_owner(1, '=acme'), tenant_owner(2, 'beta'), tenant_owner(9, '', deleted=True)]
    for number, owner in enumerate(owners):
        meter.add(owner, start, start + 200 * 3600, {'cores': number + 1, 'ram': 4})
    priced = price(meter.lines(), CARD)
    bills = [Bill(owner, priced, CARD) for owner in owners]
    figures, _warnings = budget_figures(parse_budgets({'tenants': {'beta': 1}}), '2026-10', BERLIN, start + 200 * 3600, CARD,
                                        tenants=[(bill, 200 * 3600) for bill in bills])
    path = str(tmp_path / 'east-tenants-2026-10.xlsx')
    rows = [(bill.owner.name, bill.owner.key, bill.owner.state, 200.0, bill.total) for bill in bills]
    totals = [('Total', None, None, 600.0, sum(bill.total for bill in bills))]
    OverviewWorkbook(path, 'east', period, CARD).write([('Tenant', 'text'), ('$key', 'id'), ('State', 'text'), ('Hours', 'number'),
                                                       ('Total', 'money')], rows, totals, bills, figures)
    workbook = openpyxl.load_workbook(path)
    assert workbook.sheetnames == ['Overview', 'Lines', 'Budgets']
    overview = _values(path, 'Overview')
    assert overview[1][0] == "'=acme" and _dec(overview[-1][4]) == sum(_dec(row[4]) for row in overview[1:-1])
    assert workbook['Overview'].auto_filter.ref == 'A1:E4'
    lines = _values(path, 'Lines')
    assert sorted(set(row[1] for row in lines[1:])) == [1, 2, 9]
    for bill in bills:
        assert sum(_dec(row[7]) for row in lines[1:] if row[1] == bill.owner.key) == bill.total
    budgets = _values(path, 'Budgets')
    assert [row[0] for row in budgets[1:]] == ["'=acme", 'beta', 'tenant 9 (deleted)']
    beta = budgets[2]
    assert _dec(beta[5]) == 1 and beta[6] == 'yes' and beta[7] == 'yes' and beta[3] is not None
    assert budgets[1][5] is None and budgets[1][6] == 'no'  # no budget: no flag
