"""Unit tests: no root, no network. plugins/ is importable as a plain package tree."""
import sys
from pathlib import Path

PLUGINS = Path(__file__).resolve().parents[2] / "plugins"
sys.path.insert(0, str(PLUGINS))
