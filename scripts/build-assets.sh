#!/usr/bin/env bash
# Install the web pages' browser libraries from the npm registry (pinned in
# src/softquery/web/frontend/package-lock.json) and copy exactly the files the
# pages use into src/softquery/web/static/vendor/. Idempotent; fails loudly.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
FRONTEND="$ROOT/src/softquery/web/frontend"
VENDOR="$ROOT/src/softquery/web/static/vendor"
MODULES="$FRONTEND/node_modules"

command -v npm >/dev/null || { echo "build-assets: npm is not installed (need node 20+ and npm)" >&2; exit 1; }

# --ignore-scripts: no install scripts run (swagger-ui-dist's analytics helper stays silent);
# --prefer-offline: the npm cache is used when it already holds the pinned tarballs.
( cd "$FRONTEND" && SCARF_ANALYTICS=false npm ci --ignore-scripts --prefer-offline \
    --no-audit --no-fund --loglevel=error )

# "source-in-node_modules destination-under-vendor" pairs
FILES=(
  "htmx.org/dist/htmx.min.js                     htmx/htmx.min.js"
  "chart.js/dist/chart.umd.js                    chartjs/chart.umd.js"
  "codemirror/lib/codemirror.js                  codemirror/lib/codemirror.js"
  "codemirror/lib/codemirror.css                 codemirror/lib/codemirror.css"
  "codemirror/mode/python/python.js              codemirror/mode/python/python.js"
  "codemirror/mode/sql/sql.js                    codemirror/mode/sql/sql.js"
  "codemirror/addon/lint/lint.js                 codemirror/addon/lint/lint.js"
  "codemirror/addon/lint/lint.css                codemirror/addon/lint/lint.css"
  "codemirror/addon/display/placeholder.js       codemirror/addon/display/placeholder.js"
  "codemirror/addon/edit/matchbrackets.js        codemirror/addon/edit/matchbrackets.js"
  "codemirror/addon/edit/closebrackets.js        codemirror/addon/edit/closebrackets.js"
  "codemirror/addon/selection/active-line.js     codemirror/addon/selection/active-line.js"
  "codemirror/addon/hint/show-hint.js            codemirror/addon/hint/show-hint.js"
  "codemirror/addon/hint/show-hint.css           codemirror/addon/hint/show-hint.css"
  "codemirror/addon/hint/sql-hint.js             codemirror/addon/hint/sql-hint.js"
  "codemirror/LICENSE                            codemirror/LICENSE"
  "swagger-ui-dist/swagger-ui-bundle.js          swagger-ui/swagger-ui-bundle.js"
  "swagger-ui-dist/swagger-ui.css                swagger-ui/swagger-ui.css"
  "swagger-ui-dist/LICENSE                       swagger-ui/LICENSE"
)

mkdir -p "$(dirname "$VENDOR")"
STAGE="$(mktemp -d "$ROOT/src/softquery/web/static/.vendor.XXXXXX")"
trap 'rm -rf "$STAGE"' EXIT
for pair in "${FILES[@]}"; do
  read -r src dst <<<"$pair"
  if [[ ! -f "$MODULES/$src" ]]; then
    echo "build-assets: $MODULES/$src is missing (package.json and the copy list disagree)" >&2
    exit 1
  fi
  mkdir -p "$STAGE/$(dirname "$dst")"
  cp "$MODULES/$src" "$STAGE/$dst"
done
# Every package's version, so a page (and a person) can tell what is served.
( cd "$FRONTEND" && node -e '
  const lock = require("./package-lock.json");
  const out = {};
  for (const [path, info] of Object.entries(lock.packages)) {
    if (path.startsWith("node_modules/") && !path.slice(13).includes("node_modules/")) out[path.slice(13)] = info.version;
  }
  console.log(JSON.stringify(out, null, 2));' ) > "$STAGE/versions.json"

rm -rf "$VENDOR"
chmod 755 "$STAGE"
mv "$STAGE" "$VENDOR"
trap - EXIT
echo "build-assets: $(find "$VENDOR" -type f | wc -l) files in ${VENDOR#"$ROOT"/}"
