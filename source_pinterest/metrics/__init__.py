"""The metrics streams' knowledge: their spec tables, schemas built from the column lists, date windows, async report
jobs."""
