from frontdesk.gateway.adapters.tables import metadata
from frontdesk.kit.migrations import run_env

run_env(metadata)
