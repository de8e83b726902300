# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vergeio.billing contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The files library of the reports: safe file stems, permissions, CSV cell guards, atomic placement and digests.

No report owns it: the system, tenant and fleet reports (and the FOCUS export) place their files through it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import filecmp
import hashlib
import os
import re
import tempfile

FORMATS = ('csv', 'json', 'markdown', 'html', 'xlsx')
# xlsx needs XlsxWriter (an optional library): written when asked for, never by default.
DEFAULT_FORMATS = ('csv', 'json', 'markdown', 'html')
EXTENSIONS = dict(csv='csv', json='json', markdown='md', html='html', xlsx='xlsx')
# The argument spec of the file options of the modules that write reports (documented by the doc fragment
# vergeio.billing.report_files).
REPORT_FILES_SPEC = dict(formats=dict(type='list', elements='str', choices=list(FORMATS), default=list(DEFAULT_FORMATS)), mode=dict(type='raw'))

_OCTAL = re.compile(r'^0?[oO]?([0-7]{1,4})$')
_UNSAFE_NAME = re.compile(r'[^A-Za-z0-9._-]+')
CSV_FORMULA_PREFIXES = ('=', '+', '-', '@', '\t', '\r')


def safe_name(name):
    """The file stem: runs of characters outside [A-Za-z0-9._-] become ``_``, and a leading ``.``, ``_`` or ``-`` is
    dropped (no hidden file, nothing a shell tool reads as an option); ValueError when nothing is left."""
    text = _UNSAFE_NAME.sub('_', '' if name is None else str(name)).lstrip('._-').rstrip('_')
    if not text:
        raise ValueError('name must contain letters or digits (it is the stem of the file names), got %r' % (name,))
    return text


def parse_mode(mode):
    """File permissions as an int from an octal string (``'0644'``, ``'644'``, ``'0o644'``) or an int; None keeps the default."""
    if mode is None or mode == '':
        return None
    if isinstance(mode, bool):
        raise ValueError('mode must be octal permissions like "0644", got %r' % (mode,))
    if isinstance(mode, int):
        number = mode
    else:
        match = _OCTAL.match(str(mode).strip())
        if not match:
            raise ValueError('mode must be octal permissions like "0644" or "0640" (quoted, so YAML keeps the leading 0); '
                             'symbolic modes are not accepted, got %r' % (mode,))
        number = int(match.group(1), 8)
    if not 0 <= number <= 0o7777:
        raise ValueError('mode must be between 0000 and 7777 (octal), got %r' % (mode,))
    return number



def csv_text(value):
    """Free text in a CSV cell: a leading = + - @ tab or CR gets an apostrophe (OWASP "CSV injection"). The one guard of
    every CSV the collection writes (system, tenant and fleet reports)."""
    return "'" + value if value.startswith(CSV_FORMULA_PREFIXES) else value



# ---- files --------------------------------------------------------------------------------------------------------

def sha256_of(path):
    digest = hashlib.sha256()
    with open(path, 'rb') as handle:
        for block in iter(lambda: handle.read(1 << 20), b''):
            digest.update(block)
    return digest.hexdigest()


def _umask_default():
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def place(temp, final, mode, check_mode):
    """Put ``temp`` at ``final`` unless the same bytes (and mode) are there. Returns what happened: ``unchanged``,
    ``created``, ``updated`` or ``mode`` (same bytes, other permissions); in check mode nothing is touched."""
    if os.path.isdir(final):
        raise ValueError('dest: %s is a directory, where the report file should go' % final)
    exists = os.path.exists(final)
    current_mode = os.stat(final).st_mode & 0o7777 if exists else None
    wanted = mode if mode is not None else (current_mode if exists else _umask_default())
    if exists and filecmp.cmp(temp, final, shallow=False):
        if current_mode == wanted:
            return 'unchanged'
        if not check_mode:
            os.chmod(final, wanted)
        return 'mode'
    if not check_mode:
        os.chmod(temp, wanted)
        os.replace(temp, final)
    return 'updated' if exists else 'created'


def _prepare_dest(dest, check_mode):
    """The directory the temporary files go to: ``dest`` (created when missing), or in check mode a private one."""
    if os.path.exists(dest) and not os.path.isdir(dest):
        raise ValueError('dest: %s exists and is not a directory' % dest)
    if check_mode:
        return tempfile.mkdtemp(prefix='verge-report-check.')
    try:
        os.makedirs(dest, exist_ok=True)
    except OSError as exc:
        raise ValueError('dest: cannot create the directory %s: %s' % (dest, exc.strerror or exc))
    if not os.access(dest, os.W_OK | os.X_OK):
        raise ValueError('dest: cannot write into %s (permission denied for this user)' % dest)
    return dest
