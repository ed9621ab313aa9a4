-- POST /activate/<token>, one fresh token per request, read from a file
-- prepared before the timed part, each sent with the "registered" cookie of
-- the browser that registered it. args: origin tokens-file
local origin
local tokens = {}
local i = 0
bad = 0
exhausted = 0
function init(args)
  origin = args[1]
  for line in io.lines(args[2]) do
    local token, marker = line:match("^(%S+) (%S+)$")
    table.insert(tokens, { token, marker })
  end
end
function request()
  i = i + 1
  local token = tokens[i]
  if token == nil then
    -- Ran out: replay one, counted, so run.ts can say the figure is suspect.
    exhausted = exhausted + 1
    token = tokens[1]
  end
  return wrk.format("POST", "/activate/" .. token[1], {
    ["Origin"] = origin,
    ["Cookie"] = "registered=" .. token[2],
  })
end
function response(status, headers)
  local location = headers["location"] or headers["Location"]
  if status ~= 303 or location ~= "/account" then bad = bad + 1 end
end
