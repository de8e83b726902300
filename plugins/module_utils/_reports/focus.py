# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vergeio.billing contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""FOCUS 1.2 Cost and Usage exports: the rating engine's priced usage lines as FOCUS rows, in CSV or Parquet.

``run_export()`` is what ``verge_billing_export`` does:

1. The billing period of the request (``ReportRequest``; an open ``until`` ends at the last whole second before the
   task started) is cut into charge periods (``_rating.edges``: the zone's local days, or UTC hours).
2. The sources are read once (``_usage.Usage``): the system's billing records and, with tenants, the tenants'
   statistics history; the ``Meter`` prorates them into usage lines per owner, metric and charge period.
3. Without tenants, the rows are the system's lines. With tenants, they are each tenant's lines (its SubAccount)
   and, per metric the system measures, ``_rating.unallocated`` (the system's quantity minus the tenants'), with no
   SubAccount and ``x_Unallocated`` true; so the account's total is the system's total plus the tenants' IP
   addresses (billing records count no IP address), and nothing is counted twice.
4. ``_rating.price`` prices every line: PricingQuantity x unit price = the cost, exact (not rounded). List and
   contracted prices are the rate card's, so BilledCost = EffectiveCost = ListCost = ContractedCost.
5. Rows are streamed to ``DEST/data/BILLING_PERIOD=<label>/<account>.csv.gz`` (or ``.csv``, ``.parquet``), then
   the manifest ``DEST/metadata/BILLING_PERIOD=<label>/<account>-Manifest.json`` is written last. Files are
   placed through the files library (``files.place``: an identical file is left alone, a different one replaced
   atomically); the manifest keeps its ``generated_at`` when nothing else in it changed, so a rerun over unchanged
   data changes nothing. Each system writes only its own files: many systems (AWX job slices) share one DEST.

Nothing here knows Ansible: the module validates its options with ``export_settings`` and ``ReportRequest``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import csv
import gzip
import io
import json
import math
import os
import re
import shutil
import tempfile
import time
import traceback
from collections import OrderedDict
from decimal import Decimal

from ansible_collections.vergeio.billing.plugins.module_utils._client import VergeError
from ansible_collections.vergeio.billing.plugins.module_utils._rating import (
    METRIC, SYSTEM_METRICS, TENANT, UNALLOCATED, Meter, UsageLine, edges, price, system_owner, unallocated, unallocated_owner,
)
from ansible_collections.vergeio.billing.plugins.module_utils._reports.files import (
    OWNER_DIR, FileOwner, _claim, _prepare_dest, _read_claim, place, safe_name, sha256_of,
)
from ansible_collections.vergeio.billing.plugins.module_utils._tenants import HISTORY, TenantUsage
from ansible_collections.vergeio.billing.plugins.module_utils._usage import Usage
from ansible_collections.vergeio.billing.plugins.module_utils._version import COLLECTION_NAME, COLLECTION_VERSION

GENERATOR = 'vergeio.billing.verge_billing_export'
FOCUS_VERSION = '1.2'
DATASET = 'CostAndUsage'
CHARGE_PERIODS = ('day', 'hour')
FILE_FORMATS = ('csv', 'parquet')
COMPRESSIONS = ('gzip', 'none')
PAGE_SIZE = 10000
# Rows per Parquet row group (and per batch held in memory while writing).
BATCH = 20000

# The columns, in file order: the FOCUS 1.2 columns (alphabetical), then the provider's x_ columns. Kinds: String,
# Decimal, DateTime (UTC, YYYY-MM-DDTHH:mm:ssZ) and Boolean. Columns that never apply to a VergeOS provider but that
# focus-validator 2.2.1 asks for with the applicability criteria of docs/docsite/rst/finops.rst are written null.
COLUMNS = (
    ('BilledCost', 'Decimal'),
    ('BillingAccountId', 'String'),
    ('BillingAccountName', 'String'),
    ('BillingCurrency', 'String'),
    ('BillingPeriodEnd', 'DateTime'),
    ('BillingPeriodStart', 'DateTime'),
    ('ChargeCategory', 'String'),
    ('ChargeClass', 'String'),
    ('ChargeDescription', 'String'),
    ('ChargeFrequency', 'String'),
    ('ChargePeriodEnd', 'DateTime'),
    ('ChargePeriodStart', 'DateTime'),
    ('CommitmentDiscountStatus', 'String'),
    ('ConsumedQuantity', 'Decimal'),
    ('ConsumedUnit', 'String'),
    ('ContractedCost', 'Decimal'),
    ('ContractedUnitPrice', 'Decimal'),
    ('EffectiveCost', 'Decimal'),
    ('InvoiceId', 'String'),
    ('InvoiceIssuerName', 'String'),
    ('ListCost', 'Decimal'),
    ('ListUnitPrice', 'Decimal'),
    ('PricingCurrency', 'String'),
    ('PricingCurrencyContractedUnitPrice', 'Decimal'),
    ('PricingCurrencyEffectiveCost', 'Decimal'),
    ('PricingCurrencyListUnitPrice', 'Decimal'),
    ('PricingQuantity', 'Decimal'),
    ('PricingUnit', 'String'),
    ('ProviderName', 'String'),
    ('PublisherName', 'String'),
    ('RegionId', 'String'),
    ('RegionName', 'String'),
    ('ResourceId', 'String'),
    ('ResourceName', 'String'),
    ('ResourceType', 'String'),
    ('ServiceCategory', 'String'),
    ('ServiceName', 'String'),
    ('ServiceSubcategory', 'String'),
    ('SkuId', 'String'),
    ('SkuMeter', 'String'),
    ('SkuPriceDetails', 'String'),
    ('SkuPriceId', 'String'),
    ('SubAccountId', 'String'),
    ('SubAccountName', 'String'),
    ('SubAccountType', 'String'),
    ('x_Metric', 'String'),
    ('x_System', 'String'),
    ('x_TenantBasis', 'String'),
    ('x_TenantKey', 'Decimal'),
    ('x_TenantState', 'String'),
    ('x_Unallocated', 'Boolean'),
)
COLUMN_NAMES = tuple(name for name, _kind in COLUMNS)
INVOICE_FIELDS = ('account', 'sub_account', 'period')
DEFAULT_INVOICE_ID = '{sub_account}-{period}'
SUB_ACCOUNT_TYPE = 'Tenant'
EXTENSIONS = dict(csv='.csv', parquet='.parquet')
# What one export may leave in a partition for one account: any other one is an older run's in another format.
DATA_SUFFIXES = ('.csv', '.csv.gz', '.parquet')
_NUMBER = re.compile(r'^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$')


# ---- options --------------------------------------------------------------------------------------------------------

def _identifier(value, option):
    text = '' if value is None else str(value).strip()
    if not text:
        raise ValueError('%s must not be empty' % option)
    if _NUMBER.match(text):
        raise ValueError('%s must not read as a number (FOCUS identifiers are strings, and a CSV reader types a column of '
                         'numbers as numbers), got %r: add a prefix, like "acct-%s"' % (option, value, text))
    return text


def export_settings(options, request):
    """The export's own options, checked (ValueError naming the option); ``request``: the ReportRequest of the same
    options (its name is the system's, its rate card required here)."""
    if request.rates is None:
        raise ValueError('rates is required: a FOCUS export is about cost (give a rate card with a currency, like '
                         '{core_hour: 0.02, ram_gb_hour: 0.01, currency: EUR})')
    currency = currency_code(request.rates)
    name = request.name
    charge_period = options.get('charge_period') or 'day'
    if charge_period not in CHARGE_PERIODS:
        raise ValueError('charge_period must be one of %s, got %r' % (', '.join(CHARGE_PERIODS), charge_period))
    file_format = options.get('file_format') or 'csv'
    if file_format not in FILE_FORMATS:
        raise ValueError('file_format must be one of %s, got %r' % (', '.join(FILE_FORMATS), file_format))
    compression = options.get('compression') or ('gzip' if file_format == 'csv' else 'none')
    if compression not in COMPRESSIONS:
        raise ValueError('compression must be one of %s, got %r' % (', '.join(COMPRESSIONS), compression))
    if file_format == 'parquet' and compression != 'none':
        raise ValueError('compression: %s applies to CSV files; Parquet files compress their own columns (give compression: none '
                         'or leave it out)' % compression)
    account_name = options.get('billing_account_name') or name
    account_id = _identifier(options.get('billing_account_id') or safe_name(account_name), 'billing_account_id')
    provider = options.get('provider_name') or account_name
    invoice = options.get('invoice_id') or DEFAULT_INVOICE_ID
    try:
        invoice.format(**dict((field, 'x') for field in INVOICE_FIELDS))
    except (KeyError, IndexError, ValueError) as exc:
        raise ValueError('invoice_id must be a template with only {account}, {sub_account} and {period} (braces doubled to '
                         'write one), got %r: %s' % (invoice, exc))
    region_id, region_name = options.get('region_id'), options.get('region_name')
    if region_name and not region_id:
        raise ValueError('region_name needs region_id (the identifier of the region)')
    return dict(
        currency=currency, charge_period=charge_period, file_format=file_format, compression=compression, account_id=account_id,
        account_name=account_name, provider=provider, issuer=options.get('invoice_issuer_name') or provider,
        publisher=options.get('publisher_name') or provider, invoice=invoice,
        region_id=_identifier(region_id, 'region_id') if region_id else None, region_name=region_name or region_id or None,
    )


def currency_code(card):
    """The rate card's currency as FOCUS wants it: an ISO 4217 code (three capital letters)."""
    currency = (card.currency or '').strip()
    if not re.match(r'^[A-Z]{3}$', currency):
        raise ValueError('rates.currency must be an ISO 4217 currency code like EUR or USD for a FOCUS export (BillingCurrency), '
                         'got %r' % (card.currency,))
    return currency


def pyarrow_missing():
    """None when pyarrow can be imported, else the traceback of the failed import (for missing_required_lib)."""
    try:
        import pyarrow.parquet  # pylint: disable=import-outside-toplevel
    except ImportError:
        return traceback.format_exc()
    return None if hasattr(pyarrow.parquet, 'ParquetWriter') else 'pyarrow.parquet has no ParquetWriter'


# ---- values -------------------------------------------------------------------------------------------------------

def utc(epoch):
    """FOCUS date/time: ``YYYY-MM-DDTHH:mm:ssZ`` in UTC."""
    return time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(epoch))


def decimal_text(number):
    """A float as CSV text: its shortest repr (the exact float read back), never in exponent form."""
    text = repr(float(number))
    if 'e' in text or 'E' in text:
        text = format(Decimal(text), 'f')
    return text


# The columns that change from line to line; every other value is the same for all lines of one owner, metric and
# unit price (a row template).
_INDEX = dict((name, index) for index, name in enumerate(COLUMN_NAMES))
_COSTS = tuple(_INDEX[name] for name in ('BilledCost', 'ContractedCost', 'EffectiveCost', 'ListCost', 'PricingCurrencyEffectiveCost'))
_QUANTITIES = tuple(_INDEX[name] for name in ('ConsumedQuantity', 'PricingQuantity'))
_START, _END = _INDEX['ChargePeriodStart'], _INDEX['ChargePeriodEnd']
_DECIMALS = tuple(index for index, (_name, kind) in enumerate(COLUMNS) if kind == 'Decimal')
_BOOLEANS = tuple(index for index, (_name, kind) in enumerate(COLUMNS) if kind == 'Boolean')
_TIMES = tuple(index for index, (_name, kind) in enumerate(COLUMNS) if kind == 'DateTime')


class _Rows:
    """Turns priced lines into FOCUS rows: lists of values in COLUMNS order (None for null)."""

    def __init__(self, settings, card, currency, period, name, basis, with_tenants):
        self.settings, self.card, self.currency = settings, card, currency
        self.name, self.basis, self.with_tenants = name, basis, with_tenants
        self.label = period['label']
        self.period_start, self.period_end = utc(period['since_epoch']), utc(period['until_epoch'] + 1)
        self.templates = OrderedDict()  # (owner, metric, unit price) -> (row template, [amounts])
        self.times = {}

    def sub_account_id(self, owner):
        return '%s-tenant-%s' % (self.settings['account_id'], owner.key)

    def template(self, owner, metric, unit_price):
        """The values of every row of one owner, metric and unit price (the line's own are filled in by ``row``)."""
        settings, metric = self.settings, METRIC[metric]
        tenant = owner.kind == TENANT
        sub_account = self.sub_account_id(owner) if tenant else None
        # Unallocated rows are on the account's own invoice (sub_account: the account), the provider's showback of
        # its own workloads: InvoiceId is never null (focus-validator 2.2.1 checks its nullability for all rows at once).
        invoice = settings['invoice'].format(account=settings['account_id'], sub_account=sub_account or settings['account_id'],
                                             period=self.label)
        if owner.kind == UNALLOCATED:
            who = 'unallocated usage of system %s (no tenant pays for it)' % self.name
        else:
            who = ('tenant %s of system %s' % (owner.name, self.name)) if tenant else 'system %s' % self.name
        values = {
            'BillingAccountId': settings['account_id'], 'BillingAccountName': settings['account_name'],
            'BillingCurrency': self.currency, 'BillingPeriodEnd': self.period_end, 'BillingPeriodStart': self.period_start,
            'ChargeCategory': 'Usage', 'ChargeDescription': '%s, %s (%s)' % (metric.label, who, metric.focus_unit),
            'ChargeFrequency': 'Usage-Based', 'ConsumedUnit': metric.focus_unit, 'ContractedUnitPrice': unit_price, 'InvoiceId': invoice,
            'InvoiceIssuerName': settings['issuer'], 'ListUnitPrice': unit_price, 'PricingCurrency': self.currency,
            'PricingCurrencyContractedUnitPrice': unit_price, 'PricingCurrencyListUnitPrice': unit_price, 'PricingUnit': metric.focus_unit,
            'ProviderName': settings['provider'], 'PublisherName': settings['publisher'],
            'RegionId': settings['region_id'], 'RegionName': settings['region_name'],
            'ResourceId': sub_account if tenant else settings['account_id'], 'ResourceName': owner.name if tenant else self.name,
            'ResourceType': 'Tenant' if tenant else 'System',
            'ServiceCategory': metric.category, 'ServiceName': 'VergeOS %s' % metric.category, 'ServiceSubcategory': metric.subcategory,
            'SkuId': 'vergeos-%s' % metric.name, 'SkuMeter': metric.label,
            'SkuPriceDetails': json.dumps(OrderedDict([('x_RateKey', metric.rate_key), ('x_UnitPrice', unit_price)]), separators=(',', ':')),
            'SkuPriceId': 'vergeos-%s-%s-%s' % (metric.name, self.currency, decimal_text(unit_price)),
            'SubAccountId': sub_account, 'SubAccountName': owner.name if tenant else None, 'SubAccountType': SUB_ACCOUNT_TYPE if tenant else None,
            'x_Metric': metric.name, 'x_System': self.name, 'x_TenantBasis': self.basis if self.with_tenants else None,
            'x_TenantKey': owner.key if tenant else None, 'x_TenantState': owner.state if tenant else None,
            'x_Unallocated': (owner.kind == UNALLOCATED) if self.with_tenants else None,
        }
        return [values.get(name) for name in COLUMN_NAMES]

    def _utc(self, epoch):
        text = self.times.get(epoch)
        if text is None:
            text = self.times[epoch] = utc(epoch)
        return text

    def row(self, line):
        """The row of one priced line (a new list: writers may change it)."""
        key = (line.owner, line.metric, line.unit_price)
        found = self.templates.get(key)
        if found is None:
            found = self.templates[key] = (self.template(*key), [])
        template, amounts = found
        amounts.append(line.amount)
        row = list(template)
        for index in _COSTS:
            row[index] = line.amount
        for index in _QUANTITIES:
            row[index] = line.quantity
        row[_START], row[_END] = self._utc(line.start), self._utc(line.end)
        return row

    def sums(self):
        """Exact sums (math.fsum) of BilledCost: the account, the Unallocated rows, per SubAccountId, per InvoiceId."""
        account, unallocated, subs, invoices = [], [], OrderedDict(), OrderedDict()
        sub_index, invoice_index = _INDEX['SubAccountId'], _INDEX['InvoiceId']
        for (owner, _metric, _price), (template, amounts) in self.templates.items():
            account.extend(amounts)
            if owner.kind == UNALLOCATED:
                unallocated.extend(amounts)
            if template[sub_index] is not None:
                subs.setdefault(template[sub_index], []).extend(amounts)
            invoices.setdefault(template[invoice_index], []).extend(amounts)
        return dict(account=math.fsum(account), unallocated=math.fsum(unallocated),
                    sub_accounts=OrderedDict((key, math.fsum(values)) for key, values in subs.items()),
                    invoices=OrderedDict((key, math.fsum(values)) for key, values in invoices.items()))


# ---- writers ------------------------------------------------------------------------------------------------------

def write_csv(rows, handle, compression):
    """Stream ``rows`` (value lists in COLUMNS order) to the binary file ``handle`` as CSV (RFC 4180, UTF-8, a header
    row; null is an empty cell, a Decimal its shortest repr without exponent, a Boolean ``true``/``false``),
    gzip-compressed (level 6) unless ``compression`` is ``none``. The gzip header carries no name and no time, so the
    same rows give the same bytes. Returns the number of rows."""
    raw = gzip.GzipFile(filename='', mode='wb', fileobj=handle, mtime=0, compresslevel=6) if compression == 'gzip' else handle
    text = io.TextIOWrapper(raw, encoding='utf-8', newline='', write_through=False)
    writer = csv.writer(text, lineterminator='\r\n')
    writer.writerow(COLUMN_NAMES)
    count = 0
    for row in rows:
        texts = {}  # a row repeats its cost five times and its quantity and unit price twice or thrice
        for index in _DECIMALS:
            value = row[index]
            if value.__class__ is float:
                cell = texts.get(value)
                if cell is None:
                    cell = repr(value)
                    cell = texts[value] = decimal_text(value) if 'e' in cell else cell
                row[index] = cell
        for index in _BOOLEANS:
            if row[index] is not None:
                row[index] = 'true' if row[index] else 'false'
        writer.writerow(row)  # None is written as an empty cell
        count += 1
    text.flush()
    text.detach()
    if raw is not handle:
        raw.close()
    return count


def parquet_schema():
    import pyarrow as pa  # pylint: disable=import-outside-toplevel
    types = dict(String=pa.string(), Decimal=pa.float64(), DateTime=pa.timestamp('s', tz='UTC'), Boolean=pa.bool_())
    fields = [pa.field(name, types[kind]) for name, kind in COLUMNS]
    fields[_INDEX['x_TenantKey']] = pa.field('x_TenantKey', pa.int64())
    return pa.schema(fields)


def write_parquet(rows, handle):
    """Stream ``rows`` to the binary file ``handle`` as Parquet, one row group per BATCH rows. Returns the row count."""
    import pyarrow as pa  # pylint: disable=import-outside-toplevel
    import pyarrow.parquet as pq  # pylint: disable=import-outside-toplevel
    schema = parquet_schema()
    writer = pq.ParquetWriter(handle, schema, compression='zstd', use_dictionary=True, write_statistics=True)
    epochs = {}

    def epoch(text):
        if text is None:
            return None
        found = epochs.get(text)
        if found is None:
            found = epochs[text] = _parse_utc(text)
        return found

    def flush(batch):
        columns = list(zip(*batch)) if batch else [()] * len(COLUMNS)
        arrays = []
        for index, (values, field) in enumerate(zip(columns, schema)):
            if index in _TIMES:
                values = [epoch(value) for value in values]
            arrays.append(pa.array(list(values), type=field.type))
        writer.write_table(pa.Table.from_arrays(arrays, schema=schema))

    count = 0
    try:
        batch = []
        for row in rows:
            batch.append(row)
            count += 1
            if len(batch) >= BATCH:
                flush(batch)
                batch = []
        if batch or not count:
            flush(batch)
    finally:
        writer.close()
    return count


def _parse_utc(text):
    """Epoch seconds of a ``utc()`` text (pyarrow takes them for a timestamp('s', 'UTC'))."""
    from calendar import timegm  # pylint: disable=import-outside-toplevel
    return timegm(time.strptime(text, '%Y-%m-%dT%H:%M:%SZ'))


# ---- the export ---------------------------------------------------------------------------------------------------

def data_name(account_id, file_format, compression):
    return safe_name(account_id) + EXTENSIONS[file_format] + ('.gz' if compression == 'gzip' else '')


def partition(label):
    return 'BILLING_PERIOD=%s' % label


def meter_period(client, request, settings, period, page_size=PAGE_SIZE):
    """Read the sources once and return (lines, owners, messages): the usage lines to export (the system's, or the
    tenants' and the system's Unallocated), the tenant owners metered and the warnings of the read."""
    start, end = period['since_epoch'], period['until_epoch'] + 1
    meter = Meter(edges(start, end, settings['charge_period'], request.zone))
    usage = Usage(client, page_size)
    system = system_owner(request.name)
    usage.system(meter, system)
    owners = []
    messages = []
    if request.tenants is not None:
        chosen = TenantUsage(client, page_size=page_size).tenants(request.tenants or None)
        owners = usage.tenants(meter, HISTORY['long'], chosen, request.tenant_basis, every=not request.tenants)
    lines = meter.lines()
    if request.tenants is None:
        return [line for line in lines if line.owner == system], owners, usage.messages()
    system_lines = [line for line in lines if line.owner == system]
    tenant_lines = [line for line in lines if line.owner != system]
    # A charge period where tenants used a metric the system measures but the system has no record: the system's
    # quantity there is 0 (its Unallocated is minus the tenants'), so that the account's total stays the system's.
    seen = set((line.metric, line.start, line.end) for line in system_lines)
    missing = sorted(set((line.metric, line.start, line.end) for line in tenant_lines if line.metric in SYSTEM_METRICS) - seen)
    system_lines += [UsageLine(system, metric, begin, finish, 0.0) for metric, begin, finish in missing]
    rest = unallocated(system_lines, tenant_lines, unallocated_owner(request.name))
    negative = OrderedDict()
    for line in rest:
        if line.quantity < -1e-9:
            negative.setdefault(line.metric, []).append(line.quantity)
    for metric, values in negative.items():
        messages.append('Unallocated %s is negative in %d charge period(s) (down to %s %s): the tenants were billed more than the system '
                        'measured (tenant_basis %s); the rows stay as they are, so that the account total is the system\'s'
                        % (METRIC[metric].label, len(values), decimal_text(min(values)), METRIC[metric].focus_unit, request.tenant_basis))
    return tenant_lines + rest, owners, usage.messages() + messages


def run_export(client, request, settings, check_mode=False, diff=False, page_size=PAGE_SIZE):
    """Read, price and write one system's FOCUS export of one billing period; returns the module result."""
    card, currency = request.rates, settings['currency']
    until = request.asked['until_epoch'] if request.asked['until_epoch'] is not None else request.now - 1
    period = request.period(until)
    owner = FileOwner.focus(settings['account_id'], request.name)
    claim_stem = 'focus+%s' % safe_name(settings['account_id'])  # '+': no report's stem (safe_name) has one
    _check_owner(request.dest, claim_stem, owner, period)  # before anything is read: another system's files are never replaced
    try:
        lines, owners, messages = meter_period(client, request, settings, period, page_size)
    except VergeError as exc:
        exc.msg = '%s. No FOCUS file was written.' % exc.msg.rstrip('.')
        raise
    priced = [line for line in price(lines, card) if line.quantity != 0]
    rows = _Rows(settings, card, currency, period, request.name, request.tenant_basis, request.tenants is not None)
    warnings = list(messages)
    if not priced:
        warnings.append('No usage in %s .. %s (%s): the FOCUS file has no rows.' % (period['since'], period['until'], period['timezone']))
    dest = request.dest
    data_dir = os.path.join(dest, 'data', partition(period['label']))
    meta_dir = os.path.join(dest, 'metadata', partition(period['label']))
    name = data_name(settings['account_id'], settings['file_format'], settings['compression'])
    data_path = os.path.join(data_dir, name)
    manifest_path = os.path.join(meta_dir, '%s-Manifest.json' % safe_name(settings['account_id']))
    work = _prepare_dest(dest, check_mode)
    temps = []
    try:
        if not check_mode:
            for folder in (data_dir, meta_dir):
                _prepare_dest(folder, False)
                _remove_leftovers(folder, settings['account_id'])
            work = data_dir
        prefix = _temp_prefix(settings['account_id'])
        descriptor, temp_data = tempfile.mkstemp(dir=work, prefix=prefix, suffix='.tmp')
        temps.append(temp_data)
        with os.fdopen(descriptor, 'wb') as handle:
            generated = (rows.row(line) for line in priced)
            if settings['file_format'] == 'parquet':
                count = write_parquet(generated, handle)
            else:
                count = write_csv(generated, handle, settings['compression'])
        size = os.path.getsize(temp_data)
        digest = sha256_of(temp_data)
        sums = rows.sums()
        relative = os.path.relpath(data_path, dest)
        manifest = OrderedDict([
            ('focus_version', FOCUS_VERSION), ('dataset', DATASET), ('generator', GENERATOR),
            ('collection', '%s %s' % (COLLECTION_NAME, COLLECTION_VERSION)),
            ('billing_account_id', settings['account_id']), ('billing_account_name', settings['account_name']), ('system', request.name),
            ('billing_period', OrderedDict([('label', period['label']), ('start', rows.period_start), ('end', rows.period_end),
                                            ('timezone', period['timezone'])])),
            ('charge_period', settings['charge_period']), ('tenant_basis', request.tenant_basis if request.tenants is not None else None),
            ('currency', currency),
            ('columns', [OrderedDict([('name', column), ('type', kind)]) for column, kind in COLUMNS]),
            ('row_count', count),
            ('files', [OrderedDict([('path', relative.replace(os.sep, '/')), ('format', settings['file_format']),
                                    ('compression', settings['compression']), ('size', size), ('sha256', digest), ('row_count', count)])]),
        ])
        manifest['generated_at'] = _generated_at(manifest_path, manifest)
        descriptor, temp_manifest = tempfile.mkstemp(dir=work if check_mode else meta_dir, prefix=prefix, suffix='.tmp')
        temps.append(temp_manifest)
        with os.fdopen(descriptor, 'w', encoding='utf-8') as handle:
            handle.write(json.dumps(manifest, indent=1, ensure_ascii=False) + '\n')
        if not check_mode:
            holder = _claim(dest, claim_stem, owner)  # atomic: of two runs of one account name at once, one goes on
            if holder != owner:
                raise ValueError(_taken(dest, claim_stem, owner, holder))
        outcome = OrderedDict()
        outcome['data'] = _place(temp_data, data_path, request.mode, check_mode)
        stale = [os.path.join(data_dir, other) for other in _others(data_dir, settings['account_id'], name)]
        for path in stale:
            if not check_mode:
                os.unlink(path)
        outcome['manifest'] = _place(temp_manifest, manifest_path, request.mode, check_mode)  # written last
        files = dict(data=data_path, manifest=manifest_path)
        changed = dict((kind, files[kind]) for kind, what in outcome.items() if what != 'unchanged')
        result = dict(
            changed=bool(changed or stale), files=files, changed_files=changed, removed_files=stale, sha256=dict(data=digest),
            size=dict(data=size), period=period, row_count=count, focus_version=FOCUS_VERSION, billing_account_id=settings['account_id'],
            totals=dict(billed_cost=sums['account'], unallocated=sums['unallocated'] if request.tenants is not None else None,
                        sub_accounts=sums['sub_accounts'], invoices=sums['invoices'], currency=currency),
            tenant_count=len(owners), warnings=warnings,
        )
        if diff:
            verb = 'would write' if check_mode else 'wrote'
            shown = ['%s %s (%s)' % (verb, files[kind], what) for kind, what in outcome.items() if what != 'unchanged']
            shown += ['%s %s (another file format of the same account and period)' % ('would remove' if check_mode else 'removed', path)
                      for path in stale]
            result['diff'] = dict(prepared='\n'.join(shown) + '\n' if shown else '')
        return result
    finally:
        for path in temps:
            if os.path.exists(path):
                os.unlink(path)
        if check_mode and work and os.path.isdir(work):
            shutil.rmtree(work, ignore_errors=True)


def _check_owner(dest, claim_stem, owner, period):
    """ValueError when the account's files in ``dest`` belong to another system or another billing account whose name
    makes the same file name: by the claim (``<dest>/.vergeio-billing/focus+<account>.owner``, written by the first
    export) or, for exports written before claims, by the manifest of the period (its ``system`` and
    ``billing_account_id``). Without this, the second system would replace the first one's rows without a word."""
    claim = os.path.join(os.path.abspath(os.path.expanduser(str(dest))), OWNER_DIR, claim_stem + '.owner')
    holder = _read_claim(claim) if os.path.isfile(claim) else None
    if holder is None:
        account = claim_stem[len('focus+'):]
        manifest = os.path.join(str(dest), 'metadata', partition(period['label']), '%s-Manifest.json' % account)
        try:
            with open(manifest, encoding='utf-8') as handle:
                data = json.load(handle)
            if isinstance(data, dict) and isinstance(data.get('system'), str) and isinstance(data.get('billing_account_id'), str):
                holder = FileOwner.focus(data['billing_account_id'], data['system'])
        except (OSError, ValueError):
            holder = None
    if holder is not None and holder != owner:
        raise ValueError(_taken(dest, claim_stem, owner, holder))


def _taken(dest, claim_stem, owner, holder):
    account = claim_stem[len('focus+'):]
    return ('dest: %s would write data/BILLING_PERIOD=*/%s.* and metadata/BILLING_PERIOD=*/%s-Manifest.json in %s, but those '
            'files are %s. Two exports whose billing accounts make the same file name cannot share a dest: give each system '
            'its own billing_account_id (or another dest); when %s is gone for good, remove its files and %s'
            % (owner.text, account, account, dest, holder.text, holder.text, os.path.join(str(dest), OWNER_DIR, claim_stem + '.owner')))


def _temp_prefix(account_id):
    """Temporary files of one account are ``.focus-<account>+*.tmp``: hidden, and told apart from those of the other
    systems writing into the same partition at the same time (AWX job slices)."""
    return '.focus-%s+' % safe_name(account_id)  # '+' is in no file-safe name: east+ is not east.x+


def _remove_leftovers(folder, account_id):
    """Remove the temporary files a killed run of the same account left in ``folder`` (no run of the same account
    writes there at the same time; other accounts' files are left alone)."""
    prefix = _temp_prefix(account_id)
    for entry in os.listdir(folder):
        if entry.startswith(prefix) and entry.endswith('.tmp'):
            try:
                os.unlink(os.path.join(folder, entry))
            except OSError:
                pass


def _place(temp, final, mode, check_mode):
    try:
        return place(temp, final, mode, check_mode)
    except OSError as exc:
        raise ValueError('dest: cannot write %s: %s' % (final, exc.strerror or exc))


def _others(data_dir, account_id, keep):
    """The files of the same account in the same partition in another format (an earlier run's): replaced by this one."""
    if not os.path.isdir(data_dir):
        return []
    stem = safe_name(account_id)
    return sorted(entry for entry in os.listdir(data_dir)
                  if entry != keep and any(entry == stem + suffix for suffix in DATA_SUFFIXES))


def _generated_at(path, manifest):
    """When the export was generated: now, unless the manifest at ``path`` says the same as ``manifest`` apart from
    its ``generated_at`` (then its time is kept, and a rerun over unchanged data changes no byte)."""
    try:
        with open(path, encoding='utf-8') as handle:
            old = json.load(handle, object_pairs_hook=OrderedDict)
    except (OSError, ValueError):
        old = None
    if isinstance(old, dict) and isinstance(old.get('generated_at'), str):
        rest = OrderedDict((key, value) for key, value in old.items() if key != 'generated_at')
        if json.dumps(rest) == json.dumps(manifest):
            return old['generated_at']
    return utc(int(time.time()))
