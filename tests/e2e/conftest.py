"""Whole flows across customers, credits and scheduling, each a real process.

One stack per test session (``running_stack``): every service is migrated, then its
``api`` and ``worker`` run as subprocesses with their own database prefix, bus prefix and
free ports. Tests drive them over HTTP only, each in a tenant of its own.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from running_stack import stack, tenant  # noqa: F401  (fixtures)
