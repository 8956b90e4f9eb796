"""Check the sample objects against the AccessKeyRotation CRD that the chart ships.

Usage: check_samples.py CRD.yaml SAMPLE.yaml...

A health check tested on objects the API server would reject or prune proves little, so each
sample must match the CRD's schema: no unknown fields, required fields present, types and
enums respected. Covers the OpenAPI keywords the CRD uses; patterns and CEL rules are not
evaluated. Prints one line per problem and exits 1 when there is any.
"""

import sys

import yaml

JSON_TYPES = {
    "object": dict,
    "array": list,
    "string": str,
    "boolean": bool,
    "integer": int,
    "number": (int, float),
}


def validate(value, schema, path, problems):
    if value is None:
        if not schema.get("nullable"):
            problems.append(f"{path}: null is not allowed")
        return
    if schema.get("x-kubernetes-int-or-string"):
        if not isinstance(value, (int, str)) or isinstance(value, bool):
            problems.append(f"{path}: expected an integer or a string, got {value!r}")
        return
    expected_type = schema.get("type")
    if expected_type:
        python_type = JSON_TYPES[expected_type]
        wrong_bool = isinstance(value, bool) and expected_type in ("integer", "number")
        if not isinstance(value, python_type) or wrong_bool:
            problems.append(f"{path}: expected {expected_type}, got {value!r}")
            return
    if "enum" in schema and value not in schema["enum"]:
        problems.append(f"{path}: {value!r} is not one of {schema['enum']}")

    if isinstance(value, dict):
        properties = schema.get("properties")
        for name in schema.get("required", []):
            if name not in value:
                problems.append(f"{path}.{name}: required field is missing")
        for name, item in value.items():
            if properties is not None and name in properties:
                validate(item, properties[name], f"{path}.{name}", problems)
            elif isinstance(schema.get("additionalProperties"), dict):
                validate(item, schema["additionalProperties"], f"{path}.{name}", problems)
            elif properties is not None and not schema.get("x-kubernetes-preserve-unknown-fields"):
                problems.append(f"{path}.{name}: unknown field (the API server would prune it)")
    if isinstance(value, list) and "items" in schema:
        for index, item in enumerate(value):
            validate(item, schema["items"], f"{path}[{index}]", problems)


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    with open(sys.argv[1], encoding="utf-8") as source:
        crd = yaml.safe_load(source)
    kind = crd["spec"]["names"]["kind"]
    schemas = {version["name"]: version["schema"]["openAPIV3Schema"] for version in crd["spec"]["versions"]}

    problems = []
    for sample_path in sys.argv[2:]:
        with open(sample_path, encoding="utf-8") as source:
            sample = yaml.safe_load(source)
        group_version = sample.get("apiVersion", "")
        version = group_version.split("/")[-1]
        if sample.get("kind") != kind or not group_version.startswith(crd["spec"]["group"] + "/"):
            problems.append(f"{sample_path}: not a {crd['spec']['group']} {kind}")
            continue
        if version not in schemas:
            problems.append(f"{sample_path}: version {version} is not served by the CRD")
            continue
        sample_problems = []
        # apiVersion, kind and metadata are validated by the API server itself, not by the
        # CRD schema.
        body = {key: value for key, value in sample.items() if key not in ("apiVersion", "kind", "metadata")}
        validate(body, schemas[version], "", sample_problems)
        problems.extend(f"{sample_path}: {problem}" for problem in sample_problems)

    for problem in problems:
        print(problem)
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
