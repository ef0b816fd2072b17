# -*- coding: utf-8 -*-
"""The order a rolling reload takes through VRRP directors, and why: a model-level simulation of the roll.

    plan(before, instances, rolling, order) -> {"order": [director, ...], "steps": [...], "problems": [...],
                                               "warnings": [...], "reasons": [...]}
    state_changes(before, after) -> ["VI_1 was MASTER; after the reload it is BACKUP ...", ...]

`before` is what each director's vrrp-state printed before the roll ({director: {instance: {state, vrid,
addresses, ...}}}, read from its live configuration); `instances` the next configuration's normalized VRRP
instances (model.normalize_vrrp_instances, with the services' VIPs added); `rolling` the directors whose
configuration changes; `order` the inventory order (the tie-break).

What the simulation assumes, from keepalived 2.2.7's behaviour on SIGHUP (vrrp/vrrp.c: clear_diff_vrrp and
restore_vrrp_state find an instance of the old configuration in the new one with vrrp_exist(), which compares
virtual_router_id, address family and interface, not the name):
- an instance whose interface and virtual_router_id stay keeps its state, whatever its name; its new address
  list is applied at once (a MASTER adds the addresses it gains and drops those it loses);
- an instance the reload removes (or whose id or interface changes) drops its addresses;
- an instance the reload adds starts as BACKUP and becomes MASTER when no director is MASTER of its
  virtual_router_id on its interface (the peers still on the old configuration advertise under their own
  instances' ids); where one is, it stays BACKUP (a reload does not preempt).
After each step every VIP of the next configuration that was held before must be held by exactly one director,
and without a gap: by a director that held it before the step, not only through an instance still waiting out its
master_down_interval. No director holding it, or a gap, is a problem (the VIP is down for a while); two holders are
a warning (both answer ARP for it until a later step drops one; both have the service, so it is served).
"""
from __future__ import annotations

import ipaddress
import itertools

# Up to this many rolling directors every order is tried; beyond it the order is built greedily.
EXHAUSTIVE = 7


def _ip(text: str) -> str:
    return str(ipaddress.ip_interface(str(text)).ip)


def _holdings(config: dict) -> dict[str, set[str]]:
    """{director: VIPs it holds} for the simulated `config` ({director: {instance: {state, addresses}}})."""
    return {host: {a for vi in insts.values() if vi["state"] == "MASTER" for a in vi["addresses"]}
            for host, insts in config.items()}


def _old_config(before: dict) -> dict:
    out = {}
    for host, insts in (before or {}).items():
        out[host] = {}
        for name, info in (insts or {}).items():
            info = info or {}
            out[host][name] = {"state": "MASTER" if info.get("state") == "MASTER" else "BACKUP",
                               "vrid": info.get("vrid"), "interface": info.get("interface"),
                               "addresses": [_ip(a) for a in info.get("addresses") or []]}
    return out


def _rolled(host: str, config: dict, instances: list[dict]) -> dict:
    """`host`'s instances after its reload, the others as `config` has them at this step."""
    old = {(vi["interface"], vi["vrid"]): vi for vi in config.get(host, {}).values()}
    masters = {(vi["interface"], vi["vrid"]) for h, insts in config.items() if h != host
               for vi in insts.values() if vi["state"] == "MASTER"}
    out = {}
    for vi in instances:
        if host not in vi["priorities"]:
            continue
        key = (vi["interface"], vi["virtual_router_id"])
        new = key not in old
        if not new:
            state = old[key]["state"]
        else:
            state = "BACKUP" if key in masters else "MASTER"
        out[vi["name"]] = {"state": state, "vrid": vi["virtual_router_id"], "interface": vi["interface"],
                           "addresses": [_ip(a) for a in vi["virtual_ipaddresses"]],
                           "pending": new and state == "MASTER"}
    return out


def _settled(config: dict) -> dict:
    """`config` without the instances that became MASTER in this step: keepalived takes them over only once
    master_down_interval (3 x advert_int and a skew) has passed without an advert."""
    return {h: {n: vi for n, vi in insts.items() if not vi.get("pending")} for h, insts in config.items()}


def _simulate(order: list[str], config: dict, instances: list[dict], watched: set[str]):
    """Roll `order` from `config`. A watched VIP must be held after every step, and without a gap: some director
    held it before the step and still holds it after (not only through an instance that is still waiting to
    become MASTER)."""
    steps, problems, warnings = [], [], []
    config = {h: {n: dict(vi) for n, vi in insts.items()} for h, insts in config.items()}
    for host in order:
        held_before = _holdings(config)
        config[host] = _rolled(host, config, instances)
        held, settled = _holdings(config), _holdings(_settled(config))
        holders = {vip: sorted(h for h, vips in held.items() if vip in vips) for vip in sorted(watched)}
        steps.append({"director": host, "holders": holders})
        for vip, hosts in holders.items():
            kept = [h for h in hosts if vip in held_before.get(h, set()) and vip in settled.get(h, set())]
            if not hosts:
                problems.append(f"after {host} reloads, no director holds {vip}")
            elif not kept:
                problems.append(f"while {host} reloads, no director holds {vip} until {', '.join(hosts)} takes it "
                                f"over (about 3 advert intervals)")
            elif len(hosts) > 1:
                warnings.append(f"after {host} reloads, {' and '.join(hosts)} both hold {vip} until the roll goes on")
        for insts in config.values():  # by the next step the new instances have settled
            for vi in insts.values():
                vi["pending"] = False
    return steps, problems, warnings


def _masters(config: dict, host: str) -> int:
    return sum(1 for vi in config.get(host, {}).values() if vi["state"] == "MASTER")


def plan(before: dict, instances: list[dict], rolling: list[str], order: list[str]) -> dict:
    """The roll order with the fewest problems, then the fewest warnings, then MASTER of the fewest instances
    first (inventory order among equals); the simulated holders after each step and why the order was chosen."""
    config = _old_config(before)
    for host in order:
        config.setdefault(host, {})
    rank = {h: i for i, h in enumerate(order)}
    rolling = sorted(set(rolling or []) & set(order), key=lambda h: (_masters(config, h), rank[h]))
    held_before = set().union(*_holdings(config).values()) if config else set()
    wanted = {_ip(a) for vi in instances or [] for a in vi["virtual_ipaddresses"]}
    watched = held_before & wanted

    def score(candidate):
        steps, problems, warnings = _simulate(list(candidate), config, instances or [], watched)
        return (len(problems), len(warnings)), steps, problems, warnings

    if len(rolling) <= EXHAUSTIVE:
        candidates = itertools.permutations(rolling)  # the preferred order comes first, and wins ties
    else:  # greedy: each step takes the director whose reload leaves the fewest problems, then warnings
        chosen, left = [], list(rolling)
        while left:
            best = min(left, key=lambda h: score(chosen + [h])[0])
            chosen.append(best)
            left.remove(best)
        candidates = [tuple(chosen)]
    best = None
    for cand in candidates:
        result = score(cand)
        if best is None or result[0] < best[1][0]:
            best = (cand, result)
        if result[0] == (0, 0):
            break
    chosen = list(best[0]) if best else []
    _, steps, problems, warnings = best[1] if best else ((0, 0), [], [], [])
    reasons = []
    for host in chosen:
        n = _masters(config, host)
        reasons.append(f"{host}: MASTER of {n} instance(s) now" + (", BACKUP of all" if n == 0 else ""))
    if chosen != rolling:
        reasons.append("order changed from MASTER-of-fewest-first so that every VIP stays held: "
                       + ", ".join(chosen))
    if problems:
        reasons.append("no order keeps every VIP held; the roll is refused. Split the change in two runs: first "
                       "add the new instances or addresses alongside the old ones (or move the VIPs' mastership "
                       "with maintenance.yml / lvs_priority_overrides), roll that, then remove the old ones; an instance "
                       "that keeps its interface and virtual_router_id keeps its state across a reload, whatever its "
                       "name")
    return {"order": chosen, "steps": steps, "problems": problems, "warnings": warnings, "reasons": reasons}


def state_changes(before: dict, after: dict) -> list[str]:
    """Instances present before and after one director's reload (by name, or by interface and id as keepalived
    matches them) whose state changed, or that went through another state meanwhile. Instances the reload removed
    or added are not compared (the plan simulated them)."""
    out = []
    by_id = {(vi.get("interface"), vi.get("vrid")): vi for vi in (after or {}).values() if vi.get("vrid")}
    for name, was in sorted((before or {}).items()):
        if was.get("vrid"):  # keepalived's own match: interface and id (a name kept with a new id is a new instance)
            now = by_id.get((was.get("interface"), was.get("vrid")))
        else:
            now = (after or {}).get(name)
        if now is None:
            continue
        seen = list(now.get("transitions") or [])[len(was.get("transitions") or []):]
        states = [t.split()[1] for t in seen if len(t.split()) > 1]
        if now.get("state") != was.get("state") or any(s != was.get("state") for s in states):
            out.append(f"VRRP instance {name} was {was.get('state')}; after the reload it is {now.get('state')}"
                       f" with transitions {seen}")
    return out


def maintenance_unsettled(states: dict, instances: list[dict], director: str, phase: str) -> list[str]:
    """What still differs from a settled maintenance of `director` (its vrrp-state `states`, the inventory's
    normalized VRRP `instances`): at "start", every instance BACKUP; at "end", the instances it is the inventory
    MASTER of back to MASTER and the others BACKUP, except nopreempt instances, which stay where they went (MASTER
    or BACKUP: their holder keeps them when a higher priority returns). Only the instances `director` is a member
    of (named in their priorities) count; one of those keepalived does not report is not running."""
    out = []
    for vi in instances:
        if director not in (vi.get("priorities") or {}):
            continue
        now = (states.get(vi["name"]) or {}).get("state")
        if phase == "start" or not vi.get("nopreempt"):
            want = {"MASTER" if phase == "end" and vi.get("master") == director else "BACKUP"}
        else:
            want = {"MASTER", "BACKUP"}
        if now not in want:
            out.append(f"{vi['name']}: {now or 'not running'}, waiting for {' or '.join(sorted(want))}")
    return out
