"""Commands and queries (``(uow, principal, input) -> result``) and the handlers of other
services' events: the only place that loads, decides through the domain, saves,
publishes and commits. ``dispatch`` is the sender worker."""
