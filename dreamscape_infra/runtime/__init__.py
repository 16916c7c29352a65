"""Ways to run the Kafka stack: docker compose, or local JVM processes. See `base.StackRuntime`."""
