# -*- coding: utf-8 -*-
"""Choose and open an IPVS backend for a module: netlink (default) or ipvsadm."""

from __future__ import annotations

from .ipvs_ipvsadm import IpvsadmBackend
from .ipvs_netlink import IPVSNetlink, NetlinkError

BACKEND_CHOICES = ("auto", "netlink", "ipvsadm")


def open_backend(module, backend: str):
    """Return (backend object, name). `auto` uses netlink and falls back to ipvsadm."""
    if backend in ("auto", "netlink"):
        try:
            return IPVSNetlink(), "netlink"
        except (OSError, NetlinkError) as exc:
            if backend == "netlink":
                module.fail_json(msg=f"IPVS netlink is unavailable: {exc}. Load ip_vs or use backend=ipvsadm.")
    save = module.get_bin_path("ipvsadm-save", required=True)
    ipvsadm = module.get_bin_path("ipvsadm", required=True)

    def run(argv, data=None):
        return module.run_command(argv, data=data, binary_data=False, environ_update={"LANG": "C", "LC_ALL": "C"})

    return IpvsadmBackend(run, save, ipvsadm), "ipvsadm"


def failures_text(errors) -> str:
    from .ipvs_netlink import describe

    lines = []
    for label, code, text in errors[:20]:
        reason = text or (describe(code, label) if isinstance(code, int) and code > 0 else "")
        lines.append(f"{label}: {reason}")
    more = f" (and {len(errors) - 20} more)" if len(errors) > 20 else ""
    return "; ".join(lines) + more


def fail_after_writes(module, backend: str, before, msg: str, written: bool, keys=None, **extra) -> None:
    """Fail a module whose writes may have stopped halfway (part of a batch refused, replies lost).

    The table is read again on a fresh connection: `changed` and the diff say what the kernel now
    holds, not what was planned. `keys` limits the diff to some services. Never returns.
    """
    from .ipvs_state import render

    if not written:
        module.fail_json(msg=f"{msg}; nothing changed", changed=False, backend=backend, **extra)
    try:
        again, _name = open_backend(module, backend)
        try:
            after = again.read_table()
        finally:
            again.close()
    except Exception as exc:  # the table cannot be read: say so, and assume it changed
        module.fail_json(msg=f"{msg}; the table could not be read again ({exc}): it may be half-changed",
                         changed=True, backend=backend, **extra)
    if keys is not None:
        before = {k: v for k, v in before.items() if k in keys}
        after = {k: v for k, v in after.items() if k in keys}
    b, a = render(before), render(after)
    result = dict(msg=f"{msg}; what the kernel holds now is in the diff" if a != b else
                  f"{msg}; nothing changed", changed=a != b, backend=backend, **extra)
    if module._diff or a != b:
        result["diff"] = {"before": b, "after": a, "before_header": "ipvsadm-save -n (before)",
                          "after_header": "ipvsadm-save -n (read again after the failure)"}
    module.fail_json(**result)
