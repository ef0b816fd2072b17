# -*- coding: utf-8 -*-
# Copyright: lvsfleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What check_mode and diff_mode mean for every lvsfleet module; each module says how far it supports them."""

from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
attributes:
  check_mode:
    description: Can run in check mode and return the changed status it predicts without changing the target.
  diff_mode:
    description: Returns details on what has changed (or would change, in check mode) with C(--diff).
"""
