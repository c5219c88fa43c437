"""The HTTP framework the routes are written in: operations and their gate, request shapes
and answers, errors, idempotency, middleware, the OpenAPI document, the request threads."""
