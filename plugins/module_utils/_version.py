# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vergeio.billing contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The collection's name and version, in the one place module code reads them from.

galaxy.yml is not shipped inside a module's payload, so module code cannot read it at run time; a unit test
(tests/unit/plugins/module_utils/test_client_units.py) fails when this differs from galaxy.yml's version.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

COLLECTION_NAME = 'vergeio.billing'
COLLECTION_VERSION = '0.2.0'
