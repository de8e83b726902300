# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vergeio.billing contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The Markdown and HTML reports as Jinja2 templates, shipped inside the collection.

They are template strings in a module_utils file because a module cannot read the collection's files when it runs
(AnsiballZ ships module_utils only). The HTML template is rendered with autoescaping on, so every value (a system
name, a description, a currency) is escaped; the Markdown one escapes table cells with the ``md`` filter.

Jinja2 and MarkupSafe come with ansible-core on the controller, but a module may run on a managed host without
them: ``load_jinja()`` imports them only when a Markdown or HTML report is asked for, and the module fails with
``missing_required_lib('Jinja2')`` when that import fails.

Presentation rounds (``num``: thousands separators and a fixed number of decimals; ``money``: 2 decimals); the
figures themselves are never rounded (the CSV and JSON reports hold them exactly). Amounts of a bill are shown with
``amount``: the bill's own rounded Decimal, with the currency's decimals, so a shown total is the sum of the shown
lines (``_rating.Bill``).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import math
import re
import traceback
from datetime import datetime
from decimal import Decimal

from ansible.module_utils.basic import missing_required_lib

JINJA2_IMPORT_ERROR = None

CSS = '''
:root { color-scheme: light; }
body { margin: 0; background: #f4f5f7; color: #1a1a1a; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif; }
main { max-width: 1100px; margin: 0 auto; padding: 24px 20px 40px; }
h1 { font-size: 26px; margin: 0 0 4px; }
h2 { font-size: 19px; margin: 28px 0 10px; }
.sub { color: #4a4a4a; margin: 0; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(150px, 1fr)); gap: 10px; margin-top: 18px; }
.card { background: #fff; border: 1px solid #dcdfe4; border-radius: 8px; padding: 10px 14px; }
.card .label { color: #555; font-size: 12px; text-transform: uppercase; letter-spacing: .04em; }
.card .value { font-size: 20px; font-weight: 600; font-variant-numeric: tabular-nums; }
.card .note { color: #666; font-size: 12px; }
.card.total { border-color: #0072B2; }
figure { margin: 0 0 14px; background: #fff; border: 1px solid #dcdfe4; border-radius: 8px; padding: 6px; }
svg.chart { display: block; width: 100%; height: auto; }
table { border-collapse: collapse; width: 100%; background: #fff; border: 1px solid #dcdfe4; font-variant-numeric: tabular-nums; }
th, td { padding: 6px 10px; border-bottom: 1px solid #e6e8eb; text-align: right; white-space: nowrap; }
th:first-child, td:first-child { text-align: left; }
td.text { text-align: left; white-space: normal; }
thead th { background: #eef0f3; font-weight: 600; }
tr.total th, tr.total td { font-weight: 700; border-top: 2px solid #9a9a9a; }
tr.failed th, tr.failed td { background: #fdecea; }
.status-ok { color: #11723b; font-weight: 600; }
.status-failed { color: #b00020; font-weight: 600; }
.alert { background: #fdecea; border: 1px solid #f5c2c0; border-radius: 8px; padding: 10px 14px; margin-top: 18px; }
.muted { color: #666; font-size: 13px; }
details { margin-top: 10px; }
footer { margin-top: 30px; color: #666; font-size: 12px; }
@media print { body { background: #fff; } figure, table, .card { break-inside: avoid; } }
'''

# One chart (geometry from _charts.chart()); every attribute value comes from numbers or escaped text.
# svg_open: the opening of every chart (line charts here, the tenants' cost bars in _tenant_report.py): the accessible
# title and description, and the white background.
SVG_MACRO = '''{% macro svg_open(c) -%}
<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="{{ c.id }}" viewBox="0 0 {{ c.width }} {{ c.height }}"
 width="{{ c.width }}" height="{{ c.height }}" role="img" aria-labelledby="{{ c.id }}-title {{ c.id }}-desc"
 font-family="system-ui, -apple-system, Segoe UI, Roboto, Helvetica, Arial, sans-serif">
<title id="{{ c.id }}-title">{{ c.title }}</title>
<desc id="{{ c.id }}-desc">{{ c.description }}</desc>
<rect x="0" y="0" width="{{ c.width }}" height="{{ c.height }}" fill="#ffffff"/>
{%- endmacro %}
{% macro svg(c) -%}
{{ svg_open(c) }}
<text x="{{ c.left - 56 }}" y="22" font-size="16" font-weight="600" fill="#1a1a1a">{{ c.title }}</text>
{% for item in c.legend %}
<line x1="{{ item.x }}" y1="{{ item.y - 4 }}" x2="{{ item.x + 24 }}" y2="{{ item.y - 4 }}" stroke="{{ item.colour }}" stroke-width="3"{#
#}{% if item.dashed %} stroke-dasharray="6 4"{% endif %}/>
<text x="{{ item.x + 30 }}" y="{{ item.y }}" font-size="12" fill="#333333">{{ item.name }}</text>
{% endfor %}
{% for g in c.grid %}
<line x1="{{ c.left }}" y1="{{ g.y }}" x2="{{ c.plot_right }}" y2="{{ g.y }}" stroke="{{ '#9a9a9a' if g.base else '#e3e3e3' }}" stroke-width="1"/>
<text x="{{ c.left - 8 }}" y="{{ g.label_y }}" font-size="12" fill="#444444" text-anchor="end">{{ g.label }}</text>
{% endfor %}
{% for t in c.ticks %}
<line x1="{{ t.x }}" y1="{{ c.plot_bottom }}" x2="{{ t.x }}" y2="{{ c.plot_bottom + 5 }}" stroke="#9a9a9a" stroke-width="1"/>
<text x="{{ t.x }}" y="{{ c.plot_bottom + 20 }}" font-size="12" fill="#444444" text-anchor="middle">{{ t.label }}</text>
{% endfor %}
<text x="{{ c.plot_right }}" y="{{ c.height - 6 }}" font-size="11" fill="#666666" text-anchor="end">{{ c.axis_note }}</text>
{% for line in c.lines %}
<polyline fill="none" stroke="{{ line.colour }}" stroke-width="{{ line.width }}" stroke-linejoin="round"{#
#}{% if line.dashed %} stroke-dasharray="6 4"{% endif %} points="{{ line.points }}"><title>{{ line.name }}</title></polyline>
{% for m in line.markers %}
<circle cx="{{ m.x }}" cy="{{ m.y }}" r="3" fill="{{ line.colour }}"/>
{% endfor %}
{% endfor %}
</svg>
{%- endmacro %}
{% macro card(label, value, note, css='') -%}
<div class="card{{ css }}"><div class="label">{{ label }}</div><div class="value">{{ value }}</div><div class="note">{{ note }}</div></div>
{%- endmacro %}'''

# The budget of one owner (``budget_view``): a section of the system's and each tenant's report, Markdown and HTML.
BUDGET_HTML = '''{% if budget %}
<section><h2>Budget, {{ budget.month }}</h2>
{% for alert in budget_alerts %}
<p class="alert">{{ alert }}</p>
{% endfor %}
<table>
<tbody>
{% for label, text in budget_lines %}
<tr><th scope="row">{{ label }}</th><td>{{ text }}</td></tr>
{% endfor %}
</tbody></table>
<p class="muted">{{ budget_note }}</p>
</section>
{% endif %}
'''

BUDGET_MARKDOWN = '''{% if budget %}

## Budget, {{ budget.month | md }}

{% for alert in budget_alerts %}
{{ alert | md }}

{% endfor %}
| Figure | Amount |
| --- | ---: |
{% for label, text in budget_lines %}
| {{ label | md }} | {{ text | md }} |
{% endfor %}

{{ budget_note | md }}
{% endif %}
'''

HTML = SVG_MACRO + '''
<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="{{ generator }}">
<title>{{ title }}</title>
<style>{{ css | safe }}</style>
</head>
<body>
<main>
<header>
<h1>{{ title }}</h1>
<p class="sub">Period {{ period.since | when }} to {{ period.until | when }} (inclusive, {{ period.timezone }}).
{{ summary.record_count | plural('record') }}, {{ hours_total | num }} hours.</p>
</header>
{% if not summary.record_count %}
<p class="alert">No billing record measured usage in this period: nothing to bill and nothing to chart.</p>
{% endif %}
<section class="cards">
{{ card('CPU cores', summary.twa_cpu_cores | num, 'time-weighted; peak ' ~ summary.peak_cpu_cores | num) }}
{{ card('RAM', (summary.twa_ram_gb | num) ~ ' GB', 'time-weighted; peak ' ~ summary.peak_ram_gb | num ~ ' GB') }}
{{ card('Storage', (summary.twa_storage_used_gb | num) ~ ' GB', 'time-weighted; peak ' ~ summary.peak_storage_used_gb | num ~ ' GB') }}
{% if show_gpus %}
{{ card('GPUs / vGPUs', (summary.twa_gpus_used | num(2)) ~ ' / ' ~ summary.twa_vgpus_used | num(2),
        'time-weighted; of ' ~ summary.total_gpus | num ~ ' / ' ~ summary.total_vgpus | num) }}
{% endif %}
{% if bill %}
{{ card('Total cost', bill.total | amount(precision, currency), 'for ' ~ hours_total | num ~ ' hours', ' total') }}
{% endif %}
</section>
{% if charts or chart_notes %}
<section><h2>Usage over time</h2>
{% for c in charts %}
<figure>{{ svg(c) }}</figure>
{% endfor %}
{% for note in chart_notes %}
<p class="muted">{{ note }}</p>
{% endfor %}
</section>
{% endif %}
{% if bill %}
<section><h2>Cost</h2>
<table>
<thead><tr><th scope="col">Metric</th><th scope="col">Quantity</th><th scope="col">Unit</th><th scope="col">Unit price</th>{#
#}<th scope="col">Amount{{ (' (' ~ currency ~ ')') if currency else '' }}</th></tr></thead>
<tbody>
{% for line in bill_lines %}
<tr><th scope="row">{{ line.label }}</th><td>{{ line.quantity | num(3) }}</td><td class="text">{{ line.quantity_unit }}</td>{#
#}<td>{{ line.unit_price | rate }}</td><td>{{ line.amount | amount(precision) }}</td></tr>
{% endfor %}
<tr class="total"><th scope="row">Total</th><td></td><td></td><td></td><td>{{ bill.total | amount(precision, currency) }}</td></tr>
</tbody></table>
<p class="muted">Amount = quantity &times; unit price (per unit-hour), rounded half up to {{ precision | plural('decimal') }}; the total is
the sum of the amounts shown. Each record's usage is prorated to the part of its interval inside the period.</p>
</section>
{% endif %}
''' + BUDGET_HTML + '''<section><h2>Usage summary</h2>
<table>
<thead><tr>{% for h in usage_header %}<th scope="col">{{ h }}</th>{% endfor %}</tr></thead>
<tbody>
{% for label, unit, avg, twa, p95, peak, cap in usage_rows %}
<tr><th scope="row">{{ label }}</th><td>{{ unit }}</td><td>{{ avg | num }}</td><td>{{ twa | num }}</td><td>{{ p95 | num }}</td>{#
#}<td>{{ peak | num }}</td><td>{{ cap | num }}</td></tr>
{% endfor %}
</tbody></table>
<p class="muted">Time-weighted means weigh each record by the part of its interval inside the period; the 95th percentile is
nearest-rank over records; capacity is that of the newest record.</p>
</section>
{% if periods %}
<section><h2>By {{ group_by }}</h2><details><summary>{{ periods | length | plural(group_by) }} (time-weighted means)</summary>
<table>
<thead><tr>{% for h in period_header %}<th scope="col">{{ h }}</th>{% endfor %}</tr></thead>
<tbody>
{% for p in periods %}
<tr><th scope="row">{{ p.period }}</th><td>{{ p.record_count | num }}</td><td>{{ p.shown_hours | num }}</td><td>{{ p.twa_cpu_cores | num }}</td>{#
#}<td>{{ p.twa_ram_gb | num }}</td><td>{{ p.twa_storage_used_gb | num }}</td><td>{{ p.twa_gpus_used | num(2) }}</td>{#
#}<td>{{ p.twa_vgpus_used | num(2) }}</td>{% if bill %}<td>{{ p.amount | amount(precision) }}</td>{% endif %}</tr>
{% endfor %}
<tr class="total"><th scope="row">Total</th><td></td><td>{{ hours_total | num }}</td><td></td><td></td><td></td><td></td><td></td>{#
#}{% if bill %}<td>{{ bill.total | amount(precision, currency) }}</td>{% endif %}</tr>
</tbody></table>
<p class="muted">A record counts in every {{ group_by }} its interval overlaps, with the part inside it. The amounts are the
total apportioned over the {{ group_by }}s by largest remainder (each gets its exact amount rounded down, the cents still
missing go to the largest remainders), so they add up to the total.</p>
</details></section>
{% endif %}
<footer>Made by {{ generator }} from {{ summary.record_count | plural('VergeOS billing record') }} whose usage overlaps the period.
{{- ' ' }}Times in {{ period.timezone }}.
Figures are rounded for display; the JSON and CSV reports hold the exact values.</footer>
</main>
</body>
</html>
'''

MARKDOWN = '''# {{ title | md }}

Period {{ period.since | when }} to {{ period.until | when }} (inclusive, {{ period.timezone | md }}): {#
#}{{ summary.record_count | plural('record') }} covering {{ hours_total | num }} hours. {#
#}Figures rounded for display (exact values in the JSON and CSV reports).
{% if not summary.record_count %}

**No billing record measured usage in this period: nothing to bill.**
{% endif %}

## Usage

| {{ usage_header | join(' | ') }} |
| --- | --- | ---: | ---: | ---: | ---: | ---: |
{% for label, unit, avg, twa, p95, peak, cap in usage_rows %}
| {{ label | md }} | {{ unit | md }} | {{ avg | num }} | {{ twa | num }} | {{ p95 | num }} | {{ peak | num }} | {{ cap | num }} |
{% endfor %}
{% for note in chart_notes %}
{% if loop.first %}

{% endif %}
- {{ note | md }}
{% endfor %}
{% if bill %}

## Cost

| Metric | Quantity | Unit | Unit price | Amount{{ (' (' ~ currency ~ ')') | md if currency else '' }} |
| --- | ---: | --- | ---: | ---: |
{% for line in bill_lines %}
| {{ line.label | md }} | {{ line.quantity | num(3) }} | {{ line.quantity_unit | md }} | {{ line.unit_price | rate }} | {{ line.amount | amount(precision) }} |
{% endfor %}
| **Total** | | | | {{ bill.total | amount(precision) }} |

Amount = quantity x unit price (per unit-hour), rounded half up to {{ precision | plural('decimal') }}; the total is the sum of the amounts shown. {#
#}Each record's usage is prorated to the part of its interval inside the period.
{% endif %}
''' + BUDGET_MARKDOWN + '''{% if periods %}

## By {{ group_by }}

| {{ period_header | join(' | ') }} |
| --- |{% for h in period_header[1:] %} ---: |{% endfor %}

{% for p in periods %}
| {{ p.period }} | {{ p.record_count | num }} | {{ p.shown_hours | num }} | {{ p.twa_cpu_cores | num }} | {{ p.twa_ram_gb | num }} | {#
#}{{ p.twa_storage_used_gb | num }} | {{ p.twa_gpus_used | num(2) }} | {{ p.twa_vgpus_used | num(2) }} |{#
#}{% if bill %} {{ p.amount | amount(precision) }} |{% endif %}

{% endfor %}
| **Total** | | {{ hours_total | num }} | | | | | |{% if bill %} {{ bill.total | amount(precision) }} |{% endif %}


Time-weighted means over each {{ group_by }}; a record counts in every {{ group_by }} its interval overlaps, with the part {#
#}inside it. The amounts are the total apportioned over the {{ group_by }}s, so they add up to the total.
{% endif %}
'''


def num(value, digits=1):
    """A figure for people: thousands separators, ``digits`` decimals, dot decimal mark; an en dash for no value."""
    if value is None:
        return '\u2013'
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int):
        return '{:,}'.format(value)
    if isinstance(value, Decimal):  # a figure already rounded as shown (money, quantities): its own decimals
        return '{:,}'.format(value.copy_abs() if value.is_zero() else value) if value.is_finite() else '\u2013'
    value = float(value)
    if math.isnan(value) or math.isinf(value):
        return '\u2013'
    return '{:,.{digits}f}'.format(value, digits=digits)


def money(value, currency=''):
    text = num(value, 2)
    return '%s %s' % (text, currency) if currency else text


def amount(value, precision=2, currency=''):
    """A rounded amount (a Decimal of the bill) with thousands separators and exactly ``precision`` decimals, as it
    is: no float on the way, so what is shown is what was added up."""
    if value is None:
        return '\u2013'
    text = '{:,.{digits}f}'.format(Decimal(value), digits=precision)
    return '%s %s' % (text, currency) if currency else text


def quantity(value):
    """A quantity in unit-hours with thousands separators and three decimals."""
    return '{:,.3f}'.format(float(value))


def budget_view(figures, precision, currency):
    """What a report shows of one owner's budget figures (``_budget.status``): ``(lines, alerts, note)``, the same for
    Markdown and HTML and for the system and tenant reports. Amounts as the figures hold them (decimal text)."""
    if not figures:
        return [], [], ''

    def shown(value, places=precision):
        return amount(value, places, currency) if value is not None else 'none'

    budget = figures['budget']
    places = max(precision, -Decimal(budget).as_tuple().exponent) if budget is not None else precision
    lines = [('Cost so far' if not figures['complete'] else 'Cost of the month', shown(figures['month_to_date'])),
             ('Forecast for the month', shown(figures['forecast']) if figures['forecast'] is not None else 'none (nothing measured yet)'),
             ('Budget', shown(budget, places))]
    alerts = []
    if figures['over_budget']:
        alerts.append('Over budget: %s %s above the budget of %s.' % (
            'the cost so far is' if not figures['complete'] else 'the cost of the month is',
            amount(Decimal(figures['month_to_date']) - Decimal(budget), places, currency), shown(budget, places)))
    elif figures['forecast_over_budget']:
        alerts.append('Forecast over budget: the month is forecast at %s, %s above the budget of %s.' % (
            shown(figures['forecast']), amount(Decimal(figures['forecast']) - Decimal(budget), places, currency), shown(budget, places)))
    if figures['complete']:
        note = 'The month is over: the forecast is its cost.'
    else:
        note = ('Forecast = cost so far / %s hours measured x %s hours of the month (on the calendar of the report), '
                'rounded half up; it assumes the rest of the month looks like the part measured.'
                % (num(figures['hours_measured'], 2), num(figures['hours_in_month'], 1)))
    return lines, alerts, note


def rate(value):
    """A price without exponent notation: 0.00005, not 5e-05."""
    if value is None:
        return '\u2013'
    text = '%.12f' % float(value)
    return text.rstrip('0').rstrip('.') if '.' in text else text


def when(text):
    """``2026-10-01 00:00:00 +02:00`` from an ISO 8601 string with an offset (en dash when absent)."""
    if not text:
        return '\u2013'
    moment = datetime.fromisoformat(str(text))
    offset = moment.strftime('%z')
    return '%s %s:%s' % (moment.strftime('%Y-%m-%d %H:%M:%S'), offset[:3], offset[3:])


def plural(count, noun):
    """``1 record``, ``745 records`` (the count with thousands separators)."""
    return '%s %s%s' % (num(count), noun, '' if count == 1 else 's')


# Markdown inert text (the ``md`` filter): characters that start markup get a backslash, the HTML ones become entities.
_MD_PUNCTUATION = re.compile(r'([\\`*_\[\]|~$^@])')
_MD_CONTROL = re.compile(r'[\x00-\x1f\x7f]+')
_MD_BLOCK_START = re.compile(r'^(\s*)(?:(#{1,6}|=+|-+|\+)|([0-9]{1,9})([.)]))(?=\s|$)')


def md(value):
    """Any text (a system or tenant name, a currency, an error message) as inert Markdown, the one filter of every
    Markdown the collection writes: rendered by a CommonMark or GitHub renderer it shows the text as it is, in a table
    cell or in a paragraph. No raw HTML (``<`` ``>`` ``&`` become entities), no link, image or autolink
    (``[`` ``]`` ``@`` escaped, ``://`` and ``www.`` broken by a backslash), no emphasis, code, strikethrough or
    math, no table cell break (``|``); line breaks become spaces, and a leading ``#``, ``+``, ``-``, ``=`` or
    ``1.`` cannot start a heading or a list. None is empty."""
    if value is None:
        return ''
    text = _MD_CONTROL.sub(' ', str(value))
    text = text.replace('&', '&amp;').replace('<', '&lt;').replace('>', '&gt;')
    text = _MD_PUNCTUATION.sub(r'\\\1', text)
    text = text.replace('://', '\\://')
    text = re.sub(r'(?i)(www)\.', r'\1\\.', text)
    return _MD_BLOCK_START.sub(lambda m: m.group(1) + ('\\' + m.group(2) if m.group(2) else m.group(3) + '\\' + m.group(4)), text, count=1)


class MissingJinja2(ImportError):
    """Jinja2 (or MarkupSafe) cannot be imported here."""


_ENVIRONMENTS = {}


def load_jinja():
    """Import Jinja2 (and MarkupSafe, which it needs); MissingJinja2 when that fails (the traceback kept)."""
    global JINJA2_IMPORT_ERROR  # pylint: disable=global-statement
    try:
        import jinja2  # pylint: disable=import-outside-toplevel
        import markupsafe  # noqa: F401  pylint: disable=import-outside-toplevel,unused-import
    except ImportError:
        JINJA2_IMPORT_ERROR = traceback.format_exc()
        raise MissingJinja2('Jinja2')
    return jinja2


def require_jinja(module, formats):
    """Fail ``module`` the standard way (missing_required_lib) when ``formats`` need Jinja2 and it cannot be imported."""
    if set(formats) & set(('markdown', 'html')):
        try:
            load_jinja()
        except MissingJinja2:
            module.fail_json(msg=missing_required_lib('Jinja2 (and MarkupSafe), for the markdown and html formats'),
                             exception=JINJA2_IMPORT_ERROR)


def _environment(html):
    if html not in _ENVIRONMENTS:
        jinja2 = load_jinja()
        environment = jinja2.Environment(autoescape=html, undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                                         keep_trailing_newline=True)
        environment.filters.update(num=num, money=money, amount=amount, quantity=quantity, rate=rate, when=when, md=md, plural=plural)
        _ENVIRONMENTS[html] = environment
    return _ENVIRONMENTS[html]


def render_html(context):
    """The self-contained HTML report (no scripts, no external references) for a report context."""
    return _environment(True).from_string(HTML).render(dict(context, css=CSS))


def render_markdown(context):
    """The Markdown report for a report context."""
    return _environment(False).from_string(MARKDOWN).render(context)
