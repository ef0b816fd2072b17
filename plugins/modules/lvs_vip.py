#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: lvsfleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""VIP addresses on an interface, over rtnetlink (no `ip` command, no shell)."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: lvs_vip
short_description: Add or remove VIP addresses on an interface over rtnetlink
description:
  - Used on DR/TUN real servers (VIP on C(lo) or a dummy device, host scope on C(lo)) and on directors
    that hold VIPs without VRRP. Addresses without a prefix get /32 (IPv4) or /128 (IPv6).
  - Runtime state only; persistence across reboot is the caller's (the real_server role writes a unit).
options:
  interface:
    description: Interface name.
    type: str
    required: true
  addresses:
    description: Addresses, with or without a prefix length.
    type: list
    elements: str
    required: true
  state:
    description: Whether the addresses are on the interface.
    type: str
    choices: [present, absent]
    default: present
  create:
    description: Create O(interface) as a dummy device when it does not exist (O(state=present) only).
    type: bool
    default: false
extends_documentation_fragment:
  - lvsfleet.lvs.attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
author: lvsfleet maintainers (@lvsfleet)
"""

EXAMPLES = r"""
- name: VIP on a dummy device of a DR real server
  lvsfleet.lvs.lvs_vip:
    interface: lvs0
    addresses: [198.51.100.20]
    create: true
"""

RETURN = r"""
added:
  description: Addresses added
  type: list
  returned: always
removed:
  description: Addresses removed
  type: list
  returned: always
created:
  description: Whether the interface (a dummy device) was created by this call.
  type: bool
  returned: always
"""

import ipaddress

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.lvsfleet.lvs.plugins.module_utils.lvsfleet.ipvs_netlink import NetlinkError
from ansible_collections.lvsfleet.lvs.plugins.module_utils.lvsfleet.rtnl import RT_SCOPE_HOST, RT_SCOPE_UNIVERSE, Rtnl


def main() -> None:
    module = AnsibleModule(
        argument_spec=dict(
            interface=dict(type="str", required=True),
            addresses=dict(type="list", elements="str", required=True),
            state=dict(type="str", choices=["present", "absent"], default="present"),
            create=dict(type="bool", default=False),
        ),
        supports_check_mode=True,
    )
    p = module.params
    wanted = []
    for i, text in enumerate(p["addresses"]):
        try:
            iface = ipaddress.ip_interface(text)
        except ValueError:
            module.fail_json(msg=f"addresses[{i}]: {text!r} is not an IP address or address/prefix")
        if "/" not in text:
            iface = ipaddress.ip_interface(f"{iface.ip}/{iface.max_prefixlen}")
        wanted.append(iface)
    rtnl = Rtnl()
    added, removed, created, have = [], [], False, set()
    try:
        links = rtnl.link_names()
        index = links.get(p["interface"])
        if index is None:
            if p["state"] == "absent":
                module.exit_json(changed=False, added=[], removed=[], created=False)
            if not p["create"]:
                module.fail_json(msg=f"interface: {p['interface']!r} does not exist (set create=true for a dummy device)")
            if not module.check_mode:
                rtnl.create_dummy(p["interface"])
                index = rtnl.link_names().get(p["interface"])
                if index is None:
                    module.fail_json(changed=True, created=True,
                                     msg=f"interface: {p['interface']!r} was created but has vanished")
            created = True
        have = set(rtnl.addresses(index)) if index is not None else set()
        scope = RT_SCOPE_HOST if p["interface"] == "lo" else RT_SCOPE_UNIVERSE
        for iface in wanted:
            present = (str(iface.ip), iface.network.prefixlen) in have
            if p["state"] == "present" and not present:
                if not module.check_mode:
                    rtnl.change_address(True, index, iface, scope)
                added.append(str(iface))
            elif p["state"] == "absent" and present:
                if not module.check_mode:
                    rtnl.change_address(False, index, iface, scope)
                removed.append(str(iface))
    except NetlinkError as exc:
        # What was done before the failure stays done and is reported as a change.
        module.fail_json(msg=f"rtnetlink on {p['interface']}: {exc}", changed=bool(added or removed or created),
                         added=added, removed=removed, created=created)
    finally:
        rtnl.close()
    changed = bool(added or removed or created)
    before = sorted(f"{a}/{n}" for a, n in have)
    after = sorted((set(before) | set(added)) - set(removed))
    module.exit_json(changed=changed, added=added, removed=removed, created=created,
                     diff={"before": "\n".join(before) + "\n", "after": "\n".join(after) + "\n"} if changed else {})


if __name__ == "__main__":
    main()
