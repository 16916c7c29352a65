"""Topics as code: topics.yaml (desired), the plan, applying it, and its renderings."""
