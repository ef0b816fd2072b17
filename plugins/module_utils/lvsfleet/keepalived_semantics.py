# -*- coding: utf-8 -*-
"""What keepalived 2.2.7 (Debian 12's) does with the directives lvsfleet adopts and renders: defaults, what it
ignores, rejects or rewrites. One table for the adopter (keepalived_adopt) and the meaning comparison.

Each entry cites keepalived's source at tag v2.2.7 (paths under keepalived/ unless lib/) and the message it
logs, so a reader can check it. Standard library only.
"""
from __future__ import annotations

# check/check_data.c alloc_vs(): KEEPALIVED_DEFAULT_DELAY (include/check_data.h) and connection_to.
DELAY_LOOP = 60
CONNECT_TIMEOUT = 5
# include/libipvs.h IPVS_SVC_PERSISTENT_TIMEOUT (6*60): `persistence_timeout` with no value
# (check_parser.c pto_handler), `persistence_granularity` without a timeout (pgr_handler) and a port-0 service
# (check_data.c validate_check_config: "zero port only valid for persistent services - setting").
PERSISTENT_TIMEOUT = 360
# include/global_data.h LVS_MAX_TIMEOUT: persistence_timeout's range is [1, this]; 0 logs
# "persistence_timeout invalid" and the service stays as it was (not persistent).
MAX_PERSISTENCE_TIMEOUT = 86400 * 31

# Checkers: check_api.c queue_checker() (retry 1, delay_before_retry 1 s), then per type:
# check_http.c http_get_handler() (delay_before_retry 3 s), check_misc.c misc_check_handler() (retry 0),
# check_dns.c dns_check_handler() (DNS_DEFAULT_RETRY 3; delay_before_retry = the checker's delay_loop).
RETRY = {"TCP_CHECK": 1, "UDP_CHECK": 1, "SMTP_CHECK": 1, "HTTP_GET": 1, "SSL_GET": 1, "MISC_CHECK": 0,
         "DNS_CHECK": 3}
DELAY_BEFORE_RETRY = {"TCP_CHECK": 1, "UDP_CHECK": 1, "SMTP_CHECK": 1, "HTTP_GET": 3, "SSL_GET": 3,
                      "MISC_CHECK": 1, "DNS_CHECK": None}  # None: the delay_loop
# `nb_get_retry` is a (deprecated) keyword of HTTP_GET and SSL_GET only (check_http.c
# install_http_ssl_check_keyword); in every other checker keepalived logs "Unknown keyword 'nb_get_retry'" and
# ignores the line.
NB_GET_RETRY = ("HTTP_GET", "SSL_GET")

# check_parser.c svr_forwarding_handler(): the method is compared with strcmp, so only these spellings; anything
# else logs "unknown [dr] routing method for virtual server" and check_data.c validate_check_config() then sets
# NAT ("no forwarding method set, setting default NAT").
FORWARDING = {"NAT": "nat", "DR": "dr", "TUN": "tun"}
DEFAULT_FORWARDING = "nat"
# check_parser.c lbalgo_handler(): case-sensitive names; another logs "Invalid lvs_scheduler '%s' - ignoring" and
# validation sets IPVS_DEF_SCHED ("no scheduler set, setting default 'wlc'").
SCHEDULERS = ("rr", "wrr", "lc", "wlc", "lblc", "sh", "mh", "dh", "fo", "ovf", "lblcr", "sed", "nq", "twos")
DEFAULT_SCHEDULER = "wlc"
# check_data.c validate_check_config(): an address service without `protocol` is UDP ("no protocol set -
# defaulting to UDP"); check_parser.c proto_handler() compares with strcasecmp.
DEFAULT_PROTOCOL = "udp"
PROTOCOLS = ("tcp", "udp", "sctp")

# vrrp/vrrp_parser.c vrrp_auth_pass_handler(): auth_data[8], "Truncating auth_pass to 8 characters".
AUTH_PASS_MAX = 8
# vrrp/vrrp.c vrrp_complete_instance(): with strict mode (global vrrp_strict or the instance's strict_mode) an
# auth_type is dropped: "Strict mode does not support authentication. Ignoring."
# vrrp/vrrp.c vrrp_complete_instance(): no priority -> 255 for state MASTER (VRRP_PRIO_OWNER), else 100
# (VRRP_PRIO_DFL).
PRIORITY_OWNER = 255
PRIORITY_DEFAULT = 100
# vrrp/vrrp_data.c alloc_vrrp(), vrrp.c: advert_int 1 s (VRRP_ADVER_DFL).
ADVERT_INT = 1
# include/vrrp_track.h: vrrp_script interval 1 s, rise and fall 1.
SCRIPT_INTERVAL = 1
SCRIPT_RISE = 1
SCRIPT_FALL = 1
# check/check_data.c alloc_vs(): a real server's weight defaults to the service's `weight`, itself 1.
WEIGHT = 1


def address_part(text: str) -> str:
    """An address as keepalived reads it: lib/utils.c inet_stosockaddr() cuts the text at the first '/' or '-'
    (so `unicast_src_ip 192.0.2.1/24` is 192.0.2.1)."""
    for sep in ("/", "-"):
        text = text.split(sep, 1)[0]
    return text


# ---------------------------------------------------------------- which keywords open a block, where
# lib/parser.c process_stream(): a keyword opens a block only where keepalived's keyword table gives it one. An
# unknown keyword followed by '{' logs "Unknown keyword" and "Unexpected '{' - ignoring": its lines are read in
# the enclosing block, and its '}' closes the enclosing block (a '}' at the top level logs "Unknown keyword '}'").
# The tables below are the block keywords of keepalived 2.2.7's parsers (core/global_parser.c,
# vrrp/vrrp_parser.c, check/check_parser.c and the checkers' install_*_keyword), by the block they appear in
# ("" is the top level).
CHECKER_BLOCKS = ("HTTP_GET", "SSL_GET", "TCP_CHECK", "SMTP_CHECK", "DNS_CHECK", "MISC_CHECK", "UDP_CHECK",
                  "PING_CHECK", "FILE_CHECK", "BFD_CHECK")
BLOCKS = {
    "": ("global_defs", "vrrp_script", "vrrp_track_file", "track_file", "vrrp_track_process", "vrrp_sync_group",
         "garp_group", "vrrp_instance", "virtual_server_group", "virtual_server", "static_ipaddress", "static_routes",
         "static_rules", "linkbeat_interfaces", "bfd_instance", "SSL", "track_group"),
    "global_defs": ("notification_email",),
    "vrrp_sync_group": ("group", "track_interface", "track_script", "track_file", "track_process", "track_bfd"),
    "vrrp_instance": ("authentication", "virtual_ipaddress", "virtual_ipaddress_excluded", "virtual_routes",
                      "virtual_rules", "track_interface", "track_script", "track_file", "track_process",
                      "track_bfd", "unicast_peer"),
    "virtual_server": ("real_server",),
    "real_server": CHECKER_BLOCKS,
    "HTTP_GET": ("url",),
    "SSL_GET": ("url",),
    "SMTP_CHECK": ("host",),
}
# Blocks whose lines are values (addresses, names), read whole (read_value_block), not keywords.
VALUE_BLOCKS = ("notification_email", "group", "track_interface", "track_script", "track_file", "track_process",
                "track_bfd", "virtual_ipaddress", "virtual_ipaddress_excluded", "virtual_routes", "virtual_rules",
                "unicast_peer", "static_ipaddress", "static_routes", "static_rules", "linkbeat_interfaces",
                "virtual_server_group")
