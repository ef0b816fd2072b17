#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: lvsfleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Declarative IPVS: make the kernel's virtual services match a list, over netlink or ipvsadm."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: lvs_ipvs
short_description: Make the kernel's IPVS services and real servers match a declared list
description:
  - Reads the whole IPVS table with one dump, computes the difference to O(services), and sends only
    the changes, batched (many requests per netlink send, errors only, one acknowledged barrier).
  - Services are given in the lvsfleet service model (the same keys as C(lvs_services) in inventory);
    health-check keys are accepted and ignored here.
  - Real servers of a declared service that are not declared are removed. Services that are not
    declared are removed only with O(purge=true).
options:
  services:
    description: Virtual services in the lvsfleet service model (C(name), C(vip), C(port), C(protocol) or
      C(fwmark), C(scheduler), C(scheduler_flags), C(forwarding), C(tunnel), C(persistence), C(ops),
      C(real_servers) with C(address), C(port), C(weight), C(state), C(upper_threshold), C(lower_threshold)).
    type: list
    elements: dict
    default: []
  purge:
    description: Remove services that are not in O(services).
    type: bool
    default: false
  backend:
    description: C(netlink) speaks the IPVS generic-netlink family directly; C(ipvsadm) uses
      C(ipvsadm-save -n) and C(ipvsadm -R); C(auto) uses netlink and falls back to ipvsadm.
    type: str
    choices: [auto, netlink, ipvsadm]
    default: auto
  timeouts:
    description:
      - Connection timeouts in seconds, as C(ipvsadm --set tcp tcpfin udp). Omit to leave them.
      - The kernel refuses a value above C(INT_MAX / HZ) seconds (2147483 with HZ=1000); the module then fails.
    type: dict
    suboptions:
      tcp:
        description: Idle timeout of an established TCP connection entry (at least 1; the kernel's default is 900).
        type: int
        required: true
      tcpfin:
        description: Timeout of a TCP entry after the FIN (at least 1; the kernel's default is 120).
        type: int
        required: true
      udp:
        description: Timeout of a UDP entry (at least 1; the kernel's default is 300).
        type: int
        required: true
extends_documentation_fragment:
  - lvsfleet.lvs.attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
    details: before and after in C(ipvsadm-save -n) form.
author: lvsfleet maintainers (@lvsfleet)
"""

EXAMPLES = r"""
- name: Web VIP over two NAT real servers
  lvsfleet.lvs.lvs_ipvs:
    services:
      - name: web
        vip: 198.51.100.10
        port: 80
        scheduler: wrr
        real_servers:
          - {address: 203.0.113.21, port: 8080, weight: 3}
          - {address: 203.0.113.22, port: 8080}

- name: Exactly these services, nothing else
  lvsfleet.lvs.lvs_ipvs:
    services: "{{ lvs_services }}"
    purge: true
"""

RETURN = r"""
changes:
  description: Number of kernel write requests sent (0 when nothing changed).
  type: int
  returned: always
commands:
  description: The changes as ipvsadm-restore lines (also in check mode).
  type: list
  elements: str
  returned: always
backend:
  description: The backend used.
  type: str
  returned: always
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.lvsfleet.lvs.plugins.module_utils.lvsfleet.ipvs_backend import (
    BACKEND_CHOICES, fail_after_writes, failures_text, open_backend,
)
from ansible_collections.lvsfleet.lvs.plugins.module_utils.lvsfleet.ipvs_state import (
    StateError, apply_to_table, diff, from_model, no_gc, render, restore_script,
)
from ansible_collections.lvsfleet.lvs.plugins.module_utils.lvsfleet.model import ModelError, normalize_services


def main() -> None:
    module = AnsibleModule(
        argument_spec=dict(
            services=dict(type="list", elements="dict", default=[]),
            purge=dict(type="bool", default=False),
            backend=dict(type="str", choices=list(BACKEND_CHOICES), default="auto"),
            timeouts=dict(type="dict", options=dict(tcp=dict(type="int", required=True),
                                                    tcpfin=dict(type="int", required=True),
                                                    udp=dict(type="int", required=True))),
        ),
        supports_check_mode=True,
    )
    p = module.params
    with no_gc():
        run(module, p)


def run(module: AnsibleModule, p: dict) -> None:
    try:
        desired = from_model(normalize_services(p["services"], "services"))
    except (ModelError, StateError) as exc:
        module.fail_json(msg=f"invalid input, nothing changed: {exc}")

    low = sorted(k for k, v in (p["timeouts"] or {}).items() if v < 1)
    if low:
        module.fail_json(msg="invalid input, nothing changed: timeouts "
                             + ", ".join(f"{k}={p['timeouts'][k]}" for k in low) + " must be at least 1 second")

    ipvs, backend_name = open_backend(module, p["backend"])
    actual, timeouts_changed = None, False
    try:
        actual = ipvs.read_table()
        plan = diff(actual, desired, purge_services=p["purge"])
        commands = restore_script(plan).splitlines()
        if p["timeouts"]:
            have = ipvs.get_timeouts()
            want = {k: p["timeouts"][k] for k in ("tcp", "tcpfin", "udp")}
            if have != want:
                timeouts_changed = True
                commands.append(f"--set {want['tcp']} {want['tcpfin']} {want['udp']}")
                if not module.check_mode:
                    ipvs.set_timeouts(**want)
        if len(plan) and not module.check_mode:
            errors = ipvs.apply(plan)
            if errors:
                ipvs.close()
                fail_after_writes(module, backend_name, actual,
                                  f"the kernel refused {len(errors)} of {len(plan)} changes: {failures_text(errors)}",
                                  written=len(errors) < len(plan) or timeouts_changed, commands=commands)
        changed = bool(len(plan)) or timeouts_changed
        result = dict(changed=changed, changes=ipvs.writes, commands=commands, backend=backend_name)
        if module._diff and changed:
            result["diff"] = {"before": render(actual), "after": render(apply_to_table(actual, plan)),
                              "before_header": "ipvsadm-save -n", "after_header": "ipvsadm-save -n"}
        module.exit_json(**result)
    except Exception as exc:  # the backend's own errors carry the context
        ipvs.close()
        if actual is None:
            module.fail_json(msg=f"{type(exc).__name__}: {exc}", backend=backend_name)
        # A write may have gone out before the failure (e.g. replies lost to ENOBUFS): say what the kernel holds.
        fail_after_writes(module, backend_name, actual, f"{type(exc).__name__}: {exc}",
                          written=ipvs.writes > 0)
    finally:
        ipvs.close()


if __name__ == "__main__":
    main()
