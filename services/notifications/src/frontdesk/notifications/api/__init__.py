"""HTTP: routers that parse, authorize, call ``application`` and shape the answer."""
