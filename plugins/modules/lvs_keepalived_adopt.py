#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: lvsfleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read a director's hand-written keepalived.conf (or its live IPVS table) as lvsfleet inventory."""
from __future__ import annotations

DOCUMENTATION = r"""
module: lvs_keepalived_adopt
short_description: Read a director's keepalived.conf (with includes) or IPVS table as lvsfleet inventory
description:
  - Parses the configuration the way keepalived reads it (includes, C(@host) lines, quoted strings, both
    comment characters) and maps every block lvsfleet renders to its service model. Whatever it cannot carry is
    listed in C(report) with the file, line, block and reason; nothing is dropped silently.
  - With I(source=ipvs) (or C(auto) and no configuration file), the kernel's IPVS table becomes
    C(lvs_services) instead (a table built by ipvsadm scripts has no health checks, which is reported).
  - Read-only; never changes anything. The result holds VRRP passwords, so register it with C(no_log).
  - Playbook C(playbooks/adopt.yml) merges the directors' results and writes an inventory.
options:
  path:
    description: The main configuration file.
    type: path
    default: /etc/keepalived/keepalived.conf
  host:
    description: The director's inventory name (per-director priorities and host variables).
    type: str
    required: true
  config_id:
    description:
      - The name C(@name) lines are matched against, as keepalived matches them, that is its C(-i) or
        C(--config-id) option, else the host name up to the first dot (keepalived 2.2.7 core/main.c).
      - Default, read on the director, the C(-i)/C(--config-id) of C(DAEMON_ARGS) in C(/etc/default/keepalived),
        else the short host name.
    type: str
  source:
    description: What to adopt. C(auto) reads the configuration if it exists, else the IPVS table.
    type: str
    choices: [auto, keepalived, ipvs]
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
- name: Read lb1's hand-written configuration
  lvsfleet.lvs.lvs_keepalived_adopt:
    host: "{{ inventory_hostname }}"
  register: adopted
  no_log: true
"""

RETURN = r"""
source:
  description: What was adopted (keepalived or ipvs).
  type: str
  returned: always
inventory:
  description: C(lvs_services), C(lvs_vrrp_instances), C(lvs_vrrp_scripts), C(host_vars), C(group_vars),
    C(report) (list of {where, block, directive, reason}).
  type: dict
  returned: always
files:
  description: Every configuration file read (the main file and its includes).
  type: list
  returned: always
"""

import os
import shlex
import socket

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.lvsfleet.lvs.plugins.module_utils.lvsfleet import keepalived_adopt, keepalived_conf
from ansible_collections.lvsfleet.lvs.plugins.module_utils.lvsfleet.ipvs_backend import open_backend
from ansible_collections.lvsfleet.lvs.plugins.module_utils.lvsfleet.ipvs_ipvsadm import IpvsadmError
from ansible_collections.lvsfleet.lvs.plugins.module_utils.lvsfleet.ipvs_netlink import NetlinkError
from ansible_collections.lvsfleet.lvs.plugins.module_utils.lvsfleet.ipvs_state import describe_table


def config_id(defaults: str = "/etc/default/keepalived") -> str:
    """keepalived's config id on this host: -i/--config-id in DAEMON_ARGS, else the short host name."""
    try:
        with open(defaults, encoding="utf-8", errors="replace") as f:
            text = f.read(65536)
    except OSError:
        text = ""
    for line in text.splitlines():
        line = line.strip()
        if not line.startswith("DAEMON_ARGS="):
            continue
        try:
            words = shlex.split(shlex.split(line.split("=", 1)[1])[0] if line.split("=", 1)[1].strip() else "")
        except ValueError:
            continue
        for i, w in enumerate(words):
            if w in ("-i", "--config-id") and i + 1 < len(words):
                return words[i + 1]
            if w.startswith("--config-id="):
                return w.split("=", 1)[1]
            if w.startswith("-i") and len(w) > 2:
                return w[2:]
    return socket.gethostname().split(".", 1)[0]


def main() -> None:
    module = AnsibleModule(
        argument_spec=dict(path=dict(type="path", default="/etc/keepalived/keepalived.conf"),
                           host=dict(type="str", required=True), config_id=dict(type="str"),
                           source=dict(type="str", choices=["auto", "keepalived", "ipvs"], default="auto")),
        supports_check_mode=True,
    )
    p = module.params
    source = p["source"]
    if source == "auto":
        source = "keepalived" if os.path.exists(p["path"]) else "ipvs"
    if source == "ipvs":
        ipvs = open_backend(module, "auto")[0]
        try:
            services, report = keepalived_adopt.services_from_ipvs(describe_table(ipvs.read_table()))
        except (NetlinkError, IpvsadmError) as exc:
            module.fail_json(msg=f"reading the IPVS table: {exc}")
        module.exit_json(changed=False, source="ipvs", files=[], inventory={
            "lvs_services": services, "lvs_vrrp_instances": [], "lvs_vrrp_scripts": [], "host_vars": {},
            "group_vars": {}, "report": report})
    files = []

    def read(name: str) -> str:
        files.append(name)
        with open(name, encoding="utf-8", errors="replace") as f:
            return f.read(4 * 1024 * 1024)

    try:
        nodes = keepalived_conf.load(p["path"], host=p["config_id"] or config_id(), read=read)
    except (keepalived_conf.ConfError, OSError) as exc:
        module.fail_json(msg=f"{p['path']}: {exc}", files=files)
    module.exit_json(changed=False, source="keepalived", files=files,
                     inventory=keepalived_adopt.adopt(nodes, p["host"]))


if __name__ == "__main__":
    main()
