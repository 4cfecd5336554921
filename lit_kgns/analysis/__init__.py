"""Reading results: the tables of many runs beside the published numbers."""
