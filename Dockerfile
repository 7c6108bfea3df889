# syntax=docker/dockerfile:1
# Portico's image: a prestart that waits for PostgreSQL and applies migrations, then `python app.py serve`
# (WORKERS uvicorn workers), as the unprivileged user `portico`. Configuration comes from the environment
# (docker-compose.yml, docs/deploying.md). Healthcheck: /readyz.
#
# Build arguments (defaults: the stock images):
#   PYTHON_BASE       the Python 3.11 base of the build and runtime stages (python:3.11-slim); any Debian-like
#                     image with python3 -m venv, useradd and sh works (ops/container-smoke.sh uses a debootstrap one)
#   NODE_BASE         the image that runs `npm ci` for GraphiQL's assets (node:22-slim); any image with npm
#   EXCLUDE_PACKAGES  project dependencies left out of the image (space-separated names): pgserver is the embedded
#                     PostgreSQL for machines without a server, never used when DATABASE_URL is set
#   CA_BUNDLE         path of a CA bundle pip and npm should trust, for a build behind a TLS-inspecting proxy (the
#                     file itself is mounted into the build: `podman build --volume`); default: none, the base's own
ARG PYTHON_BASE=python:3.11-slim
ARG NODE_BASE=node:22-slim

# --- GraphiQL's assets, exactly as pinned in package-lock.json (runtime packages only) ---
FROM ${NODE_BASE} AS node-modules
ARG CA_BUNDLE=""
WORKDIR /build
COPY package.json package-lock.json ./
RUN if [ -n "$CA_BUNDLE" ]; then export NODE_EXTRA_CA_CERTS="$CA_BUNDLE"; fi \
    && npm ci --omit=dev --no-audit --no-fund --loglevel=error

# --- Python dependencies in a virtualenv (the app itself runs from /app, not from site-packages) ---
FROM ${PYTHON_BASE} AS python-deps
ARG EXCLUDE_PACKAGES="pgserver"
ARG CA_BUNDLE=""
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /build
COPY pyproject.toml ./
# pyproject's [project] dependencies, minus EXCLUDE_PACKAGES (the dev extra is never installed here)
RUN if [ -n "$CA_BUNDLE" ]; then export PIP_CERT="$CA_BUNDLE"; fi \
    && python3 -c "import os, re, tomllib; \
skip = set(os.environ.get('EXCLUDE_PACKAGES', '').lower().split()); \
deps = tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']; \
name = lambda spec: re.split(r'[\s\[<>=!~;]', spec, maxsplit=1)[0].lower().replace('_', '-'); \
open('requirements.txt', 'w').write(''.join(d + '\n' for d in deps if name(d) not in skip)); \
print('left out:', sorted(name(d) for d in deps if name(d) in skip))" \
    && python3 -m venv /opt/venv \
    && /opt/venv/bin/pip install -r requirements.txt \
    && for excluded in $EXCLUDE_PACKAGES; do \
        if /opt/venv/bin/pip show -q "$excluded" 2>/dev/null; then echo "$excluded came in through another dependency" >&2; exit 1; fi; \
    done \
    && /opt/venv/bin/pip uninstall -q -y setuptools pip  # installers only: nothing installs at run time

# --- only the files GraphiQL's page loads (core/graphiql.py's ASSETS), each checked against its pinned SRI ---
FROM python-deps AS graphiql-assets
WORKDIR /src
COPY core ./core
COPY --from=node-modules /build/node_modules ./node_modules
RUN /opt/venv/bin/python -c "import base64, hashlib, shutil, sys; \
from core.graphiql import ASSETS, NODE_MODULES; \
from pathlib import Path; \
out = Path('/out/node_modules'); \
check = lambda a: a.integrity == 'sha384-' + base64.b64encode(hashlib.sha384(a.file.read_bytes()).digest()).decode(); \
bad = [a.path for a in ASSETS.values() if not check(a)]; \
bad and sys.exit(f'GraphiQL assets differ from their pinned integrity: {bad}'); \
[(out / a.path).parent.mkdir(parents=True, exist_ok=True) or shutil.copy2(a.file, out / a.path) for a in ASSETS.values()]; \
print(len(ASSETS), 'GraphiQL assets checked')"

# --- runtime ---
FROM ${PYTHON_BASE}
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
COPY --from=graphiql-assets /out/node_modules ./node_modules
# The code stays owned by root (read-only to the app); only .data (outbox fallback) is writable.
COPY . .
RUN python -m compileall -q core models schema resolvers subscriptions services migrations app.py \
    && mkdir -p .data/metrics && chown -R portico:portico .data
USER portico
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen(f\"http://127.0.0.1:{os.environ.get('PORT', '8000')}/readyz\", timeout=4)"]
# WORKERS sets the worker count (default: the cores the container sees; pin it so WORKERS x DB_POOL_SIZE stays
# within PostgreSQL's max_connections: docs/deploying.md).
CMD ["sh", "-c", "python -m services.prestart && exec python app.py serve --workers \"${WORKERS:-$(nproc)}\""]
