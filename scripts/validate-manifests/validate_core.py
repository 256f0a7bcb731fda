#!/usr/bin/env python3
"""Validate the Kubernetes objects of YAML streams against the upstream OpenAPI schemas.

Strict: kubernetes-validate's strict schemas close every object, so an unknown or
misspelled field is an error, as a strict server-side apply would make it. Custom
resources (the Istio, Gateway API, KEDA and Knative groups of CUSTOM_GROUPS) are left to
validate_crds.mjs; every other object must have a schema, or it is an error too.

The files are read with PyYAML, a YAML 1.1 reader like kubectl's, so a string that a 1.1
reader would take for a boolean or a number fails here as it would in a cluster.

Usage: validate_core.py FILE...   Exit status 0 when every object is valid, 1 otherwise.
The last line is `core: N valid, M invalid, S left to the CRD validator`.
"""

import sys

import kubernetes_validate
import yaml

KUBERNETES_VERSION = "1.37.0"


# API groups validate_crds.mjs checks (its PACKAGES), each with the groups under it.
CUSTOM_GROUPS = ("istio.io", "gateway.networking.k8s.io", "keda.sh", "knative.dev")


def is_custom_resource(api_version):
    group = api_version.split("/")[0]
    return any(group == g or group.endswith("." + g) for g in CUSTOM_GROUPS)


def main(paths):
    valid = invalid = skipped = 0
    for path in paths:
        with open(path, encoding="utf-8") as file:
            documents = [d for d in yaml.safe_load_all(file) if d is not None]
        for doc in documents:
            what = "%s %s/%s" % (path, doc.get("kind"), (doc.get("metadata") or {}).get("name"))
            if is_custom_resource(str(doc.get("apiVersion", ""))):
                skipped += 1
                continue
            try:
                kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)
            except kubernetes_validate.ValidationError as err:
                invalid += 1
                location = ".".join(str(p) for p in err.path) or "(root)"
                print("invalid %s: %s: %s" % (what, location, err.message))
                continue
            except kubernetes_validate.SchemaNotFoundError as err:
                invalid += 1
                print("invalid %s: %s" % (what, err.message))
                continue
            valid += 1
            print("valid %s" % what)
    print("core: %d valid, %d invalid, %d left to the CRD validator" % (valid, invalid, skipped))
    return 1 if invalid else 0


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1:]))
