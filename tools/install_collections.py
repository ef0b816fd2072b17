#!/usr/bin/env python3
"""Install the collections lvsfleet.lvs depends on into the checkout's .collections/, without Galaxy.

    tools/install_collections.py [--pip PIP]

The `ansible` package on PyPI bundles community collections. This downloads the release pinned by hash in
requirements-collections.txt (pip checks the hash), and extracts from it only the collections that galaxy.yml
names as dependencies, each into .collections/ansible_collections/<namespace>/<name>. A collection already
there at the bundled version is left alone, so a second run changes nothing.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path, PurePosixPath

import yaml

REPO = Path(__file__).resolve().parents[1]
TARGET = REPO / ".collections" / "ansible_collections"


def wanted() -> list[str]:
    galaxy = yaml.safe_load((REPO / "galaxy.yml").read_text())
    return sorted(galaxy.get("dependencies") or {})


def installed_version(name: str) -> str | None:
    manifest = TARGET.joinpath(*name.split("."), "MANIFEST.json")
    if not manifest.is_file():
        return None
    return json.loads(manifest.read_text())["collection_info"]["version"]


def extract(wheel: Path, name: str) -> str:
    prefix = "ansible_collections/" + name.replace(".", "/") + "/"
    dest = TARGET.joinpath(*name.split("."))
    with zipfile.ZipFile(wheel) as z:
        members = [m for m in z.namelist() if m.startswith(prefix) and not m.endswith("/")]
        if not members:
            sys.exit(f"install_collections: {wheel.name} does not carry {name}")
        version = json.loads(z.read(prefix + "MANIFEST.json"))["collection_info"]["version"]
        if installed_version(name) == version:
            return f"{name} {version}: already installed"
        staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=TARGET))
        try:
            for member in members:
                rel = PurePosixPath(member[len(prefix):])
                if rel.is_absolute() or ".." in rel.parts:
                    sys.exit(f"install_collections: refusing member {member!r}")
                out = staging.joinpath(*rel.parts)
                out.parent.mkdir(parents=True, exist_ok=True)
                out.write_bytes(z.read(member))
            if dest.exists():
                shutil.rmtree(dest)
            dest.parent.mkdir(parents=True, exist_ok=True)
            staging.rename(dest)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return f"{name} {version}: installed into {dest.relative_to(REPO)}"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pip", default=str(Path(sys.executable).parent / "pip"))
    args = ap.parse_args()
    names = wanted()
    if not names:
        return 0
    TARGET.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([args.pip, "download", "-q", "--no-deps", "--require-hashes", "-d", tmp,
                        "-r", str(REPO / "requirements-collections.txt")], check=True)
        wheels = list(Path(tmp).glob("ansible-*.whl"))
        if len(wheels) != 1:
            sys.exit(f"install_collections: expected one ansible wheel, got {wheels}")
        for name in names:
            print(extract(wheels[0], name))
    return 0


if __name__ == "__main__":
    sys.exit(main())
