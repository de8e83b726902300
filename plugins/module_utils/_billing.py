# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vergeio.billing contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The billing resource: list / get / latest / summary / generate over VergeClient.

What it adds to the HTTP client: the ``billing`` and ``billing_actions``
endpoints, the time-range filter, which fields each call needs, and the
never-twice rule of report generation.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re
import time
from collections import namedtuple

from ansible_collections.vergeio.billing.plugins.module_utils._client import OutcomeUnknown, VergeError, format_number, key_path
from ansible_collections.vergeio.billing.plugins.module_utils._records import (
    RAW_FIELDS, ConversionProblems, convert_record, to_int,
)
from ansible_collections.vergeio.billing.plugins.module_utils._rating import Meter, edges, price, rate_card, system_owner
from ansible_collections.vergeio.billing.plugins.module_utils._summary import (
    SUMMARY_RAW_FIELDS, SUMMARY_ROW_FIELDS, TOTAL_FIELDS, Summary, record_costs,
)
from ansible_collections.vergeio.billing.plugins.module_utils._time import iso_in, zone_name

ENDPOINT = 'billing'
ACTIONS = 'billing_actions'
# Rows per request: 100,000 records take 11 requests. 10,000 rather than 5,000 because each request costs the
# server a fixed share of work (filtering and sorting the whole table), which 21 pages pay twice as often:
# docs/benchmarks.md has the figures.
DEFAULT_PAGE_SIZE = 10000
# Rows asked for the newest record (latest_raw): two show whether another record shares its second.
PIN_ROWS = 2
_WORD = re.compile(r'[A-Za-z_$][A-Za-z0-9_$]*')
_QUOTED = re.compile(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"")


def build_filter(since=None, until=None, user_filter=None):
    """The VergeOS filter for a time range (both bounds inclusive) ANDed with the user's filter in parentheses."""
    parts = []
    if user_filter is not None and user_filter.strip():
        check_filter(user_filter)
        parts.append('(%s)' % user_filter.strip())
    if since is not None:
        parts.append('created ge %d' % since)
    if until is not None:
        parts.append('created le %d' % until)
    return ' and '.join(parts) or None


def check_filter(user_filter):
    """Refuse a filter whose parentheses (outside quotes) do not balance: ``a) or (b`` would escape the time range."""
    depth = 0
    for char in _QUOTED.sub("''", user_filter):
        if char == '(':
            depth += 1
        elif char == ')':
            depth -= 1
            if depth < 0:
                break
    if depth != 0:
        raise ValueError('filter: its parentheses do not balance (outside quoted strings), got %r; a filter is wrapped in '
                         'parentheses and ANDed with since/until, and must not close or open more than it uses' % user_filter)


def filter_fields(user_filter):
    """Record fields a user filter refers to (the server wants every filtered field in ``fields``)."""
    if not user_filter:
        return ()
    bare = _QUOTED.sub(' ', user_filter)
    known = set(RAW_FIELDS)
    return tuple(sorted(set(word for word in _WORD.findall(bare) if word in known)))


def _fields(base, user_filter):
    extra = [field for field in filter_fields(user_filter) if field not in base]
    return ','.join(tuple(base) + tuple(extra))


class Billing:
    """Billing records of one VergeOS system."""

    def __init__(self, client, page_size=DEFAULT_PAGE_SIZE, now=None):
        self.client = client
        self.page_size = page_size
        self.problems = ConversionProblems()
        self._now = now

    def now(self):
        return int(time.time()) if self._now is None else self._now

    def server_now(self):
        """Now by VergeOS's clock, which stamps the records' ``created``: this controller's clock moved by the offset
        the newest answer's Date header showed (``client.clock_offset``); this controller's when no answer had one."""
        return self.now() + (getattr(self.client, 'clock_offset', None) or 0)

    def records(self, since=None, until=None, user_filter=None, limit=None, offset=None, rates=None):
        """Converted records, newest first, every one matching (or ``limit`` of them from ``offset``)."""
        rates = rate_card(rates)
        params = dict(fields=_fields(RAW_FIELDS, user_filter), sort='-created', offset=offset or 0)
        query = build_filter(since, until, user_filter)
        if query:
            params['filter'] = query
        rows = self.client.get_all(ENDPOINT, params, self.page_size, limit=limit)
        records = [self._convert(raw) for raw in rows]
        if rates is not None:
            for record, cost in zip(records, record_costs(rows, rates)):
                record['cost'] = cost
        return records

    def _convert(self, raw, rates=None):
        record = convert_record(raw, self.problems)
        if rates is not None:
            record['cost'] = record_costs([raw], rates)[0]
        return record

    def get(self, key, rates=None):
        """One converted record by ``$key``; VergeError (status 404) when it does not exist."""
        try:
            raw = self.client.request('GET', key_path(ENDPOINT, key), params=dict(fields=','.join(RAW_FIELDS)), expect=dict)
        except VergeError as exc:
            if exc.status == 404:
                raise exc.reworded('The billing record with key %s does not exist (HTTP 404 from GET /api/v4/%s)' % (key, key_path(ENDPOINT, key)))
            raise
        if raw is None:
            raise VergeError('Billing record %s: the server answered with an empty body' % key, method='GET', path=key_path(ENDPOINT, key))
        return self._convert(raw, rate_card(rates))

    def latest_raw(self, since=None, until=None, user_filter=None, fields=RAW_FIELDS):
        """The newest raw record (in the range, matching the filter), or None: the greatest (``created``, ``$key``).

        ``created`` has one-second resolution, and the order the server gives records of the same second is not
        documented (the simulator gives the lower ``$key`` first). A record made in the newest record's own second
        (a bill generated at the minute a scheduled one was made) must still be the newest: a summary pinned to
        the older one left it out, and a generate waiting for it never saw it. So the request asks for the newest
        ``PIN_ROWS`` (``sort=-created``) and takes the highest ``$key`` of the newest second; when every row it
        got shares that second, it asks again for eight times as many, until a row of an older second (or the
        end of the records) shows it has them all.
        """
        fields = tuple(fields) + (() if '$key' in fields else ('$key',))
        params = dict(fields=_fields(fields, user_filter), sort='-created', offset=0)
        query = build_filter(since, until, user_filter)
        if query:
            params['filter'] = query
        limit = PIN_ROWS
        while True:
            params['limit'] = limit
            rows = self.client.request('GET', ENDPOINT, params=params, expect=list)
            if rows and not all(isinstance(row, dict) for row in rows):
                raise VergeError('GET /api/v4/%s returned a list holding a %s where objects were expected'
                                 % (ENDPOINT, type(next(row for row in rows if not isinstance(row, dict))).__name__),
                                 method='GET', path=ENDPOINT)
            if not rows:
                return None
            second = to_int(rows[0].get('created'))
            same = [row for row in rows if to_int(row.get('created')) == second]
            if len(same) < len(rows) or len(rows) < limit:
                return max(same, key=lambda row: to_int(row.get('$key')))
            limit *= 8

    def latest(self, since=None, until=None, user_filter=None, rates=None):
        """The newest converted record (in the range, matching the filter), or None when there is none."""
        rates = rate_card(rates)
        raw = self.latest_raw(since, until, user_filter)
        return None if raw is None else self._convert(raw, rates)

    def pin_until(self, since, until, user_filter):
        """(upper bound, newest raw record) of a range: one request (``latest_raw``, ``sort=-created limit=2``).

        The bound is ``until`` when given, else the newest matching record's ``created`` as the server holds it (not
        the controller's clock, which may run behind or ahead of VergeOS); None when no record matches. The newest
        record (every field) is None when there is none; its capacities are the totals of a summary. A VergeOS clock
        running ahead of the controller would otherwise leave its newest records out of "every record".
        """
        newest = self.latest_raw(since, until, user_filter)
        if until is None and newest is not None:
            until = to_int(newest.get('created'), 'created', self.problems)
        return until, newest

    def summary(self, since=None, until=None, user_filter=None, group_by=None, rates=None, zone=None):
        """The summary over every record in the range, fetched page by page with only the fields it needs.

        The upper bound is pinned (pin_until) so records created while paging are not counted: a new record's
        ``created`` is later than the pin, or, within the pin's own second, its ``$key`` is higher than the newest
        record's and ``_not_after`` leaves it out. Rows carry only the
        fields of the per-record figures; the capacities (GPU, vGPU and tier totals) come from the newest record,
        read once by pin_until, except with ``group_by``, where each period takes them from its own newest record
        and every row carries them. Rows are de-duplicated by ``$key`` in the client: a row that still shifts the
        pages repeats a row, which is counted once. Returns (summary, pinned upper bound or None).
        """
        pinned_by_server = until is None
        until, newest = self.pin_until(since, until, user_filter)
        summary = Summary(group_by=group_by, rates=rates, problems=self.problems, zone=zone, totals=bool(group_by))
        if newest is None:
            return summary.result(), until
        summary.newest(newest)
        fields = SUMMARY_ROW_FIELDS + (TOTAL_FIELDS if group_by else ())
        params = dict(fields=_fields(fields, user_filter), sort='-created', filter=build_filter(since, until, user_filter))
        on_page = _not_after(newest, summary.add_rows) if pinned_by_server else summary.add_rows
        self.client.get_all(ENDPOINT, params, self.page_size, on_page=on_page)
        return summary.result(), until

    def usage_summary(self, since, until, user_filter=None, group_by=None, rates=None, zone=None):
        """The summary of the billing period [since, until + 1 s) by usage (``period_by: usage``): every record whose
        ``from``..``to`` overlaps it, each prorated to the seconds inside (``Summary(period=...)``), its costs from
        the rating engine's usage lines (``_usage.Usage.system`` into a ``_rating.Meter`` at the ``group_by``
        charge periods, priced by ``_rating.price``).

        The read is pinned to the newest record the server holds when it starts (its ``created``): a record
        created while the pages are read is left out; an open ``until`` ends there (or, with no record since
        ``since``, at the controller's clock). Returns (summary, until, the filter sent, warnings of the engine:
        negative or null counters counted as 0, the meter: the system's usage lines, owner ``system``).
        """
        # Imported here: _usage imports this module (its endpoint name).
        from ansible_collections.vergeio.billing.plugins.module_utils._usage import Usage  # pylint: disable=import-outside-toplevel
        card = rate_card(rates)
        newest = self.latest_raw(None, None, user_filter)
        pin = None if newest is None else to_int(newest.get('created'), 'created', self.problems)
        if until is None:
            until = pin if pin is not None and pin >= since else self.now()
        start, end = since, until + 1
        summary = Summary(group_by=group_by, rates=card, problems=self.problems, zone=zone, period=(start, end))
        meter = Meter(edges(start, end, group_by, zone))
        usage = Usage(self.client, page_size=self.page_size)
        fields = tuple(SUMMARY_RAW_FIELDS) + tuple(field for field in filter_fields(user_filter) if field not in SUMMARY_RAW_FIELDS)
        usage.system(meter, system_owner('system'), fields=fields, on_page=summary.add_rows, sort='-created', created_until=pin,
                     user_filter=user_filter)
        priced = price(meter.lines(), card) if card is not None else None
        return summary.result(priced), until, usage.sent_filter, usage.anomalies.messages(), meter

    def generate(self, check_mode=False, wait=False, wait_timeout=300, min_interval=None, poll_interval=2.0):
        """Ask VergeOS for a new billing record: one POST, never resent. Returns a Generated.

        - Nothing is sent unless the newest record could be read first (it is what "new" is measured against).
        - When the POST's outcome is unknown (no answer, a dropped connection, a 5xx, a 2xx that is not JSON), the
          records are checked for up to ``min(wait_timeout, 10)`` seconds (30 with ``wait``): a new one means
          success, with a warning; none means a failure that says the request was not resent.
        """
        try:
            before = self.latest_raw()
        except VergeError as exc:
            raise exc.reworded('Nothing was sent: reading the newest billing record before generating a new one failed. %s' % exc.msg)
        previous = None if before is None else self._convert(before)
        notes = []
        if min_interval and previous and previous['created_epoch']:
            # By VergeOS's clock, the one `created` is stamped with: measured by a controller whose clock runs an
            # hour ahead, a record made a minute ago looked an hour old, and min_interval: 1h let a second bill through.
            age = self.server_now() - previous['created_epoch']
            notes = clock_notes(getattr(self.client, 'clock_offset', None))
            if age < min_interval:
                return Generated(False, previous, record=previous, warnings=notes, skipped_reason=(
                    'the newest billing record (key %s, created %s) is %ds old by VergeOS\'s clock, younger than min_interval '
                    '(%ds): nothing sent' % (previous['key'], previous['created'], age, min_interval)))
        if check_mode:
            return Generated(True, previous, warnings=notes)
        unknown = 'The outcome of the generate request is unknown'
        rerun = ('Check the billing records (view: latest) before running this again, or use min_interval so a rerun '
                 'cannot create a second bill.')
        try:
            response = self.client.request('POST', ACTIONS, json_body={'action': 'generate'})
        except OutcomeUnknown as exc:
            grace = min(wait_timeout, 30) if wait else min(wait_timeout, 10)
            try:
                appeared = self._wait_newer(before, grace, poll_interval)
            except VergeError as check:
                raise exc.reworded('%s. %s, and the request was NOT resent; looking for a new billing record failed too (%s). %s'
                                   % (exc.msg.rstrip('.'), unknown, check.msg.rstrip('.'), rerun))
            if appeared is None:
                raise exc.reworded('%s. %s: no new billing record appeared within %ss, but VergeOS may still create it. The '
                                   'request was NOT resent. %s' % (exc.msg.rstrip('.'), unknown, format_number(grace), rerun))
            return Generated(True, previous, record=appeared, warnings=notes + [
                '%s; the request was not resent, and a new billing record (key %s) did appear, so the report was generated.'
                % (exc.msg.rstrip('.'), appeared['key'])])
        response = response if isinstance(response, dict) else ({} if response is None else {'body': response})
        if not wait:
            return Generated(True, previous, response=response, warnings=notes)
        try:
            record = self._wait_newer(before, wait_timeout, poll_interval)
        except VergeError as exc:
            raise exc.reworded('The generate request was accepted, so the report is being generated (the request was not '
                               'resent), but reading the new billing record failed: %s' % exc.msg)
        if record is None:
            raise VergeError(
                'The generate request was accepted, but no new billing record appeared within wait_timeout (%ds). The request '
                'was not resent; raise wait_timeout, or check the billing records later.' % wait_timeout)
        return Generated(True, previous, response=response, record=record, warnings=notes)

    def _wait_newer(self, before, timeout, poll_interval):
        """The first record newer than ``before`` seen within ``timeout`` seconds (converted), else None.

        Looks at least once, and once more at the deadline; a failing look raises (its reads are retried as usual).
        """
        deadline = time.monotonic() + timeout
        marker = _order(before)
        while True:
            raw = self.latest_raw()
            if raw is not None and _order(raw) > marker:
                return self._convert(raw)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            time.sleep(max(0.0, min(poll_interval, remaining)))


def _not_after(newest, add_rows):
    """``add_rows`` for the rows up to ``newest`` by (``created``, ``$key``): the rows of ``newest``'s own second
    that came after it (a higher ``$key``: created after the range was pinned) are left out.

    Under ``sort=-created`` the rows of that second come first, so only the head of a page is looked at.
    """
    created, key = _order(newest)

    def add(rows):
        head = 0
        while head < len(rows) and to_int(rows[head].get('created')) >= created:
            head += 1
        if head:
            rows = [row for row in rows[:head] if _order(row) <= (created, key)] + list(rows[head:])
        return add_rows(rows)
    return add


def _order(raw):
    if raw is None:
        return (-1, -1)
    return (to_int(raw.get('created')), to_int(raw.get('$key')))


# What Billing.generate did, as data: whether a request was (or, in check mode, would be) sent, the newest record
# before it, the server's answer, the new (or, when skipped, the newest) record, why nothing was sent, and warnings
# (VergeOS's clock a minute or more off this controller's; the outcome unknown but a new record appeared).
Generated = namedtuple('Generated', 'sent previous response record skipped_reason warnings', defaults=(None, None, None, ()))

# A difference between VergeOS's clock and this controller's that is worth a word (seconds): a Date header has no
# fraction and the request takes its time, so a few seconds are noise.
CLOCK_NOTE_SECONDS = 60


def clock_notes(offset):
    """A warning (in a list) when VergeOS's clock differs from this controller's by CLOCK_NOTE_SECONDS or more."""
    if offset is None or abs(offset) < CLOCK_NOTE_SECONDS:
        return []
    return ["VergeOS's clock is %ds %s this controller's (the Date of its answers): min_interval is measured by VergeOS's "
            "clock, the one that stamps the records' created times. Check NTP on both." % (abs(offset), 'ahead of' if offset > 0 else 'behind')]


def describe_range(since, until, query, zone=None):
    """What a result says about the range it covers: ISO 8601 times with the offset of ``zone`` (None: UTC), epochs
    (UTC), the zone's name and the filter sent. An unbounded side is null (0 is a bound: 1970-01-01)."""
    return dict(since=iso_in(since, zone), since_epoch=since, until=iso_in(until, zone), until_epoch=until,
                timezone=zone_name(zone), filter=query)
