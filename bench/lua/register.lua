-- POST /register with a unique email per request (the KV file is fresh).
-- args: origin password
local origin, password
local n = 0
local tag
bad = 0
function init(args)
  origin = args[1]
  password = args[2]
  tag = tostring(math.random(1, 1e9))
end
function request()
  n = n + 1
  local body = "first_name=Bench&email=b" .. tag .. "x" .. n ..
    "%40example.com&password=" .. password .. "&password_confirm=" .. password
  return wrk.format("POST", "/register", {
    ["Origin"] = origin,
    ["Content-Type"] = "application/x-www-form-urlencoded",
  }, body)
end
function response(status, headers)
  local location = headers["location"] or headers["Location"]
  if status ~= 303 or location ~= "/register/done" then bad = bad + 1 end
end
