"""driftloop's feature service: feature vectors per validated data event, and the offline store."""
