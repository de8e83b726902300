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

import hashlib
import io
import json
import math
import os
import re
from datetime import datetime, timezone
from decimal import Decimal

from ansible_collections.vergeio.billing.plugins.module_utils._rating import DEFAULT_PRECISION, MAX_PRECISION, money
from ansible_collections.vergeio.billing.plugins.module_utils._records import TIERS
from ansible_collections.vergeio.billing.plugins.module_utils._reports.files import (
    EXTENSIONS, FORMATS, CsvStyle, FileOwner, FileSet,
)
from ansible_collections.vergeio.billing.plugins.module_utils._summary import COST_PARTS, TIER_PARTS

GENERATOR = 'vergeio.billing.verge_billing_fleet_report'
TIER_NAMES = TIER_PARTS
# The priced parts of a system's cost: storage is the sum of the tiers, total the sum of all of them.
PRICED_PARTS = ('cpu', 'ram') + TIER_NAMES + ('gpu', 'vgpu')
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

REPORT_GENERATOR = 'vergeio.billing.verge_billing_report'
# The prefix of the set_stats artifact of each system (the role's billing_report__stats_key, see artifact_key).
ARTIFACT_PREFIX = 'billing_report_system_'
ARTIFACT_STEM_LENGTH = 40
ARTIFACT_HASH_LENGTH = 12


def artifact_key(name):
    """The ``set_stats`` artifact key of the system ``name``: ``billing_report_system_<stem>_<hash>``.

    ``stem`` is the name with each run of characters other than ASCII letters and digits as ``_`` (at most 40
    characters: an artifact key must be an identifier, and people read it in AWX); ``hash`` the first 12 hex digits of
    the SHA-1 of the exact name (UTF-8), so two names that make the same stem (``verge.east.example.com`` and
    ``verge-east.example.com``) still get two keys. The role computes the same key with Jinja
    (``roles/billing_report/vars/main.yml``, ``billing_report__stats_key``); a test holds the two together.
    """
    text = str(name)
    stem = re.sub('[^A-Za-z0-9]+', '_', text)[:ARTIFACT_STEM_LENGTH]
    return '%s%s_%s' % (ARTIFACT_PREFIX, stem, hashlib.sha1(text.encode('utf-8')).hexdigest()[:ARTIFACT_HASH_LENGTH])


class _NonFinite(object):
    """What :func:`read_json` makes of ``NaN``, ``Infinity`` and ``-Infinity``: a marker, not a float, so that the
    checks below refuse it naming its key (Python's json would read them as floats and they would be summed)."""

    __slots__ = ('text',)

    def __init__(self, text):
        self.text = text

    def __repr__(self):
        return self.text


def read_json(path):
    """The JSON document in ``path``, with NaN and Infinity as markers. OSError and ValueError go to the caller."""
    with open(path, 'rb') as handle:
        return json.load(handle, parse_constant=_NonFinite)


def _non_finite(value, key):
    """The key path of the first NaN or infinite number in ``value`` (``None`` when there is none)."""
    if isinstance(value, _NonFinite) or (isinstance(value, float) and not math.isfinite(value)):
        return key
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        return None
    for sub, item in items:
        found = _non_finite(item, '%s[%s]' % (key, sub) if isinstance(sub, int) else ('%s.%s' % (key, sub) if key else str(sub)))
        if found:
            return found
    return None


def _json_kind(value):
    """How JSON calls the type of ``value``, for messages."""
    if value is None:
        return 'null'
    if isinstance(value, bool):
        return 'a boolean (%s)' % str(value).lower()
    if isinstance(value, dict):
        return 'an object'
    if isinstance(value, (list, tuple)):
        return 'an array'
    if isinstance(value, str):
        return 'a string (%r)' % (value[:40],)
    if isinstance(value, _NonFinite):
        return value.text
    if isinstance(value, (int, float)):
        return 'a number (%r)' % (value,)
    return type(value).__name__


def _figure(value, where, key, whole=False):
    """A figure the fleet adds up: a finite number >= 0 (a whole one when ``whole``), else FleetError naming ``key``."""
    if isinstance(value, _NonFinite) or (isinstance(value, float) and not math.isfinite(value)):
        raise FleetError('%s: %s is %r, not a finite number; a report with it cannot be added up (write the report again)'
                         % (where, key, value))
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise FleetError('%s: %s must be a number, got %s' % (where, key, _json_kind(value)))
    if value < 0:
        raise FleetError('%s: %s is negative (%r): usage and costs are never below 0, so the report is damaged or was '
                         'not written by vergeio.billing; write it again' % (where, key, value))
    if whole and value != int(value):
        raise FleetError('%s: %s must be a whole number, got %r' % (where, key, value))
    return value


def _typed(container, key, types, where, path, what):
    """``container[key]`` when it is missing, null or of ``types``; else FleetError naming ``path``."""
    value = container.get(key)
    if value is not None and (isinstance(value, bool) or not isinstance(value, types)):
        raise FleetError('%s: %s must be %s, got %s' % (where, path, what, _json_kind(value)))
    return value


def check_summary(summary, where):
    """Refuse a summary the fleet cannot add up, naming ``where`` (the file or the artifact) and the key.

    The figures the fleet reads (the sums, each tier, each cost part, the chart points) must be finite numbers >= 0;
    a figure that is missing counts as 0 (an older layout without it), one of another type (an object where a number
    belongs, a text, null) is refused.
    """
    if not isinstance(summary, dict):
        raise FleetError('%s: summary must be an object, got %s' % (where, _json_kind(summary)))
    for key in SUM_KEYS:
        if key in summary:
            _figure(summary[key], where, 'summary.' + key, whole=key in INT_KEYS)
    tiers = _typed(summary, 'tiers', list, where, 'summary.tiers', 'an array')
    for index, tier in enumerate(tiers or []):
        path = 'summary.tiers[%d]' % index
        if not isinstance(tier, dict):
            raise FleetError('%s: %s must be an object, got %s' % (where, path, _json_kind(tier)))
        _figure(tier.get('tier'), where, path + '.tier', whole=True)
        for key in ('twa_used_gb', 'total_gb'):
            if key in tier:
                _figure(tier[key], where, '%s.%s' % (path, key))
    cost = _typed(summary, 'cost', dict, where, 'summary.cost', 'an object')
    if cost is not None:
        _typed(cost, 'currency', str, where, 'summary.cost.currency', 'a text')
        for part in COST_PARTS:
            if part not in TIER_NAMES and part in cost:
                _figure(cost[part], where, 'summary.cost.' + part)
        for part, value in (_typed(cost, 'tiers', dict, where, 'summary.cost.tiers', 'an object') or {}).items():
            _figure(value, where, 'summary.cost.tiers.%s' % part)
        if 'precision' in cost and (not isinstance(cost['precision'], int) or isinstance(cost['precision'], bool)
                                    or not 0 <= cost['precision'] <= MAX_PRECISION):
            raise FleetError('%s: summary.cost.precision must be a whole number of decimals from 0 to %d, got %s'
                             % (where, MAX_PRECISION, _json_kind(cost['precision'])))
        _check_cost_total(cost, where)
    for index, entry in enumerate(_typed(summary, 'periods', list, where, 'summary.periods', 'an array') or []):
        path = 'summary.periods[%d]' % index
        if not isinstance(entry, dict):
            raise FleetError('%s: %s must be an object, got %s' % (where, path, _json_kind(entry)))
        _typed(entry, 'start', str, where, path + '.start', 'a time (ISO 8601 text)')
        for _chart_id, _title, key, _unit in CHARTS:
            if entry.get(key) is not None:
                _figure(entry[key], where, '%s.%s' % (path, key))
    found = _non_finite(summary, 'summary')
    if found:
        raise FleetError('%s: %s is not a finite number (NaN or Infinity); write the report again' % (where, found))
    return summary


def _check_cost_total(cost, where):
    """The fleet shows each priced part and their sum: a total that is not the sum of the parts (a part the fleet does
    not know, or damage) would make the fleet bill differ from the system's, so it is refused. The tolerance is half a
    minor unit a part (a total of rounded parts passes) plus the float error of the sum."""
    if not isinstance(cost.get('total'), (int, float)):
        return
    precision = cost.get('precision', DEFAULT_PRECISION)
    parts = [float(_cost_part(cost, part) or 0) for part in PRICED_PARTS]
    gap = abs(cost['total'] - math.fsum(parts))
    if gap > 0.5 * 10 ** -precision * len(parts) + 1e-9 * max(1.0, abs(cost['total'])):
        raise FleetError('%s: summary.cost.total (%r) is not the sum of the cost parts cpu, ram, tiers, gpu and vgpu (%r): '
                         'the fleet bill would not add up to the system\'s; write the report again' % (where, cost['total'], math.fsum(parts)))


def check_period(period, where):
    """Refuse a period of another shape (the label and times name it in files and rows), naming the key."""
    if not isinstance(period, dict):
        raise FleetError('%s: period must be an object, got %s' % (where, _json_kind(period)))
    for key in ('label', 'month', 'since', 'until', 'timezone'):
        _typed(period, key, str, where, 'period.' + key, 'a text')
    for key in ('since_epoch', 'until_epoch'):
        _typed(period, key, int, where, 'period.' + key, 'a whole number (Unix seconds)')
    return period


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
    period = check_period(item['period'], where) if isinstance(item.get('period'), dict) else None
    return dict(name=str(name), ok=bool(ok), error=error, period=period, files=dict(files),
                summary=check_summary(summary, where) if ok else None)


def outcomes_from(systems):
    """The outcomes given as a list, or as a dict (the ``set_stats`` artifacts: any key -> outcome).

    The role publishes each system under its own key (:func:`artifact_key`); the name is read from inside the outcome,
    never from the key.
    """
    if systems is None:
        return []
    if isinstance(systems, dict):
        items = [(systems[key], 'systems[%s]' % key) for key in sorted(systems)]
    elif isinstance(systems, (list, tuple)):
        items = [(item, 'systems[%d]' % index) for index, item in enumerate(systems)]
    else:
        raise FleetError('systems must be a list of system outcomes or a dict of them, got %s' % type(systems).__name__)
    return [outcome_of(item, where) for item, where in items]


def artifact_warnings(systems):
    """Warnings for artifacts (``systems`` as a dict) under a role-like key that is not :func:`artifact_key` of the
    name inside: artifacts of a version before 0.2.0, whose keys were the stem alone, so two systems of one stem
    (``verge.east.example.com``, ``verge-east.example.com``) overwrote each other before this consolidation saw them."""
    if not isinstance(systems, dict):
        return []
    stale = sorted(key for key, item in systems.items() if str(key).startswith(ARTIFACT_PREFIX) and isinstance(item, dict)
                   and item.get('name') is not None and key != artifact_key(item['name']))
    if not stale:
        return []
    return ['systems: %s not the key of the system named inside (%s): artifacts of an older vergeio.billing, whose keys '
            'could merge two systems whose names differ only in ".", "-", "_" or case into one; run those systems with '
            'this version to be sure none is missing' % (plural(len(stale), 'artifact key is', 'artifact keys are'), ', '.join(stale[:5]))]


def with_periods(outcome):
    """The outcome with its summary read from its own JSON report when the outcome carries no per-period breakdown.

    The role publishes outcomes without ``summary.periods`` (AWX artifacts stay small); the breakdown, which the
    charts need, is in the system's JSON report. When that file cannot be read (another machine wrote it, say an AWX
    job in another container), the outcome's summary is used as it is and the charts get one point for the system.
    A file that is there but damaged (not JSON, NaN, a negative cost, another shape) fails, naming it: its summary
    would replace the outcome's.
    """
    summary = outcome.get('summary')
    path = (outcome.get('files') or {}).get('json')
    if not outcome.get('ok') or not isinstance(summary, dict) or 'periods' in summary or not path or not os.path.isfile(str(path)):
        return outcome
    try:
        data = read_json(path)
    except OSError:
        return outcome
    except ValueError as exc:
        raise FleetError('%s (files.json of system %s) is not a readable JSON report (%s); write it again' % (path, outcome['name'], exc))
    if isinstance(data, dict) and data.get('kind', 'system') == 'system' and str(data.get('name')) == outcome['name'] \
            and isinstance(data.get('summary'), dict):
        outcome = dict(outcome)
        outcome['summary'] = check_summary(data['summary'], '%s (files.json of system %s)' % (path, outcome['name']))
    return outcome


def is_fleet_report(data):
    return isinstance(data, dict) and (data.get('generator') == GENERATOR or ('systems' in data and 'totals' in data))


def report_kind(data):
    """What a JSON document is: ``system``, ``tenant``, ``tenants`` (the overview), ``fleet``, another report kind,
    or None (not a report of this collection).

    A system report is ``verge_billing_report``'s (its generator, no ``kind`` or ``kind: system``), or any object
    with a ``name`` and a ``summary``; the tenant reports (``kind: tenant``, or a ``tenant`` object) and overviews
    (``kind: tenants``, or a ``tenants`` list) that the same task writes beside it are not systems.
    """
    if not isinstance(data, dict):
        return None
    if is_fleet_report(data):
        return 'fleet'
    kind = data.get('kind')
    if kind is not None and kind != 'system':
        return str(kind)
    if kind is None and isinstance(data.get('tenant'), dict):
        return 'tenant'
    if kind is None and isinstance(data.get('tenants'), list) and 'summary' not in data:
        return 'tenants'
    if data.get('generator') == REPORT_GENERATOR or kind == 'system' or ('name' in data and 'summary' in data):
        return 'system'
    return None


def _not_a_system(data, kind):
    """Why a JSON document of the directory is not a system's report (the reason listed in ``not_systems``)."""
    if kind == 'fleet':
        return 'a fleet report'
    if kind == 'tenant':
        tenant = data.get('tenant') if isinstance(data.get('tenant'), dict) else {}
        return 'a tenant report (tenant %s of system %s)' % (tenant.get('name', '?'), data.get('name', '?'))
    if kind == 'tenants':
        return 'a tenants overview (system %s)' % data.get('name', '?')
    if kind is not None:
        return 'a report of kind %s, not a system report' % kind
    if isinstance(data, dict):
        return 'not a report of vergeio.billing (no name and summary)'
    return 'not a report of vergeio.billing (%s)' % _json_kind(data).split(' (')[0]


def load_reports(directory, label=None):
    """Outcomes from the per-system JSON reports in ``directory`` (not its subdirectories).

    Returns (outcomes, not_systems, warnings). ``not_systems`` lists, each with ``path`` and ``reason``, every
    ``*.json`` entry that is not a system's report of the period: fleet reports, tenant reports and overviews (the
    role writes them beside the system's), other JSON, reports of another period than ``label``, and the entries that
    cannot be read (a dangling symbolic link, a file this user may not read, not a regular file), which also get a
    warning: they may be a system missing from the bill.

    Raises FleetError, naming the file (and the key), for a directory that cannot be listed, a report that is not
    valid JSON, a system report of another shape (no summary, an object where a number belongs, NaN or Infinity, a
    negative figure), two reports of one system, or, without ``label``, reports of more than one period.
    """
    try:
        names = sorted(os.listdir(directory))
    except OSError as exc:
        raise FleetError('from_dir %s cannot be read: %s' % (directory, exc.strerror or exc))
    outcomes, not_systems, warnings = [], [], []

    def unreadable(path, reason):
        not_systems.append(dict(path=path, reason=reason))
        warnings.append('from_dir: %s is not in the fleet report: %s. If it is a system report, its system is missing '
                        'from the bill' % (path, reason))

    for file_name in names:
        path = os.path.join(directory, file_name)
        if not file_name.endswith('.json'):
            continue
        if not os.path.exists(path):
            unreadable(path, 'a dangling symbolic link (to %s)' % os.readlink(path) if os.path.islink(path) else 'gone while reading')
            continue
        if os.path.isdir(path):
            continue  # a subdirectory: not read (reports are not searched for in subdirectories)
        if not os.path.isfile(path):
            unreadable(path, 'not a regular file')
            continue
        try:
            data = read_json(path)
        except OSError as exc:
            unreadable(path, 'cannot be read (%s)' % (exc.strerror or exc))
            continue
        except ValueError as exc:
            raise FleetError('from_dir: %s is not a readable JSON report (%s); remove it or write it again' % (path, exc))
        kind = report_kind(data)
        if kind != 'system':
            not_systems.append(dict(path=path, reason=_not_a_system(data, kind)))
            continue
        where = 'from_dir: %s' % path
        if 'summary' not in data:
            raise FleetError('%s: summary is missing: a system report has name, period and summary; write it again' % where)
        if not isinstance(data.get('name'), str) or not data['name'].strip():
            raise FleetError('%s: name must be the name of the system (a text), got %s' % (where, _json_kind(data.get('name'))))
        period = check_period(data.get('period'), where)
        if label is not None and period.get('label') != label:
            not_systems.append(dict(path=path, reason='period %s, not %s' % (period.get('label'), label)))
            continue
        stem = path[:-len('.json')]
        files = dict((fmt, stem + '.' + ext) for fmt, ext in EXTENSIONS.items() if os.path.isfile(stem + '.' + ext))
        outcomes.append(outcome_of(dict(name=data['name'], ok=True, error=None, period=period, summary=check_summary(data['summary'], where),
                                        files=files), where))
        found = _non_finite(dict((key, value) for key, value in data.items() if key != 'records'), '')
        if found:  # a key the fleet does not add up (the records are not read)
            raise FleetError('%s: %s is not a finite number (NaN or Infinity); write the report again' % (where, found))
    if label is None:
        first = {}
        for outcome in outcomes:
            first.setdefault(outcome['period'].get('label'), outcome['files']['json'])
        if len(first) > 1:
            (one, one_path), (two, two_path) = sorted(first.items(), key=lambda item: str(item[0]))[:2]
            raise FleetError('from_dir %s holds reports of more than one period: %s (%s) and %s (%s); give label to take one '
                             'period (a fleet bill adds up one period)' % (directory, one, one_path, two, two_path))
    paths = {}
    for outcome in outcomes:
        if outcome['name'] in paths:
            raise FleetError('from_dir: %s and %s are both reports of system %s for %s; remove one of them'
                             % (paths[outcome['name']], outcome['files']['json'], outcome['name'], outcome['period'].get('label')))
        paths[outcome['name']] = outcome['files']['json']
    return outcomes, not_systems, warnings


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


# ---- shown amounts -------------------------------------------------------------------------------------------------


def _shown_parts(parts):
    """Complete ``parts`` (priced part -> Decimal) with ``storage`` and ``total``, the sums of what is shown."""
    shown = dict(parts)
    shown['storage'] = sum((shown[part] for part in TIER_NAMES), Decimal(0))
    shown['total'] = sum((shown[part] for part in ('cpu', 'ram', 'storage', 'gpu', 'vgpu')), Decimal(0))
    return shown


def shown_cost(cost):
    """A system's cost as the Markdown, HTML and CSV reports show it (part -> Decimal, the parts of ``COST_PARTS``).

    Each priced part is rounded half up to the currency's minor unit (``precision`` decimals, default 2) with the
    rating engine's ``money``; storage and the total are the sums of the rounded parts shown, so a reader adding up
    the lines gets the total printed below them. The JSON keeps the exact amounts.
    """
    precision = cost.get('precision', DEFAULT_PRECISION)
    return _shown_parts(dict((part, money(_cost_part(cost, part) or 0, precision)) for part in PRICED_PARTS))


def shown_costs(fleet):
    """(system name -> shown cost, currency -> shown cost of the fleet): the fleet's shown parts are the sums of the
    systems' shown parts, so the fleet total shown is the sum of the system totals shown above it."""
    systems, currencies = {}, {}
    for system in fleet['systems']:
        cost = (system['summary'] or {}).get('cost') if system['ok'] else None
        if not isinstance(cost, dict):
            continue
        systems[system['name']] = shown = shown_cost(cost)
        fleet_parts = currencies.setdefault(cost.get('currency') or '', dict((part, Decimal(0)) for part in PRICED_PARTS))
        for part in PRICED_PARTS:
            fleet_parts[part] += shown[part]
    return systems, dict((currency, _shown_parts(parts)) for currency, parts in currencies.items())


# ---- CSV and JSON --------------------------------------------------------------------------------------------------

def _cost_columns():
    return ['cost_%s' % part for part in COST_PARTS] + ['currency']


def render_csv(fleet, style=None):
    """One row per system (failed ones too, with their error), then the fleet total row(s).

    The total row has ``status`` ``total``, the sums of the figures that add up, and empty cells for peaks and
    percentiles (they do not add up). With more than one currency there is one total row per currency, each with
    that currency's cost (the usage sums repeat). Every row shows the period of the report (``period_start`` and
    ``period_end`` are the period's ``since`` and ``until``), so the system rows and the total row agree. Costs are
    the shown amounts (:func:`shown_costs`): a column of a currency adds up to its total row.
    """
    with_cost = bool(fleet['totals']['cost_by_currency'])
    columns = list(CSV_COLUMNS) + (_cost_columns() if with_cost else [])
    out = io.StringIO(newline='')
    writer = (style or CsvStyle()).writer(out)  # the one CSV writer: dialect, decimal mark, BOM, text cells guarded
    writer.writerow(columns)
    shown_systems, shown_fleet = shown_costs(fleet)
    for system in fleet['systems']:
        summary = system['summary'] or {}
        cost = summary.get('cost') if isinstance(summary.get('cost'), dict) else {}
        period = system['period'] or {}
        fixed = dict(system=system['name'], status='ok' if system['ok'] else 'failed', error=system['error'],
                     period=period.get('label'), period_start=period.get('since'), period_end=period.get('until'))
        writer.writerow([_cell(column, fixed, summary, dict(cost, shown=shown_systems.get(system['name'], {}))) for column in columns])
    totals = fleet['totals']
    currencies = sorted(totals['cost_by_currency']) or [None]
    for currency in currencies:
        cost = dict(totals['cost_by_currency'][currency], shown=shown_fleet[currency]) if currency is not None else {}
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
        return cost['shown'].get(column[5:]) if 'shown' in cost else None
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
