# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vergeio.billing contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
name: billing_html
short_description: A billing report as one self-contained HTML page with charts
version_added: 0.1.0
author:
  - vergeio.billing contributors (@vergeio)
description:
  - Renders a billing report as a single HTML file that needs nothing else. Styles are inline, charts are inline SVG,
    there is no JavaScript and no external reference (fonts, images, scripts), so it can be mailed, archived or
    opened offline.
  - The page holds key figures, line charts over time of CPU cores (used and total), RAM (used and total), storage
    used per tier, and GPUs and vGPUs (used and total) drawn from the records, the cost table and rate card when the
    summary has a cost, the usage summary table, and the periods of the summary.
  - Charts draw at most 1000 points per series; longer series are averaged over equal runs of consecutive records.
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
      records:
        description: RV(vergeio.billing.verge_billing_info#module:records) of the same range, for the charts.
        type: list
        elements: dict
      name:
        description: The name of the VergeOS system, shown in the title.
        type: str
      period:
        description: The period, as returned by the P(vergeio.billing.billing_period#filter) filter.
        type: dict
      rates:
        description: The rate card the summary was computed with, listed under the cost table.
        type: dict
'''

EXAMPLES = r'''
- name: Write an HTML report of October
  ansible.builtin.copy:
    content: >-
      {{ {'name': 'verge-east', 'period': {'month': '2026-10'} | vergeio.billing.billing_period,
          'summary': october.summary, 'records': october_records.records} | vergeio.billing.billing_html }}
    dest: /srv/reports/verge-east-2026-10.html
    mode: "0644"
'''

RETURN = r'''
_value:
  description: The HTML document.
  type: str
'''

from ansible.errors import AnsibleFilterError

from ansible_collections.vergeio.billing.plugins.plugin_utils._report import ReportError, render_html


def billing_html(report):
    if not isinstance(report, dict):
        raise AnsibleFilterError('billing_html expects a dict with at least summary, got %s' % type(report).__name__)
    try:
        return render_html(report)
    except ReportError as exc:
        raise AnsibleFilterError(str(exc))


class FilterModule(object):

    def filters(self):
        return {'billing_html': billing_html}
