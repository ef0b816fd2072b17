# -*- coding: utf-8 -*-
"""The inventory schema as data: every object's keys and every variable lvsfleet reads.

One entry per key says what it is (kind, grammar, range, choices), its default, where it means something
(applies) and which programs read what it becomes (readers). The model (model.py) takes its key sets,
defaults and choices from here; the gate checks every variable against it; the docs' key tables
(docs/inventory-keys.md) and the generated bad-input corpus (tests/unit/test_schema_corpus.py) are derived
from it; a unit test fails for a key the model accepts without an entry here.

Standard library only (module_utils: imported by modules on the targets too).
"""

from __future__ import annotations

from dataclasses import dataclass

REQUIRED = "required"  # a Key.default: the key must be given


@dataclass(frozen=True)
class Key:
    """One key of an inventory object, or one inventory variable.

    kind: int, bool, str (with `grammar`), choice (one of `choices`), address, addresses (a list of them),
          list (of `item`: a kind or an object name of OBJECTS), mapping, object (keys of OBJECTS[item]), secret,
          or one of the composite kinds named in its doc (int_or_object, ...).
    range: (lo, hi) inclusive, for int kinds (and list lengths where `kind` is list).
    grammar: a name of GRAMMARS (the words a string may be).
    applies: "" (always), or a condition like "protocol=udp", "forwarding=dr,tun", "type=http,https".
    readers: the programs that read what the key becomes: keepalived, bird, kernel, sysctl, node_exporter,
             prometheus, lvsfleet (lvsfleet's own tools and roles).
    scope: for variables: "directors" (one value for every director), "director" (per director),
           "host" (any host), "real_server", "client_side", "monitoring".
    """

    name: str
    kind: str
    doc: str
    default: object = None
    range: tuple[int, int] | None = None
    choices: tuple | None = None
    grammar: str | None = None
    item: str | None = None
    applies: str = ""
    readers: tuple[str, ...] = ()
    scope: str = ""


# ---------------------------------------------------------------- vocabularies
# What a Key.kind may be: the docs' tables print these words.
KINDS = {
    "int": "a whole number (a YAML integer, or a string of digits)",
    "number": "a number (integer or decimal)",
    "bool": "a YAML boolean (true/false, never the string 'yes')",
    "str": "a string (of `grammar` when one is named)",
    "choice": "one of `choices`",
    "secret": "a string from Ansible Vault; never printed",
    "address": "one usable IPv4 or IPv6 address (not unspecified, multicast, loopback, broadcast, link-local, "
               "scoped or IPv4-mapped)",
    "addresses": "a list of addresses",
    "prefix": "an address, or address/prefix length",
    "host": "a host name or an address",
    "netmask": "an IPv4 netmask (255.255.255.0) or a prefix length (24; IPv6: 1..128)",
    "asn": "an AS number, 1..4294967295 without the reserved and documentation ones (RFC 6793, 5398, 7300)",
    "argv": "a command: an argv list (or one string of words), the first an absolute path",
    "list": "a list of `item`",
    "mapping": "a mapping of names to `item`",
    "object": "a mapping with the keys of the object `item`",
    "int_or_object": "an integer (its first key), or the object `item`",
    "str_or_object": "a string (its first key), or the object `item`",
    "bool_or_object": "true (the object's defaults), false, or the object `item`",
    "addresses_or_bool": "a list of addresses, or true (derived from the inventory)",
}

# Which programs read what a key becomes (Key.readers).
READERS = {
    "keepalived": "keepalived.conf: VRRP, virtual servers, health checks",
    "bird": "BIRD 2's bird.conf (BGP announcements of anycast VIPs)",
    "kernel": "the kernel: IPVS table, addresses, devices, routes, modules",
    "sysctl": "kernel settings (sysctl.d)",
    "node_exporter": "prometheus-node-exporter's listen address and web config",
    "prometheus": "the monitoring host's Prometheus (scrape jobs)",
    "systemd": "systemd unit settings",
    "apt": "packages installed",
    "ssh": "SSH (the management host's keys and known_hosts, the worker's sshd)",
    "lvsfleet": "lvsfleet's own roles, playbooks and tools (gate, rolling changes, BGP gate, metrics)",
}

# Variable scopes (Key.scope): where a variable is set.
SCOPES = {
    "directors": "one value for every director (group_vars/directors or all); the gate refuses a difference",
    "director": "per director (host_vars)",
    "host": "any host lvsfleet deploys to (directors, real servers, client-side hosts)",
    "real_server": "hosts of the real_servers group",
    "client_side": "hosts of the client_side group",
    "monitoring": "hosts of the monitoring group",
    "run": "given for one run (-e) by the operator or set by a playbook",
}

# ---------------------------------------------------------------- choices (model.py's tuples, same values)
# IPVS schedulers the kernel ships (net/netfilter/ipvs/ip_vs_*.c) and keepalived's lb_algo names them.
SCHEDULERS = ("rr", "wrr", "lc", "wlc", "lblc", "lblcr", "dh", "sh", "sed", "nq", "fo", "ovf", "mh")
# keepalived's scheduler flags (IP_VS_SVC_F_SCHED1..3 of sh and mh).
SCHEDULER_FLAGS = {
    "sh": ("sh-fallback", "sh-port"),
    "mh": ("mh-fallback", "mh-port"),
}
PROTOCOLS = ("tcp", "udp", "sctp")
FORWARDING = ("nat", "dr", "tun")
TUNNEL_TYPES = ("ipip", "gue", "gre")
RS_STATES = ("enabled", "drained", "disabled")
HEALTH_TYPES = ("none", "tcp", "http", "https", "udp", "dns", "smtp", "mysql", "syslog", "custom")
VIP_HOLDERS = ("vrrp", "external", "bgp")
# keepalived's DNS_CHECK type keyword.
DNS_TYPES = ("A", "NS", "CNAME", "SOA", "MX", "TXT", "AAAA")
HEALTH_VIA = ("address", "forwarding")
# Check types that open a socket keepalived can mark and bind (health_check.via: forwarding).
VIA_FORWARDING_TYPES = ("tcp", "http", "https", "udp", "dns", "smtp", "syslog")
# The transport a check type probes with (syslog: its `transport`).
HEALTH_TRANSPORT = {"tcp": "tcp", "http": "tcp", "https": "tcp", "smtp": "tcp", "mysql": "tcp", "udp": "udp",
                    "dns": "udp"}
SYSLOG_TRANSPORTS = ("tcp", "udp")
# Schedulers that pick the same real server from the packet alone on every director (vip_holder: bgp).
ANYCAST_SCHEDULERS = ("mh", "sh")
# roles/lvs_director/meta/argument_specs.yml lvs_director_sysctl_profile.
SYSCTL_PROFILES = ("stateful", "stateless")
# Variables every director must have alike (check_inventory).
DIRECTOR_SHARED = ("lvs_services", "lvs_vrrp_instances", "lvs_vrrp_scripts", "lvs_bgp", "lvs_real_server_states",
                   "lvs_priority_overrides")
# Keys a client-side host drops from a director's service (it is the client: NAT, no VIP path).
CLIENT_SIDE_DROPPED = ("tunnel", "tunnel_port", "vrrp_instance")
# Firewall marks lvsfleet gives forwarding-path checks: service fwmarks stay outside.
CHECK_FWMARK_BASE = 0x6C760000
CHECK_FWMARK_COUNT = 0x10000
# HeYe Endpoints annotation healthCheckType -> health_check.type.
K8S_HEALTH = {"http": "http", "tcp": "tcp", "mysql": "mysql"}
RELOAD_METHODS = ("reload", "restart")  # roles/keepalived/meta/argument_specs.yml keepalived_reload_method
SSH_PASSWORD_LOGINS = ("disable", "keep")  # roles/ssh_trust/meta/argument_specs.yml

# ---------------------------------------------------------------- grammars (model.py's patterns, same text)
_LABEL = r"[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?"
_PEM_BODY = r"[ \t]*\n(?:[A-Za-z0-9+/=]{1,76}[ \t]*\n){1,200}"
# name -> (pattern, what it admits). Each is matched whole (re.fullmatch). None admits whitespace, quotes,
# braces, '#', '!' or '$' where the string reaches keepalived.conf (its token, block, comment and variable
# syntax); the PEM ones go to files, not to keepalived.
GRAMMARS = {
    "name": (r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}",
             "letters, digits, '_', '.' and '-', at most 64, not starting with '.' or '-'; not 'include'"),
    "vrrp_name": (r"[A-Za-z0-9_][A-Za-z0-9_-]{0,63}",
                  "letters, digits, '_' and '-', at most 64, not starting with '-' (no '.': it names a file)"),
    "safe_word": (r"[A-Za-z0-9_./:=@%+,-]+", "one argv word: letters, digits and _ . / : = @ % + , -"),
    # Linux dev_valid_name (1-15 bytes, no '/', ':' or whitespace), restricted to the usual set.
    "ifname": (r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,14}", "an interface name: 1 to 15 letters, digits, '_', '.' or '-'"),
    "hostname": (rf"(?=.{{1,253}}$){_LABEL}(?:\.{_LABEL})*\.?",
                 "a DNS name: labels of letters, digits, '-' and '_', at most 253 characters"),
    # Inside keepalived's 1023-byte line buffer (lib/parser.c read_line()) once indented.
    "url_path": (r"/(?:[A-Za-z0-9\-._~/:@&=+,;*()?]|%[0-9A-Fa-f]{2}){0,960}",
                 "a URL path and query starting with '/', RFC 3986 characters, '%' only as %XX"),
    "hex": (r"(?:[0-9A-Fa-f]{2}){1,480}", "hex bytes: an even number of 0-9a-f, at most 480 bytes"),
    "md5": (r"[0-9A-Fa-f]{32}", "an MD5 digest: 32 hex digits (as keepalived's genhash prints it)"),
    # keepalived's VRRP PASS: one token of at most 8 bytes (vrrp_parser.c).
    "auth_pass": (r"[A-Za-z0-9%&()*+,\-./:;<=>?@\[\]^_`|~]{1,8}",
                  "1 to 8 printable ASCII characters without spaces, quotes, braces, '#', '!', '$' or backslash"),
    "variable": (r"lvs_[A-Za-z0-9_]*", "an lvs_* variable name"),
    # A BIRD 2 protocol name (symbol), not one of its keywords, not lvsfleet's own (device1, lvs_*).
    "bird_name": (r"[A-Za-z_][A-Za-z0-9_]{0,23}",
                  "1 to 24 letters, digits or '_', starting with a letter or '_'; no BIRD keyword, not lvs_*"),
    # A TCP MD5 key inside BIRD's quoted string: printable ASCII without quotes or backslash.
    "bgp_password": (r"[A-Za-z0-9!#$%&()*+,\-./:;<=>?@\[\]^_`{|}~]{1,80}",
                     "1 to 80 printable ASCII characters without quotes, backslash or spaces"),
    "role_name": (r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}", "a role name or FQCN"),
    "auth_user": (r"[A-Za-z0-9_][A-Za-z0-9_.@-]{0,63}",
                  "letters, digits, '_', '.', '@' and '-', at most 64"),
    "mysql_user": (r"[A-Za-z0-9_.-]{1,80}", "a MySQL user name: letters, digits, _ . - (at most 80)"),
    "pem_certificates": (r"\s*(?:-----BEGIN CERTIFICATE-----" + _PEM_BODY + r"-----END CERTIFICATE-----\s*){1,16}",
                         "PEM certificates (a chain, at most 16)"),
    "pem_key": (r"\s*-----BEGIN (?P<label>(?:RSA |EC )?PRIVATE KEY)-----" + _PEM_BODY
                + r"-----END (?P=label)-----\s*", "one PEM private key (PKCS#8, PKCS#1 or SEC 1)"),
    # Role settings that become paths, user names, module and package names on a host: words without
    # whitespace, quotes or shell syntax (they reach unit files, commands' argv and sysctl.d lines).
    "path": (r"/[A-Za-z0-9_.@+=:,/-]{0,4094}", "an absolute path of letters, digits and _ . @ + = : , / -"),
    "local_path": (r"[~/][A-Za-z0-9_.@+=:,/-]{0,4094}",
                   "a path on the management host (absolute or ~/...), of letters, digits and _ . @ + = : , / -"),
    "local_path_or_empty": (r"(?:[~/][A-Za-z0-9_.@+=:,/-]{0,4094})?", "empty, or a path on the management host"),
    # Debian's adduser NAME_REGEX, without the trailing '$' of machine accounts.
    "user": (r"[a-z_][a-z0-9_-]{0,31}", "a user name: lower-case letters, digits, '_' and '-', at most 32"),
    # ssh-keygen -lf's SHA256 form; empty: none given.
    "ssh_fingerprint": (r"(?:SHA256:[A-Za-z0-9+/]{43}=?)?", "SHA256: and 43 base64 characters (ssh-keygen -lf), "
                        "or empty"),
    # An Ansible host pattern (names, groups, wildcards, ':', '&', '!', ranges), no whitespace.
    "host_pattern": (r"[A-Za-z0-9_.:\[\]*!&,~^-]{1,1024}", "an Ansible host pattern (no whitespace or quotes)"),
    "kernel_module": (r"[A-Za-z0-9_-]{1,55}", "a kernel module name (letters, digits, '_', '-')"),
    # Debian policy 5.6.1 package names, with an optional =version.
    "debian_package": (r"[a-z0-9][a-z0-9+.-]{1,99}(?:=[A-Za-z0-9.+~:-]{1,64})?",
                       "a Debian package name (lower-case letters, digits, + . -), optionally =version"),
    # A sysctl name as sysctl(8) takes it: words joined by '.' or '/', at least two.
    "sysctl_name": (r"[a-z0-9_]+(?:[./][A-Za-z0-9_-]+)+", "a sysctl name such as net.ipv4.vs.conntrack"),
    # A route's destination as ip-route(8) takes it from the role: default, or a network in CIDR.
    "route_to": (r"default|[0-9A-Fa-f:.]{2,39}(?:/[0-9]{1,3})?", "default, or a network in CIDR form"),
    # roles/monitoring/tasks/main.yml's check of monitoring_retention.
    "prometheus_duration": (r"[0-9]{1,5}[smhdwy]", "a Prometheus duration such as 7d or 12h"),
}

U32 = 0xFFFFFFFF
S32 = 0x7FFFFFFF
_DIRECTOR_MODULES = ("ip_vs", "ip_vs_rr", "ip_vs_wrr", "ip_vs_lc", "ip_vs_wlc", "ip_vs_lblc", "ip_vs_lblcr", "ip_vs_dh",
                     "ip_vs_sh", "ip_vs_sed", "ip_vs_nq", "ip_vs_fo", "ip_vs_ovf", "ip_vs_mh")
_CLIENT_MODULES = ("ip_vs", "ip_vs_rr", "ip_vs_wrr", "ip_vs_lc", "ip_vs_wlc", "ip_vs_sh", "ip_vs_sed", "ip_vs_nq",
                   "ip_vs_fo", "ip_vs_ovf", "ip_vs_mh")

KA = ("keepalived",)
KA_K = ("keepalived", "kernel")
BIRD = ("bird", "lvsfleet")
LVS = ("lvsfleet",)


def _keys(*keys: Key) -> dict:
    return {k.name: k for k in keys}


# ---------------------------------------------------------------- objects
OBJECTS = {
    "service": _keys(
        Key("name", "str", "unique service name; names keepalived groups and check files", REQUIRED,
            grammar="name", readers=("keepalived", "lvsfleet")),
        Key("vip", "address", "the virtual address (required unless vips)", REQUIRED, applies="!vips",
            readers=KA_K),
        Key("vips", "addresses", "several VIPs of one family sharing port, real servers and check (a keepalived "
            "virtual_server_group named after the service)", None, item="address", applies="!vip; !fwmark",
            readers=KA_K),
        Key("port", "int", "service port (required unless fwmark; a fwmark service's default real-server port, "
            "0..65535, default 0)", REQUIRED, range=(1, 65535), readers=KA_K),
        Key("protocol", "choice", "transport protocol", "tcp", choices=PROTOCOLS, readers=KA_K),
        Key("fwmark", "int", "firewall-mark service instead of VIP:port", None, range=(1, U32), readers=KA_K),
        Key("scheduler", "choice", "IPVS scheduler", "wlc", choices=SCHEDULERS, readers=KA_K),
        Key("scheduler_flags", "list", "flags of the sh and mh schedulers", [], item="choice",
            choices=tuple(f for s in SCHEDULERS for f in SCHEDULER_FLAGS.get(s, ())), applies="scheduler=sh,mh",
            readers=KA_K),
        Key("forwarding", "choice", "how packets reach the real servers (DR/TUN: real-server ports equal the "
            "service port)", "nat", choices=FORWARDING, readers=KA_K),
        Key("tunnel", "choice", "tunnel encapsulation (default ipip)", None, choices=TUNNEL_TYPES,
            applies="forwarding=tun", readers=KA_K),
        Key("tunnel_port", "int", "UDP port of the real servers' GUE receiver (required with gue)", 0,
            range=(0, 65535), applies="tunnel=gue", readers=KA_K),
        Key("persistence", "int_or_object", "client persistence: timeout seconds, or {timeout, netmask}", None,
            item="persistence", applies="vip_holder=vrrp,external", readers=KA_K),
        # keepalived turns ops off for any other protocol (check_parser.c).
        Key("ops", "bool", "one-packet scheduling", False, applies="protocol=udp", readers=KA_K),
        Key("health_check", "str_or_object", "how each real server is checked (a type, or the object; default: "
            "a tcp check for TCP, udp for UDP, none for SCTP)", None, item="health_check", readers=KA),
        Key("quorum", "int", "live real servers' weight needed to keep the service up (at most their total "
            "weight)", 1, range=(1, 65535), readers=("keepalived", "lvsfleet")),
        Key("hysteresis", "int", "weight margin around quorum (below quorum)", 0, range=(0, 65535), readers=KA),
        Key("sorry_server", "object", "server that takes the traffic when no real server is up", None,
            item="sorry_server", readers=KA_K),
        Key("inhibit_on_failure", "bool", "a failed real server stays in IPVS with weight 0 instead of leaving",
            False, readers=KA_K),
        Key("real_servers", "list", "the real servers (an address, or the object); non-empty", REQUIRED,
            item="real_server", readers=KA_K),
        Key("delay_loop", "int", "seconds between checks of one real server (default health_check.interval)",
            None, range=(1, 3600), readers=KA),
        Key("vrrp_instance", "str", "the VRRP instance that holds this service's VIP (the VIP is added to it)",
            None, grammar="vrrp_name", applies="vip_holder=vrrp; !fwmark", readers=KA),
        Key("alpha", "bool", "start every real server as failed until its first check passes", False, readers=KA),
        Key("omega", "bool", "run quorum_down when the service is removed", False, readers=KA),
        Key("vip_holder", "choice", "who holds the VIP: a VRRP instance, BGP (anycast, dr/tun, mh/sh) or "
            "another system", "vrrp", choices=VIP_HOLDERS, readers=("keepalived", "bird", "lvsfleet")),
    ),
    "real_server": _keys(
        Key("address", "address", "the real server's address (the service's family; not its VIP)", REQUIRED,
            readers=KA_K),
        Key("port", "int", "its port (default the service port; DR/TUN: must equal it; 0 only for fwmark)", None,
            range=(0, 65535), readers=KA_K),
        Key("weight", "int", "IPVS weight", 1, range=(0, 65535), readers=KA_K),
        Key("state", "choice", "enabled; drained (weight 0, connections finish); disabled (left out)", "enabled",
            choices=RS_STATES, readers=("keepalived", "kernel", "lvsfleet")),
        # IPVS u_threshold/l_threshold are u32; keepalived parses them as int.
        Key("upper_threshold", "int", "connections above which IPVS stops scheduling to it (0: none)", 0,
            range=(0, S32), readers=KA_K),
        Key("lower_threshold", "int", "connections below which scheduling resumes (below upper_threshold)", 0,
            range=(0, S32), readers=KA_K),
        Key("name", "str", "a label for metrics and events", None, grammar="name", readers=LVS),
    ),
    "health_check": _keys(
        Key("type", "choice", "the check keepalived runs (default: the service's transport)", "tcp",
            choices=HEALTH_TYPES, readers=KA),
        Key("interval", "int", "seconds between checks", 3, range=(1, 3600), readers=KA),
        Key("timeout", "int", "seconds one check may take (at most interval)", 2, range=(1, 3600), readers=KA),
        Key("retries", "int", "failed checks retried before the real server is down", 2, range=(0, 100),
            readers=KA),
        Key("delay_before_retry", "int", "seconds before a retry", 1, range=(0, 3600), readers=KA),
        Key("port", "int", "port to probe (default the real server's; required for a check of another transport "
            "than the service's)", None, range=(1, 65535), readers=KA),
        Key("via", "choice", "address: the real server's own address; forwarding: the clients' path (DR or "
            "IP-in-IP, IPv4, not fwmark)", "address", choices=HEALTH_VIA, readers=("keepalived", "kernel")),
        Key("path", "str", "URL path and query requested", "/", grammar="url_path", applies="type=http,https",
            readers=KA),
        Key("status", "int", "HTTP status expected", 200, range=(100, 599), applies="type=http,https", readers=KA),
        Key("digest", "str", "MD5 of the expected body", None, grammar="md5", applies="type=http,https",
            readers=KA),
        Key("host", "host", "Host header (a host name or address, optionally :port)", None, grammar="hostname",
            applies="type=http,https", readers=KA),
        Key("payload", "str", "datagram sent (keepalived UDP_CHECK payload)", None, grammar="hex", applies="type=udp",
            readers=KA),
        Key("reply", "str", "reply required (keepalived require_reply); without it, anything but ICMP port "
            "unreachable is up", None,
            grammar="hex", applies="type=udp", readers=KA),
        Key("query", "host", "name queried ('.' for the root)", ".", grammar="hostname", applies="type=dns",
            readers=KA),
        Key("query_type", "choice", "DNS record type queried", "SOA", choices=DNS_TYPES, applies="type=dns",
            readers=KA),
        Key("helo", "host", "SMTP HELO name", None, grammar="hostname", applies="type=smtp", readers=KA),
        Key("user", "str", "MySQL user of an authenticated ping (with password)", None, grammar="mysql_user",
            applies="type=mysql", readers=LVS),
        Key("password", "secret", "its password, from Ansible Vault (with user)", None, applies="type=mysql",
            readers=LVS),
        Key("transport", "choice", "syslog over udp (no ICMP port unreachable) or tcp (connect)", "udp",
            choices=SYSLOG_TRANSPORTS, applies="type=syslog", readers=KA),
        Key("script", "argv", "command run as the script user without a shell; %RS_ADDRESS% and %RS_PORT% become "
            "the real server's", REQUIRED, grammar="safe_word", applies="type=custom", readers=KA),
    ),
    "persistence": _keys(
        Key("timeout", "int", "seconds a client stays with its real server (keepalived persistence_timeout)",
            300, range=(1, 2678400), readers=KA_K),
        Key("netmask", "netmask", "clients grouped by this mask (persistence_granularity)", None,
            readers=KA_K),
    ),
    "sorry_server": _keys(
        Key("address", "address", "its address (the service's family)", REQUIRED, readers=KA_K),
        Key("port", "int", "its port (default the service port; 0 allowed for fwmark services)", None,
            range=(1, 65535), readers=KA_K),
    ),
    "vrrp_instance": _keys(
        Key("name", "str", "unique instance name (also a file name on the director)", REQUIRED,
            grammar="vrrp_name", readers=("keepalived", "lvsfleet")),
        Key("interface", "str", "interface VRRP runs on", REQUIRED, grammar="ifname", readers=KA),
        Key("virtual_router_id", "int", "VRID, unique per interface", REQUIRED, range=(1, 255), readers=KA),
        Key("advert_int", "int", "seconds between adverts", 1, range=(1, 255), readers=KA),
        Key("priorities", "mapping", "director -> priority; the single highest starts as MASTER", REQUIRED,
            item="int", range=(1, 254), readers=("keepalived", "lvsfleet")),
        Key("virtual_ipaddresses", "list", "the VIPs it holds (address or address/prefix, one family)", REQUIRED,
            item="prefix", readers=("keepalived", "kernel")),
        Key("nopreempt", "bool", "the holder keeps the VIPs when a higher priority returns (all start BACKUP)",
            False, readers=KA),
        Key("preempt_delay", "int", "seconds before a higher priority takes over (all start BACKUP)", None,
            range=(0, 1000), applies="nopreempt=false", readers=KA),
        Key("auth_pass", "secret", "VRRP PASS authentication, from Ansible Vault", None, grammar="auth_pass",
            readers=KA),
        Key("unicast_peers", "addresses_or_bool", "unicast VRRP: peer addresses, or true for the other "
            "directors' lvs_vrrp_unicast_ip", None, item="address", readers=KA),
        Key("track_interfaces", "list", "interfaces whose failure puts the instance in FAULT (not its own)", [],
            item="str", grammar="ifname", readers=KA),
        Key("track_scripts", "list", "names of lvs_vrrp_scripts tracked", [], item="str", grammar="name",
            readers=KA),
        Key("sync_group", "str", "instances with the same name change state together (at least two per "
            "director)", None, grammar="name", readers=KA),
        Key("lvs_sync_daemon", "bool_or_object", "run the IPVS connection-sync daemon following this instance "
            "(one instance only)", False, item="lvs_sync_daemon", readers=KA_K),
        # keepalived's ranges (vrrp_parser.c).
        Key("garp_master_delay", "int", "seconds before the second gratuitous ARP burst after becoming MASTER",
            None, range=(0, 255), readers=KA),
        Key("garp_master_repeat", "int", "gratuitous ARPs per burst", None, range=(1, 255), readers=KA),
        Key("garp_master_refresh", "int", "seconds between gratuitous ARPs while MASTER (0: never)", None,
            range=(0, 3600), readers=KA),
        Key("advertised_addresses", "int", "how many addresses, from the first, adverts carry (1..number of "
            "virtual_ipaddresses); peers must agree", 1, readers=KA),
    ),
    "lvs_sync_daemon": _keys(
        Key("interface", "str", "interface the sync daemon uses (default the instance's)", None, grammar="ifname",
            readers=KA_K),
        Key("id", "int", "sync id (default the instance's virtual_router_id)", None, range=(0, 255),
            readers=KA_K),
    ),
    "vrrp_script": _keys(
        Key("name", "str", "unique script name (track_scripts name it)", REQUIRED, grammar="name", readers=KA),
        Key("script", "argv", "argv list run as the script user without a shell", REQUIRED, grammar="safe_word",
            readers=KA),
        Key("interval", "int", "seconds between runs", 2, range=(1, 3600), readers=KA),
        Key("timeout", "int", "seconds a run may take (default interval; at most interval)", None,
            range=(1, 3600), readers=KA),
        Key("fall", "int", "failures before it counts as failed", 2, range=(1, 255), readers=KA),
        Key("rise", "int", "successes before it counts as good", 2, range=(1, 255), readers=KA),
        Key("weight", "int", "priority change while failed (0: FAULT)", 0, range=(-253, 253), readers=KA),
    ),
    "bgp": _keys(
        Key("asn", "asn", "the directors' AS number", REQUIRED, range=(1, U32), readers=BIRD),
        Key("neighbors", "list", "the routers each director peers with; non-empty", REQUIRED, item="bgp_neighbor",
            readers=BIRD),
        Key("vip_interface", "str", "dummy device the anycast VIPs live on", "lvsvip0", grammar="ifname",
            readers=("bird", "kernel", "lvsfleet")),
        Key("bfd", "object", "BFD timers (on when a neighbor sets bfd)", None, item="bgp_bfd", readers=BIRD),
        Key("withdraw_wait", "int", "seconds a withdrawal waits for traffic to move away", 60, range=(1, 3600),
            readers=LVS),
        Key("quiet_seconds", "int", "seconds without a VIP packet that end the wait (at most withdraw_wait)", 2,
            range=(1, 60), readers=LVS),
        Key("check_interval", "number", "seconds between the BGP gate's checks", 0.5, range=(0.1, 10),
            readers=LVS),
    ),
    "bgp_neighbor": _keys(
        Key("name", "str", "BIRD protocol name (default n1, n2, ...); unique", None, grammar="bird_name",
            readers=BIRD),
        Key("address", "address", "the router's address (not a VIP, not a director's)", REQUIRED, readers=BIRD),
        Key("asn", "asn", "the router's AS number", REQUIRED, range=(1, U32), readers=BIRD),
        Key("password", "secret", "TCP MD5 key, from Ansible Vault (absent: none)", None, grammar="bgp_password",
            readers=BIRD),
        # BGP hold time: 0 or at least 3 (RFC 4271 4.2); lvsfleet requires a session that times out.
        Key("hold_time", "int", "BGP hold time, seconds", 9, range=(3, 65535), readers=BIRD),
        Key("keepalive_time", "int", "BGP keepalive, seconds (at most a third of hold_time)", 3,
            range=(1, 21845), readers=BIRD),
        Key("bfd", "bool", "BFD on this session", False, readers=BIRD),
    ),
    "bgp_bfd": _keys(
        Key("interval_ms", "int", "BFD transmit/receive interval, milliseconds", 300, range=(10, 60000),
            readers=BIRD),
        Key("multiplier", "int", "missed packets before the session is down", 3, range=(2, 255), readers=BIRD),
    ),
    "client_side_service": _keys(
        Key("service", "str", "name of a service of lvs_services", REQUIRED, grammar="name",
            readers=("keepalived", "kernel")),
        Key("vip", "address", "the address this host reaches it at (default the service's VIP)", None,
            readers=("keepalived", "kernel")),
    ),
    "client_side_ipvs_timeouts": _keys(
        # ipvsadm --set: the kernel refuses 0; its largest is MAX_SCHEDULE_TIMEOUT/HZ, kept well below.
        Key("tcp", "int", "established TCP connections, seconds", REQUIRED, range=(1, 9999999), readers=("kernel",)),
        Key("tcpfin", "int", "TCP after FIN, seconds", REQUIRED, range=(1, 9999999), readers=("kernel",)),
        Key("udp", "int", "UDP entries after their last packet, seconds", REQUIRED, range=(1, 9999999),
            readers=("kernel",)),
    ),
    # Read by the real_server role's lvsfleet-real-server (ip route add TO [via VIA] dev DEV table N).
    "real_server_return_route": _keys(
        Key("to", "str", "destination: default, or a network in CIDR form", REQUIRED, grammar="route_to",
            readers=("kernel",)),
        Key("dev", "str", "outgoing interface", REQUIRED, grammar="ifname", readers=("kernel",)),
        Key("via", "address", "next hop (none: on-link)", None, readers=("kernel",)),
    ),
    "heye_service_annotations": _keys(
        Key("scheduler", "choice", "the services' scheduler", "wrr", choices=SCHEDULERS, readers=LVS),
        Key("healthCheckPath", "str", "path of the check when healthCheckType is http", "/", grammar="url_path",
            readers=LVS),
    ),
    "heye_endpoints_annotations": _keys(
        Key("calledSource", "str", "the caller the service is for", REQUIRED, grammar="name", readers=LVS),
        Key("healthCheckType", "choice", "the health check's type", REQUIRED, choices=tuple(K8S_HEALTH),
            readers=LVS),
    ),
}


def _var(name: str, kind: str, scope: str, doc: str, default=None, **kw) -> Key:
    return Key(name, kind, doc, default, scope=scope, **kw)


# ---------------------------------------------------------------- inventory variables
# Every variable lvsfleet reads from inventory (or from -e for one run): model.KNOWN_VARIABLES (lvs_*, the gate
# refuses any other lvs_* name), the client-side and real-server variables, and the roles' own options that an
# operator sets (roles/*/meta/argument_specs.yml; their type, choices and default are the role's). Role options
# that only pass an lvs_* variable on (keepalived_services: "{{ lvs_services | default([]) }}") are not
# listed: the lvs_* variable is.
VARIABLES = _keys(
    # -- the service model, alike on every director
    _var("lvs_services", "list", "directors", "the virtual services", [], item="service",
         readers=("keepalived", "kernel", "lvsfleet")),
    _var("lvs_vrrp_instances", "list", "directors", "VRRP instances holding the VIPs", [], item="vrrp_instance",
         readers=("keepalived", "lvsfleet")),
    _var("lvs_vrrp_scripts", "list", "directors", "vrrp_script definitions that instances track", [],
         item="vrrp_script", readers=KA),
    _var("lvs_bgp", "object", "directors", "anycast: AS number and neighbors (needed by vip_holder: bgp)", None,
         item="bgp", readers=("bird", "kernel", "lvsfleet")),
    _var("lvs_real_server_states", "mapping", "directors", "real server address (or address:port) -> state over "
         "the model; set per run by drain.yml", {}, item="choice", choices=RS_STATES,
         readers=("keepalived", "kernel", "lvsfleet")),
    _var("lvs_priority_overrides", "mapping", "directors", "director -> VRRP priority winning over the "
         "inventory's (0: the inventory's); set by maintenance.yml", {}, item="int", range=(0, 254),
         readers=("keepalived", "lvsfleet")),
    # -- per director
    _var("lvs_vrrp_unicast_ip", "address", "director", "the director's own address for unicast VRRP (not a VIP)",
         None, readers=KA),
    _var("lvs_check_source", "address", "director", "the director's own IPv4 address forwarding-path checks "
         "leave from (required by health_check.via: forwarding)", None, readers=("keepalived", "kernel")),
    _var("lvs_bgp_source", "address", "director", "the director's own IPv4 address it peers from (BGP router "
         "ID); required with lvs_bgp", None, applies="lvs_bgp", readers=BIRD),
    _var("lvs_bgp_source6", "address", "director", "its own IPv6 address, required with IPv6 neighbors", None,
         applies="lvs_bgp", readers=BIRD),
    _var("lvs_director_packages", "list", "director", "packages a director needs", ["ipvsadm", "keepalived",
         "iptables"], item="str", grammar="debian_package", readers=("apt",)),
    _var("lvs_director_modules", "list", "director", "kernel modules loaded now and at boot", list(_DIRECTOR_MODULES),
         item="str", grammar="kernel_module", readers=("kernel",)),
    _var("lvs_director_sysctl_profile", "choice", "director", "IPVS sysctl profile: stateful for a VRRP pair, "
         "stateless for ECMP directors", "stateful", choices=SYSCTL_PROFILES, readers=("sysctl",)),
    _var("lvs_director_sysctls_extra", "mapping", "director", "extra sysctls (key -> value) over the profile", {},
         item="str", grammar="sysctl_name", readers=("sysctl",)),
    # -- metrics (directors and real servers; the CA on the monitoring host)
    _var("lvs_metrics_address", "address", "host", "address node_exporter listens on and Prometheus scrapes (not "
         "a VIP, one per host; unset: 127.0.0.1, not scraped)", None, readers=("node_exporter", "prometheus")),
    _var("lvs_metrics_tls_cert", "str", "host", "node_exporter's certificate chain, the host's first (with "
         "lvs_metrics_tls_key); one setting fleet-wide", None, grammar="pem_certificates",
         readers=("node_exporter",)),
    _var("lvs_metrics_tls_key", "secret", "host", "its private key, from Ansible Vault", None, grammar="pem_key",
         readers=("node_exporter",)),
    _var("lvs_metrics_tls_ca", "str", "monitoring", "CA certificates that signed node_exporter's (with TLS)", None,
         grammar="pem_certificates", applies="lvs_metrics_tls_cert", readers=("prometheus",)),
    _var("lvs_metrics_basic_auth_user", "str", "host", "user Prometheus scrapes as (with the password)",
         "prometheus", grammar="auth_user", applies="lvs_metrics_basic_auth_password",
         readers=("node_exporter", "prometheus")),
    # bcrypt reads at most 72 bytes; Prometheus trims blanks around a password_file's content.
    _var("lvs_metrics_basic_auth_password", "secret", "host", "scrape password, 1 to 72 bytes, no control "
         "characters or blanks at either end; needs TLS; from Ansible Vault", None,
         readers=("node_exporter", "prometheus")),
    # -- real servers and client-side hosts
    _var("lvs_host_roles", "list", "host", "the operator's own roles site.yml applies after lvsfleet's (real "
         "servers and client-side hosts, never directors)", [], item="str", grammar="role_name", readers=LVS),
    _var("real_server_services", "list", "real_server", "services (the lvs_services model) whose DR/TUN VIPs this "
         "host accepts", "{{ lvs_services | default([]) }}", item="service", readers=("kernel", "lvsfleet")),
    _var("real_server_addresses", "list", "real_server", "this host's addresses as services name them (empty: "
         "read from facts)", [], item="prefix", readers=("kernel", "lvsfleet")),
    _var("real_server_vip_interface", "str", "real_server", "device the VIPs are added to (lo, or a dummy device)",
         "lo", grammar="ifname", readers=("kernel",)),
    _var("real_server_tunnel_interface", "str", "real_server", "the ipip device TUN traffic arrives on", "tunl0",
         grammar="ifname", readers=("kernel",)),
    _var("real_server_return_routes", "list", "real_server", "routes for replies sourced from a VIP, each {to: "
         "CIDR or default, dev, via: optional next hop} (empty: the main table)", [], item="real_server_return_route",
         readers=("kernel",)),
    _var("real_server_return_table", "int", "real_server", "routing table of real_server_return_routes", 100,
         range=(1, U32), readers=("kernel",)),
    _var("client_side_services", "list", "client_side", "services of lvs_services this host balances: a name or "
         "{service, vip}", [], item="client_side_service", readers=("keepalived", "kernel")),
    _var("client_side_local_services", "list", "client_side", "whole services only this host balances", [],
         item="service", readers=("keepalived", "kernel")),
    _var("client_side_sources", "addresses", "client_side", "this host's addresses the real servers reach it by, "
         "one per family in use", [], item="address", readers=("kernel",)),
    _var("client_side_interface", "str", "client_side", "dummy device the VIPs live on (the role's; not lo)",
         "lvsclient0", grammar="ifname", readers=("kernel",)),
    _var("client_side_ipvs_timeouts", "object", "client_side", "IPVS connection timeouts, global to the host",
         {"tcp": 900, "tcpfin": 120, "udp": 10}, item="client_side_ipvs_timeouts", readers=("kernel",)),
    _var("client_side_modules", "list", "client_side", "kernel modules loaded now and at boot", list(_CLIENT_MODULES),
         item="str", grammar="kernel_module", readers=("kernel",)),
    # -- role settings of directors
    _var("keepalived_config_path", "str", "director", "where keepalived.conf is installed",
         "/etc/keepalived/keepalived.conf", grammar="path", readers=("keepalived", "lvsfleet")),
    _var("keepalived_staged_path", "str", "director", "where reload.yml renders and validates the next "
         "configuration", "{{ keepalived_config_path }}.lvsfleet-next", grammar="path", readers=LVS),
    _var("keepalived_script_user", "str", "director", "non-root user that runs check scripts", "keepalived_script",
         grammar="user", readers=KA),
    _var("keepalived_check_credentials_dir", "str", "director", "directory of mysql check credentials, readable "
         "by the script user only", "/etc/keepalived/lvsfleet-checks", grammar="path", readers=LVS),
    _var("keepalived_router_id", "str", "director", "router_id in global_defs", "{{ inventory_hostname }}",
         grammar="name", readers=KA),
    _var("keepalived_garp_master_repeat", "int", "director", "gratuitous ARPs sent on becoming MASTER", 3,
         range=(1, 255), readers=KA),
    _var("keepalived_garp_master_refresh", "int", "director", "seconds between gratuitous ARPs while MASTER (0: "
         "never)", 0, range=(0, 3600), readers=KA),
    _var("keepalived_restart_sec", "int", "director", "seconds before systemd starts a dead keepalived again", 1,
         range=(0, 3600), readers=("systemd",)),
    _var("keepalived_restart_limit_interval", "int", "director", "window (seconds) of systemd's start limit", 60,
         range=(0, 86400), readers=("systemd",)),
    _var("keepalived_restart_limit_burst", "int", "director", "starts allowed in that window", 20,
         range=(1, 1000), readers=("systemd",)),
    _var("keepalived_watchdog_grace", "int", "director", "seconds a stopped keepalived is tolerated before the "
         "watchdog kills it", 1, range=(0, 3600), readers=LVS),
    _var("keepalived_stop_timeout", "int", "director", "seconds a clean stop may take before systemd kills it", 15,
         range=(1, 3600), readers=("systemd",)),
    _var("bgp_notrack", "choice", "director", "connection tracking off for anycast VIP traffic: auto (where "
         "conntrack is loaded), true, false", "auto", choices=("auto", True, False), readers=("kernel",)),
    _var("bgp_config_path", "str", "director", "BIRD's configuration file", "/etc/bird/bird.conf",
         grammar="path", readers=("bird",)),
    _var("bgp_gate_config_path", "str", "director", "the BGP gate's configuration", "/etc/lvsfleet/bgp-gate.json",
         grammar="path", readers=LVS),
    # -- metrics and monitoring roles
    _var("metrics_node_exporter_port", "int", "host", "node_exporter's port", 9100, range=(1, 65535),
         readers=("node_exporter", "prometheus")),
    _var("metrics_lvsfleet", "bool", "host", "run lvsfleet-metrics here (directors)",
         "{{ 'directors' in group_names }}", readers=LVS),
    _var("metrics_lvsfleet_interval", "int", "host", "seconds between writes of lvsfleet.prom", 5, range=(1, 60),
         readers=LVS),
    _var("monitoring_port", "int", "monitoring", "Prometheus's port", 9090, range=(1, 65535),
         readers=("prometheus",)),
    _var("monitoring_scrape_interval", "int", "monitoring", "seconds between scrapes and rule evaluations", 5,
         range=(1, 60), readers=("prometheus",)),
    _var("monitoring_retention", "str", "monitoring", "how long Prometheus keeps samples", "7d",
         grammar="prometheus_duration", readers=("prometheus",)),
    _var("monitoring_node_exporter_port", "int", "monitoring", "the port node_exporter listens on (the metrics "
         "role's)", 9100, range=(1, 65535), readers=("prometheus",)),
    _var("monitoring_directors", "list", "monitoring", "hosts scraped as directors",
         "{{ groups['directors'] | default([]) }}", item="str", grammar="name", readers=("prometheus",)),
    _var("monitoring_real_servers", "list", "monitoring", "hosts scraped as real servers",
         "{{ groups['real_servers'] | default([]) }}", item="str", grammar="name", readers=("prometheus",)),
    # -- joining workers (playbooks/bootstrap.yml, role ssh_trust)
    _var("lvs_bootstrap", "bool", "run", "site.yml joins new workers first (bootstrap.yml)", False, readers=LVS),
    _var("bootstrap_hosts", "str", "run", "host pattern bootstrap.yml joins", "bootstrap", grammar="host_pattern", readers=LVS),
    _var("ssh_trust_management_key", "str", "host", "private key on the management host (created when missing)",
         "~/.ssh/lvsfleet_ed25519", grammar="local_path", readers=("ssh",)),
    _var("ssh_trust_known_hosts", "str", "host", "known_hosts where host keys are pinned", "~/.ssh/known_hosts",
         grammar="local_path", readers=("ssh",)),
    _var("ssh_trust_deploy_user", "str", "host", "user the deploy connects as afterwards", "root",
         grammar="user", readers=("ssh",)),
    _var("ssh_trust_initial_user", "str", "host", "user the one-time key logs in as", "root", grammar="user", readers=("ssh",)),
    _var("ssh_trust_initial_key_file", "str", "host", "one-time private key the fresh worker accepts", "",
         grammar="local_path_or_empty", readers=("ssh",)),
    _var("ssh_trust_revoke_initial_key", "bool", "host", "remove the one-time key once the management key works",
         True, readers=("ssh",)),
    _var("ssh_trust_host_key_fingerprint", "str", "host", "expected SHA256 fingerprint of the worker's host key",
         "", grammar="ssh_fingerprint", readers=("ssh",)),
    _var("ssh_trust_accept_new_host_key", "bool", "host", "without a fingerprint, trust and pin the presented key",
         False, readers=("ssh",)),
    _var("ssh_trust_initial_password", "secret", "host", "the initial user's password, from Ansible Vault", None,
         readers=("ssh",)),
    _var("ssh_trust_password_prompt", "bool", "host", "ask for the initial password when it is not set", False,
         readers=("ssh",)),
    _var("ssh_trust_password_logins", "choice", "host", "after a password join: turn sshd password logins off, "
         "or keep them", "disable", choices=SSH_PASSWORD_LOGINS, readers=("ssh",)),
    # -- one run (playbooks/reload.yml, rolling.yml, drain.yml, maintenance.yml)
    _var("lvs_reload_method", "choice", "run", "how keepalived takes a new configuration (restart only measures "
         "what a restart costs)", "reload", choices=RELOAD_METHODS, readers=LVS),
    _var("lvs_reload_drain_timeout", "int", "run", "seconds to wait for a removed real server's connections to "
         "end", 60, range=(0, 86400), readers=LVS),
    _var("lvs_reload_verify_timeout", "int", "run", "seconds the kernel table may take to match the model after "
         "a reload", 30, range=(1, 3600), readers=LVS),
    _var("lvs_reload_fail_verify_on", "list", "run", "directors whose verification is made to fail (drills of "
         "the rollback path)", [], item="str", grammar="name", readers=LVS),
    _var("lvs_reload_vrrp_may_change", "bool", "run", "a VRRP transition during the reload is expected", False,
         readers=LVS),
)


# ---------------------------------------------------------------- relations across keys and objects
@dataclass(frozen=True)
class Relation:
    """A rule over several keys, objects or hosts. check: the function that enforces it, "model.NAME"
    (plugins/module_utils/lvsfleet/model.py) or "filter.NAME" (plugins/filter/lvs.py)."""

    doc: str
    check: str


RELATIONS = {
    # services
    "service_name_unique": Relation("every service name is used once in lvs_services", "model.normalize_services"),
    "service_declared_once": Relation("protocol VIP:port (or fwmark and family) is declared by one service",
                                      "model.normalize_services"),
    "vip_or_vips": Relation("a service has vip or vips, not both; vips are one family, each once, not with fwmark",
                            "model._group_vips"),
    "port_unless_fwmark": Relation("port is required (1..65535) unless fwmark", "model.normalize_service"),
    "scheduler_flags_of_scheduler": Relation("scheduler_flags name flags of the service's scheduler, each once",
                                             "model.normalize_service"),
    "tunnel_needs_tun": Relation("tunnel only with forwarding tun; tunnel_port only with, and required by, gue",
                                 "model.normalize_service"),
    "ops_udp_only": Relation("ops only on UDP services (keepalived would turn it off)", "model.normalize_service"),
    "quorum_hysteresis": Relation("hysteresis below quorum; quorum at most the present real servers' total weight",
                                  "model.normalize_service"),
    "vrrp_instance_needs_vrrp_holder": Relation("a service naming vrrp_instance is held by vrrp and has a VIP "
                                                "(no fwmark)", "model.normalize_service"),
    "anycast_service": Relation("vip_holder bgp: VIP:port (no fwmark), forwarding dr or tun, scheduler mh or sh, "
                                "no persistence", "model._anycast"),
    "sorry_server_family": Relation("the sorry server is of the service's family; port 1..65535 (0 for fwmark)",
                                    "model._sorry"),
    "one_way_per_vip": Relation("services sharing a VIP forward DR/TUN to it one way (a real server accepts a VIP "
                                "one way)", "model._one_way_per_vip"),
    "check_fwmarks_reserved": Relation("service fwmarks stay outside 0x6c760000-0x6c76ffff; at most 65535 "
                                       "forwarding-path checks", "model._check_fwmarks"),
    # real servers
    "real_server_family": Relation("a real server is of its service's family and is not one of its VIPs",
                                   "model._real_servers"),
    "real_server_port": Relation("port 0 only for fwmark services; DR/TUN real-server ports equal the service "
                                 "port", "model._real_servers"),
    "real_server_once": Relation("address:port is listed once per service", "model._real_servers"),
    "thresholds_ordered": Relation("lower_threshold below upper_threshold (and only with it)",
                                   "model._real_servers"),
    # health checks
    "health_keys_of_type": Relation("a health check has the common keys and its type's own only",
                                    "model._health"),
    "check_timeout_within_interval": Relation("a check's timeout is at most its interval", "model._health"),
    "check_transport_port": Relation("a check of another transport than the service's names health_check.port",
                                     "model._health"),
    "check_via_forwarding": Relation("via forwarding: a check type keepalived runs itself, dr or tun/ipip, "
                                     "VIP:port, IPv4", "model._check_via_forwarding"),
    "mysql_login_pair": Relation("an authenticated mysql check has both user and password", "model._health"),
    "custom_script_required": Relation("a custom check has a script, an absolute command within keepalived's "
                                       "1023-byte line", "model._argv"),
    # VRRP
    "vrrp_name_unique": Relation("every VRRP instance name is used once", "model.normalize_vrrp_instances"),
    "vrid_per_interface": Relation("virtual_router_id is unique per interface", "model.normalize_vrrp_instances"),
    "priorities_directors_one_master": Relation("priorities name directors only; exactly one has the highest",
                                                "model.normalize_vrrp_instances"),
    "vrrp_addresses_one_family": Relation("virtual_ipaddresses are one family, usable, each once",
                                          "model._vrrp_addresses"),
    "preempt_delay_without_nopreempt": Relation("preempt_delay has no meaning with nopreempt",
                                                "model.normalize_vrrp_instances"),
    "track_scripts_resolve": Relation("track_scripts name scripts of lvs_vrrp_scripts",
                                      "model.normalize_vrrp_instances"),
    "track_interfaces_not_own": Relation("track_interfaces does not name the instance's own interface",
                                         "model.normalize_vrrp_instances"),
    "sync_group_of_two": Relation("a sync group holds at least two instances on each director",
                                  "model.normalize_vrrp_instances"),
    "one_sync_daemon": Relation("lvs_sync_daemon is set on one instance at most", "model.normalize_vrrp_instances"),
    "advertised_within_addresses": Relation("advertised_addresses is at most the number of virtual_ipaddresses",
                                            "model.normalize_vrrp_instances"),
    "unicast_sources": Relation("unicast VRRP: every director of the instance has its own lvs_vrrp_unicast_ip of "
                                "the instance's family; peers of that family, each once", "model._unicast"),
    "unicast_peers_are_directors": Relation("listed unicast_peers are directors' lvs_vrrp_unicast_ip",
                                            "model._unicast_peers_are_directors"),
    "vrrp_script_names": Relation("vrrp_script names are unique; timeout at most interval",
                                  "model.normalize_vrrp_scripts"),
    # holders of addresses
    "vip_held_once_by_vrrp": Relation("an address is in one VRRP instance; a service's vrrp_instance exists and "
                                      "holds its VIP; every VRRP-held VIP is in an instance", "model._held_vips"),
    "vips_need_instances": Relation("services whose VIPs VRRP holds need VRRP instances", "model.check_inventory"),
    "one_holder": Relation("an address is held one way (VRRP, BGP or external); a unicast VRRP address is no VIP",
                           "model._one_holder"),
    # BGP
    "bgp_when_anycast": Relation("lvs_bgp is set when a service has vip_holder bgp", "model.normalize_bgp"),
    "bgp_neighbors": Relation("neighbor addresses and names are unique, no anycast VIP or director source; "
                              "keepalive_time at most a third of hold_time", "model.normalize_bgp"),
    "bgp_neighbor_family": Relation("every anycast VIP's family has a neighbor", "model.normalize_bgp"),
    "bgp_quiet_within_wait": Relation("quiet_seconds at most withdraw_wait", "model.normalize_bgp"),
    "bgp_sources": Relation("each director has its own lvs_bgp_source (IPv4; lvs_bgp_source6 with IPv6 "
                            "neighbors), never a VIP", "model.normalize_bgp"),
    "asn_not_reserved": Relation("AS numbers are not reserved or documentation ones", "model._asn"),
    "bird_names": Relation("neighbor names are not BIRD keywords or lvsfleet's own protocol names",
                           "model._bird_name"),
    # the inventory as a whole
    "directors_group": Relation("a non-empty directors group of host names that are keepalived router_ids",
                                "model.check_inventory"),
    "director_shared_agree": Relation("every director has the same " + ", ".join(DIRECTOR_SHARED),
                                      "model.check_inventory"),
    "priority_overrides_directors": Relation("lvs_priority_overrides name directors, priorities 0..254",
                                             "model.check_inventory"),
    "real_server_states_resolve": Relation("lvs_real_server_states name real servers of some service",
                                           "model.apply_real_server_states"),
    "check_source": Relation("lvs_check_source is set with forwarding-path checks: IPv4, not a VIP or real "
                             "server, one per director", "model._check_sources"),
    "known_variables": Relation("every lvs_* variable a host has is one lvsfleet reads",
                                "model.check_variable_names"),
    "host_roles_not_directors": Relation("lvs_host_roles only on real servers and client-side hosts",
                                         "filter.lvs_check_inventory"),
    "one_role_per_host": Relation("a director is in neither the real_servers nor the client_side group",
                                  "filter.lvs_check_inventory"),
    "real_server_vips_one_way": Relation("a real server accepts each of its VIPs one way (DR or one tunnel)",
                                         "model.real_server_vips"),
    "metrics_address": Relation("lvs_metrics_address is not a VIP, one per host, set on every scraped host when "
                                "there is a monitoring group", "filter.lvs_check_inventory"),
    "metrics_web_pairs": Relation("TLS cert and key together; basic-auth user needs the password; basic auth "
                                  "needs TLS", "model.metrics_web"),
    "metrics_web_fleet_wide": Relation("node_exporter's TLS and basic auth are alike on every scraped host; the "
                                       "monitoring host has the CA and the same credentials",
                                       "filter._check_metrics_web"),
    "metrics_certificate": Relation("node_exporter's certificate matches its key and names lvs_metrics_address",
                                    "filter._certificate_problem"),
    "vaulted_check_passwords": Relation("health-check passwords come from Ansible Vault (a warning)",
                                        "filter._unvaulted_passwords"),
    # client-side hosts
    "client_side_services_resolve": Relation("client_side_services name services of lvs_services; no fwmark; "
                                             "names and VIP:ports once; a VIP:port is one service's",
                                             "model.client_side_services"),
    "client_side_sources": Relation("one source per family in use, not a service VIP or a director's VIP",
                                    "model.client_side_services"),
    "client_side_settings": Relation("client_side_interface is not lo; client_side_ipvs_timeouts sets tcp, "
                                     "tcpfin and udp together", "model.client_side_settings"),
    # HeYe sources
    "heye_pairs": Relation("a Service and the Endpoints of its name pair up, port names match, the annotations "
                           "are there", "model.services_from_k8s"),
}


# ---------------------------------------------------------------- derived views (what model.py will import)
def health_keys_common() -> set:
    """The keys every health check type has (model.HEALTH_KEYS_COMMON)."""
    return {k for k, key in OBJECTS["health_check"].items() if not key.applies.startswith("type=")}


def health_keys(kind: str) -> set:
    """The keys of one health check type beyond the common ones (model.HEALTH_KEYS[kind])."""
    return {k for k, key in OBJECTS["health_check"].items()
            if key.applies.startswith("type=") and kind in key.applies[len("type="):].split(",")}
