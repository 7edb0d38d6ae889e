"""The sync path: outbox relay, event bus (Kafka or in-process), node sinks, subscriptions."""
