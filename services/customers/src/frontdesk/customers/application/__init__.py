"""The customers service's commands and queries: ``(uow, principal, input) -> result``.
The only place that loads, calls the domain, saves and publishes; HTTP routes and event
handlers both call it. A command that changes state ends with ``uow.commit()``."""
