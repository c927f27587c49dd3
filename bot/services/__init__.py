"""Read and write services every surface calls (ids and records in, records out; no Discord)."""
