# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vergeio.billing contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Tenant statements of ``verge_billing_report`` (``statements: true``): what finance sends, never silently rewritten.

One statement per tenant per billing period, from the rating engine: the tenant's samples over the period
(``_usage.Usage.tenants``) into a ``_rating.Meter`` with one charge period, priced (``_rating.price``) and billed
(``_rating.Bill``: one line per metric, quantity in unit-hours, unit price, amount rounded half up to
``rates.precision``). Then, in this order (``settle``)::

    subtotal  = the sum of the rounded lines
    discount  = subtotal x discount, rounded                    (shown negative)
    uplift    = minimum_charge - (subtotal - discount), when that is positive
    net       = subtotal - discount + uplift                    (shown as "Amount before <tax>" when there is a tax)
    tax       = net x tax.rate, rounded
    total     = net + tax

so each figure shown is the sum of what is shown above it.

Files (``<dest>/statements/<label>/<stem>-<number>.<ext>``, ``stem`` the file stem of the report's ``name``): HTML
(print CSS for A4 and Letter), Markdown (every name inert) and JSON; the JSON is always written, it is the record a
rerun compares against. A statement is identified by the system's name, the tenant's ``$key`` and the period:

- nothing issued yet: the statement is written (its number from ``statement_number``);
- issued, and its lines and amounts are those of the rerun: nothing is written (the first issue date stays; a
  format added to ``formats`` since is rendered from the issued JSON);
- issued, and the amounts or lines differ (new rates, late data): the task fails naming the statement and the old and
  new totals, before any statement file is written, unless ``reissue: true``, which writes ``<number>-R1`` (then
  ``-R2``, ...) beside it; the issued files are never touched.

Nothing here knows Ansible: ``statement_terms`` validates the options (called by ``ReportRequest.from_options``),
``run_statements`` is the module's hook.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import math
import os
import re
import shutil
import string
from collections import OrderedDict
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from ansible_collections.vergeio.billing.plugins.module_utils._reports.files import (
    EXTENSIONS, _prepare_dest, new_temp, place, removed_warning, safe_name, sha256_of, sweep_temporaries,
)
from ansible_collections.vergeio.billing.plugins.module_utils._reports.templates import amount

GENERATOR = 'vergeio.billing.verge_billing_report'
LAYOUT = 1
KIND = 'statement'
FOLDER = 'statements'
# The formats a statement is written in (the report's csv has no statement form); json is always written.
STATEMENT_FORMATS = ('json', 'markdown', 'html')
PLACEHOLDERS = ('customer_id', 'tenant_key', 'period')
DEFAULT_NUMBER = '{tenant_key}-{period}'
ISSUER_KEYS = ('name', 'address', 'tax_id', 'email', 'payment_terms')
CUSTOMER_KEYS = ('legal_name', 'customer_id', 'cost_center', 'address', 'email')
REVISION = re.compile(r'^(?P<base>.+)-R(?P<revision>[1-9][0-9]*)$')
# Line items of the HTML's first page (below the parties) and of each further page, on A4 and on the shorter Letter;
# pages break between the tables and each repeats the head.
FIRST_PAGE_LINES = 12
LINES_PER_PAGE = 24


# ---- options ----------------------------------------------------------------------------------------------------------

class StatementTerms:
    """The statement options, checked: issuer, customers, number (template), discount, minimum_charge, tax, reissue."""

    def __init__(self, **values):
        self.__dict__.update(values)


def _number(option, value, low=None, high=None):
    """A number option as a Decimal (from its shortest repr); ValueError naming the option and the value."""
    try:
        if isinstance(value, bool) or value is None or value == '':
            raise ValueError()
        number = Decimal(repr(float(value))) if not isinstance(value, Decimal) else value
        if not number.is_finite():
            raise ValueError()
    except (TypeError, ValueError, OverflowError, InvalidOperation):
        raise ValueError('%s must be a number, got %r' % (option, value))
    if (low is not None and number < low) or (high is not None and number > high):
        raise ValueError('%s must be from %s to %s, got %r' % (option, low, high, value))
    return number


def _text_block(option, value):
    """Free text of the issuer or a customer: a string (new lines kept) or a list of lines; '' for None."""
    if value is None:
        return ''
    if isinstance(value, (list, tuple)):
        if all(isinstance(line, (str, int)) and not isinstance(line, bool) for line in value):
            return '\n'.join(str(line) for line in value)
    elif isinstance(value, (str, int)) and not isinstance(value, bool):
        return str(value)
    raise ValueError('%s must be text (or, for an address, a list of lines), got %r' % (option, value))


def _party(option, value, keys):
    if value is None:
        value = {}
    if not isinstance(value, dict):
        raise ValueError('%s must be a dict with the keys %s, got %r' % (option, ', '.join(keys), value))
    unknown = sorted(str(key) for key in value if key not in keys)
    if unknown:
        raise ValueError('%s: unknown key(s) %s; accepted: %s' % (option, ', '.join(unknown), ', '.join(keys)))
    return OrderedDict((key, _text_block('%s.%s' % (option, key), value.get(key)).strip()) for key in keys)


def number_template(value):
    """The ``statement_number`` template, checked: only ``{customer_id}``, ``{tenant_key}`` and ``{period}``, with
    ``{period}`` and one of the other two (a number must be unique per tenant and period)."""
    template = DEFAULT_NUMBER if value in (None, '') else value
    if not isinstance(template, str):
        raise ValueError('statement_number must be text like %s, got %r' % (DEFAULT_NUMBER, value))
    fields = []
    try:
        for _literal, field, spec, conversion in string.Formatter().parse(template):
            if field is None:
                continue
            if field not in PLACEHOLDERS or spec or conversion:
                raise ValueError('statement_number: unknown placeholder {%s%s%s} in %r; accepted: %s' % (
                    field, '!' + conversion if conversion else '', ':' + spec if spec else '', template,
                    ', '.join('{%s}' % name for name in PLACEHOLDERS)))
            fields.append(field)
    except ValueError as exc:
        if str(exc).startswith('statement_number'):
            raise
        raise ValueError('statement_number: %s in %r (write a literal brace as {{ or }})' % (exc, template))
    if 'period' not in fields or not ('tenant_key' in fields or 'customer_id' in fields):
        raise ValueError('statement_number must contain {period} and {tenant_key} or {customer_id}, so that each tenant\'s statement '
                         'of each period has a number of its own, got %r' % template)
    return template


def statement_terms(options, tenants, rates):
    """The statement options of a report (None without ``statements``); ValueError naming the option."""
    if not options.get('statements'):
        return None
    if tenants is None:
        raise ValueError('statements needs tenants (true, or a list of tenant names or $key numbers): a statement is a tenant\'s')
    if rates is None:
        raise ValueError('statements needs rates (the rate card that prices the line items)')
    issuer = _party('issuer', options.get('issuer'), ISSUER_KEYS)
    if not issuer['name']:
        raise ValueError('statements needs issuer.name (who issues the statements), with optionally address, tax_id, email, payment_terms')
    customers = options.get('customers') or {}
    if not isinstance(customers, dict):
        raise ValueError('customers must be a dict from a tenant name or $key to legal_name, customer_id, cost_center, address, '
                         'email; got %r' % (customers,))
    checked = OrderedDict()
    for key, value in customers.items():
        selector = str(key).strip()
        if not selector:
            raise ValueError('customers: an empty tenant name')
        checked[selector] = _party('customers[%s]' % selector, value, CUSTOMER_KEYS)
    discount = options.get('discount')
    discount = None if discount in (None, '') else _number('discount', discount, Decimal(0), Decimal(1))
    minimum = options.get('minimum_charge')
    if minimum not in (None, ''):
        minimum = _number('minimum_charge', minimum, Decimal(0))
        if minimum != minimum.quantize(_unit(rates.precision), rounding=ROUND_HALF_UP):
            raise ValueError('minimum_charge has more decimals than the currency\'s minor unit (rates.precision %d), got %r'
                             % (rates.precision, options.get('minimum_charge')))
        minimum = minimum.quantize(_unit(rates.precision))
    else:
        minimum = None
    tax = options.get('tax')
    if tax not in (None, {}):
        if not isinstance(tax, dict) or set(tax) - set(('name', 'rate')):
            raise ValueError('tax must be a dict with name and rate (a fraction, 0.19 for 19%%), got %r' % (tax,))
        name = _text_block('tax.name', tax.get('name')).strip()
        if not name:
            raise ValueError('tax.name must name the tax, for example VAT')
        tax = OrderedDict(name=name, rate=_number('tax.rate', tax.get('rate'), Decimal(0), Decimal(1)))
    else:
        tax = None
    return StatementTerms(issuer=issuer, customers=checked, number=number_template(options.get('statement_number')), discount=discount,
                          minimum_charge=minimum, tax=tax, reissue=bool(options.get('reissue')))


# ---- money ------------------------------------------------------------------------------------------------------------

def _unit(precision):
    return Decimal(1).scaleb(-precision)


def _round(amount, precision):
    return amount.quantize(_unit(precision), rounding=ROUND_HALF_UP)


def settle(amounts, precision, discount=None, minimum_charge=None, tax=None):
    """The figures of a statement from its rounded line ``amounts`` (Decimals): an OrderedDict of subtotal, discount
    (negative or zero), uplift, net, tax and total, each a Decimal with ``precision`` decimals; discount, uplift and
    tax are None when not asked for. Each figure is the sum of those before it."""
    zero = Decimal(0).quantize(_unit(precision))
    subtotal = sum(amounts, zero)
    out = OrderedDict(subtotal=subtotal, discount=None, uplift=None, net=None, tax=None, total=None)
    running = subtotal
    if discount is not None:
        out['discount'] = -_round(subtotal * discount, precision)
        running += out['discount']
    if minimum_charge is not None:
        out['uplift'] = max(zero, minimum_charge - running)
        running += out['uplift']
    out['net'] = running
    if tax is not None:
        out['tax'] = _round(running * tax['rate'], precision)
        running += out['tax']
    out['total'] = running
    return out


# ---- one statement ----------------------------------------------------------------------------------------------------

def _text(amount):
    return None if amount is None else str(amount)


def customer_of(terms, key, name):
    """(customer dict, found) of a tenant: its ``customers`` entry by $key, else by name; else its VergeOS name."""
    entry = terms.customers.get(str(key)) or terms.customers.get(name)
    if entry is None:
        entry = OrderedDict((field, '') for field in CUSTOMER_KEYS)
    entry = OrderedDict(entry)
    found = any(entry.values())
    entry['legal_name'] = entry['legal_name'] or name
    entry['customer_id'] = entry['customer_id'] or 'tenant-%s' % key
    return entry, found


def statement_number(template, customer_id, tenant_key, period_label):
    return template.format(customer_id=customer_id, tenant_key=tenant_key, period=period_label)


def build(bill, card, terms, owner, customer, number, period, system, basis, issued):
    """The statement as plain data (what the JSON holds and the templates render)."""
    lines = [line for line in bill.lines if line.quantity and line.unit_price]
    figures = settle([line.amount for line in lines], card.precision, terms.discount, terms.minimum_charge, terms.tax)
    return OrderedDict([
        ('generator', GENERATOR), ('layout', LAYOUT), ('kind', KIND), ('number', number), ('base_number', number), ('revision', 0),
        ('supersedes', None), ('issue_date', issued), ('system', system), ('period', period),
        ('issuer', OrderedDict(terms.issuer)), ('customer', customer),
        ('tenant', OrderedDict(key=owner.key, name=owner.name, state=owner.state)), ('basis', basis),
        ('currency', card.currency), ('precision', card.precision),
        ('lines', [OrderedDict(metric=line.metric, label=line.label, quantity=line.quantity, quantity_unit=line.quantity_unit,
                               unit_price=line.unit_price, amount=str(line.amount), exact=line.exact) for line in lines]),
        ('subtotal', _text(figures['subtotal'])),
        ('discount', None if terms.discount is None else OrderedDict(rate=float(terms.discount), amount=_text(figures['discount']))),
        ('minimum_charge', None if terms.minimum_charge is None else OrderedDict(amount=_text(terms.minimum_charge),
                                                                                 uplift=_text(figures['uplift']))),
        ('net', _text(figures['net'])),
        ('tax', None if terms.tax is None else OrderedDict(name=terms.tax['name'], rate=float(terms.tax['rate']), amount=_text(figures['tax']))),
        ('total', _text(figures['total'])),
        ('exact', math.fsum(line.exact for line in lines)),
        ('rates', dict(card)),
        ('corrects', None),
    ])


def amounts_of(statement):
    """What a rerun compares: the lines (metric, quantity, unit, unit price, amount) and every figure below them."""
    def part(value, *keys):
        return None if value is None else tuple(value.get(key) for key in keys)
    return (statement.get('currency'), statement.get('precision'),
            tuple((line.get('metric'), line.get('quantity'), line.get('quantity_unit'), line.get('unit_price'), line.get('amount'))
                  for line in statement.get('lines') or ()),
            statement.get('subtotal'), part(statement.get('discount'), 'rate', 'amount'),
            part(statement.get('minimum_charge'), 'amount', 'uplift'), statement.get('net'),
            part(statement.get('tax'), 'name', 'rate', 'amount'), statement.get('total'))


def details_of(statement):
    """The parts that are no amounts: issuer, customer, tenant name."""
    return (statement.get('issuer'), statement.get('customer'), (statement.get('tenant') or {}).get('name'))


def revise(statement, previous):
    """``statement`` as the next revision of ``previous`` (the newest issued one)."""
    revision = int(previous.get('revision') or 0) + 1
    out = OrderedDict(statement)
    out['base_number'] = previous.get('base_number') or previous['number']
    out['number'] = '%s-R%d' % (out['base_number'], revision)
    out['revision'] = revision
    out['supersedes'] = previous['number']
    old, new = Decimal(previous.get('total') or 0), Decimal(statement['total'])
    out['corrects'] = OrderedDict(number=previous['number'], issue_date=previous.get('issue_date'), old_total=previous.get('total'),
                                  new_total=statement['total'], difference=str(new - old))
    return out


# ---- rendering --------------------------------------------------------------------------------------------------------

def percent(value):
    text = '%.6f' % (float(value) * 100)
    return text.rstrip('0').rstrip('.') + ' %'


def summary_rows(statement):
    """(label, amount text, css) rows below the lines: subtotal, discount, uplift, net (with tax), tax, total."""
    rows = [('Subtotal', statement['subtotal'], 'sub')]
    if statement.get('discount'):
        rows.append(('Discount (%s)' % percent(statement['discount']['rate']), statement['discount']['amount'], ''))
    if statement.get('minimum_charge'):
        rows.append(('Uplift to the minimum charge of %s' % amount(statement['minimum_charge']['amount'], statement['precision']),
                     statement['minimum_charge']['uplift'], ''))
    if statement.get('tax'):
        rows.append(('Amount before %s' % statement['tax']['name'], statement['net'], 'sub'))
        rows.append(('%s (%s)' % (statement['tax']['name'], percent(statement['tax']['rate'])), statement['tax']['amount'], ''))
    rows.append(('Total', statement['total'], 'total'))
    return rows


def pages(lines):
    """The line items in pages: FIRST_PAGE_LINES, then LINES_PER_PAGE each (one empty page for no line)."""
    out = [lines[:FIRST_PAGE_LINES]]
    out.extend(lines[start:start + LINES_PER_PAGE] for start in range(FIRST_PAGE_LINES, len(lines), LINES_PER_PAGE))
    return out


STATEMENT_CSS = '''
:root { color-scheme: light; }
body { margin: 0; background: #fff; color: #1a1a1a; font: 10pt/1.35 system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif; }
main { max-width: 180mm; margin: 0 auto; padding: 12mm 0; }
h1 { font-size: 18pt; margin: 0 0 2mm; }
.parties { display: flex; justify-content: space-between; gap: 8mm; margin: 4mm 0; }
.party { flex: 1 1 0; min-width: 0; overflow-wrap: anywhere; }
.party h2, .meta h2 { font-size: 9pt; text-transform: uppercase; letter-spacing: .05em; color: #555; margin: 0 0 1mm; }
.address { white-space: pre-line; }
dl.meta { display: grid; grid-template-columns: max-content 1fr; gap: 0.5mm 6mm; margin: 0 0 4mm; }
dl.meta dt { color: #555; } dl.meta dd { margin: 0; overflow-wrap: anywhere; }
table { border-collapse: collapse; width: 100%; table-layout: fixed; font-variant-numeric: tabular-nums; }
col.metric { width: 25%; } col.qty { width: 22%; } col.unit { width: 15%; } col.price { width: 13%; } col.amount { width: 25%; }
th, td { padding: 1.1mm 2mm; border-bottom: 1px solid #ddd; text-align: right; vertical-align: top; white-space: nowrap; }
th:first-child, td:first-child, td.text { text-align: left; white-space: normal; overflow-wrap: anywhere; }
td.unit { text-align: left; }
thead th { background: #eef0f3; font-weight: 600; }
tr.sub th, tr.sub td { border-top: 1px solid #999; }
tr.total th, tr.total td { font-weight: 700; border-top: 2px solid #333; }
.muted { color: #555; font-size: 9pt; }
.terms { margin-top: 6mm; }
.continued { color: #555; font-size: 9pt; margin: 0 0 2mm; }
@page { size: auto; margin: 12mm; }
@media print {
  main { max-width: none; padding: 0; }
  table.lines { page-break-after: always; break-after: page; }
  table.lines.last { page-break-after: auto; break-after: auto; }
  thead { display: table-header-group; }
  tr, .parties, dl.meta, table.figures { break-inside: avoid; page-break-inside: avoid; }
}
'''

HTML = '''<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="{{ s.generator }}"><title>Statement {{ s.number }}</title><style>{{ css | safe }}</style></head>
<body><main>
<header><h1>Statement {{ s.number }}</h1>
{% if s.corrects %}<p class="muted">Corrects statement {{ s.corrects.number }} of {{ s.corrects.issue_date }} {#
#}(total {{ s.corrects.old_total | amount(s.precision) }} {{ s.currency }}); this revision replaces it.</p>{% endif %}
</header>
<section class="parties">
<div class="party"><h2>From</h2><strong>{{ s.issuer.name }}</strong>
{% if s.issuer.address %}<div class="address">{{ s.issuer.address }}</div>{% endif %}
{% if s.issuer.tax_id %}<div>Tax ID {{ s.issuer.tax_id }}</div>{% endif %}
{% if s.issuer.email %}<div>{{ s.issuer.email }}</div>{% endif %}</div>
<div class="party"><h2>Bill to</h2><strong>{{ s.customer.legal_name }}</strong>
{% if s.customer.address %}<div class="address">{{ s.customer.address }}</div>{% endif %}
{% if s.customer.email %}<div>{{ s.customer.email }}</div>{% endif %}</div>
</section>
<dl class="meta">
<dt>Statement number</dt><dd>{{ s.number }}</dd>
<dt>Issue date</dt><dd>{{ s.issue_date }}</dd>
<dt>Period</dt><dd>{{ s.period.since | when }} to {{ s.period.until | when }} ({{ s.period.timezone }})</dd>
<dt>Customer ID</dt><dd>{{ s.customer.customer_id }}</dd>
{% if s.customer.cost_center %}<dt>Cost center</dt><dd>{{ s.customer.cost_center }}</dd>{% endif %}
<dt>Service</dt><dd>Tenant {{ s.tenant.name }} ($key {{ s.tenant.key }}{{ ', deleted' if s.tenant.state == 'deleted' else '' }}) on {{ s.system }}</dd>
</dl>
{% for page in pages %}
{% if not loop.first %}<p class="continued">Statement {{ s.number }}, line items continued</p>{% endif %}
<table class="lines{{ ' last' if loop.last else '' }}">
<colgroup><col class="metric"><col class="qty"><col class="unit"><col class="price"><col class="amount"></colgroup>
<thead><tr><th scope="col">Item</th><th scope="col">Quantity</th><th scope="col">Unit</th><th scope="col">Unit price</th>{#
#}<th scope="col">Amount ({{ s.currency }})</th></tr></thead>
<tbody>
{% for line in page %}
<tr><th scope="row">{{ line.label }}</th><td>{{ line.quantity | quantity }}</td><td class="unit">{{ line.quantity_unit }}</td>{#
#}<td>{{ line.unit_price | rate }}</td><td>{{ line.amount | amount(s.precision) }}</td></tr>
{% else %}
<tr><td class="text" colspan="5">No usage in this period.</td></tr>
{% endfor %}
</tbody></table>
{% endfor %}
<table class="figures">
<colgroup><col class="metric"><col class="qty"><col class="unit"><col class="price"><col class="amount"></colgroup>
<tbody>
{% for label, value, css in rows %}
<tr{% if css %} class="{{ css }}"{% endif %}><th scope="row" colspan="4">{{ label }}</th><td>{{ value | amount(s.precision) }}</td></tr>
{% endfor %}
</tbody></table>
<p class="muted">Amounts in {{ s.currency }}. Each line is quantity &times; unit price, rounded half up to {{ s.precision }} decimals; {#
#}the subtotal is the sum of the lines and each figure below it the sum of those above.</p>
{% if s.issuer.payment_terms %}<p class="terms">{{ s.issuer.payment_terms }}</p>{% endif %}
</main></body></html>
'''

MARKDOWN = '''# Statement {{ s.number | md }}

{% if s.corrects %}
Corrects statement {{ s.corrects.number | md }} of {{ s.corrects.issue_date | md }} (total {{ s.corrects.old_total | amount(s.precision) }} {#
#}{{ s.currency | md }}); this revision replaces it.

{% endif %}
| | |
| --- | --- |
| Statement number | {{ s.number | md }} |
| Issue date | {{ s.issue_date | md }} |
| Period | {{ s.period.since | when | md }} to {{ s.period.until | when | md }} ({{ s.period.timezone | md }}) |
| From | {{ s.issuer.name | md }}{{ (', ' ~ s.issuer.address | replace('\n', ', ')) | md if s.issuer.address else '' }} |
{% if s.issuer.tax_id %}
| Issuer tax ID | {{ s.issuer.tax_id | md }} |
{% endif %}
{% if s.issuer.email %}
| Issuer email | {{ s.issuer.email | md }} |
{% endif %}
| Bill to | {{ s.customer.legal_name | md }}{{ (', ' ~ s.customer.address | replace('\n', ', ')) | md if s.customer.address else '' }} |
{% if s.customer.email %}
| Customer email | {{ s.customer.email | md }} |
{% endif %}
| Customer ID | {{ s.customer.customer_id | md }} |
{% if s.customer.cost_center %}
| Cost center | {{ s.customer.cost_center | md }} |
{% endif %}
| Service | Tenant {{ s.tenant.name | md }} ($key {{ s.tenant.key }}{{ ', deleted' if s.tenant.state == 'deleted' else '' }}) on {{ s.system | md }} |

| Item | Quantity | Unit | Unit price | Amount ({{ s.currency | md }}) |
| --- | ---: | --- | ---: | ---: |
{% for line in s.lines %}
| {{ line.label | md }} | {{ line.quantity | quantity }} | {{ line.quantity_unit | md }} | {{ line.unit_price | rate }} | {#
#}{{ line.amount | amount(s.precision) }} |
{% else %}
| No usage in this period | | | | |
{% endfor %}
{% for label, value, css in rows %}
| {{ ('**' ~ (label | md) ~ '**') if css == 'total' else label | md }} | | | | {{ value | amount(s.precision) }} |
{% endfor %}

Amounts in {{ s.currency | md }}. Each line is quantity x unit price, rounded half up to {{ s.precision }} decimals; {#
#}the subtotal is the sum of the lines and each figure below it the sum of those above.
{% if s.issuer.payment_terms %}

{{ s.issuer.payment_terms | md }}
{% endif %}
'''


def _environment(html):
    from ansible_collections.vergeio.billing.plugins.module_utils._reports import templates  # pylint: disable=import-outside-toplevel
    environment = templates._environment(html)  # pylint: disable=protected-access
    return environment


def render(statement, fmt):
    """The text of one format of a statement (``json``, ``markdown`` or ``html``)."""
    if fmt == 'json':
        return json.dumps(statement, indent=1, ensure_ascii=False) + '\n'
    context = dict(s=statement, rows=summary_rows(statement))
    if fmt == 'html':
        return _environment(True).from_string(HTML).render(dict(context, css=STATEMENT_CSS, pages=pages(statement['lines'])))
    return _environment(False).from_string(MARKDOWN).render(context)


# ---- what is issued ---------------------------------------------------------------------------------------------------

def issued_statements(folder, stem, system):
    """{tenant $key: [statement dicts, oldest revision first]} of ``system`` in a period's folder; ValueError naming a
    file that is no statement JSON."""
    out = {}
    if not os.path.isdir(folder):
        return out
    for entry in sorted(os.listdir(folder)):
        if not (entry.startswith(stem + '-') and entry.endswith('.json')):
            continue
        path = os.path.join(folder, entry)
        try:
            with open(path, encoding='utf-8') as handle:
                data = json.load(handle)
        except (OSError, ValueError) as exc:
            raise ValueError('statements: cannot read the issued statement %s (%s); restore it or move it away' % (path, exc))
        if not isinstance(data, dict) or data.get('kind') != KIND:
            continue
        if data.get('system') != system or not isinstance(data.get('tenant'), dict):
            continue
        data['_path'] = path
        out.setdefault(data['tenant'].get('key'), []).append(data)
    for found in out.values():
        found.sort(key=lambda item: int(item.get('revision') or 0))
    return out


def _paths(folder, stem, number, formats):
    file_stem = '%s-%s' % (stem, safe_name(number))
    return OrderedDict((fmt, os.path.join(folder, '%s.%s' % (file_stem, EXTENSIONS[fmt]))) for fmt in formats)


# ---- the module's hook ------------------------------------------------------------------------------------------------

def run_statements(request, period, bills, check_mode=False, diff=False):
    """Issue the statements of the request's tenants for ``period`` from ``bills``, ``[(owner, _rating.Bill)]`` of the
    tenant reports of the same run (``tenant.run_tenant_reports``: one read of the history, so a statement shows what
    its tenant report shows); returns the result keys ``statements`` (tenant name -> number, total, currency, state,
    files), ``statements_reissued``, ``statements_changed``, ``changed``, ``warnings`` (and ``diff_lines``). Every
    statement is checked against what is issued before the first file is written."""
    terms = request.statements
    warnings = []
    label = period['label']
    folder = os.path.join(request.dest, FOLDER, safe_name(label))
    issued = issued_statements(folder, request.stem, request.name)
    issue_date = datetime.fromtimestamp(request.now, request.zone).date().isoformat()
    formats = [fmt for fmt in STATEMENT_FORMATS if fmt == 'json' or fmt in request.formats]
    plan, refused, numbers, matched = [], [], {}, set()
    for owner, bill in bills:
        customer, found = customer_of(terms, owner.key, owner.name)
        matched.update(selector for selector in (str(owner.key), owner.name) if selector in terms.customers)
        if not found:
            warnings.append('statements: tenant %s ($key %s) has no entry in customers; its statement is made out to its VergeOS name'
                            % (owner.name, owner.key))
        number = statement_number(terms.number, customer['customer_id'], owner.key, label)
        fresh = build(bill, request.rates, terms, owner, customer, number, period, request.name, request.tenant_basis, issue_date)
        history = issued.get(owner.key) or []
        if not history:
            state, statement = 'created', fresh
        else:
            newest = history[-1]
            fresh['number'] = fresh['base_number'] = newest.get('base_number') or newest['number']
            if newest['number'] != number and REVISION.sub(r'\g<base>', newest['number']) != number:
                warnings.append('statements: tenant %s keeps its issued number %s (statement_number now gives %s): a number is never changed'
                                % (owner.name, newest['base_number'], number))
            same_amounts = amounts_of(newest) == amounts_of(fresh)
            if same_amounts and details_of(newest) == details_of(fresh):
                state, statement = 'unchanged', newest
            elif not terms.reissue:
                state, statement = 'unchanged', newest
                if same_amounts:
                    warnings.append('statements: %s was issued on %s with other issuer, customer or tenant details; it is not rewritten '
                                    '(reissue: true issues a corrected revision)' % (newest['number'], newest.get('issue_date')))
                else:
                    refused.append('%s (tenant %s, issued %s): total %s %s, now %s %s' % (
                        newest['number'], owner.name, newest.get('issue_date'), newest.get('total'), newest.get('currency'),
                        fresh['total'], fresh['currency']))
            else:
                state, statement = 'reissued', revise(fresh, newest)
        key = statement['number']
        if safe_name(key) in numbers:
            raise ValueError('statements: tenants %s and %s would both get the statement number %s; make statement_number tell them apart '
                             '(with {tenant_key})' % (numbers[safe_name(key)], owner.name, key))
        numbers[safe_name(key)] = owner.name
        plan.append((owner, state, statement))
    if refused:
        raise ValueError('statements: %d issued statement(s) would change, and a statement that may have been sent is never rewritten: %s. '
                         'Set reissue: true to issue corrected revisions (<number>-R1, ...) beside them, or restore the rates and data '
                         'they were issued with.' % (len(refused), '; '.join(refused)))
    warnings.extend('statements: customers has an entry %r that matches no tenant of this report' % selector
                    for selector in terms.customers if selector not in matched)
    return _write(plan, folder, request, formats, check_mode, diff, warnings)


def _write(plan, folder, request, formats, check_mode, diff, warnings):
    result = dict(statements={}, statements_reissued=[], statements_changed={}, warnings=warnings)
    outcome = []
    work = _prepare_dest(folder, check_mode) if plan else None
    if plan and not check_mode:  # the temporary files killed runs left here (as the report files' dest is swept)
        removed = removed_warning(folder, sweep_temporaries(folder))
        if removed:
            warnings.append(removed)
    try:
        for owner, state, statement in plan:
            paths = _paths(folder, request.stem, statement['number'], formats)
            for fmt, final in paths.items():
                if state == 'unchanged' and os.path.exists(final):
                    continue  # an issued file is never touched
                if state != 'unchanged' and os.path.exists(final):
                    raise ValueError('statements: %s exists although no issued statement JSON names it; move it away' % final)
                temp, handle = new_temp(work, fmt)  # .report-<fmt>.<host>.<pid>.*.tmp: a later run removes it if this one is killed
                with handle:
                    handle.write(render(OrderedDict((k, v) for k, v in statement.items() if k != '_path'), fmt))
                try:
                    done = place(temp, final, request.mode, check_mode)
                except OSError as exc:
                    raise ValueError('statements: cannot write %s: %s' % (final, exc.strerror or exc))
                finally:
                    if os.path.exists(temp):
                        os.unlink(temp)
                outcome.append((final, done))
                result['statements_changed'].setdefault(owner.name, {})[fmt] = final
            entry = dict(number=statement['number'], total=statement['total'], currency=statement['currency'], issue_date=statement['issue_date'],
                         state=state, tenant_key=owner.key, files=dict(paths),
                         sha256=dict((fmt, sha256_of(path)) for fmt, path in paths.items() if os.path.exists(path)))
            result['statements'][owner.name] = entry
            if state == 'reissued':
                result['statements_reissued'].append(dict(tenant=owner.name, tenant_key=owner.key, number=statement['number'],
                                                          supersedes=statement['supersedes'], old_total=statement['corrects']['old_total'],
                                                          new_total=statement['total'], difference=statement['corrects']['difference'],
                                                          currency=statement['currency'], files=dict(paths)))
    finally:
        if check_mode and work and os.path.isdir(work):
            shutil.rmtree(work, ignore_errors=True)
    result['changed'] = bool(outcome)
    if diff:
        result['diff_lines'] = ['%s %s (%s)' % ('would write' if check_mode else 'wrote', final, done) for final, done in outcome]
    return result
