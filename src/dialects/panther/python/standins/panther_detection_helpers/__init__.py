"""oktopus stand-in for Panther's panther_detection_helpers (see caching)."""
