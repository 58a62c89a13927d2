#!/usr/bin/env bash
# Runs every test once: unit, integration through pcscd + vpcd (tests start pcscd themselves, in
# their own network namespace), SQLite and PostgreSQL, headless Chromium.
set -uo pipefail
cd "$(dirname "$0")/.."
export UV_THREADPOOL_SIZE=${UV_THREADPOOL_SIZE:-16}
npx mocha --reporter ./scripts/mocha-reporter.cjs "$@"
