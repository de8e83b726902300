# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vergeio.billing contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Tenant bills and the tenants overview of October 2026 in Europe/Berlin (745 hours), through real ``ansible``
against the simulator over HTTPS.

Every expected figure comes from ``oracles.py`` (exact fractions over the simulator's own rows); every displayed total
is checked against the displayed lines it sums, in Markdown, HTML and CSV, as a reader would add them up.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import csv
import json
import math
import os
import re
import shutil
import subprocess
from datetime import datetime, timezone
from decimal import Decimal
from fractions import Fraction
from html.parser import HTMLParser

import pytest

from conftest import run_module, sim_env  # pylint: disable=import-error
from oracles import (  # pylint: disable=import-error
    PARTS, SYSTEM_METRICS, amounts, half_up, month_bounds, system_usage, tenant_usage,
)
from simulator.vergeos_sim import Simulator, make_tenant_data  # pylint: disable=import-error

END = int(datetime(2026, 11, 1, 3, tzinfo=timezone.utc).timestamp())
RATES = dict(core_hour=0.02, ram_gb_hour=0.01, tier0_gb_hour=0.00015, tier1_gb_hour=0.0001, tier2_gb_hour=0.00005, gpu_hour=1.5,
             vgpu_hour=0.25, ip_hour=0.005, currency='EUR')
START, STOP = month_bounds('2026-10', 'Europe/Berlin')
RELATIVE = 1e-9
CHROMIUM = shutil.which('chromium') or ('/usr/bin/chromium' if os.path.exists('/usr/bin/chromium') else None)
# Injected into a copy of the page: after layout, the ids of the tables whose box or last column reaches past their
# container or the window, in an attribute of <body> that --dump-dom prints.
MEASURE = '''<script>
(function () {
  var bad = [];
  var width = document.documentElement.clientWidth;
  document.querySelectorAll('table').forEach(function (table) {
    var box = table.parentElement;
    var cells = table.querySelectorAll('tr > :last-child');
    var right = 0;
    cells.forEach(function (cell) { right = Math.max(right, cell.getBoundingClientRect().right); });
    if (box.scrollWidth > box.clientWidth + 1 || right > width || right > box.getBoundingClientRect().right + 1) {
      bad.push(table.id || 'table');
    }
  });
  if (document.documentElement.scrollWidth > width) { bad.push('page'); }
  document.body.setAttribute('data-overflow', bad.length ? bad.join(',') : 'none');
  document.body.setAttribute('data-width', String(width));
})();
</script>'''


def close(value, exact):
    return math.isclose(float(value), float(exact), rel_tol=RELATIVE, abs_tol=1e-9)


@pytest.fixture(scope='module', name='sim')
def fixture_sim():
    with Simulator(records=34 * 24, seed=5, end=END, quirks=False) as server:
        server.set_tenant_data(make_tenant_data(5, seed=5, end=END, days=33, quirks=False, gaps=True))
        yield server


@pytest.fixture(scope='module', name='october')
def fixture_october(sim, tmp_path_factory):
    out = tmp_path_factory.mktemp('october')
    args = dict(month='2026-10', timezone='Europe/Berlin', dest=str(out), name='east', tenants=True, rates=RATES, group_by='day')
    run = run_module('verge_billing_report', args, sim_env(sim))
    assert run.rc == 0, run.output
    return run.result


def history(sim, key):
    return [row for row in sim.tenant_data['long'] if int(row['tenant']) == key]


def listed(sim):
    return [(tenant['name'], int(tenant['$key'])) for tenant in sim.tenant_data['tenants'] if not tenant['is_snapshot']]


def test_the_period_is_745_hours_of_berlin():
    assert STOP - START == 745 * 3600


def test_each_tenant_is_billed_its_prorated_samples(sim, october):
    assert october['period']['since_epoch'] == START and october['period']['until_epoch'] == STOP - 1
    for name, key in listed(sim):
        report = json.load(open(october['tenant_files'][name]['json']))
        quantities, hours, billed = tenant_usage(history(sim, key), START, STOP)
        assert report['sample_count'] == billed and close(report['summary']['hours'], hours), name
        if name in ('acme', 'dunder-mifflin'):  # ran the whole month
            assert hours == 745
        bill = report['bill']
        exact = amounts(quantities, RATES)
        lines = dict((line['metric'], line) for line in bill['lines'])
        for metric, quantity in quantities.items():
            line = lines.get(metric)
            if line is None:
                assert quantity == 0, (name, metric)
                continue
            assert close(line['quantity'], quantity) and close(line['exact'], exact[metric]), (name, metric)
            assert Decimal(line['amount']) == half_up(exact[metric]), (name, metric, line['amount'], exact[metric])
            assert line['quantity_unit'] == dict(cores='core-hours', ips='IP-hours', gpus='GPU-hours', vgpus='vGPU-hours').get(metric, 'GB-hours')
        assert Decimal(bill['total']) == sum((Decimal(line['amount']) for line in bill['lines']), Decimal(0)), name
        # the usage lines lie inside the period, split at the local days
        assert min(line['start'] for line in report['usage']) >= START and max(line['end'] for line in report['usage']) <= STOP
        assert len(report['periods']) == 31 and report['periods'][0]['start'] == '2026-10-01T00:00:00+02:00'
        assert report['periods'][24]['period'] == '2026-10-25' and report['periods'][-1]['end'] == '2026-11-01T00:00:00+01:00'
        # the CSV lists every sample that bills a part, with its seconds
        with open(october['tenant_files'][name]['csv'], newline='') as handle:
            rows = list(csv.DictReader(handle))
        assert len(rows) == billed and close(math.fsum(float(row['billed_seconds']) for row in rows) / 3600, hours)


def test_tenants_plus_unallocated_are_the_system(sim, october):
    overview = json.load(open(october['tenants_overview']['json']))
    system = system_usage(sim.records, START, STOP)
    tenants = dict((metric, Fraction(0)) for metric in SYSTEM_METRICS + ('ips',))
    for _name, key in listed(sim):
        for metric, quantity in tenant_usage(history(sim, key), START, STOP)[0].items():
            tenants[metric] += quantity
    rows = dict((row['metric'], row) for row in overview['metrics'])
    for metric in SYSTEM_METRICS:
        row = rows[metric]
        assert close(row['exact']['system'], system[metric]) and close(row['exact']['tenants'], tenants[metric]), metric
        assert math.isclose(row['exact']['unallocated'], float(system[metric] - tenants[metric]), rel_tol=1e-9, abs_tol=1e-6), metric
        assert Decimal(row['shown']['tenants']) + Decimal(row['shown']['unallocated']) == Decimal(row['shown']['system']) == half_up(system[metric])
        cost = amounts({metric: system[metric]}, RATES)[metric]
        assert Decimal(row['shown']['system_cost']) == half_up(cost), metric
        assert Decimal(row['shown']['tenants_cost']) + Decimal(row['shown']['unallocated_cost']) == Decimal(row['shown']['system_cost'])
    assert rows['ips']['shown'].get('system') is None and close(rows['ips']['exact']['tenants'], tenants['ips'])
    assert 'IP addresses have no system figure' in open(october['tenants_overview']['html']).read()


def numbers(cells):
    return [None if cell in ('', '\u2013') else Decimal(cell.replace(',', '').replace('*', '')) for cell in cells]


def markdown_table(text, header):
    """The rows (cells) of the Markdown table whose header row starts with ``header``."""
    lines = text.splitlines()
    first = next(index for index, line in enumerate(lines) if line.startswith('| ' + header))
    rows = []
    for line in lines[first + 2:]:
        if not line.startswith('|'):
            break
        rows.append([cell.strip() for cell in re.split(r'(?<!\\)\|', line.strip()[1:-1])])  # an escaped \| stays in its cell
    return rows


class _Tables(HTMLParser):
    def __init__(self):
        HTMLParser.__init__(self)
        self.tables, self.current, self.row, self.cell = {}, None, None, None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == 'table' and attrs.get('id'):
            self.current = self.tables.setdefault(attrs['id'], [])
        elif tag == 'tr' and self.current is not None:
            self.row = []
        elif tag in ('td', 'th') and self.row is not None:
            self.cell = ''

    def handle_endtag(self, tag):
        if tag == 'table':
            self.current = None
        elif tag == 'tr' and self.row is not None:
            self.current.append(self.row)
            self.row = None
        elif tag in ('td', 'th') and self.cell is not None:
            self.row.append(self.cell.strip())
            self.cell = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell += data


def html_tables(path):
    parser = _Tables()
    parser.feed(open(path).read())
    return dict((name, rows[1:]) for name, rows in parser.tables.items())  # without the header row


def check_tenant_table(rows, parts):
    """Each row's Total is the sum of its parts; the last row (Total) of each column the sum of the rows above."""
    values = [numbers(row[1:]) for row in rows]
    for row in values:
        assert row[parts] == sum(row[:parts], Decimal(0)), row
    for column in range(parts + 1):
        assert values[-1][column] == sum((row[column] for row in values[:-1]), Decimal(0)), column


def check_metric_costs(rows):
    """Per metric: tenants + Unallocated = system usage (IP addresses: no system figure); the Total row sums each column."""
    values = [numbers(row[1:]) for row in rows]
    for row in values[:-1]:
        _price, _capacity, system, tenants, rest = row
        if system is not None:
            assert tenants + rest == system, row
    for column in (1, 2, 3, 4):
        assert values[-1][column] == sum((row[column] for row in values[:-1] if row[column] is not None), Decimal(0)), column


def test_every_displayed_total_is_the_sum_of_its_displayed_lines(sim, october):
    overview = october['tenants_overview']
    text = open(overview['markdown']).read()
    check_tenant_table(markdown_table(text, 'Tenant | CPU'), len(PARTS))
    usage = markdown_table(text, 'Tenant | Samples')
    values = [numbers(row[1:]) for row in usage]
    for column in [0] + list(range(2, 2 + len(PARTS))):
        assert values[-1][column] == sum((row[column] for row in values[:-1]), Decimal(0)), column
    check_metric_costs(markdown_table(text, 'Metric (EUR) | Unit price'))
    tables = html_tables(overview['html'])
    check_tenant_table(tables['tenant-costs'], len(PARTS))
    check_metric_costs(tables['metric-costs'])
    assert [numbers(row[1:]) for row in tables['tenant-costs']] == [numbers(row[1:]) for row in markdown_table(text, 'Tenant | CPU')]
    with open(overview['csv'], newline='') as handle:
        rows = list(csv.DictReader(handle))
    tenants = [row for row in rows if row['kind'] == 'tenant']
    by_kind = dict((row['kind'], row) for row in rows if row['kind'] != 'tenant')
    columns = ['cost_%s' % part for part in PARTS] + ['cost_total'] + ['quantity_%s' % part for part in PARTS]
    for row in tenants:
        assert Decimal(row['cost_total']) == sum((Decimal(row['cost_%s' % part]) for part in PARTS), Decimal(0))
    for column in columns:
        assert Decimal(by_kind['total'][column]) == sum((Decimal(row[column]) for row in tenants), Decimal(0)), column
    for part in ('cpu', 'ram', 'storage', 'gpu', 'vgpu'):
        for prefix in ('cost_', 'quantity_'):
            assert Decimal(by_kind['total'][prefix + part]) + Decimal(by_kind['unallocated'][prefix + part]) == Decimal(by_kind['system'][prefix + part])
    # each tenant's own cost table
    for name, _key in listed(sim):
        lines = markdown_table(open(october['tenant_files'][name]['markdown']).read(), 'Metric | Quantity')
        shown = numbers([row[4] for row in lines])
        assert shown[-1] == sum(shown[:-1], Decimal(0)), name
        assert lines[0][2] == 'core-hours'


def test_overview_html_shows_every_column_at_1100_px_and_in_print(october):
    html = open(october['tenants_overview']['html']).read()
    assert 'max-width: 1100px' in html and '@page { size: A4 landscape' in html
    tables = re.findall(r'<table class="compact" id="([a-z-]+)">\s*<thead><tr>(.*?)</tr></thead>', html, re.S)
    assert [name for name, _head in tables] == ['tenant-costs', 'tenant-usage', 'metric-usage', 'metric-costs']
    for name, head in tables:
        # at most 9 columns of figures in a table, so 1,060 px of content hold them at 13 px (Total included)
        assert head.count('<th') <= 9, name
    assert '>Total</th></tr></thead>' in html


@pytest.mark.skipif(CHROMIUM is None, reason='chromium is not installed (Debian: apt-get install chromium); the layout test needs it')
def test_overview_fits_1100_px_in_headless_chromium(sim, tmp_path):
    """Long tenant names and amounts in the millions: every table of the overview, its Total column included, stays
    inside the 1100 px page (measured by the browser after layout), and a screenshot is kept for a person to look at."""
    data = sim.tenant_data
    tenants = [dict(tenant) for tenant in data['tenants']]
    tenants[0]['name'] = 'a-very-long-tenant-name-of-a-customer-with-its-department-and-cost-centre-suffix'
    sim.set_tenant_data(dict(data, tenants=tenants))
    try:
        rates = dict((key, value * 1000 if isinstance(value, float) else value) for key, value in RATES.items())
        args = dict(month='2026-10', timezone='Europe/Berlin', dest=str(tmp_path / 'wide'), name='east', tenants=True, tenants_only=True,
                    rates=rates, formats=['html'])
        run = run_module('verge_billing_report', args, sim_env(sim))
    finally:
        sim.set_tenant_data(data)
    assert run.rc == 0, run.output
    page = open(run.result['tenants_overview']['html']).read()
    assert re.search(r'<td>\d{1,3},\d{3},\d{3}\.\d\d</td>', page), 'no amount in the millions: the test would prove little'
    common = [CHROMIUM, '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
              '--disable-component-update', '--disable-sync', '--user-data-dir=%s' % (tmp_path / 'profile'), '--window-size=1100,3000']
    # the overview, and the report of the tenant with the long name (its By day table has 9 columns)
    for number, html in enumerate([page, open(run.result['tenant_files'][tenants[0]['name']]['html']).read()]):
        measured = tmp_path / ('measured-%d.html' % number)
        measured.write_text(html.replace('</body>', MEASURE + '</body>'))
        proc = subprocess.run(common + ['--dump-dom', 'file://%s' % measured], capture_output=True, text=True, timeout=120, check=False)
        assert proc.returncode == 0, proc.stderr[-2000:]
        width = re.search(r'data-width="(\d+)"', proc.stdout)
        assert width and 1080 <= int(width.group(1)) <= 1100, proc.stdout[-500:]  # 1100 px, less a scroll bar
        assert 'data-overflow="none"' in proc.stdout, (number, re.findall(r'data-overflow="[^"]*"', proc.stdout))
    shot = tmp_path / 'overview.png'
    proc = subprocess.run(common + ['--screenshot=%s' % shot, 'file://%s' % run.result['tenants_overview']['html']], capture_output=True,
                          text=True, timeout=120, check=False)
    assert proc.returncode == 0 and shot.exists(), proc.stderr[-2000:]
    output = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'output')
    os.makedirs(output, exist_ok=True)
    shutil.copy(str(shot), os.path.join(output, 'tenants-overview-screenshot.png'))  # for a person (and CI artifacts) to look at
    # In print: A4 landscape, and the last column of every table (the totals) is on the paper.
    pdf = tmp_path / 'overview.pdf'
    proc = subprocess.run(common + ['--no-pdf-header-footer', '--print-to-pdf=%s' % pdf, 'file://%s' % run.result['tenants_overview']['html']],
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0 and pdf.exists(), proc.stderr[-2000:]
    if shutil.which('pdfinfo') and shutil.which('pdftotext'):  # poppler-utils
        info = subprocess.run(['pdfinfo', str(pdf)], capture_output=True, text=True, check=True).stdout
        width, height = (float(number) for number in re.search(r'Page size:\s+([\d.]+) x ([\d.]+)', info).groups())
        assert width > height and round(width) == 842, info
        text = subprocess.run(['pdftotext', '-layout', str(pdf), '-'], capture_output=True, text=True, check=True).stdout
        grand = re.search(r'<tr class="total"><th scope="row">Total</th>(?:<td>[^<]*</td>)*<td>([^<]+)</td></tr>', page).group(1)
        assert grand in text and 'Unallocated' in text, grand


def test_a_deleted_tenant_is_billed_and_negative_and_null_counters_are_warned(sim, tmp_path):
    data = sim.tenant_data
    real = [tenant for tenant in data['tenants'] if not tenant['is_snapshot']]
    gone = real[0]
    hurt = real[1]
    rows = [dict(row) for row in data['long']]
    inside = [row for row in rows if int(row['tenant']) == int(hurt['$key']) and START <= int(row['timestamp']) < STOP]
    for row in inside[10:13]:
        row['core_count'] = -4
    for row in inside[20:22]:
        row['ram_allocated'] = None
    del inside[30]['ip_count']
    sim.set_tenant_data(dict(data, long=rows, tenants=[tenant for tenant in data['tenants'] if tenant is not gone]))
    try:
        args = dict(month='2026-10', timezone='Europe/Berlin', dest=str(tmp_path), name='east', tenants=True, tenants_only=True,
                    rates=RATES, formats=['json', 'markdown'])
        run = run_module('verge_billing_report', args, sim_env(sim))
    finally:
        sim.set_tenant_data(data)
    assert run.rc == 0, run.output
    result = run.result
    deleted = 'tenant %s (deleted)' % gone['$key']
    assert deleted in result['tenant_files'], sorted(result['tenant_files'])
    overview = json.load(open(result['tenants_overview']['json']))
    warnings = ' '.join(overview['warnings'])
    assert 'no longer in the tenant list (deleted)' in warnings and deleted in warnings
    assert re.search(r'3 row\(s\) had negative values, each counted as 0 \(core_count\): sample %s' % inside[10]['$key'], warnings), warnings
    assert re.search(r'3 row\(s\) had null or missing values, each counted as 0 \(ip_count, ram_allocated\)', warnings), warnings
    printed = ' '.join(run.output.split())  # the [WARNING] lines (wrapped by the display)
    assert deleted in printed and 'had negative values, each counted as 0' in printed
    row = [item for item in overview['tenants'] if item['tenant'] == deleted][0]
    assert row['state'] == 'deleted' and row['tenant_key'] == int(gone['$key'])
    for tenant, key in ((deleted, int(gone['$key'])), (hurt['name'], int(hurt['$key']))):
        quantities, _hours, _billed = tenant_usage([r for r in rows if int(r['tenant']) == key], START, STOP)
        exact = sum(amounts(quantities, RATES).values(), Fraction(0))
        bill = json.load(open(result['tenant_files'][tenant]['json']))['bill']
        assert close(bill['exact'], exact), tenant
    assert deleted in open(result['tenants_overview']['markdown']).read()
    assert 'deleted during the period' in open(result['tenant_files'][deleted]['markdown']).read()


def test_tenant_usage_info_month_on_the_berlin_calendar(sim):
    run = run_module('verge_tenant_usage_info', dict(view='summary', month='2026-10', timezone='Europe/Berlin', rates=RATES), sim_env(sim))
    assert run.rc == 0, run.output
    result = run.result
    assert result['range']['since_epoch'] == START and result['range']['until_epoch'] == STOP - 1
    assert result['range']['since'] == '2026-10-01T00:00:00+02:00'
    for tenant in result['tenants']:
        # the samples taken in the month, each with its whole weight (the module's meaning of a range)
        rows = [row for row in history(sim, tenant['key']) if START <= int(row['timestamp']) < STOP]
        quantities, _hours, _billed = tenant_usage(rows, 0, 2 ** 40)
        exact = amounts(quantities, RATES)
        cost = tenant['summary']['cost']
        assert close(cost['cpu'], exact['cores']) and close(cost['ip'], exact['ips']), tenant['name']
        assert close(cost['total'], sum(exact.values(), Fraction(0))), tenant['name']
    both = run_module('verge_tenant_usage_info', dict(view='summary', month='2026-10', since='2026-10-01'), sim_env(sim))
    assert both.rc != 0 and 'mutually exclusive' in both.result['msg']
    bad = run_module('verge_tenant_usage_info', dict(view='summary', month='2026-13'), sim_env(sim))
    assert bad.rc != 0 and 'month must be a calendar month' in bad.result['msg'] and 'Traceback' not in bad.output


def test_many_tenants_need_few_open_files(tmp_path):
    """400 tenants (two temporary files each while their samples arrive) under a limit of 200 open files: each
    tenant's files are open only while its samples arrive, so every report is written and no temporary file is left."""
    with Simulator(records=48, seed=11, end=END, quirks=False) as server:
        server.set_tenant_data(make_tenant_data(400, seed=11, end=END, days=2, quirks=False))
        dest = tmp_path / 'out'
        args = dict(since='2026-10-31', until='2026-10-31', dest=str(dest), name='east', tenants=True, rates=RATES)
        run = run_module('verge_billing_report', args, sim_env(server), open_files=200)
    assert run.rc == 0, run.output
    listed_tenants = [tenant for tenant in server.tenant_data['tenants'] if not tenant['is_snapshot']]
    assert run.result['tenant_count'] == len(listed_tenants) >= 390
    for name, files in run.result['tenant_files'].items():
        assert sorted(files) == ['csv', 'html', 'json', 'markdown'], name
        with open(files['json'], encoding='utf-8') as handle:
            report = json.load(handle)
        with open(files['csv'], encoding='utf-8', newline='') as handle:
            rows = list(csv.reader(handle))
        assert len(rows) - 1 == len(report['records']) == report['sample_count'], name  # header + one row a sample
    assert not [entry for entry in os.listdir(str(dest)) if entry.endswith('.tmp')]
