# syntax=docker/dockerfile:1
# Portico's image: `python app.py serve` (one uvicorn worker per core) after a prestart that waits for
# PostgreSQL and applies migrations. Configuration comes from the environment (see docker-compose.yml).

# --- GraphiQL's assets, exactly as pinned in package-lock.json (runtime packages only) ---
FROM node:22-slim AS assets
WORKDIR /build
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund --loglevel=error

# --- Python dependencies in a virtualenv (the app itself runs from /app, not from site-packages) ---
FROM python:3.11-slim AS python-deps
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /build
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > requirements.txt \
    && python -m venv /opt/venv \
    && /opt/venv/bin/pip install -r requirements.txt

# --- runtime ---
FROM python:3.11-slim
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    ENVIRONMENT=production \
    HOST=0.0.0.0 \
    PORT=8000
RUN groupadd --system portico \
    && useradd --system --gid portico --home-dir /app --no-create-home --shell /usr/sbin/nologin portico
WORKDIR /app
COPY --from=python-deps /opt/venv /opt/venv
COPY --from=assets /build/node_modules ./node_modules
# The code stays owned by root (read-only to the app); only .data (outbox fallback) is writable.
COPY . .
RUN python -m compileall -q core models schema resolvers subscriptions services migrations app.py \
    && mkdir -p .data && chown portico:portico .data
USER portico
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen(f\"http://127.0.0.1:{os.environ.get('PORT', '8000')}/healthz\", timeout=4)"]
# WORKERS overrides the worker count (default: the number of cores).
CMD ["sh", "-c", "python -m services.prestart && exec python app.py serve --workers \"${WORKERS:-$(nproc)}\""]
