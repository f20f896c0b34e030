"""Digests: editions (which week, which window), assembly (who gets which articles), rendering."""
