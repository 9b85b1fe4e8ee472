from pydantic import Field

from frontdesk.kit.settings import Settings


class CustomersSettings(Settings):
    # Region used to read phone numbers written without a country code.
    default_region: str = "GB"
    # How often the worker folds the statistics' pending changes into the counters.
    stats_fold_seconds: float = Field(default=5.0, gt=0)
