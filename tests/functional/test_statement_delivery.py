# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vergeio.billing contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""playbooks/deliver_statements.yml through real ``ansible-playbook`` and the real community.general.mail module,
against a local SMTP sink (aiosmtpd, test-only) on 127.0.0.1: one message per tenant, its statement attached.

community.general comes from PyPI's ``ansible`` package (tests/delivery_collections.py unpacks it into build/), since
Galaxy is not reachable where the tests run; it is never a dependency of the collection.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import email
import email.policy
import json
import os
import socket
import sys
import threading

import pytest

from conftest import COLLECTIONS, ROOT, run_module, run_playbook, sim_env  # pylint: disable=import-error
from simulator.vergeos_sim import Simulator, make_tenant_data  # pylint: disable=import-error

aiosmtpd_controller = pytest.importorskip('aiosmtpd.controller', reason='aiosmtpd (tests/requirements-dev.txt) is the SMTP sink of this test')

sys.path.insert(0, os.path.join(ROOT, 'tests'))
from delivery_collections import collections_path  # noqa: E402  pylint: disable=import-error,wrong-import-position

END = 1793502000  # 2026-11-01T03:00:00Z
RATES = dict(core_hour=0.02, ram_gb_hour=0.01, tier1_gb_hour=0.0001, gpu_hour=1.5, ip_hour=0.004, currency='EUR')
ISSUER = dict(name='Provider GmbH', email='billing@provider.example')


class Sink:
    """aiosmtpd handler: keeps every message it is given."""

    def __init__(self):
        self.messages = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802  pylint: disable=invalid-name,unused-argument
        with self.lock:
            self.messages.append((list(envelope.rcpt_tos), email.message_from_bytes(envelope.content, policy=email.policy.default)))
        return '250 OK'

    def take(self):
        with self.lock:
            out, self.messages = self.messages, []
        return out


def free_port():
    with socket.socket() as probe:
        probe.bind(('127.0.0.1', 0))
        return probe.getsockname()[1]


@pytest.fixture(scope='module', name='sink')
def fixture_sink():
    handler = Sink()
    controller = aiosmtpd_controller.Controller(handler, hostname='127.0.0.1', port=free_port())
    controller.start()
    try:
        yield handler, controller.port
    finally:
        controller.stop()


@pytest.fixture(scope='module', name='sim')
def fixture_sim():
    with Simulator(records=24 * 35, seed=21, end=END) as server:
        server.set_tenant_data(make_tenant_data(3, seed=21, end=END, days=33, quirks=False))
        yield server


@pytest.fixture(scope='module', name='delivery_env')
def fixture_delivery_env():
    env = sim_env(None)
    env['ANSIBLE_COLLECTIONS_PATH'] = COLLECTIONS + os.pathsep + collections_path(fetch=False)
    return env


def tenants_of(sim):
    return [tenant for tenant in sim.tenant_data['tenants'] if not tenant['is_snapshot']]


def customers_for(sim):
    """An email for every tenant: the first by $key, the others by name."""
    out = {}
    for index, tenant in enumerate(tenants_of(sim)):
        out[str(tenant['$key']) if index == 0 else tenant['name']] = dict(legal_name='%s Ltd' % tenant['name'], email='ap@%s.example' % tenant['name'])
    return out


def issue(sim, dest, customers, **extra):
    args = dict(month='2026-10', timezone='Europe/Berlin', dest=dest, name='east', tenants=True, rates=RATES, formats=['json', 'html'],
                statements=True, issuer=ISSUER, customers=customers)
    args.update(extra)
    run = run_module('verge_billing_report', args, sim_env(sim))
    assert run.rc == 0, run.output
    return run.result


def deliver(env, dest, port, customers):
    return run_playbook('playbooks/deliver_statements.yml', env, extra_vars=dict(
        delivery_dir=dest, delivery_month='2026-10', customers=customers, smtp_host='127.0.0.1', smtp_port=port, smtp_secure='never',
        mail_from='billing@provider.example'))


def attachments(message):
    return dict((part.get_filename(), part.get_content()) for part in message.iter_attachments())


def read(path, binary=False):
    with open(path, 'rb' if binary else 'r') as handle:
        return handle.read()


def test_each_tenant_gets_its_statement_once(sim, sink, delivery_env, tmp_path):
    handler, port = sink
    handler.take()
    dest = str(tmp_path / 'reports')
    customers = customers_for(sim)
    result = issue(sim, dest, customers)
    statements = result['statements']
    assert len(statements) == len(tenants_of(sim)) == 3

    run = deliver(delivery_env, dest, port, customers)
    assert run.rc == 0, run.output
    received = handler.take()
    assert len(received) == len(statements), run.output
    by_address = dict((rcpt[0], message) for rcpt, message in received)
    for name, entry in statements.items():
        address = 'ap@%s.example' % name
        message = by_address[address]
        assert entry['number'] in message['Subject'] and message['From'] == 'billing@provider.example'
        files = attachments(message)
        html_name, json_name = os.path.basename(entry['files']['html']), os.path.basename(entry['files']['json'])
        assert sorted(files) == sorted([html_name, json_name])
        html_part = files[html_name]
        assert (html_part if isinstance(html_part, bytes) else html_part.encode('utf-8')) == read(entry['files']['html'], True)
        json_part = files[json_name]
        sent = json.loads(json_part if isinstance(json_part, (str, bytes)) else json_part.as_string())
        assert sent['number'] == entry['number'] and sent['total'] == entry['total']
        assert entry['total'] in message.get_body(('plain',)).get_content()

    # a rerun mails nothing twice
    again = deliver(delivery_env, dest, port, customers)
    assert again.rc == 0, again.output
    assert handler.take() == []

    # a corrected revision is mailed (and only it), naming the statement it corrects
    corrected = issue(sim, dest, customers, rates=dict(RATES, core_hour=0.05), reissue=True)
    assert len(corrected['statements_reissued']) == 3
    third = deliver(delivery_env, dest, port, customers)
    assert third.rc == 0, third.output
    received = handler.take()
    assert sorted(message['Subject'].split()[1] for _rcpt, message in received) == sorted(c['number'] for c in corrected['statements_reissued'])
    for _rcpt, message in received:
        number = message['Subject'].split()[1]
        assert number.endswith('-R1') and 'It corrects statement %s' % number[:-3] in message.get_body(('plain',)).get_content()
        assert sorted(attachments(message)) == sorted(['east-%s.html' % number, 'east-%s.json' % number])


def test_a_statement_without_email_fails_before_any_mail(sim, sink, delivery_env, tmp_path):
    handler, port = sink
    handler.take()
    dest = str(tmp_path / 'reports')
    customers = customers_for(sim)
    issue(sim, dest, customers)
    lacking = dict(list(customers.items())[1:])  # no entry for the first tenant now; it was issued with its email
    first = tenants_of(sim)[0]
    statement_json = [path for path in os.listdir(os.path.join(dest, 'statements', '2026-10')) if path == 'east-%s-2026-10.json' % first['$key']]
    assert statement_json
    # the statement was issued with the email, so without a customers entry the issued email is used
    run = deliver(delivery_env, dest, port, lacking)
    assert run.rc == 0, run.output
    assert len(handler.take()) == 3
    # a second month folder issued without any email fails, naming the statements, before sending anything
    other = str(tmp_path / 'other')
    issue(sim, other, {})
    run = deliver(delivery_env, other, port, {})
    assert run.rc != 0
    assert 'No email for the statement(s)' in run.output and '%s-2026-10' % first['$key'] in run.output
    assert handler.take() == []
