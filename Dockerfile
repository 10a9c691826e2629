# syntax=docker/dockerfile:1
# Build: docker build -t recipient-inventory .
# Run:   docker run -p 8000:8000 -e DATABASE_URL=postgres://user:pass@db:5432/inventory \
#          -e ADMIN_TOKEN_FILE=/run/secrets/admin-token -v ./admin-token:/run/secrets/admin-token:ro \
#          recipient-inventory
# The build stage's steps are docker/install.sh, and the start is docker/entrypoint.sh:
# tests/test_container.py reads this file and runs both in a fresh virtualenv (`make lint-docker`
# lints it).

FROM python:3.11-slim AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONDONTWRITEBYTECODE=1 UV=/opt/uv/bin/uv
# uv installs; it stays in this stage, in a virtualenv of its own.
RUN python -m venv /opt/uv && /opt/uv/bin/pip install --no-cache-dir "uv==0.13.9"
WORKDIR /app
COPY requirements-runtime.lock docker/install.sh ./
# The runtime dependencies only (no test tools), from their own hashed lock.
RUN ./install.sh dependencies /opt/venv
COPY pyproject.toml README.md ./
COPY server ./server
RUN ./install.sh service /opt/venv

FROM python:3.11-slim AS runtime
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    HOST=0.0.0.0 \
    PORT=8000 \
    INVENTORY_ENV=production \
    DATABASE_URL=sqlite:///data/inventory.sqlite3
# A numeric user, so that an orchestrator can tell it is not root (runAsNonRoot).
RUN groupadd --system --gid 10001 inventory \
    && useradd --system --uid 10001 --gid inventory --home-dir /app --no-create-home inventory \
    && mkdir -p /data && chown inventory:inventory /data
COPY --from=build /opt/venv /opt/venv
COPY fixtures /app/fixtures
COPY docker/entrypoint.sh /app/entrypoint.sh
WORKDIR /app
USER 10001:10001
EXPOSE 8000
VOLUME ["/data"]
# /readyz, not /healthz: ready only while the database answers (503 otherwise).
HEALTHCHECK --interval=30s --timeout=3s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/readyz' % os.environ.get('PORT', '8000'), timeout=2)"]
# serve: migrate under the migration lock, then serve (docker/entrypoint.sh); any other command
# runs as given.
ENTRYPOINT ["/app/entrypoint.sh"]
CMD ["serve"]
