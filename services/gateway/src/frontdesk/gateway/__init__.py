"""Frontdesk gateway service."""
