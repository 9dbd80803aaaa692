#!/usr/bin/env bash
# Lints the container files without a Docker engine: docker-compose.yml with dclint (compose-spec
# schema validation and best-practice rules) and every docker/*.Dockerfile with dockerfile-utils
# (Docker's instruction grammar, flags, durations, ports). Any error or warning fails the check.
# When a `docker compose` client is installed, its own parser checks the compose file too, with
# the development values of docker/dev.env (the file has no defaults for secrets) and every profile.
#
#   bash scripts/check-containers.sh                  the repository's files
#   bash scripts/check-containers.sh FILE...          only these (*.yml/*.yaml: compose; else Dockerfile)
#
# The linters are devDependencies (npm ci installs them).
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
bin="$root/node_modules/.bin"
for tool in dclint dockerfile-utils; do
  if [ ! -x "$bin/$tool" ]; then
    echo "check-containers: $tool is not installed; run npm ci" >&2
    exit 2
  fi
done

compose=()
dockerfiles=()
if [ "$#" -gt 0 ]; then
  for f in "$@"; do
    case "$f" in
      *.yml | *.yaml) compose+=("$f") ;;
      *) dockerfiles+=("$f") ;;
    esac
  done
else
  compose=("$root/docker-compose.yml")
  shopt -s nullglob
  dockerfiles=("$root"/docker/*.Dockerfile)
  shopt -u nullglob
  if [ "${#dockerfiles[@]}" -eq 0 ]; then
    echo "check-containers: no docker/*.Dockerfile found" >&2
    exit 1
  fi
fi

failed=0

for f in "${compose[@]}"; do
  echo "== dclint $(basename "$f")" >&2
  # --max-warnings 0: a warning fails as an error does.
  if ! "$bin/dclint" "$f" --max-warnings 0 --no-color; then
    echo "check-containers: FAIL dclint $f" >&2
    failed=1
  fi
  if docker compose version >/dev/null 2>&1; then
    echo "== docker compose config $(basename "$f")" >&2
    if ! docker compose -f "$f" --env-file "$root/docker/dev.env" --profile cpu --profile scan config --quiet; then
      echo "check-containers: FAIL docker compose config $f" >&2
      failed=1
    fi
  fi
done

for f in "${dockerfiles[@]}"; do
  echo "== dockerfile-utils lint $(basename "$f")" >&2
  # The JSON form lists errors and warnings; the plain form fails on errors only.
  out="$("$bin/dockerfile-utils" lint --json "$f")"
  rc=$?
  if [ "$rc" -ne 0 ] || [ "$out" != "[]" ]; then
    printf '%s\n' "$out" | node -e '
      let text = ""; process.stdin.on("data", (d) => (text += d)).on("end", () => {
        let list; try { list = JSON.parse(text); } catch { console.error(text); return; }
        for (const d of list) console.error(`  ${process.argv[1]}:${d.range.start.line + 1}: ${d.severity}: ${d.message}`);
      });' "$f"
    echo "check-containers: FAIL dockerfile-utils $f" >&2
    failed=1
  fi
done

if [ "$failed" -ne 0 ]; then
  echo "check-containers: failed" >&2
  exit 1
fi
echo "check-containers: ok (${#compose[@]} compose file(s), ${#dockerfiles[@]} Dockerfile(s))" >&2
