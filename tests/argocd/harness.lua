-- Runs a health check the way Argo CD does: the object is the global `obj`, and the check
-- returns a table with `status` and `message`. Usage: lua5.1 harness.lua CHECK.lua OBJECT.lua
local check_path, object_path = arg[1], arg[2]
obj = assert(dofile(object_path), "object file returned nothing: " .. object_path)
local check = assert(loadfile(check_path))
local result = check()
io.write(tostring(result.status), "\n", tostring(result.message or ""), "\n")
