#!/usr/bin/env node
// Validate the custom resources of YAML streams (Istio, Gateway API, KEDA and Knative
// kinds) against their projects' own schemas, strictly.
//
// The schemas are those the @kubernetes-models packages compile (package.json pins
// them; each package's package.json names the release it was generated from): Istio's
// from its CRDs, the Gateway API's, KEDA's and Knative's from their Go API types. Their
// validators check types, enums and required fields, but like the CRDs they let unknown
// fields through, which is how a misspelled field gets silently dropped by the API
// server. So this script adds the strict check: every object schema is closed unless it
// is a map or says `x-kubernetes-preserve-unknown-fields`.
//
// The compiled validators hold no schema to read that from, so the check watches
// them work instead: each object of the manifest is wrapped in a Proxy that records
// the properties the validator reads. A closed schema reads exactly its declared
// properties; a map (additionalProperties / patternProperties) enumerates its keys.
// After validation, a key that the validator neither read nor enumerated is a field
// the schema does not have: an error. A preserve-unknown-fields object would look
// like an object with no properties, and so be treated as closed: stricter than the
// rule, and harness writes no such field.
//
// Other objects (core Kubernetes kinds) are left to validate_core.py, which skips the
// API groups listed in PACKAGES below.
//
// Usage: node validate_crds.mjs FILE...  Exit status 0 when every object is valid.
// The last line is `crds: N valid, M invalid, S left to the core validator`.

import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

import { parseAllDocuments } from "yaml";

const here = dirname(fileURLToPath(import.meta.url));

// Each package of schemas and the API groups it holds (Istio's holds networking.istio.io:
// Gateway, VirtualService, ServiceEntry, Sidecar; and security.istio.io:
// AuthorizationPolicy, PeerAuthentication); keep in step with
// CUSTOM_GROUPS in validate_core.py.
const PACKAGES = [
  { name: "istio", holds: (group) => group === "istio.io" || group.endsWith(".istio.io") },
  { name: "gateway-api", holds: (group) => group === "gateway.networking.k8s.io" },
  { name: "keda", holds: (group) => group === "keda.sh" || group.endsWith(".keda.sh") },
  { name: "knative", holds: (group) => group === "knative.dev" || group.endsWith(".knative.dev") },
];

function packageOf(apiVersion) {
  const group = String(apiVersion ?? "").split("/")[0];
  return PACKAGES.find((p) => p.holds(group));
}

// The schema module of a kind: the one its model module (PACKAGE/GROUP/VERSION/KIND.js)
// imports its validator from, so no package's naming of schema modules is assumed.
function schemaModule(pkg, apiVersion, kind) {
  const root = join(here, "node_modules/@kubernetes-models", pkg.name);
  const model = join(root, ...String(apiVersion).split("/"), `${kind}.js`);
  if (!existsSync(model)) return null;
  const imported = readFileSync(model, "utf8").match(/from\s*"(\.\.\/)+(_schemas\/[A-Za-z0-9]+\.js)"/);
  return imported ? join(root, imported[2]) : null;
}

const validators = new Map();
async function validatorFor(pkg, apiVersion, kind) {
  const path = schemaModule(pkg, apiVersion, kind);
  if (path === null) return null;
  if (!validators.has(path)) {
    validators.set(path, (await import(pathToFileURL(path).href)).validate);
  }
  return validators.get(path);
}

// `value` with every plain object wrapped to record what the validator looks at.
function watched(value, path, records) {
  if (value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) {
    return value.map((item, i) => watched(item, `${path}[${i}]`, records));
  }
  const record = { path, keys: Object.keys(value), read: new Set(), enumerated: false };
  records.push(record);
  const target = {};
  for (const [key, item] of Object.entries(value)) {
    target[key] = watched(item, path ? `${path}.${key}` : key, records);
  }
  const note = (key) => {
    if (typeof key === "string") record.read.add(key);
  };
  return new Proxy(target, {
    get(t, key, receiver) {
      note(key);
      return Reflect.get(t, key, receiver);
    },
    has(t, key) {
      note(key);
      return Reflect.has(t, key);
    },
    getOwnPropertyDescriptor(t, key) {
      note(key);
      return Reflect.getOwnPropertyDescriptor(t, key);
    },
    ownKeys(t) {
      record.enumerated = true;
      return Reflect.ownKeys(t);
    },
  });
}

// The problems of one object: schema errors, then fields the schema does not know.
export function problems(validate, object) {
  const records = [];
  const valid = validate(watched(object, "", records));
  if (!valid) {
    return (validate.errors ?? []).map(
      (e) => `${e.instancePath || "(root)"}: ${e.message ?? e.keyword} ${JSON.stringify(e.params)}`,
    );
  }
  const unknown = [];
  for (const record of records) {
    if (record.enumerated) continue;
    for (const key of record.keys) {
      if (!record.read.has(key)) unknown.push(`${record.path ? record.path + "." : ""}${key}: unknown field`);
    }
  }
  return unknown;
}

async function main(paths) {
  let valid = 0;
  let invalid = 0;
  let skipped = 0;
  for (const path of paths) {
    const documents = parseAllDocuments(readFileSync(path, "utf8"), { version: "1.1" });
    for (const document of Array.isArray(documents) ? documents : [documents]) {
      if (document.errors.length > 0) {
        invalid += 1;
        console.log(`invalid ${path}: YAML: ${document.errors.map((e) => e.message).join("; ")}`);
        continue;
      }
      const object = document.toJS();
      if (object === null || object === undefined) continue;
      const what = `${path} ${object.kind}/${object.metadata?.name}`;
      const pkg = packageOf(object.apiVersion);
      if (pkg === undefined) {
        skipped += 1;
        continue;
      }
      const validate = await validatorFor(pkg, object.apiVersion, object.kind);
      const found = validate
        ? problems(validate, object)
        : [`no schema for ${object.kind} in ${object.apiVersion}`];
      if (found.length > 0) {
        invalid += 1;
        console.log(`invalid ${what}: ${found.join("; ")}`);
      } else {
        valid += 1;
        console.log(`valid ${what}`);
      }
    }
  }
  console.log(`crds: ${valid} valid, ${invalid} invalid, ${skipped} left to the core validator`);
  return invalid > 0 ? 1 : 0;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const paths = process.argv.slice(2);
  if (paths.length === 0) {
    console.error("usage: node validate_crds.mjs FILE...");
    process.exit(2);
  }
  process.exitCode = await main(paths);
}
