# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vergeio.billing contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Calendars in a time zone: days, weeks, months and user times against a brute-force reference.

The reference walks the time line second by second (after a coarse walk by minutes) and asks the standard
library for the wall-clock date of each instant: it knows nothing of midnights, folds or offsets, so it is
independent of the code under test. The zones are chosen for their DST rules: Europe/Berlin (02:00 -> 03:00,
03:00 -> 02:00), America/New_York, America/Santiago (midnight is skipped and repeated), Australia/Lord_Howe
(30-minute DST), Pacific/Chatham (+12:45/+13:45), Asia/Kolkata (no DST, +05:30) and UTC.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from datetime import date, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.vergeio.billing.plugins.module_utils._summary import Summary
from ansible_collections.vergeio.billing.plugins.module_utils._time import (
    calendar_bucket, get_zone, iso_in, month_range, parse_time,
)

ZONES = ('Europe/Berlin', 'America/New_York', 'America/Santiago', 'Australia/Lord_Howe', 'Pacific/Chatham',
         'Asia/Kolkata', 'UTC')
# DST changes of 2025-2027 in these zones, so the generated instants land near them often
TRANSITIONS = (
    1774746000, 1792890000,  # Europe/Berlin 2026-03-29 01:00Z, 2026-10-25 01:00Z
    1772953200, 1793512800,  # America/New_York 2026-03-08 07:00Z, 2026-11-01 06:00Z
    1775358000, 1788667200,  # America/Santiago 2026-04-05 03:00Z, 2026-09-06 04:00Z
    1775318400, 1791043200,  # Australia/Lord_Howe 2026-04-04 15:00Z, 2026-10-03 15:30Z (about)
)
HOUR = 3600


def wall_date(epoch, zone):
    return datetime.fromtimestamp(epoch, zone).date()


def brute_first_second(day, zone, near):
    """The first instant whose wall-clock date is ``day``, found by walking from ``near`` (any instant within 2 days)."""
    t = near
    while wall_date(t, zone) >= day:  # walk back by minutes until before the day
        t -= 60
    while wall_date(t, zone) < day:  # walk forward by minutes into it
        t += 60
    t -= 60
    while wall_date(t, zone) < day:  # then by seconds
        t += 1
    return t


def brute_bucket(epoch, group_by, zone):
    """Reference (label, start, end) from wall-clock dates alone."""
    today = wall_date(epoch, zone)
    if group_by == 'day':
        first, following, label = today, today + timedelta(days=1), today.isoformat()
    elif group_by == 'week':
        first = today - timedelta(days=today.weekday())
        following = first + timedelta(days=7)
        label = '%04d-W%02d' % first.isocalendar()[:2]
    else:
        first = today.replace(day=1)
        following = date(first.year + first.month // 12, first.month % 12 + 1, 1)
        label = first.strftime('%Y-%m')
    start = brute_first_second(first, zone, epoch - (today - first).days * 86400)
    end = brute_first_second(following, zone, epoch + (following - today).days * 86400)
    return label, start, end


near_transition = st.builds(lambda base, delta: base + delta, st.sampled_from(TRANSITIONS), st.integers(-3 * 86400, 3 * 86400))


@settings(max_examples=150, deadline=None)
@given(epoch=st.one_of(near_transition, st.integers(0, 4102444800)), zone_name=st.sampled_from(ZONES),
       group_by=st.sampled_from(('day', 'week', 'month')))
def test_buckets_equal_the_brute_force_reference(epoch, zone_name, group_by):
    zone = get_zone(zone_name)
    label, start, end = calendar_bucket(epoch, group_by, zone)
    assert (label, start, end) == brute_bucket(epoch, group_by, zone)
    assert start <= epoch < end
    assert calendar_bucket(end, group_by, zone)[1] == end  # buckets tile the time line


@settings(max_examples=100, deadline=None)
@given(epoch=near_transition, zone_name=st.sampled_from(ZONES))
def test_dates_alone_mean_the_local_day(epoch, zone_name):
    zone = get_zone(zone_name)
    day = wall_date(epoch, zone)
    start = parse_time(day.isoformat(), 'since', zone=zone)
    last = parse_time(day.isoformat(), 'until', zone=zone, end_of_day=True)
    assert start == brute_first_second(day, zone, epoch)
    assert last + 1 == brute_first_second(day + timedelta(days=1), zone, epoch + 86400)
    assert wall_date(start, zone) == day == wall_date(last, zone)


@pytest.mark.parametrize('zone_name, day, hours', [
    ('Europe/Berlin', '2026-03-29', 23),
    ('Europe/Berlin', '2026-10-25', 25),
    ('Europe/Berlin', '2026-10-24', 24),
    ('America/New_York', '2026-03-08', 23),
    ('America/New_York', '2026-11-01', 25),
    ('America/Santiago', '2026-04-04', 25),  # midnight repeated: 2026-04-05 00:00 -03 is 2026-04-04 23:00 -04
    ('America/Santiago', '2026-09-06', 23),  # midnight skipped: the day starts at 01:00
    ('Australia/Lord_Howe', '2026-04-05', 24.5),
    ('UTC', '2026-03-29', 24),
])
def test_dst_days_have_23_or_25_hours(zone_name, day, hours):
    zone = get_zone(zone_name)
    start = parse_time(day, 'since', zone=zone)
    last = parse_time(day, 'until', zone=zone, end_of_day=True)
    assert (last + 1 - start) / HOUR == hours


def test_october_2026_in_berlin():
    zone = get_zone('Europe/Berlin')
    label, since, until = month_range('2026-10', zone)
    utc = timezone.utc
    assert label == '2026-10'
    assert datetime.fromtimestamp(since, utc).isoformat() == '2026-09-30T22:00:00+00:00'
    assert datetime.fromtimestamp(until, utc).isoformat() == '2026-10-31T22:59:59+00:00'
    assert iso_in(since, zone) == '2026-10-01T00:00:00+02:00'
    assert iso_in(until, zone) == '2026-10-31T23:59:59+01:00'
    assert parse_time('2026-10-01', 'since', zone=zone) == since
    assert parse_time('2026-10-31', 'until', zone=zone, end_of_day=True) == until


def test_naive_times_are_wall_clock_times_of_the_zone():
    zone = get_zone('Europe/Berlin')
    assert parse_time('2026-07-01T12:00:00', 'since', zone=zone) == parse_time('2026-07-01T10:00:00Z', 'since')
    assert parse_time('2026-12-01 12:00', 'since', zone=zone) == parse_time('2026-12-01T11:00:00Z', 'since')
    # offsets, epochs and relative times mean the same instant in every zone
    assert parse_time('2026-07-01T12:00:00+05:00', 'since', zone=zone) == parse_time('2026-07-01T07:00:00Z', 'since')
    assert parse_time(1790805600, 'since', zone=zone) == 1790805600
    assert parse_time('-1h', 'since', now=1790805600, zone=zone) == 1790805600 - HOUR


@pytest.mark.parametrize('text, words', [
    ('2026-03-29 02:30', ['does not exist in Europe/Berlin', '+01:00 or +02:00']),
    ('2026-10-25T02:30:00', ['happens twice in Europe/Berlin', '+02:00 or +01:00']),
])
def test_skipped_and_repeated_wall_times_are_refused(text, words):
    with pytest.raises(ValueError) as caught:
        parse_time(text, 'until', zone=get_zone('Europe/Berlin'))
    message = str(caught.value)
    assert message.startswith('until: ')
    for word in words:
        assert word in message


@pytest.mark.parametrize('name', ['Mars/Olympus', 'Europe', '../../etc/passwd', '/etc/localtime', 42, ['UTC']])
def test_unknown_zones_fail_naming_the_option(name):
    with pytest.raises(ValueError) as caught:
        get_zone(name, 'timezone')
    assert str(caught.value).startswith('timezone: ')


@pytest.mark.parametrize('name', [None, '', 'UTC', 'utc', 'Etc/UTC'])
def test_utc_spellings(name):
    assert get_zone(name) is timezone.utc


@pytest.mark.parametrize('month', ['2026-13', '2026-1-1', 'October', '1969-12', '', None])
def test_bad_months(month):
    with pytest.raises(ValueError) as caught:
        month_range(month)
    assert str(caught.value).startswith('month must be a calendar month like 2026-10 (YYYY-MM, 1970 to 9999), previous or current')


def test_summary_periods_follow_the_zone():
    """Records every hour of the DST-end day in Berlin: 25 of them land in the local day 2026-10-25."""
    zone = get_zone('Europe/Berlin')
    start = parse_time('2026-10-24', 'since', zone=zone)
    rows = [{'$key': n + 1, 'created': start + n * HOUR + 1800, 'from': start + n * HOUR, 'to': start + (n + 1) * HOUR,
             'used_cores': 1, 'total_cores': 2} for n in range(24 + 25 + 24)]
    summary = Summary(group_by='day', zone=zone)
    summary.add_rows(rows)
    periods = summary.result()['periods']
    assert [(p['period'], p['record_count'], p['hours']) for p in periods] == [
        ('2026-10-24', 24, 24.0), ('2026-10-25', 25, 25.0), ('2026-10-26', 24, 24.0)]
    assert periods[1]['start'] == '2026-10-25T00:00:00+02:00' and periods[1]['end'] == '2026-10-26T00:00:00+01:00'


@pytest.mark.parametrize('now, zone_name, previous, current', [
    (1793487600, 'Europe/Berlin', '2026-10', '2026-11'),  # 2026-10-31T23:00Z: already 1 November in Berlin
    (1793487600, 'UTC', '2026-09', '2026-10'),
    (1767225599, 'UTC', '2025-11', '2025-12'),  # 2025-12-31T23:59:59Z
    (1767225600, 'UTC', '2025-12', '2026-01'),  # across the year
    (1767225600, 'America/New_York', '2025-11', '2025-12'),  # still 31 December there
])
def test_previous_and_current_months_on_the_zone_calendar(now, zone_name, previous, current):
    zone = get_zone(zone_name)
    for word, expected in (('previous', previous), ('current', current), (' Previous ', previous)):
        label, since, until = month_range(word, zone, now=now)
        assert (label, since, until) == month_range(expected, zone)
        assert wall_date(since, zone).strftime('%Y-%m') == expected == wall_date(until, zone).strftime('%Y-%m')
