# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vergeio.billing contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Tenant reports of ``verge_billing_report``: one report per tenant and a tenants overview, in every format.

``run_tenant_reports()`` is what the module's ``tenants`` option adds:

1. The tenants (``_tenants.TenantUsage.tenants``: names or ``$key``s, or every tenant that is not a snapshot) and
   ONE paged read of their statistics history over the report's period (``_tenants.TenantUsage.read``), every field.
   Each sample is streamed to its tenant's CSV file and JSON record spool, and its figures are kept for the summary
   (``_tenants.summarize_samples``: the same weights, figures and costs as ``verge_tenant_usage_info``) and the charts.
2. Per tenant, ``<dest>/<name>-<tenant>-<label>.<ext>``: CSV (one row per sample, in the order VergeOS stored them,
   oldest first, every record field of ``verge_tenant_usage_info``, times in the report's zone), JSON (layout 1, kind
   ``tenant``: the period, rate card, basis, summary and the samples as arrays in the API's units), Markdown and HTML
   (usage, cost, periods; HTML with charts of cores, RAM and storage over time).
3. ``<dest>/<name>-tenants-<label>.<ext>``: the overview, a row per tenant (samples, hours, time-weighted allocation
   and use, cost parts and total) and a totals row; HTML with a bar chart of the cost per tenant.
4. Files are placed like the system report's (``_report.place``): written to temporary files, an identical file is
   left alone, in check mode nothing in ``dest`` is touched.

The samples have no cost column: a sample's weight depends on the next sample and on the median gap of the whole
period, which are known only once the period has been read, and the CSV is written while it is read. The summary's
``cost`` (JSON, Markdown, HTML, overview) is exact.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import math
import os
import shutil
import tempfile

from ansible_collections.vergeio.billing.plugins.module_utils._reports.charts import Series, chart
from ansible_collections.vergeio.billing.plugins.module_utils._client import VergeError
from ansible_collections.vergeio.billing.plugins.module_utils._records import TIERS
from ansible_collections.vergeio.billing.plugins.module_utils._reports.files import (
    CsvStyle, FileOwner, FileSet, tenant_stems,
)
from ansible_collections.vergeio.billing.plugins.module_utils._reports.system import LAYOUT, ReportBuilder
from ansible_collections.vergeio.billing.plugins.module_utils._tenants import (
    BASIS_FIGURES, COLUMNS, RATE_FOR, FIELDS, RAW_FIELDS, TenantUsage, convert_sample, output_names, sample_figures, summarize_samples,
)
from ansible_collections.vergeio.billing.plugins.module_utils._time import iso_in

GENERATOR = 'vergeio.billing.verge_billing_report'
OVERVIEW_STEM = 'tenants'
# The samples in the JSON: the converted record's own fields in the API's units (times as epoch seconds).
JSON_FIELDS = tuple(name + '_epoch' if kind == 'epoch' else name for name, _raw, kind in FIELDS)
COST_PARTS = ('cpu', 'ram', 'storage', 'gpu', 'vgpu', 'ip', 'total')
OVERVIEW_FIGURES = ('cores', 'used_cores', 'ram_allocated_gb', 'ram_used_gb', 'storage_provisioned_gb', 'storage_allocated_gb',
                    'storage_used_gb', 'gpus_total', 'vgpus_total', 'ip_count')
OVERVIEW_COLUMNS = ('tenant_key', 'tenant', 'sample_count', 'hours') + tuple('twa_' + name for name in OVERVIEW_FIGURES)
USAGE_ROWS = (('Cores allocated', 'cores', 'cores'), ('Cores used', 'cores', 'used_cores'), ('RAM allocated', 'GB', 'ram_allocated_gb'),
              ('RAM used', 'GB', 'ram_used_gb'), ('Storage provisioned', 'GB', 'storage_provisioned_gb'),
              ('Storage allocated', 'GB', 'storage_allocated_gb'), ('Storage used', 'GB', 'storage_used_gb'))
COST_LABELS = dict(cpu='CPU cores', ram='RAM', storage='Storage (all tiers)', gpu='GPUs', vgpu='vGPUs', ip='IP addresses', total='Total')
INDEX = dict((name, index) for index, name in enumerate(COLUMNS))


class _TenantFiles:
    """The files of one tenant while the history is read: CSV rows and JSON record arrays as they arrive."""

    def __init__(self, key, name, formats, zone, work_dir, csv_style=None):
        self.key, self.name, self.zone = key, name, zone
        self.samples = []
        self.temps = {}
        self.count = 0
        self.csv = self.spool = None
        self.work_dir = work_dir
        if 'csv' in formats:
            self.csv = (csv_style or CsvStyle()).writer(self._temp('csv', newline=''))
            self.csv.writerow(output_names())
        if 'json' in formats:
            self.spool = tempfile.TemporaryFile(mode='w+', encoding='utf-8', dir=work_dir, prefix='.tenant-records.')

    _temp = ReportBuilder._temp  # a temporary file in work_dir, kept in self.temps (the system report's)

    def add(self, raw, problems):
        sample = convert_sample(raw, problems)
        self.samples.append((sample['timestamp_epoch'], sample['key'], sample_figures(sample)))
        if self.spool is not None:
            self.spool.write(',\n' if self.count else '\n')
            self.spool.write(json.dumps([sample[name] for name in JSON_FIELDS], separators=(',', ':')))
        if self.csv is not None:
            if sample['timestamp']:
                sample['timestamp'] = iso_in(sample['timestamp_epoch'], self.zone)
            self.csv.writerow([sample[name] for name in output_names()])
        self.count += 1

    def write(self, fmt, text):
        handle = self._temp(fmt)
        handle.write(text)
        handle.close()

    def finish_json(self, head):
        """The JSON file: ``head`` (a dict) with ``records`` appended from the spool."""
        text = json.dumps(head, indent=1, ensure_ascii=False)
        self.spool.seek(0)
        with self._temp('json') as handle:
            handle.write(text[:-2] + ',\n "records": [')
            shutil.copyfileobj(self.spool, handle)
            handle.write('\n ]\n}\n')
        self.spool.close()

    def close(self):
        for _path, handle in self.temps.values():
            if not handle.closed:
                handle.close()

    def discard(self):
        self.close()
        for path, _handle in self.temps.values():
            if os.path.exists(path):
                os.unlink(path)
        if self.spool is not None and not self.spool.closed:
            self.spool.close()


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


def cost_rows(cost):
    """(item, what the basis bills for it, rate key, amount) rows: each part, the tiers that cost anything, the total."""
    billed = BASIS_FIGURES[cost['basis']]
    rows = []
    for part in COST_PARTS:
        if part == 'storage':
            rows.extend(('Storage tier %s' % name[4:], _BILLED[billed['tier'] % int(name[4:])], 'tier%s_gb_hour' % name[4:], amount)
                        for name, amount in sorted(cost['tiers'].items()) if amount)
        if part == 'total':
            rows.append((COST_LABELS[part], '', None, cost[part]))
        elif part == 'storage':
            rows.append((COST_LABELS[part], 'the tiers above', None, cost[part]))
        else:
            rows.append((COST_LABELS[part], _BILLED[billed[part]], RATE_FOR[part], cost[part]))
    return rows


_BILLED = dict(cores='cores allocated', used_cores='cores used (core_count x total_cpu / 100)', ram_allocated_gb='RAM allocated, GB',
               ram_used_gb='RAM used, GB', gpus_total='GPUs allocated', gpus_used='GPUs used', vgpus_total='vGPUs allocated',
               vgpus_used='vGPUs used', ip_count='IP addresses')
_BILLED.update(('tier%d_%s_gb' % (tier, kind), 'tier %d %s, GB' % (tier, kind)) for tier in TIERS for kind in ('allocated', 'used', 'provisioned'))


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
    ordered = sorted(rows, key=lambda row: (-row[1], row[0]))
    top = max([amount for _name, amount in ordered] + [0.0])
    left, right, bar_height, gap = 220, 120, 18, 6
    plot = width - left - right
    bars = []
    for index, (name, amount) in enumerate(ordered):
        y = 40 + index * (bar_height + gap)
        bars.append(dict(name=name if len(name) <= 30 else name[:29] + '\u2026', y=y, height=bar_height, x=left,
                         width=round(plot * amount / top, 2) if top > 0 else 0, amount=amount, label_y=y + bar_height - 4))
    return dict(id='chart-tenant-cost', title='Cost per tenant%s' % (' (%s)' % currency if currency else ''), width=width,
                height=40 + len(ordered) * (bar_height + gap) + 10, left=left, bars=bars,
                description='Horizontal bars of the total cost of each of %d tenants, largest first; the largest is %s.'
                % (len(ordered), '{:,.2f}'.format(top)))


def overview_rows(tenants, summaries):
    """(row dicts per tenant sorted by name, totals dict): samples, hours, time-weighted figures, cost parts."""
    rows = []
    for key, name in sorted(tenants, key=lambda tenant: (tenant[1], tenant[0])):
        summary = summaries[key]
        row = dict(tenant_key=key, tenant=name, sample_count=summary['sample_count'], hours=summary['hours'])
        for figure in OVERVIEW_FIGURES:
            row['twa_' + figure] = summary['twa_' + figure]
        if 'cost' in summary:
            for part in COST_PARTS:
                row['cost_' + part] = summary['cost'][part]
        rows.append(row)
    totals = dict(tenant_key=None, tenant='Total', sample_count=sum(row['sample_count'] for row in rows))
    columns = ['hours'] + ['twa_' + figure for figure in OVERVIEW_FIGURES]
    if rows and 'cost_total' in rows[0]:
        columns += ['cost_' + part for part in COST_PARTS]
    for column in columns:
        totals[column] = math.fsum(row[column] for row in rows)
    return rows, totals


def _render(template, context, html):
    from ansible_collections.vergeio.billing.plugins.module_utils._reports import templates as _templates  # pylint: disable=import-outside-toplevel
    environment = _templates._environment(html)  # pylint: disable=protected-access
    if html:
        context = dict(context, css=_templates.CSS)
        template = _templates.SVG_MACRO + template
    return environment.from_string(template).render(context)


def run_tenant_reports(client, request, period, check_mode=False, diff=False, now=None, page_size=10000, system_lines=None):
    """Read the tenants' history over the period once and write their reports and the overview; returns the result
    keys: ``tenant_files``, ``tenants_overview``, ``tenant_sha256``, ``tenant_changed_files``, ``tenant_count``,
    ``tenant_sample_count``, ``changed``, ``warnings`` (and ``diff`` lines).

    ``system_lines``: the system report's usage lines of the period (``_rating.UsageLine``), or None (``tenants_only``).
    Accepted here so the module can hand them over; the tenant side's Unallocated is to use them (not yet)."""
    selectors, zone, rates, basis, formats = request.tenants, request.zone, request.rates, request.tenant_basis, request.formats
    name, stem, mode, dest, group_by = request.name, request.stem, request.mode, request.dest, request.group_by
    csv_style = request.csv_style
    usage = TenantUsage(client, page_size=page_size, now=now)
    tenants = usage.tenants(selectors or None)
    # Every tenant gets a stem (never an error): transliterated, tenant-<$key>, or with -<$key> on a clash.
    tenant_parts, stem_notes = tenant_stems(tenants, reserved=(OVERVIEW_STEM,))
    stems = dict((key, '%s-%s' % (stem, part)) for key, part in tenant_parts.items())
    target = FileSet(dest, mode, check_mode)
    work_dir = target.work_dir
    files = {}
    overview = None
    try:
        for key, tenant_name in tenants:
            files[key] = _TenantFiles(key, tenant_name, formats, zone, work_dir, csv_style)
        overview = _TenantFiles(None, OVERVIEW_STEM, [], zone, work_dir)

        def add(tenant, raw):
            files[tenant].add(raw, usage.problems)

        try:
            usage.read([key for key, _name in tenants], period['since_epoch'], period['until_epoch'], RAW_FIELDS, '$key', add)
        except VergeError as exc:
            exc.msg = '%s. The tenant reports had read %d sample(s) of %s .. %s when this happened; no tenant file was written.' % (
                exc.msg.rstrip('.'), sum(item.count for item in files.values()), period['since'], period['until'])
            raise
        currency = rates['currency'] if rates else ''
        summaries = {}
        for key, tenant_name in tenants:
            item = files[key]
            item.close()
            summary = summarize_samples(item.samples, None, group_by, zone, rates, basis)
            summaries[key] = summary
            head = dict(generator=GENERATOR, layout=LAYOUT, kind='tenant', name=name, tenant=dict(key=key, name=tenant_name),
                        period=period, rates=rates and dict(rates), basis=basis, summary=summary, sample_count=item.count,
                        record_fields=list(JSON_FIELDS))
            if 'json' in formats:
                item.finish_json(head)
            context = dict(generator=GENERATOR, title='VergeOS tenant report: %s (%s), %s' % (tenant_name, name, period['label']),
                           name=name, tenant=dict(key=key, name=tenant_name), period=period, summary=summary, basis=basis,
                           cost=summary.get('cost'), currency=currency, cost_rows=cost_rows(summary['cost']) if rates else [],
                           usage_rows=usage_rows(summary), periods=summary.get('periods') or [], group_by=group_by or 'period',
                           rates=rates or {}, charts=[], chart_notes=[])
            if 'markdown' in formats:
                item.write('markdown', _render(TENANT_MARKDOWN, context, False))
            if 'html' in formats:
                context['charts'], context['chart_notes'] = tenant_charts(item.samples, zone)
                item.write('html', _render(TENANT_HTML, context, True))
            item.samples = None
        rows, totals = overview_rows(tenants, summaries)
        columns = list(OVERVIEW_COLUMNS) + (['cost_' + part for part in COST_PARTS] + ['currency'] if rates else [])
        if 'csv' in formats:
            handle = overview._temp('csv', newline='')  # pylint: disable=protected-access
            writer = csv_style.writer(handle)
            writer.writerow(columns)
            for row in rows + [totals]:
                writer.writerow([row.get(column, currency) for column in columns])  # the writer guards every text cell
            handle.close()
        if 'json' in formats:
            overview.write('json', json.dumps(dict(
                generator=GENERATOR, layout=LAYOUT, kind='tenants', name=name, period=period, rates=rates and dict(rates), basis=basis,
                tenants=[dict(row, file_stem=stems[row['tenant_key']]) for row in rows], totals=totals), indent=1, ensure_ascii=False) + '\n')
        context = dict(generator=GENERATOR, title='VergeOS tenants overview: %s, %s' % (name, period['label']), name=name, period=period,
                       rows=rows, totals=totals, cost=bool(rates), currency=currency, basis=basis,
                       bars=cost_bars([(row['tenant'], row['cost_total']) for row in rows], currency) if rates and rows else None)
        if 'markdown' in formats:
            overview.write('markdown', _render(OVERVIEW_MARKDOWN, context, False))
        if 'html' in formats:
            overview.write('html', _render(OVERVIEW_HTML, context, True))
        result = _place_all(tenants, stems, files, overview, formats, target, (name, stem), period, diff, usage)
        result['warnings'][:0] = stem_notes + ([target.removed_warning()] if target.removed else [])
        result['period'] = period
        return result
    finally:
        for item in list(files.values()) + ([overview] if overview is not None else []):
            item.discard()
        target.discard()


def _place_all(tenants, stems, files, overview, formats, target, system, period, diff, usage):
    """Every tenant's files and the overview's as one FileSet: all names are checked before the first is replaced."""
    label = period['label']
    name, stem = system
    result = dict(tenant_files={}, tenant_sha256={}, tenant_changed_files={}, tenants_overview={}, warnings=[])
    ordered = sorted(tenants, key=lambda tenant: (tenant[1], tenant[0]))
    for key, tenant_name in ordered:
        owner = FileOwner.tenant(name, key, tenant_name)
        for fmt in formats:
            target.add(owner, '%s-%s' % (stems[key], label), fmt, files[key].temps[fmt][0])
    for fmt in formats:
        target.add(FileOwner.overview(name), '%s-%s-%s' % (stem, OVERVIEW_STEM, label), fmt, overview.temps[fmt][0])
    placed = target.place()
    outcome = [(member['path'], done) for member, done, _digest in placed]
    by_file = iter(placed)
    for key, tenant_name in ordered:
        paths, digests = {}, {}
        for fmt in formats:
            member, done, digests[fmt] = next(by_file)
            paths[fmt] = member['path']
            if done != 'unchanged':
                result['tenant_changed_files'].setdefault(tenant_name, {})[fmt] = paths[fmt]
        result['tenant_files'][tenant_name] = paths
        result['tenant_sha256'][tenant_name] = digests
        if not files[key].count:
            result['warnings'].append('Tenant %s ($key %d) has no statistics sample in %s .. %s: its report bills nothing.'
                                      % (tenant_name, key, period['since'], period['until']))
    for fmt in formats:
        member, done, _digest = next(by_file)
        result['tenants_overview'][fmt] = member['path']
        if done != 'unchanged':
            result['tenant_changed_files'].setdefault('(overview)', {})[fmt] = member['path']
    result['tenant_count'] = len(tenants)
    result['tenant_sample_count'] = sum(item.count for item in files.values())
    result['changed'] = any(done != 'unchanged' for _final, done in outcome)
    if usage.problems:
        result['warnings'].append('Some tenant statistics from the API were not numbers and were counted as 0: %s' % ', '.join(usage.problems))
    if diff:
        result['diff_lines'] = ['%s %s (%s)' % ('would write' if target.check_mode else 'wrote', final, done) for final, done in outcome if done != 'unchanged']
    return result


# The start of both pages, up to the title (the styles are the system report's, _templates.CSS).
PAGE_START = '''<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="{{ generator }}"><title>{{ title }}</title><style>{{ css | safe }}</style></head>
<body><main><header><h1>{{ title }}</h1>'''
PAGE_END = '</main></body></html>\n'

TENANT_HTML = PAGE_START + '''
<p class="sub">Tenant {{ tenant.name }} ($key {{ tenant.key }}) of {{ name }}. Period {{ period.since | when }} to {{ period.until | when }}
(inclusive, {{ period.timezone }}). {{ summary.sample_count | plural('sample') }}, {{ summary.hours | num }} hours.</p>
</header>
{% if not summary.sample_count %}
<p class="alert">No statistics samples of this tenant in this period: nothing to bill and nothing to chart.</p>
{% endif %}
<section class="cards">
{{ card('Cores', summary.twa_cores | num, 'allocated, time-weighted; used ' ~ summary.twa_used_cores | num) }}
{{ card('RAM', (summary.twa_ram_allocated_gb | num) ~ ' GB', 'allocated, time-weighted; used ' ~ summary.twa_ram_used_gb | num ~ ' GB') }}
{{ card('Storage', (summary.twa_storage_allocated_gb | num) ~ ' GB', 'allocated, time-weighted; used ' ~ summary.twa_storage_used_gb | num ~ ' GB') }}
{{ card('IP addresses', summary.twa_ip_count | num, 'time-weighted; peak ' ~ summary.peak_ip_count | num) }}
{% if cost %}
{{ card('Total cost', cost.total | money(currency), basis ~ ' basis, ' ~ summary.hours | num ~ ' hours', ' total') }}
{% endif %}
</section>
{% if charts or chart_notes %}
<section><h2>Cores, RAM and storage over time</h2>
{% for c in charts %}<figure>{{ svg(c) }}</figure>
{% endfor %}
{% for note in chart_notes %}<p class="muted">{{ note }}</p>
{% endfor %}</section>
{% endif %}
{% if cost %}
<section><h2>Cost ({{ basis }} basis)</h2>
<table>
<thead><tr><th scope="col">Item</th><th scope="col">Billed</th><th scope="col">Rate per hour</th><th scope="col">Cost</th></tr></thead>
<tbody>
{% for label, billed, key, amount in cost_rows %}
<tr{% if loop.last %} class="total"{% endif %}><th scope="row">{{ label }}</th><td class="text">{{ billed }}</td>{#
#}<td>{{ (rates[key] | rate) if key else '' }}</td><td>{{ amount | money(currency) }}</td></tr>
{% endfor %}
</tbody></table>
<p class="muted">Each sample costs what it bills &times; the rate &times; the hours it stands for.</p>
</section>
{% endif %}
<section><h2>Usage summary</h2>
<table>
<thead><tr><th scope="col">Metric</th><th scope="col">Unit</th><th scope="col">Mean per sample</th><th scope="col">Time-weighted mean</th>{#
#}<th scope="col">95th percentile</th><th scope="col">Peak</th></tr></thead>
<tbody>
{% for label, unit, avg, twa, p95, peak in usage_rows %}
<tr><th scope="row">{{ label }}</th><td>{{ unit }}</td><td>{{ avg | num }}</td><td>{{ twa | num }}</td><td>{{ p95 | num }}</td><td>{{ peak | num }}</td></tr>
{% endfor %}
</tbody></table>
<p class="muted">Each sample stands for the time until the tenant's next sample, at most {{ (summary.max_gap or 0) | num }} s (twice the median
gap); the newest for the median gap. The 95th percentile is nearest-rank over samples.</p>
</section>
{% if periods %}
<section><h2>By {{ group_by }}</h2>
<table>
<thead><tr><th scope="col">Period</th><th scope="col">Samples</th><th scope="col">Hours</th><th scope="col">Cores</th>{#
#}<th scope="col">Cores used</th><th scope="col">RAM GB</th><th scope="col">Storage GB</th>{% if cost %}<th scope="col">Cost</th>{% endif %}</tr></thead>
<tbody>
{% for p in periods %}
<tr><th scope="row">{{ p.period }}</th><td>{{ p.sample_count | num }}</td><td>{{ p.hours | num }}</td><td>{{ p.twa_cores | num }}</td>{#
#}<td>{{ p.twa_used_cores | num }}</td><td>{{ p.twa_ram_allocated_gb | num }}</td><td>{{ p.twa_storage_allocated_gb | num }}</td>{#
#}{% if cost %}<td>{{ p.cost.total | money(currency) }}</td>{% endif %}</tr>
{% endfor %}
</tbody></table>
<p class="muted">Time-weighted means of what was allocated.</p>
</section>
{% endif %}
<footer>Made by {{ generator }} from {{ summary.sample_count | plural('VergeOS tenant statistics sample') }}. Times in {{ period.timezone }}.
Figures are rounded for display; the JSON and CSV reports hold the exact values.</footer>
''' + PAGE_END

TENANT_MARKDOWN = '''# {{ title | md }}

Tenant {{ tenant.name | md }} ($key {{ tenant.key }}) of {{ name | md }}. Period {{ period.since | when }} to {{ period.until | when }} {#
#}(inclusive, {{ period.timezone | md }}): {{ summary.sample_count | plural('sample') }} covering {{ summary.hours | num }} hours. {#
#}Figures rounded for display (exact values in the JSON and CSV reports).
{% if not summary.sample_count %}

**No statistics samples of this tenant in this period: nothing to bill.**
{% endif %}

## Usage

| Metric | Unit | Mean per sample | Time-weighted mean | 95th percentile | Peak |
| --- | --- | ---: | ---: | ---: | ---: |
{% for label, unit, avg, twa, p95, peak in usage_rows %}
| {{ label | md }} | {{ unit | md }} | {{ avg | num }} | {{ twa | num }} | {{ p95 | num }} | {{ peak | num }} |
{% endfor %}
{% if cost %}

## Cost ({{ basis }} basis)

| Item | Billed | Rate per hour | Cost{{ (' (' ~ currency ~ ')') | md if currency else '' }} |
| --- | --- | ---: | ---: |
{% for label, billed, key, amount in cost_rows %}
| {{ ('**' ~ label ~ '**') if loop.last else label }} | {{ billed | md }} | {{ (rates[key] | rate) if key else '' }} | {{ amount | num(2) }} |
{% endfor %}

Each sample costs what it bills x the rate x the hours it stands for.
{% endif %}
{% if periods %}

## By {{ group_by }}

| Period | Samples | Hours | Cores | Cores used | RAM GB | Storage GB |{% if cost %} Cost |{% endif %}

| --- | ---: | ---: | ---: | ---: | ---: | ---: |{% if cost %} ---: |{% endif %}

{% for p in periods %}
| {{ p.period }} | {{ p.sample_count | num }} | {{ p.hours | num }} | {{ p.twa_cores | num }} | {{ p.twa_used_cores | num }} | {#
#}{{ p.twa_ram_allocated_gb | num }} | {{ p.twa_storage_allocated_gb | num }} |{% if cost %} {{ p.cost.total | num(2) }} |{% endif %}

{% endfor %}

Time-weighted means of what was allocated over each {{ group_by }}.
{% endif %}
'''

OVERVIEW_HTML = PAGE_START + '''
<p class="sub">{{ rows | length | plural('tenant') }} of {{ name }}. Period {{ period.since | when }} to {{ period.until | when }}
(inclusive, {{ period.timezone }}).{% if cost %} Costs on the {{ basis }} basis.{% endif %}</p>
</header>
{% if cost %}
<section class="cards">
{{ card('Total cost', totals.cost_total | money(currency), 'of ' ~ rows | length | plural('tenant'), ' total') }}
</section>
{% endif %}
{% if bars %}
<section><h2>Cost per tenant</h2>
<figure>{{ svg_open(bars) }}
<text x="12" y="22" font-size="16" font-weight="600" fill="#1a1a1a">{{ bars.title }}</text>
{% for b in bars.bars %}
<text x="{{ b.x - 8 }}" y="{{ b.label_y }}" font-size="12" fill="#333333" text-anchor="end">{{ b.name }}</text>
<rect x="{{ b.x }}" y="{{ b.y }}" width="{{ b.width }}" height="{{ b.height }}" fill="#0072B2">{#
#}<title>{{ b.name }}: {{ b.amount | money(currency) }}</title></rect>
<text x="{{ b.x + b.width + 6 }}" y="{{ b.label_y }}" font-size="12" fill="#333333">{{ b.amount | money(currency) }}</text>
{% endfor %}
</svg></figure>
</section>
{% elif not cost %}
<p class="muted">No rate card was given: no costs, and no cost chart.</p>
{% endif %}
<section><h2>Tenants</h2>
<table>
<thead><tr><th scope="col">Tenant</th><th scope="col">Samples</th><th scope="col">Hours</th><th scope="col">Cores</th><th scope="col">Cores used</th>{#
#}<th scope="col">RAM GB</th><th scope="col">Storage GB</th><th scope="col">IPs</th>{% if cost %}<th scope="col">CPU</th><th scope="col">RAM</th>{#
#}<th scope="col">Storage</th><th scope="col">GPUs</th><th scope="col">vGPUs</th><th scope="col">IPs</th><th scope="col">Total</th>{% endif %}</tr></thead>
<tbody>
{% for r in rows + [totals] %}
<tr{% if loop.last %} class="total"{% endif %}><th scope="row">{{ r.tenant }}</th><td>{{ r.sample_count | num }}</td><td>{{ r.hours | num }}</td>{#
#}<td>{{ r.twa_cores | num }}</td><td>{{ r.twa_used_cores | num }}</td><td>{{ r.twa_ram_allocated_gb | num }}</td>{#
#}<td>{{ r.twa_storage_allocated_gb | num }}</td><td>{{ r.twa_ip_count | num }}</td>{% if cost %}<td>{{ r.cost_cpu | money(currency) }}</td>{#
#}<td>{{ r.cost_ram | money(currency) }}</td><td>{{ r.cost_storage | money(currency) }}</td><td>{{ r.cost_gpu | money(currency) }}</td>{#
#}<td>{{ r.cost_vgpu | money(currency) }}</td><td>{{ r.cost_ip | money(currency) }}</td><td>{{ r.cost_total | money(currency) }}</td>{% endif %}</tr>
{% endfor %}
</tbody></table>
<p class="muted">Cores, RAM, storage and IPs are time-weighted means of what was allocated; the totals row adds them up.</p>
</section>
<footer>Made by {{ generator }}. Times in {{ period.timezone }}. Figures are rounded for display; the JSON and CSV reports hold the exact values.</footer>
''' + PAGE_END

OVERVIEW_MARKDOWN = '''# {{ title | md }}

{{ rows | length | plural('tenant') }} of {{ name | md }}. Period {{ period.since | when }} to {{ period.until | when }} {#
#}(inclusive, {{ period.timezone | md }}).{% if cost %} Costs on the {{ basis }} basis{{ (', in ' ~ currency) | md if currency else '' }}.{% endif %}
{#
#} Figures rounded for display (exact values in the JSON and CSV reports).

| Tenant | Samples | Hours | Cores | Cores used | RAM GB | Storage GB | IPs |{% if cost %} CPU | RAM | Storage | GPUs | vGPUs | IPs | Total |{% endif %}

| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |{% if cost %} ---: | ---: | ---: | ---: | ---: | ---: | ---: |{% endif %}

{% for r in rows + [totals] %}
| {{ ('**' ~ r.tenant ~ '**') if loop.last else r.tenant | md }} | {{ r.sample_count | num }} | {{ r.hours | num }} | {{ r.twa_cores | num }} | {#
#}{{ r.twa_used_cores | num }} | {{ r.twa_ram_allocated_gb | num }} | {{ r.twa_storage_allocated_gb | num }} | {{ r.twa_ip_count | num }} |{#
#}{% if cost %} {{ r.cost_cpu | num(2) }} | {{ r.cost_ram | num(2) }} | {{ r.cost_storage | num(2) }} | {{ r.cost_gpu | num(2) }} | {#
#}{{ r.cost_vgpu | num(2) }} | {{ r.cost_ip | num(2) }} | {{ r.cost_total | num(2) }} |{% endif %}

{% endfor %}
{% if not cost %}

No rate card was given: no costs.
{% endif %}
'''


def merge_tenant_result(result, extra):
    """Add the keys of run_tenant_reports() to the module result of the system report (or of none)."""
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
