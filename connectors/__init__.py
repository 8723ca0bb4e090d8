"""Listening Path connectors: one module per source kind, and a registry.

A connector knows one kind of source. Given its config and the last cursor it
yields `Batch`es of `RawItem`s plus the next cursor. It knows nothing of the
database, the NLP pipeline or the web service (DESIGN.md's dependency rule).

    contract.py      the contract: RawItem, RejectedRecord, Batch, ConnectorConfig,
                     Connector (kind, channel, config_model, capabilities, fetch)
    files.py         FileConnector: the shared file handling of every file kind
    filetext.py      a file's bytes as text in bounded memory: survey pass, decode pass
    http.py          HttpConnector: requests, retries, backoff, rate limits, paginators
    secrets.py       tokens and header values from the environment or files (SecretStr)
    base.py          the contract and the file machinery under their old import path
    errors.py        every connector exception, by what the caller can do
    registry.py      kind -> class (built-ins + entry-point plugins), describe()
    parsing.py       timestamps, scores, CSV/JSON rows, front matter
    html_text.py     HTML -> plain text (stdlib html.parser)
    survey_file.py   survey exports              (channel "survey")
    social_export.py Mastodon statuses exported  (channel "social")
    call_notes.py    call notes and transcripts  (channel "call")
    ethnography.py   field and interview notes   (channel "ethnography")
    mastodon.py      Mastodon's live API         (channel "social")
    rss.py           RSS 2.0 / Atom feeds        (channel "review")
    typeform.py      Typeform's Responses API    (channel "survey")
    zendesk.py       Zendesk's ticket export     (channel "ticket")
    rest.py          any JSON API, by config     (channel "review" or configured)
    push.py          records posted to the API   (channel "web" or configured)
    testing/         the standard suite, a fake HTTP server, fake vendor APIs
"""
