# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vergeio.billing contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The one place where a raw VergeOS billing record becomes the record users see.

Every property of the reference SDK's ``BillingRecord`` (pyvergeos
``resources/billing.py``) is one row of ``FIELDS``: output name, raw API field,
converter. Names and units are the reference's:

- ``*_ram``/``*_ram_gb``: the API gives MB; GB = MB / 1024.
- ``phys_*_used``, ``tierN_*``: the API gives bytes; GB = bytes / 1024**3.
- timestamps: Unix epoch seconds (UTC). ``created``/``from_time``/``to_time``/``sent``
  are ISO 8601 UTC strings (``2025-01-03T01:00:14+00:00``), null when 0 or absent;
  ``*_epoch`` are the integers (0 when absent), except ``sent_epoch``, below.

Where the reference has bugs we differ, on purpose:
- a null counter is 0 (the reference crashes on ``int(None)``);
- a number sent as a string (``"36"``, ``"36.0"``) is converted (the reference
  crashes on ``"36.0"``); a value that is no number at all becomes 0 and its
  field is reported, never a traceback;
- a null ``description`` is ``""`` (the reference returns the string ``"None"``);
- ``sent`` and ``sent_epoch`` agree: both null when the record was not sent (the API
  gives 0, null or nothing) or its value is no time (noted), both set otherwise. The
  reference has ``sent`` None but ``sent_epoch`` 0 (and crashes on a null). ``sent`` is
  the one time a real record may lack; ``created``/``from``/``to`` keep 0 for arithmetic.
Integers are truncated toward zero like the reference's ``int()``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from datetime import datetime, timezone

from ansible.module_utils.common.text.converters import to_text

from ansible_collections.vergeio.billing.plugins.module_utils._time import iso_in

UTC = timezone.utc

MB_PER_GB = 1024
BYTES_PER_GB = 1024 ** 3
TIERS = range(6)
# Larger magnitudes (beyond 8 EiB in bytes) are not real counters: they become 0 and are reported.
MAX_COUNTER = 2 ** 63


class ConversionProblems(list):
    """Collects ``field: raw value`` notes for values that could not be converted (they became 0/None)."""

    def note(self, field, value):
        if len(self) < 50:
            self.append('%s=%r' % (field, to_text(value)[:40] if isinstance(value, str) else value))


def to_int(value, field=None, problems=None):
    """A counter: int, float (truncated), numeric string; None/missing/'' -> 0; anything else -> 0 and noted."""
    if value is None:
        return 0
    if isinstance(value, bool):
        return int(value)
    try:
        if isinstance(value, int):
            number = value
        elif isinstance(value, float):
            number = int(value)
        else:
            text = to_text(value).strip()
            if not text:
                return 0
            try:
                number = int(text)
            except ValueError:
                number = int(float(text))
        if abs(number) > MAX_COUNTER:
            raise OverflowError(field)
        return number
    except (TypeError, ValueError, OverflowError):
        if problems is not None:
            problems.note(field, value)
        return 0


def to_iso(epoch):
    """ISO 8601 UTC for a record's epoch integer; None for 0 (the reference's falsy check) or out of range.

    The record fields' reading of _time.iso_in (which formats every time, in any zone).
    """
    if not epoch:
        return None
    try:
        return iso_in(epoch)
    except (OverflowError, ValueError, OSError):
        return None


def to_description(value, field=None, problems=None):
    if value is None:
        return ''
    return to_text(value)


def ratio_pct(used, total):
    """Utilization percent, 0.0 when total is 0 (as the reference)."""
    if total == 0:
        return 0.0
    return (used / total) * 100


# output name, raw API field, converter.
# "int": to_int; "mb": MB integer; "bytes": bytes integer; "epoch": epoch integer; "text": description.
# Each "mb"/"bytes" field also yields "<name>_gb"; each "epoch" field yields its ISO string and "<iso name>_epoch"
# (for a name in OPTIONAL_TIMES, null whenever the ISO string is: not set, or no time).
FIELDS = (
    ('key', '$key', 'int'),
    ('created', 'created', 'epoch'),
    ('from_time', 'from', 'epoch'),
    ('to_time', 'to', 'epoch'),
    ('sent', 'sent', 'epoch'),
    ('description', 'description', 'text'),
    ('used_cores', 'used_cores', 'int'),
    ('total_cores', 'total_cores', 'int'),
    ('online_cores', 'online_cores', 'int'),
    ('phys_total_cpu', 'phys_total_cpu', 'int'),
    ('total_nodes', 'total_nodes', 'int'),
    ('online_nodes', 'online_nodes', 'int'),
    ('running_machines', 'running_machines', 'int'),
    ('used_ram', 'used_ram', 'mb'),
    ('total_ram', 'total_ram', 'mb'),
    ('online_ram', 'online_ram', 'mb'),
    ('phys_ram_used', 'phys_ram_used', 'bytes'),
    ('phys_vram_used', 'phys_vram_used', 'bytes'),
) + tuple(
    ('tier%d_%s' % (tier, kind), 'tier_%d_%s' % (tier, kind), 'bytes') for tier in TIERS for kind in ('used', 'total')
) + (
    ('gpus_total', 'gpus_total', 'int'),
    ('gpus_used', 'gpus', 'int'),
    ('gpus_idle', 'gpus_idle', 'int'),
    ('vgpus_total', 'vgpus_total', 'int'),
    ('vgpus_used', 'vgpus', 'int'),
    ('vgpus_idle', 'vgpus_idle', 'int'),
    ('workload_datapoints', 'workload_datapoints', 'int'),
    ('storage_datapoints', 'storage_datapoints', 'int'),
)

# Raw field names, in the reference's order: what a full record request asks the server for.
RAW_FIELDS = tuple(raw for _name, raw, _kind in FIELDS)

# Times a real record may lack (a record not sent yet): the epoch is null whenever the ISO string is, so the two agree.
OPTIONAL_TIMES = frozenset(['sent'])

# Epoch output names: created -> created_epoch, from_time -> from_epoch (the reference's names).
EPOCH_NAMES = {'created': 'created_epoch', 'from_time': 'from_epoch', 'to_time': 'to_epoch', 'sent': 'sent_epoch'}


def convert_fields(raw_record, fields, problems=None, epoch_names=None, optional=()):
    """THE conversion of raw API values, for billing records and tenant samples alike (``fields``: rows of output
    name, raw field, kind). "int": to_int; "mb": MB integer plus ``*_gb`` (the name without ``_mb``, + ``_gb``);
    "bytes": bytes integer plus ``<name>_gb``; "epoch": ISO 8601 UTC (null for 0) plus the epoch integer under
    ``epoch_names[name]`` (default ``<name>_epoch``), null too for a name in ``optional`` whose ISO string is null;
    "text": text, null as ''."""
    out = {}
    epoch_names = epoch_names or {}
    for name, raw, kind in fields:
        value = raw_record.get(raw)
        if kind == 'text':
            out[name] = to_description(value)
        elif kind == 'epoch':
            epoch = to_int(value, raw, problems)
            iso = to_iso(epoch)
            if epoch and iso is None and problems is not None:
                problems.note(raw, value)
            out[name] = iso
            out[epoch_names.get(name, name + '_epoch')] = None if iso is None and name in optional else epoch
        else:
            number = to_int(value, raw, problems)
            out[name] = number
            if kind == 'mb':
                out[(name[:-3] if name.endswith('_mb') else name) + '_gb'] = number / MB_PER_GB
            elif kind == 'bytes':
                out[name + '_gb'] = number / BYTES_PER_GB
    return out


def convert_record(raw_record, problems=None):
    """The full converted record: every property of the reference BillingRecord, same names and units."""
    return add_derived(convert_fields(raw_record, FIELDS, problems, EPOCH_NAMES, OPTIONAL_TIMES))


def add_derived(out):
    """The reference's computed properties: storage totals across tiers and the four utilization percentages."""
    out['total_storage_used'] = sum(out['tier%d_used' % tier] for tier in TIERS)
    out['total_storage_used_gb'] = out['total_storage_used'] / BYTES_PER_GB
    out['total_storage_total'] = sum(out['tier%d_total' % tier] for tier in TIERS)
    out['total_storage_total_gb'] = out['total_storage_total'] / BYTES_PER_GB
    out['cpu_utilization_pct'] = ratio_pct(out['used_cores'], out['total_cores'])
    out['ram_utilization_pct'] = ratio_pct(out['used_ram'], out['total_ram'])
    out['gpu_utilization_pct'] = ratio_pct(out['gpus_used'], out['gpus_total'])
    out['vgpu_utilization_pct'] = ratio_pct(out['vgpus_used'], out['vgpus_total'])
    return out


def convert_columns(rows, problems=None, zone=None, times=True):
    """convert_record over a list of raw records, column by column: output name -> list of values, one a record.

    The same values as convert_record (a unit test checks), computed a field at a time: for pages of thousands of
    records this is several times faster. ISO times carry the offset of ``zone`` (None: UTC, as convert_record);
    ``times=False`` leaves them out where it can (a third of the work; the ``*_epoch`` columns are always there).
    A column holding anything but plain integers in range (numbers as strings, nulls, junk, times beyond the year
    9999; null is 0, as in to_int) sends the whole list through convert_record instead, so its values and the order of its conversion notes
    are exactly convert_record's.
    """
    out = {}
    for name, raw, kind in FIELDS:
        values = [row.get(raw) for row in rows]
        if kind == 'text':
            out[name] = ['' if value is None else value if value.__class__ is str else to_text(value) for value in values]
            continue
        types = set(map(type, values))
        if types == _INT_OR_NONE:  # a null counter is 0, as to_int has it (and it is no conversion problem)
            values = [0 if value is None else value for value in values]
        elif values and types != _JUST_INT:
            return _slow_columns(rows, problems, zone)
        if values and (min(values) < 0 or max(values) > (MAX_EPOCH if kind == 'epoch' else MAX_COUNTER)):
            return _slow_columns(rows, problems, zone)
        if kind == 'epoch':
            if times:
                out[name] = [datetime.fromtimestamp(epoch, zone or UTC).isoformat() if epoch else None for epoch in values]
            out[EPOCH_NAMES[name]] = [epoch or None for epoch in values] if name in OPTIONAL_TIMES else values
            continue
        out[name] = values
        if kind == 'mb':
            out[name + '_gb'] = [number / MB_PER_GB for number in values]
        elif kind == 'bytes':
            out[name + '_gb'] = [number / BYTES_PER_GB for number in values]
    used = [out['tier%d_used' % tier] for tier in TIERS]
    total = [out['tier%d_total' % tier] for tier in TIERS]
    out['total_storage_used'] = [a + b + c + d + e + f for a, b, c, d, e, f in zip(*used)] if rows else []
    out['total_storage_used_gb'] = [number / BYTES_PER_GB for number in out['total_storage_used']]
    out['total_storage_total'] = [a + b + c + d + e + f for a, b, c, d, e, f in zip(*total)] if rows else []
    out['total_storage_total_gb'] = [number / BYTES_PER_GB for number in out['total_storage_total']]
    for name, part, whole in _PERCENTAGES:
        out[name] = [(a / b) * 100 if b else 0.0 for a, b in zip(out[part], out[whole])]
    return out


_JUST_INT = frozenset([int])
_INT_OR_NONE = frozenset([int, type(None)])
# Unix epochs beyond the year 9999 have no ISO form.
MAX_EPOCH = 253402300799
_PERCENTAGES = (('cpu_utilization_pct', 'used_cores', 'total_cores'), ('ram_utilization_pct', 'used_ram', 'total_ram'),
                ('gpu_utilization_pct', 'gpus_used', 'gpus_total'), ('vgpu_utilization_pct', 'vgpus_used', 'vgpus_total'))


def _slow_columns(rows, problems, zone):
    records = [convert_record(row, problems) for row in rows]
    names = output_names()
    out = dict((name, [record[name] for record in records]) for name in names)
    if zone is not None:
        for name, epoch_name in EPOCH_NAMES.items():
            out[name] = [datetime.fromtimestamp(epoch, zone).isoformat() if iso else None for iso, epoch in zip(out[name], out[epoch_name])]
    return out


def output_names():
    """Every key of a converted record, in order (for docs, CSV headers and tests)."""
    sample = convert_record({})
    return list(sample.keys())
