# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vergeio.billing contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The helper process of the reports (module_utils/_reports/worker.py) and the report written through it.

A report written with the helper (``fork=True``) must be the same bytes, the same result and the same conversion
notes as one written in a single process; a helper that fails or dies must fail the report with a message (or the
OSError it had), leave no process behind and no file written.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import os
import signal
import sys
import tempfile
import threading
import time

import pytest

from ansible_collections.vergeio.billing.plugins.module_utils._reports import system
from ansible_collections.vergeio.billing.plugins.module_utils._reports import worker as worker_module
from ansible_collections.vergeio.billing.plugins.module_utils._reports.files import CsvStyle
from ansible_collections.vergeio.billing.plugins.module_utils._reports.request import describe_period
from ansible_collections.vergeio.billing.plugins.module_utils._reports.worker import ForkedWorker, WorkerFailed, can_fork
from ansible_collections.vergeio.billing.plugins.module_utils._rating import rate_card
from ansible_collections.vergeio.billing.plugins.module_utils._time import get_zone
from ansible_collections.vergeio.billing.plugins.module_utils._usage import Usage

pytestmark = pytest.mark.skipif(not sys.platform.startswith('linux'), reason='the helper process is used on Linux only')

T0 = 1790805600  # 2026-10-01T00:00:00+02:00


class Lines:
    """A worker that appends each ``add`` to a file it holds open; ``finish`` closes it and answers."""

    def __init__(self, path, fail_at=None, oserror_at=None):
        self.handle = open(path, 'w')
        self.count = 0
        self.fail_at, self.oserror_at = fail_at, oserror_at

    def add(self, *values):
        self.count += 1
        if self.count == self.fail_at:
            raise ValueError('bad value %r' % (values,))
        if self.count == self.oserror_at:
            raise OSError(errno.ENOSPC, 'No space left on device', '/reports/x.csv')
        self.handle.write(' '.join(map(str, values)) + '\n')

    def finish(self):
        self.handle.close()
        return dict(count=self.count, pid=os.getpid())


def gone(pid):
    """True when ``pid`` is no child of this process any more (collected)."""
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return True
    return False


def test_calls_arrive_in_order_and_finish_answers_from_the_child(tmp_path):
    path = str(tmp_path / 'lines')
    helper = ForkedWorker(Lines(path), str(tmp_path))
    pid = helper.pid
    page = list(range(100000))  # far more than a pipe holds: the parent must not wait for the child
    for number in range(20):
        helper.add(number, len(page))
    answer = helper.finish()
    assert answer['count'] == 20 and answer['pid'] == pid != os.getpid()
    with open(path) as handle:
        assert handle.read() == ''.join('%d 100000\n' % number for number in range(20))
    assert gone(pid)
    assert os.listdir(str(tmp_path)) == ['lines']  # the spill file has no name


def test_an_exception_in_the_child_fails_finish_with_its_message(tmp_path):
    helper = ForkedWorker(Lines(str(tmp_path / 'lines'), fail_at=2), str(tmp_path))
    pid = helper.pid
    for number in range(5):
        helper.add(number)
    with pytest.raises(WorkerFailed) as caught:
        helper.finish()
    assert "the process writing the records failed: ValueError: bad value (1,)" in str(caught.value)
    assert gone(pid)


def test_an_oserror_in_the_child_is_the_same_oserror_here(tmp_path):
    helper = ForkedWorker(Lines(str(tmp_path / 'lines'), oserror_at=1), str(tmp_path))
    helper.add(1)
    with pytest.raises(OSError) as caught:
        helper.finish()
    assert caught.value.errno == errno.ENOSPC and caught.value.filename == '/reports/x.csv'


def test_a_child_killed_midway_fails_with_how_it_ended(tmp_path):
    helper = ForkedWorker(Lines(str(tmp_path / 'lines')), str(tmp_path))
    helper.add(1)
    os.kill(helper.pid, signal.SIGKILL)
    with pytest.raises(WorkerFailed) as caught:
        for number in range(50):  # a write to the pipe of the dead child, or finish, notices
            helper.add(number)
            time.sleep(0.01)
        helper.finish()
    assert 'was ended by signal %d before it was done' % signal.SIGKILL in str(caught.value)
    assert 'nothing was written' in str(caught.value)


def test_stop_ends_and_collects_a_running_child(tmp_path):
    helper = ForkedWorker(Lines(str(tmp_path / 'lines')), str(tmp_path))
    pid = helper.pid
    helper.add(1)
    helper.stop()
    assert gone(pid)
    helper.stop()  # twice is harmless


def test_no_fork_beside_another_thread(monkeypatch):
    monkeypatch.setattr(worker_module.threading, 'active_count', lambda: 1)
    assert can_fork()  # Linux, one thread
    monkeypatch.undo()
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        assert not can_fork()
    finally:
        stop.set()
        other.join()


# ---- a report written through the helper --------------------------------------------------------------------------

def raw_records(count, quirks=False):
    out = []
    for key in range(1, count + 1):
        row = {'$key': key, 'created': T0 + 3600 * key + 1, 'from': T0 + 3600 * (key - 1), 'to': T0 + 3600 * key,
               'sent': T0 + 3600 * key + 50, 'description': 'Billing period =%d' % key, 'used_cores': key % 17,
               'total_cores': 64, 'used_ram': 1024 * (key % 5), 'total_ram': 65536, 'tier_1_used': key * 1000003,
               'tier_1_total': 2 ** 40, 'gpus': key % 2, 'gpus_total': 2}
        if quirks and key % 7 == 0:
            row.update(used_cores=str(key % 17), used_ram=None, tier_1_used='junk')
        out.append(row)
    return out


class Pages:
    def __init__(self, rows, size):
        self.rows, self.size = rows, size

    def get_all(self, endpoint, params, page_size, on_page=None, limit=None):
        for first in range(0, len(self.rows), self.size):
            on_page(self.rows[first:first + self.size])
        return []


def report(work, fork, raws, formats, rates, style=None):
    """(file bytes by format, summary, bill, conversion notes) of a report of October 2026 in Berlin."""
    zone = get_zone('Europe/Berlin')
    start, end = T0, T0 + 745 * 3600
    builder = system.ReportBuilder(formats, rates, 'day', zone, work, (start, end), 'sys', style, fork=fork)
    try:
        assert (builder.helper is not None) == fork
        Usage(Pages(raws, 40)).system(builder.meter, builder.owner, on_page=builder.add_page)
        period = describe_period(dict(month='2026-10', since_epoch=start, until_epoch=end - 1), zone)
        summary, bill, temps = builder.finish('sys', period)
        files = {}
        for fmt, path in temps.items():
            with open(path, 'rb') as handle:
                files[fmt] = handle.read()
        return files, summary, bill, list(builder.problems)
    finally:
        builder.discard()


@pytest.mark.parametrize('quirks', [False, True])
@pytest.mark.parametrize('rated', [False, True])
@pytest.mark.parametrize('style', [None, CsvStyle(delimiter=';', decimal=',', bom=True)])
@pytest.mark.parametrize('with_xlsx', [False, True])  # with a workbook the helper writes it, and this process the CSV and JSON
def test_a_report_written_by_the_helper_is_the_same_bytes(monkeypatch, quirks, rated, style, with_xlsx):
    monkeypatch.setattr(system, 'can_fork', lambda: True)  # the test runner may run threads of its own: fork anyway
    raws = raw_records(300, quirks)
    rates = rate_card(dict(core_hour=0.02, ram_gb_hour=0.01, tier1_gb_hour=0.0001, gpu_hour=1.5, currency='EUR')) if rated else None
    formats = ['csv', 'json', 'markdown', 'html'] + (['xlsx'] if with_xlsx else [])
    if with_xlsx:
        pytest.importorskip('xlsxwriter')
    with tempfile.TemporaryDirectory() as one, tempfile.TemporaryDirectory() as two:
        alone = report(one, False, raws, formats, rates, style)
        helped = report(two, True, raws, formats, rates, style)
        assert os.listdir(two) == []  # every temporary (and the spill file) is gone
    files, summary, bill, problems = helped
    assert set(files) == set(formats)
    for fmt in formats:
        assert files[fmt] == alone[0][fmt], fmt
    assert (summary, bill, problems) == alone[1:]
    assert bool(problems) == quirks
    assert files['csv'].count(b'\r\n') == 301


@pytest.mark.parametrize('formats', [['csv'], ['json'], ['json', 'markdown'], ['csv', 'xlsx'], ['json', 'xlsx'], ['html', 'xlsx']])
def test_each_set_of_formats_is_the_same_bytes_with_the_helper(monkeypatch, formats):
    """Whichever files the helper takes (the workbook, else the CSV and JSON rows), the files are the same."""
    if 'xlsx' in formats:
        pytest.importorskip('xlsxwriter')
    monkeypatch.setattr(system, 'can_fork', lambda: True)
    raws = raw_records(120, quirks=True)
    rates = rate_card(dict(core_hour=0.02, currency='EUR'))
    with tempfile.TemporaryDirectory() as one, tempfile.TemporaryDirectory() as two:
        alone = report(one, False, raws, formats, rates)
        helped = report(two, True, raws, formats, rates)
    assert sorted(helped[0]) == sorted(formats) and helped == alone


def test_no_helper_when_it_would_write_nothing(monkeypatch, tmp_path):
    monkeypatch.setattr(system, 'can_fork', lambda: True)
    builder = system.ReportBuilder(['markdown', 'html'], None, 'day', None, str(tmp_path), (T0, T0 + 86400), fork=True)
    assert builder.helper is None
    builder.discard()


def test_a_fork_that_fails_leaves_the_work_to_this_process(monkeypatch, tmp_path):
    """``ulimit -u`` reached: os.fork fails with EAGAIN; the report is written here, the same bytes, nothing left open."""
    monkeypatch.setattr(system, 'can_fork', lambda: True)

    def no_fork():
        raise OSError(errno.EAGAIN, 'Resource temporarily unavailable')
    monkeypatch.setattr(worker_module.os, 'fork', no_fork)
    raws = raw_records(50)
    with tempfile.TemporaryDirectory() as one:
        alone = report(one, False, raws, ['csv', 'json'], None)
    opened = len(os.listdir('/proc/self/fd'))
    zone = get_zone('Europe/Berlin')
    builder = system.ReportBuilder(['csv', 'json'], None, 'day', zone, str(tmp_path), (T0, T0 + 745 * 3600), 'sys', fork=True)
    assert builder.helper is None
    Usage(Pages(raws, 40)).system(builder.meter, builder.owner, on_page=builder.add_page)
    period = describe_period(dict(month='2026-10', since_epoch=T0, until_epoch=T0 + 745 * 3600 - 1), zone)
    _summary, _bill, temps = builder.finish('sys', period)
    with open(temps['csv'], 'rb') as handle:
        assert handle.read() == alone[0]['csv']
    builder.discard()
    assert len(os.listdir('/proc/self/fd')) == opened  # the spill file and the pipes were closed


def test_a_failing_helper_fails_the_report_and_leaves_nothing(monkeypatch, tmp_path):
    monkeypatch.setattr(system, 'can_fork', lambda: True)
    parent = os.getpid()
    real_write = system._RecordFiles.write  # pylint: disable=protected-access

    def broken_write(self, columns, cost):
        if os.getpid() != parent:  # the helper's writes fail (a full disk); this process' own go on
            raise OSError(errno.ENOSPC, 'No space left on device', 'records.csv')
        real_write(self, columns, cost)
    monkeypatch.setattr(system._RecordFiles, 'write', broken_write)  # pylint: disable=protected-access
    with pytest.raises(ValueError) as caught:
        report(str(tmp_path), True, raw_records(100), ['csv', 'json'], None)
    assert str(caught.value) == ('Writing the report files in %s failed (No space left on device: records.csv); no file was '
                                 'replaced.' % tmp_path)
    assert os.listdir(str(tmp_path)) == []


def test_a_helper_that_dies_fails_the_report_with_a_message(monkeypatch, tmp_path):
    monkeypatch.setattr(system, 'can_fork', lambda: True)
    parent = os.getpid()
    real_write = system._RecordFiles.write  # pylint: disable=protected-access

    def dying_write(self, columns, cost):
        if os.getpid() != parent:
            os.kill(os.getpid(), signal.SIGKILL)  # as the kernel's OOM killer would
        real_write(self, columns, cost)
    monkeypatch.setattr(system._RecordFiles, 'write', dying_write)  # pylint: disable=protected-access
    with pytest.raises(ValueError) as caught:
        report(str(tmp_path), True, raw_records(100), ['json'], None)
    assert 'the process writing the records was ended by signal 9 before it was done' in str(caught.value)
    assert os.listdir(str(tmp_path)) == []


def test_the_helper_is_not_used_beside_another_thread(monkeypatch, tmp_path):
    for threads, helped in ((1, True), (2, False)):
        monkeypatch.setattr(worker_module.threading, 'active_count', lambda count=threads: count)
        builder = system.ReportBuilder(['csv'], None, 'day', None, str(tmp_path), (T0, T0 + 86400), fork=True)
        assert (builder.helper is not None) == helped
        builder.discard()
