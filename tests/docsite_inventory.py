# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vergeio.billing contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Write the Sphinx inventory ``make docs`` falls back to when the Ansible docs' own cannot be fetched (offline).

The pages antsibull-docs writes refer to a few labels of the Ansible documentation (``:ref:`common_return_values```
in every module's page, ``ansible_configuration_settings`` in the environment variable index). The docs site's
conf.py reads ``../ansible_devel.inv`` when https://docs.ansible.com/.../objects.inv is out of reach; this writes that
file with those labels and their real addresses, so the links work and Sphinx has nothing to warn about but the
unreachable inventories. A label missing here shows up as an 'undefined label' warning, which fails ``make docs``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import sys
import zlib

# label: (page under https://docs.ansible.com/projects/ansible/devel/, anchor, title)
LABELS = {
    'common_return_values': ('reference_appendices/common_return_values.html', 'common-return-values', 'Return Values'),
    'ansible_configuration_settings': ('reference_appendices/config.html', 'ansible-configuration-settings',
                                       'Ansible Configuration Settings'),
}


def main(path):
    lines = ['%s std:label -1 %s#%s %s' % (label, page, anchor, title) for label, (page, anchor, title) in sorted(LABELS.items())]
    header = b'# Sphinx inventory version 2\n# Project: Ansible\n# Version: devel\n# The remainder of this file is compressed using zlib.\n'
    with open(path, 'wb') as handle:
        handle.write(header + zlib.compress(('\n'.join(lines) + '\n').encode('utf-8')))


if __name__ == '__main__':
    main(sys.argv[1])
