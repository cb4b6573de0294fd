"""Qt glue without widgets: worker threads, typed settings, the app context, item models, undo."""
