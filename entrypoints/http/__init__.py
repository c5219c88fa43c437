"""The HTTP service: a small Starlette app over the box office (see ``app.create_app``)."""
