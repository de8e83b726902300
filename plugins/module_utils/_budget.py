# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vergeio.billing contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Budgets and the month-end forecast: pure functions of numbers (nothing here reads the API or knows Ansible).

``budgets`` (a module option) is ``{system: AMOUNT, tenants: {NAME_OR_KEY: AMOUNT}}``: amounts per calendar month in
the rate card's currency. ``parse_budgets`` checks it once (every error names ``budgets.<key>``).

For a calendar month (on the report's time zone):

- **month to date**: the cost of what was measured in the month so far (the bill's total: the sum of its rounded
  lines);
- **forecast** for the whole month: the month-to-date cost (exact, unrounded) divided by the hours measured so far,
  times the hours of the month (743, 744 or 745 for a 31-day month around a DST change in a zone that has one; 744 in
  UTC), rounded half up to the card's precision. The arithmetic is exact (fractions of the cost's shortest decimal
  form and of seconds), so the forecast is the same whatever order the figures came in. A month that is over is
  not extrapolated: its forecast is its cost as shown (the month-to-date figure). With nothing measured yet there is
  no forecast (null);
- **over_budget**: the month-to-date cost is above the budget (equal is not over);
- **forecast_over_budget**: the forecast is above the budget.

Without a budget for an owner, ``budget`` is null and both flags are false.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import math
from collections import OrderedDict, namedtuple
from decimal import Decimal, InvalidOperation
from fractions import Fraction

from ansible.module_utils.common.text.converters import to_text

from ansible_collections.vergeio.billing.plugins.module_utils._rating import SYSTEM_METRICS, Bill, Meter, edges, price
from ansible_collections.vergeio.billing.plugins.module_utils._time import month_range

HOUR = 3600

Budgets = namedtuple('Budgets', 'system tenants')


def budget_amount(value, option):
    """One budget as a Decimal (a finite amount of 0 or more); ValueError naming ``option``."""
    if isinstance(value, bool) or value is None or value == '':
        raise ValueError('%s must be an amount per month (a number of 0 or more in the rate card\'s currency), got %r' % (option, value))
    try:
        amount = Decimal(repr(value)) if isinstance(value, float) else Decimal(to_text(value).strip())
    except (InvalidOperation, ValueError, TypeError):
        raise ValueError('%s must be an amount per month (a number of 0 or more in the rate card\'s currency), got %r' % (option, value))
    if not amount.is_finite() or amount < 0:
        raise ValueError('%s must be a finite amount of 0 or more, got %r' % (option, value))
    return amount


def parse_budgets(value):
    """The ``budgets`` option as ``Budgets(system, tenants)`` (None: no budgets). ``system``: a Decimal or None;
    ``tenants``: an OrderedDict of tenant name or ``$key`` (text) -> Decimal. ValueError names the key."""
    if value is None or value == {} or value == '':
        return None
    if not isinstance(value, dict):
        raise ValueError('budgets must be a dict like {system: 5000, tenants: {acme: 1200, "12": 300}}, got %s' % type(value).__name__)
    unknown = sorted(to_text(key) for key in value if key not in ('system', 'tenants'))
    if unknown:
        raise ValueError('budgets: unknown key(s) %s; accepted: system, tenants' % ', '.join(unknown))
    system = value.get('system')
    system = None if system is None else budget_amount(system, 'budgets.system')
    tenants = value.get('tenants')
    if tenants is None:
        tenants = {}
    if not isinstance(tenants, dict):
        raise ValueError('budgets.tenants must be a dict of tenant name or $key -> amount per month, got %s' % type(tenants).__name__)
    out = OrderedDict()
    if system is None and not tenants:
        return None  # {system: null, tenants: null} (how Ansible fills a dict option's absent keys): no budget at all
    for key in sorted(tenants, key=to_text):
        text = to_text(key).strip()
        if not text or isinstance(key, bool):
            raise ValueError('budgets.tenants: %r is not a tenant name or $key' % (key,))
        if text in out:
            raise ValueError('budgets.tenants: the tenant %r is given twice' % text)
        out[text] = budget_amount(tenants[key], 'budgets.tenants.%s' % text)
    return Budgets(system, out)


def tenant_budgets(budgets, tenants):
    """Match ``budgets.tenants`` to ``tenants`` ([(key, name)], deleted ones included) as tenant selectors match:
    an entry is a tenant's name, or its ``$key`` (digits that are no tenant's name).

    Returns ``(by_key, unmatched)``: $key -> Decimal, and the entries that match no tenant (the caller warns). A name
    shared by several tenants, or a tenant given both by name and by ``$key``, raises ValueError naming them."""
    if not budgets or not budgets.tenants:
        return {}, []
    by_name = {}
    for key, name in tenants:
        by_name.setdefault(to_text(name), []).append(key)
    keys = set(key for key, _name in tenants)
    by_key, source, unmatched = {}, {}, []
    for entry, amount in budgets.tenants.items():
        if entry in by_name:
            if len(by_name[entry]) > 1:
                raise ValueError('budgets.tenants: the name %r is shared by the tenants with $key %s; give the $key'
                                 % (entry, ', '.join(str(key) for key in by_name[entry])))
            key = by_name[entry][0]
        elif entry.isdigit() and int(entry) in keys:
            key = int(entry)
        else:
            unmatched.append(entry)
            continue
        if key in by_key:
            raise ValueError('budgets.tenants: the tenant with $key %s is given twice (%r and %r)' % (key, source[key], entry))
        by_key[key], source[key] = amount, entry
    return by_key, unmatched


def round_half_up(value, precision):
    """A Fraction rounded half up (away from zero) to ``precision`` decimals, as a Decimal (exact: no float)."""
    scale = 10 ** precision
    scaled = abs(value) * scale
    whole = scaled.numerator // scaled.denominator
    if (scaled - whole) * 2 >= 1:
        whole += 1
    return Decimal(-whole if value < 0 else whole).scaleb(-precision).quantize(Decimal(1).scaleb(-precision))


def exact_fraction(amount):
    """An amount (float by its shortest repr, Decimal, int) as an exact Fraction; ValueError when it is no finite number."""
    try:
        if isinstance(amount, float):
            if math.isnan(amount) or math.isinf(amount):
                raise ValueError()
            return Fraction(Decimal(repr(amount)))
        return Fraction(Decimal(amount) if not isinstance(amount, (int, Fraction)) else amount)
    except (InvalidOperation, ValueError, TypeError):
        raise ValueError('an amount must be a finite number, got %r' % (amount,))


def forecast(exact, measured_seconds, month_seconds, precision):
    """The month-end forecast: ``exact`` (the unrounded month-to-date cost) / hours measured x hours of the month,
    rounded half up to ``precision`` decimals (a Decimal). None when nothing was measured yet."""
    cost = exact_fraction(exact)
    if not measured_seconds or measured_seconds <= 0:
        return None
    return round_half_up(cost * exact_fraction(month_seconds) / exact_fraction(measured_seconds), precision)


def status(month_to_date, exact, measured_seconds, month, zone, now, precision, budget=None, currency=''):
    """The budget figures of one owner (system or tenant) for the calendar month ``month`` (``YYYY-MM``) in ``zone``,
    as plain data for results and files.

    ``month_to_date``: the shown cost so far (the bill's total, a Decimal); ``exact``: its unrounded sum (a float);
    ``measured_seconds``: the seconds of the month with measurements so far (``_rating.Meter.hours`` x 3600);
    ``now``: the time of the run (a month that ended before it is complete); ``budget``: a Decimal or None."""
    _label, start, last = month_range(month, zone, 'month')
    end = last + 1
    complete = now >= end
    month_seconds = end - start
    measured = int(round(measured_seconds or 0))  # whole seconds by construction (epoch differences)
    quantum = Decimal(1).scaleb(-precision)
    month_to_date = Decimal(month_to_date).quantize(quantum)
    # A month that is over is not extrapolated: its forecast is the cost shown (the bill's total, the sum of its lines).
    shown = month_to_date if complete else forecast(exact, measured, month_seconds, precision)
    limit = None if budget is None else Decimal(budget)
    return OrderedDict([
        ('month', month), ('currency', currency), ('complete', complete),
        ('hours_in_month', float(Fraction(month_seconds, HOUR))),
        ('hours_measured', float(Fraction(measured, HOUR))),
        ('month_to_date', str(month_to_date)),
        ('forecast', None if shown is None else str(shown)),
        ('budget', None if limit is None else str(limit)),
        ('over_budget', limit is not None and month_to_date > limit),
        ('forecast_over_budget', limit is not None and shown is not None and shown > limit),
    ])


def budget_figures(budgets, month, zone, now, card, system=None, tenants=None):
    """The ``budgets`` block of a result, a JSON report and the templates, for the calendar month ``month``.

    ``system``: ``(bill, measured_seconds)`` of the system (its figures get its ``name``), or None (no system figures, e.g. ``tenants_only``);
    ``tenants``: ``[(bill, measured_seconds)]``, one per tenant (``bill.owner`` names it), or None when the report has
    no tenants (then ``budgets.tenants`` is not matched). Returns ``(figures,
    warnings)``: ``figures`` has ``month``, ``currency``, ``system`` (a ``status`` or None), ``tenants`` (a list of
    ``status`` with the tenant's ``key`` and ``name``, every tenant, with or without a budget), ``flagged`` (the names
    of the owners over their budget or forecast to be, system first), ``over_budget`` and ``forecast_over_budget``
    (any owner); ``warnings`` names the budget entries that match no tenant."""
    budgets = budgets or Budgets(None, OrderedDict())
    tenants = None if tenants is None else list(tenants)
    by_key, unmatched = tenant_budgets(budgets, [(bill.owner.key, bill.owner.name) for bill, _seconds in tenants or ()]) if tenants is not None else ({}, [])
    warnings = []
    if unmatched:
        warnings.append('budgets.tenants: %s match%s no tenant of this report (a tenant name or $key); %s not watched'
                        % (', '.join(repr(entry) for entry in unmatched), 'es' if len(unmatched) == 1 else '',
                           'that budget is' if len(unmatched) == 1 else 'those budgets are'))

    def one(bill, seconds, budget):
        return status(bill.total, bill.exact, seconds, month, zone, now, card.precision, budget, card.currency)

    figures = OrderedDict([('month', month), ('currency', card.currency)])
    figures['system'] = None
    if system is not None:
        figures['system'] = OrderedDict([('name', system[0].owner.name)])
        figures['system'].update(one(system[0], system[1], budgets.system))
    figures['tenants'] = []
    for bill, seconds in tenants or ():
        item = OrderedDict([('key', bill.owner.key), ('name', bill.owner.name)])
        item.update(one(bill, seconds, by_key.get(bill.owner.key)))
        figures['tenants'].append(item)
    return flag(figures), warnings


def flag(figures):
    """Set ``flagged``, ``over_budget`` and ``forecast_over_budget`` of a budgets block from its owners."""
    owners = ([figures['system']] if figures['system'] is not None else []) + figures['tenants']
    figures['flagged'] = [item['name'] for item in owners if item['over_budget'] or item['forecast_over_budget']]
    figures['over_budget'] = any(item['over_budget'] for item in owners)
    figures['forecast_over_budget'] = any(item['forecast_over_budget'] for item in owners)
    return figures


def merge_figures(system, tenants):
    """One budgets block from the system report's (``system``) and the tenant reports' (``tenants``); either may be None."""
    if system is None or tenants is None:
        return system if tenants is None else tenants
    merged = OrderedDict(system)
    merged['tenants'] = tenants['tenants']
    return flag(merged)


def measured_seconds(meter):
    """owner -> the seconds the meter measured for it (one pass over the meter, however many owners)."""
    out = {}
    for (owner, _index), values in meter.seconds.items():
        out.setdefault(owner, []).extend(values)
    return dict((owner, math.fsum(values)) for owner, values in out.items())


def metered_figures(budgets, month, zone, now, card, meter, system=None, tenants=None):
    """``budget_figures`` from a ``_rating.Meter`` of the month: the bill of ``system`` (an Owner: the metrics a
    billing record measures) and of each of ``tenants`` (Owners, or None), each priced on ``card``, and the seconds
    the meter measured for each. For the summaries of verge_billing_info and verge_tenant_usage_info."""
    priced = price(meter.lines(), card)
    seconds = measured_seconds(meter)
    one = None if system is None else (Bill(system, priced, card, metrics=SYSTEM_METRICS), seconds.get(system, 0))
    many = None if tenants is None else [(Bill(owner, priced, card), seconds.get(owner, 0)) for owner in tenants]
    return budget_figures(budgets, month, zone, now, card, system=one, tenants=many)


def month_meter(month, zone):
    """An empty ``_rating.Meter`` of the calendar month ``month`` in ``zone`` (one charge period)."""
    _label, start, last = month_range(month, zone, 'month')
    return Meter(edges(start, last + 1))
