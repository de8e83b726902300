# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vergeio.billing contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Tenant reports of ``verge_billing_report``: one report per tenant and a tenants overview, in every format.

``run_tenant_reports()`` is what the module's ``tenants`` option adds. The billing period is the system report's,
``[since, until + 1)``, on the same calendar, split into the same charge periods (``group_by``, ``_rating.edges``):

1. The tenants (``_tenants.TenantUsage.tenants``: names or ``$key``s, or every tenant that is not a snapshot) and
   ONE paged read of their statistics history (``_usage.Usage.tenants``: samples from 6 hours before the period, so
   the sample taken just before the start bills its part). Each sample stands for its weight
   (``_stats.sample_weights``) and is metered by the rating engine (``_rating.Meter``): the part of its interval
   inside the period, split at the charge-period boundaries, becomes usage lines (core-hours, GB-hours, IP-hours)
   on the tenant basis. Every sample that bills part of the period is streamed to its tenant's CSV file and JSON
   spool with the seconds it bills, and kept for the statistics (``_tenants.summarize_samples``: ``_stats``, the
   weights being the seconds inside the period) and the charts.
2. With a rate card, each tenant's lines are priced (``_rating.price``) into a ``_rating.Bill``: one line per
   metric with quantity, unit, unit price and amount rounded to ``rates.precision`` half up; the total is the sum of
   the rounded lines. The JSON keeps the exact amounts (``bill``).
3. The system's usage of the same period and charge periods: the lines the system report metered (``system_lines``,
   handed in by the module) or, without a system report (``tenants_only``), the billing records read here once
   (``_usage.Usage.system``). The capacity is the newest record's. Per metric the overview shows the capacity, the
   system's usage, the tenants' sum and **Unallocated** = system - tenants (``_rating.unallocated``), in quantity and
   in cost; a negative Unallocated is shown as it is, with a warning. IP addresses have no system figure.
4. A tenant deleted during the period (samples in the history, no longer in the tenant list) is billed as
   ``tenant <$key> (deleted)`` with a warning when every tenant is reported; a renamed tenant is one bill per
   ``$key`` under its current name; counters that are negative, null or missing count as 0, with one warning.
5. Files are placed like the system report's, as one ``files.FileSet`` (every tenant's and the overview's): written
   to temporary files, every name checked before the first is replaced, an identical file left alone, in check mode
   nothing in ``dest`` touched. Every tenant gets a stem (``files.tenant_stems``), deleted tenants too.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import math
import os
import shutil
from collections import OrderedDict
from decimal import Decimal

from ansible_collections.vergeio.billing.plugins.module_utils._billing import Billing
from ansible_collections.vergeio.billing.plugins.module_utils._budget import budget_figures, merge_figures
from ansible_collections.vergeio.billing.plugins.module_utils._reports.charts import Series, chart
from ansible_collections.vergeio.billing.plugins.module_utils._client import VergeError
from ansible_collections.vergeio.billing.plugins.module_utils._rating import (
    METRIC, METRIC_NAMES, RECORD_FIELDS, SYSTEM_METRICS, TIER_METRICS, Bill, Meter, UsageLine, edges, money, price, system_owner,
    unallocated, unallocated_owner,
)
from ansible_collections.vergeio.billing.plugins.module_utils._records import BYTES_PER_GB, MB_PER_GB, TIERS, to_int
from ansible_collections.vergeio.billing.plugins.module_utils._reports.files import (
    CsvStyle, FileOwner, FileSet, new_temp, tenant_stems,
)
from ansible_collections.vergeio.billing.plugins.module_utils._reports.report_workbook import OverviewWorkbook
from ansible_collections.vergeio.billing.plugins.module_utils._reports.system import LAYOUT, ReportBuilder
from ansible_collections.vergeio.billing.plugins.module_utils._tenants import (
    COLUMNS, FIELDS, HISTORY, RAW_FIELDS, TenantUsage, convert_sample, output_names, sample_figures, summarize_samples,
)
from ansible_collections.vergeio.billing.plugins.module_utils._time import calendar_bucket, iso_in
from ansible_collections.vergeio.billing.plugins.module_utils._usage import Usage, usage_filter

GENERATOR = 'vergeio.billing.verge_billing_report'
OVERVIEW_STEM = 'tenants'
# The samples in the JSON: the converted record's own fields in the API's units (times as epoch seconds), then the
# seconds the sample bills inside the period.
JSON_FIELDS = tuple(name + '_epoch' if kind == 'epoch' else name for name, _raw, kind in FIELDS)
BILLED = 'billed_seconds'
# The CSV's columns: every key of a converted sample (verge_tenant_usage_info's records), then BILLED.
CSV_NAMES = output_names()
# Shown quantities (unit-hours) have this many decimals; a shown total of quantities is the sum of the shown ones.
QUANTITY_PLACES = 2
# The columns of the overview: part -> the metrics it sums (storage: the six tiers).
PARTS = (('cpu', 'CPU', ('cores',)), ('ram', 'RAM', ('ram',)), ('storage', 'Storage', TIER_METRICS), ('gpu', 'GPUs', ('gpus',)),
         ('vgpu', 'vGPUs', ('vgpus',)), ('ip', 'IPs', ('ips',)))
PART_UNITS = dict(cpu='core-hours', ram='GB-hours', storage='GB-hours', gpu='GPU-hours', vgpu='vGPU-hours', ip='IP-hours')
USAGE_ROWS = (('Cores allocated', 'cores', 'cores'), ('Cores used', 'cores', 'used_cores'), ('RAM allocated', 'GB', 'ram_allocated_gb'),
              ('RAM used', 'GB', 'ram_used_gb'), ('Storage provisioned', 'GB', 'storage_provisioned_gb'),
              ('Storage allocated', 'GB', 'storage_allocated_gb'), ('Storage used', 'GB', 'storage_used_gb'))
INDEX = dict((name, index) for index, name in enumerate(COLUMNS))
# The capacity of the system per metric, from a raw billing record: raw field and divisor to the metric's unit.
CAPACITY_FIELDS = OrderedDict([('cores', ('total_cores', 1)), ('ram', ('total_ram', MB_PER_GB))] + [
    ('tier%d' % tier, ('tier_%d_total' % tier, BYTES_PER_GB)) for tier in TIERS] + [('gpus', ('gpus_total', 1)), ('vgpus', ('vgpus_total', 1))])
# Unallocated below this share of the system's quantity is float noise, not tenants billed beyond the system.
NOISE = 1e-9


def shown(value, places=QUANTITY_PLACES):
    """A figure as it is shown: rounded half up to ``places`` decimals (a Decimal, ``_rating.money``)."""
    return money(value, places)


def capacity_of(raw):
    """metric -> the system's capacity in a raw billing record (cores, GB, GPUs, vGPUs); {} for none."""
    if not raw:
        return {}
    out = {}
    for metric, (field, divisor) in CAPACITY_FIELDS.items():
        value = max(to_int(raw.get(field), field), 0)
        out[metric] = value / divisor if divisor != 1 else value
    return out


class _TenantFiles:
    """The files of one tenant while its samples arrive: CSV rows and JSON record arrays, the samples and the seconds
    each bills inside the period.

    Its temporary files are open only while its samples arrive (``suspend`` closes them; a later ``add`` opens them
    again to append): ``_usage.Usage.tenants`` hands the samples over tenant by tenant, so one tenant's files are open
    at a time, and 10,000 tenants never need 20,000 file descriptors (a common limit is 1,024)."""

    def __init__(self, key, name, formats, zone, work_dir, csv_style=None):
        self.key, self.name, self.zone = key, name, zone
        self.samples = []
        self.seconds = []
        self.temps = {}
        self.count = 0
        self.csv = self.spool = None
        self.work_dir = work_dir
        self.formats = formats
        self.csv_style = csv_style or CsvStyle()

    _temp = ReportBuilder._temp  # a temporary file in work_dir, kept in self.temps (the system report's)

    def _open(self):
        """The CSV writer and the JSON record spool, opened (made with the CSV header the first time)."""
        if 'csv' in self.formats and self.csv is None:
            if 'csv' in self.temps:
                self.csv = self.csv_style.writer(self._reopen('csv', newline=''), bom=False)
            else:
                self.csv = self.csv_style.writer(self._temp('csv', newline=''))
                self.csv.writerow(CSV_NAMES + [BILLED])
        if 'json' in self.formats and self.spool is None:
            self.spool = self._reopen('records') if 'records' in self.temps else self._temp('records')

    def _reopen(self, kind, newline=None):
        path = self.temps[kind][0]
        handle = open(path, 'a', encoding='utf-8', newline=newline)  # pylint: disable=consider-using-with
        self.temps[kind] = (path, handle)
        return handle

    def suspend(self):
        """Close the open files (the next ``add`` appends to them)."""
        for _path, handle in self.temps.values():
            if not handle.closed:
                handle.close()
        self.csv = self.spool = None

    def add(self, raw, seconds, problems):
        self._open()
        sample = convert_sample(raw, problems)
        self.samples.append((sample['timestamp_epoch'], sample['key'], sample_figures(sample)))
        self.seconds.append(seconds)
        if self.spool is not None:
            self.spool.write(',\n' if self.count else '\n')
            self.spool.write(json.dumps([sample[name] for name in JSON_FIELDS] + [seconds], separators=(',', ':')))
        if self.csv is not None:
            if sample['timestamp']:
                sample['timestamp'] = iso_in(sample['timestamp_epoch'], self.zone)
            self.csv.writerow([sample[name] for name in CSV_NAMES] + [seconds])
        self.count += 1

    def write(self, fmt, text):
        handle = self._temp(fmt)
        handle.write(text)
        handle.close()

    def finish_json(self, head):
        """The JSON file: ``head`` (a dict) with ``records`` appended from the spool."""
        text = json.dumps(head, indent=1, ensure_ascii=False)
        with open(self.temps['records'][0], encoding='utf-8') as spool, self._temp('json') as handle:
            handle.write(text[:-2] + ',\n "records": [')
            shutil.copyfileobj(spool, handle)
            handle.write('\n ]\n}\n')

    def close(self):
        """The files complete (a tenant without samples gets its CSV header and an empty spool) and closed."""
        self._open()
        self.suspend()

    def discard(self):
        self.suspend()
        for path, _handle in self.temps.values():
            if os.path.exists(path):
                os.unlink(path)


def usage_rows(summary):
    """(label, unit, mean, time-weighted mean, p95, peak) rows: cores, RAM, storage, each tier in use, GPUs, vGPUs, IPs."""
    def row(label, unit, name):
        return (label, unit, summary['avg_' + name], summary['twa_' + name], summary['p95_' + name], summary['peak_' + name])

    rows = [row(label, unit, name) for label, unit, name in USAGE_ROWS]
    for tier in summary['tiers']:
        if tier['peak_provisioned_gb'] or tier['peak_allocated_gb'] or tier['peak_used_gb']:
            for kind in ('allocated', 'used'):
                rows.append(('Tier %d %s' % (tier['tier'], kind), 'GB', tier['avg_%s_gb' % kind], tier['twa_%s_gb' % kind],
                             tier['p95_%s_gb' % kind], tier['peak_%s_gb' % kind]))
    for label, unit, name in (('GPUs allocated', 'GPUs', 'gpus_total'), ('GPUs used', 'GPUs', 'gpus_used'),
                              ('vGPUs allocated', 'vGPUs', 'vgpus_total'), ('vGPUs used', 'vGPUs', 'vgpus_used')):
        if summary['peak_' + name] or summary['peak_' + name.replace('_used', '_total')]:
            rows.append(row(label, unit, name))
    rows.append(row('IP addresses', 'IPs', 'ip_count'))
    return rows


def bill_rows(bill):
    """The cost lines a tenant report shows: every metric with a quantity (a line with none is 0 and left out, so the
    total, the sum of every rounded line, is the sum of the shown ones)."""
    return [line for line in bill.lines if line.quantity]


def quantities(lines):
    """metric -> the sum of the quantities of ``lines`` (unit-hours); every metric present."""
    out = dict((metric, []) for metric in METRIC_NAMES)
    for line in lines:
        out[line.metric].append(line.quantity)
    return dict((metric, math.fsum(values)) for metric, values in out.items())


def charge_periods(bounds, group_by, zone, lines, priced, seconds, precision):
    """One row per charge period of one owner: label, start/end, hours, quantities by part and the amount (rounded
    on its own, and exact). ``seconds``: index -> seconds measured; ``priced`` may be None (no rate card)."""
    rows = []
    by_index = {}
    for line in lines:
        by_index.setdefault(line.start, []).append(line)
    amounts = {}
    for line in priced or ():
        amounts.setdefault(line.start, []).append(line.amount)
    for index, (start, end) in enumerate(zip(bounds, bounds[1:])):
        found = quantities(by_index.get(start, ()))
        row = dict(period=calendar_bucket(start, group_by, zone)[0] if group_by else None, start=iso_in(start, zone), end=iso_in(end, zone),
                   hours=math.fsum(seconds.get(index, ())) / 3600,
                   quantities=dict((part, math.fsum(found[m] for m in metrics)) for part, _label, metrics in PARTS))
        if priced is not None:
            row['exact'] = math.fsum(amounts.get(start, ()))
            row['amount'] = money(row['exact'], precision)
        rows.append(row)
    return rows


def tenant_charts(samples, zone):
    """(charts, notes) of one tenant: cores, RAM and storage over time (allocated dashed, used solid)."""
    ordered = sorted(samples, key=lambda sample: (sample[0], sample[1]))
    specs = (('chart-cores', 'CPU cores', '', (('Used', 'used_cores', False), ('Allocated', 'cores', True))),
             ('chart-ram', 'RAM', 'GB', (('Used', 'ram_used_gb', False), ('Allocated', 'ram_allocated_gb', True))),
             ('chart-storage', 'Storage, all tiers', 'GB', (('Used', 'storage_used_gb', False), ('Allocated', 'storage_allocated_gb', True),
                                                            ('Provisioned', 'storage_provisioned_gb', True))))
    charts, notes = [], []
    for chart_id, title, unit, lines in specs:
        series = []
        for label, name, dashed in lines:
            line = Series(label, dashed=dashed)
            for stamp, _key, figures in ordered:
                if stamp:
                    line.add(stamp, figures[INDEX[name]])
            series.append(line)
        if not len(series[0]) or not any(line.any_above_zero() for line in series):
            notes.append('%s: chart left out, no sample has any in this period.' % title)
            continue
        charts.append(chart(chart_id, title, series, unit, zone))
    return charts, notes


def cost_bars(rows, currency, width=960):
    """The geometry of a horizontal bar chart of the cost per tenant, largest first (the template draws it)."""
    ordered = sorted(((name, float(amount)) for name, amount in rows), key=lambda row: (-row[1], row[0]))
    top = max([amount for _name, amount in ordered] + [0.0])
    left, right, bar_height, gap = 220, 120, 18, 6
    plot = width - left - right
    bars = []
    for index, (name, amount) in enumerate(ordered):
        y = 40 + index * (bar_height + gap)
        bars.append(dict(name=name if len(name) <= 30 else name[:29] + '\u2026', y=y, height=bar_height, x=left,
                         width=round(plot * amount / top, 2) if top > 0 and amount > 0 else 0, amount=amount, label_y=y + bar_height - 4))
    return dict(id='chart-tenant-cost', title='Cost per tenant%s' % (' (%s)' % currency if currency else ''), width=width,
                height=40 + len(ordered) * (bar_height + gap) + 10, left=left, bars=bars,
                description='Horizontal bars of the total cost of each of %d tenants, largest first; the largest is %s.'
                % (len(ordered), '{:,.2f}'.format(top)))


def overview_rows(tenants, card):
    """(rows, totals) of the overview, rows sorted by name then $key. ``tenants``: dicts with key, name, state,
    sample_count, hours, quantities (metric -> unit-hours) and bill (a _rating.Bill or None).

    Each row shows per part its quantity rounded to QUANTITY_PLACES and, with a rate card, its amount: the sum of the
    bill's rounded lines of that part; the row's total is the bill's total (the sum of its rounded lines, so of the
    shown parts). Each total of ``totals`` is the sum of the shown figures of its column."""
    rows = []
    for tenant in sorted(tenants, key=lambda item: (item['name'], item['key'])):
        row = dict(tenant_key=tenant['key'], tenant=tenant['name'], state=tenant['state'], sample_count=tenant['sample_count'],
                   hours=tenant['hours'], file_stem=tenant.get('file_stem'))
        for part, _label, metrics in PARTS:  # storage: the sum of the shown tiers, as the reconciliation shows them
            row['quantity_' + part] = sum((shown(tenant['quantities'][metric]) for metric in metrics), _zero(QUANTITY_PLACES))
        bill = tenant.get('bill')
        if bill is not None:
            amounts = dict((line.metric, line) for line in bill.lines)
            for part, _label, metrics in PARTS:
                row['cost_' + part] = sum((amounts[m].amount for m in metrics if m in amounts), _zero(card.precision))
                row['exact_' + part] = math.fsum(amounts[m].exact for m in metrics if m in amounts)
            row['cost_total'] = bill.total
            row['exact_total'] = bill.exact
        rows.append(row)
    totals = dict(tenant_key=None, tenant='Total', state='', sample_count=sum(row['sample_count'] for row in rows), hours=None, file_stem=None)
    for part, _label, _metrics in PARTS:
        totals['quantity_' + part] = sum((row['quantity_' + part] for row in rows), _zero(QUANTITY_PLACES))
        if card is not None:
            totals['cost_' + part] = sum((row['cost_' + part] for row in rows), _zero(card.precision))
            totals['exact_' + part] = math.fsum(row['exact_' + part] for row in rows)
    if card is not None:
        totals['cost_total'] = sum((row['cost_total'] for row in rows), _zero(card.precision))
        totals['exact_total'] = math.fsum(row['exact_total'] for row in rows)
    return rows, totals


def _zero(places):
    return Decimal(0).quantize(Decimal(1).scaleb(-places))


def reconcile(system_lines, tenant_lines, capacity, hours, card, tenant_bills, name):
    """Per metric: the system's capacity, the system's usage, the tenants' sum and Unallocated (system - tenants,
    ``_rating.unallocated``), as quantities and, with a rate card, as costs; and the totals of the shown figures.

    Shown quantities are rounded to QUANTITY_PLACES, shown amounts to the card's precision; the tenants' shown figure
    of a metric is the sum of each tenant's shown figure (quantity rounded, bill line rounded), the system's the rounded line of its own bill, and the shown
    Unallocated is the system's shown figure minus the tenants' (so the shown tenants plus Unallocated are the shown
    system). The exact figures stay beside them. IP addresses have no system figure (billing records count none)."""
    system_q, tenants_q = quantities(system_lines), quantities(tenant_lines)
    # Unallocated over the whole period, per metric the system measures: both sides summed first, so a charge period
    # in which the system has no record (and so no line) still takes the tenants' usage off.
    whole = system_owner(name)
    rest = unallocated([UsageLine(whole, metric, None, None, system_q[metric]) for metric in SYSTEM_METRICS],
                       [UsageLine(line.owner, line.metric, None, None, line.quantity) for line in tenant_lines], unallocated_owner(name))
    rest_q = quantities(rest)
    by_owner = OrderedDict()
    for line in tenant_lines:
        by_owner.setdefault(line.owner, []).append(line)
    # the tenants' shown quantity of a metric: the sum of each tenant's shown quantity (as the overview's rows show them)
    tenants_shown = dict((metric, _zero(QUANTITY_PLACES)) for metric in METRIC_NAMES)
    for lines in by_owner.values():
        for metric, value in quantities(lines).items():
            tenants_shown[metric] += shown(value)
    system_bill = Bill(system_owner(name), price(system_lines, card), card, SYSTEM_METRICS) if card is not None else None
    system_amounts = dict((line.metric, line) for line in system_bill.lines) if system_bill else {}
    tenant_amounts = dict((metric, []) for metric in METRIC_NAMES)
    for bill in tenant_bills:
        for line in bill.lines:
            tenant_amounts[line.metric].append(line)
    rows = []
    for metric in METRIC_NAMES:
        info = METRIC[metric]
        has_system = metric in SYSTEM_METRICS
        row = dict(metric=metric, label=info.label, unit=info.unit, quantity_unit=info.quantity_unit, system=has_system,
                   capacity=capacity.get(metric) if has_system else None,
                   exact=dict(tenants=tenants_q[metric]), shown=dict(tenants=tenants_shown[metric]))
        if has_system:
            capacity_q = (capacity.get(metric) or 0) * hours
            row['exact'].update(capacity=capacity_q, system=system_q[metric], unallocated=rest_q[metric])
            row['shown'].update(capacity=shown(capacity_q), system=shown(system_q[metric]))
            row['shown']['unallocated'] = row['shown']['system'] - row['shown']['tenants']
        if card is not None:
            unit_price = card.price_of(metric)
            row['unit_price'] = unit_price
            row['exact'].update(tenants_cost=math.fsum(line.exact for line in tenant_amounts[metric]))
            row['shown']['tenants_cost'] = sum((line.amount for line in tenant_amounts[metric]), _zero(card.precision))
            if has_system:
                line = system_amounts.get(metric)
                row['exact'].update(capacity_cost=row['exact']['capacity'] * unit_price, system_cost=line.exact if line else 0.0)
                row['exact']['unallocated_cost'] = row['exact']['system_cost'] - row['exact']['tenants_cost']
                row['shown']['capacity_cost'] = money(row['exact']['capacity_cost'], card.precision)
                row['shown']['system_cost'] = line.amount if line else _zero(card.precision)
                row['shown']['unallocated_cost'] = row['shown']['system_cost'] - row['shown']['tenants_cost']
        rows.append(row)
    totals = {}
    if card is not None:
        for column in ('capacity_cost', 'system_cost', 'tenants_cost', 'unallocated_cost'):
            totals[column] = sum((row['shown'][column] for row in rows if column in row['shown']), _zero(card.precision))
            totals['exact_' + column] = math.fsum(row['exact'][column] for row in rows if column in row['exact'])
    negative = [row['label'] for row in rows if row['system'] and row['exact']['unallocated'] < -NOISE * max(abs(row['exact']['system']), 1.0)]
    return rows, totals, negative


_COMPILED = {}


def _render(template, context, html):
    """Render one of the tenant templates; each is compiled once per process (a report of 50 tenants renders 100 pages)."""
    from ansible_collections.vergeio.billing.plugins.module_utils._reports import templates as _templates  # pylint: disable=import-outside-toplevel
    key = (template, html)
    if key not in _COMPILED:
        _COMPILED[key] = _templates._environment(html).from_string(_templates.SVG_MACRO + template if html else template)  # pylint: disable=protected-access
    return _COMPILED[key].render(dict(context, css=_templates.CSS) if html else context)


def _system_usage(usage, meter, name):
    """The system's usage lines and capacity of the period, read here (one paged read of the billing records that
    overlap it, only the fields the engine and the capacity need)."""
    newest = [None]

    def keep(rows):
        for raw in rows:
            mark = (to_int(raw.get('created')), to_int(raw.get('$key')))
            if newest[0] is None or mark > newest[0][0]:
                newest[0] = (mark, raw)

    fields = list(RECORD_FIELDS) + ['created'] + [field for field, _divisor in CAPACITY_FIELDS.values()]
    count = usage.system(meter, system_owner(name), fields=fields, on_page=keep)
    return meter.lines(), capacity_of(newest[0][1] if newest[0] else None), count


def run_tenant_reports(client, request, period, check_mode=False, diff=False, now=None, page_size=10000, system_lines=None,
                       system_capacity=None):
    """Meter the tenants' history over the period once, bill it and write their reports and the overview.

    ``period``: the system report's period (``request.period()``); the billing period is [since, until + 1).
    ``system_lines``: the system report's usage lines of the same period and charge periods (``group_by``,
    ``_rating.UsageLine``), as the module hands them over, so the overview's system figures are the system report's;
    without them (``tenants_only``) the billing records are read here. ``system_capacity``: metric -> the newest
    record's capacity; without it, one request reads the newest record of the period.
    Returns ``(result, bills)``: the result keys ``tenant_files``, ``tenants_overview``, ``tenant_sha256``,
    ``tenant_changed_files``, ``tenant_count``, ``tenant_sample_count``, ``tenant_bills`` (with a rate card), ``changed``,
    ``warnings`` (and ``diff`` lines), and ``[(owner, _rating.Bill)]`` of every tenant billed (empty without a rate
    card): the very bills the reports show, which the statements are issued from (``statement.run_statements``)."""
    selectors, zone, card, basis, formats = request.tenants, request.zone, request.rates, request.tenant_basis, request.formats
    name, stem, mode, dest, group_by = request.name, request.stem, request.mode, request.dest, request.group_by
    csv_style = request.csv_style
    start, end = period['since_epoch'], period['until_epoch'] + 1
    bounds = edges(start, end, group_by, zone)
    tenants = TenantUsage(client, page_size=page_size, now=now).tenants(selectors or None)
    target = FileSet(dest, mode, check_mode)
    work_dir = target.work_dir
    files = OrderedDict()
    overview = None
    usage = Usage(client, page_size)
    meter = Meter(bounds)
    try:
        for key, tenant_name in tenants:
            files[key] = _TenantFiles(key, tenant_name, formats, zone, work_dir, csv_style)
        overview = _TenantFiles(None, OVERVIEW_STEM, [], zone, work_dir, csv_style)

        current = []  # the tenant whose files are open (samples come tenant by tenant)

        def add(owner, raw, seconds):
            item = files.get(owner.key)
            if item is None:  # a tenant deleted during the period: its own files too
                item = files[owner.key] = _TenantFiles(owner.key, owner.name, formats, zone, work_dir, csv_style)
            if current and current[0] is not item:
                current.pop().suspend()
            if not current:
                current.append(item)
            item.add(raw, seconds, usage.problems)

        try:
            owners = usage.tenants(meter, HISTORY['long'], tenants, basis, every=not selectors, on_sample=add, extra_fields=RAW_FIELDS)
            if system_lines is None:
                system_lines, system_capacity, _count = _system_usage(usage, Meter(bounds), name)
            elif system_capacity is None:
                system_capacity = capacity_of(Billing(client, page_size=page_size).latest_raw(
                    user_filter=usage_filter(start, end), fields=['$key', 'created'] + [field for field, _d in CAPACITY_FIELDS.values()]))
        except VergeError as exc:
            exc.msg = '%s. The tenant reports had read %d sample(s) of %s .. %s when this happened; no tenant file was written.' % (
                exc.msg.rstrip('.'), sum(item.count for item in files.values()), period['since'], period['until'])
            raise
        for owner in owners:
            if owner.key not in files:  # a deleted tenant whose samples bill nothing inside the period
                files[owner.key] = _TenantFiles(owner.key, owner.name, formats, zone, work_dir, csv_style)
        # Every tenant gets a stem (never an error): transliterated, tenant-<$key>, or with -<$key> on a clash; the
        # deleted ones too, known only now.
        tenant_parts, stem_notes = tenant_stems([(owner.key, owner.name) for owner in owners], reserved=(OVERVIEW_STEM,))
        stems = dict((key, '%s-%s' % (stem, part)) for key, part in tenant_parts.items())
        lines_of = OrderedDict((owner, []) for owner in owners)
        all_lines = meter.lines()
        for line in all_lines:
            lines_of[line.owner].append(line)
        seconds_of = {}
        for (owner, index), values in meter.seconds.items():
            seconds_of.setdefault(owner, {})[index] = values
        currency = card.currency if card else ''
        priced_of = OrderedDict((owner, price(lines_of[owner], card)) for owner in owners) if card else {}
        bill_of = OrderedDict((owner, Bill(owner, priced_of[owner], card)) for owner in owners) if card else {}
        budgets, budget_warnings = tenant_budgets(request, owners, bill_of, seconds_of)
        budget_of = dict((item['key'], item) for item in budgets['tenants']) if budgets else {}
        entries, bills = [], []
        for owner in owners:
            item = files[owner.key]
            item.close()
            lines = lines_of[owner]
            priced = priced_of.get(owner)
            bill = bill_of.get(owner)
            if bill is not None:
                bills.append(bill)
            summary = summarize_samples([sample + (None,) for sample in item.samples], weights=item.seconds)
            if item.samples:
                summary['period_start'] = iso_in(max(min(sample[0] for sample in item.samples), start), zone)
            periods = charge_periods(bounds, group_by, zone, lines, priced, seconds_of.get(owner, {}), card.precision if card else 0)
            tenant = dict(key=owner.key, name=owner.name, state=owner.state)
            entries.append(dict(tenant, sample_count=item.count, hours=summary['hours'], quantities=quantities(lines), bill=bill,
                                file_stem=stems[owner.key]))
            if 'json' in formats:
                head = dict(
                    generator=GENERATOR, layout=LAYOUT, kind='tenant', name=name, tenant=tenant, period=period, rates=card and dict(card),
                    basis=basis, summary=summary, bill=bill.as_dict() if bill else None,
                    usage=[dict(metric=line.metric, quantity_unit=METRIC[line.metric].quantity_unit, start=line.start, end=line.end,
                                quantity=line.quantity) for line in lines],
                    periods=[_plain(row) for row in periods] if group_by else [], sample_count=item.count)
                if budgets is not None:
                    head['budget'] = budget_of.get(owner.key)
                head['record_fields'] = list(JSON_FIELDS) + [BILLED]
                item.finish_json(head)
            context = dict(generator=GENERATOR, title='VergeOS tenant report: %s (%s), %s' % (owner.name, name, period['label']),
                           name=name, tenant=tenant, period=period, summary=summary, basis=basis, bill=bill,
                           bill_rows=bill_rows(bill) if bill else [], currency=currency, usage_rows=usage_rows(summary),
                           periods=periods if group_by else [], group_by=group_by or 'period', parts=PARTS, units=PART_UNITS,
                           charts=[], chart_notes=[])
            context.update(budget_context(budget_of.get(owner.key), card))
            if 'markdown' in formats:
                item.write('markdown', _render(_templates().TENANT_MARKDOWN, context, False))
            if 'html' in formats:
                context['charts'], context['chart_notes'] = tenant_charts(item.samples, zone)
                item.write('html', _render(_templates().TENANT_HTML, dict(context, extra_css=_templates().OVERVIEW_CSS), True))
            item.samples = None
        rows, totals = overview_rows(entries, card)
        hours = (end - start) / 3600
        metrics, cost_totals, negative = reconcile(system_lines, all_lines, system_capacity or {}, hours, card, bills, name)
        warnings = stem_notes + usage.messages() + budget_warnings
        if negative:
            warnings.append('Unallocated is negative for %s: the tenants (%s basis) were billed more than the system measured in %s .. %s; '
                            'the overview shows it as it is.' % (', '.join(negative), basis, period['since'], period['until']))
        _write_overview(overview, formats, rows, totals, metrics, cost_totals, card, csv_style, dict(
            generator=GENERATOR, name=name, period=period, basis=basis, hours=hours, warnings=warnings, negative=negative,
            budgets=budgets, bills=bills))
        result = _place_all(files, stems, overview, formats, target, (name, stem), period, diff)
        if budgets is not None:
            result['budgets'] = budgets
        result['warnings'][:0] = warnings + ([target.removed_warning()] if target.removed else [])
        if card is not None:
            result['tenant_bills'] = dict((entry['name'], entry['bill'].as_dict()) for entry in entries)
        result['period'] = period
        return result, list(bill_of.items())
    finally:
        for item in list(files.values()) + ([overview] if overview is not None else []):
            item.discard()
        target.discard()


def tenant_budgets(request, owners, bill_of, seconds_of):
    """(the budgets block of the tenants, warnings) with ``request.budgets`` (else (None, [])): each tenant's bill and
    the seconds its samples measured inside the period (``seconds_of``: owner -> charge period -> seconds)."""
    if request.budgets is None or not bill_of:
        return None, []
    measured = [(bill_of[owner], math.fsum(math.fsum(values) for values in seconds_of.get(owner, {}).values())) for owner in owners]
    return budget_figures(request.budgets, request.asked['month'], request.zone, request.now, request.rates, tenants=measured)


def budget_context(figures, card):
    """The template keys of one tenant's budget section (``templates.budget_view``)."""
    from ansible_collections.vergeio.billing.plugins.module_utils._reports.templates import budget_view  # pylint: disable=import-outside-toplevel
    lines, alerts, note = budget_view(figures, card.precision if card else 2, card.currency if card else '')
    return dict(budget=figures, budget_lines=lines, budget_alerts=alerts, budget_note=note)


def _templates():
    from ansible_collections.vergeio.billing.plugins.module_utils._reports import tenant_templates  # pylint: disable=import-outside-toplevel
    return tenant_templates


def _plain(value):
    """JSON-ready: Decimals as their strings (shown amounts), the rest as it is."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return dict((key, _plain(item)) for key, item in value.items())
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    return value


OVERVIEW_CSV_COLUMNS = ('kind', 'tenant_key', 'tenant', 'state', 'sample_count', 'hours') + tuple(
    'quantity_' + part for part, _label, _metrics in PARTS)


def reconciliation_rows(metrics, cost_totals, card):
    """The overview's Unallocated and System rows (``kind`` unallocated / system): per part the shown quantities and
    amounts of the metrics the system measures, so that the tenants plus Unallocated are the system."""
    out = []
    for kind in ('unallocated', 'system'):
        row = dict(kind=kind, tenant='Unallocated' if kind == 'unallocated' else 'System')
        for part, _label, part_metrics in PARTS:
            chosen = [m for m in metrics if m['metric'] in part_metrics and m['system']]
            if chosen:
                row['quantity_' + part] = sum((m['shown'][kind] for m in chosen), _zero(QUANTITY_PLACES))
                if card is not None:
                    row['cost_' + part] = sum((m['shown'][kind + '_cost'] for m in chosen), _zero(card.precision))
        if card is not None:
            row['cost_total'] = cost_totals[kind + '_cost']
        out.append(row)
    return out


# The overview's workbook: its CSV columns (kind and currency aside: the currency is in the amounts' format).
OVERVIEW_XLSX_COLUMNS = (('tenant', 'Tenant', 'text'), ('tenant_key', '$key', 'id'), ('state', 'State', 'text'),
                         ('sample_count', 'Samples', 'int'), ('hours', 'Hours', 'number')) + tuple(
    ('quantity_' + part, '%s (%s)' % (label, PART_UNITS[part]), 'quantity') for part, label, _metrics in PARTS)


def _overview_workbook(overview, rows, totals, extra_rows, card, info):
    """Overview (a row per tenant; Total, Unallocated and System below the table), Lines (every tenant's bill lines)
    and, with budgets, Budgets."""
    columns = list(OVERVIEW_XLSX_COLUMNS) + ([('cost_' + part, label, 'money') for part, label, _metrics in PARTS]
                                             + [('cost_total', 'Total', 'money'), ('exact_total', 'Exact total', 'exact')] if card else [])
    path, handle = new_temp(overview.work_dir, 'xlsx', binary=True)
    handle.close()
    overview.temps['xlsx'] = (path, handle)
    book = OverviewWorkbook(path, info['name'], info['period'], card)
    try:
        book.write([(title, kind) for _key, title, kind in columns], [[row.get(key) for key, _title, _kind in columns] for row in rows],
                   [[row.get(key) for key, _title, _kind in columns] for row in [totals] + extra_rows], info['bills'], info['budgets'])
    finally:
        book.discard()


def _write_overview(overview, formats, rows, totals, metrics, cost_totals, card, csv_style, info):
    currency = card.currency if card else ''
    columns = list(OVERVIEW_CSV_COLUMNS) + (['cost_' + part for part, _label, _metrics in PARTS] + ['cost_total', 'currency'] if card else [])
    if 'csv' in formats:
        handle = overview._temp('csv', newline='')  # pylint: disable=protected-access
        writer = csv_style.writer(handle)  # guards every text cell; Decimals with the decimal mark
        writer.writerow(columns)
        for kind, row in [('tenant', row) for row in rows] + [('total', totals)]:
            row = dict(row, kind=kind, currency=currency)
            writer.writerow([row.get(column) for column in columns])
        # Per metric the system and Unallocated (tenants + unallocated = system); their own lines after the totals.
        for row in reconciliation_rows(metrics, cost_totals, card):
            writer.writerow([dict(row, currency=currency).get(column) for column in columns])
        handle.close()
    if 'xlsx' in formats:
        _overview_workbook(overview, rows, totals, reconciliation_rows(metrics, cost_totals, card), card, info)
    if 'json' in formats:
        overview.write('json', json.dumps(_plain(dict(
            generator=info['generator'], layout=LAYOUT, kind='tenants', name=info['name'], period=info['period'],
            rates=card and dict(card), basis=info['basis'], tenants=rows, totals=totals,
            metrics=[dict(metric=m['metric'], label=m['label'], unit=m['unit'], quantity_unit=m['quantity_unit'], capacity=m['capacity'],
                          unit_price=m.get('unit_price'), exact=m['exact'], shown=m['shown']) for m in metrics],
            metric_totals=cost_totals, warnings=info['warnings'], **({'budgets': info['budgets']} if info['budgets'] else {}))),
            indent=1, ensure_ascii=False) + '\n')
    if 'markdown' in formats or 'html' in formats:
        context = dict(info, title='VergeOS tenants overview: %s, %s' % (info['name'], info['period']['label']), rows=rows, totals=totals,
                       budget_alerts=overview_alerts(info['budgets'], card), budget_month=(info['budgets'] or {}).get('month'),
                       metrics=metrics, metric_totals=cost_totals, cost=card is not None, currency=currency, parts=PARTS, units=PART_UNITS,
                       bars=cost_bars([(row['tenant'], row['cost_total']) for row in rows], currency) if card is not None and rows else None)
        if 'markdown' in formats:
            overview.write('markdown', _render(_templates().OVERVIEW_MARKDOWN, context, False))
        if 'html' in formats:
            overview.write('html', _render(_templates().OVERVIEW_HTML, dict(context, extra_css=_templates().OVERVIEW_CSS), True))


# A tenant's own files: every format but xlsx (the overview's workbook has every tenant's lines on its Lines sheet).
TENANT_FORMATS = ('csv', 'json', 'markdown', 'html')


def _place_all(files, stems, overview, formats, target, system, period, diff):
    """Every tenant's files and the overview's as one FileSet: all names are checked before the first is replaced."""
    label = period['label']
    name, stem = system
    result = dict(tenant_files={}, tenant_sha256={}, tenant_changed_files={}, tenants_overview={}, warnings=[])
    ordered = sorted(files.items(), key=lambda pair: (pair[1].name, pair[0]))
    tenant_formats = [fmt for fmt in formats if fmt in TENANT_FORMATS]
    for key, item in ordered:
        owner = FileOwner.tenant(name, key, item.name)
        for fmt in tenant_formats:
            target.add(owner, '%s-%s' % (stems[key], label), fmt, item.temps[fmt][0])
    for fmt in formats:
        target.add(FileOwner.overview(name), '%s-%s-%s' % (stem, OVERVIEW_STEM, label), fmt, overview.temps[fmt][0])
    placed = target.place()
    outcome = [(member['path'], done) for member, done, _digest in placed]
    by_file = iter(placed)
    for key, item in ordered:
        tenant_name = item.name
        paths, digests = {}, {}
        for fmt in tenant_formats:
            member, done, digests[fmt] = next(by_file)
            paths[fmt] = member['path']
            if done != 'unchanged':
                result['tenant_changed_files'].setdefault(tenant_name, {})[fmt] = paths[fmt]
        result['tenant_files'][tenant_name] = paths
        result['tenant_sha256'][tenant_name] = digests
        if not item.count:
            result['warnings'].append('Tenant %s ($key %d) has no statistics sample in %s .. %s: its report bills nothing.'
                                      % (tenant_name, key, period['since'], period['until']))
    for fmt in formats:
        member, done, _digest = next(by_file)
        result['tenants_overview'][fmt] = member['path']
        if done != 'unchanged':
            result['tenant_changed_files'].setdefault('(overview)', {})[fmt] = member['path']
    result['tenant_count'] = len(files)
    result['tenant_sample_count'] = sum(item.count for item in files.values())
    result['changed'] = any(done != 'unchanged' for _final, done in outcome)
    if diff:
        result['diff_lines'] = ['%s %s (%s)' % ('would write' if target.check_mode else 'wrote', final, done) for final, done in outcome if done != 'unchanged']
    return result


def overview_alerts(budgets, card):
    """One line per tenant over its budget or forecast to be, for the overview's Budgets section."""
    from ansible_collections.vergeio.billing.plugins.module_utils._reports.templates import budget_view  # pylint: disable=import-outside-toplevel
    out = []
    for item in (budgets or {}).get('tenants') or ():
        for alert in budget_view(item, card.precision, card.currency)[1]:
            out.append('%s ($key %s): %s' % (item['name'], item['key'], alert))
    return out


def merge_tenant_result(result, extra):
    """Add the keys of run_tenant_reports() to the module result of the system report (or of none); the budgets of
    the two join (``_budget.merge_figures``)."""
    if 'budgets' in extra:
        extra['budgets'] = merge_figures(result.get('budgets'), extra['budgets'])
    result['changed'] = bool(result.get('changed')) or extra.pop('changed')
    result.setdefault('warnings', []).extend(extra.pop('warnings'))
    lines = extra.pop('diff_lines', None)
    if lines is not None:
        before = (result.get('diff') or {}).get('prepared') or ''
        result['diff'] = dict(prepared=before + ''.join(line + '\n' for line in lines))
    result.setdefault('period', extra['period'])
    extra.pop('period')
    result.update(extra)
    return result
