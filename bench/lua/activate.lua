-- POST /activate/<token>, one fresh token per request, read from a file
-- prepared before the timed part. args: origin tokens-file
local origin
local tokens = {}
local i = 0
bad = 0
exhausted = 0
function init(args)
  origin = args[1]
  for line in io.lines(args[2]) do table.insert(tokens, line) end
end
function request()
  i = i + 1
  local token = tokens[i]
  if token == nil then
    -- Ran out: replay one, counted, so run.ts can say the figure is suspect.
    exhausted = exhausted + 1
    token = tokens[1]
  end
  return wrk.format("POST", "/activate/" .. token, { ["Origin"] = origin })
end
function response(status, headers)
  local location = headers["location"] or headers["Location"]
  if status ~= 303 or location ~= "/account" then bad = bad + 1 end
end
