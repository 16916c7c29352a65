"""The Kafka client adapters: the only code that imports confluent_kafka."""
