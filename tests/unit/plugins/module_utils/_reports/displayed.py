# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vergeio.billing contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What a report shows, read back from its files as a person would read them: the tables of a Markdown or HTML page
and the amounts in their cells. Shared by the unit tests and the functional tests (which import it from the built
collection), so "every displayed total is the sum of its displayed lines" is checked one way everywhere."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re
from decimal import Decimal
from html.parser import HTMLParser


class _Tables(HTMLParser):
    """Every table of an HTML page: a list of rows, each (the row is a total row, [cell texts])."""

    def __init__(self):
        HTMLParser.__init__(self)
        self.tables, self.cell = [], None

    def handle_starttag(self, tag, attrs):
        if tag == 'table':
            self.tables.append([])
        elif tag == 'tr':
            self.tables[-1].append(('total' in (dict(attrs).get('class') or '').split(), []))
        elif tag in ('td', 'th'):
            self.cell = []

    def handle_endtag(self, tag):
        if tag in ('td', 'th') and self.cell is not None:
            self.tables[-1][-1][1].append(''.join(self.cell).strip())
            self.cell = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell.append(data)


def html_tables(text):
    parser = _Tables()
    parser.feed(text)
    return parser.tables


def markdown_tables(text):
    """Every table of a Markdown page: a list of rows, each a list of cell texts (the header first, no rule line)."""
    tables, current = [], None
    for line in text.splitlines():
        if line.startswith('|'):
            cells = [cell.strip() for cell in re.split(r'(?<!\\)\|', line.strip())[1:-1]]
            if current is None:
                current = []
                tables.append(current)
            if not all(set(cell) <= set('-: ') for cell in cells):
                current.append(cells)
        else:
            current = None
    return tables


def shown(cell):
    """The Decimal a shown amount reads as (bold, thousands separators and a currency taken off)."""
    return Decimal(re.sub(r'[^0-9.\-]', '', cell))


def money_tables(markdown='', html=''):
    """(which, [amounts of the lines], total) of every table whose last column is an amount (``Amount ...`` or
    ``Cost``), read from the Markdown and the HTML of a report; the total is the row marked as the total."""
    out = []
    for table in markdown_tables(markdown):
        if table[0][-1].startswith(('Amount', 'Cost')):
            body, last = table[1:-1], table[-1]
            assert last[0] == '**Total**', last
            out.append(('markdown ' + table[0][0], [shown(row[-1]) for row in body], shown(last[-1])))
    for table in html_tables(html):
        if table and table[0][1][-1].startswith(('Amount', 'Cost')):
            body = [shown(cells[-1]) for total, cells in table[1:] if not total]
            totals = [cells for total, cells in table[1:] if total]
            assert len(totals) == 1 and totals[0][0] == 'Total', totals
            out.append(('html ' + table[0][1][0], body, shown(totals[0][-1])))
    return out
