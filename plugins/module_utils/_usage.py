# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vergeio.billing contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The sources of usage, read once per billing period and metered by the rating engine (``_rating.Meter``).

- **System**: the billing records whose usage interval overlaps the period, ``to gt START and from lt END`` (not
  ``created``: a record created at 00:00:14 on the 1st measured the last hour of the previous month, and a bill
  created on the 1st for a whole month measured that month). Each record's usage is prorated to the part of its
  ``from``..``to`` interval inside the period and inside each charge period (``_rating.meter_records``).
- **Tenants**: the statistics history samples of the tenants. A sample stands for the time from its timestamp
  until the next sample, capped at twice the median gap; the newest stands for the median gap
  (``_stats.sample_weights``). Samples from ``LOOKBACK`` seconds before the period are read too, so that the sample
  taken just before the period starts bills the part of its interval that lies inside it. A tenant whose samples
  are in the history but which is no longer in the tenant list (deleted during the period) is billed as
  ``tenant <$key> (deleted)``, with a warning; a renamed tenant is one owner per ``$key``, under its current name.
  Tenant snapshots are never billed.

Negative counters count as 0, null or missing ones as 0; ``_rating.Anomalies`` says how many rows, which fields and
the first keys. Values that are no number at all are counted as 0 and listed in ``problems`` (``_records``).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from collections import OrderedDict

from ansible.module_utils.common.text.converters import to_text

from ansible_collections.vergeio.billing.plugins.module_utils._billing import ENDPOINT as BILLING
from ansible_collections.vergeio.billing.plugins.module_utils._rating import RECORD_FIELDS, Anomalies, meter_records, tenant_owner
from ansible_collections.vergeio.billing.plugins.module_utils._records import ConversionProblems, to_int
from ansible_collections.vergeio.billing.plugins.module_utils._stats import sample_weights
from ansible_collections.vergeio.billing.plugins.module_utils._tenants import TENANTS, basis_fields, sample_levels

# Samples read before the period: enough for the hourly long history (and the 5-minute short one) to reach in.
LOOKBACK = 6 * 3600


def usage_filter(start, end):
    """The records whose usage interval [from, to) overlaps the period [start, end)."""
    return 'to gt %d and from lt %d' % (start, end)


class Usage:
    """Reads the sources of one system for one billing period into a Meter; collects what was counted as 0."""

    def __init__(self, client, page_size=10000):
        self.client = client
        self.page_size = page_size
        self.problems = ConversionProblems()
        self.anomalies = Anomalies()
        self.warnings = []
        self.sent_filter = None  # the filter of the last system() read

    def number(self, value, field):
        return to_int(value, field, self.problems)

    # ---- the system ----------------------------------------------------------------------------------------------

    def system(self, meter, owner, fields=RECORD_FIELDS, on_page=None, sort='created', created_until=None, user_filter=None):
        """Meter every billing record whose usage overlaps the meter's period; ``on_page(rows)`` sees each page too
        (a report streams its rows). ``created_until``: leave out records created after it (a pinned read).
        ``user_filter``: a checked filter of the user's, wrapped in parentheses and ANDed (its fields in ``fields``).
        Returns the number of records read."""
        fields = list(fields)
        for field in RECORD_FIELDS:
            if field not in fields:
                fields.append(field)
        text = usage_filter(meter.start, meter.end)
        if user_filter:
            text = '(%s) and %s' % (user_filter.strip(), text)
        if created_until is not None:
            if 'created' not in fields:
                fields.append('created')
            text += ' and created le %d' % created_until
        self.sent_filter = text
        count = [0]

        def page(rows):
            meter_records(meter, owner, rows, self.anomalies, self.number)
            count[0] += len(rows)
            if on_page is not None:
                on_page(rows)

        self.client.get_all(BILLING, dict(fields=','.join(fields), filter=text, sort=sort), self.page_size, on_page=page)
        return count[0]

    # ---- tenants -------------------------------------------------------------------------------------------------

    def tenant_list(self):
        """Every tenant the system knows: {$key: (name, is_snapshot)} (snapshots included, to tell them from deleted)."""
        rows = self.client.get_all(TENANTS, dict(fields='$key,name,is_snapshot', sort='$key'), self.page_size)
        known = OrderedDict()
        for row in rows:
            key = self.number(row.get('$key'), '$key')
            known[key] = (to_text(row.get('name') or ''), row.get('is_snapshot') in (True, 'true', 1, '1'))
        return known

    def tenants(self, meter, history, chosen, basis, every=False, on_sample=None, extra_fields=()):
        """Meter the samples of the ``chosen`` tenants ([(key, name)]) from ``history`` (the endpoint name) over the
        meter's period, on ``basis``. ``every``: all tenants were asked for, so samples of tenants that are no longer
        listed (deleted) are billed too. ``on_sample(owner, raw, seconds)`` sees each sample that bills part of the period
        or was taken in it, oldest first, with the seconds it bills inside the period (the one before the start bills its
        part).

        Returns the owners metered, in the order of ``chosen`` then the deleted ones by $key.
        """
        known = self.tenant_list() if every else {}
        owners = OrderedDict((key, tenant_owner(key, name)) for key, name in chosen)
        snapshots = set(key for key, (_name, snapshot) in known.items() if snapshot)
        samples = {}
        fields = basis_fields(basis)
        fields.extend(field for field in extra_fields if field not in fields)
        params = dict(fields=','.join(fields), sort='$key',
                      filter='timestamp ge %d and timestamp lt %d' % (max(meter.start - LOOKBACK, 0), meter.end))
        if len(owners) == 1 and not every:
            params['filter'] = 'tenant eq %d and %s' % (list(owners)[0], params['filter'])

        def page(rows):
            for raw in rows:
                tenant = self.number(raw.get('tenant'), 'tenant')
                if tenant not in owners:
                    if not every or tenant in snapshots:
                        continue
                    owners[tenant] = tenant_owner(tenant, '', deleted=True)
                samples.setdefault(tenant, []).append((self.number(raw.get('timestamp'), 'timestamp'), self.number(raw.get('$key'), '$key'), raw))

        self.client.get_all(history, params, self.page_size, on_page=page)
        deleted = [owner for owner in owners.values() if owner.state == 'deleted']
        if deleted:
            self.warnings.append('%d tenant(s) had samples in the period but are no longer in the tenant list (deleted); they are billed '
                                 'for their samples as: %s' % (len(deleted), ', '.join(owner.name for owner in deleted[:10])
                                                               + (' and %d more' % (len(deleted) - 10) if len(deleted) > 10 else '')))
        for key, owner in owners.items():
            # popped: each tenant's raw rows are freed once metered, while the report keeps only its figures
            found = sorted(samples.pop(key, ()), key=lambda sample: (sample[0], sample[1]))
            weights = sample_weights([sample[0] for sample in found])[0]
            for (stamp, sample_key, raw), weight in zip(found, weights):
                levels = sample_levels(raw, basis, self.anomalies, sample_key, self.problems)
                # The whole weight, as verge_tenant_usage_info bills it: a median gap of an even number of gaps can end
                # in .5 s, which is billed too (whole seconds stay integers, so billed_seconds reads 3600, not 3600.0).
                inside = meter.add(owner, stamp, stamp + (int(weight) if weight.is_integer() else weight), levels)
                if on_sample is not None and (inside or meter.start <= stamp < meter.end):
                    on_sample(owner, raw, inside)
        return list(owners.values())

    def messages(self):
        """The warnings of the read: deleted tenants, values counted as 0, values that were no numbers."""
        out = list(self.warnings) + self.anomalies.messages()
        if self.problems:
            out.append('Some values from the API were not numbers and were counted as 0: %s' % ', '.join(self.problems[:50]))
        return out
