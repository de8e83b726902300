# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vergeio.billing contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The billing_csv filter, read back with Python's csv module: every cell must give back the record's value."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import csv
import io

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ansible.errors import AnsibleFilterError

from ansible_collections.vergeio.billing.plugins.filter.billing_csv import FilterModule, billing_csv
from ansible_collections.vergeio.billing.plugins.module_utils._records import RAW_FIELDS, convert_record
from ansible_collections.vergeio.billing.plugins.module_utils._summary import record_cost, record_figures, validate_rates

GIB = 1024 ** 3
COST_COLUMNS = ['cost_cpu', 'cost_ram', 'cost_tier0', 'cost_tier1', 'cost_tier2', 'cost_tier3', 'cost_tier4', 'cost_tier5',
                'cost_storage', 'cost_gpu', 'cost_vgpu', 'cost_total', 'currency']
RATES = validate_rates(dict(core_hour=0.02, ram_gb_hour=0.01, tier1_gb_hour=0.0001, gpu_hour=1.5, currency='EUR'))


def raw_record(key, created, **fields):
    raw = {'$key': key, 'created': created, 'from': created - 3604, 'to': created - 4, 'sent': 0, 'description': 'hourly',
           'used_cores': 10 + key, 'total_cores': 64, 'used_ram': 1536 * key, 'total_ram': 262144,
           'tier_1_used': GIB * key + 123, 'tier_1_total': 100 * GIB, 'gpus': key % 3, 'gpus_total': 4}
    raw.update(fields)
    return raw


def with_cost(raw):
    record = convert_record(raw)
    record['cost'] = record_cost(record_figures(raw), RATES)
    return record


def parse(text):
    assert text.endswith('\r\n')
    return list(csv.reader(io.StringIO(text, newline='')))


def assert_cell(cell, value, column):
    """A cell read back gives the value: numbers exactly (floats round-trip), null as an empty cell."""
    if value is None:
        assert cell == '', column
    elif isinstance(value, bool):
        assert cell == str(value).lower(), column
    elif isinstance(value, int):
        assert int(cell) == value, column
    elif isinstance(value, float):
        assert ',' not in cell and float(cell) == value, column
    else:
        assert cell == value, column


def test_registered_name():
    assert FilterModule().filters() == {'billing_csv': billing_csv}


def test_header_is_the_record_keys_then_the_cost():
    records = [with_cost(raw_record(1, 1790816404)), with_cost(raw_record(2, 1790820004))]
    rows = parse(billing_csv(records))
    expected = [name for name in records[0] if name != 'cost'] + COST_COLUMNS
    assert rows[0] == expected
    assert len(rows) == 1 + len(records)


def test_cells_give_back_the_values_and_the_cost():
    records = [with_cost(raw_record(key, 1790812801 + 3600 * key)) for key in range(1, 25)]
    rows = parse(billing_csv(records))
    header = rows[0]
    for record, row in zip(records, rows[1:]):
        cells = dict(zip(header, row))
        for name, value in record.items():
            if name != 'cost':
                assert_cell(cells[name], value, name)
        hours = 3600 / 3600.0
        assert float(cells['cost_cpu']) == pytest.approx(record['used_cores'] * 0.02 * hours, rel=1e-12)
        assert float(cells['cost_ram']) == pytest.approx(record['used_ram'] / 1024 * 0.01 * hours, rel=1e-12)
        assert float(cells['cost_tier1']) == pytest.approx(record['tier1_used'] / GIB * 0.0001 * hours, rel=1e-12)
        assert float(cells['cost_gpu']) == pytest.approx(record['gpus_used'] * 1.5 * hours, rel=1e-12)
        assert float(cells['cost_total']) == pytest.approx(
            float(cells['cost_cpu']) + float(cells['cost_ram']) + float(cells['cost_tier1']) + float(cells['cost_gpu']), rel=1e-12)
        assert cells['currency'] == 'EUR'
        assert cells['created'].endswith('+00:00') and cells['created'][10] == 'T'


def test_without_rates_there_are_no_cost_columns():
    records = [convert_record(raw_record(1, 1790816404))]
    header = parse(billing_csv(records))[0]
    assert not set(COST_COLUMNS) & set(header)
    assert header == list(records[0])


def test_no_records_gives_the_header_only():
    rows = parse(billing_csv([]))
    assert len(rows) == 1 and rows[0][0] == 'key'


@pytest.mark.parametrize('description, cell', [
    ('=HYPERLINK("http://evil.example","x")', '\'=HYPERLINK("http://evil.example","x")'),
    ('+1', "'+1"),
    ('-2+3', "'-2+3"),
    ('@SUM(A1)', "'@SUM(A1)"),
    ('Billing, "quoted"\nsecond line', 'Billing, "quoted"\nsecond line'),
    ('Rechnung März €', 'Rechnung März €'),
])
def test_text_is_quoted_and_formulas_are_defused(description, cell):
    rows = parse(billing_csv([convert_record(raw_record(1, 1790816404, description=description))]))
    assert dict(zip(rows[0], rows[1]))['description'] == cell


def test_nulls_and_strings_from_the_api():
    raw = raw_record(7, 1790816404, used_cores=None, sent=None, description=None, tier_1_used='2147483648')
    raw['created'] = '1790816404'
    rows = parse(billing_csv([convert_record(raw)]))
    cells = dict(zip(rows[0], rows[1]))
    assert cells['used_cores'] == '0' and cells['sent'] == '' and cells['description'] == ''
    assert cells['tier1_used_gb'] == '2.0' and cells['created_epoch'] == '1790816404'


def test_order_is_kept():
    records = [convert_record(raw_record(key, 1790812801 + 3600 * key)) for key in (3, 1, 2)]
    rows = parse(billing_csv(records))
    assert [row[0] for row in rows[1:]] == ['3', '1', '2']


json_number = st.one_of(st.none(), st.integers(0, 2 ** 62), st.floats(0, 1e15, allow_nan=False),
                        st.integers(0, 10 ** 6).map(str))


@settings(max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.fixed_dictionaries({}, optional=dict((field, json_number) for field in RAW_FIELDS if field != 'description')),
                max_size=8))
def test_any_record_round_trips(raws):
    records = [with_cost(raw) for raw in raws]
    rows = parse(billing_csv(records))
    assert len(rows) == 1 + len(records)
    for record, row in zip(records, rows[1:]):
        assert len(row) == len(rows[0])
        cells = dict(zip(rows[0], row))
        for name, value in record.items():
            if name != 'cost':
                assert_cell(cells[name], value, name)
        assert float(cells['cost_total']) == record['cost']['total']


def test_bad_input():
    with pytest.raises(AnsibleFilterError, match='list of billing records'):
        billing_csv({'records': []})
    with pytest.raises(AnsibleFilterError, match='dicts'):
        billing_csv(['not a record'])
