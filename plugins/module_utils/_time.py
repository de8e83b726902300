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

# ASCII digits only: Python's \d also matches other scripts' digits, which no user means as a time.
_RELATIVE = re.compile(r'^-\s*([0-9]{1,15})\s*([smhdw])$')
_DURATION = re.compile(r'^([0-9]{1,15}(?:\.[0-9]{1,15})?)\s*([smhdw]?)$')
_NUMBER = re.compile(r'^[0-9]+(\.[0-9]+)?$')
_DATE = re.compile(r'^[0-9]{4}-[0-9]{2}-[0-9]{2}$')
# Unix epochs beyond the year 9999 are not times.
MAX_EPOCH = 253402300799


def parse_time(value, option, now=None, end_of_day=False):
    """Epoch seconds (int) for a user time; raises ValueError naming ``option`` and the accepted forms."""
    now = int(time.time()) if now is None else now
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ValueError('%s: %s is not a time; use %s' % (option, _show(value), TIME_FORMS))
    if isinstance(value, (int, float)):
        return _epoch(value, option)
    text = str(value).strip()
    lowered = text.lower()
    if lowered == 'now':
        return now
    match = _RELATIVE.match(lowered)
    if match:
        return _epoch(now - int(match.group(1)) * UNITS[match.group(2)], option, text)
    if _NUMBER.match(text):
        return _epoch(float(text), option)
    if _DATE.match(text):
        try:
            day = datetime.strptime(text, '%Y-%m-%d').replace(tzinfo=UTC)
        except ValueError as exc:
            raise ValueError('%s: %s is not a valid date (%s); use %s' % (option, _show(text), exc, TIME_FORMS))
        if end_of_day:
            day += timedelta(days=1, seconds=-1)
        return _epoch(day.timestamp(), option, text)
    iso = text[:-1] + '+00:00' if text[-1:] in ('Z', 'z') else text
    try:
        moment = datetime.fromisoformat(iso)
    except ValueError:
        raise ValueError('%s: %s is not a time; use %s' % (option, _show(text), TIME_FORMS))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    try:
        stamp = moment.timestamp()
    except (OverflowError, OSError, ValueError):  # a date near year 1 or 9999 with an offset beyond it
        raise ValueError('%s: %s is out of range for a time; use %s' % (option, _show(text), TIME_FORMS))
    return _epoch(stamp, option, text)


def _epoch(number, option, shown=None):
    """``number`` as int epoch seconds; ValueError when it is NaN, before 1970 or after the year 9999."""
    if (isinstance(number, float) and math.isnan(number)) or number < 0 or number > MAX_EPOCH:
        raise ValueError('%s: %s is out of range for a time (1970 to 9999); use %s'
                         % (option, _show(number if shown is None else shown), TIME_FORMS))
    return int(number)


def _show(value):
    """A user's value for a message, bounded in length."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10 ** 30:
        return 'an integer of about %d digits' % int(value.bit_length() * 0.30103 + 1)
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + '...'


def parse_duration(value, option):
    """Seconds (int) for a duration; raises ValueError naming ``option``."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ValueError('%s: %s is not a duration; use %s' % (option, _show(value), DURATION_FORMS))
    if isinstance(value, (int, float)):
        if (isinstance(value, float) and math.isnan(value)) or value < 0 or value > MAX_EPOCH:
            raise ValueError('%s: %s is out of range; use %s' % (option, _show(value), DURATION_FORMS))
        return int(value)
    text = value.strip().lower()
    match = _DURATION.match(text)
    if not match:
        raise ValueError('%s: %s is not a duration; use %s' % (option, _show(value), DURATION_FORMS))
    seconds = float(match.group(1)) * UNITS[match.group(2) or 's']
    if seconds > MAX_EPOCH:
        raise ValueError('%s: %s is too long; use %s' % (option, _show(value), DURATION_FORMS))
    return int(seconds)


def iso_utc(epoch):
    """ISO 8601 UTC string for epoch seconds (None for None)."""
    if epoch is None:
        return None
    return datetime.fromtimestamp(epoch, UTC).isoformat()
