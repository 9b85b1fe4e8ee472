"""Money at the edges: amounts in integer minor units, currencies as ISO 4217 codes."""

from __future__ import annotations

from typing import Annotated

import pycountry
from pydantic import AfterValidator, Field

# In ISO 4217 but never a price: "no currency" and the testing code.
NOT_FOR_PRICES = frozenset({"XXX", "XTS"})


def known_currency(code: str) -> str:
    if code in NOT_FOR_PRICES or pycountry.currencies.get(alpha_3=code) is None:
        raise ValueError(f"{code} is not an ISO 4217 currency code")
    return code


CurrencyCode = Annotated[
    str,
    Field(pattern=r"^[A-Z]{3}$", description="ISO 4217 code, e.g. EUR"),
    AfterValidator(known_currency),
]
