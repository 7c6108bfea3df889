"""Estimate mutations (staff): create, update, send."""
