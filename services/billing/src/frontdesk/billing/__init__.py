"""Frontdesk billing service."""
