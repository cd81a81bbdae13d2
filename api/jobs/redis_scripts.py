"""Lua scripts of `RedisQueue`: each step that touches several keys runs atomically in Redis.

Keys (`p` is the queue's prefix): `p:jobs` hash episode id -> encoded job (a job is known while it is
there: queued, or in flight); `p:v:<voter>` list of one voter's queued episode ids; `p:ring` list of
voters with queued jobs, next first; `p:stream` the in-flight stream read by the consumer group;
`p:tries` hash episode id -> deliveries; `p:dead` the dead-letter stream; `p:wake` wake-up tokens.
The voter lists are named inside the scripts, so the queue runs on one Redis (not Redis Cluster).
"""

# KEYS: jobs, ring, voter list, wake. ARGV: episode id, job, voter. 1 if queued, 0 if already known.
SUBMIT = """
if redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2]) == 0 then return 0 end
if redis.call('RPUSH', KEYS[3], ARGV[1]) == 1 then redis.call('RPUSH', KEYS[2], ARGV[3]) end
redis.call('LPUSH', KEYS[4], '1')
redis.call('LTRIM', KEYS[4], 0, 255)
return 1
"""

# Moves the next job in round-robin order into the stream and reads it for this consumer.
# KEYS: ring, stream, jobs, tries. ARGV: voter list prefix, group, consumer.
# Returns {entry id, episode id, job or false, deliveries} or nil when nothing is queued.
TAKE = """
local voter = redis.call('LPOP', KEYS[1])
if voter then
  local list = ARGV[1] .. voter
  local id = redis.call('LPOP', list)
  if redis.call('LLEN', list) > 0 then redis.call('RPUSH', KEYS[1], voter) end
  if id then redis.call('XADD', KEYS[2], '*', 'id', id) end
end
local read = redis.call('XREADGROUP', 'GROUP', ARGV[2], ARGV[3], 'COUNT', 1, 'STREAMS', KEYS[2], '>')
if not read then return nil end
local entry = read[1][2][1]
local id = entry[2][2]
return {entry[1], id, redis.call('HGET', KEYS[3], id), redis.call('HINCRBY', KEYS[4], id, 1)}
"""

# Claims one job that another consumer has held without a heartbeat for ARGV[3] ms.
# KEYS: stream, jobs, tries. ARGV: group, consumer, min idle ms. Same reply as TAKE.
RECLAIM = """
local claimed = redis.call('XAUTOCLAIM', KEYS[1], ARGV[1], ARGV[2], ARGV[3], '0-0', 'COUNT', 1)
local entry = claimed[2][1]
if not entry then return nil end
local id = entry[2][2]
return {entry[1], id, redis.call('HGET', KEYS[2], id), redis.call('HINCRBY', KEYS[3], id, 1)}
"""

# The job is done (or given up): forget it. KEYS: stream, jobs, tries. ARGV: group, entry id, episode id.
FINISH = """
redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
redis.call('XDEL', KEYS[1], ARGV[2])
redis.call('HDEL', KEYS[2], ARGV[3])
redis.call('HDEL', KEYS[3], ARGV[3])
return 1
"""

# Gives a job that was taken but will not run here back to the front of its voter's queue.
# KEYS: stream, ring, voter list, tries, wake. ARGV: group, entry id, episode id, voter.
RELEASE = """
redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
redis.call('XDEL', KEYS[1], ARGV[2])
if redis.call('LPUSH', KEYS[3], ARGV[3]) == 1 then redis.call('LPUSH', KEYS[2], ARGV[4]) end
redis.call('HINCRBY', KEYS[4], ARGV[3], -1)
redis.call('LPUSH', KEYS[5], '1')
return 1
"""

# A worker process says it is alive; returns how many are (heartbeat within ARGV[2] seconds).
# KEYS: workers zset. ARGV: worker id ('' to only count), max age s.
WORKERS = """
local now = tonumber(redis.call('TIME')[1])
if ARGV[1] ~= '' then redis.call('ZADD', KEYS[1], now, ARGV[1]) end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[2]))
return redis.call('ZCARD', KEYS[1])
"""
