"""The generated bad-input corpus: wrong values for every key and variable of the schema, and violating pairs for
every relation, each refused by the gate with a message naming the variable, the item and the value.

The schema (plugins/module_utils/lvsfleet/schema.py) says what each key is; this file derives what it must not
be: the wrong type, each end of its range plus one, words outside its choices, each character of keepalived's
and BIRD's syntax and each kind of whitespace inside a word, a 10,000-character word, the reserved words of the
program that reads it. Each value is put into a valid base inventory (tests/unit/test_bad_inventories.py's) at
the key's place and run through the gate's filter (`lvs_check_inventory`, what verify.yml runs). A case passes
when the gate raises and its message names the item and key (e.g. ``lvs_services[0] (web).port``) and shows the
value (or, for a container, at least the key). A sample goes through a real `ansible-playbook site.yml` against
unreachable hosts (one case per object and kind of wrong value; the seed changes daily, as in
test_bad_inventories.py).

`python tests/unit/test_schema_corpus.py` prints the corpus's size by object, by key and by relation.
"""
from __future__ import annotations

import collections
import copy
import datetime
import os
import random
import re
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))

from relation_cases import GAPS, RELATION_CASES as RELATION_CASES_BY_NAME, WARNED  # noqa: E402
from test_bad_inventories import BASE_SERVICES, BASE_VRRP, contacted, model_check, run_site  # noqa: E402

from ansible_collections.lvsfleet.lvs.plugins.module_utils.lvsfleet import schema  # noqa: E402
from ansible_collections.lvsfleet.lvs.plugins.module_utils.lvsfleet.model import ModelError  # noqa: E402

# What keepalived's reader and BIRD's lexer treat as syntax, and whitespace of every kind: none may be inside a
# word that is rendered into their configuration (keepalived lib/parser.c, BIRD conf/cf-lex.l).
INJECTION = (" ", "\t", "\n", "\r", "\v", "\f", '"', "'", "{", "}", "#", "!", "$", ";", "\\", "`", "\x00", "\u00a0")
LONG = "a" * 10000
ANYCAST = [{"name": "web", "vip": "203.0.113.50", "port": 80, "scheduler": "mh", "forwarding": "dr",
            "vip_holder": "bgp", "real_servers": ["203.0.113.21"]}]
BGP = {"asn": 65001, "neighbors": [{"name": "up1", "address": "198.51.100.1", "asn": 65000}]}
BGP_HOSTS = {"d1": {"lvs_bgp_source": "198.51.100.11"}, "d2": {"lvs_bgp_source": "198.51.100.12"}}
SCRIPT = {"name": "chk", "script": ["/bin/true"]}
CLIENT = {"client_side_sources": ["203.0.113.100"], "client_side_services": ["web"]}
SHOP = list(yaml.safe_load_all((Path(__file__).resolve().parents[2] / "inventory" / "lab-services" / "shop.yaml")
                               .read_text()))
HEYE_WHERE = "services/heye.yaml"


# ---------------------------------------------------------------- where a key of each object goes
def _svc(**kw):
    return dict(BASE_SERVICES[0], **kw)


def _vi(**kw):
    return dict(BASE_VRRP[0], **kw)


def _prerequisites(obj: str, key: str, item: dict) -> dict:
    """`item` changed so that `key` applies (its schema entry's applies: "k=v1,v2" sets k to v1, "!k" drops k),
    following what those keys need in turn (tunnel_port needs tunnel gue, which needs forwarding tun)."""
    for cond in filter(None, (c.strip() for c in schema.OBJECTS[obj][key].applies.split(";"))):
        if cond.startswith("!"):
            item.pop(cond[1:], None)
            continue
        name, _, values = cond.partition("=")
        if name in schema.OBJECTS[obj] and name != key:
            item[name] = values.split(",")[0]
            _prerequisites(obj, name, item)
    if item.get("tunnel") == "gue" and key != "tunnel_port":
        item.setdefault("tunnel_port", 6080)
    return item


def _service(key, value):
    svc = _prerequisites("service", key, dict(BASE_SERVICES[0])) if key in schema.OBJECTS["service"] else _svc()
    svc[key] = value
    return {"services": [svc]}, "lvs_services[0] (web)"


def _real_server(key, value):
    rs = dict({"address": "203.0.113.21"}, **{key: value})
    return {"services": [dict(BASE_SERVICES[0], real_servers=[rs])]}, "lvs_services[0] (web).real_servers[0]"


def _health_check(key, value, applies=""):
    check = {"type": _applicable_type(applies)} if key != "type" else {}
    if check.get("type") == "mysql":  # an authenticated check needs both
        check.update(user="monitor", password="secret")
    check[key] = value
    svc = dict(BASE_SERVICES[0], health_check=check)
    if check.get("type") in ("udp", "dns"):
        svc["protocol"] = "udp"
    return {"services": [svc]}, "lvs_services[0] (web).health_check"


def _persistence(key, value):
    return _service("persistence", {"timeout": 300, key: value})[0], "lvs_services[0] (web).persistence"


def _vrrp_instance(key, value):
    return {"vrrp": [dict(BASE_VRRP[0], **{key: value})]}, "lvs_vrrp_instances[0] (VI_1)"


def _vrrp_script(key, value):
    return ({"scripts": [dict(SCRIPT, **{key: value})], "vrrp": [dict(BASE_VRRP[0], track_scripts=["chk"])]},
            "lvs_vrrp_scripts[0] (chk)")


def _bgp(key, value):
    return {"services": ANYCAST, "vrrp": [], "all_vars": {"lvs_bgp": dict(BGP, **{key: value})},
            "hosts": BGP_HOSTS}, "lvs_bgp"


def _bgp_neighbor(key, value):
    nb = dict(BGP["neighbors"][0], **{key: value})
    return _bgp("neighbors", [nb])[0], "lvs_bgp.neighbors[0]"


def _bgp_bfd(key, value):
    return _bgp("bfd", {key: value})[0], "lvs_bgp.bfd"


def _client_side_service(key, value):
    item = dict({"service": "web"}, **{key: value})
    return {"client_side": dict(CLIENT, client_side_services=[item])}, "c1: client_side_services[0]"


def _client_side_ipvs_timeouts(key, value):
    timeouts = dict({"tcp": 900, "tcpfin": 120, "udp": 10}, **{key: value})
    return {"client_side": dict(CLIENT, client_side_ipvs_timeouts=timeouts)}, "c1: client_side_ipvs_timeouts"


def _sorry_server(key, value):
    return _service("sorry_server", dict({"address": "203.0.113.99"}, **{key: value}))[0], \
        "lvs_services[0] (web).sorry_server"


def _lvs_sync_daemon(key, value):
    return _vrrp_instance("lvs_sync_daemon", {key: value})[0], "lvs_vrrp_instances[0] (VI_1).lvs_sync_daemon"


def _real_server_return_route(key, value):
    route = dict({"to": "default", "dev": "eth0", "via": "203.0.113.1"}, **{key: value})
    return {"real_servers": {"rs1": {"real_server_return_routes": [route]}}}, "rs1: real_server_return_routes[0]"


def _heye(kind, key, value):
    docs = yaml.safe_load(yaml.safe_dump(SHOP))
    doc = next(d for d in docs if d["kind"] == kind)
    doc["metadata"].setdefault("annotations", {})[key] = value
    return ({"heye": yaml.safe_dump_all(docs), "vrrp": [_vi(virtual_ipaddresses=["198.51.100.10/24",
                                                                              "198.51.100.40/24"])]},
            HEYE_WHERE)


PLACES = {
    "service": _service, "real_server": _real_server, "health_check": _health_check, "persistence": _persistence,
    "vrrp_instance": _vrrp_instance, "vrrp_script": _vrrp_script, "bgp": _bgp, "bgp_neighbor": _bgp_neighbor,
    "bgp_bfd": _bgp_bfd, "client_side_service": _client_side_service,
    "client_side_ipvs_timeouts": _client_side_ipvs_timeouts, "sorry_server": _sorry_server,
    "lvs_sync_daemon": _lvs_sync_daemon, "real_server_return_route": _real_server_return_route,
    "heye_service_annotations": lambda k, v: _heye("Service", k, v),
    "heye_endpoints_annotations": lambda k, v: _heye("Endpoints", k, v),
}


def _applicable_type(applies: str) -> str:
    """A health-check type the key applies to ("type=http,https" -> http), tcp when the key is common."""
    match = re.search(r"type=([a-z,]+)", applies or "")
    return match.group(1).split(",")[0] if match else "tcp"


def _variable(name, key, value):
    """An inventory variable set where its scope puts it: (case, the message's item prefix)."""
    if key.scope in ("director", "directors"):
        # Per-director variables are set on d1; fleet-wide ones on both (else the per-director agreement rule
        # speaks first).
        hosts = {"d1": {name: value}} if key.scope == "director" else {"d1": {name: value}, "d2": {name: value}}
        return {"hosts": hosts}, name
    if key.scope == "client_side":
        return {"client_side": dict(CLIENT, **{name: value})}, name
    if key.scope == "real_server":
        return {"real_servers": {"rs1": {name: value}}}, name
    return {"hosts": {"d1": {name: value}}}, name


# ---------------------------------------------------------------- what each kind of key must not be
def _numbers(key: schema.Key) -> list:
    out = [("a word", "many"), ("a boolean", True), ("a list", [1]), ("a mapping", {"a": 1})]
    out += [("a fraction", 1.5)] if key.kind != "number" else []
    if key.range:
        lo, hi = key.range
        out += [("below the range", lo - 1), ("above the range", hi + 1), ("huge", 10 ** 30)]
    return out


def _choices(key: schema.Key) -> list:
    first = key.choices[0]
    out = [("no choice", "nonexistent"), ("a list", [first]), ("an integer", 7)]
    if isinstance(first, str):
        out += [("upper case", first.upper()) if first.upper() not in key.choices else ("padded", f" {first}"),
                ("with a newline", f"{first}\n")]
    return out


def _strings(key: schema.Key) -> list:
    if key.kind == "secret":  # anything printable may be a secret; not another type, nothing empty, no control
        return [("a list", ["x"]), ("a mapping", {"a": "b"}), ("empty", ""), ("with a newline", "pass\nword"),
                ("with a NUL", "pass\x00word")]
    out = [("an integer", 5), ("a mapping", {"a": "b"}), ("10,000 characters", LONG), ("empty", "")]
    out += [(f"with {ch!r}", f"chk{ch}x") for ch in INJECTION]
    if "keepalived" in key.readers and key.grammar in ("name", "vrrp_name", "ifname"):
        out += [("keepalived's include", "include")]
    if key.grammar:  # what the key's own grammar admits is not a wrong value
        pattern = schema.GRAMMARS[key.grammar][0]
        out = [(why, v) for why, v in out if not (isinstance(v, str) and re.fullmatch(pattern, v))]
    return out


def _addresses(key: schema.Key) -> list:
    out = [("not an address", "198.51.100.300")] if key.kind != "host" else []  # a host name may be all digits
    out += [("an integer", 5), ("with a newline", "198.51.100.1\n"),
           ("a list", ["198.51.100.1"]), ("with a space", "198.51.100.1 x")]
    out += [("a host name", "www.example.com")] if key.kind != "host" else [("a host name with a space", "a b")]
    # An empty optional address is "not set" (a template's empty default), as the model reads it.
    out += [("empty", "")] if key.default is not None else []
    return out


BY_KIND = {
    "int": _numbers, "number": _numbers, "asn": _numbers, "bool": lambda k: [
        ("the word yes", "yes"), ("the word true", "true"), ("an integer", 1), ("a list", [True])],
    "choice": _choices, "str": _strings, "secret": _strings, "address": _addresses, "prefix": _addresses,
    "host": _addresses,
    "netmask": lambda k: [("not a mask", "255.0.255.0"), ("a word", "word"), ("too long a prefix", 129),
                          ("a list", [24])],
}
for _kind in ("list", "addresses", "argv"):
    BY_KIND[_kind] = lambda k: [("a word", "word"), ("a mapping", {"a": 1}), ("an integer", 5),
                                ("an item that is a list", [["x"]]), ("an item with a newline", ["x\ny"])]
for _kind in ("mapping", "object"):
    BY_KIND[_kind] = lambda k: [("a word", "word"), ("a list", ["x"]), ("an integer", 5),
                                ("an unknown key", {"bogus": 1})]


def bad_values(key: schema.Key) -> list[tuple[str, object]]:
    """(why, value) pairs the key must refuse."""
    # The composite kinds (int_or_object, str_or_object, bool_or_object, addresses_or_bool).
    composite = [("a nested list", [["x"]]), ("a mapping with an unknown key", {"bogus": 1})]
    return BY_KIND.get(key.kind, lambda k: composite)(key)


def generated() -> list[dict]:
    """Every generated case: {id, object, key, why, value, case, where}."""
    cases = []
    for obj, keys in sorted(schema.OBJECTS.items()):
        place = PLACES.get(obj)
        for name, key in sorted(keys.items()):
            if place is None:
                continue
            for why, value in bad_values(key):
                if obj == "health_check":
                    case, where = place(name, value, key.applies)
                else:
                    case, where = place(name, value)
                if name == "name":  # a bad name is not in the item's label
                    where = re.sub(r" \([^)]*\)$", "", where)
                cases.append({"id": f"{obj}.{name}: {why}", "object": obj, "key": name, "why": why,
                              "value": value, "case": case, "where": where})
    for name, key in sorted(schema.VARIABLES.items()):
        if not key.scope or name in ("lvs_services", "lvs_vrrp_instances", "lvs_vrrp_scripts", "lvs_bgp"):
            continue  # the objects above generate what goes inside these
        for why, value in bad_values(key):
            case, where = _variable(name, key, value)
            cases.append({"id": f"{name}: {why}", "object": "variable", "key": name, "why": why, "value": value,
                          "case": case, "where": where})
    return cases


CASES = generated()


def test_every_object_of_the_schema_has_a_place_in_the_corpus():
    assert set(schema.OBJECTS) <= set(PLACES), f"no generator place for {sorted(set(schema.OBJECTS) - set(PLACES))}"


def _names_value(message: str, value, key: str) -> bool:
    if isinstance(value, (list, dict)) or value is None or "secret" in message or "not shown" in message:
        return True  # a container: the key path is enough (the message names the bad item inside)
    shown = repr(value)
    return shown[:60] in message or str(value)[:60] in message or shown.strip("'")[:60] in message


@pytest.mark.parametrize("item", CASES, ids=[c["id"] for c in CASES])
def test_generated_value_is_refused_naming_item_key_and_value(item):
    try:
        model_check(copy.deepcopy(item["case"]))
    except ModelError as exc:
        message = str(exc)
    else:
        pytest.fail(f"accepted: {item['where']}.{item['key']} = {item['value']!r}")
    assert item["where"] in message and item["key"] in message, message
    assert _names_value(message, item["value"], item["key"]), message


# ---------------------------------------------------------------- relations: violating pairs
# tests/unit/relation_cases.py: for every relation of schema.RELATIONS, generated inventories that break it alone.
# Relations the gate only warns about (a health-check password not from Vault) have no case.
WARNED_ONLY = {"vaulted_check_passwords"}
RELATION_CASES = [(rel, name, case, expect) for rel, cases in sorted(RELATION_CASES_BY_NAME.items())
                  for name, case, expect in cases]


def test_every_relation_has_violating_pairs():
    assert set(RELATION_CASES_BY_NAME) == set(schema.RELATIONS)
    empty = {rel for rel, cases in RELATION_CASES_BY_NAME.items() if not cases}
    assert empty == WARNED_ONLY, f"relations without a violating inventory: {sorted(empty - WARNED_ONLY)}"
    assert not GAPS, f"relations the gate does not enforce: {sorted(GAPS)}"


@pytest.mark.parametrize("name,case,expect", WARNED["vaulted_check_passwords"])
def test_a_plain_check_password_is_warned_about(name, case, expect, capsys):
    model_check(copy.deepcopy(case))
    assert expect in capsys.readouterr().err.replace("\n", " ")


@pytest.mark.parametrize("relation,name,case,expect", RELATION_CASES, ids=[f"{c[0]}: {c[1]}" for c in RELATION_CASES])
def test_violating_pair_is_refused(relation, name, case, expect):
    with pytest.raises(ModelError) as err:
        model_check(copy.deepcopy(case))
    assert expect in str(err.value), str(err.value)


# ---------------------------------------------------------------- the site.yml sample
def site_sample(seed: int) -> list[dict]:
    strata = collections.defaultdict(list)
    for item in CASES:
        strata[(item["object"], item["why"].split(" ")[0])].append(item)
    rng = random.Random(seed)
    return [rng.choice(group) for _, group in sorted(strata.items())][:: max(1, len(strata) // 24)]


def test_site_yml_refuses_a_sample_before_any_host(tmp_path):
    seed = int(os.environ.get("LVSFLEET_CORPUS_SEED", "") or datetime.date.today().strftime("%Y%m%d"))
    sample = site_sample(seed)
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda c: (c, run_site(dict(c["case"], name=c["id"]), tmp_path)), sample))
    problems = []
    for item, proc in results:
        out = proc.stdout + proc.stderr
        if proc.returncode == 0:
            problems.append(f"{item['id']}: site.yml succeeded")
        elif contacted(out):
            problems.append(f"{item['id']}: a host was contacted:\n{out[-1500:]}")
        elif re.search(r"Traceback|templating type error|object has no attribute", out):
            problems.append(f"{item['id']}: a crash instead of a message:\n{out[-1500:]}")
        elif item["where"] not in out:
            problems.append(f"{item['id']}: {item['where']} not named:\n{out[-1500:]}")
    assert not problems, f"LVSFLEET_CORPUS_SEED={seed} ({len(sample)} cases):\n" + "\n".join(problems)


if __name__ == "__main__":
    by_object = collections.Counter(c["object"] for c in CASES)
    by_key = collections.Counter(f"{c['object']}.{c['key']}" for c in CASES)
    print(f"{len(CASES)} generated cases")
    for obj, n in sorted(by_object.items()):
        print(f"  {obj}: {n}")
    for key, n in sorted(by_key.items()):
        print(f"    {key}: {n}")
    by_relation = collections.Counter(c[0] for c in RELATION_CASES)
    print(f"{len(RELATION_CASES)} violating pairs")
    for group, n in sorted(by_relation.items()):
        print(f"  {group}: {n}")
