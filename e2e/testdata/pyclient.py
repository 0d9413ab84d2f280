#!/usr/bin/python3
"""Drive a server with Debian's python3-redis (redis-py); run by TestE2EPythonClient.

Usage: /usr/bin/python3 e2e/testdata/pyclient.py PORT
Prints "OK" and exits 0, or prints every check that failed and exits 1.
"""
import sys

import redis

failures = []


def check(what, got, want):
    if got != want:
        failures.append("%s: got %r, want %r" % (what, got, want))


def run(port):
    for decode in (False, True):
        r = redis.Redis(host="127.0.0.1", port=port, decode_responses=decode,
                        socket_timeout=30, socket_connect_timeout=10)
        s = (lambda x: x) if decode else (lambda x: x.encode())
        tag = "decode_responses=%s" % decode
        p = "py:%d:" % decode

        check(tag + " PING", r.ping(), True)
        check(tag + " SET", r.set(p + "k", "v1"), True)
        check(tag + " GET", r.get(p + "k"), s("v1"))
        check(tag + " GET missing", r.get(p + "missing"), None)
        check(tag + " SET nx on existing", r.set(p + "k", "v2", nx=True), None)
        check(tag + " MSET", r.mset({p + "a": "1", p + "b": "2", p + "c": "3"}), True)
        check(tag + " MGET", r.mget([p + "a", p + "nokey", p + "c"]), [s("1"), None, s("3")])
        check(tag + " DEL", r.delete(p + "a", p + "b", p + "nokey"), 2)
        check(tag + " EXISTS", r.exists(p + "a", p + "c", p + "c"), 2)
        check(tag + " TTL no expiry", r.ttl(p + "k"), -1)
        check(tag + " TTL missing", r.ttl(p + "nokey"), -2)
        check(tag + " EXPIRE", r.expire(p + "k", 100), True)
        ttl = r.ttl(p + "k")
        if not (98 <= ttl <= 100):
            failures.append("%s TTL after EXPIRE 100: got %r" % (tag, ttl))
        check(tag + " EXPIRE missing", r.expire(p + "nokey", 100), False)

        # binary values survive
        blob = bytes(range(256))
        check(tag + " SET binary", r.set(p + "blob", blob), True)
        if not decode:
            check(tag + " GET binary", r.get(p + "blob"), blob)

        # pipeline without MULTI/EXEC: 1000 SETs, then 1000 GETs
        pipe = r.pipeline(transaction=False)
        for i in range(1000):
            pipe.set("%spipe:%d" % (p, i), "val%d" % i)
        res = pipe.execute()
        check(tag + " pipeline SET results", res, [True] * 1000)
        pipe = r.pipeline(transaction=False)
        for i in range(1000):
            pipe.get("%spipe:%d" % (p, i))
        res = pipe.execute()
        check(tag + " pipeline GET results", res, [s("val%d" % i) for i in range(1000)])

        # SCAN iterates every matching key
        got = set(r.scan_iter(match=p + "pipe:*", count=100))
        want = set(s("%spipe:%d" % (p, i)) for i in range(1000))
        if got != want:
            failures.append("%s scan_iter: %d keys, missing %d, unexpected %d" % (
                tag, len(got), len(want - got), len(got - want)))
        r.close()


def main():
    if len(sys.argv) != 2:
        print("usage: pyclient.py PORT")
        return 2
    try:
        run(int(sys.argv[1]))
    except Exception as e:  # a client error is a failure to report, not a crash
        failures.append("exception: %r" % (e,))
    if failures:
        for f in failures:
            print(f)
        return 1
    print("OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
