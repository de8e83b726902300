# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vergeio.billing contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The fleet report as Markdown and HTML: Jinja2 templates rendered with the report module's environment.

The environment (autoescaping for HTML, StrictUndefined, the ``num``/``money``/``md``/``when`` filters), the page
style and the SVG chart macro are those of ``_templates.py``, and the chart geometry that of ``_charts.py``, so the
fleet report and the per-system reports look alike and are escaped alike. Templates are Python strings because a
module cannot read the collection's other files when it runs.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.vergeio.billing.plugins.module_utils._reports.charts import Series, chart
from ansible_collections.vergeio.billing.plugins.module_utils._reports.fleet import CHARTS, TIER_NAMES, plural, series_of, shown_costs
from ansible_collections.vergeio.billing.plugins.module_utils._reports.templates import CSS, SVG_MACRO, _environment
from ansible_collections.vergeio.billing.plugins.module_utils._time import get_zone

# The lines of a cost table: every priced part (no storage subtotal, so the lines add up to the total below them).
COST_LABELS = (('cpu', 'CPU cores'), ('ram', 'RAM')) + tuple((name, 'Storage tier %s' % name[4:]) for name in TIER_NAMES) + (
    ('gpu', 'GPUs'), ('vgpu', 'vGPUs'), ('total', 'Total'))


def cost_rows(shown):
    """(label, shown amount) of a shown cost (``fleet.shown_costs``): CPU, RAM, each tier that cost anything, GPUs,
    vGPUs, total. The total is the sum of the lines above it (a tier left out is 0)."""
    return [(label, shown[part]) for part, label in COST_LABELS if part not in TIER_NAMES or shown[part]]


def amount(value, currency):
    """A shown amount (a Decimal already rounded to the minor unit) with thousands separators, as it is, and the currency."""
    text = '{:,f}'.format(value)
    return '%s %s' % (text, currency) if currency else text


# One row per system, the fleet total row, failures named, the cost per currency. A line that starts with ``{{- ''``
# continues the line above (the dash takes the line break away): Markdown table rows must be one line each.
MARKDOWN = u'''# {{ title | md }}

{% if period.since %}Period {{ period.since | when }} to {{ period.until | when }}
{{- '' }} (inclusive{% if period.timezone %}, {{ period.timezone | md }}{% endif %}). {% endif %}
{{ plural(totals.systems, 'system') }}: {{ totals.reported }} reported, {{ totals.failed }} failed.
{{- '' }} CPU, RAM, storage and GPU figures are time-weighted means; the total row adds them up over the systems that reported.
{{- '' }} Amounts are rounded half up to the currency's minor unit and every total is the sum of the amounts shown;
{{- '' }} the JSON report holds the exact values.

| System | Status | Records | Hours | CPU cores | RAM GB | Storage GB | GPUs | vGPUs |{% if with_cost %} Cost |{% endif %}

| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |{% if with_cost %} ---: |{% endif %}

{% for s in systems %}
{% if s.ok %}
{% set m = s.summary %}
| {{ s.name | md }} | ok | {{ m.get('record_count') | num }} | {{ m.get('hours') | num }} | {{ m.get('twa_cpu_cores') | num }}
{{- '' }} | {{ m.get('twa_ram_gb') | num }} | {{ m.get('twa_storage_used_gb') | num }} | {{ m.get('twa_gpus_used') | num(2) }}
{{- '' }} | {{ m.get('twa_vgpus_used') | num(2) }} |
{{- '' }}{% if with_cost %} {{ cost_text.get(s.name, '\u2013') | md }} |{% endif %}

{% else %}
| {{ s.name | md }} | FAILED | \u2013 | \u2013 | \u2013 | \u2013 | \u2013 | \u2013 | \u2013 |{% if with_cost %} \u2013 |{% endif %}

{% endif %}
{% endfor %}
| **Fleet total ({{ plural(totals.reported, 'system') }})** | | **{{ totals.record_count | num }}** | **{{ totals.hours | num }}**
{{- '' }} | **{{ totals.twa_cpu_cores | num }}** | **{{ totals.twa_ram_gb | num }}** | **{{ totals.twa_storage_used_gb | num }}**
{{- '' }} | **{{ totals.twa_gpus_used | num(2) }}** | **{{ totals.twa_vgpus_used | num(2) }}** |
{{- '' }}{% if with_cost %} **{{ cost_total | md }}** |{% endif %}

{% if failed %}

## Failed systems

{% for s in failed %}
- **{{ s.name | md }}**: {{ s.error | md }}
{% endfor %}
{% endif %}
{% for currency, cost in costs %}

## Cost{% if currency %} ({{ currency | md }}){% endif %}, {{ plural(cost.systems, 'system') }}

| Item | Cost |
| --- | ---: |
{% for label, value in cost_rows(shown[currency]) %}
| {{ '**Total**' if label == 'Total' else label }} | {{ amount(value, '') }} |
{% endfor %}
{% endfor %}
'''

# The page frame is that of the report module's HTML (same head, same style); only the body differs.
HTML = SVG_MACRO + u'''
<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="{{ generator }}"><title>{{ title }}</title><style>{{ css | safe }}</style></head>
<body><main>
<header>
<h1>{{ title }}</h1>
{% if period.since %}
<p class="sub">Period {{ period.since | when }} to {{ period.until | when }}
(inclusive{% if period.timezone %}, {{ period.timezone }}{% endif %}). {{ plural(totals.systems, 'system') }}.</p>
{% endif %}
</header>
{% if failed %}
<div class="alert"><b>{{ plural(totals.failed, 'system') }} of {{ totals.systems }} failed to report</b>
and {{ 'is' if totals.failed == 1 else 'are' }} not in the totals:
<ul>
{% for s in failed %}
<li><b>{{ s.name }}</b>: {{ s.error }}</li>
{% endfor %}
</ul></div>
{% endif %}
<section class="cards">
<div class="card"><div class="label">Systems</div><div class="value">{{ totals.reported }} / {{ totals.systems }}</div>
<div class="note">{{ plural(totals.reported, 'system') }} reported of {{ plural(totals.systems, 'system') }}</div></div>
<div class="card"><div class="label">CPU cores</div><div class="value">{{ totals.twa_cpu_cores | num }}</div>
<div class="note">time-weighted, summed</div></div>
<div class="card"><div class="label">RAM</div><div class="value">{{ totals.twa_ram_gb | num }} GB</div>
<div class="note">time-weighted, summed</div></div>
<div class="card"><div class="label">Storage</div><div class="value">{{ totals.twa_storage_used_gb | num }} GB</div>
<div class="note">time-weighted, summed</div></div>
{% if with_cost %}
<div class="card total"><div class="label">Total cost</div><div class="value">{{ cost_total }}</div>
<div class="note">{{ plural(totals.reported, 'system') }} that reported</div></div>
{% endif %}
</section>
<section><h2>Systems</h2>
<table>
<thead><tr><th scope="col">System</th><th scope="col">Status</th><th scope="col">Records</th><th scope="col">Hours</th>
<th scope="col">CPU cores</th><th scope="col">RAM GB</th><th scope="col">Storage GB</th><th scope="col">GPUs</th><th scope="col">vGPUs</th>
{% if with_cost %}<th scope="col">Cost</th>{% endif %}
</tr></thead>
<tbody>
{% for s in systems %}
{% if s.ok %}
{% set m = s.summary %}
<tr><th scope="row">{{ s.name }}</th><td><span class="status-ok">ok</span></td><td>{{ m.get('record_count') | num }}</td><td>{{ m.get('hours') | num }}</td>
<td>{{ m.get('twa_cpu_cores') | num }}</td><td>{{ m.get('twa_ram_gb') | num }}</td><td>{{ m.get('twa_storage_used_gb') | num }}</td>
<td>{{ m.get('twa_gpus_used') | num(2) }}</td><td>{{ m.get('twa_vgpus_used') | num(2) }}</td>
{% if with_cost %}<td>{{ cost_text.get(s.name, '\u2013') }}</td>{% endif %}
</tr>
{% else %}
<tr class="failed"><th scope="row">{{ s.name }}</th><td><span class="status-failed">FAILED</span></td>
{% for _ in range(7 + (1 if with_cost else 0)) %}<td>\u2013</td>{% endfor %}
</tr>
{% endif %}
{% endfor %}
<tr class="total"><th scope="row">Fleet total ({{ plural(totals.reported, 'system') }})</th><td></td>
<td>{{ totals.record_count | num }}</td><td>{{ totals.hours | num }}</td><td>{{ totals.twa_cpu_cores | num }}</td><td>{{ totals.twa_ram_gb | num }}</td>
<td>{{ totals.twa_storage_used_gb | num }}</td><td>{{ totals.twa_gpus_used | num(2) }}</td><td>{{ totals.twa_vgpus_used | num(2) }}</td>
{% if with_cost %}<td>{{ cost_total }}</td>{% endif %}
</tr>
</tbody>
</table>
<p class="muted">CPU, RAM, storage and GPU figures are time-weighted means over the period; the fleet total adds them up over the
systems that reported.</p>
</section>
<section><h2>Usage over time, per system</h2>
{% for c in charts %}<figure>{{ svg(c) }}</figure>
{% endfor %}{% for note in chart_notes %}<p class="muted">{{ note }}</p>
{% endfor %}</section>
{% for currency, cost in costs %}
<section><h2>Cost{% if currency %} ({{ currency }}){% endif %}, {{ plural(cost.systems, 'system') }}</h2>
<table><thead><tr><th scope="col">Item</th><th scope="col">Cost</th></tr></thead><tbody>
{% for label, value in cost_rows(shown[currency]) %}
<tr{% if loop.last %} class="total"{% endif %}><th scope="row">{{ label }}</th><td>{{ amount(value, currency) }}</td></tr>
{% endfor %}
</tbody></table></section>
{% endfor %}
<footer>Made by {{ generator }}. Figures are rounded for display; amounts are rounded half up to the currency's minor unit and every
total is the sum of the amounts shown. The JSON report holds the exact values.</footer>
</main></body></html>
'''


def _context(fleet):
    totals = fleet['totals']
    costs = sorted(totals['cost_by_currency'].items())
    shown_systems, shown = shown_costs(fleet)
    cost_text = dict((s['name'], amount(shown_systems[s['name']]['total'], s['summary']['cost'].get('currency') or ''))
                     for s in fleet['systems'] if s['name'] in shown_systems)
    cost_total = ', '.join(amount(shown[currency]['total'], currency) for currency, _cost in costs)
    label = fleet['period'].get('label')
    return dict(generator=fleet['generator'], title='VergeOS fleet billing report: %s%s' % (fleet['name'], ', %s' % label if label else ''),
                period=fleet['period'], systems=fleet['systems'], failed=[s for s in fleet['systems'] if not s['ok']], totals=totals,
                costs=costs, with_cost=bool(costs), cost_total=cost_total, cost_text=cost_text, shown=shown, amount=amount, plural=plural,
                cost_rows=cost_rows)


def fleet_charts(fleet):
    """(charts, notes): one chart per metric with a series per system; a metric no system used gets a note instead."""
    zone = None
    if fleet['period'].get('timezone'):
        try:
            zone = get_zone(fleet['period']['timezone'], 'timezone')
        except ValueError:
            zone = None
    charts, notes = [], []
    for chart_id, title, key, unit in CHARTS:
        series = []
        for item in series_of(fleet, key):
            line = Series(item['name'])
            for x, y in item['points']:
                line.add(x, y)
            series.append(line)
        if not any(line.any_above_zero() for line in series):
            notes.append('%s: chart left out, no system used any in this period.' % title)
            continue
        geometry = chart(chart_id, title, series, unit + ', time-weighted mean per period', zone)
        if geometry is not None:
            charts.append(geometry)
    return charts, notes


def render_markdown(fleet):
    return _environment(False).from_string(MARKDOWN).render(_context(fleet))


def render_html(fleet):
    context = _context(fleet)
    context['charts'], context['chart_notes'] = fleet_charts(fleet)
    context['css'] = CSS
    return _environment(True).from_string(HTML).render(context)
