"""driftloop's registry service: specs, model versions, lineage, runs, aliases, audit."""
