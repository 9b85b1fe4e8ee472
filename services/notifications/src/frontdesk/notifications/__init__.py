"""Frontdesk notifications service."""
