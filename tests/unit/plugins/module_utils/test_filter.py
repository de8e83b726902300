# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vergeio.billing contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""build_filter (time range + user filter) and filter_fields (fields a user filter needs in ``fields``)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.vergeio.billing.plugins.module_utils._billing import build_filter, filter_fields

# Every raw billing field (docs/design.md, "Facts about the VergeOS API"), written out here.
RAW = (['$key', 'created', 'from', 'to', 'sent', 'description', 'used_cores', 'total_cores', 'online_cores', 'phys_total_cpu',
        'total_nodes', 'online_nodes', 'running_machines', 'used_ram', 'total_ram', 'online_ram', 'phys_ram_used',
        'phys_vram_used']
       + ['tier_%d_%s' % (tier, kind) for tier in range(6) for kind in ('used', 'total')]
       + ['gpus_total', 'gpus', 'gpus_idle', 'vgpus_total', 'vgpus', 'vgpus_idle', 'workload_datapoints', 'storage_datapoints'])


@pytest.mark.parametrize('kwargs, expected', [
    (dict(), None),
    (dict(user_filter=''), None),
    (dict(user_filter='   '), None),
    (dict(since=1735689600), 'created ge 1735689600'),
    (dict(until=1738368000), 'created le 1738368000'),
    (dict(since=1735689600, until=1738368000), 'created ge 1735689600 and created le 1738368000'),
    (dict(since=0), 'created ge 0'),
    (dict(until=0), 'created le 0'),
    (dict(user_filter='used_cores gt 40'), '(used_cores gt 40)'),
    (dict(user_filter='  used_cores gt 40 '), '(used_cores gt 40)'),
    (dict(user_filter='a eq 1 or b eq 2', since=5), '(a eq 1 or b eq 2) and created ge 5'),
    (dict(user_filter="description ct 'monthly'", since=1790812800, until=1793491199),
     "(description ct 'monthly') and created ge 1790812800 and created le 1793491199"),
    (dict(user_filter='used_cores gt 40', since=1790812800, until=1793491199),
     '(used_cores gt 40) and created ge 1790812800 and created le 1793491199'),  # the module's RETURN sample
])
def test_build_filter(kwargs, expected):
    assert build_filter(**kwargs) == expected


def test_a_user_or_cannot_escape_the_time_range():
    query = build_filter(100, 200, 'used_cores gt 40 or gpus gt 0')
    head, tail = query.split(') and ', 1)
    assert head == '(used_cores gt 40 or gpus gt 0' and tail == 'created ge 100 and created le 200'


@settings(max_examples=200, deadline=None, database=None)
@given(st.one_of(st.none(), st.integers(min_value=0, max_value=253402300799)),
       st.one_of(st.none(), st.integers(min_value=0, max_value=253402300799)),
       st.one_of(st.none(), st.text(alphabet=st.characters(blacklist_characters='()'), max_size=30)))
def test_build_filter_property(since, until, user_filter):
    parts = []
    if user_filter is not None and user_filter.strip():
        parts.append('(' + user_filter.strip() + ')')
    if since is not None:
        parts.append('created ge ' + str(since))
    if until is not None:
        parts.append('created le ' + str(until))
    expected = ' and '.join(parts) if parts else None
    assert build_filter(since, until, user_filter) == expected


@pytest.mark.parametrize('user_filter, expected', [
    (None, ()),
    ('', ()),
    ('used_cores gt 40', ('used_cores',)),
    ('used_cores gt 40 and tier_0_used gt 5', ('tier_0_used', 'used_cores')),
    ('(gpus gt 0 or vgpus gt 0) and gpus_total eq 4', ('gpus', 'gpus_total', 'vgpus')),
    ('$key eq 36', ('$key',)),
    ('from ge 1735689600 and to le 1738368000', ('from', 'to')),
    ('created ge 5', ('created',)),
    ("description ct 'used_cores'", ('description',)),
    ('description ct "tier_1_used and gpus"', ('description',)),
    ("description eq 'it\\'s used_ram' and used_cores gt 1", ('description', 'used_cores')),
    ('used_cores gt 4 and used_cores lt 10', ('used_cores',)),
    ('unknown_field eq 1 and xused_cores eq 2', ()),
    ('used_cores_x gt 1', ()),
])
def test_filter_fields(user_filter, expected):
    assert filter_fields(user_filter) == expected


@settings(max_examples=200, deadline=None, database=None)
@given(st.lists(st.sampled_from(RAW), min_size=1, max_size=5),
       st.lists(st.sampled_from(RAW), max_size=3),
       st.sampled_from(['and', 'or']))
def test_filter_fields_property(fields, quoted, joiner):
    clauses = ['%s gt %d' % (field, number) for number, field in enumerate(fields)]
    clauses += ["description ct '%s'" % ' '.join(quoted)]
    result = filter_fields((' %s ' % joiner).join(clauses))
    assert result == tuple(sorted(set(fields) | set(['description'])))
    assert all(field in RAW for field in result)


@pytest.mark.parametrize('user_filter', [
    'used_cores gt 0) or (created ge 0',
    'a or (b',
    '(a))',
    ')(',
    "description eq 'x' )",
])
def test_unbalanced_filter_cannot_escape_the_range(user_filter):
    with pytest.raises(ValueError, match='^filter: its parentheses do not balance'):
        build_filter(1, 2, user_filter)


@pytest.mark.parametrize('user_filter', ["description ct '(x'", 'description ct ")"', '((a) or (b))'])
def test_parentheses_inside_quotes_or_balanced_are_accepted(user_filter):
    assert build_filter(1, 2, user_filter) == '(%s) and created ge 1 and created le 2' % user_filter
