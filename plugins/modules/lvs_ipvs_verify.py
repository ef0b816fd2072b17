#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: lvsfleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Wait until the kernel's IPVS table matches the service model (allowing for health checks)."""
from __future__ import annotations

DOCUMENTATION = r"""
---
module: lvs_ipvs_verify
short_description: Verify the kernel's IPVS table against the service model after a change
description:
  - Reads the table over netlink (or ipvsadm) until it matches the model or O(timeout) passes; fails
    listing every difference. A real server of the model may be missing (or at weight 0) only if it
    already was in O(baseline), the table read before the change, i.e. it was failing its health check.
  - Read-only; never changes the kernel.
options:
  services:
    description: The services (the lvs_services model, raw or normalized).
    type: list
    elements: dict
    required: true
  real_server_states:
    description: Real-server state overrides in effect (address or address:port -> state).
    type: dict
    default: {}
  baseline:
    description: The C(saved) text (ipvsadm-save form) returned by M(lvsfleet.lvs.lvs_ipvs_info) before the change.
    type: str
    default: ""
  timeout:
    description: Seconds to wait for the table to match.
    type: float
    default: 20
  backend:
    description: How to read IPVS.
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
- name: Verify the table after a reload
  lvsfleet.lvs.lvs_ipvs_verify:
    services: "{{ lvs_services }}"
    baseline: "{{ before.saved }}"
"""

RETURN = r"""
problems:
  description: Differences left when it gave up (empty on success)
  type: list
  returned: always
waited:
  description: Seconds until the table matched
  type: float
  returned: success
backend:
  description: The IPVS backend used, C(netlink) or C(ipvsadm).
  type: str
  returned: when the table was read
"""

import time

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.lvsfleet.lvs.plugins.module_utils.lvsfleet.ipvs_backend import BACKEND_CHOICES, open_backend
from ansible_collections.lvsfleet.lvs.plugins.module_utils.lvsfleet.ipvs_ipvsadm import parse_save
from ansible_collections.lvsfleet.lvs.plugins.module_utils.lvsfleet.ipvs_state import from_model
from ansible_collections.lvsfleet.lvs.plugins.module_utils.lvsfleet.model import ModelError, apply_real_server_states, normalize_services
from ansible_collections.lvsfleet.lvs.plugins.module_utils.lvsfleet.verify import problems, sorry_servers, unhealthy_in


def main() -> None:
    module = AnsibleModule(
        argument_spec=dict(
            services=dict(type="list", elements="dict", required=True),
            real_server_states=dict(type="dict", default={}),
            baseline=dict(type="str", default=""),
            timeout=dict(type="float", default=20),
            backend=dict(type="str", choices=list(BACKEND_CHOICES), default="auto"),
        ),
        supports_check_mode=True,
    )
    p = module.params
    try:
        services = apply_real_server_states(normalize_services(p["services"], "services"), p["real_server_states"])
    except ModelError as exc:
        module.fail_json(msg=str(exc))
    desired = from_model(services)
    tolerated = unhealthy_in(parse_save(p["baseline"]), desired) if p["baseline"].strip() else set()
    sorry = sorry_servers(services, desired)
    ipvs, name = open_backend(module, p["backend"])
    t0 = time.monotonic()
    try:
        while True:
            left = problems(ipvs.read_table(), desired, tolerated, sorry)
            if not left:
                module.exit_json(changed=False, problems=[], waited=round(time.monotonic() - t0, 2), backend=name)
            if time.monotonic() - t0 > p["timeout"]:
                break
            time.sleep(0.5)
    finally:
        ipvs.close()
    module.fail_json(msg=f"the IPVS table does not match the model after {p['timeout']:g} s: " + "; ".join(left),
                     problems=left, backend=name)


if __name__ == "__main__":
    main()
