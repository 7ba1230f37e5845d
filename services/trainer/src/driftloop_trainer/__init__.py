"""driftloop's trainer service."""
