# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vergeio.billing contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The argument specs the modules share, in one place: the domain code (rating engine, reports) holds none.

Each is documented by a doc fragment (a unit test or ansible-test's validate-modules compares them): ``RATES_SPEC`` by
``vergeio.billing.rates``, ``REPORT_FILES_SPEC`` by ``vergeio.billing.report_files``. The connection options have
their own module (``_connection.py``), which also knows their environment variables.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.vergeio.billing.plugins.module_utils._rating import DEFAULT_PRECISION, RATE_KEYS
from ansible_collections.vergeio.billing.plugins.module_utils._reports.files import CSV_DECIMALS, CSV_DELIMITERS, DEFAULT_FORMATS, FORMATS
from ansible_collections.vergeio.billing.plugins.module_utils._reports.request import BASES

# A rate card: values are taken raw and checked by _rating.rate_card, whose message names the key and the value
# (Ansible's float type would refuse a text rate naming neither).
RATES_SPEC = dict(((key, dict(type='raw')) for key in RATE_KEYS), currency=dict(type='str'), precision=dict(type='raw', default=DEFAULT_PRECISION))

# The file options of the modules that write reports: which files, their permissions, and the CSV dialect.
REPORT_FILES_SPEC = dict(
    formats=dict(type='list', elements='str', choices=list(FORMATS), default=list(DEFAULT_FORMATS)),  # xlsx only when asked (XlsxWriter)
    mode=dict(type='raw'),
    csv_delimiter=dict(type='str', choices=list(CSV_DELIMITERS), default=','),
    csv_decimal=dict(type='str', choices=list(CSV_DECIMALS), default='.'),
    csv_bom=dict(type='bool', default=False),
)

# The argument spec of the options every module that takes a ReportRequest shares (verge_billing_report and
# verge_billing_export): the period on a calendar, the destination, the system's name, the rate card and the tenants.
# Their values are checked by ReportRequest.from_options; the documentation is each module's.
REQUEST_SPEC = dict(
    month=dict(type='str'), since=dict(type='raw'), until=dict(type='raw'), timezone=dict(type='str', default='UTC'),
    dest=dict(type='path', required=True), name=dict(type='str', default='vergeos'), rates=dict(type='dict', options=RATES_SPEC),
    tenants=dict(type='raw', default=False), tenant_basis=dict(type='str', choices=list(BASES), default='allocated'),
)
REQUEST_RULES = dict(mutually_exclusive=[('month', 'since'), ('month', 'until')], required_one_of=[('month', 'since')])

# Monthly budgets (checked by _budget.parse_budgets, whose messages name the key): documented by vergeio.billing.budgets.
BUDGETS_SPEC = dict(type='dict', options=dict(system=dict(type='raw'), tenants=dict(type='dict')))
