# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vergeio.billing contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The report request: the options of a report module, validated ONCE into plain values.

``ReportRequest.from_options(options)`` checks every option a report needs before anything is read or written (the
period on the zone's calendar, the rate card, formats, file name, mode, destination, tenants and basis) and raises
ValueError naming the option. The system, tenant and fleet reports (and the FOCUS export) take the request as it
is: the period is computed here once, with or without ``tenants_only``, and the rate card is validated here once.

Periods: a calendar ``month`` or ``since``/``until`` (both inclusive, as users write them); ``start``/``end`` are the
billing period as the rating engine takes it, start inclusive and end EXCLUSIVE (``until`` + 1 second). An open
``until`` (no value) is closed by the report when it knows what the server holds.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import time
from datetime import datetime

from ansible.module_utils.common.text.converters import to_text
from ansible.module_utils.parsing.convert_bool import BOOLEANS_FALSE, BOOLEANS_TRUE

from ansible_collections.vergeio.billing.plugins.module_utils._budget import parse_budgets
from ansible_collections.vergeio.billing.plugins.module_utils._rating import rate_card
from ansible_collections.vergeio.billing.plugins.module_utils._reports.files import DEFAULT_FORMATS, FORMATS, CsvStyle, parse_mode, safe_name
from ansible_collections.vergeio.billing.plugins.module_utils._reports.statement import statement_terms
from ansible_collections.vergeio.billing.plugins.module_utils._time import (
    GROUPS, UTC, get_zone, iso_in, month_range, parse_time, zone_name,
)

BASES = ('allocated', 'used', 'provisioned')


def resolve_period(month=None, since=None, until=None, zone=None, now=None):
    """The period asked for: dict(month, since_epoch, until_epoch or None when open). Raises ValueError naming the option."""
    zone = zone or UTC
    now = int(time.time()) if now is None else int(now)
    blank = (None, '')
    if month not in blank:
        if since not in blank or until not in blank:
            raise ValueError('month cannot be combined with since or until: give a month (like 2026-10), or since and optionally until')
        label, start, end = month_range(month, zone, 'month', now=now)
        return dict(month=label, since_epoch=start, until_epoch=end)
    if since in blank:
        raise ValueError('give the report period: month (like 2026-10), or since (and optionally until)')
    start = parse_time(_text(since), 'since', now=now, zone=zone)
    end = None if until in blank else parse_time(_text(until), 'until', now=now, end_of_day=True, zone=zone)
    if end is not None and start > end:
        raise ValueError('since (%s) is after until (%s): swap them or widen the range' % (since, until))
    return dict(month=None, since_epoch=start, until_epoch=end)


def _text(value):
    """A YAML date or datetime (an unquoted 2026-10-01 in a playbook) as the ISO text the time parser takes."""
    return value.isoformat() if hasattr(value, 'isoformat') else value


def period_label(start, end, zone):
    """``2026-10-01_2026-10-31`` for whole local days, else ``20261001T120000+0200_...``."""
    def bound(epoch, last):
        moment = datetime.fromtimestamp(epoch, zone)
        if iso_in(epoch + (1 if last else 0), zone)[11:19] == '00:00:00':
            return moment.strftime('%Y-%m-%d')
        return moment.strftime('%Y%m%dT%H%M%S%z')
    return '%s_%s' % (bound(start, False), bound(end, True))


def describe_period(period, zone):
    """The ``period`` of the result and of the JSON: label, month, since/until with the zone's offset, epochs, zone."""
    start, end = period['since_epoch'], period['until_epoch']
    label = period['month'] or period_label(start, end, zone)
    return dict(label=label, month=period['month'], since=iso_in(start, zone), until=iso_in(end, zone), since_epoch=start,
                until_epoch=end, timezone=zone_name(zone))


def tenant_selectors(value):
    """The ``tenants`` option: None (no tenant reports), [] (every tenant) or a list of names/keys; ValueError."""
    if value is None or value is False or value == '':
        return None
    if value is True:
        return []
    if isinstance(value, str):
        # Ansible's boolean words (as for a bool option), and 'all'. Digits are not read as booleans here: a lone '1'
        # is the tenant with $key 1, not "every tenant". A tenant literally named 'all', 'yes', ... is selected by a list.
        lowered = value.strip().lower()
        if not lowered.isdigit():
            if lowered == 'all' or lowered in BOOLEANS_TRUE:
                return []
            if lowered in BOOLEANS_FALSE:
                return None
        value = [value]
    if isinstance(value, (list, tuple)) and value and all(isinstance(item, (str, int)) and not isinstance(item, bool) for item in value):
        selectors = [to_text(item).strip() for item in value]
        if all(selectors):
            return selectors
    raise ValueError('tenants must be true (every tenant that is not a snapshot), false, or a list of tenant names or $key '
                     'numbers, got %r' % (value,))


class ReportRequest:
    """What a report is asked for, checked once (see the module docstring). Attributes:

    now (epoch of the request), zone, asked (``resolve_period``), period() (``describe_period`` of the asked period;
    ``until`` None when open), rates (a RateCard or None),
    formats (in FORMATS order), csv_style (files.CsvStyle), name, stem (the file stem of name), mode (int or None), dest (absolute path), group_by,
    tenants (None: no tenant reports; []: every tenant; else names or $keys), tenant_basis, tenants_only, statements (None, or
    the checked statement options: ``_reports.statement.StatementTerms``),
    budgets (``_budget.Budgets`` or None; only with rates and a month).
    """

    def __init__(self, **values):
        self.__dict__.update(values)

    @classmethod
    def from_options(cls, options, now=None):
        zone = get_zone(options.get('timezone'), 'timezone')
        asked = resolve_period(options.get('month'), options.get('since'), options.get('until'), zone, now)
        rates = rate_card(options.get('rates'))
        wanted = options.get('formats') or list(DEFAULT_FORMATS)
        unknown = [fmt for fmt in wanted if fmt not in FORMATS]
        if unknown:
            raise ValueError('formats: unknown format(s) %s; accepted: %s' % (', '.join(map(str, unknown)), ', '.join(FORMATS)))
        name = options.get('name') or 'vergeos'
        stem = safe_name(name)
        mode = parse_mode(options.get('mode'))
        if not options.get('dest') or not str(options['dest']).strip():
            raise ValueError('dest must be the path of a directory (created when missing)')
        group_by = options.get('group_by')
        if group_by is not None and group_by not in GROUPS:
            raise ValueError('group_by must be one of %s, got %r' % (', '.join(GROUPS), group_by))
        csv_style = CsvStyle.from_options(options)
        tenants = tenant_selectors(options.get('tenants'))
        basis = options.get('tenant_basis') or 'allocated'
        if basis not in BASES:
            raise ValueError('tenant_basis must be one of %s, got %r' % (', '.join(BASES), basis))
        tenants_only = bool(options.get('tenants_only'))
        if tenants_only and tenants is None:
            raise ValueError('tenants_only needs tenants (true, or a list of tenant names or $key numbers)')
        budgets = parse_budgets(options.get('budgets'))
        if budgets is not None and rates is None:
            raise ValueError('budgets needs rates: a budget is an amount of the rate card\'s currency')
        if budgets is not None and not asked['month']:
            raise ValueError('budgets are per calendar month: give month (current, previous or YYYY-MM) rather than since/until')
        if budgets is not None and budgets.tenants and tenants is None:
            raise ValueError('budgets.tenants needs tenants (true, or a list of tenant names or $key numbers): the tenant budgets '
                             'are compared with the tenant reports')
        statements = statement_terms(options, tenants, rates)  # None without statements: true
        return cls(now=int(time.time()) if now is None else int(now), zone=zone, asked=asked, rates=rates,
                   formats=[fmt for fmt in FORMATS if fmt in wanted], name=name, stem=stem,
                   mode=mode, dest=os.path.abspath(os.path.expanduser(str(options['dest']))), group_by=group_by, csv_style=csv_style, tenants=tenants,
                   tenant_basis=basis, tenants_only=tenants_only, statements=statements, budgets=budgets)

    def period(self, until=None):
        """The period of the files (``describe_period``): the asked one, an open end closed at ``until``."""
        end = self.asked['until_epoch'] if self.asked['until_epoch'] is not None else until
        return describe_period(dict(self.asked, until_epoch=end), self.zone)
