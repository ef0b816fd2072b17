"""Unit tests: no root, no network. plugins/ is importable as a plain package tree."""
import os
import sys
from pathlib import Path

from hypothesis import settings

PLUGINS = Path(__file__).resolve().parents[2] / "plugins"
sys.path.insert(0, str(PLUGINS))

# Property tests: CI runs a fixed set of examples (a red build is then reproducible, not luck); a developer
# run explores new ones. LVSFLEET_HYPOTHESIS=deep explores ten times as many.
settings.register_profile("dev", max_examples=150)
settings.register_profile("ci", max_examples=150, derandomize=True, print_blob=True)
settings.register_profile("deep", max_examples=1500)
settings.load_profile(os.environ.get("LVSFLEET_HYPOTHESIS") or ("ci" if os.environ.get("CI") else "dev"))
