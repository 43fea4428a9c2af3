"""The core every check shares: errors, validated parameters, run configuration, results."""
