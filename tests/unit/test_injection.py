"""No inventory string can add a keepalived directive: a property-based proof over every rendered string field.

For each field, Hypothesis feeds arbitrary strings (newlines, braces, quotes, '#', '!', '$', '@', spaces,
control and non-ASCII characters, keepalived keywords). Each value must be either refused with the model's
own error (ModelError), or rendered so that parsing the configuration the way keepalived does gives exactly
the blocks and values of the same inventory with a known-good placeholder, the placeholder's token replaced
by the value as the model normalized it. A second property feeds values of any type to every field and to
HeYe documents of any shape: the only failure allowed is a ModelError.
"""
import copy
import ipaddress

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from ansible_collections.lvsfleet.lvs.plugins.module_utils.lvsfleet.keepalived_conf import ConfError, parse
from ansible_collections.lvsfleet.lvs.plugins.module_utils.lvsfleet.model import (
    ModelError, _netmask, check_inventory, normalize_services, normalize_vrrp_instances, normalize_vrrp_scripts,
    services_from_k8s,
)
from test_keepalived_render import render_model

# lb3 holds no instance of BASE: its address is the unicast peer the placeholder test writes.
DIRECTORS = {"lb1": "198.51.100.11", "lb2": "198.51.100.12", "lb3": "198.51.100.13"}
BASE = {
    "scripts": [{"name": "chk_ipvs", "script": ["/usr/bin/test", "-e", "/proc/net/ip_vs"]}],
    "vrrp": [{"name": "VI_1", "interface": "lan0", "virtual_router_id": 51, "priorities": {"lb1": 150, "lb2": 100},
              "virtual_ipaddresses": ["198.51.100.10/24", "198.51.100.21"], "track_interfaces": ["lan1"],
              "track_scripts": ["chk_ipvs"], "sync_group": "G1", "auth_pass": "s3cret",
              "unicast_peers": ["198.51.100.11", "198.51.100.12"], "lvs_sync_daemon": {"interface": "lan0"}},
             # G1's second member: keepalived refuses a sync group of one
             {"name": "VI_2", "interface": "lan0", "virtual_router_id": 52, "priorities": {"lb1": 150, "lb2": 100},
              "virtual_ipaddresses": ["198.51.100.70/24"], "sync_group": "G1"}],
    "services": [
        {"name": "web", "vip": "198.51.100.10", "port": 80, "persistence": {"timeout": 60, "netmask": 24},
         "sorry_server": {"address": "203.0.113.99"},
         "health_check": {"type": "http", "path": "/health", "host": "www.example.com",
                          "digest": "d41d8cd98f00b204e9800998ecf8427e"},
         "real_servers": [{"address": "203.0.113.21", "port": 8080}]},
        {"name": "web-group", "vips": ["198.51.100.20"], "port": 443, "vip_holder": "external",
         "health_check": {"type": "custom", "script": ["/usr/local/bin/check", "--quick"]},
         "real_servers": ["203.0.113.22"]},
        {"name": "dns", "vip": "198.51.100.10", "port": 53, "protocol": "udp",
         "health_check": {"type": "dns", "query": "example.org"}, "real_servers": ["203.0.113.23"]},
        {"name": "udp", "vip": "198.51.100.10", "port": 5000, "protocol": "udp",
         "health_check": {"type": "udp", "payload": "00ff", "reply": "ff00"}, "real_servers": ["203.0.113.24"]},
        {"name": "mail", "vip": "198.51.100.60", "port": 25, "health_check": {"type": "smtp", "helo": "lb.example"},
         "vip_holder": "external", "real_servers": ["203.0.113.25"]},
    ],
}


def at(*path):
    """A setter for one field of the inventory, by path from the top (lists by index)."""
    def put(inv, value):
        node = inv
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value
    return put


def both(*setters):
    def put(inv, value):
        for setter in setters:
            setter(inv, value)
    return put


def address(value):
    return str(ipaddress.ip_address(value))


def interface(value):
    return str(ipaddress.ip_interface(value)) if "/" in value else address(value)


def netmask(value):
    return _netmask("", value, 4)


# field name -> (setter, placeholder that the grammar accepts, how the model prints an accepted value)
FIELDS = {
    "services.name": (at("services", 1, "name"), "grp-placeholder", str),
    "services.vip": (at("services", 4, "vip"), "198.51.100.40", address),
    "real_servers.address": (at("services", 0, "real_servers", 0, "address"), "203.0.113.201", address),
    "sorry_server.address": (at("services", 0, "sorry_server", "address"), "203.0.113.202", address),
    "persistence.netmask": (at("services", 0, "persistence", "netmask"), "255.255.255.128", netmask),
    "health_check.path": (at("services", 0, "health_check", "path"), "/ph-placeholder", str),
    "health_check.host": (at("services", 0, "health_check", "host"), "host-placeholder", str),
    "health_check.digest": (at("services", 0, "health_check", "digest"), "0" * 32, str.lower),
    "health_check.query": (at("services", 2, "health_check", "query"), "query-placeholder", str),
    "health_check.helo": (at("services", 4, "health_check", "helo"), "helo-placeholder", str),
    "health_check.payload": (at("services", 3, "health_check", "payload"), "abcdef", str.lower),
    "health_check.reply": (at("services", 3, "health_check", "reply"), "fedcba", str.lower),
    "health_check.script": (at("services", 1, "health_check", "script"), "/x/script-placeholder", str),
    "health_check.script[1]": (at("services", 1, "health_check", "script", 1), "word-placeholder", str),
    "vrrp.name": (at("vrrp", 0, "name"), "VI_placeholder", str),
    "vrrp.interface": (at("vrrp", 0, "interface"), "ifplaceholder", str),
    "vrrp.track_interfaces": (at("vrrp", 0, "track_interfaces", 0), "trkplaceholder", str),
    "vrrp.sync_group": (both(at("vrrp", 0, "sync_group"), at("vrrp", 1, "sync_group")), "SG_placeholder", str),
    "vrrp.auth_pass": (at("vrrp", 0, "auth_pass"), "pwplace", str),
    "vrrp.unicast_peers": (at("vrrp", 0, "unicast_peers", 1), "198.51.100.13", address),
    "vrrp.virtual_ipaddresses": (at("vrrp", 0, "virtual_ipaddresses", 1), "198.51.100.21", interface),
    "vrrp.lvs_sync_daemon.interface": (at("vrrp", 0, "lvs_sync_daemon", "interface"), "syncplaceholder", str),
    "scripts.name": (both(at("scripts", 0, "name"), at("vrrp", 0, "track_scripts", 0)), "chk_placeholder", str),
    "scripts.script[2]": (at("scripts", 0, "script", 2), "/x/arg-placeholder", str),
}
# What keepalived's parser and variable expansion read specially, plus words that are keywords of its own.
NASTY = ("\n", "\r", "\t", " ", "{", "}", '"', "'", "#", "!", "$", "@", "~", "\\", "\0", "\x0b", "\u2028", "é")
KEYWORDS = ["include", "real_server", "unicast_peer", "notify", "@lb1", "$X=1", "~SEQ(i,1,2)", "}", "{"]
strings = st.one_of(
    st.text(max_size=40),
    st.text(alphabet=st.sampled_from(list("ab09./-_:%,=+@") + list(NASTY)), max_size=30),
    st.sampled_from(KEYWORDS),
    st.builds(lambda a, b, c: a + b + c, st.text(alphabet="abc019./", max_size=8), st.sampled_from(NASTY),
              st.text(alphabet="abc019./ {}", max_size=8)),
)


def render(inv, host="lb1") -> str:
    services = normalize_services(inv["services"])
    scripts = normalize_vrrp_scripts(inv["scripts"])
    vrrp = normalize_vrrp_instances(copy.deepcopy(inv["vrrp"]), DIRECTORS, scripts=scripts, services=services)
    check_inventory({h: {"lvs_services": inv["services"], "lvs_vrrp_instances": inv["vrrp"],
                         "lvs_vrrp_scripts": inv["scripts"], "lvs_vrrp_unicast_ip": ip} for h, ip in DIRECTORS.items()})
    mine = [vi for vi in vrrp if host in vi["priorities"]]
    return render_model(services, mine, host, scripts)


def substituted(tree, old: str, new: str):
    """The parsed tree with every token `old` (or containing it, in quoted multi-word tokens) made `new`."""
    def swap(tok):
        return tok.replace(old, new) if old in tok else tok
    return tuple((swap(k), tuple(swap(a) for a in args), None if kids is None else substituted(kids, old, new))
                 for k, args, kids in tree)


def plain(text: str):
    return tuple(n.plain() for n in parse(text))


@pytest.mark.parametrize("field", sorted(FIELDS))
def test_placeholders_render_where_expected(field):
    put, placeholder, _ = FIELDS[field]
    inv = copy.deepcopy(BASE)
    put(inv, placeholder)
    assert placeholder in render(inv), f"{field}: the placeholder is not rendered, so the property below is blind"


@pytest.mark.parametrize("field", sorted(FIELDS))
@settings(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=strings)
@example(value="/ok\n    real_server 192.0.2.66 80 {")
@example(value="include")
def test_no_string_adds_a_directive(field, value):
    put, placeholder, shown = FIELDS[field]
    good = copy.deepcopy(BASE)
    put(good, placeholder)
    bad = copy.deepcopy(BASE)
    put(bad, value)
    try:
        text = render(bad)
    except ModelError:
        return  # refused with a message: fine
    try:
        tree = plain(text)
    except ConfError as exc:
        raise AssertionError(f"{field}={value!r} was accepted and breaks the configuration's shape: {exc}")
    assert tree == substituted(plain(render(good)), placeholder, shown(value)), (
        f"{field}={value!r} was accepted but the parsed configuration differs from the intended one")


any_value = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-2**40, 2**40), st.floats(allow_nan=False), strings),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(strings, inner, max_size=3)),
    max_leaves=8)


@pytest.mark.parametrize("field", sorted(FIELDS))
@settings(deadline=None)
@given(value=any_value)
def test_values_of_any_type_give_a_message_not_a_crash(field, value):
    put, _, _ = FIELDS[field]
    inv = copy.deepcopy(BASE)
    put(inv, value)
    try:
        render(inv)
    except ModelError:
        pass


TOP = st.dictionaries(st.sampled_from(["kind", "metadata", "spec", "subsets"]), any_value, max_size=4)
KINDS = st.sampled_from(["Service", "Endpoints", "Pod", None, 3])


@settings(deadline=None)
@given(docs=st.lists(st.one_of(any_value, st.builds(lambda d, k: dict(d, kind=k), TOP, KINDS)), max_size=4))
def test_heye_documents_of_any_shape_give_a_message_not_a_crash(docs):
    try:
        services_from_k8s(docs, "services/any.yaml")
    except ModelError:
        pass


@settings(deadline=None)
@given(services=any_value, vrrp=any_value, scripts=any_value)
def test_whole_variables_of_any_shape_give_a_message_not_a_crash(services, vrrp, scripts):
    try:
        check_inventory({"lb1": {"lvs_services": services, "lvs_vrrp_instances": vrrp, "lvs_vrrp_scripts": scripts}})
    except ModelError:
        pass
