"""Listening Path NLP: text in, `Enrichment` out.

This package knows nothing of the database, the connectors or the web service
(DESIGN.md's dependency rule); `app` drives it through `Enricher`.
"""
