# -*- coding: utf-8 -*-
"""The one model of a virtual service: normalize inventory, validate it, name the bad item.

Standard library only: used by the controller-side filter plugin (rendering, pre-flight checks)
and by modules on the targets. Every error names the variable, the item and the value, e.g.
``lvs_services[2] (web).real_servers[1].weight: 70000 is outside 0..65535``.
"""

from __future__ import annotations

import difflib
import functools
import ipaddress
import re

SCHEDULERS = ("rr", "wrr", "lc", "wlc", "lblc", "lblcr", "dh", "sh", "sed", "nq", "fo", "ovf", "mh")
SCHEDULER_FLAGS = {
    "sh": ("sh-fallback", "sh-port"),
    "mh": ("mh-fallback", "mh-port"),
}
PROTOCOLS = ("tcp", "udp", "sctp")
FORWARDING = ("nat", "dr", "tun")
TUNNEL_TYPES = ("ipip", "gue", "gre")
RS_STATES = ("enabled", "drained", "disabled")
HEALTH_TYPES = ("none", "tcp", "http", "https", "udp", "dns", "smtp", "mysql", "syslog", "custom")

SERVICE_KEYS = {
    "name", "vip", "port", "protocol", "fwmark", "scheduler", "scheduler_flags", "forwarding", "tunnel", "tunnel_port",
    "persistence", "ops", "health_check", "quorum", "hysteresis", "sorry_server", "inhibit_on_failure",
    "real_servers", "delay_loop", "vrrp_instance", "alpha", "omega", "vips",
}
RS_KEYS = {"address", "port", "weight", "state", "upper_threshold", "lower_threshold", "name"}
HEALTH_KEYS_COMMON = {"type", "interval", "timeout", "retries", "delay_before_retry", "port"}
HEALTH_KEYS = {
    "none": set(),
    "tcp": set(),
    "http": {"path", "status", "digest", "host"},
    "https": {"path", "status", "digest", "host"},
    "udp": {"payload", "reply"},
    "dns": {"query", "query_type"},
    "smtp": {"helo"},
    "mysql": {"user", "password"},
    "syslog": {"transport"},
    "custom": {"script"},
}
SERVICE_DEFAULTS = {
    "protocol": "tcp",
    "scheduler": "wlc",
    "scheduler_flags": [],
    "forwarding": "nat",
    "ops": False,
    "persistence": None,
    "quorum": 1,
    "hysteresis": 0,
    "sorry_server": None,
    "inhibit_on_failure": False,
    "alpha": False,
    "omega": False,
    "delay_loop": None,
}
HEALTH_DEFAULTS = {"type": "tcp", "interval": 3, "timeout": 2, "retries": 2, "delay_before_retry": 1}


class ModelError(ValueError):
    """A bad inventory value; the message names the variable, the item and the value."""


def _int(where: str, value, lo: int, hi: int, field: str = "") -> int:
    """`where` + `field` name the item; the message is built only when the value is bad."""
    if type(value) is int and lo <= value <= hi:  # the common case, kept cheap for big tables
        return value
    if field:
        where = f"{where}.{field}"
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise ModelError(f"{where}: {value!r} is not an integer")
    try:
        n = int(value)
    except ValueError:
        raise ModelError(f"{where}: {value!r} is not an integer") from None
    if not lo <= n <= hi:
        raise ModelError(f"{where}: {n} is outside {lo}..{hi}")
    return n


@functools.lru_cache(maxsize=4096)
def _parse_addr(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    # Large tables repeat the same few real-server addresses thousands of times.
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


@functools.lru_cache(maxsize=4096)
def _addr_text(addr) -> str:
    return str(addr)


def _addr(where: str, value) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    addr = _parse_addr(str(value))
    if addr is None:
        raise ModelError(f"{where}: {value!r} is not an IPv4 or IPv6 address")
    return addr


def _choice(where: str, value, choices) -> str:
    if value not in choices:
        raise ModelError(f"{where}: {value!r} is not one of {', '.join(choices)}")
    return value


def _unknown(where: str, item: dict, allowed: set) -> None:
    extra = sorted(set(item) - allowed, key=str)
    if extra:
        close = difflib.get_close_matches(str(extra[0]), sorted(allowed), n=1)
        hint = f"did you mean {close[0]!r}?" if close else f"allowed: {', '.join(sorted(allowed))}"
        raise ModelError(f"{where}: unknown key {extra[0]!r} ({hint})")


def _health(where: str, hc, port: int) -> dict:
    if hc is None:
        hc = {}
    if isinstance(hc, str):
        hc = {"type": hc}
    if not isinstance(hc, dict):
        raise ModelError(f"{where}: {hc!r} must be a mapping with at least 'type'")
    out = dict(HEALTH_DEFAULTS)
    out.update(hc)
    kind = _choice(f"{where}.type", out["type"], HEALTH_TYPES)
    fits = HEALTH_KEYS_COMMON | HEALTH_KEYS[kind]
    for key in sorted(set(hc) - fits, key=str):
        owners = [t for t in HEALTH_TYPES if key in HEALTH_KEYS[t]]
        if owners:
            raise ModelError(f"{where}.{key}: not an option of a {kind} health check "
                             f"(it belongs to {', '.join(owners)})")
    _unknown(where, hc, fits)
    out["interval"] = _int(f"{where}.interval", out["interval"], 1, 3600)
    out["timeout"] = _int(f"{where}.timeout", out["timeout"], 1, 3600)
    out["retries"] = _int(f"{where}.retries", out["retries"], 0, 100)
    out["delay_before_retry"] = _int(f"{where}.delay_before_retry", out["delay_before_retry"], 0, 3600)
    if "port" in out:
        out["port"] = _int(f"{where}.port", out["port"], 1, 65535)
    if kind in ("http", "https"):
        out.setdefault("path", "/")
        out["status"] = _int(f"{where}.status", out.get("status", 200), 100, 599)
        if not str(out["path"]).startswith("/"):
            raise ModelError(f"{where}.path: {out['path']!r} must start with '/'")
    if kind == "dns":
        out.setdefault("query", ".")
        out["query_type"] = _choice(f"{where}.query_type", out.get("query_type", "SOA"),
                                    ("A", "NS", "CNAME", "SOA", "MX", "TXT", "AAAA"))
    if kind == "custom" and not out.get("script"):
        raise ModelError(f"{where}.script: a custom health check needs a script")
    if kind == "mysql" and ("user" in out or "password" in out):
        # An authenticated ping: the credentials go to a file only the script user reads, never to argv.
        if not out.get("user") or not out.get("password"):
            raise ModelError(f"{where}: an authenticated mysql check needs both user and password "
                             f"(the password from Ansible Vault)")
        if not isinstance(out["user"], str) or not _NAME_WORD.match(out["user"]) or len(out["user"]) > 80:
            raise ModelError(f"{where}.user: {out['user']!r} must be a MySQL user name (letters, digits, _ . -)")
        out["password"] = str(out["password"])
    if kind == "syslog":
        out["transport"] = _choice(f"{where}.transport", out.get("transport", "udp"), ("tcp", "udp"))
    return out


def _group_vips(label: str, svc: dict) -> list[str]:
    """The service's VIPs: [vip], or the `vips` of a keepalived virtual_server_group (one family, no repeats)."""
    if "vips" not in svc:
        if "vip" not in svc:
            raise ModelError(f"{label}.vip: required (or vips, for several VIPs sharing the real servers)")
        return [_addr_text(_addr(f"{label}.vip", svc["vip"]))]
    if "vip" in svc:
        raise ModelError(f"{label}.vips: give either vip or vips, not both")
    if not _NAME_WORD.match(str(svc["name"])):
        raise ModelError(f"{label}.name: {svc['name']!r} names a keepalived virtual_server_group, so it must be "
                         f"a word (letters, digits, _ . -)")
    if svc.get("fwmark") is not None:
        raise ModelError(f"{label}.vips: a fwmark service has no VIPs (the firewall mark selects its traffic)")
    vips = svc["vips"]
    if not isinstance(vips, list) or not vips:
        raise ModelError(f"{label}.vips: {vips!r} must be a non-empty list of addresses")
    out = []
    for j, text in enumerate(vips):
        addr = _addr(f"{label}.vips[{j}]", text)
        first = _parse_addr(out[0]) if out else addr
        if addr.version != first.version:
            raise ModelError(f"{label}.vips[{j}]: {text} is IPv{addr.version} but vips[0] {first} is "
                             f"IPv{first.version}; one group shares real servers of one family")
        if _addr_text(addr) in out:
            raise ModelError(f"{label}.vips[{j}]: {text} is listed twice")
        out.append(_addr_text(addr))
    return out


def normalize_service(svc, i: int, var: str = "lvs_services") -> dict:
    if not isinstance(svc, dict):
        raise ModelError(f"{var}[{i}]: {svc!r} must be a mapping")
    label = f"{var}[{i}]" + (f" ({svc['name']})" if svc.get("name") else "")
    _unknown(label, svc, SERVICE_KEYS)
    out = dict(SERVICE_DEFAULTS)
    out.update(svc)
    if not out.get("name"):
        raise ModelError(f"{label}.name: every service needs a name")
    if out.get("fwmark") is not None:
        out["fwmark"] = _int(f"{label}.fwmark", out["fwmark"], 1, 0xFFFFFFFF)
        out["port"] = _int(f"{label}.port", out.get("port", 0), 0, 65535)
    else:
        out["fwmark"] = None
        if "port" not in svc:
            raise ModelError(f"{label}.port: required unless fwmark is set")
        out["port"] = _int(f"{label}.port", out["port"], 0, 65535)
    out["vips"] = _group_vips(label, svc)
    vip = _parse_addr(out["vips"][0])
    out["vip"] = out["vips"][0]
    out["family"] = vip.version
    out["group"] = out["name"] if "vips" in svc else None
    out["protocol"] = _choice(f"{label}.protocol", out["protocol"], PROTOCOLS)
    out["scheduler"] = _choice(f"{label}.scheduler", out["scheduler"], SCHEDULERS)
    flags = out["scheduler_flags"] or []
    if isinstance(flags, str):
        flags = [flags]
    for f in flags:
        _choice(f"{label}.scheduler_flags", f, SCHEDULER_FLAGS.get(out["scheduler"], ()) or ("(none for "
                + out["scheduler"] + ")",))
    out["scheduler_flags"] = list(flags)
    out["forwarding"] = _choice(f"{label}.forwarding", out["forwarding"], FORWARDING)
    if out.get("tunnel") is not None:
        if out["forwarding"] != "tun":
            raise ModelError(f"{label}.tunnel: only valid with forwarding: tun")
        out["tunnel"] = _choice(f"{label}.tunnel", out["tunnel"], TUNNEL_TYPES)
    elif out["forwarding"] == "tun":
        out["tunnel"] = "ipip"
    out["tunnel_port"] = _int(f"{label}.tunnel_port", out.get("tunnel_port") or 0, 0, 65535)
    if out["tunnel_port"] and out.get("tunnel") not in ("gue", "gre"):
        raise ModelError(f"{label}.tunnel_port: only valid with tunnel: gue (the GUE receiver port)")
    if out.get("tunnel") == "gue" and not out["tunnel_port"]:
        raise ModelError(f"{label}.tunnel_port: tunnel: gue needs the UDP port of the real servers' GUE receiver")
    if out["persistence"] is not None:
        p = out["persistence"]
        if isinstance(p, (int, str)) and not isinstance(p, bool):
            p = {"timeout": p}
        if not isinstance(p, dict):
            raise ModelError(f"{label}.persistence: {p!r} must be a timeout in seconds or a mapping")
        _unknown(f"{label}.persistence", p, {"timeout", "netmask"})
        out["persistence"] = {"timeout": _int(f"{label}.persistence.timeout", p.get("timeout", 300), 1, 2678400)}
        if p.get("netmask") is not None:
            out["persistence"]["netmask"] = str(p["netmask"])
    out["quorum"] = _int(f"{label}.quorum", out["quorum"], 1, 65535)
    out["health_check"] = _health(f"{label}.health_check", svc.get("health_check"), out["port"])
    if "user" in out["health_check"] and not _NAME_WORD.match(str(out["name"])):
        raise ModelError(f"{label}.name: {out['name']!r} names the file of its mysql check credentials, so it "
                         f"must be a word (letters, digits, _ . -)")
    if out["delay_loop"] is None:
        out["delay_loop"] = out["health_check"]["interval"]
    rss = svc.get("real_servers")
    if not isinstance(rss, list) or not rss:
        raise ModelError(f"{label}.real_servers: needs a non-empty list of real servers")
    seen = set()
    out["real_servers"] = []
    for j, rs in enumerate(rss):
        where = f"{label}.real_servers[{j}]"
        if isinstance(rs, str):
            rs = {"address": rs}
        if not isinstance(rs, dict):
            raise ModelError(f"{where}: {rs!r} must be a mapping with 'address'")
        _unknown(where, rs, RS_KEYS)
        if "address" not in rs:
            raise ModelError(f"{where}.address: required")
        addr = _parse_addr(str(rs["address"])) or _addr(f"{where}.address", rs["address"])
        if addr.version != vip.version:
            raise ModelError(f"{where}.address: {rs['address']} is IPv{addr.version} but the VIP {vip} is "
                             f"IPv{vip.version} (IPVS cannot mix families in one service)")
        r = {"address": _addr_text(addr), "weight": 1, "state": "enabled",
             "upper_threshold": 0, "lower_threshold": 0, "name": rs.get("name")}
        r.update({k: v for k, v in rs.items() if k not in ("address", "name")})
        r["port"] = _int(where, rs.get("port", out["port"]), 0, 65535, "port")
        if out["forwarding"] in ("dr", "tun") and out["fwmark"] is None and r["port"] != out["port"]:
            raise ModelError(f"{where}.port: {r['port']} differs from the service port {out['port']}; "
                             f"{out['forwarding'].upper()} cannot rewrite ports")
        r["weight"] = _int(where, r["weight"], 0, 65535, "weight")
        r["upper_threshold"] = _int(where, r["upper_threshold"], 0, 0xFFFFFFFF, "upper_threshold")
        r["lower_threshold"] = _int(where, r["lower_threshold"], 0, 0xFFFFFFFF, "lower_threshold")
        if r["state"] not in RS_STATES:
            _choice(f"{where}.state", r["state"], RS_STATES)
        key = (r["address"], r["port"])
        if key in seen:
            raise ModelError(f"{where}: {r['address']}:{r['port']} is listed twice")
        seen.add(key)
        out["real_servers"].append(r)
    return out


def service_key(svc: dict) -> str:
    if svc["fwmark"] is not None:
        return f"fwmark {svc['fwmark']} (IPv{svc['family']})"
    host = f"[{svc['vip']}]" if svc["family"] == 6 else svc["vip"]
    return f"{svc['protocol']} {host}:{svc['port']}"


def normalize_services(services, var: str = "lvs_services") -> list[dict]:
    """Normalize and validate a whole service list, including checks across services."""
    if services is None:
        return []
    if not isinstance(services, list):
        raise ModelError(f"{var}: must be a list of services, got {type(services).__name__}")
    out, keys, names = [], {}, {}
    for i, svc in enumerate(services):
        n = normalize_service(svc, i, var)
        if n["name"] in names:
            raise ModelError(f"{var}[{i}].name: {n['name']!r} is already used by {var}[{names[n['name']]}]")
        names[n["name"]] = i
        # A group is one kernel service per VIP, all alike: expanded here so IPVS, verification and
        # real-server consumers see kernel services; keepalived's template folds them back by `group`.
        for vip in n["vips"]:
            member = n if vip == n["vip"] else dict(n, vip=vip)
            k = service_key(member)
            if k in keys:
                raise ModelError(f"{var}[{i}] ({n['name']}): {k} is already declared by {var}[{keys[k]}]")
            keys[k] = i
            out.append(member)
    return out


VRRP_KEYS = {"name", "interface", "virtual_router_id", "advert_int", "priorities", "virtual_ipaddresses",
             "nopreempt", "preempt_delay", "auth_pass", "unicast_peers", "track_interfaces", "track_scripts",
             "sync_group", "lvs_sync_daemon", "garp_master_delay", "garp_master_repeat", "garp_master_refresh"}
VRRP_SCRIPT_KEYS = {"name", "script", "interval", "timeout", "fall", "rise", "weight"}
_SAFE_WORD = re.compile(r"^[A-Za-z0-9_./:=@%+,-]+$")
# A name that also becomes a keepalived block name or a file name: no path separators, no leading dot.
_NAME_WORD = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")


def normalize_vrrp_scripts(scripts, var: str = "lvs_vrrp_scripts") -> list[dict]:
    """Validate vrrp_script definitions (track_scripts of VRRP instances name them).

    `script` is an argv list: keepalived runs it as the non-root script_user, without a shell.
    """
    if scripts is None:
        return []
    if not isinstance(scripts, list):
        raise ModelError(f"{var}: must be a list of scripts, got {type(scripts).__name__}")
    out, names = [], set()
    for i, sc in enumerate(scripts):
        if not isinstance(sc, dict):
            raise ModelError(f"{var}[{i}]: {sc!r} must be a mapping")
        label = f"{var}[{i}]" + (f" ({sc['name']})" if sc.get("name") else "")
        _unknown(label, sc, VRRP_SCRIPT_KEYS)
        name = sc.get("name")
        if not isinstance(name, str) or not _SAFE_WORD.match(name):
            raise ModelError(f"{label}.name: {name!r} must be a word (letters, digits, _ . -)")
        if name in names:
            raise ModelError(f"{label}.name: {name!r} is defined twice")
        names.add(name)
        argv = sc.get("script")
        if not isinstance(argv, list) or not argv or not str(argv[0]).startswith("/"):
            raise ModelError(f"{label}.script: {argv!r} must be an argv list starting with an absolute path")
        for j, word in enumerate(argv):
            if not _SAFE_WORD.match(str(word)):
                raise ModelError(f"{label}.script[{j}]: {word!r} has characters keepalived would reinterpret "
                                 f"(quotes, spaces, shell syntax); use a wrapper script")
        n = {"name": name, "script": [str(w) for w in argv]}
        n["interval"] = _int(label, sc.get("interval", 2), 1, 3600, "interval")
        n["timeout"] = _int(label, sc.get("timeout", n["interval"]), 1, 3600, "timeout")
        n["fall"] = _int(label, sc.get("fall", 2), 1, 255, "fall")
        n["rise"] = _int(label, sc.get("rise", 2), 1, 255, "rise")
        n["weight"] = _int(label, sc.get("weight", 0), -253, 253, "weight")
        out.append(n)
    return out


def normalize_vrrp_instances(instances, hosts=None, var: str = "lvs_vrrp_instances", scripts=None) -> list[dict]:
    """Validate VRRP instances: ids, one MASTER, VIP families; `hosts` are the directors' names.

    `scripts` (normalized lvs_vrrp_scripts), when given, are what track_scripts may name.
    """
    if instances is None:
        return []
    if not isinstance(instances, list):
        raise ModelError(f"{var}: must be a list of VRRP instances, got {type(instances).__name__}")
    out, names, ids = [], {}, {}
    for i, vi in enumerate(instances):
        if not isinstance(vi, dict):
            raise ModelError(f"{var}[{i}]: {vi!r} must be a mapping")
        label = f"{var}[{i}]" + (f" ({vi['name']})" if vi.get("name") else "")
        _unknown(label, vi, VRRP_KEYS)
        for req in ("name", "interface", "virtual_router_id", "priorities", "virtual_ipaddresses"):
            if vi.get(req) in (None, "", [], {}):
                raise ModelError(f"{label}.{req}: required")
        n = dict(vi)
        n.setdefault("advert_int", 1)
        n["virtual_router_id"] = _int(label, vi["virtual_router_id"], 1, 255, "virtual_router_id")
        n["advert_int"] = _int(label, n["advert_int"], 1, 255, "advert_int")
        if vi["name"] in names:
            raise ModelError(f"{label}.name: {vi['name']!r} is already used by {var}[{names[vi['name']]}]")
        names[vi["name"]] = i
        seg = (vi["interface"], n["virtual_router_id"])
        if seg in ids:
            raise ModelError(f"{label}.virtual_router_id: {n['virtual_router_id']} is already used on "
                             f"{vi['interface']} by {var}[{ids[seg]}]; one segment needs one id per instance")
        ids[seg] = i
        prios = vi["priorities"]
        if not isinstance(prios, dict):
            raise ModelError(f"{label}.priorities: {prios!r} must map each director to a priority")
        for host, prio in prios.items():
            _int(f"{label}.priorities", prio, 1, 254, str(host))
            if hosts is not None and host not in hosts:
                raise ModelError(f"{label}.priorities.{host}: {host!r} is not a director "
                                 f"(directors: {', '.join(sorted(hosts))})")
        top = max(int(p) for p in prios.values())
        masters = sorted(h for h, p in prios.items() if int(p) == top)
        if len(masters) > 1:
            raise ModelError(f"{label}.priorities: {' and '.join(masters)} share the highest priority {top}; "
                             f"exactly one director must be MASTER")
        families = set()
        for j, text in enumerate(vi["virtual_ipaddresses"]):
            try:
                families.add(ipaddress.ip_interface(str(text)).version)
            except ValueError:
                raise ModelError(f"{label}.virtual_ipaddresses[{j}]: {text!r} is not an address or "
                                 f"address/prefix") from None
        if len(families) > 1:
            raise ModelError(f"{label}.virtual_ipaddresses: mixes IPv4 and IPv6; keepalived needs one "
                             f"family per VRRP instance (use two instances)")
        if vi.get("auth_pass") is not None and not 1 <= len(str(vi["auth_pass"])) <= 8:
            raise ModelError(f"{label}.auth_pass: must be 1 to 8 characters (VRRP PASS authentication)")
        known = {sc["name"] for sc in scripts} if scripts is not None else None
        n["track_scripts"] = list(vi.get("track_scripts") or [])
        for j, name in enumerate(n["track_scripts"]):
            if known is not None and name not in known:
                close = difflib.get_close_matches(str(name), sorted(known), n=1)
                raise ModelError(f"{label}.track_scripts[{j}]: {name!r} is not in lvs_vrrp_scripts"
                                 + (f" (did you mean {close[0]!r}?)" if close else ""))
        for key, lo, hi in (("garp_master_delay", 0, 255), ("garp_master_repeat", 1, 255),
                            ("garp_master_refresh", 0, 3600), ("preempt_delay", 0, 1000)):
            if vi.get(key) is not None:
                n[key] = _int(label, vi[key], lo, hi, key)
        if vi.get("sync_group") is not None and not _SAFE_WORD.match(str(vi["sync_group"])):
            raise ModelError(f"{label}.sync_group: {vi['sync_group']!r} must be a word (letters, digits, _ . -)")
        sd = vi.get("lvs_sync_daemon")
        if sd:
            sd = {} if sd is True else sd
            if not isinstance(sd, dict):
                raise ModelError(f"{label}.lvs_sync_daemon: {sd!r} must be true or a mapping (interface, id)")
            _unknown(f"{label}.lvs_sync_daemon", sd, {"interface", "id"})
            n["lvs_sync_daemon"] = {"interface": str(sd.get("interface", vi["interface"])),
                                    "id": _int(f"{label}.lvs_sync_daemon", sd.get("id", n["virtual_router_id"]),
                                               0, 255, "id")}
        n["master"] = masters[0]
        out.append(n)
    daemons = [n["name"] for n in out if n.get("lvs_sync_daemon")]
    if len(daemons) > 1:
        raise ModelError(f"{var}: lvs_sync_daemon is set on {' and '.join(daemons)}; keepalived runs one "
                         f"connection-sync daemon, following one VRRP instance")
    return out


K8S_HEALTH = {"http": "http", "tcp": "tcp", "mysql": "mysql"}


def apply_real_server_states(services: list[dict], states) -> list[dict]:
    """Normalized services with some real servers' state overridden: {address or address:port: state}.

    Used by rolling operations (drain one host, remove one after draining) without editing the inventory.
    """
    if not states:
        return services
    if not isinstance(states, dict):
        raise ModelError(f"real server states: {states!r} must be a mapping of address to state")
    wanted = {}
    for key, state in states.items():
        if state not in RS_STATES:
            _choice(f"real server states.{key}", state, RS_STATES)
        wanted[str(key)] = state
    used = set()
    out = []
    for svc in services:
        svc = dict(svc)
        rss = []
        for rs in svc["real_servers"]:
            hit = wanted.get(f"{rs['address']}:{rs['port']}") or wanted.get(rs["address"])
            if hit:
                used.update(k for k in (f"{rs['address']}:{rs['port']}", rs["address"]) if k in wanted)
                rs = dict(rs, state=hit)
            rss.append(rs)
        svc["real_servers"] = rss
        out.append(svc)
    unknown = sorted(set(wanted) - used)
    if unknown:
        raise ModelError(f"real server states: {', '.join(unknown)} is not a real server of any service")
    return out


def real_server_vips(services: list[dict], addresses) -> list[dict]:
    """The VIPs a DR/TUN real server must accept: one entry per VIP whose service lists one of `addresses`.

    `services` are normalized. Each entry: vip, family, forwarding ("dr"/"tun"), tunnel, services (names).
    fwmark services without a VIP cannot say which address to accept and are skipped.
    """
    mine = {_addr_text(ipaddress.ip_address(str(a).split("/")[0])) for a in addresses or []}
    out: dict[str, dict] = {}
    for svc in services:
        if svc["forwarding"] == "nat" or not svc.get("vip"):
            continue
        if not any(rs["address"] in mine for rs in svc["real_servers"]):
            continue
        entry = out.setdefault(svc["vip"], {"vip": svc["vip"], "family": svc["family"], "forwarding": svc["forwarding"],
                                             "tunnel": svc.get("tunnel"), "services": []})
        if entry["forwarding"] != svc["forwarding"] or entry["tunnel"] != svc.get("tunnel"):
            raise ModelError(f"service {svc['name']}: VIP {svc['vip']} is used with forwarding "
                             f"{entry['forwarding']}/{entry['tunnel']} by {entry['services'][0]} and "
                             f"{svc['forwarding']}/{svc.get('tunnel')} here; a real server accepts one VIP one way")
        entry["services"].append(svc["name"])
    return [out[k] for k in sorted(out)]


def services_from_k8s(docs, source: str = "k8s") -> list[dict]:
    """HeYe-style Kubernetes `Service` + `Endpoints` documents -> services in the lvsfleet model.

    A Service and the Endpoints of the same metadata.name make one service per port: the VIP is
    spec.loadBalancerIP, else spec.externalIPs[0], else spec.clusterIP; Service.spec.ports[].name must
    match Endpoints.subsets[].ports[].name; Endpoints.metadata.annotations carries `calledSource` and
    `healthCheckType` (http, tcp or mysql), both required. Optional Service annotations:
    `scheduler` (default wrr) and `healthCheckPath` (http, default /).
    """
    docs = [d for d in (docs or []) if d]
    services, endpoints = {}, {}
    for i, doc in enumerate(docs):
        if not isinstance(doc, dict) or doc.get("kind") not in ("Service", "Endpoints"):
            kind = doc.get("kind") if isinstance(doc, dict) else type(doc).__name__
            raise ModelError(f"{source}: document {i} is a {kind!r}; only Service and Endpoints are accepted")
        name = (doc.get("metadata") or {}).get("name")
        if not name:
            raise ModelError(f"{source}: document {i} ({doc['kind']}) has no metadata.name")
        (services if doc["kind"] == "Service" else endpoints)[name] = doc
    out = []
    for name, svc in services.items():
        where = f"{source}: Service {name}"
        ep = endpoints.get(name)
        if ep is None:
            raise ModelError(f"{where}: no Endpoints named {name!r}")
        spec = svc.get("spec") or {}
        vip = spec.get("loadBalancerIP") or (spec.get("externalIPs") or [None])[0] or spec.get("clusterIP")
        if not vip or vip == "None":
            raise ModelError(f"{where}: spec needs loadBalancerIP, externalIPs or clusterIP (the VIP)")
        ann = (ep.get("metadata") or {}).get("annotations") or {}
        for key in ("calledSource", "healthCheckType"):
            if not ann.get(key):
                raise ModelError(f"{source}: Endpoints {name}: metadata.annotations.{key} is required")
        check = ann["healthCheckType"]
        if check not in K8S_HEALTH:
            raise ModelError(f"{source}: Endpoints {name}: metadata.annotations.healthCheckType: {check!r} is not "
                             f"one of http, tcp, mysql")
        svc_ann = (svc.get("metadata") or {}).get("annotations") or {}
        svc_ports = {p.get("name"): p for p in spec.get("ports") or []}
        if not svc_ports:
            raise ModelError(f"{where}: spec.ports is empty")
        backends: dict[str, list] = {}
        for s_i, subset in enumerate(ep.get("subsets") or []):
            addrs = [a.get("ip") for a in subset.get("addresses") or []]
            for p_i, port in enumerate(subset.get("ports") or []):
                pname = port.get("name")
                if pname not in svc_ports:
                    raise ModelError(f"{source}: Endpoints {name}: subsets[{s_i}].ports[{p_i}].name {pname!r} matches "
                                     f"no port of Service {name} (ports: {', '.join(map(str, svc_ports))})")
                backends.setdefault(pname, []).extend({"address": a, "port": port.get("port")} for a in addrs)
        for pname, port in svc_ports.items():
            if pname not in backends:
                raise ModelError(f"{where}: spec.ports name {pname!r} has no Endpoints port of that name")
            hc = {"type": K8S_HEALTH[check]}
            if check == "http":
                hc["path"] = svc_ann.get("healthCheckPath", "/")
            out.append({"name": f"{name}-{pname}" if len(svc_ports) > 1 else name, "vip": vip,
                        "port": port.get("port"), "protocol": str(port.get("protocol", "TCP")).lower(),
                        "scheduler": svc_ann.get("scheduler", "wrr"), "health_check": hc,
                        "real_servers": backends[pname]})
    orphans = sorted(set(endpoints) - set(services))
    if orphans:
        raise ModelError(f"{source}: Endpoints {orphans[0]} has no Service of the same name")
    return out
