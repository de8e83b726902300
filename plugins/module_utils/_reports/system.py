# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vergeio.billing contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The billing report of one system for one period: one paged read, metered by the rating engine, four files
written atomically.

``run_report()`` is what ``verge_billing_report`` does:

1. The period (``request.ReportRequest``, validated once): a calendar ``month`` or ``since``/``until`` on the calendar
   of ``timezone``; the billing period is [since, until + 1 s). The read is pinned to the newest record the server
   held when the task started (its ``created``, one ``sort=-created limit=2`` request, ``Billing.latest_raw``): a record created while the
   pages are read cannot slip into some files. An open ``until`` ends at that record's ``created``.
2. ONE read of the records whose **usage** overlaps the period (``_usage.Usage.system``: ``to gt START and from lt
   END``, not ``created``: the record of 23:00-24:00 on the last day is created after midnight, and a monthly bill
   created on the 1st measured the month before), page by page (5,000 records a page), oldest first
   (``sort=created``), every field. Each record is metered into a ``_rating.Meter`` whose charge periods are the
   ``group_by`` periods (``_rating.edges``): its usage prorated to the seconds of its ``from``..``to`` inside the
   period and inside each charge period. Each page is also fed to the summary (``_summary.Summary`` with the same
   prorating, for the statistics), converted (``_records.convert_columns``) and streamed to the CSV file and the
   JSON record spool, each record with its cost (the engine's price of its prorated usage), and to the chart
   series. The page is then dropped: memory grows with the figures only.
3. Money comes from the engine: the meter's usage lines priced (``_rating.price``), one ``_rating.Bill`` (a line per
   metric: quantity, unit, unit price, amount rounded to the card's ``precision``, the total the sum of the rounded
   lines) for the cost table, and the charge periods' lines for the "By day/week/month" table, whose amounts are the
   bill's total apportioned (``_rating.apportion``) so that the column adds up to the total it shows.
4. The files ``<dest>/<name>-<label>.<ext>`` are written as temporary files in ``dest`` and compared with what is
   there: an identical file is left alone (and is no change); a different one replaces it by ``os.replace`` (atomic
   on one file system). In check mode the temporary files go to a private temporary directory and nothing in
   ``dest`` is touched. The bytes depend on the data only (no run time in them), so a rerun changes nothing.

The JSON layout (``layout`` 1) is stable; the fleet consolidation reads ``name``, ``period``, ``rates``,
``summary`` and ``record_count`` from it::

    {"generator": "vergeio.billing.verge_billing_report", "layout": 1, "name": ..., "period": {...},
     "rates": {...} | null, "summary": {...}, "bill": {...} | null, "record_count": N,
     "record_fields": ["key", "created_epoch", ...], "records": [[...], ...]}

``bill`` (with a rate card): ``currency``, ``precision``, ``lines`` (``metric``, ``label``, ``quantity``,
``quantity_unit``, ``unit_price``, ``amount``: the rounded amount as a decimal string, ``exact``: the unrounded
amount), ``total`` (the sum of the rounded amounts, a decimal string), ``exact`` (the unrounded total) and
``periods`` (the charge periods: ``period``, ``start``, ``end``, ``amount``, ``exact``).

``records`` are arrays in ``record_fields`` order, oldest first: the record's own fields in the API's units
(integers: MB for RAM, bytes for physical RAM and storage, epoch seconds for times), then ``cost_*`` parts when a
rate card was given (the record's usage inside the period, priced). Arrays, not objects, because the names would
otherwise repeat 8,760 times in a year and triple the file (the CSV, with every derived ``*_gb`` and ISO field, is
the spreadsheet form).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import shutil
import tempfile
import time
from decimal import Decimal

from ansible_collections.vergeio.billing.plugins.module_utils._billing import Billing
from ansible_collections.vergeio.billing.plugins.module_utils._budget import budget_figures
from ansible_collections.vergeio.billing.plugins.module_utils._reports.charts import Series, chart
from ansible_collections.vergeio.billing.plugins.module_utils._reports.files import (
    EXTENSIONS, CsvStyle, FileOwner, FileSet, new_temp, safe_name,
)
from ansible_collections.vergeio.billing.plugins.module_utils._reports.report_workbook import SystemWorkbook
from ansible_collections.vergeio.billing.plugins.module_utils._reports.worker import ForkedWorker, WorkerFailed, can_fork
from ansible_collections.vergeio.billing.plugins.module_utils._client import VergeError
from ansible_collections.vergeio.billing.plugins.module_utils._rating import (
    SYSTEM_METRICS, Bill, Meter, apportion, money, price, system_owner,
)
from ansible_collections.vergeio.billing.plugins.module_utils._records import (
    EPOCH_NAMES, FIELDS, RAW_FIELDS, TIERS, ConversionProblems, convert_columns, output_names, to_int,
)
from ansible_collections.vergeio.billing.plugins.module_utils._summary import COST_PARTS, Summary, record_cost_columns
from ansible_collections.vergeio.billing.plugins.module_utils._usage import Usage

GENERATOR = 'vergeio.billing.verge_billing_report'
LAYOUT = 1
# Rows per request. 5,000 rather than the summary's 10,000: a year of hourly records (8,760) is then two pages, and
# the client fetches the second while the first is converted and written (the server's work and ours overlap).
PAGE_SIZE = 5000
# The record's own fields in the JSON records: the key, the epoch times, the description and every counter in the
# API's unit (the *_gb, ISO and percentage fields of the CSV derive from these).
JSON_RECORD_FIELDS = ('key',) + tuple(EPOCH_NAMES[name] for name, _raw, kind in FIELDS if kind == 'epoch') + ('description',) + tuple(
    name for name, _raw, kind in FIELDS if kind in ('int', 'mb', 'bytes') and name != 'key')
COST_COLUMNS = tuple('cost_%s' % part for part in COST_PARTS)
_JSON = json.JSONEncoder(separators=(',', ':'), ensure_ascii=False)
USAGE_HEADER = ('Metric', 'Unit', 'Mean per record', 'Time-weighted mean', '95th percentile', 'Peak', 'Capacity')


def file_stem(name, label):
    """The file name of the report without its extension: ``<safe name>-<label>``."""
    return '%s-%s' % (safe_name(name), label)


def file_names(dest, name, label, formats):
    """format -> path of each file of the report."""
    return dict((fmt, os.path.join(dest, '%s.%s' % (file_stem(name, label), EXTENSIONS[fmt]))) for fmt in formats)


# ---- the report -----------------------------------------------------------------------------------------------------

class _Charts:
    """The chart series of one system, fed record by record (a record whose capacity for a chart is 0 holds no
    measurement for it and is left out of that chart rather than drawn as a drop to 0)."""

    def __init__(self):
        self.cores = (Series('Used'), Series('Total', dashed=True))
        self.ram = (Series('Used'), Series('Total', dashed=True))
        self.tiers = [(Series('Used'), Series('Capacity', dashed=True)) for _tier in TIERS]
        self.gpus = (Series('Used'), Series('Total', dashed=True))
        self.vgpus = (Series('Used'), Series('Total', dashed=True))

    def add(self, columns):
        """Add the points of a page of converted records (columns by name, as convert_columns gives them)."""
        created = columns['created_epoch']
        pairs = [(self.cores, 'used_cores', 'total_cores', 'total_cores'), (self.ram, 'used_ram_gb', 'total_ram_gb', 'total_ram'),
                 (self.gpus, 'gpus_used', 'gpus_total', 'gpus_total'), (self.vgpus, 'vgpus_used', 'vgpus_total', 'vgpus_total')]
        pairs += [(self.tiers[tier], 'tier%d_used_gb' % tier, 'tier%d_total_gb' % tier, 'tier%d_total' % tier) for tier in TIERS]
        for (used, total), used_name, total_name, check in pairs:
            rows = [row for row, (stamp, capacity) in enumerate(zip(created, columns[check])) if stamp and capacity]
            xs = [created[row] for row in rows]
            used.extend(xs, [columns[used_name][row] for row in rows])
            total.extend(xs, [columns[total_name][row] for row in rows])

    def build(self, zone):
        """(charts, notes): the geometry of each chart with data, and a one-line note for each one left out."""
        charts, notes = [], []
        specs = [('chart-cores', 'CPU cores', self.cores, '', 'no record has a core count')]
        specs.append(('chart-ram', 'RAM', self.ram, 'GB', 'no record has a RAM size'))
        for tier in TIERS:
            specs.append(('chart-tier%d' % tier, 'Storage tier %d' % tier, self.tiers[tier], 'GB', 'no capacity on this tier in this period'))
        specs.append(('chart-gpus', 'GPUs', self.gpus, '', 'no GPUs in this period'))
        specs.append(('chart-vgpus', 'vGPUs', self.vgpus, '', 'no vGPUs in this period'))
        for chart_id, title, pair, unit, empty_note in specs:
            used, total = pair
            if not len(used):
                notes.append('%s: chart left out, %s.' % (title, empty_note))
                continue
            if chart_id.startswith('chart-tier') and not used.any_above_zero():
                notes.append('%s: chart left out, never used in this period (capacity up to %s GB).' % (title, _plain(max(total.ys))))
                continue
            if chart_id in ('chart-gpus', 'chart-vgpus') and not (used.any_above_zero() or total.any_above_zero()):
                notes.append('%s: chart left out, %s.' % (title, empty_note))
                continue
            charts.append(chart(chart_id, title, [used, total], unit, zone))
        return charts, notes


def _plain(value):
    return '{:,.1f}'.format(value)


class _RecordFiles:
    """Files a report writes a row per record in: the CSV, the JSON record rows (a spool the JSON file takes them
    from) and the xlsx Records sheet (``report_workbook.SystemWorkbook``), each optional. ``write`` takes converted
    pages; ``add``/``finish`` are also the interface of a ``worker.ForkedWorker``, whose helper process converts each
    page itself (the same ``convert_columns``, so the same values)."""

    def __init__(self, zone, record_columns, currency, csv_writer=None, spool=None, workbook=None):
        self.zone = zone
        self.record_columns = record_columns
        self.currency = currency
        self.csv_writer = csv_writer
        self.spool = spool
        self.workbook = workbook
        self.count = 0

    def needs_times(self):
        """Whether the pages must carry the ISO times (the CSV and the workbook show them; the JSON rows do not)."""
        return self.csv_writer is not None or self.workbook is not None

    def write(self, columns, cost):
        """One converted page (columns by name) and its cost columns (in COST_PARTS order; [] without rates)."""
        count = len(columns['key'])
        if self.spool is not None:
            rows_text = ',\n'.join(map(_JSON.encode, zip(*([columns[name] for name in JSON_RECORD_FIELDS] + cost))))
            self.spool.write((',\n' if self.count else '\n') + rows_text)
        if self.csv_writer is not None:  # text cells (the description, the currency) are guarded by the writer
            extra = cost + [[self.currency] * count] if cost else []
            self.csv_writer.write_columns([columns[name] for name in self.record_columns] + extra)
        if self.workbook is not None:
            self.workbook.add_page(columns, cost[COST_PARTS.index('total')] if cost else None)
        self.count += count

    def add(self, rows, cost):
        """One page of raw records (its conversion notes are the parent's, which converts the page too)."""
        self.write(convert_columns(rows, ConversionProblems(), self.zone, times=self.needs_times()), cost)

    def finish(self, book):
        """Close the CSV, flush the spool (the JSON file takes it), write the workbook's other sheets and the file
        (``book``: the arguments of ``SystemWorkbook.finish``)."""
        if self.csv_writer is not None:
            self.csv_writer.close()
        if self.spool is not None:
            self.spool.flush()
        if self.workbook is not None:
            self.workbook.finish(*book)


class ReportBuilder:
    """Streams pages of raw records (oldest first) into the summary, the CSV file, the JSON record spool and the
    charts; ``meter`` (a ``_rating.Meter`` at the ``group_by`` charge periods of ``period``) is what the records are
    metered into (by ``_usage.Usage.system``), ``owner`` the system's ``_rating.Owner``.

    ``period``: the billing period (start, end), epoch seconds, end exclusive; ``csv_style``: the CSV dialect
    (``files.CsvStyle``, default comma and dot). ``fork``: let a helper process (``worker.ForkedWorker``) write the
    workbook, or without one the CSV and JSON rows, while this one meters, summarises, draws and renders (and writes
    the rest), where that is possible (``worker.can_fork``). Both convert each page (``convert_columns``): the helper
    for its files, this process for the charts, the newest record, its own files and the conversion notes."""

    def __init__(self, formats, rates, group_by, zone, work_dir, period, name='vergeos', csv_style=None, fork=False):
        self.formats = formats
        self.rates = rates
        self.zone = zone
        self.problems = ConversionProblems()
        self.summary = Summary(group_by=group_by, rates=rates, zone=zone, period=period)
        self.meter = Meter(self.summary.bounds)
        self.owner = system_owner(name)
        self.charts = _Charts() if 'html' in formats else None
        self.count = 0
        self.pages = 0
        self.newest = None
        record_columns = output_names()
        self.csv_columns = record_columns + (list(COST_COLUMNS) + ['currency'] if rates else [])
        self.json_fields = list(JSON_RECORD_FIELDS) + (list(COST_COLUMNS) if rates else [])
        self.temps = {}
        self.work_dir = work_dir
        csv_writer = self.spool = self.workbook = self.helper = None
        self.helper_writes_json = False
        if 'csv' in formats:
            csv_writer = (csv_style or CsvStyle()).writer(self._temp('csv', newline=''))
            csv_writer.writerow(self.csv_columns)
        if 'json' in formats:
            self.spool = tempfile.TemporaryFile(mode='w+', encoding='utf-8', dir=work_dir, prefix='.report-records.')
        self.budgets = None
        if 'xlsx' in formats:  # its sheets are created now (Summary first); Records is filled page by page
            path, handle = new_temp(work_dir, 'xlsx', binary=True)
            handle.close()
            self.temps['xlsx'] = (path, handle)
            self.workbook = SystemWorkbook(path, 'VergeOS billing report: %s' % name, period[1], rates, group_by)
        currency = rates['currency'] if rates else None
        self.files = [_RecordFiles(zone, record_columns, currency, csv_writer, self.spool)]
        if self.workbook is not None:
            self.files.append(_RecordFiles(zone, record_columns, currency, workbook=self.workbook))
        moved = self.files[-1]  # the heaviest: the workbook (XlsxWriter takes microseconds a cell), else the CSV and JSON
        if fork and (moved.needs_times() or moved.spool is not None) and can_fork():
            if csv_writer is not None and moved.csv_writer is csv_writer:
                csv_writer.flush()  # the header: from here on the CSV is the helper's
            try:
                self.helper = ForkedWorker(moved, work_dir)
            except OSError:  # no process to spare (ulimit -u): this process writes everything, as where it cannot fork
                self.helper = None
            else:
                self.helper_writes_json = moved.spool is not None  # the JSON file waits for the helper's rows
                self.files.remove(moved)
                if csv_writer is not None and moved.csv_writer is csv_writer:
                    csv_writer.close()  # this process' copy of it

    def _temp(self, fmt, newline=None):
        path, handle = new_temp(self.work_dir, fmt, newline=newline)
        self.temps[fmt] = (path, handle)
        return handle

    def _write_failed(self, exc):
        """The error of a write that failed (a full disk, a file size limit, the helper that died): a message, no traceback."""
        text = '%s: %s' % (exc.strerror, exc.filename) if isinstance(exc, OSError) and exc.strerror and exc.filename else str(exc)
        return ValueError('Writing the report files in %s failed (%s); no file was replaced.' % (self.work_dir, text))

    def add_page(self, rows):
        """One page of raw records (``_add_page``); a write that fails ends the report with a message."""
        try:
            self._add_page(rows)
        except (OSError, WorkerFailed) as exc:
            raise self._write_failed(exc)

    def _add_page(self, rows):
        """One page of raw records, column by column: summary, costs, CSV rows, JSON rows, chart points."""
        self.pages += 1
        page = self.summary.add_rows(rows)
        if page is None:
            return
        count = len(rows)
        cost = []
        if self.rates:
            parts = record_cost_columns(page, self.rates)  # the page's weights: each record's seconds inside the period
            cost = [parts[part] for part in COST_PARTS]
        if self.helper is not None:
            self.helper.add(rows, cost)  # first, so that the helper works while this process converts the page too
        # the CSV and the workbook show times in the zone (*_epoch stay UTC); without them here, no ISO times are made
        columns = convert_columns(rows, self.problems, self.zone, times=any(files.needs_times() for files in self.files))
        for files in self.files:
            files.write(columns, cost)
        newest = max(zip(columns['created_epoch'], columns['key'], range(count)))
        if self.newest is None or newest[:2] > self.newest[0]:
            self.newest = (newest[:2], dict((name, columns[name][newest[2]]) for name in ('total_cores', 'total_ram_gb')))
        if self.charts is not None:
            self.charts.add(columns)
        self.count += count

    def lines(self):
        """The system's usage lines of the period, at the charge periods (``_rating.UsageLine``)."""
        return self.meter.lines()

    def bill(self, summary):
        """(Bill, bill as plain data with its charge periods) from the meter's priced lines; (None, None) without rates.

        The charge periods' amounts are the bill's total apportioned over their exact amounts (``apportion``), so the
        "By day" column adds up to the total the cost table shows."""
        if not self.rates:
            return None, None
        priced = price(self.lines(), self.rates)
        bill = Bill(self.owner, priced, self.rates, metrics=SYSTEM_METRICS)
        periods = summary.get('periods') or []
        amounts = apportion([period['cost']['total'] for period in periods], bill.total, bill.precision)
        data = bill.as_dict()
        data['periods'] = [dict(period=period['period'], start=period['start'], end=period['end'], amount=str(amount),
                                exact=period['cost']['total']) for period, amount in zip(periods, amounts)]
        return bill, data

    def finish(self, name, period, budgets=None):
        """Write the JSON, Markdown, HTML and xlsx temporary files; returns (summary, bill data or None, format -> temporary
        path). ``budgets(bill, measured_seconds)``: the budget figures of the system (``_budget.budget_figures``), when
        budgets were asked for; kept in ``self.budgets``. A write that fails ends the report with a message."""
        try:
            return self._finish(name, period, budgets)
        except (OSError, WorkerFailed) as exc:
            raise self._write_failed(exc)

    def _finish(self, name, period, budgets):
        """``finish``. The JSON file comes last: it takes the helper's rows."""
        priced = price(self.lines(), self.rates) if self.rates else None
        summary = self.summary.result(priced)
        bill, bill_data = self.bill(summary)
        if budgets is not None and bill is not None:
            self.budgets = budgets(bill, self.meter.hours(self.owner) * 3600)
        if 'markdown' in self.formats or 'html' in self.formats:
            # Imported here: Jinja2 is needed for these two formats only (and checked by the module before any read).
            from ansible_collections.vergeio.billing.plugins.module_utils._reports.templates import (  # pylint: disable=import-outside-toplevel
                render_html, render_markdown,
            )
            context = self.context(name, period, summary, bill, bill_data)
            for fmt, render in (('markdown', render_markdown), ('html', render_html)):
                if fmt in self.formats:
                    if fmt == 'html':
                        context['charts'], context['chart_notes'] = self.charts.build(self.zone)
                    handle = self._temp(fmt)
                    handle.write(render(context))
                    handle.close()
        book = (name, period, summary, self.count, bill, (bill_data or {}).get('periods'), self.budgets['system'] if self.budgets else None)
        for files in self.files:
            files.finish(book)
        if self.spool is not None:
            head = (('generator', GENERATOR), ('layout', LAYOUT), ('name', name), ('period', period),
                    ('rates', self.rates and dict(self.rates)), ('summary', summary), ('bill', bill_data), ('record_count', self.count))
            if self.budgets is not None:
                head += (('budgets', self.budgets),)
            head += (('record_fields', self.json_fields),)
            # One top-level key a line, each value compact (the C encoder; an indented summary of 365 periods is slow).
            text = '{\n' + ''.join(' %s: %s,\n' % (_JSON.encode(key), _JSON.encode(value)) for key, value in head) + ' "records": ['
            if self.helper is not None and self.helper_writes_json:  # the helper writes the JSON rows: wait for them
                self.helper.finish(book)
            handle = self._temp('json')
            handle.write(text)
            self.spool.seek(0)
            shutil.copyfileobj(self.spool, handle)
            handle.write('\n ]\n}\n')
            handle.close()
            self.spool.close()
        if self.helper is not None and not self.helper_writes_json:
            self.helper.finish(book)  # every file of the helper is written
        return summary, bill_data, dict((fmt, path) for fmt, (path, _handle) in self.temps.items())

    def context(self, name, period, summary, bill=None, bill_data=None):
        """What the templates show. Money is shown as the bill has it (rounded amounts, totals that are the sums of
        the amounts shown); other figures are rounded by the templates."""
        newest = self.newest[1] if self.newest else None
        periods = summary.get('periods') or []
        header = ['Period', 'Records', 'Hours', 'CPU cores', 'RAM GB', 'Storage GB', 'GPUs', 'vGPUs'] + (['Cost'] if bill else [])
        hours_total = money(summary['hours'], 1)
        hours = apportion([period['hours'] for period in periods], hours_total, 1)
        amounts = [Decimal(item['amount']) for item in bill_data['periods']] if bill else [None] * len(periods)
        rows = [dict(period, shown_hours=shown, amount=amount) for period, shown, amount in zip(periods, hours, amounts)]
        from ansible_collections.vergeio.billing.plugins.module_utils._reports.templates import budget_view  # pylint: disable=import-outside-toplevel
        budget = self.budgets['system'] if self.budgets else None
        budget_lines, budget_alerts, budget_note = budget_view(budget, bill.precision if bill else 2, bill.currency if bill else '')
        return dict(
            budget=budget, budget_lines=budget_lines, budget_alerts=budget_alerts, budget_note=budget_note,
            generator=GENERATOR, title='VergeOS billing report: %s, %s' % (name, period['label']), name=name, period=period,
            summary=summary, bill=bill, bill_lines=shown_lines(bill) if bill else [], currency=bill.currency if bill else '',
            precision=bill.precision if bill else 2, hours_total=hours_total,
            usage_header=USAGE_HEADER, usage_rows=usage_rows(summary, newest), periods=rows,
            period_header=header, group_by=self.summary.group_by or 'period', charts=[], chart_notes=[],
            show_gpus=bool(summary['total_gpus'] or summary['total_vgpus'] or summary['peak_gpus_used'] or summary['peak_vgpus_used']),
        )

    def discard(self):
        """Close and remove every temporary file (after a failure, or once the files are in place)."""
        if self.helper is not None:
            self.helper.stop()
        for path, handle in self.temps.values():
            if not handle.closed:
                handle.close()
            if os.path.exists(path):
                os.unlink(path)
        if self.spool is not None and not self.spool.closed:
            self.spool.close()
        if self.workbook is not None:
            self.workbook.discard()


def shown_lines(bill):
    """The bill's lines a cost table shows: every metric with a price or an amount. A line left out has the amount
    0 exactly (no price, or nothing used), so the total (the sum of every line) is the sum of the lines shown."""
    return [line for line in bill.lines if line.unit_price or line.exact]


def usage_rows(summary, newest):
    """(label, unit, mean over records, time-weighted mean, p95, peak, capacity) rows of the usage table; a tier
    appears when it has capacity or use, GPUs and vGPUs when there are any."""
    tiers = summary['tiers']
    rows = [
        ('CPU cores used', 'cores', None, summary['twa_cpu_cores'], summary['p95_cpu_cores'], summary['peak_cpu_cores'],
         newest['total_cores'] if newest else None),
        ('CPU utilization', '%', summary['avg_cpu_utilization'], None, None, None, None),
        ('RAM used', 'GB', None, summary['twa_ram_gb'], summary['p95_ram_gb'], summary['peak_ram_gb'], newest['total_ram_gb'] if newest else None),
        ('RAM utilization', '%', summary['avg_ram_utilization'], None, None, None, None),
        ('Storage used, all tiers', 'GB', summary['avg_storage_used_gb'], summary['twa_storage_used_gb'], summary['p95_storage_used_gb'],
         summary['peak_storage_used_gb'], sum(tier['total_gb'] for tier in tiers)),
    ]
    for tier in tiers:
        if tier['total_gb'] or tier['peak_used_gb']:
            rows.append(('Storage tier %d used' % tier['tier'], 'GB', tier['avg_used_gb'], tier['twa_used_gb'], tier['p95_used_gb'],
                         tier['peak_used_gb'], tier['total_gb']))
    if summary['total_gpus'] or summary['peak_gpus_used']:
        rows.append(('GPUs used', 'GPUs', summary['avg_gpus_used'], summary['twa_gpus_used'], summary['p95_gpus_used'],
                     summary['peak_gpus_used'], summary['total_gpus']))
    if summary['total_vgpus'] or summary['peak_vgpus_used']:
        rows.append(('vGPUs used', 'vGPUs', summary['avg_vgpus_used'], summary['twa_vgpus_used'], summary['p95_vgpus_used'],
                     summary['peak_vgpus_used'], summary['total_vgpus']))
    return rows


def old_total(path):
    """``(total, currency)`` of an earlier JSON report at ``path`` (its bill's total, or its summary's cost rounded as
    its rate card says), or None when there is none or it cannot be read: for ``--diff``."""
    try:
        with open(path, encoding='utf-8') as handle:
            document = json.load(handle)
        bill = document.get('bill')
        if isinstance(bill, dict) and bill.get('total') is not None:
            return str(bill['total']), str(bill.get('currency') or '')
        rates = document.get('rates') or {}
        cost = (document.get('summary') or {}).get('cost')
        if isinstance(cost, dict):
            return str(money(cost['total'], int(rates.get('precision', 2)))), str(cost.get('currency') or '')
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        pass
    return None


def _total_text(total):
    return 'total: %s %s\n' % total if total else 'total: (none)\n'


def report_diff(paths, formats, changed, outcome, check_mode, bill, old):
    """The ``diff`` of a report: the files that change, and the old and the new total (when either is known)."""
    lines = ['%s %s (%s)' % ('would write' if check_mode else 'wrote', paths[fmt], outcome[fmt]) for fmt in formats if fmt in changed]
    new = (str(bill['total']), bill['currency']) if bill else None
    out = {}
    if new or old:
        before, after = _total_text(old), _total_text(new)
        if before != after:
            lines.append('%s -> %s' % (before.strip(), after.strip()))
        out.update(before=before, after=after, before_header=paths['total'], after_header=paths['total'])
    out['prepared'] = '\n'.join(lines) + '\n' if lines else ''
    return out


def run_report(client, request, check_mode=False, diff=False, now=None, page_size=PAGE_SIZE):
    """Read the period once and write the report files; returns ``(result, lines)``: the module result (without
    ``warnings`` shaping) and the system's usage lines of the period at the ``group_by`` charge periods
    (``_rating.UsageLine``, for the tenant reports' Unallocated; never in the Ansible result).

    ``request``: a ``request.ReportRequest`` (the options, validated once)."""
    zone, asked, rates, formats, name, mode, dest = (request.zone, request.asked, request.rates, request.formats, request.name,
                                                     request.mode, request.dest)
    files = FileSet(dest, mode, check_mode)
    builder = None
    try:
        billing = Billing(client, page_size=page_size)
        newest = billing.latest_raw()  # the newest record the server holds now: the pin of the read
        pin = None if newest is None else to_int(newest.get('created'), 'created', billing.problems)
        since, until = asked['since_epoch'], asked['until_epoch']
        if until is None:  # an open range ends at the newest record (or, with none since `since`, now)
            until = pin if pin is not None and pin >= since else (int(time.time()) if now is None else int(now))
        period = request.period(until)
        start, end = period['since_epoch'], period['until_epoch'] + 1
        builder = ReportBuilder(formats, rates, request.group_by, zone, files.work_dir, (start, end), name, request.csv_style, fork=True)
        usage = Usage(client, page_size=page_size)
        warnings = []
        if newest is not None:
            try:
                usage.system(builder.meter, builder.owner, fields=RAW_FIELDS, on_page=builder.add_page, sort='created', created_until=pin)
            except VergeError as exc:
                exc.msg = '%s. The report had read %d page(s) and %d record(s) of %s .. %s when this happened; no file was written.' % (
                    exc.msg.rstrip('.'), builder.pages, builder.count, period['since'], period['until'])
                raise
        if not builder.count:
            warnings.append('No billing record measured usage in %s .. %s (%s): the report says "no records" and bills nothing.'
                            % (period['since'], period['until'], period['timezone']))

        def budgets(bill, seconds):
            return budget_figures(request.budgets, asked['month'], zone, request.now, rates, system=(bill, seconds))[0]
        summary, bill, temps = builder.finish(name, period, budgets if request.budgets is not None else None)
        warnings.extend(usage.anomalies.messages())
        problems = billing.problems + builder.problems
        if problems:
            warnings.append('Some values from the API were not numbers and were counted as 0: %s' % ', '.join(problems[:50]))
        json_path = file_names(dest, name, period['label'], ['json'])['json']
        old = old_total(json_path) if diff else None
        owner, stem = FileOwner.system(name), file_stem(name, period['label'])
        for fmt in formats:
            files.add(owner, stem, fmt, temps[fmt])
        paths, outcome, digests = {}, {}, {}
        for member, done, digest in files.place():
            paths[member['fmt']], outcome[member['fmt']], digests[member['fmt']] = member['path'], done, digest
        if files.removed:
            warnings.append(files.removed_warning())
        changed = dict((fmt, paths[fmt]) for fmt in formats if outcome[fmt] != 'unchanged')
        result = dict(changed=bool(changed), files=paths, sha256=digests, period=period, summary=summary, record_count=builder.count,
                      changed_files=changed, warnings=warnings)
        if bill:
            result['bill'] = bill
        if builder.budgets is not None:
            result['budgets'] = builder.budgets
        if diff:
            result['diff'] = report_diff(dict(paths, total=json_path), formats, changed, outcome, check_mode, bill, old)
        return result, builder.lines()
    finally:
        if builder is not None:
            builder.discard()
        files.discard()
