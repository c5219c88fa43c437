# The box office's image: every command of `cinema` (compose.yaml runs serve, worker, migrate).
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md LICENSE ./
COPY cinema_core cinema_core
COPY adapters adapters
COPY entrypoints entrypoints
RUN pip install --no-cache-dir '.[otel]' && useradd --system --no-create-home cinema
USER cinema
EXPOSE 8000
CMD ["cinema", "serve", "--host", "0.0.0.0"]
