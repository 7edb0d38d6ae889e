"""Who may do what: OAuth2 clients, signed tokens, scopes, the HTTP guards (authentication,
rate limits), what a caller may see of a report (privacy) and the audit chain."""
