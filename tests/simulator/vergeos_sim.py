"""HTTPS simulator of the VergeOS API v4 billing endpoints, for tests.

Serves seeded, deterministic billing records on https://127.0.0.1:PORT with a
trustme-made certificate, answers like VergeOS does (fields projection, OData-like
filters, sort, limit/offset, Basic / Bearer / session-token auth, JSON errors),
and lets tests inject faults and read back every request it received.

Run it as a program (``python tests/simulator/vergeos_sim.py --help``) or import it::

    from simulator.vergeos_sim import Simulator
    with Simulator(records=500, seed=1, end=1767225600) as sim:
        sim.add_fault(method="GET", path="/api/v4/billing", action="status", status=503)
        ...  # talk to sim.url, trusting sim.ca_path

Runtime requirements: Python 3.9+ standard library and ``trustme``.
See README.md beside this file for the HTTP admin API and the fault rules.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import calendar
import copy
import email.utils
import http.server
import json
import math
import operator
import os
import random
import re
import secrets
import shutil
import signal
import socket
import socketserver
import ssl
import struct
import sys
import tempfile
import threading
import time
from http import HTTPStatus
from urllib.parse import parse_qsl, unquote_plus

try:
    import trustme
except ImportError:  # pragma: no cover - reported when the server starts
    trustme = None

# --------------------------------------------------------------------------------------
# Record schema
# --------------------------------------------------------------------------------------

GIB = 1024 ** 3
TIB = 1024 ** 4

TIER_FIELDS = tuple("tier_%d_%s" % (tier, kind) for tier in range(6) for kind in ("used", "total"))
BILLING_FIELDS = (
    "$key", "created", "from", "to", "sent", "description",
    "used_cores", "total_cores", "online_cores", "phys_total_cpu",
    "total_nodes", "online_nodes", "running_machines",
    "used_ram", "total_ram", "online_ram", "phys_ram_used", "phys_vram_used",
) + TIER_FIELDS + (
    "gpus_total", "gpus", "gpus_idle", "vgpus_total", "vgpus", "vgpus_idle",
    "workload_datapoints", "storage_datapoints",
)
#: What the server returns when ``fields`` is not sent: no numbers at all.
SUMMARY_FIELDS = ("$key", "created", "from", "to", "description")
TIMESTAMP_FIELDS = ("created", "from", "to", "sent")
COUNTER_FIELDS = tuple(f for f in BILLING_FIELDS if f not in ("$key", "description") + TIMESTAMP_FIELDS)
_STRINGABLE_FIELDS = COUNTER_FIELDS + ("created", "from", "to")

ACTION_FIELDS = ("$key", "action", "created", "billing", "status")
SYSTEM_ROW = {
    "$key": 1,
    "name": "sim-vergeos",
    "cloud_name": "sim-cloud",
    "yb_version": "4.13.4",
    "os_version": "26.0.3",
    "uuid": "00000000-0000-4000-8000-000000000001",
}

_ABSURD_VALUES = (1e308, 10 ** 30, -1, -(10 ** 12), 1.7976931348623157e308, -1e308)


def default_end(interval=3600, now=None):
    """Return ``now`` floored to a multiple of ``interval`` (the default newest ``to``)."""
    now = int(time.time() if now is None else now)
    return now - now % int(interval)


#: The default data begins this many seconds before the calendar month before the newest record's (00:00 UTC on its
#: first day), so that month is complete in UTC and on the calendar of every zone east of UTC (Europe/Berlin's month
#: begins 1 or 2 hours earlier; UTC+14 is the furthest).
LEAD_IN = 86400


def default_start(end):
    """Epoch where the default data begins: the first of the calendar month before ``end``'s month, 00:00 UTC, less
    LEAD_IN. ``end`` on 2026-12-04 gives 2026-10-31T00:00Z, so all of November is served (``month: previous``)."""
    year, month = time.gmtime(int(end))[:2]
    year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return calendar.timegm((year, month, 1, 0, 0, 0)) - LEAD_IN


def record_count(start, end, interval=3600, seed=0, quirks=True):
    """How many records make_records needs so that the oldest one's ``from`` is at or before ``start``.

    It replays make_records' draws of zero-length periods (the only thing besides ``interval`` that moves ``from``),
    which come first from their own seeded stream, newest record first.
    """
    interval = int(interval)
    if interval <= 0:
        raise ValueError("interval must be positive")
    r_time = random.Random("%s:time" % (seed,))
    count, at = 0, int(end)
    while at > start:
        zero = quirks and r_time.random() < 0.002
        count += 1
        if not zero:
            at -= interval
    return max(count, 1)


def _fmt_time(epoch):
    return time.strftime("%Y-%m-%dT%H:%MZ", time.gmtime(epoch))


class _Cluster:
    """Seeded hardware plan: node count, per-node capacity, growth events."""

    def __init__(self, seed, n):
        rng = random.Random("%s:cluster" % (seed,))
        self.nodes = rng.choice((2, 3, 4, 4, 6, 8))
        self.cores_per_node = rng.choice((24, 32, 48, 64))
        self.ram_per_node = rng.choice((256, 384, 512, 768)) * 1024  # MB
        self.vcpus_per_vm = rng.choice((2, 3, 4))
        adds = rng.randint(0, 2) if n >= 48 else 0
        self.node_adds = sorted(rng.randrange(n // 4, n) for _add in range(adds))
        per_node = [0] * 6
        per_node[0] = rng.choice((0, 512, 1024)) * GIB
        per_node[1] = rng.choice((4, 8, 16)) * TIB
        per_node[2] = rng.choice((0, 8, 16, 32)) * TIB
        per_node[3] = rng.choice((0, 0, 48, 96)) * TIB
        self.tier_per_node = per_node
        self.tier_fill = [0.15 + 0.4 * rng.random() for _tier in range(6)]
        self.gpus_per_node = rng.choice((0, 0, 1, 2))
        self.vgpus_per_node = rng.choice((0, 8, 16)) if self.gpus_per_node else 0
        self.vram_per_gpu = rng.choice((16, 24, 48)) * GIB


_BUSY_CACHE = {}


def _busy(epoch):
    """0..1 load factor: peaks 13:00 UTC on weekdays, a quarter of that at weekends."""
    week_pos = epoch % 604800
    value = _BUSY_CACHE.get(week_pos)
    if value is None:
        day = epoch // 86400
        weekday = (day + 3) % 7 < 5  # 1970-01-01 was a Thursday
        hour = (epoch % 86400) / 3600.0
        value = math.exp(-(((hour - 13.0) / 4.0) ** 2)) * (1.0 if weekday else 0.25)
        if len(_BUSY_CACHE) < 100000:
            _BUSY_CACHE[week_pos] = value
    return value


def _clamp(value, low, high):
    return low if value < low else high if value > high else value


def make_records(n=None, seed=0, interval=3600, end=None, quirks=True):
    """Build ``n`` raw billing records, deterministic for (n, seed, interval, end, quirks).

    Records are consecutive periods of ``interval`` seconds (``from`` = previous ``to``),
    the newest ending at ``end`` (default: now floored to ``interval``), ``$key`` 1..n
    ascending with time. ``n`` None: as many as reach back to default_start(end), so the
    previous calendar month is complete. Usage follows daily and weekly cycles plus slow growth and
    noise; totals change when a node is added. With ``quirks`` (the default) about 3% of
    records carry numbers as strings, about 2% have counters null or missing, a few have
    a null ``description`` and a few are zero-length periods (``from == to``).
    """
    interval = int(interval)
    if interval <= 0:
        raise ValueError("interval must be positive")
    end = default_end(interval) if end is None else int(end)
    n = record_count(default_start(end), end, interval, seed, quirks) if n is None else int(n)
    if n <= 0:
        return []
    cluster = _Cluster(seed, n)
    r_time = random.Random("%s:time" % (seed,))
    r_use = random.Random("%s:usage" % (seed,))
    r_quirk = random.Random("%s:quirks" % (seed,))

    tos = [0] * n
    froms = [0] * n
    t = end
    for i in range(n - 1, -1, -1):
        tos[i] = t
        zero = quirks and r_time.random() < 0.002
        froms[i] = t if zero else t - interval
        t = froms[i]

    records = []
    maintenance = 0
    denominator = max(n - 1, 1)
    tier_names = [("tier_%d_used" % i, "tier_%d_total" % i) for i in range(6)]
    for i in range(n):
        frm, to = froms[i], tos[i]
        period = to - frm
        nodes = cluster.nodes + sum(1 for a in cluster.node_adds if i >= a)
        if maintenance > 0:
            maintenance -= 1
        elif r_use.random() < 0.003:
            maintenance = r_use.randint(1, 6)
        online_nodes = nodes - 1 if maintenance and nodes > 1 else nodes
        total_cores = nodes * cluster.cores_per_node
        online_cores = online_nodes * cluster.cores_per_node
        total_ram = nodes * cluster.ram_per_node
        online_ram = online_nodes * cluster.ram_per_node
        growth = i / denominator
        busy = _busy(to)
        cpu_u = _clamp(0.25 + 0.25 * growth + 0.4 * busy + (r_use.random() - 0.5) * 0.08, 0.02, 1.05)
        ram_u = _clamp(0.35 + 0.3 * growth + 0.15 * busy + (r_use.random() - 0.5) * 0.04, 0.05, 0.95)
        used_cores = int(online_cores * cpu_u)
        used_ram = int(online_ram * ram_u)
        running = max(0, int(used_cores / cluster.vcpus_per_vm + (r_use.random() - 0.5) * 4))
        gpus_total = nodes * cluster.gpus_per_node
        gpus = min(gpus_total, int(round(gpus_total * (0.2 + 0.6 * busy) + (r_use.random() - 0.5))))
        vgpus_total = nodes * cluster.vgpus_per_node
        vgpus = min(vgpus_total, int(round(vgpus_total * (0.3 + 0.5 * busy) + (r_use.random() - 0.5) * 2)))
        created = to + r_use.randint(1, 9)
        roll = r_use.random()
        if i == n - 1 or roll < 0.05:
            sent = 0
        elif roll < 0.08:
            sent = None
        else:
            sent = created + r_use.randint(5, 300)
        rec = {
            "$key": i + 1,
            "created": created,
            "from": frm,
            "to": to,
            "sent": sent,
            "description": "Billing period %s - %s" % (_fmt_time(frm), _fmt_time(to)),
            "used_cores": used_cores,
            "total_cores": total_cores,
            "online_cores": online_cores,
            "phys_total_cpu": int(_clamp(cpu_u * 55 + (r_use.random() - 0.5) * 8, 0, 100)),
            "total_nodes": nodes,
            "online_nodes": online_nodes,
            "running_machines": running,
            "used_ram": used_ram,
            "total_ram": total_ram,
            "online_ram": online_ram,
            "phys_ram_used": int(used_ram * 1048576 * 0.85) + online_nodes * 8 * GIB,
            "phys_vram_used": int(max(gpus, 0) * cluster.vram_per_gpu * (0.5 + 0.4 * busy)),
        }
        tiers_present = 0
        for tier, (used_name, total_name) in enumerate(tier_names):
            total = nodes * cluster.tier_per_node[tier]
            if total:
                tiers_present += 1
                fill = cluster.tier_fill[tier] + 0.25 * growth + (r_use.random() - 0.5) * 0.002
                rec[used_name] = int(total * _clamp(fill, 0.0, 0.98))
            else:
                rec[used_name] = 0
            rec[total_name] = total
        rec["gpus_total"] = gpus_total
        rec["gpus"] = max(gpus, 0)
        rec["gpus_idle"] = gpus_total - max(gpus, 0)
        rec["vgpus_total"] = vgpus_total
        rec["vgpus"] = max(vgpus, 0)
        rec["vgpus_idle"] = vgpus_total - max(vgpus, 0)
        rec["workload_datapoints"] = running * (period // 60)
        rec["storage_datapoints"] = tiers_present * online_nodes * (period // 60)
        if quirks:
            _apply_quirks(rec, r_quirk)
        records.append(rec)
    return records


def _apply_quirks(rec, rng):
    roll = rng.random()
    if roll < 0.03:
        for name in rng.sample(_STRINGABLE_FIELDS, rng.randint(1, 4)):
            if rec.get(name) is not None:
                rec[name] = str(rec[name])
        if rng.random() < 0.3:
            rec["$key"] = str(rec["$key"])
    elif roll < 0.05:
        for name in rng.sample(COUNTER_FIELDS, rng.randint(1, 3)):
            if rng.random() < 0.5:
                rec[name] = None
            else:
                del rec[name]
    if rng.random() < 0.004:
        rec["description"] = None


# --------------------------------------------------------------------------------------
# Values, filters, sorting
# --------------------------------------------------------------------------------------

_NUM_RE = re.compile(r"^\s*[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\s*$")
_INT_RE = re.compile(r"^\s*[+-]?\d+\s*$")


def as_number(value):
    """Return ``value`` as int/float when it is a number or a numeric string, else None."""
    cls = value.__class__
    if cls is int or cls is float:
        return value
    if cls is str and _NUM_RE.match(value):
        return int(value) if _INT_RE.match(value) else float(value)
    return None


def _text(value):
    if value is True:
        return "true"
    if value is False:
        return "false"
    return str(value)


class FilterError(ValueError):
    """A filter that cannot be parsed or uses a field it may not use."""


_OPS = ("eq", "ne", "gt", "ge", "lt", "le", "bw", "ew", "cs", "ct", "rx")
_ORDERING = {"gt": operator.gt, "ge": operator.ge, "lt": operator.lt, "le": operator.le}
_TOKEN_RE = re.compile(
    r"\s*(?:(?P<lp>\()|(?P<rp>\))|'(?P<sq>(?:[^']|'')*)'|\"(?P<dq>(?:[^\"\\]|\\.)*)\"|(?P<word>[^\s()'\"]+))"
)


def _tokenize(text):
    tokens = []
    text = text.strip()
    pos = 0
    while pos < len(text):
        match = _TOKEN_RE.match(text, pos)
        if not match:
            raise FilterError("unterminated quoted string at position %d" % pos)
        pos = match.end()
        kind = match.lastgroup
        if kind == "lp":
            tokens.append(("(", "("))
        elif kind == "rp":
            tokens.append((")", ")"))
        elif kind == "sq":
            tokens.append(("str", match.group("sq").replace("''", "'")))
        elif kind == "dq":
            tokens.append(("str", re.sub(r"\\(.)", r"\1", match.group("dq"))))
        else:
            tokens.append(("word", match.group("word")))
    return tokens


def _compare_predicate(field, op, literal, is_null):
    """Build ``record -> bool`` for one ``field op literal`` comparison."""
    lit_num = None if is_null else as_number(literal)
    if op in ("eq", "ne"):
        def equal(rec):
            value = rec.get(field)
            if value is None:
                return is_null
            if is_null:
                return False
            if lit_num is not None:
                num = as_number(value)
                if num is not None:
                    return num == lit_num
            return _text(value) == literal
        if op == "eq":
            return equal
        return lambda rec: not equal(rec)
    if op in _ORDERING:
        compare = _ORDERING[op]

        def ordered(rec):
            value = rec.get(field)
            if value is None or is_null:
                return False
            if lit_num is not None:
                num = as_number(value)
                if num is not None:
                    return compare(num, lit_num)
            return compare(_text(value), literal)
        return ordered
    if is_null:
        return lambda rec: False
    if op == "rx":
        try:
            pattern = re.compile(literal)
        except re.error as exc:
            raise FilterError("invalid regular expression %r: %s" % (literal, exc)) from exc
        return lambda rec: rec.get(field) is not None and pattern.search(_text(rec[field])) is not None
    if op == "ct":
        lowered = literal.lower()
        return lambda rec: rec.get(field) is not None and lowered in _text(rec[field]).lower()
    string_ops = {
        "bw": lambda text: text.startswith(literal),
        "ew": lambda text: text.endswith(literal),
        "cs": lambda text: literal in text,
    }
    test = string_ops[op]
    return lambda rec: rec.get(field) is not None and test(_text(rec[field]))


def _any_of(preds):
    def either(rec):
        for pred in preds:
            if pred(rec):
                return True
        return False
    return either


def _all_of(preds):
    def both(rec):
        for pred in preds:
            if not pred(rec):
                return False
        return True
    return both


class _FilterParser:
    """Recursive descent: or_expr := and_expr ('or' and_expr)*; and binds tighter."""

    def __init__(self, tokens):
        self.tokens = tokens
        self.pos = 0
        self.fields = []

    def parse(self):
        if not self.tokens:
            raise FilterError("empty filter")
        pred = self.or_expr()
        if self.pos != len(self.tokens):
            raise FilterError("unexpected %r" % (self.tokens[self.pos][1],))
        return pred

    def _keyword(self, word):
        if self.pos < len(self.tokens):
            kind, value = self.tokens[self.pos]
            if kind == "word" and value.lower() == word:
                self.pos += 1
                return True
        return False

    def _next(self, what):
        if self.pos >= len(self.tokens):
            raise FilterError("unexpected end of filter, expected %s" % what)
        token = self.tokens[self.pos]
        self.pos += 1
        return token

    def or_expr(self):
        preds = [self.and_expr()]
        while self._keyword("or"):
            preds.append(self.and_expr())
        return preds[0] if len(preds) == 1 else _any_of(preds)

    def and_expr(self):
        preds = [self.primary()]
        while self._keyword("and"):
            preds.append(self.primary())
        return preds[0] if len(preds) == 1 else _all_of(preds)

    def primary(self):
        kind, value = self._next("a comparison or '('")
        if kind == "(":
            pred = self.or_expr()
            if self._next("')'")[0] != ")":
                raise FilterError("expected ')'")
            return pred
        if kind != "word":
            raise FilterError("expected a field name, got %r" % (value,))
        field = value
        op_kind, op = self._next("an operator after %r" % field)
        op = op.lower()
        if op_kind != "word" or op not in _OPS:
            raise FilterError("unknown operator %r after %r" % (op, field))
        lit_kind, literal = self._next("a value after %r %s" % (field, op))
        if lit_kind in ("(", ")"):
            raise FilterError("expected a value after %r %s" % (field, op))
        is_null = lit_kind == "word" and literal.lower() == "null"
        self.fields.append(field)
        return _compare_predicate(field, op, literal, is_null)


def compile_filter(text, allowed_fields=None, known_fields=None):
    """Compile a VergeOS filter string into ``record -> bool``.

    Raises FilterError on syntax errors, on fields not in ``known_fields`` (when
    given) and on fields not in ``allowed_fields`` (when given: the request's fields).
    """
    parser = _FilterParser(_tokenize(text))
    pred = parser.parse()
    for field in parser.fields:
        if known_fields is not None and field not in known_fields:
            raise FilterError("unknown field %r in filter" % field)
        if allowed_fields is not None and field not in allowed_fields:
            raise FilterError("field %r used in filter must be included in fields" % field)
    return pred


def _sort_key(field):
    def key(rec):
        value = rec.get(field)
        if value is None:
            return (0, 0, "")
        num = as_number(value)
        if num is not None:
            return (1, num, "")
        return (2, 0, _text(value))
    return key


def _key_of(rec):
    num = as_number(rec.get("$key"))
    return int(num) if num is not None else None


# --------------------------------------------------------------------------------------
# Replies and fault rules
# --------------------------------------------------------------------------------------


class ApiError(Exception):
    """An error reply: HTTP status plus ``{"err": message}``."""

    def __init__(self, status, message, headers=None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


class Reply:
    """One HTTP reply; ``obj`` is serialized as compact JSON unless ``raw`` is set."""

    def __init__(self, status, obj=None, raw=None, content_type="application/json", headers=None):
        self.status = status
        self.obj = obj
        self.raw = raw
        self.content_type = content_type
        self.headers = dict(headers or {})

    def body(self):
        """Return the body bytes."""
        if self.raw is not None:
            return self.raw
        if self.obj is None:
            return b""
        return json.dumps(self.obj, separators=(",", ":")).encode("utf-8")


def _error_reply(status, message, headers=None):
    return Reply(status, {"err": message}, headers=headers)


FAULT_ACTIONS = ("status", "reset", "eof", "delay", "malformed", "after_effect")
MALFORMED_KINDS = ("html", "truncated", "invalid", "wrong_type", "empty", "huge")
_RULE_KEYS = {
    "method", "path", "match_query", "times", "skip", "action", "status", "retry_after", "retry_after_in", "body",
    "content_type", "seconds", "kind", "apply", "then",
}


def normalize_rule(rule):
    """Validate a fault rule and fill in its defaults; raises ValueError."""
    if not isinstance(rule, dict):
        raise ValueError("a fault rule must be an object")
    unknown = set(rule) - _RULE_KEYS
    if unknown:
        raise ValueError("unknown fault rule keys: %s" % ", ".join(sorted(unknown)))
    action = rule.get("action")
    if action not in FAULT_ACTIONS:
        raise ValueError("action must be one of %s" % ", ".join(FAULT_ACTIONS))
    out = {
        "method": str(rule.get("method") or "*").upper(),
        "path": rule.get("path"),
        "match_query": rule.get("match_query"),
        "times": int(rule.get("times", 1)),
        "skip": int(rule.get("skip", 0)),
        "action": action,
        "apply": bool(rule.get("apply", False)),
        "seconds": float(rule.get("seconds") or 0),
    }
    if action == "after_effect":
        then = rule.get("then", "status")
        if then not in ("status", "reset", "eof", "delay"):
            raise ValueError("after_effect 'then' must be status, reset, eof or delay")
        out["action"] = then
        out["apply"] = True
    if out["path"] is not None and not str(out["path"]).startswith("/"):
        raise ValueError("path must start with '/'")
    if out["skip"] < 0:
        raise ValueError("skip must be >= 0")
    if out["action"] == "status":
        status = int(rule.get("status", 0))
        if not 100 <= status <= 599:
            raise ValueError("status action needs a 'status' between 100 and 599")
        out["status"] = status
        body = rule.get("body")
        if body is not None and not isinstance(body, str):
            body = json.dumps(body)
        out["body"] = body
        out["content_type"] = rule.get("content_type") or "application/json"
        if rule.get("retry_after") is not None:
            out["retry_after"] = str(rule["retry_after"])
        if rule.get("retry_after_in") is not None:
            # seconds after the answer, as an HTTP date by the server's clock (the same clock as its Date header)
            out["retry_after_in"] = int(rule["retry_after_in"])
    elif out["action"] == "delay":
        if out["seconds"] <= 0:
            raise ValueError("delay action needs 'seconds' > 0")
    elif out["action"] == "malformed":
        if rule.get("kind") not in MALFORMED_KINDS:
            raise ValueError("malformed action needs 'kind', one of %s" % ", ".join(MALFORMED_KINDS))
        out["kind"] = rule["kind"]
    out["seen"] = 0
    out["hits"] = 0
    return out


def path_matches(prefix, path):
    """Fault/count path matching: None = any /api/ path; prefix on segment boundaries; trailing '*' = raw prefix."""
    if prefix is None:
        return path.startswith("/api/")
    if prefix.endswith("*"):
        return path.startswith(prefix[:-1])
    base = prefix.rstrip("/")
    return path == base or path.startswith(base + "/")


def _absurd(obj):
    """Replace counters with absurd numbers (1e308, 10**30, negatives)."""
    obj = copy.deepcopy(obj)
    rows = obj if isinstance(obj, list) else [obj]
    for row in rows:
        if not isinstance(row, dict):
            continue
        for index, name in enumerate(COUNTER_FIELDS):
            if name in row:
                row[name] = _ABSURD_VALUES[index % len(_ABSURD_VALUES)]
    return obj


def _malformed(reply, kind):
    if kind == "html":
        page = b"<html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1><p>nginx</p></body></html>"
        return Reply(200, raw=page, content_type="text/html")
    if kind == "invalid":
        return Reply(200, raw=b"{not json")
    if kind == "empty":
        return Reply(200, raw=b"")
    if kind == "truncated":
        body = reply.body()
        return Reply(reply.status, raw=body[:len(body) // 2], content_type=reply.content_type, headers=reply.headers)
    if kind == "wrong_type":
        obj = reply.obj
        if isinstance(obj, list):
            obj = obj[0] if obj else {}
        elif isinstance(obj, dict):
            obj = [obj]
        else:
            obj = {}
        return Reply(200, obj)
    return Reply(200, _absurd(reply.obj if reply.obj is not None else {}))


# --------------------------------------------------------------------------------------
# HTTP server
# --------------------------------------------------------------------------------------


class _Handler(http.server.BaseHTTPRequestHandler):
    """Reads a request, hands it to the Simulator, writes one response."""

    protocol_version = "HTTP/1.1"
    server_version = "VergeOS-Sim/1.0"
    sys_version = ""
    disable_nagle_algorithm = True
    timeout = 120

    def log_message(self, format, *args):  # pylint: disable=redefined-builtin
        if self.server.sim.verbose:
            sys.stderr.write("vergeos_sim: %s %s\n" % (self.address_string(), format % args))

    def send_error(self, code, message=None, explain=None):
        try:
            phrase = HTTPStatus(code).phrase
        except ValueError:
            phrase = "Error"
        self.close_connection = True
        self._write(_error_reply(code, message or phrase), close=True)

    def do_GET(self):  # pylint: disable=invalid-name
        """Dispatch every method the same way."""
        self._dispatch()

    do_POST = do_GET  # pylint: disable=invalid-name
    do_PUT = do_GET  # pylint: disable=invalid-name
    do_PATCH = do_GET  # pylint: disable=invalid-name
    do_DELETE = do_GET  # pylint: disable=invalid-name
    do_HEAD = do_GET  # pylint: disable=invalid-name
    do_OPTIONS = do_GET  # pylint: disable=invalid-name

    def _read_body(self):
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _dispatch(self):
        sim = self.server.sim
        path, _sep, query = self.path.partition("?")
        try:
            body = self._read_body()
        except ValueError:
            self._write(_error_reply(400, "Bad request body"), close=True)
            return
        method = self.command
        if path == "/_sim" or path.startswith("/_sim/"):
            self._write(sim.handle_admin(method, path, query, body))
            return
        headers = dict(self.headers.items())
        entry = sim.log_request(method, path, query, headers, body)
        rule = sim.match_fault(method, path, query)
        if rule is None:
            reply = sim.handle_api(method, path, query, headers, body)
            sim.log_status(entry, reply.status)
            self._write(reply, entry=entry)
            return
        self._deliver_fault(rule, entry, method, path, query, headers, body)

    def _deliver_fault(self, rule, entry, method, path, query, headers, body):
        sim = self.server.sim
        action = rule["action"]
        sim.log_status(entry, None, fault=action)
        if action != "delay" and rule["seconds"] > 0:
            sim.sleep(rule["seconds"])
        if action == "delay":
            if rule["apply"]:
                reply = sim.handle_api(method, path, query, headers, body)
                sim.sleep(rule["seconds"])
            else:
                sim.sleep(rule["seconds"])
                reply = sim.handle_api(method, path, query, headers, body)
            sim.log_status(entry, reply.status, fault=action)
            self._write(reply, entry=entry)
        elif action == "status":
            if rule["apply"]:
                sim.handle_api(method, path, query, headers, body)
            status = rule["status"]
            text = rule["body"] if rule["body"] is not None else json.dumps({"err": "injected %d" % status})
            extra = {"Retry-After": rule["retry_after"]} if "retry_after" in rule else {}
            if "retry_after_in" in rule:
                extra["Retry-After"] = email.utils.formatdate(int(sim.now()) + rule["retry_after_in"], usegmt=True)
            sim.log_status(entry, status, fault=action)
            self._write(Reply(status, raw=text.encode("utf-8"), content_type=rule["content_type"], headers=extra), entry=entry)
        elif action == "malformed":
            reply = _malformed(sim.handle_api(method, path, query, headers, body), rule["kind"])
            sim.log_status(entry, reply.status, fault=action)
            self._write(reply, entry=entry)
        else:
            if rule["apply"]:
                sim.handle_api(method, path, query, headers, body)
            self._drop(reset=action == "reset")

    def _drop(self, reset):
        """Close without answering: TCP RST (SO_LINGER 0), or TLS close_notify then FIN."""
        self.close_connection = True
        conn = self.connection
        try:
            if reset:
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            else:
                conn.settimeout(2)
                try:
                    conn.unwrap()
                finally:
                    socket.socket.shutdown(conn, socket.SHUT_WR)
        except (OSError, ValueError):
            pass
        for stream in (self.wfile, self.rfile):
            try:
                stream.close()
            except OSError:
                pass
        conn.close()

    def _write(self, reply, close=False, entry=None):
        body = reply.body()
        try:
            phrase = HTTPStatus(reply.status).phrase
        except ValueError:
            phrase = "Unknown"
        lines = [
            "HTTP/1.1 %d %s" % (reply.status, phrase),
            "Server: %s" % self.server_version,
            "Date: %s" % email.utils.formatdate(self.server.sim.now(), usegmt=True),
            "Content-Type: %s" % reply.content_type,
            "Content-Length: %d" % len(body),
        ]
        for name, value in reply.headers.items():
            lines.append("%s: %s" % (name, value))
        if close or self.close_connection:
            lines.append("Connection: close")
            self.close_connection = True
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        if self.command == "HEAD":
            body = b""
        if entry is not None:
            self.server.sim.log_bytes(entry, len(body))
        try:
            if len(body) < 65536:
                self.wfile.write(head + body)
            else:
                self.wfile.write(head)
                self.wfile.write(body)
        except OSError:
            self.close_connection = True


class _Server(http.server.ThreadingHTTPServer):
    """Threaded HTTPS server; TLS handshakes run in the per-connection thread."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address, sim, ssl_context):
        self.sim = sim
        self.ssl_context = ssl_context
        self.open_connections = set()
        self.conn_lock = threading.Lock()
        super().__init__(address, _Handler)

    def server_bind(self):
        # HTTPServer.server_bind would call socket.getfqdn(), a slow DNS lookup.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name = host
        self.server_port = port

    def finish_request(self, request, client_address):
        request.settimeout(15)
        try:
            conn = self.ssl_context.wrap_socket(request, server_side=True)
        except (OSError, ValueError):
            request.close()
            return
        with self.conn_lock:
            self.open_connections.add(conn)
        try:
            self.RequestHandlerClass(conn, client_address, self)
        finally:
            with self.conn_lock:
                self.open_connections.discard(conn)
            try:
                conn.close()
            except OSError:
                pass

    def handle_error(self, request, client_address):
        exc = sys.exc_info()[1]
        if isinstance(exc, (OSError, ssl.SSLError, ValueError)):
            return
        super().handle_error(request, client_address)

    def close_open_connections(self):
        """Wake and close every kept-alive connection (used by stop())."""
        with self.conn_lock:
            conns = list(self.open_connections)
        for conn in conns:
            try:
                socket.socket.shutdown(conn, socket.SHUT_RDWR)
            except OSError:
                pass


# --------------------------------------------------------------------------------------
# Tenants and tenant statistics history (issue 9): /api/v4/tenants,
# /api/v4/tenant_stats_history_long and /api/v4/tenant_stats_history_short
# --------------------------------------------------------------------------------------

#: Columns of a tenant row; ``status``, ``vnet`` and ``ui_address`` are objects, read with
#: ``status#started as started_ts``-style projections (what pyvergeos asks for).
TENANT_COLUMNS = ("$key", "name", "description", "url", "uuid", "created", "creator", "is_snapshot", "isolate", "note",
                  "expose_cloud_snapshots", "allow_branding", "status", "vnet", "ui_address")
TENANT_HISTORY_FIELDS = ("$key", "tenant", "timestamp", "total_cpu", "core_count", "ram_used", "vram_used",
                         "ram_allocated", "ram_pct", "ip_count") + tuple(
    "tier%d_%s" % (tier, kind) for tier in range(6) for kind in ("provisioned", "used", "allocated", "pct")) + (
    "gpus_used", "gpus_total", "gpus_pct", "vgpus_used", "vgpus_total", "vgpus_pct")
#: Counters of a history sample (what the quirks may turn into strings, nulls or gaps).
TENANT_COUNTERS = TENANT_HISTORY_FIELDS[3:]
#: Sample spacing of each history table, seconds.
TENANT_HISTORY_TABLES = {"tenant_stats_history_long": 3600, "tenant_stats_history_short": 300}
_TENANT_NAMES = ("acme", "blue-harbor", "contoso", "dunder-mifflin", "evergreen", "fabrikam", "globex", "initech")
#: Quirk sets: True = everything a real server may send (the reference SDK crashes on nulls and on "37.5");
#: "sdk" = only what the reference SDK reads (integer strings, floats, missing counters).
_TENANT_QUIRKS = {True: ("str_int", "str_float", "float", "null", "missing"), "sdk": ("str_int", "float", "missing"),
                  False: ()}


def make_tenant_data(tenants=6, seed=0, end=None, days=None, short_hours=24, quirks=True, snapshots=1, gaps=True):
    """Seeded tenants and their statistics history: ``{"tenants": [...], "long": [...], "short": [...]}``.

    ``tenants`` real tenants (names from a list, then ``tenant-NNN``; keys shuffled so key order is not name
    order) plus ``snapshots`` tenant snapshots (``is_snapshot: true``, the same name as a real tenant, with a few
    history rows of their own). ``long`` holds hourly samples over ``days`` days ending at ``end`` (default: now
    floored to the hour; ``days`` None: from default_start(end), so the previous calendar month is complete),
    ``short`` 5-minute samples over the last ``short_hours`` hours; ``$key`` ascends with time.
    The second tenant is stopped for a day (no samples from 5 to 4 days before ``end``), and the last one is
    created 3 days before ``end`` (no samples before that); ``gaps=False`` leaves both out. ``quirks`` (see
    _TENANT_QUIRKS) puts integers as strings, floats, nulls and missing counters into about 5% of the samples.
    """
    kinds = _TENANT_QUIRKS[quirks]
    end = default_end(3600) if end is None else int(end)
    rng = random.Random("%s:tenants" % (seed,))
    names = [_TENANT_NAMES[i] if i < len(_TENANT_NAMES) else "tenant-%03d" % i for i in range(tenants)]
    keys = list(range(1, tenants + snapshots + 1))
    rng.shuffle(keys)
    rows, plans = [], []
    for index in range(tenants + snapshots):
        snapshot = index >= tenants
        name = names[(index - tenants) % max(tenants, 1)] if snapshot else names[index]
        key = keys[index]
        running = not (index == 1 and tenants > 2)
        rows.append({
            "$key": key, "name": name, "description": "%s%s" % (name, " (snapshot)" if snapshot else ""),
            "url": "https://%s.sim.example" % name, "uuid": "00000000-0000-4000-9000-%012d" % key,
            "created": end - 400 * 86400 + key, "creator": "admin", "is_snapshot": snapshot, "isolate": False,
            "note": "", "expose_cloud_snapshots": False, "allow_branding": False,
            "status": {"running": running and not snapshot, "starting": False, "stopping": False, "migrating": False,
                       "status": "online" if running and not snapshot else "offline",
                       "state": "online" if running and not snapshot else "offline",
                       "started": end - 30 * 86400, "stopped": 0 if running else end - 3600},
            "vnet": {"name": "%s-net" % name}, "ui_address": {"ip": "10.99.0.%d" % key},
        })
        cores = rng.choice((2, 4, 8, 16, 24, 32))
        gpus = rng.choice((0, 0, 0, 1, 2))
        plans.append(dict(
            key=key, snapshot=snapshot, cores=cores, ram=cores * rng.choice((2048, 4096, 8192)),
            ips=rng.randint(1, 16), gpus=gpus, vgpus=rng.choice((0, 4, 8)) if gpus else 0,
            tiers=[rng.choice((0, 100, 500, 2000)) * GIB if tier in (0, 1, 2, 3) else 0 for tier in range(6)],
            fill=[0.2 + 0.6 * rng.random() for _tier in range(6)], load=0.2 + 0.6 * rng.random(),
            stopped=(end - 5 * 86400, end - 4 * 86400) if gaps and index == 1 and tenants > 2 else None,
            born=end - 3 * 86400 if gaps and index == tenants - 1 and tenants > 3 else None,
        ))
    data = {"tenants": sorted(rows, key=lambda row: row["$key"])}
    usage = random.Random("%s:tenant-usage" % (seed,))
    quirk = random.Random("%s:tenant-quirks" % (seed,))
    long_span = end - default_start(end) if days is None else int(days) * 86400
    for table, interval, span in (("long", 3600, long_span), ("short", 300, short_hours * 3600)):
        samples = []
        first = end - span + interval
        for stamp in range(first, end + 1, interval):
            for plan in sorted(plans, key=lambda p: p["key"]):
                if plan["stopped"] and plan["stopped"][0] <= stamp < plan["stopped"][1]:
                    continue
                if plan["born"] and stamp < plan["born"]:
                    continue
                if plan["snapshot"] and stamp < end - 2 * 3600:
                    continue
                samples.append(_tenant_sample(plan, stamp, usage, quirk, kinds, end, span))
        for number, sample in enumerate(samples, 1):
            sample["$key"] = number
        data[table] = samples
    return data


def _tenant_sample(plan, stamp, usage, quirk, kinds, end, span):
    """One history row of ``plan`` at ``stamp``: usage follows the working day, storage grows over the range."""
    busy = _busy(stamp)
    growth = 1 - (end - stamp) / float(span)
    cores = plan["cores"] + (2 if growth > 0.5 else 0)  # a resize halfway through the range
    ram_allocated = plan["ram"] + (2048 if growth > 0.5 else 0)
    cpu = _clamp(plan["load"] * 60 * (0.3 + busy) + (usage.random() - 0.5) * 10, 0, 100)
    ram_used = int(ram_allocated * _clamp(0.3 + 0.5 * busy * plan["load"] + usage.random() * 0.05, 0, 1))
    row = {"tenant": plan["key"], "timestamp": stamp, "total_cpu": int(cpu), "core_count": cores,
           "ram_used": ram_used, "vram_used": int(ram_used * 0.1), "ram_allocated": ram_allocated,
           "ram_pct": int(ram_used * 100 / ram_allocated), "ip_count": plan["ips"]}
    for tier in range(6):
        provisioned = plan["tiers"][tier]
        allocated = int(provisioned * _clamp(plan["fill"][tier] + 0.1 * growth, 0, 1))
        used = int(allocated * (0.7 + 0.2 * usage.random())) if allocated else 0
        row.update({"tier%d_provisioned" % tier: provisioned, "tier%d_used" % tier: used,
                    "tier%d_allocated" % tier: allocated,
                    "tier%d_pct" % tier: int(used * 100 / provisioned) if provisioned else 0})
    gpus_used = min(plan["gpus"], int(round(plan["gpus"] * busy)))
    vgpus_used = min(plan["vgpus"], int(round(plan["vgpus"] * busy)))
    row.update({"gpus_used": gpus_used, "gpus_total": plan["gpus"],
                "gpus_pct": int(gpus_used * 100 / plan["gpus"]) if plan["gpus"] else 0,
                "vgpus_used": vgpus_used, "vgpus_total": plan["vgpus"],
                "vgpus_pct": int(vgpus_used * 100 / plan["vgpus"]) if plan["vgpus"] else 0})
    if kinds and quirk.random() < 0.05:
        kind = quirk.choice(kinds)
        for name in quirk.sample(TENANT_COUNTERS, quirk.randint(1, 3)):
            if kind == "str_int":
                row[name] = str(row[name])
            elif kind == "str_float":
                row[name] = "%d.5" % row[name]
            elif kind == "float":
                row[name] = row[name] + 0.75
            elif kind == "null":
                row[name] = None
            else:
                del row[name]
        if kind == "str_int" and quirk.random() < 0.3:
            row["timestamp"] = str(row["timestamp"])
    return row


def _parse_projection(raw, known):
    """``fields`` of a tenant table -> [(output name, column, sub-field or None)]; None for ``all``/``most``.

    ``status#started as started_ts`` reads ``started`` of the ``status`` object into ``started_ts``; a
    projection without ``as`` is named after the whole path (``status#started``).
    """
    spec = []
    for item in raw.split(","):
        item = item.strip()
        if not item:
            continue
        if item in ("all", "most"):
            return None
        path, _sep, alias = item.partition(" as ")
        column, _hash, sub = path.strip().partition("#")
        if column not in known or (sub and "#" in sub):
            raise ApiError(400, "Invalid field: %r" % item)
        spec.append((alias.strip() or path.strip(), column, sub or None))
    return spec


def _project(row, spec):
    out = {}
    for name, column, sub in spec:
        if column not in row:
            continue
        value = row[column]
        if sub is not None:
            value = value.get(sub) if isinstance(value, dict) else None
        out[name] = value
    return out


class _TenantEndpoints:
    """The tenant endpoints of the Simulator (a mixin: the Simulator routes these tables here).

    The data comes from make_tenant_data(seed=self.seed, end=...), built when first asked for (ending where the
    seeded records end, or at the server's clock: the previous calendar month and the current one), or from
    set_tenant_data().
    """

    _tenant_data = None

    def set_tenant_data(self, data=None, **make_args):
        """Serve ``data`` (make_tenant_data's shape) or make_tenant_data(**make_args); returns the data."""
        data = make_tenant_data(**make_args) if data is None else data
        with self._lock:
            self._tenant_data = {"tenants": [dict(r) for r in data["tenants"]], "long": list(data["long"]),
                                 "short": list(data["short"])}
        return self._tenant_data

    @property
    def tenant_data(self):
        """The live tenant data: ``{"tenants", "long", "short"}`` lists of raw rows."""
        with self._lock:
            if self._tenant_data is None:
                end = default_end(3600, self.now() if self.end is None else self.end)
                self._tenant_data = make_tenant_data(seed=self.seed, end=end)
            return self._tenant_data

    def _tenant_api(self, method, table, key, params):
        self._allow(method, ("GET",))
        data = self.tenant_data
        if table == "tenants":
            rows, known, default = data["tenants"], TENANT_COLUMNS, ("$key", "name")
        else:
            rows = data["long" if table.endswith("_long") else "short"]
            known, default = TENANT_HISTORY_FIELDS, ("$key", "tenant", "timestamp")
        raw = params.get("fields")
        spec = _parse_projection(",".join(default) if raw is None else raw, known)
        if key is not None:
            found = [row for row in rows if str(row.get("$key")) == key]
            if not found:
                raise ApiError(404, "Row not found")
            return Reply(200, found[0] if spec is None else _project(found[0], spec))
        if spec == []:
            return Reply(200, [{"$count": len(rows)}])
        allowed = set(known) if spec is None else set(name for name, _column, _sub in spec)
        if params.get("filter", "").strip():
            try:
                pred = compile_filter(params["filter"], allowed, set(known))
            except FilterError as exc:
                raise ApiError(400, "Invalid filter: %s" % exc) from None
            rows = [row for row in rows if pred(row)]
        for item in reversed([s.strip() for s in params.get("sort", "").split(",") if s.strip()]):
            name = item.lstrip("+-").strip()
            if name not in known:
                raise ApiError(400, "Invalid sort field: %r" % name)
            rows = sorted(rows, key=_sort_key(name), reverse=item.startswith("-"))
        offset = _parse_int(params, "offset", 0)
        limit = _parse_int(params, "limit", self.default_limit)
        rows = rows[offset:offset + limit] if limit else rows[offset:]
        return Reply(200, rows if spec is None else [_project(row, spec) for row in rows])


# --------------------------------------------------------------------------------------
# Simulator
# --------------------------------------------------------------------------------------


class _Table:
    """Static description of one endpoint's columns."""

    def __init__(self, known, default):
        self.known = frozenset(known)
        self.default = tuple(default)


_SYSTEM_TABLE = _Table(SYSTEM_ROW, SYSTEM_ROW)
_ACTIONS_TABLE = _Table(ACTION_FIELDS, ACTION_FIELDS)


def _parse_int(params, name, default):
    raw = params.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(400, "Invalid %s: %r" % (name, raw)) from None
    if value < 0:
        raise ApiError(400, "Invalid %s: %r" % (name, raw))
    return value


class Simulator(_TenantEndpoints):
    """A VergeOS API v4 billing endpoint on https://127.0.0.1:PORT.

    ``records`` is a count (records are made by make_records with seed, interval,
    end and quirks), None (the default: as many as cover the previous calendar month
    and the current one up to ``end``) or a list of raw record dicts. ``generate_delay`` delays the
    visibility of records created by ``POST billing_actions``. ``default_limit``
    (None = unlimited) imitates a server-side default page size when ``limit`` is
    not sent. ``clock_offset`` sets the server's clock that many seconds ahead of
    this machine's (negative: behind): the default ``end`` of the seeded records, the
    ``created`` of generated records and the HTTP ``Date`` header follow it.
    """

    def __init__(self, records=None, seed=0, interval=3600, end=None, api_key="sim-api-key", username="admin",
                 password="sim-password", generate_delay=0.0, quirks=True, default_limit=None, port=0,
                 cert_dir=None, log_limit=100000, verbose=False, clock_offset=0.0):
        self.clock_offset = float(clock_offset or 0)
        self.seed = seed
        self.interval = int(interval)
        self.api_key = api_key
        self.username = username
        self.password = password
        self.generate_delay = float(generate_delay or 0)
        self.default_limit = default_limit
        self.verbose = verbose
        self.log_limit = int(log_limit)
        self._requested_port = int(port)
        self._cert_dir = cert_dir
        self._lock = threading.RLock()
        self._stopping = threading.Event()
        self._records = []
        self._pending = []
        self._version = 0
        self._cache_sig = None
        self._cache = None
        self._faults = []
        self._log = []
        self._log_n = 0
        self._tokens = set()
        self._actions = []
        self._server = None
        self._thread = None
        self._tmpdir = None
        self._ca_path = None
        self._port = None
        self.end = None
        if records is None or isinstance(records, int):
            self.generate_records(records, seed=seed, interval=interval, end=end, quirks=quirks)
        else:
            self.set_records(records)

    # ---- lifecycle -------------------------------------------------------------------

    def start(self):
        """Create the certificate, bind, and serve in a background thread."""
        if self._server is not None:
            return self
        if trustme is None:
            raise RuntimeError("the VergeOS simulator needs the 'trustme' package")
        authority = trustme.CA()
        server_cert = authority.issue_cert("127.0.0.1", "localhost")
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        server_cert.configure_cert(context)
        context.num_tickets = 0  # no TLS 1.3 session tickets: nothing unrequested sits unread at the client
        if self._cert_dir:
            os.makedirs(self._cert_dir, exist_ok=True)
            cert_dir = self._cert_dir
        else:
            self._tmpdir = tempfile.mkdtemp(prefix="vergeos-sim-")
            cert_dir = self._tmpdir
        self._ca_path = os.path.join(cert_dir, "ca.pem")
        authority.cert_pem.write_to_path(self._ca_path)
        self._stopping.clear()
        self._server = _Server(("127.0.0.1", self._requested_port), self, context)
        self._port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.1},
                                        name="vergeos-sim", daemon=True)
        self._thread.start()
        return self

    def stop(self):
        """Stop serving, close connections, remove the temporary certificate directory."""
        server = self._server
        if server is None:
            return
        self._stopping.set()
        server.shutdown()
        server.close_open_connections()
        server.server_close()
        self._thread.join(timeout=10)
        self._server = None
        self._thread = None
        if self._tmpdir:
            shutil.rmtree(self._tmpdir, ignore_errors=True)
            self._tmpdir = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()

    def sleep(self, seconds):
        """Sleep that ends early when the simulator stops."""
        self._stopping.wait(seconds)

    @property
    def port(self):
        """The bound TCP port (from start(); kept after stop())."""
        return self._port

    @property
    def host(self):
        """``127.0.0.1:PORT``."""
        return "127.0.0.1:%d" % self.port

    @property
    def url(self):
        """``https://127.0.0.1:PORT``."""
        return "https://%s" % self.host

    @property
    def ca_path(self):
        """PEM file of the CA that signed the server certificate."""
        return self._ca_path

    @property
    def records(self):
        """The live list of raw record dicts (call invalidate() after editing one in place)."""
        return self._records

    @property
    def actions(self):
        """Copy of the billing_actions rows created so far."""
        with self._lock:
            return [dict(a) for a in self._actions]

    @property
    def tokens(self):
        """Copy of the live session tokens."""
        with self._lock:
            return set(self._tokens)

    # ---- records -----------------------------------------------------------------------

    def set_records(self, records):
        """Replace every record with copies of ``records`` (a list of dicts)."""
        if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
            raise ValueError("records must be a list of objects")
        with self._lock:
            self.end = None
            self._records = [dict(r) for r in records]
            self._pending = []
            self._version += 1

    def now(self):
        """The server's clock: this machine's plus ``clock_offset`` seconds."""
        return time.time() + self.clock_offset

    def generate_records(self, records=None, seed=0, interval=3600, end=None, quirks=True):
        """Replace every record with make_records(records, seed, interval, end, quirks).

        Without ``end`` the newest record ends at the server's clock (``now()``), floored to ``interval``. Without
        ``records`` they reach back to default_start(end): the whole previous calendar month.
        """
        if end is None:
            end = default_end(interval, self.now())
        made = make_records(records, seed=seed, interval=interval, end=end, quirks=quirks)
        with self._lock:
            self.end = int(end)
            self._records = made
            self._pending = []
            self._version += 1

    def invalidate(self):
        """Forget cached indexes after editing ``records`` in place."""
        with self._lock:
            self._version += 1

    def _promote_pending(self):
        if self._pending:
            now = self.now()
            ready = [rec for at, rec in self._pending if at <= now]
            if ready:
                self._pending = [(at, rec) for at, rec in self._pending if at > now]
                self._records.extend(ready)
                self._version += 1

    def _snapshot(self):
        """(rows ordered by $key, {key: row}, known field names), cached."""
        with self._lock:
            self._promote_pending()
            recs = self._records
            sig = (self._version, len(recs), id(recs), id(recs[0]) if recs else 0, id(recs[-1]) if recs else 0)
            if sig != self._cache_sig:
                rows = list(recs)
                keys = [_key_of(r) for r in rows]
                if any(k is None for k in keys) or any(a > b for a, b in zip(keys, keys[1:])):
                    order = sorted(range(len(rows)), key=lambda i: (keys[i] is None, keys[i] or 0))
                    rows = [rows[i] for i in order]
                index = {k: r for k, r in zip(keys, recs) if k is not None}
                known = set(BILLING_FIELDS)
                for row in rows:
                    known.update(row)
                self._cache = (rows, index, frozenset(known))
                self._cache_sig = sig
            return self._cache

    def state(self):
        """Counts for tests: visible records, newest key, pending generations, actions, tokens."""
        rows, index, _known = self._snapshot()
        with self._lock:
            return {
                "records": len(rows),
                "newest_key": max(index) if index else None,
                "pending": len(self._pending),
                "actions": len(self._actions),
                "tokens": len(self._tokens),
                "faults": len(self._faults),
            }

    def generate(self):
        """Perform the ``generate`` action: returns the new billing_actions row."""
        with self._lock:
            rows, index, _known = self._snapshot()
            newest = rows[-1] if rows else None
            if self._pending:
                newest = self._pending[-1][1]
            keys = list(index) + [_key_of(r) or 0 for _at, r in self._pending]
            new_key = max(keys) + 1 if keys else 1
            now = self.now()
            visible_at = now + self.generate_delay
            to = int(visible_at)
            prev_to = as_number(newest.get("to")) if newest else None
            frm = int(min(prev_to, to)) if prev_to is not None else to - self.interval
            rec = {}
            for name in BILLING_FIELDS:
                value = as_number(newest.get(name)) if newest else None
                rec[name] = int(value) if value is not None else 0
            rec.update({
                "$key": new_key,
                "created": to,
                "from": frm,
                "to": to,
                "sent": 0,
                "description": "Billing period %s - %s (generated)" % (_fmt_time(frm), _fmt_time(to)),
            })
            if self.generate_delay > 0:
                self._pending.append((visible_at, rec))
            else:
                self._records.append(rec)
                self._version += 1
            action = {"$key": len(self._actions) + 1, "action": "generate", "created": int(now), "billing": new_key,
                      "status": "complete"}
            self._actions.append(action)
            return dict(action)

    # ---- faults and request log -----------------------------------------------------------

    def add_fault(self, **rule):
        """Add one fault rule (see README.md); returns the normalized rule."""
        return self.add_faults([rule])[0]

    def add_faults(self, rules):
        """Add several fault rules, checked in order; the first that fires wins."""
        normalized = [normalize_rule(rule) for rule in rules]
        with self._lock:
            self._faults.extend(normalized)
            return [dict(r) for r in normalized]

    def faults(self):
        """Copies of the fault rules with their ``seen``/``hits`` counters."""
        with self._lock:
            return [dict(r) for r in self._faults]

    def clear_faults(self):
        """Remove every fault rule; returns how many there were."""
        with self._lock:
            count = len(self._faults)
            self._faults = []
            return count

    def match_fault(self, method, path, query):
        """Return the fault rule that fires for this request, or None."""
        with self._lock:
            for rule in self._faults:
                if rule["method"] not in ("*", method):
                    continue
                if not path_matches(rule["path"], path):
                    continue
                wanted = rule["match_query"]
                if wanted is not None and wanted not in query and wanted not in unquote_plus(query):
                    continue
                rule["seen"] += 1
                if rule["seen"] <= rule["skip"]:
                    continue
                if 0 < rule["times"] <= rule["hits"]:
                    continue
                rule["hits"] += 1
                return dict(rule)
        return None

    def log_request(self, method, path, query, headers, body):
        """Append a request to the log; returns the entry."""
        with self._lock:
            self._log_n += 1
            entry = {
                "n": self._log_n,
                "time": time.time(),
                "method": method,
                "path": path,
                "query": query,
                "headers": headers,
                "body": body.decode("utf-8", "replace"),
                "status": None,
                "fault": None,
                "bytes": None,
            }
            self._log.append(entry)
            if len(self._log) > self.log_limit:
                del self._log[:len(self._log) - self.log_limit]
            return entry

    def log_status(self, entry, status, fault=None):
        """Record the status sent for a logged request."""
        with self._lock:
            entry["status"] = status
            if fault is not None:
                entry["fault"] = fault

    def log_bytes(self, entry, nbytes):
        """Record the length of the response body sent for a logged request."""
        with self._lock:
            entry["bytes"] = nbytes

    def requests_log(self):
        """Copies of the logged requests (admin /_sim requests are not logged)."""
        with self._lock:
            return [dict(e, headers=dict(e["headers"])) for e in self._log]

    def reset_log(self):
        """Empty the request log."""
        with self._lock:
            self._log = []

    def count(self, method=None, path_prefix=None):
        """Count logged requests by method and path (same path matching as fault rules)."""
        with self._lock:
            return sum(1 for e in self._log
                       if (method is None or e["method"] == method.upper())
                       and (path_prefix is None or path_matches(path_prefix, e["path"])))

    # ---- API ---------------------------------------------------------------------------------

    def _authenticated(self, headers):
        lowered = {k.lower(): v for k, v in headers.items()}
        token = lowered.get("x-yottabyte-token")
        if token is not None:
            with self._lock:
                if token.strip() in self._tokens:
                    return
        auth = lowered.get("authorization")
        if auth:
            scheme, _sep, cred = auth.strip().partition(" ")
            cred = cred.strip()
            if scheme.lower() == "basic":
                try:
                    user, _sep, password = base64.b64decode(cred, validate=True).decode("utf-8").partition(":")
                except (binascii.Error, UnicodeDecodeError):
                    user, password = None, None
                if user is not None and secrets.compare_digest(user, self.username) \
                        and secrets.compare_digest(password, self.password):
                    return
            elif scheme.lower() == "bearer" and self.api_key and secrets.compare_digest(cred, self.api_key):
                return
        if token is None and not auth:
            raise ApiError(401, "Authentication required")
        raise ApiError(401, "Invalid credentials")

    def handle_api(self, method, path, query, headers, body):
        """Answer one /api/ (or other non-admin) request."""
        try:
            return self._route(method, path.rstrip("/") or "/", query, headers, body)
        except ApiError as exc:
            return _error_reply(exc.status, exc.message, exc.headers)

    def _route(self, method, path, query, headers, body):
        if not path.startswith("/api/"):
            raise ApiError(404, "Not found: %s" % path)
        parts = path[len("/api/"):].split("/")
        params = dict(parse_qsl(query, keep_blank_values=True))
        if parts == ["sys", "tokens"]:
            self._allow(method, ("POST",))
            return self._login(body)
        self._authenticated(headers)
        if len(parts) == 3 and parts[:2] == ["sys", "tokens"]:
            self._allow(method, ("DELETE",))
            with self._lock:
                if parts[2] not in self._tokens:
                    raise ApiError(404, "Row not found")
                self._tokens.discard(parts[2])
            return Reply(204)
        if len(parts) < 2 or parts[0] != "v4" or len(parts) > 3:
            raise ApiError(404, "Not found: %s" % path)
        table = parts[1]
        key = parts[2] if len(parts) == 3 else None
        if table == "billing":
            self._allow(method, ("GET",))
            rows, index, known = self._snapshot()
            table_def = _Table(known, SUMMARY_FIELDS)
            if key is None:
                return self._list(rows, params, table_def, self.default_limit)
            return self._one(index.get(int(key)) if key.isdigit() else None, params, table_def)
        if table == "billing_actions":
            if key is None:
                self._allow(method, ("GET", "POST"))
                if method == "POST":
                    return self._action(body)
                return self._list(self.actions, params, _ACTIONS_TABLE, None)
            self._allow(method, ("GET",))
            found = [a for a in self.actions if str(a["$key"]) == key]
            return self._one(found[0] if found else None, params, _ACTIONS_TABLE)
        if table == "system":
            self._allow(method, ("GET",))
            if key is None:
                return self._list([dict(SYSTEM_ROW)], params, _SYSTEM_TABLE, None)
            return self._one(dict(SYSTEM_ROW) if key == "1" else None, params, _SYSTEM_TABLE)
        if table == "tenants" or table in TENANT_HISTORY_TABLES:
            return self._tenant_api(method, table, key, params)
        raise ApiError(404, "Not found: %s" % path)

    @staticmethod
    def _allow(method, allowed):
        if method not in allowed:
            raise ApiError(405, "Method %s not allowed" % method, {"Allow": ", ".join(allowed)})

    @staticmethod
    def _json_body(body):
        try:
            return json.loads(body.decode("utf-8") or "null")
        except (ValueError, UnicodeDecodeError):
            raise ApiError(400, "Invalid JSON body") from None

    def _login(self, body):
        data = self._json_body(body)
        if not isinstance(data, dict):
            raise ApiError(400, "Expected a JSON object with login and password")
        login, password = data.get("login"), data.get("password")
        if not isinstance(login, str) or not isinstance(password, str) \
                or not secrets.compare_digest(login, self.username) or not secrets.compare_digest(password, self.password):
            raise ApiError(401, "Invalid login or password")
        token = secrets.token_hex(20)
        with self._lock:
            self._tokens.add(token)
        return Reply(201, {"$key": token})

    def _action(self, body):
        data = self._json_body(body)
        if not isinstance(data, dict) or "action" not in data:
            raise ApiError(422, "Missing required field: action")
        if data["action"] != "generate":
            raise ApiError(422, "Invalid action: %r" % (data["action"],))
        action = self.generate()
        number = action["$key"]
        return Reply(201, {"location": "/v4/billing_actions/%d" % number, "dbpath": "billing_actions/%d" % number,
                           "$row": number, "$key": number})

    @staticmethod
    def _fields(params, table):
        """None = every field, else the list of requested fields in order."""
        raw = params.get("fields")
        if raw is None:
            return list(table.default)
        names = []
        for name in raw.split(","):
            name = name.strip()
            if not name:
                continue
            if name in ("all", "most"):
                return None
            if name not in table.known:
                raise ApiError(400, "Invalid field: %r" % name)
            if name not in names:
                names.append(name)
        return names

    def _list(self, rows, params, table, default_limit):
        fields = self._fields(params, table)
        allowed = table.known if fields is None else set(fields)
        if params.get("filter", "").strip():
            try:
                pred = compile_filter(params["filter"], allowed, table.known)
            except FilterError as exc:
                raise ApiError(400, "Invalid filter: %s" % exc) from None
            rows = [r for r in rows if pred(r)]
        sort = params.get("sort", "").strip()
        if sort:
            rows = list(rows)
            for spec in reversed([s.strip() for s in sort.split(",") if s.strip()]):
                descending = spec.startswith("-")
                name = spec.lstrip("+-").strip()
                if name not in table.known:
                    raise ApiError(400, "Invalid sort field: %r" % name)
                rows.sort(key=_sort_key(name), reverse=descending)
        offset = _parse_int(params, "offset", 0)
        limit = _parse_int(params, "limit", default_limit)
        if fields == []:
            return Reply(200, [{"$count": len(rows)}])
        rows = rows[offset:offset + limit] if limit else rows[offset:]
        if fields is not None:
            rows = [{f: r[f] for f in fields if f in r} for r in rows]
        return Reply(200, rows)

    def _one(self, row, params, table):
        if row is None:
            raise ApiError(404, "Row not found")
        fields = self._fields(params, table)
        if fields is None:
            return Reply(200, row)
        return Reply(200, {f: row[f] for f in fields if f in row})

    # ---- admin API -----------------------------------------------------------------------

    def handle_admin(self, method, path, query, body):  # pylint: disable=unused-argument
        """Answer a /_sim/ request (no auth, not logged)."""
        try:
            return self._admin(method, path.rstrip("/"), body)
        except ApiError as exc:
            return _error_reply(exc.status, exc.message, exc.headers)
        except (ValueError, TypeError) as exc:
            return _error_reply(400, str(exc))

    def _admin(self, method, path, body):
        if path == "/_sim/faults":
            self._allow(method, ("GET", "POST", "DELETE"))
            if method == "GET":
                return Reply(200, self.faults())
            if method == "DELETE":
                return Reply(200, {"cleared": self.clear_faults()})
            data = self._json_body(body)
            added = self.add_faults(data if isinstance(data, list) else [data])
            return Reply(201, {"added": added, "faults": len(self.faults())})
        if path == "/_sim/requests":
            self._allow(method, ("GET", "DELETE"))
            if method == "DELETE":
                self.reset_log()
                return Reply(200, {"cleared": True})
            return Reply(200, self.requests_log())
        if path == "/_sim/state":
            self._allow(method, ("GET",))
            return Reply(200, self.state())
        if path == "/_sim/records":
            self._allow(method, ("GET", "POST"))
            if method == "GET":
                return Reply(200, self._snapshot()[0])
            data = self._json_body(body)
            if isinstance(data, dict) and isinstance(data.get("generate"), dict):
                spec = data["generate"]
                count = spec.get("records")
                self.generate_records(None if count is None else int(count), seed=spec.get("seed", 0),
                                      interval=int(spec.get("interval", 3600)), end=spec.get("end"),
                                      quirks=bool(spec.get("quirks", True)))
            elif isinstance(data, list):
                self.set_records(data)
            else:
                raise ApiError(400, "Expected a list of records or {\"generate\": {...}}")
            return Reply(200, self.state())
        raise ApiError(404, "Not found: %s" % path)


# --------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------


def _write_ready_file(path, data):
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".ready-", dir=directory)
    with os.fdopen(fd, "w") as handle:
        json.dump(data, handle)
    os.replace(tmp, path)


def environment_text(sim, api_key):
    """What `make simulator` prints: the variables that point the modules at ``sim``, and what it serves."""
    records = sim.records
    tenants = sim.tenant_data
    times = [_record_time(rec, "from") for rec in records] + [_record_time(rec, "to") for rec in records]
    times = [stamp for stamp in times if stamp]
    stamps = [_record_time(row, "timestamp") for row in tenants["long"]]
    stamps = [stamp for stamp in stamps if stamp]
    served = "%d billing records from %s to %s" % (len(records), _fmt_time(min(times)), _fmt_time(max(times))) if times \
        else "no billing records"
    if stamps:
        served += "; %d tenants, hourly statistics from %s to %s" % (
            sum(1 for row in tenants["tenants"] if not row.get("is_snapshot")), _fmt_time(min(stamps)), _fmt_time(max(stamps)))
    return "\n".join([
        "# The VergeOS API simulator serves %s." % served,
        "# In another shell, export these and run a playbook, for example:",
        "#   ansible-playbook vergeio.billing.monthly_chargeback -e month=previous -e output_dir=/tmp/reports",
        "# Ctrl-C stops the simulator.",
        "export VERGEOS_HOST=%s" % sim.host,
        "export VERGEOS_API_KEY=%s" % api_key,
        "export VERGEOS_CA_PATH=%s" % sim.ca_path,
        "unset VERGEOS_USERNAME VERGEOS_PASSWORD VERGEOS_INSECURE VERGEOS_VERIFY_SSL",
    ])


def _record_time(row, name):
    """An epoch field of a raw row as an int, None when the simulator's quirks made it unreadable."""
    try:
        return int(float(row.get(name)))
    except (TypeError, ValueError):
        return None


def main(argv=None):
    """Run the simulator until SIGTERM/SIGINT."""
    parser = argparse.ArgumentParser(description="VergeOS API v4 billing simulator (HTTPS on 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="TCP port, 0 picks a free one (default 0)")
    parser.add_argument("--records", type=int, default=None,
                        help="number of billing records (default: from a day before the previous calendar month, UTC, "
                             "up to --end)")
    parser.add_argument("--seed", default="0", help="seed for the records (default 0)")
    parser.add_argument("--interval", type=int, default=3600, help="seconds per billing period (default 3600)")
    parser.add_argument("--end", type=int, default=None, help="epoch of the newest 'to' (default: now floored to interval)")
    parser.add_argument("--api-key", default="sim-api-key")
    parser.add_argument("--username", default="admin")
    parser.add_argument("--password", default="sim-password")
    parser.add_argument("--cert-dir", default=None, help="write ca.pem here (default: a temporary directory)")
    parser.add_argument("--ready-file", default=None, help="write {port, ca_path, url, pid} JSON here once listening")
    parser.add_argument("--generate-delay", type=float, default=0.0, help="seconds before a generated record appears")
    parser.add_argument("--default-limit", type=int, default=None, help="rows returned when no limit is sent (default all)")
    parser.add_argument("--no-quirks", action="store_true", help="no string numbers, nulls or zero-length periods")
    parser.add_argument("--verbose", action="store_true", help="log every request to stderr")
    parser.add_argument("--clock-offset", type=float, default=0.0,
                        help="seconds the server's clock runs ahead of this machine's (negative: behind; default 0)")
    parser.add_argument("--tenants", type=int, default=None,
                        help="tenants to serve with their statistics history (default 6, made when first asked for)")
    parser.add_argument("--tenant-days", type=int, default=None,
                        help="days of hourly tenant history (default: the same span as the default records)")
    parser.add_argument("--print-env", action="store_true",
                        help="print the environment to export for the modules (VERGEOS_HOST, VERGEOS_API_KEY, "
                             "VERGEOS_CA_PATH) and what is served")
    args = parser.parse_args(argv)
    seed = int(args.seed) if re.match(r"^-?\d+$", args.seed) else args.seed

    sim = Simulator(records=args.records, seed=seed, interval=args.interval, end=args.end, api_key=args.api_key,
                    username=args.username, password=args.password, generate_delay=args.generate_delay,
                    quirks=not args.no_quirks, default_limit=args.default_limit, port=args.port,
                    cert_dir=args.cert_dir, verbose=args.verbose, clock_offset=args.clock_offset)
    if args.tenants is not None or args.tenant_days is not None:
        sim.set_tenant_data(tenants=6 if args.tenants is None else args.tenants, seed=seed,
                            end=default_end(3600, sim.end if args.end is None else args.end), days=args.tenant_days)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    sim.start()
    try:
        print("vergeos_sim listening url=%s ca_path=%s records=%d pid=%d"
              % (sim.url, sim.ca_path, len(sim.records), os.getpid()), flush=True)
        if args.print_env:
            print(environment_text(sim, args.api_key), flush=True)
        if args.ready_file:
            _write_ready_file(args.ready_file, {"port": sim.port, "ca_path": sim.ca_path, "url": sim.url,
                                                "pid": os.getpid()})
        while not stop.wait(0.5):
            pass
    finally:
        sim.stop()
        if args.ready_file:
            try:
                os.unlink(args.ready_file)
            except OSError:
                pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
