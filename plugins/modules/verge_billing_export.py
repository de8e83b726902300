#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vergeio.billing contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: verge_billing_export
short_description: Write the FOCUS 1.2 cost and usage export of a VergeOS system for one billing period
version_added: 0.2.0
description:
  - Writes the L(FOCUS,https://focus.finops.org/) 1.2 Cost and Usage dataset (the FinOps Open Cost and Usage
    Specification of the FinOps Foundation) of one VergeOS system for one billing period, so that its costs land
    beside public-cloud costs in FinOps tools (the FinOps toolkit, DuckDB, Spark, Trino, Athena, BigQuery).
  - The usage comes from the system's billing records (and, with O(tenants), the tenants' statistics history), read
    once through the VergeOS REST API v4, each measurement prorated to the part of its interval inside each charge
    period (O(charge_period)), and priced with O(rates). Costs are exact, not rounded (rounding belongs to invoices).
  - Without O(tenants) the rows are the system's. With O(tenants) they are each tenant's (its SubAccount) plus, per
    metric the system measures, the rest of the system's usage with no SubAccount and C(x_Unallocated=true) (the
    provider's own workloads and what no tenant pays for), so the account's total is the system's total plus the
    tenants' IP addresses (billing records count no IP address) and nothing is counted twice.
  - 'Files, as AWS Data Exports lay them out: C(<dest>/data/BILLING_PERIOD=<label>/<account>.csv.gz) (or C(.csv),
    C(.parquet)) and, written last, C(<dest>/metadata/BILLING_PERIOD=<label>/<account>-Manifest.json). C(<label>) is
    O(month), or C(<since>_<until>) like M(vergeio.billing.verge_billing_report) names its files; C(<account>) is
    O(billing_account_id) with characters other than letters, digits, C(.), C(_) and C(-) as C(_).'
  - Each system writes only its own files, so many systems (and AWX job slices) share one O(dest) with nothing to
    merge. A rerun over unchanged data changes nothing; a changed period replaces that system's files of that period
    atomically (and removes its file of that period in another O(file_format)).
  - O(rates) must be given (FOCUS is about cost), with O(rates.currency) an ISO 4217 code such as V(EUR) (the
    BillingCurrency). Its unit prices are ListUnitPrice and ContractedUnitPrice; PricingQuantity x unit price is the cost.
  - The docs site's FinOps guide maps every VergeOS figure to its FOCUS row and shows how to query the exports.
author:
  - vergeio.billing contributors (@vergeio)
extends_documentation_fragment:
  - vergeio.billing.connection
  - vergeio.billing.connection.ATTRIBUTES
  - vergeio.billing.rates
requirements:
  - pyarrow, for O(file_format=parquet) only.
attributes:
  check_mode:
    description: Reads the usage and writes the files in a private temporary directory; nothing in O(dest) is touched.
      RV(changed_files) says which files would change.
    support: full
  diff_mode:
    description: Lists the files that change (or would change) and the files removed.
    support: full
options:
  month:
    description:
      - The billing period as a calendar month, V(YYYY-MM), in O(timezone); V(previous) or V(current) as in
        M(vergeio.billing.verge_billing_report) O(vergeio.billing.verge_billing_report#module:month).
      - Give O(month), or O(since) (and optionally O(until)).
    type: str
  since:
    description:
      - The first instant of the billing period (inclusive), in the forms of
        M(vergeio.billing.verge_billing_report) O(vergeio.billing.verge_billing_report#module:since).
    type: raw
  until:
    description:
      - The last instant of the billing period (inclusive); a date alone is the last second of that day in O(timezone).
      - Without it the period ends at the last whole second before the task started.
    type: raw
  timezone:
    description:
      - The calendar of O(month), of dates in O(since)/O(until) and of the V(day) charge periods; an IANA time zone
        name like V(Europe/Berlin). FOCUS times in the files are UTC (V(YYYY-MM-DDTHH:mm:ssZ)); a local day has 23 or
        25 hours on a daylight saving change.
    type: str
    default: UTC
  tenants:
    description:
      - V(true) (or V(all)) for every tenant that is not a snapshot, or a list of tenant names or C($key)s, as
        M(vergeio.billing.verge_billing_report) O(vergeio.billing.verge_billing_report#module:tenants). Each
        tenant's lines become its SubAccount (C(SubAccountId) C(<billing_account_id>-tenant-<$key>), C(SubAccountType)
        V(Tenant)); V(false) (the default) exports the system's lines only.
      - With V(true), a tenant deleted during the period is billed for its samples as C(tenant <$key> (deleted)),
        with a warning.
    type: raw
    default: false
  tenant_basis:
    description: What the tenants are billed for, as M(vergeio.billing.verge_billing_report) O(vergeio.billing.verge_billing_report#module:tenant_basis).
    type: str
    choices: [allocated, used, provisioned]
    default: allocated
  charge_period:
    description:
      - The charge periods (ChargePeriodStart/End) of the rows. V(day) is a local day of O(timezone); V(hour) a UTC
        hour (a zone with a half-hour offset has half hours at the ends of the period). A charge period never crosses
        the billing period.
    type: str
    choices: [day, hour]
    default: day
  dest:
    description:
      - The directory of the export (its C(data/) and C(metadata/) folders), on the host the module runs on.
        Created when missing. Many systems may share one (AWX job slices); each writes only its own account's files.
      - The first export of a billing account claims its file name in C(DEST/.vergeio-billing/focus+ACCOUNT.owner). An
        export of another system, or of another billing account whose name makes the same file name (C(acme (prod))
        and C(acme [prod])), fails before anything is read and names the owner, instead of replacing its rows. An
        export written before claims existed is recognised by its manifest.
    type: path
    required: true
  name:
    description:
      - The system's name (C(x_System), C(ResourceName) of the system's rows, and the default of
        O(billing_account_name)).
    type: str
    default: vergeos
  file_format:
    description: V(csv) (RFC 4180, UTF-8, a header row) or V(parquet) (needs pyarrow; fails with a message naming it without).
    type: str
    choices: [csv, parquet]
    default: csv
  compression:
    description: V(gzip) (the default for CSV) or V(none). Parquet files compress their own columns (zstd); only V(none) applies.
    type: str
    choices: [gzip, none]
  billing_account_id:
    description:
      - BillingAccountId. Default O(billing_account_name) with characters other than letters, digits, C(.), C(_) and C(-)
        as C(_). It must not read as a number (a CSV reader would type the column as a number).
    type: str
  billing_account_name:
    description: BillingAccountName. Default O(name).
    type: str
  provider_name:
    description: ProviderName, who sells the service. Default O(billing_account_name).
    type: str
  invoice_issuer_name:
    description:
      - InvoiceIssuerName. Default O(provider_name). FOCUS requires BilledCost 0 where the issuer is not the
        provider (a marketplace); this export bills the provider's own usage, so set it only when the two names differ
        for the same seller.
    type: str
  publisher_name:
    description: PublisherName. Default O(provider_name).
    type: str
  invoice_id:
    description:
      - InvoiceId, a template with C({account}) (O(billing_account_id)), C({sub_account}) (the SubAccountId, or
        O(billing_account_id) for the rows without a SubAccount) and C({period}) (the label).
      - The default V({sub_account}-{period}) is one invoice per tenant per billing period, and one of the account for
        its own rows (the Unallocated ones with O(tenants), every row without); InvoiceId is never null.
    type: str
  region_id:
    description: RegionId of every row (where the system stands), when the provider names regions. Must not read as a number.
    type: str
  region_name:
    description: RegionName. Default O(region_id).
    type: str
  mode:
    description: Permissions of the files, as octal text like V('0644'). Default the umask's (or the current file's).
    type: raw
notes:
  - 'Columns: every FOCUS 1.2 Mandatory column; the Conditional ones that apply to a VergeOS provider (SubAccountId,
    SubAccountName, SubAccountType, ResourceId, ResourceName, ResourceType, ConsumedQuantity, ConsumedUnit,
    PricingQuantity, PricingUnit, ListUnitPrice, ContractedUnitPrice, SkuId, SkuPriceId, SkuMeter, SkuPriceDetails,
    RegionId, RegionName); the Recommended InvoiceId, ChargeFrequency and ServiceSubcategory; CommitmentDiscountStatus
    and the PricingCurrency columns, null; then C(x_Metric), C(x_System), C(x_TenantBasis), C(x_TenantKey),
    C(x_TenantState) and C(x_Unallocated).'
  - Units are FOCUS UnitFormat (C(Core-Hours), C(GiB-Hours), C(GPU-Hours), C(vGPU-Hours), C(IP Address-Hours)); the
    collection's GB is 1024^3 bytes, which FOCUS calls a GiB. A metric with no usage in a charge period has no row.
  - A negative Unallocated (the tenants billed more than the system measured) is written as it is, with a warning, so
    that the account's total stays the system's.
seealso:
  - module: vergeio.billing.verge_billing_report
'''

EXAMPLES = r'''
- name: October 2026 of one system, with its tenants as SubAccounts, in the Berlin calendar
  vergeio.billing.verge_billing_export:
    host: verge-east.example.com
    api_key: "{{ vergeos_api_key }}"
    month: "2026-10"
    timezone: Europe/Berlin
    name: verge-east
    tenants: true
    dest: /srv/finops/vergeos
    rates: {core_hour: 0.02, ram_gb_hour: 0.01, tier1_gb_hour: 0.0001, ip_hour: 0.005, currency: EUR}
  delegate_to: localhost

- name: A year of hourly charge periods as Parquet
  vergeio.billing.verge_billing_export:
    since: "2025-01-01"
    until: "2025-12-31"
    charge_period: hour
    file_format: parquet
    dest: /srv/finops/vergeos
    rates: {core_hour: 0.02, currency: USD}
'''

RETURN = r'''
files:
  description: The data file and the manifest (whether they changed or not).
  type: dict
  returned: success
  sample:
    data: /srv/finops/vergeos/data/BILLING_PERIOD=2026-10/verge-east.csv.gz
    manifest: /srv/finops/vergeos/metadata/BILLING_PERIOD=2026-10/verge-east-Manifest.json
changed_files:
  description: The files of RV(files) that changed (or would change, in check mode).
  type: dict
  returned: success
removed_files:
  description: Files of the same account and period in another file format, removed (or that would be).
  type: list
  elements: str
  returned: success
sha256:
  description: SHA-256 (hex) of the data file as written (the manifest holds it too).
  type: dict
  returned: success
size:
  description: Size of the data file in bytes.
  type: dict
  returned: success
row_count:
  description: Number of rows of the data file.
  type: int
  returned: success
  sample: 4216
focus_version:
  description: The FOCUS version of the dataset.
  type: str
  returned: success
  sample: "1.2"
billing_account_id:
  description: The BillingAccountId of the rows.
  type: str
  returned: success
  sample: verge-east
period:
  description: The billing period, as RV(vergeio.billing.verge_billing_report#module:period) of M(vergeio.billing.verge_billing_report)
    (BillingPeriodStart is C(since_epoch), BillingPeriodEnd C(until_epoch) + 1 second).
  type: dict
  returned: success
totals:
  description: Exact sums of BilledCost, in the currency of O(rates) (floats, not rounded).
  type: dict
  returned: success
  contains:
    billed_cost:
      description: Every row (the account for the period).
      type: float
    unallocated:
      description: The rows with C(x_Unallocated=true); null without O(tenants).
      type: float
    sub_accounts:
      description: SubAccountId -> the sum of its rows.
      type: dict
    invoices:
      description: InvoiceId -> the sum of its rows.
      type: dict
    currency:
      description: The BillingCurrency.
      type: str
tenant_count:
  description: Number of tenants exported as SubAccounts (deleted ones included).
  type: int
  returned: success
'''

from ansible.module_utils.basic import missing_required_lib

from ansible_collections.vergeio.billing.plugins.module_utils._base import new_module, run
from ansible_collections.vergeio.billing.plugins.module_utils._reports.focus import (
    CHARGE_PERIODS, COMPRESSIONS, FILE_FORMATS, export_settings, pyarrow_missing, run_export,
)
from ansible_collections.vergeio.billing.plugins.module_utils._reports.request import ReportRequest
from ansible_collections.vergeio.billing.plugins.module_utils._specs import REQUEST_RULES, REQUEST_SPEC


def main():
    module = new_module(
        dict(
            REQUEST_SPEC,
            charge_period=dict(type='str', choices=list(CHARGE_PERIODS), default='day'),
            file_format=dict(type='str', choices=list(FILE_FORMATS), default='csv'),
            compression=dict(type='str', choices=list(COMPRESSIONS)),
            billing_account_id=dict(type='str'),
            billing_account_name=dict(type='str'),
            provider_name=dict(type='str'),
            invoice_issuer_name=dict(type='str'),
            publisher_name=dict(type='str'),
            invoice_id=dict(type='str'),
            region_id=dict(type='str'),
            region_name=dict(type='str'),
            mode=dict(type='raw'),
        ),
        supports_check_mode=True,
        **REQUEST_RULES
    )
    try:
        # every option checked once, before anything is read: the period, rates, tenants and files as a report's
        request = ReportRequest.from_options(dict(module.params, formats=['json']))
        settings = export_settings(module.params, request)
    except ValueError as exc:
        module.fail_json(msg=str(exc))
    if settings['file_format'] == 'parquet':
        error = pyarrow_missing()
        if error:
            module.fail_json(msg=missing_required_lib('pyarrow', reason='for file_format=parquet'), exception=error)

    run(module, lambda client: run_export(client, request, settings, check_mode=module.check_mode, diff=module._diff))


if __name__ == '__main__':
    main()
