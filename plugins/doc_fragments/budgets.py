# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vergeio.billing contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # The monthly budgets of verge_billing_report, verge_billing_info and verge_tenant_usage_info. It must agree with
    # plugins/module_utils/_specs.py: BUDGETS_SPEC; plugins/module_utils/_budget.py: parse_budgets() and status().
    DOCUMENTATION = r'''
options:
  budgets:
    description:
      - Budgets per calendar month, in the currency of O(rates); needs O(month) and O(rates).
      - For that month the result (RV(budgets)) shows, for the system and for each tenant, the month-to-date cost, the
        forecast for the whole month, the budget and two flags, C(over_budget) (the month-to-date cost is above the
        budget) and C(forecast_over_budget) (the forecast is). Owners without a budget get the figures and no flag.
      - "The forecast is the month-to-date cost divided by the hours measured so far, times the hours of the month (its
        real hours on the calendar of O(timezone): 745 for October 2026 in V(Europe/Berlin), 744 in V(UTC)), computed
        exactly and rounded half up to O(rates.precision) decimals. It assumes that the rest of the month looks like
        the part measured. A month that is over is not extrapolated: its forecast is its month-to-date cost."
    type: dict
    version_added: 0.2.0
    suboptions:
      system:
        description: The system's budget per month (a number of 0 or more).
        type: raw
      tenants:
        description:
          - A tenant's name or C($key) -> its budget per month. A name is matched first, then a C($key) (digits that
            are no tenant's name), as tenants are selected; a deleted tenant is matched by its C($key).
          - An entry that matches no tenant is warned about; a name that two tenants share, or a tenant given twice,
            fails the task.
        type: dict
'''
