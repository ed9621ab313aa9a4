-- GET a page as fast as the connections allow. args: path [accept-encoding].
-- wrk.ts appends a delay() when a scenario wants a steady, modest rate.
local req
bad = 0
function init(args)
  local headers = { ["Accept"] = "text/html" }
  if args[2] and args[2] ~= "" then headers["Accept-Encoding"] = args[2] end
  req = wrk.format("GET", args[1], headers)
end
function request()
  return req
end
function response(status)
  if status ~= 200 then bad = bad + 1 end
end
