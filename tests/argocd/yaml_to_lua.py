"""Print a YAML document as a Lua 5.1 chunk that returns the same value as a table.

Mirrors how Argo CD hands an object to a health check: maps become tables with string keys,
lists become tables indexed from 1, and nulls are left out.
"""

import sys

import yaml


def lua_string(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
    return f'"{escaped}"'


def to_lua(value) -> str:
    if value is None:
        return "nil"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return lua_string(value)
    if isinstance(value, list):
        return "{" + ", ".join(to_lua(item) for item in value if item is not None) + "}"
    if isinstance(value, dict):
        fields = (f"[{lua_string(str(key))}] = {to_lua(item)}" for key, item in value.items() if item is not None)
        return "{" + ", ".join(fields) + "}"
    raise TypeError(f"cannot convert {type(value).__name__} to Lua: {value!r}")


def main() -> None:
    with open(sys.argv[1], encoding="utf-8") as source:
        document = yaml.safe_load(source)
    print("return " + to_lua(document))


if __name__ == "__main__":
    main()
