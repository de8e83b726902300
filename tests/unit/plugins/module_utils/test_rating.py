# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vergeio.billing contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The rating engine against a brute force that walks the time line hour by hour and second by second."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from datetime import datetime, timezone
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.vergeio.billing.plugins.module_utils._rating import (
    RECORD_FIELDS, Anomalies, Bill, Meter, apportion, edges, meter_record, meter_records, money, price, rate_card, system_owner, tenant_owner,
    unallocated,
)
from ansible_collections.vergeio.billing.plugins.module_utils._records import ConversionProblems, to_int
from ansible_collections.vergeio.billing.plugins.module_utils._time import get_zone, month_range

BERLIN = get_zone('Europe/Berlin')


def _epoch(*parts):
    return int(datetime(*parts, tzinfo=timezone.utc).timestamp())


def test_october_in_berlin_is_745_hours_and_the_last_local_hour_belongs_to_it():
    _label, start, last = month_range('2026-10', BERLIN)
    bounds = edges(start, last + 1, 'day', BERLIN)
    assert len(bounds) == 32  # 31 local days
    assert (bounds[-1] - bounds[0]) == 745 * 3600  # 25-hour 25 October
    meter = Meter(bounds)
    owner = system_owner('east')
    anomalies = Anomalies()
    # hourly records from 2026-09-30 20:00Z to 2026-11-01 02:00Z, 2 cores each
    begin = _epoch(2026, 9, 30, 20)
    while begin < _epoch(2026, 11, 1, 2):
        raw = dict((field, 0) for field in RECORD_FIELDS)
        raw.update({'$key': begin, 'from': begin, 'to': begin + 3600, 'used_cores': 2})
        meter_record(meter, owner, raw, anomalies, to_int)
        begin += 3600
    lines = [line for line in meter.lines() if line.metric == 'cores']
    assert sum(line.quantity for line in lines) == 2 * 745
    assert meter.hours(owner) == 745
    # 2026-10-31 23:00-24:00 Berlin (22:00Z) is inside October
    assert lines[-1].end == _epoch(2026, 10, 31, 23)
    assert not anomalies


def test_a_monthly_record_is_prorated_to_the_period():
    start, end = _epoch(2026, 11, 1), _epoch(2026, 12, 1)
    meter = Meter(edges(start, end))
    owner = system_owner('east')
    # one record that measured 2026-10-15 .. 2026-11-15: half of its 31 days lie in November
    meter_record(meter, owner, {'$key': 1, 'from': _epoch(2026, 10, 15), 'to': _epoch(2026, 11, 15), 'used_cores': 4}, Anomalies(), to_int)
    (line,) = [line for line in meter.lines() if line.metric == 'cores']
    assert line.quantity == 4 * 14 * 24


def test_negative_and_null_counters_count_as_zero_and_are_said():
    meter = Meter([0, 7200])
    anomalies = Anomalies()
    meter_record(meter, system_owner('x'), {'$key': 7, 'from': 0 + 1, 'to': 3601, 'used_cores': -4, 'used_ram': None}, anomalies, to_int)
    cores = [line.quantity for line in meter.lines() if line.metric == 'cores']
    assert cores == [0]
    text = ' '.join(anomalies.messages())
    assert 'negative' in text and 'used_cores' in text and 'record 7' in text
    assert 'null or missing' in text and 'used_ram' in text


def test_money_rounds_half_up_on_the_shown_number():
    assert money(1.005) == Decimal('1.01')
    assert money(2.675) == Decimal('2.68')
    assert money(-0.005) == Decimal('-0.01')
    assert money(1234.5, 0) == Decimal('1235')


def test_card_is_validated_once_and_names_the_key():
    card = rate_card({'core_hour': '0.02', 'currency': 'EUR'})
    assert rate_card(card) is card
    assert card['ram_gb_hour'] == 0.0 and card.precision == 2
    with pytest.raises(ValueError, match='rates.core_hour'):
        rate_card({'core_hour': 'cheap'})
    with pytest.raises(ValueError, match='rates.precision'):
        rate_card({'precision': 2.5})
    with pytest.raises(ValueError, match='unknown key'):
        rate_card({'cpu': 1})


def test_bill_total_is_the_sum_of_its_shown_lines():
    card = rate_card({'core_hour': 0.0137, 'ram_gb_hour': 0.00731, 'tier1_gb_hour': 0.000113, 'currency': 'EUR'})
    meter = Meter(edges(0, 30 * 86400, 'day'))
    owner = system_owner('x')
    for hour in range(30 * 24):
        meter.add(owner, hour * 3600, hour * 3600 + 3600, {'cores': 17 + hour % 5, 'ram': 93.3 + hour % 7, 'tier1': 1017.77})
    bill = Bill(owner, price(meter.lines(), card), card)
    assert bill.total == sum(line.amount for line in bill.lines)
    assert abs(Decimal(repr(bill.exact)) - bill.total) <= Decimal('0.005') * len(bill.lines)


def test_tenants_plus_unallocated_are_the_system():
    meter = Meter(edges(0, 2 * 86400, 'day'))
    system, tenant = system_owner('s'), tenant_owner(5, 'acme')
    meter.add(system, 0, 2 * 86400, {'cores': 10})
    meter.add(tenant, 3600, 86400 + 3600, {'cores': 4, 'ips': 2})
    lines = meter.lines()
    rest = unallocated([l for l in lines if l.owner == system], [l for l in lines if l.owner == tenant], system_owner('u'))
    for line in rest:
        tenant_part = sum(l.quantity for l in lines if l.owner == tenant and l.metric == line.metric and l.start == line.start)
        system_part = sum(l.quantity for l in lines if l.owner == system and l.metric == line.metric and l.start == line.start)
        assert line.quantity + tenant_part == system_part
    assert tenant_owner(9, '', deleted=True).name == 'tenant 9 (deleted)'


@settings(max_examples=200, deadline=None)
@given(
    start=st.integers(0, 3 * 86400), length=st.integers(0, 5 * 86400),
    records=st.lists(st.tuples(st.integers(-86400, 9 * 86400), st.integers(0, 3 * 86400), st.integers(-3, 50)), max_size=12),
    granularity=st.sampled_from([None, 'hour', 'day', 'week']),
)
def test_prorated_quantities_equal_a_brute_force_over_hours(start, length, records, granularity):
    """Every record is cut into its seconds by a walk over each second's hour: the sum per charge period must match."""
    end = start + length
    bounds = edges(start, end, granularity)
    meter = Meter(bounds)
    owner = system_owner('s')
    for key, (begin, span, cores) in enumerate(records):
        meter_record(meter, owner, {'$key': key, 'from': begin, 'to': begin + span, 'used_cores': cores}, Anomalies(), to_int)
    expected = {}
    for begin, span, cores in records:
        if begin <= 0 or span <= 0:
            continue
        # brute force: walk the interval in steps that never cross a bound, counting seconds in each charge period
        point = max(begin, start)
        while point < min(begin + span, end):
            index = max(i for i in range(len(bounds) - 1) if bounds[i] <= point)
            stop = min(begin + span, end, bounds[index + 1])
            expected[bounds[index]] = expected.get(bounds[index], Fraction(0)) + Fraction(max(cores, 0) * (stop - point), 3600)
            point = stop
    got = dict((line.start, line.quantity) for line in meter.lines() if line.metric == 'cores')
    assert set(k for k, v in expected.items()) <= set(got)
    for key, value in got.items():
        assert abs(Fraction(value) - expected.get(key, 0)) < Fraction(1, 10 ** 9)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.floats(min_value=0, max_value=1e7, allow_nan=False), max_size=40), st.sampled_from([0, 2, 3]),
       st.integers(min_value=-8, max_value=8))
def test_apportion_adds_up_to_the_total_and_moves_each_part_by_less_than_a_unit(exacts, precision, shift):
    """The By-day column: the parts add up to the total (the bill's, which per-line rounding can move a few minor units
    from the rounded exact sum: ``shift``); each part is its exact amount rounded down, plus or minus whole units
    handed out by largest remainder, so with a total at most one unit per part away, each moves by less than two."""
    unit = Decimal(1).scaleb(-precision)
    exact = [Fraction(Decimal(repr(value))) for value in exacts]
    total = Decimal(sum(exact, Fraction(0)).numerator) / Decimal(sum(exact, Fraction(0)).denominator)
    total = total.quantize(unit, rounding='ROUND_HALF_UP') + shift * unit
    if exacts and total < 0:
        total = Decimal(0).quantize(unit)
    parts = apportion(exacts, total, precision)
    assert len(parts) == len(exacts)
    if not exacts:
        return
    assert sum(parts, Decimal(0)) == total
    rounds = (abs(shift) + len(exacts)) // len(exacts) + 1
    for part, value in zip(parts, exact):
        assert abs(Fraction(part) - value) < rounds * Fraction(unit)
        assert part == part.quantize(unit)
    # without a shift, the parts are the exact amounts each rounded down or up
    if shift == 0:
        for part, value in zip(parts, exact):
            assert abs(Fraction(part) - value) < Fraction(unit)


def test_apportion_gives_the_cents_to_the_largest_remainders():
    assert apportion([0.333, 0.333, 0.334], Decimal('1.00')) == [Decimal('0.33'), Decimal('0.33'), Decimal('0.34')]
    assert apportion([1.005, 2.005], Decimal('3.01')) == [Decimal('1.01'), Decimal('2.00')]  # a tie: the earlier part
    assert apportion([5.0, 5.0], Decimal('9.99')) == [Decimal('5.00'), Decimal('4.99')]  # below the parts: taken back from the last
    assert apportion([], Decimal('0.00')) == []


_counter = st.one_of(st.integers(0, 10 ** 13), st.integers(-5, -1), st.none(), st.sampled_from(['12', 'junk', 2.5, 2 ** 64, True]))


_counters = st.lists(_counter, min_size=len(RECORD_FIELDS) - 3, max_size=len(RECORD_FIELDS) - 3)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.integers(-2, 60), st.integers(-1, 8), _counters, st.booleans()), min_size=1, max_size=12),
       st.sampled_from([None, 'day']))
def test_a_page_metered_as_columns_equals_each_record_metered_alone(records, group_by):
    """meter_records (columns; record by record when a page holds anything unclean) makes the very lines, anomalies
    and conversion notes that meter_record makes record by record."""
    start = _epoch(2026, 10, 1)
    bounds = edges(start, start + 3 * 86400, group_by, BERLIN)
    pages = []
    for number, (hour, hours, counters, clean) in enumerate(records):
        raw = {'$key': number, 'from': start + hour * 3600 - 1800, 'to': start + (hour + hours) * 3600 - 1800}
        for field, value in zip(RECORD_FIELDS[3:], counters):
            raw[field] = (value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 7) if clean else value
        pages.append(raw)
    one, many = Meter(bounds), Meter(bounds)
    notes_one, notes_many = Anomalies(), Anomalies()
    problems_one, problems_many = ConversionProblems(), ConversionProblems()
    owner = system_owner('east')
    for raw in pages:
        meter_record(one, owner, raw, notes_one, lambda value, field: to_int(value, field, problems_one))
    meter_records(many, owner, pages, notes_many, lambda value, field: to_int(value, field, problems_many))
    assert many.lines() == one.lines()
    assert many.hours(owner) == one.hours(owner)
    assert notes_many.messages() == notes_one.messages()
    assert problems_many == problems_one
