# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vergeio.billing contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
name: billing_fleet_html
short_description: The fleet report as one self-contained HTML page with a chart per metric
version_added: 0.1.0
author:
  - vergeio.billing contributors (@vergeio)
description:
  - A single HTML file with inline styles and inline SVG, no JavaScript and no external reference.
  - It names the systems that failed at the top, shows fleet key figures, one table row per system with a fleet total
    row, one chart per metric (CPU cores, RAM, storage, GPUs, vGPUs) with one series per system, drawn from the
    per-period time-weighted means of each system's summary (use
    O(vergeio.billing.verge_billing_info#module:group_by)), and the fleet cost per currency.
options:
  _input:
    description: The fleet report, as returned by the P(vergeio.billing.billing_fleet#filter) filter.
    type: dict
    required: true
'''

EXAMPLES = r'''
- name: Write the fleet report
  ansible.builtin.copy:
    content: "{{ fleet | vergeio.billing.billing_fleet_html }}"
    dest: /srv/reports/fleet-2026-10.html
    mode: "0644"
  run_once: true
'''

RETURN = r'''
_value:
  description: The HTML document.
  type: str
'''

from ansible.errors import AnsibleFilterError

from ansible_collections.vergeio.billing.plugins.plugin_utils._report import ReportError, render_fleet_html


def billing_fleet_html(fleet):
    try:
        return render_fleet_html(fleet)
    except ReportError as exc:
        raise AnsibleFilterError(str(exc))


class FilterModule(object):

    def filters(self):
        return {'billing_fleet_html': billing_fleet_html}
