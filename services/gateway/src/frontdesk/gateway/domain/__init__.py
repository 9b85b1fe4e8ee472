"""The gateway's rules, without a database or the web:

- ``tenants``: the Tenant (name, slug, country, language, currency, zone, seller).
- ``accounts``: staff Users (who may invite and change whom) and CustomerAccounts.
- ``sessions``: login sessions (refresh token families), rotation and reuse detection.
- ``secrets``: one-time secrets (refresh tokens, invitation, reset and sign-in links).
- ``passwords``: the password rule.
- ``keys``: when a signing key is rotated and how long a retired one is published.
- ``webhooks``: endpoints (which URLs, which events) and the retry schedule of deliveries.
- ``edge``: which service owns a path, the merged OpenAPI document, rate-limit verdicts.
"""
