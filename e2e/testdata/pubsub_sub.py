#!/usr/bin/python3
"""Subscriber for e2e/pubsub_test.go: python3-redis subscribed to a channel
on one node; prints "subscribed", then each message's payload on a line of
its own, until the message "STOP"."""
import sys

import redis

port, channel = int(sys.argv[1]), sys.argv[2]
r = redis.Redis(host="127.0.0.1", port=port, socket_timeout=120)
p = r.pubsub()
p.subscribe(channel)
for m in p.listen():
    if m["type"] == "subscribe":
        print("subscribed", flush=True)
        continue
    if m["type"] != "message":
        continue
    data = m["data"].decode()
    if data == "STOP":
        break
    print(data, flush=True)
p.close()
