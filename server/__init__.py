"""Recipient Inventory: who gets this user's data, and why."""
