"""The label verification service (Flask application factory)."""

from __future__ import annotations

import logging
import os
from typing import Any, Mapping

from flask import Flask, Response
from werkzeug.middleware.proxy_fix import ProxyFix

from verify_service import config as config_module


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Build the application: defaults, then the environment, then ``test_config``."""
    app = Flask(__name__, instance_relative_config=True)
    app.config.from_mapping(config_module.defaults(app.instance_path))
    app.config.from_mapping(config_module.from_environment())
    if test_config:
        app.config.from_mapping(test_config)
    os.makedirs(app.instance_path, exist_ok=True)
    app.config.setdefault("MAX_CONTENT_LENGTH", 4 * 1024 * 1024)
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.json.sort_keys = False  # type: ignore[attr-defined]
    logging.basicConfig(level=app.config["LOG_LEVEL"], format="%(asctime)s %(levelname)s %(name)s %(message)s")
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)

    from verify_service import auth, db, errors, metrics, ratelimit
    from verify_service.clock import SystemClock

    app.extensions["clock"] = app.config.get("CLOCK") or SystemClock()
    db.init_app(app)
    errors.register_error_handlers(app)
    metrics.init_app(app)
    auth.init_app(app)
    ratelimit.init_app(app)

    @app.after_request
    def _commit_point(response: Response) -> Response:
        # The one commit point of a request: success commits, any error status rolls back.
        if response.status_code < 400:
            db.commit()
        else:
            db.rollback()
        return response

    from verify_service.api import admin, consumer, enterprise, labels, meta, offline, public, regulator

    for bp in (meta.bp, public.bp, consumer.bp, offline.bp, admin.bp, enterprise.bp, labels.bp, regulator.bp):
        app.register_blueprint(bp)

    from verify_service.cli import register_commands

    register_commands(app)

    if app.config["VERIFY_FAST_PATH"] and not ratelimit.limits_every_route(app):
        from verify_service.fast_verify import FastVerify

        app.wsgi_app = FastVerify(app, app.wsgi_app)  # type: ignore[method-assign]
    app.extensions["warm_up"] = lambda: _warm_up(app)
    if app.config["TRUSTED_PROXIES"]:  # outermost: everything inside sees the client's address
        n = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)  # type: ignore[method-assign]
    return app


#: How long a new worker waits for its warm-up before it serves anyway (a database that
#: does not answer must not keep it from serving; the warm-up goes on beside the requests).
WARM_UP_SECONDS = 10.0


def _warm_up(app: Flask) -> None:
    """Load what every scan needs before the first one comes (gunicorn.conf.py calls this in
    each new worker). A database that is not ready yet is left to the first scan."""
    import logging
    import threading

    from verify_service.services import verification

    log = logging.getLogger(__name__)

    def warm() -> None:
        try:
            with app.app_context():
                verification.warm_up()
        except Exception:  # noqa: BLE001 - the first scan loads it instead, and reports what fails
            log.warning("warming up the scan path failed", exc_info=True)

    thread = threading.Thread(target=warm, name="warm-up", daemon=True)
    thread.start()
    thread.join(WARM_UP_SECONDS)
    if thread.is_alive():
        log.warning("warming up the scan path took over %g s; serving meanwhile", WARM_UP_SECONDS)
