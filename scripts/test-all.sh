#!/usr/bin/env bash
# The second README command: on a fresh machine with only Node, installs everything the tests need
# (system packages included) and runs all the tests. .ci/run calls exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends pcscd vsmartcard-vpcd iproute2 chromium fonts-wqy-microhei >/dev/null
npm install --no-audit --no-fund
npm run -s lint          # tsc --noEmit + redocly lint of spec/openapi.yaml
npm test
