#!/usr/bin/env bash
# Installs the tools the image tests use to check what `harness image` builds: podman and
# runc (run the image), skopeo (read the layout, copy to and from a registry), umoci
# (unpack a layout) and docker-registry (a local OCI distribution registry). Debian's
# packages, installed only when missing. Idempotent.
set -euo pipefail

packages=(podman runc skopeo umoci docker-registry)
missing=()
for package in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$package")
    fi
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "image-tools: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # policy-rc.d keeps the package from starting its own registry service on :5000;
    # the tests start theirs on a free port with their own storage.
    policy=/usr/sbin/policy-rc.d
    created_policy=false
    if [ ! -e "$policy" ]; then
        printf '#!/bin/sh\nexit 101\n' > "$policy"
        chmod +x "$policy"
        created_policy=true
    fi
    apt-get install -y -qq --no-install-recommends "${missing[@]}"
    if $created_policy; then
        rm -f "$policy"
    fi
fi
