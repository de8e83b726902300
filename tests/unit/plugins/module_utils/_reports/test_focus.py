# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vergeio.billing contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The FOCUS export's pieces (module_utils/_reports/focus.py): option checks, value formats, streamed writers."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import csv
import gzip
import io
import json
import re
import tracemalloc
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ansible_collections.vergeio.billing.plugins.module_utils._rating import METRICS
from ansible_collections.vergeio.billing.plugins.module_utils._reports.focus import (
    COLUMN_NAMES, COLUMNS, decimal_text, export_settings, utc, write_csv,
)
from ansible_collections.vergeio.billing.plugins.module_utils._reports.request import ReportRequest

RATES = dict(core_hour=0.02, currency='EUR')
# FOCUS 1.2's ServiceCategory -> allowed ServiceSubcategory values used by VergeOS metrics (the specification's lists).
FOCUS_SUBCATEGORIES = {'Compute': {'Virtual Machines', 'Containers', 'Other (Compute)'},
                       'Storage': {'Block Storage', 'File Storage', 'Object Storage', 'Other (Storage)'},
                       'Networking': {'Network Connectivity', 'Network Infrastructure', 'Other (Networking)'}}
UNIT_FORMAT = r'^[A-Za-z][A-Za-z0-9]*( [A-Za-z][A-Za-z0-9]*)*-Hours$'


def settings_of(**options):
    options = dict(dict(month='2026-10', dest='/tmp/x', name='verge-east', rates=RATES), **options)
    request = ReportRequest.from_options(dict(options, formats=['json']), now=1790000000)
    return export_settings(options, request)


def test_defaults_follow_the_system_name():
    settings = settings_of()
    assert settings['account_id'] == settings['account_name'] == settings['provider'] == settings['issuer'] == settings['publisher'] == 'verge-east'
    assert (settings['charge_period'], settings['file_format'], settings['compression'], settings['currency']) == ('day', 'csv', 'gzip', 'EUR')
    assert settings_of(file_format='parquet')['compression'] == 'none'
    assert settings_of(billing_account_name='ACME (prod)')['account_id'] == 'ACME_prod'


@pytest.mark.parametrize('options, words', [
    (dict(billing_account_id='00042'), 'billing_account_id'),
    (dict(billing_account_id='1e5'), 'billing_account_id'),
    (dict(region_id='7'), 'region_id'),
    (dict(region_name='Frankfurt'), 'region_name needs region_id'),
    (dict(rates=dict(core_hour=1, currency='eur')), 'rates.currency'),
    (dict(rates=None), 'rates is required'),
    (dict(invoice_id='{account}-{nope}'), 'invoice_id'),
    (dict(invoice_id='{0}'), 'invoice_id'),
    (dict(charge_period='week'), 'charge_period'),
    (dict(file_format='parquet', compression='gzip'), 'compression'),
])
def test_bad_options_name_the_option(options, words):
    with pytest.raises(ValueError, match=words.replace('.', r'\.')):
        settings_of(**options)


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_decimal_text_is_the_same_float_without_an_exponent(number):
    text = decimal_text(number)
    assert 'e' not in text.lower() and float(text) == number
    assert Decimal(text) == Decimal(repr(number))


def test_times_are_utc_with_a_z():
    assert utc(1790805600) == '2026-09-30T22:00:00Z'


def test_the_metric_table_has_focus_values():
    for metric in METRICS:
        assert metric.subcategory in FOCUS_SUBCATEGORIES[metric.category]
        assert re.match(UNIT_FORMAT, metric.focus_unit), metric.focus_unit
    assert [metric.focus_unit for metric in METRICS if metric.name in ('ram', 'tier1')] == ['GiB-Hours', 'GiB-Hours']


def _rows(count):
    for number in range(count):
        row = dict.fromkeys(COLUMN_NAMES)
        row.update(BilledCost=number * 0.001, ChargeDescription='CPU cores, tenant "a,b" of system x', x_Unallocated=number % 2 == 0,
                   ChargePeriodStart=utc(number * 3600), PricingQuantity=number * 1e-7)
        yield [row[name] for name in COLUMN_NAMES]


def test_csv_is_rfc4180_gzip_without_name_or_time_and_reads_back():
    first, second = io.BytesIO(), io.BytesIO()
    assert write_csv(_rows(3), first, 'gzip') == 3
    write_csv(_rows(3), second, 'gzip')
    assert first.getvalue() == second.getvalue()  # same rows, same bytes (no mtime or file name in the gzip header)
    text = gzip.decompress(first.getvalue()).decode('utf-8')
    assert text.startswith(','.join(COLUMN_NAMES) + '\r\n')
    rows = list(csv.DictReader(io.StringIO(text, newline='')))
    assert [row['BilledCost'] for row in rows] == ['0.0', '0.001', '0.002']
    assert [row['PricingQuantity'] for row in rows] == ['0.0', '0.0000001', '0.0000002']  # no exponent
    assert [row['x_Unallocated'] for row in rows] == ['true', 'false', 'true']
    assert rows[0]['ChargeDescription'] == 'CPU cores, tenant "a,b" of system x' and rows[0]['SubAccountId'] == ''
    assert len(COLUMNS) == len(set(COLUMN_NAMES))


def test_csv_rows_are_streamed_not_held():
    sink = io.BytesIO()
    tracemalloc.start()
    try:
        write_csv(_rows(1), io.BytesIO(), 'gzip')
        tracemalloc.reset_peak()
        count = write_csv(_rows(100000), sink, 'gzip')
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == 100000
    # 100,000 rows are about 25 MB of CSV; the writer holds a row and gzip's buffers, the sink the compressed bytes
    assert peak < len(sink.getvalue()) + 4 * 1024 * 1024, (peak, len(sink.getvalue()))


def test_parquet_round_trip_keeps_types():
    pytest.importorskip('pyarrow')
    import pyarrow.parquet as pq  # pylint: disable=import-outside-toplevel
    from ansible_collections.vergeio.billing.plugins.module_utils._reports.focus import write_parquet  # pylint: disable=import-outside-toplevel
    sink = io.BytesIO()
    assert write_parquet(_rows(5), sink) == 5
    table = pq.read_table(io.BytesIO(sink.getvalue()))
    assert table.column_names == list(COLUMN_NAMES) and table.num_rows == 5
    assert table.column('BilledCost').to_pylist() == [0.0, 0.001, 0.002, 0.003, 0.004]
    stamp = table.schema.field('ChargePeriodStart').type
    assert stamp.tz == 'UTC' and [value.isoformat() for value in table.column('ChargePeriodStart').to_pylist()[:2]] == [
        '1970-01-01T00:00:00+00:00', '1970-01-01T01:00:00+00:00']  # Parquet keeps seconds as milliseconds
    assert json.dumps(table.column('x_Unallocated').to_pylist()) == '[true, false, true, false, true]'
