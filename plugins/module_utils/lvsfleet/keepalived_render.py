# -*- coding: utf-8 -*-
"""keepalived.conf from the normalized model, in one pass of Python (the role's keepalived.conf.j2 calls it).

    config(model_services, vrrp_instances, scripts, directors, host, settings) -> str
    render(model_services, my_vrrp, model_scripts, host, settings) -> str

`config` takes the normalized services (model.normalize_services, with this run's real-server states applied)
and the inventory's raw lvs_vrrp_instances and lvs_vrrp_scripts (`directors`: {director: lvs_vrrp_unicast_ip or
None}), normalizes those and renders the configuration of director `host`. `render` renders a normalized model
(`my_vrrp`: the director's own instances).
`settings`: router_id, script_user, garp_master_repeat, garp_master_refresh, priority_override,
nopreempt_suspended_for, check_credentials_dir, check_source, syslog_probe (the role's keepalived_* values).

Every word written is a model value the model has already checked (words without blanks, quotes, braces or
comment characters where keepalived reads words; see model.py). The layout is keepalived 2.2.7's grammar
(keepalived.conf(5) of Debian 12's keepalived; check_parser.c, vrrp_parser.c):
- a virtual_server_group's members are one model entry per VIP: the group renders once, at its first VIP;
- health_check.via: forwarding adds one fwmark service per real server, holding only it, which only the
  checker's marked probes match (connect_ip the VIP, bindto this director, fwmark the real server's);
- "lb_kind TUN type gue port N" or "type gre" (check_parser.c svr_forwarding_handler()); ipip is its default,
  and without the type keepalived would program ipip where the model says gue or gre;
- only the first `advertised_addresses` VIPs of an instance go into its adverts; the rest are
  virtual_ipaddress_excluded (held and announced the same way). A BACKUP drops adverts whose address list
  differs from its own, so a rolling reload that adds a VIP would otherwise make the reloaded BACKUP ignore the
  MASTER and take over;
- nopreempt is left out of an instance that has a member in nopreempt_suspended_for (maintenance.yml start moves
  it away from that director, and it must be able to come back).
"""

from __future__ import annotations

from . import model

CHECK_MYSQL = "/usr/local/libexec/lvsfleet/check-mysql"
VRRP_NOTIFY = "/usr/local/libexec/lvsfleet/vrrp-notify"
GARP_KEYS = ("garp_master_delay", "garp_master_repeat", "garp_master_refresh")


def _int(value) -> int:
    """A number the way Jinja's int filter reads it (an unreadable value is 0)."""
    try:
        return int(value)
    except (TypeError, ValueError):
        try:
            return int(float(value))
        except (TypeError, ValueError):
            return 0


def config(model_services: list, vrrp_instances, scripts, directors, host: str, settings: dict) -> str:
    """The configuration of director `host`: the normalized services (real-server states applied), and the raw
    VRRP instances and scripts, normalized here."""
    model_scripts = model.normalize_vrrp_scripts(scripts)
    # scripts None: track_scripts are not checked against them (lvs_normalize_vrrp's reading).
    instances = model.normalize_vrrp_instances(vrrp_instances, directors, "lvs_vrrp_instances",
                                               None if scripts is None else model_scripts, model_services)
    mine = [vi for vi in instances if host in vi["priorities"]]
    return render(model_services, mine, model_scripts, host, settings)


def render(model_services: list, my_vrrp: list, model_scripts: list, host: str, settings: dict) -> str:
    """The configuration of director `host` from the normalized model (`my_vrrp`: its instances)."""
    out: list[str] = []
    w = out.append
    _global_defs(w, my_vrrp, settings)
    tracked = {name for vi in my_vrrp for name in vi["track_scripts"]}
    for sc in model_scripts:
        if sc["name"] in tracked:
            w(f"vrrp_script {sc['name']} {{")
            w(f"    script \"{' '.join(str(a) for a in sc['script'])}\"")
            for key in ("interval", "timeout", "fall", "rise", "weight"):
                w(f"    {key} {sc[key]}")
            w("}")
            w("")
    groups: dict = {}
    for vi in my_vrrp:
        if "sync_group" in vi:
            groups.setdefault(vi["sync_group"], []).append(vi)
    # Ordered as the earlier templates' Jinja groupby ordered them (by the name without case, so an upgrade
    # changes no file); names that differ only in case are two groups, as keepalived reads them (groupby merged them).
    for group in sorted(groups, key=lambda name: (name.lower(), name)):
        w(f"vrrp_sync_group {group} {{")
        w("    group {")
        for vi in groups[group]:
            w(f"        {vi['name']}")
        w("    }")
        w("}")
        w("")
    for vi in my_vrrp:
        _vrrp_instance(w, vi, host, settings)
    firsts = [svc for svc in model_services if not svc["group"] or svc["vip"] == svc["vips"][0]]
    for svc in firsts:
        _virtual_server(w, svc, settings)
    for svc in firsts:
        if svc["health_check"]["via"] != "forwarding":
            continue
        for rs in svc["real_servers"]:
            if rs["present"]:
                w(f"virtual_server fwmark {rs['check_fwmark']} {{")
                w("    lb_algo rr")
                w(f"    lb_kind {svc['forwarding'].upper()}")
                w(f"    real_server {rs['address']} {{")
                w("        weight 1")
                w("    }")
                w("}")
                w("")
    return "\n".join(out) + "\n"


def _global_defs(w, my_vrrp: list, settings: dict) -> None:
    w("global_defs {")
    w(f"    router_id {settings['router_id']}")
    w("    enable_script_security")
    w(f"    script_user {settings['script_user']}")
    w(f"    vrrp_garp_master_repeat {settings['garp_master_repeat']}")
    w(f"    vrrp_garp_master_refresh {settings['garp_master_refresh']}")
    for vi in my_vrrp:
        if "lvs_sync_daemon" in vi:
            sync = vi["lvs_sync_daemon"]
            w(f"    lvs_sync_daemon {sync['interface']} {vi['name']} id {sync['id']}")
    w("}")


def _vrrp_instance(w, vi: dict, host: str, settings: dict) -> None:
    w(f"vrrp_instance {vi['name']} {{")
    w(f"    state {vi['states'][host]}")
    w(f"    interface {vi['interface']}")
    w(f"    virtual_router_id {vi['virtual_router_id']}")
    w(f"    priority {_int(settings.get('priority_override', 0)) or vi['priorities'][host]}")
    w(f"    advert_int {vi['advert_int']}")
    suspended = set(settings.get("nopreempt_suspended_for") or ())
    if vi["nopreempt"] and not suspended.intersection(vi["priorities"]):
        w("    nopreempt")
    elif "preempt_delay" in vi:
        w(f"    preempt_delay {vi['preempt_delay']}")
    if vi["unicast"]:
        w(f"    unicast_src_ip {vi['unicast'][host]['src']}")
        w("    unicast_peer {")
        for peer in vi["unicast"][host]["peers"]:
            w(f"        {peer}")
        w("    }")
    if vi["track_interfaces"]:
        w("    track_interface {")
        for dev in vi["track_interfaces"]:
            w(f"        {dev}")
        w("    }")
    for key in GARP_KEYS:
        if key in vi:
            w(f"    {key} {vi[key]}")
    if vi["track_scripts"]:
        w("    track_script {")
        for name in vi["track_scripts"]:
            w(f"        {name}")
        w("    }")
    if "auth_pass" in vi:
        w("    authentication {")
        w("        auth_type PASS")
        w(f"        auth_pass {vi['auth_pass']}")
        w("    }")
    w(f"    notify {VRRP_NOTIFY}")
    advertised = vi["advertised_addresses"]
    w("    virtual_ipaddress {")
    for addr in vi["virtual_ipaddresses"][:advertised]:
        w(f"        {addr} dev {vi['interface']}")
    w("    }")
    if len(vi["virtual_ipaddresses"]) > advertised:
        w("    virtual_ipaddress_excluded {")
        for addr in vi["virtual_ipaddresses"][advertised:]:
            w(f"        {addr} dev {vi['interface']}")
        w("    }")
    w("}")


def _virtual_server(w, svc: dict, settings: dict) -> None:
    if svc["group"]:
        w(f"virtual_server_group {svc['group']} {{")
        for vip in svc["vips"]:
            w(f"    {vip} {svc['port']}")
        w("}")
        w("")
        w(f"# lvsfleet service: {svc['name']}")
        w(f"virtual_server group {svc['group']} {{")
    elif svc["fwmark"] is not None:
        w(f"# lvsfleet service: {svc['name']}")
        w(f"virtual_server fwmark {svc['fwmark']} {{")
    else:
        w(f"# lvsfleet service: {svc['name']}")
        w(f"virtual_server {svc['vip']} {svc['port']} {{")
    w(f"    delay_loop {svc['delay_loop']}")
    w(f"    lb_algo {svc['scheduler']}")
    for flag in svc["scheduler_flags"]:
        w(f"    {flag}")
    kind = f"    lb_kind {svc['forwarding'].upper()}"
    tunnel = svc.get("tunnel") or "ipip"
    if svc["forwarding"] == "tun" and tunnel != "ipip":
        kind += f" type {tunnel}"
        if tunnel == "gue":
            kind += f" port {svc['tunnel_port']}"
    w(kind)
    if svc["fwmark"] is None:
        w(f"    protocol {svc['protocol'].upper()}")
    persistence = svc["persistence"]
    if persistence:
        w(f"    persistence_timeout {persistence['timeout']}")
        if "netmask" in persistence:
            w(f"    persistence_granularity {persistence['netmask']}")
    if svc["ops"]:
        w("    ops")
    w(f"    quorum {svc['quorum']}")
    w(f"    hysteresis {svc['hysteresis']}")
    if svc["alpha"]:
        w("    alpha")
    if svc["omega"]:
        w("    omega")
    sorry = svc["sorry_server"]
    if sorry:
        w(f"    sorry_server {sorry['address']} {sorry['port']}")
    for rs in svc["real_servers"]:
        if not rs["present"]:
            continue
        w(f"    real_server {rs['address']} {rs['port']} {{")
        w(f"        weight {rs['kernel_weight']}")
        if svc["inhibit_on_failure"]:
            w("        inhibit_on_failure")
        if rs["upper_threshold"]:
            w(f"        uthreshold {rs['upper_threshold']}")
        if rs["lower_threshold"]:
            w(f"        lthreshold {rs['lower_threshold']}")
        _health_check(w, svc, rs, settings)
        w("    }")
    w("}")


def _health_check(w, svc: dict, rs: dict, settings: dict) -> None:
    """The real server's checker block (nothing for health_check type none)."""
    hc = svc["health_check"]
    kind = hc["type"]

    def common():
        w(f"            connect_port {rs['check_port']}")
        if hc["via"] == "forwarding":
            w(f"            connect_ip {svc['vip']}")
            w(f"            bindto {settings['check_source']}")
            w(f"            fwmark {rs['check_fwmark']}")
        w(f"            connect_timeout {hc['timeout']}")
        w(f"            retry {hc['retries']}")
        w(f"            delay_before_retry {hc['delay_before_retry']}")

    if kind == "tcp" or (kind == "syslog" and hc["transport"] == "tcp"):
        w("        TCP_CHECK {")
        common()
    elif kind in ("http", "https"):
        w(f"        {'HTTP_GET' if kind == 'http' else 'SSL_GET'} {{")
        w("            url {")
        w(f"                path {hc['path']}")
        w(f"                status_code {hc['status']}")
        if "digest" in hc:
            w(f"                digest {hc['digest']}")
        w("            }")
        if "host" in hc:
            w(f"            virtualhost {hc['host']}")
        common()
    elif kind in ("udp", "syslog"):
        w("        UDP_CHECK {")
        common()
        if kind == "syslog":
            w(f"            payload {settings['syslog_probe']}")
        elif "payload" in hc:
            w(f"            payload {hc['payload']}")
        if "reply" in hc:
            w(f"            require_reply {hc['reply']}")
    elif kind == "dns":
        w("        DNS_CHECK {")
        common()
        w(f"            type {hc['query_type']}")
        w(f"            name {hc['query']}")
    elif kind == "smtp":
        w("        SMTP_CHECK {")
        common()
        if "helo" in hc:
            w(f"            helo_name {hc['helo']}")
    elif kind in ("mysql", "custom"):
        w("        MISC_CHECK {")
        if kind == "custom":
            # %RS_ADDRESS% / %RS_PORT% in a word: this real server's address and port (one script per service
            # that names each server it checks).
            line = " ".join(str(a) for a in hc["script"])
            line = line.replace("%RS_ADDRESS%", str(rs["address"])).replace("%RS_PORT%", str(rs["port"]))
        else:
            line = f"{CHECK_MYSQL} {rs['address']} {rs['check_port']} {hc['timeout']}"
            if "user" in hc:
                line += f" {settings['check_credentials_dir']}/{svc['name']}.json"
        w(f'            misc_path "{line}"')
        w(f"            misc_timeout {hc['timeout'] + 2}")
        w(f"            retry {hc['retries']}")
        w(f"            delay_before_retry {hc['delay_before_retry']}")
    else:
        return
    w("        }")
