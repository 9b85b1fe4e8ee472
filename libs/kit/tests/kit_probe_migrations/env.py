import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kit_probe import metadata

from frontdesk.kit.migrations import run_env

run_env(metadata)
