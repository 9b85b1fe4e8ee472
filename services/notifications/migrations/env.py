from frontdesk.kit.migrations import run_env
from frontdesk.notifications.adapters.tables import metadata

run_env(metadata)
