# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vergeio.billing contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The rating engine: every source of usage becomes usage lines, and one function prices them.

A **usage line** says who used what, when and how much::

    UsageLine(owner, metric, start, end, quantity)

- ``owner``: an ``Owner`` (``kind`` ``system``, ``tenant`` or ``unallocated``; ``key``: the tenant's ``$key``, None
  for the system; ``name``; ``state``: ``active`` or ``deleted``);
- ``metric``: a name of ``METRICS`` (the one table of what is billed, with its unit and the rate-card key that prices
  it);
- ``start``/``end``: a UTC interval in epoch seconds, start inclusive, end exclusive, inside one charge period;
- ``quantity``: unit-hours (core-hours, GB-hours, GPU-hours, IP-hours): the level of the metric times the hours it
  held, summed over every measurement that overlaps the interval, each **prorated** to the part of its own interval
  that lies inside (a record that measured 23:00-01:00 puts half of its usage in each day).

Sources (see ``Meter.add``): a billing record measures its ``from``..``to`` interval; a tenant sample stands for
``timestamp``..``timestamp + weight`` (``_stats.sample_weights``). Per-VM usage, when it comes, is one more source:
owner kind ``vm`` (or the tenant that owns the VM), the same metrics, fed to the same ``Meter``.

Pricing (``price``): amount = quantity x unit price, unrounded (FOCUS exports and JSON keep it exact).
Presentation rounds each shown line to the currency's minor unit (``RateCard.precision`` decimals, half up; see
``money``) and a shown total is the sum of its rounded lines (``Bill``).

Nothing here knows HTTP, Ansible or files: pure functions of numbers, tested against a brute force over seconds.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import math
import operator
from collections import OrderedDict, namedtuple
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal, InvalidOperation

from ansible_collections.vergeio.billing.plugins.module_utils._records import MAX_COUNTER
from ansible_collections.vergeio.billing.plugins.module_utils._time import calendar_bucket

TIERS = range(6)
HOUR = 3600

Metric = namedtuple('Metric', 'name label unit quantity_unit rate_key category subcategory focus_unit')
# What is billed, in the order every table shows it. unit: what one measurement counts; quantity_unit: the unit of a
# usage line's quantity (unit x hours); rate_key: the rate-card key that prices one quantity_unit; category and
# subcategory: FOCUS 1.2 ServiceCategory / ServiceSubcategory (values of the specification's lists); focus_unit: the
# quantity_unit in FOCUS UnitFormat (the collection's GB is 1024^3 bytes, a GiB there).
METRICS = (
    Metric('cores', 'CPU cores', 'cores', 'core-hours', 'core_hour', 'Compute', 'Virtual Machines', 'Core-Hours'),
    Metric('ram', 'RAM', 'GB', 'GB-hours', 'ram_gb_hour', 'Compute', 'Virtual Machines', 'GiB-Hours'),
) + tuple(
    Metric('tier%d' % tier, 'Storage tier %d' % tier, 'GB', 'GB-hours', 'tier%d_gb_hour' % tier, 'Storage', 'Block Storage',
           'GiB-Hours')
    for tier in TIERS
) + (
    Metric('gpus', 'GPUs', 'GPUs', 'GPU-hours', 'gpu_hour', 'Compute', 'Virtual Machines', 'GPU-Hours'),
    Metric('vgpus', 'vGPUs', 'vGPUs', 'vGPU-hours', 'vgpu_hour', 'Compute', 'Virtual Machines', 'vGPU-Hours'),
    Metric('ips', 'IP addresses', 'IP addresses', 'IP-hours', 'ip_hour', 'Networking', 'Network Connectivity', 'IP Address-Hours'),
)
METRIC = OrderedDict((metric.name, metric) for metric in METRICS)
METRIC_NAMES = tuple(METRIC)
TIER_METRICS = tuple('tier%d' % tier for tier in TIERS)
# The metrics a billing record measures (the system's usage); IP addresses are counted per tenant only.
SYSTEM_METRICS = ('cores', 'ram') + TIER_METRICS + ('gpus', 'vgpus')
RATE_KEYS = tuple(metric.rate_key for metric in METRICS)
DEFAULT_PRECISION = 2
MAX_PRECISION = 8


# ---- the rate card --------------------------------------------------------------------------------------------------

class RateCard(dict):
    """A validated rate card: every RATE_KEYS entry as a float (omitted: 0.0), ``currency`` (text) and ``precision``
    (the decimals of the currency's minor unit). Made by ``rate_card`` only; a card is validated once per task."""

    @property
    def currency(self):
        return self['currency']

    @property
    def precision(self):
        return self['precision']

    def price_of(self, metric):
        return self[METRIC[metric].rate_key]


def rate_number(name, value):
    """One price as a float (None or '' is 0.0); ValueError naming ``rates.<name>``."""
    if value is None or value == '':
        return 0.0
    try:
        if isinstance(value, bool):
            raise ValueError()
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        raise ValueError('rates.%s must be a number (a price per unit-hour), got %r' % (name, value))
    if math.isnan(number) or math.isinf(number) or number < 0:
        raise ValueError('rates.%s must be a finite number of 0 or more, got %r' % (name, value))
    return number


def _precision(value):
    if value is None or value == '':
        return DEFAULT_PRECISION
    try:
        if isinstance(value, bool) or float(value) != int(float(value)):
            raise ValueError()
        number = int(float(value))
    except (TypeError, ValueError, OverflowError):
        number = -1
    if not 0 <= number <= MAX_PRECISION:
        raise ValueError('rates.precision must be the decimals of the currency\'s minor unit, a whole number from 0 to %d '
                         '(2 for EUR or USD, 0 for JPY), got %r' % (MAX_PRECISION, value))
    return number


def rate_card(rates):
    """The RateCard of a ``rates`` option (None stays None; a RateCard is returned as it is). ValueError names the key."""
    if rates is None or isinstance(rates, RateCard):
        return rates
    if not isinstance(rates, dict):
        raise ValueError('rates must be a dict like {core_hour: 0.02, ram_gb_hour: 0.01, currency: EUR}, got %s' % type(rates).__name__)
    unknown = sorted(set(map(str, rates)) - set(RATE_KEYS) - set(['currency', 'precision']))
    if unknown:
        raise ValueError('rates: unknown key(s) %s; accepted: %s, currency, precision' % (', '.join(unknown), ', '.join(RATE_KEYS)))
    card = RateCard((key, rate_number(key, rates.get(key))) for key in RATE_KEYS)
    currency = rates.get('currency')
    card['currency'] = '' if currency is None else str(currency)
    card['precision'] = _precision(rates.get('precision'))
    return card


# ---- money ----------------------------------------------------------------------------------------------------------

def money(amount, precision=DEFAULT_PRECISION):
    """``amount`` rounded half up to ``precision`` decimals, as a Decimal.

    The float is read by its shortest repr (``1.005`` is 1.005, not 1.00499999999999989...), which is the number a
    person checking the line by hand multiplies out; then rounded half up (ROUND_HALF_UP, away from zero), the rule
    of invoices.
    """
    try:
        return Decimal(repr(float(amount))).quantize(Decimal(1).scaleb(-precision), rounding=ROUND_HALF_UP)
    except (InvalidOperation, ValueError, OverflowError):
        raise ValueError('an amount must be a finite number, got %r' % (amount,))


def apportion(exacts, total, precision=DEFAULT_PRECISION):
    """Split the rounded ``total`` (a Decimal) over parts whose exact amounts are ``exacts``: a list of Decimals, one
    a part, each its exact amount rounded down or up to the minor unit, that add up to ``total`` exactly.

    The largest-remainder method: every part gets its exact amount rounded toward minus infinity, then the minor units
    still missing go one each to the parts with the largest remainders (ties: the earlier part), or, when the parts
    already hold more than the total, are taken back from the smallest. A column of per-day amounts then adds up to the
    bill's total (the sum of its rounded metric lines), which rounding each day on its own would miss by a few cents.
    """
    unit = Decimal(1).scaleb(-precision)
    exact = [Decimal(repr(float(value))) for value in exacts]
    floors = [value.quantize(unit, rounding=ROUND_FLOOR) for value in exact]
    if not floors:
        return []
    missing = int(((Decimal(total) - sum(floors, Decimal(0))) / unit).to_integral_value(rounding=ROUND_HALF_UP))
    order = sorted(range(len(floors)), key=lambda index: (-(exact[index] - floors[index]), index))
    if missing < 0:
        order = order[::-1]
    step = unit if missing > 0 else -unit
    for turn in range(abs(missing)):
        floors[order[turn % len(order)]] += step
    return floors


# ---- owners and lines ---------------------------------------------------------------------------------------------

Owner = namedtuple('Owner', 'kind key name state')
SYSTEM = 'system'
TENANT = 'tenant'
UNALLOCATED = 'unallocated'


def system_owner(name):
    return Owner(SYSTEM, None, name, 'active')


def tenant_owner(key, name, deleted=False):
    """A tenant; a deleted one (no longer in the tenant list, samples still in the history) is named
    ``tenant <$key> (deleted)`` unless a name is known."""
    if deleted and not name:
        name = 'tenant %s (deleted)' % key
    return Owner(TENANT, key, name, 'deleted' if deleted else 'active')


def unallocated_owner(system_name):
    return Owner(UNALLOCATED, None, 'Unallocated', 'active')


UsageLine = namedtuple('UsageLine', 'owner metric start end quantity')
PricedLine = namedtuple('PricedLine', 'owner metric start end quantity unit_price amount')


# ---- charge periods -------------------------------------------------------------------------------------------------

GRANULARITIES = (None, 'hour', 'day', 'week', 'month')


def edges(start, end, granularity=None, zone=None):
    """The boundaries of the charge periods of [start, end): ``[start, b1, ..., end]``.

    ``granularity`` None: one charge period (the whole billing period); ``hour``: every UTC hour (a zone with a
    half-hour offset gets a half hour at each end); ``day`` / ``week`` / ``month``: the local calendar of ``zone``
    (DST days are 23 or 25 hours). No charge period crosses the billing period.
    """
    if granularity not in GRANULARITIES:
        raise ValueError('charge_period must be one of %s, got %r' % (', '.join(g for g in GRANULARITIES if g), granularity))
    if end <= start:
        return [start, start]
    out = [start]
    if granularity == 'hour':
        point = (start // HOUR + 1) * HOUR
        while point < end:
            out.append(point)
            point += HOUR
    elif granularity is not None:
        point = start
        while True:
            _label, _first, following = calendar_bucket(point, granularity, zone)
            if following >= end:
                break
            out.append(following)
            point = following
    out.append(end)
    return out


# ---- metering -------------------------------------------------------------------------------------------------------

class Anomalies:
    """Values the engine counted as 0: negative counters, null or missing ones. ``message()`` says how many rows,
    which fields and the first few keys (nothing is dropped without a word)."""

    SHOW = 5

    def __init__(self):
        self.rows = {}  # kind -> set of (source, key)
        self.fields = {}  # kind -> set of fields
        self.first = {}  # kind -> first keys, in the order met

    def note(self, kind, source, key, field):
        rows = self.rows.setdefault(kind, set())
        if (source, key) not in rows:
            rows.add((source, key))
            first = self.first.setdefault(kind, [])
            if len(first) < self.SHOW:
                first.append('%s %s' % (source, key))
        self.fields.setdefault(kind, set()).add(field)

    def __bool__(self):
        return bool(self.rows)

    __nonzero__ = __bool__

    def messages(self):
        out = []
        for kind, what in (('negative', 'negative values'), ('null', 'null or missing values')):
            if kind not in self.rows:
                continue
            count = len(self.rows[kind])
            out.append('%d row(s) had %s, each counted as 0 (%s): %s%s' % (
                count, what, ', '.join(sorted(self.fields[kind])), ', '.join(self.first[kind]),
                ' and %d more' % (count - len(self.first[kind])) if count > len(self.first[kind]) else ''))
        return out


def level(value, source, key, field, anomalies):
    """A measured level as a number: null/missing and negative count as 0 and are noted in ``anomalies``."""
    if value is None:
        anomalies.note('null', source, key, field)
        return 0
    if value < 0:
        anomalies.note('negative', source, key, field)
        return 0
    return value


class Meter:
    """Usage lines of one billing period [start, end), split at ``bounds`` (``edges()``), per owner and metric.

    ``add(owner, begin, finish, levels)`` meters one measurement: each metric's level held from ``begin`` to
    ``finish`` (epoch seconds). The part inside the billing period is split at the charge-period boundaries and
    each piece adds level x seconds / 3600 to its line. Quantities are summed with math.fsum at the end, so the
    order of the measurements does not change a figure.
    """

    def __init__(self, bounds):
        self.bounds = list(bounds)
        self.start, self.end = self.bounds[0], self.bounds[-1]
        self.parts = OrderedDict()  # (owner, metric, index) -> [value x seconds, ...]
        self.seconds = OrderedDict()  # (owner, index) -> [seconds measured, ...]
        self.owners = OrderedDict()

    def _pieces(self, begin, finish):
        """(index, seconds) of each charge period the interval [begin, finish) overlaps inside the billing period."""
        begin, finish = max(begin, self.start), min(finish, self.end)
        if finish <= begin:
            return []
        bounds = self.bounds
        low, high = 0, len(bounds) - 1
        while high - low > 1:  # the charge period holding begin
            middle = (low + high) // 2
            if bounds[middle] <= begin:
                low = middle
            else:
                high = middle
        out = []
        index = low
        while begin < finish:
            stop = min(finish, bounds[index + 1])
            if stop > begin:
                out.append((index, stop - begin))
            begin = stop
            index += 1
        return out

    def add(self, owner, begin, finish, levels):
        """Meter ``levels`` (metric -> level, already clean) held over [begin, finish). Returns the seconds inside."""
        pieces = self._pieces(begin, finish)
        self.owners.setdefault(owner, True)
        inside = 0
        for index, seconds in pieces:
            inside += seconds
            self.seconds.setdefault((owner, index), []).append(seconds)
            for metric, value in levels.items():
                self.parts.setdefault((owner, metric, index), []).append(value * seconds)
        return inside

    def add_columns(self, owner, begins, finishes, levels):
        """``add`` for many measurements at once, column by column: ``begins``/``finishes`` one a measurement, ``levels``
        metric -> one clean level a measurement. The same parts as ``add`` on each (value x seconds, in a list that
        math.fsum sums), grouped by charge period first so each metric's products are made by one ``map``."""
        self.owners.setdefault(owner, True)
        groups = OrderedDict()  # index -> ([measurement, ...], [seconds, ...])
        pieces = self._pieces
        for row, (begin, finish) in enumerate(zip(begins, finishes)):
            for index, seconds in pieces(begin, finish):
                found = groups.get(index)
                if found is None:
                    found = groups[index] = ([], [])
                found[0].append(row)
                found[1].append(seconds)
        for index, (rows, seconds) in groups.items():
            self.seconds.setdefault((owner, index), []).extend(seconds)
            for metric, column in levels.items():
                self.parts.setdefault((owner, metric, index), []).extend(map(operator.mul, [column[row] for row in rows], seconds))

    def lines(self):
        """Every UsageLine, by owner (in the order first met), metric (METRICS order), then time."""
        order = dict((name, position) for position, name in enumerate(METRIC_NAMES))
        owners = dict((owner, position) for position, owner in enumerate(self.owners))
        keys = sorted(self.parts, key=lambda item: (owners[item[0]], order[item[1]], item[2]))
        return [UsageLine(owner, metric, self.bounds[index], self.bounds[index + 1], math.fsum(self.parts[(owner, metric, index)]) / HOUR)
                for owner, metric, index in keys]

    def hours(self, owner):
        """The hours of the period for which ``owner`` has measurements."""
        return math.fsum(math.fsum(values) for (who, _index), values in self.seconds.items() if who == owner) / HOUR


def unallocated(system_lines, tenant_lines, owner):
    """Per metric the system measures and per charge period: the system's quantity minus the tenants' (the
    provider's own workloads and what no tenant pays for). May be negative: tenants billed more than the system
    measured (the caller warns). Tenant metrics the system does not measure (IP addresses) have no Unallocated."""
    tenants = {}
    for line in tenant_lines:
        tenants.setdefault((line.metric, line.start, line.end), []).append(line.quantity)
    out = []
    for line in system_lines:
        rest = line.quantity - math.fsum(tenants.get((line.metric, line.start, line.end), ()))
        out.append(UsageLine(owner, line.metric, line.start, line.end, rest))
    return out


# ---- pricing --------------------------------------------------------------------------------------------------------

def price(lines, card):
    """THE cost formula: each line's amount = quantity x the card's unit price of its metric (exact, unrounded)."""
    return [PricedLine(line.owner, line.metric, line.start, line.end, line.quantity, card.price_of(line.metric),
                       line.quantity * card.price_of(line.metric)) for line in lines]


def price_quantities(metric, quantities, card):
    """``price`` for a column of quantities of one metric (a page of records): the amounts, the same product."""
    unit_price = card.price_of(metric)
    return [quantity * unit_price for quantity in quantities]


BillLine = namedtuple('BillLine', 'metric label quantity quantity_unit unit_price amount exact')


class Bill:
    """What one owner is billed for a period: one line per metric (quantities summed over the charge periods), each
    amount rounded to the card's precision; ``total`` is the sum of the rounded lines it shows; ``exact`` the fsum of
    the unrounded amounts (what a FOCUS export sums to)."""

    def __init__(self, owner, priced, card, metrics=METRIC_NAMES):
        self.owner = owner
        self.currency = card.currency
        self.precision = card.precision
        by_metric = OrderedDict((name, []) for name in metrics)
        for line in priced:
            if line.owner == owner and line.metric in by_metric:
                by_metric[line.metric].append(line)
        self.lines = []
        for name, found in by_metric.items():
            if not found:
                continue
            metric = METRIC[name]
            exact = math.fsum(line.amount for line in found)
            self.lines.append(BillLine(name, metric.label, math.fsum(line.quantity for line in found), metric.quantity_unit,
                                       card.price_of(name), money(exact, card.precision), exact))
        self.total = sum((line.amount for line in self.lines), Decimal(0).quantize(Decimal(1).scaleb(-card.precision)))
        self.exact = math.fsum(line.exact for line in self.lines)

    def as_dict(self):
        """Plain data for JSON and Ansible results: amounts as strings of the rounded Decimal, exact amounts as floats."""
        return dict(
            owner=dict(self.owner._asdict()), currency=self.currency, precision=self.precision,
            lines=[dict(metric=line.metric, label=line.label, quantity=line.quantity, quantity_unit=line.quantity_unit,
                        unit_price=line.unit_price, amount=str(line.amount), exact=line.exact) for line in self.lines],
            total=str(self.total), exact=self.exact,
        )


# ---- sources --------------------------------------------------------------------------------------------------------

MB_PER_GB = 1024
BYTES_PER_GB = 1024 ** 3
# metric -> (raw billing-record field, divisor to the metric's unit): the system's usage as a record measures it.
RECORD_LEVELS = OrderedDict([('cores', ('used_cores', 1)), ('ram', ('used_ram', MB_PER_GB))] + [
    ('tier%d' % tier, ('tier_%d_used' % tier, BYTES_PER_GB)) for tier in TIERS] + [('gpus', ('gpus', 1)), ('vgpus', ('vgpus', 1))])
# The raw fields the engine reads of a billing record.
RECORD_FIELDS = ('$key', 'from', 'to') + tuple(field for field, _divisor in RECORD_LEVELS.values())


def plain_counters(column, low):
    """Whether a column of raw values is plain integers in ``low``..MAX_COUNTER (no conversion, nothing to note)."""
    return bool(column) and set(map(type, column)) == _JUST_INT and low <= min(column) and max(column) <= MAX_COUNTER


_JUST_INT = frozenset([int])


def meter_records(meter, owner, rows, anomalies, number):
    """``meter_record`` over a page of raw records, column by column: the same lines, anomalies and conversion notes.

    Pages of plain integer counters (every real page) are metered as columns (``Meter.add_columns``); a page with any
    null, negative, string or out-of-range value goes record by record through ``meter_record``, so its notes come in
    the order a record-by-record reading makes them."""
    columns = _plain_page(rows)
    if columns is None:
        for raw in rows:
            meter_record(meter, owner, raw, anomalies, number)
        return
    meter.add_columns(owner, *columns)


def _plain_page(rows):
    """(begins, finishes, metric -> levels) of the records with a usable interval, or None when any value the engine
    reads needs a conversion or a note."""
    begins = [raw.get('from') for raw in rows]
    finishes = [raw.get('to') for raw in rows]
    if not (plain_counters(begins, -MAX_COUNTER) and plain_counters(finishes, -MAX_COUNTER)):
        return None
    usable = [row for row, (begin, finish) in enumerate(zip(begins, finishes)) if begin > 0 and finish > begin]
    levels = OrderedDict()
    for metric, (field, divisor) in RECORD_LEVELS.items():
        column = [rows[row].get(field) for row in usable]
        if usable and not plain_counters(column, 0):
            return None
        levels[metric] = [value / divisor for value in column] if divisor != 1 else column
    return [begins[row] for row in usable], [finishes[row] for row in usable], levels


def meter_record(meter, owner, raw, anomalies, number):
    """Meter one raw billing record: its usage held from ``from`` to ``to``. ``number(value, field)`` is the
    collection's counter conversion (``_records.to_int`` with its problem notes); a record without a usable
    interval (``from``/``to`` 0, missing, or ``to`` <= ``from``) covers no known time and adds nothing."""
    key = raw.get('$key')
    begin, finish = number(raw.get('from'), 'from'), number(raw.get('to'), 'to')
    if begin <= 0 or finish <= begin:
        return 0
    levels = {}
    for metric, (field, divisor) in RECORD_LEVELS.items():
        value = raw.get(field)
        value = level(None if value is None else number(value, field), 'record', key, field, anomalies)
        levels[metric] = value / divisor if divisor != 1 else value
    return meter.add(owner, begin, finish, levels)
