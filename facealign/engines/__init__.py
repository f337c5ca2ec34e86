"""Execution engines for batch jobs beyond one machine's process pool (facealign.batch is the local engine)."""
