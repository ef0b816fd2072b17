# -*- coding: utf-8 -*-
"""Adopt a hand-written keepalived director: its parsed keepalived.conf becomes lvsfleet inventory.

    adopt(nodes, host) -> {"lvs_services", "lvs_vrrp_instances", "lvs_vrrp_scripts", "host_vars",
                           "group_vars", "report"}
    merge({host: adopt(...)}) -> one inventory for the director group, with what differs between directors
                                 in the report
    meaning(nodes) -> what the configuration does (VIPs, services, real servers, weights, checks), keepalived's
                      defaults filled in: two configurations that mean the same compare equal
    services_from_ipvs(services) -> lvs_services from lvs_ipvs_info's `services` (a table built by scripts)

Everything the configuration says is either mapped to the model or reported: a report entry names the file,
the line, the block and the directive, and why lvsfleet does not carry it. Nothing is dropped silently.
Values are checked by the model (normalize_*) afterwards, not here: a value the model refuses fails the
adoption with the model's message. Standard library only.
"""
from __future__ import annotations

import ipaddress
import re

from .keepalived_semantics import (ADVERT_INT as KA_ADVERT_INT, AUTH_PASS_MAX, CONNECT_TIMEOUT as KA_CONNECT_TIMEOUT,
                                   DEFAULT_FORWARDING, DEFAULT_PROTOCOL, DEFAULT_SCHEDULER, DELAY_BEFORE_RETRY,
                                   DELAY_LOOP as KA_DELAY_LOOP, FORWARDING, MAX_PERSISTENCE_TIMEOUT, NB_GET_RETRY,
                                   PERSISTENT_TIMEOUT, PRIORITY_DEFAULT, PRIORITY_OWNER, PROTOCOLS, RETRY,
                                   SCHEDULERS as KA_SCHEDULERS, SCRIPT_FALL as KA_SCRIPT_FALL,
                                   SCRIPT_INTERVAL as KA_SCRIPT_INTERVAL, SCRIPT_RISE as KA_SCRIPT_RISE,
                                   WEIGHT as KA_WEIGHT, BLOCKS, VALUE_BLOCKS, address_part)

from .keepalived_conf import Node

KA_RETRY = RETRY["TCP_CHECK"]
KA_MISC_RETRY = RETRY["MISC_CHECK"]
KA_DELAY_BEFORE_RETRY = DELAY_BEFORE_RETRY["TCP_CHECK"]
# What lvsfleet's model cannot run and keepalived does: a report entry says so (partial adoption).
CHECKERS = ("TCP_CHECK", "HTTP_GET", "SSL_GET", "UDP_CHECK", "DNS_CHECK", "SMTP_CHECK", "MISC_CHECK")
CHECK_TYPE = {"TCP_CHECK": "tcp", "HTTP_GET": "http", "SSL_GET": "https", "UDP_CHECK": "udp", "DNS_CHECK": "dns",
              "SMTP_CHECK": "smtp", "MISC_CHECK": "custom"}
LVSFLEET_MYSQL = "/usr/local/libexec/lvsfleet/check-mysql"
LVSFLEET_NOTIFY = "/usr/local/libexec/lvsfleet/vrrp-notify"
SCHED_FLAGS = ("sh-port", "sh-fallback", "mh-port", "mh-fallback")
# What lvsfleet writes itself in global_defs (role variables, not inventory): reported as replaced.
GLOBAL_REPLACED = {
    "router_id": "lvsfleet sets router_id to the director's inventory name (keepalived_router_id)",
    "enable_script_security": "lvsfleet always sets enable_script_security",
    "script_user": "lvsfleet runs scripts as its own non-root script user (keepalived_script_user)",
}


class AdoptError(ValueError):
    """The configuration cannot be adopted at all (e.g. a value the model refuses); names file and line."""


# Script arguments that carry a credential: the value after one of these options (or after '=' in the same
# word), and the password of a user:password word after -u/--user. Adopted into the vault, never printed.
SECRET_OPTIONS = ("-p", "--password", "--pass", "--passwd", "-a", "--auth", "--secret", "--token", "--api-key",
                  "--community", "-c")
SECRET_PREFIXES = ("password=", "passwd=", "pass=", "secret=", "token=", "auth=")


def secret_arguments(argv: list[str]) -> list[int]:
    """Indices of the words of `argv` that are credentials (argv[0], the program, never is)."""
    out = []
    for i in range(1, len(argv)):
        word, before = argv[i], argv[i - 1]
        low = word.lower()
        if before in SECRET_OPTIONS or (before.startswith("--") and before[2:].lower() in ("password", "pass")):
            out.append(i)
        elif any(low.startswith(p) or low.startswith("--" + p) for p in SECRET_PREFIXES):
            out.append(i)
        elif word.startswith("-p") and len(word) > 2 and not word.startswith("--") and any(
                w.endswith(("mysql", "mysqladmin", "mariadb", "mariadb-admin")) for w in argv[:i]):
            out.append(i)  # mysql -pSECRET
        elif "://" in word and "@" in word.split("://", 1)[1].split("/", 1)[0]:
            out.append(i)  # a URL with user:password@
        elif before in ("-u", "--user") and ":" in word:
            out.append(i)  # curl -u user:password
    return out


def script_holders(inv: dict) -> list[tuple[str, dict]]:
    """(label, mapping holding `script`) for each vrrp_script and each service check of an adopted inventory."""
    out = [(f"script_{sc.get('name')}", sc) for sc in inv.get("lvs_vrrp_scripts", []) if isinstance(sc, dict)]
    out += [(f"check_{svc.get('name')}", svc["health_check"]) for svc in inv.get("lvs_services", [])
            if isinstance(svc, dict) and isinstance(svc.get("health_check"), dict)]
    return [(label, holder) for label, holder in out if isinstance(holder.get("script"), list)]


def masked(text: str) -> str:
    """`text` (a directive as written) with its credential words replaced by '****'."""
    words = text.split()
    for i in secret_arguments(words):
        words[i] = "****"
    return " ".join(words)


def _where(node: Node) -> str:
    return f"{node.file or 'keepalived.conf'}:{node.line}"


def _int(text: str):
    return int(text) if re.fullmatch(r"-?[0-9]+", text or "") else None


class _Adopter:
    def __init__(self, host: str):
        self.host = host
        self.report: list[dict] = []
        self.services: list[dict] = []
        self.instances: list[dict] = []
        self.scripts: list[dict] = []
        self.host_vars: dict = {}
        self.group_vars: dict = {}
        self.groups: dict[str, list[str]] = {}  # virtual_server_group name -> [vip]
        self.refused_groups: set[str] = set()  # groups keepalived runs that lvsfleet cannot carry
        self.group_ports: dict[str, int] = {}
        self.sync_daemon: dict | None = None
        self.sync_groups: dict[str, str] = {}  # instance -> group
        self.path_marks: dict[int, str] = {}  # fwmark of a forwarding-path check -> its real server's address
        self.strict = False  # global_defs vrrp_strict: keepalived drops VRRP authentication
        self.version = 2  # global_defs vrrp_version: 3 ignores authentication
        self.unicast_src: str | None = None  # the first instance's unicast_src_ip (lvs_vrrp_unicast_ip)
        self.where: dict[str, str] = {}  # "service NAME" / "vrrp_instance NAME" / "script NAME" -> file:line
        # Blocks keepalived runs that the adopter itself leaves out: (kind, label, file:line, why). They count in
        # the summary's totals, its "need a decision" list and the report's "left out" entries like the model's
        # refusals.
        self.dropped: list[tuple[str, str, str, str]] = []

    # ------------------------------------------------------------ report
    def skip(self, node: Node, context: str, reason: str) -> None:
        words = [node.keyword] + (["****"] if node.keyword == "auth_pass" else node.args)
        self.report.append({"where": _where(node), "block": context, "directive": masked(" ".join(words))
                            + (" {...}" if node.children else ""), "reason": reason})

    def drop(self, node: Node, kind: str, context: str, reason: str) -> None:
        """A whole service, instance or script keepalived runs is left out: reported, and counted as left out."""
        self.skip(node, context, reason)
        self.dropped.append((kind, " ".join(node.args) or "?", _where(node), reason))

    def leftovers(self, nodes, context: str, known: set[str], reason: str = "not an lvsfleet setting") -> None:
        for n in nodes or []:
            if n.keyword not in known:
                self.skip(n, context, reason)

    # ------------------------------------------------------------ top level
    def run(self, nodes: list[Node]) -> None:
        order = {"global_defs": 0, "virtual_server_group": 1, "vrrp_script": 2, "vrrp_sync_group": 3,
                 "vrrp_instance": 4, "virtual_server": 5}
        for node in sorted(nodes, key=lambda n: order.get(n.keyword, 9)):
            handler = getattr(self, "do_" + node.keyword, None)
            if handler is None or node.children is None:
                self.skip(node, "top level", "lvsfleet does not manage this block; keep it outside lvsfleet "
                          "(e.g. static addresses and routes in the host's network configuration)")
                continue
            handler(node)

    def do_global_defs(self, node: Node) -> None:
        for n in node.children:
            if n.keyword in GLOBAL_REPLACED:
                self.skip(n, "global_defs", GLOBAL_REPLACED[n.keyword])
            elif n.keyword in ("vrrp_garp_master_repeat", "vrrp_garp_master_refresh") and _int(n.args[0] if n.args
                                                                                               else "") is not None:
                self.group_vars["keepalived_" + n.keyword[5:]] = int(n.args[0])
            elif n.keyword == "vrrp_version" and n.args in (["2"], ["3"]):
                self.version = int(n.args[0])
                self.skip(n, "global_defs", f"vrrp_version is not an lvsfleet setting (lvsfleet renders keepalived's "
                          f"default: 2 for IPv4, 3 for IPv6); its effect on authentication is adopted")
            elif n.keyword == "vrrp_strict" and not n.args:
                self.strict = True
                self.skip(n, "global_defs", "vrrp_strict is not an lvsfleet setting; its effect on authentication "
                          "is adopted (keepalived 2.2.7 runs every instance without auth_pass in strict mode)")
            elif n.keyword == "lvs_sync_daemon" and len(n.args) >= 2:
                sd = {"interface": n.args[0], "instance": n.args[1]}
                rest = n.args[2:]
                if len(rest) >= 2 and rest[0] == "id" and _int(rest[1]) is not None:
                    sd["id"] = int(rest[1])
                    rest = rest[2:]
                if rest:
                    self.skip(n, "global_defs", f"lvs_sync_daemon options {' '.join(rest)} are not modelled "
                              f"(lvsfleet sets interface, instance and id)")
                self.sync_daemon = sd
            else:
                self.skip(n, "global_defs", "not an lvsfleet setting (lvsfleet renders its own global_defs)")

    def named(self, node: Node) -> bool:
        """A block named by exactly one word (vrrp_script, vrrp_instance); reported otherwise."""
        if len(node.args) != 1:
            self.drop(node, "script" if node.keyword == "vrrp_script" else node.keyword, "top level",
                      f"a {node.keyword} needs exactly one name")
        return len(node.args) == 1

    def do_vrrp_script(self, node: Node) -> None:
        ctx = f"vrrp_script {' '.join(node.args)}"
        if not self.named(node):
            return
        sc = {"name": node.args[0]}
        for n in node.children:
            if n.keyword == "script" and n.args:
                sc["script"] = " ".join(n.args).split()
            elif n.keyword in ("interval", "timeout", "fall", "rise", "weight") and len(n.args) == 1 \
                    and _int(n.args[0]) is not None:
                sc[n.keyword] = int(n.args[0])
            else:
                self.skip(n, ctx, "not modelled for vrrp_script (lvsfleet runs scripts as its script user, "
                          "without a shell)")
        sc.setdefault("interval", KA_SCRIPT_INTERVAL)
        sc.setdefault("fall", KA_SCRIPT_FALL)
        sc.setdefault("rise", KA_SCRIPT_RISE)
        if "script" not in sc:
            self.drop(node, "script", "top level", "a vrrp_script without a script line")
            return
        self.where["script " + sc["name"]] = _where(node)
        self.scripts.append(sc)

    def do_vrrp_sync_group(self, node: Node) -> None:
        ctx = f"vrrp_sync_group {' '.join(node.args)}"
        name = node.args[0] if node.args else ""
        for n in node.children:
            if n.keyword == "group" and n.children is not None:
                for member in n.children:
                    self.sync_groups[member.keyword] = name
                    if member.args or member.children is not None:
                        self.skip(member, ctx, "a sync group member is one instance name")
            else:
                self.skip(n, ctx, "not modelled for sync groups (lvsfleet renders membership only; notify scripts "
                          "are replaced by lvsfleet's own hook)")

    def do_vrrp_instance(self, node: Node) -> None:
        ctx = f"vrrp_instance {' '.join(node.args)}"
        if not self.named(node):
            return
        vi = {"name": node.args[0]}
        advertised, excluded = [], []
        state = None
        strict = self.strict
        version = self.version
        for n in node.children:
            k, a = n.keyword, n.args
            one = a[0] if len(a) == 1 else None
            if k in ("interface",) and one:
                vi["interface"] = one
            elif k in ("virtual_router_id", "advert_int", "preempt_delay", "garp_master_delay",
                       "garp_master_repeat", "garp_master_refresh") and _int(one) is not None:
                vi[k] = int(one)
            elif k == "priority" and _int(one) is not None and 1 <= int(one) <= 255:
                vi["priorities"] = {self.host: int(one)}
            elif k == "priority":
                vi["priorities"] = {self.host: PRIORITY_DEFAULT}
                self.skip(n, ctx, "keepalived: \"Priority not valid! must be between 1 & 255. Using default "
                          "100\" (vrrp_parser.c vrrp_prio_handler): adopted as 100")
            elif k == "state" and one in ("MASTER", "BACKUP"):
                state = one
            elif k == "version" and a in (["2"], ["3"]):
                version = int(a[0])
                self.skip(n, ctx, "version is not an lvsfleet setting (lvsfleet renders keepalived's default: 2 for "
                          "IPv4, 3 for IPv6); its effect on authentication is adopted")
            elif k == "strict_mode" and (not a or a[0].lower() in ("on", "true", "yes", "off", "false", "no")):
                strict = not a or a[0].lower() in ("on", "true", "yes")
            elif k == "nopreempt":
                vi["nopreempt"] = True
                if a:  # vrrp_parser.c vrrp_nopreempt_handler sets the flag and reads no argument
                    self.skip(n, ctx, f"keepalived ignores the value {' '.join(a)!r} of nopreempt and does not "
                              f"preempt: adopted as nopreempt")
            elif k == "preempt":  # vrrp_parser.c vrrp_preempt_handler ("backwards compatibility") clears it
                vi.pop("nopreempt", None)
                self.skip(n, ctx, "keepalived's old 'preempt' clears an earlier nopreempt: adopted so (preempting)")
            elif k == "authentication" and n.children is not None:
                self.auth(n, ctx, vi)
            elif k == "unicast_src_ip" and one:
                src = address_part(one)
                if src != one:
                    self.skip(n, ctx, f"keepalived reads {one} as {src} (lib/utils.c inet_stosockaddr cuts at '/' "
                              f"or '-'): adopted as {src}")
                if self.unicast_src not in (None, src):
                    self.skip(n, ctx, f"another instance uses unicast_src_ip {self.unicast_src}; lvsfleet has one "
                              f"unicast source address per director (lvs_vrrp_unicast_ip): this instance is left out")
                    vi["_refused"] = True
                self.unicast_src = self.unicast_src or src
                self.host_vars["lvs_vrrp_unicast_ip"] = self.unicast_src
                vi.setdefault("unicast_peers", []).insert(0, src)
            elif k == "unicast_peer" and n.children is not None:
                for p in n.children:
                    if p.args or p.children is not None:
                        self.skip(p, ctx + " > unicast_peer", "peer options are not modelled (address only)")
                    vi.setdefault("unicast_peers", []).append(address_part(p.keyword))
            elif k == "track_interface" and n.children is not None:
                vi["track_interfaces"] = self.names(n, ctx, "track_interface")
                own = vi.get("interface") or next((c.args[0] for c in node.children
                                                   if c.keyword == "interface" and c.args), None)
                for dev in [d for d in vi["track_interfaces"] if d == own]:
                    vi["track_interfaces"].remove(dev)
                    self.skip(next(c for c in n.children if c.keyword == dev), ctx + " > track_interface",
                              "the instance's own interface: keepalived ignores tracking it (it tracks it anyway)")
            elif k == "track_script" and n.children is not None:
                vi["track_scripts"] = self.names(n, ctx, "track_script")
            elif k in ("virtual_ipaddress", "virtual_ipaddress_excluded") and n.children is not None:
                (advertised if k == "virtual_ipaddress" else excluded).extend(self.vips(n, ctx, vi))
            elif k == "notify" and a == [LVSFLEET_NOTIFY]:
                pass  # lvsfleet's own hook: re-adopting an lvsfleet director
            elif k.startswith("notify") or k == "smtp_alert":
                self.skip(n, ctx, "lvsfleet installs its own notify hook (state records, vip-release); "
                          "this script would no longer run")
            else:
                self.skip(n, ctx, "not an lvsfleet VRRP setting")
        if "unicast_peers" in vi and "lvs_vrrp_unicast_ip" not in self.host_vars:
            self.skip(node, "top level", "unicast_peer without unicast_src_ip: lvsfleet needs the director's own "
                      "address (lvs_vrrp_unicast_ip); set it by hand")
        if "priorities" not in vi:  # vrrp.c vrrp_complete_instance(): 255 for state MASTER, else 100
            vi["priorities"] = {self.host: PRIORITY_OWNER if state == "MASTER" else PRIORITY_DEFAULT}
            self.skip(node, "top level", f"vrrp_instance {vi['name']} has no priority: keepalived uses "
                      f"{vi['priorities'][self.host]} (state {state or 'BACKUP'}); adopted so")
        # keepalived takes the instance's family from its first address (other-family addresses are ignored)
        if (version == 3 or (advertised or excluded or ["."])[0].count(":") > 0) and "auth_pass" in vi and not strict:
            # vrrp.c vrrp_complete_instance: "VRRP version 3 does not support authentication. Ignoring." (an
            # instance with IPv6 addresses always speaks VRRPv3)
            vi.pop("auth_pass")
            self.skip(node, "top level", f"vrrp_instance {vi['name']}: VRRP version 3 (IPv6, vrrp_version or "
                      f"version 3) has no authentication; keepalived ignores it: adopted without auth_pass")
        if state == "MASTER" and (vi.get("nopreempt") or vi.get("preempt_delay") is not None):
            # vrrp.c vrrp_complete_instance: "nopreempt will not work with initial state MASTER - clearing"
            # (and the same for preempt_delay)
            gone = [k for k in ("nopreempt", "preempt_delay") if vi.pop(k, None) is not None]
            self.skip(node, "top level", f"vrrp_instance {vi['name']}: {' and '.join(gone)} with state MASTER: "
                      f"keepalived clears it and preempts; adopted without it")
        if vi.get("nopreempt") and vi.get("preempt_delay") is not None:
            # vrrp.c vrrp_complete_instance: nopreempt resets preempt_delay
            vi.pop("preempt_delay")
            self.skip(node, "top level", f"vrrp_instance {vi['name']}: preempt_delay with nopreempt: keepalived "
                      f"ignores the delay; adopted without it")
        if state == "MASTER" and vi.pop("_ah", False) and vi["priorities"][self.host] != PRIORITY_OWNER:
            # vrrp.c vrrp_complete_instance: "Initial state master is incompatible with AH authentication"
            state = "BACKUP"
            self.skip(node, "top level", f"vrrp_instance {vi['name']}: AH authentication with state MASTER: "
                      f"keepalived starts it as BACKUP")
        vi.pop("_ah", None)
        if strict and "auth_pass" in vi:
            vi.pop("auth_pass")
            self.skip(node, "top level", f"vrrp_instance {vi['name']}: in strict mode keepalived ignores "
                      f"authentication (\"Strict mode does not support authentication. Ignoring.\", vrrp.c "
                      f"vrrp_complete_instance): adopted without auth_pass")
        if vi.pop("_refused", False):
            self.dropped.append(("vrrp_instance", vi["name"], _where(node), "a second unicast_src_ip on this "
                                 "director (lvsfleet has one unicast source per director)"))
            return
        vi["virtual_ipaddresses"] = advertised + excluded
        if advertised and len(advertised) != 1:
            vi["advertised_addresses"] = len(advertised)
        elif not advertised and excluded:
            self.skip(node, "top level", "every address is excluded from adverts: lvsfleet advertises at least "
                      "the first one")
        if self.sync_groups.get(vi["name"]):
            vi["sync_group"] = self.sync_groups[vi["name"]]
        if self.sync_daemon and self.sync_daemon["instance"] == vi["name"]:
            vi["lvs_sync_daemon"] = {k: v for k, v in self.sync_daemon.items() if k != "instance"}
        vi["_state"] = state
        self.where["vrrp_instance " + vi["name"]] = _where(node)
        self.instances.append(vi)

    def auth(self, node: Node, ctx: str, vi: dict) -> None:
        kind = None
        for n in node.children:
            if n.keyword == "auth_type" and n.args:
                kind = n.args[0]
            elif n.keyword == "auth_pass" and n.args:
                vi["auth_pass"] = n.args[0][:AUTH_PASS_MAX]  # vrrp_parser.c vrrp_auth_pass_handler: word 1, 8 bytes
                if len(n.args[0]) > AUTH_PASS_MAX or len(n.args) > 1:
                    self.skip(n, ctx + " > authentication", f"keepalived uses the first {AUTH_PASS_MAX} characters "
                              f"of the first word (\"Truncating auth_pass to 8 characters\"): adopted so")
            else:
                self.skip(n, ctx + " > authentication", "not modelled")
        if kind == "AH":
            vi["_ah"] = True
        if kind != "PASS":
            vi.pop("auth_pass", None)
            self.skip(node, ctx, f"auth_type {kind}: lvsfleet renders PASS authentication only")

    def names(self, node: Node, ctx: str, what: str) -> list[str]:
        out = []
        for n in node.children:
            out.append(n.keyword)
            if n.args:
                self.skip(n, f"{ctx} > {what}", f"per-item options ({' '.join(n.args)}) are not modelled; the item "
                          f"is tracked with keepalived's default (fault on failure)")
        return out

    def vips(self, node: Node, ctx: str, vi: dict) -> list[str]:
        out = []
        for n in node.children:
            addr, rest = n.keyword, list(n.args)
            if "dev" in rest:
                i = rest.index("dev")
                dev = rest[i + 1] if i + 1 < len(rest) else ""
                del rest[i:i + 2]
                vi.setdefault("interface", dev)
                if dev != vi.get("interface"):
                    self.skip(n, f"{ctx} > {node.keyword}", f"on {dev}, not the instance's interface "
                              f"{vi.get('interface')}: lvsfleet puts an instance's addresses on its interface")
                    continue
            try:
                ipaddress.ip_interface(addr)
            except ValueError:
                self.skip(n, f"{ctx} > {node.keyword}", f"{addr} is not an address with a valid prefix; keepalived "
                          f"does not hold it: left out")
                continue
            if rest or n.children is not None:
                self.skip(n, f"{ctx} > {node.keyword}", f"address options {' '.join(rest)} are not modelled; the "
                          f"address is adopted without them")
            out.append(addr)
        return out

    def do_virtual_server_group(self, node: Node) -> None:
        ctx = f"virtual_server_group {' '.join(node.args)}"
        name = node.args[0] if node.args else ""
        vips, ports = [], set()
        for n in node.children:
            if len(n.args) == 1 and _int(n.args[0]) is not None and "-" not in n.keyword:
                vips.append(n.keyword)
                ports.add(int(n.args[0]))
            else:
                self.skip(n, ctx, "lvsfleet groups whole addresses with one port (no ranges, no fwmark members)")
        if len(ports) > 1:
            self.skip(node, "top level", f"ports {sorted(ports)}: lvsfleet groups VIPs that share one port")
            self.refused_groups.add(name)
            return
        self.groups[name] = vips
        if ports:
            self.group_ports[name] = ports.pop()

    # ------------------------------------------------------------ virtual servers
    def do_virtual_server(self, node: Node) -> None:
        a = node.args
        ctx = f"virtual_server {' '.join(a)}"
        svc: dict = {}
        if len(a) == 2 and a[0] == "fwmark" and _int(a[1]) is not None:
            svc["fwmark"] = int(a[1])
            name = f"fwmark-{a[1]}"
        elif len(a) == 2 and a[0] == "group":
            if a[1] not in self.groups and a[1] not in self.refused_groups:
                # check_data.c: a virtual_server naming no virtual_server_group is not run
                self.skip(node, "top level", f"virtual_server_group {a[1]} is not defined: keepalived runs nothing "
                          f"for it")
                return
            if a[1] not in self.groups:
                self.drop(node, "service", "top level", f"virtual_server_group {a[1]} could not be adopted")
                return
            svc["vips"], svc["port"] = self.groups[a[1]], self.group_ports.get(a[1])
            name = a[1]
        elif len(a) == 2 and _int(a[1]) is not None:
            svc["vip"], svc["port"] = a[0], int(a[1])
            name = None
        else:
            self.drop(node, "service", "top level", "a virtual_server is ADDRESS PORT, fwmark N or group NAME")
            return
        delay_loop = KA_DELAY_LOOP
        hosts = None
        rss, checks = [], []
        for n in node.children:
            k, args = n.keyword, n.args
            one = args[0] if len(args) == 1 else None
            if k in ("lb_algo", "lvs_sched") and one:
                if one in KA_SCHEDULERS:
                    svc["scheduler"] = one
                else:  # check_parser.c lbalgo_handler: "Invalid lvs_scheduler '%s' - ignoring"
                    svc.setdefault("scheduler", DEFAULT_SCHEDULER)
                    self.skip(n, ctx, f"keepalived knows no scheduler {one!r} (names are case-sensitive) and uses "
                              f"{DEFAULT_SCHEDULER}: adopted as {DEFAULT_SCHEDULER}")
            elif k in ("lb_kind", "lvs_method") and args:
                self.forwarding(n, ctx, svc)
            elif k == "protocol" and one and one.lower() in PROTOCOLS:
                svc["protocol"] = one.lower()
            elif k == "delay_loop" and _int(one) is not None:
                delay_loop = int(one)
            elif k == "persistence_timeout" and not args:
                svc.setdefault("persistence", {})["timeout"] = PERSISTENT_TIMEOUT
                self.skip(n, ctx, f"persistence_timeout with no value: keepalived uses {PERSISTENT_TIMEOUT} s "
                          f"(IPVS_SVC_PERSISTENT_TIMEOUT); adopted so")
            elif k == "persistence_timeout" and _int(one) is not None and 1 <= int(one) <= MAX_PERSISTENCE_TIMEOUT:
                svc.setdefault("persistence", {})["timeout"] = int(one)
            elif k == "persistence_timeout":
                self.skip(n, ctx, f"keepalived refuses persistence_timeout {' '.join(args)} (\"persistence_timeout "
                          f"invalid\", range 1-{MAX_PERSISTENCE_TIMEOUT}) and keeps the service as it was: adopted "
                          f"without this line")
            elif k == "persistence_granularity" and one:
                svc.setdefault("persistence", {})["netmask"] = one
            elif k == "inhibit_on_failure":  # check_parser.c vs_inhibit_handler ignores any argument: on
                svc["_inhibit_all"] = True
            elif k in ("quorum", "hysteresis") and _int(one) is not None:
                svc[k] = int(one)
            elif k in ("alpha", "omega") or (k == "ops" and not args):
                svc[k] = True
                if args:  # check_parser.c vs_alpha_handler / omega_handler set the flag and read no argument
                    self.skip(n, ctx, f"keepalived ignores the value {' '.join(args)!r} of {k} and turns it on: "
                              f"adopted as {k}")
            elif k in SCHED_FLAGS and not args:
                # check_parser.c lbflags_handler: sh-* count only when the scheduler read so far is sh, mh-* only
                # under mh; otherwise the flag is ignored ("... only applies to sh scheduler - ignoring")
                if svc.get("scheduler") == k[:2]:
                    svc.setdefault("scheduler_flags", []).append(k)
                else:
                    self.skip(n, ctx, f"keepalived ignores {k} unless lb_algo {k[:2]} comes before it: adopted "
                              f"without it")
            elif k == "sorry_server" and len(args) == 2 and _int(args[1]) is not None:
                svc["sorry_server"] = {"address": args[0], "port": int(args[1])}
            elif k == "virtualhost" and one:
                hosts = one
            elif k == "real_server" and n.children is not None and (
                    (len(args) == 2 and _int(args[1]) is not None) or (len(args) == 1 and "fwmark" in svc)):
                rs, check = self.real_server(n, ctx, hosts)
                rss.append(rs)
                checks.append((n, check))
            else:
                self.skip(n, ctx, "not an lvsfleet virtual_server setting")
        if "persistence" in svc and "timeout" not in svc["persistence"]:
            svc["persistence"]["timeout"] = PERSISTENT_TIMEOUT  # check_parser.c pgr_handler: granularity alone
        if "fwmark" not in svc and "protocol" not in svc:
            svc["protocol"] = DEFAULT_PROTOCOL
            self.skip(node, "top level", f"{ctx}: no protocol line; keepalived 2.2.7 runs it as UDP (\"no protocol "
                      f"set - defaulting to UDP\", check_data.c validate_check_config): adopted as UDP")
        if svc.get("port") == 0 and "persistence" not in svc:
            svc["persistence"] = {"timeout": PERSISTENT_TIMEOUT}
            self.skip(node, "top level", f"{ctx}: port 0; keepalived makes it persistent ({PERSISTENT_TIMEOUT} s, "
                      f"\"zero port only valid for persistent services - setting\"): adopted so")
        svc.setdefault("forwarding", DEFAULT_FORWARDING)
        if svc.pop("_inhibit_all", False):
            for rs in rss:
                rs["_inhibit"] = True
        if not rss:
            # check_data.c validate_check_config: "Virtual server ... has no real servers - ignoring" [seen]
            self.skip(node, "top level", "a virtual_server without real servers: keepalived ignores it (\"has no "
                      "real servers - ignoring\"), and so does lvsfleet")
            return
        svc["name"] = name or f"{svc.get('protocol', 'tcp')}-{svc['vip'].replace(':', '-')}-{svc['port']}"
        if svc.get("port") is None:
            svc.pop("port", None)
        inhibit = {rs.pop("_inhibit", False) for rs in rss}
        if inhibit == {True}:
            svc["inhibit_on_failure"] = True
        elif len(inhibit) > 1:
            self.skip(node, "top level", "inhibit_on_failure on some real servers only: lvsfleet sets it per "
                      "service; adopted as off")
        if "fwmark" in svc and svc["forwarding"] != "nat" and any(rs["port"] for rs in rss):
            # check_data.c validate_check_config: "fwmark virtual server ..., real server ... has port specified -
            # clearing" (DR/TUN cannot change ports); its checker still probes the port as written.
            for rs, (_n, c) in zip(rss, checks):
                if c is not None and "_port" not in c:
                    c["_port"] = rs["port"]
                rs["port"] = 0
            self.skip(node, "top level", f"{ctx}: real server ports on a {svc['forwarding'].upper()} fwmark service: "
                      f"keepalived clears them (checks still probe them): adopted without ports, the checks' port kept")
            if len({(c or {}).get("_port") for _n, c in checks}) > 1:
                self.dropped.append(("service", svc["name"], _where(node), "its checks probe different ports on a "
                                     "fwmark service whose real servers keepalived runs without ports"))
                return
        svc["health_check"], svc["delay_loop"] = self.one_check(node, checks, rss, delay_loop)
        if svc["health_check"] is None:  # reported per real server by one_check
            self.dropped.append(("service", svc["name"], _where(node), "its real servers' MISC_CHECK scripts "
                                 "differ: one script for all would probe another server"))
            return
        self.check_path(node, svc, checks, rss)
        svc["real_servers"] = rss
        self.where["service " + svc["name"]] = _where(node)
        self.services.append(svc)

    def forwarding(self, node: Node, ctx: str, svc: dict) -> None:
        """lb_kind / lvs_method METHOD [type ipip|gue port N|gre] [csum|nocsum|remcsum], as
        check_parser.c svr_forwarding_handler reads it (case-sensitive)."""
        method, opts = node.args[0], list(node.args[1:])
        if method not in FORWARDING:
            self.skip(node, ctx, f"keepalived knows no forwarding method {method!r} (\"unknown [{method}] routing "
                      f"method\"; NAT, DR and TUN are case-sensitive) and runs NAT: adopted as nat")
            svc["forwarding"] = DEFAULT_FORWARDING
            return
        svc["forwarding"] = FORWARDING[method]
        if method == "TUN" and opts[:1] == ["type"] and len(opts) >= 2:
            kind = opts[1]
            if kind == "gue" and len(opts) >= 4 and opts[2] == "port" and _int(opts[3]) is not None:
                svc["tunnel"], svc["tunnel_port"] = "gue", int(opts[3])
                opts = opts[4:]
            elif kind in ("ipip", "gre"):
                svc["tunnel"] = kind
                opts = opts[2:]
        if opts:
            self.skip(node, ctx, f"tunnel options {' '.join(opts)} are not modelled; adopted without them")

    def real_server(self, node: Node, ctx: str, vhost):
        rctx = f"{ctx} > real_server {' '.join(node.args)}"
        rs = {"address": node.args[0], "port": int(node.args[1]) if len(node.args) > 1 else 0}
        check = None
        for n in node.children:
            k, one = n.keyword, (n.args[0] if len(n.args) == 1 else None)
            if k == "weight" and _int(one) is not None:
                rs["weight"] = int(one)
            elif k == "uthreshold" and _int(one) is not None:
                rs["upper_threshold"] = int(one)
            elif k == "lthreshold" and _int(one) is not None:
                rs["lower_threshold"] = int(one)
            elif k == "inhibit_on_failure" and not n.args:
                rs["_inhibit"] = True
            elif k in CHECKERS and n.children is not None:
                if check is not None:
                    self.skip(n, rctx, "a second checker: lvsfleet runs one health check per service")
                else:
                    check = self.checker(n, rctx, vhost)
            else:
                self.skip(n, rctx, "not an lvsfleet real_server setting (notify scripts are not run by lvsfleet)")
        rs.setdefault("weight", KA_WEIGHT)
        return rs, check

    def checker(self, node: Node, ctx: str, vhost) -> dict:
        cctx = f"{ctx} > {node.keyword}"
        kind = CHECK_TYPE[node.keyword]
        hc: dict = {"type": kind}
        hc["retries"] = RETRY[node.keyword]
        hc["delay_before_retry"] = DELAY_BEFORE_RETRY[node.keyword]  # None (DNS_CHECK): its delay_loop, set below
        hc["timeout"] = KA_CONNECT_TIMEOUT
        if vhost and kind in ("http", "https"):
            hc["host"] = vhost
        urls = 0
        for n in node.children:
            k, args = n.keyword, n.args
            one = args[0] if len(args) == 1 else None
            if k == "connect_port" and _int(one) is not None:
                hc["_port"] = int(one)
            elif k in ("connect_ip", "bindto") and one and kind != "custom":
                hc["_" + k] = one
            elif k == "fwmark" and _int(one) is not None and kind != "custom":
                hc["_fwmark"] = int(one)
            elif k == "connect_timeout" and _int(one) is not None and kind != "custom":
                hc["timeout"] = int(one)
            elif (k == "retry" or (k == "nb_get_retry" and node.keyword in NB_GET_RETRY)) and _int(one) is not None:
                hc["retries"] = int(one)
            elif k == "nb_get_retry":
                self.skip(n, cctx, f"keepalived 2.2.7 does not know nb_get_retry in {node.keyword} (\"Unknown "
                          f"keyword\") and keeps its default retry {RETRY[node.keyword]}: adopted so")
            elif k == "delay_before_retry" and _int(one) is not None:
                hc["delay_before_retry"] = int(one)
            elif k == "virtualhost" and one and kind in ("http", "https"):
                hc["host"] = one
            elif k == "url" and n.children is not None and kind in ("http", "https"):
                urls += 1
                if urls > 1:
                    self.skip(n, cctx, "a second url: lvsfleet checks one URL per service")
                    continue
                if not any(u.keyword == "status_code" for u in n.children):
                    self.skip(n, cctx, "no status_code (keepalived then accepts any 2xx answer): lvsfleet checks "
                              "one status, adopted as 200")
                for u in n.children:
                    uone = u.args[0] if len(u.args) == 1 else None
                    if u.keyword == "path" and uone:
                        hc["path"] = uone
                    elif u.keyword == "status_code" and _int(uone) is not None:
                        hc["status"] = int(uone)
                    elif u.keyword == "digest" and uone:
                        hc["digest"] = uone
                    else:
                        self.skip(u, cctx + " > url", "not modelled (lvsfleet checks path, one status code, digest)")
            elif k in ("payload", "require_reply") and one and kind == "udp":
                hc["payload" if k == "payload" else "reply"] = one
            elif k in ("type", "name") and one and kind == "dns":
                hc["query_type" if k == "type" else "query"] = one
            elif k == "helo_name" and one and kind == "smtp":
                hc["helo"] = one
            elif k == "misc_path" and kind == "custom" and not " ".join(args).split():
                pass  # keepalived drops a checker without a script: below
            elif k == "misc_path" and args and kind == "custom":
                words = " ".join(args).split()
                if words[0] == LVSFLEET_MYSQL:
                    hc["type"] = "mysql"
                    if len(words) > 4:
                        self.skip(n, cctx, "the check's credentials file: give health_check user and password "
                                  "(from Ansible Vault) again")
                else:
                    hc["script"] = words
            elif k == "misc_timeout" and _int(one) is not None and kind == "custom":
                if int(one):
                    hc["_misc_timeout"] = int(one)
                else:  # 0, keepalived's own default: the delay_loop
                    hc["_misc_default"] = True
            else:
                self.skip(n, cctx, "not an lvsfleet health-check setting")
        if kind == "custom" and ("script" not in hc and hc.get("type") != "mysql"):
            # check_misc.c misc_end_handler: "No script path has been specified for MISC_CHECKER - skipping"
            self.skip(node, ctx, "a MISC_CHECK without a script: keepalived drops this checker, so the real "
                      "server is not checked; adopted without a check")
            return None
        if "_misc_timeout" in hc:
            hc.pop("_misc_default", None)
            # lvsfleet renders misc_timeout as the check timeout + 2 (the script's own bound plus its start-up)
            t = hc.pop("_misc_timeout")
            hc["timeout"] = max(t - 2, 1)
            if t - 2 < 1:
                self.skip(node, ctx, f"misc_timeout {t}: lvsfleet renders at least 3")
        elif kind == "custom":
            hc["_misc_default"] = True  # check_misc.c: no misc_timeout bounds the script by delay_loop (one_check)
        return hc

    @staticmethod
    def own_scripts(checks, rss) -> bool:
        """Custom checks that differ only in naming their own real server's address (and port): rewritten in
        place to one script with %RS_ADDRESS% / %RS_PORT%. False (nothing changed) when that does not make them
        one."""
        if not all((c or {}).get("type") == "custom" and "script" in c for _n, c in checks):
            return False
        generic = []
        for (_n, c), rs in zip(checks, rss):
            words = []
            for w in c["script"]:
                before = "0-9A-Za-z" if ":" in rs["address"] else "0-9"  # -h203.0.113.21 names it; x10.0.0.1 not
                w = re.sub(rf"(?<![{before}.:]){re.escape(rs['address'])}(?![0-9A-Za-z.:])", "%RS_ADDRESS%", w)
                words.append("%RS_PORT%" if w == str(rs["port"]) else w)
            generic.append(words)
        if any(g != generic[0] for g in generic) or generic[0] == checks[0][1]["script"]:
            return False
        for _n, c in checks:
            c["script"] = list(generic[0])
        return True

    def check_path(self, node: Node, svc: dict, checks, rss) -> None:
        """connect_ip VIP + bindto + fwmark on every checker: lvsfleet's forwarding-path check (via: forwarding);
        the fwmark services that carry the probes are consumed in result()."""
        hc = svc["health_check"]
        connect_ip, bindto = hc.pop("_connect_ip", None), hc.pop("_bindto", None)
        hc.pop("_fwmark", None)
        if connect_ip is None and bindto is None and not any((c or {}).get("_fwmark") for _name, c in checks):
            return
        vip = (svc.get("vips") or [svc.get("vip")])[0]
        marks = [(c or {}).get("_fwmark") for _name, c in checks]
        if (connect_ip is not None and vip is not None and _is_addr(connect_ip) and _is_addr(vip)
                and ipaddress.ip_address(connect_ip) == ipaddress.ip_address(vip) and bindto and all(marks)):
            hc["via"] = "forwarding"
            self.host_vars["lvs_check_source"] = bindto
            for mark, rs in zip(marks, rss):
                self.path_marks[mark] = rs["address"]
            return
        self.skip(node, "top level", "checks with connect_ip/bindto/fwmark other than lvsfleet's forwarding-path "
                  "check (connect_ip the VIP, bindto and a fwmark on every real server): adopted as checks of "
                  "each real server's own address")

    def one_check(self, node: Node, checks, rss, delay_loop: int):
        """The service's health check: every real server's checker must be the same (but for its port)."""
        kinds = [c for _name, c in checks]
        first = kinds[0]

        def but_port(c):
            return c and {k: v for k, v in c.items() if k not in ("_port", "_fwmark")}

        if any(but_port(c) != but_port(first) for _n, c in checks) and self.own_scripts(checks, rss):
            self.skip(node, "top level", f"virtual_server {' '.join(node.args)}: each real server's MISC_CHECK "
                      f"names that server; adopted as one script with %RS_ADDRESS% / %RS_PORT%, which lvsfleet "
                      f"renders as each real server's own address and port")
        for n, c in checks:
            if but_port(c) == but_port(first):
                continue
            if "custom" in ((c or {}).get("type"), (first or {}).get("type")) and (
                    (c or {}).get("type") != (first or {}).get("type") or c.get("script") != first.get("script")):
                # A script names what it probes: the first server's script would check another server.
                self.skip(n, f"virtual_server {' '.join(node.args)}", "this real server's MISC_CHECK differs from "
                          "the first real server's beyond naming its own address and port: lvsfleet runs one "
                          "check per service, and the first one would probe another server; the service is "
                          "left out")
                return None, delay_loop
            self.skip(n, f"virtual_server {' '.join(node.args)}", "this real server's check differs from the "
                      "first real server's: lvsfleet runs one check per service; adopted with the first one")
        if first is None:
            return {"type": "none"}, delay_loop
        hc = dict(first)
        hc.pop("_port", None)
        if hc.pop("_misc_default", False):
            # check_misc.c: without misc_timeout the script may run for delay_loop; lvsfleet renders the check's
            # timeout + 2 as misc_timeout, so delay_loop - 2 renders the same bound.
            hc["timeout"] = max(delay_loop - 2, 1)
            if delay_loop < 3:
                self.skip(node, "top level", f"virtual_server {' '.join(node.args)}: no misc_timeout, so keepalived "
                          f"bounds the script by delay_loop {delay_loop}; lvsfleet renders at least misc_timeout 3")
        probed = [(c or {}).get("_port", rs["port"]) for c, rs in zip(kinds, rss)]
        if probed != [rs["port"] for rs in rss]:
            if len(set(probed)) == 1:
                hc["port"] = probed[0]
            else:
                self.skip(node, "top level", f"checks probe ports {sorted(set(probed))}: lvsfleet probes one port "
                          f"per service (or each real server's own); adopted as each real server's own port")
        if hc.get("delay_before_retry") is None:  # check_dns.c dns_check_handler: the delay_loop
            hc["delay_before_retry"] = delay_loop
        # The model requires a check to end before the next starts; delay_loop stays as written.
        hc["interval"] = max(delay_loop, hc.get("timeout", 1))
        return hc, delay_loop

    # ------------------------------------------------------------ result
    def result(self) -> dict:
        members: dict[str, list[dict]] = {}
        for vi in self.instances:
            if vi.get("sync_group"):
                members.setdefault(vi["sync_group"], []).append(vi)
        for group, (vi, *more) in members.items():
            if not more:  # a group of one syncs nothing; lvsfleet (and keepalived's --config-test) refuse it
                del vi["sync_group"]
                self.report.append({"where": self.where.get("vrrp_instance " + vi["name"], "-"),
                                    "block": f"vrrp_sync_group {group}", "directive": f"group {{ {vi['name']} }}",
                                    "reason": "a sync group of one adopted instance syncs nothing (keepalived: "
                                              "\"Sync group has only 1 virtual router(s)\"): adopted without it"})
        held = []
        for vi in self.instances:
            for text in vi["virtual_ipaddresses"]:
                if _is_addr(text.split("/")[0]):
                    held.append(str(ipaddress.ip_interface(text).ip))
        paths = [s for s in self.services if s.get("fwmark") in self.path_marks and len(s["real_servers"]) == 1
                 and s["real_servers"][0]["address"] == self.path_marks[s["fwmark"]]
                 and s["health_check"] == {"type": "none"}]
        self.services = [s for s in self.services if not any(s is p for p in paths)]
        for svc in self.services:
            if "fwmark" in svc:
                family = {ipaddress.ip_address(rs["address"]).version for rs in svc["real_servers"]
                          if _is_addr(rs["address"])}
                same = [v for v in held if ipaddress.ip_address(v).version in family]
                if same:
                    svc["vip"] = same[0]
                self.report.append({"where": "-", "block": f"service {svc['name']}", "directive": f"fwmark "
                                    f"{svc['fwmark']}", "reason": "a firewall-mark service names no address; the "
                                    "model needs its VIP (its family, and what DR/TUN real servers accept): "
                                    + (f"adopted {same[0]}, the first VRRP address; check it" if same else
                                       "none found, set vip by hand")})
                continue
            vips = svc.get("vips") or ([svc["vip"]] if "vip" in svc else [])
            if vips and not all(str(ipaddress.ip_address(v)) in held for v in vips if _is_addr(v)):
                svc["vip_holder"] = "external"
                self.report.append({"where": "-", "block": f"service {svc['name']}", "directive": ", ".join(vips),
                                    "reason": "no vrrp_instance here holds this VIP: adopted with "
                                              "vip_holder: external (something else must hold it)"})
        return {"lvs_services": self.services, "lvs_vrrp_instances": self.instances,
                "lvs_vrrp_scripts": self.scripts, "host_vars": self.host_vars, "group_vars": self.group_vars,
                "report": self.report, "where": self.where, "dropped": self.dropped}


def _is_addr(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
        return True
    except ValueError:
        return False


def as_keepalived_reads(nodes: list[Node]) -> tuple[list[Node], list[tuple[Node, str]]]:
    """The tree as keepalived's parser builds it (keepalived_semantics.BLOCKS): a '{' after a keyword that opens
    no block where it stands is ignored, what follows is read in the enclosing block and the next '}' closes
    that. Returns the tree and each (node, enclosing block) whose '{' keepalived ignored."""
    tokens: list[tuple[str, Node, int]] = []

    def flatten(ns):
        for n in ns:
            if n.children is None:
                tokens.append(("leaf", n, 0))
                continue
            at = len(tokens)
            tokens.append(("open", n, 0))
            flatten(n.children)
            tokens.append(("close", n, 0))
            tokens[at] = ("open", n, len(tokens) - 1)

    flatten(nodes)
    root: list[Node] = []
    stack: list[tuple[str, list[Node]]] = [("", root)]
    misread = []
    i = 0
    while i < len(tokens):
        kind, n, end = tokens[i]
        context, out = stack[-1]
        i += 1
        if kind == "close":
            if len(stack) > 1:
                stack.pop()
            continue
        if kind == "leaf":
            out.append(n)
        elif n.keyword not in BLOCKS.get(context, ()):
            out.append(Node(n.keyword, list(n.args), None, n.line, n.file))
            misread.append((n, context))
        elif n.keyword in VALUE_BLOCKS:
            out.append(n)  # its lines are values, read as written
            i = end + 1
        else:
            block = Node(n.keyword, list(n.args), [], n.line, n.file)
            out.append(block)
            stack.append((n.keyword, block.children))
    return root, misread


def adopt(nodes: list[Node], host: str) -> dict:
    """One director's configuration as inventory (see the module docstring)."""
    nodes, misread = as_keepalived_reads(nodes)
    a = _Adopter(host)
    for n, context in misread:
        a.skip(n, context or "top level", f"keepalived 2.2.7 knows no block {n.keyword} in "
               f"{context or 'the top level'} (\"Unknown keyword\", \"Unexpected '{{' - ignoring\"): it reads the "
               f"lines after it as part of {context or 'the top level'}, and the next '}}' closes "
               f"{context or 'nothing'}; adopted as keepalived reads it")
    a.run(nodes)
    return a.result()


# ---------------------------------------------------------------- several directors
def merge(per_host: dict) -> dict:
    """One inventory for the director group from each director's adopt() result.

    Services and scripts must be the same on every director (the model shares them); VRRP instances may differ
    in priority (merged into `priorities`), unicast source and state, nothing else. Differences are reported
    and the first director's version (sorted by name) is kept.
    """
    hosts = sorted(per_host)
    if not hosts:
        raise AdoptError("no director to adopt")
    base = per_host[hosts[0]]
    report = [dict(r, host=h) for h in hosts for r in per_host[h]["report"]]
    out = {"lvs_services": base["lvs_services"], "lvs_vrrp_scripts": base["lvs_vrrp_scripts"],
           "group_vars": dict(base["group_vars"]), "host_vars": {h: per_host[h]["host_vars"] for h in hosts},
           "where": {k: f"{hosts[0]}:{v}" for k, v in (base.get("where") or {}).items()}}
    # What the adopter left out whole: services and scripts as the first director's (the ones adopted), instances
    # from every director.
    dropped = {}
    for h in hosts:
        for kind, label, where, why in per_host[h].get("dropped", []):
            if h == hosts[0] or kind == "vrrp_instance":
                dropped.setdefault((kind, label), (f"{h}:{where}", why))
    out["dropped"] = [(kind, label, where, why) for (kind, label), (where, why) in dropped.items()]
    # (instances are merged below: one adopted from another director is reported there, not left out)
    for h in hosts[1:]:
        for key in ("lvs_services", "lvs_vrrp_scripts", "group_vars"):
            if _canon(per_host[h][key]) != _canon(base[key]):
                report.append({"host": h, "where": "-", "block": key, "directive": _first_difference(
                    base[key], per_host[h][key], hosts[0], h),
                    "reason": f"{h} differs from {hosts[0]}; lvsfleet gives every director the same {key}: "
                              f"{hosts[0]}'s is adopted"})
    instances: dict[str, dict] = {}
    for h in hosts:
        for vi in per_host[h]["lvs_vrrp_instances"]:
            vi = dict(vi)
            vi.pop("_state", None)
            prios = vi.pop("priorities", {})
            peers = vi.pop("unicast_peers", None)
            have = instances.get(vi["name"])
            if have is None:
                instances[vi["name"]] = dict(vi, priorities=dict(prios), **({"unicast_peers": list(peers)}
                                                                            if peers else {}))
                continue
            same = {k: v for k, v in have.items() if k not in ("priorities", "unicast_peers")}
            if _canon(same) != _canon(vi):
                report.append({"host": h, "where": "-", "block": f"vrrp_instance {vi['name']}",
                               "directive": _first_difference(same, vi, "first", h),
                               "reason": "the instance differs between directors beyond priority and unicast "
                                         "addresses; the first director's is adopted"})
            have["priorities"].update(prios)
            if peers:
                listed = have.setdefault("unicast_peers", [])
                listed.extend(p for p in peers if p not in listed)
    out["lvs_vrrp_instances"] = list(instances.values())
    for kind, label, where, why in list(out["dropped"]):
        if kind == "vrrp_instance" and label in instances:
            out["dropped"].remove((kind, label, where, why))
            report.append({"host": where.split(":", 1)[0], "where": where, "block": f"vrrp_instance {label}",
                           "directive": "left out on this director",
                           "reason": f"{why}; adopted from the other directors without this one's priority"})
    # The model decides each director's initial state: the highest priority starts MASTER, everyone BACKUP with
    # nopreempt or preempt_delay. A written state that differs is reported (keepalived's running state is kept
    # across a reload either way).
    for h in hosts:
        for vi in per_host[h]["lvs_vrrp_instances"]:
            merged = instances[vi["name"]]
            top = max(merged["priorities"].values())
            backup_start = merged.get("nopreempt") or merged.get("preempt_delay") is not None
            model = "BACKUP" if backup_start or merged["priorities"].get(h) != top else "MASTER"
            if vi.get("_state") and vi["_state"] != model:
                report.append({"host": h, "where": "-", "block": f"vrrp_instance {vi['name']}",
                               "directive": f"state {vi['_state']}",
                               "reason": f"lvsfleet starts this director as {model} (the highest priority is MASTER "
                                         f"unless nopreempt or preempt_delay)"})
    out["report"] = report
    return out


def _canon(value):
    if isinstance(value, dict):
        return tuple(sorted((k, _canon(v)) for k, v in value.items()))
    if isinstance(value, list):
        return tuple(_canon(v) for v in value)
    return value


def _first_difference(a, b, an: str, bn: str) -> str:
    if isinstance(a, list) and isinstance(b, list):
        names_a = [x.get("name") if isinstance(x, dict) else x for x in a]
        names_b = [x.get("name") if isinstance(x, dict) else x for x in b]
        if names_a != names_b:
            return f"{an} has {names_a}, {bn} has {names_b}"
        for x, y in zip(a, b):
            if _canon(x) != _canon(y):
                return f"{x.get('name') if isinstance(x, dict) else x}: {_first_difference(x, y, an, bn)}"
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b)):
            if _canon(a.get(k)) != _canon(b.get(k)):
                return f"{k}: {an} {a.get(k)!r}, {bn} {b.get(k)!r}"
    return f"{an} {a!r}, {bn} {b!r}"


# ---------------------------------------------------------------- what a configuration means
def meaning(nodes: list[Node]) -> dict:
    """VIPs per instance, VRRP essentials, services with their real servers, weights and checks; defaults filled.

    Addresses in canonical form; lists where order does not matter are sorted. Used to prove an adopted and
    re-rendered configuration does what the original did.
    """
    groups = {}
    for n in nodes:
        if n.keyword == "virtual_server_group" and n.children is not None:
            groups[n.args[0]] = sorted((_canon_addr(m.keyword), m.args[0] if m.args else "") for m in n.children)
    out = {"instances": {}, "services": {}}
    nodes = as_keepalived_reads(nodes)[0]
    globals_ = [c for n in nodes if n.keyword == "global_defs" and n.children for c in n.children]
    strict_all = any(c.keyword == "vrrp_strict" for c in globals_)
    version_all = next((c.args[0] for c in reversed(globals_) if c.keyword == "vrrp_version" and c.args), "2")
    for n in nodes:
        if n.keyword == "vrrp_instance" and n.children is not None:
            strict, version, state = strict_all, version_all, None
            vi = {"vips": [], "interface": None, "virtual_router_id": None, "priority": None,
                  "advert_int": str(KA_ADVERT_INT), "auth": None, "advertised": []}
            for c in n.children:
                if c.keyword in ("interface", "virtual_router_id", "priority", "advert_int") and c.args:
                    vi[c.keyword] = c.args[0]
                elif c.keyword == "nopreempt":  # vrrp_parser.c vrrp_nopreempt_handler: any argument ignored
                    vi["nopreempt"] = True
                elif c.keyword == "preempt":  # vrrp_preempt_handler, "backwards compatibility": clears it
                    vi.pop("nopreempt", None)
                elif c.keyword == "strict_mode":
                    strict = not c.args or c.args[0].lower() in ("on", "true", "yes")
                elif c.keyword in ("version", "state") and c.args:
                    version, state = (c.args[0], state) if c.keyword == "version" else (version, c.args[0])
                elif c.keyword == "authentication" and c.children:
                    # vrrp_auth_pass_handler keeps the first word's first 8 characters
                    vi["auth"] = sorted((x.keyword, x.args[0][:AUTH_PASS_MAX] if x.keyword == "auth_pass" and x.args
                                         else " ".join(x.args)) for x in c.children)
                elif c.keyword in ("virtual_ipaddress", "virtual_ipaddress_excluded") and c.children:
                    for v in c.children:
                        vi["vips"].append(_canon_iface(v.keyword))
                        if c.keyword == "virtual_ipaddress":
                            vi["advertised"].append(_canon_iface(v.keyword))
            vi["vips"].sort()
            # vrrp.c vrrp_complete_instance: neither strict mode nor VRRPv3 (IPv6 addresses) authenticates, and
            # an initial state MASTER clears nopreempt
            first = next((c for c in n.children if c.keyword in ("virtual_ipaddress", "virtual_ipaddress_excluded")
                          and c.children), None)
            if strict or version == "3" or (first is not None and ":" in first.children[0].keyword):
                vi["auth"] = None
            if state == "MASTER":
                vi.pop("nopreempt", None)
            out["instances"][n.args[0]] = vi
        elif n.keyword == "virtual_server" and n.children is not None:
            a = n.args
            if a[0] == "group":
                key = ("group", tuple(groups.get(a[1], [])))
            elif a[0] == "fwmark":
                key = ("fwmark", a[1])
            else:
                key = (_canon_addr(a[0]), a[1])
            svc = {"delay_loop": str(KA_DELAY_LOOP), "real_servers": {}, "lb_kind": "NAT",
                   "lb_algo": DEFAULT_SCHEDULER}
            if a[0] != "fwmark":
                svc["protocol"] = DEFAULT_PROTOCOL.upper()
            vhost = next((c.args[0] for c in n.children if c.keyword == "virtualhost" and c.args), None)
            sched = None  # the scheduler read so far: lbflags_handler tests it when it reads a flag
            delay_loop = next((c.args[0] for c in n.children if c.keyword == "delay_loop" and c.args),
                              str(KA_DELAY_LOOP))
            for c in n.children:
                if c.keyword in ("lb_algo", "lvs_sched") and c.args and c.args[0] in KA_SCHEDULERS:
                    svc["lb_algo"] = sched = c.args[0]
                elif c.keyword in ("lb_kind", "lvs_method") and c.args and c.args[0] in FORWARDING:
                    svc["lb_kind"] = c.args[0]
                    if c.args[0] == "TUN" and c.args[1:2] == ["type"]:
                        svc["tunnel"] = " ".join(c.args[2:5] if c.args[2:3] == ["gue"] else c.args[2:3])
                elif c.keyword == "persistence_timeout" and not c.args:
                    svc["persistence_timeout"] = str(PERSISTENT_TIMEOUT)
                elif c.keyword == "persistence_timeout" and c.args and not (
                        _int(c.args[0]) is not None and 1 <= int(c.args[0]) <= MAX_PERSISTENCE_TIMEOUT):
                    pass  # refused by keepalived: the service stays as it was
                elif c.keyword == "protocol" and c.args and a[0] != "fwmark":
                    if c.args[0].lower() in PROTOCOLS:
                        svc["protocol"] = c.args[0].upper()
                elif c.keyword in ("delay_loop", "persistence_timeout", "quorum", "hysteresis") and c.args:
                    svc[c.keyword] = c.args[0]
                elif c.keyword == "persistence_granularity":
                    svc["persistence_granularity"] = _canon_mask(c.args[0])
                elif c.keyword == "sorry_server":
                    svc["sorry_server"] = (_canon_addr(c.args[0]), c.args[1])
                elif c.keyword in SCHED_FLAGS:
                    if sched == c.keyword[:2]:
                        svc[c.keyword] = True
                elif c.keyword in ("alpha", "omega", "ops"):
                    svc[c.keyword] = True
                elif c.keyword == "real_server" and c.children is not None:
                    port = c.args[1] if len(c.args) > 1 else "0"  # no port: 0 (a fwmark service's real server)
                    svc["real_servers"][(_canon_addr(c.args[0]), port)] = _rs_meaning(c, vhost, delay_loop)
            svc.setdefault("quorum", "1")
            svc.setdefault("hysteresis", "0")
            if a[0] == "fwmark" and svc["lb_kind"] != "NAT":  # check_data.c: DR/TUN real server ports cleared
                svc["real_servers"] = {(addr, "0"): rs for (addr, _port), rs in svc["real_servers"].items()}
            if "persistence_granularity" in svc or (len(a) == 2 and a[0] not in ("fwmark", "group")
                                                    and _int(a[1]) == 0):
                svc.setdefault("persistence_timeout", str(PERSISTENT_TIMEOUT))
            if "persistence_timeout" not in svc:
                svc.pop("persistence_granularity", None)
            # check_data.c: a virtual_server without real servers, or naming no group, is not run
            if svc["real_servers"] and not (a[0] == "group" and a[1] not in groups):
                out["services"][key] = svc
    _paths_by_meaning(out["services"])
    return out


def _paths_by_meaning(services: dict) -> None:
    """A check marked for a fwmark service that holds only one real server and checks nothing is a path to
    that real server: named by its forwarding and address, not by the mark's number (which only orders)."""
    paths = {}
    for key, svc in services.items():
        if key[0] == "fwmark" and len(svc["real_servers"]) == 1:
            ((addr, _port), rs), = svc["real_servers"].items()
            if rs["check"] is None:
                paths[key[1]] = f"path {svc.get('lb_kind', 'NAT')} {addr}"
    used = set()
    for key, svc in services.items():
        for rs in svc["real_servers"].values():
            chk = rs["check"]
            if chk and chk.get("fwmark") in paths:
                used.add(chk["fwmark"])
                chk["fwmark"] = paths[chk["fwmark"]]
    for mark in used:
        del services[("fwmark", mark)]


def _rs_meaning(node: Node, vhost, delay_loop: str = str(KA_DELAY_LOOP)) -> dict:
    rs = {"weight": str(KA_WEIGHT), "check": None}
    for c in node.children:
        if c.keyword in ("weight", "uthreshold", "lthreshold") and c.args:
            rs[c.keyword] = c.args[0]
        elif c.keyword == "inhibit_on_failure":
            rs["inhibit_on_failure"] = True
        elif c.keyword in CHECKERS and c.children is not None and rs["check"] is None:
            kind = c.keyword
            chk = {"type": kind, "connect_port": node.args[1] if len(node.args) > 1 else "",
                   "retry": str(RETRY[kind]), "delay_before_retry": str(DELAY_BEFORE_RETRY[kind] or delay_loop)}
            if kind != "MISC_CHECK":
                chk["connect_timeout"] = str(KA_CONNECT_TIMEOUT)
            for x in c.children:
                if x.keyword == "nb_get_retry" and kind not in NB_GET_RETRY:
                    continue  # "Unknown keyword" in this checker
                k = "retry" if x.keyword == "nb_get_retry" else x.keyword
                if k == "url" and x.children is not None:
                    chk.setdefault("url", sorted((u.keyword, " ".join(u.args)) for u in x.children))
                elif k == "misc_path":
                    chk[k] = " ".join(" ".join(x.args).split())
                elif x.args:
                    chk[k] = " ".join(x.args)
            if kind == "MISC_CHECK":
                chk.pop("connect_port", None)
                if chk.get("misc_timeout", "0") == "0":  # keepalived.conf(5): 0 or none is the delay_loop
                    chk["misc_timeout"] = delay_loop
            if kind in ("HTTP_GET", "SSL_GET") and vhost:
                chk.setdefault("virtualhost", vhost)
            rs["check"] = chk
    return rs


def _canon_addr(text: str) -> str:
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        return text


def _canon_mask(text: str) -> str:
    """A dotted IPv4 netmask for a mask or prefix length that has one; anything else (an IPv6 prefix) as written."""
    try:
        return str(ipaddress.ip_network(f"0.0.0.0/{text}").netmask)
    except ValueError:
        return text


def _canon_iface(text: str) -> str:
    try:
        i = ipaddress.ip_interface(text)
    except ValueError:
        return text
    return str(i) if "/" in text else f"{i.ip}/{i.max_prefixlen}"


# ---------------------------------------------------------------- a live IPVS table
FWD_TO_MODEL = {"masq": "nat", "route": "dr", "tunnel": "tun", "nat": "nat", "dr": "dr", "tun": "tun",
                "local": "nat"}


def services_from_ipvs(services: list[dict]) -> tuple[list[dict], list[dict]]:
    """lvs_services from lvs_ipvs_info's `services`, and a report of what does not map.

    A service's forwarding method is its real servers' (the kernel keeps it per real server; the model per
    service): mixed methods are reported and the first is adopted. Health checks are unknown to the kernel:
    every adopted service gets `health_check: none` and a report entry saying so.
    """
    out, report = [], []
    for s in services:
        label = s.get("key") or "?"
        svc = {"scheduler": s["scheduler"]}
        if s.get("fwmark"):
            svc["fwmark"] = s["fwmark"]
            svc["name"] = f"fwmark-{s['fwmark']}"
            vips = [x["vip"] for x in services if x.get("vip") and x.get("family") == s.get("family")]
            if not vips:
                report.append({"where": label, "directive": f"fwmark {s['fwmark']}",
                               "reason": "a firewall-mark service names no address and no service of its family "
                                         "gives one; the model needs its VIP: not adopted"})
                continue
            svc["vip"] = vips[0]
            report.append({"where": label, "directive": f"fwmark {s['fwmark']}",
                           "reason": f"a firewall-mark service names no address; adopted vip {vips[0]} (the first "
                                     f"VIP of its family); check it"})
        else:
            svc["vip"], svc["port"], svc["protocol"] = s["vip"], s["port"], s["protocol"]
            svc["name"] = f"{s['protocol']}-{s['vip'].replace(':', '-')}-{s['port']}"
        if s.get("scheduler_flags"):
            svc["scheduler_flags"] = list(s["scheduler_flags"])
        if s.get("persistence_timeout"):
            svc["persistence"] = {"timeout": s["persistence_timeout"]}
        methods = {FWD_TO_MODEL.get(r["forwarding"], r["forwarding"]) for r in s.get("real_servers", [])}
        rss = s.get("real_servers") or []
        if rss:
            svc["forwarding"] = FWD_TO_MODEL.get(rss[0]["forwarding"], rss[0]["forwarding"])
            if rss[0].get("tunnel") and rss[0]["tunnel"] != "ipip":
                svc["tunnel"] = rss[0]["tunnel"]
        if len(methods) > 1:
            report.append({"where": label, "directive": ", ".join(sorted(methods)),
                           "reason": "real servers forwarded different ways; the model has one method per service: "
                                     f"adopted {svc['forwarding']}"})
        svc["real_servers"] = []
        for r in rss:
            rs = {"address": r["address"], "port": r["port"], "weight": r["weight"]}
            for key in ("upper_threshold", "lower_threshold"):
                if r.get(key):
                    rs[key] = r[key]
            svc["real_servers"].append(rs)
        if not rss:
            report.append({"where": label, "directive": "no real servers",
                           "reason": "a service without real servers cannot be modelled; not adopted"})
            continue
        svc["health_check"] = "none"
        svc["vip_holder"] = "external"
        report.append({"where": label, "directive": "health checks",
                       "reason": "the kernel table has no health checks: adopted with health_check: none and "
                                 "vip_holder: external; add checks and a VRRP instance in inventory"})
        out.append(svc)
    return out, report
