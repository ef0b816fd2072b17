#!/usr/bin/python
# -*- coding: utf-8 -*-
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
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
author: lvsfleet
"""

EXAMPLES = r"""
- name: Read IPVS
  lvs_ipvs_info:
  register: ipvs

- name: Active connections of the first service's first real server
  ansible.builtin.debug:
    msg: "{{ ipvs.services[0].real_servers[0].active_conns }}"
"""

RETURN = r"""
services:
  description: One entry per virtual service.
  type: list
  elements: dict
  returned: always
  contains:
    key: {description: "ipvsadm form of the service, e.g. C(-t 198.51.100.10:80)", type: str}
    scheduler: {description: Scheduler name, type: str}
    real_servers: {description: "address, port, forwarding, weight, thresholds, active_conns, inact_conns,
                   persist_conns, stats", type: list}
saved:
  description: The table in C(ipvsadm-save -n) form.
  type: str
  returned: always
info:
  description: IPVS version and connection table size (netlink backend).
  type: dict
  returned: always
"""

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.lvsfleet.ipvs_backend import BACKEND_CHOICES, open_backend
from ansible.module_utils.lvsfleet.ipvs_state import describe_table, render


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
