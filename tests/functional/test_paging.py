# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vergeio.billing contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Paging of view=summary through real ``ansible`` runs: records created while it pages are neither counted twice
nor missed, the request count is what explicit limit/offset paging costs (plus the one request that pins the range
to the newest record), and only the summary's fields are asked for.

Expected figures come from the simulator's own records, not from the module.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import threading
import time
from urllib.parse import parse_qs

import pytest

from conftest import run_module, sim_env  # pylint: disable=import-error
from simulator.vergeos_sim import Simulator  # pylint: disable=import-error

BILLING = '/api/v4/billing'
# Written out here, not imported: the fields a summary needs are part of what this test checks. Each row is asked
# only for what its figures use; the capacities (GPU, vGPU and tier totals) come from the newest record alone.
SUMMARY_FIELDS = set(['$key', 'created', 'from', 'to', 'used_cores', 'total_cores', 'used_ram', 'total_ram', 'gpus',
                      'vgpus'] + ['tier_%d_used' % tier for tier in range(6)])


def pages_for(rows, page_size):
    """Requests explicit paging needs: every full page, then one short (possibly empty) page that ends it."""
    return rows // page_size + 1


def page_requests(sim):
    """The page requests of a summary: GETs of the billing list, without the one (limit=2, PIN_ROWS) that reads the newest record."""
    return [entry for entry in sim.requests_log() if entry['method'] == 'GET' and entry['path'] == BILLING
            and query(entry).get('limit') != '2']


def billing_requests(sim):
    """Every GET of the billing list, in order: the one that pins the range (limit=2), then the pages."""
    return [entry for entry in sim.requests_log() if entry['method'] == 'GET' and entry['path'] == BILLING]


def pin_requests(sim):
    return [entry for entry in sim.requests_log() if entry['method'] == 'GET' and entry['path'] == BILLING
            and query(entry).get('limit') == '2']


def query(entry):
    return dict((name, values[0]) for name, values in parse_qs(entry['query'], keep_blank_values=True).items())


def in_range(sim, until):
    return [record for record in sim.records if int(record['created']) <= until]


def split(requests):
    """The request that pins a summary's range (the newest record: limit 2, so a second record of its second shows), and the pages after it."""
    pin = query(requests[0])
    assert (pin['limit'], pin['sort'], pin['offset']) == ('2', '-created', '0'), pin
    return requests[0], requests[1:]


class BetweenPages(threading.Thread):
    """Calls ``action(number)`` while page request ``number`` (first .. last) is held by a delay fault.

    The request is in the simulator's log as soon as it arrives, and the fault holds its answer for a while: what
    ``action`` changes is what that page, and every later one, is computed from.
    """

    def __init__(self, sim, action, first, last):
        super(BetweenPages, self).__init__(daemon=True)
        self.sim, self.action, self.first, self.last = sim, action, first, last
        self.done = []
        self.stop = threading.Event()

    def run(self):
        number = self.first
        while number <= self.last and not self.stop.is_set():
            if len(billing_requests(self.sim)) >= number:  # request 1 pins the range, 2 is the first page
                self.action(number)
                self.done.append(number)
                number += 1
            else:
                time.sleep(0.005)


def test_records_generated_while_paging_are_not_counted():
    """New bills keep arriving while a 50-row summary pages: the pinned bound keeps every one of them out."""
    with Simulator(records=1000, seed=11) as sim:
        # Each page request waits 0.2 s before it is answered; a bill is generated during that wait, so every
        # page is served with more records than the one before. (Request 1 pins the range; 2 is the first page.)
        sim.add_fault(method='GET', path=BILLING, action='delay', seconds=0.2, times=0)
        generator = BetweenPages(sim, lambda _number: sim.generate(), 2, 7)
        generator.start()
        try:
            run = run_module('verge_billing_info', dict(view='summary', page_size=50), sim_env(sim))
        finally:
            generator.stop.set()
            generator.join()
        assert run.rc == 0, run.output
        until = run.result['range']['until_epoch']
        expected = len(in_range(sim, until))
        assert len(generator.done) == 6 and len(sim.records) == 1006
        assert run.result['summary']['record_count'] == expected
        assert expected == 1000  # the bills generated while it paged were created after the bound: not in the range
        assert until == max(int(record['created']) for record in sim.records[:1000])  # the newest record at the start
        _pin, requests = split(billing_requests(sim))
        assert len(requests) == pages_for(expected, 50) == 21  # 1000 = 20 x 50: the 21st page is the empty one
        assert [int(query(entry)['offset']) for entry in requests] == list(range(0, 1050, 50))
        assert all(query(entry)['filter'] == 'created le %d' % until for entry in requests)


def test_a_row_that_shifts_the_pages_is_counted_once():
    """Records that appear at the top of the range while it pages (created in the very second of the newest
    record, which the range is pinned to) shift the later pages down, so the next page repeats a row already read:
    it is counted once, and nothing is skipped; the new records themselves are not counted."""
    end = int(time.time()) // 3600 * 3600 - 7200
    with Simulator(records=730, seed=12, end=end) as sim:
        original = [dict(record) for record in sim.records]
        quiet = run_module('verge_billing_info', dict(view='summary', rates=dict(core_hour=1)), sim_env(sim))
        assert quiet.rc == 0, quiet.output
        sim.reset_log()
        sim.add_fault(method='GET', path=BILLING, action='delay', seconds=0.2, times=0)

        newest = max(original, key=lambda record: int(record['created']))

        def insert(number):
            # created in the second of the newest original record (so inside the pinned range), after it
            sim.set_records(sim.records + [dict(newest, **{'$key': 10000 + number, 'created': int(newest['created']),
                                                           'used_cores': 10 ** 6})])

        inserter = BetweenPages(sim, insert, 3, 5)  # request 1 pins the range, 2 is page 1
        inserter.start()
        try:
            run = run_module('verge_billing_info', dict(view='summary', page_size=50, rates=dict(core_hour=1)), sim_env(sim))
        finally:
            inserter.stop.set()
            inserter.join()
        assert run.rc == 0, run.output
        # Inserted while pages 2, 3 and 4 were being served (page 1 had already been read): each one shifted the rows
        # after it by one, so pages 2, 3 and 4 each began with a row already read. Those rows count once, and the
        # inserted ones (created after the summary started reading) are not counted: the figures are those of the
        # records that were there when it started, exactly as a quiet run computed them.
        assert inserter.done == [3, 4, 5]
        until = run.result['range']['until_epoch']
        assert until == int(newest['created'])
        assert len(in_range(sim, until)) == 733
        summary = run.result['summary']
        assert summary['record_count'] == len(original) == 730
        assert summary == quiet.result['summary']
        assert summary['peak_cpu_cores'] < 10 ** 6
        # Explicit paging read until a short page: 733 rows in range by then, so 14 full pages and a short one.
        _pin, pages = split(billing_requests(sim))
        assert len(pages) == pages_for(733, 50) == 15


def test_a_record_of_the_pinned_second_created_after_the_pin_is_not_counted():
    """A record created in the same second as the newest one, after the range was pinned and before the first
    page is read, is on that page: it is left out by its higher $key, so the summary is the quiet one."""
    end = int(time.time()) // 3600 * 3600 - 7200
    with Simulator(records=120, seed=14, end=end) as sim:
        quiet = run_module('verge_billing_info', dict(view='summary', rates=dict(core_hour=1)), sim_env(sim))
        assert quiet.rc == 0, quiet.output
        sim.reset_log()
        sim.add_fault(method='GET', path=BILLING, action='delay', seconds=0.3, times=0)
        newest = max(sim.records, key=lambda record: int(record['created']))

        def insert(_number):
            sim.set_records(sim.records + [dict(newest, **{'$key': 5000, 'used_cores': 10 ** 6})])

        inserter = BetweenPages(sim, insert, 2, 2)  # while page 1 is held: the pin has been answered
        inserter.start()
        try:
            run = run_module('verge_billing_info', dict(view='summary', rates=dict(core_hour=1)), sim_env(sim))
        finally:
            inserter.stop.set()
            inserter.join()
        assert run.rc == 0, run.output
        assert inserter.done == [2]
        pin, pages = split(billing_requests(sim))
        assert len(pages) == 1 and pages[0]['bytes'] > 0
        assert run.result['range']['until_epoch'] == int(newest['created'])
        assert len(in_range(sim, int(newest['created']))) == 121  # the new record is inside the time range ...
        assert run.result['summary'] == quiet.result['summary']  # ... but not counted
        assert run.result['summary']['record_count'] == 120 and run.result['summary']['peak_cpu_cores'] < 10 ** 6
        assert pin['time'] < pages[0]['time']


@pytest.mark.parametrize('sharing', [2, 3, 20])
def test_records_sharing_the_newest_second_are_all_counted(sharing):
    """Records of the newest record's own second (a bill generated in the second a scheduled one was made) are all
    counted, and the newest is the highest $key: the simulator, like a stable sort, serves the lower $key of a second
    first, and a summary pinned to it left the others out as "created after the pin"."""
    end = int(time.time()) // 3600 * 3600 - 7200
    with Simulator(records=100, seed=15, end=end) as sim:
        records = sim.records
        newest = max(records, key=lambda record: int(record['created']))
        extra = [dict(newest, **{'$key': 1000 + number, 'used_cores': 7 + number}) for number in range(sharing - 1)]
        sim.set_records(records + extra)
        sim.reset_log()
        run = run_module('verge_billing_info', dict(view='summary', page_size=40), sim_env(sim))
        assert run.rc == 0, run.output
        assert run.result['summary']['record_count'] == len(records) + sharing - 1 == len(sim.records)
        assert run.result['range']['until_epoch'] == int(newest['created'])
        # the newest-record requests: two rows, then eight times as many while every row shares the newest second
        pins = [query(entry) for entry in billing_requests(sim) if query(entry)['limit'] != '40']
        assert [pin['limit'] for pin in pins] == {2: ['2', '16'], 3: ['2', '16'], 20: ['2', '16', '128']}[sharing]
        assert all(pin['sort'] == '-created' and pin['offset'] == '0' for pin in pins)
        latest = run_module('verge_billing_info', dict(view='latest'), sim_env(sim))
        assert latest.rc == 0, latest.output
        assert latest.result['record']['key'] == 1000 + sharing - 2
        assert latest.result['record']['used_cores'] == 7 + sharing - 2


def test_summary_pages_of_5000_with_only_its_fields():
    with Simulator(records=20000, seed=13) as sim:
        run = run_module('verge_billing_info', dict(view='summary', page_size=5000), sim_env(sim))
        assert run.rc == 0, run.output
        until = run.result['range']['until_epoch']
        assert run.result['summary']['record_count'] == len(in_range(sim, until)) == 20000
        requests = page_requests(sim)
        assert len(requests) == 5  # four full pages, then the empty one that says there is no more
        assert len(pin_requests(sim)) == 1  # the newest record: the bound and the capacities
        assert len(sim.requests_log()) == 6
        for number, entry in enumerate(requests):
            params = query(entry)
            fields = params['fields'].split(',')
            assert len(fields) == len(set(fields)) and set(fields) == SUMMARY_FIELDS
            assert (params['limit'], params['offset'], params['sort']) == ('5000', str(5000 * number), '-created')
