"""A service's process before it serves: what startup built is out of the cyclic
collector's sight, so a full collection in a rush walks only what requests made."""

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

STARTED = """
import gc
from kit_probe import SPEC
from frontdesk.kit.service import Runtime, create_app, freeze_startup_objects

app = create_app(Runtime(SPEC, SPEC.settings()))
built = len(gc.get_objects())
frozen = freeze_startup_objects()
print(built, frozen, len(gc.get_objects()))
"""


def test_startup_objects_are_frozen_before_serving() -> None:
    out = subprocess.run(
        [sys.executable, "-c", STARTED],
        capture_output=True,
        text=True,
        check=True,
        cwd=HERE,
        env={"PYTHONPATH": str(HERE), "PATH": "/usr/bin:/bin"},
    ).stdout.split()
    built, frozen, left = (int(n) for n in out)
    assert frozen >= built * 0.9  # the app, its modules and tables
    assert left < built * 0.1  # what a full collection still walks
