# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vergeio.billing contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # The connection options of every module. They must agree with
    # plugins/module_utils/_connection.py connection_argument_spec(); a unit test checks that.
    DOCUMENTATION = r'''
options:
  host:
    description:
      - The VergeOS system to talk to, as a hostname (V(verge.example.com)), V(host:port), or an HTTPS URL
        (V(https://verge.example.com:8443)). The collection adds C(/api/v4/) itself, so give no path.
      - Only HTTPS is accepted; the VergeOS API v4 does not serve plain HTTP.
      - If not set, the environment variable E(VERGEOS_HOST) is used, then E(VERGE_HOST).
      - Required, through the option or the environment.
      - An error about a value taken from an environment variable names that variable.
    type: str
  username:
    description:
      - User name for HTTP Basic authentication, used with O(password) when O(api_key) is not given.
      - If not set, E(VERGEOS_USERNAME) is used, then E(VERGE_USERNAME).
    type: str
  password:
    description:
      - Password of O(username). Never logged or returned.
      - If not set, E(VERGEOS_PASSWORD) is used, then E(VERGE_PASSWORD).
      - A wrong password is never retried, so a job cannot lock the account by repeating it.
    type: str
  api_key:
    description:
      - "VergeOS API key, sent as C(Authorization: Bearer <key>). Never logged or returned."
      - Preferred over O(username)/O(password) when both are given (API keys bypass MFA and are rate-limited per key).
      - If not set, E(VERGEOS_API_KEY) is used, then E(VERGE_API_KEY), then E(VERGE_TOKEN) (the Python SDK's token,
        sent the same way).
      - When the server refuses it (HTTP 401), the message says whether an API key or a token was sent and where it
        came from (this option or the variable's name), never the key.
    type: str
  validate_certs:
    description:
      - Whether to verify the server's TLS certificate. Set to V(false) only for a lab system with a self-signed
        certificate; prefer O(ca_path).
      - V(false) holds even when E(REQUESTS_CA_BUNDLE) or E(CURL_CA_BUNDLE) are set in the environment.
      - If not set, E(VERGEOS_VERIFY_SSL) or E(VERGE_VERIFY_SSL) is used; E(VERGEOS_INSECURE=true) means V(false).
        These take V(true)/V(false), V(yes)/V(no), V(on)/V(off) or V(1)/V(0); any other value fails the task with
        a message naming the variable.
    type: bool
    default: true
  ca_path:
    description:
      - A PEM file of CA certificates (or a directory of hashed CA certificates) to verify the server against,
        for systems whose certificate comes from a private CA.
      - If not set, E(VERGEOS_CA_PATH) or E(VERGE_CA_PATH) is used; if none of those is set, the system trust
        store (or E(REQUESTS_CA_BUNDLE)) is used.
    type: path
  timeout:
    description:
      - Seconds to wait for the server to connect and to answer each request (each try of a read counts on its own).
      - More than 0 and at most 86400.
      - If not set, E(VERGEOS_TIMEOUT) or E(VERGE_TIMEOUT) is used. A value there that is not such a number fails
        the task with a message naming the variable (as for every numeric option below).
    type: float
    default: 30
  retries:
    description:
      - How many times a read (GET) is tried again after HTTP 429, 502, 503, 504, a dropped connection (reset or
        EOF, also while the answer is being read) or a read timeout, so a read is tried at most O(retries) + 1
        times. Between two tries the module waits 0.5s, 1s, 2s, ... (doubling) plus up to 0.5s of random jitter,
        each wait capped by O(retry_max_wait). A C(Retry-After) header (seconds or a date) replaces that wait, also
        capped by O(retry_max_wait).
      - HTTP 401 and 403 are never retried (an account could be locked). The report generation request is never
        retried once sent (it could create a second bill); a request whose connection could not be opened was not
        sent, and is tried again like a read.
      - Every request that was retried adds a warning naming its method, path, what each failed try got and how
        many tries it took, at any verbosity. With C(-vvv), the result lists every request in C(api_requests).
      - A read that still fails after its retries fails the task; a summary or a record list is never reported
        from part of the pages.
      - From 0 to 100. If not set, E(VERGEOS_RETRIES) or E(VERGE_RETRIES) is used.
    type: int
    default: 4
  retry_max_wait:
    description:
      - The longest single wait, in seconds, between two tries of a read, including a server's C(Retry-After).
      - From 0 to 3600. If not set, E(VERGEOS_RETRY_MAX_WAIT) or E(VERGE_RETRY_MAX_WAIT) is used.
    type: float
    default: 60
  retry_budget:
    description:
      - The most seconds one task spends on retrying reads, summed over all its reads (every page of a summary),
        counting the failed tries and the waits between tries. When a retry would go over it, the read fails
        instead. So failures make a task last at most O(retry_budget) + O(timeout) seconds longer than it would
        without them, however many pages it reads.
      - V(0) turns retries off. From 0 to 86400.
      - If not set, E(VERGEOS_RETRY_BUDGET) or E(VERGE_RETRY_BUDGET) is used.
    type: float
    default: 300
notes:
  - The modules run on the Ansible controller (or execution environment) and need the Python library C(requests) there.
  - Use C(module_defaults) with the action group C(group/vergeio.billing.verge) to set the connection options once.
requirements:
  - requests >= 2.25
'''

    ATTRIBUTES = r'''
attributes:
  action_group:
    description: Use C(group/vergeio.billing.verge) in C(module_defaults) to set defaults for this module.
    support: full
    membership:
      - vergeio.billing.verge
'''
