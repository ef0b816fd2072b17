#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: lvsfleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One real server of one IPVS service: add, change weight, drain (and wait), remove."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: lvs_ipvs_real_server
short_description: Add, re-weight, drain or remove one real server of an IPVS service
description:
  - C(state=present) adds the real server or changes its weight, forwarding or thresholds.
  - C(state=drained) sets its weight to 0 so no new connections are scheduled to it; with O(wait)
    it then waits until its active connections reach 0 or O(timeout) passes.
  - C(state=absent) removes it (after draining and waiting, when O(wait) is set).
options:
  vip:
    description: Service address (omit with O(fwmark))
    type: str
  port:
    description: Service port
    type: int
    default: 0
  protocol:
    description: Service protocol
    type: str
    choices: [tcp, udp, sctp]
    default: tcp
  fwmark:
    description: Firewall-mark service instead of address:port
    type: int
  family:
    description: Address family of a fwmark service
    type: int
    choices: [4, 6]
    default: 4
  address:
    description: Real server address
    type: str
    required: true
  real_port:
    description: Real server port (default the service port)
    type: int
  state:
    description: Wanted state
    type: str
    choices: [present, drained, absent]
    default: present
  weight:
    description: Weight for C(present) (default 1 when added, unchanged otherwise)
    type: int
  forwarding:
    description: Forwarding for C(present)
    type: str
    choices: [nat, dr, tun]
  upper_threshold:
    description: Upper connection threshold (0 none)
    type: int
  lower_threshold:
    description: Lower connection threshold
    type: int
  wait:
    description: After draining, wait until active connections reach 0
    type: bool
    default: false
  timeout:
    description: Seconds to wait for connections to end
    type: int
    default: 300
  fail_on_timeout:
    description: Fail when connections remain after O(timeout)
    type: bool
    default: false
  backend:
    description: IPVS backend
    type: str
    choices: [auto, netlink, ipvsadm]
    default: auto
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
- name: Drain rs1 from the web service and wait for its connections to end
  lvsfleet.lvs.lvs_ipvs_real_server:
    vip: 198.51.100.10
    port: 80
    address: 203.0.113.21
    real_port: 8080
    state: drained
    wait: true
    timeout: 120
"""

RETURN = r"""
active_conns:
  description: Active connections when the module returned
  type: int
  returned: always
waited:
  description: Seconds spent waiting for connections to end
  type: float
  returned: always
timed_out:
  description: Connections remained after the timeout
  type: bool
  returned: always
backend:
  description: The IPVS backend used, C(netlink) or C(ipvsadm).
  type: str
  returned: always
"""

import errno
import socket
import time
from dataclasses import replace

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.lvsfleet.lvs.plugins.module_utils.lvsfleet.ipvs_backend import (
    BACKEND_CHOICES, fail_after_writes, failures_text, open_backend,
)
from ansible_collections.lvsfleet.lvs.plugins.module_utils.lvsfleet.ipvs_state import (
    FWD_BY_NAME, PROTO_BY_NAME, Dest, Plan, ServiceKey, hostport, render, apply_to_table,
)


def main() -> None:
    module = AnsibleModule(
        argument_spec=dict(
            vip=dict(type="str"), port=dict(type="int", default=0),
            protocol=dict(type="str", choices=["tcp", "udp", "sctp"], default="tcp"),
            fwmark=dict(type="int"), family=dict(type="int", choices=[4, 6], default=4),
            address=dict(type="str", required=True), real_port=dict(type="int"),
            state=dict(type="str", choices=["present", "drained", "absent"], default="present"),
            weight=dict(type="int"), forwarding=dict(type="str", choices=["nat", "dr", "tun"]),
            upper_threshold=dict(type="int"), lower_threshold=dict(type="int"),
            wait=dict(type="bool", default=False), timeout=dict(type="int", default=300),
            fail_on_timeout=dict(type="bool", default=False),
            backend=dict(type="str", choices=list(BACKEND_CHOICES), default="auto"),
        ),
        required_one_of=[("vip", "fwmark")],
        mutually_exclusive=[("vip", "fwmark")],
        supports_check_mode=True,
    )
    p = module.params
    try:
        addr_af = socket.AF_INET6 if ":" in p["address"] else socket.AF_INET
        address = socket.inet_ntop(addr_af, socket.inet_pton(addr_af, p["address"]))
        if p["fwmark"]:
            key = ServiceKey(af=socket.AF_INET6 if p["family"] == 6 else socket.AF_INET, fwmark=p["fwmark"])
        else:
            af = socket.AF_INET6 if ":" in p["vip"] else socket.AF_INET
            vip = socket.inet_ntop(af, socket.inet_pton(af, p["vip"]))
            key = ServiceKey(af=af, protocol=PROTO_BY_NAME[p["protocol"]], addr=vip, port=p["port"])
    except OSError:
        module.fail_json(msg=f"address/vip: {p['address']!r} or {p['vip']!r} is not an IP address")
    if p["weight"] is not None and not 0 <= p["weight"] <= 65535:
        module.fail_json(msg=f"weight: {p['weight']} is outside 0..65535")
    rport = p["real_port"] if p["real_port"] is not None else p["port"]

    ipvs, backend_name = open_backend(module, p["backend"])
    table = None
    try:
        table = ipvs.read_table()
        svc = table.get(key)
        if svc is None:
            if p["state"] == "absent":
                module.exit_json(changed=False, active_conns=0, waited=0.0, timed_out=False, backend=backend_name)
            module.fail_json(msg=f"service {key.label()} does not exist; create it first (lvs_ipvs)")
        have = svc.dests.get((address, rport))
        plan = Plan()
        if p["state"] == "present":
            base = have or Dest(addr=address, port=rport, af=addr_af,
                                fwd=next(iter(svc.dests.values())).fwd if svc.dests else FWD_BY_NAME["nat"])
            want = replace(base)
            for opt, attr in (("weight", "weight"), ("upper_threshold", "u_thresh"),
                              ("lower_threshold", "l_thresh")):
                if p[opt] is not None:
                    setattr(want, attr, p[opt])
            if p["forwarding"]:
                want.fwd = FWD_BY_NAME[p["forwarding"]]
            if have is None:
                plan.add_dests.append((key, want))
            elif have.config() != want.config():
                plan.set_dests.append((key, want))
        elif have is not None:
            if have.weight != 0:
                plan.set_dests.append((key, replace(have, weight=0)))
        if len(plan) and not module.check_mode:
            errors = ipvs.apply(plan)
            if errors:
                fail_after_writes(module, backend_name, table, f"the kernel refused the change: {failures_text(errors)}",
                                  written=False)
        changed = bool(len(plan))
        waited, timed_out, active = 0.0, False, have.active_conns if have else 0
        if have is not None and p["state"] in ("drained", "absent") and p["wait"] and not module.check_mode:
            t0 = time.monotonic()
            while True:
                now = ipvs.read_table().get(key)
                if now is None:  # the service was removed while we waited: nothing left to drain or remove
                    module.exit_json(changed=True, active_conns=0, waited=round(time.monotonic() - t0, 1),
                                     timed_out=False, backend=backend_name,
                                     msg=f"service {key.label()} was removed while its real server drained")
                d = now.dests.get((address, rport))
                active = d.active_conns if d else 0
                if d is None or active == 0:
                    break
                if time.monotonic() - t0 >= p["timeout"]:
                    timed_out = True
                    break
                time.sleep(1)
            waited = round(time.monotonic() - t0, 1)
            if timed_out and p["fail_on_timeout"]:
                module.fail_json(msg=f"{hostport(address, rport, addr_af)} still has {active} active connections "
                                     f"after {p['timeout']} s", active_conns=active, waited=waited)
        after = apply_to_table(table, plan)
        if p["state"] == "absent" and have is not None:
            rm = Plan(del_dests=[(key, have)])
            if not module.check_mode:
                errors = ipvs.apply(rm)
                if errors and not all(code in (errno.ENOENT, errno.ESRCH) for _l, code, _t in errors):
                    # Drained to weight 0 (if it was not already), then the removal was refused.
                    fail_after_writes(module, backend_name, table, f"removing the real server failed: "
                                      f"{failures_text(errors)}", written=changed, keys={key})
            after = apply_to_table(after, rm)
            changed = True
        result = dict(changed=changed, active_conns=active, waited=waited, timed_out=timed_out, backend=backend_name)
        if module._diff and changed:
            result["diff"] = {"before": render({key: table[key]}), "after": render({key: after[key]})}
        module.exit_json(**result)
    except Exception as exc:  # the backend's own errors carry the context
        if table is None:
            module.fail_json(msg=f"{type(exc).__name__}: {exc}", backend=backend_name)
        fail_after_writes(module, backend_name, table, f"{type(exc).__name__}: {exc}", written=ipvs.writes > 0,
                          keys={key})
    finally:
        ipvs.close()


if __name__ == "__main__":
    main()
