"""Scheduling's rules, free of HTTP and SQL: sessions (classes and events) with their
seats, bookings and their saga states, appointments, staff working hours, time zones,
calendar feeds. Aggregates change their own state, raise the kit's domain errors and
record the events their changes cause; the application layer saves and publishes them.
"""
