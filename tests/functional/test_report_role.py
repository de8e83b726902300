# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vergeio.billing contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The billing_report role and the playbooks of playbooks/, through real ansible-playbook runs against simulators.

Expected values are computed here from the simulator's raw records (with a converter written for the test), or
taken from a separate run of the module, never from the files under test.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import csv
import io
import json
import math
import os
import re
import shutil
import struct
import subprocess
import zlib
from decimal import Decimal

import pytest

from conftest import API_KEY, BIN, ROOT, listing, run_module, run_playbook, sim_env  # pylint: disable=import-error
from simulator.vergeos_sim import Simulator  # pylint: disable=import-error

END = 1793491200  # 2026-11-01T00:00:00Z: the newest simulated record ends there
OCT_FIRST, OCT_LAST = 1790812800, 1793491199  # 2026-10-01T00:00:00Z, 2026-10-31T23:59:59Z
GIB = 1024 ** 3
RATES = dict(core_hour=0.02, ram_gb_hour=0.01, tier1_gb_hour=0.0001, tier2_gb_hour=0.00005, gpu_hour=1.5, vgpu_hour=0.4, currency='EUR')
FORMATS = ('csv', 'json', 'md', 'html')
CHROMIUM = shutil.which('chromium') or ('/usr/bin/chromium' if os.path.exists('/usr/bin/chromium') else None)


def num(value):
    """The test's own reading of a simulated counter: null, missing or '' is 0; numbers may come as strings."""
    if value is None or value == '':
        return 0
    return int(float(value)) if isinstance(value, str) else int(value)


def hours_of(raw, first=OCT_FIRST, last=OCT_LAST):
    """The hours of the record's from..to inside [first, last] (October in UTC): what the report bills of it."""
    start, end = num(raw.get('from')), num(raw.get('to'))
    return max(min(end, last + 1) - max(start, first), 0) / 3600 if start and end else 0.0


def expected_cost(raw, first=OCT_FIRST, last=OCT_LAST):
    hours = hours_of(raw, first, last)
    parts = dict(cpu=num(raw.get('used_cores')) * RATES['core_hour'] * hours,
                 ram=num(raw.get('used_ram')) / 1024 * RATES['ram_gb_hour'] * hours,
                 tier1=num(raw.get('tier_1_used')) / GIB * RATES['tier1_gb_hour'] * hours,
                 tier2=num(raw.get('tier_2_used')) / GIB * RATES['tier2_gb_hour'] * hours,
                 gpu=num(raw.get('gpus')) * RATES['gpu_hour'] * hours,
                 vgpu=num(raw.get('vgpus')) * RATES['vgpu_hour'] * hours)
    parts['total'] = math.fsum(parts.values())
    return parts


def in_october(sim):
    """The records whose usage overlaps October (UTC): to > its first second and from < the first of November."""
    return [raw for raw in sim.records if num(raw.get('to')) > OCT_FIRST and num(raw.get('from')) < OCT_LAST + 1]


def read(path):
    with open(path, encoding='utf-8') as handle:
        return handle.read()


def files(directory, base):
    return dict((ext, os.path.join(directory, '%s.%s' % (base, ext))) for ext in FORMATS)


def monthly(sim, output_dir, check=False, extra=None):
    extra_vars = dict(month='2026-10', output_dir=str(output_dir), rates=RATES)
    extra_vars.update(extra or {})
    return run_playbook('playbooks/monthly_chargeback.yml', sim_env(sim), extra_vars=extra_vars, check=check)


@pytest.fixture(scope='module')
def month_sim():
    with Simulator(records=800, seed=7, end=END) as server:
        yield server


@pytest.fixture(scope='module')
def month_dir(month_sim, tmp_path_factory):  # pylint: disable=redefined-outer-name
    directory = tmp_path_factory.mktemp('monthly')
    run = monthly(month_sim, directory)
    assert run.rc == 0, run.output
    assert run.stats['localhost']['changed'] == 1, run.output  # one task (verge_billing_report) wrote the four files
    return directory


def test_monthly_chargeback_writes_four_files(month_sim, month_dir):  # pylint: disable=redefined-outer-name
    paths = files(month_dir, 'vergeos-2026-10')
    assert listing(month_dir) == sorted(os.path.basename(p) for p in paths.values())
    raws = in_october(month_sim)
    assert len(raws) > 700
    by_key = dict((num(raw['$key']), raw) for raw in raws)

    # CSV: one row per record, the record's names and units, ISO times, dot decimals, cost columns.
    text = read(paths['csv'])
    rows = list(csv.DictReader(io.StringIO(text, newline='')))
    assert len(rows) == len(raws)
    assert sorted(int(row['key']) for row in rows) == sorted(by_key)
    assert [int(row['created_epoch']) for row in rows] == sorted(int(row['created_epoch']) for row in rows)  # oldest first
    for row in rows:
        raw = by_key[int(row['key'])]
        assert int(row['created_epoch']) == num(raw['created'])
        assert re.match(r'^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$', row['created'])
        assert int(row['used_cores']) == num(raw.get('used_cores'))
        assert float(row['used_ram_gb']) == num(raw.get('used_ram')) / 1024
        assert float(row['tier1_used_gb']) == num(raw.get('tier_1_used')) / GIB
        assert int(row['gpus_used']) == num(raw.get('gpus'))
        cost = expected_cost(raw)
        for part in ('cpu', 'ram', 'gpu', 'vgpu', 'total'):
            assert float(row['cost_' + part]) == pytest.approx(cost[part], rel=1e-9, abs=1e-12), part
        assert float(row['cost_tier1']) == pytest.approx(cost['tier1'], rel=1e-9, abs=1e-12)
        assert row['currency'] == 'EUR'
    table = list(csv.reader(io.StringIO(text, newline='')))
    assert all(len(cells) == len(table[0]) for cells in table)  # numbers hold no commas that would split a cell

    # JSON: the summary is what the module says for the same range; the records are those of the CSV.
    report = json.loads(read(paths['json']))
    assert report['period'] == dict(label='2026-10', month='2026-10', since='2026-10-01T00:00:00+00:00', until='2026-10-31T23:59:59+00:00',
                                    since_epoch=OCT_FIRST, until_epoch=OCT_LAST, timezone='UTC')
    module = run_module('verge_billing_info', dict(view='summary', month='2026-10', period_by='usage', group_by='day', rates=RATES),
                        sim_env(month_sim))
    assert module.rc == 0, module.output
    assert report['summary'] == module.result['summary']
    summary = report['summary']
    assert summary['record_count'] == len(raws)
    assert summary['hours'] == pytest.approx(math.fsum(hours_of(raw) for raw in raws), rel=1e-12)
    weights = [hours_of(raw) for raw in raws]
    assert summary['twa_cpu_cores'] == pytest.approx(
        math.fsum(num(raw.get('used_cores')) * w for raw, w in zip(raws, weights)) / math.fsum(weights), rel=1e-12)
    assert summary['cost']['total'] == pytest.approx(math.fsum(expected_cost(raw)['total'] for raw in raws), rel=1e-9)
    assert summary['cost']['total'] == pytest.approx(math.fsum(float(row['cost_total']) for row in rows), rel=1e-9)
    assert [p['period'] for p in summary['periods']] == ['2026-10-%02d' % day for day in range(1, 32)]
    assert len(report['records']) == len(rows) == report['record_count']
    key = report['record_fields'].index('key')
    assert [r[key] for r in report['records']] == [int(row['key']) for row in rows]
    assert dict((k, v) for k, v in report['rates'].items() if v and k != 'precision') == RATES and report['rates']['precision'] == 2

    # Markdown: the summary table with the module's figures, rounded for people.
    markdown = read(paths['md'])
    assert markdown.startswith('# VergeOS billing report: vergeos, 2026-10\n')
    total = report['bill']['total']
    assert total == str(sum((Decimal(line['amount']) for line in report['bill']['lines']), Decimal(0)))
    assert abs(Decimal(total) - Decimal(repr(summary['cost']['total']))) < Decimal('0.05')  # a rounding per line
    assert '| **Total** | | | | {:,.2f} |'.format(Decimal(total)) in markdown
    assert '| CPU cores used | cores | \u2013 | {:,.1f} | {:,} | {:,} | '.format(
        summary['twa_cpu_cores'], summary['p95_cpu_cores'], summary['peak_cpu_cores']) in markdown

    # HTML: self-contained, a chart per metric in use (cores, RAM, tiers 1 and 2, GPUs; no vGPUs here), the cost.
    html = read(paths['html'])
    assert summary['peak_vgpus_used'] == 0 and 'vGPUs: chart left out' in html
    assert html.count('<svg ') == 5 and '<script' not in html.lower()
    assert set(re.findall(r'https?://[^"\s<]+', html)) == set(['http://www.w3.org/2000/svg'])
    assert '{:,.2f} EUR'.format(Decimal(total)) in html


def test_second_run_changes_nothing(month_sim, month_dir):  # pylint: disable=redefined-outer-name
    before = dict((name, read(os.path.join(month_dir, name))) for name in listing(month_dir))
    run = monthly(month_sim, month_dir)
    assert run.rc == 0, run.output
    assert run.stats['localhost']['changed'] == 0, run.output
    assert dict((name, read(os.path.join(month_dir, name))) for name in listing(month_dir)) == before


def test_check_mode_writes_nothing(month_sim, month_dir, tmp_path):  # pylint: disable=redefined-outer-name
    fresh = tmp_path / 'reports'
    run = monthly(month_sim, fresh, check=True)
    assert run.rc == 0, run.output
    assert run.stats['localhost']['changed'] == 1, run.output  # it would write the four files
    assert not fresh.exists()
    again = monthly(month_sim, month_dir, check=True)
    assert again.rc == 0, again.output
    assert again.stats['localhost']['changed'] == 0, again.output
    assert month_sim.count('POST', '/api/v4/billing_actions') == 0


def test_connection_from_module_defaults_and_role_variables(month_sim, tmp_path):  # pylint: disable=redefined-outer-name
    """api_key and ca_path come from module_defaults, host from a role variable that wins over module_defaults'."""
    playbook = tmp_path / 'play.yml'
    playbook.write_text(
        '- hosts: localhost\n'
        '  gather_facts: false\n'
        '  module_defaults:\n'
        '    group/vergeio.billing.verge:\n'
        '      host: 127.0.0.1:9\n'
        '      api_key: "{{ key }}"\n'
        '      ca_path: "{{ ca }}"\n'
        '  roles:\n'
        '    - role: vergeio.billing.billing_report\n'
        '      billing_report_month: "2026-10"\n'
        '      billing_report_output_dir: "{{ out }}"\n'
        '      billing_report_formats: [json]\n'
        '      billing_report_host: "{{ host }}"\n')
    env = sim_env(None)
    assert not [name for name in env if name.startswith(('VERGEOS_', 'VERGE_'))]
    run = run_playbook(str(playbook), env, extra_vars=dict(key=API_KEY, ca=month_sim.ca_path, out=str(tmp_path), host=month_sim.host))
    assert run.rc == 0, run.output
    report = json.loads(read(str(tmp_path / 'localhost-2026-10.json')))
    assert report['summary']['record_count'] == len(in_october(month_sim))
    assert 'sim-api-key' not in run.output


def png_pixels(path):
    """(width, height, rows) of an 8-bit RGB or RGBA PNG without interlace (what Chromium writes); rows of bytes."""
    data = open(path, 'rb').read()
    assert data[:8] == b'\x89PNG\r\n\x1a\n', 'not a PNG'
    pos, chunks, header = 8, [], None
    while pos < len(data):
        length, kind = struct.unpack('>I4s', data[pos:pos + 8])
        if kind == b'IHDR':
            header = struct.unpack('>IIBBBBB', data[pos + 8:pos + 8 + length])
        elif kind == b'IDAT':
            chunks.append(data[pos + 8:pos + 8 + length])
        pos += 12 + length
    width, height, depth, colour, _compression, _filter, interlace = header
    assert depth == 8 and colour in (2, 6) and interlace == 0, header
    bpp = 3 if colour == 2 else 4
    raw, stride = zlib.decompress(b''.join(chunks)), width * bpp
    rows, prev = [], bytearray(stride)
    for y in range(height):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        if kind == 1:
            for i in range(bpp, stride):
                line[i] = (line[i] + line[i - bpp]) & 255
        elif kind == 2:
            line = bytearray((a + b) & 255 for a, b in zip(line, prev))
        elif kind == 3:
            for i in range(stride):
                line[i] = (line[i] + (((line[i - bpp] if i >= bpp else 0) + prev[i]) >> 1)) & 255
        elif kind == 4:
            for i in range(stride):
                a, b, c = (line[i - bpp] if i >= bpp else 0), prev[i], (prev[i - bpp] if i >= bpp else 0)
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append((line, bpp))
        prev = line
    return width, height, rows


def count_colour(rows, rgb, tolerance=40):
    total = 0
    for line, bpp in rows:
        for x in range(0, len(line), bpp):
            if abs(line[x] - rgb[0]) <= tolerance and abs(line[x + 1] - rgb[1]) <= tolerance and abs(line[x + 2] - rgb[2]) <= tolerance:
                total += 1
    return total


@pytest.mark.skipif(CHROMIUM is None, reason='chromium is not installed (Debian: apt-get install chromium); the HTML screenshot test needs it')
def test_html_renders_with_charts_in_headless_chromium(month_dir, tmp_path):  # pylint: disable=redefined-outer-name
    html = os.path.join(str(month_dir), 'vergeos-2026-10.html')
    shot = tmp_path / 'report.png'
    command = [CHROMIUM, '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
               '--disable-component-update', '--disable-sync', '--user-data-dir=%s' % (tmp_path / 'profile'), '--screenshot=%s' % shot,
               '--window-size=1280,2400', 'file://' + html]
    proc = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0 and shot.exists(), proc.stderr[-2000:]
    output = os.path.join(ROOT, 'tests', 'output')
    os.makedirs(output, exist_ok=True)
    shutil.copy(str(shot), os.path.join(output, 'report-screenshot.png'))  # for a person (and CI artifacts) to look at
    width, height, rows = png_pixels(str(shot))
    assert (width, height) == (1280, 2400)
    # The charts: blue (#0072B2) used lines, dashed grey (#6b6b6b) capacity lines.
    assert count_colour(rows, (0x00, 0x72, 0xB2), 30) > 5000
    assert count_colour(rows, (0x6B, 0x6B, 0x6B), 6) > 500
    # Not blank: most rows of the upper page hold something other than the page background.
    busy = sum(1 for line, bpp in rows[:1600] if len(set(bytes(line[i:i + 3]) for i in range(0, len(line), bpp * 8))) > 2)
    assert busy > 800


@pytest.fixture(scope='module')
def fleet(tmp_path_factory):
    """Three simulators; the third refuses the fleet's API key (401)."""
    with Simulator(records=800, seed=1, end=END) as east, Simulator(records=800, seed=2, end=END) as west, \
            Simulator(records=800, seed=3, end=END, api_key='another-key') as lab:
        directory = tmp_path_factory.mktemp('fleet')
        inventory = dict(vergeos=dict(
            hosts=dict((name, dict(billing_report_host=sim.host, billing_report_ca_path=sim.ca_path))
                       for name, sim in (('site-a', east), ('site-b', west), ('site-c', lab))),
            vars=dict(ansible_connection='local', billing_report_api_key=API_KEY, billing_report_rates=RATES)))
        path = directory / 'inventory.json'
        path.write_text(json.dumps(inventory))
        run = run_playbook('playbooks/fleet_chargeback.yml', sim_env(None), inventory=str(path),
                           extra_vars=dict(month='2026-10', output_dir=str(directory / 'reports')))
        yield dict(run=run, dir=directory / 'reports', sims=dict(zip(('site-a', 'site-b', 'site-c'), (east, west, lab))))


def test_fleet_consolidated_totals_are_the_sum_of_the_systems(fleet):  # pylint: disable=redefined-outer-name
    run, directory = fleet['run'], str(fleet['dir'])
    assert run.rc == 2, run.output  # a host failed
    assert run.stats['site-c']['failed'] == 1 and run.stats['site-a']['failed'] == 0 and run.stats['site-b']['failed'] == 0, run.output
    assert 'VergeOS system site-c could not report' in run.output and 'HTTP 401' in run.output
    names = listing(directory)
    assert names == sorted('%s-2026-10.%s' % (name, ext) for name in ('site-a', 'site-b', 'fleet') for ext in FORMATS)

    systems = {}
    for name in ('site-a', 'site-b'):
        systems[name] = json.loads(read(os.path.join(directory, '%s-2026-10.json' % name)))['summary']
        assert systems[name]['record_count'] == len(in_october(fleet['sims'][name]))
    consolidated = json.loads(read(os.path.join(directory, 'fleet-2026-10.json')))
    assert consolidated['failed'] == ['site-c']
    totals = consolidated['totals']
    assert (totals['systems'], totals['reported'], totals['failed']) == (3, 2, 1)
    for key in ('record_count', 'total_gpus', 'total_vgpus'):
        assert totals[key] == sum(summary[key] for summary in systems.values()), key
    for key in ('hours', 'twa_cpu_cores', 'twa_ram_gb', 'twa_storage_used_gb', 'twa_gpus_used', 'twa_vgpus_used'):
        assert totals[key] == pytest.approx(math.fsum(summary[key] for summary in systems.values()), rel=1e-12), key
    for part in ('cpu', 'ram', 'storage', 'gpu', 'vgpu', 'total'):
        assert totals['cost'][part] == pytest.approx(math.fsum(summary['cost'][part] for summary in systems.values()), rel=1e-12), part
    assert [s['name'] for s in consolidated['systems']] == ['site-a', 'site-b', 'site-c']
    assert 'HTTP 401' in consolidated['systems'][2]['error']

    rows = list(csv.DictReader(io.StringIO(read(os.path.join(directory, 'fleet-2026-10.csv')), newline='')))
    assert [(row['system'], row['status']) for row in rows] == [('site-a', 'ok'), ('site-b', 'ok'), ('site-c', 'failed'),
                                                                ('fleet total (2 systems)', 'total')]
    assert int(rows[-1]['record_count']) == sum(int(row['record_count']) for row in rows[:2]) == totals['record_count']
    assert float(rows[-1]['cost_total']) == pytest.approx(math.fsum(float(row['cost_total']) for row in rows[:2]), rel=1e-12)
    assert rows[-1]['currency'] == 'EUR' and rows[-1]['p95_cpu_cores'] == ''
    markdown = read(os.path.join(directory, 'fleet-2026-10.md'))
    assert '| site-c | FAILED |' in markdown and '- **site-c**: GET /api/v4/billing returned HTTP 401' in markdown
    assert '| **Fleet total (2 systems)** |' in markdown and '3 systems: 2 reported, 1 failed.' in markdown
    html = read(os.path.join(directory, 'fleet-2026-10.html'))
    assert '<b>site-c</b>: GET /api/v4/billing returned HTTP 401' in html and '1 system of 3 failed to report' in html
    charts = html.count('<svg ')
    used_vgpus = any(summary['peak_vgpus_used'] for summary in systems.values())
    assert charts == (5 if used_vgpus else 4) and ('vGPUs used: chart left out' in html) != used_vgpus
    assert html.count('<title>site-a</title>') == charts and html.count('<title>site-b</title>') == charts  # a series per system
    assert 'Fleet total (2 systems)' in html and '<script' not in html.lower()
    assert 'sim-api-key' not in run.output


def screenshot(html, tmp_path, name, height=2400):
    shot = tmp_path / (name + '.png')
    command = [CHROMIUM, '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
               '--disable-component-update', '--disable-sync', '--user-data-dir=%s' % (tmp_path / 'profile'), '--screenshot=%s' % shot,
               '--window-size=1280,%d' % height, 'file://' + html]
    proc = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0 and shot.exists(), proc.stderr[-2000:]
    output = os.path.join(ROOT, 'tests', 'output')
    os.makedirs(output, exist_ok=True)
    shutil.copy(str(shot), os.path.join(output, name + '.png'))  # for a person (and CI artifacts) to look at
    return png_pixels(str(shot))


@pytest.mark.skipif(CHROMIUM is None, reason='chromium is not installed (Debian: apt-get install chromium); the HTML screenshot test needs it')
def test_fleet_html_draws_a_series_per_system_in_headless_chromium(fleet, tmp_path):  # pylint: disable=redefined-outer-name
    width, height, rows = screenshot(os.path.join(str(fleet['dir']), 'fleet-2026-10.html'), tmp_path, 'fleet-screenshot', 3000)
    assert (width, height) == (1280, 3000)
    # site-a's series are blue (#0072B2), site-b's vermillion (#D55E00): both systems are drawn, in every chart.
    assert count_colour(rows, (0x00, 0x72, 0xB2), 30) > 3000
    assert count_colour(rows, (0xD5, 0x5E, 0x00), 30) > 3000


def test_fleet_of_one_system_says_one_system(tmp_path):
    with Simulator(records=100, seed=5, end=END) as only:
        inventory = tmp_path / 'inventory.json'
        inventory.write_text(json.dumps(dict(vergeos=dict(hosts={'solo': dict(billing_report_host=only.host, billing_report_ca_path=only.ca_path)},
                                                          vars=dict(ansible_connection='local', billing_report_api_key=API_KEY)))))
        run = run_playbook('playbooks/fleet_chargeback.yml', sim_env(None), inventory=str(inventory),
                           extra_vars=dict(month='2026-10', output_dir=str(tmp_path / 'out'), fleet_name='one'))
        assert run.rc == 0, run.output
        html = read(str(tmp_path / 'out' / 'one-2026-10.html'))
        assert 'Fleet total (1 system)' in html and '1 system reported of 1 system' in html and '1 systems' not in html
        rows = list(csv.DictReader(io.StringIO(read(str(tmp_path / 'out' / 'one-2026-10.csv')), newline='')))
        assert [row['system'] for row in rows] == ['solo', 'fleet total (1 system)']
        assert rows[0]['record_count'] == rows[1]['record_count'] == str(len(in_october(only)))


def test_output_dir_defaults_to_reports_under_the_working_directory(month_sim, tmp_path):  # pylint: disable=redefined-outer-name
    env = sim_env(month_sim)
    env['PWD'] = '/nonexistent'  # a stale PWD (cron, ansible-runner) must not matter: the process's directory counts
    command = [os.path.join(BIN, 'ansible-playbook'), os.path.join(ROOT, 'playbooks', 'monthly_chargeback.yml'),
               '-e', json.dumps(dict(month='2026-10', rates=RATES))]
    proc = subprocess.run(command, env=env, cwd=str(tmp_path), capture_output=True, text=True, timeout=600, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert listing(tmp_path / 'reports') == sorted('vergeos-2026-10.%s' % ext for ext in FORMATS)
    assert not os.path.exists(os.path.join(ROOT, 'playbooks', 'reports'))


def test_empty_range_is_reported_with_a_warning(month_sim, tmp_path):  # pylint: disable=redefined-outer-name
    run = monthly(month_sim, tmp_path, extra=dict(month='2025-01'))
    assert run.rc == 0, run.output
    assert '[WARNING]: No billing record measured usage in 2025-01-01T00:00:00+00:00' in run.output
    assert '0 records of 2025-01' in run.output
    report = json.loads(read(str(tmp_path / 'vergeos-2025-01.json')))
    assert report['record_count'] == 0 and report['records'] == []


def test_monthly_chargeback_on_the_berlin_calendar(month_sim, tmp_path):  # pylint: disable=redefined-outer-name
    # October 2026 in Europe/Berlin: 2026-10-01T00:00+02:00 to 2026-10-31T23:59:59+01:00 (DST ends on 2026-10-25).
    first, last = 1790805600, 1793487599
    raws = [raw for raw in month_sim.records if num(raw.get('to')) > first and num(raw.get('from')) < last + 1]
    run = monthly(month_sim, tmp_path, extra=dict(timezone='Europe/Berlin'))
    assert run.rc == 0, run.output
    assert listing(tmp_path) == sorted('vergeos-2026-10.%s' % ext for ext in FORMATS)
    report = json.loads(read(str(tmp_path / 'vergeos-2026-10.json')))
    assert report['period']['since'] == '2026-10-01T00:00:00+02:00' and report['period']['until'] == '2026-10-31T23:59:59+01:00'
    assert (report['period']['since_epoch'], report['period']['until_epoch']) == (first, last)
    assert report['record_count'] == len(raws)
    assert set(num(raw['$key']) for raw in raws) != set(num(raw['$key']) for raw in in_october(month_sim))  # not the UTC month
    assert report['summary']['hours'] == 745.0
    assert report['summary']['cost']['total'] == pytest.approx(math.fsum(expected_cost(raw, first, last)['total'] for raw in raws), rel=1e-9)
    rows = list(csv.DictReader(io.StringIO(read(str(tmp_path / 'vergeos-2026-10.csv')), newline='')))
    assert sorted(int(row['key']) for row in rows) == sorted(num(raw['$key']) for raw in raws)
    days = [p['period'] for p in report['summary']['periods']]
    assert days[0] == '2026-10-01' and days[-1] == '2026-10-31' and len(days) == 31
    again = monthly(month_sim, tmp_path, extra=dict(timezone='Europe/Berlin'))
    assert again.rc == 0 and again.stats['localhost']['changed'] == 0, again.output


def test_generate_then_report(tmp_path):
    with Simulator(records=300, seed=4) as sim:
        newest = max(num(raw['$key']) for raw in sim.records)
        run = run_playbook('playbooks/generate_then_report.yml', sim_env(sim),
                           extra_vars=dict(output_dir=str(tmp_path), since='-2d', generate_timeout=60))
        assert run.rc == 0, run.output
        assert sim.count('POST', '/api/v4/billing_actions') == 1
        [path] = [p for p in tmp_path.iterdir() if p.suffix == '.json']
        report = json.loads(path.read_text())
        key = report['record_fields'].index('key')
        assert max(record[key] for record in report['records']) == newest + 1  # the new record is in the report
        assert 'New record %d covers' % (newest + 1) in run.output
        again = run_playbook('playbooks/generate_then_report.yml', sim_env(sim),
                             extra_vars=dict(output_dir=str(tmp_path), since='-2d', min_interval='1h'))
        assert again.rc == 0, again.output
        assert sim.count('POST', '/api/v4/billing_actions') == 1  # min_interval: nothing sent
        assert 'New record' not in again.output and 'No new record: the newest is younger than min_interval' in again.output


def test_capacity_snapshot(tmp_path):
    with Simulator(records=200, seed=9, quirks=False) as sim:
        run = run_playbook('playbooks/capacity_snapshot.yml', sim_env(sim), extra_vars=dict(output_dir=str(tmp_path)))
        assert run.rc == 0, run.output
        newest = max(sim.records, key=lambda raw: (num(raw['created']), num(raw['$key'])))
        assert 'CPU cores %d of %d' % (num(newest['used_cores']), num(newest['total_cores'])) in run.output
        assert 'GPUs %d of %d' % (num(newest['gpus']), num(newest['gpus_total'])) in run.output
        assert sorted(os.path.splitext(name)[1] for name in listing(tmp_path)) == ['.html', '.md']
