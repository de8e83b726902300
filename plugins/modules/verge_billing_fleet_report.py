#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vergeio.billing contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: verge_billing_fleet_report
short_description: Consolidate the billing reports of many VergeOS systems into one fleet report
version_added: 0.1.0
author:
  - vergeio.billing contributors (@vergeio)
extends_documentation_fragment:
  - vergeio.billing.report_files
description:
  - Builds one fleet chargeback report from the outcomes of many VergeOS systems and writes it as CSV, JSON,
    Markdown and self-contained HTML into O(dest), named C(NAME-LABEL.EXT) (for example C(fleet-2026-10.html)).
  - "The outcomes come from O(systems) (what the role P(vergeio.billing.billing_report#role)
    sets in C(billing_report_result) and publishes with C(set_stats): the results of the same play, or the artifacts
    of earlier AWX jobs), from O(from_dir) (a directory of per-system JSON reports, which the module reads itself), or
    both."
  - The report has one row per system, the fleet totals (a totals row in the CSV), one chart per metric with a series
    per system, the cost per currency, and the systems that failed, by name and with their error.
  - Totals add up, over the systems that reported, the record counts, hours, time-weighted means (so the total is the
    mean use of the fleet), the GPU, vGPU and tier capacities, and the costs, per currency. Peaks and percentiles do
    not add up across systems, so the totals have none.
  - Amounts in the CSV, Markdown and HTML files are rounded half up to the currency's minor unit (2 decimals unless a
    system's cost gives its C(precision)), per cost part and system; a system's total is the sum of its rounded parts
    and each fleet amount the sum of the systems' amounts shown, so every column adds up to its total row. The JSON
    file and RV(totals) keep the exact amounts. Every CSV row shows the report's period.
  - Files are written as M(vergeio.billing.verge_billing_report) writes them, atomically (a temporary file, then a
    rename). A file whose content would not change is left alone, so a rerun reports no change. Check mode writes
    nothing and says which files would change.
  - Runs where the files are, normally the controller (C(delegate_to=localhost)). Needs Jinja2 there for the
    V(markdown) and V(html) formats (it comes with ansible-core).
  - V(xlsx) in O(formats) writes an Excel workbook (C(NAME-LABEL.xlsx)) with a Summary sheet and a Systems sheet (the
    columns and rows of the CSV file, figures as number cells, amounts in the currency's format with its decimals, the
    total rows below the table, outside its autofilter); it needs the Python library XlsxWriter where the module runs.
options:
  systems:
    description:
      - System outcomes, each a dict with C(name), C(ok) (false when it failed), C(error), C(period) (the period dict of
        M(vergeio.billing.verge_billing_report)), C(summary) (the keys of
        RV(vergeio.billing.verge_billing_info#module:summary)) and C(files) (format to path). Other keys are ignored.
      - A list of them, or a dict of any keys to them (the artifacts the role publishes with C(set_stats), one key
        per system). The name is read from inside each outcome. An artifact key of the role's form
        (C(billing_report_system_...)) that is not the key this version gives the name inside is warned about (an
        artifact of a version before 0.2.0, whose keys could merge two systems of similar names into one).
      - When an outcome's summary has no C(periods) (the role leaves them out of the outcomes it publishes) and its
        C(files.json) can be read, the summary is read from that JSON report, for the per-period charts.
    type: raw
  from_dir:
    description:
      - A directory of per-system JSON reports (as M(vergeio.billing.verge_billing_report) writes them). Every
        C(*.json) file in it (not in subdirectories) that is a system's report (the report module's, or any object with
        a C(name) and a C(summary)) is one system. Fleet reports, the tenant reports (C(kind tenant)) and tenants
        overviews (C(kind tenants)) written beside the system's, other JSON files and reports of another period than
        O(label) are not systems; they are listed in RV(not_systems) with the reason.
      - A C(*.json) entry that cannot be read (a dangling symbolic link, a file this user may not read, not a regular
        file) is listed in RV(not_systems) and warned about, since it may be a system missing from the bill.
      - A system in both O(systems) and O(from_dir) is taken from O(systems) (the outcome of this run wins over a
        report on disk, which may be older).
      - The task fails, naming the file (and the key), for a JSON file that cannot be parsed, a system report of
        another shape (no C(summary), an object or text where a number belongs, C(NaN) or C(Infinity), a negative figure
        or cost), two reports of one system, and, without O(label), reports of more than one period (naming two of them),
        so a damaged or stray report never drops out of, or into, a bill unnoticed.
    type: path
  label:
    description:
      - The period label of the fleet report, in its title and file names.
      - With O(from_dir), only reports of this period label are read (a directory may hold several months); without
        it, the reports of O(from_dir) must all be of one period.
      - Default the systems' own label when they all share one period, else C(START_END) of the span they cover.
    type: str
  dest:
    description: The directory to write the report to. It is created (with mode C(0755)) when missing.
    type: path
    required: true
  name:
    description:
      - The name of the fleet, in the title and file names. In file names it is made a stem as
        O(vergeio.billing.verge_billing_report#module:name) is (transliterated, other characters than letters, digits,
        C(.), C(_) and C(-) as C(_), cut with a hash beyond 80 characters), and the stem is claimed in O(dest).
    type: str
    default: fleet
  allow_empty:
    description:
      - Write a report even when no system was given, or when every system failed. Without it, no system at all fails
        the task (a mistyped O(from_dir) or an empty artifact set should not produce an empty bill quietly), and a fleet
        whose systems all failed writes no files (it warns, and lists the failures in RV(systems) and
        RV(failed_systems)), so an earlier good report of the period is not replaced by a bill of nothing.
    type: bool
    default: false
notes:
  - Supports check mode and diff mode (the files that would change are listed).
attributes:
  check_mode:
    description: Renders the files in a private temporary directory, writes nothing in O(dest) and says in
      RV(changed_files) which files would change.
    support: full
  diff_mode:
    description: Lists the files that change (or would change).
    support: full
requirements:
  - Jinja2 and MarkupSafe (they come with ansible-core) for the V(markdown) and V(html) formats.
  - XlsxWriter for the V(xlsx) format.
seealso:
  - module: vergeio.billing.verge_billing_info
  - module: vergeio.billing.verge_billing_report
    description: Writes the per-system reports the fleet report consolidates.
'''

EXAMPLES = r'''
- name: Consolidate the systems of this play
  vergeio.billing.verge_billing_fleet_report:
    systems: "{{ ansible_play_hosts_all | map('extract', hostvars, 'billing_report_result') | select('defined') | list }}"
    dest: "{{ lookup('ansible.builtin.env', 'PWD') }}/reports"
  delegate_to: localhost
  run_once: true

- name: Consolidate a directory of per-system JSON reports of October
  vergeio.billing.verge_billing_fleet_report:
    from_dir: /srv/reports/2026-10
    label: "2026-10"
    dest: /srv/reports/2026-10
    name: customers
  delegate_to: localhost
  run_once: true
'''

RETURN = r'''
files:
  description: The files of the report, format to path; empty when no system reported and O(allow_empty) is false.
  returned: always
  type: dict
  sample: {csv: /srv/reports/fleet-2026-10.csv, json: /srv/reports/fleet-2026-10.json}
sha256:
  description: The SHA-256 digest (hex) of each file's content, format to digest.
  returned: always
  type: dict
changed_files:
  description: Format -> path of the files that changed (in check mode, would change); empty when none did.
  returned: always
  type: dict
period:
  description:
    - The period of the fleet report, C(label), C(since) and C(until) (ISO 8601) and C(since_epoch), C(until_epoch)
      (Unix seconds, UTC, inclusive), and C(mixed) (the labels) when the systems' periods differ.
  returned: always
  type: dict
totals:
  description:
    - C(systems), C(reported) and C(failed) (counts); the sums over the systems that reported of C(record_count),
      C(hours) (hours), C(twa_cpu_cores) (cores), C(twa_ram_gb), C(twa_storage_used_gb) (GB = MB / 1024 for RAM,
      bytes / 1024^3 for storage), C(twa_gpus_used), C(twa_vgpus_used), C(total_gpus), C(total_vgpus); C(tiers) (per
      tier C(twa_used_gb) and C(total_gb), GB); C(cost_by_currency) (currency to the summed cost, with the keys of
      RV(vergeio.billing.verge_billing_info#module:summary.cost) and C(systems)); C(cost), that entry when there is
      one currency, else null.
  returned: always
  type: dict
failed_systems:
  description: The names of the systems that failed to report.
  returned: always
  type: list
  elements: str
  sample: [verge-west]
systems:
  description: One entry per system, sorted by name, with C(name), C(ok) and C(error) (the summaries are in the JSON report).
  returned: always
  type: list
  elements: dict
not_systems:
  description:
    - The C(*.json) entries of O(from_dir) that are not in the fleet as a system, each with C(path) and C(reason). Fleet
      reports, tenant reports and tenants overviews, other JSON, reports of another period than O(label), reports of a
      system also given in O(systems), and entries that cannot be read (dangling symbolic links, unreadable files; these
      are also warned about).
    - Called C(skipped) before 0.2.0, renamed because Ansible reads a result key C(skipped) as its own (the task showed
      as skipped although the files were written).
  returned: always
  type: list
  elements: dict
  version_added: 0.2.0
  sample: [{path: /srv/reports/verge-east-tenants-2026-10.json, reason: a tenants overview (system verge-east)}]
'''

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.vergeio.billing.plugins.module_utils._reports.fleet import (
    FleetError, artifact_warnings, consolidate, load_reports, outcomes_from, plural, render_csv, render_json, with_periods, write_reports,
)
from ansible_collections.vergeio.billing.plugins.module_utils._reports.files import (
    FORMATS, CsvStyle, parse_mode, removed_warning, safe_name,
)
from ansible_collections.vergeio.billing.plugins.module_utils._reports.templates import require_jinja
from ansible_collections.vergeio.billing.plugins.module_utils._specs import REPORT_FILES_SPEC
from ansible_collections.vergeio.billing.plugins.module_utils._reports.workbook import require_xlsxwriter


def nothing_to_report(params, not_systems):
    """The message when no system was given: what to give, and what from_dir held instead (the first few)."""
    msg = 'no system to report on: give systems (the outcomes the role publishes) or from_dir (a directory of per-system JSON reports)'
    if params['from_dir']:
        msg += '; %s holds no system report%s' % (params['from_dir'], ' of period %s' % params['label'] if params['label'] else '')
        if not_systems:
            msg += ', only %s: %s' % (plural(len(not_systems), 'JSON file that is not one', 'JSON files that are not'),
                                      '; '.join('%s (%s)' % (os.path.basename(item['path']), item['reason']) for item in not_systems[:5]))
    return msg + '. allow_empty=true writes an empty report'


def _bytes(content):
    return content if isinstance(content, bytes) else content.encode('utf-8')


def build(params):
    """(fleet, {format: bytes}, not_systems, warnings) from the module's parameters; no contents when no system reported."""
    outcomes = [with_periods(outcome) for outcome in outcomes_from(params['systems'])]
    not_systems, warnings = [], artifact_warnings(params['systems'])
    if params['from_dir']:
        loaded, not_systems, found = load_reports(params['from_dir'], params['label'])
        warnings += found
        given = set(outcome['name'] for outcome in outcomes)
        for outcome in loaded:
            if outcome['name'] in given:  # the outcome of this run wins over a report on disk (maybe an older one)
                not_systems.append(dict(path=(outcome['files'] or {}).get('json'), reason='system %s is in systems' % outcome['name']))
            else:
                outcomes.append(outcome)
    if not outcomes and not params['allow_empty']:
        raise FleetError(nothing_to_report(params, not_systems))
    fleet = consolidate(outcomes, name=params['name'], label=params['label'])
    if outcomes and not fleet['totals']['reported'] and not params['allow_empty']:
        # A fleet of failures only: no fleet-* files (a bill of nothing would replace the files of an earlier good run
        # of the period); each failure is in the result, and the role fails each of those systems with its error.
        warnings.append('no system reported (%s failed: %s), so no fleet report was written; allow_empty=true writes one'
                        % (len(outcomes), ', '.join(fleet['failed'])))
        return fleet, {}, not_systems, warnings
    style = CsvStyle.from_options(params)
    renderers = dict(csv=lambda report: render_csv(report, style), json=render_json)
    if set(params['formats']) & set(('markdown', 'html')):
        from ansible_collections.vergeio.billing.plugins.module_utils._reports import fleet_render as _fleet_render  # pylint: disable=import-outside-toplevel
        renderers.update(markdown=_fleet_render.render_markdown, html=_fleet_render.render_html)
    if 'xlsx' in params['formats']:
        from ansible_collections.vergeio.billing.plugins.module_utils._reports import fleet_workbook  # pylint: disable=import-outside-toplevel
        renderers['xlsx'] = fleet_workbook.render_xlsx
    contents = dict((fmt, _bytes(renderers[fmt](fleet))) for fmt in FORMATS if fmt in params['formats'])
    return fleet, contents, not_systems, warnings


def main():
    module = AnsibleModule(
        argument_spec=dict(
            systems=dict(type='raw'),
            from_dir=dict(type='path'),
            label=dict(type='str'),
            dest=dict(type='path', required=True),
            name=dict(type='str', default='fleet'),
            allow_empty=dict(type='bool', default=False),
            **REPORT_FILES_SPEC
        ),
        supports_check_mode=True,
    )
    params = module.params
    require_jinja(module, params['formats'])
    require_xlsxwriter(module, params['formats'])
    try:
        mode = parse_mode(params['mode'])
        fleet, contents, not_systems, warnings = build(params)
        stem = '%s-%s' % (safe_name(params['name']), safe_name(fleet['period'].get('label') or 'all', 'label'))
        files, digests, changed, removed = (write_reports(params['dest'], stem, contents, mode, module.check_mode, name=params['name'])
                                            if contents else ({}, {}, {}, []))
    except (FleetError, ValueError) as exc:
        module.fail_json(msg=str(exc))
    for warning in warnings:
        module.warn(warning)
    if removed:
        module.warn(removed_warning(params['dest'], removed))
    result = dict(changed=bool(changed), files=files, sha256=digests, changed_files=changed, period=fleet['period'],
                  totals=fleet['totals'], failed_systems=fleet['failed'], not_systems=not_systems,
                  systems=[dict(name=s['name'], ok=s['ok'], error=s['error']) for s in fleet['systems']])
    if module._diff:
        lines = ['%s %s' % ('would write' if module.check_mode else 'wrote', path) for _fmt, path in sorted(changed.items())]
        result['diff'] = dict(prepared='\n'.join(lines) + '\n' if lines else '')
    module.exit_json(**result)


if __name__ == '__main__':
    main()
