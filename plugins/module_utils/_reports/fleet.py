# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vergeio.billing contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The fleet report: many VergeOS systems' outcomes consolidated into one report (pure functions, no HTTP).

An *outcome* is what one system's report run says about itself, small enough for Ansible variables and for
``set_stats`` artifacts: ``name``, ``ok``, ``error``, ``period``, ``summary`` (the keys of ``verge_billing_info``
``view=summary``), ``files`` (format -> path). The records never travel here: a per-system JSON report on disk is
read for its ``name``, ``period`` and ``summary`` only (:func:`load_reports`).

Decisions:

- Totals are sums over the systems that reported of the figures that add up across systems (record counts,
  hours, time-weighted means (the sum is the fleet's mean use), capacities of GPUs and tiers, costs per currency).
  Peaks and percentiles do not add up, so the fleet has none; the CSV totals row leaves them empty.
- A system that failed is kept, named, with its error, and adds nothing to the totals.
- Costs are added per currency; mixed currencies are never summed together.
- Nothing depends on the clock or on the order the outcomes arrive in (systems are sorted by name), so the same
  outcomes give the same bytes and a rerun changes nothing.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import io
import json
import math
import os
from datetime import datetime, timezone

from ansible_collections.vergeio.billing.plugins.module_utils._records import TIERS
from ansible_collections.vergeio.billing.plugins.module_utils._reports.files import (
    EXTENSIONS, FORMATS, CsvStyle, FileOwner, FileSet,
)
from ansible_collections.vergeio.billing.plugins.module_utils._summary import COST_PARTS, TIER_PARTS

GENERATOR = 'vergeio.billing.verge_billing_fleet_report'
TIER_NAMES = TIER_PARTS
# Summary figures that add up across systems, and which of them are counts.
SUM_KEYS = ('record_count', 'hours', 'twa_cpu_cores', 'twa_ram_gb', 'twa_storage_used_gb', 'twa_gpus_used', 'twa_vgpus_used',
            'total_gpus', 'total_vgpus')
INT_KEYS = frozenset(('record_count', 'total_gpus', 'total_vgpus'))
# One row per system in the CSV: these columns, then the cost columns when any system has a cost.
CSV_COLUMNS = ('system', 'status', 'error', 'period', 'period_start', 'period_end', 'record_count', 'hours',
               'twa_cpu_cores', 'p95_cpu_cores', 'peak_cpu_cores', 'twa_ram_gb', 'p95_ram_gb', 'peak_ram_gb',
               'twa_storage_used_gb', 'p95_storage_used_gb', 'peak_storage_used_gb', 'twa_gpus_used', 'peak_gpus_used',
               'total_gpus', 'twa_vgpus_used', 'peak_vgpus_used', 'total_vgpus')
# The charts of the HTML report: one per metric, a series per system, from each system's per-period time-weighted means.
CHARTS = (
    ('fleet-cores', 'CPU cores used', 'twa_cpu_cores', 'cores'),
    ('fleet-ram', 'RAM used', 'twa_ram_gb', 'GB'),
    ('fleet-storage', 'Storage used, all tiers', 'twa_storage_used_gb', 'GB'),
    ('fleet-gpus', 'GPUs used', 'twa_gpus_used', 'GPUs'),
    ('fleet-vgpus', 'vGPUs used', 'twa_vgpus_used', 'vGPUs'),
)


class FleetError(ValueError):
    """Input a fleet report cannot be made from; the message names the option or file to fix."""


def plural(count, word, words=None):
    """``1 system``, ``2 systems``, ``0 systems``."""
    return '%s %s' % (count, word if count == 1 else (words or word + 's'))


# ---- input ---------------------------------------------------------------------------------------------------------

def outcome_of(item, where):
    """One clean outcome from a dict as the role publishes it (``where`` names it in errors)."""
    if not isinstance(item, dict):
        raise FleetError('%s must be a dict with name, ok, error, period, summary and files, got %s' % (where, type(item).__name__))
    name = item.get('name')
    if name is None or str(name).strip() == '':
        raise FleetError('%s has no name: every system outcome needs the name of its system' % where)
    summary = item.get('summary')
    ok = item.get('ok', item.get('error') in (None, '')) and isinstance(summary, dict)
    error = None if ok else str(item.get('error') or 'no summary: the system did not report')
    files = item.get('files') if isinstance(item.get('files'), dict) else {}
    period = item.get('period') if isinstance(item.get('period'), dict) else None
    return dict(name=str(name), ok=bool(ok), error=error, period=period, files=dict(files), summary=summary if ok else None)


def outcomes_from(systems):
    """The outcomes given as a list, or as a dict (the ``set_stats`` artifacts: any key -> outcome)."""
    if systems is None:
        return []
    if isinstance(systems, dict):
        items = [(systems[key], 'systems[%s]' % key) for key in sorted(systems)]
    elif isinstance(systems, (list, tuple)):
        items = [(item, 'systems[%d]' % index) for index, item in enumerate(systems)]
    else:
        raise FleetError('systems must be a list of system outcomes or a dict of them, got %s' % type(systems).__name__)
    return [outcome_of(item, where) for item, where in items]


def with_periods(outcome):
    """The outcome with its summary read from its own JSON report when the outcome carries no per-period breakdown.

    The role publishes outcomes without ``summary.periods`` (AWX artifacts stay small); the breakdown, which the
    charts need, is in the system's JSON report. When that file cannot be read (another machine wrote it, say an AWX
    job in another container), the outcome's summary is used as it is and the charts get one point for the system.
    """
    summary = outcome.get('summary')
    path = (outcome.get('files') or {}).get('json')
    if not outcome.get('ok') or not isinstance(summary, dict) or 'periods' in summary or not path or not os.path.isfile(path):
        return outcome
    try:
        with open(path, 'rb') as handle:
            data = json.load(handle)
    except (OSError, ValueError):
        return outcome
    if isinstance(data, dict) and str(data.get('name')) == outcome['name'] and isinstance(data.get('summary'), dict):
        outcome = dict(outcome)
        outcome['summary'] = data['summary']
    return outcome


def is_fleet_report(data):
    return isinstance(data, dict) and (data.get('generator') == GENERATOR or ('systems' in data and 'totals' in data))


def load_reports(directory, label=None):
    """Outcomes from the per-system JSON reports in ``directory`` (not its subdirectories).

    A JSON file is a per-system report when it holds a dict with ``name`` and ``summary``; fleet reports and other
    JSON files are skipped (returned in ``skipped`` with the reason). With ``label``, only reports of that period
    label are taken. Returns (outcomes, skipped). Raises FleetError for a directory that cannot be read or a report
    that is not valid JSON (a report cut short must not silently drop out of a bill).
    """
    try:
        names = sorted(os.listdir(directory))
    except OSError as exc:
        raise FleetError('from_dir %s cannot be read: %s' % (directory, exc.strerror or exc))
    outcomes, skipped = [], []
    for file_name in names:
        path = os.path.join(directory, file_name)
        if not file_name.endswith('.json') or not os.path.isfile(path):
            continue
        try:
            with open(path, 'rb') as handle:
                data = json.load(handle)
        except (OSError, ValueError) as exc:
            raise FleetError('from_dir: %s is not a readable JSON report (%s); remove it or write it again' % (path, exc))
        if is_fleet_report(data):
            skipped.append(dict(path=path, reason='a fleet report'))
            continue
        if not isinstance(data, dict) or 'summary' not in data or not data.get('name'):
            skipped.append(dict(path=path, reason='not a per-system report (no name and summary)'))
            continue
        period = data.get('period') if isinstance(data.get('period'), dict) else None
        if label is not None and (period or {}).get('label') != label:
            skipped.append(dict(path=path, reason='period %s, not %s' % ((period or {}).get('label'), label)))
            continue
        stem = path[:-len('.json')]
        files = dict((fmt, stem + '.' + ext) for fmt, ext in EXTENSIONS.items() if os.path.isfile(stem + '.' + ext))
        outcome = outcome_of(dict(name=data['name'], ok=isinstance(data.get('summary'), dict), error=data.get('error'),
                                  period=period, summary=data.get('summary'), files=files), path)
        outcomes.append(outcome)
    return outcomes, skipped


# ---- consolidation -------------------------------------------------------------------------------------------------

def _tier(summary, number):
    for tier in (summary or {}).get('tiers') or []:
        if int(tier.get('tier', -1)) == number:
            return tier
    return {}


def _cost_part(cost, part):
    return (cost.get('tiers') or {}).get(part) if part in TIER_NAMES else cost.get(part)


def fleet_period(systems, label=None):
    """The period of the fleet: the systems' own when they agree, else the span from the first start to the last end."""
    periods = [s['period'] for s in systems if s.get('period')]
    labels = sorted(set(str(p.get('label')) for p in periods))
    starts = [p.get('since_epoch') for p in periods if isinstance(p.get('since_epoch'), int)]
    ends = [p.get('until_epoch') for p in periods if isinstance(p.get('until_epoch'), int)]
    zones = sorted(set(str(p.get('timezone')) for p in periods if p.get('timezone')))
    if len(labels) == 1 and len(set(starts)) <= 1 and len(set(ends)) <= 1:
        period = dict(periods[0])
    else:
        period = dict(since_epoch=min(starts) if starts else None, until_epoch=max(ends) if ends else None)
        period['since'] = _iso(period['since_epoch'])
        period['until'] = _iso(period['until_epoch'])
        period['label'] = '%s_%s' % (_compact(period['since_epoch']), _compact(period['until_epoch'])) if starts and ends else 'mixed'
        period['mixed'] = labels
    if label:
        period['label'] = str(label)
    # Every key present (the templates are strict); one time zone only when all the systems share it.
    for key in ('label', 'month', 'since', 'until', 'since_epoch', 'until_epoch'):
        period.setdefault(key, None)
    period['timezone'] = zones[0] if len(zones) == 1 else None
    return period


def _iso(epoch):
    return None if epoch is None else datetime.fromtimestamp(epoch, timezone.utc).isoformat()


def _compact(epoch):
    return datetime.fromtimestamp(epoch, timezone.utc).strftime('%Y%m%dT%H%M%SZ')


def consolidate(outcomes, name='fleet', label=None):
    """The fleet report (a dict, the content of the JSON report) from clean outcomes."""
    systems = sorted(outcomes, key=lambda s: s['name'])
    seen = {}
    for system in systems:
        seen[system['name']] = seen.get(system['name'], 0) + 1
    twice = sorted(n for n, count in seen.items() if count > 1)
    if twice:
        raise FleetError('system names must be unique in a fleet report; more than one outcome for: %s' % ', '.join(twice))
    reported = [s for s in systems if s['ok']]
    totals = dict(systems=len(systems), reported=len(reported), failed=len(systems) - len(reported))
    for key in SUM_KEYS:
        value = math.fsum(float(s['summary'].get(key) or 0) for s in reported)
        totals[key] = int(value) if key in INT_KEYS else value
    totals['tiers'] = [dict(tier=tier,
                            twa_used_gb=math.fsum(float(_tier(s['summary'], tier).get('twa_used_gb') or 0) for s in reported),
                            total_gb=math.fsum(float(_tier(s['summary'], tier).get('total_gb') or 0) for s in reported))
                       for tier in TIERS]
    by_currency = {}
    for system in reported:
        cost = system['summary'].get('cost')
        if isinstance(cost, dict):
            by_currency.setdefault(cost.get('currency') or '', []).append(cost)
    costs = {}
    for currency, entries in sorted(by_currency.items()):
        total = dict((part, math.fsum(float(_cost_part(c, part) or 0) for c in entries)) for part in COST_PARTS if part not in TIER_NAMES)
        total['tiers'] = dict((part, math.fsum(float(_cost_part(c, part) or 0) for c in entries)) for part in TIER_NAMES)
        total['currency'] = currency
        total['systems'] = len(entries)
        costs[currency] = total
    totals['cost_by_currency'] = costs
    totals['cost'] = list(costs.values())[0] if len(costs) == 1 else None
    return dict(generator=GENERATOR, name=str(name), period=fleet_period(systems, label), systems=systems,
                failed=[s['name'] for s in systems if not s['ok']], totals=totals)


# ---- CSV and JSON --------------------------------------------------------------------------------------------------

def _cost_columns():
    return ['cost_%s' % part for part in COST_PARTS] + ['currency']


def render_csv(fleet, style=None):
    """One row per system (failed ones too, with their error), then the fleet total row(s).

    The total row has ``status`` ``total``, the sums of the figures that add up, and empty cells for peaks and
    percentiles (they do not add up). With more than one currency there is one total row per currency, each with
    that currency's cost (the usage sums repeat).
    """
    with_cost = bool(fleet['totals']['cost_by_currency'])
    columns = list(CSV_COLUMNS) + (_cost_columns() if with_cost else [])
    out = io.StringIO(newline='')
    writer = (style or CsvStyle()).writer(out)  # the one CSV writer: dialect, decimal mark, BOM, text cells guarded
    writer.writerow(columns)
    for system in fleet['systems']:
        summary = system['summary'] or {}
        cost = summary.get('cost') if isinstance(summary.get('cost'), dict) else {}
        fixed = dict(system=system['name'], status='ok' if system['ok'] else 'failed', error=system['error'],
                     period=(system['period'] or {}).get('label'))
        writer.writerow([_cell(column, fixed, summary, cost) for column in columns])
    totals = fleet['totals']
    currencies = sorted(totals['cost_by_currency']) or [None]
    for currency in currencies:
        cost = totals['cost_by_currency'].get(currency, {}) if currency is not None else {}
        fixed = dict(system='fleet total (%s)' % plural(totals['reported'], 'system'), status='total', error=None,
                     period=fleet['period'].get('label'), period_start=fleet['period'].get('since'),
                     period_end=fleet['period'].get('until'))
        row = []
        for column in columns:
            if column in fixed:
                row.append(fixed[column])
            elif column in SUM_KEYS:
                row.append(totals[column])
            elif column.startswith('cost_') or column == 'currency':
                row.append(_cell(column, {}, {}, cost))
            else:
                row.append(None)
        writer.writerow(row)
    return out.getvalue()


def _cell(column, fixed, summary, cost):
    if column in fixed:
        return fixed[column]
    if column == 'currency':
        return cost.get('currency')
    if column.startswith('cost_'):
        return _cost_part(cost, column[5:])
    if column == 'period_start':
        return summary.get('period_start')
    if column == 'period_end':
        return summary.get('period_end')
    return summary.get(column)


def render_json(fleet):
    """The fleet report as JSON. Each system's summary is there without its per-period breakdown, which is in the
    system's own JSON report (``files.json``): 40 systems' daily breakdowns would make this file megabytes."""
    systems = []
    for system in fleet['systems']:
        system = dict(system)
        if isinstance(system['summary'], dict):
            system['summary'] = dict((key, value) for key, value in system['summary'].items() if key != 'periods')
        systems.append(system)
    return json.dumps(dict(fleet, systems=systems, layout=1), indent=1, sort_keys=True, ensure_ascii=False, allow_nan=False) + '\n'


# ---- series for the charts -----------------------------------------------------------------------------------------

def epoch_of(text):
    if not text:
        return None
    return int(datetime.fromisoformat(str(text).replace('Z', '+00:00')).timestamp())


def series_of(fleet, key):
    """One series per system that reported: (period start epoch, value) of each of its periods (or its whole range)."""
    series = []
    for system in fleet['systems']:
        if not system['ok']:
            continue
        summary = system['summary']
        points = [(epoch_of(p.get('start')), p.get(key)) for p in summary.get('periods') or []]
        points = [(x, y) for x, y in points if x is not None and y is not None]
        if not points and summary.get(key) is not None and summary.get('period_start'):
            points = [(epoch_of(summary.get('period_start')), summary.get(key))]
        series.append(dict(name=system['name'], points=points))
    return series


def has_data(series):
    return any(y for s in series for _x, y in s['points'])


# ---- files ---------------------------------------------------------------------------------------------------------

def write_reports(dest, stem, contents, mode, check_mode, name=None):
    """Write ``contents`` (format -> bytes) as ``dest/stem.EXT`` through the files library (``FileSet``: temporary
    files in ``dest``, every name checked and the stem claimed for the fleet ``name`` before the first file is
    replaced, unchanged files left alone, nothing touched in check mode). Returns (files, sha256, changed, removed):
    ``changed`` maps format -> path of the files that changed (would change, in check mode), ``removed`` names the
    temporary files of killed runs that were cleaned up."""
    target = FileSet(dest, mode, check_mode)
    owner = FileOwner.fleet(stem if name is None else name)
    files, digests, changed = {}, {}, {}
    try:
        for fmt in FORMATS:
            if fmt in contents:
                temp, handle = target.temp(fmt, binary=True)
                with handle:
                    handle.write(contents[fmt])
                target.add(owner, stem, fmt, temp)
        try:
            placed = target.place()
        except ValueError as exc:
            raise FleetError(str(exc))
        for member, done, digest in placed:
            files[member['fmt']], digests[member['fmt']] = member['path'], digest
            if done != 'unchanged':
                changed[member['fmt']] = member['path']
    finally:
        target.discard()
    return files, digests, changed, target.removed
