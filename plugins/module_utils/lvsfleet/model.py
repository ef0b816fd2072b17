# -*- coding: utf-8 -*-
"""The one model of a virtual service: normalize inventory, validate it, name the bad item.

Standard library only: used by the controller-side filter plugin (rendering, the pre-flight gate) and by
modules on the targets. Every error names the variable, the item and the value, e.g.
``lvs_services[2] (web).real_servers[1].weight: 70000 is outside 0..65535``.

The model is closed: templates and modules print what it decided (weights after a real server's state,
check ports, canonical netmasks, resolved unicast peers, each director's initial VRRP state) and decide
nothing themselves. Every string that reaches keepalived.conf has passed one of the grammars below, none of
which admits whitespace, quotes, braces, '#', '!' or '$' (what keepalived's parser treats as token, block,
comment or variable syntax), so no inventory value can add a directive.
"""

from __future__ import annotations

import difflib
import functools
import ipaddress
import re

# The vocabularies and key sets are the schema's (schema.py: every key, its kind, default and readers).
from .schema import (  # noqa: E402  pylint: disable=wrong-import-position
    DNS_TYPES, FORWARDING, HEALTH_TYPES, OBJECTS, PROTOCOLS, RS_STATES, SCHEDULER_FLAGS, SCHEDULERS, TUNNEL_TYPES,
    VARIABLES, VIP_HOLDERS, health_keys, health_keys_common,
)

SERVICE_KEYS = set(OBJECTS["service"])
RS_KEYS = set(OBJECTS["real_server"])
HEALTH_KEYS_COMMON = health_keys_common()
HEALTH_KEYS = {kind: health_keys(kind) for kind in HEALTH_TYPES}
# The transport a check type probes with: a check of another transport than the service's must name the
# port it probes (health_check.port), or it would knock on a port nothing listens on.
HEALTH_TRANSPORT = {"tcp": "tcp", "http": "tcp", "https": "tcp", "smtp": "tcp", "mysql": "tcp", "udp": "udp",
                    "dns": "udp"}
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
    "vip_holder": "vrrp",
    "vrrp_instance": None,
}
HEALTH_DEFAULTS = {"type": "tcp", "interval": 3, "timeout": 2, "retries": 2, "delay_before_retry": 1,
                   "via": "address"}
# health_check.via: "address" probes the real server's own address; "forwarding" probes the VIP through the
# path clients use (DR or IP-in-IP to that one real server), so a real server that lost its VIP or its tunnel
# fails its check. Check types that open a socket keepalived can mark and bind (not scripts).
HEALTH_VIA = ("address", "forwarding")
VIA_FORWARDING_TYPES = ("tcp", "http", "https", "udp", "dns", "smtp", "syslog")
# Firewall marks of the check paths: one IPVS fwmark service per (service, real server) holding only that real
# server; the checker marks its socket with it. Service fwmarks must stay out of this range.
CHECK_FWMARK_BASE = 0x6C760000
CHECK_FWMARK_COUNT = 0x10000

# ---------------------------------------------------------------- grammars of rendered strings
# A name that also becomes a keepalived block name or a file name: no path separators, no leading dot.
_NAME_WORD = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}")
# A VRRP instance name is also a file name on the director (vrrp-notify records its state as
# /run/lvsfleet/vrrp/NAME, its transitions as NAME.log): no dots, so no name is another's record, '.' or '..'.
# vrrp-notify and vrrp-state accept exactly this.
_VRRP_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_-]{0,63}")
# One argv word of a script keepalived runs without a shell (vrrp_script, custom MISC_CHECK).
_SAFE_WORD = re.compile(r"[A-Za-z0-9_./:=@%+,-]+")
# A Linux interface name (dev_valid_name: 1-15 bytes, no '/', ':' or whitespace), restricted to the usual set.
_IFNAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,14}")
_LABEL = r"[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?"
_HOSTNAME = re.compile(rf"(?=.{{1,253}}$){_LABEL}(?:\.{_LABEL})*\.?")
# An HTTP request target: absolute path and optional query, RFC 3986 characters without those keepalived's
# parser or variable expansion would read ('#', '!', '$', quotes, braces, whitespace); '%' only as %XX.
# _URL_PATH and _COMMAND_BYTES keep a rendered line inside keepalived's 1023-byte line buffer (lib/parser.c
# read_line(); the rest of a longer line is read as a line of its own): indent and keyword take at most 40 bytes.
_URL_PATH = re.compile(r"/(?:[A-Za-z0-9\-._~/:@&=+,;*()?]|%[0-9A-Fa-f]{2}){0,960}")
# UDP_CHECK payload/require_reply: one line of keepalived.conf, two characters a byte, under its 1023-byte buffer.
_HEX = re.compile(r"(?:[0-9A-Fa-f]{2}){1,480}")
_COMMAND_BYTES = 960  # a command's words, each %RS_ADDRESS% counted as the longest address it becomes
_MD5 = re.compile(r"[0-9A-Fa-f]{32}")
# A VRRP PASS secret as keepalived reads it: one token, printable ASCII, no comment or quote characters.
_AUTH_PASS = re.compile(r"[A-Za-z0-9%&()*+,\-./:;<=>?@\[\]^_`|~]{1,8}")
_VARIABLE = re.compile(r"lvs_[A-Za-z0-9_]*")


class ModelError(ValueError):
    """A bad inventory value; the message names the variable, the item and the value."""


def _fullmatch(pattern: re.Pattern, value) -> bool:
    return isinstance(value, str) and pattern.fullmatch(value) is not None


def _int(where: str, value, lo: int, hi: int, field: str = "") -> int:
    """`where` + `field` name the item; the message is built only when the value is bad."""
    if isinstance(value, int) and not isinstance(value, bool) and lo <= value <= hi:  # the common case
        return value
    if field:
        where = f"{where}.{field}"
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise ModelError(f"{where}: {_show(value)} is not an integer")
    if isinstance(value, str):
        if not re.fullmatch(r"[+-]?[0-9]{1,20}", value.strip()):
            raise ModelError(f"{where}: {_show(value)} is not an integer")
        value = int(value)
    if not lo <= value <= hi:
        raise ModelError(f"{where}: {value} is outside {lo}..{hi}")
    return value


def _bool(where: str, value) -> bool:
    if not isinstance(value, bool):
        raise ModelError(f"{where}: {_show(value)} must be true or false (a YAML boolean, not a string)")
    return value


def _list(where: str, value, what: str, empty: bool = True) -> list:
    if not isinstance(value, list):
        raise ModelError(f"{where}: {_show(value)} must be a list of {what}")
    if not value and not empty:
        raise ModelError(f"{where}: needs a non-empty list of {what}")
    return value


def _mapping(where: str, value, what: str) -> dict:
    if not isinstance(value, dict):
        raise ModelError(f"{where}: {_show(value)} must be a mapping ({what})")
    for key in value:
        if not isinstance(key, str):
            raise ModelError(f"{where}: key {_show(key)} must be a string")
    return value


def _kind(value) -> str:
    """What a value is, in inventory words (Ansible hands over str, dict and list subclasses)."""
    for cls, word in ((bool, "boolean"), (int, "integer"), (float, "number"), (str, "string"), (dict, "mapping"),
                      (list, "list")):
        if isinstance(value, cls):
            return word
    return "null" if value is None else type(value).__name__


def _show(value) -> str:
    """A value as it goes into a message: repr, shortened; never a private key, whatever variable holds it."""
    if "PRIVATE KEY" in repr(value):
        return "(a PEM private key, not shown)"
    text = repr(value)
    return text if len(text) <= 120 else text[:117] + "..."


# Words keepalived's line reader acts on wherever a line starts with them (names are rendered alone on a line
# in block lists: sync group members, track_interface and track_script entries).
_RESERVED = ("include",)


def _word(where: str, value, pattern: re.Pattern, what: str) -> str:
    if not _fullmatch(pattern, value):
        raise ModelError(f"{where}: {_show(value)} must be {what}")
    if value in _RESERVED:
        raise ModelError(f"{where}: {value!r} is a word keepalived's configuration reader acts on; choose another")
    return value


def _name(where: str, value, why: str = "") -> str:
    return _word(where, value, _NAME_WORD, "a name of letters, digits, '_', '.' and '-' (at most 64, not starting "
                 "with '.' or '-')" + why)


def _vrrp_name(where: str, value) -> str:
    return _word(where, value, _VRRP_NAME, "a VRRP instance name of letters, digits, '_' and '-' (at most 64, not "
                 "starting with '-'; no '.': the director records the instance's state in a file of that name)")


def _ifname(where: str, value) -> str:
    return _word(where, value, _IFNAME, "an interface name (1 to 15 letters, digits, '_', '.' or '-')")


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


def _unusable(addr) -> str:
    """Why an address cannot be a VIP, real server or VRRP peer; '' if it can."""
    if addr.is_unspecified:
        return "the unspecified address"
    if addr.is_multicast:
        return "a multicast address"
    if addr.is_loopback:
        return "a loopback address"
    if addr.version == 4 and addr == ipaddress.IPv4Address("255.255.255.255"):
        return "the broadcast address"
    if addr.is_link_local:
        return "a link-local address (it needs a scope no service carries)"
    if addr.version == 6 and addr.ipv4_mapped is not None:
        return "an IPv4-mapped IPv6 address (use the IPv4 address)"
    return ""


def _addr(where: str, value) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    addr = _parse_addr(value) if isinstance(value, str) else None
    if addr is None:
        raise ModelError(f"{where}: {_show(value)} is not an IPv4 or IPv6 address")
    if "%" in value:
        raise ModelError(f"{where}: {_show(value)} carries a scope; give the address alone")
    why = _unusable(addr)
    if why:
        raise ModelError(f"{where}: {value} is {why}, which cannot work here")
    return addr


def normalize_address(where: str, value) -> str:
    """One usable IPv4 or IPv6 address (no prefix, no scope), canonical; raises naming `where`."""
    return str(_addr(where, value))


def _choice(where: str, value, choices) -> str:
    if not isinstance(value, str) or value not in choices:
        raise ModelError(f"{where}: {_show(value)} is not one of {', '.join(choices)}")
    return value


def _unknown(where: str, item: dict, allowed: set) -> None:
    extra = sorted(set(item) - allowed, key=str)
    if extra:
        close = difflib.get_close_matches(str(extra[0]), sorted(allowed), n=1)
        hint = f"did you mean {close[0]!r}?" if close else f"allowed: {', '.join(sorted(allowed))}"
        raise ModelError(f"{where}: unknown key {_show(extra[0])} ({hint})")


# ---------------------------------------------------------------- health checks
def _health(where: str, hc, protocol: str) -> dict:
    """A service's health_check, normalized: defaults filled in, options checked against its type."""
    hc = _health_mapping(where, hc, protocol)
    out = dict(HEALTH_DEFAULTS)
    out.update(hc)
    kind = _choice(f"{where}.type", out["type"], HEALTH_TYPES)
    _health_keys(where, hc, kind)
    _health_timing(where, out, kind)
    out["port"] = _int(where, out["port"], 1, 65535, "port") if "port" in hc else None
    out["via"] = _choice(f"{where}.via", out["via"], HEALTH_VIA)
    if out["via"] == "forwarding" and kind not in VIA_FORWARDING_TYPES:
        raise ModelError(f"{where}.via: forwarding needs a check keepalived runs itself "
                         f"({', '.join(VIA_FORWARDING_TYPES)}); a {kind} check cannot be sent through the "
                         f"forwarding path")
    if kind == "syslog":
        out["transport"] = _choice(f"{where}.transport", out.get("transport", "udp"), ("tcp", "udp"))
    transport = HEALTH_TRANSPORT.get(kind) or out.get("transport")
    if transport and transport != protocol and out["port"] is None:
        raise ModelError(f"{where}.type: a {kind} check probes over {transport.upper()} but the service is "
                         f"{protocol.upper()}; set health_check.port to the {transport.upper()} port to probe, or "
                         f"choose a check of the service's protocol")
    _health_options(where, hc, out, kind)
    return out


def _health_mapping(where: str, hc, protocol: str) -> dict:
    """health_check as a mapping with a type: none or a bare type name become one, the default type filled in."""
    if hc is None:
        # By default a check of the service's own transport: connect (TCP) or a datagram that must not draw
        # an ICMP port unreachable (UDP). keepalived has no SCTP check: an SCTP service names its own.
        hc = {"type": {"tcp": "tcp", "udp": "udp"}.get(protocol, "none")}
    if isinstance(hc, str):
        hc = {"type": hc}
    _mapping(where, hc, "at least 'type'")
    if "type" not in hc:  # the same default as no health_check: the service's own transport
        hc = dict(hc, type={"tcp": "tcp", "udp": "udp"}.get(protocol, "none"))
    return hc


def _health_keys(where: str, hc: dict, kind: str) -> None:
    """Only the common keys and those of the check's type; another type's key is named as such."""
    fits = HEALTH_KEYS_COMMON | HEALTH_KEYS[kind]
    for key in sorted(set(hc) - fits, key=str):
        owners = [t for t in HEALTH_TYPES if key in HEALTH_KEYS[t]]
        if owners:
            raise ModelError(f"{where}.{key}: not an option of a {kind} health check "
                             f"(it belongs to {', '.join(owners)})")
    _unknown(where, hc, fits)


def _health_timing(where: str, out: dict, kind: str) -> None:
    """interval, timeout, retries and delay_before_retry; a check ends before the next one starts."""
    out["interval"] = _int(where, out["interval"], 1, 3600, "interval")
    out["timeout"] = _int(where, out["timeout"], 1, 3600, "timeout")
    out["retries"] = _int(where, out["retries"], 0, 100, "retries")
    out["delay_before_retry"] = _int(where, out["delay_before_retry"], 0, 3600, "delay_before_retry")
    if kind != "none" and out["timeout"] > out["interval"]:
        raise ModelError(f"{where}.timeout: {out['timeout']} is longer than the interval {out['interval']}; a check "
                         f"must end before the next one starts")


def _health_http(where: str, hc: dict, out: dict) -> None:
    """An http or https check's path, status, digest and host."""
    out["path"] = _word(f"{where}.path", out.get("path", "/"), _URL_PATH,
                        "a URL path starting with '/' (RFC 3986 characters; percent-encode spaces, '#', '!', "
                        "'$', quotes and braces)")
    out["status"] = _int(where, out.get("status", 200), 100, 599, "status")
    if "digest" in hc:
        out["digest"] = _word(f"{where}.digest", hc["digest"], _MD5,
                              "an MD5 digest: 32 hex digits (as keepalived's genhash prints it)").lower()
    if "host" in hc:
        out["host"] = _host(f"{where}.host", hc["host"], allow_port=True)


def _health_options(where: str, hc: dict, out: dict, kind: str) -> None:
    """The options of the check's own type (http, udp, dns, smtp, custom, mysql)."""
    if kind in ("http", "https"):
        _health_http(where, hc, out)
    if kind == "udp":
        for key in ("payload", "reply"):
            if key in hc:
                out[key] = _word(f"{where}.{key}", hc[key], _HEX, "hex bytes (an even number of 0-9a-f, at most "
                                 "480 bytes)").lower()
    if kind == "dns":
        out["query"] = _host(f"{where}.query", out.get("query", "."), allow_root=True)
        out["query_type"] = _choice(f"{where}.query_type", out.get("query_type", "SOA"), DNS_TYPES)
    if kind == "smtp" and "helo" in hc:
        out["helo"] = _host(f"{where}.helo", hc["helo"])
    if kind == "custom":
        if not out.get("script"):
            raise ModelError(f"{where}.script: a custom health check needs a script")
        out["script"] = _argv(f"{where}.script", out["script"])
    if kind == "mysql" and ("user" in hc or "password" in hc):
        _health_mysql_login(where, hc, out)


def _health_mysql_login(where: str, hc: dict, out: dict) -> None:
    """An authenticated mysql ping: user and password, both given."""
    # The credentials go to a file only the script user reads, never to argv.
    if not hc.get("user") or not hc.get("password"):
        raise ModelError(f"{where}: an authenticated mysql check needs both user and password "
                         f"(the password from Ansible Vault)")
    _word(f"{where}.user", hc["user"], re.compile(r"[A-Za-z0-9_.-]{1,80}"),
          "a MySQL user name (letters, digits, _ . -)")
    password = hc["password"]
    if not isinstance(password, str) or any(ord(c) < 32 or ord(c) == 127 for c in password):
        # One line of the credentials file: a control character would end it or add another setting.
        raise ModelError(f"{where}.password: must be a string without control characters (a {_kind(password)} "
                         f"was given; the value is not shown)")
    out["password"] = str(hc["password"])


def _host(where: str, value, allow_port: bool = False, allow_root: bool = False) -> str:
    """A DNS name or an address (optionally :port), as one keepalived token."""
    if allow_root and value == ".":
        return value
    text = value
    if allow_port and isinstance(value, str) and re.fullmatch(r"[^:\[\]]+:[0-9]{1,5}", value):
        text, port = value.rsplit(":", 1)
        _int(where, int(port), 1, 65535)
    if isinstance(text, str) and (_fullmatch(_HOSTNAME, text) or _parse_addr(text.strip("[]")) is not None) \
            and "%" not in text:
        return value
    raise ModelError(f"{where}: {_show(value)} must be a host name (letters, digits, '-', '_', dots) or an address"
                     + (", optionally with :port" if allow_port else ""))


def _argv(where: str, value) -> list[str]:
    """A command keepalived runs without a shell: argv list (or one string of words), absolute program."""
    if isinstance(value, str):
        if "\n" in value or "\r" in value or "\t" in value or "  " in value.strip(" ") or value != value.strip(" "):
            raise ModelError(f"{where}: {_show(value)} must be words separated by single spaces (or an argv list)")
        value = value.split(" ")
    _list(where, value, "argv words", empty=False)
    for j, word in enumerate(value):
        if not _fullmatch(_SAFE_WORD, word):
            raise ModelError(f"{where}[{j}]: {_show(word)} has characters keepalived would reinterpret "
                             f"(quotes, spaces, shell syntax, '#', '!', '$'); use a wrapper script")
    if not value[0].startswith("/"):
        raise ModelError(f"{where}[0]: {_show(value[0])} must be an absolute path (keepalived runs it without a "
                         f"shell or PATH)")
    size = len(" ".join(value).replace("%RS_ADDRESS%", "f" * 39).replace("%RS_PORT%", "65535"))
    if size > _COMMAND_BYTES:
        raise ModelError(f"{where}: the command is {size} bytes once rendered; keepalived reads a configuration "
                         f"line of at most 1023 bytes, so at most {_COMMAND_BYTES} fit: use a wrapper script")
    return list(value)


# ---------------------------------------------------------------- services
def _group_vips(label: str, svc: dict) -> list[str]:
    """The service's VIPs: [vip], or the `vips` of a keepalived virtual_server_group (one family, no repeats)."""
    if "vips" not in svc:
        if "vip" not in svc:
            raise ModelError(f"{label}.vip: required (or vips, for several VIPs sharing the real servers)")
        return [_addr_text(_addr(f"{label}.vip", svc["vip"]))]
    if "vip" in svc:
        raise ModelError(f"{label}.vips: give either vip or vips, not both")
    if svc.get("fwmark") is not None:
        raise ModelError(f"{label}.vips: a fwmark service has no VIPs (the firewall mark selects its traffic)")
    vips = _list(f"{label}.vips", svc["vips"], "addresses", empty=False)
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


def _netmask(where: str, value, family: int) -> str:
    """Canonical persistence granularity: a dotted netmask for IPv4, a prefix length for IPv6."""
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise ModelError(f"{where}: {_show(value)} must be a netmask (255.255.255.0) or a prefix length (24)")
    text = str(value).lstrip("/") if isinstance(value, str) and value.startswith("/") else str(value)
    if re.fullmatch(r"[0-9]{1,3}", text):
        bits = int(text)
        top = 32 if family == 4 else 128
        if not 1 <= bits <= top:
            raise ModelError(f"{where}: prefix length {bits} is outside 1..{top} for an IPv{family} service")
        return str(ipaddress.IPv4Network(f"0.0.0.0/{bits}").netmask) if family == 4 else str(bits)
    if family == 6:
        raise ModelError(f"{where}: {_show(value)} must be a prefix length (1..128) for an IPv6 service")
    try:
        return str(ipaddress.IPv4Network(f"0.0.0.0/{text}").netmask)
    except ValueError:
        raise ModelError(f"{where}: {_show(value)} is not a contiguous IPv4 netmask (e.g. 255.255.255.0 or 24)") \
            from None


def _real_servers(label: str, out: dict, rss) -> list[dict]:
    rss = _list(f"{label}.real_servers", rss, "real servers", empty=False)
    vip_family = out["family"]
    vips = set(out["vips"])
    seen = set()
    result = []
    for j, rs in enumerate(rss):
        where = f"{label}.real_servers[{j}]"
        if isinstance(rs, str):
            rs = {"address": rs}
        _mapping(where, rs, "with 'address'")
        _unknown(where, rs, RS_KEYS)
        if "address" not in rs:
            raise ModelError(f"{where}.address: required")
        addr = _addr(f"{where}.address", rs["address"])
        if addr.version != vip_family:
            raise ModelError(f"{where}.address: {rs['address']} is IPv{addr.version} but the VIP {out['vip']} is "
                             f"IPv{vip_family} (IPVS cannot mix families in one service)")
        address = _addr_text(addr)
        if address in vips:
            raise ModelError(f"{where}.address: {address} is a VIP of this service; a service cannot balance "
                             f"onto its own VIP")
        r = {"address": address, "name": None}
        if rs.get("name") is not None:
            r["name"] = _name(f"{where}.name", rs["name"])
        r["port"] = _int(where, rs.get("port", out["port"]), 0, 65535, "port")
        if out["fwmark"] is None and r["port"] == 0:
            raise ModelError(f"{where}.port: 0 is only valid for fwmark services")
        if out["forwarding"] in ("dr", "tun") and out["fwmark"] is None and r["port"] != out["port"]:
            raise ModelError(f"{where}.port: {r['port']} differs from the service port {out['port']}; "
                             f"{out['forwarding'].upper()} cannot rewrite ports")
        r["weight"] = _int(where, rs.get("weight", 1), 0, 65535, "weight")
        r["upper_threshold"] = _int(where, rs.get("upper_threshold", 0), 0, 0x7FFFFFFF, "upper_threshold")
        r["lower_threshold"] = _int(where, rs.get("lower_threshold", 0), 0, 0x7FFFFFFF, "lower_threshold")
        if r["lower_threshold"] and (not r["upper_threshold"] or r["lower_threshold"] >= r["upper_threshold"]):
            raise ModelError(f"{where}.lower_threshold: {r['lower_threshold']} must be below upper_threshold "
                             f"{r['upper_threshold'] or '(unset)'}; the kernel resumes scheduling below the lower "
                             f"threshold only after stopping at the upper one")
        r["state"] = _choice(f"{where}.state", rs.get("state", "enabled"), RS_STATES)
        hc_port = out["health_check"]["port"]
        r["check_port"] = hc_port if hc_port is not None else r["port"]
        _set_state(r, r["state"])
        key = (address, r["port"])
        if key in seen:
            raise ModelError(f"{where}: {address}:{r['port']} is listed twice")
        seen.add(key)
        result.append(r)
    return result


def _set_state(rs: dict, state: str) -> None:
    """A real server's state and what it means in the kernel: kernel_weight (0 when drained), present."""
    rs["state"] = state
    rs["kernel_weight"] = 0 if state == "drained" else rs["weight"]
    rs["present"] = state != "disabled"


def normalize_service(svc, i: int, var: str = "lvs_services") -> dict:
    """One service of `var` (item `i`), normalized and checked on its own."""
    if not isinstance(svc, dict):
        raise ModelError(f"{var}[{i}]: {_show(svc)} must be a mapping")
    name = svc.get("name")
    label = f"{var}[{i}]" + (f" ({name})" if isinstance(name, str) and _fullmatch(_NAME_WORD, name) else "")
    _mapping(label, svc, "a service")
    _unknown(label, svc, SERVICE_KEYS)
    out = dict(SERVICE_DEFAULTS)
    out.update(svc)
    if not name:
        raise ModelError(f"{label}.name: every service needs a name")
    out["name"] = _name(f"{label}.name", name, "; it names keepalived groups and check files")
    _service_port(label, svc, out)
    out["vips"] = _group_vips(label, svc)
    vip = _parse_addr(out["vips"][0])
    out["vip"] = out["vips"][0]
    out["family"] = vip.version
    out["group"] = out["name"] if "vips" in svc else None
    out["protocol"] = _choice(f"{label}.protocol", out["protocol"], PROTOCOLS)
    _service_scheduler(label, out)
    _service_forwarding(label, out)
    for key in ("ops", "inhibit_on_failure", "alpha", "omega"):
        out[key] = _bool(f"{label}.{key}", out[key])
    if out["ops"] and out["protocol"] != "udp":
        raise ModelError(f"{label}.ops: one-packet scheduling works for UDP services only (this one is "
                         f"{out['protocol']}); keepalived would turn it off")
    if out["persistence"] is not None:
        out["persistence"] = _persistence(f"{label}.persistence", out["persistence"], out["family"])
    out["quorum"] = _int(f"{label}.quorum", out["quorum"], 1, 65535)
    out["hysteresis"] = _int(f"{label}.hysteresis", out["hysteresis"], 0, 65535)
    if out["hysteresis"] >= out["quorum"]:
        raise ModelError(f"{label}.hysteresis: {out['hysteresis']} must be below quorum {out['quorum']}; "
                         f"keepalived would reduce it")
    out["health_check"] = _health(f"{label}.health_check", svc.get("health_check"), out["protocol"])
    out["delay_loop"] = _int(f"{label}.delay_loop", out["delay_loop"], 1, 3600) if out["delay_loop"] is not None \
        else out["health_check"]["interval"]
    _service_vip_holder(label, out)
    if out["sorry_server"] is not None:
        out["sorry_server"] = _sorry(f"{label}.sorry_server", out["sorry_server"], out)
    if out["health_check"]["via"] == "forwarding":
        _check_via_forwarding(label, out)
    out["real_servers"] = _real_servers(label, out, svc.get("real_servers"))
    _check_quorum(label, out)
    return out


def _check_quorum(label: str, svc: dict) -> None:
    """quorum within the weight keepalived is given: drained (weight 0) and disabled (absent) servers add none."""
    total = sum(r["kernel_weight"] for r in svc["real_servers"] if r["present"])
    if svc["quorum"] > max(total, 1):
        raise ModelError(f"{label}.quorum: {svc['quorum']} exceeds the total weight {total} of its real servers; "
                         f"keepalived would reduce it")


def _service_port(label: str, svc: dict, out: dict) -> None:
    """fwmark and port: a fwmark service's port may be 0 (any), an address service needs one."""
    if out.get("fwmark") is not None:
        out["fwmark"] = _int(f"{label}.fwmark", out["fwmark"], 1, 0xFFFFFFFF)
        out["port"] = _int(f"{label}.port", out.get("port", 0), 0, 65535)
    else:
        out["fwmark"] = None
        if "port" not in svc:
            raise ModelError(f"{label}.port: required unless fwmark is set")
        out["port"] = _int(f"{label}.port", out["port"], 1, 65535)


def _service_scheduler(label: str, out: dict) -> None:
    """scheduler and scheduler_flags: the flags that scheduler takes, each once."""
    out["scheduler"] = _choice(f"{label}.scheduler", out["scheduler"], SCHEDULERS)
    flags = _list(f"{label}.scheduler_flags", out["scheduler_flags"] if out["scheduler_flags"] is not None else [],
                  "scheduler flags, e.g. [sh-port]")
    allowed = SCHEDULER_FLAGS.get(out["scheduler"], ()) or ("(none for " + out["scheduler"] + ")",)
    for f in flags:
        _choice(f"{label}.scheduler_flags", f, allowed)
    if len(set(flags)) != len(flags):
        raise ModelError(f"{label}.scheduler_flags: {_show(flags)} names a flag twice")
    out["scheduler_flags"] = list(flags)


def _service_forwarding(label: str, out: dict) -> None:
    """forwarding, tunnel (tun only; ipip by default) and tunnel_port (gue only, and then required)."""
    out["forwarding"] = _choice(f"{label}.forwarding", out["forwarding"], FORWARDING)
    if out.get("tunnel") is not None:
        if out["forwarding"] != "tun":
            raise ModelError(f"{label}.tunnel: only valid with forwarding: tun")
        out["tunnel"] = _choice(f"{label}.tunnel", out["tunnel"], TUNNEL_TYPES)
    elif out["forwarding"] == "tun":
        out["tunnel"] = "ipip"
    out["tunnel_port"] = _int(f"{label}.tunnel_port", out.get("tunnel_port") or 0, 0, 65535)
    if out["tunnel_port"] and out.get("tunnel") != "gue":
        raise ModelError(f"{label}.tunnel_port: only valid with tunnel: gue (the GUE receiver port)")
    if out.get("tunnel") == "gue" and not out["tunnel_port"]:
        raise ModelError(f"{label}.tunnel_port: tunnel: gue needs the UDP port of the real servers' GUE receiver")


def _persistence(where: str, value, family: int) -> dict:
    """persistence: a timeout in seconds, or {timeout, netmask}; as {timeout[, netmask]}."""
    if isinstance(value, (int, str)) and not isinstance(value, bool):
        value = {"timeout": value}
    _mapping(where, value, "a timeout in seconds or {timeout, netmask}")
    _unknown(where, value, set(OBJECTS["persistence"]))
    out = {"timeout": _int(f"{where}.timeout", value.get("timeout", 300), 1, 2678400)}
    if value.get("netmask") is not None:
        out["netmask"] = _netmask(f"{where}.netmask", value["netmask"], family)
    return out


def _service_vip_holder(label: str, out: dict) -> None:
    """vip_holder and vrrp_instance (only for a VIP VRRP holds); bgp's own conditions."""
    out["vip_holder"] = _choice(f"{label}.vip_holder", out["vip_holder"], VIP_HOLDERS)
    if out["vrrp_instance"] is not None:
        out["vrrp_instance"] = _vrrp_name(f"{label}.vrrp_instance", out["vrrp_instance"])
        if out["vip_holder"] != "vrrp":
            raise ModelError(f"{label}.vrrp_instance: a VIP held by {out['vip_holder']} is in no VRRP instance")
        if out["fwmark"] is not None:
            raise ModelError(f"{label}.vrrp_instance: a fwmark service has no VIP for a VRRP instance to hold")
    if out["vip_holder"] == "bgp":
        _anycast(label, out)


# Anycast (vip_holder: bgp): every director announces the VIP and an upstream router spreads flows over them by
# ECMP. A flow can move to another director (a director withdrawn, added or gone), which holds no state for it:
# only a scheduler that picks the same real server from the packet alone, on every director, keeps it.
ANYCAST_SCHEDULERS = ("mh", "sh")


def _anycast(label: str, svc: dict) -> None:
    where = f"{label}.vip_holder"
    if svc["fwmark"] is not None:
        raise ModelError(f"{where}: bgp is for services matched by VIP and port; the director announces a VIP while "
                         f"those services have live real servers, which a fwmark service does not show")
    if svc["forwarding"] not in ("dr", "tun"):
        raise ModelError(f"{label}.forwarding: {svc['forwarding']!r} with vip_holder bgp: NAT replies must return "
                         f"through the director that forwarded the request, which ECMP does not guarantee; use "
                         f"dr or tun")
    if svc["scheduler"] not in ANYCAST_SCHEDULERS:
        raise ModelError(f"{label}.scheduler: {svc['scheduler']!r} with vip_holder bgp: each director would pick "
                         f"its own real server for a flow ECMP moves to it; use mh (consistent hashing) or sh")
    if svc["persistence"] is not None:
        raise ModelError(f"{label}.persistence: with vip_holder bgp every director keeps its own persistence "
                         f"templates, so a client moved to another director may get another real server; mh "
                         f"without mh-port (or sh) already keeps a client on one real server")


def _check_via_forwarding(label: str, svc: dict) -> None:
    """health_check.via: forwarding: the check travels the clients' path, so it needs one (DR or IP-in-IP)."""
    where = f"{label}.health_check.via"
    if svc["forwarding"] not in ("dr", "tun") or svc.get("tunnel") not in (None, "ipip"):
        way = "/".join(filter(None, (svc["forwarding"], svc.get("tunnel"))))
        raise ModelError(f"{where}: forwarding checks go through DR or IP-in-IP (tun with tunnel ipip); this "
                         f"service forwards by {way}, where the real server's own address already is the path")
    if svc["fwmark"] is not None:
        raise ModelError(f"{where}: a fwmark service has no VIP:port for the check to connect to; check its real "
                         f"servers through an address:port service of the same VIP")
    if svc["family"] != 4:
        raise ModelError(f"{where}: forwarding checks are IPv4 only (the director must accept the reply from "
                         f"its own VIP, which IPv6 has no accept_local for); VIP {svc['vip']} is IPv6")


def _sorry(where: str, value, svc: dict) -> dict:
    if isinstance(value, str):
        raise ModelError(f"{where}: {_show(value)} must be a mapping {{address, port}}")
    _mapping(where, value, "{address, port}")
    _unknown(where, value, set(OBJECTS["sorry_server"]))
    if "address" not in value:
        raise ModelError(f"{where}.address: required")
    addr = _addr(f"{where}.address", value["address"])
    if addr.version != svc["family"]:
        raise ModelError(f"{where}.address: {value['address']} is IPv{addr.version} but the service is "
                         f"IPv{svc['family']}")
    port = _int(where, value.get("port", svc["port"]), 1 if svc["fwmark"] is None else 0, 65535, "port")
    return {"address": _addr_text(addr), "port": port}


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
        raise ModelError(f"{var}: {_show(services)} must be a list of services (a {_kind(services)} was given)")
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
    _one_way_per_vip(out, var)
    _check_fwmarks(out, var)
    return out


def _check_fwmarks(services: list[dict], var: str) -> None:
    """Number the check paths (health_check.via: forwarding) in service order: each real server's check_fwmark.
    The members of a group share their real servers (and so their marks)."""
    mark = CHECK_FWMARK_BASE
    for svc in services:
        if svc["fwmark"] is not None and CHECK_FWMARK_BASE <= svc["fwmark"] < CHECK_FWMARK_BASE + CHECK_FWMARK_COUNT:
            raise ModelError(f"{var} ({svc['name']}).fwmark: {svc['fwmark']} is in {CHECK_FWMARK_BASE:#x}-"
                             f"{CHECK_FWMARK_BASE + CHECK_FWMARK_COUNT - 1:#x}, the marks lvsfleet gives "
                             f"forwarding-path checks; choose a mark outside it")
        if svc["health_check"]["via"] != "forwarding" or (svc["group"] and svc["vip"] != svc["vips"][0]):
            continue
        for rs in svc["real_servers"]:  # every one, present or not: a state override keeps the numbering
            mark += 1
            rs["check_fwmark"] = mark
    if mark >= CHECK_FWMARK_BASE + CHECK_FWMARK_COUNT:
        raise ModelError(f"{var}: {mark - CHECK_FWMARK_BASE} forwarding-path checks; at most "
                         f"{CHECK_FWMARK_COUNT - 1} fit the marks lvsfleet reserves for them")


def _one_way_per_vip(services: list[dict], var: str) -> None:
    """A real server accepts a VIP one way (on lo for DR, on a tunnel for TUN): services sharing a VIP agree."""
    ways: dict[str, tuple] = {}
    for svc in services:
        if svc["forwarding"] == "nat" or svc["fwmark"] is not None:
            continue
        way = (svc["forwarding"], svc.get("tunnel"))
        first = ways.setdefault(svc["vip"], way + (svc["name"],))
        if first[:2] != way:
            raise ModelError(f"{var} ({svc['name']}).forwarding: VIP {svc['vip']} is used with "
                             f"{'/'.join(filter(None, first[:2]))} by {first[2]} and "
                             f"{'/'.join(filter(None, way))} here; a real server accepts one VIP one way")


# ---------------------------------------------------------------- VRRP
VRRP_KEYS = set(OBJECTS["vrrp_instance"])
VRRP_SCRIPT_KEYS = set(OBJECTS["vrrp_script"])


def normalize_vrrp_scripts(scripts, var: str = "lvs_vrrp_scripts") -> list[dict]:
    """Validate vrrp_script definitions (track_scripts of VRRP instances name them).

    `script` is an argv list: keepalived runs it as the non-root script_user, without a shell.
    """
    if scripts is None:
        return []
    _list(var, scripts, "scripts")
    out, names = [], set()
    for i, sc in enumerate(scripts):
        if not isinstance(sc, dict):
            raise ModelError(f"{var}[{i}]: {_show(sc)} must be a mapping")
        label = f"{var}[{i}]" + (f" ({sc['name']})" if _fullmatch(_NAME_WORD, sc.get("name")) else "")
        _unknown(label, sc, VRRP_SCRIPT_KEYS)
        name = _name(f"{label}.name", sc.get("name"))
        if name in names:
            raise ModelError(f"{label}.name: {name!r} is defined twice")
        names.add(name)
        if not isinstance(sc.get("script"), list):
            raise ModelError(f"{label}.script: {_show(sc.get('script'))} must be an argv list starting with an "
                             f"absolute path")
        n = {"name": name, "script": _argv(f"{label}.script", sc["script"])}
        n["interval"] = _int(label, sc.get("interval", 2), 1, 3600, "interval")
        n["timeout"] = _int(label, sc.get("timeout", n["interval"]), 1, 3600, "timeout")
        if n["timeout"] > n["interval"]:
            raise ModelError(f"{label}.timeout: {n['timeout']} is longer than the interval {n['interval']}")
        n["fall"] = _int(label, sc.get("fall", 2), 1, 255, "fall")
        n["rise"] = _int(label, sc.get("rise", 2), 1, 255, "rise")
        n["weight"] = _int(label, sc.get("weight", 0), -253, 253, "weight")
        out.append(n)
    return out


def _vrrp_hosts(hosts) -> dict | None:
    """Directors as {name: unicast source address or None}; None when unknown (no cross-checks)."""
    if hosts is None:
        return None
    if isinstance(hosts, dict):
        return dict(hosts)
    return {h: None for h in hosts}


def normalize_vrrp_instances(instances, hosts=None, var: str = "lvs_vrrp_instances", scripts=None,
                             services=None) -> list[dict]:
    """Validate VRRP instances: ids, one MASTER, VIP families, unicast peers, initial states.

    `hosts`: the directors, as a list of names or {name: lvs_vrrp_unicast_ip or None}; `scripts` (normalized
    lvs_vrrp_scripts), when given, are what track_scripts may name; `services` (normalized), when given, add
    the VIPs of services that name an instance (vrrp_instance) and must each be held by one.
    """
    if instances is None:
        return []
    _list(var, instances, "VRRP instances")
    directors = _vrrp_hosts(hosts)
    out, names, ids = [], {}, {}
    for i, vi in enumerate(instances):
        out.append(_vrrp_instance(vi, i, var, names, ids, directors, scripts))
    _check_sync_groups(out, var)
    daemons = [n["name"] for n in out if n.get("lvs_sync_daemon")]
    if len(daemons) > 1:
        raise ModelError(f"{var}: lvs_sync_daemon is set on {' and '.join(daemons)}; keepalived runs one "
                         f"connection-sync daemon, following one VRRP instance")
    _held_vips(out, services, var)
    return out


def _vrrp_instance(vi, i: int, var: str, names: dict, ids: dict, directors: dict | None, scripts) -> dict:
    """One VRRP instance, item `i` of `var`. `names` ({name: item}) and `ids` ({(interface, id): item}) hold the
    instances before it; this one is added to them."""
    if not isinstance(vi, dict):
        raise ModelError(f"{var}[{i}]: {_show(vi)} must be a mapping")
    label = f"{var}[{i}]" + (f" ({vi['name']})" if _fullmatch(_NAME_WORD, vi.get("name")) else "")
    _mapping(label, vi, "a VRRP instance")
    _unknown(label, vi, VRRP_KEYS)
    for req in ("name", "interface", "virtual_router_id", "priorities", "virtual_ipaddresses"):
        if vi.get(req) in (None, "", [], {}):
            raise ModelError(f"{label}.{req}: required")
    n = {"name": _vrrp_name(f"{label}.name", vi["name"])}
    n["interface"] = _ifname(f"{label}.interface", vi["interface"])
    n["virtual_router_id"] = _int(label, vi["virtual_router_id"], 1, 255, "virtual_router_id")
    n["advert_int"] = _int(label, vi.get("advert_int", 1), 1, 255, "advert_int")
    if n["name"] in names:
        raise ModelError(f"{label}.name: {n['name']!r} is already used by {var}[{names[n['name']]}]")
    names[n["name"]] = i
    seg = (n["interface"], n["virtual_router_id"])
    if seg in ids:
        raise ModelError(f"{label}.virtual_router_id: {n['virtual_router_id']} is already used on "
                         f"{n['interface']} by {var}[{ids[seg]}]; one segment needs one id per instance")
    ids[seg] = i
    n["priorities"], n["master"] = _vrrp_priorities(label, vi["priorities"], directors)
    n["virtual_ipaddresses"] = _vrrp_addresses(label, vi["virtual_ipaddresses"])
    n["family"] = ipaddress.ip_interface(n["virtual_ipaddresses"][0]).version
    # How many of the addresses (from the first) VRRP adverts carry; the rest are held the same way but
    # excluded from adverts. Peers must agree: a BACKUP drops adverts whose address list differs from its own.
    n["advertised_addresses"] = _int(label, vi.get("advertised_addresses", 1), 1,
                                     len(n["virtual_ipaddresses"]), "advertised_addresses")
    _vrrp_preemption(label, vi, n)
    if vi.get("auth_pass") is not None and not _fullmatch(_AUTH_PASS, vi["auth_pass"]):
        raise ModelError(f"{label}.auth_pass: must be 1 to 8 printable ASCII characters without spaces, quotes, "
                         f"braces, '#', '!', '$' or backslash (keepalived cuts the secret there); the value is "
                         f"not shown")
    if vi.get("auth_pass") is not None:
        n["auth_pass"] = vi["auth_pass"]
    _vrrp_tracking(label, vi, n, scripts)
    for key, lo, hi in (("garp_master_delay", 0, 255), ("garp_master_repeat", 1, 255),
                        ("garp_master_refresh", 0, 3600)):
        if vi.get(key) is not None:
            n[key] = _int(label, vi[key], lo, hi, key)
    if vi.get("sync_group") is not None:
        n["sync_group"] = _name(f"{label}.sync_group", vi["sync_group"])
    _vrrp_sync_daemon(label, vi, n)
    n["unicast"] = _unicast(label, vi.get("unicast_peers"), n, directors)
    return n


def _vrrp_priorities(label: str, value, directors: dict | None) -> tuple[dict, str]:
    """priorities: {director: 1..254}, each a known director (when known), and the one MASTER (the highest)."""
    prios = _mapping(f"{label}.priorities", value, "each director to a priority")
    out = {}
    for host, prio in prios.items():
        out[host] = _int(f"{label}.priorities", prio, 1, 254, host)
        if directors is not None and host not in directors:
            raise ModelError(f"{label}.priorities.{host}: {host!r} is not a director "
                             f"(directors: {', '.join(sorted(directors)) or 'none'})")
    top = max(out.values())
    masters = sorted(h for h, p in out.items() if p == top)
    if len(masters) > 1:
        raise ModelError(f"{label}.priorities: {' and '.join(masters)} share the highest priority {top}; "
                         f"exactly one director must be MASTER")
    return out, masters[0]


def _vrrp_preemption(label: str, vi: dict, n: dict) -> None:
    """nopreempt and preempt_delay, and from them each director's initial state."""
    n["nopreempt"] = _bool(f"{label}.nopreempt", vi.get("nopreempt", False))
    if vi.get("preempt_delay") is not None:
        if n["nopreempt"]:
            raise ModelError(f"{label}.preempt_delay: has no meaning with nopreempt: true")
        n["preempt_delay"] = _int(label, vi["preempt_delay"], 0, 1000, "preempt_delay")
    # keepalived honours nopreempt and preempt_delay only if every director starts as BACKUP; the highest
    # priority still wins the first election.
    backup_start = n["nopreempt"] or "preempt_delay" in n
    n["states"] = {h: "MASTER" if h == n["master"] and not backup_start else "BACKUP" for h in n["priorities"]}


def _vrrp_tracking(label: str, vi: dict, n: dict, scripts) -> None:
    """track_scripts (names of `scripts`, when given) and track_interfaces (not the instance's own)."""
    known = {sc["name"] for sc in scripts} if scripts is not None else None
    n["track_scripts"] = _names_list(f"{label}.track_scripts", vi.get("track_scripts") or [], _NAME_WORD,
                                     "a vrrp_script name", "vrrp_script names")
    for j, name in enumerate(n["track_scripts"]):
        if known is not None and name not in known:
            close = difflib.get_close_matches(name, sorted(known), n=1)
            raise ModelError(f"{label}.track_scripts[{j}]: {name!r} is not in lvs_vrrp_scripts"
                             + (f" (did you mean {close[0]!r}?)" if close else ""))
    n["track_interfaces"] = _names_list(f"{label}.track_interfaces", vi.get("track_interfaces") or [], _IFNAME,
                                        "an interface name (1 to 15 letters, digits, '_', '.' or '-')",
                                        "interface names")
    if n["interface"] in n["track_interfaces"]:
        raise ModelError(f"{label}.track_interfaces: {n['interface']} is the instance's own interface; keepalived "
                         f"ignores tracking it (it always does)")


def _vrrp_sync_daemon(label: str, vi: dict, n: dict) -> None:
    """lvs_sync_daemon: true, or {interface, id} (by default the instance's interface and virtual_router_id)."""
    sd = vi.get("lvs_sync_daemon", False)
    if sd is not False and sd is not None:
        if sd is not True:
            _mapping(f"{label}.lvs_sync_daemon", sd, "true or {interface, id}")
        sd = {} if sd is True else sd
        _unknown(f"{label}.lvs_sync_daemon", sd, set(OBJECTS["lvs_sync_daemon"]))
        n["lvs_sync_daemon"] = {
            "interface": _ifname(f"{label}.lvs_sync_daemon.interface", sd.get("interface", n["interface"])),
            "id": _int(f"{label}.lvs_sync_daemon", sd.get("id", n["virtual_router_id"]), 0, 255, "id")}


def _check_sync_groups(instances: list[dict], var: str) -> None:
    """On every director, a sync group holds at least two of its instances."""
    for host in sorted({h for n in instances for h in n["priorities"]}):
        members: dict[str, list[str]] = {}
        for n in instances:
            if n.get("sync_group") and host in n["priorities"]:
                members.setdefault(n["sync_group"], []).append(n["name"])
        for group, names in sorted(members.items()):
            if len(names) == 1:
                i = [n["name"] for n in instances].index(names[0])
                raise ModelError(f"{var}[{i}] ({names[0]}).sync_group: {group} holds only {names[0]} on director "
                                 f"{host}; keepalived 2.2.7's --config-test fails on a sync group of one instance ("
                                 f"\"Sync group {group} has only 1 virtual router(s)\"): add its other instance "
                                 f"or remove sync_group")


def _names_list(where: str, value, pattern: re.Pattern, what: str, plural: str) -> list[str]:
    _list(where, value, plural)
    for j, item in enumerate(value):
        _word(f"{where}[{j}]", item, pattern, what)
    if len(set(value)) != len(value):
        raise ModelError(f"{where}: {_show(value)} names an item twice")
    return list(value)


def _vrrp_addresses(label: str, value) -> list[str]:
    """virtual_ipaddresses: address or address/prefix, one family, each once, usable."""
    _list(f"{label}.virtual_ipaddresses", value, "addresses (address or address/prefix)", empty=False)
    out, seen = [], {}
    for j, text in enumerate(value):
        where = f"{label}.virtual_ipaddresses[{j}]"
        try:
            if not isinstance(text, str) or "%" in text:
                raise ValueError
            iface = ipaddress.ip_interface(text)
        except ValueError:
            raise ModelError(f"{where}: {_show(text)} is not an address or address/prefix") from None
        why = _unusable(iface.ip)
        if why:
            raise ModelError(f"{where}: {text} is {why}, which cannot be a VIP")
        if iface.version == 4 and iface.network.prefixlen < 31 and iface.ip == iface.network.broadcast_address:
            raise ModelError(f"{where}: {text} is the broadcast address of {iface.network}, which cannot be a VIP")
        if out and iface.version != ipaddress.ip_interface(out[0]).version:
            raise ModelError(f"{label}.virtual_ipaddresses: mixes IPv4 and IPv6; keepalived needs one family per "
                             f"VRRP instance (use two instances)")
        if str(iface.ip) in seen:
            raise ModelError(f"{where}: {iface.ip} is listed twice (also as [{seen[str(iface.ip)]}])")
        seen[str(iface.ip)] = j
        out.append(str(iface) if "/" in text else str(iface.ip))
    return out


def _unicast(label: str, peers, n: dict, directors: dict | None) -> dict:
    """{director: {src, peers}} for unicast VRRP, resolved for each director of the instance; {} for multicast."""
    if peers is None or peers is False or peers == []:
        return {}
    srcs = {}
    for host in n["priorities"]:
        ip = (directors or {}).get(host)
        if ip is None:
            raise ModelError(f"{label}.unicast_peers: director {host} has no lvs_vrrp_unicast_ip (its own address "
                             f"for unicast VRRP)")
        addr = _addr(f"{host}: lvs_vrrp_unicast_ip", ip)
        if addr.version != n["family"]:
            raise ModelError(f"{host}: lvs_vrrp_unicast_ip: {ip} is IPv{addr.version} but {label} holds IPv"
                             f"{n['family']} VIPs; keepalived drops peers of the other family")
        srcs[host] = _addr_text(addr)
    owners: dict[str, str] = {}
    for host, src in srcs.items():
        if src in owners:
            raise ModelError(f"{host}: lvs_vrrp_unicast_ip: {src} is also {owners[src]}'s; each director of "
                             f"{label} needs its own unicast source address")
        owners[src] = host
    if peers is True:
        listed = list(srcs.values())
    else:
        _list(f"{label}.unicast_peers", peers, "addresses (or true: the other directors' lvs_vrrp_unicast_ip)",
              empty=False)
        listed = []
        for j, text in enumerate(peers):
            addr = _addr(f"{label}.unicast_peers[{j}]", text)
            if addr.version != n["family"]:
                raise ModelError(f"{label}.unicast_peers[{j}]: {text} is IPv{addr.version} but the instance holds "
                                 f"IPv{n['family']} VIPs; keepalived would drop this peer")
            if _addr_text(addr) in listed:
                raise ModelError(f"{label}.unicast_peers[{j}]: {text} is listed twice")
            listed.append(_addr_text(addr))
    return {h: {"src": src, "peers": [p for p in listed if p != src]} for h, src in srcs.items()}


def _held_vips(instances: list[dict], services, var: str) -> None:
    """Services that name an instance add their VIPs to it; every VRRP-held VIP must be in an instance."""
    if services is None:
        services = []
    by_name = {vi["name"]: vi for vi in instances}
    held = {}
    for vi in instances:
        for text in vi["virtual_ipaddresses"]:
            ip = str(ipaddress.ip_interface(text).ip)
            if ip in held and held[ip] != vi["name"]:
                raise ModelError(f"{var} ({vi['name']}).virtual_ipaddresses: {text} is also held by {held[ip]}; one "
                                 f"address has one holder")
            held[ip] = vi["name"]
    for svc in services:
        if svc["fwmark"] is not None or svc["vip_holder"] != "vrrp":
            continue
        if svc["vrrp_instance"] is not None:
            vi = by_name.get(svc["vrrp_instance"])
            if vi is None:
                close = difflib.get_close_matches(svc["vrrp_instance"], sorted(by_name), n=1)
                raise ModelError(f"lvs_services ({svc['name']}).vrrp_instance: {svc['vrrp_instance']!r} is not in "
                                 f"{var}" + (f" (did you mean {close[0]!r}?)" if close else ""))
            if svc["vip"] in held and held[svc["vip"]] != vi["name"]:
                raise ModelError(f"lvs_services ({svc['name']}).vrrp_instance: VIP {svc['vip']} is held by "
                                 f"{held[svc['vip']]}, not {vi['name']}")
            if svc["vip"] not in held:
                if ipaddress.ip_address(svc["vip"]).version != vi["family"]:
                    raise ModelError(f"lvs_services ({svc['name']}).vrrp_instance: VIP {svc['vip']} is "
                                     f"IPv{svc['family']} but {vi['name']} holds IPv{vi['family']} addresses")
                vi["virtual_ipaddresses"].append(svc["vip"])
                held[svc["vip"]] = vi["name"]
        elif svc["vip"] not in held:
            raise ModelError(f"lvs_services ({svc['name']}).vip: {svc['vip']} is held by no VRRP instance, so it "
                             f"would serve nothing; add it to a virtual_ipaddresses list, name the instance with "
                             f"vrrp_instance, or set vip_holder: external if another system holds it")


# ---------------------------------------------------------------- BGP announcements (anycast directors)
BGP_KEYS = set(OBJECTS["bgp"])
BGP_NEIGHBOR_KEYS = set(OBJECTS["bgp_neighbor"])
BGP_BFD_KEYS = set(OBJECTS["bgp_bfd"])
BGP_DEFAULTS = {"vip_interface": "lvsvip0", "bfd": None, "withdraw_wait": 60, "quiet_seconds": 2,
                "check_interval": 0.5}
# A TCP MD5 key as BIRD reads it inside a quoted string: printable ASCII without quotes or backslash, 1-80 bytes.
_BGP_PASSWORD = re.compile(r"[A-Za-z0-9!#$%&()*+,\-./:;<=>?@\[\]^_`{|}~]{1,80}")


def _asn(where: str, value) -> int:
    asn = _int(where, value, 1, 4294967295)
    if asn == 23456 or 64496 <= asn <= 64511 or 65535 <= asn <= 65551 or asn == 4294967295:
        raise ModelError(f"{where}: {asn} is a reserved or documentation AS number (RFC 6793, 5398, 7300)")
    return asn


# Words BIRD 2's configuration grammar reserves (its lexer's keywords, case-insensitive): a protocol may not be
# named so. BIRD 2.0.12 (Debian 12's bird2) refuses each of these as a protocol name ("syntax error, unexpected
# KEYWORD"); tests/unit/test_bird_keywords.py runs `bird -p` on every one, and on lvsfleet's own protocol names
# (device1, lvs_bfd, lvs_vip_*), which _bird_name refuses too.
BIRD_KEYWORDS = frozenset("""
accept action add address administrative advertise after algorithm all allow always area as as4 asn attribute
attributes auth authentication autonomous aware babel babel_metric base bcast bfd bgp bgp_aggregator bgp_aigp
bgp_atomic_aggr bgp_cluster_list bgp_community bgp_ext_community bgp_large_community bgp_local_pref bgp_med
bgp_next_hop bgp_origin bgp_originator_id bgp_otc bgp_path bgpmask bgppath bind bird blackhole blake2b256 blake2b512
blake2s128 blake2s256 block bool broadcast bt_assert bt_check_assign bt_test_same bt_test_suite buffer bug by
capabilities case cease change channels check circuit class client clist cluster code collision commands communities
confederation config configuration configure confirm connect connection contains cost cost2 count cryptographic
current data data1 data2 dead debug deconfigured default define defined delay delete demand description dest
deterministic dev device digits direct disable disabled do domain dont_fragment down dport drop dscp dst dump
dynamic ebgp ec echo eclist ecmp else empty enable enforce entries error events exit exp expire export exported
extended external false fatal filename filter filtered filters first first_fragment flags flow4 flow6 flush for
forget fragment free from function garbage gateway gc generate generic global graceful gw gw_mpls header hello help
hidden high hit hmac hold hop horizon hostname ibgp icmp id idle if ifindex ifname ignore igp_metric import in
infinity info instance int interface interfaces internal interpret interval ip ipv4 ipv4_mc ipv4_mpls ipv6 ipv6_mc
ipv6_mpls ipv6_sadr is_fragment is_v4 is_v6 iso keep keepalive kernel key keyed krt_advmss krt_cwnd
krt_feature_allfrag krt_feature_ecn krt_hoplimit krt_initcwnd krt_initrwnd krt_lock_advmss krt_lock_cwnd
krt_lock_hoplimit krt_lock_mtu krt_lock_reordering krt_lock_rto_min krt_lock_rtt krt_lock_rttvar krt_lock_sstresh
krt_lock_window krt_metric krt_mtu krt_prefsrc krt_quickack krt_realm krt_reordering krt_rto_min krt_rtt krt_rttvar
krt_scope krt_source krt_sstresh krt_window label large last last_fragment last_nonaggregated latency lc lclist
learn len length lifetime limit linger link lived lladdr local log long lsa lsadb lsid managed mandatory mask match
max maxlen md5 medium member memory merge messages meticulous metric missing mode mpls mrt mrtdump ms mtu mult
multicast multihop multiplier name nbma neighbor neighbors net netlink netmask networks next ng no noexport
nonbroadcast none normal nssa of off offset older on onlink only originate ospf ospf_metric1 ospf_metric2
ospf_router_id ospf_tag other out packets pair passive password passwords path paths perf period permissive persist
pipe plaintext pointomultipoint pointopoint poison poll port preexport prefer preference preferred prefix prepend
pri primary print printn priority private prohibit propagate proto protocol protocols ptmp ptp public quad quit ra
ra_lifetime ra_preference radv randomize range rd reachable real receive recursive refresh reject rejected reload
remote repeat require reset resources restart restrict retrans retransmit retry return reverse rfc1583compat rfc5838
rip rip_metric rip_tag ro roa4 roa6 roa_check roles route router routes rpki rs rt rx rxcost sadr scan scope sec
secondary security self sensitive sessions set setkey sets settle sha1 sha256 sha384 sha512 short show shutdown
simple skip sockets soft solicited sorted source split src ssh stability stale start startup state states static
stats status stderr strict string stub stubnet summary suppression symbols syslog table tag tcp template then
threshold tick time timeformat timeout timer to topology trace translator transmit transport trie trigger true ttl
tx type undo unicast unknown unreachable unset update us user v2 v3 valid validate version via virtual vpn vpn4
vpn4_mc vpn4_mpls vpn6 vpn6_mc vpn6_mpls vrf wait warn warning watchdog weight where wired wireless yes zero
""".split())
_BIRD_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,23}")


def _bird_name(where: str, value) -> str:
    name = _word(where, value, _BIRD_NAME, "1 to 24 letters, digits or '_', starting with a letter or '_' (it names "
                 "a BIRD protocol)")
    if name.lower() in BIRD_KEYWORDS:
        raise ModelError(f"{where}: {name!r} is a BIRD keyword; BIRD refuses it as a protocol name")
    if name.lower().startswith("lvs_") or name.lower() == "device1":
        raise ModelError(f"{where}: {name!r} is a name lvsfleet's bird.conf uses for its own protocols (device1, "
                         f"lvs_*); choose another")
    return name


def _bgp_source(host: str, var: str, value, version: int):
    if value is None or value == "":
        return None
    addr = _addr(f"{host}: {var}", value)
    if addr.version != version:
        raise ModelError(f"{host}: {var}: {value} must be an IPv{version} address")
    return str(addr)


def normalize_bgp(value, sources: dict, services: list[dict], var: str = "lvs_bgp") -> dict | None:
    """lvs_bgp (anycast directors) and each director's lvs_bgp_source/lvs_bgp_source6: the closed model, or
    ModelError. `sources` is {director: {"lvs_bgp_source": .., "lvs_bgp_source6": ..}}. Returns None when
    neither lvs_bgp nor any service held by bgp is there."""
    anycast = [s for s in services if s["vip_holder"] == "bgp"]
    if value is None:
        if anycast:
            raise ModelError(f"lvs_services ({anycast[0]['name']}).vip_holder: bgp, but {var} is not set; give "
                             f"{var} (AS number, neighbors) so the directors can announce {anycast[0]['vip']}")
        return None
    _mapping(var, value, "asn, neighbors, vip_interface, ...")
    _unknown(var, value, BGP_KEYS)
    out = dict(BGP_DEFAULTS)
    out.update(value)
    if "asn" not in value:
        raise ModelError(f"{var}.asn: required (the directors' AS number)")
    out["asn"] = _asn(f"{var}.asn", value["asn"])
    out["vip_interface"] = _ifname(f"{var}.vip_interface", out["vip_interface"])
    _bgp_timers(var, out)
    out["neighbors"] = _bgp_neighbors(var, value.get("neighbors"), out)
    named: dict[str, int] = {}
    for i, nb in enumerate(out["neighbors"]):
        if nb["name"] in named:
            raise ModelError(f"{var}.neighbors[{i}].name: {nb['name']!r} is also {var}.neighbors[{named[nb['name']]}]'s; "
                             f"give each neighbor its own (it names the BIRD protocol)")
        named[nb["name"]] = i
    families = {n["family"] for n in out["neighbors"]}
    for svc in anycast:
        if svc["family"] not in families:
            raise ModelError(f"lvs_services ({svc['name']}).vip: {svc['vip']} is IPv{svc['family']} but no "
                             f"{var} neighbor is; nothing would carry its announcement")
    out["vips"] = sorted({v for s in anycast for v in s["vips"]},
                         key=lambda a: (_parse_addr(a).version, _parse_addr(a)))
    for nb in out["neighbors"]:
        if nb["address"] in out["vips"]:
            raise ModelError(f"{var}.neighbors ({nb['name']}).address: {nb['address']} is an anycast VIP; a "
                             f"neighbor is the router")
    out["sources"] = _bgp_sources(var, sources, out, families)
    return out


def _bgp_timers(var: str, out: dict) -> None:
    """withdraw_wait, quiet_seconds (not longer), check_interval and the BFD timers."""
    out["withdraw_wait"] = _int(f"{var}.withdraw_wait", out["withdraw_wait"], 1, 3600)
    out["quiet_seconds"] = _int(f"{var}.quiet_seconds", out["quiet_seconds"], 1, 60)
    if out["quiet_seconds"] > out["withdraw_wait"]:
        raise ModelError(f"{var}.quiet_seconds: {out['quiet_seconds']} is longer than withdraw_wait "
                         f"{out['withdraw_wait']}; a withdrawal could never see that much quiet before it gives up")
    ci = out["check_interval"]
    if isinstance(ci, bool) or not isinstance(ci, (int, float)) or not 0.1 <= ci <= 10:
        raise ModelError(f"{var}.check_interval: {_show(ci)} must be a number of seconds from 0.1 to 10")
    if out["bfd"] is not None:
        bfd = _mapping(f"{var}.bfd", out["bfd"], "interval_ms, multiplier")
        _unknown(f"{var}.bfd", bfd, BGP_BFD_KEYS)
        out["bfd"] = {"interval_ms": _int(f"{var}.bfd.interval_ms", bfd.get("interval_ms", 300), 10, 60000),
                      "multiplier": _int(f"{var}.bfd.multiplier", bfd.get("multiplier", 3), 2, 255)}


def _bgp_neighbors(var: str, value, out: dict) -> list[dict]:
    """neighbors: a non-empty list, each address once; a neighbor with bfd turns on the default BFD timers."""
    neighbors = _list(f"{var}.neighbors", value, "BGP neighbors ({address, asn})", empty=False)
    result = []
    seen = {}
    for i, nb in enumerate(neighbors):
        where = f"{var}.neighbors[{i}]"
        _mapping(where, nb, "address, asn, ...")
        _unknown(where, nb, BGP_NEIGHBOR_KEYS)
        if "address" not in nb or "asn" not in nb:
            raise ModelError(f"{where}: needs address and asn")
        addr = _addr(f"{where}.address", nb["address"])
        if str(addr) in seen:
            raise ModelError(f"{where}.address: {addr} is also {var}.neighbors[{seen[str(addr)]}]")
        seen[str(addr)] = i
        n = _bgp_neighbor(where, i, nb, addr)
        if n["bfd"] and out["bfd"] is None:
            out["bfd"] = {"interval_ms": 300, "multiplier": 3}
        result.append(n)
    return result


def _bgp_neighbor(where: str, i: int, nb: dict, addr) -> dict:
    """One neighbor (item `i`, at `addr`): asn, name, session timers, bfd and TCP MD5 password."""
    n = {"address": str(addr), "family": addr.version, "asn": _asn(f"{where}.asn", nb["asn"]),
         "name": _bird_name(f"{where}.name", nb.get("name", f"n{i + 1}")),
         "hold_time": _int(f"{where}.hold_time", nb.get("hold_time", 9), 3, 65535),
         "keepalive_time": _int(f"{where}.keepalive_time", nb.get("keepalive_time", 3), 1, 21845),
         "bfd": _bool(f"{where}.bfd", nb.get("bfd", False)),
         "password": None}
    if n["keepalive_time"] * 3 > n["hold_time"]:
        raise ModelError(f"{where}.keepalive_time: {n['keepalive_time']} must be at most a third of "
                         f"hold_time {n['hold_time']}, or one lost keepalive drops the session")
    if "password" in nb and nb["password"] in (None, ""):
        raise ModelError(f"{where}.password: {_show(nb['password'])} is empty; BIRD would run the session "
                         f"without TCP MD5: remove the key for no password")
    if nb.get("password") not in (None, ""):
        if not _fullmatch(_BGP_PASSWORD, nb["password"]):
            raise ModelError(f"{where}.password: must be 1 to 80 printable ASCII characters without quotes, "
                             f"backslash or spaces (the TCP MD5 key BIRD sends; the value is not shown)")
        n["password"] = nb["password"]
    return n


def _bgp_sources(var: str, sources: dict, out: dict, families: set) -> dict:
    """Each director's lvs_bgp_source (and lvs_bgp_source6 with IPv6 neighbors): its own, neither a neighbor
    nor an anycast VIP; {director: {"4": .., "6": ..}}."""
    result = {}
    routers = {}
    for host, hv in sources.items():
        v4 = _bgp_source(host, "lvs_bgp_source", hv.get("lvs_bgp_source"), 4)
        v6 = _bgp_source(host, "lvs_bgp_source6", hv.get("lvs_bgp_source6"), 6)
        if v4 is None:
            raise ModelError(f"{host}: lvs_bgp_source: required with {var}: the director's own IPv4 address it "
                             f"peers from (also its BGP router ID)")
        if v6 is None and 6 in families:
            raise ModelError(f"{host}: lvs_bgp_source6: required, {var} has IPv6 neighbors")
        if v4 in routers:
            raise ModelError(f"{host}: lvs_bgp_source: {v4} is also {routers[v4]}'s; each director peers from its "
                             f"own address")
        if v6 is not None and v6 in routers:
            raise ModelError(f"{host}: lvs_bgp_source6: {v6} is also {routers[v6]}'s; each director peers from its "
                             f"own address")
        for nb in out["neighbors"]:
            if nb["address"] in (v4, v6):
                raise ModelError(f"{var}.neighbors ({nb['name']}).address: {nb['address']} is {host}'s own "
                                 f"lvs_bgp_source{'6' if nb['address'] == v6 else ''}; a neighbor is the router")
        if v6 is not None:
            routers[v6] = host
        if v4 in out["vips"] or v6 in out["vips"]:
            raise ModelError(f"{host}: lvs_bgp_source: {v4 if v4 in out['vips'] else v6} is an anycast VIP; give "
                             f"the director's own address")
        routers[v4] = host
        result[host] = {"4": v4, "6": v6}
    return result


# ---------------------------------------------------------------- the whole inventory (the pre-flight gate)
# Inventory variables lvsfleet reads; any other lvs_* variable is a typo.
KNOWN_VARIABLES = {name for name in VARIABLES if name.startswith("lvs_")}
DIRECTOR_SHARED = ("lvs_services", "lvs_vrrp_instances", "lvs_vrrp_scripts", "lvs_bgp", "lvs_real_server_states",
                   "lvs_priority_overrides")
# roles/lvs_director/meta/argument_specs.yml lvs_director_sysctl_profile (a unit test keeps them equal).
SYSCTL_PROFILES = ("stateful", "stateless")


def check_variable_names(host: str, names) -> None:
    """Every lvs_* variable a host has is one lvsfleet reads (a typo deploys nothing and succeeds)."""
    for name in sorted(str(n) for n in names):
        if _fullmatch(_VARIABLE, name) and name not in KNOWN_VARIABLES:
            close = difflib.get_close_matches(name, sorted(KNOWN_VARIABLES), n=1, cutoff=0.8)
            raise ModelError(f"{host}: unknown variable {name!r}"
                             + (f" (did you mean {close[0]!r}?)" if close else " (lvsfleet reads no such variable)"))


_ROLE_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")


def host_roles(host: str, value) -> list[str]:
    """lvs_host_roles: roles of the operator's own that site.yml applies on real servers and client-side hosts
    after lvsfleet's (role names or FQCNs)."""
    if value is None:
        return []
    roles = _list(f"{host}: lvs_host_roles", value, "role names")
    for j, name in enumerate(roles):
        _word(f"{host}: lvs_host_roles[{j}]", name, _ROLE_NAME, "a role name or FQCN")
    return roles


def metrics_address(host: str, value) -> str | None:
    """lvs_metrics_address: the address node_exporter listens on and Prometheus scrapes (None: not set)."""
    if value is None or value == "":
        return None
    addr = _parse_addr(value) if isinstance(value, str) else None
    if addr is None:
        raise ModelError(f"{host}: lvs_metrics_address: {_show(value)} is not an IP address (the address "
                         f"node_exporter listens on and Prometheus scrapes)")
    if "%" in value:
        raise ModelError(f"{host}: lvs_metrics_address: {_show(value)} carries a scope; give the address alone")
    if addr.is_unspecified or addr.is_multicast:
        raise ModelError(f"{host}: lvs_metrics_address: {value} is not one address of this host; node_exporter "
                         f"would listen on every address, VIPs included")
    return str(addr)


# PEM blocks as node_exporter (Go's crypto/tls, encoding/pem) and Prometheus read them: base64 lines between
# BEGIN and END lines of one label. Certificates may be a chain; the key is one PKCS#8, PKCS#1 or SEC 1 key.
_PEM_BODY = r"[ \t]*\n(?:[A-Za-z0-9+/=]{1,76}[ \t]*\n){1,200}"
_PEM_CERTS = re.compile(r"\s*(?:-----BEGIN CERTIFICATE-----" + _PEM_BODY + r"-----END CERTIFICATE-----\s*){1,16}")
_PEM_KEY = re.compile(r"\s*-----BEGIN (?P<label>(?:RSA |EC )?PRIVATE KEY)-----" + _PEM_BODY
                      + r"-----END (?P=label)-----\s*")
# The basic-auth user: a word (node_exporter's web config key, Prometheus's username).
_AUTH_USER = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.@-]{0,63}")


def pem_certificates(where: str, value, which: str) -> str:
    """PEM certificates (a chain: `which` says whose comes first)."""
    if not isinstance(value, str) or _PEM_CERTS.fullmatch(value + "\n") is None:
        if isinstance(value, str) and "PRIVATE KEY" in value:
            raise ModelError(f"{where}: holds a private key, not certificates (not shown: the key belongs in "
                             f"lvs_metrics_tls_key, from Ansible Vault)")
        raise ModelError(f"{where}: {_show(value)} must be PEM certificates (-----BEGIN CERTIFICATE----- ... "
                         f"-----END CERTIFICATE-----, {which})")
    return value


def metrics_web(host: str, hostvars: dict) -> dict:
    """node_exporter's web settings of one host: TLS (lvs_metrics_tls_cert and _key, PEM) and basic auth
    (lvs_metrics_basic_auth_user, default prometheus, and lvs_metrics_basic_auth_password, from Vault).
    Returns {"tls": bool, "user": str or None, "password": str or None}; the secrets stay with the caller."""
    cert, key = hostvars.get("lvs_metrics_tls_cert"), hostvars.get("lvs_metrics_tls_key")
    if (cert is None) != (key is None):
        raise ModelError(f"{host}: lvs_metrics_tls_cert and lvs_metrics_tls_key come together: node_exporter "
                         f"serves TLS with both, or neither (one is set)")
    if cert is not None:
        pem_certificates(f"{host}: lvs_metrics_tls_cert", cert, "the host's first")
        if not isinstance(key, str) or _PEM_KEY.fullmatch(str(key) + "\n") is None:
            raise ModelError(f"{host}: lvs_metrics_tls_key: must be one PEM private key (-----BEGIN PRIVATE KEY----- "
                             f"or its RSA/EC form); the value is not shown, it is a secret")
    user, password = hostvars.get("lvs_metrics_basic_auth_user"), hostvars.get("lvs_metrics_basic_auth_password")
    if password is None:
        if user is not None:
            raise ModelError(f"{host}: lvs_metrics_basic_auth_user: {_show(user)} is set without "
                             f"lvs_metrics_basic_auth_password; set both, or neither")
        return {"tls": cert is not None, "user": None, "password": None}
    user = "prometheus" if user is None else _word(f"{host}: lvs_metrics_basic_auth_user", user, _AUTH_USER,
                                                    "a user name of letters, digits, '_', '.', '@' and '-' "
                                                    "(at most 64)")
    # bcrypt reads at most 72 bytes and NUL ends its input; Prometheus trims blanks around a password_file's
    # content: a password any of them would change is refused rather than shortened (not shown: a secret).
    if (not isinstance(password, str) or not password or len(password.encode()) > 72
            or password != password.strip() or any(ord(c) < 32 or ord(c) == 127 for c in password)):
        raise ModelError(f"{host}: lvs_metrics_basic_auth_password: must be a string of 1 to 72 bytes, without "
                         f"control characters or blanks at either end (the value is not shown, it is a secret)")
    if cert is None:
        raise ModelError(f"{host}: lvs_metrics_basic_auth_password: basic auth without TLS sends the password in "
                         f"clear on every scrape; set lvs_metrics_tls_cert and lvs_metrics_tls_key too")
    return {"tls": True, "user": user, "password": password}


def check_inventory(directors: dict, real_servers: dict | None = None) -> dict:
    """The whole inventory, every director and real server: the closed model, or ModelError naming the item.

    `directors`: {name: {lvs_services, lvs_vrrp_instances, lvs_vrrp_scripts, lvs_vrrp_unicast_ip,
    lvs_real_server_states, lvs_priority_overrides}}; `real_servers`: {name: {services, addresses}} for hosts
    of the real_servers group (`addresses`: real_server_addresses, or None when read from facts later).
    Returns {services, vrrp, scripts} of the first director (every director must agree on them).
    """
    if not directors:
        raise ModelError("groups.directors: the inventory has no directors group (or it is empty); lvsfleet "
                         "deploys load balancers to the hosts of a group named 'directors'")
    names = list(directors)
    for host in names:
        _word(f"groups.directors: {host}", host, _NAME_WORD, "a host name of letters, digits, '_', '.' and '-' "
              "(it becomes keepalived's router_id)")
    first = names[0]
    for host in names[1:]:
        for var in DIRECTOR_SHARED:
            if not _same(directors[host].get(var), directors[first].get(var)):
                raise ModelError(f"{host}: {var} differs from {first}'s; define it for the whole directors group")
    unicast = {h: directors[h].get("lvs_vrrp_unicast_ip") for h in names}
    model = directors[first]
    services = normalize_services(model.get("lvs_services"))
    scripts = normalize_vrrp_scripts(model.get("lvs_vrrp_scripts"))
    vrrp = normalize_vrrp_instances(model.get("lvs_vrrp_instances"), unicast, scripts=scripts, services=services)
    if services and not vrrp and any(s["vip_holder"] == "vrrp" and s["fwmark"] is None for s in services):
        raise ModelError("lvs_vrrp_instances: the services' VIPs need a VRRP instance to hold them (or set "
                         "vip_holder: external on services whose VIP another system holds)")
    _check_sources(directors, services, vrrp)
    _own_addresses(directors)
    bgp = normalize_bgp(model.get("lvs_bgp"), {h: directors[h] for h in names}, services)
    _one_holder(services, vrrp, bgp, unicast)
    _unicast_peers_are_directors(model.get("lvs_vrrp_instances"), unicast)
    for host in names:
        profile = directors[host].get("lvs_director_sysctl_profile")
        if profile is not None:
            _choice(f"{host}: lvs_director_sysctl_profile", profile, SYSCTL_PROFILES)
    for host in names:
        states = directors[host].get("lvs_real_server_states")
        if states:
            apply_real_server_states(services, states)
        overrides = directors[host].get("lvs_priority_overrides") or {}
        _mapping("lvs_priority_overrides", overrides, "director to priority")
        for target, prio in overrides.items():
            if target not in directors:
                raise ModelError(f"lvs_priority_overrides.{target}: {target!r} is not a director")
            _int("lvs_priority_overrides", prio, 0, 254, target)
    # Real servers usually read the directors' lvs_services: each distinct list is normalized once (a fleet of
    # hundreds of real servers would otherwise normalize every service once per real server).
    normalized = [(model.get("lvs_services"), services)]
    for host, rs in (real_servers or {}).items():
        addresses = rs.get("addresses")
        rs_services = next((done for raw, done in normalized if _same(raw, rs.get("services"))), None)
        if rs_services is None:
            rs_services = normalize_services(rs.get("services"), f"{host}: real_server_services")
            normalized.append((rs.get("services"), rs_services))
        if addresses:
            _list(f"{host}: real_server_addresses", addresses, "addresses")
            for j, a in enumerate(addresses):
                if not isinstance(a, str) or _parse_addr(a.split("/")[0]) is None:
                    raise ModelError(f"{host}: real_server_addresses[{j}]: {_show(a)} is not an address")
            real_server_vips(rs_services, addresses)
    return {"services": services, "vrrp": vrrp, "scripts": scripts, "bgp": bgp}


def _same(a, b) -> bool:
    """The same inventory value: equal, with the same kind of value throughout (80 and 80.0, 0 and False are
    equal in Python but not to the model's checks). The same objects (a list shared by group variables) are."""
    if a is b:
        return True
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(_same(v, b[k]) for k, v in a.items())
    if isinstance(a, (list, tuple)):
        return isinstance(b, (list, tuple)) and len(a) == len(b) and all(map(_same, a, b))
    return _value_kind(a) == _value_kind(b) and a == b


def _value_kind(value) -> str:
    for kind in (bool, int, float, str):
        if isinstance(value, kind):
            return kind.__name__
    return type(value).__name__


def _unicast_peers_are_directors(instances, unicast: dict) -> None:
    """Every listed unicast peer is a director's lvs_vrrp_unicast_ip (after normalize_vrrp_instances)."""
    known = {_addr_text(_parse_addr(ip)) for ip in unicast.values() if isinstance(ip, str) and _parse_addr(ip)}
    for i, vi in enumerate(instances or []):
        peers = vi.get("unicast_peers")
        for j, text in enumerate(peers if isinstance(peers, list) else []):
            if _addr_text(_parse_addr(text)) not in known:
                raise ModelError(f"lvs_vrrp_instances[{i}] ({vi['name']}).unicast_peers[{j}]: {text} is no director's "
                                 f"lvs_vrrp_unicast_ip; keepalived would send adverts there and never hear a peer "
                                 f"from it")


def held_addresses(services: list[dict], vrrp: list[dict], bgp: dict | None = None) -> set[str]:
    """Every VIP of the (normalized) configuration: the services' VIPs, the VRRP instances' addresses and the
    anycast VIPs."""
    return ({v for s in services for v in s["vips"]} | {str(ipaddress.ip_interface(a).ip) for vi in vrrp
                                                       for a in vi["virtual_ipaddresses"]}
            | set((bgp or {}).get("vips", [])))


def _one_holder(services: list[dict], vrrp: list[dict], bgp: dict | None, unicast: dict) -> None:
    """Each address has one holder and one role: a VRRP instance, BGP (anycast) or something outside lvsfleet
    (vip_holder: external), never two of them; a director's own unicast VRRP address is never a VIP."""
    by_vrrp = {str(ipaddress.ip_interface(a).ip): vi["name"] for vi in vrrp for a in vi["virtual_ipaddresses"]}
    anycast = set((bgp or {}).get("vips", []))
    for vip in sorted(anycast & set(by_vrrp)):
        raise ModelError(f"lvs_bgp: anycast VIP {vip} is also in VRRP instance {by_vrrp[vip]}; an address is held "
                         f"one way")
    for svc in services:
        for vip in svc["vips"] if svc["fwmark"] is None else []:
            if svc["vip_holder"] == "external" and vip in by_vrrp:
                raise ModelError(f"lvs_services ({svc['name']}).vip_holder: external, but {vip} is held by VRRP "
                                 f"instance {by_vrrp[vip]}; drop vip_holder or the address from the instance")
            if svc["vip_holder"] in ("vrrp", "external") and vip in anycast:
                raise ModelError(f"lvs_services ({svc['name']}).vip_holder: {svc['vip_holder']}, but {vip} is an "
                                 f"anycast VIP (vip_holder: bgp elsewhere); an address is held one way")
    vips = held_addresses(services, vrrp, bgp)
    for host, ip in unicast.items():
        addr = _parse_addr(ip) if isinstance(ip, str) else None
        if addr is not None and _addr_text(addr) in vips:
            raise ModelError(f"{host}: lvs_vrrp_unicast_ip: {ip} is a VIP; give the director's own address")
    for host, sources in sorted(((bgp or {}).get("sources") or {}).items()):
        for family, var in (("4", "lvs_bgp_source"), ("6", "lvs_bgp_source6")):
            if sources.get(family) in vips:
                raise ModelError(f"{host}: {var}: {sources[family]} is a VIP; the director peers from its own "
                                 f"address")


# A host's own addresses by the variables that name them (group -> variables); each address has one owner.
OWN_ADDRESS_VARIABLES = {
    "directors": ("lvs_vrrp_unicast_ip", "lvs_check_source", "lvs_metrics_address", "lvs_bgp_source",
                  "lvs_bgp_source6"),
    "real_servers": ("lvs_metrics_address", "real_server_addresses"),
    "client_side": ("lvs_metrics_address", "client_side_sources"),
}


def check_overrides_keep_one_master(vrrp: list[dict], overrides) -> None:
    """lvs_priority_overrides ({director: priority}, 0: the inventory's) leave each instance one highest priority,
    as the inventory's priorities do (a tie is settled by the peers' addresses, not by the inventory)."""
    for vi in vrrp:
        prios = {h: int((overrides or {}).get(h) or p) for h, p in vi["priorities"].items()}
        top = max(prios.values())
        tied = sorted(h for h, p in prios.items() if p == top)
        if len(tied) > 1:
            raise ModelError(f"lvs_priority_overrides: {_show(dict(overrides))} gives {' and '.join(tied)} the same "
                             f"highest priority {top} in VRRP instance {vi['name']}; give one of them another")


def check_bgp_interface(bgp: dict | None, vrrp: list[dict]) -> None:
    """lvs_bgp.vip_interface is the anycast VIPs' own dummy device: not lo, not a device VRRP runs on (the
    directors would answer ARP for every anycast VIP on that network, past the router's ECMP)."""
    if not bgp:
        return
    name = bgp["vip_interface"]
    if name == "lo" or name.startswith("lo."):
        raise ModelError(f"lvs_bgp.vip_interface: {name!r} is the loopback device; name a dummy device of its own")
    for vi in vrrp:
        if vi["interface"] == name:
            raise ModelError(f"lvs_bgp.vip_interface: {name!r} is the interface VRRP instance {vi['name']} runs on; "
                             f"the anycast VIPs need a dummy device of their own")


def check_host_addresses(claims: list, services: list[dict], bgp: dict | None, vips: set) -> None:
    """Addresses across hosts and variables: `claims` is [(group, host, variable, value)] for the variables of
    OWN_ADDRESS_VARIABLES (a value may be a list; entries may carry a /prefix). Each address is one host's; a
    director's own address is no real server's and no BGP neighbor's; a real server is no VIP (a director
    forwarding to a VIP it holds itself loops)."""
    owners: dict[str, tuple[str, str]] = {}
    real = {rs["address"]: s["name"] for s in services for rs in s["real_servers"]}
    neighbors = {n["address"] for n in (bgp or {}).get("neighbors", [])}
    for addr in sorted(neighbors & set(real)):
        raise ModelError(f"lvs_bgp.neighbors: {addr} is also a real server of lvs_services ({real[addr]}); a "
                         f"neighbor is the upstream router")
    for group, host, var, value in claims:
        for text in value if isinstance(value, list) else [value]:
            addr = _parse_addr(text.split("/")[0]) if isinstance(text, str) and text else None
            if addr is None:
                continue  # not set, or refused by the variable's own check
            ip = _addr_text(addr)
            if ip in owners and owners[ip][0] != host:
                raise ModelError(f"{host}: {var}: {ip} is also {owners[ip][0]}'s {owners[ip][1]}; an address belongs "
                                 f"to one host")
            owners.setdefault(ip, (host, var))
            if group == "directors" and ip in real:
                raise ModelError(f"{host}: {var}: {ip} is a real server of lvs_services ({real[ip]}); give the "
                                 f"director's own address")
            if ip in neighbors:
                raise ModelError(f"{host}: {var}: {ip} is a BGP neighbor's address (lvs_bgp.neighbors); give the "
                                 f"host's own address")
    for svc in services:
        for j, rs in enumerate(svc["real_servers"]):
            if rs["address"] in vips:
                raise ModelError(f"lvs_services ({svc['name']}).real_servers[{j}]: {rs['address']} is a VIP the "
                                 f"directors hold; forwarding to it would loop back to a director")


def _own_addresses(directors: dict) -> None:
    """A director's own addresses (unicast VRRP, BGP sources) are its alone, whether or not anything uses them
    yet: two directors with one address is a copied host_vars file."""
    for var in ("lvs_vrrp_unicast_ip", "lvs_bgp_source", "lvs_bgp_source6"):
        owners: dict[str, str] = {}
        for host, hv in directors.items():
            value = hv.get(var)
            if value in (None, ""):
                continue
            text = _addr_text(_addr(f"{host}: {var}", value))
            if text in owners:
                why = "peers from its own address" if var.startswith("lvs_bgp") else "needs its own unicast source address"
                raise ModelError(f"{host}: {var}: {text} is also {owners[text]}'s; each director {why}")
            owners[text] = host


def _check_sources(directors: dict, services: list[dict], vrrp: list[dict]) -> None:
    """Forwarding-path checks leave each director from its own address (lvs_check_source): never a VIP, which
    the real server holds too and would drop as a martian."""
    users = [s["name"] for s in services if s["health_check"]["via"] == "forwarding"]
    vips = held_addresses(services, vrrp)
    real = {rs["address"] for s in services for rs in s["real_servers"]}
    sources: dict[str, str] = {}
    for host, hv in directors.items():
        value = hv.get("lvs_check_source")
        if value in (None, ""):
            if users:
                raise ModelError(f"{host}: lvs_check_source is not set; services {', '.join(sorted(set(users)))} check "
                                 f"through the forwarding path (health_check.via: forwarding), which needs this "
                                 f"director's own IPv4 address the real servers reach it by")
            continue
        addr = _addr(f"{host}: lvs_check_source", value)
        if addr.version != 4:
            raise ModelError(f"{host}: lvs_check_source: {_show(value)} must be an IPv4 address (forwarding-path "
                             f"checks are IPv4 only)")
        if _addr_text(addr) in vips:
            raise ModelError(f"{host}: lvs_check_source: {_show(value)} is a VIP; give the director's own address "
                             f"(a real server holds the VIP too and drops a check from it)")
        if _addr_text(addr) in real:
            raise ModelError(f"{host}: lvs_check_source: {_show(value)} is a real server's address; give the "
                             f"director's own address")
        if _addr_text(addr) in sources:
            raise ModelError(f"{host}: lvs_check_source: {_show(value)} is also {sources[_addr_text(addr)]}'s; "
                             f"each director checks from its own address (replies go back to the sender)")
        sources[_addr_text(addr)] = host


# ---------------------------------------------------------------- client-side balancing
# What a host that balances for its own processes changes in a director's service: it is the client, so
# its IPVS rewrites addresses (NAT) and the real servers answer it directly; the VIP path keys mean nothing.
CLIENT_SIDE_DROPPED = ("tunnel", "tunnel_port", "vrrp_instance")


def client_side_settings(interface, timeouts) -> None:
    """client_side_interface (a device name the role creates, never lo) and client_side_ipvs_timeouts
    ({tcp, tcpfin, udp}: whole seconds; the kernel refuses 0); None: the role's default."""
    if interface is not None:
        name = _ifname("client_side_interface", interface)
        if name == "lo" or name.startswith("lo."):
            raise ModelError(f"client_side_interface: {name!r} is the loopback device; the role owns every address of "
                             "its device and would delete 127.0.0.1 and ::1: name a device of its own")
    if timeouts is not None:
        _mapping("client_side_ipvs_timeouts", timeouts, "tcp, tcpfin, udp in seconds")
        _unknown("client_side_ipvs_timeouts", timeouts, set(OBJECTS["client_side_ipvs_timeouts"]))
        for key in ("tcp", "tcpfin", "udp"):
            if key not in timeouts:
                raise ModelError(f"client_side_ipvs_timeouts.{key}: required (tcp, tcpfin and udp are set together)")
            _int("client_side_ipvs_timeouts", timeouts[key], 1, 9999999, key)


def client_side_services(services, selection, local, source, director_vips=None) -> list[dict]:
    """The services a client-side host balances (role client_side): raw service mappings for keepalived.

    `selection` (client_side_services) names services of `services` (lvs_services): a name, or
    {service: NAME, vip: ADDRESS} to reach it at another VIP on this host. `local` (client_side_local_services)
    are whole services only this host balances. Both are converted the same way: forwarding nat (the host is
    the client: its IPVS rewrites the destination and the real servers answer it directly), no one-packet
    scheduling (a NAT reply needs its connection entry), checks of each real server's own address.
    `source` (client_side_sources): this host's addresses the real servers reach it by, one per family in use.
    """
    out = _client_side_selected(services, selection)
    for i, svc in enumerate(_list("client_side_local_services", local if local is not None else [], "services")):
        out.append((f"client_side_local_services[{i}]", svc))
    result, normalized, names, keys = [], [], {}, {}
    for where, svc in out:
        raw = _client_side_raw(where, svc)
        try:
            n = normalize_service(raw, 0, where)
        except ModelError as exc:
            raise ModelError(str(exc).replace(f"{where}[0]", where)) from None
        if n["name"] in names:
            raise ModelError(f"{where}: service name {n['name']!r} is already balanced here by {names[n['name']]}")
        names[n["name"]] = where
        for vip in n["vips"]:
            k = service_key(dict(n, vip=vip))
            if k in keys:
                raise ModelError(f"{where} ({n['name']}): {k} is already balanced here by {keys[k]}")
            keys[k] = where
        result.append(raw)
        normalized.append(n)
    _client_side_sources(source, normalized, director_vips)
    _client_side_vip_ports(services, out, normalized)
    for (where, _), n in zip(out, normalized):
        held = sorted(set(n["vips"]) & set(director_vips or ())) if where.startswith("client_side_local") else []
        if held:
            raise ModelError(f"{where} ({n['name']}).vip: {held[0]} is a VIP the directors hold; this host would "
                             f"keep its connections to that VIP to itself: give the local service a VIP of its own")
    return result


def _client_side_selected(services, selection) -> list[tuple[str, dict]]:
    """client_side_services: (where, a copy of the named lvs_services service, at the item's vip if it has one)."""
    by_name = {}
    for svc in services or []:
        if isinstance(svc, dict) and isinstance(svc.get("name"), str):
            by_name.setdefault(svc["name"], svc)
    out = []
    for i, item in enumerate(_list("client_side_services", selection if selection is not None else [],
                                   "service names (or {service, vip})")):
        where = f"client_side_services[{i}]"
        if isinstance(item, str):
            item = {"service": item}
        _mapping(where, item, "a service name or {service, vip}")
        _unknown(where, item, set(OBJECTS["client_side_service"]))
        name = item.get("service")
        if not isinstance(name, str) or name not in by_name:
            close = difflib.get_close_matches(str(name), sorted(by_name), n=1, cutoff=0.6)
            raise ModelError(f"{where}.service: {_show(name)} is not a service of lvs_services"
                             + (f" (did you mean {close[0]!r}?)" if close else ""))
        svc = dict(by_name[name])
        if "vip" in item:
            svc.pop("vips", None)
            svc["vip"] = item["vip"]
        out.append((where, svc))
    return out


def _client_side_raw(where: str, svc) -> dict:
    """A service as a client-side host balances it (raw, not normalized): nat, its VIPs held by the host itself,
    no one-packet scheduling, checks of the real servers' own addresses."""
    _mapping(where, svc, "a service")
    if svc.get("fwmark") is not None:
        raise ModelError(f"{where}: service {svc.get('name')} is a fwmark service; a client-side host balances "
                         f"VIP:port services (its own processes connect to an address)")
    raw = {k: v for k, v in svc.items() if k not in CLIENT_SIDE_DROPPED}
    raw["forwarding"] = "nat"
    raw["vip_holder"] = "external"  # the host holds its VIPs itself, on its dummy device: no VRRP
    raw.pop("ops", None)
    hc = raw.get("health_check")
    if isinstance(hc, dict) and "via" in hc:
        raw["health_check"] = {k: v for k, v in hc.items() if k != "via"}
    return raw


def _client_side_sources(source, normalized: list[dict], director_vips) -> None:
    """client_side_sources: one address per family, one for each family the services use, none a VIP."""
    sources = _list("client_side_sources", source if source is not None else [], "addresses")
    families = {}
    for j, a in enumerate(sources):
        addr = _addr(f"client_side_sources[{j}]", a)
        if addr.version in families:
            raise ModelError(f"client_side_sources[{j}]: {_show(a)} is a second IPv{addr.version} address; give "
                             f"one per family")
        families[addr.version] = _addr_text(addr)
    for svc in normalized:
        if svc["family"] not in families:
            raise ModelError(f"client_side_sources: no IPv{svc['family']} address for service {svc['name']} "
                             f"(VIP {svc['vip']}); give this host's address its real servers reach it by")
        if svc["vip"] in families.values():
            raise ModelError(f"client-side service {svc['name']}: VIP {svc['vip']} is this host's own source "
                             f"address; give the service a VIP of its own")
    for addr in families.values():
        if addr in (director_vips or ()):
            raise ModelError(f"client_side_sources: {addr} is a director's VIP; give this host's own address")


def _client_side_vip_ports(services, out: list[tuple[str, dict]], normalized: list[dict]) -> None:
    """A client-side VIP:port that is one of lvs_services' belongs to that service."""
    taken = {}
    for svc in services or []:
        if isinstance(svc, dict) and isinstance(svc.get("vip"), str) and svc.get("port") is not None:
            taken.setdefault((svc["vip"], svc.get("port"), svc.get("protocol", "tcp")), svc.get("name"))
    for (where, raw), svc in zip(out, normalized):
        owner = taken.get((svc["vip"], svc["port"], svc["protocol"]))
        if owner is not None and owner != svc["name"]:
            raise ModelError(f"{where} ({svc['name']}): {svc['vip']}:{svc['port']} is service {owner}'s; a "
                             f"client-side VIP:port belongs to one service")


def apply_real_server_states(services: list[dict], states) -> list[dict]:
    """Normalized services with some real servers' state overridden: {address or address:port: state}.

    Used by rolling operations (drain one host, remove one after draining) without editing the inventory.
    """
    if not states:
        return services
    _mapping("lvs_real_server_states", states, "real server address (or address:port) to state")
    wanted = {}
    for key, state in states.items():
        _choice(f"lvs_real_server_states.{key}", state, RS_STATES)
        wanted[str(key)] = state
    used = set()
    out = []
    for svc in services:
        svc = dict(svc)
        rss, svc_before = [], svc["real_servers"]
        for rs in svc["real_servers"]:
            hit = wanted.get(f"{rs['address']}:{rs['port']}") or wanted.get(rs["address"])
            if hit:
                used.update(k for k in (f"{rs['address']}:{rs['port']}", rs["address"]) if k in wanted)
                rs = dict(rs)
                _set_state(rs, hit)
            rss.append(rs)
        svc["real_servers"] = rss
        if rss != svc_before:
            if not any(r["present"] for r in rss) and svc.get("sorry_server") is None:
                raise ModelError(f"lvs_real_server_states: disables every real server of lvs_services "
                                 f"({svc['name']}); keepalived refuses a virtual server without one (drain them: "
                                 f"weight 0, or give the service a sorry_server)")
            _check_quorum(f"lvs_real_server_states: lvs_services ({svc['name']})", svc)
        out.append(svc)
    unknown = sorted(set(wanted) - used)
    if unknown:
        raise ModelError(f"lvs_real_server_states: {', '.join(unknown)} is not a real server of any service")
    return out


def real_server_vips(services: list[dict], addresses) -> list[dict]:
    """The VIPs a DR/TUN real server must accept: one entry per VIP whose service lists one of `addresses`.

    `services` are normalized. Each entry: vip, family, forwarding ("dr"/"tun"), tunnel, services (names).
    fwmark services without a VIP cannot say which address to accept and are skipped.
    """
    mine = {_addr_text(ipaddress.ip_address(str(a).split("/", maxsplit=1)[0])) for a in addresses or []}
    out: dict[str, dict] = {}
    for svc in services:
        if svc["forwarding"] == "nat" or svc["fwmark"] is not None:
            continue
        if not any(rs["address"] in mine for rs in svc["real_servers"]):
            continue
        entry = out.setdefault(svc["vip"], {"vip": svc["vip"], "family": svc["family"],
                                            "forwarding": svc["forwarding"], "tunnel": svc.get("tunnel"),
                                            "services": []})
        if entry["forwarding"] != svc["forwarding"] or entry["tunnel"] != svc.get("tunnel"):
            raise ModelError(f"service {svc['name']}: VIP {svc['vip']} is used with forwarding "
                             f"{entry['forwarding']}/{entry['tunnel']} by {entry['services'][0]} and "
                             f"{svc['forwarding']}/{svc.get('tunnel')} here; a real server accepts one VIP one way")
        entry["services"].append(svc["name"])
    return [out[k] for k in sorted(out)]


# ---------------------------------------------------------------- HeYe (Kubernetes-style) sources
K8S_HEALTH = {"http": "http", "tcp": "tcp", "mysql": "mysql"}


def _k8s(where: str, doc, *path, kind=dict, required: bool = False):
    """doc[path...] checked at every step: a missing key gives None (or an error when required), a value of
    another type than `kind` an error naming the field."""
    value = doc
    for depth, key in enumerate(path):
        if value is None:
            break
        field = ".".join(str(p) for p in path[:depth])
        if not isinstance(value, dict):
            raise ModelError(f"{where}.{field}: {_show(value)} must be a mapping")
        value = value.get(key)
    field = ".".join(str(p) for p in path)
    if value is None:
        if required:
            raise ModelError(f"{where}.{field}: required")
        return None
    if not isinstance(value, kind):
        what = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise ModelError(f"{where}.{field}: {_show(value)} must be a {what}")
    return value


def services_from_k8s(docs, source: str = "k8s") -> list[dict]:
    """HeYe-style Kubernetes `Service` + `Endpoints` documents -> services in the lvsfleet model.

    A Service and the Endpoints of the same metadata.name make one service per port: the VIP is
    spec.loadBalancerIP, else spec.externalIPs[0], else spec.clusterIP; Service.spec.ports[].name must
    match Endpoints.subsets[].ports[].name; Endpoints.metadata.annotations carries `calledSource` and
    `healthCheckType` (http, tcp or mysql), both required. Optional Service annotations:
    `scheduler` (default wrr) and `healthCheckPath` (http, default /). Values are checked again by the model;
    a document of the wrong shape is an error naming the file, the document and the field.
    """
    services, endpoints = _k8s_documents(docs, source)
    out = []
    for name, svc in services.items():
        where = f"{source}: Service {name}"
        ep = endpoints.get(name)
        if ep is None:
            raise ModelError(f"{where}: no Endpoints named {name!r}")
        ep_where = f"{source}: Endpoints {name}"
        vip = _k8s_vip(where, svc)
        check = _k8s_check(ep_where, ep)
        svc_ann = _k8s(where, svc, "metadata", "annotations") or {}
        svc_ports = _k8s_ports(where, svc)
        backends = _k8s_backends(ep_where, ep, name, svc_ports)
        for pname, port in svc_ports.items():
            if pname not in backends:
                raise ModelError(f"{where}: spec.ports name {_show(pname)} has no Endpoints port of that name")
            hc = {"type": K8S_HEALTH[check]}
            if check == "http":
                hc["path"] = _word(f"{where}: metadata.annotations.healthCheckPath", svc_ann.get("healthCheckPath", "/"),
                                   _URL_PATH, "a URL path starting with '/' (RFC 3986 characters; percent-encode "
                                   "spaces, '#', '!', '$', quotes and braces)")
            protocol = port.get("protocol", "TCP")
            out.append({"name": f"{name}-{pname}" if len(svc_ports) > 1 else name, "vip": vip,
                        "port": port.get("port"), "protocol": protocol.lower() if isinstance(protocol, str) else protocol,
                        "scheduler": svc_ann.get("scheduler", "wrr"), "health_check": hc,
                        "real_servers": backends[pname]})
    orphans = sorted(set(endpoints) - set(services))
    if orphans:
        raise ModelError(f"{source}: Endpoints {orphans[0]} has no Service of the same name")
    # Checked here too, so a bad value names the file (the inventory's own check names lvs_services[i]).
    normalize_services(out, f"{source}: services")
    return out


def _k8s_documents(docs, source: str) -> tuple[dict, dict]:
    """The documents (one, a list, or none) as ({name: Service}, {name: Endpoints}), each name once per kind."""
    if docs is None:
        docs = []
    if isinstance(docs, dict) or not isinstance(docs, (list, tuple)):
        docs = [docs]
    docs = [d for d in docs if d is not None]
    services, endpoints = {}, {}
    for i, doc in enumerate(docs):
        if not isinstance(doc, dict) or doc.get("kind") not in ("Service", "Endpoints"):
            kind = doc.get("kind") if isinstance(doc, dict) else _kind(doc)
            raise ModelError(f"{source}: document {i} is a {_show(kind)}; only Service and Endpoints are accepted")
        where = f"{source}: document {i} ({doc['kind']})"
        name = _k8s(where, doc, "metadata", "name", kind=str, required=True)
        if not _fullmatch(_NAME_WORD, name):
            raise ModelError(f"{where}.metadata.name: {_show(name)} must be a name of letters, digits, '_', '.' "
                             f"and '-'")
        table = services if doc["kind"] == "Service" else endpoints
        if name in table:
            raise ModelError(f"{where}.metadata.name: a second {doc['kind']} named {name!r}")
        table[name] = doc
    return services, endpoints


def _k8s_vip(where: str, svc: dict):
    """A Service's VIP: spec.loadBalancerIP, else spec.externalIPs[0], else spec.clusterIP."""
    external = _k8s(where, svc, "spec", "externalIPs", kind=list) or [None]
    vip = _k8s(where, svc, "spec", "loadBalancerIP", kind=str) or external[0] \
        or _k8s(where, svc, "spec", "clusterIP", kind=str)
    if not vip or vip == "None":
        raise ModelError(f"{where}: spec needs loadBalancerIP, externalIPs or clusterIP (the VIP)")
    return vip


def _k8s_check(ep_where: str, ep: dict) -> str:
    """An Endpoints' healthCheckType annotation (calledSource is required too)."""
    ann = _k8s(ep_where, ep, "metadata", "annotations") or {}
    for key in ("calledSource", "healthCheckType"):
        if not ann.get(key):
            raise ModelError(f"{ep_where}: metadata.annotations.{key} is required")
    _name(f"{ep_where}: metadata.annotations.calledSource", ann["calledSource"])
    check = ann["healthCheckType"]
    if not isinstance(check, str) or check not in K8S_HEALTH:
        raise ModelError(f"{ep_where}: metadata.annotations.healthCheckType: {_show(check)} is not "
                         f"one of http, tcp, mysql")
    return check


def _k8s_ports(where: str, svc: dict) -> dict:
    """A Service's spec.ports by name: at least one, each name once."""
    svc_ports = {}
    for p_i, p in enumerate(_k8s(where, svc, "spec", "ports", kind=list) or []):
        _mapping(f"{where}.spec.ports[{p_i}]", p, "name, port, protocol")
        if p.get("name") in svc_ports:
            raise ModelError(f"{where}.spec.ports[{p_i}].name: {_show(p.get('name'))} is used twice")
        svc_ports[p.get("name")] = p
    if not svc_ports:
        raise ModelError(f"{where}: spec.ports is empty")
    return svc_ports


def _k8s_backends(ep_where: str, ep: dict, name: str, svc_ports: dict) -> dict:
    """The real servers of each port name of Service `name`: {port name: [{address, port}]}, from the Endpoints'
    subsets (each subset's addresses times its ports)."""
    backends: dict = {}
    for s_i, subset in enumerate(_k8s(ep_where, ep, "subsets", kind=list) or []):
        s_where = f"{ep_where}.subsets[{s_i}]"
        _mapping(s_where, subset, "addresses and ports")
        addrs = []
        for a_i, a in enumerate(_k8s(s_where, subset, "addresses", kind=list) or []):
            addrs.append(_k8s(f"{s_where}.addresses[{a_i}]", a, "ip", kind=str, required=True)
                         if isinstance(a, dict) else _mapping(f"{s_where}.addresses[{a_i}]", a, "ip"))
        for p_i, port in enumerate(_k8s(s_where, subset, "ports", kind=list) or []):
            _mapping(f"{s_where}.ports[{p_i}]", port, "name and port")
            pname = port.get("name")
            if pname not in svc_ports:
                raise ModelError(f"{s_where}.ports[{p_i}].name {_show(pname)} matches no port of Service "
                                 f"{name} (ports: {', '.join(map(str, svc_ports))})")
            backends.setdefault(pname, []).extend({"address": a, "port": port.get("port")} for a in addrs)
    return backends
