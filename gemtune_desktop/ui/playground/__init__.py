"""The Test tab (start at :mod:`.tab`; shown as "Test"): the console, its history, and batch evaluation."""
