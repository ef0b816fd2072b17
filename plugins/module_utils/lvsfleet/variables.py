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

import re

from . import schema
from .model import ModelError, _addr, _bool, _choice, _int, _kind, _list, _mapping, _show

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
            raise ModelError(f"{where}: {_show(value)} must be {what}")
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
    items = _list(where, value, key.doc) if key.kind in ("list", "addresses") else None
    if items is not None:
        item = schema.Key(key.name, "address" if key.kind == "addresses" else (key.item or "str"), key.doc,
                          grammar=key.grammar, choices=key.choices, range=None)
        for j, entry in enumerate(items):
            check_value(f"{where}[{j}]", item, entry)
        return items
    if key.kind == "mapping":
        mapping = _mapping(where, value, key.doc)
        for name in mapping:
            if not isinstance(name, str) or (key.grammar and re.fullmatch(schema.GRAMMARS[key.grammar][0], name)
                                              is None):
                raise ModelError(f"{where}: key {_show(name)} must be "
                                 f"{schema.GRAMMARS[key.grammar][1] if key.grammar else 'a string'}")
        return mapping
    raise ModelError(f"{where}: lvsfleet has no check for a variable of kind {key.kind!r} (a schema error)")


def check_host_variables(host: str, hostvars: dict) -> None:
    """Every variable of the schema a host has, except those the model checks itself."""
    known = getattr(schema, "VARIABLES", {})  # TODO(schema): VARIABLES
    for name in sorted(n for n in hostvars if n in known and n not in MODEL_CHECKED):
        value = hostvars[name]
        if value is None:
            continue  # unset: the role's default
        check_value(f"{host}: {name}", known[name], value)
