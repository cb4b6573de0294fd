"""Services that talk to the outside world: Google's APIs, Cloud Storage, the OS keyring.

Qt-free and blocking: every call takes a timeout, long operations take a
:class:`~gemtune_desktop.core.cancel.CancelToken`. The Qt layer runs them on worker threads.
google-genai and google-cloud-storage are imported inside functions, never at module
level, so the window opens before they load.
"""
