from frontdesk.kit.migrations import run_env
from frontdesk.scheduling.adapters.tables import metadata

run_env(metadata)
