"""Compare the kernel's IPVS table with the service model, allowing for what health checks do.

keepalived owns the table on VRRP directors: a real server whose check fails is removed (or set to
weight 0 with inhibit_on_failure), and a service whose real servers all fail gets its sorry server.
So a real server of the model may be missing from the kernel (or at weight 0) only if it was already
missing (or at weight 0) in the baseline taken before the change: it was unhealthy then. Everything
else must match exactly: services, scheduler and flags, forwarding, weights, thresholds, and nothing
in the kernel that the model does not have.
"""
from __future__ import annotations

from .ipvs_state import FWD_NAME, Table, hostport


def unhealthy_in(baseline: Table, desired: Table) -> set:
    """(service key, dest key) of model real servers missing or at weight 0 in `baseline`."""
    out = set()
    for key, want in desired.items():
        have = baseline.get(key)
        for dkey, d in want.dests.items():
            hd = have.dests.get(dkey) if have else None
            if hd is None or (hd.weight == 0 and d.weight != 0):
                out.add((key, dkey))
    return out


def sorry_servers(services: list[dict], desired: Table) -> dict:
    """Service key -> (address, port) of its sorry server, from normalized services in `desired`'s order.

    The model gives it as {address, port}, the port already defaulted to the service's.
    """
    out = {}
    for svc, key in zip(services, desired):
        sorry = svc.get("sorry_server")
        if sorry:
            out[key] = (sorry["address"], sorry["port"])
    return out


def problems(actual: Table, desired: Table, tolerated: set = frozenset(), sorry: dict | None = None) -> list[str]:
    """Every difference between the kernel (`actual`) and the model (`desired`), in words; [] if none.

    `tolerated`: (service key, dest key) pairs allowed to be missing or at weight 0 (unhealthy).
    `sorry`: service key -> dest key of its sorry server, allowed in the kernel beside the model.
    """
    sorry = sorry or {}
    out = []
    for key in sorted(desired):
        want, have, label = desired[key], actual.get(key), key.label()
        if have is None:
            out.append(f"{label}: in the model but not in the kernel")
            continue
        if have.config() != want.config():
            out.append(f"{label}: kernel has scheduler {have.scheduler} flags {have.flags} timeout {have.timeout}, "
                       f"model wants scheduler {want.scheduler} flags {want.flags} timeout {want.timeout}")
        for dkey in sorted(want.dests):
            d, hd = want.dests[dkey], have.dests.get(dkey)
            where = f"{label} -> {hostport(d.addr, d.port, d.af)}"
            if hd is None:
                if (key, dkey) not in tolerated:
                    out.append(f"{where}: in the model but not in the kernel (and it was healthy before)")
            elif hd.config() != d.config():
                if hd.weight == 0 and (key, dkey) in tolerated:
                    continue
                out.append(f"{where}: kernel has weight {hd.weight} forwarding {FWD_NAME.get(hd.fwd, hd.fwd)} "
                           f"thresholds {hd.u_thresh}/{hd.l_thresh}, model wants weight {d.weight} forwarding "
                           f"{FWD_NAME.get(d.fwd, d.fwd)} thresholds {d.u_thresh}/{d.l_thresh}")
        for dkey in sorted(set(have.dests) - set(want.dests)):
            if sorry.get(key) == dkey:
                continue
            hd = have.dests[dkey]
            out.append(f"{label} -> {hostport(hd.addr, hd.port, hd.af)}: in the kernel but not in the model")
    for key in sorted(set(actual) - set(desired)):
        out.append(f"{key.label()}: in the kernel but not in the model")
    return out
