"""Listening Path connectors: one module per source kind, and a registry.

A connector knows one kind of source. Given its config and the last cursor it
yields `Batch`es of `RawItem`s plus the next cursor. It knows nothing of the
database, the NLP pipeline or the web service (DESIGN.md's dependency rule).

    base.py          the contract (RawItem, RejectedRecord, Batch, Connector) and
                     FileConnector, the shared file handling of every file kind
    errors.py        every connector exception, by what the caller can do
    registry.py      kind -> class (built-ins + entry-point plugins), describe()
    parsing.py       timestamps, scores, CSV/JSON rows, front matter
    html_text.py     HTML -> plain text (stdlib html.parser)
    survey_file.py   survey exports              (channel "survey")
    social_export.py Mastodon statuses           (channel "social")
    call_notes.py    call notes and transcripts  (channel "call")
    ethnography.py   field and interview notes   (channel "ethnography")
"""
