# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vergeio.billing contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Billing reports as people read them: the report period, CSV, Markdown, HTML, and the fleet consolidation.

Pure functions of plain data (the results of ``verge_billing_info``), shared by the filter plugins of the
collection and unit-tested without Ansible. Decisions:

- Record columns are the output names of ``module_utils/_records.py`` (the reference SDK's names and units),
  never a second list of fields.
- Nothing depends on the clock: the same data gives the same bytes, so a report written twice is unchanged.
- CSV keeps full precision (``repr`` of floats: dot decimals, shortest exact form); Markdown and HTML round for
  display and say so.
- Every string that reaches HTML or SVG is escaped; the HTML has no scripts and no external references.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import calendar
import csv
import io
import math
import re
import time
from datetime import date, datetime, timezone
from xml.sax.saxutils import escape

from ansible_collections.vergeio.billing.plugins.module_utils._records import TIERS, output_names
from ansible_collections.vergeio.billing.plugins.module_utils._templates import CSS, money
from ansible_collections.vergeio.billing.plugins.module_utils._templates import num as number
from ansible_collections.vergeio.billing.plugins.module_utils._time import MAX_EPOCH, parse_time
from ansible_collections.vergeio.billing.plugins.plugin_utils._svg import line_chart

UTC = timezone.utc
GENERATOR = 'vergeio.billing.billing_report'
TIER_NAMES = tuple('tier%d' % tier for tier in TIERS)
# Parts of a cost (summary.cost, record.cost), in the order reports show them.
COST_PARTS = ('cpu', 'ram') + TIER_NAMES + ('storage', 'gpu', 'vgpu', 'total')
COST_LABELS = dict(
    [('cpu', 'CPU cores'), ('ram', 'RAM'), ('storage', 'Storage (all tiers)'), ('gpu', 'GPUs'), ('vgpu', 'vGPUs'), ('total', 'Total')]
    + [('tier%d' % tier, 'Storage tier %d' % tier) for tier in TIERS])
# Summary figures that add up across systems: the fleet totals are their sums over the systems that reported.
FLEET_SUM_KEYS = ('record_count', 'hours', 'twa_cpu_cores', 'twa_ram_gb', 'twa_storage_used_gb', 'twa_gpus_used', 'twa_vgpus_used',
                  'total_gpus', 'total_vgpus')
FLEET_INT_KEYS = ('record_count', 'total_gpus', 'total_vgpus')
CSV_FORMULA_PREFIXES = ('=', '+', '-', '@', '\t', '\r')
_MONTH = re.compile(r'^(\d{4})-(\d{1,2})$')


class ReportError(ValueError):
    """Input a report cannot be made from; the message names what to fix."""


# ---- period -------------------------------------------------------------------------------------------------------

def resolve_period(month=None, since=None, until=None, now=None):
    """The report period: a calendar ``month`` (``2026-10``) or ``since`` [``until``] in the module's time forms.

    Returns ``label`` (for file names), ``since``/``until`` (ISO 8601 UTC) and ``since_epoch``/``until_epoch``
    (both inclusive). ``until`` defaults to now. Raises ReportError.
    """
    now = int(time.time()) if now is None else int(now)
    since, until = _as_text(since), _as_text(until)
    month = None if month is None or str(month).strip() == '' else str(month).strip()
    since = None if since is None or str(since).strip() == '' else since
    until = None if until is None or str(until).strip() == '' else until
    if month is not None:
        if since is not None or until is not None:
            raise ReportError('month (%s) cannot be combined with since or until: give a month, or since and until' % month)
        match = _MONTH.match(month)
        if not match or not 1 <= int(match.group(2)) <= 12 or int(match.group(1)) < 1970:
            raise ReportError('month must be a calendar month like 2026-10 (YYYY-MM, 1970 or later), got %r' % month)
        year, number = int(match.group(1)), int(match.group(2))
        start = calendar.timegm((year, number, 1, 0, 0, 0))
        end = min(start + calendar.monthrange(year, number)[1] * 86400 - 1, MAX_EPOCH)
        return _period('%04d-%02d' % (year, number), start, end, month='%04d-%02d' % (year, number))
    if since is None:
        raise ReportError('give the report period: month (like 2026-10), or since (and optionally until)')
    try:
        start = parse_time(since, 'since', now=now)
        end = now if until is None else parse_time(until, 'until', now=now, end_of_day=True)
    except ValueError as exc:
        raise ReportError(str(exc))
    if start > end:
        raise ReportError('since (%s) is after until (%s): swap them or widen the range' % (since, until if until is not None else 'now'))
    return _period('%s_%s' % (_bound_label(start, 0), _bound_label(end, 86399)), start, end)


def _as_text(value):
    """A YAML date or datetime (an unquoted ``2026-10-01`` in a playbook) as the ISO text the modules would get."""
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return value


def _period(label, start, end, month=None):
    return dict(label=label, month=month, since=iso(start), until=iso(end), since_epoch=start, until_epoch=end)


def _bound_label(epoch, whole_day_second):
    """``2026-10-01`` when the bound is the start (or end) of a UTC day, else ``20261001T120000Z``."""
    moment = datetime.fromtimestamp(epoch, UTC)
    if moment.hour * 3600 + moment.minute * 60 + moment.second == whole_day_second:
        return moment.strftime('%Y-%m-%d')
    return moment.strftime('%Y%m%dT%H%M%SZ')


def iso(epoch):
    return None if epoch is None else datetime.fromtimestamp(epoch, UTC).isoformat()


def epoch_of(text):
    """Epoch seconds of an ISO 8601 string from the modules (None when absent)."""
    if not text:
        return None
    return int(datetime.fromisoformat(str(text).replace('Z', '+00:00')).timestamp())


# ---- CSV ----------------------------------------------------------------------------------------------------------

def cost_columns():
    return ['cost_%s' % part for part in COST_PARTS] + ['currency']


def csv_columns(records):
    """The record fields of ``_records.py`` in their order, then the cost columns when any record has a cost."""
    columns = output_names()
    if any(isinstance(record.get('cost'), dict) for record in records):
        columns += cost_columns()
    return columns


def csv_value(value):
    """One CSV cell: numbers with dot decimals at full precision, booleans as true/false, null as empty.

    Text that a spreadsheet would run as a formula (starting with = + - @, a tab or a carriage return) gets a leading
    apostrophe (OWASP "CSV injection"); no field of a billing record but ``description`` is free text.
    """
    if value is None:
        return ''
    if isinstance(value, bool):
        return 'true' if value else 'false'
    if isinstance(value, int):
        return str(int(value))
    if isinstance(value, float):
        return repr(float(value))
    text = str(value)
    if text.startswith(CSV_FORMULA_PREFIXES):
        return "'" + text
    return text


def record_row(record, columns):
    cost = record.get('cost') if isinstance(record.get('cost'), dict) else {}
    row = []
    for column in columns:
        if column == 'currency':
            row.append(csv_value(cost.get('currency')))
        elif column.startswith('cost_'):
            part = column[5:]
            row.append(csv_value((cost.get('tiers') or {}).get(part) if part in TIER_NAMES else cost.get(part)))
        else:
            row.append(csv_value(record.get(column)))
    return row


def render_csv(records):
    """CSV text (RFC 4180, CRLF line ends): a header row, then one row per record in the given order."""
    records = list(records or [])
    for record in records:
        if not isinstance(record, dict):
            raise ReportError('billing_csv expects a list of billing records (dicts), got an item of type %s' % type(record).__name__)
    columns = csv_columns(records)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator='\r\n')
    writer.writerow(columns)
    for record in records:
        writer.writerow(record_row(record, columns))
    return buffer.getvalue()


# ---- shared presentation helpers ----------------------------------------------------------------------------------

def when(text):
    """``2026-10-01 00:00:00 UTC`` from an ISO 8601 string (en dash when absent)."""
    if not text:
        return '\u2013'
    return datetime.fromtimestamp(epoch_of(text), UTC).strftime('%Y-%m-%d %H:%M:%S UTC')


def _summary(report):
    summary = report.get('summary')
    if not isinstance(summary, dict):
        raise ReportError('the report has no summary: give the result of verge_billing_info view=summary as "summary"')
    return summary


def newest_record(records):
    best = None
    for record in records or []:
        order = (record.get('created_epoch') or 0, record.get('key') or 0)
        if best is None or order > best[0]:
            best = (order, record)
    return best[1] if best else None


def tiers_in_use(summary, records=None):
    """Tier numbers with any capacity or use in the summary or the records (all six when none has any)."""
    used = set()
    for tier in summary.get('tiers') or []:
        if tier.get('total_gb') or tier.get('peak_used_gb'):
            used.add(int(tier.get('tier')))
    for record in records or []:
        for number_ in TIERS:
            if record.get('tier%d_used' % number_) or record.get('tier%d_total' % number_):
                used.add(number_)
    return sorted(used)


def summary_rows(summary, records=None):
    """(label, unit, mean over records, time-weighted mean, p95, peak, capacity) rows of the summary table."""
    newest = newest_record(records)
    tiers = dict((int(t.get('tier')), t) for t in summary.get('tiers') or [])
    rows = [
        ('CPU cores used', 'cores', None, summary.get('twa_cpu_cores'), summary.get('p95_cpu_cores'), summary.get('peak_cpu_cores'),
         newest.get('total_cores') if newest else None),
        ('CPU utilization', '%', summary.get('avg_cpu_utilization'), None, None, None, None),
        ('RAM used', 'GB', None, summary.get('twa_ram_gb'), summary.get('p95_ram_gb'), summary.get('peak_ram_gb'),
         newest.get('total_ram_gb') if newest else None),
        ('RAM utilization', '%', summary.get('avg_ram_utilization'), None, None, None, None),
        ('Storage used, all tiers', 'GB', summary.get('avg_storage_used_gb'), summary.get('twa_storage_used_gb'),
         summary.get('p95_storage_used_gb'), summary.get('peak_storage_used_gb'),
         math.fsum(t.get('total_gb') or 0.0 for t in tiers.values()) if tiers else None),
    ]
    for number_ in tiers_in_use(summary, records):
        tier = tiers.get(number_, {})
        rows.append(('Storage tier %d used' % number_, 'GB', tier.get('avg_used_gb'), tier.get('twa_used_gb'), tier.get('p95_used_gb'),
                     tier.get('peak_used_gb'), tier.get('total_gb')))
    rows += [
        ('GPUs used', 'GPUs', summary.get('avg_gpus_used'), summary.get('twa_gpus_used'), summary.get('p95_gpus_used'),
         summary.get('peak_gpus_used'), summary.get('total_gpus')),
        ('vGPUs used', 'vGPUs', summary.get('avg_vgpus_used'), summary.get('twa_vgpus_used'), summary.get('p95_vgpus_used'),
         summary.get('peak_vgpus_used'), summary.get('total_vgpus')),
    ]
    return rows


def cost_rows(cost):
    """(label, amount) rows of a cost: CPU, RAM, the tiers that cost anything, storage, GPUs, vGPUs, total."""
    rows = []
    tiers = cost.get('tiers') or {}
    for part in COST_PARTS:
        if part in TIER_NAMES:
            if not tiers.get(part):
                continue
            rows.append((COST_LABELS[part], tiers.get(part)))
        else:
            rows.append((COST_LABELS[part], cost.get(part)))
    return rows


def rate_rows(rates):
    labels = [('core_hour', 'CPU core-hour'), ('ram_gb_hour', 'RAM GB-hour')] + [
        ('tier%d_gb_hour' % tier, 'Storage tier %d GB-hour' % tier) for tier in TIERS] + [('gpu_hour', 'GPU-hour'), ('vgpu_hour', 'vGPU-hour')]
    return [(label, (rates or {}).get(key)) for key, label in labels if (rates or {}).get(key)]


def title_of(report):
    name = report.get('name') or 'VergeOS'
    period = (report.get('period') or {}).get('label')
    return 'VergeOS billing report: %s%s' % (name, ', %s' % period if period else '')


def period_line(report, summary):
    period = report.get('period') or {}
    since = period.get('since') or summary.get('period_start')
    until = period.get('until') or summary.get('period_end')
    return 'Period %s to %s (inclusive).' % (when(since), when(until))


# ---- Markdown -----------------------------------------------------------------------------------------------------

def md_cell(value):
    return str(value).replace('\\', '\\\\').replace('|', '\\|').replace('\n', ' ').replace('\r', ' ')


def md_table(header, rows, align):
    lines = ['| ' + ' | '.join(md_cell(h) for h in header) + ' |',
             '| ' + ' | '.join('---:' if a == 'r' else '---' for a in align) + ' |']
    for row in rows:
        lines.append('| ' + ' | '.join(md_cell(c) for c in row) + ' |')
    return '\n'.join(lines)


def render_markdown(report):
    """A Markdown summary fit for a ticket or an e-mail: usage table, cost table, periods table."""
    summary = _summary(report)
    records = report.get('records')
    out = ['# %s' % md_cell(title_of(report)), '']
    out.append('%s %s records covering %s hours. All times UTC; figures rounded for display (exact values in the JSON report).'
               % (period_line(report, summary), number(summary.get('record_count')), number(summary.get('hours'))))
    out += ['', '## Usage', '']
    rows = [(label, unit, number(avg), number(twa), number(p95), number(peak), number(cap))
            for label, unit, avg, twa, p95, peak, cap in summary_rows(summary, records)]
    out.append(md_table(('Metric', 'Unit', 'Mean per record', 'Time-weighted mean', '95th percentile', 'Peak', 'Capacity'), rows,
                        'llrrrrr'))
    cost = summary.get('cost')
    if isinstance(cost, dict):
        currency = cost.get('currency') or ''
        out += ['', '## Cost', '']
        out.append(md_table(('Item', 'Cost%s' % (' (%s)' % currency if currency else '')),
                            [('**%s**' % label if label == 'Total' else label, number(amount, 2)) for label, amount in cost_rows(cost)], 'lr'))
        rates = rate_rows(report.get('rates'))
        if rates:
            out += ['', 'Rate card (price per unit-hour): ' + '; '.join('%s %s' % (label, _rate(value)) for label, value in rates) + '.']
    periods = summary.get('periods') or []
    if periods:
        out += ['', '## By period', '']
        header = ['Period', 'Records', 'Hours', 'CPU cores (tw)', 'RAM GB (tw)', 'Storage GB (tw)', 'GPUs (tw)', 'vGPUs (tw)']
        with_cost = any(isinstance(p.get('cost'), dict) for p in periods)
        if with_cost:
            header.append('Cost')
        rows = []
        for period in periods:
            row = [period.get('period'), number(period.get('record_count')), number(period.get('hours')), number(period.get('twa_cpu_cores')),
                   number(period.get('twa_ram_gb')), number(period.get('twa_storage_used_gb')), number(period.get('twa_gpus_used'), 2),
                   number(period.get('twa_vgpus_used'), 2)]
            if with_cost:
                row.append(number((period.get('cost') or {}).get('total'), 2))
            rows.append(row)
        out.append(md_table(header, rows, 'l' + 'r' * (len(header) - 1)))
        out += ['', '(tw) time-weighted mean over the period.']
    out.append('')
    return '\n'.join(out)


def _rate(value):
    """A price without exponent notation: 0.00005, not 5e-05."""
    if value is None:
        return '\u2013'
    return _plain(float(value))


def _plain(value):
    text = '%.12f' % value
    return text.rstrip('0').rstrip('.') if '.' in text else text


# ---- HTML ---------------------------------------------------------------------------------------------------------

class Markup(str):
    """Text that is already HTML."""


def h(value):
    return escape('' if value is None else str(value), {'"': '&quot;'})


def html_table(header, rows, row_classes=None, text_columns=()):
    out = ['<table>', '<thead><tr>%s</tr></thead>' % ''.join('<th scope="col">%s</th>' % h(c) for c in header), '<tbody>']
    for index, row in enumerate(rows):
        css = (row_classes or {}).get(index)
        cells = []
        for number_, cell in enumerate(row):
            tag = 'th scope="row"' if number_ == 0 else 'td'
            klass = ' class="text"' if number_ in text_columns else ''
            cells.append('<%s%s>%s</%s>' % (tag, klass, cell if isinstance(cell, Markup) else h(cell), tag.split()[0]))
        out.append('<tr%s>%s</tr>' % (' class="%s"' % css if css else '', ''.join(cells)))
    out.append('</tbody></table>')
    return '\n'.join(out)


def card(label, value, note=None, css=''):
    return ('<div class="card%s"><div class="label">%s</div><div class="value">%s</div>%s</div>'
            % (' ' + css if css else '', h(label), h(value), '<div class="note">%s</div>' % h(note) if note else ''))


def page(title, body):
    return '\n'.join([
        '<!DOCTYPE html>',
        '<html lang="en">',
        '<head>',
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        '<meta name="generator" content="%s">' % GENERATOR,
        '<title>%s</title>' % h(title),
        '<style>%s</style>' % CSS,
        '</head>',
        '<body>',
        '<main>',
        body,
        '</main>',
        '</body>',
        '</html>',
        '',
    ])


def record_series(records, field, name, dashed=False, require=None):
    """(created, value) points of one record field; records whose ``require`` field is 0 or missing are left out."""
    points = []
    for record in records or []:
        stamp = record.get('created_epoch')
        value = record.get(field)
        if stamp and value is not None and (require is None or record.get(require)):
            points.append((stamp, value))
    return dict(name=name, points=points, dashed=dashed)


def system_charts(records, summary, prefix='chart'):
    """The usage charts of one system, from its records: cores, RAM, storage per tier, GPUs and vGPUs.

    A record whose capacity for a chart is 0 or missing (total cores, total RAM, the tier's capacity, GPUs or vGPUs
    in total) holds no measurement for it: it is left out of that chart rather than drawn as a drop to 0.
    """
    tiers = tiers_in_use(summary, records)
    return [
        line_chart(prefix + '-cores', 'CPU cores', [
            record_series(records, 'used_cores', 'Used', require='total_cores'),
            record_series(records, 'total_cores', 'Total', dashed=True, require='total_cores')]),
        line_chart(prefix + '-ram', 'RAM', [
            record_series(records, 'used_ram_gb', 'Used', require='total_ram'),
            record_series(records, 'total_ram_gb', 'Total', dashed=True, require='total_ram')], 'GB'),
        line_chart(prefix + '-storage', 'Storage used per tier', [
            record_series(records, 'tier%d_used_gb' % tier, 'Tier %d' % tier, require='tier%d_total' % tier) for tier in tiers], 'GB'),
        line_chart(prefix + '-gpus', 'GPUs and vGPUs', [
            record_series(records, 'gpus_used', 'GPUs used', require='gpus_total'),
            record_series(records, 'vgpus_used', 'vGPUs used', require='vgpus_total'),
            dict(record_series(records, 'gpus_total', 'GPUs total', dashed=True, require='gpus_total'), colour='#0072B2'),
            dict(record_series(records, 'vgpus_total', 'vGPUs total', dashed=True, require='vgpus_total'), colour='#D55E00'),
        ]),
    ]


def render_html(report):
    """One self-contained HTML page: key figures, charts over time, cost, usage summary, periods."""
    summary = _summary(report)
    records = report.get('records') or []
    cost = summary.get('cost') if isinstance(summary.get('cost'), dict) else None
    currency = (cost or {}).get('currency') or ''
    title = title_of(report)
    body = ['<header>', '<h1>%s</h1>' % h(title),
            '<p class="sub">%s %s records, %s hours. All times UTC.</p>'
            % (h(period_line(report, summary)), h(number(summary.get('record_count'))), h(number(summary.get('hours')))), '</header>']
    cards = [
        card('CPU cores', number(summary.get('twa_cpu_cores')), 'time-weighted; peak %s' % number(summary.get('peak_cpu_cores'))),
        card('RAM', '%s GB' % number(summary.get('twa_ram_gb')), 'time-weighted; peak %s GB' % number(summary.get('peak_ram_gb'))),
        card('Storage', '%s GB' % number(summary.get('twa_storage_used_gb')), 'time-weighted; peak %s GB' % number(summary.get('peak_storage_used_gb'))),
        card('GPUs / vGPUs', '%s / %s' % (number(summary.get('twa_gpus_used'), 2), number(summary.get('twa_vgpus_used'), 2)),
             'time-weighted; of %s / %s' % (number(summary.get('total_gpus')), number(summary.get('total_vgpus')))),
    ]
    if cost:
        cards.append(card('Total cost', money(cost.get('total'), currency), 'for %s hours' % number(summary.get('hours')), 'total'))
    body.append('<section class="cards">%s</section>' % ''.join(cards))
    if not records:
        body.append('<p class="alert">No billing records in this period: nothing to chart.</p>')
    body.append('<section><h2>Usage over time</h2>')
    for chart in system_charts(records, summary):
        body.append('<figure>%s</figure>' % chart)
    body.append('</section>')
    if cost:
        body.append('<section><h2>Cost</h2>')
        rows = [(label, money(amount, currency)) for label, amount in cost_rows(cost)]
        body.append(html_table(('Item', 'Cost'), rows, {len(rows) - 1: 'total'}))
        rates = rate_rows(report.get('rates'))
        if rates:
            body.append('<p class="muted">Rate card, price per unit-hour: %s. Each record costs usage &times; rate &times; the hours of '
                        'its period.</p>' % h('; '.join('%s %s %s' % (label, _rate(value), currency) for label, value in rates)))
        body.append('</section>')
    body.append('<section><h2>Usage summary</h2>')
    rows = [(label, unit, number(avg), number(twa), number(p95), number(peak), number(cap))
            for label, unit, avg, twa, p95, peak, cap in summary_rows(summary, records)]
    body.append(html_table(('Metric', 'Unit', 'Mean per record', 'Time-weighted mean', '95th percentile', 'Peak', 'Capacity'), rows))
    body.append('<p class="muted">Time-weighted means weigh each record by the length of its period; the 95th percentile is '
                'nearest-rank over records; capacity is that of the newest record.</p></section>')
    periods = summary.get('periods') or []
    if periods:
        with_cost = any(isinstance(p.get('cost'), dict) for p in periods)
        header = ['Period', 'Records', 'Hours', 'CPU cores', 'RAM GB', 'Storage GB', 'GPUs', 'vGPUs'] + (['Cost'] if with_cost else [])
        rows = []
        for period in periods:
            row = [period.get('period'), number(period.get('record_count')), number(period.get('hours')), number(period.get('twa_cpu_cores')),
                   number(period.get('twa_ram_gb')), number(period.get('twa_storage_used_gb')), number(period.get('twa_gpus_used'), 2),
                   number(period.get('twa_vgpus_used'), 2)]
            if with_cost:
                row.append(money((period.get('cost') or {}).get('total'), currency))
            rows.append(row)
        body.append('<section><h2>By period</h2><details><summary>%d periods (time-weighted means)</summary>' % len(periods))
        body.append(html_table(header, rows))
        body.append('</details></section>')
    body.append('<footer>Made by %s from the VergeOS billing records. Figures are rounded for display; the JSON and CSV reports '
                'hold the exact values.</footer>' % GENERATOR)
    return page(title, '\n'.join(body))


# ---- fleet --------------------------------------------------------------------------------------------------------

def consolidate(results, period=None, name='fleet'):
    """One fleet report from the per-system results of the role.

    Each result is a dict with ``name``, ``ok`` (bool), ``error`` (when not ok) and ``summary`` (when ok), as the
    role sets ``billing_report_result``. Totals are sums over the systems that reported (FLEET_SUM_KEYS, tier
    figures, costs per currency).
    """
    systems = []
    for item in results or []:
        if not isinstance(item, dict):
            raise ReportError('billing_fleet expects a list of per-system results (dicts), got an item of type %s' % type(item).__name__)
        ok = bool(item.get('ok')) and isinstance(item.get('summary'), dict)
        system = dict(name=str(item.get('name') or 'unnamed'), ok=ok, error=None if ok else str(item.get('error') or 'no result'),
                      period=item.get('period'), files=item.get('files') or {}, summary=item.get('summary') if ok else None)
        systems.append(system)
    systems.sort(key=lambda s: s['name'])
    names = [s['name'] for s in systems]
    duplicates = sorted(set(n for n in names if names.count(n) > 1))
    if duplicates:
        raise ReportError('billing_fleet: system names must be unique, %s appear more than once' % ', '.join(duplicates))
    reported = [s for s in systems if s['ok']]
    totals = dict(systems=len(systems), reported=len(reported), failed=len(systems) - len(reported))
    for key in FLEET_SUM_KEYS:
        value = math.fsum(float(s['summary'].get(key) or 0) for s in reported)
        totals[key] = int(value) if key in FLEET_INT_KEYS else value
    totals['tiers'] = [dict(tier=tier,
                            twa_used_gb=math.fsum(float(_tier(s['summary'], tier).get('twa_used_gb') or 0) for s in reported),
                            total_gb=math.fsum(float(_tier(s['summary'], tier).get('total_gb') or 0) for s in reported)) for tier in TIERS]
    by_currency = {}
    for system in reported:
        cost = system['summary'].get('cost')
        if not isinstance(cost, dict):
            continue
        entry = by_currency.setdefault(cost.get('currency') or '', dict((part, []) for part in COST_PARTS))
        for part in COST_PARTS:
            entry[part].append(float(((cost.get('tiers') or {}).get(part) if part in TIER_NAMES else cost.get(part)) or 0))
    cost_totals = {}
    for currency, parts in by_currency.items():
        total = dict((part, math.fsum(values)) for part, values in parts.items() if part not in TIER_NAMES)
        total['tiers'] = dict((part, math.fsum(parts[part])) for part in TIER_NAMES)
        total['currency'] = currency
        total['systems'] = len(parts['total'])
        cost_totals[currency] = total
    totals['cost_by_currency'] = cost_totals
    totals['cost'] = list(cost_totals.values())[0] if len(cost_totals) == 1 else None
    return dict(generator=GENERATOR, name=name, period=period, systems=systems, failed=[s['name'] for s in systems if not s['ok']],
                totals=totals)


def _tier(summary, number_):
    for tier in summary.get('tiers') or []:
        if int(tier.get('tier', -1)) == number_:
            return tier
    return {}


def _fleet(fleet):
    if not isinstance(fleet, dict) or not isinstance(fleet.get('systems'), list) or not isinstance(fleet.get('totals'), dict):
        raise ReportError('expected the result of the vergeio.billing.billing_fleet filter (a dict with systems and totals)')
    return fleet


FLEET_COLUMNS = ('system', 'status', 'error', 'period_start', 'period_end', 'record_count', 'hours', 'twa_cpu_cores', 'p95_cpu_cores',
                 'peak_cpu_cores', 'twa_ram_gb', 'p95_ram_gb', 'peak_ram_gb', 'twa_storage_used_gb', 'p95_storage_used_gb',
                 'peak_storage_used_gb', 'twa_gpus_used', 'peak_gpus_used', 'total_gpus', 'twa_vgpus_used', 'peak_vgpus_used', 'total_vgpus')


def render_fleet_csv(fleet):
    """One row per system (those that failed too, with their error); no totals row, so every row is a system."""
    fleet = _fleet(fleet)
    with_cost = any(s['ok'] and isinstance(s['summary'].get('cost'), dict) for s in fleet['systems'])
    columns = list(FLEET_COLUMNS) + (cost_columns() if with_cost else [])
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator='\r\n')
    writer.writerow(columns)
    for system in fleet['systems']:
        summary = system['summary'] or {}
        cost = summary.get('cost') if isinstance(summary.get('cost'), dict) else {}
        row = []
        for column in columns:
            if column == 'system':
                value = system['name']
            elif column == 'status':
                value = 'ok' if system['ok'] else 'failed'
            elif column == 'error':
                value = system['error']
            elif column == 'currency':
                value = cost.get('currency')
            elif column.startswith('cost_'):
                part = column[5:]
                value = (cost.get('tiers') or {}).get(part) if part in TIER_NAMES else cost.get(part)
            else:
                value = summary.get(column)
            row.append(csv_value(value))
        writer.writerow(row)
    return buffer.getvalue()


def fleet_title(fleet):
    period = (fleet.get('period') or {}).get('label')
    return 'VergeOS fleet billing report%s' % (': %s' % period if period else '')


def fleet_rows(fleet):
    """(cells, css) per system and the fleet total row, for Markdown and HTML."""
    totals = fleet['totals']
    single = totals.get('cost')
    with_cost = bool(totals.get('cost_by_currency'))
    rows = []
    for system in fleet['systems']:
        summary = system['summary'] or {}
        if system['ok']:
            cost = summary.get('cost') if isinstance(summary.get('cost'), dict) else None
            cells = [system['name'], 'ok', number(summary.get('record_count')), number(summary.get('hours')), number(summary.get('twa_cpu_cores')),
                     number(summary.get('twa_ram_gb')), number(summary.get('twa_storage_used_gb')), number(summary.get('twa_gpus_used'), 2),
                     number(summary.get('twa_vgpus_used'), 2)]
            if with_cost:
                cells.append(money(cost.get('total'), cost.get('currency') or '') if cost else '\u2013')
        else:
            cells = [system['name'], 'FAILED'] + ['\u2013'] * 7 + (['\u2013'] if with_cost else [])
        rows.append((cells, None if system['ok'] else 'failed'))
    cells = ['Fleet total (%d of %d systems)' % (totals['reported'], totals['systems']), '', number(totals['record_count']),
             number(totals['hours']), number(totals['twa_cpu_cores']), number(totals['twa_ram_gb']), number(totals['twa_storage_used_gb']),
             number(totals['twa_gpus_used'], 2), number(totals['twa_vgpus_used'], 2)]
    if with_cost:
        cells.append(money(single['total'], single['currency']) if single else 'mixed currencies: ' + ', '.join(
            money(entry['total'], entry['currency']) for _currency, entry in sorted(totals['cost_by_currency'].items())))
    rows.append((cells, 'total'))
    header = ['System', 'Status', 'Records', 'Hours', 'CPU cores', 'RAM GB', 'Storage GB', 'GPUs', 'vGPUs'] + (['Cost'] if with_cost else [])
    return header, rows


def render_fleet_markdown(fleet):
    fleet = _fleet(fleet)
    period = fleet.get('period') or {}
    totals = fleet['totals']
    out = ['# %s' % md_cell(fleet_title(fleet)), '']
    lead = 'Period %s to %s (inclusive). ' % (when(period.get('since')), when(period.get('until'))) if period.get('since') else ''
    out.append(lead + '%d systems, %d reported, %d failed. CPU, RAM, storage and GPU figures are time-weighted means; the total row adds '
               'them up over the systems that reported.' % (totals['systems'], totals['reported'], totals['failed']))
    header, rows = fleet_rows(fleet)
    out += ['', md_table(header, [[('**%s**' % c if css == 'total' and c else c) for c in cells] for cells, css in rows],
                         'l' + 'l' + 'r' * (len(header) - 2))]
    if fleet['failed']:
        out += ['', '## Failed systems', '']
        for system in fleet['systems']:
            if not system['ok']:
                out.append('- **%s**: %s' % (md_cell(system['name']), md_cell(system['error'])))
    out.append('')
    return '\n'.join(out)


def period_series(fleet, key, tier=None):
    """One series per system that reported: its per-period values of ``key`` at each period's start."""
    series = []
    for system in fleet['systems']:
        if not system['ok']:
            continue
        points = []
        for period in system['summary'].get('periods') or []:
            value = _tier(period, tier).get(key) if tier is not None else period.get(key)
            start = epoch_of(period.get('start'))
            if start is not None and value is not None:
                points.append((start, value))
        if not points:  # no group_by: one point for the whole range
            summary = system['summary']
            value = summary.get(key)
            start = epoch_of(summary.get('period_start'))
            if start is not None and value is not None:
                points.append((start, value))
        series.append(dict(name=system['name'], points=points))
    return series


def render_fleet_html(fleet):
    fleet = _fleet(fleet)
    totals = fleet['totals']
    period = fleet.get('period') or {}
    title = fleet_title(fleet)
    body = ['<header>', '<h1>%s</h1>' % h(title)]
    if period.get('since'):
        body.append('<p class="sub">Period %s to %s (inclusive). All times UTC.</p>' % (h(when(period.get('since'))), h(when(period.get('until')))))
    body.append('</header>')
    if fleet['failed']:
        items = ''.join('<li><b>%s</b>: %s</li>' % (h(s['name']), h(s['error'])) for s in fleet['systems'] if not s['ok'])
        body.append('<div class="alert"><b>%d of %d systems failed to report</b> and are not in the totals:<ul>%s</ul></div>'
                    % (totals['failed'], totals['systems'], items))
    cards = [
        card('Systems', '%d / %d' % (totals['reported'], totals['systems']), 'reported / in the fleet'),
        card('CPU cores', number(totals['twa_cpu_cores']), 'time-weighted, summed'),
        card('RAM', '%s GB' % number(totals['twa_ram_gb']), 'time-weighted, summed'),
        card('Storage', '%s GB' % number(totals['twa_storage_used_gb']), 'time-weighted, summed'),
        card('GPUs / vGPUs', '%s / %s' % (number(totals['twa_gpus_used'], 2), number(totals['twa_vgpus_used'], 2)), 'time-weighted, summed'),
    ]
    if totals.get('cost'):
        cards.append(card('Total cost', money(totals['cost']['total'], totals['cost']['currency']), 'systems that reported', 'total'))
    body.append('<section class="cards">%s</section>' % ''.join(cards))
    header, rows = fleet_rows(fleet)
    body.append('<section><h2>Systems</h2>')
    status = []
    for cells, css in rows:
        if css is None:
            cells = cells[:1] + [Markup('<span class="status-ok">ok</span>')] + cells[2:]
        elif css == 'failed':
            cells = cells[:1] + [Markup('<span class="status-failed">FAILED</span>')] + cells[2:]
        status.append(cells)
    body.append(html_table(header, status, dict((i, css) for i, (_cells, css) in enumerate(rows) if css)))
    body.append('<p class="muted">CPU, RAM, storage and GPU figures are time-weighted means over the period; the fleet total adds '
                'them up over the systems that reported.</p></section>')
    body.append('<section><h2>Usage over time, per system</h2>')
    charts = [
        ('fleet-cores', 'CPU cores used', 'twa_cpu_cores', 'cores'),
        ('fleet-ram', 'RAM used', 'twa_ram_gb', 'GB'),
        ('fleet-storage', 'Storage used, all tiers', 'twa_storage_used_gb', 'GB'),
        ('fleet-gpus', 'GPUs used', 'twa_gpus_used', 'GPUs'),
        ('fleet-vgpus', 'vGPUs used', 'twa_vgpus_used', 'vGPUs'),
    ]
    for chart_id, chart_title, key, unit in charts:
        body.append('<figure>%s</figure>' % line_chart(chart_id, chart_title, period_series(fleet, key), unit + ', time-weighted mean per period'))
    body.append('</section>')
    if totals.get('cost_by_currency'):
        body.append('<section><h2>Cost</h2>')
        for currency, cost in sorted(totals['cost_by_currency'].items()):
            rows = [(label, money(amount, currency)) for label, amount in cost_rows(cost)]
            body.append(html_table(('Item (%d systems)' % cost['systems'], 'Cost'), rows, {len(rows) - 1: 'total'}))
        body.append('</section>')
    body.append('<footer>Made by %s. Figures are rounded for display; the JSON report holds the exact values.</footer>' % GENERATOR)
    return page(title, '\n'.join(body))
