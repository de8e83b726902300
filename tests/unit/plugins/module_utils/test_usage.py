# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vergeio.billing contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""_usage.Usage.tenants: each sample is metered for its whole weight (the newest one's may be a median ending in .5 s)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.vergeio.billing.plugins.module_utils._rating import Meter
from ansible_collections.vergeio.billing.plugins.module_utils._usage import Usage


class _History:
    """The one answer Usage.tenants asks for (the history rows of one tenant), in one page."""

    def __init__(self, rows):
        self.rows = rows

    def get_all(self, endpoint, params, page_size, on_page=None, limit=None):
        on_page(list(self.rows))
        return len(self.rows)


def test_the_newest_sample_bills_a_median_gap_that_ends_in_half_a_second():
    start = 1790000000
    stamps = [start, start + 10, start + 21]  # gaps 10 and 11 s: the median is 10.5 s, the newest sample's weight
    rows = [{'$key': number + 1, 'tenant': 5, 'timestamp': stamp, 'core_count': 4, 'ram_allocated': 0, 'gpus_total': 0, 'vgpus_total': 0}
            for number, stamp in enumerate(stamps)]
    for row in rows:
        row.update(('tier%d_allocated' % tier, 0) for tier in range(6))
    meter = Meter([start, start + 3600])
    billed = []
    Usage(_History(rows)).tenants(meter, 'tenant_stats_history_long', [(5, 'acme')], 'allocated',
                                  on_sample=lambda owner, raw, seconds: billed.append(seconds))
    assert billed == [10, 11, 10.5]
    assert [type(seconds) for seconds in billed[:2]] == [int, int]  # whole seconds stay integers in the files
    (cores,) = [line for line in meter.lines() if line.metric == 'cores']
    assert cores.quantity == 4 * 31.5 / 3600  # 31.5 s of 4 cores, not 31 s
