# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vergeio.billing contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # The file options of the modules that write reports (verge_billing_fleet_report, verge_billing_report: a module may
    # replace the description of formats, and keeps the rest). They must agree with REPORT_FILES_SPEC, CsvStyle and
    # parse_mode() in plugins/module_utils/_reports/files.py.
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
  csv_delimiter:
    description:
      - The character between the cells of every CSV file the module writes. V(;) is what a spreadsheet set to a
        language with a decimal comma (German, French, ...) expects, together with O(csv_decimal=,).
    type: str
    choices: [',', ';']
    default: ','
  csv_decimal:
    description:
      - The decimal mark of the numbers with a fraction in the CSV files (V(1.5) or V(1,5)); integers have none and no
        number has a thousands separator. The JSON files always have V(.).
      - V(,) needs O(csv_delimiter=;) (with both a comma a number would be read as two cells); the task fails
        otherwise, before anything is read or written.
    type: str
    choices: ['.', ',']
    default: '.'
  csv_bom:
    description:
      - Start every CSV file with a UTF-8 byte order mark, so that Excel on Windows reads the file as UTF-8 (names
        with accents, C(€)) when it is opened with a double click.
    type: bool
    default: false
'''
