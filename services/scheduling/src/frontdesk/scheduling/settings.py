from frontdesk.kit.settings import Settings


class SchedulingSettings(Settings):
    # A booking still pending after this many seconds is rejected and its seat freed.
    saga_timeout_seconds: float = 30.0
    # Bookings of one tenant awaiting their payment step beyond which a new one is refused
    # (503 + Retry-After) instead of queueing without bound behind a rush.
    saga_backlog_limit: int = 300
    # How often the worker looks for timed-out bookings.
    saga_sweep_seconds: float = 1.0
    # How often the worker grows open-ended series (they are made half a year ahead).
    series_grow_seconds: float = 3600.0
    # Free cancellation until this many hours before the start (a tenant may set its own).
    free_cancel_hours: int = 24
    # The longest `Prefer: wait=N` honoured on POST /v1/bookings.
    max_prefer_wait_seconds: float = 10.0
