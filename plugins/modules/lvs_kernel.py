#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: lvsfleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Kernel modules and sysctls for a load-balancer host, loaded now and persisted, in one call."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: lvs_kernel
short_description: Load kernel modules and set sysctls now, and persist both for boot
description:
  - Loads each module in O(modules) that is not loaded yet and writes them to a C(modules-load.d) file.
  - Sets each sysctl in O(sysctls) whose running value differs and writes them to a C(sysctl.d) file.
  - Modules are handled first, so sysctls that only exist once a module is loaded (C(net.ipv4.vs.*)) can be set.
  - One module call does what would otherwise take a modprobe, a sysctl and two file tasks per item.
options:
  modules:
    description: Kernel module names to load and persist.
    type: list
    elements: str
    default: []
  sysctls:
    description: Mapping of sysctl key (dotted, e.g. C(net.ipv4.ip_forward)) to value.
    type: dict
    default: {}
  kernel_overrides:
    description:
      - Sysctl values for older kernels, where a setting's meaning differs. Each item has C(below) (a kernel
        version, e.g. C("5.9")) and C(sysctls); on a running kernel older than C(below) its values replace
        those in O(sysctls). Items are applied in order.
    type: list
    elements: dict
    default: []
  modules_file:
    description: Persistent module list.
    type: path
    default: /etc/modules-load.d/lvsfleet.conf
  sysctl_file:
    description: Persistent sysctl settings.
    type: path
    default: /etc/sysctl.d/90-lvsfleet.conf
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
- name: IPVS modules and sysctls
  lvsfleet.lvs.lvs_kernel:
    modules: [ip_vs, ip_vs_rr, ip_vs_wrr]
    sysctls:
      net.ipv4.ip_forward: 1
      net.ipv4.vs.conntrack: 1
"""

RETURN = r"""
loaded:
  description: Modules that were loaded by this call.
  type: list
  returned: always
set:
  description: Sysctls whose running value was changed, with the new value.
  type: dict
  returned: always
files:
  description: The persistent files (modules-load.d, sysctl.d) that were (or in check mode would be) rewritten.
  type: list
  elements: str
  returned: always
"""

import os
import platform
import re
import tempfile

from ansible.module_utils.basic import AnsibleModule

HEADER = "# Managed by lvsfleet (lvs_kernel); local edits are overwritten.\n"


def kernel_version(release: str) -> tuple[int, ...]:
    """'6.1.0-26-amd64' -> (6, 1, 0)."""
    m = re.match(r"(\d+)\.(\d+)(?:\.(\d+))?", release)
    if not m:
        raise ValueError(f"cannot read a kernel version from {release!r}")
    return tuple(int(x or 0) for x in m.groups())


def effective_sysctls(sysctls: dict, overrides: list, release: str) -> dict:
    """`sysctls` with the values of every override whose `below` is newer than the running kernel."""
    running = kernel_version(release)
    out = dict(sysctls)
    for i, item in enumerate(overrides):
        if not isinstance(item, dict) or set(item) != {"below", "sysctls"} or not isinstance(item["sysctls"], dict):
            raise ValueError(f"kernel_overrides[{i}]: {item!r} must be a mapping with 'below' and 'sysctls'")
        if running < kernel_version(str(item["below"])):
            out.update(item["sysctls"])
    return out


def loaded_modules() -> set[str]:
    with open("/proc/modules", encoding="ascii") as fh:
        names = {line.split(" ", 1)[0] for line in fh}
    # Built-in modules never appear in /proc/modules but do have /sys/module/<name>.
    return names


def is_loaded(name: str, current: set[str]) -> bool:
    norm = name.replace("-", "_")
    return norm in current or os.path.isdir(f"/sys/module/{norm}")


def sysctl_path(key: str) -> str:
    return "/proc/sys/" + key.replace(".", "/")


def read_sysctl(key: str) -> str | None:
    try:
        with open(sysctl_path(key), encoding="ascii") as fh:
            return " ".join(fh.read().split())
    except OSError:
        return None


def normalize_value(value) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    return " ".join(str(value).split())


def read_file(path: str) -> str:
    try:
        with open(path, encoding="utf-8") as fh:
            return fh.read()
    except FileNotFoundError:
        return ""


def write_file(module: AnsibleModule, path: str, content: str) -> None:
    directory = os.path.dirname(path)
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".lvsfleet-")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(content)
    os.chmod(tmp, 0o644)
    module.atomic_move(tmp, path)


def main() -> None:
    module = AnsibleModule(
        argument_spec=dict(
            modules=dict(type="list", elements="str", default=[]),
            sysctls=dict(type="dict", default={}),
            kernel_overrides=dict(type="list", elements="dict", default=[]),
            modules_file=dict(type="path", default="/etc/modules-load.d/lvsfleet.conf"),
            sysctl_file=dict(type="path", default="/etc/sysctl.d/90-lvsfleet.conf"),
        ),
        supports_check_mode=True,
    )
    p = module.params
    try:
        p["sysctls"] = effective_sysctls(p["sysctls"], p["kernel_overrides"], platform.release())
    except ValueError as exc:
        module.fail_json(msg=str(exc))
    for key in p["sysctls"]:
        words = key.split(".")
        if not key or "/" in key or ".." in key or not all(w.replace("-", "").replace("_", "").isalnum() for w in words):
            module.fail_json(msg=f"sysctls: {key!r} is not a sysctl key (dotted form, e.g. net.ipv4.ip_forward)")
    modprobe = module.get_bin_path("modprobe", required=True)

    before_lines, after_lines = [], []
    loaded, set_values = [], {}

    current = loaded_modules()
    for name in p["modules"]:
        if not is_loaded(name, current):
            before_lines.append(f"module {name}: not loaded")
            after_lines.append(f"module {name}: loaded")
            loaded.append(name)
            if not module.check_mode:
                rc, out, err = module.run_command([modprobe, "--", name], environ_update={"LANG": "C"})
                if rc != 0:
                    module.fail_json(msg=f"modules: modprobe {name} failed: {err.strip()}", rc=rc,
                                     stdout=out, stderr=err)

    wanted = {k: normalize_value(v) for k, v in p["sysctls"].items()}
    for key, value in wanted.items():
        actual = read_sysctl(key)
        if actual is None and not (module.check_mode and loaded):
            module.fail_json(msg=f"sysctls: {key} does not exist on this kernel "
                                 f"(is the module that provides it in 'modules'?)")
        if actual != value:
            before_lines.append(f"{key} = {actual}")
            after_lines.append(f"{key} = {value}")
            set_values[key] = value
            if not module.check_mode:
                try:
                    with open(sysctl_path(key), "w", encoding="ascii") as fh:
                        fh.write(value)
                except OSError as exc:
                    module.fail_json(msg=f"sysctls: cannot set {key} = {value}: {exc}")

    files = []
    mod_content = HEADER + "".join(f"{m}\n" for m in p["modules"])
    sysctl_content = HEADER + "".join(f"{k} = {v}\n" for k, v in sorted(wanted.items()))
    for path, content in ((p["modules_file"], mod_content), (p["sysctl_file"], sysctl_content)):
        old = read_file(path)
        if old != content:
            files.append(path)
            before_lines.append(f"--- {path}\n{old}")
            after_lines.append(f"--- {path}\n{content}")
            if not module.check_mode:
                write_file(module, path, content)

    changed = bool(loaded or set_values or files)
    diff = {"before": "\n".join(before_lines) + "\n", "after": "\n".join(after_lines) + "\n"} if changed else {}
    module.exit_json(changed=changed, loaded=loaded, set=set_values, files=files, diff=diff)


if __name__ == "__main__":
    main()
