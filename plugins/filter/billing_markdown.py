# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vergeio.billing contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
name: billing_markdown
short_description: A billing summary as Markdown tables, fit for a ticket or an e-mail
version_added: 0.1.0
author:
  - vergeio.billing contributors (@vergeio)
description:
  - Renders the summary of M(vergeio.billing.verge_billing_info) (O(vergeio.billing.verge_billing_info#module:view=summary))
    as Markdown, a title, the period, a usage table (mean per record, time-weighted mean, 95th percentile, peak and
    capacity of CPU cores, RAM, storage in total and per tier, GPUs and vGPUs), a cost table when the summary has a
    cost, and a table of the periods when it has some.
  - Figures are rounded for display (one decimal, two for GPUs and money) with a dot as the decimal mark and commas
    between thousands.
  - The output depends only on the input, so a report written from it twice is unchanged.
options:
  _input:
    description: The report.
    type: dict
    required: true
    suboptions:
      summary:
        description: RV(vergeio.billing.verge_billing_info#module:summary).
        type: dict
        required: true
      name:
        description: The name of the VergeOS system, shown in the title.
        type: str
      period:
        description: The period, as returned by the P(vergeio.billing.billing_period#filter) filter.
        type: dict
      records:
        description:
          - RV(vergeio.billing.verge_billing_info#module:records) of the same range; optional. The capacity of CPU cores
            and RAM comes from the newest of them.
        type: list
        elements: dict
      rates:
        description: The rate card the summary was computed with, listed under the cost table.
        type: dict
'''

EXAMPLES = r'''
- name: Summarize October with a rate card
  vergeio.billing.verge_billing_info:
    view: summary
    since: "2026-10-01"
    until: "2026-10-31"
    group_by: week
    rates: "{{ rate_card }}"
  register: october

- name: Write the summary as Markdown
  ansible.builtin.copy:
    content: "{{ {'name': 'verge-east', 'summary': october.summary, 'rates': rate_card} | vergeio.billing.billing_markdown }}"
    dest: /srv/reports/verge-east-2026-10.md
    mode: "0644"
'''

RETURN = r'''
_value:
  description: The Markdown text.
  type: str
'''

from ansible.errors import AnsibleFilterError

from ansible_collections.vergeio.billing.plugins.plugin_utils._report import ReportError, render_markdown


def billing_markdown(report):
    if not isinstance(report, dict):
        raise AnsibleFilterError('billing_markdown expects a dict with at least summary, got %s' % type(report).__name__)
    try:
        return render_markdown(report)
    except ReportError as exc:
        raise AnsibleFilterError(str(exc))


class FilterModule(object):

    def filters(self):
        return {'billing_markdown': billing_markdown}
