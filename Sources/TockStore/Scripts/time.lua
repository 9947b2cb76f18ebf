-- time: the cluster's reference clock (SPEC guarantee 5). Every process measures its offset
-- against the server that holds the cluster's keys: one clock for all, on a cluster too.
--
-- KEYS     workers (only to route the call to that server)
-- Returns  Redis TIME: {seconds, microseconds}.
return redis.call('TIME')
