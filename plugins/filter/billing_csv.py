# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vergeio.billing contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
name: billing_csv
short_description: Billing records as CSV that opens cleanly in a spreadsheet
version_added: 0.1.0
author:
  - vergeio.billing contributors (@vergeio)
description:
  - Turns the records of M(vergeio.billing.verge_billing_info) (O(vergeio.billing.verge_billing_info#module:view=records))
    into CSV text, one row per record, in the order given.
  - The columns are the record's keys, with the names and units of
    RV(vergeio.billing.verge_billing_info#module:record) (RAM in MB and GB, storage in bytes and GB, times both as
    ISO 8601 UTC and as Unix epoch seconds), in the order the module documents them.
  - When the records have a C(cost) (the module was given O(vergeio.billing.verge_billing_info#module:rates)), the
    columns C(cost_cpu), C(cost_ram), C(cost_tier0) to C(cost_tier5), C(cost_storage), C(cost_gpu), C(cost_vgpu),
    C(cost_total) and C(currency) follow.
  - RFC 4180 CSV with a header row and CRLF line ends. Numbers keep their full precision with a dot as the decimal mark;
    a missing value is an empty cell.
  - Text that a spreadsheet would take for a formula (a C(description) starting with C(=), C(+), C(-) or C(@)) gets a
    leading apostrophe.
options:
  _input:
    description: The records, for example RV(vergeio.billing.verge_billing_info#module:records).
    type: list
    elements: dict
    required: true
'''

EXAMPLES = r'''
- name: Read October's records with their cost
  vergeio.billing.verge_billing_info:
    since: "2026-10-01"
    until: "2026-10-31"
    rates:
      core_hour: 0.02
      ram_gb_hour: 0.01
      currency: EUR
  register: october

- name: Write them as CSV, oldest first
  ansible.builtin.copy:
    content: "{{ october.records | reverse | list | vergeio.billing.billing_csv }}"
    dest: /srv/reports/billing-2026-10.csv
    mode: "0644"
'''

RETURN = r'''
_value:
  description: The CSV text.
  type: str
  sample: |
    key,created,created_epoch,from_time,from_epoch,...,cost_total,currency
    36,2026-10-01T01:00:04+00:00,1790816404,2026-10-01T00:00:00+00:00,1790812800,...,1.9234,EUR
'''

from ansible.errors import AnsibleFilterError

from ansible_collections.vergeio.billing.plugins.plugin_utils._report import ReportError, render_csv


def billing_csv(records):
    if not isinstance(records, (list, tuple)):
        raise AnsibleFilterError('billing_csv expects a list of billing records, got %s' % type(records).__name__)
    try:
        return render_csv(records)
    except ReportError as exc:
        raise AnsibleFilterError(str(exc))


class FilterModule(object):

    def filters(self):
        return {'billing_csv': billing_csv}
