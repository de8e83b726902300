#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vergeio.billing contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: verge_billing_generate
short_description: Generate a new VergeOS billing record (a bill for the period since the last one), safely
version_added: 0.1.0
description:
  - Sends C(POST /api/v4/billing_actions) with C({"action":"generate"}) exactly once, so VergeOS creates a new
    billing record covering the time since the previous one.
  - The request is never resent, not even after a timeout, a dropped connection or a server error, because a second
    request could create a second bill. When the outcome is unknown, the module looks for a new record and either
    reports it (with a warning) or fails with a message that says so; it is then up to you to check before
    running it again.
  - With O(min_interval), scheduled runs (cron, AWX schedules) are idempotent; nothing is sent when the newest
    record is younger than O(min_interval).
  - With O(wait=true), waits until the new record appears and returns it.
author:
  - vergeio.billing contributors (@vergeio)
extends_documentation_fragment:
  - vergeio.billing.connection
  - vergeio.billing.connection.ATTRIBUTES
attributes:
  check_mode:
    description:
      - Sends no generate request. Reads the newest record, and reports C(changed=true) unless O(min_interval) says
        nothing would be sent.
    support: full
  diff_mode:
    description: Nothing to show.
    support: none
options:
  wait:
    description:
      - Wait until a record newer than the one before the request appears, and return it as RV(record).
    type: bool
    default: false
  wait_timeout:
    description:
      - Seconds to wait for the new record with O(wait=true). The task fails when it has not appeared by then (the
        request is not resent).
    type: int
    default: 300
  min_interval:
    description:
      - Do nothing when the newest billing record was created less than this long ago; the task then reports
        C(changed=false) and returns that record.
      - The age is measured by VergeOS's clock (the C(Date) header of its answers), the clock that stamps the
        records' C(created), not by the controller's; a difference of a minute or more between the two is reported
        as a warning.
      - Seconds (V(86400)) or a number with a unit, V(30m), V(12h), V(7d), V(2w).
    type: str
  poll_interval:
    description:
      - Seconds between two looks for the new record while waiting.
    type: float
    default: 2
notes:
  - VergeOS also generates billing records on its own schedule (monthly on day 1 by default).
seealso:
  - module: vergeio.billing.verge_billing_info
'''

EXAMPLES = r'''
- name: Generate a billing report and wait for the new record
  vergeio.billing.verge_billing_generate:
    host: verge.example.com
    api_key: "{{ vergeos_api_key }}"
    wait: true
  register: bill

- name: Show the new record's period
  ansible.builtin.debug:
    msg: "Billed {{ bill.record.from_time }} to {{ bill.record.to_time }}"

- name: In a nightly AWX schedule, generate at most one report a day (connection from VERGEOS_* environment variables)
  vergeio.billing.verge_billing_generate:
    min_interval: 23h
'''

RETURN = r'''
api_requests:
  description:
    - One entry per HTTP request the module made, in the order they were made; a request that was retried is one
      entry (see C(tries)). It never holds a credential.
    - Only at verbosity 3 or more (C(-vvv)); also in the result of a failed task.
  type: list
  elements: dict
  returned: when run with C(-vvv) or more
  contains:
    method:
      description: The HTTP method.
      type: str
      returned: always
      sample: GET
    path:
      description: The path of the request, without host or query.
      type: str
      returned: always
      sample: /api/v4/billing
    query:
      description: The query parameters sent (C(fields), C(filter), C(sort), C(limit), C(offset)); never a credential.
      type: dict
      returned: always
      sample: {fields: "$key,created", filter: "created le 1767225600", sort: "-created", limit: 10000, offset: 0}
    status:
      description: The HTTP status of the last try; null when no answer came (a dropped connection, a timeout).
      type: int
      returned: always
      sample: 200
    bytes:
      description: Size of the last answer's body, in bytes (as received, after any content decoding); null without one.
      type: int
      returned: always
      sample: 1873210
    ms:
      description: Milliseconds from the first try to the end of the last, the waits between tries included.
      type: float
      returned: always
      sample: 412.7
    tries:
      description: How many times the request was sent (1 when it was not retried).
      type: int
      returned: always
      sample: 1
changed:
  description: Whether a generate request was sent (or, in check mode, would be).
  type: bool
  returned: always
  sample: true
response:
  description:
    - The body of the server's answer to the generate request; an empty dict when it sent none.
    - Null when nothing was sent (check mode, O(min_interval)).
  type: dict
  returned: always
  sample:
    location: /v4/billing_actions/12
    dbpath: billing_actions/12
    $row: 12
    $key: 12
record:
  description:
    - With O(wait=true), the new record. When O(min_interval) stopped the request, the newest record.
      When the request's outcome was unknown but a new record appeared, that record. Otherwise null.
    - It has the keys, names and units of RV(vergeio.billing.verge_billing_info#module:record).
  type: dict
  returned: always
previous:
  description: The newest record before the request (null when there was none), with the same keys as RV(record).
  type: dict
  returned: always
skipped_reason:
  description: Why nothing was sent, when O(min_interval) stopped the request.
  type: str
  returned: when O(min_interval) stopped the request
  sample: the newest billing record (key 36, created 2026-11-27T05:00:04+00:00) is 3600s old by VergeOS's clock, younger than min_interval (82800s)
'''

from ansible_collections.vergeio.billing.plugins.module_utils._base import new_module, run
from ansible_collections.vergeio.billing.plugins.module_utils._billing import Billing
from ansible_collections.vergeio.billing.plugins.module_utils._time import parse_duration


def main():
    module = new_module(
        dict(
            wait=dict(type='bool', default=False),
            wait_timeout=dict(type='int', default=300),
            min_interval=dict(type='str'),
            poll_interval=dict(type='float', default=2.0),
        ),
        supports_check_mode=True,
    )
    params = module.params
    try:
        min_interval = parse_duration(params['min_interval'], 'min_interval')
        if isinstance(params['wait_timeout'], bool) or params['wait_timeout'] < 0:
            raise ValueError('wait_timeout must be 0 or more seconds, got %r' % params['wait_timeout'])
        if not 0 < params['poll_interval'] <= 3600:
            raise ValueError('poll_interval must be more than 0 and at most 3600 seconds, got %s' % params['poll_interval'])
    except ValueError as exc:
        module.fail_json(msg=str(exc))

    def work(client):
        done = Billing(client).generate(
            check_mode=module.check_mode, wait=params['wait'], wait_timeout=params['wait_timeout'],
            min_interval=min_interval, poll_interval=params['poll_interval'])
        result = dict(changed=done.sent, response=done.response, record=done.record, previous=done.previous)
        if done.skipped_reason:
            result['skipped_reason'] = done.skipped_reason
        if done.warnings:
            result['warnings'] = list(done.warnings)
        return result

    run(module, work)


if __name__ == '__main__':
    main()
