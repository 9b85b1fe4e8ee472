from pydantic import Field

from frontdesk.kit.settings import Settings


class CustomersSettings(Settings):
    # The summaries follow other services' events a little behind (never on a booking's
    # path): a run of events waits up to this long to be handled together (C5).
    consumer_linger_ms: int = Field(default=100, ge=0, le=5_000)
    # Region used to read phone numbers written without a country code.
    default_region: str = "GB"
    # The zone local times are written in (the CSV export) for a tenant whose own settings
    # have not arrived from the gateway (identity.tenant.changed) yet.
    time_zone: str = "UTC"
    # CSV imports (C17): rows per transaction, and how often the worker looks for work.
    import_chunk_rows: int = Field(default=500, ge=1, le=5000)
    import_poll_seconds: float = Field(default=1.0, gt=0)
    # How often the worker folds the statistics' pending changes into the counters.
    stats_fold_seconds: float = Field(default=5.0, gt=0)
    # How long a merge can be undone (C13).
    merge_undo_days: int = Field(default=30, ge=0, le=3650)
