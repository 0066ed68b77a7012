"""The serkit service: a FastAPI app with the REST API and the web page.

``serkit serve`` runs it with uvicorn; :func:`create_app` builds it for embedding or tests.

Examples
--------
>>> from serkit.service import create_app
>>> callable(create_app)
True
"""

from serkit.service.app import create_app

__all__ = ["create_app"]
