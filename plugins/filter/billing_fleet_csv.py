# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vergeio.billing contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
name: billing_fleet_csv
short_description: The fleet report as CSV, one row per system
version_added: 0.1.0
author:
  - vergeio.billing contributors (@vergeio)
description:
  - One row per system, those that failed included (C(status) V(failed) and their C(error)), with C(period_start),
    C(period_end), C(record_count), C(hours), and the time-weighted mean, 95th percentile and peak of CPU cores, RAM
    and storage, GPU and vGPU figures, and the cost columns of P(vergeio.billing.billing_csv#filter) when costs were
    computed.
  - There is no totals row, so every row is a system; the totals are in the JSON report.
  - RFC 4180 CSV with a header row, CRLF line ends, full precision with dot decimals.
options:
  _input:
    description: The fleet report, as returned by the P(vergeio.billing.billing_fleet#filter) filter.
    type: dict
    required: true
'''

EXAMPLES = r'''
- name: Write the fleet report
  ansible.builtin.copy:
    content: "{{ fleet | vergeio.billing.billing_fleet_csv }}"
    dest: /srv/reports/fleet-2026-10.csv
    mode: "0644"
  run_once: true
'''

RETURN = r'''
_value:
  description: The CSV text.
  type: str
'''

from ansible.errors import AnsibleFilterError

from ansible_collections.vergeio.billing.plugins.plugin_utils._report import ReportError, render_fleet_csv


def billing_fleet_csv(fleet):
    try:
        return render_fleet_csv(fleet)
    except ReportError as exc:
        raise AnsibleFilterError(str(exc))


class FilterModule(object):

    def filters(self):
        return {'billing_fleet_csv': billing_fleet_csv}
