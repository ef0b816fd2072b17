"""Every role variable an operator can set is in the role's argument spec, with the default the role uses."""
import re
from pathlib import Path

import pytest
import yaml

ROLES = Path(__file__).resolve().parents[2] / "roles"


def role_names():
    return sorted(r.name for r in ROLES.iterdir() if (r / "defaults" / "main.yml").exists())


@pytest.mark.parametrize("role", role_names())
def test_argument_spec_lists_every_default_with_its_value(role):
    defaults = yaml.safe_load((ROLES / role / "defaults" / "main.yml").read_text()) or {}
    specs = yaml.safe_load((ROLES / role / "meta" / "argument_specs.yml").read_text())["argument_specs"]
    options = {}
    for entry in specs.values():
        for name, spec in (entry.get("options") or {}).items():
            options.setdefault(name, []).append(spec)
    problems = []
    for name, value in defaults.items():
        if name not in options:
            problems.append(f"{name}: not in the argument spec")
        for spec in options.get(name, []):
            if spec.get("default", "<none>") != value:
                problems.append(f"{name}: spec default {spec.get('default', '<none>')!r}, role default {value!r}")
            if not spec.get("description"):
                problems.append(f"{name}: no description")
    assert not problems, "\n".join(problems)


def test_role_asserts_anchor_at_the_very_end():
    """A pattern test ending in '$' lets "lvsclient0\n" through ('$' matches before a final newline): every
    `is regex(...)`/`is match(...)` in the roles, the lab's and the playbooks ends in \\Z instead."""
    root = ROLES.parent
    found = []
    for path in sorted([*root.glob("roles/*/tasks/*.yml"), *root.glob("lab/roles/*/tasks/*.yml"),
                        *root.glob("playbooks/*.yml")]):
        for n, line in enumerate(path.read_text().splitlines(), 1):
            if re.search(r"is (?:regex|match|search)\('[^']*\$'\)", line):
                found.append(f"{path.relative_to(root)}:{n}: {line.strip()}")
    assert not found, "\n".join(found)
