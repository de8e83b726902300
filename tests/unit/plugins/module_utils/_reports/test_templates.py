# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vergeio.billing contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The ``md`` filter (module_utils/_reports/templates.py), the one way text reaches a Markdown report: any text comes
out inert. Checked two ways: by a reader of CommonMark escapes written here, and (where markdown-it-py is installed,
as in the development venv) by rendering it as a GitHub-like renderer does and reading the text back."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import csv
import html
import io
import re
import string

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from ansible_collections.vergeio.billing.plugins.module_utils._reports.templates import md

HOSTILE = ['<img src=x onerror=alert(1)>', '[pay](http://evil)', '![i](http://evil/x.png)', '<http://evil>', 'http://evil.example/pay',
           'www.evil.example', 'pay@evil.example', 'a|b|c', '*em* _u_ **b** __b__', '`code`', '~~del~~', '$x^2$', '# heading', '## h',
           '1. item', '3) item', '- item', '+ item', '---', '===', '> quote', '&lt;b&gt; &amp; &#60;', 'back\\slash\\', '=1+1',
           'line\nbreak\rand\ttab', '€ 東京 Москва', '[^1]', '<!-- c -->', '<script>alert(1)</script>', '   - indented']
PUNCTUATION = set(string.punctuation)


def read_escapes(text):
    """Text as CommonMark reads the escapes md uses; AssertionError when a character that starts markup is left bare."""
    out, index = [], 0
    while index < len(text):
        char = text[index]
        if char == '\\':
            assert index + 1 < len(text) and text[index + 1] in PUNCTUATION, text
            out.append(text[index + 1])
            index += 2
            continue
        if char == '&':
            entity = re.match(r'&(amp|lt|gt);', text[index:])
            assert entity, text
            out.append(dict(amp='&', lt='<', gt='>')[entity.group(1)])
            index += len(entity.group(0))
            continue
        assert char not in '<>[]|*_`~$^@\n\r', text
        out.append(char)
        index += 1
    result = ''.join(out)
    assert not re.search(r'(?<!\\)://|(?i:www)\.', text), text  # no autolink can start
    return result


def plain(value):
    return re.sub(r'[\x00-\x1f\x7f]+', ' ', value)


@settings(max_examples=500, deadline=None)
@given(st.text(max_size=60))
@example(HOSTILE[0])
def test_md_escapes_everything_that_starts_markup(value):
    assert read_escapes(md(value)) == plain(value)


@pytest.mark.parametrize('value', HOSTILE)
def test_md_hostile_values(value):
    assert read_escapes(md(value)) == plain(value)
    assert '<' not in md(value) and not re.search(r'(?<!\\)\]\(', md(value))


def test_md_of_none_and_numbers():
    assert md(None) == '' and md(12) == '12' and md('verge-east.example.com') == 'verge-east.example.com'


def squeeze(text):
    """Whitespace as a renderer may leave it: runs of it one space, none at the ends (cells and paragraphs are trimmed)."""
    return re.sub(r'\s+', ' ', text).strip()


def render():
    markdown_it = pytest.importorskip('markdown_it')
    return markdown_it.MarkdownIt('commonmark').enable('table').enable('strikethrough').render


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=40))
@example(HOSTILE[1])
def test_md_renders_as_the_text_in_a_table_cell_and_a_paragraph(value):
    to_html = render()
    expected = plain(value)
    table = to_html('| Name | Cost |\n| --- | ---: |\n| %s | 1.00 |\n' % md(value))
    cells = re.findall(r'<td[^>]*>(.*?)</td>', table, re.S)
    assert len(cells) == 2 and cells[1] == '1.00', table  # the | in the name did not open a cell
    assert '<' not in cells[0] and squeeze(html.unescape(cells[0])) == squeeze(expected), table
    paragraph = to_html('Tenant %s of prod.' % md(value))
    inner = re.match(r'^<p>(.*)</p>\n$', paragraph, re.S)
    assert inner and '<' not in inner.group(1), paragraph  # no tag: no link, image, emphasis, code or HTML
    assert squeeze(html.unescape(inner.group(1))) == squeeze('Tenant %s of prod.' % expected), paragraph


# ---- every report's Markdown and CSV with hostile names ---------------------------------------------------------------

def hostile_fleet():
    from ansible_collections.vergeio.billing.plugins.module_utils._reports.fleet import consolidate, outcomes_from  # pylint: disable=import-outside-toplevel
    period = dict(label='2026-10', month='2026-10', since='2026-10-01T00:00:00+00:00', until='2026-10-31T23:59:59+00:00',
                  since_epoch=1790812800, until_epoch=1793491199, timezone='UTC')
    cost = dict(cpu=1.5, ram=2.25, storage=0.0, gpu=0.0, vgpu=0.0, total=3.75, tiers={}, currency='=1+1|<b>x</b>')
    summary = dict(record_count=2, hours=2.0, twa_cpu_cores=1.5, twa_ram_gb=1.0, twa_storage_used_gb=1.0, twa_gpus_used=0.0,
                   twa_vgpus_used=0.0, total_gpus=0, total_vgpus=0, tiers=[], cost=cost)
    outcomes = [dict(name=HOSTILE[0], ok=True, period=period, summary=summary),
                dict(name=HOSTILE[1] + ' | x', ok=True, period=period, summary=summary),
                dict(name='=cmd|calc', ok=False, error='HTTP 401 <b>denied</b> [retry](http://evil) | *now*', summary=None)]
    return consolidate(outcomes_from(outcomes), name='<i>fleet</i> [f](http://evil)')


def table_rows(markdown):
    return [line for line in markdown.splitlines() if line.startswith('|')]


def test_the_fleet_markdown_is_inert():
    from ansible_collections.vergeio.billing.plugins.module_utils._reports.fleet_render import render_markdown  # pylint: disable=import-outside-toplevel
    text = render_markdown(hostile_fleet())
    assert '<' not in text and not re.search(r'(?<!\\)\]\(|(?<!\\)://', text), text
    system_rows = [row for row in table_rows(text) if row.count('|') > 6]
    assert len(set(len(re.findall(r'(?<!\\)\|', row)) for row in system_rows)) == 1, system_rows  # no name or currency broke a row
    [failed] = [line for line in text.splitlines() if line.startswith('- **')]  # the failed system's line: the error as text
    assert read_escapes(failed[4:].replace('**: ', ' ', 1)) == '=cmd|calc HTTP 401 <b>denied</b> [retry](http://evil) | *now*'
    markdown_it = pytest.importorskip('markdown_it')
    rendered = markdown_it.MarkdownIt('commonmark').enable('table').render(text)
    assert not re.search(r'<(a|img|b|i|em|script)\b', rendered), rendered


def test_the_fleet_html_is_escaped_and_its_csv_guarded():
    from ansible_collections.vergeio.billing.plugins.module_utils._reports.fleet import render_csv  # pylint: disable=import-outside-toplevel
    from ansible_collections.vergeio.billing.plugins.module_utils._reports.fleet_render import render_html  # pylint: disable=import-outside-toplevel
    from ansible_collections.vergeio.billing.plugins.module_utils._reports.files import CsvStyle  # pylint: disable=import-outside-toplevel
    fleet = hostile_fleet()
    page = render_html(fleet)
    assert '<img src=x' not in page and '<b>denied' not in page and '<i>fleet' not in page and '&lt;img src=x onerror=alert(1)&gt;' in page
    for style in (CsvStyle(), CsvStyle(';', ',')):
        rows = list(csv.reader(io.StringIO(render_csv(fleet, style), newline=''), delimiter=style.delimiter))
        header = rows[0]
        assert set(row[header.index('currency')] for row in rows[1:] if row[header.index('status')] != 'failed') == {"'=1+1|<b>x</b>"}
        assert rows[1:][[row[0] for row in rows[1:]].index("'=cmd|calc")][header.index('status')] == 'failed'
        cpu = [row[header.index('twa_cpu_cores')] for row in rows[1:] if row[header.index('status')] == 'ok']
        assert cpu == ['1%s5' % style.decimal] * 2  # a number with the decimal mark of the style
