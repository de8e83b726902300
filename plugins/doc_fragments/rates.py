# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vergeio.billing contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # The ONE rate card of the collection (every module that prices usage). It must agree with
    # plugins/module_utils/_specs.py: RATES_SPEC; plugins/module_utils/_rating.py: METRICS and rate_card().
    DOCUMENTATION = r'''
options:
  rates:
    description:
      - A rate card, in price per unit-hour (the rating engine's one card). Every key is optional and counts as 0.
      - Every cost is quantity x unit price, the quantity in unit-hours of one metric (core-hours, GB-hours,
        GPU-hours, vGPU-hours, IP-hours). The system's usage is what its billing records measured over their
        C(from)..C(to) intervals (C(used_cores), C(used_ram) / 1024 GB, C(tier_N_used) / 1024**3 GB, C(gpus), C(vgpus));
        a tenant's is what its statistics samples measured on the chosen basis (allocated, used or provisioned).
      - Each rate is a number of 0 or more, or a string holding one (V("0.02")); a bad one fails the task with its key
        and value, before anything is read.
    type: dict
    suboptions:
      core_hour:
        description: Price of one CPU core for one hour (used cores of the system; a tenant's allocated or used cores).
        type: raw
      ram_gb_hour:
        description: Price of one GB (1024 MB) of RAM for one hour.
        type: raw
      tier0_gb_hour:
        description: Price of one GB (1024**3 bytes) on storage tier 0 for one hour.
        type: raw
      tier1_gb_hour:
        description: Price of one GB on storage tier 1 for one hour.
        type: raw
      tier2_gb_hour:
        description: Price of one GB on storage tier 2 for one hour.
        type: raw
      tier3_gb_hour:
        description: Price of one GB on storage tier 3 for one hour.
        type: raw
      tier4_gb_hour:
        description: Price of one GB on storage tier 4 for one hour.
        type: raw
      tier5_gb_hour:
        description: Price of one GB on storage tier 5 for one hour.
        type: raw
      gpu_hour:
        description: Price of one physical GPU for one hour.
        type: raw
      vgpu_hour:
        description: Price of one vGPU for one hour.
        type: raw
      ip_hour:
        description:
          - Price of one IP address for one hour. Only tenants count IP addresses (C(ip_count) of their statistics);
            billing records count none, so a system's own usage has no IP cost.
        type: raw
      currency:
        description: A label copied into every cost, for example V(EUR) (ISO 4217 for the FOCUS export).
        type: str
      precision:
        description:
          - The decimals of the currency's minor unit (V(2) for EUR or USD, V(0) for JPY), 0 to 8. Shown amounts are
            rounded to it half up, line by line, and a shown total is the sum of the rounded lines it shows; exact
            amounts stay in the JSON results and files.
        type: raw
        default: 2
'''
