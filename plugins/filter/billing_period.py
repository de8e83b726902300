# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vergeio.billing contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
name: billing_period
short_description: The period of a billing report, from a calendar month or a since/until range
version_added: 0.1.0
author:
  - vergeio.billing contributors (@vergeio)
description:
  - Resolves the period of a billing report once, on the controller, so every call for the report uses the same
    bounds and the files can be named by period.
  - The times are read exactly like O(vergeio.billing.verge_billing_info#module:since) and
    O(vergeio.billing.verge_billing_info#module:until) read them (same code).
positional: now
options:
  _input:
    description:
      - A dict with C(month) (V(2026-10)), or C(since) and optionally C(until). Keys that are null or empty count as
        not given.
      - C(month) covers the calendar month in UTC, from its first second to its last.
      - C(since)/C(until) take Unix epoch seconds, an ISO 8601 date or date and time (UTC when no offset is given),
        V(now), or a relative time such as V(-30d). A date alone as C(until) means the end of that day. Without
        C(until), the period ends now.
    type: dict
    required: true
  now:
    description:
      - The current time in Unix epoch seconds, for relative times and a missing C(until). Defaults to the clock.
    type: int
'''

EXAMPLES = r'''
- name: October 2026
  ansible.builtin.debug:
    msg: "{{ {'month': '2026-10'} | vergeio.billing.billing_period }}"
  # label: 2026-10, since: 2026-10-01T00:00:00+00:00, until: 2026-10-31T23:59:59+00:00

- name: The first half of October
  ansible.builtin.set_fact:
    period: "{{ {'since': '2026-10-01', 'until': '2026-10-15'} | vergeio.billing.billing_period }}"
  # period.label: 2026-10-01_2026-10-15
'''

RETURN = r'''
_value:
  description: The resolved period.
  type: dict
  contains:
    label:
      description:
        - A name for files, V(2026-10) for a month, otherwise C(SINCE_UNTIL) where each bound is a date when it is the
          start (since) or the end (until) of a UTC day, and C(YYYYMMDDTHHMMSSZ) otherwise.
      type: str
      sample: 2026-10
    month:
      description: The month, when the period is one; null otherwise.
      type: str
      sample: 2026-10
    since:
      description: Start, inclusive, ISO 8601 UTC.
      type: str
      sample: "2026-10-01T00:00:00+00:00"
    until:
      description: End, inclusive, ISO 8601 UTC.
      type: str
      sample: "2026-10-31T23:59:59+00:00"
    since_epoch:
      description: Start, Unix epoch seconds.
      type: int
      sample: 1790812800
    until_epoch:
      description: End, Unix epoch seconds.
      type: int
      sample: 1793491199
'''

from ansible.errors import AnsibleFilterError

from ansible_collections.vergeio.billing.plugins.plugin_utils._report import ReportError, resolve_period


def billing_period(value, now=None):
    if not isinstance(value, dict):
        raise AnsibleFilterError('billing_period expects a dict with month, or since and until; got %s' % type(value).__name__)
    unknown = sorted(set(value) - set(['month', 'since', 'until']))
    if unknown:
        raise AnsibleFilterError('billing_period: unknown key(s) %s; use month, since, until' % ', '.join(map(str, unknown)))
    try:
        return resolve_period(value.get('month'), value.get('since'), value.get('until'), now=now)
    except ReportError as exc:
        raise AnsibleFilterError(str(exc))


class FilterModule(object):

    def filters(self):
        return {'billing_period': billing_period}
