# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vergeio.billing contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""billing_markdown and billing_html over a small data set whose figures are worked out by hand here.

Four hourly records (weights 1 h, 1 h, 2 h and a zero-length one):
used_cores 10, 20, 40, 100 -> time-weighted (10 + 20 + 2 x 40 + 0 x 100) / 4 = 27.5, peak 100;
rate 0.5 per core-hour -> CPU cost 0.5 x (10 + 20 + 80) = 55.0; RAM 2048 MB = 2 GB x 4 h x 0.25 = 2.0; total 57.0.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.vergeio.billing.plugins.filter.billing_html import FilterModule as HtmlFilters, billing_html
from ansible_collections.vergeio.billing.plugins.filter.billing_markdown import FilterModule as MarkdownFilters, billing_markdown
from ansible_collections.vergeio.billing.plugins.filter.billing_period import billing_period
from ansible_collections.vergeio.billing.plugins.module_utils._records import convert_record
from ansible_collections.vergeio.billing.plugins.module_utils._summary import summarize

GIB = 1024 ** 3
T0 = 1790812800  # 2026-10-01T00:00:00Z
RATES = dict(core_hour=0.5, ram_gb_hour=0.25, currency='CHF')


def raw(key, start, hours, cores, total_cores=128):
    return {'$key': key, 'created': start + hours * 3600 + 5, 'from': start, 'to': start + hours * 3600, 'used_cores': cores,
            'total_cores': total_cores, 'used_ram': 2048, 'total_ram': 8192, 'tier_1_used': 3 * GIB, 'tier_1_total': 10 * GIB,
            'gpus': 1, 'gpus_total': 2, 'vgpus': 0, 'vgpus_total': 0, 'description': 'r%d' % key}


RAWS = [raw(1, T0, 1, 10), raw(2, T0 + 3600, 1, 20), raw(3, T0 + 7200, 2, 40), raw(4, T0 + 14400, 0, 100)]


def report(name='verge-east', rates=True, group_by='day'):
    return dict(name=name, period=billing_period({'month': '2026-10'}), rates=RATES if rates else None,
                summary=summarize(RAWS, group_by=group_by, rates=RATES if rates else None),
                records=[convert_record(r) for r in RAWS])


def tables(markdown):
    """Every Markdown table as a list of rows of cells (separator rows left out)."""
    out, current = [], None
    for line in markdown.splitlines():
        if line.startswith('|'):
            cells = [cell.strip() for cell in re.split(r'(?<!\\)\|', line)[1:-1]]
            if current is None:
                current = []
                out.append(current)
            if not all(set(cell) <= set('-:') for cell in cells):
                current.append(cells)
        else:
            current = None
    return out


def test_registered_names():
    assert MarkdownFilters().filters() == {'billing_markdown': billing_markdown}
    assert HtmlFilters().filters() == {'billing_html': billing_html}


def test_markdown_usage_and_cost_tables():
    text = billing_markdown(report())
    assert text.startswith('# VergeOS billing report: verge-east, 2026-10\n')
    usage, cost, periods = tables(text)
    for table in (usage, cost, periods):
        assert len(set(len(row) for row in table)) == 1  # every row has the header's cells
    rows = dict((row[0], row) for row in usage[1:])
    assert rows['CPU cores used'][3:7] == ['27.5', '100', '100', '128']  # time-weighted, p95, peak, capacity
    assert rows['RAM used'][3] == '2.0' and rows['RAM used'][6] == '8.0'
    assert rows['Storage tier 1 used'][3] == '3.0' and rows['Storage tier 1 used'][6] == '10.0'
    assert 'Storage tier 0 used' not in rows  # unused tiers are left out
    amounts = dict((row[0], row[1]) for row in cost[1:])
    assert cost[0] == ['Item', 'Cost (CHF)']
    assert amounts['CPU cores'] == '55.00' and amounts['RAM'] == '2.00' and amounts['**Total**'] == '57.00'
    assert periods[1][:3] == ['2026-10-01', '4', '4.0']
    assert 'CPU core-hour 0.5; RAM GB-hour 0.25' in text


def test_markdown_without_rates_or_periods():
    text = billing_markdown(report(rates=False, group_by=None))
    assert len(tables(text)) == 1 and '## Cost' not in text and '## By period' not in text


def test_markdown_escapes_pipes():
    text = billing_markdown(report(name='east | west'))
    assert text.splitlines()[0] == '# VergeOS billing report: east \\| west, 2026-10'


class Walker(HTMLParser):
    def __init__(self):
        HTMLParser.__init__(self)
        self.tags, self.attributes, self.text = [], [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attributes.extend(attrs)

    def handle_data(self, data):
        self.text.append(data)


def walk(html):
    walker = Walker()
    walker.feed(html)
    walker.close()
    return walker


def test_html_is_self_contained_and_has_no_script():
    html = billing_html(report(name='<script>alert(1)</script>'))
    walker = walk(html)
    assert html.startswith('<!DOCTYPE html>')
    assert not set(walker.tags) & set(['script', 'link', 'img', 'iframe', 'object', 'embed', 'base', 'form'])
    names = set(name for name, _value in walker.attributes)
    assert not names & set(['src', 'href', 'srcset', 'action', 'xlink:href']) and not [n for n in names if n.startswith('on')]
    assert not re.search(r'url\(|@import', html)
    assert set(re.findall(r'https?://[^"\s<]+', html)) == set(['http://www.w3.org/2000/svg'])  # the SVG namespace, not a fetch
    assert '&lt;script&gt;alert(1)&lt;/script&gt;' in html


def test_html_charts_draw_every_record():
    html = billing_html(report())
    svgs = re.findall(r'<svg .*?</svg>', html, re.S)
    assert len(svgs) == 4
    roots = [ET.fromstring(svg) for svg in svgs]
    titles = [root.find('{http://www.w3.org/2000/svg}title').text for root in roots]
    assert titles == ['CPU cores', 'RAM (GB)', 'Storage used per tier (GB)', 'GPUs and vGPUs']
    cores = roots[0].findall('{http://www.w3.org/2000/svg}polyline')
    assert [len(line.get('points').split()) for line in cores] == [4, 4]  # used and total, one point a record
    storage = roots[2].findall('{http://www.w3.org/2000/svg}polyline')
    assert len(storage) == 1  # only tier 1 is in use
    gpu_lines = roots[3].findall('{http://www.w3.org/2000/svg}polyline')
    assert len(gpu_lines) == 2  # GPUs used and total; no vGPUs in this system


def test_html_figures():
    text = ' '.join(walk(billing_html(report())).text)
    assert '57.00 CHF' in text and '55.00 CHF' in text and '27.5' in text
    assert 'Period 2026-10-01 00:00:00 UTC to 2026-10-31 23:59:59 UTC' in text


def test_records_missing_capacity_are_left_out_of_a_chart():
    data = report()
    data['records'][1]['total_cores'] = 0  # no measurement
    root = ET.fromstring(re.findall(r'<svg .*?</svg>', billing_html(data), re.S)[0])
    assert [len(line.get('points').split()) for line in root.findall('{http://www.w3.org/2000/svg}polyline')] == [3, 3]


def test_same_input_same_output():
    assert billing_html(report()) == billing_html(report())
    assert billing_markdown(report()) == billing_markdown(report())


def test_an_empty_period_still_renders():
    data = dict(name='x', summary=summarize([]), records=[])
    assert 'No billing records in this period' in billing_html(data)
    assert '| CPU cores used | cores |' in billing_markdown(data)


@pytest.mark.parametrize('function', [billing_html, billing_markdown])
def test_without_summary(function):
    with pytest.raises(AnsibleFilterError, match='summary'):
        function({'records': []})
    with pytest.raises(AnsibleFilterError, match='dict'):
        function(['x'])
