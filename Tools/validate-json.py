#!/usr/bin/python3
"""Checks JSON documents against Tessera's schemas (docs/schemas/COMMAND.schema.json).

    /usr/bin/python3 Tools/validate-json.py SCHEMA [DOCUMENT…]

SCHEMA is a schema file, or a command's name (`info` is docs/schemas/info.schema.json).
Each DOCUMENT is a file holding one JSON document, or `-` (the default) for stdin. The other
schemas of SCHEMA's folder are where its `$ref`s point (common.schema.json, error.schema.json):
they are loaded from there, nothing is fetched. Prints every violation, one a line, with the
path in the document where it is. Exit 0 every document is valid, 1 one is not, 2 a schema or
document cannot be read (or the schema itself is not a valid draft 2020-12 schema).

Needs python3-jsonschema (Debian's; `make test-deps` installs it).
"""
import json
import os
import pathlib
import sys

try:
    import jsonschema
except ImportError:
    sys.exit("validate-json.py: python3-jsonschema is missing (apt-get install python3-jsonschema, or make test-deps)")

SCHEMAS = pathlib.Path(__file__).resolve().parent.parent / "docs" / "schemas"


def load(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def validator(schema_path):
    folder = schema_path.parent
    store = {}
    for other in folder.glob("*.schema.json"):
        schema = load(other)
        jsonschema.Draft202012Validator.check_schema(schema)
        store[other.resolve().as_uri()] = schema
    schema = store[schema_path.resolve().as_uri()]
    resolver = jsonschema.RefResolver(base_uri=schema_path.resolve().as_uri(), referrer=schema, store=store)
    return jsonschema.Draft202012Validator(schema, resolver=resolver)


def causes(error):
    """What to say of `error`: a document that fits none of a oneOf's shapes is told what the
    shape it came closest to (the fewest complaints) finds wrong, down to the deepest key."""
    if not error.context:
        return [error]
    shapes = {}
    for cause in error.context:
        shapes.setdefault(cause.relative_schema_path[0], []).append(cause)
    closest = min(shapes.values(), key=len)
    return [deeper for cause in closest for deeper in causes(cause)]


def main(argv):
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__.strip())
        return 0 if argv else 2
    name, documents = argv[0], argv[1:] or ["-"]
    schema_path = pathlib.Path(name) if os.sep in name or name.endswith(".json") else SCHEMAS / f"{name}.schema.json"
    try:
        check = validator(schema_path)
    except (OSError, ValueError, KeyError, jsonschema.SchemaError) as error:
        print(f"validate-json.py: {schema_path}: {error}", file=sys.stderr)
        return 2
    invalid = False
    for document in documents:
        try:
            value = json.load(sys.stdin) if document == "-" else load(document)
        except (OSError, ValueError) as error:
            print(f"validate-json.py: {document}: not one JSON document: {error}", file=sys.stderr)
            return 2
        for error in sorted(check.iter_errors(value), key=lambda e: list(e.absolute_path)):
            for cause in causes(error):
                where = "/".join(str(p) for p in cause.absolute_path) or "(top)"
                message = cause.message if len(cause.message) < 300 else cause.message[:300] + "…"
                print(f"{document}: {where}: {message}")
            invalid = True
    return 1 if invalid else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
