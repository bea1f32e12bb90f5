#!/usr/bin/env bash
# Idempotent set-up for the local twin and the tests: every step is skipped when
# its inputs have not changed, so a second run takes a couple of seconds.
#   1. uv (pinned) in .tools/          -- the installer, from PyPI
#   2. .venv from uv.lock (--frozen)   -- every Python dependency, exact versions
#   3. Delta Lake jars via Maven       -- .cache/jars, used by spark.jars
#   4. CDK CLI from package-lock.json  -- node_modules/.bin/cdk
#   5. Chromium (Debian package)       -- the browser the report test renders `twin report` in
set -euo pipefail
cd "$(dirname "$0")/.."

UV_VERSION=0.13.9
step() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }
fingerprint() { cat "$@" | sha256sum | cut -d' ' -f1; }

need() {
  command -v "$1" >/dev/null 2>&1 || {
    echo "[setup] '$1' is not installed. $2" >&2
    exit 1
  }
}
need python3 "Install Python 3.11."
need java "Install a Java 17 runtime (Spark needs it)."
need mvn "Install Apache Maven (it resolves the Delta Lake jars)."
need npm "Install Node.js 20 with npm (it installs the CDK CLI)."

if [ ! -x .tools/bin/uv ] || [ "$(.tools/bin/uv --version | cut -d' ' -f2)" != "$UV_VERSION" ]; then
  step "installing uv $UV_VERSION into .tools/"
  python3 -m venv .tools
  .tools/bin/pip install --quiet --disable-pip-version-check "uv==$UV_VERSION"
fi

step "python environment (.venv) from uv.lock"
# Bytecode compiled once here: every later Python process (dbt, Spark workers, the CLI)
# starts ~1.5 s faster, also where PYTHONDONTWRITEBYTECODE keeps Python from caching it.
.tools/bin/uv sync --frozen --quiet --compile-bytecode

jars_stamp=.cache/jars/.fingerprint
jars_fp=$(fingerprint scripts/spark-jars.pom.xml)
if [ "$(cat "$jars_stamp" 2>/dev/null)" != "$jars_fp" ]; then
  step "resolving Delta Lake jars with Maven into .cache/jars"
  rm -rf .cache/jars
  mvn --batch-mode --quiet -Dstyle.color=never -f scripts/spark-jars.pom.xml dependency:copy-dependencies \
    -DoutputDirectory="$PWD/.cache/jars" -DexcludeTransitive=true
  echo "$jars_fp" > "$jars_stamp"
else
  step "Delta Lake jars up to date"
fi

npm_stamp=node_modules/.setup-fingerprint
npm_fp=$(fingerprint package.json package-lock.json)
if [ "$(cat "$npm_stamp" 2>/dev/null)" != "$npm_fp" ]; then
  step "installing the CDK CLI (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$npm_fp" > "$npm_stamp"
else
  step "CDK CLI up to date"
fi

# The report test renders `twin report` in a real headless browser. CHROMIUM may name
# another Chromium binary; otherwise Debian's package, installed here when we can.
if [ -z "${CHROMIUM:-}" ] && ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    step "installing Chromium (Debian package chromium) for the report test"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null
  else
    echo "[setup] 'chromium' is not installed: as root, apt-get install chromium (Debian), or" \
      "set CHROMIUM to a Chromium binary; the report test needs it." >&2
    exit 1
  fi
else
  step "Chromium present"
fi
