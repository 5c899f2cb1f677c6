"""WSGI entry point: `gunicorn wsgi:app` and `flask run` find `app` here."""

from kb.api import create_app

app = create_app()
