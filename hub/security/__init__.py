"""Who may do what: OAuth2 clients, signed tokens, scopes, the HTTP guards (authentication,
rate limits), what a caller may see of a report (privacy), the audit chain, and the
people who log in (accounts, sessions, CSRF, the login page)."""
