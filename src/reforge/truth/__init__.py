"""Ground truth read from debug binaries and sources, for scoring and tiers only."""
