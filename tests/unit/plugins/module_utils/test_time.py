# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vergeio.billing contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""parse_time / parse_duration / iso_in against calendar.timegm and hand-written values."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import calendar
from datetime import date, timedelta

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from ansible_collections.vergeio.billing.plugins.module_utils._time import iso_in, parse_duration, parse_time

NOW = 1735866014  # 2025-01-03T01:00:14Z
MAX_EPOCH = 253402300799  # 9999-12-31T23:59:59Z
DAY = 86400


def exactly(value, cls):
    """isinstance, except that a bool is no int here."""
    return isinstance(value, cls) and not isinstance(value, bool)


def utc(*fields):
    """Epoch of a UTC calendar time, from the standard library's own arithmetic."""
    return calendar.timegm(tuple(fields) + (0,) * (6 - len(fields)))


# ---------------------------------------------------------------------------------------------------------------
# parse_time: accepted forms


@pytest.mark.parametrize('value, expected', [
    (1735689600, 1735689600),
    (0, 0),
    (1735689600.9, 1735689600),
    ('1735689600', 1735689600),
    (' 1735689600 ', 1735689600),
    ('1735689600.75', 1735689600),
    (MAX_EPOCH, MAX_EPOCH),
])
def test_epoch_forms(value, expected):
    result = parse_time(value, 'since', now=NOW)
    assert result == expected and exactly(result, int)


@pytest.mark.parametrize('text, fields', [
    ('2026-10-01', (2026, 10, 1)),
    ('2024-02-29', (2024, 2, 29)),
    ('1970-01-01', (1970, 1, 1)),
    ('9999-12-31', (9999, 12, 31)),
])
def test_dates_since_is_start_and_until_is_end_of_day(text, fields):
    assert parse_time(text, 'since', now=NOW) == utc(*fields)
    assert parse_time(text, 'until', now=NOW, end_of_day=True) == utc(*(fields + (23, 59, 59)))


def test_documented_october_range():
    # the module docs: since 2026-10-01 and until 2026-10-31 cover the whole of October, bounds inclusive
    assert parse_time('2026-10-01', 'since') == 1790812800
    assert parse_time('2026-10-31', 'until', end_of_day=True) == 1793491199 == utc(2026, 11, 1) - 1


@pytest.mark.parametrize('text, expected', [
    ('2026-10-01T12:00:00Z', utc(2026, 10, 1, 12)),
    ('2026-10-01T12:00:00z', utc(2026, 10, 1, 12)),
    ('2026-10-01T12:00:00+00:00', utc(2026, 10, 1, 12)),
    ('2026-10-01T12:00:00+02:00', utc(2026, 10, 1, 10)),
    ('2026-10-01T12:00:00-05:30', utc(2026, 10, 1, 17, 30)),
    ('2026-10-01T00:30:00+01:00', utc(2026, 9, 30, 23, 30)),
    ('2026-10-01T12:00:00', utc(2026, 10, 1, 12)),  # naive means UTC, not local time
    ('2026-10-01 12:00', utc(2026, 10, 1, 12)),
    ('2026-10-01T12:00:30.999', utc(2026, 10, 1, 12, 0, 30)),
    ('2025-01-03T01:00:14+00:00', NOW),
])
def test_datetimes(text, expected):
    assert parse_time(text, 'since', now=NOW) == expected
    # end_of_day only applies to a date alone
    assert parse_time(text, 'until', now=NOW, end_of_day=True) == expected


def test_naive_times_do_not_depend_on_the_local_timezone(monkeypatch):
    import time
    if not hasattr(time, 'tzset'):
        pytest.skip('no time.tzset on this platform')
    try:
        for zone in ('America/New_York', 'Asia/Kolkata', 'UTC'):
            monkeypatch.setenv('TZ', zone)
            time.tzset()
            assert parse_time('2026-10-01T12:00:00', 'since') == utc(2026, 10, 1, 12)
            assert parse_time('2026-10-01', 'since') == utc(2026, 10, 1)
    finally:
        monkeypatch.undo()
        time.tzset()


@pytest.mark.parametrize('text, delta', [
    ('now', 0), ('NOW', 0), (' Now ', 0),
    ('-30d', 30 * DAY), ('-12h', 12 * 3600), ('-90m', 90 * 60), ('-45s', 45), ('-2w', 14 * DAY),
    ('-0d', 0), ('-1D', DAY), ('- 3 h', 3 * 3600),
])
def test_relative_times(text, delta):
    assert parse_time(text, 'since', now=NOW) == NOW - delta
    assert parse_time(text, 'until', now=NOW, end_of_day=True) == NOW - delta


def test_now_defaults_to_the_clock():
    import time
    before = int(time.time())
    result = parse_time('now', 'since')
    assert before <= result <= int(time.time()) + 1
    assert abs(parse_time('-1h', 'since') - (before - 3600)) <= 2


def test_none_is_none():
    assert parse_time(None, 'since') is None
    assert parse_duration(None, 'min_interval') is None


# ---------------------------------------------------------------------------------------------------------------
# parse_time: rejections


@pytest.mark.parametrize('value', [
    'yesterday', '', '   ', 'next week', '+30d', '30d', '-30y', '-d', '2026-13-01', '2026-02-30', '2026-10-01T25:00',
    '1e10', '0x10', '-1', -1, -0.5, float('nan'), float('inf'), MAX_EPOCH + 1, str(MAX_EPOCH + 1), 10 ** 20,
    True, False, '2026-10-01T12:00:00+25:00',
])
@pytest.mark.parametrize('option', ['since', 'until'])
def test_bad_times_raise_a_value_error_naming_the_option(value, option):
    with pytest.raises(ValueError) as excinfo:
        parse_time(value, option, now=NOW, end_of_day=(option == 'until'))
    message = str(excinfo.value)
    assert message.startswith(option + ':'), message
    # the message tells the user what is accepted
    assert '-30d' in message and '2026-10-01' in message, message
    assert 'Traceback' not in message


def test_bad_time_message_quotes_the_value():
    with pytest.raises(ValueError) as excinfo:
        parse_time('the day before yesterday', 'until')
    assert 'the day before yesterday' in str(excinfo.value)


@pytest.mark.parametrize('value', [
    '-99999999999w',  # now - 6e16 s: no time at all (iso_in of it raises OSError, a traceback in the module)
    '-999999999d',
])
def test_relative_times_are_range_checked_like_every_other_form(value):
    with pytest.raises(ValueError) as excinfo:
        parse_time(value, 'since', now=NOW)
    assert str(excinfo.value).startswith('since:')


@pytest.mark.parametrize('value', ['1969-12-31', '0001-01-01'])
def test_dates_before_1970_are_rejected_like_negative_epochs(value):
    # parse_time(-1) and parse_time('1969-12-31T23:59:59Z') are rejected as out of range; a date alone must be too
    with pytest.raises(ValueError) as excinfo:
        parse_time('1969-12-31T23:59:59Z', 'since', now=NOW)
    assert 'out of range' in str(excinfo.value)
    with pytest.raises(ValueError) as excinfo:
        parse_time(value, 'since', now=NOW)
    assert str(excinfo.value).startswith('since:')


# ---------------------------------------------------------------------------------------------------------------
# parse_time: properties


@settings(max_examples=200, deadline=None, database=None)
@given(st.one_of(
    st.text(max_size=40),
    st.text(alphabet='0123456789-+:.TZz WwDdHhMmSs', max_size=30),
    st.from_regex(r'\A-?\s*\d{1,25}\s*[smhdwy]?\Z'),
    st.from_regex(r'\A\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2})?([+-]\d{2}:\d{2}|Z)?)?\Z'),
    st.integers(), st.floats(),
))
def test_parse_time_raises_only_value_error_and_returns_a_time(value):
    try:
        result = parse_time(value, 'until', now=NOW, end_of_day=True)
    except ValueError as exc:
        assert str(exc).startswith('until:')
        return
    assert exactly(result, int)
    assert 0 <= result <= MAX_EPOCH, (value, result)


@settings(max_examples=200, deadline=None, database=None)
@given(st.integers(min_value=0, max_value=MAX_EPOCH))
def test_epoch_round_trips(epoch):
    assert parse_time(epoch, 'since') == epoch
    assert parse_time(str(epoch), 'since') == epoch
    text = iso_in(epoch)
    assert parse_time(text, 'since') == epoch
    assert parse_time(text.replace('+00:00', 'Z'), 'since') == epoch
    assert parse_time(text.replace('+00:00', ''), 'since') == epoch


@settings(max_examples=200, deadline=None, database=None)
@given(st.dates(min_value=date(1970, 1, 1), max_value=date(9999, 12, 31)))
def test_any_date(day):
    start = (day - date(1970, 1, 1)).days * DAY
    assert parse_time(day.isoformat(), 'since') == start
    assert parse_time(day.isoformat(), 'until', end_of_day=True) == start + DAY - 1


@settings(max_examples=200, deadline=None, database=None)
@given(st.integers(min_value=0, max_value=10 ** 6), st.sampled_from([('s', 1), ('m', 60), ('h', 3600), ('d', DAY), ('w', 7 * DAY)]),
       st.integers(min_value=10 ** 9, max_value=2 * 10 ** 9))
def test_any_relative_time(amount, unit, now):
    letter, seconds = unit
    assume(amount * seconds <= now)  # further back than 1970 is test_relative_times_are_range_checked_like_every_other_form
    assert parse_time('-%d%s' % (amount, letter), 'since', now=now) == now - amount * seconds


# ---------------------------------------------------------------------------------------------------------------
# parse_duration


@pytest.mark.parametrize('value, expected', [
    (3600, 3600), ('3600', 3600), ('0', 0), (90.5, 90), ('30s', 30), ('30m', 1800), ('12h', 43200), ('7d', 604800),
    ('2w', 1209600), ('1.5h', 5400), (' 12 H ', 43200), ('10 m', 600),
])
def test_parse_duration(value, expected):
    result = parse_duration(value, 'min_interval')
    assert result == expected and exactly(result, int)


@pytest.mark.parametrize('value', ['', 'abc', '-5m', '-1', '5y', '5 minutes', 'h', '1e3', True, False, -3, float('nan'),
                                   '99999999999w', '1.5.5h'])
def test_bad_durations(value):
    with pytest.raises(ValueError) as excinfo:
        parse_duration(value, 'min_interval')
    message = str(excinfo.value)
    assert message.startswith('min_interval:'), message
    assert '30m' in message and '12h' in message


@settings(max_examples=200, deadline=None, database=None)
@given(st.integers(min_value=0, max_value=10 ** 12), st.sampled_from([('', 1), ('s', 1), ('m', 60), ('h', 3600), ('d', DAY), ('w', 7 * DAY)]))
def test_any_duration(amount, unit):
    letter, seconds = unit
    text = '%d%s' % (amount, letter)
    if amount * seconds > MAX_EPOCH:
        with pytest.raises(ValueError):
            parse_duration(text, 'min_interval')
    else:
        assert parse_duration(text, 'min_interval') == amount * seconds


@settings(max_examples=200, deadline=None, database=None)
@given(st.one_of(st.text(max_size=20), st.integers(), st.floats()))
def test_parse_duration_raises_only_value_error(value):
    try:
        result = parse_duration(value, 'min_interval')
    except ValueError as exc:
        assert str(exc).startswith('min_interval:')
        return
    assert exactly(result, int) and result >= 0


# ---------------------------------------------------------------------------------------------------------------
# iso_in


@pytest.mark.parametrize('epoch, expected', [
    (None, None),
    (0, '1970-01-01T00:00:00+00:00'),
    (1735866014, '2025-01-03T01:00:14+00:00'),
    (1790812800, '2026-10-01T00:00:00+00:00'),
    (1793491199, '2026-10-31T23:59:59+00:00'),
    (MAX_EPOCH, '9999-12-31T23:59:59+00:00'),
])
def test_iso_in(epoch, expected):
    assert iso_in(epoch) == expected


@settings(max_examples=200, deadline=None, database=None)
@given(st.integers(min_value=0, max_value=MAX_EPOCH))
def test_iso_in_is_the_calendar_time(epoch):
    moment = date(1970, 1, 1) + timedelta(days=epoch // DAY)
    rest = epoch % DAY
    assert iso_in(epoch) == '%sT%02d:%02d:%02d+00:00' % (moment.isoformat(), rest // 3600, rest % 3600 // 60, rest % 60)
