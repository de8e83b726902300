# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vergeio.billing contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The fleet report as Markdown and HTML, through Jinja2 templates (autoescaped for HTML).

The templates are Python strings so they travel with the module (AnsiballZ ships module_utils, nothing else).
Jinja2 comes with ansible-core on the controller; the module checks for it (``HAS_JINJA2``) and fails with
``missing_required_lib`` where it is absent.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import math
import traceback

from ansible_collections.vergeio.billing.plugins.module_utils._fleet import CHARTS, TIER_NAMES, has_data, plural, series_of

try:
    import jinja2
    from markupsafe import Markup
    HAS_JINJA2 = True
    JINJA2_IMPORT_ERROR = None
except ImportError:  # pragma: no cover - Jinja2 comes with ansible-core
    jinja2 = Markup = None
    HAS_JINJA2 = False
    JINJA2_IMPORT_ERROR = traceback.format_exc()

COST_LABELS = (('cpu', 'CPU cores'), ('ram', 'RAM')) + tuple((name, 'Storage tier %s' % name[4:]) for name in TIER_NAMES) + (
    ('storage', 'Storage (all tiers)'), ('gpu', 'GPUs'), ('vgpu', 'vGPUs'), ('total', 'Total'))


def number(value, digits=1):
    """A figure for people: thousands separators, ``digits`` decimals, dot decimal mark; an en dash for no value."""
    if value is None or isinstance(value, bool) or (jinja2 is not None and isinstance(value, jinja2.Undefined)):
        return '\u2013'
    if isinstance(value, int):
        return '{:,}'.format(value)
    value = float(value)
    if math.isnan(value) or math.isinf(value):
        return '\u2013'
    return '{:,.{digits}f}'.format(value, digits=digits)


def money(value, currency=''):
    return ('%s %s' % (number(value, 2), currency)).strip()


def md(value):
    """Markdown text: backslashes, pipes and HTML brackets escaped (a name or error is never markup), no line breaks."""
    return str('' if value is None else value).replace('\\', '\\\\').replace('|', '\\|').replace('<', '&lt;').replace('>', '&gt;').replace('\r', ' ').replace('\n', ' ')


def cost_rows(cost):
    """(label, amount) of a cost: CPU, RAM, each tier that cost anything, storage, GPUs, vGPUs, total."""
    rows = []
    for part, label in COST_LABELS:
        value = (cost.get('tiers') or {}).get(part) if part in TIER_NAMES else cost.get(part)
        if part in TIER_NAMES and not value:
            continue
        rows.append((label, value))
    return rows


MARKDOWN = u'''# VergeOS fleet billing report: {{ fleet.name | md }}{% if fleet.period.label %}, {{ fleet.period.label | md }}{% endif %}

{% if fleet.period.since %}Period {{ fleet.period.since }} to {{ fleet.period.until }} (inclusive). {% endif -%}
{{ plural(totals.systems, 'system') }}: {{ totals.reported }} reported, {{ totals.failed }} failed. CPU, RAM, storage and GPU figures are time-weighted means; the total row adds them up over the systems that reported. Figures are rounded for display; the JSON and CSV reports hold the exact values.

| System | Status | Records | Hours | CPU cores | RAM GB | Storage GB | GPUs | vGPUs |{% if with_cost %} Cost |{% endif %}
| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |{% if with_cost %} ---: |{% endif %}
{% for s in fleet.systems %}{% set m = s.summary or {} %}| {{ s.name | md }} | {{ 'ok' if s.ok else 'FAILED' }} | {{ number(m.record_count) }} | {{ number(m.hours) }} | {{ number(m.twa_cpu_cores) }} | {{ number(m.twa_ram_gb) }} | {{ number(m.twa_storage_used_gb) }} | {{ number(m.twa_gpus_used, 2) }} | {{ number(m.twa_vgpus_used, 2) }} |{% if with_cost %} {{ money(m.cost.total, m.cost.currency) if m.cost else '\u2013' }} |{% endif %}
{% endfor %}| **Fleet total ({{ plural(totals.reported, 'system') }})** | | **{{ number(totals.record_count) }}** | **{{ number(totals.hours) }}** | **{{ number(totals.twa_cpu_cores) }}** | **{{ number(totals.twa_ram_gb) }}** | **{{ number(totals.twa_storage_used_gb) }}** | **{{ number(totals.twa_gpus_used, 2) }}** | **{{ number(totals.twa_vgpus_used, 2) }}** |{% if with_cost %} **{{ cost_total }}** |{% endif %}
{% if fleet.failed %}
## Failed systems

{% for s in fleet.systems if not s.ok %}- **{{ s.name | md }}**: {{ s.error | md }}
{% endfor %}{% endif %}{% for currency, cost in costs %}
## Cost{% if currency %} ({{ currency | md }}){% endif %}, {{ plural(cost.systems, 'system') }}

| Item | Cost |
| --- | ---: |
{% for label, amount in cost_rows(cost) %}| {{ '**Total**' if label == 'Total' else label }} | {{ number(amount, 2) }} |
{% endfor %}{% endfor %}'''

HTML = u'''<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="{{ fleet.generator }}">
<title>{{ title }}</title>
<style>
body { margin: 0; background: #f4f5f7; color: #1a1a1a; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif; }
main { max-width: 1100px; margin: 0 auto; padding: 24px 20px 40px; }
h1 { font-size: 26px; margin: 0 0 4px; } h2 { font-size: 19px; margin: 28px 0 10px; }
.sub, .muted { color: #555; } .muted { font-size: 13px; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(160px, 1fr)); gap: 10px; margin-top: 18px; }
.card { background: #fff; border: 1px solid #dcdfe4; border-radius: 8px; padding: 10px 14px; }
.card .label { color: #555; font-size: 12px; text-transform: uppercase; letter-spacing: .04em; }
.card .value { font-size: 20px; font-weight: 600; font-variant-numeric: tabular-nums; }
figure { margin: 0 0 14px; background: #fff; border: 1px solid #dcdfe4; border-radius: 8px; padding: 6px; }
svg.chart { display: block; width: 100%; height: auto; }
table { border-collapse: collapse; width: 100%; background: #fff; border: 1px solid #dcdfe4; font-variant-numeric: tabular-nums; }
th, td { padding: 6px 10px; border-bottom: 1px solid #e6e8eb; text-align: right; white-space: nowrap; }
th:first-child, td:first-child { text-align: left; }
thead th { background: #eef0f3; }
tr.total th, tr.total td { font-weight: 700; border-top: 2px solid #9a9a9a; }
tr.failed th, tr.failed td { background: #fdecea; }
.ok { color: #11723b; font-weight: 600; } .failed { color: #b00020; font-weight: 600; }
.alert { background: #fdecea; border: 1px solid #f5c2c0; border-radius: 8px; padding: 10px 14px; margin-top: 18px; }
footer { margin-top: 30px; color: #666; font-size: 12px; }
@media print { body { background: #fff; } figure, table, .card { break-inside: avoid; } }
</style>
</head>
<body>
<main>
<header>
<h1>{{ title }}</h1>
{% if fleet.period.since %}<p class="sub">Period {{ fleet.period.since }} to {{ fleet.period.until }} (inclusive).</p>{% endif %}
</header>
{% if fleet.failed %}<div class="alert"><b>{{ plural(totals.failed, 'system') }} of {{ totals.systems }} failed to report</b> and {{ 'is' if totals.failed == 1 else 'are' }} not in the totals:
<ul>{% for s in fleet.systems if not s.ok %}<li><b>{{ s.name }}</b>: {{ s.error }}</li>{% endfor %}</ul></div>
{% endif %}
<section class="cards">
<div class="card"><div class="label">Systems</div><div class="value">{{ totals.reported }} / {{ totals.systems }}</div><div class="muted">{{ plural(totals.reported, 'system') }} reported of {{ plural(totals.systems, 'system') }}</div></div>
<div class="card"><div class="label">CPU cores</div><div class="value">{{ number(totals.twa_cpu_cores) }}</div><div class="muted">time-weighted, summed</div></div>
<div class="card"><div class="label">RAM</div><div class="value">{{ number(totals.twa_ram_gb) }} GB</div><div class="muted">time-weighted, summed</div></div>
<div class="card"><div class="label">Storage</div><div class="value">{{ number(totals.twa_storage_used_gb) }} GB</div><div class="muted">time-weighted, summed</div></div>
{% if with_cost %}<div class="card"><div class="label">Total cost</div><div class="value">{{ cost_total }}</div><div class="muted">{{ plural(totals.reported, 'system') }} that reported</div></div>{% endif %}
</section>
<section><h2>Systems</h2>
<table>
<thead><tr><th scope="col">System</th><th scope="col">Status</th><th scope="col">Records</th><th scope="col">Hours</th><th scope="col">CPU cores</th><th scope="col">RAM GB</th><th scope="col">Storage GB</th><th scope="col">GPUs</th><th scope="col">vGPUs</th>{% if with_cost %}<th scope="col">Cost</th>{% endif %}</tr></thead>
<tbody>
{% for s in fleet.systems %}{% set m = s.summary or {} %}<tr{% if not s.ok %} class="failed"{% endif %}><th scope="row">{{ s.name }}</th><td>{% if s.ok %}<span class="ok">ok</span>{% else %}<span class="failed">FAILED</span>{% endif %}</td><td>{{ number(m.record_count) }}</td><td>{{ number(m.hours) }}</td><td>{{ number(m.twa_cpu_cores) }}</td><td>{{ number(m.twa_ram_gb) }}</td><td>{{ number(m.twa_storage_used_gb) }}</td><td>{{ number(m.twa_gpus_used, 2) }}</td><td>{{ number(m.twa_vgpus_used, 2) }}</td>{% if with_cost %}<td>{{ money(m.cost.total, m.cost.currency) if m.cost else '\u2013' }}</td>{% endif %}</tr>
{% endfor %}<tr class="total"><th scope="row">Fleet total ({{ plural(totals.reported, 'system') }})</th><td></td><td>{{ number(totals.record_count) }}</td><td>{{ number(totals.hours) }}</td><td>{{ number(totals.twa_cpu_cores) }}</td><td>{{ number(totals.twa_ram_gb) }}</td><td>{{ number(totals.twa_storage_used_gb) }}</td><td>{{ number(totals.twa_gpus_used, 2) }}</td><td>{{ number(totals.twa_vgpus_used, 2) }}</td>{% if with_cost %}<td>{{ cost_total }}</td>{% endif %}</tr>
</tbody>
</table>
<p class="muted">CPU, RAM, storage and GPU figures are time-weighted means over the period; the fleet total adds them up over the systems that reported.</p>
</section>
<section><h2>Usage over time, per system</h2>
{% for chart in charts %}{% if chart.svg %}<figure>{{ chart.svg }}</figure>
{% else %}<p class="muted">{{ chart.title }}: no system used any in this period, so there is no chart.</p>
{% endif %}{% endfor %}</section>
{% for currency, cost in costs %}<section><h2>Cost{% if currency %} ({{ currency }}){% endif %}, {{ plural(cost.systems, 'system') }}</h2>
<table><thead><tr><th scope="col">Item</th><th scope="col">Cost</th></tr></thead><tbody>
{% for label, amount in cost_rows(cost) %}<tr{% if label == 'Total' %} class="total"{% endif %}><th scope="row">{{ label }}</th><td>{{ money(amount, currency) }}</td></tr>
{% endfor %}</tbody></table></section>
{% endfor %}<footer>Made by {{ fleet.generator }}. Figures are rounded for display; the JSON and CSV reports hold the exact values.</footer>
</main>
</body>
</html>
'''


def _environment(autoescape):
    env = jinja2.Environment(autoescape=autoescape, keep_trailing_newline=True)
    env.filters['md'] = md
    env.globals.update(number=number, money=money, plural=plural, cost_rows=cost_rows)
    return env


def _context(fleet):
    totals = fleet['totals']
    costs = sorted(totals['cost_by_currency'].items())
    if totals.get('cost'):
        cost_total = money(totals['cost']['total'], totals['cost']['currency'])
    else:
        cost_total = ', '.join(money(cost['total'], currency) for currency, cost in costs)
    title = 'VergeOS fleet billing report: %s%s' % (fleet['name'], ', %s' % fleet['period']['label'] if fleet['period'].get('label') else '')
    return dict(fleet=fleet, totals=totals, costs=costs, with_cost=bool(costs), cost_total=cost_total, title=title)


def render_markdown(fleet):
    return _environment(False).from_string(MARKDOWN).render(**_context(fleet))


def render_html(fleet, line_chart):
    """The HTML page; ``line_chart(chart_id, title, series, unit)`` draws one SVG chart (markup-safe text)."""
    charts = []
    for chart_id, title, key, unit in CHARTS:
        series = series_of(fleet, key)
        svg = Markup(line_chart(chart_id, title, series, unit + ', time-weighted mean per period')) if has_data(series) else None
        charts.append(dict(title=title, svg=svg))
    context = _context(fleet)
    context['charts'] = charts
    return _environment(True).from_string(HTML).render(**context)
