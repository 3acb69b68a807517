"""hicra package (filled in by its issue)."""
