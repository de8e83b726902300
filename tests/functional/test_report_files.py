# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vergeio.billing contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Names, text safety and local CSV of the report files, through real ``ansible`` against the simulator.

Hostile input everywhere a name or text reaches a file: tenants named in CJK only, two tenants whose names make one
stem, HTML and Markdown links in tenant names and record descriptions, a currency ``=1+1``, a 300-character system
name; two systems whose names make one stem in one dest; temporary files a killed run left; CSV with ``;`` and a
decimal comma. Files are read with the standard library (csv, json) and, where installed, markdown-it-py.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import csv
import io
import json
import os
import re
import subprocess
import sys
from decimal import ROUND_HALF_UP, Decimal

import pytest

from conftest import CLAIMS, COLLECTIONS, listing, run_module, run_playbook, sim_env  # pylint: disable=import-error
from simulator.vergeos_sim import Simulator, make_tenant_data  # pylint: disable=import-error

END = 1793491200  # 2026-11-01T00:00:00Z
IMG = '<img src=x onerror=alert(1)>'
LINK = '[pay](http://evil)'
TENANT_NAMES = [u'東京', 'acme (prod)', 'acme [prod]', IMG, LINK, u'Москва ' + 'x' * 300]
DESCRIPTIONS = [IMG, '=HYPERLINK("http://evil","x")', LINK, '+1', '@SUM(A1)', '-2']
LONG_NAME = u'Zürich <b>prod</b> [pay](http://evil) ' + 'n' * 270
RATES = dict(core_hour=0.02, ram_gb_hour=0.01, tier1_gb_hour=0.0001, gpu_hour=1.5, ip_hour=0.001, currency='=1+1')
NUMBER = re.compile(r'^-?[0-9]+(?:[.,][0-9]+)?(?:e[-+]?[0-9]+)?$')


@pytest.fixture(scope='module')
def sim():
    with Simulator(records=24 * 40, seed=9, end=END) as server:
        data = make_tenant_data(6, seed=9, end=END)
        real = [tenant for tenant in data['tenants'] if not tenant['is_snapshot']]
        for tenant, name in zip(real, TENANT_NAMES):
            tenant['name'] = name
        server.set_tenant_data(data)
        records = server.records
        for index, text in enumerate(DESCRIPTIONS):
            records[300 + index * 50]['description'] = text
        server.set_records(records)
        yield server


def keys(server):
    return dict((t['name'], t['$key']) for t in server.tenant_data['tenants'] if not t['is_snapshot'])


def csv_rows(path, delimiter=',', decimal='.'):
    with open(path, encoding='utf-8', newline='') as handle:
        text = handle.read()
    rows = list(csv.reader(io.StringIO(text.lstrip(u'\ufeff'), newline=''), delimiter=delimiter))
    return [[float(cell.replace(decimal, '.')) if NUMBER.match(cell) else cell for cell in row] for row in rows]


def assert_csv_inert(path, delimiter=',', decimal='.'):
    """Every cell is a number or text a spreadsheet does not run: none starts with = + - @ tab or CR."""
    rows = csv_rows(path, delimiter, decimal)
    assert len(set(len(row) for row in rows)) == 1, path  # numbers in columns: every row as wide as the header
    for row in rows:
        for cell in row:
            assert isinstance(cell, float) or not cell.startswith(('=', '+', '-', '@', '\t', '\r')), (path, cell)
    return rows


def assert_markdown_inert(path):
    text = open(path, encoding='utf-8').read()
    assert '<' not in text and not re.search(r'(?<!\\)\]\(', text) and not re.search(r'(?<!\\)://', text), path
    try:
        import markdown_it  # pylint: disable=import-outside-toplevel
    except ImportError:  # not in the oldest line's venv: the escape check above still holds
        return text
    rendered = markdown_it.MarkdownIt('commonmark').enable('table').enable('strikethrough').render(text)
    assert not re.search(r'<(a|img|script|em|strong|code|del)\b', rendered.replace('<strong>Total</strong>', '')
                         .replace('<strong>No ', '')), (path, rendered[:3000])
    return text


def test_hostile_names_and_texts(sim, tmp_path):  # pylint: disable=redefined-outer-name
    dest = tmp_path / 'out'
    args = dict(month='2026-10', dest=str(dest), name=LONG_NAME, tenants=True, rates=RATES)
    run = run_module('verge_billing_report', args, sim_env(sim))
    assert run.rc == 0, run.output[-4000:]
    result = run.result
    by_name = keys(sim)
    # every tenant got its report: the CJK one as tenant-<$key>, the two acme ones with their $key, the long one cut
    assert sorted(result['tenant_files']) == sorted(TENANT_NAMES) and result['tenant_count'] == 6
    system_stem = os.path.basename(result['files']['csv'])[:-len('-2026-10.csv')]
    assert len(system_stem) == 80 and system_stem.startswith('Zurich_b_prod_b_pay_http_evil_nnn')
    stems = dict((name, os.path.basename(files['json'])[len(system_stem) + 1:-len('-2026-10.json')])
                 for name, files in result['tenant_files'].items())
    assert stems[u'東京'] == 'tenant-%d' % by_name[u'東京']
    assert stems['acme (prod)'] == 'acme_prod-%d' % by_name['acme (prod)'] and stems['acme [prod]'] == 'acme_prod-%d' % by_name['acme [prod]']
    assert stems[IMG] == 'img_src_x_onerror_alert_1' and stems[LINK] == 'pay_http_evil'
    long_stem = stems[TENANT_NAMES[-1]]
    assert len(long_stem) == 80 and long_stem.startswith('Moskva_xxx')
    warnings = ' '.join(run.output.split())  # the [WARNING] lines (wrapped by the display)
    assert 'tenant-%d' % by_name[u'東京'] in warnings and 'acme_prod-%d' % by_name['acme [prod]'] in warnings
    paths = [path for files in [result['files'], result['tenants_overview']] + list(result['tenant_files'].values()) for path in files.values()]
    assert len(paths) == 4 * 8 and sorted(os.path.join(str(dest), name) for name in listing(dest)) == sorted(paths)
    assert all(len(os.path.basename(path).encode()) <= 255 for path in paths)
    for path in paths:
        if path.endswith('.csv'):
            rows = assert_csv_inert(path)
            if 'currency' in rows[0]:
                assert set(row[rows[0].index('currency')] for row in rows[1:]) == {"'=1+1"}, path
        elif path.endswith('.md'):
            assert_markdown_inert(path)
        elif path.endswith('.html'):
            text = open(path, encoding='utf-8').read()
            assert '<img src=x' not in text and '<b>prod' not in text and 'href=' not in text, path
    # the JSON keeps every name and text exactly
    system = json.load(open(result['files']['json'], encoding='utf-8'))
    assert system['name'] == LONG_NAME and system['rates']['currency'] == '=1+1'
    descriptions = [row[system['record_fields'].index('description')] for row in system['records']]
    assert set(DESCRIPTIONS) <= set(descriptions)
    tenant = json.load(open(result['tenant_files'][IMG]['json'], encoding='utf-8'))
    assert tenant['tenant']['name'] == IMG
    html = open(result['tenant_files'][IMG]['html'], encoding='utf-8').read()
    assert '&lt;img src=x onerror=alert(1)&gt;' in html
    overview = open(result['tenants_overview']['markdown'], encoding='utf-8').read()
    assert '\\[pay\\](http\\://evil)' in overview and '&lt;img src=x onerror=alert(1)&gt;' in overview
    # descriptions reach the system CSV as text that does not run
    rows = csv_rows(result['files']['csv'])
    column = rows[0].index('description')
    cells = set(row[column] for row in rows[1:])
    assert {IMG, '\'=HYPERLINK("http://evil","x")', LINK, "'+1", "'@SUM(A1)", "'-2"} <= cells
    # a rerun writes nothing
    again = run_module('verge_billing_report', args, sim_env(sim))
    assert again.rc == 0 and again.result['changed'] is False, again.output[-3000:]


def test_two_systems_with_one_stem_in_one_dest(sim, tmp_path):  # pylint: disable=redefined-outer-name
    dest = tmp_path / 'shared'
    first = run_module('verge_billing_report', dict(month='2026-10', dest=str(dest), name='acme (prod)', formats=['csv', 'json', 'markdown']),
                       sim_env(sim))
    assert first.rc == 0, first.output[-3000:]
    before = dict((name, (dest / name).read_bytes()) for name in listing(dest))
    for check in (True, False):
        second = run_module('verge_billing_report', dict(month='2026-10', dest=str(dest), name='acme [prod]', formats=['csv']),
                            sim_env(sim), check=check)
        assert second.rc != 0
        message = second.result['msg']
        assert "'acme [prod]'" in message and "'acme (prod)'" in message and 'acme_prod-2026-10' in message, message
        assert dict((name, (dest / name).read_bytes()) for name in listing(dest)) == before  # nothing written, no temporary file
    # the same system again is fine (its own claim), and a claim-less dest of 0.1.0 is recognised by the JSON
    assert run_module('verge_billing_report', dict(month='2026-10', dest=str(dest), name='acme (prod)', formats=['csv', 'json', 'markdown']),
                      sim_env(sim)).result['changed'] is False
    os.unlink(str(dest / CLAIMS / 'acme_prod-2026-10.owner'))
    third = run_module('verge_billing_report', dict(month='2026-10', dest=str(dest), name='acme [prod]'), sim_env(sim))
    assert third.rc != 0 and 'acme_prod-2026-10.json' in third.result['msg'] and "'acme (prod)'" in third.result['msg']


def test_temporary_files_of_killed_runs_are_removed(sim, tmp_path):  # pylint: disable=redefined-outer-name
    dest = tmp_path / 'swept'
    dest.mkdir()
    host = subprocess.run([sys.executable, '-c', 'from ansible_collections.vergeio.billing.plugins.module_utils._reports.files import host_tag; '
                           'print(host_tag())'], env=dict(os.environ, PYTHONPATH=COLLECTIONS), capture_output=True, text=True, check=True).stdout.strip()
    gone = subprocess.Popen([sys.executable, '-c', 'pass'])
    gone.wait()
    dead = '.report-csv.%s.%d.k1lled.tmp' % (host, gone.pid)
    running = '.report-csv.%s.%d.running.tmp' % (host, os.getpid())  # this test process is alive
    old = '.report-json.k2j3h4.tmp'  # a killed 0.1.0 run's, a day old
    for name in (dead, running, old):
        (dest / name).write_text('partial')
    os.utime(str(dest / old), (0, 1700000000))
    run = run_module('verge_billing_report', dict(month='2026-10', dest=str(dest), formats=['csv']), sim_env(sim))
    assert run.rc == 0, run.output[-3000:]
    assert listing(dest) == sorted([running, 'vergeos-2026-10.csv'])
    assert 'Removed 2 temporary file(s)' in ' '.join(run.output.split())


def test_local_csv_reads_back_to_the_same_numbers(sim, tmp_path):  # pylint: disable=redefined-outer-name
    base = dict(month='2026-10', tenants=['acme (prod)', LINK], rates=dict(RATES, currency='EUR'), formats=['csv', 'json'], name='prod')
    plain = run_module('verge_billing_report', dict(base, dest=str(tmp_path / 'plain')), sim_env(sim))
    local = run_module('verge_billing_report', dict(base, dest=str(tmp_path / 'local'), csv_delimiter=';', csv_decimal=',', csv_bom=True),
                       sim_env(sim))
    assert plain.rc == 0 and local.rc == 0, local.output[-3000:]
    pairs = [(plain.result['files']['csv'], local.result['files']['csv']),
             (plain.result['tenants_overview']['csv'], local.result['tenants_overview']['csv'])]
    pairs += [(plain.result['tenant_files'][name]['csv'], local.result['tenant_files'][name]['csv']) for name in base['tenants']]
    for ours, theirs in pairs:
        assert open(theirs, 'rb').read(4) == b'\xef\xbb\xbf' + open(ours, 'rb').read(1)  # BOM, then the same header
        german = assert_csv_inert(theirs, ';', ',')  # a German spreadsheet: ; between cells, , in numbers
        assert german == assert_csv_inert(ours), theirs
        assert any(isinstance(cell, float) and cell != int(cell) for row in german for cell in row), theirs  # fractions were there
    # and the totals agree with the JSON
    overview = json.load(open(local.result['tenants_overview']['json']))
    rows = csv_rows(local.result['tenants_overview']['csv'], ';', ',')
    totals = [row for row in rows[1:] if row[rows[0].index('kind')] == 'total'][0]  # then the unallocated and system rows
    total = totals[rows[0].index('cost_total')]
    assert totals[rows[0].index('tenant')] == 'Total' and total == float(overview['totals']['cost_total'])  # shown amounts: text in the JSON
    # the fleet report too
    outcome = dict(name='prod', ok=True, period=local.result['period'], summary=local.result['summary'], files=local.result['files'])
    fleet_args = dict(systems=[outcome], dest=str(tmp_path / 'fleet'), csv_delimiter=';', csv_decimal=',', formats=['csv'])
    fleet = run_module('verge_billing_fleet_report', fleet_args, sim_env(None))
    assert fleet.rc == 0, fleet.output[-3000:]
    rows = assert_csv_inert(fleet.result['files']['csv'], ';', ',')
    system = json.load(open(local.result['files']['json']))
    # the fleet shows amounts as finance reads them: rounded half up to the cent (the JSON keeps the exact sum)
    shown = float(Decimal(repr(system['summary']['cost']['total'])).quantize(Decimal('0.01'), rounding=ROUND_HALF_UP))
    assert rows[1][rows[0].index('cost_total')] == shown
    assert rows[1][rows[0].index('twa_ram_gb')] == system['summary']['twa_ram_gb']


def test_an_ambiguous_csv_dialect_is_refused_before_anything_is_written(sim, tmp_path):  # pylint: disable=redefined-outer-name
    for module, args in (('verge_billing_report', dict(month='2026-10')), ('verge_billing_fleet_report', dict(allow_empty=True))):
        run = run_module(module, dict(args, dest=str(tmp_path / module), csv_decimal=','), sim_env(sim))
        assert run.rc != 0 and "csv_decimal ','" in run.result['msg'] and "csv_delimiter ';'" in run.result['msg'], run.output[-2000:]
        assert not (tmp_path / module).exists()


def test_role_passes_the_csv_dialect(sim, tmp_path):  # pylint: disable=redefined-outer-name
    out = tmp_path / 'role'
    role = dict(role='vergeio.billing.billing_report', billing_report_month='2026-10', billing_report_output_dir=str(out),
                billing_report_name='east', billing_report_formats=['csv'], billing_report_fleet=True, billing_report_csv_delimiter=';',
                billing_report_csv_decimal=',', billing_report_csv_bom=True, billing_report_rates=dict(core_hour=0.02, currency='EUR'))
    playbook = tmp_path / 'role.yml'
    playbook.write_text(json.dumps([dict(hosts='localhost', gather_facts=False, roles=[role])]))  # JSON is YAML
    run = run_playbook(str(playbook), sim_env(sim))
    assert run.rc == 0, run.output[-4000:]
    assert listing(out) == ['east-2026-10.csv', 'fleet-2026-10.csv']
    for name in listing(out):
        assert open(str(out / name), 'rb').read(3) == b'\xef\xbb\xbf'
        rows = assert_csv_inert(str(out / name), ';', ',')
        assert len(rows[0]) > 10 and any(isinstance(cell, float) and cell != int(cell) for cell in rows[1])
