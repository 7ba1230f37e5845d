"""driftloop's monitor service."""
