# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vergeio.billing contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What every module of the collection shares: the AnsibleModule with the connection options, the client, and
failures that carry the API's details and never a traceback or a secret."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.vergeio.billing.plugins.module_utils._client import (
    HAS_REQUESTS, REQUESTS_IMPORT_ERROR, VergeClient, VergeError, connection_argument_spec, host_secrets,
)


def new_module(argument_spec, **kwargs):
    """An AnsibleModule whose spec is the connection options plus ``argument_spec``; fails early without requests."""
    spec = connection_argument_spec()
    spec.update(argument_spec)
    module = AnsibleModule(argument_spec=spec, **kwargs)
    # A host like https://user:password@... is refused; its user info must not show in the invocation echo either.
    module.no_log_values.update(host_secrets(module.params.get('host')))
    if not HAS_REQUESTS:
        module.fail_json(msg=missing_required_lib('requests'), exception=REQUESTS_IMPORT_ERROR)
    return module


def run(module, work):
    """Call ``work(client)`` with a client for the module's connection options and exit with its result.

    A VergeError or ValueError ends the task with its message (and the HTTP status, method and path when there
    are some); the client's session is always closed.
    """
    client = None
    try:
        client = VergeClient(module.params)
        result = work(client)
        for warning in result.pop('warnings', []):
            module.warn(warning)
        module.exit_json(**result)
    except VergeError as exc:
        module.fail_json(msg=exc.msg, **exc.details())
    except ValueError as exc:
        module.fail_json(msg=str(exc))
    finally:
        if client is not None:
            client.close()
