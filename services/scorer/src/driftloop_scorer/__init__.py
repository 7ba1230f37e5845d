"""driftloop's scorer service."""
