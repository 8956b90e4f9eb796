-- Argo CD health check for akguard.io/v1alpha1 AccessKeyRotation (Lua 5.1).
-- Install it as the resource.customizations.health.akguard.io_AccessKeyRotation entry of the
-- argocd-cm ConfigMap. Argo CD sets the global `obj` to the live object.
--
-- Order of the checks:
--   1. no status yet, or status older than the spec (observedGeneration) -> Progressing
--   2. condition Degraded True -> Degraded, with that condition's message
--   3. condition Rotating True -> Progressing
--   4. condition Ready True    -> Healthy
--   5. otherwise               -> Progressing, with the Ready condition's reason and message

local health = {}

local function find_condition(conditions, condition_type)
  for _, condition in ipairs(conditions) do
    if condition.type == condition_type then
      return condition
    end
  end
  return nil
end

local function is_true(condition)
  return condition ~= nil and condition.status == "True"
end

-- Joins the condition's reason and message, leaving out whichever is missing.
local function describe(condition, fallback)
  if condition == nil then
    return fallback
  end
  local reason = condition.reason or ""
  local message = condition.message or ""
  if reason ~= "" and message ~= "" then
    return reason .. ": " .. message
  elseif message ~= "" then
    return message
  elseif reason ~= "" then
    return reason
  end
  return fallback
end

local status = obj.status
if status == nil or status.conditions == nil or #status.conditions == 0 then
  health.status = "Progressing"
  health.message = "Waiting for the akguard operator to report status"
  return health
end

local generation = obj.metadata and obj.metadata.generation
if generation ~= nil and status.observedGeneration ~= nil and status.observedGeneration < generation then
  health.status = "Progressing"
  health.message = "Waiting for the akguard operator to process generation " .. tostring(generation)
  return health
end

local conditions = status.conditions
local degraded = find_condition(conditions, "Degraded")
local rotating = find_condition(conditions, "Rotating")
local ready = find_condition(conditions, "Ready")

if is_true(degraded) then
  health.status = "Degraded"
  health.message = describe(degraded, "Degraded")
  return health
end

if is_true(rotating) then
  health.status = "Progressing"
  health.message = describe(rotating, "Rotating the access key")
  return health
end

if is_true(ready) then
  health.status = "Healthy"
  health.message = describe(ready, "Ready")
  return health
end

health.status = "Progressing"
health.message = describe(ready, "Waiting for the Ready condition")
return health
