# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vergeio.billing contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
name: billing_fleet
short_description: Consolidate the billing reports of many VergeOS systems into one fleet report
version_added: 0.1.0
author:
  - vergeio.billing contributors (@vergeio)
description:
  - Takes one result per VergeOS system, as the role R(vergeio.billing.billing_report,ansible_collections.vergeio.billing.billing_report_role)
    sets them in C(billing_report_result), and returns the fleet report, sorted by system name, with fleet totals.
  - The totals add up, over the systems that reported, C(record_count), C(hours), the time-weighted means
    C(twa_cpu_cores), C(twa_ram_gb), C(twa_storage_used_gb), C(twa_gpus_used) and C(twa_vgpus_used) (so the total
    is the mean use of the fleet), the capacities C(total_gpus) and C(total_vgpus), each tier's C(twa_used_gb) and
    C(total_gb), and the costs, per currency.
  - Systems that failed are kept, with their error, and named in RV(_value.failed); they add nothing to the totals.
  - Render the result with P(vergeio.billing.billing_fleet_csv#filter), P(vergeio.billing.billing_fleet_markdown#filter),
    P(vergeio.billing.billing_fleet_html#filter), or C(to_nice_json).
positional: period, name
options:
  _input:
    description:
      - One dict per system with C(name), C(ok) (a boolean), C(error) (the message when it failed) and C(summary)
        (RV(vergeio.billing.verge_billing_info#module:summary), when it did not). Other keys (C(period), C(files)) are
        kept.
    type: list
    elements: dict
    required: true
  period:
    description: The period of the report, as returned by the P(vergeio.billing.billing_period#filter) filter.
    type: dict
  name:
    description: A name for the fleet report.
    type: str
    default: fleet
'''

EXAMPLES = r'''
- name: Consolidate the systems of the play (the role vergeio.billing.billing_report set billing_report_result on each)
  ansible.builtin.set_fact:
    fleet: >-
      {{ ansible_play_hosts | map('extract', hostvars, 'billing_report_result') | list
         | vergeio.billing.billing_fleet(period={'month': '2026-10'} | vergeio.billing.billing_period) }}
  run_once: true

- name: Show the fleet's CPU use and who failed
  ansible.builtin.debug:
    msg: "{{ fleet.totals.twa_cpu_cores | round(1) }} cores in use; failed: {{ fleet.failed | join(', ') or 'none' }}"
'''

RETURN = r'''
_value:
  description: The fleet report.
  type: dict
  contains:
    generator:
      description: V(vergeio.billing.billing_report).
      type: str
    name:
      description: The name of the fleet report.
      type: str
    period:
      description: The period given.
      type: dict
    systems:
      description:
        - One entry per system, by name, with C(name), C(ok), C(error) (null when ok), C(summary) (null when failed),
          C(period) and C(files).
      type: list
      elements: dict
    failed:
      description: The names of the systems that failed.
      type: list
      elements: str
      sample: [verge-west]
    totals:
      description:
        - C(systems), C(reported) and C(failed) counts, the sums named in the description, C(tiers) (one entry per tier
          with C(tier), C(twa_used_gb) and C(total_gb)), C(cost_by_currency) (currency to a cost with the keys of
          RV(vergeio.billing.verge_billing_info#module:summary.cost) and C(systems)), and C(cost), that single entry
          when all systems share one currency, null otherwise.
      type: dict
'''

from ansible.errors import AnsibleFilterError

from ansible_collections.vergeio.billing.plugins.plugin_utils._report import ReportError, consolidate


def billing_fleet(results, period=None, name='fleet'):
    if not isinstance(results, (list, tuple)):
        raise AnsibleFilterError('billing_fleet expects a list of per-system results, got %s' % type(results).__name__)
    try:
        return consolidate(results, period=period, name=name)
    except ReportError as exc:
        raise AnsibleFilterError(str(exc))


class FilterModule(object):

    def filters(self):
        return {'billing_fleet': billing_fleet}
