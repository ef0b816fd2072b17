# -*- coding: utf-8 -*-
"""The gate's check of every inventory variable from its schema entry (schema.VARIABLES).

The variables with structure of their own (services, VRRP instances, BGP, client-side services, the per-director
addresses, metrics TLS) are checked by the model's own functions, which also check their relations. Every other
variable lvsfleet reads (how a reload runs, the packages, modules and sysctls of a director, the bootstrap
switch, ...) was checked only by a role's argument spec, on the host, after other hosts had changed: this checks
each of them on the controller, for every host that has it, from the same schema entry, with a message naming
the host, the variable and the value.
"""

from __future__ import annotations

import difflib
import ipaddress
import re

from . import schema
from .model import ModelError, _addr, _bool, _choice, _int, _kind, _list, _mapping, _show, _unknown

# Checked by the model's own functions (model.check_inventory, metrics_web, client_side_*, host_roles), with
# their relations; the generic check below leaves them to it so each mistake gets the one precise message.
MODEL_CHECKED = frozenset({
    "lvs_services", "lvs_vrrp_instances", "lvs_vrrp_scripts", "lvs_real_server_states",
    "lvs_priority_overrides", "lvs_check_source", "lvs_bgp", "lvs_director_sysctl_profile", "lvs_metrics_address",
    "lvs_metrics_basic_auth_password", "lvs_host_roles",
    "client_side_services", "client_side_local_services", "client_side_sources", "client_side_interface",
    "client_side_ipvs_timeouts", "real_server_services", "real_server_addresses",
})
# Kinds this module checks; a variable of another kind must be in MODEL_CHECKED (a unit test holds it).
KINDS = ("int", "bool", "choice", "str", "secret", "address", "addresses", "list", "mapping")


def _secret(where: str, key: schema.Key, value) -> str:
    """A secret: a string of its grammar, else non-empty without control characters (the value is never shown)."""
    if key.grammar:
        pattern, what = schema.GRAMMARS[key.grammar]
        if isinstance(value, str) and re.fullmatch(pattern, value):
            return value
    elif isinstance(value, str) and value and not any(ord(c) < 32 or ord(c) == 127 for c in value):
        return value
    what = what if key.grammar else "a non-empty string without control characters"
    raise ModelError(f"{where}: must be {what} (a {_kind(value)} is given; the value is not shown, it is a secret)")


def _one_of(where: str, value, choices: tuple):
    """One of `choices`, which may mix words and booleans (a bool is not the word, and 1 is not true)."""
    for choice in choices:
        if type(value) is type(choice) and value == choice:
            return value
    raise ModelError(f"{where}: {_show(value)} is not one of {', '.join(repr(c) for c in choices)}")


def _string(where: str, key: schema.Key, value) -> str:
    if key.kind == "secret":
        return _secret(where, key, value)
    if not isinstance(value, str):
        raise ModelError(f"{where}: {_show(value)} is a {_kind(value)}, not a string")
    if key.grammar:
        pattern, what = schema.GRAMMARS[key.grammar]
        if re.fullmatch(pattern, value) is None:
            if "PRIVATE KEY" in value:
                raise ModelError(f"{where}: holds a private key (not shown); it must be {what}")
            raise ModelError(f"{where}: {_show(value)} must be {what}")
    if key.grammar == "route_to" and value != "default":
        try:
            ipaddress.ip_network(value, strict=False)
        except ValueError:
            raise ModelError(f"{where}: {_show(value)} is not default or a network (address/prefix)") from None
    return value


def check_value(where: str, key: schema.Key, value):
    """One value against its schema entry: the value, or ModelError naming `where` and the value."""
    if key.kind == "int":
        lo, hi = key.range or (0, 2 ** 31 - 1)
        return _int(where, value, lo, hi)
    if key.kind == "bool":
        return _bool(where, value)
    if key.kind == "choice":
        if all(isinstance(c, str) for c in key.choices):
            return _choice(where, value, key.choices)
        return _one_of(where, value, key.choices)
    if key.kind in ("str", "secret"):
        return _string(where, key, value)
    if key.kind == "address":
        return str(_addr(where, value))
    if key.kind == "object" or key.kind in schema.OBJECTS:
        return _object(where, key.item if key.kind == "object" else key.kind, value)
    items = _list(where, value, key.doc) if key.kind in ("list", "addresses") else None
    if items is not None:
        item = schema.Key(key.name, "address" if key.kind == "addresses" else (key.item or "str"), key.doc,
                          grammar=key.grammar, choices=key.choices, range=None)
        for j, entry in enumerate(items):
            check_value(f"{where}[{j}]", item, entry)
        return items
    if key.kind == "mapping":
        mapping = _mapping(where, value, key.doc)
        for name, item in mapping.items():
            if isinstance(item, bool) and key.item != "bool":
                raise ModelError(f"{where}.{name}: {item} is a YAML boolean (yes/no/true/false/on/off read as one); "
                                 f"write the value the program takes, e.g. 1 or 0")
        for name in mapping:
            if not isinstance(name, str) or (key.grammar and re.fullmatch(schema.GRAMMARS[key.grammar][0], name)
                                              is None):
                raise ModelError(f"{where}: key {_show(name)} must be "
                                 f"{schema.GRAMMARS[key.grammar][1] if key.grammar else 'a string'}")
        return mapping
    raise ModelError(f"{where}: lvsfleet has no check for a variable of kind {key.kind!r} (a schema error)")


def _object(where: str, name: str, value) -> dict:
    """A mapping with the keys of schema.OBJECTS[name]: no other key, every required one, each value its own."""
    keys = schema.OBJECTS[name]
    mapping = _mapping(where, value, ", ".join(keys))
    _unknown(where, mapping, set(keys))
    for key in keys.values():
        if mapping.get(key.name) is None:
            if key.default == schema.REQUIRED:
                raise ModelError(f"{where}.{key.name}: required ({key.doc})")
            continue
        check_value(f"{where}.{key.name}", key, mapping[key.name])
    return mapping


# Values a variable's kind admits that mean something else on the host.
FORBIDDEN = {
    # keepalived runs check scripts as this user: root would run them with every privilege (keepalived's
    # script_security exists to avoid that).
    "keepalived_script_user": (("root",), "must not be root: check scripts run as this user"),
    # ip-route(8): 253 default, 254 main, 255 local are the kernel's own tables (/etc/iproute2/rt_tables).
    "real_server_return_table": ((253, 254, 255), "is one of the kernel's own routing tables (253 default, "
                                                  "254 main, 255 local); choose another"),
    # The role creates an ipip device of this name; lo would take TUN traffic on the loopback device.
    "real_server_tunnel_interface": (("lo",), "is the loopback device; the role's ipip device needs its own name"),
}
# Variable name prefixes of lvsfleet's roles: a name with one of them that no role reads is a typo.
ROLE_PREFIXES = ("keepalived_", "bgp_", "metrics_", "monitoring_", "real_server_", "client_side_", "ssh_trust_",
                 "lvs_director_", "bootstrap_")


def role_options(roles_dir) -> set:
    """Every option of the collection's roles (meta/argument_specs.yml) and every variable they set (defaults,
    vars: an extra variable may override one on purpose)."""
    import yaml  # pylint: disable=import-outside-toplevel  (controller side only: the gate)
    names = set()
    for spec in sorted(roles_dir.glob("*/meta/argument_specs.yml")):
        for entry in (yaml.safe_load(spec.read_text()) or {}).get("argument_specs", {}).values():
            names |= set((entry or {}).get("options") or {})
    for defaults in sorted([*roles_dir.glob("*/defaults/main.yml"), *roles_dir.glob("*/vars/main.yml")]):
        names |= set(yaml.safe_load(defaults.read_text()) or {})
    return names


def check_role_variable_names(host: str, names, options: set) -> None:
    """A variable named like a role's (keepalived_*, metrics_*, ...) that neither the schema nor a role knows:
    a typo, which would deploy the default and succeed."""
    known = set(schema.VARIABLES) | options
    for name in sorted(str(n) for n in names):
        if name.startswith(ROLE_PREFIXES) and name not in known:
            close = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.8)
            raise ModelError(f"{host}: unknown variable {name!r}"
                             + (f" (did you mean {close[0]!r}?)" if close else " (no lvsfleet role reads it)"))
# Files and directories the roles write on a director: each variable names its own.
DIRECTOR_PATHS = ("keepalived_config_path", "keepalived_staged_path", "keepalived_check_credentials_dir",
                  "bgp_config_path", "bgp_gate_config_path")


def _effective(hostvars: dict, name: str):
    """A variable's value on a host: its own, else the schema's default when that is not a template."""
    value = hostvars.get(name)
    default = schema.VARIABLES[name].default
    return value if value is not None else (None if isinstance(default, str) and "{{" in default else default)


def check_fleet_variables(directors: dict) -> None:
    """Across the variables of each director and between directors: each path variable names its own file, and
    each director its own keepalived router_id."""
    router_ids: dict[str, str] = {}
    for host, hv in directors.items():
        paths: dict[str, str] = {}
        for name in DIRECTOR_PATHS:
            path = _effective(hv, name)
            if isinstance(path, str) and path in paths:
                raise ModelError(f"{host}: {name}: {path!r} is also {paths[path]}; each names its own file")
            paths[path] = name
        rid = hv.get("keepalived_router_id")
        if isinstance(rid, str) and rid in router_ids:
            raise ModelError(f"{host}: keepalived_router_id: {rid!r} is also {router_ids[rid]}'s; each director has "
                             f"its own (set it in host_vars, or leave the default: the host name)")
        if isinstance(rid, str):
            router_ids[rid] = host


def check_host_variables(host: str, hostvars: dict) -> None:
    """Every variable of the schema a host has, except those the model checks itself."""
    known = getattr(schema, "VARIABLES", {})  # TODO(schema): VARIABLES
    for name in sorted(n for n in hostvars if n in known and n not in MODEL_CHECKED):
        value = hostvars[name]
        if value is None:
            continue  # unset: the role's default
        check_value(f"{host}: {name}", known[name], value)
        bad, why = FORBIDDEN.get(name, ((), ""))
        if value in bad and not isinstance(value, bool):
            raise ModelError(f"{host}: {name}: {_show(value)} {why}")
