from frontdesk.kit.settings import Settings


class CustomersSettings(Settings):
    # Region used to read phone numbers written without a country code.
    default_region: str = "GB"
