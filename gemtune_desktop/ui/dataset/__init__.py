"""The Dataset tab (start at :mod:`.tab`): the table of examples, its side panels, edits, files, import and export."""
