-- wrk_post.lua -- wrk script for bench/platform: POSTs one JSON body to the
-- URL's path on every request (keep-alive). The body is wrk's first script
-- argument (default {}):
--   wrk -t1 -c4 -d5s -s bench/wrk_post.lua http://127.0.0.1:PORT/function/fibonacci -- '{"n":93}'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = "{}"

function init(args)
  if args[1] then wrk.body = args[1] end
end
