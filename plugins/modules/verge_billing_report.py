#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vergeio.billing contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: verge_billing_report
short_description: Write a VergeOS billing report (CSV, JSON, Markdown, HTML) for one period
version_added: 0.1.0
description:
  - Reads every billing record of one period from a VergeOS system through its REST API v4 (C(/api/v4/billing)),
    once, page by page, and writes the report files itself, where the module runs (the controller, with
    C(delegate_to=localhost)).
  - The records never pass through Ansible variables. The result holds the paths (RV(files)), their SHA-256
    (RV(sha256)), the period (RV(period)), the summary (RV(summary), the keys of M(vergeio.billing.verge_billing_info)
    O(vergeio.billing.verge_billing_info#module:view=summary)) and the number of records (RV(record_count)).
  - Files are named C(<dest>/<name>-<label>.<ext>) (C(csv), C(json), C(md), C(html)), written to a temporary file in
    O(dest) and renamed into place. A file whose content would not change is left alone and is no change, so a
    rerun over the same records reports C(changed=false).
  - An open range (no O(until)) ends at the newest record's C(created) as the server holds it, read when the task
    starts (not the controller's clock), so the report covers every record the server held then.
author:
  - vergeio.billing contributors (@vergeio)
extends_documentation_fragment:
  - vergeio.billing.connection
  - vergeio.billing.connection.ATTRIBUTES
  - vergeio.billing.rates
  - vergeio.billing.report_files
requirements:
  - Jinja2 and MarkupSafe (they come with ansible-core) for the V(markdown) and V(html) formats.
attributes:
  check_mode:
    description: Reads the records and renders the files in a private temporary directory, writes nothing in
      O(dest) (not even the directory) and says in RV(changed_files) which files would change.
    support: full
  diff_mode:
    description: Lists the files that change (or would change), with what happens to each.
    support: full
options:
  month:
    description:
      - The report period as a calendar month, V(YYYY-MM), in O(timezone). V(2026-10) in V(Europe/Berlin) is
        2026-09-30T22:00:00Z to 2026-10-31T22:59:59Z, both inclusive.
      - V(previous) or V(current) is the month before, or the month of, the day the task runs on O(timezone)'s
        calendar (at 00:30 on 1 November in V(Europe/Berlin), V(previous) is October, although it is still 31 October
        in UTC), which is what a monthly schedule wants.
      - Give O(month), or O(since) (and optionally O(until)).
    type: str
  since:
    description:
      - The first instant of the period (inclusive), in the forms of
        M(vergeio.billing.verge_billing_info) O(vergeio.billing.verge_billing_info#module:since); Unix epoch seconds,
        an ISO 8601 date (its first second in O(timezone)) or date and time (without an offset it is wall-clock time
        in O(timezone)), V(now), or a relative time like V(-30d).
    type: raw
  until:
    description:
      - The last instant of the period (inclusive); same forms as O(since). A date alone means the last second of
        that day in O(timezone).
      - Without it the period ends at the newest record's C(created) (read from the server when the task starts).
    type: raw
  timezone:
    description:
      - The calendar of O(month), of a date alone and of a date and time without an offset in O(since)/O(until),
        and of the O(group_by) periods; an IANA time zone name like V(Europe/Berlin) or V(America/New_York).
      - A local day has 23 or 25 hours on a daylight saving change. Times in the files and in RV(period) show the
        zone's offset; the C(*_epoch) figures are Unix seconds (UTC).
    type: str
    default: UTC
  dest:
    description:
      - The directory the files are written to, on the host the module runs on (the controller with
        C(delegate_to=localhost)). Created (with its parents) when missing; the task fails when it cannot be.
    type: path
    required: true
  name:
    description:
      - The stem of the file names and the name shown in the reports, for example the system's name. In the file
        names, characters other than letters, digits, C(.), C(_) and C(-) become C(_).
    type: str
    default: vergeos
  formats:
    description:
      - The files to write. V(csv) has one row per record, oldest first, with every record field (times in
        O(timezone)) and, with O(rates), its cost. V(json) has the period, rate card, summary and records (see
        RV(files)). V(markdown) and V(html) show the summary, the costs, the O(group_by) periods and (HTML) charts.
    # type, elements, choices and default: from the doc fragment vergeio.billing.report_files
  group_by:
    description:
      - The periods of the summary (C(summary.periods)) and of the "By day/week/month" table; local days, ISO weeks
        (from Monday) or months in O(timezone).
    type: str
    choices: [day, week, month]
    default: day
  tenants:
    description:
      - Also write one report per tenant, from the VergeOS tenant statistics history (as
        M(vergeio.billing.verge_tenant_usage_info) reads it), and a tenants overview.
      - V(true) (or V(all), or another of Ansible's true words such as V(yes)) reports every tenant that is not a tenant
        snapshot; a list reports the tenants with these names or C($key)s (a name that matches no tenant fails the task,
        naming it). V(false) (the default) writes no tenant reports. A single name or C($key) that is not one of these
        words is read as a one-item list (a tenant named like one of the words is selected with a list, V([all])); a
        number alone such as V('1') is a C($key), never a boolean.
      - Each tenant's files are C(<dest>/<name>-<tenant>-<label>.<ext>) (the tenant's name with the characters of O(name)),
        in every format of O(formats). CSV has one row per statistics sample, oldest first, with the fields of
        M(vergeio.billing.verge_tenant_usage_info) RV(vergeio.billing.verge_tenant_usage_info#module:tenants[].records) (times
        in O(timezone)); JSON (C(layout 1), C(kind tenant)) the period, rate card, basis, summary (the keys of
        RV(vergeio.billing.verge_tenant_usage_info#module:tenants[].summary)), C(sample_count), C(record_fields) and
        C(records), one array per sample in C(record_fields) order (the API's units); Markdown and HTML the usage, the
        cost and the O(group_by) periods, HTML with charts of cores, RAM and storage over time.
      - The overview is C(<dest>/<name>-tenants-<label>.<ext>), a row per tenant (samples, hours, time-weighted cores,
        used cores, RAM, storage and IPs, the cost parts and total) and a totals row; HTML adds a bar chart of the cost
        per tenant. JSON (C(layout 1), C(kind tenants)) has C(tenants) (the rows, each with its C(file_stem)) and C(totals).
      - The history of every tenant comes from one paged query; costs use O(rates) on the basis O(tenant_basis), and
        O(rates.ip_hour) prices the tenant's IP addresses (C(ip_count)).
    type: raw
    default: false
  tenant_basis:
    description:
      - What O(rates) bill in the tenant reports, as O(vergeio.billing.verge_tenant_usage_info#module:basis). V(allocated)
        bills allocated cores, RAM, storage, GPUs and vGPUs; V(used) what was used; V(provisioned) is V(allocated) with
        provisioned storage.
    type: str
    choices: [allocated, used, provisioned]
    default: allocated
  budgets:
    description:
      - Budgets per calendar month, in the currency of O(rates); needs O(month) and O(rates).
      - For the month of the report the result (RV(budgets)), the JSON, Markdown, HTML and xlsx files show, for the
        system and for each tenant, the month-to-date cost, the forecast for the whole month, the budget and two
        flags, C(over_budget) (the month-to-date cost is above the budget) and C(forecast_over_budget) (the forecast
        is). Owners without a budget get the figures and no flag.
      - "The forecast is the month-to-date cost divided by the hours measured so far, times the hours of the month (its
        real hours on the calendar of O(timezone): 745 for October 2026 in V(Europe/Berlin), 744 in V(UTC)), rounded half
        up to O(rates.precision) decimals. It assumes that the rest of the month looks like the part measured. A month
        that is over is not extrapolated: its forecast is its cost."
    type: dict
    version_added: 0.2.0
    suboptions:
      system:
        description: The system's budget per month (a number of 0 or more).
        type: raw
      tenants:
        description:
          - A tenant's name or C($key) -> its budget per month (needs O(tenants)). A name is matched first, then a
            C($key) (digits that are no tenant's name), as for O(tenants); a deleted tenant is matched by its C($key).
          - An entry that matches no tenant of the report is warned about; a name that two tenants share, or a tenant
            given twice, fails the task.
        type: dict
  tenants_only:
    description:
      - Write only the tenant reports and the overview (O(tenants) must say which), not the system's billing report;
        then no billing record is read, and an open range ends at the last whole second before the task started.
    type: bool
    default: false
notes:
  - Records are read oldest first in pages of 5,000 (C(sort=created)), with only the upper bound pinned; a record
    seen twice while paging is counted once (by C($key)).
  - The totals of the summary (C(total_gpus), C(total_vgpus), C(tiers[].total_gb)) come from the newest record of the
    period, as in the VergeOS Python SDK. Billing figures are not rounded in the JSON and CSV files; Markdown and HTML
    round them for display.
  - 'JSON layout (stable, C(layout: 1)): C(generator), C(layout), C(name), C(period) (as RV(period)), C(rates) (the
    rate card with every key but O(rates.ip_hour), or null), C(summary) (as RV(summary)), C(record_count), C(record_fields) (the names of
    the columns of each record) and C(records): one array per record, oldest first, in C(record_fields) order: C(key),
    C(created_epoch), C(from_epoch), C(to_epoch), C(sent_epoch), C(description), then every counter in the API''s
    unit (cores and counts; C(*_ram) in MB; C(phys_*) and C(tierN_*) in bytes), then with O(rates) the C(cost_*) parts.'
  - An empty period writes files that say "no records" and adds a warning naming the period.
  - A read that fails says how many pages and records it had read; no file is written then.
seealso:
  - module: vergeio.billing.verge_billing_info
'''

EXAMPLES = r'''
- name: October 2026 on the Berlin calendar, four files in reports/
  vergeio.billing.verge_billing_report:
    host: verge.example.com
    api_key: "{{ vergeos_api_key }}"
    month: "2026-10"
    timezone: Europe/Berlin
    dest: reports
    name: verge-prod
    rates:
      core_hour: 0.02
      ram_gb_hour: 0.01
      tier1_gb_hour: 0.0001
      currency: EUR
  delegate_to: localhost
  register: report

- name: Show the total and where the files are
  ansible.builtin.debug:
    msg: "{{ report.summary.cost.total | round(2) }} EUR in {{ report.files.html }}"

- name: The last 30 days as CSV and JSON only, by week (connection from the VERGEOS_* environment variables)
  vergeio.billing.verge_billing_report:
    since: -30d
    dest: /srv/reports/verge
    formats: [csv, json]
    group_by: week
    mode: "0640"
'''

RETURN = r'''
files:
  description:
    - Format -> path of each file of the report (whether it changed or not). Keys are the O(formats) asked for.
  type: dict
  returned: unless O(tenants_only)
  sample:
    csv: /srv/reports/verge-prod-2026-10.csv
    json: /srv/reports/verge-prod-2026-10.json
    markdown: /srv/reports/verge-prod-2026-10.md
    html: /srv/reports/verge-prod-2026-10.html
sha256:
  description: Format -> SHA-256 (hex) of the file's content as written (or, in check mode, as it would be written).
  type: dict
  returned: unless O(tenants_only)
  sample:
    csv: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
changed_files:
  description: Format -> path of the files that changed (or, in check mode, would change); empty when none did.
  type: dict
  returned: unless O(tenants_only)
  sample:
    html: /srv/reports/verge-prod-2026-10.html
period:
  description: The period of the report.
  type: dict
  returned: always
  contains:
    label:
      description: The label in the file names; O(month) itself, or C(<since>_<until>) (local dates for whole days, else
        C(YYYYMMDDTHHMMSS+hhmm)).
      type: str
      sample: "2026-10"
    month:
      description: O(month), or null when the period came from O(since)/O(until).
      type: str
      sample: "2026-10"
    since:
      description: First instant (inclusive), ISO 8601 with the offset of O(timezone).
      type: str
      sample: "2026-10-01T00:00:00+02:00"
    until:
      description: Last instant (inclusive), ISO 8601 with the offset of O(timezone); an open range ends at the newest
        record's C(created).
      type: str
      sample: "2026-10-31T23:59:59+01:00"
    since_epoch:
      description: First instant, Unix epoch seconds (UTC).
      type: int
      sample: 1790805600
    until_epoch:
      description: Last instant, Unix epoch seconds (UTC).
      type: int
      sample: 1793487599
    timezone:
      description: The O(timezone) of the calendar.
      type: str
      sample: Europe/Berlin
summary:
  description:
    - Figures over every record of the period, with the keys, units and formulas of
      M(vergeio.billing.verge_billing_info) RV(vergeio.billing.verge_billing_info#module:summary) (C(record_count),
      averages, peaks, time-weighted means, 95th percentiles, C(tiers), C(hours)), C(cost) with O(rates), and
      C(periods), one per O(group_by) period (C(start)/C(end) with the offset of O(timezone)).
  type: dict
  returned: unless O(tenants_only)
record_count:
  description: Number of records in the period (rows of the CSV, records of the JSON).
  type: int
  returned: unless O(tenants_only)
  sample: 744
tenant_files:
  description: Tenant name -> format -> path of each file of that tenant's report.
  type: dict
  returned: when O(tenants) is set
  sample:
    acme:
      csv: /srv/reports/verge-prod-acme-2026-10.csv
      html: /srv/reports/verge-prod-acme-2026-10.html
tenant_sha256:
  description: Tenant name -> format -> SHA-256 (hex) of the file's content as written (or as it would be, in check mode).
  type: dict
  returned: when O(tenants) is set
tenant_changed_files:
  description:
    - Tenant name -> format -> path of the tenant files that changed (or would change, in check mode); the overview's under
      C((overview)). Empty when none did.
  type: dict
  returned: when O(tenants) is set
tenants_overview:
  description: Format -> path of each file of the tenants overview.
  type: dict
  returned: when O(tenants) is set
  sample:
    html: /srv/reports/verge-prod-tenants-2026-10.html
tenant_count:
  description: Number of tenants reported.
  type: int
  returned: when O(tenants) is set
  sample: 12
budgets:
  description:
    - With O(budgets), the budget figures of the month of the report. Amounts are decimal strings in the currency of
      O(rates), rounded to O(rates.precision) decimals.
  type: dict
  returned: when O(budgets) is set
  version_added: 0.2.0
  contains:
    month:
      description: The calendar month, V(YYYY-MM).
      type: str
      sample: "2026-10"
    currency:
      description: The currency of O(rates).
      type: str
      sample: EUR
    system:
      description:
        - The system's figures (null with O(tenants_only)). C(month_to_date) the cost so far (the total of the
          system's bill); C(forecast) month_to_date / hours_measured x hours_in_month (exact, then rounded; null when
          nothing was measured yet; the cost itself when the month is over); C(budget) (null when none was given);
          C(over_budget) and C(forecast_over_budget); C(hours_measured) and C(hours_in_month) (hours); C(complete)
          (the month is over).
      type: dict
      sample: {month: "2026-10", currency: EUR, complete: false, hours_in_month: 745.0, hours_measured: 320.0,
               month_to_date: "1520.44", forecast: "3539.77", budget: "3000", over_budget: false, forecast_over_budget: true}
    tenants:
      description: The same figures for each tenant of the report, with its C(key) (C($key)) and C(name).
      type: list
      elements: dict
    flagged:
      description: The names of the system and the tenants that are over their budget or forecast to be.
      type: list
      elements: str
      sample: [verge-east, acme]
    over_budget:
      description: Some owner's month-to-date cost is above its budget.
      type: bool
    forecast_over_budget:
      description: Some owner's forecast is above its budget.
      type: bool
tenant_sample_count:
  description: Number of tenant statistics samples read (rows of all tenant CSV files).
  type: int
  returned: when O(tenants) is set
  sample: 8928
'''

from ansible_collections.vergeio.billing.plugins.module_utils._base import new_module, run
from ansible_collections.vergeio.billing.plugins.module_utils._rating import RATES_SPEC
from ansible_collections.vergeio.billing.plugins.module_utils._reports.files import REPORT_FILES_SPEC
from ansible_collections.vergeio.billing.plugins.module_utils._reports.request import BASES, ReportRequest
from ansible_collections.vergeio.billing.plugins.module_utils._reports.system import run_report
from ansible_collections.vergeio.billing.plugins.module_utils._reports.templates import require_jinja
from ansible_collections.vergeio.billing.plugins.module_utils._reports.tenant import merge_tenant_result, run_tenant_reports
from ansible_collections.vergeio.billing.plugins.module_utils._time import GROUPS


def main():
    module = new_module(
        dict(
            month=dict(type='str'),
            since=dict(type='raw'),
            until=dict(type='raw'),
            timezone=dict(type='str', default='UTC'),
            dest=dict(type='path', required=True),
            name=dict(type='str', default='vergeos'),
            rates=dict(type='dict', options=RATES_SPEC),
            group_by=dict(type='str', choices=list(GROUPS), default='day'),
            tenants=dict(type='raw', default=False),
            tenant_basis=dict(type='str', choices=list(BASES), default='allocated'),
            tenants_only=dict(type='bool', default=False),
            budgets=dict(type='dict', options=dict(system=dict(type='raw'), tenants=dict(type='dict'))),
            **REPORT_FILES_SPEC
        ),
        mutually_exclusive=[('month', 'since'), ('month', 'until')],
        required_one_of=[('month', 'since')],
        supports_check_mode=True,
    )
    require_jinja(module, module.params['formats'])
    try:
        request = ReportRequest.from_options(module.params)  # every option checked once, before anything is read
    except ValueError as exc:
        module.fail_json(msg=str(exc))

    def work(client):
        result = {} if request.tenants_only else run_report(client, request, check_mode=module.check_mode, diff=module._diff)
        if request.tenants is not None:
            # the period of the system report (its open end pinned to the newest record), or the asked one
            period = result.get('period') or request.period(request.now - 1)
            extra = run_tenant_reports(client, request, period, check_mode=module.check_mode, diff=module._diff)
            merge_tenant_result(result, extra)
        return result

    run(module, work)


if __name__ == '__main__':
    main()
