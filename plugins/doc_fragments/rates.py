# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vergeio.billing contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # The rate card option. It must agree with plugins/module_utils/_summary.py RATES_SPEC and COST_TERMS.
    DOCUMENTATION = r'''
options:
  rates:
    description:
      - A rate card, in price per unit-hour. Every key is optional and counts as 0. With it, the summary (and each of
        its periods) has C(cost), and each record its cost.
      - Each record costs C(used_cores) x O(rates.core_hour) x its hours, plus C(used_ram_gb) x O(rates.ram_gb_hour)
        x hours, plus C(tierN_used_gb) x C(tierN_gb_hour) x hours for each tier, plus C(gpus_used) x
        O(rates.gpu_hour) x hours and C(vgpus_used) x O(rates.vgpu_hour) x hours, where hours is
        max(C(to) - C(from), 0) / 3600. C(storage) is the sum of the tiers; C(total) the sum of the parts.
      - Each rate is a number of 0 or more, or a string holding one (V("0.02")); a bad one fails the task with its key
        and value.
    type: dict
    suboptions:
      core_hour:
        description: Price of one used CPU core for one hour.
        type: raw
      ram_gb_hour:
        description: Price of one GB (1024 MB) of used RAM for one hour.
        type: raw
      tier0_gb_hour:
        description: Price of one GB (1024**3 bytes) used on storage tier 0 for one hour.
        type: raw
      tier1_gb_hour:
        description: Price of one GB used on storage tier 1 for one hour.
        type: raw
      tier2_gb_hour:
        description: Price of one GB used on storage tier 2 for one hour.
        type: raw
      tier3_gb_hour:
        description: Price of one GB used on storage tier 3 for one hour.
        type: raw
      tier4_gb_hour:
        description: Price of one GB used on storage tier 4 for one hour.
        type: raw
      tier5_gb_hour:
        description: Price of one GB used on storage tier 5 for one hour.
        type: raw
      gpu_hour:
        description: Price of one used physical GPU for one hour.
        type: raw
      vgpu_hour:
        description: Price of one used vGPU for one hour.
        type: raw
      currency:
        description: A label copied into every C(cost), for example V(EUR).
        type: str
'''

    # verge_billing_report: the same card, plus the price of an IP address for its tenant reports. A copy of
    # DOCUMENTATION with ip_hour added (a module cannot extend a fragment's suboptions: Ansible merges options one level
    # deep), written out because ansible-test's yamllint reads fragments as plain string assignments.
    TENANT_REPORTS = r'''
options:
  rates:
    description:
      - A rate card, in price per unit-hour. Every key is optional and counts as 0. With it, the summary (and each of
        its periods) has C(cost), and each record its cost.
      - Each record costs C(used_cores) x O(rates.core_hour) x its hours, plus C(used_ram_gb) x O(rates.ram_gb_hour)
        x hours, plus C(tierN_used_gb) x C(tierN_gb_hour) x hours for each tier, plus C(gpus_used) x
        O(rates.gpu_hour) x hours and C(vgpus_used) x O(rates.vgpu_hour) x hours, where hours is
        max(C(to) - C(from), 0) / 3600. C(storage) is the sum of the tiers; C(total) the sum of the parts.
      - The tenant reports (O(tenants)) bill the tenant statistics instead, as
        O(vergeio.billing.verge_tenant_usage_info#module:rates) does, on the basis O(tenant_basis), and add O(rates.ip_hour).
      - Each rate is a number of 0 or more, or a string holding one (V("0.02")); a bad one fails the task with its key
        and value.
    type: dict
    suboptions:
      core_hour:
        description: Price of one used CPU core for one hour.
        type: raw
      ram_gb_hour:
        description: Price of one GB (1024 MB) of used RAM for one hour.
        type: raw
      tier0_gb_hour:
        description: Price of one GB (1024**3 bytes) used on storage tier 0 for one hour.
        type: raw
      tier1_gb_hour:
        description: Price of one GB used on storage tier 1 for one hour.
        type: raw
      tier2_gb_hour:
        description: Price of one GB used on storage tier 2 for one hour.
        type: raw
      tier3_gb_hour:
        description: Price of one GB used on storage tier 3 for one hour.
        type: raw
      tier4_gb_hour:
        description: Price of one GB used on storage tier 4 for one hour.
        type: raw
      tier5_gb_hour:
        description: Price of one GB used on storage tier 5 for one hour.
        type: raw
      gpu_hour:
        description: Price of one used physical GPU for one hour.
        type: raw
      vgpu_hour:
        description: Price of one used vGPU for one hour.
        type: raw
      ip_hour:
        description:
          - Price of one IP address (the tenant's C(ip_count)) for one hour, in the tenant reports (O(tenants)), on every
            O(tenant_basis).
          - Ignored by the system report, whose billing records count no IP addresses.
        type: raw
      currency:
        description: A label copied into every C(cost), for example V(EUR).
        type: str
'''
