# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vergeio.billing contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Budgets and the month-end forecast against a brute force in fractions over the same samples."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from datetime import datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal, localcontext
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.vergeio.billing.plugins.module_utils._budget import (
    Budgets, budget_figures, forecast, merge_figures, parse_budgets, round_half_up, status, tenant_budgets,
)
from ansible_collections.vergeio.billing.plugins.module_utils._rating import Bill, Meter, edges, price, rate_card, system_owner, tenant_owner
from ansible_collections.vergeio.billing.plugins.module_utils._time import get_zone, month_range

BERLIN = get_zone('Europe/Berlin')
LORD_HOWE = get_zone('Australia/Lord_Howe')  # DST moves the clock by half an hour


def _epoch(*parts):
    return int(datetime(*parts, tzinfo=timezone.utc).timestamp())


def reference_round(value, precision):
    """Half up, by Decimal division at 80 digits (an implementation apart from round_half_up's integer one)."""
    with localcontext() as context:
        context.prec = 80
        quotient = Decimal(value.numerator) / Decimal(value.denominator)
        return quotient.quantize(Decimal(1).scaleb(-precision), rounding=ROUND_HALF_UP)


# ---- the option -----------------------------------------------------------------------------------------------------

def test_budgets_parse_to_decimals_by_name_or_key():
    budgets = parse_budgets({'system': 5000, 'tenants': {'acme': '1200.50', 12: 300.1, 'beta': 0}})
    assert budgets == Budgets(Decimal(5000), {'12': Decimal('300.1'), 'acme': Decimal('1200.50'), 'beta': Decimal(0)})
    assert parse_budgets(None) is None and parse_budgets({}) is None
    assert parse_budgets({'tenants': {'acme': 1}}).system is None


@pytest.mark.parametrize('value, message', [
    ([1, 2], 'budgets must be a dict'),
    ({'sytem': 5}, 'budgets: unknown key(s) sytem; accepted: system, tenants'),
    ({'system': 'lots'}, "budgets.system must be an amount per month"),
    ({'system': -1}, 'budgets.system must be a finite amount of 0 or more'),
    ({'system': float('nan')}, 'budgets.system must be a finite amount'),
    ({'system': 'Infinity'}, 'budgets.system must be a finite amount'),
    ({'system': True}, 'budgets.system must be an amount per month'),
    ({'tenants': [1]}, 'budgets.tenants must be a dict'),
    ({'tenants': {'acme': None}}, 'budgets.tenants.acme must be an amount per month'),
    ({'tenants': {'acme': '1e999x'}}, 'budgets.tenants.acme must be an amount per month'),
    ({'tenants': {' ': 5}}, 'budgets.tenants: '),
    ({'tenants': {'12': 5, 12: 6}}, "budgets.tenants: the tenant '12' is given twice"),
])
def test_bad_budgets_are_refused_naming_the_key(value, message):
    with pytest.raises(ValueError) as error:
        parse_budgets(value)
    assert message in str(error.value)


def test_tenant_budgets_match_names_first_then_keys():
    tenants = [(1, 'acme'), (2, 'beta'), (7, '12'), (12, 'gamma'), (30, 'tenant 30 (deleted)')]
    budgets = parse_budgets({'tenants': {'acme': 10, '12': 20, '2': 30, '30': 40, 'ghost': 5}})
    by_key, unmatched = tenant_budgets(budgets, tenants)
    # '12' is the name of the tenant with $key 7 (a name wins, as for the tenants selector); '30' a deleted tenant's $key
    assert by_key == {1: Decimal(10), 7: Decimal(20), 2: Decimal(30), 30: Decimal(40)}
    assert unmatched == ['ghost']
    with pytest.raises(ValueError, match=r"the tenant with \$key 1 is given twice \('1' and 'acme'\)"):
        tenant_budgets(parse_budgets({'tenants': {'acme': 1, '1': 2}}), tenants)
    with pytest.raises(ValueError, match=r"the name 'twin' is shared by the tenants with \$key 3, 4; give the \$key"):
        tenant_budgets(parse_budgets({'tenants': {'twin': 1}}), [(3, 'twin'), (4, 'twin')])
    assert tenant_budgets(None, tenants) == ({}, [])


# ---- the arithmetic -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize('month, zone, hours', [
    ('2026-10', BERLIN, 745), ('2026-03', BERLIN, 743), ('2026-10', None, 744), ('2028-02', None, 696),
    ('2026-10', LORD_HOWE, Fraction(1487, 2)),  # 743.5 hours: the clock goes forward by 30 minutes on 4 October
])
def test_the_hours_of_a_month_are_its_real_hours_in_the_zone(month, zone, hours):
    _label, start, last = month_range(month, zone)
    figures = status(Decimal('10'), 10.0, 3600, month, zone, now=last + 1, precision=2)
    assert figures['hours_in_month'] == float(hours) == (last + 1 - start) / 3600


def test_round_half_up_is_exact():
    assert round_half_up(Fraction(1005, 1000), 2) == Decimal('1.01')
    assert round_half_up(Fraction(-1005, 1000), 2) == Decimal('-1.01')
    assert round_half_up(Fraction(10049999, 10000000), 2) == Decimal('1.00')
    assert str(round_half_up(Fraction(5, 2), 0)) == '3'
    assert str(round_half_up(Fraction(0), 3)) == '0.000'


@settings(max_examples=300, deadline=None)
@given(exact=st.floats(min_value=0, max_value=1e9, allow_nan=False, allow_infinity=False),
       measured=st.integers(min_value=1, max_value=745 * 3600), precision=st.integers(min_value=0, max_value=8))
def test_forecast_is_the_exact_extrapolation_rounded_half_up(exact, measured, precision):
    month = 745 * 3600
    expected = reference_round(Fraction(Decimal(repr(exact))) * month / measured, precision)
    assert forecast(exact, measured, month, precision) == expected
    assert forecast(exact, 0, month, precision) is None


PRICES = st.decimals(min_value=0, max_value=5, places=4)
LEVELS = st.integers(min_value=0, max_value=400)


@settings(max_examples=150, deadline=None)
@given(samples=st.lists(st.tuples(st.integers(min_value=60, max_value=3 * 3600), LEVELS, LEVELS), min_size=1, max_size=40),
       offset=st.integers(min_value=-5 * 3600, max_value=20 * 86400), gap=st.integers(min_value=0, max_value=7200),
       core=PRICES, ram=PRICES, budget=st.decimals(min_value=0, max_value=20000, places=2))
def test_the_forecast_of_metered_samples_equals_a_brute_force_in_fractions(samples, offset, gap, core, ram, budget):
    """A tenant's samples in October 2026 (Berlin, 745 hours) metered by the engine, priced and billed; the run is
    at the end of the last sample. The brute force walks the same samples in fractions: each sample's part inside
    the month, its cost, the seconds measured; forecast = cost / measured x 745 h, rounded half up."""
    _label, start, last = month_range('2026-10', BERLIN)
    end = last + 1
    card = rate_card({'core_hour': str(core), 'ram_gb_hour': str(ram), 'currency': 'EUR'})
    owner = tenant_owner(5, 'acme')
    meter = Meter(edges(start, end, 'day', BERLIN))
    cost, measured = Fraction(0), 0
    begin = start + offset
    for seconds, cores, ram_gb in samples:
        meter.add(owner, begin, begin + seconds, {'cores': cores, 'ram': ram_gb})
        inside = max(0, min(begin + seconds, end) - max(begin, start))
        measured += inside
        cost += Fraction(inside, 3600) * (cores * Fraction(str(core)) + ram_gb * Fraction(str(ram)))
        begin += seconds + gap
    now = min(begin, end - 1)
    bill = Bill(owner, price(meter.lines(), card), card)
    figures = status(bill.total, bill.exact, meter.hours(owner) * 3600, '2026-10', BERLIN, now, card.precision, budget, 'EUR')
    assert figures['hours_measured'] == measured / 3600
    assert figures['hours_in_month'] == 745
    if not measured:
        assert figures['forecast'] is None and not figures['forecast_over_budget']
        return
    exact_forecast = cost * 745 * 3600 / measured
    shown = Decimal(figures['forecast'])
    # The engine's amounts are floats (exact to about 1e-15 relative); away from a rounding boundary the forecast is the
    # brute force's, at a boundary it may be either neighbour (never further than half a minor unit).
    assert abs(Fraction(shown) - exact_forecast) <= Fraction(1, 200) + exact_forecast / 10 ** 12
    boundary = (exact_forecast * 100) - int(exact_forecast * 100)
    if abs(boundary - Fraction(1, 2)) > Fraction(1, 10 ** 6):
        assert shown == reference_round(exact_forecast, 2)
    assert figures['month_to_date'] == str(bill.total)
    assert figures['over_budget'] == (bill.total > budget)
    assert figures['forecast_over_budget'] == (shown > budget)
    assert figures['budget'] == str(budget) and not figures['complete']


def test_a_month_that_is_over_is_not_extrapolated_and_a_future_one_has_no_forecast():
    _label, start, last = month_range('2026-10', BERLIN)
    # the shown month-to-date is the sum of the rounded lines (99.99 here), which may differ from the exact 99.996 rounded
    over = status(Decimal('99.99'), 99.996, 700 * 3600, '2026-10', BERLIN, now=last + 1, precision=2, budget=Decimal('99.99'))
    assert over['complete'] and over['forecast'] == '99.99' and not over['over_budget'] and not over['forecast_over_budget']
    running = status(Decimal('99.99'), 99.994, 700 * 3600, '2026-10', BERLIN, now=last, precision=2, budget=Decimal('100'))
    assert running['forecast'] == str(reference_round(Fraction(Decimal('99.994')) * 745 / 700, 2)) == '106.42'
    assert running['forecast_over_budget'] and not running['over_budget']
    future = status(Decimal(0), 0.0, 0, '2026-10', BERLIN, now=start - 10, precision=2, budget=Decimal(5))
    assert future['forecast'] is None and not future['forecast_over_budget'] and future['hours_measured'] == 0
    none = status(Decimal('5.00'), 5.0, 3600, '2026-10', BERLIN, now=last, precision=2)
    assert none['budget'] is None and not none['over_budget'] and not none['forecast_over_budget']


def test_over_budget_means_above_not_equal():
    _label, start, last = month_range('2026-10', None)
    now = start + 31 * 86400 - 1
    equal = status(Decimal('100.00'), 100.0, 744 * 3600, '2026-10', None, now, 2, Decimal('100'))
    assert not equal['over_budget'] and not equal['forecast_over_budget'] and equal['forecast'] == '100.00'
    above = status(Decimal('100.01'), 100.01, 744 * 3600, '2026-10', None, now, 2, Decimal('100'))
    assert above['over_budget'] and above['forecast_over_budget']
    assert datetime.fromtimestamp(now, timezone.utc) + timedelta(seconds=1) == datetime(2026, 11, 1, tzinfo=timezone.utc)


def test_budget_figures_flag_every_owner_over_or_forecast_over_and_warn_about_unmatched_entries():
    _label, start, last = month_range('2026-10', BERLIN)
    card = rate_card({'core_hour': 0.5, 'currency': 'EUR'})
    meter = Meter(edges(start, last + 1))
    east, acme, beta, gone = system_owner('east'), tenant_owner(1, 'acme'), tenant_owner(2, 'beta'), tenant_owner(9, '', deleted=True)
    now = start + 100 * 3600  # 100 hours into the month
    for owner, cores in ((east, 10), (acme, 4), (beta, 1), (gone, 2)):
        meter.add(owner, start, now, {'cores': cores})
    priced = price(meter.lines(), card)
    bills = dict((owner, Bill(owner, priced, card)) for owner in (east, acme, beta, gone))
    budgets = parse_budgets({'system': 4000, 'tenants': {'acme': 1000, '2': 200, '9': 150, 'ghost': 1}})
    figures, warnings = budget_figures(budgets, '2026-10', BERLIN, now, card, system=(bills[east], meter.hours(east) * 3600),
                                       tenants=[(bills[owner], meter.hours(owner) * 3600) for owner in (acme, beta, gone)])
    # east: 500.00 so far, 10 x 0.5 x 745 = 3725.00 forecast (under 4000); acme: 200.00, forecast 1490.00 (over 1000);
    # beta: 50.00, forecast 372.50 (over 200); the deleted tenant 9: 100.00, forecast 745.00 (over 150)
    assert (figures['system']['month_to_date'], figures['system']['forecast']) == ('500.00', '3725.00')
    assert not figures['system']['forecast_over_budget']
    assert [(item['key'], item['name'], item['month_to_date'], item['forecast'], item['budget']) for item in figures['tenants']] == [
        (1, 'acme', '200.00', '1490.00', '1000'), (2, 'beta', '50.00', '372.50', '200'), (9, 'tenant 9 (deleted)', '100.00', '745.00', '150')]
    assert figures['flagged'] == ['acme', 'beta', 'tenant 9 (deleted)']
    assert figures['forecast_over_budget'] and not figures['over_budget']
    assert warnings == ["budgets.tenants: 'ghost' matches no tenant of this report (a tenant name or $key); that budget is not watched"]
    assert figures['system']['name'] == 'east'
    # the system report alone (budgets.tenants not matched: no warning) and the tenant reports alone, merged
    alone, none = budget_figures(budgets, '2026-10', BERLIN, now, card, system=(bills[east], meter.hours(east) * 3600))
    assert alone['system']['budget'] == '4000' and alone['flagged'] == [] and alone['tenants'] == [] and none == []
    tenants, _warned = budget_figures(budgets, '2026-10', BERLIN, now, card, tenants=[(bills[acme], meter.hours(acme) * 3600)])
    assert tenants['system'] is None and tenants['flagged'] == ['acme']
    merged = merge_figures(alone, tenants)
    assert merged['system'] == alone['system'] and merged['tenants'] == tenants['tenants'] and merged['flagged'] == ['acme']
    assert merged['forecast_over_budget'] and merge_figures(None, tenants) is tenants and merge_figures(alone, None) is alone
    unwatched, _warned = budget_figures(None, '2026-10', BERLIN, now, card, system=(bills[east], meter.hours(east) * 3600))
    assert unwatched['system']['budget'] is None and not unwatched['forecast_over_budget']
