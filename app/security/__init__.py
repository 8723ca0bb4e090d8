"""Who may do what: API keys with scopes, the access rules of every route, the
audit log, and the guards that keep a bad request a clear 4xx."""
