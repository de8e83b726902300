# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vergeio.billing contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The billing_period filter: calendar months and since/until ranges, checked against datetime arithmetic."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible.errors import AnsibleFilterError

from ansible_collections.vergeio.billing.plugins.filter.billing_period import FilterModule, billing_period

UTC = timezone.utc
NOW = int(datetime(2026, 11, 27, 7, 12, 30, tzinfo=UTC).timestamp())


def epoch(*args):
    return int(datetime(*args, tzinfo=UTC).timestamp())


def first_of_next_month(year, month):
    return datetime(year + 1, 1, 1, tzinfo=UTC) if month == 12 else datetime(year, month + 1, 1, tzinfo=UTC)


def test_registered_name():
    assert FilterModule().filters() == {'billing_period': billing_period}


@pytest.mark.parametrize('month, first, last', [
    ('2026-10', (2026, 10, 1), (2026, 10, 31, 23, 59, 59)),
    ('2026-02', (2026, 2, 1), (2026, 2, 28, 23, 59, 59)),
    ('2028-02', (2028, 2, 1), (2028, 2, 29, 23, 59, 59)),  # leap year
    ('2100-02', (2100, 2, 1), (2100, 2, 28, 23, 59, 59)),  # not a leap year
    ('2026-12', (2026, 12, 1), (2026, 12, 31, 23, 59, 59)),
    ('2026-1', (2026, 1, 1), (2026, 1, 31, 23, 59, 59)),
])
def test_month(month, first, last):
    period = billing_period({'month': month}, now=NOW)
    assert period['since_epoch'] == epoch(*first)
    assert period['until_epoch'] == epoch(*last)
    assert period['since'] == datetime(*first, tzinfo=UTC).isoformat()
    assert period['until'] == datetime(*last, tzinfo=UTC).isoformat()
    assert period['label'] == period['month'] == '%04d-%02d' % first[:2]


@settings(max_examples=300, deadline=None, database=None)
@given(st.integers(1970, 3000), st.integers(1, 12))
def test_every_month_ends_one_second_before_the_next(year, month):
    period = billing_period({'month': '%04d-%02d' % (year, month), 'since': None, 'until': ''})
    assert period['since_epoch'] == int(datetime(year, month, 1, tzinfo=UTC).timestamp())
    assert period['until_epoch'] == int(first_of_next_month(year, month).timestamp()) - 1


def test_since_until_dates_cover_whole_days():
    period = billing_period({'since': '2026-10-01', 'until': '2026-10-15'}, now=NOW)
    assert period['since_epoch'] == epoch(2026, 10, 1)
    assert period['until_epoch'] == epoch(2026, 10, 15, 23, 59, 59)
    assert period['label'] == '2026-10-01_2026-10-15'
    assert period['month'] is None


def test_times_that_are_not_day_bounds_are_in_the_label():
    period = billing_period({'since': '2026-10-01T06:30:00Z', 'until': epoch(2026, 10, 2, 12)}, now=NOW)
    assert period['since_epoch'] == epoch(2026, 10, 1, 6, 30)
    assert period['until_epoch'] == epoch(2026, 10, 2, 12)
    assert period['label'] == '20261001T063000Z_20261002T120000Z'


def test_relative_since_and_open_end_use_now():
    period = billing_period({'since': '-30d'}, now=NOW)
    assert period['since_epoch'] == NOW - 30 * 86400
    assert period['until_epoch'] == NOW
    assert period['until'] == datetime.fromtimestamp(NOW, UTC).isoformat()
    assert period['label'] == '20261028T071230Z_20261127T071230Z'


def test_yaml_dates_are_accepted():
    """An unquoted date in YAML arrives as a datetime.date."""
    day = datetime(2026, 10, 1, tzinfo=UTC).date()
    period = billing_period({'since': day, 'until': day + timedelta(days=6)}, now=NOW)
    assert (period['since_epoch'], period['until_epoch']) == (epoch(2026, 10, 1), epoch(2026, 10, 7, 23, 59, 59))


@pytest.mark.parametrize('value, message', [
    ({'month': '2026-10', 'since': '2026-10-01'}, 'cannot be combined'),
    ({'month': '2026-10', 'until': '2026-10-31'}, 'cannot be combined'),
    ({}, 'give the report period'),
    ({'month': None, 'since': None, 'until': '2026-10-01'}, 'give the report period'),
    ({'month': '2026-13'}, 'calendar month'),
    ({'month': '26-10'}, 'calendar month'),
    ({'month': 'October'}, 'calendar month'),
    ({'month': '1969-12'}, 'calendar month'),
    ({'since': '2026-10-31', 'until': '2026-10-01'}, 'after until'),
    ({'since': 'yesterday'}, 'since'),
    ({'since': '2026-10-01', 'until': 'soon'}, 'until'),
    ({'month': '2026-10', 'day': 3}, 'unknown key'),
])
def test_errors_name_what_to_fix(value, message):
    with pytest.raises(AnsibleFilterError, match=message):
        billing_period(value, now=NOW)


def test_not_a_dict():
    with pytest.raises(AnsibleFilterError, match='expects a dict'):
        billing_period('2026-10')
