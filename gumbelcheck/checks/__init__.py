"""The checks: each combines a sampler, the block engine and a statistical test."""
