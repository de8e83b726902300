# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vergeio.billing contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Tenant chargeback: usage and cost per tenant from the VergeOS tenant statistics history.

Endpoints: ``tenants`` (``$key``, ``name``, ``is_snapshot``) and ``tenant_stats_history_long`` (lower
resolution, longer retention) or ``tenant_stats_history_short`` (high resolution). A history row is a
point-in-time sample of one tenant (``tenant`` = the tenant's ``$key``, ``timestamp`` in epoch seconds).

Records: ``FIELDS`` is the one conversion table of a sample, one row per property of the reference SDK's
``TenantStatsHistory`` (pyvergeos ``resources/tenant_stats.py``), with its names and units: RAM in MB (``*_mb``,
plus ``*_gb`` = MB / 1024), storage in bytes (plus ``*_gb`` = bytes / 1024**3), percentages as integers, the
timestamp as ISO 8601 UTC and ``timestamp_epoch``. Integers are truncated toward zero like the reference's
``int()``; a null or missing counter is 0 and a value that is no number is 0 and reported (the reference crashes
on both, and on ``"37.5"``).

Requests: the tenant list is one request; the history of every requested tenant over the range is ONE paged query
(``timestamp ge/le``, plus ``tenant eq K`` when one tenant is asked), with only the fields the view needs, sorted by
``$key`` (a total order: ``timestamp`` is shared by every tenant's sample of the same minute, and paging over
ties is not stable), rows de-duplicated by ``$key`` in the client. Rows of tenants that were not asked for
(snapshots, deleted tenants) are dropped as they arrive.

Summary: see ``summarize_samples``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import math
import time
from collections import OrderedDict

from ansible.module_utils.common.text.converters import to_text

from ansible_collections.vergeio.billing.plugins.module_utils._records import (
    BYTES_PER_GB, MB_PER_GB, TIERS, ConversionProblems, convert_fields, to_int,
)
from ansible_collections.vergeio.billing.plugins.module_utils._stats import mean, p95, peak, sample_weights, twa
from ansible_collections.vergeio.billing.plugins.module_utils._rating import (
    METRIC_NAMES, TIER_METRICS, Anomalies, Meter, level, price, rate_card, tenant_owner,
)
from ansible_collections.vergeio.billing.plugins.module_utils._time import GROUPS, calendar_bucket, iso_in

TENANTS = 'tenants'
HISTORY = {'long': 'tenant_stats_history_long', 'short': 'tenant_stats_history_short'}
DEFAULT_PAGE_SIZE = 10000
VIEWS = ('records', 'latest', 'summary')
BASES = ('allocated', 'used', 'provisioned')
STORAGE_KINDS = ('provisioned', 'used', 'allocated')

# output name, raw API field, converter: "int" to_int; "mb" MB integer (also "<name without _mb>_gb");
# "bytes" bytes integer (also "<name>_gb"); "epoch" ISO 8601 UTC string (null for 0) and "<name>_epoch".
FIELDS = (
    ('key', '$key', 'int'),
    ('tenant_key', 'tenant', 'int'),
    ('timestamp', 'timestamp', 'epoch'),
    ('total_cpu', 'total_cpu', 'int'),
    ('core_count', 'core_count', 'int'),
    ('ram_used_mb', 'ram_used', 'mb'),
    ('vram_used_mb', 'vram_used', 'mb'),
    ('ram_allocated_mb', 'ram_allocated', 'mb'),
    ('ram_pct', 'ram_pct', 'int'),
    ('ip_count', 'ip_count', 'int'),
) + tuple(
    ('tier%d_%s' % (tier, kind), 'tier%d_%s' % (tier, kind), 'int' if kind == 'pct' else 'bytes')
    for tier in TIERS for kind in STORAGE_KINDS + ('pct',)
) + (
    ('gpus_used', 'gpus_used', 'int'),
    ('gpus_total', 'gpus_total', 'int'),
    ('gpus_pct', 'gpus_pct', 'int'),
    ('vgpus_used', 'vgpus_used', 'int'),
    ('vgpus_total', 'vgpus_total', 'int'),
    ('vgpus_pct', 'vgpus_pct', 'int'),
)
RAW_FIELDS = tuple(raw for _name, raw, _kind in FIELDS)
# What the summary reads: no percentages and no vRAM.
SUMMARY_FIELDS = tuple(row for row in FIELDS if not row[0].endswith('_pct') and row[0] != 'vram_used_mb')
SUMMARY_RAW_FIELDS = tuple(raw for _name, raw, _kind in SUMMARY_FIELDS)


def convert_sample(raw, problems=None, fields=FIELDS):
    """A converted sample: every property of the reference TenantStatsHistory (of ``fields``), same names and units.
    The values go through ``_records.convert_fields``, the one conversion of raw API values."""
    out = convert_fields(raw, fields, problems)
    for kind in STORAGE_KINDS:
        names = ['tier%d_%s' % (tier, kind) for tier in TIERS]
        if all(name in out for name in names):
            total = sum(out[name] for name in names)
            out['total_storage_' + kind] = total
            out['total_storage_%s_gb' % kind] = total / BYTES_PER_GB
    return out


def output_names():
    """Every key of a converted record, in order (docs and tests)."""
    return list(convert_sample({}).keys())


# The per-sample figures of the summary: summary name -> the converted sample's value.
FIGURES = (
    ('cores', lambda s: s['core_count']),
    ('used_cores', lambda s: s['core_count'] * s['total_cpu'] / 100),
    ('ram_used_gb', lambda s: s['ram_used_gb']),
    ('ram_allocated_gb', lambda s: s['ram_allocated_gb']),
    ('storage_used_gb', lambda s: s['total_storage_used_gb']),
    ('storage_allocated_gb', lambda s: s['total_storage_allocated_gb']),
    ('storage_provisioned_gb', lambda s: s['total_storage_provisioned_gb']),
    ('gpus_used', lambda s: s['gpus_used']),
    ('gpus_total', lambda s: s['gpus_total']),
    ('vgpus_used', lambda s: s['vgpus_used']),
    ('vgpus_total', lambda s: s['vgpus_total']),
    ('ip_count', lambda s: s['ip_count']),
)
FIGURE_NAMES = tuple(name for name, _get in FIGURES)
TIER_FIGURES = tuple('tier%d_%s_gb' % (tier, kind) for tier in TIERS for kind in ('used', 'allocated', 'provisioned'))
COLUMNS = FIGURE_NAMES + TIER_FIGURES
STATS = (('avg', mean), ('twa', None), ('peak', peak), ('p95', p95))


# What each basis bills, THE table of the tenant side of the rating engine: metric (_rating.METRICS) -> (raw history
# fields, divisor). A level is the product of the fields divided by the divisor (used cores: core_count x total_cpu /
# 100; RAM: MB / 1024; storage: bytes / 1024**3). IP addresses (ip_count) are billed on every basis.
def _basis(cores, ram, tier, gpus, vgpus):
    out = OrderedDict([('cores', cores), ('ram', ram)])
    for number in TIERS:
        out['tier%d' % number] = ((tier % number,), BYTES_PER_GB)
    out['gpus'] = ((gpus,), 1)
    out['vgpus'] = ((vgpus,), 1)
    out['ips'] = (('ip_count',), 1)
    return out


BASIS_LEVELS = {
    'allocated': _basis((('core_count',), 1), (('ram_allocated',), MB_PER_GB), 'tier%d_allocated', 'gpus_total', 'vgpus_total'),
    'provisioned': _basis((('core_count',), 1), (('ram_allocated',), MB_PER_GB), 'tier%d_provisioned', 'gpus_total', 'vgpus_total'),
    'used': _basis((('core_count', 'total_cpu'), 100), (('ram_used',), MB_PER_GB), 'tier%d_used', 'gpus_used', 'vgpus_used'),
}


def basis_fields(basis):
    """The raw history fields a basis reads (plus the sample's key, tenant and timestamp)."""
    fields = ['$key', 'tenant', 'timestamp']
    for raw_fields, _divisor in BASIS_LEVELS[basis].values():
        fields.extend(field for field in raw_fields if field not in fields)
    return fields


def sample_levels(raw, basis, anomalies, key=None, problems=None):
    """metric -> the level one raw sample bills on ``basis``: counters through ``_records.to_int`` (``problems`` notes
    values that are no number), a null/missing or negative counter counted as 0 and noted in ``anomalies``
    (``_rating.level``)."""
    out = {}
    for metric, (raw_fields, divisor) in BASIS_LEVELS[basis].items():
        product = 1
        for field in raw_fields:
            value = raw.get(field)
            product *= level(None if value is None else to_int(value, field, problems), 'sample', key, field, anomalies)
        out[metric] = product / divisor if divisor != 1 else product
    return out


# The cost parts of a summary: part -> the metrics it sums (storage: the six tiers).
COST_PARTS = (('cpu', ('cores',)), ('ram', ('ram',)), ('storage', TIER_METRICS), ('gpu', ('gpus',)), ('vgpu', ('vgpus',)), ('ip', ('ips',)))


def sample_figures(sample):
    """The figures of one converted sample, in COLUMNS order."""
    return tuple(get(sample) for _name, get in FIGURES) + tuple(sample[name] for name in TIER_FIGURES)


def summary_cost(stamps, weights, levels, card, basis):
    """The ``cost`` of a summary, from the rating engine: each sample's levels metered over [stamp, stamp + weight)
    (``_rating.Meter``), the usage lines priced (``_rating.price``: quantity x unit price), each part the sum of its
    metrics' exact amounts (storage: the tiers), ``total`` the sum of the parts."""
    amounts = dict((metric, 0.0) for metric in METRIC_NAMES)
    if stamps:
        start = min(stamps)
        end = max(stamp + weight for stamp, weight in zip(stamps, weights))
        meter = Meter([start, max(end, start)])
        owner = tenant_owner(None, '')
        for stamp, weight, levels_of in zip(stamps, weights, levels):
            meter.add(owner, stamp, stamp + weight, levels_of)
        for line in price(meter.lines(), card):
            amounts[line.metric] += line.amount  # one line per metric (one charge period)
    cost = dict((part, math.fsum(amounts[metric] for metric in metrics)) for part, metrics in COST_PARTS)
    cost['total'] = math.fsum(cost[part] for part, _metrics in COST_PARTS)
    cost['tiers'] = dict((metric, amounts[metric]) for metric in TIER_METRICS)
    cost['currency'] = card['currency']
    cost['basis'] = basis
    return cost


def _figures(stamps, columns, weights, levels, rates, basis, zone=None):
    """sample_count, period_start/end, hours, the four statistics of every figure, tiers, cost."""
    out = dict(
        sample_count=len(stamps),
        period_start=iso_in(stamps[0], zone) if stamps else None,
        period_end=iso_in(stamps[-1] + int(weights[-1]), zone) if stamps else None,
        hours=math.fsum(weights) / 3600,
    )
    for name in FIGURE_NAMES:
        values = columns[name]
        for prefix, function in STATS:
            out['%s_%s' % (prefix, name)] = twa(values, weights) if function is None else function(values)
    tiers = []
    for tier in TIERS:
        entry = dict(tier=tier)
        for kind in ('used', 'allocated', 'provisioned'):
            values = columns['tier%d_%s_gb' % (tier, kind)]
            for prefix, function in STATS:
                entry['%s_%s_gb' % (prefix, kind)] = twa(values, weights) if function is None else function(values)
        tiers.append(entry)
    out['tiers'] = tiers
    if rates is not None:
        out['cost'] = summary_cost(stamps, weights, levels, rates, basis)
    return out


def summarize_samples(samples, max_gap=None, group_by=None, zone=None, rates=None, basis='allocated', weights=None):
    """The summary of one tenant's samples: a list of ``(timestamp epoch, $key, figures in COLUMNS order, levels)``
    (levels: ``sample_levels`` on ``basis``, needed with ``rates`` only).

    Samples are sorted by (timestamp, $key). Each stands for the seconds until the next one, capped by ``max_gap``
    (default twice the median gap); the newest stands for the median gap; one sample alone weighs 0 (its means are
    plain means). See _stats.sample_weights. ``weights`` (one per sample, in the order given) replaces those weights:
    the tenant reports pass the seconds of each sample inside the billing period. ``rates`` (a _rating.RateCard) adds
    ``cost`` (``summary_cost``, the rating engine); ``group_by`` adds ``periods``: the samples whose timestamp falls
    in each local day / ISO week / month of ``zone``, each keeping the weight it has in the whole range.
    """
    order = sorted(range(len(samples)), key=lambda index: (samples[index][0], samples[index][1]))
    ordered = [samples[index] for index in order]
    stamps = [sample[0] for sample in ordered]
    computed, middle, cap = sample_weights(stamps, max_gap)
    weights = computed if weights is None else [weights[index] for index in order]
    columns = dict((name, [sample[2][index] for sample in ordered]) for index, name in enumerate(COLUMNS))
    levels = [sample[3] if len(sample) > 3 else None for sample in ordered]
    out = _figures(stamps, columns, weights, levels, rates, basis, zone)
    out['median_gap'] = middle
    out['max_gap'] = cap
    if group_by:
        buckets = {}
        for index, stamp in enumerate(stamps):
            label, start, end = calendar_bucket(stamp, group_by, zone)
            buckets.setdefault((start, end, label), []).append(index)
        periods = []
        for (start, end, label), indexes in sorted(buckets.items()):
            part = dict((name, [values[i] for i in indexes]) for name, values in columns.items())
            period = dict(period=label, start=iso_in(start, zone), end=iso_in(end, zone))
            period.update(_figures([stamps[i] for i in indexes], part, [weights[i] for i in indexes], [levels[i] for i in indexes],
                                   rates, basis, zone))
            periods.append(period)
        out['periods'] = periods
    return out


class _Enough(Exception):
    """Raised from a page callback to stop paging once every requested tenant's newest sample was seen."""


class TenantUsage:
    """Tenants and their statistics history on one VergeOS system."""

    def __init__(self, client, history='long', page_size=DEFAULT_PAGE_SIZE, now=None):
        if history not in HISTORY:
            raise ValueError('history must be one of %s, got %r' % (', '.join(HISTORY), history))
        self.client = client
        self.endpoint = HISTORY[history]
        self.page_size = page_size
        self.problems = ConversionProblems()
        self.anomalies = Anomalies()
        self._now = now

    def messages(self):
        """The warnings of the reads: counters the costs counted as 0 (negative, null or missing), values that were no
        numbers."""
        out = self.anomalies.messages()
        if self.problems:
            out.append('Some values from the API were not numbers and were counted as 0: %s' % ', '.join(self.problems))
        return out

    def now(self):
        return int(time.time()) if self._now is None else self._now

    def tenants(self, selectors=None):
        """The requested tenants as ``[(key, name)]``, snapshots excluded; every one when ``selectors`` is empty.

        A selector is a tenant name, or its ``$key`` (digits that are no tenant's name). A name that matches no
        tenant fails, naming it; so does a name shared by several tenants (give the ``$key``).
        """
        rows = self.client.get_all(TENANTS, dict(fields='$key,name,is_snapshot', filter='is_snapshot eq false', sort='$key'),
                                   self.page_size)
        known = []
        for row in rows:
            if row.get('is_snapshot') in (True, 'true', 1, '1'):
                continue  # a server that ignored the filter
            known.append((to_int(row.get('$key'), '$key', self.problems), to_text(row.get('name') or '')))
        if not selectors:
            return known
        by_name, by_key = {}, dict((key, name) for key, name in known)
        for key, name in known:
            by_name.setdefault(name, []).append(key)
        chosen, unknown = [], []
        for selector in selectors:
            text = to_text(selector).strip()
            if text in by_name:
                if len(by_name[text]) > 1:
                    raise ValueError('tenant: the name %r is shared by the tenants with $key %s; give the $key'
                                     % (text, ', '.join(str(key) for key in by_name[text])))
                found = (by_name[text][0], text)
            elif text.isdigit() and int(text) in by_key:
                found = (int(text), by_key[int(text)])
            else:
                unknown.append(text)
                continue
            if found not in chosen:
                chosen.append(found)
        if unknown:
            raise ValueError('tenant: no tenant (snapshots excluded) has the name or $key %s; the tenants are: %s'
                             % (', '.join(repr(text) for text in unknown), _listing(known)))
        return chosen

    def _params(self, keys, since, until, fields, sort):
        parts = []
        if len(keys) == 1:
            parts.append('tenant eq %d' % keys[0])
        if since is not None:
            parts.append('timestamp ge %d' % since)
        parts.append('timestamp le %d' % until)
        return dict(fields=','.join(fields), filter=' and '.join(parts), sort=sort)

    def read(self, keys, since, until, fields, sort, on_sample):
        """Feed ``on_sample(tenant key, raw row)`` every history row of ``keys`` in [since, until]: one paged query."""
        wanted = set(keys)

        def page(rows):
            for raw in rows:
                tenant = to_int(raw.get('tenant'), 'tenant', self.problems)
                if tenant in wanted:
                    on_sample(tenant, raw)

        return self.client.get_all(self.endpoint, self._params(keys, since, until, fields, sort), self.page_size, on_page=page)

    def records(self, keys, since, until):
        """{tenant key: converted samples, newest first}."""
        found = dict((key, []) for key in keys)
        self.read(keys, since, until, RAW_FIELDS, '$key',
                  lambda tenant, raw: found[tenant].append(convert_sample(raw, self.problems)))
        for samples in found.values():
            samples.sort(key=lambda sample: (sample['timestamp_epoch'], sample['key']), reverse=True)
        return found

    def latest(self, keys, since, until):
        """{tenant key: its newest converted sample in the range (greatest timestamp, then $key), or None}.

        Reads newest first and stops once every tenant has been seen (a tenant with no sample in the range makes
        it read the whole range).
        """
        newest = dict((key, None) for key in keys)

        def keep(tenant, raw):
            sample = convert_sample(raw, self.problems)
            current = newest[tenant]
            if current is None or (sample['timestamp_epoch'], sample['key']) > (current['timestamp_epoch'], current['key']):
                newest[tenant] = sample

        def page(rows):
            wanted = set(keys)
            for raw in rows:
                tenant = to_int(raw.get('tenant'), 'tenant', self.problems)
                if tenant in wanted:
                    keep(tenant, raw)
            if all(sample is not None for sample in newest.values()):
                last = to_int(rows[-1].get('timestamp')) if rows else None
                # rows come newest first: once every tenant has a sample newer than the page's last row, no later
                # row can be newer (a row with the same timestamp could still have a greater $key: read on)
                if last is not None and all(sample['timestamp_epoch'] > last for sample in newest.values()):
                    raise _Enough()

        try:
            self.client.get_all(self.endpoint, self._params(keys, since, until, RAW_FIELDS, '-timestamp'), self.page_size,
                                on_page=page)
        except _Enough:
            pass
        return newest

    def summary(self, keys, since, until, max_gap=None, group_by=None, zone=None, rates=None, basis='allocated'):
        """{tenant key: summarize_samples of its samples in the range}."""
        if group_by is not None and group_by not in GROUPS:
            raise ValueError('group_by must be one of %s, got %r' % (', '.join(GROUPS), group_by))
        if basis not in BASES:
            raise ValueError('basis must be one of %s, got %r' % (', '.join(BASES), basis))
        rates = rate_card(rates)
        found = dict((key, []) for key in keys)

        def add(tenant, raw):
            sample = convert_sample(raw, self.problems, SUMMARY_FIELDS)
            levels = sample_levels(raw, basis, self.anomalies, sample['key']) if rates is not None else None
            found[tenant].append((sample['timestamp_epoch'], sample['key'], sample_figures(sample), levels))

        self.read(keys, since, until, SUMMARY_RAW_FIELDS, '$key', add)
        return dict((key, summarize_samples(samples, max_gap, group_by, zone, rates, basis)) for key, samples in found.items())


def _listing(known, limit=20):
    names = sorted('%s ($key %d)' % (name, key) for key, name in known)
    if not names:
        return 'none'
    return ', '.join(names[:limit]) + (' and %d more' % (len(names) - limit) if len(names) > limit else '')


def shape(tenants, view, values):
    """The module's ``tenants``: ``[{key, name, records | record | summary}]`` sorted by name, then $key."""
    out = []
    for key, name in sorted(tenants, key=lambda tenant: (tenant[1], tenant[0])):
        entry = dict(key=key, name=name)
        entry[{'records': 'records', 'latest': 'record', 'summary': 'summary'}[view]] = values[key]
        out.append(entry)
    return out
