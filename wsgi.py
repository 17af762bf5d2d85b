"""WSGI entry point: ``gunicorn -c gunicorn.conf.py wsgi:app``."""

from verify_service import create_app

app = create_app()
