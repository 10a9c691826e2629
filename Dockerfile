# syntax=docker/dockerfile:1
# Build: docker build -t recipient-inventory .
# Run:   docker run -p 8000:8000 -e DATABASE_URL=postgres://user:pass@db:5432/inventory recipient-inventory

FROM python:3.11-slim AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONDONTWRITEBYTECODE=1
WORKDIR /app
RUN python -m venv /opt/venv && /opt/venv/bin/pip install --no-cache-dir "uv==0.13.9"
COPY requirements.lock ./
# Runtime and dev pins come from one lock; hashes are checked.
RUN /opt/venv/bin/uv pip sync --python /opt/venv/bin/python --require-hashes requirements.lock
COPY pyproject.toml README.md ./
COPY server ./server
RUN /opt/venv/bin/uv pip install --python /opt/venv/bin/python --no-deps . \
    && /opt/venv/bin/pip uninstall -y uv

FROM python:3.11-slim AS runtime
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    HOST=0.0.0.0 \
    PORT=8000 \
    INVENTORY_ENV=production \
    DATABASE_URL=sqlite:///data/inventory.sqlite3
RUN groupadd --system inventory && useradd --system --gid inventory --home /app inventory \
    && mkdir -p /data && chown inventory:inventory /data
COPY --from=build /opt/venv /opt/venv
COPY fixtures /app/fixtures
WORKDIR /app
USER inventory
EXPOSE 8000
VOLUME ["/data"]
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s --retries=3 \
    CMD python -c "import os,urllib.request,sys; urllib.request.urlopen(f'http://127.0.0.1:{os.environ.get(\"PORT\",\"8000\")}/healthz', timeout=2); sys.exit(0)"
# Migrations first (idempotent), then the server.
CMD ["sh", "-c", "python -m server migrate && exec python -m server serve"]
