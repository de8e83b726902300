# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vergeio.billing contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # The file options of the modules that write reports (verge_billing_fleet_report, verge_billing_report: a module may
    # replace the description of formats, and keeps the rest). They must agree with plugins/module_utils/_reports/system.py
    # FORMATS and parse_mode().
    DOCUMENTATION = r'''
options:
  formats:
    description:
      - The files to write. V(xlsx) (an Excel workbook) needs the Python library XlsxWriter where the module runs, and
        is written only when asked for.
    type: list
    elements: str
    choices: [csv, json, markdown, html, xlsx]
    default: [csv, json, markdown, html]
  mode:
    description:
      - Permissions of the files, as an octal string like V("0644") (quote it, so YAML keeps the leading zero).
      - Without it, a new file gets the default permissions of the process (0666 less the umask) and a replaced file
        keeps its permissions.
    type: raw
'''
