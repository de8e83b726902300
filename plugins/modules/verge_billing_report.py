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
  - Reads every billing record whose usage overlaps one period from a VergeOS system through its REST API v4
    (C(/api/v4/billing)), once, page by page, and writes the report files itself, where the module runs (the
    controller, with C(delegate_to=localhost)).
  - The report bills by usage, not by C(created). Each record measured the interval C(from) to C(to); the part of
    it inside the period (and inside each O(group_by) period) is billed, prorated by the second. October 2026 in
    V(Europe/Berlin) covers exactly 745 hours; the record of 2026-10-31 23:00-24:00 local (created just after
    midnight) belongs to October, and a monthly bill created on 1 November that measured October belongs to October
    (prorated when it straddles two months).
  - Money comes from the collection's rating engine. With O(rates), every cost line shows the metric, its quantity
    in unit-hours (core-hours, GB-hours, GPU-hours, vGPU-hours), the unit price and the amount, rounded half up to
    O(rates.precision) decimals; a total is the sum of the rounded lines it shows. Exact amounts stay in the JSON
    (C(bill) and C(summary.cost)).
  - The records never pass through Ansible variables. The result holds the paths (RV(files)), their SHA-256
    (RV(sha256)), the period (RV(period)), the summary (RV(summary), the keys of M(vergeio.billing.verge_billing_info)
    O(vergeio.billing.verge_billing_info#module:view=summary)) and the number of records (RV(record_count)).
  - Files are named C(<dest>/<name>-<label>.<ext>) (C(csv), C(json), C(md), C(html)), written to a temporary file in
    O(dest) and renamed into place. A file whose content would not change is left alone and is no change, so a
    rerun over the same records reports C(changed=false).
  - The read stops at the newest record the server holds when the task starts (its C(created)), so a record created
    while the pages are read cannot slip into some files. An open range (no O(until)) ends at that record's
    C(created) as the server holds it (not the controller's clock).
author:
  - vergeio.billing contributors (@vergeio)
extends_documentation_fragment:
  - vergeio.billing.connection
  - vergeio.billing.connection.ATTRIBUTES
  - vergeio.billing.rates
  - vergeio.billing.report_files
  - vergeio.billing.budgets
requirements:
  - Jinja2 and MarkupSafe (they come with ansible-core) for the V(markdown) and V(html) formats.
attributes:
  check_mode:
    description: Reads the records and renders the files in a private temporary directory, writes nothing in
      O(dest) (not even the directory) and says in RV(changed_files) which files would change.
    support: full
  diff_mode:
    description: Lists the files that change (or would change), with what happens to each, and the old total (read
      from the JSON report already in O(dest)) and the new one.
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
        names, letters with a Latin reading are transliterated (C(Zürich) is C(Zurich), C(Москва) is C(Moskva)), other
        characters than letters, digits, C(.), C(_) and C(-) become C(_), and a stem longer than 80 characters is cut
        and ends with C(-) and 8 hex digits of its SHA-256.
      - Each report claims its file names in C(<dest>/.vergeio-billing/<stem>.owner). A report whose names are
        another report's in O(dest) (two systems V(acme (prod\)) and V(acme [prod]) make one stem) fails, naming
        both, before any file is written.
    type: str
    default: vergeos
  formats:
    description:
      - The files to write. V(csv) has one row per record whose usage overlaps the period, oldest first, with every
        record field (times in O(timezone)) and, with O(rates), the cost of its usage inside the period (exact).
        V(json) has the period, rate card, summary, bill and records (see the notes). V(markdown) and V(html) show the
        usage, the cost table (metric, quantity, unit, unit price, amount, total), the O(group_by) periods with their
        amounts and a total row, and (HTML) charts.
      - V(xlsx) (not a default; needs XlsxWriter) is an Excel workbook with the sheets Summary, Costs (the bill), By day
        (or week, month) and Records (a row per record with the figures the bill is made of); with O(tenants) the
        tenants overview is a workbook too (C(<name>-tenants-<label>.xlsx) with the sheets Overview, Lines with every
        tenant's bill lines, and Budgets with O(budgets)), and a tenant's own files are in the other formats only.
        Figures are number cells, amounts in the currency's format with O(rates.precision) decimals, text never a formula.
      - With O(budgets), the JSON (C(budgets); a tenant's C(budget)), Markdown and HTML (a Budget section, with an
        alert when a budget is exceeded or forecast to be) and xlsx files show the budget figures.
    # type, elements, choices and default: from the doc fragment vergeio.billing.report_files
  group_by:
    description:
      - The periods of the summary (C(summary.periods)), of the bill (C(bill.periods)) and of the "By day/week/month"
        table; local days, ISO weeks (from Monday) or months in O(timezone), cut at the period's bounds. A record counts
        in every one its interval overlaps, with the part inside it. The table's amounts are the bill's total
        apportioned by largest remainder (each its exact amount rounded down, the minor units still missing to the
        largest remainders), so the column adds up to the total.
    type: str
    choices: [day, week, month]
    default: day
  return_periods:
    description:
      - Return the O(group_by) periods of the summary (C(summary.periods), about 80 figures each) in the task's result
        too. They are always in the JSON report (C(summary.periods)), and the bill's periods (RV(bill.periods), the
        amounts) are always returned.
      - Off by default since 0.3.0, so that the result stays small whatever the period. A year by day made a result of
        0.8 MB that Ansible took 0.3 s to pass on, that V(-v) prints and that AWX stores with every job event.
    type: bool
    default: false
    version_added: 0.3.0
  tenants:
    description:
      - Also write one report per tenant, from the VergeOS tenant statistics history (as
        M(vergeio.billing.verge_tenant_usage_info) reads it), and a tenants overview.
      - V(true) (or V(all), or another of Ansible's true words such as V(yes)) reports every tenant that is not a tenant
        snapshot; a list reports the tenants with these names or C($key)s (a name that matches no tenant fails the task,
        naming it). V(false) (the default) writes no tenant reports. A single name or C($key) that is not one of these
        words is read as a one-item list (a tenant named like one of the words is selected with a list, V([all])); a
        number alone such as V('1') is a C($key), never a boolean.
      - The tenant reports bill exactly the hours of the period (the system report's, on the same calendar; V(2026-10)
        in V(Europe/Berlin) is 745 hours); each statistics sample stands for the time until the tenant's next sample
        (at most twice the median gap) and only the part inside the period counts, split at each O(group_by) period.
        The sample taken before the start bills its part.
      - Each tenant's files are C(<dest>/<name>-<tenant>-<label>.<ext>) (the tenant's name made a stem as O(name) is;
        a name without a Latin letter or digit, such as one in CJK only, is C(tenant-<$key>), and tenants whose names
        make the same stem get C(-<$key>) appended, with a warning), in every format of O(formats). CSV has one row per
        statistics sample that bills part of the period, oldest first, with the fields of M(vergeio.billing.verge_tenant_usage_info)
        RV(vergeio.billing.verge_tenant_usage_info#module:tenants[].records) (times in O(timezone)) and C(billed_seconds),
        the seconds it bills inside the period. JSON (C(layout 1), C(kind tenant)) has the period, rate card, basis,
        C(summary) (the statistics of RV(vergeio.billing.verge_tenant_usage_info#module:tenants[].summary), each sample
        weighted by its seconds inside the period), C(bill) (as RV(tenant_bills)), C(usage) (unit-hours per metric and
        charge period), C(periods), C(sample_count), C(record_fields) and C(records), one array per sample in
        C(record_fields) order (the API's units). Markdown and HTML show the bill (metric, quantity, unit, unit price,
        amount), the usage and the O(group_by) periods, HTML with charts of cores, RAM and storage over time.
      - The overview is C(<dest>/<name>-tenants-<label>.<ext>), with per tenant the cost of CPU, RAM, storage, GPUs, vGPUs
        and IPs and the total, and the usage in unit-hours; per metric the system's capacity (the newest record's), the
        system's usage (what the system report bills), the tenants' sum and Unallocated (system usage minus the
        tenants', shown as it is when negative, with a warning), in quantity and in cost. IP addresses have no system
        figure. HTML adds a bar chart of the cost per tenant. JSON (C(layout 1), C(kind tenants)) has C(tenants) (the
        rows, each with its C(file_stem)), C(totals), C(metrics) and C(warnings).
      - A tenant deleted during the period is billed for its samples as C(tenant <$key> (deleted)) when every tenant is
        reported, with a warning; negative, null and missing counters count as 0, with a warning.
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
  tenants_only:
    description:
      - Write only the tenant reports and the overview (O(tenants) must say which), not the system's billing report;
        then no billing record is read, and an open range ends at the last whole second before the task started.
    type: bool
    default: false
  validate_only:
    description:
      - Check the options (the period on O(timezone)'s calendar, O(timezone), O(rates), O(formats), O(name), O(mode),
        O(dest), O(group_by), O(tenants), O(tenant_basis), O(tenants_only)) and return, without connecting to VergeOS
        and without writing or creating anything. A bad option fails the task with the message the report would give.
      - The result has only C(changed=false) and RV(period), the period asked for (an open range ends at the last whole
        second before the task started). The role P(vergeio.billing.billing_report#role) runs this once, before any
        system reports, so that a bad O(month), O(timezone), rate card or O(tenants) is said once.
    type: bool
    default: false
    version_added: 0.2.0
  statements:
    description:
      - Also issue one statement per tenant of O(tenants) for the period, an invoice-like document finance can send
        (needs O(tenants) and O(rates)). It shows the issuer (O(issuer)), the customer (O(customers)), the statement
        number (O(statement_number)), the issue date (the day the task runs on the calendar of O(timezone)), the
        period, one line item per metric the rate card prices and the tenant used (quantity in unit-hours such as
        core-hours or GB-hours, unit price, amount rounded half up to O(rates.precision) decimals), then the subtotal
        (the sum of the lines), O(discount), the uplift to O(minimum_charge), O(tax) and the total, in that order; each
        figure is the sum of those shown above it.
      - The quantities are those of the rating engine on O(tenant_basis), prorated to the period's exact hours;
        metrics the rate card does not price (rate 0) and metrics the tenant did not use are left out (they bill 0).
        The lines are the tenant report's bill of the same run (one read of the tenant history), so a statement and its
        tenant report show the same quantities and amounts.
      - Files are C(<dest>/statements/<label>/<name>-<number>.<ext>) (the period's folder, so several systems and months
        share one O(dest); C(<name>) and C(<number>) with the characters of O(name)), C(json) always (the record a rerun
        compares against), and C(md) and C(html) when O(formats) has V(markdown) and V(html). The HTML prints on A4 and
        Letter (line items continue on further pages with the table head repeated); the Markdown renders every name as
        plain text.
      - A statement is never rewritten. A rerun whose lines and amounts are those of the issued statement writes
        nothing (its issue date stays the first). A rerun whose amounts would differ (new rates, late data) fails, naming
        each statement with its old and new totals, before any statement file is written, unless O(reissue=true).
      - Tenants deleted during the period get a statement too (named "tenant <$key> (deleted)", with a warning) when
        O(tenants=true).
    type: bool
    default: false
  issuer:
    description:
      - Who issues the statements; O(issuer.name) is required with O(statements=true).
    type: dict
    suboptions:
      name:
        description: The issuer's name, as on its invoices.
        type: str
      address:
        description: The postal address, as text with new lines or a list of lines.
        type: raw
      tax_id:
        description: The issuer's tax or VAT identification number.
        type: str
      email:
        description: Where customers write about a statement.
        type: str
      payment_terms:
        description: A sentence printed below the total, for example V(Payable within 30 days).
        type: str
  customers:
    description:
      - Who each tenant's statement is made out to; a dict from a tenant's name or C($key) (a C($key) wins over a name)
        to a dict with C(legal_name), C(customer_id), C(cost_center), C(address) (text or a list of lines) and C(email)
        (used by C(playbooks/deliver_statements.yml)), all optional.
      - A tenant without an entry gets a statement made out to its VergeOS name, with the customer ID
        C(tenant-<$key>), and a warning; an entry that matches no tenant of the report is warned about.
    type: dict
  statement_number:
    description:
      - The statement number, a template with the placeholders C({customer_id}), C({tenant_key}) and C({period}) (the
        period's label, V(2026-10) for a month); it must contain C({period}) and C({tenant_key}) or C({customer_id}),
        so that each statement has a number of its own. Any other placeholder is refused.
      - A number is given when a statement is first issued and kept after that, even when this template changes.
    type: str
    default: "{tenant_key}-{period}"
  discount:
    description:
      - A discount on every statement, as a fraction from 0 to 1 (V(0.1) for 10 %) of the subtotal; the discount
        amount is rounded half up to O(rates.precision) decimals.
    type: raw
  minimum_charge:
    description:
      - The least a statement bills before tax, in the rate card's currency. When the discounted subtotal is below it,
        an uplift line brings it up to it. At most O(rates.precision) decimals.
    type: raw
  tax:
    description:
      - A tax on the amount after the discount and the uplift, rounded half up to O(rates.precision) decimals.
    type: dict
    suboptions:
      name:
        description: The tax's name on the statement, for example V(VAT).
        type: str
      rate:
        description: The rate as a fraction from 0 to 1, V(0.19) for 19 %.
        type: raw
  reissue:
    description:
      - When an issued statement's amounts would change, issue a corrected revision C(<number>-R1) (then C(-R2), ...)
        beside it, which names the statement it corrects and the old and new totals, and list it in
        RV(statements_reissued). The issued files are never touched.
      - A revision is also issued when only the issuer's, the customer's or the tenant's details changed (without
        O(reissue), that is a warning).
    type: bool
    default: false
notes:
  - Records are read oldest first in pages of 5,000 (C(sort=created)) with the filter C(to gt START and from lt END and
    created le PIN) (START and END the period, END exclusive, PIN the newest record's C(created)); a record seen twice
    while paging is counted once (by C($key)).
  - A negative counter counts as 0, and a null or missing one as 0; the task warns how many records, which fields and
    the first few keys.
  - The totals of the summary (C(total_gpus), C(total_vgpus), C(tiers[].total_gb)) come from the newest record of the
    period, as in the VergeOS Python SDK. Billing figures are not rounded in the JSON and CSV files; Markdown and HTML
    round them for display.
  - 'JSON layout (stable, C(layout: 1)): C(generator), C(layout), C(name), C(period) (as RV(period)), C(rates) (the
    whole rate card, or null), C(summary) (as RV(summary)), C(bill) (as RV(bill), or null without O(rates)),
    C(record_count), C(record_fields) (the names of the columns of each record) and C(records): one array per record,
    oldest first, in C(record_fields) order: C(key), C(created_epoch), C(from_epoch), C(to_epoch), C(sent_epoch),
    C(description), then every counter in the API''s unit (cores and counts; C(*_ram) in MB; C(phys_*) and C(tierN_*)
    in bytes), then with O(rates) the C(cost_*) parts of the record''s usage inside the period (exact).'
  - An empty period (no record measured usage in it) writes files that say "no records" and adds a warning naming the period.
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

- name: Show the total (the sum of the rounded lines, as the files show it) and where the files are
  ansible.builtin.debug:
    msg: "{{ report.bill.total }} {{ report.bill.currency }} in {{ report.files.html }}"

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
    - Figures over every record whose usage overlaps the period, with the keys, units and formulas of
      M(vergeio.billing.verge_billing_info) RV(vergeio.billing.verge_billing_info#module:summary) with
      O(vergeio.billing.verge_billing_info#module:period_by=usage) (C(record_count), averages, peaks, time-weighted
      means, 95th percentiles, C(tiers), C(hours), the hours of the period the records cover, 745 for October 2026 in
      V(Europe/Berlin)), C(cost) with O(rates) (exact, equal to the bill's lines before rounding), and with
      O(return_periods) C(periods), one per O(group_by) period (C(start)/C(end) with the offset of O(timezone)); the
      JSON report always has them.
  type: dict
  returned: unless O(tenants_only)
bill:
  description:
    - With O(rates), what the system is billed for the period, from the rating engine.
  type: dict
  returned: when O(rates) is given and not O(tenants_only)
  contains:
    owner:
      description: Who is billed; C(kind) V(system), C(key) null, C(name) O(name), C(state) V(active).
      type: dict
    currency:
      description: O(rates.currency).
      type: str
      sample: EUR
    precision:
      description: O(rates.precision), the decimals of the amounts.
      type: int
      sample: 2
    lines:
      description: One line per metric of the system (cores, RAM, storage tiers 0 to 5, GPUs, vGPUs).
      type: list
      elements: dict
      contains:
        metric:
          description: The metric, V(cores), V(ram), V(tier0) .. V(tier5), V(gpus) or V(vgpus).
          type: str
          sample: cores
        label:
          description: The metric as the tables name it.
          type: str
          sample: CPU cores
        quantity:
          description: The usage in the period, in C(quantity_unit) (the level times the hours it held, prorated).
          type: float
          sample: 181307.0
        quantity_unit:
          description: The unit of C(quantity), V(core-hours), V(GB-hours) (GB = 1024**3 bytes, or MB / 1024 for RAM),
            V(GPU-hours) or V(vGPU-hours).
          type: str
          sample: core-hours
        unit_price:
          description: The price of one C(quantity_unit), in C(currency) (the rate of O(rates)).
          type: float
          sample: 0.02
        amount:
          description: C(quantity) x C(unit_price) rounded half up to C(precision) decimals, in C(currency); a decimal
            string (a JSON number would be a binary float, and 0.1 + 0.2 is not 0.3 in one).
          type: str
          sample: "3626.14"
        exact:
          description: C(quantity) x C(unit_price), not rounded, in C(currency).
          type: float
          sample: 3626.14
    total:
      description: The sum of the lines' C(amount), a decimal string in C(currency); what the tables show as Total.
      type: str
      sample: "17490.13"
    exact:
      description: The sum of the lines' C(exact) (equal to C(total) of C(cost) in RV(summary)); it may differ from C(total)
        by the rounding of each line.
      type: float
      sample: 17490.12579
    periods:
      description: The O(group_by) periods with usage, C(period) (label), C(start), C(end) (ISO 8601 with the offset of
        O(timezone), C(end) exclusive), C(amount) (C(total) apportioned by largest remainder, a decimal string; the
        amounts add up to C(total)) and C(exact) (the period's own exact amount).
      type: list
      elements: dict
record_count:
  description: Number of records whose usage overlaps the period (rows of the CSV, records of the JSON).
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
          (the month is over); C(name) (O(name)).
      type: dict
      sample: {name: verge-east, month: "2026-10", currency: EUR, complete: false, hours_in_month: 745.0, hours_measured: 320.0,
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
  description: Number of tenant statistics samples that bill part of the period (rows of all tenant CSV files).
  type: int
  returned: when O(tenants) is set
  sample: 8928
tenant_bills:
  description:
    - Tenant name -> what the tenant is billed for the period, from the rating engine.
  type: dict
  returned: when O(tenants) and O(rates) are set
  contains:
    owner:
      description: The tenant, C(kind) V(tenant), C(key) (its C($key)), C(name) and C(state) (V(active), or V(deleted)).
      type: dict
    currency:
      description: O(rates.currency).
      type: str
    precision:
      description: O(rates.precision), the decimals amounts are rounded to.
      type: int
    lines:
      description:
        - One line per metric, in the order C(cores), C(ram), C(tier0) .. C(tier5), C(gpus), C(vgpus), C(ips).
        - C(metric), C(label), C(quantity) (unit-hours), C(quantity_unit) (V(core-hours), V(GB-hours), V(GPU-hours),
          V(vGPU-hours) or V(IP-hours)), C(unit_price) (per unit-hour, from O(rates)), C(amount) (quantity x unit price
          rounded half up to C(precision) decimals, as text) and C(exact) (not rounded).
      type: list
      elements: dict
    total:
      description: The sum of the lines' rounded amounts, as text (V("1863.61")).
      type: str
    exact:
      description: The sum of the lines' exact amounts.
      type: float
statements:
  description:
    - Tenant name -> the tenant's statement for the period (the newest revision), with O(statements=true).
  type: dict
  returned: when O(statements=true)
  contains:
    number:
      description: The statement number (C(<number>-R<n>) for a revision).
      type: str
      sample: 7-2026-10
    total:
      description: The total, tax included, with the decimals of the currency's minor unit (text, so that no float rounds it).
      type: str
      sample: "1234.56"
    currency:
      description: The rate card's currency.
      type: str
      sample: EUR
    issue_date:
      description: The date the statement was issued (its first issue when nothing changed), on the calendar of O(timezone).
      type: str
      sample: "2026-11-01"
    state:
      description: V(created) (issued now), V(unchanged) (issued before, left alone) or V(reissued) (a new revision now).
      type: str
      sample: created
    tenant_key:
      description: The tenant's C($key).
      type: int
      sample: 7
    files:
      description: Format -> path of the statement's files.
      type: dict
      sample:
        json: /srv/reports/statements/2026-10/verge-prod-7-2026-10.json
        html: /srv/reports/statements/2026-10/verge-prod-7-2026-10.html
    sha256:
      description: Format -> SHA-256 (hex) of each file of the statement that exists.
      type: dict
statements_changed:
  description: Tenant name -> format -> path of the statement files written by this run (or that would be, in check mode).
  type: dict
  returned: when O(statements=true)
statements_reissued:
  description: The corrections this run issued (with O(reissue=true)); empty when none.
  type: list
  elements: dict
  returned: when O(statements=true)
  sample:
    - tenant: acme
      tenant_key: 7
      number: 7-2026-10-R1
      supersedes: 7-2026-10
      old_total: "1234.56"
      new_total: "1301.10"
      difference: "66.54"
      currency: EUR
      files:
        json: /srv/reports/statements/2026-10/verge-prod-7-2026-10-R1.json
'''

from ansible_collections.vergeio.billing.plugins.module_utils._base import new_module, run
from ansible_collections.vergeio.billing.plugins.module_utils._reports.request import ReportRequest
from ansible_collections.vergeio.billing.plugins.module_utils._reports.statement import run_statements
from ansible_collections.vergeio.billing.plugins.module_utils._reports.system import run_report
from ansible_collections.vergeio.billing.plugins.module_utils._reports.templates import require_jinja
from ansible_collections.vergeio.billing.plugins.module_utils._reports.workbook import require_xlsxwriter
from ansible_collections.vergeio.billing.plugins.module_utils._reports.tenant import merge_tenant_result, run_tenant_reports
from ansible_collections.vergeio.billing.plugins.module_utils._specs import BUDGETS_SPEC, REPORT_FILES_SPEC, REQUEST_RULES, REQUEST_SPEC
from ansible_collections.vergeio.billing.plugins.module_utils._time import GROUPS


def main():
    module = new_module(
        dict(
            REQUEST_SPEC,
            group_by=dict(type='str', choices=list(GROUPS), default='day'),
            return_periods=dict(type='bool', default=False),
            tenants_only=dict(type='bool', default=False),
            validate_only=dict(type='bool', default=False),
            # tenant statements (checked by _reports.statement.statement_terms through ReportRequest)
            statements=dict(type='bool', default=False),
            issuer=dict(type='dict', options=dict(name=dict(type='str'), address=dict(type='raw'), tax_id=dict(type='str'),
                                                  email=dict(type='str'), payment_terms=dict(type='str'))),
            customers=dict(type='dict'),
            statement_number=dict(type='str', default='{tenant_key}-{period}'),
            discount=dict(type='raw'),
            minimum_charge=dict(type='raw'),
            tax=dict(type='dict', options=dict(name=dict(type='str'), rate=dict(type='raw'))),
            reissue=dict(type='bool', default=False),
            budgets=BUDGETS_SPEC,
            **REPORT_FILES_SPEC
        ),
        supports_check_mode=True,
        **REQUEST_RULES
    )
    require_jinja(module, module.params['formats'])
    require_xlsxwriter(module, module.params['formats'])
    try:
        request = ReportRequest.from_options(module.params)  # every option checked once, before anything is read
    except ValueError as exc:
        module.fail_json(msg=str(exc))
    if module.params['validate_only']:
        module.exit_json(changed=False, period=request.period(request.now - 1))

    def work(client):
        result, system_lines = {}, None
        if not request.tenants_only:
            result, system_lines = run_report(client, request, check_mode=module.check_mode, diff=module._diff)
            if not module.params['return_periods']:  # in the JSON report; the result stays small (see the option)
                result['summary'] = dict((key, value) for key, value in result['summary'].items() if key != 'periods')
        if request.tenants is not None:
            # the period of the system report (its open end pinned to the newest record), or the asked one; the
            # system's usage lines (None with tenants_only: the tenant reports read them themselves)
            period = result.get('period') or request.period(request.now - 1)
            extra, bills = run_tenant_reports(client, request, period, system_lines=system_lines, check_mode=module.check_mode,
                                              diff=module._diff)
            merge_tenant_result(result, extra)
            if request.statements is not None:  # from the tenant reports' own bills: a statement shows what its report shows
                statements = run_statements(request, period, bills, check_mode=module.check_mode, diff=module._diff)
                merge_tenant_result(result, dict(statements, period=period))
        return result

    run(module, work)


if __name__ == '__main__':
    main()
