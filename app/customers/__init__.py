"""Customers as people with rights: erasure on request, retention by age."""
