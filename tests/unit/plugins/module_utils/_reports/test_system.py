# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vergeio.billing contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The report engine (module_utils/_reports/system.py), its charts and templates, and the one figure/cost function.

Money is checked against a brute-force reference written here in exact arithmetic (``fractions.Fraction``) with the
test's own reading of raw values, never against the code under test. The pages reach the report through
``_usage.Usage.system`` as in the module; ``Pages`` stands in for the HTTP client (the functional tests use the
simulator over HTTPS).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import csv
import json
import math
import os
import random
import tempfile
from datetime import datetime, timezone
from decimal import Decimal
from fractions import Fraction
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ansible_collections.vergeio.billing.plugins.module_utils._reports.charts import Series, chart, minmax_points, time_ticks, y_axis
from ansible_collections.vergeio.billing.plugins.module_utils._reports.files import parse_mode, place, safe_name
from ansible_collections.vergeio.billing.plugins.module_utils._reports.system import (
    JSON_RECORD_FIELDS, ReportBuilder, file_names, old_total, report_diff,
)
from ansible_collections.vergeio.billing.plugins.module_utils._reports.request import describe_period, period_label, resolve_period
from ansible_collections.vergeio.billing.plugins.module_utils._rating import rate_card as validate_rates
from ansible_collections.vergeio.billing.plugins.module_utils._summary import (
    COST_PARTS, Summary, record_costs, record_figures,
)
from ansible_collections.vergeio.billing.plugins.module_utils._usage import Usage
from ansible_collections.vergeio.billing.plugins.module_utils._reports.templates import render_html, render_markdown
from ansible_collections.vergeio.billing.tests.unit.plugins.module_utils._reports.displayed import money_tables
from ansible_collections.vergeio.billing.plugins.module_utils._time import get_zone

BERLIN = ZoneInfo('Europe/Berlin')
UTC = timezone.utc
GIB = 1024 ** 3
TIERS = range(6)
RATE_NAMES = ['core_hour', 'ram_gb_hour'] + ['tier%d_gb_hour' % t for t in TIERS] + ['gpu_hour', 'vgpu_hour']


class Pages:
    """A client that answers a paged read with the given rows, ``size`` a page (and records what was asked)."""

    def __init__(self, rows, size=5000):
        self.rows, self.size, self.asked = rows, size, []

    def get_all(self, endpoint, params, page_size, on_page=None, limit=None):
        self.asked.append((endpoint, params))
        for first in range(0, len(self.rows), self.size):
            on_page(self.rows[first:first + self.size])
        return []


def summary_of(rows, **kwargs):
    summary = Summary(**kwargs)
    summary.add_rows(rows)
    return summary.result()


def build(raws, formats, card, group_by, zone, work, start, end, page=5000, name='sys', month=None):
    """A report of [start, end) from ``raws`` as the module builds it: (builder, summary, bill, temps)."""
    builder = ReportBuilder(formats, card, group_by, zone, work, (start, end), name)
    Usage(Pages(raws, page)).system(builder.meter, builder.owner, on_page=builder.add_page)
    period = describe_period(dict(month=month, since_epoch=start, until_epoch=end - 1), zone)
    summary, bill, temps = builder.finish(name, period)
    return builder, summary, bill, temps


# ---- the reference ------------------------------------------------------------------------------------------------

def ref_int(value):
    """The test's reading of a counter: None/'' -> 0; int; float and numeric text truncated toward zero."""
    if value is None or value == '':
        return 0
    if isinstance(value, str):
        text = value.strip()
        return int(Fraction(text)) if text else 0
    return int(value)


def ref_cost(raw, rates, period=None):
    """Exact cost parts of one raw record: usage x rate x hours, hours = max(to - from, 0) / 3600 (0 without from/to),
    or with ``period`` (start, end) the hours of from..to inside it."""
    start, end = ref_int(raw.get('from')), ref_int(raw.get('to'))
    if period is not None and start and end:
        start, end = max(start, period[0]), min(end, period[1])
    hours = Fraction(max(end - start, 0), 3600) if start and end else Fraction(0)
    rate = dict((name, Fraction(rates.get(name) or 0)) for name in RATE_NAMES)
    parts = dict(cpu=ref_int(raw.get('used_cores')) * rate['core_hour'] * hours,
                 ram=Fraction(ref_int(raw.get('used_ram')), 1024) * rate['ram_gb_hour'] * hours,
                 gpu=ref_int(raw.get('gpus')) * rate['gpu_hour'] * hours,
                 vgpu=ref_int(raw.get('vgpus')) * rate['vgpu_hour'] * hours)
    for tier in TIERS:
        parts['tier%d' % tier] = Fraction(ref_int(raw.get('tier_%d_used' % tier)), GIB) * rate['tier%d_gb_hour' % tier] * hours
    parts['storage'] = sum((parts['tier%d' % tier] for tier in TIERS), Fraction(0))
    parts['total'] = parts['cpu'] + parts['ram'] + parts['storage'] + parts['gpu'] + parts['vgpu']
    return parts


def near(value, exact):
    return math.isclose(value, float(exact), rel_tol=1e-9, abs_tol=1e-9)


counter = st.one_of(st.integers(0, 10 ** 6), st.integers(0, 2 ** 50), st.none(),
                    st.integers(0, 10 ** 5).map(str), st.floats(0, 1e6, allow_nan=False).map(lambda f: '%.1f' % f))
T0 = 1790805600  # 2026-10-01T00:00:00+02:00


@st.composite
def raw_records(draw, max_size=12):
    count = draw(st.integers(0, max_size))
    out = []
    created = T0
    for key in range(1, count + 1):
        created += draw(st.integers(0, 7200))
        length = draw(st.sampled_from([0, 1800, 3600, 3600, 5400]))
        raw = {'$key': key, 'created': created, 'from': created - length if draw(st.booleans()) or length else None, 'to': created,
               'used_cores': draw(counter), 'total_cores': draw(st.sampled_from([0, 64, 256])), 'used_ram': draw(counter),
               'total_ram': draw(st.sampled_from([0, 1 << 20])), 'gpus': draw(st.integers(0, 8)), 'gpus_total': 8,
               'vgpus': draw(st.integers(0, 16)), 'vgpus_total': draw(st.sampled_from([0, 16])),
               'description': draw(st.sampled_from(['plain', '=cmd()', 'a|b', None]))}
        for tier in TIERS:
            raw['tier_%d_used' % tier] = draw(counter)
            raw['tier_%d_total' % tier] = draw(st.sampled_from([0, 1 << 40]))
        out.append(raw)
    return out


rate_cards = st.fixed_dictionaries({}, optional=dict(
    [(name, st.one_of(st.floats(0, 10, allow_nan=False), st.sampled_from([0.0001, 0.02, 1.5]))) for name in RATE_NAMES]
    + [('currency', st.sampled_from(['EUR', 'US$', '<b>', '=1+1']))]))


# ---- one figure and cost function ---------------------------------------------------------------------------------

@settings(max_examples=60, deadline=None)
@given(raw_records(), rate_cards)
def test_record_cost_and_summary_cost_match_the_reference(raws, rates):
    card = validate_rates(rates)
    exact = [ref_cost(raw, rates) for raw in raws]
    for cost, want in zip(record_costs(raws, card), exact):
        for part in ('cpu', 'ram', 'storage', 'gpu', 'vgpu', 'total'):
            assert near(cost[part], want[part]), part
        for tier in TIERS:
            assert near(cost['tiers']['tier%d' % tier], want['tier%d' % tier])
    total = summary_of(raws, rates=card)['cost']
    for part in ('cpu', 'ram', 'storage', 'gpu', 'vgpu', 'total'):
        assert near(total[part], sum((want[part] for want in exact), Fraction(0))), part


def test_record_figures_are_named_not_positional():
    raw = {'$key': 3, 'created': 100, 'from': 0, 'to': 100, 'used_cores': 8, 'total_cores': 16, 'used_ram': 2048, 'total_ram': 4096,
           'tier_1_used': 3 * GIB, 'gpus': 1, 'gpus_total': 2, 'vgpus': 0, 'vgpus_total': 0}
    figures = record_figures(raw)
    assert figures['cores'] == 8 and figures['cpu_pct'] == 50.0 and figures['ram_gb'] == 2.0 and figures['tier1_gb'] == 3.0
    assert figures['storage_gb'] == 3.0 and figures['weight'] == 0.0  # from 0: no known period
    assert figures['key'] == 3 and figures['created'] == 100 and figures['gpus_total'] == 2


def test_a_rate_card_is_validated_once():
    card = validate_rates({'core_hour': '0.5'})
    assert validate_rates(card) is card
    with pytest.raises(ValueError, match='rates.core_hour'):
        validate_rates({'core_hour': 'lots'})


@settings(max_examples=40, deadline=None)
@given(raw_records(max_size=10))
def test_totals_from_the_newest_record_alone_equal_those_of_every_row(raws):
    """A summary whose rows carry no totals, given the newest record, says what a summary of full rows says."""
    full = summary_of(raws)
    lean = Summary(totals=False)
    trimmed = [dict((k, v) for k, v in raw.items() if not k.endswith('_total') or k == 'total_cores' or k == 'total_ram') for raw in raws]
    lean.add_rows(trimmed)
    if raws:
        lean.newest(max(raws, key=lambda raw: (ref_int(raw['created']), ref_int(raw['$key']))))
    assert lean.result() == full


# ---- the report rows against the reference ------------------------------------------------------------------------

def overlaps(raw, start, end):
    """The server's usage filter, in the test's own reading: to > start and from < end."""
    return ref_int(raw.get('to')) > start and ref_int(raw.get('from')) < end


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw_records(), rate_cards, st.integers(1, 5), st.sampled_from(['day', 'week', 'month']), st.integers(0, 6 * 3600),
       st.integers(3600, 3 * 86400))
def test_report_rows_and_totals_match_the_reference(raws, rates, page, group_by, offset, length):
    card = validate_rates(rates)
    zone = get_zone('Europe/Berlin')
    start, end = T0 + offset, T0 + offset + length
    inside = [raw for raw in raws if overlaps(raw, start, end)]
    with tempfile.TemporaryDirectory() as work:
        builder, summary, bill, temps = build(inside, ['csv', 'json'], card, group_by, zone, work, start, end, page)
        with open(temps['csv'], newline='', encoding='utf-8') as handle:
            table = list(csv.DictReader(handle))
        with open(temps['json'], encoding='utf-8') as handle:
            document = json.load(handle)
        builder.discard()
    assert len(table) == len(inside) == len(document['records']) == document['record_count'] == summary['record_count']
    fields = document['record_fields']
    exact = [ref_cost(raw, rates, (start, end)) for raw in inside]
    for raw, want, row, array in zip(inside, exact, table, document['records']):
        assert int(row['key']) == raw['$key'] == array[fields.index('key')]
        assert array[fields.index('used_ram')] == ref_int(raw['used_ram'])
        for part in COST_PARTS:
            assert near(float(row['cost_%s' % part]), want[part]), part
            assert near(array[fields.index('cost_%s' % part)], want[part]), part
        assert row['currency'] == ("'" + card['currency'] if card['currency'].startswith('=') else card['currency'])
        text = raw['description'] or ''
        assert row['description'] == ("'" + text if text.startswith('=') else text)  # no formula reaches a spreadsheet
        stamp = datetime.fromtimestamp(raw['created'], BERLIN).isoformat()
        assert row['created'] == stamp and int(row['created_epoch']) == raw['created']
    grand = sum((want['total'] for want in exact), Fraction(0))
    assert near(summary['cost']['total'], grand) if inside else summary['cost']['total'] == 0
    assert near(math.fsum(p['cost']['total'] for p in summary.get('periods', [])), grand)
    assert fields[:len(JSON_RECORD_FIELDS)] == list(JSON_RECORD_FIELDS)
    # the bill: each line's amount is its exact amount rounded half up; the total is the sum of the rounded lines
    assert document['bill'] == bill
    assert near(bill['exact'], grand)
    for line in bill['lines']:
        assert Decimal(line['amount']) == Decimal(repr(line['exact'])).quantize(Decimal('0.01'), rounding='ROUND_HALF_UP')
        assert near(line['exact'], line['quantity'] * line['unit_price'])
    assert Decimal(bill['total']) == sum((Decimal(line['amount']) for line in bill['lines']), Decimal(0))
    assert sum((Decimal(period['amount']) for period in bill['periods']), Decimal(0)) == Decimal(bill['total'])
    # each charge period's amount is its exact amount rounded down or up, give or take what the bill's rounding per
    # line moved the total away from the exact sum
    slack = Decimal('0.01') + abs(Decimal(bill['total']) - Decimal(repr(bill['exact'])))
    for period in bill['periods']:
        assert abs(Decimal(period['amount']) - Decimal(repr(period['exact']))) < slack


@settings(max_examples=25, deadline=None)
@given(raw_records(max_size=30), rate_cards, st.sampled_from([0, 2, 3]), st.sampled_from([None, 'day', 'week']))
def test_every_displayed_total_is_the_sum_of_its_displayed_lines(raws, rates, precision, group_by):
    """Markdown and HTML: the cost table's total and the By-day column's total are the sums of the amounts they show,
    the two totals are one figure, and each shown amount is the JSON bill's."""
    card = validate_rates(dict(rates, precision=precision, currency='EUR'))
    zone = get_zone('Europe/Berlin')
    start, end = T0, T0 + 2 * 86400
    inside = [raw for raw in raws if overlaps(raw, start, end)]
    with tempfile.TemporaryDirectory() as work:
        builder, _summary, bill, temps = build(inside, ['markdown', 'html'], card, group_by, zone, work, start, end)
        with open(temps['markdown'], encoding='utf-8') as handle:
            markdown = handle.read()
        with open(temps['html'], encoding='utf-8') as handle:
            html = handle.read()
        builder.discard()
    total = Decimal(bill['total'])
    tables = money_tables(markdown, html)
    assert len(tables) == (4 if group_by and inside else 2)  # the cost table and the By-period table of each
    for which, lines, shown_total in tables:
        assert shown_total == total == sum(lines, Decimal(0)), which
        assert all(-line.as_tuple().exponent == precision for line in lines), which  # the currency's decimals
    assert ('%s EUR' % '{:,.{p}f}'.format(total, p=precision)) in html


def test_the_record_of_the_last_local_hour_is_in_the_month(tmp_path):
    """October 2026 in Berlin: 745 hours; hourly records from 30 September 20:00Z on: the first row is the record of
    00:00-01:00 local, the last that of 23:00-24:00 local on the 31st, created in November."""
    zone = get_zone('Europe/Berlin')
    asked = resolve_period(month='2026-10', zone=zone)
    start, end = asked['since_epoch'], asked['until_epoch'] + 1
    assert end - start == 745 * 3600
    hourly = []
    begin = utc_epoch(2026, 9, 30, 20)
    while begin < utc_epoch(2026, 11, 1, 2):
        hourly.append({'$key': len(hourly) + 1, 'created': begin + 3605, 'from': begin, 'to': begin + 3600, 'used_cores': 2})
        begin += 3600
    raws = [raw for raw in hourly if overlaps(raw, start, end)]
    card = validate_rates(dict(core_hour=0.5, currency='EUR'))
    builder, summary, bill, temps = build(raws, ['csv', 'json'], card, 'day', zone, str(tmp_path), start, end, month='2026-10')
    with open(temps['csv'], newline='', encoding='utf-8') as handle:
        table = list(csv.DictReader(handle))
    builder.discard()
    assert len(table) == 745
    assert table[0]['from_time'] == '2026-10-01T00:00:00+02:00' and table[-1]['to_time'] == '2026-11-01T00:00:00+01:00'
    assert table[-1]['created'].startswith('2026-11-01T00:00:05')  # created in November, measured October
    assert summary['hours'] == 745.0
    [cores] = [line for line in bill['lines'] if line['metric'] == 'cores']
    assert cores['quantity'] == 2 * 745 and cores['quantity_unit'] == 'core-hours' and bill['total'] == '745.00'
    assert [period['period'] for period in bill['periods']][::30] == ['2026-10-01', '2026-10-31']
    assert [period['amount'] for period in bill['periods']][24] == '25.00'  # 25 October: 25 hours


def test_a_monthly_record_is_prorated_between_the_months_it_straddles(tmp_path):
    """A bill VergeOS made for 15 October .. 15 November (created on the 15th): October bills 16 days and 23 hours
    of it (to midnight in Berlin), November the rest, and the two add up to the record."""
    zone = get_zone('Europe/Berlin')
    monthly = {'$key': 7, 'created': utc_epoch(2026, 11, 15, 0, 0, 14), 'from': utc_epoch(2026, 10, 15), 'to': utc_epoch(2026, 11, 15),
               'used_cores': 31}
    card = validate_rates(dict(core_hour=0.01, currency='EUR'))
    quantities = []
    for month in ('2026-10', '2026-11'):
        asked = resolve_period(month=month, zone=zone)
        start, end = asked['since_epoch'], asked['until_epoch'] + 1
        assert overlaps(monthly, start, end)
        builder, summary, bill, _temps = build([monthly], ['json'], card, None, zone, str(tmp_path), start, end, month=month)
        builder.discard()
        inside = min(end, monthly['to']) - max(start, monthly['from'])
        assert summary['hours'] == inside / 3600 and summary['record_count'] == 1
        [cores] = bill['lines'][:1]
        assert cores['quantity'] == 31 * inside / 3600
        quantities.append(Fraction(31 * inside, 3600))
    assert quantities[0] == 31 * (16 * 24 + 23)  # 15 Oct 00:00Z .. 31 Oct 23:00Z (midnight in Berlin)
    assert sum(quantities) == Fraction(31 * (monthly['to'] - monthly['from']), 3600)


def test_diff_shows_the_old_and_the_new_total(tmp_path):
    old = tmp_path / 'r.json'
    assert old_total(str(old)) is None
    old.write_text(json.dumps({'rates': {'precision': 2}, 'summary': {'cost': {'total': 10.005, 'currency': 'EUR'}}}))
    assert old_total(str(old)) == ('10.01', 'EUR')  # a report without a bill: its exact total, rounded as its card says
    old.write_text(json.dumps({'bill': {'total': '12.50', 'currency': 'EUR'}}))
    assert old_total(str(old)) == ('12.50', 'EUR')
    paths = dict(json=str(old), total=str(old))
    diff = report_diff(paths, ['json'], {'json': str(old)}, {'json': 'updated'}, False, {'total': '13.00', 'currency': 'EUR'}, ('12.50', 'EUR'))
    assert diff['before'] == 'total: 12.50 EUR\n' and diff['after'] == 'total: 13.00 EUR\n'
    assert 'total: 12.50 EUR -> total: 13.00 EUR' in diff['prepared'] and 'wrote %s (updated)' % old in diff['prepared']
    same = report_diff(paths, ['json'], {}, {'json': 'unchanged'}, True, {'total': '13.00', 'currency': 'EUR'}, ('13.00', 'EUR'))
    assert same['prepared'] == '' and same['before'] == same['after']
    old.write_text('{not json')
    assert old_total(str(old)) is None


# ---- period, names, modes, files ----------------------------------------------------------------------------------

def test_berlin_october_is_the_local_month():
    zone = get_zone('Europe/Berlin')
    period = describe_period(resolve_period(month='2026-10', zone=zone), zone)
    assert (period['since_epoch'], period['until_epoch']) == (
        int(datetime(2026, 9, 30, 22, tzinfo=UTC).timestamp()), int(datetime(2026, 10, 31, 22, 59, 59, tzinfo=UTC).timestamp()))
    assert period['since'] == '2026-10-01T00:00:00+02:00' and period['until'] == '2026-10-31T23:59:59+01:00'
    assert period['label'] == '2026-10' and period['timezone'] == 'Europe/Berlin'


@pytest.mark.parametrize('since, until, label', [
    ('2026-10-01', '2026-10-31', '2026-10-01_2026-10-31'),
    ('2026-10-25', '2026-10-25', '2026-10-25_2026-10-25'),  # a 25-hour day
    ('2026-10-01T12:00', '2026-10-02', '20261001T120000+0200_2026-10-02'),
])
def test_period_labels_are_local(since, until, label):
    zone = get_zone('Europe/Berlin')
    asked = resolve_period(since=since, until=until, zone=zone)
    assert period_label(asked['since_epoch'], asked['until_epoch'], zone) == label
    if label.startswith('2026-10-25'):
        assert asked['until_epoch'] - asked['since_epoch'] + 1 == 25 * 3600


@pytest.mark.parametrize('kwargs, words', [
    (dict(), 'give the report period'),
    (dict(month='2026-10', since='2026-10-01'), 'month cannot be combined'),
    (dict(month='26-10'), 'month must be a calendar month'),
    (dict(since='2026-10-05', until='2026-10-01'), 'since (2026-10-05) is after until'),
    (dict(since='2026-03-29T02:30'), 'does not exist in Europe/Berlin'),
])
def test_bad_periods_name_the_option(kwargs, words):
    with pytest.raises(ValueError) as info:
        resolve_period(zone=get_zone('Europe/Berlin'), **kwargs)
    assert words in str(info.value)


NOW = int(datetime(2026, 11, 27, 7, 12, 30, tzinfo=UTC).timestamp())


def utc_epoch(*args):
    return int(datetime(*args, tzinfo=UTC).timestamp())


@settings(max_examples=300, deadline=None, database=None)
@given(st.integers(1970, 3000), st.integers(1, 12))
def test_every_utc_month_ends_one_second_before_the_next(year, month):
    period = resolve_period(month='%04d-%02d' % (year, month), since=None, until='')
    following = datetime(year + 1, 1, 1, tzinfo=UTC) if month == 12 else datetime(year, month + 1, 1, tzinfo=UTC)
    assert period['since_epoch'] == utc_epoch(year, month, 1)
    assert period['until_epoch'] == int(following.timestamp()) - 1
    assert period['month'] == '%04d-%02d' % (year, month)


@pytest.mark.parametrize('month, last', [('2028-02', (2028, 2, 29, 23, 59, 59)), ('2100-02', (2100, 2, 28, 23, 59, 59)),
                                         ('2026-1', (2026, 1, 31, 23, 59, 59))])
def test_leap_years_and_short_months(month, last):
    assert resolve_period(month=month)['until_epoch'] == utc_epoch(*last)


def test_since_until_dates_cover_whole_days_and_times_that_are_not_day_bounds_are_in_the_label():
    period = resolve_period(since='2026-10-01', until='2026-10-15', now=NOW)
    assert (period['since_epoch'], period['until_epoch'], period['month']) == (utc_epoch(2026, 10, 1), utc_epoch(2026, 10, 15, 23, 59, 59), None)
    assert period_label(period['since_epoch'], period['until_epoch'], UTC) == '2026-10-01_2026-10-15'
    period = resolve_period(since='2026-10-01T06:30:00Z', until=utc_epoch(2026, 10, 2, 12), now=NOW)
    assert (period['since_epoch'], period['until_epoch']) == (utc_epoch(2026, 10, 1, 6, 30), utc_epoch(2026, 10, 2, 12))
    assert period_label(period['since_epoch'], period['until_epoch'], UTC) == '20261001T063000+0000_20261002T120000+0000'


def test_relative_since_uses_now_and_no_until_leaves_the_end_open():
    period = resolve_period(since='-30d', now=NOW)
    assert period['since_epoch'] == NOW - 30 * 86400 and period['until_epoch'] is None


def test_yaml_dates_are_accepted():
    """An unquoted date in YAML arrives as a datetime.date."""
    day = datetime(2026, 10, 1, tzinfo=UTC).date()
    period = resolve_period(since=day, until=day.replace(day=7), now=NOW)
    assert (period['since_epoch'], period['until_epoch']) == (utc_epoch(2026, 10, 1), utc_epoch(2026, 10, 7, 23, 59, 59))


@pytest.mark.parametrize('kwargs, words', [
    (dict(month='2026-10', until='2026-10-31'), 'month cannot be combined'),
    (dict(until='2026-10-01'), 'give the report period'),
    (dict(month='2026-13'), 'calendar month'),
    (dict(month='October'), 'calendar month'),
    (dict(month='1969-12'), 'calendar month'),
    (dict(since='yesterday'), 'since'),
    (dict(since='2026-10-01', until='soon'), 'until'),
])
def test_more_bad_periods_name_the_option(kwargs, words):
    with pytest.raises(ValueError, match=words):
        resolve_period(now=NOW, **kwargs)


@pytest.mark.parametrize('description, cell', [
    ('=HYPERLINK("http://evil.example","x")', '\'=HYPERLINK("http://evil.example","x")'),
    ('+1', "'+1"),
    ('-2+3', "'-2+3"),
    ('@SUM(A1)', "'@SUM(A1)"),
    ('\tTAB', "'\tTAB"),
    ('Billing, "quoted"\nsecond line', 'Billing, "quoted"\nsecond line'),
    ('Rechnung März €', 'Rechnung März €'),
    ('a-b', 'a-b'),
])
def test_csv_text_is_quoted_and_formulas_are_defused(tmp_path, description, cell):
    raw = {'$key': 1, 'created': T0, 'from': T0 - 3600, 'to': T0, 'used_cores': 1, 'description': description}
    builder, _summary, _bill, temps = build([raw], ['csv'], validate_rates({'core_hour': 1, 'currency': '@EUR'}), None, UTC, str(tmp_path),
                                            T0 - 3600, T0)
    with open(temps['csv'], newline='', encoding='utf-8') as handle:
        [row] = list(csv.DictReader(handle))
    builder.discard()
    assert row['description'] == cell
    assert row['currency'] == "'@EUR"


@pytest.mark.parametrize('name, stem', [('vergeos', 'vergeos'), ('prod/eu west', 'prod_eu_west'), ('a..b', 'a..b'), ('ü-1', 'u-1')])
def test_safe_names(name, stem):
    assert safe_name(name) == stem
    assert os.path.basename(file_names('/d', name, '2026-10', ['csv'])['csv']) == '%s-2026-10.csv' % stem


@pytest.mark.parametrize('name', ['', '///', '..', None, '-_.'])
def test_names_without_letters_fail(name):
    with pytest.raises(ValueError, match='name must contain letters or digits'):
        safe_name(name)


@pytest.mark.parametrize('mode, number', [('0644', 0o644), ('640', 0o640), ('0o600', 0o600), (0o644, 0o644), (None, None)])
def test_modes(mode, number):
    assert parse_mode(mode) == number


@pytest.mark.parametrize('mode', ['u=rw', '0999', True, 0o17777, '12345'])
def test_bad_modes(mode):
    with pytest.raises(ValueError, match='mode must be'):
        parse_mode(mode)


def test_place_leaves_an_identical_file_alone_and_check_mode_touches_nothing(tmp_path):
    final = str(tmp_path / 'r.csv')

    def temp(text):
        path = str(tmp_path / ('.t%d' % random.randint(0, 10 ** 9)))
        with open(path, 'w') as handle:
            handle.write(text)
        return path
    assert place(temp('a'), final, 0o640, check_mode=True) == 'created' and not os.path.exists(final)
    assert place(temp('a'), final, 0o640, check_mode=False) == 'created'
    assert os.stat(final).st_mode & 0o777 == 0o640
    inode = os.stat(final).st_ino
    assert place(temp('a'), final, 0o640, check_mode=False) == 'unchanged' and os.stat(final).st_ino == inode
    assert place(temp('a'), final, 0o600, check_mode=True) == 'mode' and os.stat(final).st_mode & 0o777 == 0o640
    assert place(temp('a'), final, 0o600, check_mode=False) == 'mode' and os.stat(final).st_mode & 0o777 == 0o600
    assert place(temp('b'), final, None, check_mode=True) == 'updated' and open(final).read() == 'a'
    assert place(temp('b'), final, None, check_mode=False) == 'updated' and open(final).read() == 'b'
    assert os.stat(final).st_mode & 0o777 == 0o600  # a replaced file keeps its permissions


# ---- charts -------------------------------------------------------------------------------------------------------

@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(0, 1e9, allow_nan=False), min_size=1, max_size=5000), st.integers(2, 1500))
def test_minmax_keeps_the_peaks_and_stays_small(values, limit):
    xs = list(range(len(values)))
    points = minmax_points(xs, values, limit)
    assert len(points) <= max(limit, 2)
    assert max(y for _x, y in points) == max(values) and min(y for _x, y in points) == min(values)
    assert [x for x, _y in points] == sorted(set(x for x, _y in points))  # time order, no point twice


def test_a_year_of_hourly_points_is_1500_at_most():
    series = Series('Used')
    for hour in range(8760):
        series.add(T0 + hour * 3600, 5.0 if hour != 4321 else 99.0)
    points = series.points()
    assert len(points) <= 1500 and (T0 + 4321 * 3600, 99.0) in points


def test_day_ticks_fall_on_local_midnights_across_dst():
    zone = get_zone('Europe/Berlin')
    start, end = int(datetime(2026, 10, 23, tzinfo=BERLIN).timestamp()), int(datetime(2026, 10, 28, tzinfo=BERLIN).timestamp())
    step, ticks = time_ticks(start, end, zone)
    assert step == 86400
    local = [datetime.fromtimestamp(t, BERLIN).strftime('%d %H:%M') for t in ticks]
    assert local == ['23 00:00', '24 00:00', '25 00:00', '26 00:00', '27 00:00', '28 00:00']
    assert ticks[3] - ticks[2] == 25 * 3600  # the fall-back day


def test_no_chart_without_points():
    assert chart('c', 'GPUs', [Series('Used'), Series('Total', dashed=True)]) is None


# ---- templates ----------------------------------------------------------------------------------------------------

def _context(name='<script>alert(1)</script> | x', records=2):
    raws = [{'$key': k, 'created': T0 + 3600 * k, 'from': T0 + 3600 * (k - 1), 'to': T0 + 3600 * k, 'used_cores': 4, 'total_cores': 8,
             'used_ram': 1024, 'total_ram': 2048, 'gpus': 0, 'gpus_total': 0, 'description': '<b>x</b>'} for k in range(1, records + 1)]
    zone = get_zone('Europe/Berlin')
    card = validate_rates(dict(core_hour=0.5, currency='<EUR>'))
    with tempfile.TemporaryDirectory() as work:
        builder = ReportBuilder(['html'], card, 'day', zone, work, (T0, T0 + 86400))
        Usage(Pages(raws)).system(builder.meter, builder.owner, on_page=builder.add_page)
        period = describe_period(dict(month='2026-10', since_epoch=T0, until_epoch=T0 + 86399), zone)
        summary = builder.summary.result()
        bill, data = builder.bill(summary)
        context = builder.context(name, period, summary, bill, data)
        context['charts'], context['chart_notes'] = builder.charts.build(zone)
        builder.discard()
    return context


def test_html_is_autoescaped_and_has_no_script():
    html = render_html(_context())
    assert '<script>' not in html and '&lt;script&gt;' in html and '&lt;EUR&gt;' in html
    assert '"Segoe UI"' in html and '&#34;Segoe' not in html  # the style sheet is not escaped
    assert 'id="chart-cores"' in html and 'id="chart-gpus"' not in html
    assert 'GPUs: chart left out, no GPUs in this period.' in html
    assert 'Storage tier 3: chart left out, no capacity on this tier in this period.' in html and 'id="chart-tier3"' not in html
    assert 'Europe/Berlin (UTC+02:00)' in html and '1970' not in html


def test_markdown_escapes_table_cells_and_counts_in_words():
    markdown = render_markdown(_context(name='a|b', records=1))
    assert '# VergeOS billing report: a\\|b, 2026-10' in markdown
    assert '1 record covering 1.0 hours' in markdown
    assert '2026-10-01 00:00:00 +02:00' in markdown


# ---- column-wise conversion -----------------------------------------------------------------------------------------

any_value = st.one_of(st.none(), st.integers(-5, 2 ** 64), st.floats(allow_nan=True), st.text(max_size=6), st.booleans(),
                      st.integers(0, 10 ** 12))


@settings(max_examples=80, deadline=None)
@given(st.lists(st.one_of(raw_records(max_size=3).map(lambda rows: rows[0] if rows else {}),
                          st.fixed_dictionaries({}, optional={'created': any_value, 'sent': any_value, 'used_ram': any_value,
                                                              '$key': any_value, 'description': any_value, 'tier_2_used': any_value})),
                max_size=6),
       st.sampled_from([None, 'Europe/Berlin']))
def test_convert_columns_is_convert_record_column_by_column(rows, zone_name):
    from ansible_collections.vergeio.billing.plugins.module_utils._records import (  # pylint: disable=import-outside-toplevel
        ConversionProblems, convert_columns, convert_record, output_names,
    )
    zone = get_zone(zone_name) if zone_name else None
    notes_a, notes_b = ConversionProblems(), ConversionProblems()
    columns = convert_columns(rows, notes_a, zone)
    records = [convert_record(row, notes_b) for row in rows]
    assert sorted(columns) == sorted(output_names())
    for index, record in enumerate(records):
        for name in output_names():
            want = record[name]
            if zone is not None and name in ('created', 'from_time', 'to_time', 'sent') and want is not None:
                want = datetime.fromisoformat(want).astimezone(zone).isoformat()
            assert columns[name][index] == want, name
    assert list(notes_a) == list(notes_b)


@settings(max_examples=300, deadline=None)
@given(st.floats(min_value=0, max_value=1e300, allow_nan=False, allow_infinity=False))
def test_y_axis_covers_any_value_with_a_positive_step(value):
    """Found by the fleet property test: a subnormal peak (5e-324) made log10 of a fifth of it, 0, fail."""
    top, step = y_axis(value)
    assert step > 0 and top >= value
    assert top == 1.0 if value == 0 else top / step <= 10 ** 6
