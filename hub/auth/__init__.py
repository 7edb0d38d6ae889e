"""Who is calling: OAuth2 client credentials, signed tokens, scopes and principals."""
