"""The gateway: one front door (routing, merged OpenAPI, rate limits), identity (tenants,
staff and customer accounts, logins, JWKS) and outgoing webhooks."""
