// Package redis is the production store.Ephemeral: journeys, auth requests,
// authorization codes, sessions, rate-limit counters and the dev inbox in Redis
// (single node, Sentinel or Cluster through go-redis's UniversalClient; Open picks
// the deployment from the URL).
//
// A record is a hash {v: value, n: version} with a TTL; a counter is a plain
// integer key; a capped list (PushCapped) is a Redis list, newest first. Each write is one Lua script touching exactly one key, so it is
// atomic and can run in Redis Cluster. Every key carries the store's prefix, so
// several deployments or tests can share a database.
//
// It must not import net/http, any SQL driver, or any idp package other than store.
package redis
