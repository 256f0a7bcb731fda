#!/usr/bin/env bash
# Installs the manifest validators the kube-gen tests run, under this directory:
#   .venv/          kubernetes-validate (core kinds) and jsonschema (harness schema's tests,
#                   validate_json_schema.py), from requirements.txt
#   node_modules/   @kubernetes-models/{istio,gateway-api,keda,knative} and yaml (custom
#                   resources), from package-lock.json
#   editor/node_modules/  yaml-language-server (what editors check a configuration with,
#                   for harness schema's tests), from editor/package-lock.json
#   .venv-checkov/  checkov (security scan), from requirements-checkov.txt
# Idempotent and quick when nothing changed: each part is reinstalled only when its
# pinned list differs from the one it was installed from.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"

# Installs into $1 (a venv) the pinned list $2, unless it was installed from that list.
python_env() {
    local venv="$1" requirements="$2"
    local stamp="$venv/.installed-from"
    if [[ -f "$stamp" ]] && cmp -s "$stamp" "$requirements" && [[ -x "$venv/bin/python" ]]; then
        echo "setup: $venv is up to date"
        return
    fi
    echo "setup: installing $requirements into $venv"
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input \
        --requirement "$requirements"
    cp "$requirements" "$stamp"
}

node_env() {
    local stamp="node_modules/.installed-from"
    if [[ -f "$stamp" ]] && cmp -s "$stamp" package-lock.json; then
        echo "setup: node_modules is up to date"
        return
    fi
    echo "setup: installing package-lock.json into node_modules"
    # The packages declare node >= 22 but run on 20: the engine check only warns.
    npm ci --no-audit --no-fund --loglevel=error
    cp package-lock.json "$stamp"
}

python_env .venv requirements.txt
node_env
# yaml-language-server, for the tests of harness schema: its own package list.
(cd editor && node_env)
python_env .venv-checkov requirements-checkov.txt
echo "setup: validators ready in $here"
