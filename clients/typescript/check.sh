#!/usr/bin/env bash
# Export NeonHub's OpenAPI document, generate TypeScript types from it with openapi-typescript,
# and type-check example.ts against them: a change to the API that breaks a typed client
# fails here. Needs Node.js (npm); installs the pinned tools itself (npm ci).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
python="${PYTHON:-$root/.venv/bin/python}"

if ! command -v npm >/dev/null 2>&1; then
  echo "clients/typescript: Node.js (npm) is not installed; skipped the TypeScript client check" >&2
  exit 0
fi

cd "$root"
"$python" manage.py export_openapi_schema --api neonhub.api.api --indent 1 \
  --output "$here/openapi.json"
cd "$here"
npm ci --no-audit --no-fund --loglevel=error
# Fields with a default are optional in what a client sends.
npx --no-install openapi-typescript openapi.json --output neonhub-api.d.ts \
  --default-non-nullable false
npx --no-install tsc --noEmit -p tsconfig.json
echo "clients/typescript: the generated client types check"
