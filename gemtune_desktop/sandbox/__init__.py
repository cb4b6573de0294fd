"""The Sandbox: an offline emulator of the Gemini API and Agent Platform endpoints the app uses.

It serves real HTTP on 127.0.0.1 so the real google-genai SDK, the app's own REST calls and
google-cloud-storage talk to it exactly as they would talk to Google (see
``shared/docs/gemini-reference.md``). Training is simulated in real time; tuned models answer
with the output of the most similar training example and say that they are a simulation.

Modules: :mod:`.server` (``SandboxServer``), :mod:`.runtime` (the in-app singleton),
:mod:`.cli` (``gemtune-desktop sandbox``); the routes live in ``routes_*``, the simulation in
:mod:`.training`, :mod:`.datasets` and :mod:`.generation`.
"""
