# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vergeio.billing contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What every module of the collection shares: the AnsibleModule with the connection options, the client, and
results and failures that carry the API's details (and, at -vvv, each request made), never a traceback or a secret."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import decimal

from ansible.module_utils import basic
from ansible.module_utils.basic import AnsibleModule, _load_params, missing_required_lib

from ansible_collections.vergeio.billing.plugins.module_utils._client import HAS_REQUESTS, REQUESTS_IMPORT_ERROR, VergeError
from ansible_collections.vergeio.billing.plugins.module_utils._connection import (
    Origin, connection_argument_spec, host_secrets, open_client,
)

# From this verbosity (-vvv) on, a result carries api_requests: one entry per HTTP request.
TRACE_VERBOSITY = 3
# A whole-number option with a larger decimal exponent is refused before Ansible's int check builds the number
# (no count of records, offset, key, page size or seconds comes near 10**31).
WHOLE_NUMBER_DIGITS = 30


def new_module(argument_spec, **kwargs):
    """An AnsibleModule whose spec is the connection options plus ``argument_spec``.

    Fails early, naming the variable, when a connection option's environment variable holds a value it cannot
    take, and when requests is missing.
    """
    origin = Origin()
    spec = connection_argument_spec(origin)
    spec.update(argument_spec)
    _refuse_unbounded_whole_numbers(spec, kwargs)
    module = AnsibleModule(argument_spec=spec, **kwargs)
    module.verge_origin = origin
    # A host like https://user:password@... is refused; its user info must not show in the invocation echo either.
    module.no_log_values.update(host_secrets(module.params.get('host')))
    if origin.problems:
        module.fail_json(msg='; '.join(origin.problems))
    if not HAS_REQUESTS:
        module.fail_json(msg=missing_required_lib('requests'), exception=REQUESTS_IMPORT_ERROR)
    return module


def _refuse_unbounded_whole_numbers(spec, kwargs):
    """Fail naming the whole-number options given an infinite number, one with a huge exponent or a list; else return.

    ansible-core's int check (``check_type_int``) reads a value through ``decimal.Decimal``: on 2.21 an infinite one
    (``limit: .inf``, ``limit: "inf"``) ends in an OverflowError ("Module failed: cannot convert Infinity to
    integer", no option named), and a text like ``"1e99999999"`` is turned into an integer of a hundred million
    digits, which took more than a minute (the task hung). So the options are read first as Ansible passed them
    (``_load_params``, which AnsibleModule then reads again from its cache); a bad one makes the module with that
    option taken as it is, only to fail with a message naming it. Only when Ansible launched the module (AnsiballZ
    has left the options in ``basic._ANSIBLE_ARGS``, read the way ansible-core's own ``respawn`` reads them):
    ansible-test's argument-spec introspection and a debugger leave AnsibleModule to read them.
    """
    if getattr(basic, '_ANSIBLE_ARGS', None) is None:
        return
    params = _load_params()
    named = []
    for name, option in spec.items():
        if option.get('type') != 'int':
            continue
        for given in [name] + list(option.get('aliases') or []):
            value = params.get(given)
            if value is None or isinstance(value, int):  # bool included: the options that care refuse it themselves
                continue
            if not isinstance(value, (float, str)):
                # Decimal takes a list as its (sign, digits, exponent) form: [0, [1, 2], 0] passed as 12, and
                # [-10**30, null, 1] ended in "Python int too large to convert to C long"
                named.append((name, '%s must be a whole number, got a %s' % (given, 'list' if isinstance(value, (list, tuple)) else type(value).__name__)))
                continue
            try:
                number = decimal.Decimal(value.strip() if isinstance(value, str) else value)
            except (decimal.DecimalException, ValueError):
                continue  # not a number at all: Ansible's own check says so, naming the option
            if not number.is_finite():
                named.append((name, '%s must be a whole number, got %s' % (given, _shown(value))))
            elif number.adjusted() > WHOLE_NUMBER_DIGITS:
                named.append((name, '%s must be a whole number of at most %d digits, got %s' % (given, WHOLE_NUMBER_DIGITS + 1, _shown(value))))
    if not named:
        return
    loose = dict(spec)
    for name, _message in named:
        loose[name] = dict(spec[name], type='raw')
    module = AnsibleModule(argument_spec=loose, **kwargs)
    module.fail_json(msg='; '.join(message for _name, message in named))


def _shown(value):
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + '...'


def run(module, work):
    """Call ``work(client)`` with a client for the module's connection options and exit with its result (a dict).

    A VergeError or ValueError ends the task with its message (and the HTTP status, method and path when there
    are some). Either way every retried request adds a warning, and from -vvv on the result carries
    ``api_requests``. The client's session is always closed.
    """
    client = None
    result = failure = None
    try:
        client = open_client(module.params, getattr(module, 'verge_origin', None))
        result = work(client)
    except VergeError as exc:
        failure = dict(exc.details(), msg=exc.msg)
    except ValueError as exc:
        failure = dict(msg=str(exc))
    finally:
        if client is not None:
            client.close()
    outcome = failure if failure is not None else result
    for warning in outcome.pop('warnings', []) + (client.retry_warnings() if client is not None else []):
        module.warn(warning)
    if client is not None and module._verbosity >= TRACE_VERBOSITY:  # pylint: disable=protected-access
        outcome['api_requests'] = client.trace
    if failure is not None:
        module.fail_json(**outcome)
    module.exit_json(**outcome)
