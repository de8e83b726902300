# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vergeio.billing contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The files library of the reports (module_utils/_reports/files.py): stems in any script, tenant stems that never
fail, the FileSet (names checked before the first file is replaced, stems claimed), the sweep of temporary files
left by killed runs, and the one CSV writer (dialect, decimal mark, BOM, formula guard).

CSV files are read back with the standard csv module and the decimal mark replaced by hand, never with code under test.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import csv
import hashlib
import io
import json
import os
import re
import subprocess
import sys
import time
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.vergeio.billing.plugins.module_utils._reports import files as lib
from ansible_collections.vergeio.billing.plugins.module_utils._reports.files import (
    MAX_STEM, OWNER_DIR, CsvStyle, FileOwner, FileSet, csv_text, json_head, safe_name, sweep_temporaries, tenant_stems,
    transliterate,
)

STEM = re.compile(r'^[A-Za-z0-9][A-Za-z0-9._-]*$')


# ---- stems ----------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize('name, stem', [
    ('Zürich Süd', 'Zurich_Sud'),
    ('Ærøskøbing', 'Aeroskobing'),
    ('Straße', 'Strasse'),
    ('Łódź', 'Lodz'),
    ('Москва-Сити', 'Moskva-Siti'),
    ('Жёлтый', 'Zheltyi'),
    ('Київ', 'Kiiv'),
    ('Αθήνα', 'Athina'),
    ('ΨΥΧΗ', 'PsYChI'),
    ('ｆｕｌｌ ｗｉｄｔｈ', 'full_width'),
    ('ﬁnance', 'finance'),
    ('東京 Tokyo', 'Tokyo'),
    ('acme (prod)', 'acme_prod'),
    ('acme [prod]', 'acme_prod'),
])
def test_stems_have_a_latin_reading(name, stem):
    assert safe_name(name) == stem


@pytest.mark.parametrize('name', ['東京', '🚀🚀', 'مرحبا', '---', '', None])
def test_a_name_without_latin_reading_has_no_stem(name):
    with pytest.raises(ValueError, match='name must contain letters or digits'):
        safe_name(name)


def test_transliterate_keeps_what_has_no_reading():
    assert transliterate('a東b') == 'a東b' and transliterate('Ёж') == 'Ezh'


def test_long_names_are_cut_with_a_hash():
    name = 'x' * 300
    stem = safe_name(name)
    assert len(stem) == MAX_STEM and stem == safe_name(name)
    assert stem.endswith('-' + hashlib.sha256(name.encode()).hexdigest()[:8])
    # two names that differ only after the cut keep two stems
    assert safe_name('x' * 299 + 'y') != stem and len(safe_name('x' * 299 + 'y')) == MAX_STEM
    assert safe_name('y' * MAX_STEM) == 'y' * MAX_STEM  # at the limit: kept whole


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=400))
def test_any_name_gives_a_safe_stem_or_a_clear_error(name):
    try:
        stem = safe_name(name)
    except ValueError as exc:
        assert 'name must contain letters or digits' in str(exc)
        return
    assert STEM.match(stem) and len(stem) <= MAX_STEM and stem == safe_name(name)


def test_tenant_stems_never_fail_and_say_why():
    tenants = [(5, '東京'), (7, 'acme (prod)'), (9, 'acme [prod]'), (11, 'tenants'), (12, 'Москва'), (13, '🚀')]
    stems, notes = tenant_stems(tenants, reserved=('tenants',))
    assert stems == {5: 'tenant-5', 7: 'acme_prod-7', 9: 'acme_prod-9', 11: 'tenants-11', 12: 'Moskva', 13: 'tenant-13'}
    text = ' '.join(notes)
    for key in (5, 7, 9, 11, 13):
        assert '$key %d' % key in text
    assert '$key 12' not in text


def test_tenant_stems_clash_with_a_fallback_and_a_suffix():
    # "tenant-5" is a real name and the fallback of the CJK tenant 5; "acme-1" is a real name and acme's suffixed stem
    stems, _notes = tenant_stems([(5, '東京'), (8, 'tenant-5'), (1, 'acme'), (2, 'acme!'), (3, 'acme-1')])
    assert len(set(stems.values())) == 5
    assert stems == {5: 'tenant-5-5', 8: 'tenant-5-8', 1: 'acme-1', 2: 'acme-2', 3: 'acme-1-3'}
    # names that differ in case only clash too (a file system may not tell them apart)
    assert tenant_stems([(1, 'Acme'), (2, 'acme')])[0] == {1: 'Acme-1', 2: 'acme-2'}


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 60), st.sampled_from(['a', 'A', 'a!', 'a-1', 'a-2', 'tenants', '東', 'tenant-3', 'b (x)',
                                                               'b [x]', 'x' * 90, 'x' * 89 + 'y'])),
                max_size=12, unique_by=lambda pair: pair[0]), st.randoms())
def test_tenant_stems_are_unique_and_independent_of_order(tenants, rng):
    stems, _notes = tenant_stems(tenants, reserved=('tenants',))
    assert sorted(stems) == sorted(key for key, _name in tenants)
    assert len(set(stem.lower() for stem in stems.values())) == len(stems) and 'tenants' not in stems.values()
    assert all(STEM.match(stem) for stem in stems.values())
    shuffled = list(tenants)
    rng.shuffle(shuffled)
    assert tenant_stems(shuffled, reserved=('tenants',))[0] == stems


# ---- the file set ---------------------------------------------------------------------------------------------------

def fill(files, fmt, text):
    path, handle = files.temp(fmt)
    with handle:
        handle.write(text)
    return path


def write_set(dest, owner, stem, texts, check_mode=False, mode=None):
    files = FileSet(str(dest), mode, check_mode)
    try:
        for fmt, text in texts.items():
            files.add(owner, stem, fmt, fill(files, fmt, text))
        return [(member['fmt'], done, digest) for member, done, digest in files.place()]
    finally:
        files.discard()


def visible(dest):
    return sorted(name for name in os.listdir(str(dest)) if name != OWNER_DIR)


def test_a_set_places_its_files_and_says_what_happened(tmp_path):
    texts = dict(csv='a;b\r\n', json='{"x": 1}\n')
    done = write_set(tmp_path, FileOwner.system('prod'), 'prod-2026-10', texts)
    assert done == [(fmt, 'created', hashlib.sha256(text.encode()).hexdigest()) for fmt, text in texts.items()]
    assert visible(tmp_path) == ['prod-2026-10.csv', 'prod-2026-10.json']  # no temporary file left
    assert [outcome for _fmt, outcome, _digest in write_set(tmp_path, FileOwner.system('prod'), 'prod-2026-10', texts)] == ['unchanged'] * 2
    again = write_set(tmp_path, FileOwner.system('prod'), 'prod-2026-10', dict(texts, csv='c\r\n'))
    assert [outcome for _fmt, outcome, _digest in again] == ['updated', 'unchanged']


def test_check_mode_touches_nothing(tmp_path):
    dest = tmp_path / 'new'
    done = write_set(dest, FileOwner.system('prod'), 'prod-2026-10', dict(csv='x\r\n'), check_mode=True)
    assert [outcome for _fmt, outcome, _digest in done] == ['created'] and not dest.exists()


def old_files(dest, stems):
    dest.mkdir(exist_ok=True)
    for stem in stems:
        (dest / (stem + '.csv')).write_text('old')


@pytest.mark.parametrize('problem', ['long', 'directory', 'twice'])
def test_every_name_is_checked_before_the_first_file_is_replaced(tmp_path, problem):
    old_files(tmp_path, ['a', 'b', 'c'])
    files = FileSet(str(tmp_path))
    owner = FileOwner.system('prod')
    for stem in ('a', 'b', 'c'):
        files.add(owner, stem, 'csv', fill(files, 'csv', 'new'))
    if problem == 'long':
        files.add(owner, 'z' * 300, 'csv', fill(files, 'csv', 'new'))
        words = 'more than the'
    elif problem == 'directory':
        (tmp_path / 'd.csv').mkdir()
        files.add(owner, 'd', 'csv', fill(files, 'csv', 'new'))
        words = 'is a directory'
    else:
        files.add(FileOwner.tenant('prod', 4, 'x'), 'b', 'csv', fill(files, 'csv', 'new'))
        words = 'two files of this run would be'
    with pytest.raises(ValueError, match=words):
        files.place()
    files.discard()
    assert [(tmp_path / (stem + '.csv')).read_text() for stem in ('a', 'b', 'c')] == ['old'] * 3
    assert not [name for name in os.listdir(str(tmp_path)) if name.endswith('.tmp')]


def test_two_systems_with_one_stem_are_refused_before_any_file_is_written(tmp_path):
    write_set(tmp_path, FileOwner.system('acme (prod)'), 'acme_prod-2026-10', dict(csv='first\r\n', markdown='# first\n'))
    with pytest.raises(ValueError) as caught:
        write_set(tmp_path, FileOwner.system('acme [prod]'), 'acme_prod-2026-10', dict(csv='second\r\n', markdown='# second\n'))
    message = str(caught.value)
    assert "'acme [prod]'" in message and "'acme (prod)'" in message and 'acme_prod-2026-10' in message
    assert (tmp_path / 'acme_prod-2026-10.csv').read_bytes() == b'first\r\n'
    assert (tmp_path / 'acme_prod-2026-10.md').read_text() == '# first\n'
    # in check mode too, and the owner itself goes on
    with pytest.raises(ValueError, match='acme'):
        write_set(tmp_path, FileOwner.system('acme [prod]'), 'acme_prod-2026-10', dict(csv='second\r\n'), check_mode=True)
    assert write_set(tmp_path, FileOwner.system('acme (prod)'), 'acme_prod-2026-10', dict(csv='third\r\n'))[0][1] == 'updated'


def test_a_tenant_and_a_system_with_one_stem_are_refused(tmp_path):
    write_set(tmp_path, FileOwner.system('acme-prod'), 'acme-prod-2026-10', dict(csv='system\r\n'))
    with pytest.raises(ValueError, match="tenant 'prod' .*system 'acme'.*the report of system 'acme-prod'"):
        write_set(tmp_path, FileOwner.tenant('acme', 3, 'prod'), 'acme-prod-2026-10', dict(csv='tenant\r\n'))


def report_json(name, **extra):
    head = dict(generator='vergeio.billing.verge_billing_report', layout=1)
    head.update(extra)
    head['name'] = name
    head['records'] = [[index, 'x' * 50] for index in range(3000)]  # far beyond what json_head reads
    return json.dumps(head, indent=1)


def test_files_without_a_claim_are_recognised_by_their_json(tmp_path):
    (tmp_path / 'acme_prod-2026-10.json').write_text(report_json('acme (prod)'))
    (tmp_path / 'acme_prod-2026-10.csv').write_text('theirs')
    with pytest.raises(ValueError, match=r"acme \(prod\).*acme_prod-2026-10.json"):
        write_set(tmp_path, FileOwner.system('acme [prod]'), 'acme_prod-2026-10', dict(csv='mine\r\n'))
    assert (tmp_path / 'acme_prod-2026-10.csv').read_text() == 'theirs'
    # the system's own files (written by 0.1.0, no claim) are adopted and claimed
    assert write_set(tmp_path, FileOwner.system('acme (prod)'), 'acme_prod-2026-10', dict(csv='mine\r\n'))[0][1] == 'updated'
    claim = json.loads((tmp_path / OWNER_DIR / 'acme_prod-2026-10.owner').read_text())
    assert claim['owner'] == 'system:acme (prod)'


@pytest.mark.parametrize('head, owner', [
    (dict(kind='tenant', tenant=dict(key=4, name='blue')), FileOwner.tenant('east', 4, 'blue')),
    (dict(kind='tenants'), FileOwner.overview('east')),
    (dict(), FileOwner.system('east')),
])
def test_json_head_reads_the_owner_of_a_report(tmp_path, head, owner):
    path = tmp_path / 'r.json'
    path.write_text(report_json('east', **head))
    assert os.path.getsize(str(path)) > 1 << 16
    assert FileOwner.of_report(json_head(str(path))) == owner


def test_json_head_of_a_fleet_report_and_of_other_files(tmp_path):
    path = tmp_path / 'f.json'
    path.write_text(json.dumps(dict(failed=['a'], generator='vergeio.billing.verge_billing_fleet_report', layout=1, name='fleet'), sort_keys=True))
    assert FileOwner.of_report(json_head(str(path))) == FileOwner.fleet('fleet')
    for text in ('[1, 2]', '{"name": "x"}', 'not json', '{"generator": "someone else", "name": "x"}'):
        path.write_text(text)
        assert FileOwner.of_report(json_head(str(path))) is None


def test_a_claim_is_atomic_and_the_first_wins(tmp_path):
    first, second = FileOwner.system('acme (prod)'), FileOwner.system('acme [prod]')
    assert lib._claim(str(tmp_path), 'acme_prod-2026-10', first) == first  # pylint: disable=protected-access
    assert lib._claim(str(tmp_path), 'acme_prod-2026-10', second) == first  # pylint: disable=protected-access
    assert os.listdir(str(tmp_path / OWNER_DIR)) == ['acme_prod-2026-10.owner']  # no claim temporary left


def test_a_claim_made_between_the_check_and_the_placing_stops_the_set(tmp_path, monkeypatch):
    """Two runs at once (AWX slices in one dest): the loser of the claim places nothing."""
    files = FileSet(str(tmp_path))
    files.add(FileOwner.system('acme [prod]'), 'acme_prod-2026-10', 'csv', fill(files, 'csv', 'mine'))
    real_check = files.check

    def check_then_lose_the_race():
        real_check()
        lib._claim(str(tmp_path), 'acme_prod-2026-10', FileOwner.system('acme (prod)'))  # pylint: disable=protected-access
    monkeypatch.setattr(files, 'check', check_then_lose_the_race)
    with pytest.raises(ValueError, match=r"acme \(prod\)"):
        files.place()
    files.discard()
    assert visible(tmp_path) == []


# ---- temporary files of killed runs -----------------------------------------------------------------------------------

def dead_pid():
    proc = subprocess.Popen([sys.executable, '-c', 'pass'])
    proc.wait()
    return proc.pid


def test_temporary_files_of_killed_runs_are_removed_and_running_ones_kept(tmp_path):
    host = lib.host_tag()
    sleeper = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])
    try:
        names = dict(
            dead='.report-csv.%s.%d.abc123.tmp' % (host, dead_pid()),
            alive='.report-json.%s.%d.abc123.tmp' % (host, sleeper.pid),
            mine='.report-html.%s.%d.abc123.tmp' % (host, os.getpid()),
            elsewhere='.report-csv.other-host.%d.abc123.tmp' % dead_pid(),
            elsewhere_old='.report-csv.other-host.1.abc123.tmp',
            legacy='.report-csv.k2j3h4.tmp',
            legacy_old='.report-md.k2j3h5.tmp',
            report='prod-2026-10.csv',
            hidden='.report-notes.txt',
        )
        for name in names.values():
            (tmp_path / name).write_text('x')
        old = time.time() - lib.STALE_TEMP_SECONDS - 60
        for key in ('elsewhere_old', 'legacy_old'):
            os.utime(str(tmp_path / names[key]), (old, old))
        checking = FileSet(str(tmp_path), check_mode=True)
        checking.discard()
        assert checking.removed == [] and len(os.listdir(str(tmp_path))) == len(names)
        files = FileSet(str(tmp_path))
        assert sorted(files.removed) == sorted(names[key] for key in ('dead', 'elsewhere_old', 'legacy_old'))
        assert sorted(os.listdir(str(tmp_path))) == sorted(names[key] for key in ('alive', 'mine', 'elsewhere', 'legacy', 'report', 'hidden'))
        assert 'Removed 3 temporary file(s)' in files.removed_warning()
    finally:
        sleeper.kill()
        sleeper.wait()


def test_the_temporary_files_of_a_set_name_host_and_process(tmp_path):
    files = FileSet(str(tmp_path))
    path = fill(files, 'markdown', 'x')
    assert re.match(r'^\.report-markdown\.%s\.%d\.[A-Za-z0-9_]+\.tmp$' % (re.escape(lib.host_tag()), os.getpid()), os.path.basename(path))
    assert sweep_temporaries(str(tmp_path)) == []  # this run's own file stays
    files.discard()
    assert os.listdir(str(tmp_path)) == []


# ---- CSV ------------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize('text, cell', [('=1+1', "'=1+1"), ('+1', "'+1"), ('-2', "'-2"), ('@SUM(A1)', "'@SUM(A1)"), ('\tx', "'\tx"),
                                        ('\rx', "'\rx"), ('EUR', 'EUR'), ('a=b', 'a=b'), ('', '')])
def test_csv_text(text, cell):
    assert csv_text(text) == cell


def written(style, rows):
    out = io.StringIO(newline='')
    style.writer(out).writerows(rows)
    return out.getvalue()


def test_cells_numbers_stay_numbers_and_text_is_guarded():
    rows = [['=1+1', -1.5, -2, None, True, Decimal('12.345'), 1e-05, '-x', {'a': 1}]]
    assert written(CsvStyle(), rows) == '\'=1+1,-1.5,-2,,true,12.345,1e-05,\'-x,"{""a"": 1}"\r\n'
    assert written(CsvStyle(';', ','), rows) == '\'=1+1;-1,5;-2;;true;12,345;1e-05;\'-x;"{""a"": 1}"\r\n'


def test_bom_and_ambiguous_styles():
    assert written(CsvStyle(bom=True), [['a']]).encode('utf-8') == b'\xef\xbb\xbfa\r\n'
    with pytest.raises(ValueError, match="csv_decimal ',' and csv_delimiter ','"):
        CsvStyle(',', ',')
    with pytest.raises(ValueError, match='csv_delimiter'):
        CsvStyle('\t')
    assert vars(CsvStyle.from_options(dict(csv_delimiter=None))) == vars(CsvStyle())
    with pytest.raises(ValueError, match='csv_decimal'):
        CsvStyle.from_options(dict(csv_decimal=','))


def read_back(text, delimiter, decimal):
    """Independent reader: the csv module, then the decimal mark replaced (as a spreadsheet in that locale reads it)."""
    rows = []
    for row in csv.reader(io.StringIO(text.lstrip(u'\ufeff'), newline=''), delimiter=delimiter):
        rows.append([float(cell.replace(decimal, '.')) if re.match(r'^-?[0-9]+([.,][0-9]+)?(e[-+]?[0-9]+)?$', cell) else cell for cell in row])
    return rows


numbers = st.one_of(st.integers(-10 ** 15, 10 ** 15), st.floats(allow_nan=False, allow_infinity=False, width=64))
texts = st.text(alphabet=st.characters(blacklist_categories=('Cs',), blacklist_characters=u'\x00\ufeff'), max_size=12).filter(
    lambda t: not re.match(r'^-?[0-9]', t))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(st.one_of(numbers, texts), min_size=1, max_size=6), min_size=1, max_size=8),
       st.sampled_from([(',', '.'), (';', '.'), (';', ',')]), st.booleans())
def test_csv_reads_back_to_the_same_numbers(rows, dialect, bom):
    delimiter, decimal = dialect
    text = written(CsvStyle(delimiter, decimal, bom), rows)
    back = read_back(text, delimiter, decimal)
    assert len(back) == len(rows)
    for row, got in zip(rows, back):
        assert len(got) == len(row)
        for value, cell in zip(row, got):
            if isinstance(value, str):
                assert cell == csv_text(value)  # text comes back as text, formulas defused
            else:
                assert cell == float(value)  # the float repr and the integer read back exactly


@settings(max_examples=100, deadline=None)
@given(st.lists(st.lists(st.one_of(st.none(), st.integers(-99, 99), st.floats(allow_nan=False, width=64), texts), min_size=4, max_size=4),
                min_size=1, max_size=10), st.sampled_from([(',', '.'), (';', ',')]))
def test_columns_and_rows_write_the_same_bytes(rows, dialect):
    style = CsvStyle(*dialect)
    by_columns = io.StringIO(newline='')
    style.writer(by_columns).write_columns([list(column) for column in zip(*rows)])
    assert by_columns.getvalue() == written(style, rows)


def test_a_german_spreadsheet_gets_numbers_in_columns():
    """Excel in German reads ; between cells and , in numbers: every number cell is one cell a German locale parses."""
    text = written(CsvStyle(';', ',', True), [['system', 'hours', 'cost', 'currency'], ['acme', 745, 1234.5678, '=1+1'], ['b', 744, 0.1, 'EUR']])
    rows = list(csv.reader(io.StringIO(text.lstrip(u'\ufeff'), newline=''), delimiter=';'))
    assert [len(row) for row in rows] == [4, 4, 4]
    assert rows[1] == ['acme', '745', '1234,5678', "'=1+1"] and rows[2][2] == '0,1'
    assert all(re.match(r'^-?[0-9]+(,[0-9]+)?$', row[column]) for row in rows[1:] for column in (1, 2))


def _column(kind):
    """A column of one kind, as a page of converted records has them: text with nulls, integers with nulls, floats."""
    cells = dict(text=st.one_of(st.none(), texts, st.sampled_from(['2026-10-01T00:00:00+02:00', 'a,b', 'say "hi"', 'x\r\ny', '=1+1'])),
                 ints=st.one_of(st.none(), st.integers(-10 ** 12, 10 ** 12)), floats=st.floats(allow_nan=False, allow_infinity=False, width=64))[kind]
    return cells


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 12).flatmap(lambda size: st.lists(st.sampled_from(['text', 'ints', 'floats']).flatmap(
    lambda kind: st.lists(_column(kind), min_size=size, max_size=size)), min_size=1, max_size=5)),
    st.sampled_from([(',', '.'), (';', '.'), (';', ',')]))
def test_columns_of_one_kind_write_what_the_csv_module_writes(columns, dialect):
    """A page whose text needs no quotes is joined directly (the fast path); whichever path a page takes, the bytes
    are those of the rows written one by one through the csv module."""
    style = CsvStyle(*dialect)
    by_columns = io.StringIO(newline='')
    style.writer(by_columns).write_columns([list(column) for column in columns])
    assert by_columns.getvalue() == written(style, [list(row) for row in zip(*columns)])
