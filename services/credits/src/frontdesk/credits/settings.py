from frontdesk.kit.settings import Settings


class CreditsSettings(Settings):
    # How often the worker sweeps for expired packages and memberships.
    expiry_sweep_seconds: float = 60.0
    # Currency assumed when a product or grant names none.
    default_currency: str = "EUR"
