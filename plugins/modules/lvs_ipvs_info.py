#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: lvsfleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The kernel's IPVS table, with stats and connection counts, as facts."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: lvs_ipvs_info
short_description: Read the whole IPVS table (services, real servers, stats, connections)
description:
  - One dump of every service and its real servers, with traffic stats and active/inactive/persistent
    connection counts. Read-only; never reports a change.
options:
  backend:
    description: C(netlink), C(ipvsadm) (no stats), or C(auto).
    type: str
    choices: [auto, netlink, ipvsadm]
    default: auto
extends_documentation_fragment:
  - lvsfleet.lvs.attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
author: lvsfleet maintainers (@lvsfleet)
"""

EXAMPLES = r"""
- name: Read IPVS
  lvsfleet.lvs.lvs_ipvs_info:
  register: ipvs

- name: Active connections of the first service's first real server
  ansible.builtin.debug:
    msg: "{{ ipvs.services[0].real_servers[0].active_conns }}"
"""

RETURN = r"""
services:
  description: One entry per virtual service, sorted by key.
  type: list
  elements: dict
  returned: always
  contains:
    key:
      description: ipvsadm form of the service, e.g. C(-t 198.51.100.10:80) or C(-f 7).
      type: str
    family:
      description: Address family, 4 or 6.
      type: int
    protocol:
      description: C(tcp), C(udp) or C(sctp); null for a fwmark service.
      type: str
    vip:
      description: Service address; null for a fwmark service.
      type: str
    port:
      description: Service port (0 for a fwmark service).
      type: int
    fwmark:
      description: Firewall mark; null for an address:port service.
      type: int
    scheduler:
      description: Scheduler name.
      type: str
    scheduler_flags:
      description: Names of the scheduler flags set (e.g. C(mh-port)).
      type: list
      elements: str
    flags:
      description: The service's flags as the kernel holds them.
      type: int
    persistence_timeout:
      description: Persistence timeout in seconds; null without persistence.
      type: int
    stats:
      description: The service's counters (netlink backend; empty with ipvsadm).
      type: dict
    real_servers:
      description: >-
        One dict per real server: address, port, forwarding (nat, dr, tun), weight, upper_threshold,
        lower_threshold, tunnel (for tun), active_conns, inact_conns, persist_conns and stats.
      type: list
      elements: dict
saved:
  description: The table in C(ipvsadm-save -n) form.
  type: str
  returned: always
info:
  description: IPVS version and connection table size (netlink backend; empty with ipvsadm).
  type: dict
  returned: always
timeouts:
  description: Connection timeouts in seconds (C(tcp), C(tcpfin), C(udp)).
  type: dict
  returned: always
backend:
  description: The backend that read the table, C(netlink) or C(ipvsadm).
  type: str
  returned: always
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.lvsfleet.lvs.plugins.module_utils.lvsfleet.ipvs_backend import BACKEND_CHOICES, open_backend
from ansible_collections.lvsfleet.lvs.plugins.module_utils.lvsfleet.ipvs_state import describe_table, render


def main() -> None:
    module = AnsibleModule(
        argument_spec=dict(backend=dict(type="str", choices=list(BACKEND_CHOICES), default="auto")),
        supports_check_mode=True,
    )
    ipvs, name = open_backend(module, module.params["backend"])
    try:
        table = ipvs.read_table(stats=True)
        info = ipvs.info() if name == "netlink" else {}
        timeouts = ipvs.get_timeouts()
    except Exception as exc:
        module.fail_json(msg=f"reading IPVS failed: {type(exc).__name__}: {exc}", backend=name)
    finally:
        ipvs.close()
    module.exit_json(changed=False, services=describe_table(table), saved=render(table), info=info,
                     timeouts=timeouts, backend=name)


if __name__ == "__main__":
    main()
