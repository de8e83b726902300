# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vergeio.billing contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
name: billing_fleet_markdown
short_description: The fleet report as Markdown
version_added: 0.1.0
author:
  - vergeio.billing contributors (@vergeio)
description:
  - A title, the period, one table row per system with a fleet total row (time-weighted CPU, RAM, storage, GPU and
    vGPU use, cost), and a list of the systems that failed with their errors.
  - Figures are rounded for display.
options:
  _input:
    description: The fleet report, as returned by the P(vergeio.billing.billing_fleet#filter) filter.
    type: dict
    required: true
'''

EXAMPLES = r'''
- name: Write the fleet report
  ansible.builtin.copy:
    content: "{{ fleet | vergeio.billing.billing_fleet_markdown }}"
    dest: /srv/reports/fleet-2026-10.md
    mode: "0644"
  run_once: true
'''

RETURN = r'''
_value:
  description: The Markdown text.
  type: str
'''

from ansible.errors import AnsibleFilterError

from ansible_collections.vergeio.billing.plugins.plugin_utils._report import ReportError, render_fleet_markdown


def billing_fleet_markdown(fleet):
    try:
        return render_fleet_markdown(fleet)
    except ReportError as exc:
        raise AnsibleFilterError(str(exc))


class FilterModule(object):

    def filters(self):
        return {'billing_fleet_markdown': billing_fleet_markdown}
