"""Storage: every table, the engine and the migrations."""
