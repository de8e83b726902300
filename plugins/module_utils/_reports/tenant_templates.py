# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vergeio.billing contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The Markdown and HTML templates of the tenant reports and the tenants overview (rendered by ``tenant.py`` with the
Jinja2 environment, filters, styles and chart macros of ``templates.py``).

Amounts arrive rounded (Decimals, ``_rating.money``) and are shown as they are; each shown total is the sum of the
shown lines it heads (computed in ``tenant.py``, never here). Quantities in unit-hours arrive rounded the same way
where a total sums them.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.vergeio.billing.plugins.module_utils._reports.templates import BUDGET_HTML, BUDGET_MARKDOWN

# The start of both pages, up to the title (the styles are the system report's, templates.CSS, plus OVERVIEW_CSS).
PAGE_START = '''<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="{{ generator }}"><title>{{ title }}</title><style>{{ css | safe }}{{ extra_css | default('') | safe }}</style></head>
<body><main><header><h1>{{ title }}</h1>'''
PAGE_END = '</main></body></html>\n'

# The overview's tables (and a tenant's periods) are wide, up to 9 columns of figures: smaller cells, names and
# headers that wrap, and A4 landscape in print, so every column (Total included) shows at 1100 px and on paper.
OVERVIEW_CSS = '''
table.compact th, table.compact td { padding: 5px 7px; font-size: 13px; }
table.compact th:first-child, table.compact td:first-child { white-space: normal; overflow-wrap: anywhere; min-width: 7em; }
table.compact thead th { white-space: normal; vertical-align: bottom; }
.scroll { overflow-x: auto; }
th.text { text-align: left; }
h3 { font-size: 16px; margin: 18px 0 8px; }
@page { size: A4 landscape; margin: 10mm; }
@media print { main { max-width: none; padding: 0; } table.compact th, table.compact td { font-size: 9pt; padding: 2px 4px; }
  h2, h3 { break-after: avoid; }
  .scroll { overflow: visible; } }
'''

TENANT_HTML = PAGE_START + '''
<p class="sub">Tenant {{ tenant.name }} ($key {{ tenant.key }}) of {{ name }}. Period {{ period.since | when }} to {{ period.until | when }}
(inclusive, {{ period.timezone }}). {{ summary.sample_count | plural('sample') }} billing {{ summary.hours | num }} hours.</p>
</header>
{% if tenant.state == 'deleted' %}
<p class="alert">This tenant is no longer in the tenant list (deleted during the period): it is billed for the samples it left.</p>
{% endif %}
{% if not summary.sample_count %}
<p class="alert">No statistics samples of this tenant in this period: nothing to bill and nothing to chart.</p>
{% endif %}
<section class="cards">
{{ card('Cores', summary.twa_cores | num, 'allocated, time-weighted; used ' ~ summary.twa_used_cores | num) }}
{{ card('RAM', (summary.twa_ram_allocated_gb | num) ~ ' GB', 'allocated, time-weighted; used ' ~ summary.twa_ram_used_gb | num ~ ' GB') }}
{{ card('Storage', (summary.twa_storage_allocated_gb | num) ~ ' GB', 'allocated, time-weighted; used ' ~ summary.twa_storage_used_gb | num ~ ' GB') }}
{{ card('IP addresses', summary.twa_ip_count | num, 'time-weighted; peak ' ~ summary.peak_ip_count | num) }}
{% if bill %}
{{ card('Total cost', bill.total | money(currency), basis ~ ' basis, ' ~ summary.hours | num ~ ' hours', ' total') }}
{% endif %}
</section>
{% if charts or chart_notes %}
<section><h2>Cores, RAM and storage over time</h2>
{% for c in charts %}<figure>{{ svg(c) }}</figure>
{% endfor %}
{% for note in chart_notes %}<p class="muted">{{ note }}</p>
{% endfor %}</section>
{% endif %}
{% if bill %}
<section><h2>Cost ({{ basis }} basis)</h2>
<table>
<thead><tr><th scope="col">Metric</th><th scope="col">Quantity</th><th scope="col" class="text">Unit</th>{#
#}<th scope="col">Unit price{{ (' (' ~ currency ~ ')') if currency else '' }}</th>{#
#}<th scope="col">Amount{{ (' (' ~ currency ~ ')') if currency else '' }}</th></tr></thead>
<tbody>
{% for line in bill_rows %}
<tr><th scope="row">{{ line.label }}</th><td>{{ line.quantity | num(2) }}</td><td class="text">{{ line.quantity_unit }}</td>{#
#}<td>{{ line.unit_price | rate }}</td>{#
#}<td>{{ line.amount | num }}</td></tr>
{% endfor %}
<tr class="total"><th scope="row">Total</th><td></td><td></td><td></td><td>{{ bill.total | num }}</td></tr>
</tbody></table>
<p class="muted">Quantity: the level billed on the {{ basis }} basis &times; the hours each sample stands for inside the period.
Amount: quantity &times; unit price, rounded half up to {{ bill.precision }} decimals; the total is the sum of the rounded lines.
The JSON report holds the exact amounts.</p>
</section>
{% endif %}
''' + BUDGET_HTML + '''<section><h2>Usage summary</h2>
<table>
<thead><tr><th scope="col">Metric</th><th scope="col">Unit</th><th scope="col">Mean per sample</th><th scope="col">Time-weighted mean</th>{#
#}<th scope="col">95th percentile</th><th scope="col">Peak</th></tr></thead>
<tbody>
{% for label, unit, avg, twa, p95, peak in usage_rows %}
<tr><th scope="row">{{ label }}</th><td>{{ unit }}</td><td>{{ avg | num }}</td><td>{{ twa | num }}</td><td>{{ p95 | num }}</td><td>{{ peak | num }}</td></tr>
{% endfor %}
</tbody></table>
<p class="muted">Each sample stands for the time until the tenant's next sample, at most twice the median gap; the newest for the median gap.
Only the part inside the period counts (the sample taken before the start bills its part). The 95th percentile is nearest-rank over samples.</p>
</section>
{% if periods %}
<section><h2>By {{ group_by }}</h2>
<div class="scroll"><table class="compact" id="periods">
<thead><tr><th scope="col">Period</th><th scope="col">Hours</th>{#
#}{% for part, label, _m in parts %}<th scope="col">{{ label }} ({{ units[part] }})</th>{% endfor %}{#
#}{% if bill %}<th scope="col">Amount</th>{% endif %}</tr></thead>
<tbody>
{% for p in periods %}
<tr><th scope="row">{{ p.period }}</th><td>{{ p.hours | num }}</td>{% for part, _l, _m in parts %}<td>{{ p.quantities[part] | num(2) }}</td>{% endfor %}{#
#}{% if bill %}<td>{{ p.amount | num }}</td>{% endif %}</tr>
{% endfor %}
</tbody></table></div>
<p class="muted">Usage split at each {{ group_by }}'s boundaries. Each amount is rounded on its own; the bill above rounds per metric.</p>
</section>
{% endif %}
<footer>Made by {{ generator }} from {{ summary.sample_count | plural('VergeOS tenant statistics sample') }}. Times in {{ period.timezone }}.
Figures are rounded for display; the JSON and CSV reports hold the exact values.</footer>
''' + PAGE_END

TENANT_MARKDOWN = '''# {{ title | md }}

Tenant {{ tenant.name | md }} ($key {{ tenant.key }}) of {{ name | md }}. Period {{ period.since | when }} to {{ period.until | when }} {#
#}(inclusive, {{ period.timezone | md }}): {{ summary.sample_count | plural('sample') }} billing {{ summary.hours | num }} hours. {#
#}Figures rounded for display (exact values in the JSON and CSV reports).
{% if tenant.state == 'deleted' %}

Note: this tenant is no longer in the tenant list (deleted during the period); it is billed for the samples it left.
{% endif %}
{% if not summary.sample_count %}

**No statistics samples of this tenant in this period: nothing to bill.**
{% endif %}
{% if bill %}

## Cost ({{ basis }} basis)

| Metric | Quantity | Unit | Unit price{{ (' (' ~ currency ~ ')') | md if currency else '' }} | Amount{{ (' (' ~ currency ~ ')') | md if currency else '' }} |
| --- | ---: | --- | ---: | ---: |
{% for line in bill_rows %}
| {{ line.label }} | {{ line.quantity | num(2) }} | {{ line.quantity_unit }} | {{ line.unit_price | rate }} | {{ line.amount | num }} |
{% endfor %}
| **Total** | | | | {{ bill.total | num }} |

Amount = quantity x unit price, rounded half up to {{ bill.precision }} decimals; the total is the sum of the rounded lines.
{% endif %}
''' + BUDGET_MARKDOWN + '''
## Usage

| Metric | Unit | Mean per sample | Time-weighted mean | 95th percentile | Peak |
| --- | --- | ---: | ---: | ---: | ---: |
{% for label, unit, avg, twa, p95, peak in usage_rows %}
| {{ label | md }} | {{ unit | md }} | {{ avg | num }} | {{ twa | num }} | {{ p95 | num }} | {{ peak | num }} |
{% endfor %}
{% if periods %}

## By {{ group_by }}

| Period | Hours |{% for part, label, _m in parts %} {{ label }} ({{ units[part] }}) |{% endfor %}{% if bill %} Amount |{% endif %}

| --- | ---: |{% for _p in parts %} ---: |{% endfor %}{% if bill %} ---: |{% endif %}

{% for p in periods %}
| {{ p.period }} | {{ p.hours | num }} |{% for part, _l, _m in parts %} {{ p.quantities[part] | num(2) }} |{% endfor %}{#
#}{% if bill %} {{ p.amount | num }} |{% endif %}

{% endfor %}

Usage split at each {{ group_by }}'s boundaries; each amount is rounded on its own (the bill rounds per metric).
{% endif %}
'''

OVERVIEW_HTML = PAGE_START + '''
<p class="sub">{{ rows | length | plural('tenant') }} of {{ name }}. Period {{ period.since | when }} to {{ period.until | when }}
(inclusive, {{ period.timezone }}), {{ hours | num }} hours.{#
#}{% if cost %} Costs on the {{ basis }} basis{{ (', in ' ~ currency) if currency else '' }}.{% endif %}</p>
</header>
{% if negative %}<p class="alert">Unallocated is negative for {{ negative | join(', ') }}: the tenants were billed
more than the system measured. It is shown as it is.</p>{% endif %}
{% if cost %}
<section class="cards">
{{ card('Tenants', totals.cost_total | money(currency), 'of ' ~ rows | length | plural('tenant'), ' total') }}
{{ card('Unallocated', metric_totals.unallocated_cost | money(currency), 'system usage no tenant pays for') }}
{{ card('System usage', metric_totals.system_cost | money(currency), 'what the system report bills') }}
{{ card('Capacity', metric_totals.capacity_cost | money(currency), 'at the newest record\\'s capacity') }}
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
{% if cost %}
<section><h2>Tenants{{ (' (' ~ currency ~ ')') if currency else '' }}</h2>
<div class="scroll"><table class="compact" id="tenant-costs">
<thead><tr><th scope="col">Tenant</th>{% for _p, label, _m in parts %}<th scope="col">{{ label }}</th>{% endfor %}<th scope="col">Total</th></tr></thead>
<tbody>
{% for r in rows + [totals] %}
<tr{% if loop.last %} class="total"{% endif %}><th scope="row">{{ r.tenant }}{% if r.state == 'deleted' %} (deleted){% endif %}</th>{#
#}{% for part, _l, _m in parts %}<td>{{ r['cost_' ~ part] | num }}</td>{% endfor %}<td>{{ r.cost_total | num }}</td></tr>
{% endfor %}
</tbody></table></div>
<p class="muted">Each amount is the sum of the tenant's rounded bill lines (storage: its tiers); each total the sum of the amounts shown.</p>
</section>
{% endif %}
<section><h2>Usage per tenant (unit-hours)</h2>
<div class="scroll"><table class="compact" id="tenant-usage">
<thead><tr><th scope="col">Tenant</th><th scope="col">Samples</th><th scope="col">Hours</th>{#
#}{% for part, label, _m in parts %}<th scope="col">{{ label }} ({{ units[part] }})</th>{% endfor %}</tr></thead>
<tbody>
{% for r in rows + [totals] %}
<tr{% if loop.last %} class="total"{% endif %}><th scope="row">{{ r.tenant }}</th><td>{{ r.sample_count | num }}</td>{#
#}<td>{{ r.hours | num if r.hours is not none else '' }}</td>{#
#}{% for part, _l, _m in parts %}<td>{{ r['quantity_' ~ part] | num }}</td>{% endfor %}</tr>
{% endfor %}
</tbody></table></div>
</section>
<section><h2>System, tenants and Unallocated</h2>
<div class="scroll"><table class="compact" id="metric-usage">
<thead><tr><th scope="col">Metric</th><th scope="col">Unit</th><th scope="col">Capacity</th><th scope="col">Capacity (unit-hours)</th>{#
#}<th scope="col">System usage</th><th scope="col">Tenants</th><th scope="col">Unallocated</th></tr></thead>
<tbody>
{% for m in metrics if m.shown.values() | select | list %}
<tr><th scope="row">{{ m.label }}</th><td class="text">{{ m.quantity_unit }}</td>{% if m.system %}<td>{{ m.capacity | num }} {{ m.unit }}</td>{#
#}<td>{{ m.shown.capacity | num }}</td><td>{{ m.shown.system | num }}</td><td>{{ m.shown.tenants | num }}</td><td>{{ m.shown.unallocated | num }}</td>{#
#}{% else %}<td>&ndash;</td><td>&ndash;</td><td>&ndash;</td><td>{{ m.shown.tenants | num }}</td><td>&ndash;</td>{% endif %}</tr>
{% endfor %}
</tbody></table></div>
{% if cost %}
<h3>In cost{{ (' (' ~ currency ~ ')') if currency else '' }}</h3>
<div class="scroll"><table class="compact" id="metric-costs">
<thead><tr><th scope="col">Metric</th><th scope="col">Unit price</th><th scope="col">Capacity</th>{#
#}<th scope="col">System usage</th><th scope="col">Tenants</th><th scope="col">Unallocated</th></tr></thead>
<tbody>
{% for m in metrics if m.shown.values() | select | list %}
<tr><th scope="row">{{ m.label }}</th><td>{{ m.unit_price | rate }}</td>{% if m.system %}<td>{{ m.shown.capacity_cost | num }}</td>{#
#}<td>{{ m.shown.system_cost | num }}</td><td>{{ m.shown.tenants_cost | num }}</td><td>{{ m.shown.unallocated_cost | num }}</td>{#
#}{% else %}<td>&ndash;</td><td>&ndash;</td><td>{{ m.shown.tenants_cost | num }}</td><td>&ndash;</td>{% endif %}</tr>
{% endfor %}
<tr class="total"><th scope="row">Total</th><td></td><td>{{ metric_totals.capacity_cost | num }}</td><td>{{ metric_totals.system_cost | num }}</td>{#
#}<td>{{ metric_totals.tenants_cost | num }}</td><td>{{ metric_totals.unallocated_cost | num }}</td></tr>
</tbody></table></div>
{% endif %}
<p class="muted">System usage is what the system report bills (its billing records, prorated to the period); Tenants the sum over
tenants on the {{ basis }} basis; Unallocated = system usage &minus; tenants: the provider's own workloads and whatever no tenant pays
for, so tenants + Unallocated = the system, per metric. Capacity is the newest record's, over the {{ hours | num }} hours of the period.
IP addresses have no system figure: billing records count none, so they are billed to tenants only (and the tenants' total includes them).</p>
</section>
{% for alert in budget_alerts %}{% if loop.first %}<section><h2>Budgets, {{ budget_month }}</h2><ul>{% endif %}<li>{{ alert }}</li>{#
#}{% if loop.last %}</ul></section>{% endif %}
{% endfor %}
{% for warning in warnings %}{% if loop.first %}<section><h2>Warnings</h2><ul>{% endif %}<li>{{ warning }}</li>{% if loop.last %}</ul></section>{% endif %}
{% endfor %}
<footer>Made by {{ generator }}. Times in {{ period.timezone }}. Figures are rounded for display; the JSON report holds the exact values.</footer>
''' + PAGE_END

OVERVIEW_MARKDOWN = '''# {{ title | md }}

{{ rows | length | plural('tenant') }} of {{ name | md }}. Period {{ period.since | when }} to {{ period.until | when }} {#
#}(inclusive, {{ period.timezone | md }}), {{ hours | num }} hours.{#
#}{% if cost %} Costs on the {{ basis }} basis{{ (', in ' ~ currency) | md if currency else '' }}.{% endif %}
{#
#} Figures rounded for display (exact values in the JSON report).
{% if negative %}

Warning: Unallocated is negative for {{ negative | join(', ') }}; the tenants were billed more than the system measured. It is shown as it is.
{% endif %}
{% if cost %}

## Tenants{{ (' (' ~ currency ~ ')') | md if currency else '' }}

| Tenant |{% for _p, label, _m in parts %} {{ label }} |{% endfor %} Total |
| --- |{% for _p in parts %} ---: |{% endfor %} ---: |
{% for r in rows + [totals] %}
| {{ ('**' ~ r.tenant ~ '**') if loop.last else (r.tenant | md) ~ (' (deleted)' if r.state == 'deleted' else '') }} |{#
#}{% for part, _l, _m in parts %} {{ r['cost_' ~ part] | num }} |{% endfor %} {{ r.cost_total | num }} |
{% endfor %}
{% endif %}

## Usage per tenant (unit-hours)

| Tenant | Samples | Hours |{% for part, label, _m in parts %} {{ label }} ({{ units[part] }}) |{% endfor %}

| --- | ---: | ---: |{% for _p in parts %} ---: |{% endfor %}

{% for r in rows + [totals] %}
| {{ ('**' ~ r.tenant ~ '**') if loop.last else r.tenant | md }} | {{ r.sample_count | num }} | {{ r.hours | num if r.hours is not none else '' }} |{#
#}{% for part, _l, _m in parts %} {{ r['quantity_' ~ part] | num }} |{% endfor %}

{% endfor %}

## System, tenants and Unallocated

| Metric | Unit | Capacity | Capacity (unit-hours) | System usage | Tenants | Unallocated |
| --- | --- | ---: | ---: | ---: | ---: | ---: |
{% for m in metrics if m.shown.values() | select | list %}
{% if m.system %}
| {{ m.label }} | {{ m.quantity_unit }} | {{ m.capacity | num }} {{ m.unit }} | {{ m.shown.capacity | num }} | {{ m.shown.system | num }} | {#
#}{{ m.shown.tenants | num }} | {{ m.shown.unallocated | num }} |
{% else %}
| {{ m.label }} | {{ m.quantity_unit }} | \u2013 | \u2013 | \u2013 | {{ m.shown.tenants | num }} | \u2013 |
{% endif %}
{% endfor %}
{% if cost %}

| Metric{{ (' (' ~ currency ~ ')') | md if currency else '' }} | Unit price | Capacity | System usage | Tenants | Unallocated |
| --- | ---: | ---: | ---: | ---: | ---: |
{% for m in metrics if m.shown.values() | select | list %}
{% if m.system %}
| {{ m.label }} | {{ m.unit_price | rate }} | {{ m.shown.capacity_cost | num }} | {{ m.shown.system_cost | num }} | {{ m.shown.tenants_cost | num }} | {#
#}{{ m.shown.unallocated_cost | num }} |
{% else %}
| {{ m.label }} | {{ m.unit_price | rate }} | \u2013 | \u2013 | {{ m.shown.tenants_cost | num }} | \u2013 |
{% endif %}
{% endfor %}
| **Total** | | {{ metric_totals.capacity_cost | num }} | {{ metric_totals.system_cost | num }} | {{ metric_totals.tenants_cost | num }} | {#
#}{{ metric_totals.unallocated_cost | num }} |
{% endif %}

System usage is what the system report bills; Tenants the sum over tenants on the {{ basis }} basis; Unallocated = system usage - tenants {#
#}(the provider's own workloads and whatever no tenant pays for), so tenants + Unallocated = the system, per metric. Capacity is the newest {#
#}record's, over the {{ hours | num }} hours of the period. IP addresses have no system figure: billing records count none, so they are {#
#}billed to tenants only (and the tenants' total includes them).
{% if not cost %}

No rate card was given: no costs.
{% endif %}
{% for alert in budget_alerts %}
{% if loop.first %}

## Budgets, {{ budget_month | md }}

{% endif %}
- {{ alert | md }}
{% endfor %}
{% for warning in warnings %}
{% if loop.first %}

## Warnings

{% endif %}
- {{ warning | md }}
{% endfor %}
'''
