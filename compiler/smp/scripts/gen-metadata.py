#!/usr/bin/env python3
"""Generate the strategic-merge metadata that kiln-smp embeds.

kustomize v5 merges patches with the Kubernetes v1.21 OpenAPI schema compiled
into kyaml, so kiln ships the merge metadata of that same API version. The
schema comes from the PyPI package `kubernetes-validate`, whose sdist carries
the per-version JSON schemas converted from the Kubernetes OpenAPI document
with the `x-kubernetes-*` extensions intact.

Regenerate (needs python3 and pip, reaches PyPI only):

    python3 compiler/smp/scripts/gen-metadata.py

The output, compiler/smp/data/k8s-v1.21-merge-schema.json, is an OpenAPI v2
document reduced to what a strategic merge needs: per definition, the
properties that are objects, arrays or maps (their `$ref`, `items`,
`additionalProperties`, `type`) and the extensions
`x-kubernetes-patch-strategy`, `x-kubernetes-patch-merge-key`,
`x-kubernetes-list-map-keys`, `x-kubernetes-group-version-kind`. Scalar
properties and descriptions are dropped. kiln-smp reads it with the same code
that reads a kustomization's custom `openapi:` document.
"""

import json
import pathlib
import subprocess
import sys
import tarfile
import tempfile

PACKAGE = "kubernetes-validate==1.21.0"
SCHEMA_DIR = "v1.21.0-local"
OUT = pathlib.Path(__file__).resolve().parent.parent / "data" / "k8s-v1.21-merge-schema.json"

KEPT_EXTENSIONS = (
    "x-kubernetes-patch-strategy",
    "x-kubernetes-patch-merge-key",
    "x-kubernetes-list-map-keys",
)


def download(tmp: pathlib.Path) -> dict:
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
         "-d", str(tmp), PACKAGE],
        check=True,
    )
    (archive,) = tmp.glob("kubernetes-validate-*.tar.gz")
    suffix = f"kubernetes-json-schema/{SCHEMA_DIR}/_definitions.json"
    with tarfile.open(archive) as tar:
        for member in tar.getmembers():
            if member.name.endswith(suffix):
                return json.load(tar.extractfile(member))
    raise SystemExit(f"{suffix} not found in {archive.name}")


def reduce_schema(schema: dict):
    """Keep the parts of a property schema that steer a merge, or None for a scalar."""
    out = {}
    if "$ref" in schema:
        out["$ref"] = schema["$ref"]
    kind = schema.get("type")
    if kind in ("object", "array"):
        out["type"] = kind
    if "items" in schema:
        items = reduce_schema(schema["items"])
        if items:
            out["items"] = items
    extra = schema.get("additionalProperties")
    if isinstance(extra, dict):
        values = reduce_schema(extra)
        if values:
            out["additionalProperties"] = values
    for ext in KEPT_EXTENSIONS:
        if ext in schema:
            out[ext] = schema[ext]
    return out or None


def reduce_definition(definition: dict) -> dict:
    out = {}
    if "x-kubernetes-group-version-kind" in definition:
        out["x-kubernetes-group-version-kind"] = definition["x-kubernetes-group-version-kind"]
    if definition.get("type") in ("object", "array"):
        out["type"] = definition["type"]
    props = {}
    for name, prop in sorted(definition.get("properties", {}).items()):
        reduced = reduce_schema(prop)
        if reduced:
            props[name] = reduced
    if props:
        out["properties"] = props
    extra = definition.get("additionalProperties")
    if isinstance(extra, dict):
        values = reduce_schema(extra)
        if values:
            out["additionalProperties"] = values
    return out


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        source = download(pathlib.Path(tmp))
    definitions = {
        name: reduce_definition(body)
        for name, body in sorted(source["definitions"].items())
    }
    doc = {
        "swagger": "2.0",
        "info": {"title": "Kubernetes merge metadata", "version": "v1.21.0",
                 "x-generated-by": "compiler/smp/scripts/gen-metadata.py from " + PACKAGE},
        "definitions": definitions,
    }
    OUT.write_text(json.dumps(doc, indent=1, sort_keys=True) + "\n")
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes, {len(definitions)} definitions)")


if __name__ == "__main__":
    main()
