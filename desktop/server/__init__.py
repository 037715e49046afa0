"""EdgeChat as an OpenAI-compatible server (``edgechat serve``, and the window's Server switch).

Qt-free. ``app.create_app(backend)`` is the HTTP API over a ``backend.Backend``;
``backend.EngineBackend`` owns an engine headless, and the window bridges its engine worker to the
same protocol in desktop/workers/server_bridge.py. ``runner`` runs it with uvicorn. Nothing is
imported here, so the command line starts without loading the server stack.
"""
