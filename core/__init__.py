"""Cross-cutting basics shared by every package: settings, domain errors, logging."""
