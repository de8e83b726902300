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

Calendars (``timezone``): an IANA zone name (``Europe/Berlin``), read with the standard library's ``zoneinfo``
(the system's tz database). The zone sets the calendar of a date alone (its first second, or with ``end_of_day``
its last), of a naive date and time (wall-clock time in that zone), of a ``month`` and of day/week/month buckets.
A day is the time between two local midnights: 23 or 25 hours on a DST change day. A wall-clock time that a DST
change skips (02:30 on a spring-forward day in Europe/Berlin) or repeats (02:30 on a fall-back day) is refused
with a message showing the offsets to choose from: a bill must not depend on a silent guess. Epoch seconds,
relative times and times with an offset mean the same instant in every zone. The default zone is UTC.

Durations (``min_interval``): seconds (``3600``) or ``30s``, ``30m``, ``12h``, ``7d``, ``2w``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import math
import re
import time
from datetime import date, datetime, timedelta, timezone

try:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError
except ImportError:  # pragma: no cover - Python 3.8 and older; module code needs 3.9+
    ZoneInfo = None
    ZoneInfoNotFoundError = KeyError

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
_MONTH = re.compile(r'^([0-9]{4})-([0-9]{1,2})$')
_ZONE_NAME = re.compile(r'^[A-Za-z0-9_+-]+(/[A-Za-z0-9_+-]+)*$')
ZONE_FORMS = "an IANA time zone name like UTC, Europe/Berlin or America/New_York"
GROUPS = ('day', 'week', 'month')
# Unix epochs beyond the year 9999 are not times.
MAX_EPOCH = 253402300799


def parse_time(value, option, now=None, end_of_day=False, zone=None):
    """Epoch seconds (int) for a user time; raises ValueError naming ``option`` and the accepted forms.

    ``zone`` (a tzinfo from get_zone(); None is UTC) is the calendar of a date alone and of a naive date and time.
    """
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
            day = datetime.strptime(text, '%Y-%m-%d').date()
        except ValueError as exc:
            raise ValueError('%s: %s is not a valid date (%s); use %s' % (option, _show(text), exc, TIME_FORMS))
        try:
            if end_of_day:
                return _epoch(day_start(day + timedelta(days=1), zone) - 1, option, text)
            return _epoch(day_start(day, zone), option, text)
        except OverflowError:  # 9999-12-31 has no next day: its end is the last second this module accepts
            return _epoch(min(day_start(day, zone) + 86399, MAX_EPOCH), option, text)
    iso = text[:-1] + '+00:00' if text[-1:] in ('Z', 'z') else text
    try:
        moment = datetime.fromisoformat(iso)
    except ValueError:
        raise ValueError('%s: %s is not a time; use %s' % (option, _show(text), TIME_FORMS))
    if moment.tzinfo is None:
        moment = _wall_time(moment, zone, option, text)
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


def get_zone(name, option='timezone'):
    """The tzinfo of an IANA zone name (None or '' is UTC); ValueError naming ``option`` when it is unknown."""
    if name is None or (isinstance(name, str) and not name.strip()):
        return UTC
    if not isinstance(name, str):
        raise ValueError('%s: %s is not a time zone; use %s' % (option, _show(name), ZONE_FORMS))
    text = name.strip()
    if text.upper() in ('UTC', 'Z', 'ETC/UTC'):
        return UTC
    if ZoneInfo is None:  # pragma: no cover
        raise ValueError('%s: time zones other than UTC need Python 3.9 or later (zoneinfo)' % option)
    # zoneinfo reads files named by the key: refuse anything that is no plain zone name (no '..', no absolute path)
    if len(text) > 100 or not _ZONE_NAME.match(text) or '..' in text:
        raise ValueError('%s: %s is not a time zone; use %s' % (option, _show(name), ZONE_FORMS))
    try:
        return ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError, OSError, UnicodeError):
        raise ValueError('%s: unknown time zone %s (not in the tz database of this Python); use %s'
                         % (option, _show(name), ZONE_FORMS))


def zone_name(zone):
    """The name of a zone from get_zone() (``UTC`` for UTC)."""
    return 'UTC' if zone is None or zone is UTC else str(getattr(zone, 'key', zone))


def _wall_time(naive, zone, option, text):
    """A naive datetime read as wall-clock time in ``zone``; refuses times a DST change skips or repeats."""
    if zone is None or zone is UTC:
        return naive.replace(tzinfo=UTC)
    first, second = naive.replace(tzinfo=zone, fold=0), naive.replace(tzinfo=zone, fold=1)
    if first.utcoffset() == second.utcoffset():
        return first
    try:
        round_trip = datetime.fromtimestamp(first.timestamp(), zone).replace(tzinfo=None)
    except (OverflowError, OSError, ValueError):
        raise ValueError('%s: %s is out of range for a time; use %s' % (option, _show(text), TIME_FORMS))
    offsets = ' or '.join(_offset(moment) for moment in (first, second))
    if round_trip != naive:
        raise ValueError('%s: %s does not exist in %s (a daylight saving change skips it); give a time with an '
                         'offset (%s) or another time' % (option, _show(text), zone_name(zone), offsets))
    raise ValueError('%s: %s happens twice in %s (a daylight saving change repeats it); give the offset you mean: %s'
                     % (option, _show(text), zone_name(zone), offsets))


def _offset(moment):
    minutes = int(moment.utcoffset().total_seconds() // 60)
    sign = '-' if minutes < 0 else '+'
    return '%s%02d:%02d' % (sign, abs(minutes) // 60, abs(minutes) % 60)


def _local_date(epoch, zone):
    return datetime.fromtimestamp(epoch, zone or UTC).date()


def day_start(day, zone=None):
    """Epoch of the first second of the local calendar ``day`` (a date) in ``zone``: its midnight, or, when a DST
    change skips midnight, the first wall-clock time the day has. Raises OverflowError past the year 9999."""
    zone = zone or UTC
    naive = datetime(day.year, day.month, day.day)
    if zone is UTC:
        return int(naive.replace(tzinfo=UTC).timestamp())
    candidates = sorted(set(int(naive.replace(tzinfo=zone, fold=fold).timestamp()) for fold in (0, 1)))
    for epoch in candidates:
        if _local_date(epoch, zone) >= day and _local_date(epoch - 1, zone) < day:
            return epoch
    # A DST change that skips midnight but does not start at it (a gap from 23:30 to 00:30): search the instant.
    low = int(naive.replace(tzinfo=UTC).timestamp()) - 27 * 3600  # no zone is more than 26 hours from UTC
    high = low + 54 * 3600
    while low < high:
        middle = (low + high) // 2
        if _local_date(middle, zone) >= day:
            high = middle
        else:
            low = middle + 1
    return low


def calendar_bucket(epoch, group_by, zone=None):
    """(label, start epoch, end epoch exclusive) of the local day / ISO week (from Monday) / month holding ``epoch``.

    Labels: ``2026-10-25``, ``2026-W43``, ``2026-10``. Raises ValueError for an unknown ``group_by``, and
    ValueError/OverflowError/OSError for an epoch no calendar can hold.
    """
    today = _local_date(epoch, zone)
    if group_by == 'day':
        first, following = today, today + timedelta(days=1)
        label = first.strftime('%Y-%m-%d')
    elif group_by == 'week':
        first = today - timedelta(days=today.weekday())
        following = first + timedelta(days=7)
        year, week = first.isocalendar()[:2]
        label = '%04d-W%02d' % (year, week)
    elif group_by == 'month':
        first = today.replace(day=1)
        following = (first + timedelta(days=32)).replace(day=1)
        label = first.strftime('%Y-%m')
    else:
        raise ValueError('group_by must be one of %s, got %r' % (', '.join(GROUPS), group_by))
    return label, day_start(first, zone), day_start(following, zone)


def month_range(month, zone=None, option='month', now=None):
    """(label, first epoch, last epoch inclusive) of a calendar month in ``zone``; ValueError naming ``option``.

    ``month`` is ``YYYY-MM``, or ``previous`` / ``current``: the month before / holding ``now`` (default: the clock) on
    the zone's calendar, so a job scheduled early on the 1st in Europe/Berlin, still the 30th or 31st in UTC, reports
    the month that has just ended there.
    """
    text = '' if month is None else str(month).strip()
    relative = text.lower()
    if relative in ('previous', 'current'):
        today = _local_date(int(time.time()) if now is None else now, zone)
        first = today.replace(day=1)
        if relative == 'previous':
            first = (first - timedelta(days=1)).replace(day=1)
        text = first.strftime('%Y-%m')
    match = _MONTH.match(text)
    if not match or not 1 <= int(match.group(2)) <= 12 or not 1970 <= int(match.group(1)) <= 9999:
        raise ValueError('%s must be a calendar month like 2026-10 (YYYY-MM, 1970 to 9999), previous or current, got %s'
                         % (option, _show(month)))
    first = date(int(match.group(1)), int(match.group(2)), 1)
    start = day_start(first, zone)
    if first.year == 9999 and first.month == 12:
        end = MAX_EPOCH
    else:
        end = day_start((first + timedelta(days=32)).replace(day=1), zone) - 1
    return first.strftime('%Y-%m'), max(start, 0), min(end, MAX_EPOCH)


def iso_in(epoch, zone=None):
    """ISO 8601 for epoch seconds with the offset of ``zone`` (UTC: ``+00:00``); None for None."""
    if epoch is None:
        return None
    return datetime.fromtimestamp(epoch, zone or UTC).isoformat()
