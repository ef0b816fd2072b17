# -*- coding: utf-8 -*-
"""Filters that turn inventory into the one normalized service model (plugins/module_utils/lvsfleet)."""

from __future__ import annotations

import base64
import functools
import datetime
import difflib
import hashlib
import hmac
import ipaddress
import json
import re
from pathlib import Path

from ansible.errors import AnsibleFilterError
from ansible.parsing.yaml.objects import AnsibleVaultEncryptedUnicode
from ansible.utils.display import Display
from ansible.utils.unsafe_proxy import wrap_var
from ansible_collections.lvsfleet.lvs.plugins.module_utils.lvsfleet import (keepalived_adopt, keepalived_render, model, roll_plan,
                                                                        status, variables)


# What makes Ansible treat a string as a possible template: a start of Jinja's syntax, or a leading "#jinja2:"
# header that may redefine it.
_TEMPLATE_MARKERS = ("{{", "{%", "{#")


def _may_template(text: str) -> bool:
    return any(m in text for m in _TEMPLATE_MARKERS) or text.startswith("#jinja2:")


def _is_plain(value) -> bool:
    """Whether `value` is plain data that templating leaves as it is: containers of strings without a template
    start, numbers, booleans and nulls (an encrypted vault value, a lazy container or another type is not)."""
    if isinstance(value, str):
        return not _may_template(value)
    if value is None or isinstance(value, (bool, int, float)):
        return True
    if hasattr(value, "_non_lazy_copy"):
        return False
    if isinstance(value, dict):
        return all(isinstance(k, str) and _is_plain(v) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return all(_is_plain(v) for v in value)
    return False


def _plain(value):
    """An inventory value as plain data, each part read the cheapest way that gives what Ansible's templating gives.

    ansible-core (2.19 on) hands filters its variables as lazy containers that template each string as it is
    read: about 16 times the cost of the filter's own work on 2,000 services (benchmarks/scale_bench.py). A part
    whose strings hold no template start ({{, {%, {#, a leading #jinja2:) templates to itself, so it is taken as stored; any other
    part (a template, a vaulted value) is read through the container, which templates or decrypts it as always.
    Values that are not lazy containers (older ansible-core, unit tests) are returned as they are."""
    copy = getattr(value, "_non_lazy_copy", None)
    if copy is None:
        return value
    raw = copy()
    if _is_plain(raw):
        return raw
    if isinstance(raw, dict):
        return {k: v if _is_plain(v) else _plain(value[k]) for k, v in raw.items()}
    if isinstance(raw, list):
        return [v if _is_plain(v) else _plain(value[i]) for i, v in enumerate(raw)]
    return value


def lvs_normalize_services(services, var="lvs_services"):
    """Normalize and validate a list of services; raise naming variable, item and value."""
    try:
        return model.normalize_services(services, var)
    except model.ModelError as exc:
        raise AnsibleFilterError(f"invalid inventory: {exc}") from None


def lvs_normalize_vrrp(instances, hosts=None, var="lvs_vrrp_instances", scripts=None, services=None):
    """Validate VRRP instances (ids, one MASTER, families, peers); `hosts`: the directors (names, or
    {name: lvs_vrrp_unicast_ip}); `scripts`: lvs_vrrp_scripts (raw), which track_scripts may name;
    `services`: normalized services, whose VIPs the instances must hold."""
    try:
        checked = model.normalize_vrrp_scripts(scripts) if scripts is not None else None
        return model.normalize_vrrp_instances(instances, hosts, var, checked, services)
    except model.ModelError as exc:
        raise AnsibleFilterError(f"invalid inventory: {exc}") from None


def lvs_keepalived_conf(services, host, vrrp=None, scripts=None, directors=None, states=None, settings=None):
    """Director `host`'s keepalived.conf (after the header lines) from the raw inventory variables, normalized once
    and rendered in one pass (module_utils/lvsfleet/keepalived_render.py)."""
    try:
        model_services = model.normalize_services(_plain(services))
    except model.ModelError as exc:
        raise AnsibleFilterError(f"invalid inventory: {exc}") from None
    try:
        model_services = model.apply_real_server_states(model_services, _plain(states))
    except model.ModelError as exc:
        raise AnsibleFilterError(f"invalid real server states: {exc}") from None
    try:
        return keepalived_render.config(model_services, _plain(vrrp), _plain(scripts), _plain(directors), host,
                                        dict(settings or {}))
    except model.ModelError as exc:
        raise AnsibleFilterError(f"invalid inventory: {exc}") from None


def lvs_normalize_vrrp_scripts(scripts, var="lvs_vrrp_scripts"):
    """Validate vrrp_script definitions (argv lists, intervals, weights)."""
    try:
        return model.normalize_vrrp_scripts(scripts, var)
    except model.ModelError as exc:
        raise AnsibleFilterError(f"invalid inventory: {exc}") from None


def lvs_normalize_bgp(value, services, sources, var="lvs_bgp"):
    """Validate lvs_bgp against the (raw) services and the directors' peering addresses (`sources`:
    {director: {lvs_bgp_source, lvs_bgp_source6}}). Adds `vips` (the anycast VIPs), `sources` per director and
    `gate`: per VIP the services the director must serve before it announces it (vip, port, protocol, quorum)."""
    try:
        normalized = model.normalize_services(services)
        out = model.normalize_bgp(value, sources, normalized, var)
    except model.ModelError as exc:
        raise AnsibleFilterError(f"invalid inventory: {exc}") from None
    if out is not None:
        out["gate"] = [{"vip": vip, "prefix": 128 if ":" in vip else 32,
                        "protocol": "lvs_vip_" + re.sub(r"[.:]", "_", vip),  # the BIRD protocol announcing it
                        "services": [{"name": s["name"], "port": s["port"], "protocol": s["protocol"],
                                      "quorum": s["quorum"]}
                                     for s in normalized if s["vip_holder"] == "bgp" and vip in s["vips"]]}
                       for vip in out["vips"]]
    return out


def lvs_services_from_k8s(docs, source="k8s"):
    """HeYe-style Service + Endpoints documents (e.g. `lookup('file', f) | from_yaml_all`) -> services."""
    try:
        return model.services_from_k8s(list(docs), source)
    except model.ModelError as exc:
        raise AnsibleFilterError(f"invalid service source: {exc}") from None


def lvs_real_server_states(services, states):
    """Normalized services with real-server states overridden ({address or address:port: state})."""
    try:
        return model.apply_real_server_states(services, states)
    except model.ModelError as exc:
        raise AnsibleFilterError(f"invalid real server states: {exc}") from None


def lvs_real_server_vips(services, addresses):
    """Normalized services + this host's addresses -> the DR/TUN VIPs it must accept."""
    try:
        return model.real_server_vips(services, addresses)
    except (model.ModelError, ValueError) as exc:
        raise AnsibleFilterError(f"invalid inventory: {exc}") from None


def lvs_removed_real_servers(kernel_services, services):
    """Real servers in the kernel (lvs_ipvs_info's `services`) that normalized `services` no longer have.

    A real server of a service that goes away counts too: it is drained before the service is removed.
    Items: the service's vip, port, protocol, fwmark, family, and the real server's address and port.
    """
    wanted = {}
    for svc in services:
        key = ("fwmark", svc["fwmark"], svc["family"]) if svc["fwmark"] is not None else \
            (svc["protocol"], svc["vip"], svc["port"])
        wanted[key] = {(rs["address"], rs["port"]) for rs in svc["real_servers"] if rs["present"]}
        # A forwarding-path check's own fwmark service stays as long as its real server does: draining it
        # would fail the check and take the real server out of the service it guards.
        for rs in svc["real_servers"]:
            if rs["present"] and rs.get("check_fwmark") is not None:
                wanted[("fwmark", rs["check_fwmark"], svc["family"])] = {(rs["address"], 0)}
    out = []
    # The fwmark services of forwarding-path checks carry no client traffic: the reload removes them, nothing
    # waits for them.
    for ks in lvs_traffic_services(kernel_services):
        key = ("fwmark", ks["fwmark"], ks["family"]) if ks.get("fwmark") else (ks["protocol"], ks["vip"], ks["port"])
        keep = wanted.get(key, set())
        for rs in ks["real_servers"]:
            if (rs["address"], rs["port"]) not in keep:
                out.append({"vip": ks.get("vip"), "port": ks.get("port") or 0, "protocol": ks.get("protocol") or "tcp",
                            "fwmark": ks.get("fwmark"), "family": ks["family"], "address": rs["address"],
                            "real_port": rs["port"], "weight": rs["weight"]})
    return out


def lvs_traffic_services(kernel_services):
    """Kernel services (lvs_ipvs_info's `services`) that carry client traffic: the fwmark services of
    forwarding-path checks (marks lvsfleet reserves for them) left out. Drains and waits act on these only."""
    low, high = model.CHECK_FWMARK_BASE, model.CHECK_FWMARK_BASE + model.CHECK_FWMARK_COUNT
    return [ks for ks in kernel_services or [] if not low <= (ks.get("fwmark") or 0) < high]


# What the gate reads of each director and real server.
_DIRECTOR_VARS = ("lvs_services", "lvs_vrrp_instances", "lvs_vrrp_scripts", "lvs_vrrp_unicast_ip",
                  "lvs_real_server_states", "lvs_priority_overrides", "lvs_check_source", "lvs_bgp",
                  "lvs_bgp_source", "lvs_bgp_source6", "lvs_director_sysctl_profile")


@functools.lru_cache(maxsize=1)
def _role_options() -> frozenset:
    """The options and defaults of this collection's roles (the gate's typo check of role variables)."""
    return frozenset(variables.role_options(Path(__file__).resolve().parents[2] / "roles"))


def lvs_check_inventory(hostvars, groups):
    """The pre-flight gate over the whole inventory: lvs_* variable names on every host, every director's
    variables, every real server's DR/TUN VIPs. Returns a summary (counts); raises naming the variable, the
    item and the value (see model.check_inventory). Secrets stay inside: nothing of the model is returned."""
    try:
        for host in groups.get("all", []):
            model.check_variable_names(host, list(hostvars[host]))
            variables.check_host_variables(host, hostvars[host])
            variables.check_role_variable_names(host, list(hostvars[host]), _role_options())
            if model.host_roles(host, hostvars[host].get("lvs_host_roles")) and host in groups.get("directors", []):
                raise model.ModelError(f"{host}: lvs_host_roles: site.yml applies it on real servers and client-side "
                                       f"hosts only; on a director it would do nothing")
        directors = {}
        for host in groups.get("directors", []):
            hv = hostvars[host]
            directors[host] = {var: _plain(hv.get(var)) for var in _DIRECTOR_VARS}
        real_servers = {}
        for host in groups.get("real_servers", []):
            hv = hostvars[host]
            real_servers[host] = {"services": _plain(hv.get("real_server_services", hv.get("lvs_services"))),
                                  "addresses": _plain(hv.get("real_server_addresses"))}
        for group in ("real_servers", "client_side"):
            both = [h for h in groups.get("directors", []) if h in groups.get(group, [])]
            if both:
                raise model.ModelError(f"{both[0]}: is a director and in the {group} group; a host has one role "
                                       f"(the {group} role would rewrite the director's configuration)")
        checked = model.check_inventory(directors, real_servers)
        vips = model.held_addresses(checked["services"], checked["vrrp"], checked["bgp"])
        scraped = [h for h in groups.get("directors", []) + groups.get("real_servers", []) if h in hostvars]
        listening = {}
        for host in scraped:
            addr = model.metrics_address(host, hostvars[host].get("lvs_metrics_address"))
            if addr in vips:
                raise model.ModelError(f"{host}: lvs_metrics_address: {addr} is a VIP; node_exporter belongs on the "
                                       f"host's management address")
            if addr is not None and addr in listening:
                raise model.ModelError(f"{host}: lvs_metrics_address: {addr} is also {listening[addr]}'s")
            if addr is not None:
                listening[addr] = host
        if groups.get("monitoring"):
            missing = [h for h in scraped if not hostvars[h].get("lvs_metrics_address")]
            if missing:
                raise model.ModelError(f"{missing[0]}: lvs_metrics_address is not set; the monitoring group's "
                                       f"Prometheus scrapes every director and real server at that address")
        _check_metrics_web(hostvars, scraped, groups.get("monitoring", []))
        claims = [(group, host, var, hostvars[host].get(var)) for group, names in model.OWN_ADDRESS_VARIABLES.items()
                  for host in groups.get(group, []) for var in names]
        model.check_host_addresses(claims, checked["services"], checked["bgp"], vips)
        model.check_bgp_interface(checked["bgp"], checked["vrrp"])
        first = groups.get("directors", [None])[0]
        model.check_overrides_keep_one_master(checked["vrrp"], hostvars[first].get("lvs_priority_overrides"))
        variables.check_fleet_variables({h: hostvars[h] for h in groups.get("directors", [])})
        for host in groups.get("client_side", []):
            hv = hostvars[host]
            try:
                model.client_side_services(hv.get("lvs_services"), hv.get("client_side_services"),
                                           hv.get("client_side_local_services"), hv.get("client_side_sources"),
                                           director_vips=vips)
                model.client_side_settings(hv.get("client_side_interface"), hv.get("client_side_ipvs_timeouts"))
            except model.ModelError as exc:
                raise model.ModelError(f"{host}: {exc}") from None
    except model.ModelError as exc:
        raise AnsibleFilterError(f"invalid inventory: {exc}") from None
    for host in groups.get("directors", [])[:1]:
        for where in _unvaulted_passwords(hostvars.raw_get(host)):
            Display().warning(f"{host}: {where} is not from Ansible Vault: a health-check password belongs in "
                              f"a vaulted variable (ansible-vault encrypt_string), not in plain inventory")
    return {"directors": len(directors), "real_servers": len(real_servers), "services": len(checked["services"]),
            "vrrp_instances": len(checked["vrrp"]), "anycast_vips": len((checked["bgp"] or {}).get("vips", []))}


def _check_metrics_web(hostvars, scraped, monitoring) -> None:
    """node_exporter's TLS and basic auth: valid on every scraped host, and one setting fleet-wide (Prometheus
    scrapes each job with one scheme and one credential); the monitoring host trusts the CA that signed them."""
    first, web = None, None
    for host in scraped:
        this = model.metrics_web(host, hostvars[host])
        if web is None:
            first, web = host, this
        elif this != web:
            what = "TLS" if this["tls"] != web["tls"] else "the basic-auth user or password"
            raise model.ModelError(f"{host}: lvs_metrics_*: {what} differs from {first}'s; Prometheus scrapes every "
                                   f"director and real server with one setting (set them in group_vars/all)")
        if this["tls"]:
            problem = _certificate_problem(hostvars[host]["lvs_metrics_tls_cert"], hostvars[host]["lvs_metrics_tls_key"],
                                           model.metrics_address(host, hostvars[host].get("lvs_metrics_address")))
            if problem:
                raise model.ModelError(f"{host}: lvs_metrics_tls_cert: {problem}")
    for host in monitoring if web else []:
        ca = hostvars[host].get("lvs_metrics_tls_ca")
        if web["tls"]:
            model.pem_certificates(f"{host}: lvs_metrics_tls_ca", ca,
                                   "the CA's that signed node_exporter's certificates: Prometheus verifies them")
        elif ca is not None:
            raise model.ModelError(f"{host}: lvs_metrics_tls_ca is set, but {first}'s node_exporter serves no TLS "
                                   f"(lvs_metrics_tls_cert); Prometheus would scrape HTTPS from plain HTTP")
        password = hostvars[host].get("lvs_metrics_basic_auth_password")
        user = hostvars[host].get("lvs_metrics_basic_auth_user") or ("prometheus" if password is not None else None)
        if (user, password) != (web["user"], web["password"]):
            raise model.ModelError(f"{host}: lvs_metrics_basic_auth_user or _password differs from {first}'s; the "
                                   f"monitoring host's Prometheus scrapes node_exporter with its own")


def _certificate_problem(cert_pem: str, key_pem: str, address) -> str | None:
    """What keeps node_exporter's certificate from working, read with cryptography (ansible-core's own
    dependency): a key that is not the certificate's, a certificate out of its validity, or (scraped at an
    address) no IP subject alternative name for that address, which Prometheus verifies."""
    from cryptography import x509  # pylint: disable=import-outside-toplevel
    from cryptography.hazmat.primitives import serialization  # pylint: disable=import-outside-toplevel
    try:
        cert = x509.load_pem_x509_certificate(cert_pem.strip().encode())
        key = serialization.load_pem_private_key(key_pem.strip().encode(), password=None)
    except (ValueError, TypeError) as exc:
        return f"the certificate or its key cannot be read ({type(exc).__name__}; an encrypted key is not supported)"
    raw = (serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    if key.public_key().public_bytes(*raw) != cert.public_key().public_bytes(*raw):
        return "lvs_metrics_tls_key is not this certificate's key"
    now = datetime.datetime.now(datetime.timezone.utc)
    # cryptography 42 and newer have the *_utc properties; older ones (Debian 12 ships 38) naive UTC datetimes.
    utc = datetime.timezone.utc
    start = getattr(cert, "not_valid_before_utc", None) or cert.not_valid_before.replace(tzinfo=utc)
    end = getattr(cert, "not_valid_after_utc", None) or cert.not_valid_after.replace(tzinfo=utc)
    if not start <= now <= end:
        return f"valid from {start:%Y-%m-%d} to {end:%Y-%m-%d}, not now; Prometheus would refuse it"
    if address is None:
        return None
    try:
        names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        names = x509.SubjectAlternativeName([])
    if ipaddress.ip_address(address) not in names.get_values_for_type(x509.IPAddress):
        return (f"has no IP subject alternative name {address} (lvs_metrics_address); Prometheus scrapes that "
                f"address and verifies the certificate names it")
    return None


def _unvaulted_passwords(raw_vars) -> list:
    """Where a `password` key in a host's untemplated variables holds a literal: neither vault-encrypted nor a
    template naming a vaulted variable (or one named vault_*)."""
    found = []

    def vaulted(value) -> bool:
        if isinstance(value, AnsibleVaultEncryptedUnicode):
            return True
        if isinstance(value, str) and "{{" in value:
            names = re.findall(r"[A-Za-z_][A-Za-z0-9_]*", " ".join(re.findall(r"{{(.*?)}}", value)))
            return any(n.startswith("vault_") or isinstance(raw_vars.get(n), AnsibleVaultEncryptedUnicode)
                       for n in names)
        return False

    def walk(value, where):
        if isinstance(value, dict):
            for key, item in value.items():
                if key == "password" and not isinstance(item, (dict, list)) and item and not vaulted(item):
                    found.append(f"{where}.password")
                else:
                    walk(item, f"{where}.{key}")
        elif isinstance(value, list):
            for i, item in enumerate(value):
                walk(item, f"{where}[{i}]")

    for name, value in raw_vars.items():
        if isinstance(value, (dict, list)):
            walk(value, name)
    return found


def lvs_without_checks(services, states=None):
    """Raw inventory services as the IPVS modules need them: health checks (and their secrets) left out, and
    real-server state overrides ({address or address:port: state}) written into the real servers."""
    out = []
    for svc in services or []:
        hc = svc.get("health_check")
        # A forwarding-path check stays: its fwmark services are part of the kernel table. Those check types
        # carry no secrets (only mysql logs in, and it cannot go via forwarding).
        via = isinstance(hc, dict) and hc.get("via") == "forwarding" and hc.get("type") != "mysql"
        svc = dict(svc, health_check=hc if via else {"type": "none"})
        rss = []
        for rs in svc.get("real_servers") or []:
            rs = dict(rs) if isinstance(rs, dict) else {"address": rs}
            port = rs.get("port", svc.get("port"))
            hit = (states or {}).get(f"{rs['address']}:{port}") or (states or {}).get(str(rs["address"]))
            if hit:
                rs["state"] = hit
            rss.append(rs)
        svc["real_servers"] = rss
        out.append(svc)
    return out


_SECRET_LINE = re.compile(r"^(\s*auth_pass\s+)\S+")


def lvs_masked_diff(live, rendered, host="director", path="keepalived.conf"):
    """A unified diff of two keepalived.conf texts with every secret masked; ['(no change)'] if equal."""
    def masked(text):
        return [_SECRET_LINE.sub(r"\g<1>********", line) for line in (text or "").splitlines()]
    lines = list(difflib.unified_diff(masked(live), masked(rendered), f"{host}:{path} (live)",
                                      f"{host}:{path} (next)", lineterm=""))
    return lines or ["(no change)"]


def lvs_split_brain(states):
    """{director: {instance: {state, ...}}} (vrrp-state of each director) -> ["VI_1: lb1, lb2", ...] for every
    instance more than one director is MASTER of."""
    masters = {}
    for host, instances in sorted((states or {}).items()):
        for name, info in (instances or {}).items():
            if (info or {}).get("state") == "MASTER":
                masters.setdefault(name, []).append(host)
    return [f"{name}: {', '.join(hosts)}" for name, hosts in sorted(masters.items()) if len(hosts) > 1]


def lvs_roll_plan(before, instances, rolling, order):
    """The rolling reload's order through the VRRP directors and why (roll_plan.plan): `before` {director:
    vrrp-state}, `instances` the next normalized VRRP instances, `rolling` the directors whose configuration
    changes, `order` the inventory order."""
    plain = json.loads(json.dumps({"before": dict(before or {}), "instances": list(instances or []),
                                   "rolling": list(rolling or []), "order": list(order or [])}))
    return roll_plan.plan(plain["before"], plain["instances"], plain["rolling"], plain["order"])


def lvs_vrrp_state_changes(before, after):
    """Instances kept by a reload whose VRRP state changed during it (roll_plan.state_changes)."""
    return roll_plan.state_changes(before, after)


def lvs_maintenance_unsettled(states, instances, director, phase):
    """What keeps a director's maintenance from being settled (roll_plan.maintenance_unsettled); [] when it is."""
    plain = json.loads(json.dumps({"states": dict(states or {}), "instances": list(instances or [])}))
    return roll_plan.maintenance_unsettled(plain["states"], plain["instances"], str(director), str(phase))


def lvs_unicast_sources(directors, hostvars):
    """{director: its lvs_vrrp_unicast_ip or None}, for lvs_normalize_vrrp's `hosts`."""
    return {host: hostvars[host].get("lvs_vrrp_unicast_ip") for host in directors}


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _strings(k)
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)


def _templated(value) -> str | None:
    """The first string in `value` that Ansible would evaluate as a template, if any."""
    return next((t for t in _strings(value) if _may_template(t)), None)


def _peel(items: list, check, leave_out) -> list:
    """The items `check` accepts together: while the whole list is refused, the item that makes the shortest
    refused prefix is left out (with the model's message). A binary search per refusal."""
    kept = list(items)
    while True:
        try:
            check(kept)
            return kept
        except model.ModelError as exc:
            lo, hi, message = 1, len(kept), str(exc)
            while lo < hi:
                mid = (lo + hi) // 2
                try:
                    check(kept[:mid])
                    lo = mid + 1
                except model.ModelError as inner:
                    hi, message = mid, str(inner)
            leave_out(kept.pop(lo - 1), message)


def _without_lone_sync_groups(instances: list) -> list:
    """Copies of the instances, sync_group removed where it names no other of them."""
    out = json.loads(json.dumps(instances))
    for vi in out:
        if vi.get("sync_group") and sum(o.get("sync_group") == vi["sync_group"] for o in out) == 1:
            del vi["sync_group"]
    return out


def adopt_checked(merged: dict) -> dict:
    """Partial adoption: what the model refuses is left out, one item at a time, each with a report entry (where
    keepalived read it, why lvsfleet refuses it); the rest is kept. Strings holding template markers are refused
    (text read from a director is never evaluated by Ansible). Adds `summary` and `left_out`."""
    where = merged.get("where") or {}
    report, left = merged["report"], []
    counts = {k: len(merged[k]) for k in ("lvs_services", "lvs_vrrp_instances", "lvs_vrrp_scripts")}
    # Blocks the adopter itself could not carry (reported where it read them) count as left out too.
    kinds = {"service": "lvs_services", "vrrp_instance": "lvs_vrrp_instances", "script": "lvs_vrrp_scripts"}
    for kind, label, at, why in merged.get("dropped", []):
        counts[kinds[kind]] += 1
        left.append(f"{kind} {label}")
        report.append({"where": at, "block": f"{kind} {label}", "directive": "left out",
                       "reason": f"lvsfleet cannot carry it: {why}. keepalived runs it; adopt it by hand in a form "
                                 f"the model accepts, or keep it outside lvsfleet"})

    def leave_out(kind):
        def out(item, why):
            name = item.get("name", "?") if isinstance(item, dict) else str(item)
            left.append(f"{kind} {name}")
            report.append({"where": where.get(f"{kind} {name}", "-"), "block": f"{kind} {name}",
                           "directive": "left out", "reason": f"lvsfleet refuses it: {why}. keepalived runs it; "
                           f"adopt it by hand in a form the model accepts, or keep it outside lvsfleet"})
        return out

    def untemplated(items, kind):
        kept = []
        for item in items:
            bad = _templated(item)
            if bad is None:
                kept.append(item)
            else:
                leave_out(kind)(item, f"{bad!r} holds a template marker ({{{{, {{% or {{#}}), which Ansible would "
                                      f"evaluate on the controller")
        return kept

    for host, hv in merged["host_vars"].items():
        for key in sorted(hv):
            value = hv[key]
            try:
                if _templated(value) is not None:
                    raise model.ModelError(f"{value!r} holds a template marker")
                model.normalize_address(f"host_vars/{host}.yml {key}", value)
            except model.ModelError as exc:
                del hv[key]
                left.append(f"{host} {key}")
                report.append({"host": host, "where": "-", "block": f"host_vars {host}", "directive": key,
                               "reason": f"left out: {exc}"})
    scripts = _peel(untemplated(merged["lvs_vrrp_scripts"], "script"), model.normalize_vrrp_scripts,
                    leave_out("script"))
    services = _peel(untemplated(merged["lvs_services"], "service"), model.normalize_services, leave_out("service"))
    directors = {h: hv.get("lvs_vrrp_unicast_ip") for h, hv in merged["host_vars"].items()}
    instances = _peel(untemplated(merged["lvs_vrrp_instances"], "vrrp_instance"),
                      lambda vis: model.normalize_vrrp_instances(_without_lone_sync_groups(vis), directors,
                                                                 scripts=scripts),
                      leave_out("vrrp_instance"))
    # A sync group whose other members were left out holds one instance: that syncs nothing, and keepalived's
    # --config-test refuses it ("has only 1 virtual router(s)"), so the instance is adopted without it.
    lone = [vi for vi, kept in zip(instances, _without_lone_sync_groups(instances)) if "sync_group" not in kept
            and "sync_group" in vi]
    for vi in lone:
        report.append({"where": where.get(f"vrrp_instance {vi['name']}", "-"), "block": f"vrrp_instance {vi['name']}",
                       "directive": f"sync_group {vi['sync_group']}", "reason": "the group's other instances were left "
                       "out; a sync group of one syncs nothing: adopted without it"})
    instances = _without_lone_sync_groups(instances)
    # Services whose VIP no kept instance holds (or that name a left-out instance) go too.
    services = _peel(services, lambda svcs: model.normalize_vrrp_instances(
        json.loads(json.dumps(instances)), directors, scripts=scripts, services=model.normalize_services(svcs)),
        leave_out("service"))
    merged.update(lvs_services=services, lvs_vrrp_instances=instances, lvs_vrrp_scripts=scripts, left_out=left)
    merged["summary"] = (f"adopted {len(services)} of {counts['lvs_services']} services, {len(instances)} of "
                         f"{counts['lvs_vrrp_instances']} VRRP instances, {len(scripts)} of "
                         f"{counts['lvs_vrrp_scripts']} scripts; {len(left)} item(s) need a decision"
                         + (f" ({', '.join(left)})" if left else ""))
    return merged


def lvs_adopt_merge(results):
    """{director: lvs_keepalived_adopt's inventory} -> one inventory for the group (see keepalived_adopt.merge),
    checked by the model item by item: what it refuses is left out and reported (adopt_checked)."""
    adopt = keepalived_adopt
    results = json.loads(json.dumps(dict(results)))  # plain str/int/dict/list, not Ansible's wrappers
    try:
        merged = adopt.merge(results)
    except adopt.AdoptError as exc:
        raise AnsibleFilterError(f"adopt: {exc}") from None
    secrets = {s for inv in results.values() for s in _adopted_secrets(inv)}
    checked = adopt_checked(merged)
    checked["report"] = [{k: _redact(v, secrets) for k, v in entry.items()} for entry in checked["report"]]
    # Text read from a director is data: marked unsafe, Ansible never evaluates a '{{' in it.
    return wrap_var(checked)


def _adopted_secrets(inv: dict) -> set:
    """The VRRP passwords and the credentials in script arguments of one director's adopted inventory."""
    out = {vi["auth_pass"] for vi in inv.get("lvs_vrrp_instances", []) if vi.get("auth_pass")}
    for _label, holder in keepalived_adopt.script_holders(inv):
        out.update(holder["script"][i] for i in keepalived_adopt.secret_arguments(holder["script"]))
    return {s for s in out if isinstance(s, str) and len(s) >= 3}


def _redact(value, secrets: set):
    """`value` (a report field) with every known secret replaced by ****, longest first."""
    if not isinstance(value, str):
        return value
    for secret in sorted(secrets, key=len, reverse=True):
        value = value.replace(secret, "****")
    return value


def lvs_adopt_files(merged, connection):
    """The files adopt.yml writes, {relative path: YAML text}; `secrets` holds the vault file's plain text ('' if
    none) and never appears in the others, which name the secrets as vault_adopted_auth_pass_<instance>."""
    import yaml

    merged = json.loads(json.dumps(merged))  # a plain copy (YAML's safe dumper refuses Ansible's str wrappers)
    connection = json.loads(json.dumps(dict(connection)))
    secrets = {}

    def unique(var):  # VI-1 and vi_1 would make the same name: never overwrite a secret
        n, base = 2, var
        while var in secrets:
            var, n = f"{base}_{n}", n + 1
        return var

    for vi in merged["lvs_vrrp_instances"]:
        if "auth_pass" in vi:
            var = unique("vault_adopted_auth_pass_" + re.sub(r"[^A-Za-z0-9_]", "_", vi["name"]).lower())
            secrets[var] = vi["auth_pass"]
            vi["auth_pass"] = "{{ " + var + " }}"
    # Credentials in script arguments (mysql -p..., curl -u user:pass, --password=...) go to the vault too.
    for label, holder in keepalived_adopt.script_holders(merged):
        argv = holder["script"]
        for n, i in enumerate(keepalived_adopt.secret_arguments(argv)):
            var = unique(f"vault_adopted_{re.sub(r'[^A-Za-z0-9_]', '_', label).lower()}_{n + 1}")
            secrets[var] = argv[i]
            argv[i] = "{{ " + var + " }}"

    def dump(header, data):
        return "---\n# " + header.replace("\n", "\n# ") + "\n" + yaml.safe_dump(data, sort_keys=False, width=110)

    hosts = sorted(merged["host_vars"])
    files = {
        "hosts.yml": dump("Directors adopted by playbooks/adopt.yml (connection settings copied from the inventory "
                          "it ran with).", {"all": {"children": {"directors": {"hosts": {
                              h: dict(connection.get(h) or {}) or None for h in hosts}}}}}),
        "group_vars/directors/lvsfleet.yml": dump(
            "Adopted by playbooks/adopt.yml from the directors' keepalived configuration; see adopt-report.txt for\n"
            "what was not carried over. VRRP passwords are in vault.yml (Ansible Vault).",
            dict({"lvs_services": merged["lvs_services"], "lvs_vrrp_instances": merged["lvs_vrrp_instances"],
                  "lvs_vrrp_scripts": merged["lvs_vrrp_scripts"]}, **merged["group_vars"])),
        # .txt: YAML, but a name Ansible does not read as an inventory source in the inventory directory
        "adopt-report.txt": dump(f"What playbooks/adopt.yml did not carry over ({len(merged['report'])} items): "
                                 f"each names the director, file and line, the block, the directive and why.\n"
                                 f"Items marked 'left out' were refused by lvsfleet's model and are not in the "
                                 f"inventory; they need a decision.",
                                 {"adopt_summary": merged.get("summary", ""),
                                  "adopt_left_out": merged.get("left_out", []), "adopt_report": merged["report"]}),
        "secrets": yaml.safe_dump(secrets, sort_keys=True) if secrets else "",
    }
    for h in hosts:
        if merged["host_vars"][h]:
            files[f"host_vars/{h}.yml"] = dump(f"{h}: adopted by playbooks/adopt.yml.", merged["host_vars"][h])
    return wrap_var(files)


def lvs_client_side_services(services, selection, local=None, sources=None):
    """The raw services a client-side host balances (see model.client_side_services); raise naming the item."""
    try:
        return model.client_side_services(services, selection, local, sources)
    except model.ModelError as exc:
        raise AnsibleFilterError(f"invalid inventory: {exc}") from None


def lvs_adopt_line(item):
    """One report entry as a line: director, file:line, block, directive, why."""
    return (f"{item.get('host', '?')} {item.get('where')}: {item.get('block')}: {item.get('directive')}: "
            f"{item.get('reason')}")


def lvs_status_readings(directors, hostvars):
    """status.yml's per-director results -> the readings status.report() takes (unreachable directors named)."""
    out = {}
    for host in directors:
        hv = hostvars[host]
        view, ipvs, events = hv.get("_status_view"), hv.get("_status_ipvs"), hv.get("_status_events")
        if not view or view.get("unreachable") or view.get("failed") or view.get("rc", 1) != 0:
            why = (view or {}).get("msg") or (view or {}).get("stderr") or "not reached"
            out[host] = {"unreachable": str(why).strip().splitlines()[-1][:200] if str(why).strip() else "not reached"}
            continue
        try:
            reading = json.loads(view["stdout"])
        except (KeyError, ValueError) as exc:
            out[host] = {"unreachable": f"unreadable lvsfleet-metrics output: {exc}"}
            continue
        out[host] = {"view": reading, "ipvs": (ipvs or {}).get("services") or [],
                     "events": (events or {}).get("stdout_lines") or []}
    return out


def lvs_status_report(readings, events=20):
    return status.report(readings, events=int(events))


def lvs_status_table(report):
    return status.table(report)


def lvs_status_page(report):
    return status.page(report)


# Read-only checks that let a run skip a module whose answer is already known: an `apt` or `systemd_service` call
# that would change nothing costs a module round trip (and its first use on a host loads the module and its
# module_utils there), where `dpkg-query` or `systemctl show`, run by `command`, answers for every package or
# unit of a role at once. The core modules still do every change.
DPKG_FORMAT = "${db:Status-Abbrev}|${Package}\\n"
UNIT_PROPERTIES = ("LoadState", "ActiveState", "UnitFileState")


def lvs_dpkg_query(packages):
    """argv for `dpkg-query` reporting each package's status (for lvs_packages_installed)."""
    return ["dpkg-query", "--show", "--showformat=" + DPKG_FORMAT, "--", *packages]


def lvs_packages_missing(packages, stdout):
    """The packages (names as given) that lvs_dpkg_query's output does not show installed ("ii" or "hi", no
    error flag). A name dpkg does not know, or one with a version (`name=1.2`), counts as missing: apt decides."""
    installed = set()
    for line in (stdout or "").splitlines():
        status, sep, name = line.partition("|")
        if sep and len(status) >= 2 and status[1] == "i" and status[2:3] in ("", " "):
            installed.add(name.strip())
    return [p for p in packages if p not in installed]


def lvs_packages_installed(result):
    """Whether the registered result of a `command` run with lvs_dpkg_query's argv shows every package it asked
    about installed: then an apt call for them would change nothing. Anything unknown (the read skipped, a package
    dpkg does not know) is not installed, so apt runs."""
    if not isinstance(result, dict) or result.get("rc") != 0 or "--" not in (result.get("cmd") or []):
        return False
    cmd = list(result["cmd"])
    return not lvs_packages_missing(cmd[cmd.index("--") + 1:], result.get("stdout"))


def lvs_systemctl_show(units):
    """argv for `systemctl show` of the units' load, active and unit-file states (for lvs_unit_settled)."""
    return ["systemctl", "show", "--property=" + ",".join(UNIT_PROPERTIES), "--", *units]


def lvs_unit_states(stdout, units):
    """{unit: {"loaded", "active", "enabled"}} from lvs_systemctl_show's output (one block per unit, in the order
    asked). A unit whose block is missing or unreadable counts as neither active nor enabled."""
    blocks = [dict(line.split("=", 1) for line in block.splitlines() if "=" in line)
              for block in re.split(r"\n\s*\n", (stdout or "").strip()) if block.strip()]
    states = {}
    for i, unit in enumerate(units):
        props = blocks[i] if len(blocks) == len(units) else {}
        states[unit] = {"loaded": props.get("LoadState") == "loaded",
                        "active": props.get("ActiveState") == "active",
                        "enabled": props.get("UnitFileState") == "enabled"}
    return states


def lvs_unit_settled(result, unit, state="started"):
    """Whether the registered result of a `command` run with lvs_systemctl_show's argv shows `unit` enabled and,
    with state "started", active: then a systemd_service call for it would change nothing. Anything unknown (the
    read skipped or failed, the unit not asked about) is not settled, so the module runs."""
    if not isinstance(result, dict) or result.get("rc") != 0 or "--" not in (result.get("cmd") or []):
        return False
    cmd = list(result["cmd"])
    units = cmd[cmd.index("--") + 1:]
    if unit not in units:
        return False
    found = lvs_unit_states(result.get("stdout"), units)[unit]
    return found["enabled"] and (found["active"] or state == "enabled")


def lvs_bcrypt(password, context: str) -> str:
    """The bcrypt hash ($2b$, cost 10) of `password` for node_exporter's basic_auth_users. Its salt comes from
    the password and `context` (HMAC-SHA256), so a run that changes nothing writes the same hash again; another
    host or password gets another salt."""
    try:
        import bcrypt  # pylint: disable=import-outside-toplevel
    except ImportError as exc:
        raise AnsibleFilterError("lvs_bcrypt needs the Python package bcrypt on the controller "
                                 "(pip install bcrypt; requirements.txt has it)") from exc
    if not isinstance(password, str) or not password or len(password.encode()) > 72:
        raise AnsibleFilterError("lvs_bcrypt: the password must be a string of 1 to 72 bytes")
    digest = hmac.new(password.encode(), f"lvsfleet node_exporter {context}".encode(), hashlib.sha256).digest()
    # bcrypt's salt: 16 bytes in its own base64 alphabet, 22 characters.
    salt = base64.b64encode(digest[:16]).decode()[:22].translate(_BCRYPT_ALPHABET)
    return bcrypt.hashpw(password.encode(), f"$2b$10${salt}".encode()).decode()


_BCRYPT_ALPHABET = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/",
                                 "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")


# lvs_kernel's sysctl grammar (plugins/modules/lvs_kernel.py): a key in dotted form, words of letters, digits, '_' and
# '-' (it writes /proc/sys/<key with '.' as '/'> and refuses '/' in a key); a value written as text: a bool (1/0), a
# whole number or plain words separated by blanks ("4096 131072 6291456", "bbr").
_SYSCTL_KEY = re.compile(r"[A-Za-z0-9_-]*[A-Za-z0-9][A-Za-z0-9_-]*(\.[A-Za-z0-9_-]*[A-Za-z0-9][A-Za-z0-9_-]*)*")
_SYSCTL_VALUE = re.compile(r"[A-Za-z0-9_.:,+-]+([ \t]+[A-Za-z0-9_.:,+-]+)*")


def lvs_sysctl_errors(layers, host="") -> list:
    """What is wrong with the sysctl set `layers` give, one message per mistake naming host, variable, key and value.
    `layers`: [variable, mapping] pairs merged in order (later wins, as ansible.builtin.combine does); each key of the
    merged set is judged as the variable that set it last gives it. Empty: lvs_kernel can apply the set."""
    errors, final = [], {}
    where = f"{host}: " if host else ""
    for layer in layers or []:
        if not isinstance(layer, (list, tuple)) or len(layer) != 2:
            raise AnsibleFilterError(f"lvs_sysctl_errors: {layer!r} is not a [variable, mapping] pair")
        var, mapping = layer
        if not isinstance(mapping, dict):
            errors.append(f"{where}{var}: {json.dumps(mapping, default=str)} must be a mapping of sysctl name to "
                          f"value")
            continue
        for key, value in mapping.items():
            final[key] = (var, value)
    for key, (var, value) in final.items():
        shown = f"{where}{var}: {json.dumps(key, default=str)}: {json.dumps(value, default=str)}"
        if not isinstance(key, str) or not _SYSCTL_KEY.fullmatch(key) or len(key) > 255:
            errors.append(f"{shown}: the key is not a sysctl name (dotted /proc/sys path words: letters, digits, "
                          f"'_' and '-', e.g. net.ipv4.ip_forward)")
        elif not (isinstance(value, int)  # bool included: lvs_kernel writes 1 or 0
                  or (isinstance(value, str) and _SYSCTL_VALUE.fullmatch(value) and len(value) <= 255)):
            errors.append(f"{shown}: the value is not a plain number or word (a whole number, a bool, or words of "
                          f"letters, digits and _ . : , + - separated by blanks)")
    return errors


class FilterModule:
    def filters(self):
        return {"lvs_normalize_services": lvs_normalize_services, "lvs_normalize_vrrp": lvs_normalize_vrrp,
                "lvs_services_from_k8s": lvs_services_from_k8s, "lvs_real_server_vips": lvs_real_server_vips,
                "lvs_real_server_states": lvs_real_server_states,
                "lvs_removed_real_servers": lvs_removed_real_servers, "lvs_traffic_services": lvs_traffic_services,
                "lvs_normalize_vrrp_scripts": lvs_normalize_vrrp_scripts, "lvs_keepalived_conf": lvs_keepalived_conf,
                "lvs_check_inventory": lvs_check_inventory, "lvs_unicast_sources": lvs_unicast_sources,
                "lvs_without_checks": lvs_without_checks, "lvs_masked_diff": lvs_masked_diff,
                "lvs_split_brain": lvs_split_brain, "lvs_adopt_merge": lvs_adopt_merge,
                "lvs_roll_plan": lvs_roll_plan, "lvs_maintenance_unsettled": lvs_maintenance_unsettled,
                "lvs_vrrp_state_changes": lvs_vrrp_state_changes,
                "lvs_adopt_files": lvs_adopt_files, "lvs_adopt_line": lvs_adopt_line,
                "lvs_client_side_services": lvs_client_side_services, "lvs_status_readings": lvs_status_readings,
                "lvs_status_report": lvs_status_report, "lvs_status_table": lvs_status_table,
                "lvs_status_page": lvs_status_page, "lvs_normalize_bgp": lvs_normalize_bgp,
                "lvs_dpkg_query": lvs_dpkg_query, "lvs_packages_installed": lvs_packages_installed,
                "lvs_systemctl_show": lvs_systemctl_show, "lvs_unit_settled": lvs_unit_settled,
                "lvs_bcrypt": lvs_bcrypt, "lvs_sysctl_errors": lvs_sysctl_errors}
