# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vergeio.billing contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""A helper process for the second CPU core: ``ForkedWorker`` runs an object's ``add(*args)`` calls in a forked
child, in order, while the caller goes on; ``finish(*args)`` returns what the object's ``finish(*args)`` returned there.

Why: a report of a year reads 8,760 records and writes each of them twice (CSV and JSON rows, 11 MB of text), and
with xlsx a third time (162,000 cells); Python runs that on one core while the other waits. The child converts and
writes the rows of one kind of file (the workbook, else the CSV and JSON rows) while the parent meters, summarises,
draws, renders and writes the rest (``_reports.system``). What crosses the pipe is pickled (the raw records of a
page and their costs): the parent appends each message to an unnamed spill file and sends its offset and length
down a pipe, so the parent never waits for the child (a pipe holds 64 KiB; a page is 1.5 MB); what comes back is
``finish``'s answer.

When it is used (``can_fork``): on Linux only (macOS' system frameworks are not safe in a forked child, and Windows
has no ``fork``), and only while the process runs a single thread (a fork beside another thread can copy a lock
that thread holds). Otherwise the caller does the same work itself.

The child never talks to Ansible: its standard streams go to ``/dev/null`` (the controller reads the module's
output until every copy of it is closed), it ends with ``os._exit`` (no ``atexit`` handler of the module runs
twice, nothing of the parent's buffers is flushed twice), and it ends on its own when the parent goes away (the
end of its pipe). A failure in the child reaches the parent as an ``OSError`` (disk full, ...) or a
``WorkerFailed`` naming what failed, never as a half-written file: the caller removes its temporaries as always.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import pickle
import signal
import struct
import sys
import tempfile
import threading
import traceback

# A message on the pipe: the offset and the length of its pickle in the spill file.
_MESSAGE = struct.Struct('!QQ')


class WorkerFailed(Exception):
    """The child process failed or ended without an answer."""


def can_fork():
    """True where a ``ForkedWorker`` may be started now (Linux, one thread)."""
    return sys.platform.startswith('linux') and hasattr(os, 'fork') and threading.active_count() == 1


class ForkedWorker:
    """``worker`` (an object with ``add(*args)`` and ``finish(*args)``) driven in a forked child. Files ``worker`` holds
    open are written by the child only: flush them before, and do not write them here after (``finish`` first).
    ``spill_dir``: where the unnamed spill file is made (the report's work directory)."""

    def __init__(self, worker, spill_dir=None):
        self._spill = tempfile.TemporaryFile(dir=spill_dir, prefix='.report-pages.')
        self._end = 0
        ends = []
        try:
            ends.extend(os.pipe())
            ends.extend(os.pipe())
            self.pid = os.fork()  # may fail (EAGAIN: the user's process limit); the caller then does the work itself
        except OSError:
            for end in ends:
                os.close(end)
            self._spill.close()
            raise
        to_child, from_parent, to_parent, from_child = ends
        if self.pid == 0:  # the child: serve, then leave without running anything of the parent's
            code = 1
            try:
                os.close(from_parent)
                os.close(to_parent)
                null = os.open(os.devnull, os.O_RDWR)
                for stream in (0, 1, 2):
                    os.dup2(null, stream)
                signal.signal(signal.SIGINT, signal.SIG_DFL)
                code = _serve(worker, os.fdopen(to_child, 'rb'), self._spill.fileno(), os.fdopen(from_child, 'wb'))
            finally:
                os._exit(code)  # pylint: disable=protected-access
        os.close(to_child)
        os.close(from_child)
        self._out = os.fdopen(from_parent, 'wb')
        self._in = os.fdopen(to_parent, 'rb')

    def add(self, *args):
        self._send(('add', args))

    def _send(self, message):
        data = pickle.dumps(message, pickle.HIGHEST_PROTOCOL)
        offset, self._end = self._end, self._end + len(data)
        done = 0
        while done < len(data):  # at the offsets of its own (the child reads with pread): no shared file position
            done += os.pwrite(self._spill.fileno(), data[done:], offset + done)
        try:
            self._out.write(_MESSAGE.pack(offset, len(data)))
            self._out.flush()
        except (BrokenPipeError, ConnectionResetError):  # the child is gone: its answer says why
            self._conclude()
            raise WorkerFailed('the process writing the records ended before it was done; nothing was written')

    def finish(self, *args):
        """Wait for the child to do every ``add`` and its ``finish(*args)``; returns what that returned."""
        self._send(('finish', args))
        try:
            self._out.close()
        except (BrokenPipeError, ConnectionResetError):
            pass  # the answer (or its absence) tells
        return self._conclude()

    def _conclude(self):
        """Read the child's answer and collect the child: the payload of ``finish``, or the error the child had (an
        OSError stays one), or how it ended without an answer."""
        try:
            answer = pickle.load(self._in)
        except (EOFError, pickle.UnpicklingError):
            answer = None
        status = self.stop(wait=True)  # it has answered, or ended: either way it is gone or about to be
        if answer is None:
            if status is not None and os.WIFSIGNALED(status):
                how = 'was ended by signal %d' % os.WTERMSIG(status)
            else:
                how = 'ended with status %s' % (os.WEXITSTATUS(status) if status is not None else 'unknown')
            raise WorkerFailed('the process writing the records %s before it was done (out of memory?); nothing was written' % how)
        kind, payload = answer
        if kind == 'os':
            raise OSError(*payload)
        if kind != 'done':
            raise WorkerFailed('the process writing the records failed: %s' % payload)
        return payload

    def stop(self, wait=False):
        """Collect the child, ended first unless ``wait``; returns its wait status (None if it was collected)."""
        for handle in (self._out, self._in, self._spill):
            if not handle.closed:
                try:
                    handle.close()
                except OSError:
                    pass
        if self.pid is None:
            return None
        try:
            done, status = os.waitpid(self.pid, 0 if wait else os.WNOHANG)
            if not done:
                os.kill(self.pid, signal.SIGKILL)
                done, status = os.waitpid(self.pid, 0)
        except OSError:
            status = None
        self.pid = None
        return status


def _serve(worker, reader, spill, writer):
    """The child's loop: ``add`` each message's arguments, then answer ``finish``. Returns the exit code."""
    try:
        while True:
            head = reader.read(_MESSAGE.size)
            if len(head) < _MESSAGE.size:  # the parent gave up (or died): nobody waits for an answer
                return 0
            offset, size = _MESSAGE.unpack(head)
            data = b''
            while len(data) < size:
                chunk = os.pread(spill, size - len(data), offset + len(data))
                if not chunk:
                    raise OSError('the spill file ended early')
                data += chunk
            kind, args = pickle.loads(data)
            if kind == 'add':
                worker.add(*args)
                continue
            answer = ('done', worker.finish(*args))
            break
    except OSError as exc:
        answer = ('os', (exc.errno, exc.strerror, exc.filename) if exc.errno is not None else (str(exc),))
    except Exception:  # pylint: disable=broad-except
        answer = ('failed', traceback.format_exc().strip().splitlines()[-1])
    try:
        pickle.dump(answer, writer, pickle.HIGHEST_PROTOCOL)
        writer.close()
    except OSError:
        return 1
    return 0 if answer[0] == 'done' else 1
