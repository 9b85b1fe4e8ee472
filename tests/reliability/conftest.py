import sys
from pathlib import Path

# The kit's probe service (a tiny service on the kit alone) and the cuttable proxy.
KIT_TESTS = Path(__file__).resolve().parents[2] / "libs" / "kit" / "tests"
sys.path.insert(0, str(KIT_TESTS))
