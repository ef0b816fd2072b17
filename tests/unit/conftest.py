"""Unit tests: no root, no network. The checkout is importable as the collection it is (ansible_collections.lvsfleet.lvs,
through the .collections link)."""
import os
import sys
from pathlib import Path

from hypothesis import settings

COLLECTIONS = Path(__file__).resolve().parents[2] / ".collections"
sys.path.insert(0, str(COLLECTIONS))

# Property tests: CI runs a fixed set of examples (a red build is then reproducible, not luck); a developer
# run explores new ones. LVSFLEET_HYPOTHESIS=deep explores ten times as many.
settings.register_profile("dev", max_examples=150)
settings.register_profile("ci", max_examples=150, derandomize=True, print_blob=True)
settings.register_profile("deep", max_examples=1500)
settings.load_profile(os.environ.get("LVSFLEET_HYPOTHESIS") or ("ci" if os.environ.get("CI") else "dev"))
