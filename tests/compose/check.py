#!/usr/bin/env python3
"""Checks the shape of docker-compose.yml's `scale-out` profile (API.md §17) and its HAProxy
configuration; bench/scale-out.sh proves the same set-up on one machine.

    python3 tests/compose/check.py [path/to/docker-compose.yml]

It parses the compose file with PyYAML (installed with pip when missing) and checks: the
default services carry no profile (their behaviour is unchanged); the profile has exactly three
`ccreg serve` services, all on one database (the default service's CCREG_DATABASE_URL, on the
`db` service) and all mounting the one keys volume at their CCREG_KEY_DIR, after a one-shot
`migrate`; an `haproxy:2.x` service depends on all three and mounts a config file that exists,
names exactly those three servers with health checks on GET /readyz, and retries. When a
container engine is present and running (`docker compose version` and `docker info` succeed)
it also runs `docker compose --profile scale-out config -q`. Exits 1 naming every problem.
"""
import os
import re
import shutil
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
COMPOSE = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "docker-compose.yml")
PROFILE = "scale-out"

try:
    import yaml
except ImportError:
    cmd = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "pyyaml"]
    if subprocess.run(cmd).returncode != 0:
        subprocess.run(cmd + ["--break-system-packages"], check=True)
    import yaml

problems = []


def check(ok, message):
    if not ok:
        problems.append(message)
    return ok


def env_of(service):
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {k: str(v) for k, v in env.items()}


def command_of(service):
    cmd = service.get("command") or []
    return cmd.split() if isinstance(cmd, str) else list(cmd)


def depends_of(service):
    dep = service.get("depends_on") or {}
    return dict.fromkeys(dep) if isinstance(dep, list) else dep


def volume_mounts(service):
    """(source, target) of each volume, short or long syntax."""
    mounts = []
    for v in service.get("volumes") or []:
        if isinstance(v, str):
            parts = v.split(":")
            mounts.append((parts[0], parts[1] if len(parts) > 1 else parts[0]))
        else:
            mounts.append((v.get("source"), v.get("target")))
    return mounts


with open(COMPOSE) as f:
    compose = yaml.safe_load(f)
services = compose.get("services") or {}
volumes = compose.get("volumes") or {}

# The default services: unchanged, in no profile.
for name in ("db", "ccreg"):
    if check(name in services, f"the default service {name!r} is missing"):
        check(not services[name].get("profiles"), f"the default service {name!r} must not be in a profile")
default_db_url = env_of(services.get("ccreg", {})).get("CCREG_DATABASE_URL")

in_profile = {n: s for n, s in services.items() if PROFILE in (s.get("profiles") or [])}
check(in_profile, f"no service is in the {PROFILE!r} profile")

# Three ccreg serve processes, one database, one keys volume.
replicas = {n: s for n, s in in_profile.items()
            if "CCREG_DATABASE_URL" in env_of(s) and command_of(s)[:1] == ["serve"]}
check(len(replicas) == 3, f"the profile must have exactly three `ccreg serve` services, found {sorted(replicas)}")
db_urls = {env_of(s)["CCREG_DATABASE_URL"] for s in replicas.values()}
check(len(db_urls) == 1, f"the ccreg services must share one database, found {sorted(db_urls)}")
check(not db_urls or db_urls == {default_db_url},
      f"the ccreg services must use the default service's database {default_db_url!r}, found {sorted(db_urls)}")
check(all("@db:" in u or "@db/" in u for u in db_urls), f"the database must be the `db` service: {sorted(db_urls)}")
key_sources = set()
for name, s in replicas.items():
    key_dir = env_of(s).get("CCREG_KEY_DIR")
    if not check(key_dir, f"{name}: no CCREG_KEY_DIR"):
        continue
    sources = [src for src, target in volume_mounts(s) if target == key_dir]
    if check(sources, f"{name}: nothing is mounted at its CCREG_KEY_DIR {key_dir}"):
        key_sources.update(sources)
        check(sources[0] in volumes, f"{name}: {sources[0]!r} at {key_dir} is not a named volume")
    check("db" in depends_of(s), f"{name}: must depend on db")
check(len(key_sources) == 1, f"the ccreg services must share one keys volume, found {sorted(key_sources)}")
default_keys = [src for src, t in volume_mounts(services.get("ccreg", {}))
                if t == env_of(services.get("ccreg", {})).get("CCREG_KEY_DIR")]
check(not default_keys or key_sources <= set(default_keys),
      f"the ccreg services must share the default service's keys volume {default_keys}, found {sorted(key_sources)}")
migrators = [n for n, s in in_profile.items() if command_of(s)[:1] == ["migrate"]]
if check(len(migrators) == 1, f"the profile must run `ccreg migrate` once before the three start, found {migrators}"):
    for name, s in replicas.items():
        cond = (depends_of(s).get(migrators[0]) or {}).get("condition")
        check(cond == "service_completed_successfully",
              f"{name}: must wait for {migrators[0]} with condition service_completed_successfully, has {cond!r}")

# The balancer.
balancers = {n: s for n, s in in_profile.items() if str(s.get("image", "")).startswith("haproxy:")}
if check(len(balancers) == 1, f"the profile must have one haproxy service, found {sorted(balancers)}"):
    name, lb = next(iter(balancers.items()))
    check(re.match(r"haproxy:2(\.\d+)*(-|$)", str(lb["image"])), f"{name}: image must be haproxy:2.x, is {lb['image']!r}")
    deps = depends_of(lb)
    check(set(replicas) <= set(deps), f"{name}: must depend on {sorted(replicas)}, depends on {sorted(deps)}")
    check(lb.get("ports"), f"{name}: publishes no port")
    cfgs = [src for src, target in volume_mounts(lb) if target and target.endswith("haproxy.cfg")]
    if check(cfgs, f"{name}: no haproxy.cfg is mounted"):
        path = os.path.join(os.path.dirname(os.path.abspath(COMPOSE)), cfgs[0])
        if check(os.path.isfile(path), f"{name}: the mounted config {cfgs[0]} does not exist"):
            cfg = [re.sub(r"#.*", "", line).strip() for line in open(path)]
            cfg = [line for line in cfg if line]
            servers = [line.split() for line in cfg if line.startswith("server ")]
            check(len(servers) == 3, f"{cfgs[0]}: must name three servers, names {len(servers)}")
            hosts = {s[2].rsplit(":", 1)[0] for s in servers if len(s) > 2}
            check(hosts == set(replicas), f"{cfgs[0]}: servers {sorted(hosts)} are not the ccreg services {sorted(replicas)}")
            default_server = " ".join(line for line in cfg if line.startswith("default-server "))
            check(all("check" in s[3:] for s in servers) or re.search(r"\bcheck\b", default_server),
                  f"{cfgs[0]}: the servers are not health-checked (`check`)")
            text = "\n".join(cfg)
            check(re.search(r"^(option httpchk.*|http-check send.*)/readyz\b", text, re.M),
                  f"{cfgs[0]}: the health check is not GET /readyz")
            check(re.search(r"^retries\s+[1-9]", text, re.M), f"{cfgs[0]}: no `retries`")
            check(re.search(r"^retry-on\s+", text, re.M), f"{cfgs[0]}: no `retry-on`")
            check(re.search(r"^option redispatch", text, re.M), f"{cfgs[0]}: no `option redispatch`")
            check(re.search(r"^http-request disable-l7-retry", text, re.M),
                  f"{cfgs[0]}: POSTs without an Idempotency-Key must not be replayed (http-request disable-l7-retry)")

# The container engine's own reading of the file, when there is one.
engine = "skipped (no docker)"
if shutil.which("docker"):
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    if subprocess.run(["docker", "compose", "version"], **quiet).returncode != 0:
        engine = "skipped (no `docker compose`)"
    elif subprocess.run(["docker", "info"], **quiet).returncode != 0:
        engine = "skipped (the engine is not running)"
    else:
        env = {**os.environ, "CCREG_DB_PASSWORD": os.environ.get("CCREG_DB_PASSWORD", "check-only")}
        r = subprocess.run(["docker", "compose", "-f", COMPOSE, "--profile", PROFILE, "config", "-q"],
                           env=env, capture_output=True, text=True)
        engine = "docker compose config -q: ok"
        if not check(r.returncode == 0, f"docker compose --profile {PROFILE} config -q failed: {r.stderr.strip()}"):
            engine = "docker compose config -q: FAILED"

if problems:
    print(f"{COMPOSE}: the {PROFILE!r} profile is wrong:")
    for p in problems:
        print(f"  - {p}")
    sys.exit(1)
print(f"{COMPOSE}: profile {PROFILE!r}: {', '.join(sorted(replicas))} on one database and one keys volume "
      f"behind {', '.join(balancers)} (health check GET /readyz); {engine}")
