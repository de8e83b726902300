# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vergeio.billing contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The tenant reports' pure parts: the tenants option, the overview rows and totals (each the sum of the shown figures),
the reconciliation of tenants and Unallocated with the system, charge periods, the cost bars.

Figures are checked against references written here in exact arithmetic (Fraction, Decimal half up)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import math
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ansible_collections.vergeio.billing.plugins.module_utils._reports.request import tenant_selectors
from ansible_collections.vergeio.billing.plugins.module_utils._rating import (
    METRIC_NAMES, SYSTEM_METRICS, TIER_METRICS, Bill, UsageLine, price, rate_card, system_owner, tenant_owner,
)
from ansible_collections.vergeio.billing.plugins.module_utils._reports.tenant import (
    PARTS, bill_rows, capacity_of, charge_periods, cost_bars, overview_rows, quantities, reconcile,
)
from ansible_collections.vergeio.billing.plugins.module_utils._time import get_zone


@pytest.mark.parametrize('value, expected', [
    (True, []), ('yes', []), ('all', []), ('On', []), ('y', []), ('t', []), (' TRUE ', []),
    (False, None), (None, None), ('false', None), ('', None), ('No', None), ('off', None), ('n', None), ('f', None),
    ('acme', ['acme']), (['acme', 5], ['acme', '5']), ('1', ['1']), ('0', ['0']), (['all'], ['all']), (['yes'], ['yes']),
])
def test_tenant_selectors(value, expected):
    assert tenant_selectors(value) == expected


@pytest.mark.parametrize('value', [[True], [''], [], {'a': 1}, 3.5, [None]])
def test_bad_tenant_selectors(value):
    with pytest.raises(ValueError, match='tenants must be true'):
        tenant_selectors(value)


GIB = 1024 ** 3
START = 1790805600  # 2026-10-01T00:00:00+02:00
HOUR = 3600
RATE_KEY = dict(cores='core_hour', ram='ram_gb_hour', gpus='gpu_hour', vgpus='vgpu_hour', ips='ip_hour')
RATE_KEY.update((metric, metric + '_gb_hour') for metric in TIER_METRICS)


def half_up(value, places):
    """Decimal half up of an exact value (the reference of the shown amounts)."""
    return Decimal(str(value)).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


quantity = st.floats(0, 1e6, allow_nan=False, allow_infinity=False)
prices = st.fixed_dictionaries(dict((RATE_KEY[m], st.sampled_from([0, 0.01, 0.02, 0.0001, 0.005, 1.5, 0.333])) for m in METRIC_NAMES))


@st.composite
def tenant_sets(draw):
    """(card, [tenant dicts like run_tenant_reports builds]) with bills of random usage lines."""
    card = rate_card(dict(draw(prices), currency='EUR', precision=draw(st.sampled_from([0, 2, 3]))))
    tenants = []
    for key in range(draw(st.integers(0, 6))):
        owner = tenant_owner(key + 1, draw(st.sampled_from(['acme', 'b', 'zed', 'x'])), deleted=draw(st.booleans()))
        lines = [UsageLine(owner, metric, START, START + 745 * HOUR, draw(quantity)) for metric in METRIC_NAMES if draw(st.booleans())]
        tenants.append(dict(key=owner.key, name=owner.name, state=owner.state, sample_count=draw(st.integers(0, 800)),
                            hours=745.0, quantities=quantities(lines), bill=Bill(owner, price(lines, card), card), lines=lines))
    return card, tenants


@settings(max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(tenant_sets())
def test_overview_rows_show_the_rounded_bills_and_totals_are_the_sums_of_the_shown(data):
    card, tenants = data
    rows, totals = overview_rows(tenants, card)
    assert [(row['tenant'], row['tenant_key']) for row in rows] == sorted((t['name'], t['key']) for t in tenants)
    by_key = dict((t['key'], t) for t in tenants)
    for row in rows:
        tenant = by_key[row['tenant_key']]
        exact = dict((metric, Fraction(0)) for metric in METRIC_NAMES)
        for line in tenant['lines']:
            exact[line.metric] += Fraction(line.quantity) * Fraction(card[RATE_KEY[line.metric]])
        shown_total = Decimal(0)
        for part, _label, metrics in PARTS:
            # a part shows the sum of its metrics' rounded lines (storage: the tiers rounded one by one)
            expected = sum((half_up(float(exact[m]), card.precision) for m in metrics if any(l.metric == m for l in tenant['lines'])), Decimal(0))
            assert row['cost_' + part] == expected, (part, row['cost_' + part], expected)
            shown_total += row['cost_' + part]
            assert row['quantity_' + part] == sum((half_up(tenant['quantities'][m], 2) for m in metrics), Decimal(0))
        assert row['cost_total'] == shown_total == tenant['bill'].total
    for part, _label, _metrics in PARTS:
        assert totals['cost_' + part] == sum((row['cost_' + part] for row in rows), Decimal(0))
        assert totals['quantity_' + part] == sum((row['quantity_' + part] for row in rows), Decimal(0))
    assert totals['cost_total'] == sum((row['cost_total'] for row in rows), Decimal(0))
    assert totals['cost_total'] == sum((totals['cost_' + part] for part, _l, _m in PARTS), Decimal(0))
    assert totals['sample_count'] == sum(t['sample_count'] for t in tenants)


@settings(max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(tenant_sets(), st.lists(quantity, min_size=len(SYSTEM_METRICS), max_size=len(SYSTEM_METRICS)),
       st.lists(st.integers(0, 5000), min_size=len(SYSTEM_METRICS), max_size=len(SYSTEM_METRICS)))
def test_tenants_plus_unallocated_are_the_system_per_metric(data, system_quantities, capacities):
    card, tenants = data
    owner = system_owner('east')
    end = START + 745 * HOUR
    system_lines = [UsageLine(owner, metric, START, end, value) for metric, value in zip(SYSTEM_METRICS, system_quantities)]
    tenant_lines = [line for tenant in tenants for line in tenant['lines']]
    capacity = dict(zip(SYSTEM_METRICS, capacities))
    rows, totals, negative = reconcile(system_lines, tenant_lines, capacity, 745.0, card, [t['bill'] for t in tenants], 'east')
    assert [row['metric'] for row in rows] == list(METRIC_NAMES)
    for row in rows:
        metric = row['metric']
        tenants_exact = sum((Fraction(l.quantity) for l in tenant_lines if l.metric == metric), Fraction(0))
        assert math.isclose(row['exact']['tenants'], float(tenants_exact), rel_tol=1e-12, abs_tol=1e-9)
        shown_tenants = sum((l.amount for t in tenants for l in t['bill'].lines if l.metric == metric), Decimal(0))
        assert row['shown']['tenants_cost'] == shown_tenants
        assert row['shown']['tenants'] == sum((half_up(t['quantities'][metric], 2) for t in tenants), Decimal(0))
        if metric == 'ips':  # billing records count no IP addresses: no system figure, no Unallocated
            assert not row['system'] and 'system' not in row['shown'] and 'unallocated_cost' not in row['shown']
            continue
        system = Fraction(system_quantities[SYSTEM_METRICS.index(metric)])
        assert math.isclose(row['exact']['unallocated'], float(system - tenants_exact), rel_tol=1e-9, abs_tol=1e-6)
        assert row['shown']['tenants'] + row['shown']['unallocated'] == row['shown']['system'] == half_up(float(system), 2)
        assert row['shown']['system_cost'] == half_up(float(system * Fraction(card[RATE_KEY[metric]])), card.precision)
        assert row['shown']['tenants_cost'] + row['shown']['unallocated_cost'] == row['shown']['system_cost']
        assert row['shown']['capacity'] == half_up(capacity[metric] * 745, 2)
        # negative: below -1e-9 x max(system, 1) (float noise is no finding); not asked within a hair of that bound
        bound = -Fraction(1, 10 ** 9) * max(system, 1)
        if abs((system - tenants_exact) - bound) > abs(bound) / 10 ** 6:
            assert (row['label'] in negative) == (system - tenants_exact < bound)
    for column in ('capacity_cost', 'system_cost', 'tenants_cost', 'unallocated_cost'):
        assert totals[column] == sum((row['shown'][column] for row in rows if column in row['shown']), Decimal(0))


def test_a_negative_unallocated_is_kept_and_named():
    card = rate_card(dict(core_hour=0.02, currency='EUR'))
    tenant = tenant_owner(4, 'acme')
    tenant_lines = [UsageLine(tenant, 'cores', START, START + HOUR, 10.0)]
    system_lines = [UsageLine(system_owner('east'), 'cores', START, START + HOUR, 4.0)]
    bill = Bill(tenant, price(tenant_lines, card), card)
    rows, totals, negative = reconcile(system_lines, tenant_lines, {'cores': 8}, 1.0, card, [bill], 'east')
    cores = rows[0]
    assert negative == ['CPU cores']
    assert cores['exact']['unallocated'] == -6.0 and cores['shown']['unallocated'] == Decimal('-6.00')
    assert cores['shown']['unallocated_cost'] == Decimal('-0.12') and totals['unallocated_cost'] == Decimal('-0.12')


def test_charge_periods_split_the_lines_at_each_local_day():
    card = rate_card(dict(core_hour=0.5, ip_hour=0.25, currency='EUR'))
    zone = get_zone('Europe/Berlin')
    owner = tenant_owner(1, 'acme')
    bounds = [START, START + 24 * HOUR, START + 48 * HOUR]
    lines = [UsageLine(owner, 'cores', bounds[0], bounds[1], 48.0), UsageLine(owner, 'ips', bounds[0], bounds[1], 24.0),
             UsageLine(owner, 'cores', bounds[1], bounds[2], 12.005)]
    rows = charge_periods(bounds, 'day', zone, lines, price(lines, card), {0: [24 * HOUR], 1: [12 * HOUR]}, card.precision)
    assert [row['period'] for row in rows] == ['2026-10-01', '2026-10-02']
    assert rows[0]['start'] == '2026-10-01T00:00:00+02:00' and rows[1]['end'] == '2026-10-03T00:00:00+02:00'
    assert rows[0]['hours'] == 24 and rows[1]['hours'] == 12
    assert rows[0]['quantities']['cpu'] == 48 and rows[0]['quantities']['ip'] == 24 and rows[1]['quantities']['cpu'] == 12.005
    assert rows[0]['amount'] == Decimal('30.00') and rows[1]['amount'] == Decimal('6.00')  # 6.0025 rounds half up to 6.00


def test_bill_rows_leave_out_only_lines_without_quantity():
    card = rate_card(dict(core_hour=0.02, currency='EUR'))
    owner = tenant_owner(1, 'acme')
    lines = [UsageLine(owner, 'cores', START, START + HOUR, 3.0), UsageLine(owner, 'ram', START, START + HOUR, 0.0),
             UsageLine(owner, 'ips', START, START + HOUR, 2.0)]
    bill = Bill(owner, price(lines, card), card)
    shown = bill_rows(bill)
    assert [line.metric for line in shown] == ['cores', 'ips']
    assert [line.quantity_unit for line in shown] == ['core-hours', 'IP-hours']
    assert sum((line.amount for line in shown), Decimal(0)) == bill.total == Decimal('0.06')


def test_capacity_of_the_newest_record():
    raw = {'total_cores': 64, 'total_ram': 262144, 'tier_1_total': 10 * GIB, 'gpus_total': '2', 'vgpus_total': None}
    capacity = capacity_of(raw)
    assert capacity['cores'] == 64 and capacity['ram'] == 256.0 and capacity['tier1'] == 10.0 and capacity['tier0'] == 0
    assert capacity['gpus'] == 2 and capacity['vgpus'] == 0
    assert capacity_of(None) == {} and capacity_of({'total_cores': -8})['cores'] == 0


def test_cost_bars_scale_to_the_largest():
    bars = cost_bars([('a', Decimal('10.00')), ('b', Decimal('40.00')), ('c', Decimal('0.00'))], 'EUR')
    assert [item['name'] for item in bars['bars']] == ['b', 'a', 'c']
    assert bars['bars'][0]['width'] == 960 - 220 - 120 and math.isclose(bars['bars'][1]['width'], (960 - 340) / 4)
    assert bars['bars'][2]['width'] == 0 and 'EUR' in bars['title']
    assert cost_bars([('z', 0.0)], '')['bars'][0]['width'] == 0
    assert cost_bars([('neg', Decimal('-5')), ('pos', Decimal('5'))], '')['bars'][1]['width'] == 0


def test_unallocated_takes_off_tenants_in_a_charge_period_without_a_system_line():
    """A day without billing records has no system line; the tenants' usage of that day still comes off."""
    owner = tenant_owner(1, 'acme')
    day = 24 * HOUR
    system_lines = [UsageLine(system_owner('east'), 'cores', START, START + day, 48.0)]
    tenant_lines = [UsageLine(owner, 'cores', START, START + day, 24.0), UsageLine(owner, 'cores', START + day, START + 2 * day, 30.0)]
    rows, _totals, negative = reconcile(system_lines, tenant_lines, {}, 48.0, None, [], 'east')
    cores = rows[0]
    assert cores['exact']['system'] == 48 and cores['exact']['tenants'] == 54 and cores['exact']['unallocated'] == -6
    assert cores['shown']['unallocated'] == Decimal('-6.00') and negative == ['CPU cores']
    ram = rows[1]
    assert ram['exact']['unallocated'] == 0 and ram['shown']['system'] == Decimal('0.00')
