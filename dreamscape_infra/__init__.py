"""dreamscape-infra: Kafka for the DreamScape microservices."""

from __future__ import annotations

__version__ = "0.1.0"
