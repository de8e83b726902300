#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vergeio.billing contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: verge_tenant_usage_info
short_description: Usage and cost per tenant from the VergeOS tenant statistics history
version_added: 0.1.0
description:
  - Reads the statistics history VergeOS keeps for each tenant (C(/api/v4/tenant_stats_history_long) or
    C(/api/v4/tenant_stats_history_short)) for chargeback of tenants, where the billing records are system-wide.
  - O(view=records) returns every sample of each tenant in the range; O(view=latest) the newest one;
    O(view=summary) means, time-weighted means, peaks, 95th percentiles and, with O(rates), costs per tenant.
  - The history of every requested tenant comes from one paged query (pages of O(page_size) rows, only the fields the
    view needs), plus one request for the tenant list; the VergeOS Python SDK needs one request per tenant.
  - Sample fields have the names and units of the VergeOS Python SDK (pyvergeos) C(TenantStatsHistory); see
    RV(tenants[].records).
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
  tenant:
    description:
      - The tenants to report, by name or by C($key), one or a list. A name is matched exactly; digits that are no
        tenant's name are a C($key).
      - Without it, every tenant that is not a tenant snapshot.
      - A name or key that matches no tenant fails the task, naming it. Tenant snapshots are never reported.
    type: list
    elements: str
  history:
    description:
      - V(long) reads C(tenant_stats_history_long) (lower resolution, longer retention); V(short) reads
        C(tenant_stats_history_short) (high resolution, shorter retention).
    type: str
    choices: [long, short]
    default: long
  view:
    description:
      - V(records) returns every sample in the range as RV(tenants[].records), newest first.
      - V(latest) returns each tenant's newest sample in the range as RV(tenants[].record) (null when it has none).
      - V(summary) returns RV(tenants[].summary).
    type: str
    choices: [records, latest, summary]
    default: records
  month:
    description:
      - The range as a calendar month of O(timezone), V(YYYY-MM), that is the samples taken from its first second to its last
        (V(2026-10) in V(Europe/Berlin) is 2026-09-30T22:00:00Z to 2026-10-31T22:59:59Z, 745 hours).
      - V(previous) or V(current) is the month before, or the month of, the day the task runs on O(timezone)'s calendar;
        the current month ends at the last whole second before the task started.
      - Cannot be combined with O(since) or O(until).
      - As with O(since)/O(until), the samples taken in the range are summarized with their whole weight; the tenant
        reports of M(vergeio.billing.verge_billing_report) bill exactly the hours of the period instead (the sample
        taken before the start bills its part, the last one only up to the end).
    type: str
    version_added: 0.2.0
  since:
    description:
      - Only samples taken at or after this time (inclusive). Without it, the whole history.
      - Unix epoch seconds (V(1735689600)); an ISO 8601 date (V(2026-10-01), the first second of that day in
        O(timezone)) or date and time (V(2026-10-01T12:00:00Z); without an offset it is wall-clock time in
        O(timezone)); V(now); or a time relative to now, V(-30d), V(-12h), V(-90m), V(-45s), V(-2w).
    type: raw
  until:
    description:
      - Only samples taken at or before this time (inclusive). Same forms as O(since); a date alone means the end of
        that day. Must not be before O(since).
      - Without it, the range ends at the last whole second before the task started, so samples taken while the
        module pages are not counted.
    type: raw
  timezone:
    description:
      - The calendar of O(since)/O(until) dates and naive times and of O(group_by) periods, as an IANA time zone name
        (V(Europe/Berlin)). Days are local days (23 or 25 hours on daylight saving change days).
      - Times in the result are UTC, except the C(start) and C(end) of periods, which carry this zone's offset.
    type: str
    default: UTC
  basis:
    description:
      - What O(rates) bill. V(allocated) bills C(core_count), RAM allocated, C(tierN_allocated), C(gpus_total) and
        C(vgpus_total).
      - V(used) bills used cores (C(core_count) x C(total_cpu) / 100), RAM used, C(tierN_used), C(gpus_used) and
        C(vgpus_used).
      - V(provisioned) is V(allocated) with C(tierN_provisioned) for storage.
      - IP addresses (C(ip_count)) are billed on every basis. Needs O(view=summary). The default is V(allocated).
    type: str
    choices: [allocated, used, provisioned]
  group_by:
    description:
      - With O(view=summary), also return C(periods) per tenant, one per local day, ISO week (from Monday) or calendar
        month of O(timezone), by each sample's C(timestamp).
    type: str
    choices: [day, week, month]
  max_gap:
    description:
      - The longest time one sample stands for. A sample stands for the time until the tenant's next sample, but
        never longer than this, so a tenant stopped for a day (no samples) is not billed for that day.
      - Seconds (V(7200)) or a number with a unit, V(30m), V(2h), V(1d). Must be more than 0. Needs O(view=summary).
      - Without it, twice the median gap between consecutive samples of that tenant in the range.
    type: raw
  page_size:
    description:
      - Rows per API request for the tenant list and the history. The module pages with explicit C(limit)/C(offset)
        until a page comes back short, so 37,200 samples take 4 history requests at the default.
    type: int
    default: 10000
notes:
  - Times in the result are UTC. Figures are not rounded; round them where you present them.
  - Values the API sends as strings are converted; null or missing counters count as 0 and a missing timestamp as
    null. Values that are not numbers at all also count as 0, and the module warns which fields they were in.
  - The first tenant list request and the history query are the only requests; O(view=latest) reads the history
    newest first and stops once it has seen every requested tenant.
seealso:
  - module: vergeio.billing.verge_billing_info
'''

EXAMPLES = r'''
- name: Cost of every tenant over the last 30 days (connection from the VERGEOS_* environment variables)
  vergeio.billing.verge_tenant_usage_info:
    view: summary
    since: -30d
    rates:
      core_hour: 0.02
      ram_gb_hour: 0.01
      tier1_gb_hour: 0.0001
      ip_hour: 0.005
      currency: EUR
  register: usage

- name: Show each tenant's cost
  ansible.builtin.debug:
    msg: "{{ item.name }}: {{ item.summary.cost.total | round(2) }} {{ item.summary.cost.currency }}"
  loop: "{{ usage.tenants }}"
  loop_control:
    label: "{{ item.name }}"

- name: October per local day for two tenants, billing what they used
  vergeio.billing.verge_tenant_usage_info:
    host: verge.example.com
    api_key: "{{ vergeos_api_key }}"
    tenant: [acme, contoso]
    view: summary
    since: "2026-10-01"
    until: "2026-10-31"
    timezone: Europe/Berlin
    group_by: day
    basis: used
    rates: {core_hour: 0.03, ram_gb_hour: 0.012, currency: EUR}

- name: Last month on the Berlin calendar, with costs
  vergeio.billing.verge_tenant_usage_info:
    view: summary
    month: previous
    timezone: Europe/Berlin
    rates: {core_hour: 0.02, ram_gb_hour: 0.01, ip_hour: 0.005, currency: EUR}

- name: The newest high-resolution sample of tenant 5
  vergeio.billing.verge_tenant_usage_info:
    tenant: "5"
    history: short
    view: latest
    since: -1h

- name: Every sample of one tenant over the last day
  vergeio.billing.verge_tenant_usage_info:
    tenant: acme
    since: -1d
'''

RETURN = r'''
tenants:
  description:
    - One entry per requested tenant, sorted by name (then C($key)).
  type: list
  elements: dict
  returned: always
  contains:
    key:
      description: The tenant's C($key).
      type: int
      returned: always
      sample: 5
    name:
      description: The tenant's name.
      type: str
      returned: always
      sample: acme
    records:
      description:
        - With O(view=records), the tenant's samples in the range, newest first (by C(timestamp), then C(key)).
        - Names and units are those of the VergeOS Python SDK C(TenantStatsHistory); RAM comes from the API in MB and
          storage in bytes; the C(*_gb) fields divide by 1024 (MB) or 1024**3 (bytes). Integers are truncated toward
          zero like the SDK's C(int()).
      type: list
      elements: dict
      returned: when O(view=records)
      contains:
        key:
          description: The sample's C($key).
          type: int
          returned: always
          sample: 81234
        tenant_key:
          description: The C($key) of the tenant (API field C(tenant)).
          type: int
          returned: always
          sample: 5
        timestamp:
          description: When the sample was taken, ISO 8601 UTC; null when the API gives 0 or nothing.
          type: str
          returned: always
          sample: "2026-10-01T13:00:00+00:00"
        timestamp_epoch:
          description: C(timestamp) as Unix epoch seconds (0 when absent).
          type: int
          returned: always
          sample: 1790859600
        total_cpu:
          description: CPU usage of the tenant, percent of its cores (an integer, truncated like the SDK).
          type: int
          returned: always
          sample: 37
        core_count:
          description: CPU cores allocated to the tenant.
          type: int
          returned: always
          sample: 16
        ram_used_mb:
          description: Physical RAM used, MB (API field C(ram_used)).
          type: int
          returned: always
          sample: 24576
        vram_used_mb:
          description: Virtual RAM used, MB (API field C(vram_used)).
          type: int
          returned: always
          sample: 2457
        ram_allocated_mb:
          description: RAM allocated to the tenant, MB (API field C(ram_allocated)).
          type: int
          returned: always
          sample: 65536
        ram_pct:
          description: RAM usage, percent.
          type: int
          returned: always
          sample: 37
        ip_count:
          description: IP addresses assigned to the tenant.
          type: int
          returned: always
          sample: 4
        tier0_provisioned:
          description: Storage provisioned (the size given to the tenant) on tier 0, bytes.
          type: int
          returned: always
          sample: 0
        tier0_used:
          description: Storage used on tier 0, bytes.
          type: int
          returned: always
          sample: 0
        tier0_allocated:
          description: Storage allocated on tier 0, bytes.
          type: int
          returned: always
          sample: 0
        tier0_pct:
          description: Storage usage on tier 0, percent.
          type: int
          returned: always
          sample: 0
        tier1_provisioned:
          description: Storage provisioned (the size given to the tenant) on tier 1, bytes.
          type: int
          returned: always
          sample: 536870912000
        tier1_used:
          description: Storage used on tier 1, bytes.
          type: int
          returned: always
          sample: 536870912000
        tier1_allocated:
          description: Storage allocated on tier 1, bytes.
          type: int
          returned: always
          sample: 536870912000
        tier1_pct:
          description: Storage usage on tier 1, percent.
          type: int
          returned: always
          sample: 41
        tier2_provisioned:
          description: Storage provisioned (the size given to the tenant) on tier 2, bytes.
          type: int
          returned: always
          sample: 0
        tier2_used:
          description: Storage used on tier 2, bytes.
          type: int
          returned: always
          sample: 0
        tier2_allocated:
          description: Storage allocated on tier 2, bytes.
          type: int
          returned: always
          sample: 0
        tier2_pct:
          description: Storage usage on tier 2, percent.
          type: int
          returned: always
          sample: 0
        tier3_provisioned:
          description: Storage provisioned (the size given to the tenant) on tier 3, bytes.
          type: int
          returned: always
          sample: 0
        tier3_used:
          description: Storage used on tier 3, bytes.
          type: int
          returned: always
          sample: 0
        tier3_allocated:
          description: Storage allocated on tier 3, bytes.
          type: int
          returned: always
          sample: 0
        tier3_pct:
          description: Storage usage on tier 3, percent.
          type: int
          returned: always
          sample: 0
        tier4_provisioned:
          description: Storage provisioned (the size given to the tenant) on tier 4, bytes.
          type: int
          returned: always
          sample: 0
        tier4_used:
          description: Storage used on tier 4, bytes.
          type: int
          returned: always
          sample: 0
        tier4_allocated:
          description: Storage allocated on tier 4, bytes.
          type: int
          returned: always
          sample: 0
        tier4_pct:
          description: Storage usage on tier 4, percent.
          type: int
          returned: always
          sample: 0
        tier5_provisioned:
          description: Storage provisioned (the size given to the tenant) on tier 5, bytes.
          type: int
          returned: always
          sample: 0
        tier5_used:
          description: Storage used on tier 5, bytes.
          type: int
          returned: always
          sample: 0
        tier5_allocated:
          description: Storage allocated on tier 5, bytes.
          type: int
          returned: always
          sample: 0
        tier5_pct:
          description: Storage usage on tier 5, percent.
          type: int
          returned: always
          sample: 0
        gpus_used:
          description: Physical GPUs in use.
          type: int
          returned: always
          sample: 1
        gpus_total:
          description: Physical GPUs allocated to the tenant.
          type: int
          returned: always
          sample: 2
        gpus_pct:
          description: GPU usage, percent.
          type: int
          returned: always
          sample: 50
        vgpus_used:
          description: vGPUs in use.
          type: int
          returned: always
          sample: 3
        vgpus_total:
          description: vGPUs allocated to the tenant.
          type: int
          returned: always
          sample: 8
        vgpus_pct:
          description: vGPU usage, percent.
          type: int
          returned: always
          sample: 37
        ram_used_gb:
          description: C(ram_used_mb) / 1024, GB.
          type: float
          returned: always
          sample: 24.0
        vram_used_gb:
          description: C(vram_used_mb) / 1024, GB.
          type: float
          returned: always
          sample: 2.4
        ram_allocated_gb:
          description: C(ram_allocated_mb) / 1024, GB.
          type: float
          returned: always
          sample: 64.0
        tier0_provisioned_gb:
          description: C(tier0_provisioned) / 1024**3, GB.
          type: float
          returned: always
          sample: 0.0
        tier0_used_gb:
          description: C(tier0_used) / 1024**3, GB.
          type: float
          returned: always
          sample: 0.0
        tier0_allocated_gb:
          description: C(tier0_allocated) / 1024**3, GB.
          type: float
          returned: always
          sample: 0.0
        tier1_provisioned_gb:
          description: C(tier1_provisioned) / 1024**3, GB.
          type: float
          returned: always
          sample: 500.0
        tier1_used_gb:
          description: C(tier1_used) / 1024**3, GB.
          type: float
          returned: always
          sample: 500.0
        tier1_allocated_gb:
          description: C(tier1_allocated) / 1024**3, GB.
          type: float
          returned: always
          sample: 500.0
        tier2_provisioned_gb:
          description: C(tier2_provisioned) / 1024**3, GB.
          type: float
          returned: always
          sample: 0.0
        tier2_used_gb:
          description: C(tier2_used) / 1024**3, GB.
          type: float
          returned: always
          sample: 0.0
        tier2_allocated_gb:
          description: C(tier2_allocated) / 1024**3, GB.
          type: float
          returned: always
          sample: 0.0
        tier3_provisioned_gb:
          description: C(tier3_provisioned) / 1024**3, GB.
          type: float
          returned: always
          sample: 0.0
        tier3_used_gb:
          description: C(tier3_used) / 1024**3, GB.
          type: float
          returned: always
          sample: 0.0
        tier3_allocated_gb:
          description: C(tier3_allocated) / 1024**3, GB.
          type: float
          returned: always
          sample: 0.0
        tier4_provisioned_gb:
          description: C(tier4_provisioned) / 1024**3, GB.
          type: float
          returned: always
          sample: 0.0
        tier4_used_gb:
          description: C(tier4_used) / 1024**3, GB.
          type: float
          returned: always
          sample: 0.0
        tier4_allocated_gb:
          description: C(tier4_allocated) / 1024**3, GB.
          type: float
          returned: always
          sample: 0.0
        tier5_provisioned_gb:
          description: C(tier5_provisioned) / 1024**3, GB.
          type: float
          returned: always
          sample: 0.0
        tier5_used_gb:
          description: C(tier5_used) / 1024**3, GB.
          type: float
          returned: always
          sample: 0.0
        tier5_allocated_gb:
          description: C(tier5_allocated) / 1024**3, GB.
          type: float
          returned: always
          sample: 0.0
        total_storage_used:
          description: Sum of C(tierN_used) over the six tiers, bytes.
          type: int
          returned: always
          sample: 536870912000
        total_storage_used_gb:
          description: C(total_storage_used) / 1024**3, GB.
          type: float
          returned: always
          sample: 500.0
        total_storage_provisioned:
          description: Sum of C(tierN_provisioned) over the six tiers, bytes.
          type: int
          returned: always
          sample: 536870912000
        total_storage_provisioned_gb:
          description: C(total_storage_provisioned) / 1024**3, GB.
          type: float
          returned: always
          sample: 500.0
        total_storage_allocated:
          description: Sum of C(tierN_allocated) over the six tiers, bytes.
          type: int
          returned: always
          sample: 536870912000
        total_storage_allocated_gb:
          description: C(total_storage_allocated) / 1024**3, GB.
          type: float
          returned: always
          sample: 500.0
    record:
      description:
        - With O(view=latest), the tenant's newest sample in the range (greatest C(timestamp), then C(key)), with the
          keys of RV(tenants[].records); null when the tenant has no sample in the range.
      type: dict
      returned: when O(view=latest)
    summary:
      description:
        - With O(view=summary), figures over the tenant's samples in the range.
        - Each sample is a point in time and stands for the seconds until the tenant's next sample, capped by
          O(max_gap) (default twice the median gap); the newest sample stands for the median gap (capped the same
          way). That is its weight. A tenant with one sample has weight 0, and its time-weighted means are plain means.
        - C(avg_*) are plain means over samples, C(twa_*) time-weighted means (sum of value x weight / sum of weight;
          the plain mean when the weights sum to 0), C(peak_*) the largest value, C(p95_*) the nearest-rank 95th
          percentile (the value at rank ceil(0.95 x n) of the values sorted ascending), the same definitions as the
          billing summary of M(vergeio.billing.verge_billing_info).
        - With no samples, numbers are 0 and times null.
        - Negative, null or missing counters count as 0 in C(cost), and the module warns how many samples, which
          fields and the first keys.
      type: dict
      returned: when O(view=summary)
      contains:
        sample_count:
          description: Number of samples in the range.
          type: int
          returned: always
          sample: 744
        period_start:
          description: Time of the oldest sample, ISO 8601 with the offset of O(timezone).
          type: str
          returned: always
          sample: "2026-10-01T00:00:00+00:00"
        period_end:
          description: Time of the newest sample plus its weight, ISO 8601 with the offset of O(timezone).
          type: str
          returned: always
          sample: "2026-11-01T00:00:00+00:00"
        hours:
          description: Sum of the sample weights / 3600, hours.
          type: float
          returned: always
          sample: 720.0
        median_gap:
          description: Median of the seconds between consecutive samples; null with fewer than two samples.
          type: float
          returned: always
          sample: 3600
        max_gap:
          description: The cap on a sample's weight that was used, seconds (O(max_gap), or twice RV(tenants[].summary.median_gap)).
          type: float
          returned: always
          sample: 7200
        avg_cores:
          description: Plain mean over samples of allocated CPU cores (C(core_count)), cores.
          type: float
          returned: always
        twa_cores:
          description: Time-weighted mean of allocated CPU cores (C(core_count)), cores.
          type: float
          returned: always
        peak_cores:
          description: Largest allocated CPU cores (C(core_count)) of any sample, cores.
          type: int
          returned: always
        p95_cores:
          description: 95th percentile (nearest rank) over samples of allocated CPU cores (C(core_count)), cores.
          type: int
          returned: always
        avg_used_cores:
          description: Plain mean over samples of used CPU cores, C(core_count) x C(total_cpu) / 100, cores.
          type: float
          returned: always
        twa_used_cores:
          description: Time-weighted mean of used CPU cores, C(core_count) x C(total_cpu) / 100, cores.
          type: float
          returned: always
        peak_used_cores:
          description: Largest used CPU cores, C(core_count) x C(total_cpu) / 100 of any sample, cores.
          type: float
          returned: always
        p95_used_cores:
          description: 95th percentile (nearest rank) over samples of used CPU cores, C(core_count) x C(total_cpu) / 100, cores.
          type: float
          returned: always
        avg_ram_used_gb:
          description: Plain mean over samples of C(ram_used_gb), GB.
          type: float
          returned: always
        twa_ram_used_gb:
          description: Time-weighted mean of C(ram_used_gb), GB.
          type: float
          returned: always
        peak_ram_used_gb:
          description: Largest C(ram_used_gb) of any sample, GB.
          type: float
          returned: always
        p95_ram_used_gb:
          description: 95th percentile (nearest rank) over samples of C(ram_used_gb), GB.
          type: float
          returned: always
        avg_ram_allocated_gb:
          description: Plain mean over samples of C(ram_allocated_gb), GB.
          type: float
          returned: always
        twa_ram_allocated_gb:
          description: Time-weighted mean of C(ram_allocated_gb), GB.
          type: float
          returned: always
        peak_ram_allocated_gb:
          description: Largest C(ram_allocated_gb) of any sample, GB.
          type: float
          returned: always
        p95_ram_allocated_gb:
          description: 95th percentile (nearest rank) over samples of C(ram_allocated_gb), GB.
          type: float
          returned: always
        avg_storage_used_gb:
          description: Plain mean over samples of C(total_storage_used_gb), GB.
          type: float
          returned: always
        twa_storage_used_gb:
          description: Time-weighted mean of C(total_storage_used_gb), GB.
          type: float
          returned: always
        peak_storage_used_gb:
          description: Largest C(total_storage_used_gb) of any sample, GB.
          type: float
          returned: always
        p95_storage_used_gb:
          description: 95th percentile (nearest rank) over samples of C(total_storage_used_gb), GB.
          type: float
          returned: always
        avg_storage_allocated_gb:
          description: Plain mean over samples of C(total_storage_allocated_gb), GB.
          type: float
          returned: always
        twa_storage_allocated_gb:
          description: Time-weighted mean of C(total_storage_allocated_gb), GB.
          type: float
          returned: always
        peak_storage_allocated_gb:
          description: Largest C(total_storage_allocated_gb) of any sample, GB.
          type: float
          returned: always
        p95_storage_allocated_gb:
          description: 95th percentile (nearest rank) over samples of C(total_storage_allocated_gb), GB.
          type: float
          returned: always
        avg_storage_provisioned_gb:
          description: Plain mean over samples of C(total_storage_provisioned_gb), GB.
          type: float
          returned: always
        twa_storage_provisioned_gb:
          description: Time-weighted mean of C(total_storage_provisioned_gb), GB.
          type: float
          returned: always
        peak_storage_provisioned_gb:
          description: Largest C(total_storage_provisioned_gb) of any sample, GB.
          type: float
          returned: always
        p95_storage_provisioned_gb:
          description: 95th percentile (nearest rank) over samples of C(total_storage_provisioned_gb), GB.
          type: float
          returned: always
        avg_gpus_used:
          description: Plain mean over samples of C(gpus_used), GPUs.
          type: float
          returned: always
        twa_gpus_used:
          description: Time-weighted mean of C(gpus_used), GPUs.
          type: float
          returned: always
        peak_gpus_used:
          description: Largest C(gpus_used) of any sample, GPUs.
          type: int
          returned: always
        p95_gpus_used:
          description: 95th percentile (nearest rank) over samples of C(gpus_used), GPUs.
          type: int
          returned: always
        avg_gpus_total:
          description: Plain mean over samples of C(gpus_total), GPUs.
          type: float
          returned: always
        twa_gpus_total:
          description: Time-weighted mean of C(gpus_total), GPUs.
          type: float
          returned: always
        peak_gpus_total:
          description: Largest C(gpus_total) of any sample, GPUs.
          type: int
          returned: always
        p95_gpus_total:
          description: 95th percentile (nearest rank) over samples of C(gpus_total), GPUs.
          type: int
          returned: always
        avg_vgpus_used:
          description: Plain mean over samples of C(vgpus_used), vGPUs.
          type: float
          returned: always
        twa_vgpus_used:
          description: Time-weighted mean of C(vgpus_used), vGPUs.
          type: float
          returned: always
        peak_vgpus_used:
          description: Largest C(vgpus_used) of any sample, vGPUs.
          type: int
          returned: always
        p95_vgpus_used:
          description: 95th percentile (nearest rank) over samples of C(vgpus_used), vGPUs.
          type: int
          returned: always
        avg_vgpus_total:
          description: Plain mean over samples of C(vgpus_total), vGPUs.
          type: float
          returned: always
        twa_vgpus_total:
          description: Time-weighted mean of C(vgpus_total), vGPUs.
          type: float
          returned: always
        peak_vgpus_total:
          description: Largest C(vgpus_total) of any sample, vGPUs.
          type: int
          returned: always
        p95_vgpus_total:
          description: 95th percentile (nearest rank) over samples of C(vgpus_total), vGPUs.
          type: int
          returned: always
        avg_ip_count:
          description: Plain mean over samples of C(ip_count), IP addresses.
          type: float
          returned: always
        twa_ip_count:
          description: Time-weighted mean of C(ip_count), IP addresses.
          type: float
          returned: always
        peak_ip_count:
          description: Largest C(ip_count) of any sample, IP addresses.
          type: int
          returned: always
        p95_ip_count:
          description: 95th percentile (nearest rank) over samples of C(ip_count), IP addresses.
          type: int
          returned: always
        tiers:
          description:
            - One entry per storage tier 0 to 5; C(tier) is its number, and for each of C(used), C(allocated) and
              C(provisioned) the keys C(avg_KIND_gb), C(twa_KIND_gb), C(peak_KIND_gb) and C(p95_KIND_gb) (GB,
              bytes / 1024**3) hold the four figures of C(tierN_KIND_gb).
          type: list
          elements: dict
          returned: always
          sample:
            - {tier: 1, avg_used_gb: 410.2, twa_used_gb: 409.8, peak_used_gb: 455.0, p95_used_gb: 450.1,
               avg_allocated_gb: 480.0, twa_allocated_gb: 480.0, peak_allocated_gb: 500.0, p95_allocated_gb: 500.0,
               avg_provisioned_gb: 1000.0, twa_provisioned_gb: 1000.0, peak_provisioned_gb: 1000.0, p95_provisioned_gb: 1000.0}
        cost:
          description:
            - With O(rates), the cost of the samples, from the rating engine shared with the reports. Each sample's level of
              each metric (chosen by O(basis); cores, GB, GPUs, vGPUs, IP addresses) held over its weight makes a
              quantity in unit-hours (core-hours, GB-hours, GPU-hours, vGPU-hours, IP-hours), and each amount is the
              quantity x its O(rates) price per unit-hour, not rounded. C(cpu), C(ram), C(gpu), C(vgpu) and C(ip) are
              those amounts; C(tiers) the amount of each storage tier and C(storage) their sum; C(total) the sum of
              C(cpu), C(ram), C(storage), C(gpu), C(vgpu) and C(ip). In the currency of O(rates.currency).
          type: dict
          returned: when O(rates) is given
          sample:
            currency: EUR
            basis: allocated
            cpu: 238.08
            ram: 476.16
            storage: 0.0
            tiers: {tier0: 0.0, tier1: 0.0, tier2: 0.0, tier3: 0.0, tier4: 0.0, tier5: 0.0}
            gpu: 0.0
            vgpu: 0.0
            ip: 0.0
            total: 714.24
        periods:
          description:
            - With O(group_by), one entry per local day, ISO week or month of O(timezone) that holds samples, oldest
              first. Each has C(period) (V(2026-10-01), V(2026-W40) or V(2026-10)), C(start) and C(end) (ISO 8601
              with the zone's offset; C(end) is the start of the next period, exclusive), and every key of
              RV(tenants[].summary) except C(median_gap), C(max_gap) and C(periods), over the samples taken in that
              period, each with the weight it has in the whole range.
          type: list
          elements: dict
          returned: when O(group_by) is given
range:
  description: The time range the module read.
  type: dict
  returned: always
  contains:
    since:
      description: Lower bound (inclusive), ISO 8601 with the offset of O(timezone); null when unbounded.
      type: str
      sample: "2026-10-01T00:00:00+00:00"
    since_epoch:
      description: Lower bound, Unix epoch seconds; null when unbounded.
      type: int
      sample: 1790812800
    until:
      description: Upper bound (inclusive), ISO 8601 with the offset of O(timezone).
      type: str
      sample: "2026-10-31T23:59:59+00:00"
    until_epoch:
      description: Upper bound, Unix epoch seconds.
      type: int
      sample: 1793491199
    timezone:
      description: The calendar zone, O(timezone).
      type: str
      sample: UTC
budgets:
  description:
    - "With O(budgets) (and O(view=summary), O(month), O(rates)): the month's figures of each tenant, as
      RV(vergeio.billing.verge_billing_report#module:budgets) has them: C(month), C(currency), C(system) (null here),
      C(tenants) (each tenant's C(key), C(name), C(month_to_date), C(forecast), C(budget), C(over_budget),
      C(forecast_over_budget), C(hours_measured), C(hours_in_month), C(complete)), C(flagged), C(over_budget) and
      C(forecast_over_budget)."
    - The month is metered as M(vergeio.billing.verge_billing_report) bills it (each sample prorated to the part of its
      interval inside the month, on O(basis)), in one more paged read of the history, so the figures are the report's.
  type: dict
  returned: when O(budgets) is set
  version_added: 0.2.0
history:
  description: The history table read, C(tenant_stats_history_long) or C(tenant_stats_history_short).
  type: str
  returned: always
  sample: tenant_stats_history_long
'''

import time

from ansible_collections.vergeio.billing.plugins.module_utils._base import new_module, run
from ansible_collections.vergeio.billing.plugins.module_utils._budget import metered_figures, month_meter, parse_budgets
from ansible_collections.vergeio.billing.plugins.module_utils._rating import rate_card
from ansible_collections.vergeio.billing.plugins.module_utils._specs import BUDGETS_SPEC, RATES_SPEC
from ansible_collections.vergeio.billing.plugins.module_utils._tenants import (
    BASES, DEFAULT_PAGE_SIZE, HISTORY, VIEWS, TenantUsage, shape,
)
from ansible_collections.vergeio.billing.plugins.module_utils._time import (
    GROUPS, get_zone, iso_in, month_range, parse_duration, parse_time, zone_name,
)
from ansible_collections.vergeio.billing.plugins.module_utils._usage import Usage


def main():
    module = new_module(
        dict(
            tenant=dict(type='list', elements='str'),
            history=dict(type='str', default='long', choices=list(HISTORY)),
            view=dict(type='str', default='records', choices=list(VIEWS)),
            month=dict(type='str'),
            since=dict(type='raw'),
            until=dict(type='raw'),
            timezone=dict(type='str', default='UTC'),
            rates=dict(type='dict', options=RATES_SPEC),
            basis=dict(type='str', choices=list(BASES)),
            group_by=dict(type='str', choices=list(GROUPS)),
            max_gap=dict(type='raw'),
            page_size=dict(type='int', default=DEFAULT_PAGE_SIZE),
            budgets=BUDGETS_SPEC,
        ),
        mutually_exclusive=[('month', 'since'), ('month', 'until')],
        supports_check_mode=True,
    )
    params = module.params
    try:
        zone = get_zone(params['timezone'])
        if params['month'] is not None:
            _label, since, until = month_range(params['month'], zone)
            now = int(time.time())
            until = None if until >= now else until  # the current month: up to the last whole second before the task
        else:
            since = parse_time(params['since'], 'since', zone=zone)
            until = parse_time(params['until'], 'until', end_of_day=True, zone=zone)
        max_gap = check_options(params, since, until)
        budgets = check_budgets(params)
    except ValueError as exc:
        module.fail_json(msg=str(exc))

    def work(client):
        usage = TenantUsage(client, history=params['history'], page_size=params['page_size'])
        end = usage.now() - 1 if until is None else until
        tenants = usage.tenants(params['tenant'])
        keys = [key for key, _name in tenants]
        view = params['view']
        if view == 'summary':
            values = usage.summary(keys, since, end, max_gap, params['group_by'], zone, params['rates'], params['basis'] or 'allocated')
        elif view == 'latest':
            values = usage.latest(keys, since, end)
        else:
            values = usage.records(keys, since, end)
        result = dict(changed=False, tenants=shape(tenants, view, values), history=usage.endpoint,
                      range=dict(since=iso_in(since, zone), since_epoch=since, until=iso_in(end, zone), until_epoch=end, timezone=zone_name(zone)))
        warnings = usage.messages()
        if budgets is not None:
            meter, reader = month_meter(params['month'], zone), Usage(client, page_size=params['page_size'])
            owners = reader.tenants(meter, usage.endpoint, tenants, params['basis'] or 'allocated', every=not params['tenant'])
            result['budgets'], notes = metered_figures(budgets, month_range(params['month'], zone)[0], zone, usage.now(),
                                                       rate_card(params['rates']), meter, tenants=owners)
            warnings = warnings + notes + reader.messages()
        if warnings:
            result['warnings'] = warnings
        return result

    run(module, work)


def check_budgets(params):
    """The ``budgets`` option checked (``_budget.Budgets`` or None): tenants' budgets of a calendar month, priced."""
    budgets = parse_budgets(params['budgets'])
    if budgets is None:
        return None
    if params['view'] != 'summary' or params['month'] is None or params['rates'] is None:
        raise ValueError('budgets needs view=summary, month and rates: a budget is compared with the bill of a calendar month')
    if budgets.system is not None:
        raise ValueError('budgets.system: verge_tenant_usage_info bills tenants only; the system budget goes to verge_billing_info '
                         'or verge_billing_report')
    return budgets


def check_options(params, since, until):
    """Combinations the argument spec cannot express; returns max_gap in seconds (or None); ValueError naming options."""
    if since is not None and until is not None and since > until:
        raise ValueError('since (%s) is after until (%s): swap them or widen the range' % (params['since'], params['until']))
    if isinstance(params['page_size'], bool) or not 1 <= params['page_size'] <= 100000:
        raise ValueError('page_size must be a whole number between 1 and 100000, got %r' % (params['page_size'],))
    if params['view'] != 'summary':
        for name in ('rates', 'basis', 'group_by', 'max_gap'):
            if params[name] is not None:
                raise ValueError('%s applies to view=summary only (got view=%s)' % (name, params['view']))
    for selector in params['tenant'] or []:
        if not selector.strip():
            raise ValueError('tenant: an empty name; give tenant names or $key numbers, or leave tenant out for every tenant')
    max_gap = parse_duration(params['max_gap'], 'max_gap')
    if max_gap is not None and max_gap <= 0:
        raise ValueError('max_gap must be more than 0 seconds (%s), got %r' % ('seconds like 7200, or 30m, 2h, 1d', params['max_gap']))
    return max_gap


if __name__ == '__main__':
    main()
