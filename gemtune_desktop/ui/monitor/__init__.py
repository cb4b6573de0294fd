"""The Monitor tab (start at :mod:`.tab`): the jobs list, a job's details and advice, and its loss plot."""
