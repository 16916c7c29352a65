"""Health and metrics: one verdict (UP, DEGRADED, DOWN) over the cluster and topics.yaml."""
