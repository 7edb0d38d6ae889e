"""GraphiQL as the hub serves it, from copies inside the package (no CDN)."""
