"""The inventory schema (schema.py) states exactly what the model (model.py), the gate (plugins/filter/lvs.py)
and the roles' argument specs accept, and docs/inventory-keys.md is what tools/gen_key_tables.py makes of it.
A key the model accepts without a schema entry, a changed default, choice or grammar fails here."""
import ast
import importlib.util
import re
import sys
from pathlib import Path

import pytest
import yaml

from ansible_collections.lvsfleet.lvs.plugins.module_utils.lvsfleet import model, schema

ROOT = Path(__file__).resolve().parents[2]
MODEL_PY = ROOT / "plugins" / "module_utils" / "lvsfleet" / "model.py"
FILTER_PY = ROOT / "plugins" / "filter" / "lvs.py"
OBJECTS, VARIABLES = schema.OBJECTS, schema.VARIABLES

# Object of the schema -> the model's key set.
MODEL_KEY_SETS = {
    "service": "SERVICE_KEYS",
    "real_server": "RS_KEYS",
    "vrrp_instance": "VRRP_KEYS",
    "vrrp_script": "VRRP_SCRIPT_KEYS",
    "bgp": "BGP_KEYS",
    "bgp_neighbor": "BGP_NEIGHBOR_KEYS",
    "bgp_bfd": "BGP_BFD_KEYS",
}
# The model's constants the schema repeats (model.py will take them from schema.py).
SHARED_CONSTANTS = ("SCHEDULERS", "SCHEDULER_FLAGS", "PROTOCOLS", "FORWARDING", "TUNNEL_TYPES", "RS_STATES",
                    "HEALTH_TYPES", "VIP_HOLDERS", "DNS_TYPES", "HEALTH_VIA", "VIA_FORWARDING_TYPES",
                    "HEALTH_TRANSPORT", "ANYCAST_SCHEDULERS", "SYSCTL_PROFILES", "DIRECTOR_SHARED",
                    "CLIENT_SIDE_DROPPED", "CHECK_FWMARK_BASE", "CHECK_FWMARK_COUNT", "K8S_HEALTH")
# Schema grammar -> the model's compiled pattern.
MODEL_GRAMMARS = {
    "name": "_NAME_WORD", "vrrp_name": "_VRRP_NAME", "safe_word": "_SAFE_WORD", "ifname": "_IFNAME",
    "hostname": "_HOSTNAME", "url_path": "_URL_PATH", "hex": "_HEX", "md5": "_MD5", "auth_pass": "_AUTH_PASS",
    "variable": "_VARIABLE", "bird_name": "_BIRD_NAME", "bgp_password": "_BGP_PASSWORD", "role_name": "_ROLE_NAME",
    "auth_user": "_AUTH_USER", "pem_certificates": "_PEM_CERTS", "pem_key": "_PEM_KEY",
}
# Role options that are no inventory variable: parameters a playbook passes for one task or run.
ROLE_PARAMETERS = {"bgp_maintenance", "bgp_announce_required", "keepalived_reload_by", "keepalived_stage_running",
                   "keepalived_nopreempt_suspended_for"}
# Schema kind -> argument_specs types it may be declared as.
SPEC_TYPES = {"int": {"int"}, "number": {"float"}, "bool": {"bool"}, "str": {"str", "path"}, "secret": {"str"},
              "choice": {"str", "raw"}, "address": {"str"}, "addresses": {"list"},
              "list": {"list"}, "mapping": {"dict"}, "object": {"dict"}}


def all_keys():
    """(where, Key) of every object key and every variable."""
    for obj, keys in OBJECTS.items():
        for name, key in keys.items():
            yield f"{obj}.{name}", key
    for name, key in VARIABLES.items():
        yield name, key


def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"))


def unknown_sets() -> list:
    """The allowed-key set of every `_unknown(where, item, allowed)` call in model.py, with its line."""
    out = []
    for node in ast.walk(_tree(MODEL_PY)):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "_unknown":
            arg = node.args[2]
            if isinstance(arg, ast.Name) and arg.id == "fits":  # _health: common keys | the type's keys
                out.append((node.lineno, "health_check"))
            elif isinstance(arg, ast.Name):
                out.append((node.lineno, set(getattr(model, arg.id))))
            else:  # set(OBJECTS["x"]): a literal set here would be keys the schema does not know
                assert not isinstance(arg, (ast.Set, ast.List, ast.Tuple)), \
                    f"model.py:{node.lineno}: allowed keys written in place; take them from schema.OBJECTS"
                out.append((node.lineno, set(eval(compile(ast.Expression(arg), "model.py", "eval"),  # noqa: S307
                                                  vars(model)))))
    return out


# ---------------------------------------------------------------- keys: schema == model
@pytest.mark.parametrize("obj", sorted(MODEL_KEY_SETS))
def test_object_keys_are_the_models(obj):
    assert set(OBJECTS[obj]) == set(getattr(model, MODEL_KEY_SETS[obj]))


def test_health_check_keys_are_the_models():
    assert schema.health_keys_common() == model.HEALTH_KEYS_COMMON
    assert set(model.HEALTH_KEYS) == set(schema.HEALTH_TYPES)
    for kind in schema.HEALTH_TYPES:
        assert schema.health_keys(kind) == model.HEALTH_KEYS[kind], kind
    assert set(OBJECTS["health_check"]) == model.HEALTH_KEYS_COMMON.union(*model.HEALTH_KEYS.values())


def test_every_allowed_key_set_of_the_model_is_an_object():
    objects = [set(keys) for keys in OBJECTS.values()]
    found = unknown_sets()
    assert len(found) >= 13, found  # the model's closed mappings; fewer means this test lost track of them
    for line, allowed in found:
        if allowed == "health_check":
            continue
        assert allowed in objects, f"model.py:{line}: allowed keys {sorted(allowed)} are no object of the schema"


def test_known_variables_are_the_schemas():
    assert model.KNOWN_VARIABLES <= set(VARIABLES)
    lvs = {n for n in VARIABLES if re.fullmatch(schema.GRAMMARS["variable"][0], n)}
    assert lvs <= model.KNOWN_VARIABLES, "the gate would refuse these as unknown"


def _is_hostvars(node) -> bool:
    """hv, or hostvars[host]: one host's variables in the gate."""
    return getattr(node, "id", None) == "hv" or (isinstance(node, ast.Subscript)
                                                  and getattr(node.value, "id", None) == "hostvars")


def test_variables_the_gate_reads_are_in_the_schema():
    """Every hostvars name plugins/filter/lvs.py's gate reads (hv.get("x"), hostvars[host]["x"])."""
    names = set()
    tree = _tree(FILTER_PY)
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "_DIRECTOR_VARS" for t in node.targets):
            names |= set(ast.literal_eval(node.value))
    for fn in (n for n in tree.body if isinstance(n, ast.FunctionDef)
               and n.name in ("lvs_check_inventory", "_check_metrics_web")):
        for node in ast.walk(fn):
            if isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "get" and node.args \
                    and isinstance(node.args[0], ast.Constant) and _is_hostvars(node.func.value):
                names.add(node.args[0].value)
            if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant) \
                    and isinstance(node.slice.value, str) and _is_hostvars(node.value):
                names.add(node.slice.value)
    assert names and names <= set(VARIABLES), sorted(names - set(VARIABLES))


# ---------------------------------------------------------------- defaults, choices, grammars
@pytest.mark.parametrize("obj, defaults", [("service", "SERVICE_DEFAULTS"), ("health_check", "HEALTH_DEFAULTS"),
                                           ("bgp", "BGP_DEFAULTS")])
def test_defaults_are_the_models(obj, defaults):
    for name, value in getattr(model, defaults).items():
        assert OBJECTS[obj][name].default == value, f"{obj}.{name}"


@pytest.mark.parametrize("name", SHARED_CONSTANTS)
def test_constants_are_the_models(name):
    assert getattr(schema, name) == getattr(model, name)


def test_keys_use_the_shared_choices():
    for where, tuple_ in (("service.protocol", "PROTOCOLS"), ("service.scheduler", "SCHEDULERS"),
                          ("service.forwarding", "FORWARDING"), ("service.tunnel", "TUNNEL_TYPES"),
                          ("service.vip_holder", "VIP_HOLDERS"), ("real_server.state", "RS_STATES"),
                          ("health_check.type", "HEALTH_TYPES"), ("health_check.via", "HEALTH_VIA"),
                          ("health_check.query_type", "DNS_TYPES"),
                          ("lvs_director_sysctl_profile", "SYSCTL_PROFILES"), ("lvs_real_server_states", "RS_STATES")):
        obj, _, name = where.rpartition(".")
        key = OBJECTS[obj][name] if obj else VARIABLES[name]
        assert key.choices == getattr(model, tuple_), where
    flags = OBJECTS["service"]["scheduler_flags"].choices
    assert set(flags) == {f for fs in model.SCHEDULER_FLAGS.values() for f in fs}


@pytest.mark.parametrize("grammar", sorted(MODEL_GRAMMARS))
def test_grammars_are_the_models(grammar):
    assert schema.GRAMMARS[grammar][0] == getattr(model, MODEL_GRAMMARS[grammar]).pattern


def test_every_pattern_of_the_model_is_a_grammar():
    """Module-level compiled patterns and re.compile("...") inside functions (the mysql user)."""
    patterns = {g[0] for g in schema.GRAMMARS.values()}
    for name, value in vars(model).items():
        if isinstance(value, re.Pattern):
            assert value.pattern in patterns, f"model.{name}: {value.pattern!r} is no grammar of the schema"
    inline = [n.args[0].value for n in ast.walk(_tree(MODEL_PY)) if isinstance(n, ast.Call)
              and getattr(n.func, "attr", None) == "compile" and n.args and isinstance(n.args[0], ast.Constant)]
    assert schema.GRAMMARS["mysql_user"][0] in inline


def test_role_grammar_is_the_roles():
    tasks = "".join(p.read_text(encoding="utf-8") for p in sorted((ROOT / "roles" / "monitoring").glob("tasks/*.yml")))
    assert f"monitoring_retention is regex('^{schema.GRAMMARS['prometheus_duration'][0]}\\Z')" in tasks


# ---------------------------------------------------------------- every entry is well formed
@pytest.mark.parametrize("where, key", list(all_keys()), ids=[w for w, _ in all_keys()])
def test_key_is_well_formed(where, key):
    assert where.rpartition(".")[2] == key.name
    assert key.kind in schema.KINDS
    assert key.doc and "\n" not in key.doc
    assert set(key.readers) <= set(schema.READERS) and key.readers, key.readers
    if key.grammar is not None:
        assert key.grammar in schema.GRAMMARS
    if key.item is not None:
        assert key.item in OBJECTS or key.item in schema.KINDS, key.item
    if key.kind in ("list", "mapping", "object", "addresses") or key.kind.endswith("_or_object"):
        assert key.item, "a list, mapping or object names its item"
    if key.range is not None:
        assert key.range[0] <= key.range[1]
    is_variable = "." not in where
    assert (key.scope in schema.SCOPES) if is_variable else key.scope == ""
    default = key.default
    if default in (schema.REQUIRED, None) or (isinstance(default, str) and "{{" in default):
        return
    if key.kind == "choice":
        assert default in key.choices
    if key.kind in ("int", "number") and key.range is not None:
        assert not isinstance(default, bool) and key.range[0] <= default <= key.range[1]
    if key.kind == "bool":
        assert isinstance(default, bool)
    if key.kind == "str" and key.grammar is not None:
        assert re.fullmatch(schema.GRAMMARS[key.grammar][0], default)
    if key.kind == "object" and isinstance(default, dict):
        assert set(default) <= set(OBJECTS[key.item])


@pytest.mark.parametrize("obj", sorted(OBJECTS))
def test_applies_names_keys_of_the_object(obj):
    """applies: "KEY=A,B", "!KEY" or "KEY", joined by "; ", each KEY a key of the same object."""
    for key in OBJECTS[obj].values():
        for cond in filter(None, key.applies.split("; ")):
            name, _, values = cond.lstrip("!").partition("=")
            assert name in OBJECTS[obj], f"{obj}.{key.name}: applies {cond!r}"
            other = OBJECTS[obj][name]
            for value in filter(None, values.split(",")):
                assert other.choices is None or value in other.choices or value in ("true", "false"), \
                    f"{obj}.{key.name}: {value!r} is no choice of {name}"


def test_variable_applies_names_variables():
    """A variable that means something only beside another names it ("lvs_bgp": read only with lvs_bgp)."""
    for key in VARIABLES.values():
        for cond in filter(None, key.applies.split("; ")):
            assert cond.lstrip("!").partition("=")[0] in VARIABLES, f"{key.name}: applies {cond!r}"


@pytest.mark.parametrize("rule", sorted(schema.RELATIONS))
def test_relation_names_an_existing_check(rule):
    where, _, name = schema.RELATIONS[rule].check.partition(".")
    if where == "model":
        assert callable(getattr(model, name, None)), f"model.{name} does not exist"
    else:
        assert where == "filter"
        assert name in {n.name for n in _tree(FILTER_PY).body if isinstance(n, ast.FunctionDef)}


# ---------------------------------------------------------------- the roles' argument specs
def role_options():
    for spec_file in sorted((ROOT / "roles").glob("*/meta/argument_specs.yml")):
        specs = yaml.safe_load(spec_file.read_text(encoding="utf-8"))["argument_specs"]
        for entry, body in specs.items():
            for name, spec in (body.get("options") or {}).items():
                yield f"{spec_file.parts[-3]}:{entry}", name, spec


def _alias(default) -> tuple:
    """("lvs_x", literal default or None) for a default that passes an lvs_* variable on, else None."""
    if not isinstance(default, str) or "{{" not in default or "lvs_" not in default:
        return None
    m = re.fullmatch(r"\{\{ (lvs_\w+) \| default\((.*?)(?:, true)?\) \}\}", default.strip())
    if m is None:
        return re.search(r"lvs_\w+", default).group(0), None
    return m.group(1), yaml.safe_load(m.group(2))


@pytest.mark.parametrize("where, name, spec", list(role_options()), ids=[f"{w}:{n}" for w, n, _ in role_options()])
def test_role_option_agrees_with_the_schema(where, name, spec):
    if name in ROLE_PARAMETERS:
        return
    alias = _alias(spec.get("default"))
    if name not in VARIABLES and alias is not None:
        # keepalived_services: "{{ lvs_services | default([]) }}": the lvs_* variable is the inventory's.
        var, fallback = alias
        assert var in VARIABLES, f"{where} {name}: passes on {var}, which the schema lacks"
        key = VARIABLES[var]
        if fallback not in ("", None) and key.default is not None:
            assert fallback == key.default, \
                f"{where} {name}: falls back to {fallback!r}, {var} defaults to {key.default!r}"
        if re.fullmatch(r"\{\{ lvs_\w+ \| default\(.*\) \}\}", spec["default"].strip()):  # the value itself
            if spec.get("choices") is not None:
                assert tuple(spec["choices"]) == key.choices
            assert spec.get("type", "str") in SPEC_TYPES.get(key.kind, {"str", "list", "dict", "raw"}), \
                f"{where} {name}: type {spec.get('type')}, {var} is a {key.kind}"
        return
    assert name in VARIABLES, f"{where} {name}: an inventory variable without a schema entry (or a ROLE_PARAMETERS)"
    key = VARIABLES[name]
    assert spec.get("type", "str") in SPEC_TYPES.get(key.kind, {"str", "list", "dict", "raw"}), \
        f"{where} {name}: type {spec.get('type')}, schema kind {key.kind}"
    assert tuple(spec["choices"]) == key.choices if spec.get("choices") is not None else True
    assert spec.get("default") == key.default, \
        f"{where} {name}: default {spec.get('default')!r}, schema {key.default!r}"
    if spec.get("type") == "list" and spec.get("elements"):
        want = {"str"} if key.item in ("str", "address", "prefix") else {"dict", "raw"}
        assert spec["elements"] in want, f"{where} {name}: elements {spec['elements']}"


# ---------------------------------------------------------------- the docs
def generator():
    spec = importlib.util.spec_from_file_location("gen_key_tables", ROOT / "tools" / "gen_key_tables.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_docs_key_tables_are_generated():
    text = (ROOT / "docs" / "inventory-keys.md").read_text(encoding="utf-8")
    assert text == generator().render(), "docs/inventory-keys.md is out of date: run tools/gen_key_tables.py"


def test_docs_have_no_hand_written_key_tables():
    """The key tables are generated (docs/inventory-keys.md); a table written by hand elsewhere would drift."""
    for page in sorted((ROOT / "docs").glob("*.md")) + [ROOT / "README.md"]:
        if page.name == "inventory-keys.md":
            continue
        for line in page.read_text(encoding="utf-8").splitlines():
            assert not re.match(r"\| *(key|variable) *\| *default *\|", line), f"{page.name}: {line}"

