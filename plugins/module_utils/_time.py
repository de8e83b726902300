# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vergeio.billing contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Times and durations as users write them, turned into UTC epoch seconds.

Accepted time forms (``since``/``until``):
- Unix epoch seconds: ``1735689600`` (int, float or digits in a string);
- ISO 8601 date: ``2026-10-01``. As ``since`` it is 00:00:00 UTC of that day; as
  ``until`` it is 23:59:59 UTC of that day, so ``since: 2026-10-01, until:
  2026-10-31`` covers the whole of October (both bounds are inclusive);
- ISO 8601 date and time: ``2026-10-01T12:00:00Z``, ``2026-10-01 12:00``,
  ``2026-10-01T12:00:00+02:00``. A time without an offset is UTC (the reference
  SDK reads it as the controller's local time; we do not: billing is UTC);
- relative to now: ``now``, ``-30d``, ``-12h``, ``-90m``, ``-45s``, ``-2w``.

Durations (``min_interval``): seconds (``3600``) or ``30s``, ``30m``, ``12h``, ``7d``, ``2w``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import math
import re
import time
from datetime import datetime, timedelta, timezone

UTC = timezone.utc
UNITS = {'s': 1, 'm': 60, 'h': 3600, 'd': 86400, 'w': 604800}
TIME_FORMS = ("Unix epoch seconds (1735689600), an ISO 8601 date (2026-10-01) or date and time "
              "(2026-10-01T12:00:00Z; no offset means UTC), 'now', or a relative time like -30d, -12h, -90m, -45s, -2w")
DURATION_FORMS = 'seconds (3600) or a number with a unit: 30s, 30m, 12h, 7d, 2w'

_RELATIVE = re.compile(r'^-\s*(\d+)\s*([smhdw])$')
_DURATION = re.compile(r'^(\d+(?:\.\d+)?)\s*([smhdw]?)$')
_NUMBER = re.compile(r'^\d+(\.\d+)?$')
_DATE = re.compile(r'^\d{4}-\d{2}-\d{2}$')
# Unix epochs beyond the year 9999 are not times.
MAX_EPOCH = 253402300799


def parse_time(value, option, now=None, end_of_day=False):
    """Epoch seconds (int) for a user time; raises ValueError naming ``option`` and the accepted forms."""
    now = int(time.time()) if now is None else now
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueError('%s: %r is not a time; use %s' % (option, value, TIME_FORMS))
    if isinstance(value, (int, float)):
        return _epoch(value, option)
    text = str(value).strip()
    lowered = text.lower()
    if lowered == 'now':
        return now
    match = _RELATIVE.match(lowered)
    if match:
        return now - int(match.group(1)) * UNITS[match.group(2)]
    if _NUMBER.match(text):
        return _epoch(float(text), option)
    if _DATE.match(text):
        try:
            day = datetime.strptime(text, '%Y-%m-%d').replace(tzinfo=UTC)
        except ValueError as exc:
            raise ValueError('%s: %r is not a valid date (%s); use %s' % (option, text, exc, TIME_FORMS))
        if end_of_day:
            day += timedelta(days=1, seconds=-1)
        return int(day.timestamp())
    iso = text[:-1] + '+00:00' if text[-1:] in ('Z', 'z') else text
    try:
        moment = datetime.fromisoformat(iso)
    except ValueError:
        raise ValueError('%s: %r is not a time; use %s' % (option, text, TIME_FORMS))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return _epoch(moment.timestamp(), option)


def _epoch(number, option):
    if math.isnan(number) or number < 0 or number > MAX_EPOCH:  # NaN, negative or beyond year 9999
        raise ValueError('%s: %r is out of range for a time; use %s' % (option, number, TIME_FORMS))
    return int(number)


def parse_duration(value, option):
    """Seconds (int) for a duration; raises ValueError naming ``option``."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueError('%s: %r is not a duration; use %s' % (option, value, DURATION_FORMS))
    text = str(value).strip().lower()
    match = _DURATION.match(text)
    if not match:
        raise ValueError('%s: %r is not a duration; use %s' % (option, value, DURATION_FORMS))
    seconds = float(match.group(1)) * UNITS[match.group(2) or 's']
    if seconds > MAX_EPOCH:
        raise ValueError('%s: %r is too long; use %s' % (option, value, DURATION_FORMS))
    return int(seconds)


def iso_utc(epoch):
    """ISO 8601 UTC string for epoch seconds (None for None)."""
    if epoch is None:
        return None
    return datetime.fromtimestamp(epoch, UTC).isoformat()
