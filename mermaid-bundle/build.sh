#!/usr/bin/env bash
# Rebuild sdgen's Mermaid parser bundle, optionally for another Mermaid version:
#   mermaid-bundle/build.sh            # the version pinned in package.json
#   mermaid-bundle/build.sh 11.14.0    # pin another version, then build
set -euo pipefail
cd "$(dirname "$0")"
if [[ $# -gt 0 ]]; then
  npm install --save-exact "mermaid@$1"
else
  npm ci
fi
npm run build
