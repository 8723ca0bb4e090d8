"""Listening Path connectors: one module per source kind, and a registry.

A connector knows one kind of source. Given its config and the last cursor it
yields `Batch`es of `RawItem`s plus the next cursor. It knows nothing of the
database, the NLP pipeline or the web service (DESIGN.md's dependency rule).
"""
