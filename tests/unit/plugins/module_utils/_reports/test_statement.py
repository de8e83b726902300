# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vergeio.billing contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The statements' pure parts: the money of a statement (subtotal, discount, uplift, tax, total) against an
independent reference in fractions, the checked options, numbers, revisions and the inert Markdown."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import re
from collections import OrderedDict
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.vergeio.billing.plugins.module_utils._rating import Bill, UsageLine, price, rate_card, tenant_owner
from ansible_collections.vergeio.billing.plugins.module_utils._reports import statement as stm

CARD = rate_card(dict(core_hour=0.02, ram_gb_hour=0.01, tier1_gb_hour=0.0001, gpu_hour=1.5, ip_hour=0.004, currency='EUR'))


def half_up(value, precision):
    """A Fraction rounded half up (away from zero) to ``precision`` decimals, as a Fraction: the reference rule."""
    scale = 10 ** precision
    scaled = abs(value) * scale
    whole = int(scaled)
    if scaled - whole >= Fraction(1, 2):
        whole += 1
    return Fraction(whole if value >= 0 else -whole, scale)


def reference(amounts, precision, discount, minimum, tax):
    """The statement's figures from first principles, in fractions."""
    subtotal = sum((Fraction(str(a)) for a in amounts), Fraction(0))
    off = half_up(subtotal * Fraction(str(discount)), precision) if discount is not None else Fraction(0)
    after = subtotal - off
    uplift = max(Fraction(0), Fraction(str(minimum)) - after) if minimum is not None else Fraction(0)
    net = after + uplift
    levy = half_up(net * Fraction(str(tax)), precision) if tax is not None else Fraction(0)
    return dict(subtotal=subtotal, discount=-off, uplift=uplift, net=net, tax=levy, total=net + levy)


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 4).flatmap(lambda p: st.tuples(
    st.just(p),
    st.lists(st.integers(0, 10 ** 9), max_size=12),
    st.one_of(st.none(), st.integers(0, 10 ** 6).map(lambda n: Decimal(n) / 10 ** 6)),
    st.one_of(st.none(), st.integers(0, 10 ** 8)),
    st.one_of(st.none(), st.integers(0, 10 ** 4).map(lambda n: Decimal(n) / 10 ** 4)),
)))
def test_settle_against_fractions(case):
    precision, cents, discount, minimum, rate = case
    unit = Decimal(1).scaleb(-precision)
    amounts = [Decimal(c) * unit for c in cents]
    minimum = None if minimum is None else Decimal(minimum) * unit
    tax = None if rate is None else dict(name='VAT', rate=rate)
    got = stm.settle(amounts, precision, discount, minimum, tax)
    want = reference(amounts, precision, discount, minimum, rate)
    assert Fraction(got['subtotal']) == want['subtotal']
    assert Fraction(got['net']) == want['net']
    assert Fraction(got['total']) == want['total']
    if discount is not None:
        assert Fraction(got['discount']) == want['discount'] <= 0
    if minimum is not None:
        assert Fraction(got['uplift']) == want['uplift'] >= 0
        assert got['net'] >= minimum
    if tax is not None:
        assert Fraction(got['tax']) == want['tax']
    # each figure shown is the sum of those shown above it, and every figure has the currency's decimals
    shown = [value for value in (got['discount'], got['uplift']) if value is not None]
    assert got['net'] == got['subtotal'] + sum(shown, Decimal(0))
    assert got['total'] == got['net'] + (got['tax'] or 0)
    for value in got.values():
        if value is not None:
            assert value.as_tuple().exponent == -precision


def test_settle_rounds_half_up():
    # 0.125 x 0.1 = 0.0125 -> 0.01; 10.05 x 0.5 = 5.025 -> 5.03 (half up, not to even)
    got = stm.settle([Decimal('10.05')], 2, Decimal('0.5'), None, dict(name='VAT', rate=Decimal('0.19')))
    assert got['discount'] == Decimal('-5.03')
    assert got['net'] == Decimal('5.02')
    assert got['tax'] == Decimal('0.95')  # 0.9538
    assert got['total'] == Decimal('5.97')


def terms(**options):
    base = dict(statements=True, issuer=dict(name='Provider GmbH'))
    base.update(options)
    return stm.statement_terms(base, [], CARD)


@pytest.mark.parametrize('options, message', [
    (dict(statement_number='{tenant}-{period}'), r'statement_number: unknown placeholder \{tenant\}'),
    (dict(statement_number='{tenant_key!r}-{period}'), 'unknown placeholder'),
    (dict(statement_number='{tenant_key:>5}-{period}'), 'unknown placeholder'),
    (dict(statement_number='INV-{tenant_key}'), r'must contain \{period\}'),
    (dict(statement_number='INV-{period}'), r'must contain \{period\}'),
    (dict(statement_number='INV-{period'), 'statement_number: .*brace'),
    (dict(discount=1.5), 'discount must be from 0 to 1'),
    (dict(discount='ten'), 'discount must be a number'),
    (dict(discount=True), 'discount must be a number'),
    (dict(minimum_charge=-1), 'minimum_charge must be from 0'),
    (dict(minimum_charge=10.005), 'minimum_charge has more decimals'),
    (dict(minimum_charge=float('nan')), 'minimum_charge must be a number'),
    (dict(tax=dict(name='VAT', rate=19)), 'tax.rate must be from 0 to 1'),
    (dict(tax=dict(name='', rate=0.19)), 'tax.name'),
    (dict(tax=dict(name='VAT')), 'tax.rate must be a number'),
    (dict(tax=dict(name='VAT', rate=0.2, kind='x')), 'tax must be a dict with name and rate'),
    (dict(issuer=dict(address='x')), 'issuer.name'),
    (dict(issuer=dict(name='P', phone='1')), r'issuer: unknown key\(s\) phone'),
    (dict(customers=['acme']), 'customers must be a dict'),
    (dict(customers=dict(acme=dict(vat='1'))), r'customers\[acme\]: unknown key\(s\) vat'),
    (dict(customers=dict(acme='ACME Ltd')), r'customers\[acme\] must be a dict'),
])
def test_bad_options_name_the_option(options, message):
    with pytest.raises(ValueError, match=message):
        terms(**options)


def test_statements_need_tenants_and_rates():
    with pytest.raises(ValueError, match='statements needs tenants'):
        stm.statement_terms(dict(statements=True, issuer=dict(name='P')), None, CARD)
    with pytest.raises(ValueError, match='statements needs rates'):
        stm.statement_terms(dict(statements=True, issuer=dict(name='P')), [], None)
    assert stm.statement_terms(dict(statements=False), None, None) is None


def test_good_options():
    checked = terms(customers={7: dict(legal_name='ACME Ltd', address=['1 Road', 'Town']), 'beta': None}, discount='0.05',
                    minimum_charge=100, tax=dict(name='VAT', rate='0.19'), statement_number='INV-{customer_id}-{period}')
    assert checked.discount == Decimal('0.05') and checked.minimum_charge == Decimal('100.00')
    assert checked.tax['rate'] == Decimal('0.19') and checked.number == 'INV-{customer_id}-{period}'
    assert checked.customers['7']['address'] == '1 Road\nTown'
    customer, found = stm.customer_of(checked, 7, 'acme')
    assert found and customer['legal_name'] == 'ACME Ltd' and customer['customer_id'] == 'tenant-7'
    customer, found = stm.customer_of(checked, 9, 'gamma')
    assert not found and customer['legal_name'] == 'gamma'
    assert stm.statement_number(checked.number, 'C-1', 7, '2026-10') == 'INV-C-1-2026-10'


def make_statement(quantities, **options):
    owner = tenant_owner(7, 'acme')
    lines = [UsageLine(owner, metric, 0, 3600, amount) for metric, amount in quantities.items()]
    bill = Bill(owner, price(lines, CARD), CARD)
    checked = terms(**options)
    customer, _found = stm.customer_of(checked, 7, 'acme')
    period = dict(label='2026-10', since='2026-10-01T00:00:00+02:00', until='2026-10-31T23:59:59+01:00', timezone='Europe/Berlin')
    return stm.build(bill, CARD, checked, owner, customer, '7-2026-10', period, 'east', 'allocated', '2026-11-01')


def test_build_lines_and_figures():
    statement = make_statement(dict(cores=2980.0, ram=12345.678, tier0=10.0, tier1=0.0, ips=745.0), discount=0.1,
                               minimum_charge=200, tax=dict(name='VAT', rate=0.19))
    # tier0 has no price and tier1 no quantity: they bill 0 and are not shown
    assert [line['metric'] for line in statement['lines']] == ['cores', 'ram', 'ips']
    assert [line['amount'] for line in statement['lines']] == ['59.60', '123.46', '2.98']  # 123.45678 rounded
    assert statement['subtotal'] == '186.04'
    assert statement['discount'] == dict(rate=0.1, amount='-18.60')  # 18.604
    assert statement['minimum_charge'] == dict(amount='200.00', uplift='32.56')
    assert statement['net'] == '200.00' and statement['tax']['amount'] == '38.00' and statement['total'] == '238.00'
    assert abs(statement['exact'] - (59.6 + 123.45678 + 2.98)) < 1e-9
    # the JSON reads back to the same amounts (a rerun compares them)
    again = json.loads(stm.render(statement, 'json'))
    assert stm.amounts_of(again) == stm.amounts_of(statement)
    assert stm.details_of(again) == stm.details_of(statement)


def test_revisions_count_up_and_name_what_they_correct():
    first = make_statement(dict(cores=100.0))
    second = make_statement(dict(cores=150.0))
    revised = stm.revise(second, first)
    assert revised['number'] == '7-2026-10-R1' and revised['supersedes'] == '7-2026-10' and revised['revision'] == 1
    assert revised['corrects'] == OrderedDict(number='7-2026-10', issue_date='2026-11-01', old_total='2.00', new_total='3.00', difference='1.00')
    third = stm.revise(make_statement(dict(cores=50.0)), revised)
    assert third['number'] == '7-2026-10-R2' and third['supersedes'] == '7-2026-10-R1' and third['corrects']['difference'] == '-2.00'


HOSTILE = '<img src=x onerror=alert(1)> [pay](http://evil.example) **bold** `code` www.evil.example | a\nb'


def test_markdown_escapes_every_punctuation_character():
    text = stm.md_inert(HOSTILE)
    # no unescaped markup character remains, and no line break
    assert not re.search(r'(?<!\\)[<>\[\]()*`|]', text)
    assert '\n' not in text
    assert text.replace('\\', '') == HOSTILE.replace('\\', '').replace('\n', ' ')


def test_rendered_statement_keeps_names_inert():
    statement = make_statement(dict(cores=100.0), customers={'7': dict(legal_name=HOSTILE, address=HOSTILE)},
                               issuer=dict(name=HOSTILE, payment_terms=HOSTILE))
    page = stm.render(statement, 'html')
    assert '<img' not in page and '<a ' not in page and '&lt;img src=x onerror=alert(1)&gt;' in page
    markdown = stm.render(statement, 'markdown')
    assert not re.search(r'(?<!\\)<img', markdown) and not re.search(r'(?<!\\)\]\(http', markdown) and '**bold**' not in markdown
    assert '\\<img src\\=x onerror\\=alert\\(1\\)\\>' in markdown


def test_amount_and_quantity_text():
    assert stm.amount('1234567.5', 2) == '1,234,567.50'
    assert stm.amount(Decimal('12'), 0) == '12'
    assert stm.quantity(2980.0) == '2,980.000'
    assert stm.percent(0.19) == '19 %' and stm.percent(0.075) == '7.5 %'


@pytest.mark.parametrize('count, sizes', [(0, [0]), (11, [11]), (12, [12]), (13, [12, 1]), (36, [12, 24]), (37, [12, 24, 1])])
def test_line_items_in_pages(count, sizes):
    lines = list(range(count))
    split = stm.pages(lines)
    assert [len(page) for page in split] == sizes and sum(split, []) == lines
