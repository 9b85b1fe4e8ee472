import sys
from pathlib import Path

# The kit's probe service (a tiny service on the kit alone) and the cuttable proxy.
KIT_TESTS = Path(__file__).resolve().parents[2] / "libs" / "kit" / "tests"
sys.path.insert(0, str(KIT_TESTS))
# This folder's own helpers (the RabbitMQ cluster).
sys.path.insert(0, str(Path(__file__).resolve().parent))
# The whole stack as real processes (for the booking rush), shared with tests/e2e.
sys.path.insert(0, str(KIT_TESTS.parents[2] / "tests" / "e2e"))

from running_stack import stack, tenant  # noqa: E402, F401  (fixtures)
