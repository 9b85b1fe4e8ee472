"""Frontdesk runtime shared by every service."""
