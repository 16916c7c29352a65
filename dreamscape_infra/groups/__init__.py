"""Consumer groups: which groups exist, how far behind each is, and moving their offsets."""
