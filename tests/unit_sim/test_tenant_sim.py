"""Tests of the simulator's tenant endpoints: /api/v4/tenants and the two tenant statistics history tables."""

import requests

import pytest

from simulator.vergeos_sim import TENANT_HISTORY_FIELDS, Simulator, make_tenant_data

END = 1767225600  # 2026-01-01T00:00:00Z


@pytest.fixture(scope="module", name="sim")
def fixture_sim():
    with Simulator(records=5, seed=2, end=END) as server:
        server.set_tenant_data(make_tenant_data(6, seed=2, end=END, days=31))
        yield server


def get(sim, path, **params):
    resp = requests.get(sim.url + path, params=params, headers={"Authorization": "Bearer sim-api-key"},
                        verify=sim.ca_path, timeout=10)
    return resp


def test_data_is_deterministic_and_shaped():
    first, second = make_tenant_data(4, seed=9, end=END, days=31), make_tenant_data(4, seed=9, end=END, days=31)
    assert first == second
    assert len(first["tenants"]) == 5 and sum(1 for t in first["tenants"] if t["is_snapshot"]) == 1
    keys = [row["$key"] for row in first["long"]]
    assert keys == list(range(1, len(keys) + 1))
    stamps = [int(float(row["timestamp"])) for row in first["long"]]
    assert max(stamps) == END and stamps == sorted(stamps)
    assert max(int(float(row["timestamp"])) for row in first["short"]) == END
    assert {row["timestamp"] % 300 for row in first["short"] if isinstance(row["timestamp"], int)} == {0}
    # the second tenant is stopped for a day; the last real tenant exists only for 3 days
    names = dict((t["$key"], t["name"]) for t in first["tenants"] if not t["is_snapshot"])
    by_name = {}
    for row in first["long"]:
        if int(row["tenant"]) in names:
            by_name.setdefault(names[int(row["tenant"])], []).append(int(float(row["timestamp"])))
    assert len(by_name["blue-harbor"]) == 31 * 24 - 24
    assert not [s for s in by_name["blue-harbor"] if END - 5 * 86400 <= s < END - 4 * 86400]
    assert min(by_name["dunder-mifflin"]) == END - 3 * 86400
    assert len(by_name["acme"]) == 31 * 24


def test_quirks():
    rows = make_tenant_data(6, seed=1, end=END, days=31)["long"]
    values = [value for row in rows for value in row.values()]
    assert any(value is None for value in values)
    assert any(isinstance(value, str) and value.endswith(".5") for value in values)
    assert any(isinstance(value, float) for value in values)
    assert any(len(row) < len(TENANT_HISTORY_FIELDS) for row in rows)
    sdk = make_tenant_data(6, seed=1, end=END, days=31, quirks="sdk")["long"]
    assert not any(value is None or (isinstance(value, str) and "." in value) for row in sdk for value in row.values())
    clean = make_tenant_data(3, seed=1, end=END, days=31, quirks=False)["long"]
    assert all(isinstance(value, int) and not isinstance(value, bool) for row in clean for value in row.values())


def test_tenants_projection_and_snapshot_filter(sim):
    fields = "$key,name,is_snapshot,status#running as running,status#started as started_ts,vnet#name as network_name"
    rows = get(sim, "/api/v4/tenants", fields=fields, filter="is_snapshot eq false").json()
    assert len(rows) == 6 and all(set(row) == {"$key", "name", "is_snapshot", "running", "started_ts", "network_name"} for row in rows)
    assert {row["name"]: row["running"] for row in rows}["blue-harbor"] is False
    assert all(row["network_name"] == row["name"] + "-net" for row in rows)
    both = get(sim, "/api/v4/tenants", fields="$key,name", filter="name eq 'acme'").json()
    assert len(both) == 2  # the tenant and its snapshot
    assert get(sim, "/api/v4/tenants").json()[0].keys() == {"$key", "name"}
    assert get(sim, "/api/v4/tenants", fields="bogus").status_code == 400
    assert get(sim, "/api/v4/tenants", fields="name", filter="is_snapshot eq false").status_code == 400
    one = get(sim, "/api/v4/tenants/%d" % rows[0]["$key"], fields="name").json()
    assert one == {"name": rows[0]["name"]}
    assert get(sim, "/api/v4/tenants/999").status_code == 404


@pytest.mark.parametrize("table, name", [("tenant_stats_history_long", "long"), ("tenant_stats_history_short", "short")])
def test_history_filter_sort_and_paging(sim, table, name):
    data = sim.tenant_data[name]
    key = int(data[0]["tenant"])
    since = END - 6 * 3600
    query = "tenant eq %d and timestamp ge %d and timestamp le %d" % (key, since, END)
    rows = get(sim, "/api/v4/" + table, fields="$key,tenant,timestamp,core_count", filter=query, sort="-timestamp").json()
    expected = [r for r in data if int(r["tenant"]) == key and since <= int(float(r["timestamp"])) <= END]
    assert len(rows) == len(expected) > 0
    assert [int(float(r["timestamp"])) for r in rows] == sorted((int(float(r["timestamp"])) for r in expected), reverse=True)
    paged = []
    for offset in range(0, len(data) + 1000, 1000):
        paged += get(sim, "/api/v4/" + table, fields="$key", sort="$key", limit=1000, offset=offset).json()
    assert [r["$key"] for r in paged] == [r["$key"] for r in data]
    assert get(sim, "/api/v4/" + table).json()[0].keys() <= {"$key", "tenant", "timestamp"}
    assert get(sim, "/api/v4/" + table, fields="$key", filter="tenant eq 1").status_code == 400
    assert get(sim, "/api/v4/" + table, fields="$key", sort="bogus").status_code == 400
    assert sim.count("GET", "/api/v4/" + table) >= 4


def test_lazy_default_data():
    with Simulator(records=5, seed=8, end=END) as server:
        rows = get(server, "/api/v4/tenants", fields="$key,name").json()
        assert len(rows) == 7
        assert server.tenant_data == server.tenant_data
