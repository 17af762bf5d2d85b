"""Push to the national agri-product traceability platform: outbox, worker, simulator.

Business code only calls :func:`verify_service.push.outbox.emit`; everything the platform's
interface dictates (record fields, signing, the HTTP client) lives in :mod:`.platform`.
"""
