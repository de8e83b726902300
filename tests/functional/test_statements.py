# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vergeio.billing contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Tenant statements of verge_billing_report (``statements: true``) through real ``ansible`` against the simulator.

Every figure is checked against the test's own brute force over the simulator's raw samples (each sample stands for the
time to the next one, at most twice the median gap, the newest for the median gap; only what lies inside the month
counts), in fractions, and the statement's adjustments are recomputed here from the lines it shows.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import html
import json
import os
import re
import shutil
import subprocess
import time
from datetime import datetime, timezone
from fractions import Fraction
from urllib.parse import parse_qsl

import pytest

from conftest import run_module, run_playbook, sim_env  # pylint: disable=import-error
from simulator.vergeos_sim import Simulator, make_tenant_data  # pylint: disable=import-error

END = int(datetime(2026, 11, 1, 3, tzinfo=timezone.utc).timestamp())
START = int(datetime(2026, 9, 30, 22, tzinfo=timezone.utc).timestamp())  # 2026-10-01 00:00 in Europe/Berlin
STOP = int(datetime(2026, 10, 31, 23, tzinfo=timezone.utc).timestamp())  # 2026-11-01 00:00 in Europe/Berlin
GIB = 1024 ** 3
RATES = dict(core_hour=0.02, ram_gb_hour=0.01, tier1_gb_hour=0.0001, tier2_gb_hour=0.00005, gpu_hour=1.5, ip_hour=0.004, currency='EUR')
# metric -> (raw field on the allocated basis, divisor, rate key)
METRICS = dict(cores=('core_count', 1, 'core_hour'), ram=('ram_allocated', 1024, 'ram_gb_hour'), tier1=('tier1_allocated', GIB, 'tier1_gb_hour'),
               tier2=('tier2_allocated', GIB, 'tier2_gb_hour'), gpus=('gpus_total', 1, 'gpu_hour'), ips=('ip_count', 1, 'ip_hour'))
ISSUER = dict(name='Provider GmbH', address=['Hauptstr. 1', '10115 Berlin'], tax_id='DE123456789', email='billing@provider.example',
              payment_terms='Payable within 30 days.')
CHROMIUM = shutil.which('chromium')
PDF_TOOLS = shutil.which('pdfinfo') and shutil.which('pdftotext')
HOSTILE = '<img src=x onerror=alert(1)> [pay](http://evil.example) **x** | y'


@pytest.fixture(scope='module', name='sim')
def fixture_sim():
    with Simulator(records=24 * 40, seed=11, end=END) as server:
        server.set_tenant_data(make_tenant_data(4, seed=11, end=END, days=33, quirks=False))
        yield server


def real_tenants(sim):
    return [tenant for tenant in sim.tenant_data['tenants'] if not tenant['is_snapshot']]


def overlap(begin, finish, start, end):
    return max(0, min(finish, end) - max(begin, start))


def brute_quantities(rows):
    """metric -> unit-hours of one tenant's raw samples in October (Berlin), as Fractions."""
    stamps = sorted((int(row['timestamp']), int(row['$key']), row) for row in rows)
    gaps = sorted(b[0] - a[0] for a, b in zip(stamps, stamps[1:]))
    if not gaps:
        return {}
    count = len(gaps)
    median = Fraction(gaps[count // 2]) if count % 2 else Fraction(gaps[count // 2 - 1] + gaps[count // 2], 2)
    out = dict((metric, Fraction(0)) for metric in METRICS)
    for index, (stamp, _key, row) in enumerate(stamps):
        span = min(stamps[index + 1][0] - stamp if index + 1 < len(stamps) else median, 2 * median)
        hours = Fraction(overlap(stamp, stamp + int(span), START, STOP), 3600)
        for metric, (field, divisor, _rate) in METRICS.items():
            out[metric] += Fraction(int(row.get(field) or 0), divisor) * hours
    return out


def half_up(value, precision=2):
    scaled = abs(value) * 10 ** precision
    whole = int(scaled) + (1 if scaled - int(scaled) >= Fraction(1, 2) else 0)
    return Fraction(whole if value >= 0 else -whole, 10 ** precision)


def args_for(dest, **extra):
    args = dict(month='2026-10', timezone='Europe/Berlin', dest=dest, name='east', tenants=True, rates=RATES, formats=['json', 'markdown', 'html'],
                statements=True, issuer=ISSUER, discount=0.05, tax=dict(name='VAT', rate=0.19))
    args.update(extra)
    return args


def digests(folder):
    out = {}
    for name in sorted(os.listdir(folder)):
        with open(os.path.join(folder, name), 'rb') as handle:
            out[name] = hashlib.sha256(handle.read()).hexdigest()
    return out


def check_statement(data, brute, minimum):
    """The statement's lines against the brute force, and its adjustments recomputed from the lines it shows."""
    shown = dict((line['metric'], line) for line in data['lines'])
    for metric, (_field, _divisor, rate) in METRICS.items():
        quantity = brute.get(metric, Fraction(0))
        if not quantity:
            assert metric not in shown, metric
            continue
        line = shown[metric]
        assert abs(Fraction(line['quantity']) - quantity) < Fraction(1, 10 ** 6), metric
        assert line['unit_price'] == RATES[rate]
        exact = quantity * Fraction(str(RATES[rate]))
        assert abs(Fraction(line['exact']) - exact) < Fraction(1, 10 ** 6), metric
        # rounded half up to cents (one cent of leeway only where the exact amount sits on a half cent)
        on_half = abs(exact * 100 % 1 - Fraction(1, 2)) < Fraction(1, 10 ** 6)
        assert abs(Fraction(line['amount']) - half_up(exact)) <= (Fraction(1, 100) if on_half else 0), metric
    assert set(shown) <= set(METRICS)
    subtotal = sum((Fraction(line['amount']) for line in data['lines']), Fraction(0))
    assert Fraction(data['subtotal']) == subtotal
    # the subtotal equals the exact sum (what a FOCUS export sums to) within half a cent per line
    assert abs(subtotal - Fraction(data['exact'])) <= Fraction(1, 200) * len(data['lines'])
    discount = half_up(subtotal * Fraction(5, 100))
    assert Fraction(data['discount']['amount']) == -discount
    after = subtotal - discount
    uplift = max(Fraction(0), Fraction(minimum) - after) if minimum is not None else Fraction(0)
    if minimum is not None:
        assert Fraction(data['minimum_charge']['uplift']) == uplift
    net = after + uplift
    assert Fraction(data['net']) == net
    tax = half_up(net * Fraction(19, 100))
    assert Fraction(data['tax']['amount']) == tax
    assert Fraction(data['total']) == net + tax
    return Fraction(data['total'])


def test_statements_add_up_and_a_rerun_writes_nothing(sim, tmp_path):
    dest = str(tmp_path / 'out')
    tenants = real_tenants(sim)
    first = tenants[0]
    customers = {str(first['$key']): dict(legal_name='ACME Holding AG', customer_id='C-100', cost_center='CC-7', address='1 Road\nTown',
                                          email='ap@acme.example')}
    # a minimum charge between the smallest and the largest discounted subtotal: some tenants are uplifted, some not
    brutes = {}
    for tenant in tenants:
        rows = [row for row in sim.tenant_data['long'] if int(row['tenant']) == int(tenant['$key'])]
        brutes[int(tenant['$key'])] = brute_quantities(rows)
    subtotals = sorted(sum((half_up(q * Fraction(str(RATES[METRICS[m][2]]))) for m, q in brute.items()), Fraction(0)) for brute in brutes.values())
    minimum = str(half_up((subtotals[0] + subtotals[-1]) / 2))
    minimum = '%.2f' % float(Fraction(minimum))
    sim.reset_log()
    run = run_module('verge_billing_report', args_for(dest, customers=customers, minimum_charge=minimum), sim_env(sim))
    assert run.rc == 0, run.output
    result = run.result
    assert result['changed'] is True
    # one read of the tenant history serves the tenant reports and the statements (a second read could see late samples)
    history = [entry for entry in sim.requests_log() if entry['path'].rstrip('/').endswith('tenant_stats_history_long')]
    offsets = [dict(parse_qsl(entry['query'])).get('offset', '0') for entry in history]
    assert len(set(offsets)) == len(offsets) > 0, history
    statements = result['statements']
    assert len(statements) == len(tenants)
    assert result['statements_reissued'] == []
    folder = os.path.join(dest, 'statements', '2026-10')
    uplifted = 0
    for tenant in tenants:
        key = int(tenant['$key'])
        entry = statements[tenant['name']]
        assert entry['state'] == 'created' and entry['tenant_key'] == key
        number = '%d-2026-10' % key  # the default template is {tenant_key}-{period}
        assert entry['number'] == number
        assert sorted(entry['files']) == ['html', 'json', 'markdown']
        assert entry['files']['json'] == os.path.join(folder, 'east-%s.json' % number)
        with open(entry['files']['json'], encoding='utf-8') as handle:
            data = json.load(handle)
        assert data['period']['label'] == '2026-10' and data['tenant']['key'] == key
        total = check_statement(data, brutes[key], minimum)
        # a statement's lines are its tenant report's bill lines, amount for amount
        report_lines = dict((line['metric'], line) for line in result['tenant_bills'][tenant['name']]['lines'])
        assert data['lines'] and all(Fraction(line['amount']) == Fraction(report_lines[line['metric']]['amount'])
                                     and line['quantity'] == report_lines[line['metric']]['quantity'] for line in data['lines']), data['lines']
        assert entry['total'] == data['total'] and Fraction(entry['total']) == total
        uplifted += Fraction(data['minimum_charge']['uplift']) > 0
        # what finance reads is what the JSON holds
        with open(entry['files']['html'], encoding='utf-8') as handle:
            page = handle.read()
        assert '{:,.2f}'.format(float(Fraction(data['total']))) in page and number in page
        assert '@page' in page and 'break-after: page' in page and 'table-header-group' in page
        if key == int(first['$key']):
            assert data['customer']['legal_name'] == 'ACME Holding AG' and data['customer']['customer_id'] == 'C-100'
            assert 'ACME Holding AG' in page and 'CC-7' in page
        else:
            assert data['customer']['legal_name'] == tenant['name'] and data['customer']['customer_id'] == 'tenant-%d' % key
    assert 0 < uplifted < len(tenants)
    assert ' '.join(run.output.split()).count('has no entry in customers') == len(tenants) - 1, run.output
    before = digests(folder)

    # a rerun over the same data writes nothing, even on another day: the first issue date stays
    for path in os.listdir(folder):
        if path.endswith('.json'):
            full = os.path.join(folder, path)
            with open(full, encoding='utf-8') as handle:
                data = json.load(handle)
            data['issue_date'] = '2026-11-02'
            with open(full, 'w', encoding='utf-8') as handle:
                json.dump(data, handle, indent=1)
    before = digests(folder)
    # a run killed while writing a statement left its temporary file (another host's, untouched for two days)
    stale = os.path.join(folder, '.report-json.elsewhere-1a2b.4242.q1w2e3.tmp')
    with open(stale, 'w', encoding='utf-8') as handle:
        handle.write('{"half": ')
    os.utime(stale, (time.time() - 2 * 86400,) * 2)
    again = run_module('verge_billing_report', args_for(dest, customers=customers, minimum_charge=minimum), sim_env(sim))
    assert again.rc == 0, again.output
    said = 'Removed 1 temporary file(s) that killed runs had left in %s: %s' % (folder, os.path.basename(stale))
    # without any white space: ansible-core 2.16 wraps warnings at hyphens too (".report-\njson...")
    assert not os.path.exists(stale) and re.sub(r'\s+', '', said) in re.sub(r'\s+', '', again.output), again.output
    assert again.result['changed'] is False
    assert again.result['statements_changed'] == {}
    assert all(entry['state'] == 'unchanged' and entry['issue_date'] == '2026-11-02' for entry in again.result['statements'].values())
    assert digests(folder) == before

    # a format added later is rendered from the issued JSON (its issue date), the issued files left alone
    os.unlink(statements[first['name']]['files']['markdown'])
    third = run_module('verge_billing_report', args_for(dest, customers=customers, minimum_charge=minimum), sim_env(sim))
    assert third.rc == 0, third.output
    assert list(third.result['statements_changed']) == [first['name']]
    with open(statements[first['name']]['files']['markdown'], encoding='utf-8') as handle:
        assert '| Issue date | 2026-11-02 |' in handle.read()  # the issued date, not today's
    assert dict((k, v) for k, v in digests(folder).items() if not k.endswith('.md')) == dict(
        (k, v) for k, v in before.items() if not k.endswith('.md'))


def test_changed_rates_fail_without_reissue_and_write_a_revision_with_it(sim, tmp_path):
    dest = str(tmp_path / 'out')
    base = args_for(dest, formats=['json', 'html'])
    run = run_module('verge_billing_report', base, sim_env(sim))
    assert run.rc == 0, run.output
    old = dict((name, entry['total']) for name, entry in run.result['statements'].items())
    folder = os.path.join(dest, 'statements', '2026-10')
    before = digests(folder)
    dearer = dict(RATES, core_hour=0.03)

    refused = run_module('verge_billing_report', dict(base, rates=dearer), sim_env(sim))
    assert refused.rc != 0
    message = refused.result['msg']
    for name, entry in run.result['statements'].items():
        assert entry['number'] in message and 'total %s EUR' % entry['total'] in message, message
    assert 'reissue: true' in message and 'Traceback' not in refused.output
    assert digests(folder) == before

    reissued = run_module('verge_billing_report', dict(base, rates=dearer, reissue=True), sim_env(sim))
    assert reissued.rc == 0, reissued.output
    corrections = reissued.result['statements_reissued']
    assert len(corrections) == len(old)
    for correction in corrections:
        number = correction['supersedes']
        assert correction['number'] == number + '-R1'
        assert correction['old_total'] == old[correction['tenant']]
        new = reissued.result['statements'][correction['tenant']]
        assert new['state'] == 'reissued' and new['number'] == correction['number'] and correction['new_total'] == new['total']
        assert Fraction(correction['difference']) == Fraction(new['total']) - Fraction(old[correction['tenant']]) > 0
        with open(correction['files']['json'], encoding='utf-8') as handle:
            data = json.load(handle)
        assert data['revision'] == 1 and data['corrects']['number'] == number and data['rates']['core_hour'] == 0.03
        with open(correction['files']['html'], encoding='utf-8') as handle:
            assert 'Corrects statement %s' % number in handle.read()
    after = digests(folder)
    # the originals are untouched; each revision has its JSON and HTML beside them
    assert dict((name, digest) for name, digest in after.items() if name in before) == before
    assert len(after) == 2 * len(before)

    # the same again: nothing to correct, nothing written; the newest revision is what the result shows
    quiet = run_module('verge_billing_report', dict(base, rates=dearer, reissue=True), sim_env(sim))
    assert quiet.rc == 0 and quiet.result['changed'] is False and quiet.result['statements_reissued'] == []
    assert all(entry['number'].endswith('-R1') for entry in quiet.result['statements'].values())
    # and back to the first rates: a second correction, -R2
    back = run_module('verge_billing_report', dict(base, reissue=True), sim_env(sim))
    assert back.rc == 0, back.output
    assert sorted(c['number'][-3:] for c in back.result['statements_reissued']) == ['-R2'] * len(old)
    assert all(c['new_total'] == old[c['tenant']] for c in back.result['statements_reissued'])
    assert dict((name, digest) for name, digest in digests(folder).items() if name in after) == after


def test_check_mode_writes_nothing(sim, tmp_path):
    dest = str(tmp_path / 'out')
    run = run_module('verge_billing_report', args_for(dest), sim_env(sim), check=True)
    assert run.rc == 0, run.output
    assert run.result['changed'] is True and len(run.result['statements_changed']) == len(real_tenants(sim))
    assert not os.path.exists(dest)


def test_hostile_names_are_inert(sim, tmp_path):
    markdown_it = pytest.importorskip('markdown_it')
    data = sim.tenant_data
    renamed = [dict(tenant, name=HOSTILE + ' %s' % tenant['$key']) if not tenant['is_snapshot'] else tenant for tenant in data['tenants']]
    sim.set_tenant_data(dict(data, tenants=renamed))
    try:
        key = next(int(tenant['$key']) for tenant in renamed if not tenant['is_snapshot'])
        customers = {str(key): dict(legal_name=HOSTILE, address=HOSTILE, customer_id='C-<b>1</b>')}
        run = run_module('verge_billing_report', args_for(str(tmp_path / 'out'), customers=customers,
                                                          issuer=dict(ISSUER, name=HOSTILE, payment_terms=HOSTILE)), sim_env(sim))
    finally:
        sim.set_tenant_data(data)
    assert run.rc == 0, run.output
    entry = run.result['statements'][HOSTILE + ' %d' % key]
    with open(entry['files']['html'], encoding='utf-8') as handle:
        page = handle.read()
    assert '<img' not in page and '<a ' not in page and '<b>' not in page
    assert html.escape(HOSTILE, quote=False).replace('"', '&#34;') in page.replace('&#39;', "'")
    with open(entry['files']['markdown'], encoding='utf-8') as handle:
        text = handle.read()
    rendered = markdown_it.MarkdownIt('commonmark').enable('table').render(text)
    assert '<img' not in rendered and '<a ' not in rendered and '<b>' not in rendered
    # the names read back as the text they are (only our own "Total" is bold)
    assert re.findall(r'<strong>(.*?)</strong>', rendered) == ['Total']
    assert html.escape(HOSTILE.split(' | ', maxsplit=1)[0], quote=False) in rendered


def test_bad_statement_options_fail_before_anything_is_read(sim, tmp_path):
    dest = str(tmp_path / 'out')
    cases = [
        (dict(rates=None), 'statements needs rates'),
        (dict(tenants=False), 'statements needs tenants'),
        (dict(statement_number='INV-{tenant}-{period}'), 'statement_number: unknown placeholder {tenant}'),
        (dict(discount=2), 'discount must be from 0 to 1'),
        (dict(issuer=dict(email='x@y.z')), 'issuer.name'),
        (dict(minimum_charge='lots'), 'minimum_charge must be a number'),
    ]
    for extra, message in cases:
        sim.reset_log()
        args = dict((k, v) for k, v in args_for(dest, **extra).items() if v is not None)
        run = run_module('verge_billing_report', args, sim_env(sim))
        assert run.rc != 0 and message in run.result['msg'], (extra, run.output[-2000:])
        assert 'Traceback' not in run.output
        assert not [entry for entry in sim.requests_log() if 'tenant' in entry.get('path', '') or 'billing' in entry.get('path', '')], extra
    assert not os.path.exists(dest)


def test_the_role_passes_the_statement_variables_through(sim, tmp_path):
    dest = str(tmp_path / 'role')
    first = real_tenants(sim)[0]
    extra = dict(month='2026-10', timezone='Europe/Berlin', output_dir=dest, rates=RATES, system_name='east', billing_report_formats=['json', 'html'],
                 billing_report_tenants=True, billing_report_statements=True, billing_report_issuer=ISSUER,
                 billing_report_customers={first['name']: dict(legal_name='First Ltd', customer_id='C-1')},
                 billing_report_statement_number='INV-{customer_id}-{period}', billing_report_minimum_charge=1000000,
                 billing_report_tax=dict(name='VAT', rate=0.2))
    run = run_playbook('playbooks/monthly_chargeback.yml', sim_env(sim), extra_vars=extra)
    assert run.rc == 0, run.output
    folder = os.path.join(dest, 'statements', '2026-10')
    names = sorted(os.listdir(folder))
    assert 'east-INV-C-1-2026-10.json' in names and len(names) == 2 * len(real_tenants(sim))
    for name in names:
        if name.endswith('.json'):
            with open(os.path.join(folder, name), encoding='utf-8') as handle:
                data = json.load(handle)
            # every tenant is uplifted to the minimum charge, then taxed
            assert data['net'] == '1000000.00' and data['tax']['amount'] == '200000.00' and data['total'] == '1200000.00'
    # a changed rate card fails the system naming the statement, unless billing_report_reissue
    dearer = dict(extra, rates=dict(RATES, core_hour=0.5), billing_report_minimum_charge=None)
    refused = run_playbook('playbooks/monthly_chargeback.yml', sim_env(sim), extra_vars=dearer)
    assert refused.rc != 0 and 'INV-C-1-2026-10' in refused.output and 'reissue' in refused.output
    again = run_playbook('playbooks/monthly_chargeback.yml', sim_env(sim), extra_vars=dict(dearer, billing_report_reissue=True))
    assert again.rc == 0, again.output
    assert 'east-INV-C-1-2026-10-R1.json' in os.listdir(folder)


@pytest.mark.skipif(not (CHROMIUM and PDF_TOOLS), reason='needs chromium and poppler-utils (Debian: apt-get install chromium poppler-utils)')
def test_a_statement_prints_on_one_a4_and_one_letter_page(sim, tmp_path):
    rates = dict(RATES, tier0_gb_hour=0.0003, tier3_gb_hour=0.00002, vgpu_hour=0.4)
    run = run_module('verge_billing_report', args_for(str(tmp_path / 'out'), rates=rates, formats=['json', 'html'], minimum_charge=10,
                                                      customers={str(real_tenants(sim)[0]['$key']): dict(
                                                          legal_name='ACME Holding AG with a rather long legal name', address='1 Road\nTown\nCountry',
                                                          cost_center='CC-7', email='ap@acme.example')}), sim_env(sim))
    assert run.rc == 0, run.output
    for name, entry in run.result['statements'].items():
        with open(entry['files']['json'], encoding='utf-8') as handle:
            data = json.load(handle)
        with open(entry['files']['html'], encoding='utf-8') as handle:
            page = handle.read()
        for size in ('A4', 'Letter'):
            sized = tmp_path / ('%s-%s.html' % (entry['number'], size))
            sized.write_text(page.replace('@page { size: auto;', '@page { size: %s;' % size), encoding='utf-8')
            pdf = tmp_path / ('%s-%s.pdf' % (entry['number'], size))
            proc = subprocess.run([CHROMIUM, '--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
                                   '--user-data-dir=%s' % (tmp_path / 'profile'), '--no-pdf-header-footer', '--print-to-pdf=%s' % pdf,
                                   'file://%s' % sized], capture_output=True, text=True, timeout=120, check=False)
            assert pdf.exists(), proc.stderr[-2000:]
            info = subprocess.run(['pdfinfo', str(pdf)], capture_output=True, text=True, check=True).stdout
            assert re.search(r'^Pages:\s+1$', info, re.M), (name, size, len(data['lines']), info)
            assert ('(%s)' % size.lower()) in info.lower()
            text = subprocess.run(['pdftotext', '-layout', str(pdf), '-'], capture_output=True, text=True, check=True).stdout
            # every line's amount and the total are printed whole (no cut column)
            for line in data['lines']:
                assert '{:,.2f}'.format(float(line['amount'])) in text, (name, size, line)
            assert '{:,.2f}'.format(float(data['total'])) in text
