#!/usr/bin/env bash
# Build Portico's image with podman and check it for real against this machine's PostgreSQL and Redis: /readyz, the
# allow-list, a staff and a portal login and a live subscription, all through the container, in production mode.
#
#   bash ops/container-smoke.sh          (as root: it writes /etc/containers/containers.conf and may debootstrap)
#
# Needs podman, debootstrap (only when the base image is missing), python3 and node/npm on the host, PostgreSQL on
# 127.0.0.1:5432 (trust auth) and Redis on 127.0.0.1:6379. Settings, all optional:
#   SMOKE_ROOTFS       a debootstrap rootfs to reuse for the base image (made there when missing)
#   SMOKE_BASE_IMAGE   the Python base (localhost/bookworm-python:local; made from SMOKE_ROOTFS when missing)
#   SMOKE_NODE_IMAGE   the npm image of the assets stage (localhost/bookworm-node:local; made from the host's node)
#   SMOKE_IMAGE        the image built (localhost/portico:smoke)
#   SMOKE_DATABASE     dropped, then created and migrated by the container's prestart (portico_container)
#   SMOKE_PG_USER      PostgreSQL user (postgres)       SMOKE_REDIS_URL  broadcast backend (redis://127.0.0.1:6379)
#   SMOKE_PORT         the app's port on the host network (default: a free one)
# Docker elsewhere: `docker build .` needs none of this (stock python:3.11-slim and node:22-slim).
set -euo pipefail
cd "$(dirname "$0")/.."

BASE_IMAGE=${SMOKE_BASE_IMAGE:-localhost/bookworm-python:local}
NODE_IMAGE=${SMOKE_NODE_IMAGE:-localhost/bookworm-node:local}
IMAGE=${SMOKE_IMAGE:-localhost/portico:smoke}
DATABASE=${SMOKE_DATABASE:-portico_container}
PG_USER=${SMOKE_PG_USER:-postgres}
REDIS_URL=${SMOKE_REDIS_URL:-redis://127.0.0.1:6379}
PORT=${SMOKE_PORT:-$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}
CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt
URL="http://127.0.0.1:${PORT}"
METRICS_PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
CONTAINER="portico-smoke-$$"
WORK=$(mktemp -d /tmp/portico-smoke.XXXXXX)

RUNTIME_ARGS=()
ctr() { podman "${RUNTIME_ARGS[@]}" "$@"; }
step() { printf '\n== %s\n' "$*"; }
fail() { printf 'FAILED: %s\n' "$*" >&2; exit 1; }

cleanup() {
  local status=$? name
  for name in "$CONTAINER" "$CONTAINER-explore"; do
    ctr container exists "$name" 2>/dev/null || continue
    if [ "$status" -ne 0 ]; then
      echo "--- $name: its last log lines" >&2
      ctr logs --tail 40 "$name" >&2 || true
    fi
    ctr rm -f -t 5 "$name" >/dev/null || true
    echo "container $name removed"
  done
  rm -rf "$WORK"
  [ "$status" -eq 0 ] && echo "SMOKE PASSED" || echo "SMOKE FAILED (exit $status)" >&2
}
trap cleanup EXIT

[ "$(id -u)" -eq 0 ] || fail "run as root (podman here is rootful; containers.conf and debootstrap need root)"
command -v podman >/dev/null || fail "podman is not installed (apt-get install -y podman)"

# crun (podman's default runtime) refuses to start containers under hybrid cgroups (v1 hierarchies plus a v2 one
# that holds a controller, as in this sandbox): "cgroups in hybrid mode not supported". runc runs them.
if [ "$(stat -fc %T /sys/fs/cgroup)" != cgroup2fs ] && [ -n "$(cat /sys/fs/cgroup/unified/cgroup.controllers 2>/dev/null)" ]; then
  command -v runc >/dev/null || { echo "hybrid cgroups: installing runc"; apt-get install -y -qq runc >/dev/null; }
  RUNTIME_ARGS=(--runtime runc)
fi

step "podman: no default ulimits (this sandbox refuses podman's)${RUNTIME_ARGS:+, runtime runc (hybrid cgroups)}"
python3 - <<'EOF'
import pathlib, re
conf = pathlib.Path("/etc/containers/containers.conf")
text = conf.read_text() if conf.exists() else ""
if re.search(r"^\s*default_ulimits\s*=", text, re.MULTILINE):
    print(f"{conf}: default_ulimits already set")
else:
    line = "default_ulimits = []"
    if re.search(r"^\[containers\]\s*$", text, re.MULTILINE):
        text = re.sub(r"^\[containers\]\s*$", "[containers]\n" + line, text, count=1, flags=re.MULTILINE)
    else:
        text = (text.rstrip("\n") + "\n\n" if text.strip() else "") + "[containers]\n" + line + "\n"
    conf.parent.mkdir(parents=True, exist_ok=True)
    conf.write_text(text)
    print(f"{conf}: wrote [containers] {line}")
EOF

step "base image $BASE_IMAGE"
if ctr image exists "$BASE_IMAGE"; then
  echo "present"
else
  ROOTFS=${SMOKE_ROOTFS:-/var/tmp/portico-smoke-rootfs}
  if [ ! -x "$ROOTFS/usr/bin/python3" ] || [ ! -d "$ROOTFS/usr/lib/python3.11/venv" ]; then
    command -v debootstrap >/dev/null || fail "debootstrap is not installed (apt-get install -y debootstrap)"
    echo "debootstrap bookworm into $ROOTFS (about 2 minutes)"
    rm -rf "$ROOTFS" && mkdir -p "$ROOTFS"
    debootstrap --variant=minbase --include=python3,python3-venv bookworm "$ROOTFS" >"$WORK/debootstrap.log" 2>&1 \
      || { tail -20 "$WORK/debootstrap.log" >&2; fail "debootstrap failed"; }
  else
    echo "reusing the rootfs at $ROOTFS"
  fi
  # without debootstrap's downloaded packages and apt's lists (about 95 MB nobody uses at run time)
  tar -C "$ROOTFS" --exclude='./var/cache/apt/*' --exclude='./var/lib/apt/lists/*' -c . \
    | ctr import -q - "$BASE_IMAGE" >/dev/null
  echo "imported"
fi

step "npm image $NODE_IMAGE (the host's node and npm on the base; stock builds use node:22-slim)"
if ctr image exists "$NODE_IMAGE"; then
  echo "present"
else
  NODE_BIN=$(command -v node) || fail "node is not installed on the host"
  NPM_DIR="$(npm root -g)/npm"
  [ -f "$NPM_DIR/bin/npm-cli.js" ] || fail "npm not found at $NPM_DIR"
  mkdir -p "$WORK/node"
  cp "$NODE_BIN" "$WORK/node/node"
  cp -a "$NPM_DIR" "$WORK/node/npm"
  cat >"$WORK/node/Containerfile" <<EOF
FROM $BASE_IMAGE
COPY node /usr/local/bin/node
COPY npm /usr/local/lib/node_modules/npm
RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm && node --version && npm --version
EOF
  ctr build -q -t "$NODE_IMAGE" "$WORK/node" >/dev/null
  echo "built with node $("$NODE_BIN" --version)"
fi

step "build $IMAGE"
build_start=$(date +%s)
ctr build --format docker --network host \
  --volume "$CA_BUNDLE:$CA_BUNDLE:ro" \
  --build-arg PYTHON_BASE="$BASE_IMAGE" \
  --build-arg NODE_BASE="$NODE_IMAGE" \
  --build-arg CA_BUNDLE="$CA_BUNDLE" \
  -t "$IMAGE" . >"$WORK/build.log" 2>&1 \
  || { tail -40 "$WORK/build.log" >&2; fail "ctr build failed"; }
grep -E "^(left out:|[0-9]+ GraphiQL assets checked)" "$WORK/build.log" || true
echo "built in $(( $(date +%s) - build_start )) s"
size_bytes=$(ctr image inspect --format '{{.Size}}' "$IMAGE")
echo "image size: $(( size_bytes / 1000000 )) MB ($size_bytes bytes; base $BASE_IMAGE)"
echo "image user: $(ctr image inspect --format '{{.Config.User}}' "$IMAGE")," \
  "command: $(ctr image inspect --format '{{json .Config.Cmd}}' "$IMAGE")"
echo "healthcheck: $(ctr image inspect --format '{{json .Config.Healthcheck.Test}}' "$IMAGE")"

# Production settings, as a deployment would set them (COOKIE_SECURE stays at its production default, on: the smoke
# signs in with bearer tokens; no STRIPE_SECRET_KEY: the card gateway is off). The manifest is the repository's
# plus the smoke's subscription document, mounted read-only as a team mounts its own.
python3 ops/container_smoke_client.py manifest persisted-documents.json "$WORK/manifest.json"
APP_ENV=(
  -e ENVIRONMENT=production
  -e "DATABASE_URL=postgresql://${PG_USER}@127.0.0.1:5432/${DATABASE}"
  -e "BROADCAST_URL=${REDIS_URL}"
  -e HOST=127.0.0.1 -e "PORT=${PORT}"
  -e WORKERS=2 -e DB_POOL_SIZE=5
  -e "PUBLIC_PORTAL_URL=${URL}"
  -e PERSISTED_MANIFEST=/run/portico/persisted-documents.json
  -e METRICS_ENABLED=true -e "METRICS_PORT=${METRICS_PORT}" -e METRICS_HOST=127.0.0.1
  -e PROMETHEUS_MULTIPROC_DIR=/app/.data/metrics
  -v "$WORK/manifest.json:/run/portico/persisted-documents.json:ro"
)

step "database $DATABASE: dropped (the container's prestart creates and migrates it)"
ctr run --rm --no-healthcheck --network host "$IMAGE" python -c "
import asyncio, asyncpg
async def main():
    connection = await asyncpg.connect(host='127.0.0.1', port=5432, user='${PG_USER}', database='postgres')
    await connection.execute('DROP DATABASE IF EXISTS \"${DATABASE}\" WITH (FORCE)')
    print('server:', connection.get_server_version())
    await connection.close()
asyncio.run(main())"

step "run $CONTAINER (host network, port $PORT, production)"
ctr run -d --no-healthcheck --name "$CONTAINER" --network host "${APP_ENV[@]}" "$IMAGE" >/dev/null
python3 ops/container_smoke_client.py wait "$URL" --timeout 120
echo "ready after prestart (waited for PostgreSQL, migrated)"
echo "processes (podman top):"
ctr top "$CONTAINER" user pid args | sed 's/^/  /'
app_users=$(ctr top "$CONTAINER" user | tail -n +2 | sort -u | tr '\n' ' ')
[ "$app_users" = "portico " ] || fail "the app runs as '$app_users', not only as portico"
echo "the app's processes run as: ${app_users% }"
# podman's own healthcheck timers need systemd, absent here: run the image's healthcheck command as Docker would
health_cmd=$(ctr image inspect --format '{{json .Config.Healthcheck.Test}}' "$IMAGE" \
  | python3 -c 'import json, shlex, sys; test = json.load(sys.stdin); assert test[0] == "CMD"; print(shlex.join(test[1:]))')
eval "ctr exec $CONTAINER $health_cmd" && echo "healthcheck (the image's command, in the container): healthy" \
  || fail "the image's healthcheck failed"

step "seed-demo (a one-off container, as \`docker compose run --rm app python app.py seed-demo\`)"
ctr run --rm --no-healthcheck --network host "${APP_ENV[@]}" "$IMAGE" python app.py seed-demo >"$WORK/seed.log" 2>&1 \
  || { tail -20 "$WORK/seed.log" >&2; fail "seed-demo failed"; }
echo "seeded"

step "checks through the container (client: a throwaway container of the image, $URL)"
ctr run --rm --no-healthcheck --network host \
  -v "$PWD/ops/container_smoke_client.py:/smoke/client.py:ro" \
  -v "$WORK/manifest.json:/smoke/manifest.json:ro" \
  "$IMAGE" python /smoke/client.py check "$URL" /smoke/manifest.json --metrics "http://127.0.0.1:${METRICS_PORT}"

step "explore settings (GRAPHIQL=true INTROSPECTION=true PERSISTED_ONLY=false, compose's app-explore)"
EXPLORE_PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
ctr run -d --no-healthcheck --name "$CONTAINER-explore" --network host "${APP_ENV[@]}" \
  -e "PORT=$EXPLORE_PORT" -e GRAPHIQL=true -e INTROSPECTION=true -e PERSISTED_ONLY=false -e MAIL_WORKER=false \
  -e WORKERS=1 "$IMAGE" >/dev/null
python3 ops/container_smoke_client.py wait "http://127.0.0.1:$EXPLORE_PORT" --timeout 120
python3 ops/container_smoke_client.py explore "http://127.0.0.1:$EXPLORE_PORT"

step "docker-compose.yml (no Docker here: ops/check-compose.py, in the image, which has PyYAML)"
ctr run --rm --no-healthcheck -v "$PWD:/src:ro" "$IMAGE" python /src/ops/check-compose.py /src/docker-compose.yml

step "app log: errors"
errors=$( (ctr logs "$CONTAINER"; ctr logs "$CONTAINER-explore") 2>&1 | grep -c -E '"level": ?"(error|critical)"|Traceback' || true)
echo "$errors error lines in the two app containers' logs"
[ "$errors" -eq 0 ] || { (ctr logs "$CONTAINER"; ctr logs "$CONTAINER-explore") 2>&1 | grep -E -A5 '"level": ?"(error|critical)"|Traceback' | head -40 >&2; fail "the app logged errors"; }
