"""Every module's and every filter's documentation is what ansible-doc renders, without a warning, and says what
the code takes: a module's argument_spec, a filter's Python signature. Filters that share a Python file are
documented the way ansible-core documents its own: one plugins/filter/<name>.yml per filter (DOCUMENTATION,
EXAMPLES, RETURN)."""
import ast
import importlib
import inspect
import json
import os
import subprocess
from pathlib import Path

from conftest import tool

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
MODULES = sorted((REPO / "plugins" / "modules").glob("*.py"))
FILTER_DIR = REPO / "plugins" / "filter"
FILTER_DOCS = sorted(FILTER_DIR.glob("*.yml"))


def filter_functions() -> dict:
    """Every filter a FilterModule of plugins/filter/*.py returns: {name: function}."""
    found = {}
    for path in sorted(FILTER_DIR.glob("*.py")):
        plugin = importlib.import_module(f"ansible_collections.lvsfleet.lvs.plugins.filter.{path.stem}")
        for name, func in plugin.FilterModule().filters().items():
            assert name not in found, f"filter {name} is defined twice"
            found[name] = func
    return found


FILTERS = filter_functions()


def ansible_doc(plugin_type: str, names: list) -> tuple[dict, str]:
    """One ansible-doc --json call for all `names` (FQCNs, found through ansible.cfg's collections_path): the
    parsed output and what it printed on stderr (its errors and warnings)."""
    env = dict(os.environ, ANSIBLE_CONFIG=str(REPO / "ansible.cfg"), ANSIBLE_NOCOLOR="1")
    p = subprocess.run([tool("ansible-doc"), "-t", plugin_type, "--json", *names], cwd=REPO, env=env,
                       capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=120)
    problems = "\n".join(line for line in p.stderr.splitlines() if "ERROR" in line or "WARNING" in line)
    assert p.returncode == 0 or problems, p.stderr
    return (json.loads(p.stdout) if p.stdout.strip() else {}), problems


def doc_blocks(path):
    blocks = {}
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") in ("DOCUMENTATION", "RETURN"):
            blocks[node.targets[0].id] = yaml.safe_load(node.value.value) or {}
    return blocks


def entries(tree, where, sub):
    for name, spec in (tree or {}).items():
        yield f"{where}.{name}", spec
        if isinstance(spec, dict) and sub in spec:
            yield from entries(spec[sub], f"{where}.{name}", sub)


@pytest.mark.parametrize("path", MODULES, ids=[p.stem for p in MODULES])
def test_every_option_and_return_value_is_a_described_mapping(path):
    # A flow mapping with an unquoted comma in its description ({description: a, b, type: str}) loads
    # as a key 'b' with no value: the text is cut and ansible-doc shows a stray entry.
    blocks = doc_blocks(path)
    for tree, where, sub in ((blocks["DOCUMENTATION"].get("options"), "options", "suboptions"),
                             (blocks.get("RETURN"), "RETURN", "contains")):
        for name, spec in entries(tree, where, sub):
            assert isinstance(spec, dict) and spec.get("description"), f"{path.name}: {name} has no description"
            stray = [k for k, v in spec.items() if v is None]
            assert not stray, f"{path.name}: {name} has keys with no value {stray} (a comma cut its description)"


@pytest.fixture(scope="module")
def module_docs():
    return ansible_doc("module", [f"lvsfleet.lvs.{p.stem}" for p in MODULES])


@pytest.fixture(scope="module")
def filter_docs():
    return ansible_doc("filter", [f"lvsfleet.lvs.{name}" for name in sorted(FILTERS)])


def rendered(docs_and_problems, kind: str, name: str):
    """ansible-doc's entry for one plugin and its `doc`, or a failure naming it."""
    docs, _ = docs_and_problems
    entry = docs.get(f"lvsfleet.lvs.{name}")
    assert entry and entry.get("doc"), f"ansible-doc has no documentation for {kind} {name} (or failed: see " \
                                       f"test_ansible_doc_renders_every_{kind}_without_a_warning)"
    return entry, entry["doc"]


def test_ansible_doc_renders_every_module_without_a_warning(module_docs):
    _, problems = module_docs
    assert not problems, problems


@pytest.mark.parametrize("path", MODULES, ids=[p.stem for p in MODULES])
def test_ansible_doc_renders_the_module(module_docs, path):
    entry, doc = rendered(module_docs, "module", path.stem)
    assert doc["module"] == path.stem and doc["short_description"]
    assert entry["examples"] and entry["return"] is not None, f"{path.name}: EXAMPLES or RETURN is missing"


def test_every_filter_has_a_doc_file_and_every_doc_file_a_filter():
    documented = {p.stem for p in FILTER_DOCS}
    undocumented = sorted(set(FILTERS) - documented)
    orphans = sorted(documented - set(FILTERS))
    assert not undocumented and not orphans, (f"filters without plugins/filter/<name>.yml: {undocumented}; "
                                              f"plugins/filter/*.yml naming no filter a FilterModule returns: {orphans}")


def test_ansible_doc_renders_every_filter_without_a_warning(filter_docs):
    _, problems = filter_docs
    assert not problems, problems


@pytest.mark.parametrize("name", sorted(FILTERS))
def test_ansible_doc_renders_the_filter(filter_docs, name):
    entry, doc = rendered(filter_docs, "filter", name)
    assert doc["name"] == name and doc["short_description"] and doc["description"] and doc.get("version_added")
    assert Path(doc["filename"]).name == f"{name}.yml", doc["filename"]
    assert entry["examples"] and f"lvsfleet.lvs.{name}" in entry["examples"], f"{name}: EXAMPLES do not use it"
    assert (entry["return"] or {}).get("_value", {}).get("description"), f"{name}: RETURN has no _value"


@pytest.mark.parametrize("name", sorted(FILTERS))
def test_filter_doc_matches_its_signature(name):
    """The options are the function's parameters (the first is _input), in the order `positional` gives; a
    parameter without a default is required, one with a default documents that default (None: no default)."""
    doc = yaml.safe_load((FILTER_DIR / f"{name}.yml").read_text())["DOCUMENTATION"]
    params = list(inspect.signature(FILTERS[name]).parameters.values())
    names = ["_input"] + [p.name for p in params[1:]]
    options = doc.get("options") or {}
    assert sorted(options) == sorted(names), f"{name}: options {sorted(options)}, parameters {names}"
    assert [n.strip() for n in str(doc.get("positional", "")).split(",")] == names, f"{name}: positional"
    for param, option in zip(params, names):
        spec = options[option]
        if param.default is inspect.Parameter.empty:
            assert spec.get("required") is True, f"{name}: {option} has no default in Python: required: true"
            assert "default" not in spec, f"{name}: {option} is required and documents a default"
        else:
            assert not spec.get("required"), f"{name}: {option} has a default ({param.default!r}): not required"
            assert spec.get("default") == param.default, \
                f"{name}: {option} documents default {spec.get('default')!r}, Python has {param.default!r}"


@pytest.mark.parametrize("path", FILTER_DOCS, ids=[p.stem for p in FILTER_DOCS])
def test_every_filter_option_and_return_value_is_a_described_mapping(path):
    blocks = yaml.safe_load(path.read_text())
    assert set(blocks) == {"DOCUMENTATION", "EXAMPLES", "RETURN"}, f"{path.name}: {sorted(blocks)}"
    for tree, where, sub in ((blocks["DOCUMENTATION"].get("options"), "options", "suboptions"),
                             (blocks["RETURN"], "RETURN", "contains")):
        for name, spec in entries(tree, where, sub):
            assert isinstance(spec, dict) and spec.get("description"), f"{path.name}: {name} has no description"
            stray = [k for k, v in spec.items() if v is None]
            assert not stray, f"{path.name}: {name} has keys with no value {stray} (a comma cut its description)"
