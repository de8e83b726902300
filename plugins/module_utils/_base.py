# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vergeio.billing contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What every module of the collection shares: the AnsibleModule with the connection options, the client, and
results and failures that carry the API's details (and, at -vvv, each request made), never a traceback or a secret."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import math

from ansible.module_utils.basic import AnsibleModule, _load_params, missing_required_lib

from ansible_collections.vergeio.billing.plugins.module_utils._client import HAS_REQUESTS, REQUESTS_IMPORT_ERROR, VergeError
from ansible_collections.vergeio.billing.plugins.module_utils._connection import (
    Origin, connection_argument_spec, host_secrets, open_client,
)

# From this verbosity (-vvv) on, a result carries api_requests: one entry per HTTP request.
TRACE_VERBOSITY = 3


def new_module(argument_spec, **kwargs):
    """An AnsibleModule whose spec is the connection options plus ``argument_spec``.

    Fails early, naming the variable, when a connection option's environment variable holds a value it cannot
    take, and when requests is missing.
    """
    origin = Origin()
    spec = connection_argument_spec(origin)
    spec.update(argument_spec)
    try:
        module = AnsibleModule(argument_spec=spec, **kwargs)
    except OverflowError:
        _fail_infinite_int(spec, kwargs)
        raise
    module.verge_origin = origin
    # A host like https://user:password@... is refused; its user info must not show in the invocation echo either.
    module.no_log_values.update(host_secrets(module.params.get('host')))
    if origin.problems:
        module.fail_json(msg='; '.join(origin.problems))
    if not HAS_REQUESTS:
        module.fail_json(msg=missing_required_lib('requests'), exception=REQUESTS_IMPORT_ERROR)
    return module


def _fail_infinite_int(spec, kwargs):
    """Fail naming the whole-number options given an infinite number (``limit: .inf``); return when there is none.

    ansible-core 2.21's int check (``check_type_int``) ends in an OverflowError for an infinite float, where other
    versions and other bad values get its "unable to convert to int" message: the task failed with "Module failed:
    cannot convert Infinity to integer", naming no option. The options are read as Ansible passed them
    (``_load_params``, which the module read already) and the module is made again with those options taken as
    they are, only to fail with a message naming them.
    """
    params = _load_params()
    named = []
    for name, option in spec.items():
        if option.get('type') != 'int':
            continue
        for given in [name] + list(option.get('aliases') or []):
            value = params.get(given)
            if isinstance(value, float) and not math.isfinite(value):
                named.append((name, given, value))
    if not named:
        return
    loose = dict(spec)
    for name, _given, _value in named:
        loose[name] = dict(spec[name], type='raw')
    module = AnsibleModule(argument_spec=loose, **kwargs)
    module.fail_json(msg='; '.join('%s must be a whole number, got %r' % (given, value) for _name, given, value in named))


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
