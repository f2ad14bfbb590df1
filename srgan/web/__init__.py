"""The local web page of ``app.py``: the Flask server, its job queue, its static files."""
