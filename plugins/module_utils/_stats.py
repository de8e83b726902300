# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vergeio.billing contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Statistics over lists of numbers, with the definitions of the billing summary (_summary.py): pure functions.

- ``mean``: plain mean, math.fsum of the values / n; 0.0 for no values.
- ``twa``: time-weighted mean, fsum(value x weight) / fsum(weight); the plain mean when the weights sum to 0.
- ``peak``: the largest value; 0 for no values.
- ``p95``: nearest-rank 95th percentile: the values sorted ascending, the value at 1-based rank ceil(0.95 x n),
  computed in integers as (95 x n + 99) // 100; 0 for no values.
- ``median``: the middle value, or the mean of the two middle values of an even count; None for no values.
- ``sample_weights``: the seconds each point-in-time sample stands for (see its docstring).
Nothing is rounded.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import math


def mean(values):
    return math.fsum(values) / len(values) if values else 0.0


def twa(values, weights):
    if not values:
        return 0.0
    total = math.fsum(weights)
    if total <= 0:
        return mean(values)
    return math.fsum(value * weight for value, weight in zip(values, weights)) / total


def peak(values):
    return max(values) if values else 0


def p95(values):
    if not values:
        return 0
    return sorted(values)[(95 * len(values) + 99) // 100 - 1]


def median(values):
    if not values:
        return None
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2


def sample_weights(stamps, max_gap=None):
    """(weights, median gap, cap) for point-in-time samples at ``stamps`` (epoch seconds, ascending).

    Each sample stands for the time until the next one, capped at ``cap``: ``max_gap`` when given, else twice the
    median gap between consecutive samples (so a tenant stopped for a day is not billed for that day). The newest
    sample stands for the median gap (capped the same way): the time it most likely covers until the next sample
    is taken. One sample has no gap to measure: weight 0, median gap and cap None (unless ``max_gap`` is given).
    """
    count = len(stamps)
    if count == 0:
        return [], None, max_gap
    gaps = [later - earlier for earlier, later in zip(stamps, stamps[1:])]
    middle = median(gaps)
    cap = max_gap if max_gap is not None else (None if middle is None else 2 * middle)
    if middle is None:
        return [0.0], None, cap
    weights = [float(min(gap, cap)) for gap in gaps]
    weights.append(float(min(middle, cap)))
    return weights, middle, cap
