"""Kafka side of the streaming path: the MSK Connect S3 sink configuration
(connector.json, worker.properties), the sales event model and the producer."""
