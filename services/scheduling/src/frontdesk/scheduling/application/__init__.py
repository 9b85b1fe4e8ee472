"""Scheduling's commands and queries: functions ``(uow, principal, plain input)`` that
load through the repositories, call the domain, save and publish. The HTTP routes and
the event handlers both call them; a command that changes state commits."""
