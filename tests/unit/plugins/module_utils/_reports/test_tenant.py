# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vergeio.billing contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The tenant reports' pure parts: the tenants option, the overview rows and totals, the cost bars."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import math
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.vergeio.billing.plugins.module_utils._reports.request import tenant_selectors
from ansible_collections.vergeio.billing.plugins.module_utils._reports.tenant import (
    COST_PARTS, OVERVIEW_FIGURES, cost_bars, cost_rows, overview_rows,
)


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


def summary_of(draw_values):
    summary = dict(sample_count=draw_values[0], hours=draw_values[1])
    for index, figure in enumerate(OVERVIEW_FIGURES):
        summary['twa_' + figure] = draw_values[2 + index]
    return summary


@settings(max_examples=100, deadline=None, database=None)
@given(st.lists(st.tuples(st.integers(0, 1000), st.floats(0, 1e4), st.lists(st.floats(0, 1e6), min_size=17, max_size=17)),
                min_size=0, max_size=8), st.booleans())
def test_overview_totals_are_the_sums(tenants, with_cost):
    """Each total is the exactly rounded sum of its column (Fraction reference); rows sorted by name then key."""
    keys = list(range(len(tenants)))
    names = ['t%d' % (len(tenants) - key) for key in keys]
    summaries = {}
    for key, (count, hours, values) in zip(keys, tenants):
        summary = summary_of([count, hours] + values[:len(OVERVIEW_FIGURES)])
        if with_cost:
            summary['cost'] = dict(zip(COST_PARTS, values[len(OVERVIEW_FIGURES):]))
        summaries[key] = summary
    rows, totals = overview_rows(list(zip(keys, names)), summaries)
    assert [row['tenant'] for row in rows] == sorted(names)
    assert totals['sample_count'] == sum(count for count, _hours, _values in tenants)
    columns = ['hours'] + ['twa_' + f for f in OVERVIEW_FIGURES] + (['cost_' + p for p in COST_PARTS] if with_cost and tenants else [])
    for column in columns:
        exact = sum((Fraction(row[column]) for row in rows), Fraction(0))
        assert totals[column] == float(exact), column
    assert ('cost_total' in totals) == (with_cost and bool(tenants))


def test_cost_bars_scale_to_the_largest():
    bars = cost_bars([('a', 10.0), ('b', 40.0), ('c', 0.0)], 'EUR')
    assert [item['name'] for item in bars['bars']] == ['b', 'a', 'c']
    assert bars['bars'][0]['width'] == 960 - 220 - 120 and math.isclose(bars['bars'][1]['width'], (960 - 340) / 4)
    assert bars['bars'][2]['width'] == 0 and 'EUR' in bars['title']
    assert cost_bars([('z', 0.0)], '')['bars'][0]['width'] == 0


def test_cost_rows_list_the_tiers_that_cost_something_and_what_each_part_bills():
    cost = dict(cpu=1.0, ram=2.0, storage=3.0, gpu=0.0, vgpu=0.0, ip=0.5, total=6.5, basis='used',
                tiers=dict(tier0=0.0, tier1=3.0, tier2=0.0, tier3=0.0, tier4=0.0, tier5=0.0))
    assert cost_rows(cost) == [
        ('CPU cores', 'cores used (core_count x total_cpu / 100)', 'core_hour', 1.0), ('RAM', 'RAM used, GB', 'ram_gb_hour', 2.0),
        ('Storage tier 1', 'tier 1 used, GB', 'tier1_gb_hour', 3.0), ('Storage (all tiers)', 'the tiers above', None, 3.0),
        ('GPUs', 'GPUs used', 'gpu_hour', 0.0), ('vGPUs', 'vGPUs used', 'vgpu_hour', 0.0), ('IP addresses', 'IP addresses', 'ip_hour', 0.5),
        ('Total', '', None, 6.5)]
    provisioned = cost_rows(dict(cost, basis='provisioned'))
    assert provisioned[0][1] == 'cores allocated' and provisioned[2][1] == 'tier 1 provisioned, GB'
