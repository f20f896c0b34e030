"""Readers: subscribe, confirm, preferences, unsubscribe."""
