"""The local web page: app.py serves it (:mod:`srgan.web.server`), jobs run in the background."""
