"""The bottom layer: records, facts, subjects, series and states as plain data."""
