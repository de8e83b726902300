# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vergeio.billing contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The files library of every report: safe file stems, permissions, CSV cells, atomic placement and digests.

No report owns it: the system, tenant, overview and fleet reports (and the FOCUS export and statements after them)
name, write and place their files through it.

- ``safe_name`` / ``tenant_stems``: ASCII file stems from names in any script (transliterated, shortened with a
  hash when long; a tenant without any Latin reading is ``tenant-<$key>``, a clash gets ``-<$key>``).
- ``FileSet``: the files of one report. Temporary files are made in ``dest`` (named with host and process id, so
  a later run can tell a killed run's leftovers from a running one's), every final name is checked before the first
  file is replaced (length, directories in the way, two members with one path, another report owning the stem),
  then each file is placed with ``place()``; the result says per file what happened and its SHA-256.
- ``CsvStyle`` / ``CsvWriter``: the one CSV writer (delimiter, decimal mark, BOM, formula-injection guard).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import csv
import errno
import filecmp
import hashlib
import json
import os
import re
import shutil
import socket
import stat
import tempfile
import time
import unicodedata
from collections import OrderedDict
from decimal import Decimal

FORMATS = ('csv', 'json', 'markdown', 'html', 'xlsx')
# xlsx needs XlsxWriter (an optional library): written when asked for, never by default.
DEFAULT_FORMATS = ('csv', 'json', 'markdown', 'html')
EXTENSIONS = dict(csv='csv', json='json', markdown='md', html='html', xlsx='xlsx')
CSV_DELIMITERS = (',', ';')
CSV_DECIMALS = ('.', ',')

_OCTAL = re.compile(r'^0?[oO]?([0-7]{1,4})$')
_UNSAFE_NAME = re.compile(r'[^A-Za-z0-9._-]+')
CSV_FORMULA_PREFIXES = ('=', '+', '-', '@', '\t', '\r')
# A stem longer than this is cut and gets a hash: <system stem>-<tenant stem>-<label>.<ext> then stays far below
# the 255 bytes a file name may have (80 + 1 + 80 + 1 + 12 ($key) + 1 + 41 (the longest label) + 5).
MAX_STEM = 80


# ---- names --------------------------------------------------------------------------------------------------------

# Latin readings of letters that Unicode does not decompose into a Latin letter and accents: Cyrillic (Russian,
# Ukrainian, Belarusian, Serbian, Macedonian, Bulgarian; a simplified passport-style table), Greek (ELOT 743-like, no
# accents) and the Latin letters without a decomposition. Lower case here; an upper-case letter gets the reading
# capitalised (Ж -> Zh).
_READINGS = dict(zip(
    u'абвгдежзийклмнопрстуфхцчшщъыьэюяёіїєґўђјљњћџѕѓќ',
    ('a', 'b', 'v', 'g', 'd', 'e', 'zh', 'z', 'i', 'i', 'k', 'l', 'm', 'n', 'o', 'p', 'r', 's', 't', 'u', 'f', 'kh', 'ts',
     'ch', 'sh', 'shch', '', 'y', '', 'e', 'yu', 'ya', 'e', 'i', 'i', 'ye', 'g', 'u', 'dj', 'j', 'lj', 'nj', 'c', 'dz',
     'dz', 'g', 'k')))
_READINGS.update(zip(
    u'αβγδεζηθικλμνξοπρσςτυφχψω',
    ('a', 'v', 'g', 'd', 'e', 'z', 'i', 'th', 'i', 'k', 'l', 'm', 'n', 'x', 'o', 'p', 'r', 's', 's', 't', 'y', 'f', 'ch',
     'ps', 'o')))
_READINGS.update({u'ß': 'ss', u'æ': 'ae', u'ø': 'o', u'đ': 'd', u'ł': 'l', u'þ': 'th', u'œ': 'oe', u'ı': 'i', u'ð': 'd',
                  u'ŋ': 'n', u'ħ': 'h', u'ĸ': 'k', u'ſ': 's'})


def transliterate(text):
    """``text`` with a Latin reading for what has one: accents stripped (NFKD), Cyrillic and Greek transliterated,
    compatibility forms folded (full-width letters, ligatures). Characters without a reading (CJK, emoji) stay."""
    out = []
    for char in unicodedata.normalize('NFKD', text):
        if char < u'\x80':
            out.append(char)
        elif not unicodedata.combining(char):
            lower = char.lower()
            reading = _READINGS.get(lower)
            if reading is None:
                out.append(char)
            else:
                out.append(reading.capitalize() if lower != char else reading)
    return ''.join(out)


def _shorten(stem, limit=MAX_STEM):
    """``stem`` cut to ``limit`` characters, the cut one ending in ``-`` and 8 hex digits of the SHA-256 of the
    whole stem: deterministic, and two long names that differ only after the cut keep two stems."""
    if len(stem) <= limit:
        return stem
    digest = hashlib.sha256(stem.encode('utf-8')).hexdigest()[:8]
    return '%s-%s' % (stem[:limit - 9].rstrip('._-'), digest)


def safe_name(name, what='name'):
    """The file stem of a name: transliterated (``transliterate``), runs of characters outside [A-Za-z0-9._-]
    become ``_``, a leading ``.``, ``_`` or ``-`` is dropped (no hidden file, nothing a shell tool reads as an
    option), and a stem longer than MAX_STEM is cut and gets a hash. ValueError (naming ``what``) when nothing is left."""
    text = _UNSAFE_NAME.sub('_', transliterate('' if name is None else str(name))).lstrip('._-').rstrip('_')
    if not text:
        raise ValueError('%s must contain letters or digits with a Latin reading (it is the stem of the file names), got %r' % (what, name))
    return _shorten(text)


def tenant_stems(tenants, reserved=()):
    """$key -> file stem of each (key, name) tenant, never failing: the name's ``safe_name``, or ``tenant-<$key>``
    when nothing of the name is left (a name in CJK or emoji only). Tenants whose stems would be the same (and a
    tenant whose stem is one of ``reserved``, such as the overview's) get ``-<$key>`` appended, all of them, so
    the result does not depend on the order of the tenants. Returns (stems, notes): notes name the tenants whose
    stem is not their name's. Stems that differ in case only are a clash (a file system may ignore case)."""
    stems, notes = {}, []
    lowered = set(stem.lower() for stem in reserved)
    for key, name in tenants:
        try:
            stems[key] = safe_name(name)
        except ValueError:
            stems[key] = 'tenant-%s' % key
            notes.append('tenant %r ($key %s) has no letters or digits with a Latin reading: its files are named %s' % (name, key, stems[key]))
    suffixed = set()
    while True:
        seen = {}
        for key, stem in stems.items():
            seen.setdefault(stem.lower(), []).append(key)  # one file on a file system that ignores case
        clashes = [keys for stem, keys in seen.items() if len(keys) > 1 or stem in lowered]
        keys = sorted(set(key for group in clashes for key in group if key not in suffixed), key=str)
        if not keys:
            break
        for key in keys:
            stems[key] = '%s-%s' % (stems[key], key)
            suffixed.add(key)
    names = dict(tenants)
    for key in sorted(suffixed, key=str):
        notes.append('tenant %r ($key %s) has a file stem like another tenant\'s (or the overview\'s): its files are named with its $key, %s'
                     % (names[key], key, stems[key]))
    return stems, notes


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


# ---- CSV ----------------------------------------------------------------------------------------------------------

def csv_text(value):
    """Free text in a CSV cell: a leading = + - @ tab or CR gets an apostrophe (OWASP "CSV injection"), so that a
    spreadsheet shows it as text instead of running it as a formula."""
    return "'" + value if value.startswith(CSV_FORMULA_PREFIXES) else value


_NUMBERS = (int, float, Decimal)
_PLAIN = frozenset((int, type(None)))
_TEXT = frozenset((str, type(None)))


class CsvStyle:
    """The CSV dialect of the options ``csv_delimiter`` (``,`` or ``;``), ``csv_decimal`` (``.`` or ``,``) and
    ``csv_bom``. A decimal comma needs the semicolon (with both a comma, ``1,5`` would be two cells)."""

    def __init__(self, delimiter=',', decimal='.', bom=False):
        if delimiter not in CSV_DELIMITERS:
            raise ValueError('csv_delimiter must be one of %s, got %r' % (' '.join(CSV_DELIMITERS), delimiter))
        if decimal not in CSV_DECIMALS:
            raise ValueError('csv_decimal must be one of %s, got %r' % (' '.join(CSV_DECIMALS), decimal))
        if decimal == delimiter:
            raise ValueError("csv_decimal %r and csv_delimiter %r are the same character, so a number like 1%s5 would read as two "
                             "cells: with csv_decimal ',' use csv_delimiter ';'" % (decimal, delimiter, decimal))
        self.delimiter, self.decimal, self.bom = delimiter, decimal, bool(bom)

    @classmethod
    def from_options(cls, options):
        """The style of a module's options (absent ones take the defaults)."""
        def get(key, default):
            value = options.get(key)
            return default if value is None else value
        return cls(get('csv_delimiter', ','), get('csv_decimal', '.'), get('csv_bom', False))

    def cell(self, value):
        """One cell: empty for null, ``true``/``false``, integers as they are, floats in full precision (``repr``) and
        decimals with the decimal mark, text through ``csv_text``."""
        if value is None:
            return ''
        if isinstance(value, bool):
            return 'true' if value else 'false'
        if isinstance(value, int):
            return str(value)
        if isinstance(value, (float, Decimal)):
            text = repr(value) if isinstance(value, float) else str(value)
            return text.replace('.', self.decimal) if self.decimal != '.' else text
        if not isinstance(value, str):
            value = json.dumps(value, sort_keys=True, ensure_ascii=False) if isinstance(value, (dict, list)) else str(value)
        return csv_text(value)

    def writer(self, handle, bom=True):
        """A CsvWriter on ``handle``; ``bom=False`` for a file that is appended to (its BOM, when asked, is there)."""
        return CsvWriter(handle, self, bom)


class CsvWriter:
    """Rows (or columns) of values to a text handle opened with ``newline=''``: the BOM first when asked, CRLF line
    ends, every cell through ``CsvStyle.cell``."""

    def __init__(self, handle, style=None, bom=True):
        self.style = style or CsvStyle()
        if self.style.bom and bom:
            handle.write(u'\ufeff')
        self._writer = csv.writer(handle, delimiter=self.style.delimiter, lineterminator='\r\n')
        self._handle = handle
        self._cell = self.style.cell

    def writerow(self, row):
        self._writer.writerow([self._cell(value) for value in row])

    def flush(self):
        self._handle.flush()

    def close(self):
        self._handle.close()

    def writerows(self, rows):
        cell = self._cell
        self._writer.writerows([cell(value) for value in row] for row in rows)

    def write_columns(self, columns):
        """Rows from columns of equal length (a page of records): a column of integers and nulls goes as it is (with
        the dot, floats too), any other column through ``cell``, so text is guarded and numbers keep their form."""
        plain = _PLAIN | frozenset((float,)) if self.style.decimal == '.' else _PLAIN
        ready, kinds_of = [], []
        for column in columns:
            kinds = set(map(type, column))
            if kinds <= _TEXT and not any(value.startswith(CSV_FORMULA_PREFIXES) for value in column if value):
                pass  # text none of whose cells needs the guard (times, descriptions): as it is
            elif not kinds <= plain:
                column, kinds = list(map(self._cell, column)), _JUST_STR
            ready.append(column)
            kinds_of.append(kinds)
        texts = _cell_texts(ready, kinds_of, self.style.delimiter)
        if texts is None:
            self._writer.writerows(zip(*ready))
        else:  # no cell needs quotes: the rows the csv module would write, joined directly (a page at a time, faster)
            self._handle.write(''.join([self.style.delimiter.join(row) + '\r\n' for row in zip(*texts)]))


_JUST_STR = frozenset((str,))


def _cell_texts(columns, kinds_of, delimiter):
    """The text of every cell as the csv module writes it unquoted (None empty, numbers by ``str``), column by column
    (``kinds_of``: the set of value types of each column); None when any text cell holds the delimiter, a quote or a
    line break (then the csv module quotes it), or for a single column (the csv module writes a row of one empty cell
    as ``""``)."""
    if len(columns) < 2:
        return None
    out = []
    specials = (delimiter, '"', '\r', '\n')
    for column, kinds in zip(columns, kinds_of):
        if str in kinds:  # a text column (str and None only: see write_columns)
            text = ['' if value is None else value for value in column]
            joined = '\x00'.join(text)
            if any(special in joined for special in specials):
                return None
            out.append(text)
        elif type(None) in kinds:
            out.append(['' if value is None else str(value) for value in column])
        else:
            out.append(list(map(str, column)))
    return out


# ---- temporary files ----------------------------------------------------------------------------------------------

TEMP_PREFIX = '.report-'
# A temporary file is .report-<format>.<host>.<pid>.<random>.tmp (host: host_tag()): a later run on the same host
# (and process id namespace) removes it when that process is gone; any run removes one untouched for
# STALE_TEMP_SECONDS (a killed run on another host or container, which cannot be asked whether it is alive).
STALE_TEMP_SECONDS = 24 * 3600
_TEMP_NAME = re.compile(r'^\.report-[A-Za-z0-9]+\.(?P<host>[A-Za-z0-9-]+)\.(?P<pid>[0-9]+)\.[A-Za-z0-9_]+\.tmp$')
_ANY_TEMP = re.compile(r'^\.report-.*\.tmp$', re.S)


_HOST = []  # host_tag() of this process, computed once


def host_tag():
    """This host as it goes into temporary file names: its name (letters, digits and ``-``, at most 40) and, on
    Linux, the inode of its process id namespace in hex, so that two containers given one host name (whose process
    ids mean different processes) still have two tags."""
    if not _HOST:
        name = re.sub(r'[^A-Za-z0-9-]+', '-', socket.gethostname() or '')[:40].strip('-') or 'host'
        try:
            _HOST.append('%s-%x' % (name, os.stat('/proc/self/ns/pid').st_ino))
        except (OSError, AttributeError):
            _HOST.append(name)
    return _HOST[0]


def new_temp(work_dir, fmt, binary=False, newline=None):
    """(path, handle) of a new temporary file for a report's ``fmt`` file in ``work_dir``, named with this host and process."""
    descriptor, path = tempfile.mkstemp(dir=work_dir, prefix='%s%s.%s.%d.' % (TEMP_PREFIX, fmt, host_tag(), os.getpid()), suffix='.tmp')
    if binary:
        return path, os.fdopen(descriptor, 'wb')
    return path, os.fdopen(descriptor, 'w', encoding='utf-8', newline=newline)


def _running(pid):
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, ValueError):
        return True  # someone else's process (or a pid this system cannot have): not ours to judge
    return True


def sweep_temporaries(dest, now=None):
    """Remove the temporary files (``.report-*.tmp``) that killed runs left in ``dest``: those of this host whose
    process is gone, and any not modified for STALE_TEMP_SECONDS. Returns the names removed."""
    now = time.time() if now is None else now
    here = host_tag()
    removed = []
    try:
        names = os.listdir(dest)
    except OSError:
        return removed
    for name in sorted(names):
        if not _ANY_TEMP.match(name):
            continue
        path = os.path.join(dest, name)
        try:
            info = os.lstat(path)
        except OSError:
            continue
        if not stat.S_ISREG(info.st_mode):
            continue
        match = _TEMP_NAME.match(name)
        dead = match is not None and match.group('host') == here and not _running(int(match.group('pid')))
        if dead or now - info.st_mtime > STALE_TEMP_SECONDS:
            try:
                os.unlink(path)
                removed.append(name)
            except OSError:
                pass
    return removed


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


# ---- owners -------------------------------------------------------------------------------------------------------

# Each stem a run writes is claimed in <dest>/.vergeio-billing/<stem>.owner (one line of JSON: owner and what it
# is), created atomically (a link that fails when the claim exists), so two reports whose names make one stem (two
# systems, 'acme (prod)' and 'acme [prod]'; a system 'acme-prod' and tenant 'prod' of 'acme') cannot overwrite each
# other, also when they run at the same time. Without a claim (files of 0.1.0) the JSON of the stem says whose it is.
OWNER_DIR = '.vergeio-billing'
SYSTEM_GENERATOR = 'vergeio.billing.verge_billing_report'
FLEET_GENERATOR = 'vergeio.billing.verge_billing_fleet_report'


class FileOwner:
    """Who a set of files belongs to: ``key`` compares (a system's name; a tenant's system and $key), ``text`` names it."""

    def __init__(self, key, text):
        self.key, self.text = key, text

    def __eq__(self, other):
        return isinstance(other, FileOwner) and other.key == self.key

    def __ne__(self, other):
        return not self == other

    def __hash__(self):
        return hash(self.key)

    @classmethod
    def system(cls, name):
        return cls('system:%s' % name, 'the report of system %r' % (name,))

    @classmethod
    def tenant(cls, system, key, name):
        return cls('tenant:%s:%s' % (system, key), 'the report of tenant %r ($key %s) of system %r' % (name, key, system))

    @classmethod
    def overview(cls, system):
        return cls('tenants:%s' % system, 'the tenants overview of system %r' % (system,))

    @classmethod
    def focus(cls, account_id, system):
        return cls('focus:%s:%s' % (account_id, system), 'the FOCUS export of system %r as billing account %r' % (system, account_id))

    @classmethod
    def fleet(cls, name):
        return cls('fleet:%s' % name, 'the fleet report %r' % (name,))

    @classmethod
    def of_report(cls, head):
        """The owner of a JSON report from its first keys (None when it is no report of this collection)."""
        name = head.get('name')
        if not isinstance(name, str):
            return None
        generator = head.get('generator')
        if generator == FLEET_GENERATOR:
            return cls.fleet(name)
        if generator != SYSTEM_GENERATOR:
            return None
        if head.get('kind') == 'tenant' and isinstance(head.get('tenant'), dict):
            return cls.tenant(name, head['tenant'].get('key'), head['tenant'].get('name'))
        if head.get('kind') == 'tenants':
            return cls.overview(name)
        return cls.system(name)


def json_head(path, keys=('generator', 'kind', 'name', 'tenant'), limit=1 << 16):
    """The first top-level keys of a JSON object file, read from its first ``limit`` bytes only (a report's
    records are megabytes; its name comes first). Stops at the first value cut off by the limit."""
    try:
        with open(path, 'rb') as handle:
            text = handle.read(limit).decode('utf-8', 'replace')
    except OSError:
        return {}
    decoder = json.JSONDecoder()
    found = {}
    spaces = re.compile(r'\s*')
    index = spaces.match(text).end()
    if text[index:index + 1] != '{':
        return found
    index += 1
    try:
        while len(found) < len(keys):
            index = spaces.match(text, index).end()
            key, index = decoder.raw_decode(text, index)
            index = spaces.match(text, index).end()
            if text[index:index + 1] != ':':
                break
            value, index = decoder.raw_decode(text, spaces.match(text, index + 1).end())
            if key in keys:
                found[key] = value
            index = spaces.match(text, index).end()
            if text[index:index + 1] != ',':
                break
            index += 1
    except ValueError:
        pass
    return found


def _read_claim(path):
    try:
        with open(path, 'r', encoding='utf-8') as handle:
            data = json.load(handle)
        return FileOwner(str(data['owner']), str(data.get('text') or data['owner']))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _names(folder):
    try:
        return set(os.listdir(folder))
    except OSError:
        return set()


def existing_owner(dest, stem, names=None, claims=None):
    """(owner, where) of the files ``dest/stem.*``: from the claim, else from the stem's JSON report; (None, None).
    ``names`` and ``claims`` (the listings of ``dest`` and of its claims directory) spare a look-up per stem."""
    claim = os.path.join(dest, OWNER_DIR, stem + '.owner')
    owner = _read_claim(claim) if claims is None or stem + '.owner' in claims else None
    if owner is not None:
        return owner, claim
    report = os.path.join(dest, stem + '.json')
    if (names is None or stem + '.json' in names) and os.path.isfile(report):
        owner = FileOwner.of_report(json_head(report))
        if owner is not None:
            return owner, report
    return None, None


def _claim(dest, stem, owner):
    """Claim ``stem`` for ``owner`` (atomically: a complete claim file is linked into place, which fails when one is
    there). Returns the owner the claim names afterwards (``owner`` unless another run claimed it first)."""
    folder = os.path.join(dest, OWNER_DIR)
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError as exc:
        raise ValueError('dest: cannot create %s (where the names of the reports are claimed): %s' % (folder, exc.strerror or exc))
    final = os.path.join(folder, stem + '.owner')
    descriptor, temp = tempfile.mkstemp(dir=folder, prefix='.claim.', suffix='.tmp')
    try:
        with os.fdopen(descriptor, 'w', encoding='utf-8') as handle:
            handle.write(json.dumps(dict(owner=owner.key, text=owner.text), ensure_ascii=False) + '\n')
        try:
            os.link(temp, final)
        except OSError as exc:
            if exc.errno != errno.EEXIST:
                raise ValueError('dest: cannot write %s: %s' % (final, exc.strerror or exc))
            return _read_claim(final) or owner
    finally:
        os.unlink(temp)
    return owner


class FileSet:
    """The files of one report run in ``dest``, placed together.

    ``temp(fmt)`` makes a temporary file (in ``dest``; in check mode in a private directory), ``add(owner, stem,
    fmt, temp)`` says where it goes, ``place()`` checks every final name first (length, a directory in the way, two
    members with one path, another report owning a stem), claims the stems, and only then places the files one by
    one: a bad name never leaves a mix of old and new files. ``discard()`` removes what is left (always call it).
    Creating the set removes the temporary files killed runs left in ``dest`` (``removed``; not in check mode).
    """

    def __init__(self, dest, mode=None, check_mode=False):
        if not dest or not str(dest).strip():
            raise ValueError('dest must be the path of a directory (created when missing)')
        self.dest = os.path.abspath(os.path.expanduser(str(dest)))
        self.mode, self.check_mode = mode, check_mode
        self.work_dir = _prepare_dest(self.dest, check_mode)
        self.removed = [] if check_mode else sweep_temporaries(self.dest)
        self.members = []
        self.temps = OrderedDict()  # path -> None: the temporary files, in order, each once (10,000 tenants add 40,000)
        self._claimed = set()

    def temp(self, fmt, binary=False, newline=None):
        path, handle = new_temp(self.work_dir, fmt, binary=binary, newline=newline)
        self.temps[path] = None
        return path, handle

    def path(self, stem, fmt):
        return os.path.join(self.dest, '%s.%s' % (stem, EXTENSIONS[fmt]))

    def add(self, owner, stem, fmt, temp):
        """The temporary file ``temp`` is the ``fmt`` file of ``stem``, owned by ``owner``; returns its final path."""
        final = self.path(stem, fmt)
        self.members.append(dict(owner=owner, stem=stem, fmt=fmt, temp=temp, path=final))
        self.temps[temp] = None
        return final

    def check(self):
        """Every final name of the set, before anything is placed; ValueError naming the file and the reason."""
        try:
            name_max = os.pathconf(self.dest, 'PC_NAME_MAX')
        except (OSError, ValueError, AttributeError):
            name_max = 255
        by_path = {}
        for member in self.members:
            final = member['path']
            base = os.path.basename(final)
            if len(base.encode('utf-8')) > name_max:
                raise ValueError('dest: the file name %s is %d bytes long, more than the %d this file system allows; give a shorter name'
                                 % (base, len(base.encode('utf-8')), name_max))
            if len(final.encode('utf-8')) >= 4096:
                raise ValueError('dest: the path %s is too long for this system; choose a shorter dest' % final)
            if os.path.isdir(final):
                raise ValueError('dest: %s is a directory, where a report file should go; move it away' % final)
            if final in by_path:
                raise ValueError('dest: two files of this run would be %s (%s and %s)' % (final, by_path[final].text, member['owner'].text))
            by_path[final] = member['owner']
        names, claims = _names(self.dest), _names(os.path.join(self.dest, OWNER_DIR))
        self._claimed = set()
        for stem, owner in self._stems():
            other, where = existing_owner(self.dest, stem, names, claims)
            if other is not None and other != owner:
                raise ValueError(_taken(self.dest, stem, owner, other, where))
            if other is not None and where.endswith('.owner'):
                self._claimed.add(stem)  # claimed by this owner already: nothing to write

    def _stems(self):
        seen = {}
        for member in self.members:
            seen.setdefault(member['stem'], member['owner'])
        return sorted(seen.items())

    def place(self):
        """Check, claim, then place every member. Returns a list of (member, outcome, sha256) in the order added;
        in check mode nothing in ``dest`` is touched."""
        self.check()
        if not self.check_mode:
            for stem, owner in self._stems():
                if stem in self._claimed:
                    continue
                holder = _claim(self.dest, stem, owner)
                if holder != owner:
                    raise ValueError(_taken(self.dest, stem, owner, holder, os.path.join(self.dest, OWNER_DIR, stem + '.owner')))
        done = []
        for member in self.members:
            digest = sha256_of(member['temp'])
            try:
                outcome = place(member['temp'], member['path'], self.mode, self.check_mode)
            except OSError as exc:
                raise ValueError('dest: cannot write %s: %s' % (member['path'], exc.strerror or exc))
            done.append((member, outcome, digest))
        return done

    def discard(self):
        """Remove the temporary files left (all of them after a failure) and, in check mode, the private directory."""
        for path in self.temps:
            try:
                os.unlink(path)
            except OSError:
                pass
        if self.check_mode and self.work_dir != self.dest and os.path.isdir(self.work_dir):
            shutil.rmtree(self.work_dir, ignore_errors=True)

    def removed_warning(self):
        """The warning about the temporary files of killed runs this set removed (None when it removed none)."""
        return removed_warning(self.dest, self.removed)

    def __enter__(self):
        return self

    def __exit__(self, *_exc):
        self.discard()


def removed_warning(dest, removed):
    """The warning that names the temporary files of killed runs removed from ``dest`` (None for none)."""
    if not removed:
        return None
    return 'Removed %d temporary file(s) that killed runs had left in %s: %s%s' % (
        len(removed), dest, ', '.join(removed[:10]), ', ...' if len(removed) > 10 else '')


def _taken(dest, stem, owner, other, where):
    return ('dest: %s would write %s.* in %s, but those files are %s (%s). Two reports whose names make the same file '
            'name cannot share a dest: give one of them another name or dest (or, when %s is gone for good, remove its '
            'files and %s)' % (owner.text, stem, dest, other.text, where, other.text, os.path.join(dest, OWNER_DIR, stem + '.owner')))
