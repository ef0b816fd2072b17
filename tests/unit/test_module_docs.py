"""Every module's documentation is what ansible-doc renders and what its argument_spec accepts."""
import ast
import json
import os
import subprocess
from pathlib import Path

from conftest import tool

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
MODULES = sorted((REPO / "plugins" / "modules").glob("*.py"))


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


@pytest.mark.parametrize("path", MODULES, ids=[p.stem for p in MODULES])
def test_ansible_doc_renders_the_module(path):
    env = dict(os.environ, ANSIBLE_CONFIG=str(REPO / "ansible.cfg"))
    p = subprocess.run([tool("ansible-doc"), "--json", "-M", str(path.parent), path.stem], cwd=REPO, env=env,
                       capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=120)
    assert p.returncode == 0 and "ERROR" not in p.stderr, p.stderr
    doc = json.loads(p.stdout)[path.stem]["doc"]
    assert doc["module"] == path.stem and doc["short_description"]
