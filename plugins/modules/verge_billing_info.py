#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vergeio.billing contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: verge_billing_info
short_description: Read VergeOS billing records, the latest record, or a chargeback summary
version_added: 0.1.0
description:
  - Reads the system-wide billing records of a VergeOS system through its REST API v4 (C(/api/v4/billing)).
  - O(view=records) returns the records in a time range, newest first, every one of them (the module pages
    explicitly), or O(limit) of them from O(offset).
  - O(view=latest) returns the newest record. O(key) returns one record by its key.
  - O(view=summary) returns averages, peaks, time-weighted means, 95th percentiles, per-tier figures, optional
    costs from a rate card, and optional per-day/week/month periods over every record in the range.
  - Record fields have the names and units of the VergeOS Python SDK (pyvergeos) C(BillingRecord); see RV(record).
  - Never changes anything; runs in check mode like in normal mode.
author:
  - vergeio.billing contributors (@vergeio)
extends_documentation_fragment:
  - vergeio.billing.connection
  - vergeio.billing.connection.ATTRIBUTES
  - vergeio.billing.rates
  - vergeio.billing.budgets
attributes:
  check_mode:
    description: Runs normally in check mode; it only reads.
    support: full
  diff_mode:
    description: Nothing to show; it only reads.
    support: none
options:
  view:
    description:
      - V(records) returns RV(records) (and RV(count)).
      - V(latest) returns the newest record (created in O(since)..O(until) and matching O(filter), when given) as
        RV(record); null when there is none. Of records created in the same second, the newest is the one with the
        highest key.
      - V(summary) returns RV(summary) over every record in the range.
    type: str
    choices: [records, latest, summary]
    default: records
  key:
    description:
      - Return only the record with this key (C($key)) as RV(record). The task fails when it does not exist.
      - Cannot be combined with O(since), O(until), O(filter), O(limit), O(offset), O(group_by) or O(view=summary).
    type: int
  since:
    description:
      - Only records created at or after this time (inclusive).
      - Unix epoch seconds (V(1735689600)); an ISO 8601 date (V(2026-10-01), meaning 00:00:00 UTC, or of O(timezone)) or date and
        time (V(2026-10-01T12:00:00Z); without an offset it is UTC or O(timezone), not the controller's local time); V(now); or a
        time relative to now, V(-30d), V(-12h), V(-90m), V(-45s), V(-2w).
    type: raw
  until:
    description:
      - Only records created at or before this time (inclusive). Same forms as O(since); a date alone means the
        end of that day (23:59:59 UTC or O(timezone)), so O(since=2026-10-01) and O(until=2026-10-31) cover all of October.
      - Must not be before O(since).
      - For O(view=summary) without O(until), the range ends at the C(created) time of the newest record (in the range
        and matching O(filter)) when the task starts, read from VergeOS itself, so the summary covers every record
        the system holds whatever the controller's clock says, and records created while the module pages are not
        counted (RV(range.until_epoch) says where it ended).
    type: raw
  month:
    description:
      - The range as a calendar month of O(timezone), V(YYYY-MM); V(previous) or V(current) is the month before, or the
        month of, the day the task runs on O(timezone)'s calendar. V(2026-10) in V(Europe/Berlin) is
        2026-09-30T22:00:00Z to 2026-10-31T22:59:59Z, both inclusive (745 hours).
      - Cannot be combined with O(since) or O(until), nor with O(key).
    type: str
    version_added: 0.2.0
  period_by:
    description:
      - How O(view=summary) chooses and weighs the records of the range.
      - V(created) (the default) takes the records created in the range, each counted whole (its C(from) to C(to)),
        and groups O(group_by) periods by C(created), the meaning of the VergeOS API and of the Python SDK, whose
        C(get_summary()) the first eleven keys of RV(summary) match.
      - V(usage) takes the records whose usage interval (C(from) to C(to)) overlaps the range (the range's end is
        O(until) plus one second), each prorated to the seconds inside it, as M(vergeio.billing.verge_billing_report)
        bills. RV(summary.hours) are the hours of the range the records cover (745 for October 2026 in
        V(Europe/Berlin)), time-weighted means and C(cost) count only the part inside, and O(group_by) periods are the
        local days, weeks or months of the range, a record counted in each one it overlaps with the part inside. The
        record of 2026-10-31 23:00-24:00 (created just after midnight) belongs to October, and a monthly record
        created on the 1st belongs to the month it measured. Needs O(since) or O(month).
      - Only for O(view=summary).
    type: str
    choices: [created, usage]
    default: created
    version_added: 0.2.0
  filter:
    description:
      - A raw VergeOS API filter, for example V(description ct 'monthly') or V(used_cores gt 40). It is wrapped in
        parentheses and ANDed with the time range, so V(a or b) cannot escape O(since)/O(until).
      - Operators C(eq ne gt ge lt le bw ew cs ct rx), joined with C(and)/C(or) and parentheses.
    type: str
  limit:
    description:
      - O(view=records) returns at most this many records. Without it, every matching record is returned.
    type: int
  offset:
    description:
      - O(view=records) skips this many matching records (newest first) before returning any.
    type: int
    default: 0
  page_size:
    description:
      - Rows per API request. The module pages with explicit C(limit)/C(offset) until a page comes back short, so a
        summary of 100,000 records takes 11 requests at the default (10 full pages and the empty one that ends it).
      - VergeOS allows about 1,000 requests an hour per API key.
    type: int
    default: 10000
  group_by:
    description:
      - With O(view=summary), also return RV(summary.periods), one summary per day, ISO week (starting Monday)
        or calendar month of O(timezone), by each record's C(created) time.
    type: str
    choices: [day, week, month]
  timezone:
    description:
      - The calendar of a date alone in O(since)/O(until) (its first or last second in this zone), of a date and time
        without an offset (wall-clock time in this zone), and of the O(group_by) periods; an IANA time zone name like
        V(Europe/Berlin) or V(America/New_York), read with Python's C(zoneinfo). An unknown name fails the task.
      - With V(Europe/Berlin), O(since=2026-10-01) and O(until=2026-10-31) are 2026-09-30T22:00:00Z to
        2026-10-31T22:59:59Z; a local day has 23 or 25 hours on a daylight saving change. A wall-clock time that the
        change skips or repeats is refused, naming the offsets to choose from.
      - Epoch seconds, relative times and times with an offset mean the same instant in every zone. Returned
        C(*_epoch) figures are Unix seconds (UTC); RV(summary.period_start), RV(summary.period_end) and the
        periods' C(start)/C(end) show the zone's offset.
    type: str
    default: UTC
notes:
  - Times are UTC unless O(timezone) names another calendar. Billing figures are not rounded; round them where you present them.
  - The totals of the summary (C(total_gpus), C(total_vgpus), C(tiers[].total_gb)) come from the newest record in
    the range, as in the VergeOS Python SDK.
  - Values the API sends as strings are converted; null or missing counters count as 0 and missing times as null.
  - A records list or summary that finds no record warns, naming the range and the filter; a retried request warns
    too (see O(retries)). With C(-vvv), RV(api_requests) lists every request the task made.
    Values that are not numbers at all also count as 0, and the module warns which fields they were in.
seealso:
  - module: vergeio.billing.verge_billing_generate
'''

EXAMPLES = r'''
- name: Summary of the last 30 days, with a rate card
  vergeio.billing.verge_billing_info:
    host: verge.example.com
    api_key: "{{ vergeos_api_key }}"
    view: summary
    since: -30d
    rates:
      core_hour: 0.02
      ram_gb_hour: 0.01
      tier1_gb_hour: 0.0001
      currency: EUR
  register: billing

- name: Show the cost
  ansible.builtin.debug:
    msg: "{{ billing.summary.cost.total | round(2) }} {{ billing.summary.cost.currency }}"

- name: Monthly chargeback periods for October 2026 (connection from VERGEOS_* environment variables)
  vergeio.billing.verge_billing_info:
    view: summary
    since: "2026-10-01"
    until: "2026-10-31"
    group_by: day

- name: October 2026 in Berlin as the report bills it (usage prorated to the month's 745 hours), with costs
  vergeio.billing.verge_billing_info:
    view: summary
    month: "2026-10"
    timezone: Europe/Berlin
    period_by: usage
    rates: {core_hour: 0.02, ram_gb_hour: 0.01, currency: EUR}

- name: The latest record
  vergeio.billing.verge_billing_info:
    view: latest
  register: latest

- name: Records of the last week where more than 40 cores were in use
  vergeio.billing.verge_billing_info:
    since: -1w
    filter: used_cores gt 40

- name: One record by key
  vergeio.billing.verge_billing_info:
    key: 36

- name: Set the connection once for every module of the collection
  module_defaults:
    group/vergeio.billing.verge:
      host: verge.example.com
      api_key: "{{ vergeos_api_key }}"
      ca_path: /etc/pki/verge-ca.pem
  block:
    - name: The ten newest records
      vergeio.billing.verge_billing_info:
        limit: 10
'''
RETURN = r'''
api_requests:
  description:
    - One entry per HTTP request the module made, in the order they were made; a request that was retried is one
      entry (see C(tries)). It never holds a credential.
    - Only at verbosity 3 or more (C(-vvv)); also in the result of a failed task.
  type: list
  elements: dict
  returned: when run with C(-vvv) or more
  contains:
    method:
      description: The HTTP method.
      type: str
      returned: always
      sample: GET
    path:
      description: The path of the request, without host or query.
      type: str
      returned: always
      sample: /api/v4/billing
    query:
      description: The query parameters sent (C(fields), C(filter), C(sort), C(limit), C(offset)); never a credential.
      type: dict
      returned: always
      sample: {fields: "$key,created", filter: "created le 1767225600", sort: "-created", limit: 10000, offset: 0}
    status:
      description: The HTTP status of the last try; null when no answer came (a dropped connection, a timeout).
      type: int
      returned: always
      sample: 200
    bytes:
      description: Size of the last answer's body, in bytes (as received, after any content decoding); null without one.
      type: int
      returned: always
      sample: 1873210
    ms:
      description: Milliseconds from the first try to the end of the last, the waits between tries included.
      type: float
      returned: always
      sample: 412.7
    tries:
      description: How many times the request was sent (1 when it was not retried).
      type: int
      returned: always
      sample: 1
records:
  description:
    - With O(view=records), the matching records, newest first. Each has the keys of RV(record).
  type: list
  elements: dict
  returned: when O(view=records) and O(key) is not given
count:
  description: Number of records in RV(records).
  type: int
  returned: when O(view=records) and O(key) is not given
  sample: 720
budgets:
  description:
    - With O(budgets), the budget figures of the O(month) (with O(view=summary) and O(period_by=usage)). Amounts are
      decimal strings in the currency of O(rates), rounded to O(rates.precision) decimals.
    - "C(month), C(currency); C(system), the system's figures (its C(name) is V(system)) as in
      RV(vergeio.billing.verge_billing_report#module:budgets.system): C(month_to_date) (the total of the month's bill
      so far, the sum of its rounded lines), C(forecast) (month_to_date's exact amount / C(hours_measured) x
      C(hours_in_month), rounded; the cost itself once the month is over; null when nothing was measured),
      C(budget), C(over_budget), C(forecast_over_budget), C(hours_measured), C(hours_in_month), C(complete);
      C(tenants) (empty here); C(flagged) (V([system]) when over or forecast over); C(over_budget) and
      C(forecast_over_budget)."
  type: dict
  returned: when O(budgets) is set
  version_added: 0.2.0
  sample:
    month: "2026-12"
    currency: EUR
    system: {name: system, month: "2026-12", currency: EUR, complete: false, hours_in_month: 744.0, hours_measured: 100.0,
             month_to_date: "812.40", forecast: "6044.26", budget: "5000", over_budget: false, forecast_over_budget: true}
    tenants: []
    flagged: [system]
    over_budget: false
    forecast_over_budget: true
range:
  description: The time range and the filter the module sent to the API.
  type: dict
  returned: when O(view=records) or O(view=summary)
  contains:
    since:
      description: Lower bound (inclusive), ISO 8601 with the offset of O(timezone) (V(UTC) by default); null when unbounded.
      type: str
      sample: "2026-10-01T00:00:00+00:00"
    since_epoch:
      description: Lower bound, Unix epoch seconds; null when unbounded.
      type: int
      sample: 1790812800
    until:
      description: Upper bound (inclusive), ISO 8601 with the offset of O(timezone); null when unbounded.
      type: str
      sample: "2026-10-31T23:59:59+00:00"
    until_epoch:
      description:
        - Upper bound, Unix epoch seconds; null when unbounded.
        - For O(view=summary) without O(until), the newest record's C(created) (the VergeOS clock), or null when the
          range holds no record.
      type: int
      sample: 1793491199
    timezone:
      description: The calendar of O(since), O(until) and O(group_by), and of the ISO times here (O(timezone)).
      type: str
      sample: UTC
    month:
      description: O(month), or null when the range came from O(since)/O(until).
      type: str
      sample: "2026-10"
    period_by:
      description: O(period_by) for O(view=summary); V(created) otherwise.
      type: str
      sample: usage
    filter:
      description: The VergeOS filter sent; null when none.
      type: str
      sample: (used_cores gt 40) and created ge 1790812800 and created le 1793491199
      # with period_by=usage: "to gt SINCE and from lt UNTIL+1 and created le NEWEST"
summary:
  description:
    - With O(view=summary), figures over every record in the range.
    - The first eleven keys are those of the VergeOS Python SDK C(get_summary()), with its semantics (each record
      counts once).
    - The weight of a record is its period, max(C(to) - C(from), 0) seconds; a record without C(from) or C(to) has
      weight 0. With O(period_by=usage), only the seconds of that period inside the range. Time-weighted means
      (C(twa_*)) are sum(value x weight) / sum(weight), or the plain mean when all weights are 0.
    - 95th percentiles (C(p95_*)) are nearest-rank over records, the value at rank ceil(0.95 x n) of the values
      sorted ascending.
    - Figures are not rounded. With no records, numbers are 0 and times null.
  type: dict
  returned: when O(view=summary)
  contains:
    record_count:
      description: Number of records in the range.
      type: int
      sample: 720
    avg_cpu_utilization:
      description: Mean over records of C(cpu_utilization_pct), percent.
      type: float
      sample: 41.7
    peak_cpu_cores:
      description: Largest C(used_cores) of any record, cores.
      type: int
      sample: 96
    avg_ram_utilization:
      description: Mean over records of C(ram_utilization_pct), percent.
      type: float
      sample: 38.2
    peak_ram_gb:
      description: Largest C(used_ram_gb), GB (MB / 1024).
      type: float
      sample: 312.5
    avg_storage_used_gb:
      description: Mean over records of C(total_storage_used_gb), GB (bytes / 1024**3).
      type: float
      sample: 7340.2
    peak_storage_used_gb:
      description: Largest C(total_storage_used_gb), GB.
      type: float
      sample: 7610.0
    total_gpus:
      description: C(gpus_total) of the newest record.
      type: int
      sample: 2
    avg_gpus_used:
      description: Mean over records of C(gpus_used).
      type: float
      sample: 0.8
    total_vgpus:
      description: C(vgpus_total) of the newest record.
      type: int
      sample: 8
    avg_vgpus_used:
      description: Mean over records of C(vgpus_used).
      type: float
      sample: 3.1
    period_start:
      description: The earliest C(from) of the records (ignoring records without one), ISO 8601 with the offset of O(timezone) (UTC by default).
      type: str
      sample: "2026-10-01T00:00:00+00:00"
    period_end:
      description: The latest C(to) of the records, ISO 8601 with the offset of O(timezone) (UTC by default).
      type: str
      sample: "2026-11-01T00:00:00+00:00"
    hours:
      description: Sum over records of their weights / 3600, hours (max(C(to) - C(from), 0), or with
        O(period_by=usage) the part inside the range).
      type: float
      sample: 744.0
    twa_cpu_cores:
      description: Time-weighted mean of C(used_cores), cores.
      type: float
      sample: 40.9
    twa_ram_gb:
      description: Time-weighted mean of C(used_ram_gb), GB.
      type: float
      sample: 200.1
    twa_storage_used_gb:
      description: Time-weighted mean of C(total_storage_used_gb), GB.
      type: float
      sample: 7338.4
    twa_gpus_used:
      description: Time-weighted mean of C(gpus_used).
      type: float
      sample: 0.8
    twa_vgpus_used:
      description: Time-weighted mean of C(vgpus_used).
      type: float
      sample: 3.0
    p95_cpu_cores:
      description: 95th percentile (nearest rank) of C(used_cores), cores.
      type: int
      sample: 88
    p95_ram_gb:
      description: 95th percentile (nearest rank) of C(used_ram_gb), GB.
      type: float
      sample: 290.0
    p95_storage_used_gb:
      description: 95th percentile (nearest rank) of C(total_storage_used_gb), GB.
      type: float
      sample: 7600.5
    p95_gpus_used:
      description: 95th percentile (nearest rank) of C(gpus_used).
      type: int
      sample: 2
    p95_vgpus_used:
      description: 95th percentile (nearest rank) of C(vgpus_used).
      type: int
      sample: 6
    peak_gpus_used:
      description: Largest C(gpus_used).
      type: int
      sample: 2
    peak_vgpus_used:
      description: Largest C(vgpus_used).
      type: int
      sample: 7
    tiers:
      description: One entry per storage tier 0 to 5, in GB (bytes / 1024**3).
      type: list
      elements: dict
      contains:
        tier:
          description: Tier number, 0 to 5.
          type: int
          sample: 1
        avg_used_gb:
          description: Mean over records of C(tierN_used_gb).
          type: float
          sample: 2048.0
        twa_used_gb:
          description: Time-weighted mean of C(tierN_used_gb).
          type: float
          sample: 2047.2
        peak_used_gb:
          description: Largest C(tierN_used_gb).
          type: float
          sample: 2100.0
        p95_used_gb:
          description: 95th percentile (nearest rank) of C(tierN_used_gb).
          type: float
          sample: 2090.0
        total_gb:
          description: C(tierN_total_gb) of the newest record.
          type: float
          sample: 8192.0
    cost:
      description:
        - With O(rates), the cost of the records from the collection's rating engine, the one cost formula of every
          module and report, in the currency of O(rates.currency), not rounded. Per metric, the usage in unit-hours
          (core-hours, GB-hours, GPU-hours, vGPU-hours; the level of each record times the hours of its period, or
          with O(period_by=usage) the hours of its period inside the range; a negative level counts as 0) times the
          rate of that unit. C(storage) is the sum of C(tiers); C(total) the sum of every metric.
      type: dict
      returned: when O(rates) is given
      sample:
        currency: EUR
        cpu: 612.4
        ram: 1490.2
        storage: 120.0
        tiers: {tier0: 0.0, tier1: 120.0, tier2: 0.0, tier3: 0.0, tier4: 0.0, tier5: 0.0}
        gpu: 0.0
        vgpu: 0.0
        total: 2222.6
    periods:
      description:
        - With O(group_by), one entry per day, ISO week or month of O(timezone) that holds records, oldest first
          (with O(period_by=usage), the part of each inside the range, a record in every one it overlaps).
        - Each entry has C(period) (V(2026-10-01), V(2026-W40) or V(2026-10)), C(start) and C(end) (ISO 8601 with the offset of
          O(timezone); C(end) is the start of the next period, exclusive), and every key of RV(summary) above, computed over that
          period's records (C(cost) when O(rates) is given).
        - Records whose C(created) is not a time a calendar can hold (beyond the year 9999) are in a last period
          named V(unknown), with C(start) and C(end) null, and the module warns about them.
      type: list
      elements: dict
      returned: when O(group_by) is given
record:
  description:
    - With O(view=latest), the newest record (null when there is none); with O(key), that record.
    - Names and units are those of the VergeOS Python SDK C(BillingRecord). RAM comes from the API in MB, physical
      RAM and storage in bytes; the C(*_gb) fields divide by 1024 (MB) or 1024**3 (bytes).
    - With O(rates), also C(cost), the cost of this record, with the keys of RV(summary.cost).
  type: dict
  returned: when O(view=latest) or O(key) is given
  contains:
      key:
        description: The record's C($key).
        type: int
        returned: always
        sample: 36
      created:
        description: When the record was created, ISO 8601 UTC; null when the API gives 0 or nothing.
        type: str
        returned: always
        sample: "2025-01-03T01:00:14+00:00"
      created_epoch:
        description: C(created) as Unix epoch seconds (0 when absent).
        type: int
        returned: always
        sample: 1735866014
      from_time:
        description: Start of the billing period (API field C(from)), ISO 8601 UTC; null when absent.
        type: str
        returned: always
        sample: "2025-01-03T00:00:00+00:00"
      from_epoch:
        description: Start of the billing period, Unix epoch seconds.
        type: int
        returned: always
        sample: 1735862400
      to_time:
        description: End of the billing period (API field C(to)), ISO 8601 UTC; null when absent.
        type: str
        returned: always
        sample: "2025-01-03T01:00:00+00:00"
      to_epoch:
        description: End of the billing period, Unix epoch seconds.
        type: int
        returned: always
        sample: 1735866000
      sent:
        description: When the record was sent/reported, ISO 8601 UTC; null when not sent (the API gives 0, null or nothing) or when the value is no time.
        type: str
        returned: always
        sample: null
      sent_epoch:
        description: C(sent) as Unix epoch seconds; null exactly when C(sent) is null, so the two agree (the Python SDK gives 0 there).
        type: int
        returned: always
        sample: null
      description:
        description: Description of the record (empty string when null).
        type: str
        returned: always
        sample: "Billing run"
      used_cores:
        description: CPU cores used (allocated to running workloads).
        type: int
        returned: always
        sample: 48
      total_cores:
        description: CPU cores in the system.
        type: int
        returned: always
        sample: 128
      online_cores:
        description: CPU cores online.
        type: int
        returned: always
        sample: 128
      phys_total_cpu:
        description: Physical CPU usage, percent.
        type: int
        returned: always
        sample: 37
      total_nodes:
        description: Nodes in the system.
        type: int
        returned: always
        sample: 4
      online_nodes:
        description: Nodes online.
        type: int
        returned: always
        sample: 4
      running_machines:
        description: Virtual machines running.
        type: int
        returned: always
        sample: 57
      used_ram:
        description: RAM used, MB (as the API gives it).
        type: int
        returned: always
        sample: 196608
      used_ram_gb:
        description: RAM used, GB (= C(used_ram) / 1024).
        type: float
        returned: always
        sample: 192.0
      total_ram:
        description: RAM in the system, MB.
        type: int
        returned: always
        sample: 524288
      total_ram_gb:
        description: RAM in the system, GB (= C(total_ram) / 1024).
        type: float
        returned: always
        sample: 512.0
      online_ram:
        description: RAM online, MB.
        type: int
        returned: always
        sample: 524288
      online_ram_gb:
        description: RAM online, GB (= C(online_ram) / 1024).
        type: float
        returned: always
        sample: 512.0
      phys_ram_used:
        description: Physical RAM used, bytes.
        type: int
        returned: always
        sample: 214748364800
      phys_ram_used_gb:
        description: Physical RAM used, GB (= bytes / 1024**3).
        type: float
        returned: always
        sample: 200.0
      phys_vram_used:
        description: Physical VRAM used, bytes.
        type: int
        returned: always
        sample: 0
      phys_vram_used_gb:
        description: Physical VRAM used, GB (= bytes / 1024**3).
        type: float
        returned: always
        sample: 0.0
      tier0_used:
        description: Storage tier 0 used, bytes (API field C(tier_0_used)).
        type: int
        returned: always
        sample: 0
      tier0_used_gb:
        description: Storage tier 0 used, GB (bytes / 1024**3).
        type: float
        returned: always
        sample: 0.0
      tier0_total:
        description: Storage tier 0 capacity, bytes (API field C(tier_0_total)).
        type: int
        returned: always
        sample: 0
      tier0_total_gb:
        description: Storage tier 0 capacity, GB (bytes / 1024**3).
        type: float
        returned: always
        sample: 0.0
      tier1_used:
        description: Storage tier 1 used, bytes (API field C(tier_1_used)).
        type: int
        returned: always
        sample: 2199023255552
      tier1_used_gb:
        description: Storage tier 1 used, GB (bytes / 1024**3).
        type: float
        returned: always
        sample: 2048.0
      tier1_total:
        description: Storage tier 1 capacity, bytes (API field C(tier_1_total)).
        type: int
        returned: always
        sample: 8796093022208
      tier1_total_gb:
        description: Storage tier 1 capacity, GB (bytes / 1024**3).
        type: float
        returned: always
        sample: 8192.0
      tier2_used:
        description: Storage tier 2 used, bytes (API field C(tier_2_used)).
        type: int
        returned: always
        sample: 5497558138880
      tier2_used_gb:
        description: Storage tier 2 used, GB (bytes / 1024**3).
        type: float
        returned: always
        sample: 5120.0
      tier2_total:
        description: Storage tier 2 capacity, bytes (API field C(tier_2_total)).
        type: int
        returned: always
        sample: 17592186044416
      tier2_total_gb:
        description: Storage tier 2 capacity, GB (bytes / 1024**3).
        type: float
        returned: always
        sample: 16384.0
      tier3_used:
        description: Storage tier 3 used, bytes (API field C(tier_3_used)).
        type: int
        returned: always
        sample: 0
      tier3_used_gb:
        description: Storage tier 3 used, GB (bytes / 1024**3).
        type: float
        returned: always
        sample: 0.0
      tier3_total:
        description: Storage tier 3 capacity, bytes (API field C(tier_3_total)).
        type: int
        returned: always
        sample: 0
      tier3_total_gb:
        description: Storage tier 3 capacity, GB (bytes / 1024**3).
        type: float
        returned: always
        sample: 0.0
      tier4_used:
        description: Storage tier 4 used, bytes (API field C(tier_4_used)).
        type: int
        returned: always
        sample: 0
      tier4_used_gb:
        description: Storage tier 4 used, GB (bytes / 1024**3).
        type: float
        returned: always
        sample: 0.0
      tier4_total:
        description: Storage tier 4 capacity, bytes (API field C(tier_4_total)).
        type: int
        returned: always
        sample: 0
      tier4_total_gb:
        description: Storage tier 4 capacity, GB (bytes / 1024**3).
        type: float
        returned: always
        sample: 0.0
      tier5_used:
        description: Storage tier 5 used, bytes (API field C(tier_5_used)).
        type: int
        returned: always
        sample: 0
      tier5_used_gb:
        description: Storage tier 5 used, GB (bytes / 1024**3).
        type: float
        returned: always
        sample: 0.0
      tier5_total:
        description: Storage tier 5 capacity, bytes (API field C(tier_5_total)).
        type: int
        returned: always
        sample: 0
      tier5_total_gb:
        description: Storage tier 5 capacity, GB (bytes / 1024**3).
        type: float
        returned: always
        sample: 0.0
      gpus_total:
        description: Physical GPUs in the system.
        type: int
        returned: always
        sample: 2
      gpus_used:
        description: Physical GPUs in use (API field C(gpus)).
        type: int
        returned: always
        sample: 1
      gpus_idle:
        description: Physical GPUs idle.
        type: int
        returned: always
        sample: 1
      vgpus_total:
        description: vGPUs in the system.
        type: int
        returned: always
        sample: 8
      vgpus_used:
        description: vGPUs in use (API field C(vgpus)).
        type: int
        returned: always
        sample: 3
      vgpus_idle:
        description: vGPUs idle.
        type: int
        returned: always
        sample: 5
      workload_datapoints:
        description: Workload data points collected for the period.
        type: int
        returned: always
        sample: 60
      storage_datapoints:
        description: Storage data points collected for the period.
        type: int
        returned: always
        sample: 60
      total_storage_used:
        description: Storage used across the six tiers, bytes.
        type: int
        returned: always
        sample: 7696581394432
      total_storage_used_gb:
        description: Storage used across the six tiers, GB (bytes / 1024**3).
        type: float
        returned: always
        sample: 7168.0
      total_storage_total:
        description: Storage capacity across the six tiers, bytes.
        type: int
        returned: always
        sample: 26388279066624
      total_storage_total_gb:
        description: Storage capacity across the six tiers, GB (bytes / 1024**3).
        type: float
        returned: always
        sample: 24576.0
      cpu_utilization_pct:
        description: C(used_cores) / C(total_cores) x 100, percent; 0.0 when C(total_cores) is 0.
        type: float
        returned: always
        sample: 37.5
      ram_utilization_pct:
        description: C(used_ram) / C(total_ram) x 100, percent; 0.0 when C(total_ram) is 0.
        type: float
        returned: always
        sample: 37.5
      gpu_utilization_pct:
        description: C(gpus_used) / C(gpus_total) x 100, percent; 0.0 when C(gpus_total) is 0.
        type: float
        returned: always
        sample: 50.0
      vgpu_utilization_pct:
        description: C(vgpus_used) / C(vgpus_total) x 100, percent; 0.0 when C(vgpus_total) is 0.
        type: float
        returned: always
        sample: 37.5
'''

from ansible_collections.vergeio.billing.plugins.module_utils._base import new_module, run
from ansible_collections.vergeio.billing.plugins.module_utils._billing import DEFAULT_PAGE_SIZE, Billing, build_filter, describe_range
from ansible_collections.vergeio.billing.plugins.module_utils._budget import metered_figures, parse_budgets
from ansible_collections.vergeio.billing.plugins.module_utils._rating import rate_card, system_owner
from ansible_collections.vergeio.billing.plugins.module_utils._specs import BUDGETS_SPEC, RATES_SPEC
from ansible_collections.vergeio.billing.plugins.module_utils._time import GROUPS, get_zone, month_range, parse_time


def main():
    module = new_module(
        dict(
            view=dict(type='str', default='records', choices=['records', 'latest', 'summary']),
            key=dict(type='int', no_log=False),
            since=dict(type='raw'),
            until=dict(type='raw'),
            filter=dict(type='str'),
            limit=dict(type='int'),
            offset=dict(type='int', default=0),
            page_size=dict(type='int', default=DEFAULT_PAGE_SIZE),
            rates=dict(type='dict', options=RATES_SPEC),
            group_by=dict(type='str', choices=list(GROUPS)),
            timezone=dict(type='str', default='UTC'),
            month=dict(type='str'),
            period_by=dict(type='str', choices=['created', 'usage'], default='created'),
            budgets=BUDGETS_SPEC,
        ),
        mutually_exclusive=[('key', other) for other in ('since', 'until', 'filter', 'limit', 'group_by', 'month')] + [
            ('month', 'since'), ('month', 'until')],
        supports_check_mode=True,
    )
    params = module.params
    try:
        zone = get_zone(params['timezone'], 'timezone')
        month = None
        if params['month']:
            month, since, until = month_range(params['month'], zone, 'month')
        else:
            since = parse_time(params['since'], 'since', zone=zone)
            until = parse_time(params['until'], 'until', end_of_day=True, zone=zone)
        check_options(params, since, until)
        budgets = check_budgets(params, month)
        query = build_filter(since, until, params['filter'])
    except ValueError as exc:
        module.fail_json(msg=str(exc))

    def work(client):
        billing = Billing(client, page_size=params['page_size'])
        result = dict(changed=False)
        view, rates = params['view'], params['rates']
        count = None  # records found, for the empty-range warning of view=records and view=summary
        notes = []  # the rating engine's warnings (period_by=usage): negative or null counters counted as 0
        if params['key'] is not None:
            result['record'] = billing.get(params['key'], rates=rates)
        elif view == 'latest':
            result['record'] = billing.latest(since, until, params['filter'], rates=rates)
        elif view == 'summary' and params['period_by'] == 'usage':
            result['summary'], pinned, sent, notes, meter = billing.usage_summary(
                since, until, params['filter'], params['group_by'], rates, zone=zone)
            result['range'] = describe_range(since, pinned, sent, zone)
            if budgets is not None:
                result['budgets'] = metered_figures(budgets, month, zone, billing.now(), rate_card(rates), meter,
                                                    system=system_owner('system'))[0]
            count = result['summary']['record_count']
        elif view == 'summary':
            result['summary'], pinned = billing.summary(since, until, params['filter'], params['group_by'], rates, zone=zone)
            result['range'] = describe_range(since, pinned, build_filter(since, pinned, params['filter']), zone)
            count = result['summary']['record_count']
        else:
            records = billing.records(since, until, params['filter'], params['limit'], params['offset'], rates)
            result.update(records=records, count=len(records), range=describe_range(since, until, query, zone))
            count = len(records)
        warnings = list(notes)
        if 'range' in result:
            result['range'].update(month=month, period_by=params['period_by'] if view == 'summary' else 'created')
        if 'range' in result and not count:
            warnings.append(empty_range_warning(view, params, result['range']))
        if billing.problems:
            warnings.append('Some values from the API were not numbers and were counted as 0: %s' % ', '.join(billing.problems))
        result['warnings'] = warnings
        return result

    run(module, work)


def empty_range_warning(view, params, where):
    """The warning for a records list or summary that found no record: it names the range and the filter."""
    bounds = '%s to %s' % (where['since'] or 'the oldest record', where['until'] or 'the newest record')
    if params['offset'] and view == 'records':
        bounds += ', after skipping offset=%d' % params['offset']
    return 'No billing record in the range %s%s: the %s is empty' % (
        bounds, ' matching filter %r' % params['filter'] if params['filter'] else '', 'summary' if view == 'summary' else 'list')


def check_budgets(params, month):
    """The ``budgets`` option checked (``_budget.Budgets`` or None): a month's bill by usage, priced."""
    budgets = parse_budgets(params['budgets'])
    if budgets is None:
        return None
    if params['view'] != 'summary' or params['period_by'] != 'usage' or not month or not params['rates']:
        raise ValueError('budgets needs view=summary, month, period_by=usage and rates: a budget is compared with the bill of a '
                         'calendar month by usage, as verge_billing_report bills it')
    if budgets.tenants:
        raise ValueError('budgets.tenants: verge_billing_info bills the system only; tenant budgets go to verge_tenant_usage_info '
                         'or verge_billing_report')
    return budgets


def check_options(params, since, until):
    """Combinations the argument spec cannot express; raises ValueError naming the options."""
    if since is not None and until is not None and since > until:
        raise ValueError('since (%s) is after until (%s): swap them or widen the range' % (params['since'], params['until']))
    for name in ('key', 'limit', 'offset', 'page_size'):
        # Ansible's int check lets booleans through (bool is an int in Python); true is no count of records
        if isinstance(params[name], bool):
            raise ValueError('%s must be a whole number, got %r' % (name, params[name]))
    if params['key'] is not None:
        if params['key'] < 1:
            raise ValueError('key must be the $key of a billing record, a whole number of 1 or more, got %d' % params['key'])
        if params['view'] == 'summary':
            raise ValueError('key cannot be combined with view=summary; use since/until/filter to choose the records of a summary')
        if params['offset']:
            raise ValueError('key cannot be combined with offset')
    if params['period_by'] == 'usage':
        if params['view'] != 'summary':
            raise ValueError('period_by=usage needs view=summary (got view=%s); records and latest are chosen by created' % params['view'])
        if since is None:
            raise ValueError('period_by=usage needs the start of the range: give month (like 2026-10) or since')
    if params['group_by'] and params['view'] != 'summary':
        raise ValueError('group_by needs view=summary (got view=%s)' % params['view'])
    if params['limit'] is not None and params['limit'] < 1:
        raise ValueError('limit must be 1 or more, got %d; leave it out to get every record' % params['limit'])
    if params['offset'] < 0:
        raise ValueError('offset must be 0 or more, got %d' % params['offset'])
    if params['view'] != 'records' and (params['limit'] is not None or params['offset']):
        raise ValueError('limit and offset apply to view=records only (got view=%s)' % params['view'])
    if not 1 <= params['page_size'] <= 100000:
        raise ValueError('page_size must be between 1 and 100000, got %d' % params['page_size'])


if __name__ == '__main__':
    main()
