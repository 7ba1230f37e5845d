"""driftloop's ingestion service: raw events in, validated events or dead letters out."""
