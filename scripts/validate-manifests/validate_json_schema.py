#!/usr/bin/env python3
"""Validate JSON documents against a JSON Schema (draft 2020-12) with the `jsonschema`
package: the standard validator the tests of `harness schema` compare `harness check` with.

The schema is first checked against the draft 2020-12 metaschema. `format` is an
annotation, as the draft makes it by default: it is not asserted.

Usage: validate_json_schema.py SCHEMA INSTANCES
  SCHEMA     a JSON file holding the schema
  INSTANCES  a JSON file holding a list of documents
Prints a JSON list with one entry per document: {"valid": bool, "errors": [message, ...]}.
Exit status 0 when the schema itself is valid (whatever the documents), 2 otherwise.
"""

import json
import sys

import jsonschema


def main(schema_path, instances_path):
    with open(schema_path, encoding="utf-8") as file:
        schema = json.load(file)
    with open(instances_path, encoding="utf-8") as file:
        instances = json.load(file)
    try:
        jsonschema.Draft202012Validator.check_schema(schema)
    except jsonschema.SchemaError as error:
        print("invalid schema: %s" % error.message, file=sys.stderr)
        return 2
    validator = jsonschema.Draft202012Validator(schema)
    verdicts = []
    for instance in instances:
        errors = [
            "%s: %s" % ("/".join(str(p) for p in error.absolute_path) or "(root)", error.message)
            for error in validator.iter_errors(instance)
        ]
        verdicts.append({"valid": not errors, "errors": errors})
    json.dump(verdicts, sys.stdout)
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    sys.exit(main(sys.argv[1], sys.argv[2]))
