# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vergeio.billing contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The sources of the rating engine (_usage.Usage) against the simulator over HTTPS, checked by a brute force that
walks the simulator's own rows second range by second range (no collection code computes the expected figures)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import sys
from datetime import datetime, timezone
from fractions import Fraction

import pytest

from conftest import API_KEY, COLLECTIONS  # pylint: disable=import-error
from simulator.vergeos_sim import Simulator, make_tenant_data  # pylint: disable=import-error

sys.path.insert(0, COLLECTIONS)

from ansible_collections.vergeio.billing.plugins.module_utils._client import Auth, VergeClient  # noqa: E402
from ansible_collections.vergeio.billing.plugins.module_utils._rating import (  # noqa: E402
    Meter, edges, system_owner,
)
from ansible_collections.vergeio.billing.plugins.module_utils._time import get_zone, month_range  # noqa: E402
from ansible_collections.vergeio.billing.plugins.module_utils._usage import Usage  # noqa: E402

BERLIN = get_zone('Europe/Berlin')
END = int(datetime(2026, 11, 1, 3, tzinfo=timezone.utc).timestamp())
GIB = 1024 ** 3


@pytest.fixture(scope='module', name='sim')
def fixture_sim():
    with Simulator(records=34 * 24, seed=5, end=END, quirks=False) as server:
        data = make_tenant_data(3, seed=5, end=END, days=33, quirks=False, gaps=False)
        server.set_tenant_data(data)
        yield server


def client_for(sim):
    return VergeClient('https://%s' % sim.host, Auth('api_key', 'the test', api_key=API_KEY), verify=sim.ca_path)


def october():
    _label, start, last = month_range('2026-10', BERLIN)
    return start, last + 1


def overlap(begin, finish, start, end):
    return max(0, min(finish, end) - max(begin, start))


def test_system_usage_is_the_prorated_records_of_october_in_berlin(sim):
    start, end = october()
    assert end - start == 745 * 3600
    meter = Meter(edges(start, end, 'day', BERLIN))
    owner = system_owner('east')
    usage = Usage(client_for(sim))
    read = usage.system(meter, owner)
    lines = meter.lines()
    expected_cores = Fraction(0)
    expected_ram = Fraction(0)
    expected_tier1 = Fraction(0)
    overlapping = 0
    for raw in sim.records:
        seconds = overlap(int(raw['from']), int(raw['to']), start, end)
        if seconds:
            overlapping += 1
        expected_cores += Fraction(int(raw['used_cores']) * seconds, 3600)
        expected_ram += Fraction(int(raw['used_ram']) * seconds, 3600 * 1024)
        expected_tier1 += Fraction(int(raw['tier_1_used']) * seconds, 3600 * GIB)
    assert read == overlapping == 745
    got = dict((metric, sum(Fraction(line.quantity) for line in lines if line.metric == metric)) for metric in ('cores', 'ram', 'tier1'))
    assert abs(got['cores'] - expected_cores) < Fraction(1, 10 ** 6)
    assert abs(got['ram'] - expected_ram) < Fraction(1, 10 ** 6)
    assert abs(got['tier1'] - expected_tier1) < Fraction(1, 10 ** 6)
    assert meter.hours(owner) == 745
    # the first and last charge periods are the local first and last day of October
    assert lines[0].start == start and max(line.end for line in lines) == end
    assert not usage.messages()


def brute_tenant(rows, start, end, field, divisor):
    """One tenant's quantity: each sample stands for the time to the next (capped at twice the median gap), the newest
    for the median gap; only what lies in [start, end) counts."""
    stamps = sorted((int(row['timestamp']), int(row['$key']), row) for row in rows)
    gaps = sorted(b[0] - a[0] for a, b in zip(stamps, stamps[1:]))
    count = len(gaps)
    median = Fraction(gaps[count // 2]) if count % 2 else Fraction(gaps[count // 2 - 1] + gaps[count // 2], 2)
    total = Fraction(0)
    for index, (stamp, _key, row) in enumerate(stamps):
        span = stamps[index + 1][0] - stamp if index + 1 < len(stamps) else median
        span = min(span, 2 * median)
        total += Fraction(int(row[field]), divisor) * Fraction(overlap(stamp, stamp + int(span), start, end), 3600)
    return total


def test_tenant_usage_and_a_deleted_tenant(sim):
    start, end = october()
    data = sim.tenant_data
    real = [tenant for tenant in data['tenants'] if not tenant['is_snapshot']]
    gone = real[-1]
    # the last tenant is deleted: it leaves the tenant list, its history stays
    sim.set_tenant_data(dict(data, tenants=[tenant for tenant in data['tenants'] if tenant is not gone]))
    try:
        meter = Meter(edges(start, end, None))
        usage = Usage(client_for(sim))
        chosen = [(int(tenant['$key']), tenant['name']) for tenant in real if tenant is not gone]
        owners = usage.tenants(meter, 'tenant_stats_history_long', chosen, 'allocated', every=True)
    finally:
        sim.set_tenant_data(data)
    assert [owner.key for owner in owners] == [key for key, _name in chosen] + [int(gone['$key'])]
    assert owners[-1].state == 'deleted' and owners[-1].name == 'tenant %s (deleted)' % gone['$key']
    assert any('deleted' in message for message in usage.messages())
    lines = meter.lines()
    for owner in owners:
        rows = [row for row in data['long'] if int(row['tenant']) == owner.key]
        for metric, field, divisor in (('cores', 'core_count', 1), ('ram', 'ram_allocated', 1024), ('tier0', 'tier0_allocated', GIB)):
            got = sum(Fraction(line.quantity) for line in lines if line.owner == owner and line.metric == metric)
            assert abs(got - brute_tenant(rows, start, end, field, divisor)) < Fraction(1, 10 ** 6), (owner, metric)
        assert meter.hours(owner) == 745
