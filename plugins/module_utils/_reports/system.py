# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vergeio.billing contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The billing report of one system for one period: one paged read, four files, written atomically.

``run_report()`` is what ``verge_billing_report`` does:

1. The period: a calendar ``month`` or ``since``/``until`` in the forms of ``verge_billing_info``, on the calendar
   of ``timezone`` (``_time``). An open ``until`` is pinned to the newest record's ``created`` as the server holds it
   (``Billing.pin_until``), so the files cover every record the server held when the task started.
2. ONE read of the period, page by page (5,000 records a page), oldest first (``sort=created``), every field. Each page is fed to the
   summary (``_summary.Summary``, column by column), its costs computed with the one cost formula
   (``_summary.cost_columns``), and its records converted (``_records.convert_record``) and streamed to the CSV file
   and the JSON record spool, and to the chart series (``_charts``, kept to 1,500 points a series). The page is then
   dropped: records never pass through Ansible variables, and memory grows with the figures only.
3. The files ``<dest>/<name>-<label>.<ext>`` are written as temporary files in ``dest`` and compared with what is
   there: an identical file is left alone (and is no change); a different one replaces it by ``os.replace`` (atomic
   on one file system). In check mode the temporary files go to a private temporary directory and nothing in
   ``dest`` is touched. The bytes depend on the data only (no run time in them), so a rerun changes nothing.

The JSON layout (``layout`` 1) is stable; the fleet consolidation reads ``name``, ``period``, ``rates``,
``summary`` and ``record_count`` from it::

    {"generator": "vergeio.billing.verge_billing_report", "layout": 1, "name": ..., "period": {...},
     "rates": {...} | null, "summary": {...}, "record_count": N,
     "record_fields": ["key", "created_epoch", ...], "records": [[...], ...]}

``records`` are arrays in ``record_fields`` order, oldest first: the record's own fields in the API's units
(integers: MB for RAM, bytes for physical RAM and storage, epoch seconds for times), then ``cost_*`` parts when a
rate card was given. Arrays, not objects, because the names would otherwise repeat 8,760 times in a year and
triple the file (the CSV, with every derived ``*_gb`` and ISO field, is the spreadsheet form).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import shutil
import tempfile
import time

from ansible_collections.vergeio.billing.plugins.module_utils._billing import ENDPOINT, Billing
from ansible_collections.vergeio.billing.plugins.module_utils._reports.charts import Series, chart
from ansible_collections.vergeio.billing.plugins.module_utils._reports.files import (
    EXTENSIONS, CsvStyle, FileOwner, FileSet, new_temp, safe_name,
)
from ansible_collections.vergeio.billing.plugins.module_utils._client import VergeError
from ansible_collections.vergeio.billing.plugins.module_utils._records import (
    EPOCH_NAMES, FIELDS, RAW_FIELDS, TIERS, ConversionProblems, convert_columns, output_names, to_int,
)
from ansible_collections.vergeio.billing.plugins.module_utils._summary import (
    COST_PARTS, TIER_PARTS, Summary, cost_columns,
)

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
COST_LABELS = dict([('cpu', 'CPU cores'), ('ram', 'RAM'), ('storage', 'Storage (all tiers)'), ('gpu', 'GPUs'), ('vgpu', 'vGPUs'),
                    ('total', 'Total')] + [('tier%d' % tier, 'Storage tier %d' % tier) for tier in TIERS])
RATE_LABELS = [('core_hour', 'CPU core-hour'), ('ram_gb_hour', 'RAM GB-hour')] + [
    ('tier%d_gb_hour' % tier, 'Storage tier %d GB-hour' % tier) for tier in TIERS] + [('gpu_hour', 'GPU-hour'), ('vgpu_hour', 'vGPU-hour')]
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


class ReportBuilder:
    """Streams pages of raw records (oldest first) into the summary, the CSV file, the JSON record spool and the charts."""

    def __init__(self, formats, rates, group_by, zone, work_dir, csv_style=None):
        self.formats = formats
        self.rates = rates
        self.zone = zone
        self.problems = ConversionProblems()
        self.summary = Summary(group_by=group_by, rates=rates, zone=zone)
        self.charts = _Charts() if 'html' in formats else None
        self.count = 0
        self.pages = 0
        self.newest = None
        self.record_columns = output_names()
        self.csv_columns = self.record_columns + (list(COST_COLUMNS) + ['currency'] if rates else [])
        self.json_fields = list(JSON_RECORD_FIELDS) + (list(COST_COLUMNS) if rates else [])
        self.temps = {}
        self.csv_writer = None
        self.spool = None
        self.work_dir = work_dir
        if 'csv' in formats:
            self.csv_writer = (csv_style or CsvStyle()).writer(self._temp('csv', newline=''))
            self.csv_writer.writerow(self.csv_columns)
        if 'json' in formats:
            self.spool = tempfile.TemporaryFile(mode='w+', encoding='utf-8', dir=work_dir, prefix='.report-records.')

    def _temp(self, fmt, newline=None):
        path, handle = new_temp(self.work_dir, fmt, newline=newline)
        self.temps[fmt] = (path, handle)
        return handle

    def add_page(self, rows):
        """One page of raw records, column by column: summary, costs, CSV rows, JSON rows, chart points."""
        self.pages += 1
        page = self.summary.add_rows(rows)
        if page is None:
            return
        count = len(rows)
        columns = convert_columns(rows, self.problems, self.zone)  # the CSV shows times in the zone; *_epoch stay UTC
        cost = []
        if self.rates:
            parts = cost_columns(page.figures(), self.rates)
            cost = [parts[part] for part in COST_PARTS]
        newest = max(zip(columns['created_epoch'], columns['key'], range(count)))
        if self.newest is None or newest[:2] > self.newest[0]:
            self.newest = (newest[:2], dict((name, columns[name][newest[2]]) for name in ('total_cores', 'total_ram_gb')))
        if self.charts is not None:
            self.charts.add(columns)
        if self.spool is not None:
            rows_text = ',\n'.join(map(_JSON.encode, zip(*([columns[name] for name in JSON_RECORD_FIELDS] + cost))))
            self.spool.write((',\n' if self.count else '\n') + rows_text)
        if self.csv_writer is not None:  # text cells (the description, the currency) are guarded by the writer
            extra = cost + [[self.rates['currency']] * count] if self.rates else []
            self.csv_writer.write_columns([columns[name] for name in self.record_columns] + extra)
        self.count += count

    def finish(self, name, period):
        """Write the JSON, Markdown and HTML temporary files; returns (summary, format -> temporary path)."""
        summary = self.summary.result()
        if 'csv' in self.temps:
            self.temps['csv'][1].close()
        if self.spool is not None:
            head = (('generator', GENERATOR), ('layout', LAYOUT), ('name', name), ('period', period),
                    ('rates', self.rates and dict(self.rates)), ('summary', summary), ('record_count', self.count),
                    ('record_fields', self.json_fields))
            handle = self._temp('json')
            # One top-level key a line, each value compact (the C encoder; an indented summary of 365 periods is slow).
            handle.write('{\n' + ''.join(' %s: %s,\n' % (_JSON.encode(key), _JSON.encode(value)) for key, value in head))
            handle.write(' "records": [')
            self.spool.seek(0)
            shutil.copyfileobj(self.spool, handle)
            handle.write('\n ]\n}\n')
            handle.close()
            self.spool.close()
        if 'markdown' in self.formats or 'html' in self.formats:
            # Imported here: Jinja2 is needed for these two formats only (and checked by the module before any read).
            from ansible_collections.vergeio.billing.plugins.module_utils._reports.templates import (  # pylint: disable=import-outside-toplevel
                render_html, render_markdown,
            )
            context = self.context(name, period, summary)
            for fmt, render in (('markdown', render_markdown), ('html', render_html)):
                if fmt in self.formats:
                    if fmt == 'html':
                        context['charts'], context['chart_notes'] = self.charts.build(self.zone)
                    handle = self._temp(fmt)
                    handle.write(render(context))
                    handle.close()
        return summary, dict((fmt, path) for fmt, (path, _handle) in self.temps.items())

    def context(self, name, period, summary):
        """What the templates show (figures are rounded there, not here)."""
        cost = summary.get('cost')
        newest = self.newest[1] if self.newest else None
        header = ['Period', 'Records', 'Hours', 'CPU cores', 'RAM GB', 'Storage GB', 'GPUs', 'vGPUs'] + (['Cost'] if cost else [])
        rates = [(label, self.rates[key]) for key, label in RATE_LABELS if self.rates and self.rates[key]]
        return dict(
            generator=GENERATOR, title='VergeOS billing report: %s, %s' % (name, period['label']), name=name, period=period,
            summary=summary, cost=cost, currency=(cost or {}).get('currency') or '', cost_rows=cost_rows(cost) if cost else [], rate_rows=rates,
            usage_header=USAGE_HEADER, usage_rows=usage_rows(summary, newest), periods=summary.get('periods') or [],
            period_header=header, group_by=self.summary.group_by or 'period', charts=[], chart_notes=[],
            show_gpus=bool(summary['total_gpus'] or summary['total_vgpus'] or summary['peak_gpus_used'] or summary['peak_vgpus_used']),
        )

    def discard(self):
        """Close and remove every temporary file (after a failure, or once the files are in place)."""
        for path, handle in self.temps.values():
            if not handle.closed:
                handle.close()
            if os.path.exists(path):
                os.unlink(path)
        if self.spool is not None and not self.spool.closed:
            self.spool.close()


def cost_rows(cost):
    """(label, amount) rows of a cost: CPU, RAM, the tiers that cost anything, storage, GPUs, vGPUs, total."""
    rows = []
    for part in COST_PARTS:
        if part in TIER_PARTS:
            if cost['tiers'][part]:
                rows.append((COST_LABELS[part], cost['tiers'][part]))
        else:
            rows.append((COST_LABELS[part], cost[part]))
    return rows


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


def run_report(client, request, check_mode=False, diff=False, now=None, page_size=PAGE_SIZE):
    """Read the period once and write the report files; returns the module result (without ``warnings`` shaping).

    ``request``: a ``request.ReportRequest`` (the options, validated once)."""
    zone, asked, rates, formats, name, mode, dest = (request.zone, request.asked, request.rates, request.formats, request.name,
                                                     request.mode, request.dest)
    files = FileSet(dest, mode, check_mode)
    builder = None
    try:
        builder = ReportBuilder(formats, rates, request.group_by, zone, files.work_dir, request.csv_style)
        billing = Billing(client, page_size=page_size)
        since = asked['since_epoch']
        until, newest = billing.pin_until(since, asked['until_epoch'], None)
        warnings = []
        if until is None:  # an open range without a record: nothing to pin to; the period ends now
            until = int(time.time()) if now is None else int(now)
        period = request.period(until)
        if newest is not None:
            # The read stops at the newest record the server held when the task started, also inside a period that
            # is not over yet (this month): a record created while the pages are read cannot slip into some files.
            bound = min(until, to_int(newest.get('created')) or until)
            params = dict(fields=','.join(RAW_FIELDS), sort='created', filter='created ge %d and created le %d' % (since, bound))
            try:
                client.get_all(ENDPOINT, params, page_size, on_page=builder.add_page)
            except VergeError as exc:
                exc.msg = '%s. The report had read %d page(s) and %d record(s) of %s .. %s when this happened; no file was written.' % (
                    exc.msg.rstrip('.'), builder.pages, builder.count, period['since'], period['until'])
                raise
        if not builder.count:
            warnings.append('No billing records were created in %s .. %s (%s): the report says "no records" and bills nothing.'
                            % (period['since'], period['until'], period['timezone']))
        summary, temps = builder.finish(name, period)
        problems = billing.problems + builder.problems
        if problems:
            warnings.append('Some values from the API were not numbers and were counted as 0: %s' % ', '.join(problems[:50]))
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
        if diff:
            lines = ['%s %s (%s)' % ('would write' if check_mode else 'wrote', paths[fmt], outcome[fmt]) for fmt in formats if fmt in changed]
            result['diff'] = dict(prepared='\n'.join(lines) + '\n' if lines else '')
        return result
    finally:
        if builder is not None:
            builder.discard()
        files.discard()
