"""Data quality of a run: every input row reconciled per table and source file."""
