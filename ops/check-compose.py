"""Check docker-compose.yml without Docker: its structure, and the rules docs/deploying.md states for it.

    python3 ops/check-compose.py [docker-compose.yml]      (needs PyYAML: the project's .venv, or python3-yaml)

What it checks, for the file as shipped (no .env: every ${VAR:-default} takes its default) and, when it exists, with
the .env beside it:
- the YAML parses, top-level and service keys are Compose's, every dependency, volume and bind-mount source exists;
- every image is pinned to an exact version (no `latest`, no bare major);
- every app setting is one core/settings.py knows (a misspelt one would be silently ignored);
- production: allow-list, GraphiQL and introspection are coherent (GraphiQL on needs introspection on and the
  allow-list off), SIMULATED_PAYMENTS and COOKIE_SECURE=false are absent, a Stripe key comes with its webhook
  secret, WORKERS is pinned;
- the connection budget: the sum of WORKERS x (DB_POOL_SIZE + DB_MAX_OVERFLOW) over every app service (all profiles)
  plus a reserve stays under PostgreSQL's max_connections.
Prints what it found and exits 1 on the first list of problems.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
TOP_LEVEL = {"name", "services", "volumes", "networks", "configs", "secrets", "include", "version"}
SERVICE_KEYS = {
    "build",
    "image",
    "command",
    "entrypoint",
    "environment",
    "env_file",
    "ports",
    "expose",
    "volumes",
    "depends_on",
    "healthcheck",
    "restart",
    "profiles",
    "networks",
    "user",
    "working_dir",
    "labels",
    "deploy",
    "pull_policy",
    "secrets",
    "configs",
    "stop_grace_period",
    "ulimits",
    "logging",
    "init",
    "read_only",
    "tmpfs",
    "cap_drop",
    "cap_add",
    "security_opt",
    "extra_hosts",
    "container_name",
    "hostname",
    "shm_size",
}
RESERVE = 25  # one-off containers (run --rm), the prestart's migration lock, psql, a restart's overlap
PINNED = re.compile(r"^[\w./-]+:v?\d+\.\d+(\.\d+)?([-.][\w.]+)?$")
VARIABLE = re.compile(r"\$\{(\w+)(?:(:?[-?])([^}]*))?\}|\$(\w+)")
TRUE = {"true", "1", "yes", "on"}


def interpolate(value: Any, env: dict[str, str], problems: list[str], where: str) -> Any:
    """Compose's ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?error}, ${VAR?error} over ``env``."""
    if isinstance(value, dict):
        return {k: interpolate(v, env, problems, f"{where}.{k}") for k, v in value.items()}
    if isinstance(value, list):
        return [interpolate(v, env, problems, f"{where}[{i}]") for i, v in enumerate(value)]
    if not isinstance(value, str):
        return value

    def replace(match: re.Match[str]) -> str:
        name, op, arg = match.group(1) or match.group(4), match.group(2), match.group(3) or ""
        current = env.get(name)
        if op in (":-", "-"):
            use_default = current is None or (op == ":-" and current == "")
            return arg if use_default else current  # type: ignore[return-value]
        if op in (":?", "?") and (current is None or (op == ":?" and current == "")):
            problems.append(f"{where}: ${{{name}}} is required: {arg}")
            return ""
        return current or ""

    return VARIABLE.sub(replace, value.replace("$$", "\0")).replace("\0", "$")


def setting_names() -> set[str]:
    """The environment names core/settings.py reads (its fields, upper-cased)."""
    source = (ROOT / "core" / "settings.py").read_text()
    body = source[source.index("class Settings(") :]
    names = {name.upper() for name in re.findall(r"^    (\w+): [^=\n]+(?:=|$)", body, re.MULTILINE)}
    return names | {"PROMETHEUS_MULTIPROC_DIR"}  # (read by prometheus-client itself: core/metrics.py)


def env_file(path: Path) -> dict[str, str]:
    values = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip().strip("'\"")
    return values


def check(raw: dict[str, Any], env: dict[str, str], compose_dir: Path) -> tuple[list[str], list[str]]:
    problems: list[str] = []
    notes: list[str] = []
    doc = interpolate({k: v for k, v in raw.items() if not k.startswith("x-")}, env, problems, "")
    unknown = set(doc) - TOP_LEVEL
    if unknown:
        problems.append(f"unknown top-level keys: {sorted(unknown)}")
    services: dict[str, Any] = doc.get("services") or {}
    volumes = set((doc.get("volumes") or {}).keys())
    known_settings = setting_names()
    budget = 0
    max_connections = 100  # PostgreSQL's default
    app_services = []

    for name, service in services.items():
        extra = set(service) - SERVICE_KEYS
        if extra:
            problems.append(f"{name}: unknown keys {sorted(extra)}")
        image = service.get("image", "")
        if "build" not in service and not image:
            problems.append(f"{name}: neither image nor build")
        if "build" not in service and not PINNED.match(image):
            problems.append(f"{name}: image {image!r} is not pinned to an exact version")
        if "build" in service:
            context = service["build"]["context"] if isinstance(service["build"], dict) else service["build"]
            if not (compose_dir / context / "Dockerfile").is_file():
                problems.append(f"{name}: no Dockerfile in build context {context!r}")
        for dependency, condition in (service.get("depends_on") or {}).items():
            if dependency not in services:
                problems.append(f"{name}: depends on unknown service {dependency!r}")
            elif condition.get("condition") == "service_healthy" and "healthcheck" not in services[dependency]:
                problems.append(f"{name}: waits for {dependency} to be healthy, which has no healthcheck")
        for mount in service.get("volumes") or []:
            source = mount.split(":", 1)[0]
            if source.startswith((".", "/")):
                if not (compose_dir / source).exists():
                    problems.append(f"{name}: bind-mount source {source} does not exist")
            elif source not in volumes:
                problems.append(f"{name}: volume {source!r} is not declared")
        command = service.get("command") or []
        for i, part in enumerate(command[:-1]):
            if part == "-c" and str(command[i + 1]).startswith("max_connections="):
                max_connections = int(str(command[i + 1]).split("=", 1)[1])
        environment = {k: "" if v is None else str(v) for k, v in (service.get("environment") or {}).items()}
        if environment.get("ENVIRONMENT") != "production" or "build" not in service:
            continue

        app_services.append(name)
        misspelt = sorted(set(environment) - known_settings)
        if misspelt:
            problems.append(f"{name}: settings core/settings.py does not read: {misspelt}")
        flag = {key: environment.get(key, "").lower() for key in ("GRAPHIQL", "INTROSPECTION", "PERSISTED_ONLY")}
        graphiql, introspection = flag["GRAPHIQL"] in TRUE, flag["INTROSPECTION"] in TRUE
        allow_list = flag["PERSISTED_ONLY"] not in {"false", "0", "no", "off"}  # default: on in production
        if graphiql and (not introspection or allow_list):
            problems.append(
                f"{name}: GRAPHIQL on needs INTROSPECTION on and PERSISTED_ONLY off (it would show 'Error fetching "
                f"schema'); got INTROSPECTION={flag['INTROSPECTION'] or '(off)'}, PERSISTED_ONLY="
                f"{flag['PERSISTED_ONLY'] or '(on)'}"
            )
        if environment.get("SIMULATED_PAYMENTS", "").lower() in TRUE:
            problems.append(f"{name}: SIMULATED_PAYMENTS is refused in production")
        if environment.get("COOKIE_SECURE", "").lower() in {"false", "0", "no", "off"}:
            problems.append(f"{name}: COOKIE_SECURE=false is refused in production")
        if environment.get("STRIPE_SECRET_KEY") and not environment.get("STRIPE_WEBHOOK_SECRET"):
            problems.append(f"{name}: STRIPE_SECRET_KEY without STRIPE_WEBHOOK_SECRET is refused in production")
        if not environment.get("WORKERS"):
            problems.append(f"{name}: WORKERS is not pinned (the image then starts one per visible core)")
        workers = int(environment.get("WORKERS") or 1)
        pool = int(environment.get("DB_POOL_SIZE") or 10) + int(environment.get("DB_MAX_OVERFLOW") or 0)
        listen = 1 if environment.get("BROADCAST_URL", "").startswith("postgres") else 0
        budget += workers * (pool + listen)
        mode = (
            "explore"
            if graphiql and introspection and not allow_list
            else "incoherent"
            if graphiql
            else "allow-list"
            if allow_list
            else "open (no allow-list, no GraphiQL)"
        )
        stripe = "card gateway on" if environment.get("STRIPE_SECRET_KEY") else "card gateway off (no Stripe key)"
        profiles = ",".join(service.get("profiles") or []) or "default"
        notes.append(
            f"{name} [{profiles}]: {mode}; {stripe}; WORKERS {workers} x {pool + listen} connections = "
            f"{workers * (pool + listen)}; manifest {environment.get('PERSISTED_MANIFEST') or '(the image’s)'}"
        )

    if not app_services:
        problems.append("no production app service found")
    if budget + RESERVE > max_connections:
        problems.append(
            f"connection budget: apps {budget} + reserve {RESERVE} > PostgreSQL max_connections {max_connections}"
        )
    else:
        notes.append(f"connection budget: apps {budget} + reserve {RESERVE} <= max_connections {max_connections}")
    images = ", ".join(f"{n}={s.get('image')}" for n, s in services.items() if "build" not in s)
    notes.append(f"images: {images}")
    return problems, notes


def main(argv: list[str]) -> int:
    path = Path(argv[1] if len(argv) > 1 else ROOT / "docker-compose.yml").resolve()
    raw = yaml.safe_load(path.read_text())
    runs = {"as shipped (no .env)": {}}
    if (path.parent / ".env").is_file():
        runs["with .env"] = env_file(path.parent / ".env")
    failed = False
    for label, env in runs.items():
        problems, notes = check(raw, env, path.parent)
        print(f"{path.name} {label}:")
        for line in notes:
            print(f"  {line}")
        for line in problems:
            print(f"  PROBLEM: {line}")
        failed = failed or bool(problems)
    print("compose check: " + ("FAILED" if failed else "ok"))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
