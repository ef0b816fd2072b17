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
        reason = text or (describe(code) if isinstance(code, int) and code > 0 else "")
        lines.append(f"{label}: {reason}")
    more = f" (and {len(errors) - 20} more)" if len(errors) > 20 else ""
    return "; ".join(lines) + more
