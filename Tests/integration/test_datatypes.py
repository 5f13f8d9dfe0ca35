"""Hashes, lists, sets and sorted sets on a real server: replies checked command by command
against a real redis-server in the same run, blocking pops with real clients, keyspace
notifications, persistence of every type, and redis-benchmark's default test list."""
import codecs
import os
import random
import socket
import subprocess
import threading
import time

import pytest
import redis

from conftest import reference_redis_server, wait_until


@pytest.fixture(scope="module")
def reference_redis():
    """A stock redis-server to compare replies with; stopped when the module's tests end."""
    with reference_redis_server() as port:
        yield port


def _reply(client, command):
    if command[0].upper() == "COMMAND" and len(command) > 1:
        # redis-py parses a bare COMMAND's reply as COMMAND INFO's; named with its subcommand
        # ("COMMAND GETKEYS", sent as two arguments) it takes the subcommand's own parser.
        command = [f"{command[0]} {command[1]}", *command[2:]]
    try:
        return client.execute_command(*command)
    except redis.ResponseError as error:
        return ("error", str(error))


def _argument(word: str):
    """A script word as sent: `""` is the empty string, and `\\xHH` escapes are raw bytes."""
    if word == '""':
        return b""
    return codecs.escape_decode(word)[0] if "\\x" in word else word


def _normalised(reply, unordered: bool):
    if unordered and isinstance(reply, (list, set)):
        return sorted(reply, key=repr)
    if isinstance(reply, dict):
        return sorted(reply.items())
    return reply


# Each script runs on an empty keyspace; `~` marks a command whose reply is a set in no
# particular order (compared sorted).
SCRIPTS = {
    "hash": [
        "HSET h a 1 b 2 c 3", "HSET h a 10 d 4", "HGET h a", "HGET h zz", "HGET nokey a", "HMGET h a zz b", "HLEN h",
        "HEXISTS h a", "HEXISTS h zz", "HSTRLEN h a", "HSTRLEN h zz", "HSETNX h a 5", "HSETNX h e 5", "~HKEYS h",
        "~HVALS h", "HGETALL h", "HDEL h a zz b", "HLEN h", "HINCRBY h n 5", "HINCRBY h n -7", "HINCRBY h c x",
        "HINCRBY h e notanumber", "HSET h big 9223372036854775807", "HINCRBY h big 1", "HINCRBYFLOAT h f 1.5",
        "HINCRBYFLOAT h f 2.25", "HINCRBYFLOAT h e x", "HMSET h x 1 y 2", "HSET h odd", "HDEL h c d e n big f x y",
        "EXISTS h", "HDEL h zz", "HGETALL h", "TYPE h", "HSET s 1 2", "SET str v", "HGET str a", "HSET str a 1",
        "HRANDFIELD nokey", "HRANDFIELD nokey 3", "HRANDFIELD nokey x", "HRANDFIELD nokey 9223372036854775807", "HRANDFIELD h 9223372036854775807",
        "HSCAN nokey 0", "HSCAN h notacursor",
    ],
    # A small hash is packed as Redis's listpack is: same encoding names and thresholds, and
    # its fields in the same order through updates and deletions (HKEYS compared in order).
    "hash encodings": [
        "HSET e a 1 b 2 c 3", "OBJECT ENCODING e", "HSET e b 22 d 4", "HDEL e a", "HSETNX e a 5", "HKEYS e", "HVALS e",
        "HRANDFIELD e 10 WITHVALUES", "CONFIG SET hash-max-listpack-entries 4", "CONFIG GET hash-max-ziplist-entries",
        "HSET e f 6", "OBJECT ENCODING e", "HDEL e a b c d", "OBJECT ENCODING e", "~HGETALL e",
        "CONFIG SET hash-max-listpack-value 8", "HSET v a 12345678", "OBJECT ENCODING v", "HSET v b 123456789",
        "OBJECT ENCODING v", "HSET w 123456789 a", "OBJECT ENCODING w", "HSET x a 1", "HINCRBYFLOAT x a 0.000001",
        "OBJECT ENCODING x", "HINCRBYFLOAT x a 100000000", "OBJECT ENCODING x", "HGET x a",
        "CONFIG SET hash-max-listpack-value 1k", "CONFIG GET hash-max-ziplist-value", "CONFIG SET hash-max-listpack-entries -1",
        "CONFIG SET hash-max-listpack-entries x", "CONFIG SET hash-max-listpack-entries 0", "HSET z a 1", "OBJECT ENCODING z",
        "CONFIG SET hash-max-listpack-entries 512", "CONFIG SET hash-max-listpack-value 64", "~CONFIG GET hash-max-*",
    ],
    # A set of integers is an intset as in Redis: sorted, so SMEMBERS compares in order.
    "set encodings": [
        "SADD s 5 -3 100 5", "OBJECT ENCODING s", "SMEMBERS s", "SADD s -70000 40000", "SMEMBERS s",
        "SADD s 9223372036854775807 -9223372036854775808", "SMEMBERS s", "SISMEMBER s 5", "SISMEMBER s 05",
        "SISMEMBER s x", "SMISMEMBER s 100 -3 0", "SREM s 100 7 x", "SMEMBERS s", "SRANDMEMBER s 10", "SCARD s",
        "OBJECT ENCODING s", "SADD t 1 2 007", "OBJECT ENCODING t", "~SMEMBERS t", "SADD u 1 2 -0", "OBJECT ENCODING u",
        "SADD v 1 +2", "OBJECT ENCODING v", "CONFIG SET set-max-intset-entries 3", "SADD w 1 2 3", "OBJECT ENCODING w",
        "SADD w 4", "OBJECT ENCODING w", "SREM w 4", "OBJECT ENCODING w", "SINTERSTORE x s s", "OBJECT ENCODING x",
        "SADD y 10 20", "SUNIONSTORE z y s", "OBJECT ENCODING z", "CONFIG SET set-max-intset-entries -1",
        "CONFIG SET set-max-intset-entries 512", "CONFIG GET set-max-intset-entries", "SMOVE s y 5", "SMEMBERS y",
        "SSCAN y 0", "SPOP y 10", "EXISTS y",
    ],
    "list": [
        "RPUSH l a b c", "LPUSH l z y", "LRANGE l 0 -1", "LRANGE l -2 100", "LRANGE l 5 1", "LLEN l", "LINDEX l 0",
        "LINDEX l -1", "LINDEX l 99", "LSET l 1 Z", "LSET l 99 x", "LSET nokey 0 x", "LINSERT l BEFORE a A",
        "LINSERT l AFTER c C", "LINSERT l AFTER nothere x", "LINSERT nokey AFTER a x", "LINSERT l SIDEWAYS a x",
        "LRANGE l 0 -1", "RPUSH l a a b a", "LREM l 2 a", "LREM l -1 a", "LREM l 0 b", "LRANGE l 0 -1",
        "LPOS l Z", "LPOS l a RANK -1", "RPUSH l x x x", "LPOS l x COUNT 0", "LPOS l x COUNT 2 RANK 2", "LPOS l x RANK 0",
        "LPOS l x MAXLEN 2", "LPOS l nothere", "LPOS l x COUNT -1", "LPOP l", "RPOP l", "LPOP l 2", "RPOP l 0",
        "LPOP nokey", "LPOP nokey 2", "LPOP l -1", "LTRIM l 1 2", "LRANGE l 0 -1", "LTRIM l 5 1", "EXISTS l",
        "RPUSH src 1 2 3", "LMOVE src dst LEFT RIGHT", "LMOVE src dst RIGHT LEFT", "LMOVE src dst UP DOWN",
        "RPOPLPUSH src dst", "RPOPLPUSH src dst", "EXISTS src", "LRANGE dst 0 -1", "LMOVE dst dst LEFT RIGHT",
        "LRANGE dst 0 -1", "LPUSHX nokey a", "RPUSHX dst last", "LPUSHX dst first", "LRANGE dst 0 -1",
        "SET str v", "LPUSH str a", "LMOVE dst str LEFT LEFT", "LRANGE str 0 -1", "BLPOP dst 0", "BRPOP nokey dst 0.01",
        "BLPOP dst -1", "BLPOP dst notatimeout", "BLMOVE dst other LEFT LEFT 0", "BRPOPLPUSH dst other 0",
        "LRANGE other 0 -1", "TYPE dst", "OBJECT ENCODING other", "RPUSH one a", "EXPIRE one 100", "RPOPLPUSH one one",
        "TTL one", "LMOVE one one LEFT RIGHT", "LRANGE one 0 -1",
        "RPUSH mp a b c d", "LMPOP 2 nokey mp LEFT", "LMPOP 2 nokey mp RIGHT COUNT 2", "LMPOP 1 mp LEFT COUNT 10", "EXISTS mp",
        "LMPOP 1 mp LEFT", "SET plain v", "LMPOP 2 plain mp LEFT", "RPUSH mp x", "LMPOP 2 mp plain LEFT", "LMPOP 0 mp LEFT",
        "LMPOP x mp LEFT", "LMPOP 1 mp", "LMPOP 1 mp UP", "LMPOP 1 mp LEFT COUNT 0", "LMPOP 1 mp LEFT COUNT -1",
        "LMPOP 1 mp LEFT COUNT 1 COUNT 2", "LMPOP 3 mp LEFT", "LMPOP 1 mp LEFT BOGUS",
        "RPUSH bm a b c", "BLMPOP 0 2 nokey bm LEFT", "BLMPOP 0.5 2 nokey bm RIGHT COUNT 5", "EXISTS bm",
        "BLMPOP 0.01 2 nokey bm LEFT", "BLMPOP 0.01 1 plain LEFT", "RPUSH bm x", "BLMPOP 0 2 bm plain RIGHT",
        "BLMPOP -1 1 bm LEFT", "BLMPOP x 1 bm LEFT", "BLMPOP x 0 bm LEFT", "BLMPOP x 1 bm UP", "BLMPOP x 1 bm LEFT COUNT 0",
        "BLMPOP 0 1 bm", "BLMPOP 0 3 bm LEFT", "BLMPOP 0 1 bm LEFT COUNT 1 COUNT 2", "BLMPOP 0 x bm LEFT",
    ],
    "set": [
        "SADD s a b c", "SADD s c d", "SCARD s", "SISMEMBER s a", "SISMEMBER s zz", "SMISMEMBER s a zz d", "~SMEMBERS s",
        "SREM s a zz", "~SMEMBERS s", "SADD t c d e", "SADD u d x", "~SINTER s t", "~SINTER s t u", "~SUNION s t u",
        "~SDIFF s t", "~SDIFF t s u", "~SINTER s nokey", "~SUNION nokey", "SINTERSTORE dst s t", "~SMEMBERS dst",
        "SUNIONSTORE dst s t u", "SCARD dst", "SDIFFSTORE dst s s", "EXISTS dst", "SINTERCARD 2 s t", "SINTERCARD 3 s t u",
        "SINTERCARD 2 s t LIMIT 1", "SINTERCARD 0 s", "SINTERCARD 5 s t", "SINTERCARD 2 s t LIMIT -1", "SMOVE s t b",
        "SMOVE s t zz", "~SMEMBERS t", "SMOVE nokey t a", "SET str v", "SMOVE t str c", "SADD str a", "SINTER s str",
        "SPOP nokey", "SPOP nokey 2", "SPOP s -1", "SRANDMEMBER nokey", "SRANDMEMBER nokey 5", "SADD n 1 2 3",
        "OBJECT ENCODING n", "SSCAN s x", "TYPE s", "~SPOP u 10", "EXISTS u", "SADD solo m", "EXPIRE solo 100",
        "SMOVE solo solo m", "SMOVE solo solo zz", "TTL solo", "SMOVE nokey nokey m", "SMOVE str str m",
    ],
    "zset": [
        "ZADD z 1 a 2 b 3 c", "ZADD z 1.5 a 4 d", "ZADD z NX 9 a 5 e", "ZADD z XX 7 e 8 f", "ZADD z XX CH 7 e 8 f",
        "ZADD z GT 1 b 6 c", "ZADD z LT CH 0 b 9 c", "ZADD z INCR 2.5 a", "ZADD z NX INCR 1 a", "ZADD z INCR 1 a 2 b",
        "ZADD z NX XX 1 a", "ZADD z GT LT 1 a", "ZADD z NX GT 1 a", "ZADD z 1", "ZADD z x a", "ZADD nokey XX 1 a",
        "EXISTS nokey", "ZCARD z", "ZSCORE z a", "ZSCORE z zz", "ZMSCORE z a zz b", "ZINCRBY z 10 b", "ZINCRBY z x b",
        "ZRANGE z 0 -1", "ZRANGE z 0 -1 WITHSCORES", "ZRANGE z 1 2 REV", "ZRANGE z -2 -1", "ZRANGE z 5 1",
        "ZRANGE z 2 6 BYSCORE", "ZRANGE z (2 +inf BYSCORE WITHSCORES", "ZRANGE z +inf -inf BYSCORE REV LIMIT 1 2",
        "ZRANGE z 0 -1 LIMIT 0 1", "ZRANGE z x y BYSCORE", "ZRANGEBYSCORE z -inf +inf", "ZRANGEBYSCORE z (1 6 WITHSCORES LIMIT 1 10",
        "ZREVRANGEBYSCORE z +inf (2", "ZREVRANGE z 0 1 WITHSCORES", "ZRANK z a", "ZRANK z zz", "ZREVRANK z a",
        "ZCOUNT z -inf +inf", "ZCOUNT z (1.5 6", "ZCOUNT z 100 200", "ZCOUNT z x 1",
        "ZADD lex 0 a 0 b 0 c 0 d 0 e", "ZRANGEBYLEX lex - +", "ZRANGEBYLEX lex [b (d", "ZRANGEBYLEX lex (a + LIMIT 1 2",
        "ZREVRANGEBYLEX lex + [c", "ZRANGE lex [b [d BYLEX", "ZRANGE lex [d [b BYLEX REV", "ZRANGEBYLEX lex b d",
        "ZLEXCOUNT lex [b +", "ZRANGE lex - + BYLEX WITHSCORES", "ZREMRANGEBYLEX lex - (b", "ZRANGE lex 0 -1",
        "ZREMRANGEBYSCORE z -inf (2", "ZRANGE z 0 -1 WITHSCORES", "ZREMRANGEBYRANK z 0 0", "ZRANGE z 0 -1",
        "ZADD p 1 a 2 b 3 c 4 d", "ZPOPMIN p", "ZPOPMAX p 2", "ZPOPMIN p 0", "ZPOPMIN nokey", "ZPOPMIN p -1",
        "BZPOPMIN p 0", "BZPOPMAX nokey z 0", "ZRANGE z 0 -1 WITHSCORES", "ZREM z zz", "ZREM z e f zz", "TYPE z",
        "ZADD z -inf lo +inf hi", "ZRANGE z 0 -1 WITHSCORES", "ZSCORE z hi", "ZADD z INCR -inf hi",
        "ZADD z 1e400 big", "ZADD z 1e-400 tiny", "ZADD z 0x1p3 hex", "ZINCRBY z 1e400 hex",
        "ZRANGEBYSCORE z 1e400 +inf", "ZRANGEBYSCORE z -1e400 3 WITHSCORES", "ZADD z 12345678901234567 long", "ZSCORE z long", "SET str v",
        "ZADD str 1 a", "ZRANGE str 0 -1", "ZSCAN nokey 0", "OBJECT ENCODING z",
    ],
    # INCRBYFLOAT and HINCRBYFLOAT add in long double (x87 80-bit here, as in Redis) and
    # store plain decimals; GET shows the stored text where the client would parse a float.
    # A small sorted set is packed as Redis's listpack is, by the same limits.
    "zset encodings": [
        "ZADD z 3 c 1 a 2 b", "OBJECT ENCODING z", "ZRANGE z 0 -1 WITHSCORES", "ZADD z 1 b", "ZRANGE z 0 -1",
        "CONFIG SET zset-max-listpack-entries 4", "CONFIG GET zset-max-ziplist-entries", "ZADD z 4 d", "OBJECT ENCODING z",
        "ZADD z 5 e", "OBJECT ENCODING z", "ZREM z a b c d", "OBJECT ENCODING z", "ZRANGE z 0 -1",
        "CONFIG SET zset-max-listpack-value 3", "ZADD y 1 abc", "OBJECT ENCODING y", "ZADD y 2 abcd", "OBJECT ENCODING y",
        "ZADD x 1 a 2 b", "ZRANGESTORE w x 0 -1", "OBJECT ENCODING w", "ZUNIONSTORE v 2 x y", "OBJECT ENCODING v",
        "ZRANGEBYSCORE v -inf +inf LIMIT 1 2", "ZREVRANGEBYSCORE v +inf -inf LIMIT 1 2", "ZRANGE v (1 +inf BYSCORE REV LIMIT 0 1",
        "CONFIG SET zset-max-listpack-value 1k", "CONFIG GET zset-max-listpack-value", "CONFIG SET zset-max-listpack-entries -1",
        "~CONFIG GET zset-max-*",
    ],
    "float": [
        "INCRBYFLOAT f 0.1", "INCRBYFLOAT f 0.2", "GET f", "INCRBYFLOAT f -0.3", "GET f", "INCRBYFLOAT f 10.5",
        "INCRBYFLOAT f 5.0e3", "INCRBYFLOAT f 1e20", "GET f", "INCRBYFLOAT g -0.0001", "GET g",
        "INCRBYFLOAT big 1e400", "GET big", "INCRBYFLOAT big -1e400", "GET big", "INCRBYFLOAT x 1e5000",
        "INCRBYFLOAT x 1e-5000", "INCRBYFLOAT x 1e-4940", "GET x", "INCRBYFLOAT x 0x10", "INCRBYFLOAT x nan",
        "INCRBYFLOAT x inf", "INCRBYFLOAT x 1.", "INCRBYFLOAT x .5", "GET x", "INCRBYFLOAT m 1.18e4932", "GET m",
        "INCRBYFLOAT m 1.18e4932", "SET s 3.0e3", "INCRBYFLOAT s 1.5", "GET s", "SET t 1e5000", "INCRBYFLOAT t 1",
        "SET u abc", "INCRBYFLOAT u 1", "INCRBYFLOAT d 1.7976931348623157e308", "INCRBYFLOAT d 1.7976931348623157e308",
        "GET d", "HINCRBYFLOAT h f 0.1", "HINCRBYFLOAT h f 0.2", "HGET h f", "HINCRBYFLOAT h f 1e400", "HGET h f",
        "HSET h huge 1e5000", "HINCRBYFLOAT h huge 1", "HINCRBYFLOAT h f x", "HINCRBYFLOAT h f inf",
    ],
    "generic": [
        "HSET h f v", "RPUSH l a", "SADD s m", "ZADD z 1 m", "SET str v", "TYPE h", "TYPE l", "TYPE s", "TYPE z",
        "EXPIRE h 100", "TTL h", "PERSIST h", "TTL h", "RENAME h h2", "HGET h2 f", "EXISTS h", "RENAME l s",
        "TYPE s", "LRANGE s 0 -1", "RENAMENX z str", "DEL h2 s z str", "DBSIZE", "GET l", "INCR z", "APPEND s x",
        "STRLEN z", "GETRANGE z 0 1", "SETRANGE z 0 x", "GETSET z v", "GETDEL z", "GETEX z", "MGET z str nokey",
        "SET z v GET", "SET z v", "TYPE z",
        "COMMAND GETKEYS GET k", "COMMAND GETKEYS MSET a 1 b 2", "COMMAND GETKEYS DEL a b c", "COMMAND GETKEYS LMOVE a b LEFT RIGHT",
        "COMMAND GETKEYS ZUNIONSTORE d 2 a b WEIGHTS 1 2", "COMMAND GETKEYS ZUNION 2 a b", "COMMAND GETKEYS SINTERCARD 2 a b LIMIT 1",
        "COMMAND GETKEYS LMPOP 2 a b LEFT", "COMMAND GETKEYS BLMPOP 0 2 a b LEFT", "COMMAND GETKEYS BZMPOP 0 1 a MIN",
        "COMMAND GETKEYS BLPOP a b 0", "COMMAND GETKEYS get k", "COMMAND GETKEYS NOSUCH a", "COMMAND GETKEYS PING",
        "COMMAND GETKEYS GET", "COMMAND GETKEYS GET a b", "COMMAND GETKEYS ZUNION 3 a b", "COMMAND GETKEYS ZUNION x a",
        "COMMAND GETKEYS ZUNION 0 a", "COMMAND GETKEYS", "COMMAND GETKEYS LMPOP 2 a b",
    ],
    "zalgebra": [
        "ZADD a 1 x 2 y 3 z", "ZADD b 10 y 20 z 30 w", "SADD s y w q", "SET str v",
        "ZUNION 2 a b", "ZUNION 2 a b WITHSCORES", "ZINTER 2 a b WITHSCORES", "ZDIFF 2 a b WITHSCORES", "ZDIFF 2 b a",
        "ZUNION 3 a b s WITHSCORES", "ZINTER 2 b s WITHSCORES", "ZDIFF 2 s a", "ZUNION 2 a b WEIGHTS 2 0.5 WITHSCORES",
        "ZUNION 2 a b AGGREGATE MIN WITHSCORES", "ZUNION 2 a b AGGREGATE max WEIGHTS 1 -1 WITHSCORES",
        "ZINTER 2 a b AGGREGATE MAX WITHSCORES", "ZUNION 2 a nokey WITHSCORES", "ZINTER 2 a nokey", "ZDIFF 2 nokey a",
        "ZUNION 2 a str", "ZUNION 2 a b WEIGHTS 1", "ZUNION 2 a b WEIGHTS 1 x", "ZUNION 2 a b AGGREGATE avg", "ZUNION 0 a",
        "ZUNION -1 a", "ZUNION x a", "ZUNION 3 a b", "ZDIFF 2 a b WEIGHTS 1 2", "ZDIFF 2 a b AGGREGATE SUM", "ZUNION 1 a BOGUS",
        "ZADD inf 1 x", "ZUNION 2 a inf WEIGHTS inf 0 WITHSCORES", "ZUNION 2 a inf WEIGHTS +inf -inf WITHSCORES",
        "ZUNIONSTORE d 2 a b", "ZRANGE d 0 -1 WITHSCORES", "ZINTERSTORE d 2 a b WEIGHTS 3 1", "ZRANGE d 0 -1 WITHSCORES",
        "ZDIFFSTORE d 2 a b", "ZRANGE d 0 -1 WITHSCORES", "ZINTERSTORE d 2 a nokey", "EXISTS d", "ZUNIONSTORE d 2 a b WITHSCORES",
        "ZUNIONSTORE str 1 a", "TYPE str", "ZUNIONSTORE a 2 a b", "ZRANGE a 0 -1 WITHSCORES", "ZINTERCARD 2 a b",
        "ZINTERCARD 2 a b LIMIT 1", "ZINTERCARD 2 a b LIMIT 0", "ZINTERCARD 2 a b LIMIT -1", "ZINTERCARD 0 a",
        "ZINTERCARD 2 a b WITHSCORES", "ZINTERCARD 1 str", "ZINTERSTORE d 1 s", "ZRANGE d 0 -1 WITHSCORES", "OBJECT ENCODING d",
        "ZDIFFSTORE e 1 nokey", "EXISTS e",
        "ZADD r 1 a 2 b 3 c 4 d", "ZRANGESTORE rd r 1 2", "ZRANGE rd 0 -1 WITHSCORES", "ZRANGESTORE rd r (1 +inf BYSCORE LIMIT 1 2",
        "ZRANGE rd 0 -1 WITHSCORES", "ZRANGESTORE rd r [c - BYLEX REV", "ZRANGE rd 0 -1 WITHSCORES", "ZRANGESTORE rd r 0 -1 WITHSCORES",
        "ZRANGESTORE rd r 5 9", "EXISTS rd", "ZRANGESTORE rd nokey 0 -1", "ZRANGESTORE rd nokey x y BYSCORE", "ZRANGESTORE rd str 0 -1",
        "ZRANGESTORE rd r 0 -1 LIMIT 0 1", "ZRANDMEMBER nokey", "ZRANDMEMBER nokey 3", "ZADD one 1 only", "ZRANDMEMBER one", "SET plain v", "ZRANDMEMBER plain", "ZRANDMEMBER plain 2", "ZRANDMEMBER nokey 9223372036854775807", "ZRANDMEMBER one 9223372036854775807", "~ZRANDMEMBER r 10",
        "~ZRANDMEMBER r 10 WITHSCORES", "ZRANDMEMBER r 0", "ZRANDMEMBER r 1 BOGUS", "ZRANDMEMBER r x", "ZRANDMEMBER r 1 WITHSCORES x",
        "ZMPOP 2 nokey r MIN", "ZMPOP 2 nokey r MAX COUNT 2", "ZMPOP 1 r MIN COUNT 10", "EXISTS r", "ZMPOP 1 r MIN",
        "ZMPOP 2 plain r MIN", "ZMPOP 0 r MIN", "ZMPOP x r MIN", "ZMPOP 1 r", "ZMPOP 1 r MIDDLE", "ZMPOP 1 r MIN COUNT 0",
        "ZADD r 1 a", "ZMPOP 1 r MIN COUNT 1 COUNT 2", "ZMPOP 5 r MIN", "ZMPOP 2 r plain MAX",
        "ZADD bz 1 a 2 b 3 c", "BZMPOP 0 2 nokey bz MIN", "BZMPOP 0.5 2 nokey bz MAX COUNT 5", "EXISTS bz",
        "BZMPOP 0.01 2 nokey bz MIN", "BZMPOP 0.01 1 plain MIN", "ZADD bz 1.5 x", "BZMPOP 0 2 bz plain MAX",
        "BZMPOP -1 1 bz MIN", "BZMPOP x 1 bz MIN", "BZMPOP x 0 bz MIN", "BZMPOP x 1 bz MIDDLE", "BZMPOP x 1 bz MIN COUNT 0",
        "BZMPOP 0 1 bz", "BZMPOP 0 3 bz MIN", "BZMPOP 0 x bz MIN",
    ],
    "bitmap": [
        "SETBIT b 7 1", "GET b", "SETBIT b 7 0", "SETBIT b 7 1", "SETBIT b 100 1", "STRLEN b", "GETBIT b 100", "GETBIT b 99",
        "GETBIT b 1000000", "GETBIT nokey 5", "SETBIT b -1 1", "SETBIT b x 1", "SETBIT b 4294967296 1", "SETBIT b 1 2",
        "SETBIT b 1 -1", "SETBIT b 1 x", "GETBIT b -1", "GETBIT b x", "SET s foobar", "BITCOUNT s", "BITCOUNT s 0 0",
        "BITCOUNT s 1 1", "BITCOUNT s 1 -2", "BITCOUNT s -2 -1", "BITCOUNT s -1 -2", "BITCOUNT s 5 1", "BITCOUNT s 0 100",
        "BITCOUNT s 5 30 BIT", "BITCOUNT s 0 -1 BIT", "BITCOUNT s -9 -3 BIT", "BITCOUNT s 3 3 BIT", "BITCOUNT s 0 0 BYTE",
        "BITCOUNT s 0 0 bit", "BITCOUNT s 0 0 WORD", "BITCOUNT s 0", "BITCOUNT s x 1", "BITCOUNT s 1 x", "BITCOUNT nokey",
        "BITCOUNT nokey 0", "BITCOUNT nokey 0 1 WORD", "RPUSH l a", "BITCOUNT l", "GETBIT l 0", "SETBIT l 0 1", "BITPOS l 1",
        "SET p \\xff\\xf0\\x00", "BITPOS p 0", "BITPOS p 1", "SET ones \\xff\\xff\\xff", "BITPOS ones 0", "BITPOS ones 0 1",
        "BITPOS ones 0 1 2", "BITPOS ones 0 0 -1", "BITPOS ones 1 2", "BITPOS ones 1 -1", "SET z \\x00\\x00\\x00",
        "BITPOS z 1", "BITPOS z 0", "BITPOS z 1 0 -1", "BITPOS nokey 1", "BITPOS nokey 0", "BITPOS s 1 2 -1 BIT",
        "BITPOS s 0 7 15 BIT", "BITPOS s 1 7 15 bit", "BITPOS s 1 5 4", "BITPOS s 1 -1 -2", "BITPOS s 0 100",
        "BITPOS s 1 0 0 WORD", "BITPOS s 2", "BITPOS s x", "BITPOS s 1 x", "BITPOS s 1 0 x", "BITPOS s 1 0 0 BYTE x",
        "BITPOS s 0 1 1 BYTE", "BITPOS ones 0 0 23 BIT", "BITPOS ones 0 3 9 BIT", "SET e \"\"", "BITPOS e 0", "BITPOS e 1",
        "BITCOUNT e", "SET a abc", "SET c xy", "BITOP AND dest a c", "GET dest", "BITOP OR dest a c", "GET dest",
        "BITOP XOR dest a c nokey", "GET dest", "BITOP NOT dest a", "GET dest", "BITOP NOT dest a c", "BITOP NAND dest a",
        "BITOP AND dest nokey other", "EXISTS dest", "BITOP OR dest l", "BITOP and dest a", "GET dest",
        "SET t v", "EXPIRE t 100", "BITOP OR t a", "TTL t", "SETBIT t 0 1", "TTL t",
    ],
    "hyperloglog": [
        "PFADD h a b c", "PFADD h a", "PFADD h", "PFADD h2", "GET h2", "PFADD h d e f g h i j k l m n o p", "GET h", "STRLEN h",
        "PFCOUNT h", "GET h", "PFCOUNT h2", "GET h2", "PFADD h zz", "GET h", "PFCOUNT nokey", "TYPE h", "PFCOUNT h h2 nokey", "GET h", "PFADD h3 x y z a", "PFCOUNT h h3",
        "PFMERGE m h h3", "PFCOUNT m", "PFMERGE m", "PFCOUNT m", "PFMERGE m2", "EXISTS m2", "PFCOUNT m2", "PFMERGE m3 nokey",
        "PFCOUNT m3", "SET s hello", "PFADD s a", "PFCOUNT s", "PFCOUNT h s", "PFMERGE m s", "PFMERGE s h", "RPUSH l a",
        "PFADD l a", "PFCOUNT l", "PFMERGE l h", "PFMERGE m l", "PFADD", "PFCOUNT", "PFMERGE",
        "SET fake HYLL\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x7f", "PFCOUNT fake",
        "SET long HYLL\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x80\\x7f\\xff\\x7f\\xff", "PFCOUNT long", "PFCOUNT long h", "PFMERGE m long",
        "SET fake2 HYLL\\x02\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x7f\\xff", "PFCOUNT fake2",
        "SET fake3 HYLL\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00", "PFCOUNT fake3",
        "SET t v", "PFADD e1 a", "EXPIRE e1 100", "PFADD e1 b", "TTL e1", "PFMERGE e1 h", "TTL e1", "PFADD e1 a", "TTL e1",
        "SET sparse HYLL\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x7f\\xff", "PFCOUNT sparse", "PFADD sparse q",
        "GET sparse", "PFCOUNT sparse", "OBJECT ENCODING h",
    ],
    "geo": [
        "GEOADD g 13.361389 38.115556 Palermo 15.087269 37.502669 Catania", "GEOADD g 13.361389 38.115556 Palermo",
        "GEOADD g CH 13.5 38.1 Palermo", "GEOADD g NX 1 1 Palermo 2 2 Other", "GEOADD g XX CH 13.361389 38.115556 Palermo 3 3 New",
        "GEOADD g NX XX 1 1 a", "GEOADD g 1 2", "GEOADD g 181 10 x", "GEOADD g 10 86 x", "GEOADD g x 1 y", "GEOADD g 1 y z",
        "GEOADD g -180 -85.05112878 sw 180 85.05112878 ne 0 0 origin", "GEOADD gx XX 1 1 a", "EXISTS gx",
        "GEOPOS g Palermo Catania nokey sw ne origin", "GEOPOS nokey a b", "GEOPOS g", "ZSCORE g Palermo", "ZSCORE g origin",
        "GEODIST g Palermo Catania", "GEODIST g Palermo Catania km", "GEODIST g Palermo Catania MI", "GEODIST g Palermo Catania ft",
        "GEODIST g Palermo Catania m", "GEODIST g Palermo Catania parsec", "GEODIST g Palermo nokey", "GEODIST nokey a b",
        "GEODIST g Palermo Catania km extra", "GEODIST g sw ne", "GEODIST g Palermo Palermo",
        "GEOHASH g Palermo Catania nokey sw ne origin", "GEOHASH nokey a", "GEOHASH g",
        "GEOADD g 13.583333 37.316667 Agrigento 12.758489 38.788135 edge1 17.241510 38.788135 edge2",
        "GEOSEARCH g FROMLONLAT 15 37 BYRADIUS 200 km ASC", "GEOSEARCH g FROMLONLAT 15 37 BYRADIUS 200 km DESC WITHDIST",
        "GEOSEARCH g FROMLONLAT 15 37 BYRADIUS 200 km ASC WITHCOORD WITHDIST WITHHASH",
        "GEOSEARCH g FROMMEMBER Palermo BYRADIUS 100 km ASC WITHDIST", "GEOSEARCH g FROMMEMBER Palermo BYBOX 400 400 km ASC WITHDIST",
        "GEOSEARCH g FROMLONLAT 15 37 BYBOX 400 400 km ASC WITHCOORD", "GEOSEARCH g FROMLONLAT 15 37 BYBOX 1 1 km",
        "GEOSEARCH g FROMLONLAT 15 37 BYRADIUS 200 km COUNT 2", "GEOSEARCH g FROMLONLAT 15 37 BYRADIUS 200 km COUNT 2 DESC",
        "GEOSEARCH g FROMLONLAT 15 37 BYRADIUS 200 km COUNT 20 ANY ASC", "GEOSEARCH g FROMLONLAT 15 37 BYRADIUS 200 km ANY",
        "GEOSEARCH g FROMLONLAT 15 37 BYRADIUS 200 km COUNT 0", "GEOSEARCH g FROMLONLAT 15 37 BYRADIUS 200 km COUNT x",
        "GEOSEARCH g FROMLONLAT 15 37 BYRADIUS -1 km", "GEOSEARCH g FROMLONLAT 15 37 BYRADIUS 1 parsec",
        "GEOSEARCH g FROMLONLAT 15 37 BYBOX -1 1 km", "GEOSEARCH g FROMLONLAT 15 37 BYBOX 1 1 au",
        "GEOSEARCH g FROMMEMBER nokey BYRADIUS 1 km", "GEOSEARCH nokey FROMMEMBER a BYRADIUS 1 km",
        "GEOSEARCH g FROMLONLAT 200 37 BYRADIUS 1 km", "GEOSEARCH g BYRADIUS 1 km", "GEOSEARCH g FROMLONLAT 15 37 ASC",
        "GEOSEARCH g FROMLONLAT 15 37 FROMMEMBER Palermo BYRADIUS 1 km", "GEOSEARCH g FROMLONLAT 15 37 BYRADIUS 1 km BYBOX 1 1 km",
        "GEOSEARCH g FROMLONLAT 15 37 BYRADIUS 1 km STORE x", "GEOSEARCH g FROMLONLAT 15 37 BYRADIUS 1 km bogus",
        "GEOSEARCH g FROMLONLAT 15 37 BYRADIUS 500 km WITHDIST ASC COUNT 3",
        "GEOSEARCHSTORE dst g FROMLONLAT 15 37 BYRADIUS 200 km ASC", "ZRANGE dst 0 -1 WITHSCORES",
        "GEOSEARCHSTORE dst g FROMLONLAT 15 37 BYRADIUS 200 km ASC STOREDIST", "ZRANGE dst 0 -1", "ZCOUNT dst 56.4412 56.4413",
        "GEOSEARCHSTORE dst g FROMLONLAT 15 37 BYRADIUS 200 km WITHDIST", "GEOSEARCHSTORE dst g FROMLONLAT 0 -80 BYRADIUS 1 km",
        "EXISTS dst", "GEOSEARCHSTORE dst nokey FROMLONLAT 0 0 BYRADIUS 1 km", "GEOSEARCHSTORE dst g FROMLONLAT 0 0 BYRADIUS 1 km COUNT 1 ANY",
        "GEORADIUS g 15 37 200 km ASC", "GEORADIUS g 15 37 200 km WITHDIST WITHCOORD ASC COUNT 2",
        "GEORADIUS g 15 37 200 km STORE r1 ASC", "ZRANGE r1 0 -1 WITHSCORES", "GEORADIUS g 15 37 200 km STOREDIST r2 ASC",
        "ZRANGE r2 0 -1", "ZCOUNT r2 56.4412 56.4413", "GEORADIUS g 15 37 200 km STORE r3 WITHDIST", "GEORADIUS_RO g 15 37 200 km STORE r3",
        "GEORADIUS_RO g 15 37 200 km ASC WITHHASH", "GEORADIUS g 15 37 -200 km", "GEORADIUS g 15 37 200 km FROMMEMBER Palermo",
        "GEORADIUSBYMEMBER g Palermo 200 km ASC WITHDIST", "GEORADIUSBYMEMBER g nokey 200 km", "GEORADIUSBYMEMBER nokey a 200 km",
        "GEORADIUSBYMEMBER_RO g Agrigento 100 km DESC", "GEORADIUSBYMEMBER g Palermo 200 km STORE r4", "ZCARD r4",
        "GEOSEARCH g FROMLONLAT 179.9 0 BYRADIUS 30 km", "GEOADD g 179.95 0.1 east -179.95 0.1 west",
        "GEOSEARCH g FROMLONLAT 179.9 0 BYRADIUS 30 km ASC WITHDIST", "GEOSEARCH g FROMLONLAT -179.99 0 BYBOX 100 100 km ASC",
        "GEOSEARCH g FROMLONLAT 0 0 BYRADIUS 5000 km ASC", "GEOSEARCH g FROMLONLAT 0 -85 BYBOX 40000 500 km ASC",
        "SET s v", "GEOADD s 1 1 a", "GEOPOS s a", "GEODIST s a b", "GEOHASH s a", "GEOSEARCH s FROMLONLAT 1 1 BYRADIUS 1 km",
        "ZADD z 1.5 frac -1 neg", "GEOPOS z frac neg", "GEOHASH z frac",
        "GEOSEARCH z FROMLONLAT -180 -85 BYRADIUS 10 km WITHHASH",
        "COMMAND GETKEYS GEORADIUS g 15 37 200 km STORE r1 ASC STOREDIST r2", "COMMAND GETKEYS GEORADIUSBYMEMBER g a 1 km",
        "COMMAND GETKEYS GEOSEARCHSTORE dst g FROMLONLAT 1 1 BYRADIUS 1 km",
    ],
    "lcs": [
        "MSET key1 ohmytext key2 mynewtext", "LCS key1 key2", "LCS key1 key2 LEN", "LCS key1 key2 IDX",
        "LCS key1 key2 IDX MINMATCHLEN 4", "LCS key1 key2 IDX MINMATCHLEN 4 WITHMATCHLEN", "LCS key1 key2 idx withmatchlen",
        "LCS key1 key2 LEN IDX", "LCS key1 key2 MINMATCHLEN", "LCS key1 key2 MINMATCHLEN x", "LCS key1 key2 MINMATCHLEN -3 IDX",
        "LCS key1 key2 BOGUS", "LCS key1 nokey", "LCS nokey nokey2 IDX", "LCS key1 key1", "RPUSH l a", "LCS key1 l",
        "LCS l key1 BOGUS", "MSET a abcabcabc b cbacbacba", "LCS a b", "LCS a b IDX WITHMATCHLEN", "LCS b a IDX",
        "MSET c aaaa d aa", "LCS c d IDX WITHMATCHLEN", "SET e \"\"", "LCS e key1 IDX", "LCS key1 e LEN",
        "MSET f GTAGCGATCAGTGGCAT g GTTCGGAATGCCATTGGAC", "LCS f g", "LCS f g IDX WITHMATCHLEN MINMATCHLEN 2",
    ],
    "sort": [
        "RPUSH l 3 1 2 10 -5 2.5 0x10 \"\" +4", "SORT l", "SORT l DESC", "SORT l LIMIT 1 3", "SORT l LIMIT -2 3", "SORT l LIMIT 3 -1",
        "SORT l LIMIT 20 5", "SORT l LIMIT 0 0", "SORT l ALPHA", "SORT l ALPHA DESC LIMIT 0 4", "SORT l BY nosort", "SORT l BY nosort DESC",
        "SORT l BY nosort LIMIT 2 3", "SORT l BY nosort DESC LIMIT 2 3", "SORT l STORE dst", "LRANGE dst 0 -1", "SORT l LIMIT 1 2 STORE dst",
        "LRANGE dst 0 -1", "SORT l LIMIT 20 2 STORE dst", "EXISTS dst", "SORT l LIMIT x 1", "SORT l LIMIT 1", "SORT l BOGUS", "SORT_RO l STORE x",
        "SORT_RO l DESC LIMIT 0 2", "RPUSH bad 1 x 3", "SORT bad", "SORT bad ALPHA", "RPUSH bad2 1 nan", "SORT bad2",
        "RPUSH spaced \\x205 4", "SORT spaced", "RPUSH trail 5\\x20", "SORT trail", "SORT nokey", "SORT nokey STORE dst2",
        "SADD s 5 3 b a 1", "SORT s ALPHA", "SORT s", "SADD n 5 3 1 20", "SORT n", "SORT n DESC LIMIT 1 2", "~SORT n BY nosort",
        "SORT n BY nosort STORE sd", "LRANGE sd 0 -1", "ZADD z 1 c 2 b 3 a 4 10", "SORT z ALPHA", "SORT z BY nosort", "SORT z BY nosort DESC",
        "SORT z BY nosort LIMIT 1 2", "SORT z", "SET str v", "SORT str", "HSET h f v", "SORT h", "RPUSH eq 1 01 1.0 a", "SORT eq ALPHA",
        "RPUSH same 2 1 2.0 1.0 02", "SORT same", "SORT same DESC",
        "COMMAND GETKEYS SORT l LIMIT 0 1 STORE d1 BY store STORE d2", "COMMAND GETKEYS SORT l STORE", "COMMAND GETKEYS SORT_RO l",
        # Last: after an out-of-range element Redis keeps ERANGE in errno, and every numeric SORT
        # on that connection fails until a system call resets it.
        "RPUSH bad3 1 1e400", "SORT bad3",
    ],
    "copy": [
        "SET s hello", "EXPIRE s 1000", "COPY s s2", "GET s2", "TTL s2", "COPY s s2", "COPY s s2 REPLACE", "COPY s s",
        "COPY nokey x", "COPY s s3 DB 0", "COPY s s4 DB 99", "COPY s s4 DB x", "COPY s s4 BOGUS", "COPY s s4 REPLACE DB",
        "RPUSH l a b c", "COPY l l2", "RPUSH l2 d", "LRANGE l 0 -1", "LRANGE l2 0 -1", "HSET h f v g w", "COPY h h2",
        "HDEL h2 f", "~HGETALL h", "~HGETALL h2", "SADD st a b", "COPY st st2", "SREM st a", "~SMEMBERS st2",
        "ZADD z 1 a 2 b", "COPY z z2", "ZINCRBY z2 5 a", "ZRANGE z 0 -1 WITHSCORES", "ZRANGE z2 0 -1 WITHSCORES",
        "COPY z s2", "COPY z s2 REPLACE", "TYPE s2", "ZCARD s2", "TTL s2", "OBJECT ENCODING s2", "DBSIZE",
    ],
}

# The sorted-set scripts again with every sorted set past its packed encoding from its first
# member, in both servers, so each command runs on the skip list too.
for _name in ["zset", "zalgebra", "geo"]:
    SCRIPTS[f"{_name} (skiplist)"] = ["CONFIG SET zset-max-listpack-entries 0", *SCRIPTS[_name]]

# Redis's defaults for the encoding limits the scripts change, restored after every script.
ENCODING_DEFAULTS = {
    "hash-max-listpack-entries": "512", "hash-max-listpack-value": "64", "set-max-intset-entries": "512",
    "zset-max-listpack-entries": "128", "zset-max-listpack-value": "64",
}


@pytest.mark.parametrize("protocol", [2, 3])
@pytest.mark.parametrize("script", sorted(SCRIPTS))
def test_replies_match_redis(server, reference_redis, script, protocol):
    ours = redis.Redis(port=server.port, socket_timeout=10, protocol=protocol)
    theirs = redis.Redis(port=reference_redis, socket_timeout=10, protocol=protocol)
    ours.flushall()
    theirs.flushall()
    try:
        for line in SCRIPTS[script]:
            unordered = line.startswith("~")
            command = [_argument(word) for word in line.lstrip("~").split(" ")]
            expected = _normalised(_reply(theirs, command), unordered)
            actual = _normalised(_reply(ours, command), unordered)
            assert actual == expected, f"{line}: ringcache {actual!r}, redis {expected!r}"
    finally:
        for client in (ours, theirs):
            for name, value in ENCODING_DEFAULTS.items():
                client.config_set(name, value)


# Commands whose keyspace events Redis raises in a set order: the command's event, then
# `del` when it emptied the key; LMOVE's push before its pop.
EVENT_SCRIPT = [
    "RPUSH l a b c", "LPOP l", "RPOP l 2", "HSET h f v g w", "HDEL h f g", "SADD s m", "SREM s m", "ZADD z 1 m",
    "ZREM z m", "SADD s2 a b", "SPOP s2 2", "ZADD z2 1 a", "ZPOPMIN z2", "ZADD z3 1 a", "ZPOPMAX z3 5", "RPUSH l2 a",
    "LMOVE l2 l3 LEFT LEFT", "RPUSH l4 x", "LREM l4 0 x", "RPUSH l5 a b", "LTRIM l5 5 6", "SADD s3 m", "SMOVE s3 s4 m",
    "SMOVE s4 s4 m", "RPUSH l6 a", "RPOPLPUSH l6 l6", "RPUSH l7 a", "BLPOP l7 0", "ZADD z4 1 a 2 b",
    "ZREMRANGEBYRANK z4 0 -1", "ZADD z5 1 a", "ZREMRANGEBYSCORE z5 -inf +inf", "ZADD z6 0 a", "ZREMRANGEBYLEX z6 - +",
    "HSET h2 a 1", "HINCRBY h2 a 1", "HINCRBYFLOAT h2 a 1.5", "SET k v", "GETDEL k", "SADD a 1 2", "SADD b 2",
    "SINTERSTORE c a b", "SDIFFSTORE c a a", "RPUSH l8 a", "LSET l8 0 b", "LINSERT l8 BEFORE b c", "LPUSHX l8 d",
    "SET n 1", "INCR n", "EXPIRE n 100", "PERSIST n", "RENAME n m", "DEL m nokey",
    "SET r hello", "SETRANGE r 0 J", "SETRANGE r 8 x", "SETRANGE r2 2 y", "APPEND r !", "APPEND r3 new",
    "INCRBY i 5", "DECR i", "DECRBY i 2", "INCRBYFLOAT i 1.5", "GETSET r x", "SETEX e 100 v", "PSETEX e2 100000 v",
    "SETNX r4 v", "MSET m1 1 m2 2", "MSETNX m3 1 m4 2", "GETEX r PX 100000", "GETEX r PERSIST", "SET r y KEEPTTL",
    "SET r z GET", "GETEX r PERSIST", "SET r5 v EX 100", "SET r5 w PX 100000 GET", "SET r5 u KEEPTTL",
    "EXPIREAT r 1", "ZADD za 1 a", "ZADD zb 2 a", "ZUNIONSTORE zc 2 za zb", "ZINTERSTORE zc 2 za zb", "ZDIFFSTORE zc 2 za zb",
    "ZINTERSTORE zb 2 za nokey", "ZADD zr 1 a", "ZRANGESTORE zs zr 0 -1", "ZADD zm 1 a 2 b", "ZMPOP 1 zm MIN", "ZMPOP 1 zm MAX",
    "RPUSH lm a b", "LMPOP 1 lm LEFT COUNT 2", "RPUSH lb a b", "BLMPOP 0 1 lb RIGHT", "BLMPOP 0 1 lb RIGHT", "ZADD zb2 1 a",
    "BZMPOP 0 1 zb2 MAX", "SETBIT bm 7 1", "SETBIT bm 7 0", "BITOP NOT bn bm", "BITOP AND bn nokey", "BITOP OR bm2 bm", "SET t v", "PEXPIRE t 100000", "COPY t t2", "COPY t t2 REPLACE", "RPUSH cl a", "COPY cl cl2", "RENAMENX t t3", "UNLINK t3",
    "PFADD hl a b", "PFADD hl a", "PFADD hl2", "PFMERGE hm hl hl2",
    "GEOADD geo 13.361389 38.115556 Palermo", "GEOADD geo 13.361389 38.115556 Palermo", "GEOSEARCHSTORE gs geo FROMMEMBER Palermo BYRADIUS 1 km",
    "GEORADIUS geo 13.361389 38.115556 1 km STORE gr", "GEOSEARCHSTORE gs geo FROMLONLAT 0 0 BYRADIUS 1 km",
    "RPUSH sl 2 1", "SORT sl STORE sd", "SORT nokey STORE sd",
]


def _keyevents(port: int) -> list[tuple[bytes, bytes]]:
    client = redis.Redis(port=port, socket_timeout=10)
    client.flushall()
    client.config_set("notify-keyspace-events", "KEA")
    pubsub = client.pubsub()
    pubsub.psubscribe("__keyevent@0__:*")
    assert pubsub.get_message(timeout=5)["type"] == "psubscribe"
    for line in EVENT_SCRIPT:
        client.execute_command(*line.split(" "))
    client.publish("__keyevent@0__:end", "end")
    events = []
    while not events or events[-1] != (b"__keyevent@0__:end", b"end"):
        message = pubsub.get_message(timeout=5)
        assert message is not None, f"no end marker after {events}"
        if message["type"] == "pmessage":
            events.append((message["channel"], message["data"]))
    pubsub.close()
    client.config_set("notify-keyspace-events", "")
    return events


def test_keyspace_events_come_in_redis_order(server, reference_redis):
    ours, theirs = _keyevents(server.port), _keyevents(reference_redis)
    assert len(theirs) > len(EVENT_SCRIPT)
    assert ours == theirs


def test_geo_searches_find_what_redis_finds_and_what_it_misses_near_the_poles_and_the_antimeridian(server, reference_redis):
    """The same 2,000 positions in Ringcache and redis-server, clustered near the equator,
    Sicily, the poles' limits and the antimeridian, and 300 searches of every size around
    them: each answer holds Redis's matches with the same distances, coordinates and hashes,
    in the same order; and every further match lies inside the area (checked with GEODIST
    from a member placed at the centre, which GEOADD moves by well under a metre). Redis's
    nine-cell search misses some of those; Ringcache reads cells as large as the area."""
    ours, theirs = redis.Redis(port=server.port, socket_timeout=10), redis.Redis(port=reference_redis, socket_timeout=10)
    rng = random.Random(17)
    centres = [(0, 0), (179.5, 10), (-179.8, -20), (13, 38), (100, 84.9), (-60, -84.9), (180, 85.05112878)]

    def near():
        x, y = rng.choice(centres)
        return max(-180, min(180, x + rng.gauss(0, 2))), max(-85.05112878, min(85.05112878, y + rng.gauss(0, 1)))

    for client in (ours, theirs):
        client.flushall()
    positions = []
    for index in range(2000):
        positions += [*near(), f"m{index}"]
    for start in range(0, len(positions), 300):
        assert ours.execute_command("GEOADD", "g", *positions[start:start + 300]) == theirs.execute_command("GEOADD", "g", *positions[start:start + 300])
    identical = supersets = extra_checked = 0
    for query in range(300):
        longitude, latitude = near()
        radius = rng.choice([1, 20, 150, 800, 3000])
        command = ["GEOSEARCH", "g", "FROMLONLAT", longitude, latitude, "BYRADIUS", radius, "km", "ASC", "WITHDIST", "WITHCOORD", "WITHHASH"]
        mine, redis_answer = ours.execute_command(*command), theirs.execute_command(*command)
        if mine == redis_answer:
            identical += 1
            continue
        found = {item[0]: item for item in mine}
        assert all(found.get(item[0]) == item for item in redis_answer), f"{command}: a match of Redis's is missing or differs"
        assert [item[0] for item in mine if item[0] in {entry[0] for entry in redis_answer}] == [item[0] for item in redis_answer]
        ours.execute_command("GEOADD", "g", longitude, latitude, "centre")
        for member in set(found) - {item[0] for item in redis_answer}:
            assert float(ours.geodist("g", "centre", member, "km")) <= radius + 0.001, f"{command}: {member} is outside"
            extra_checked += 1
        ours.zrem("g", "centre")
        supersets += 1
    print(f"\n300 geo searches: {identical} identical to redis-server's, {supersets} with {extra_checked} further matches inside the area")
    assert identical > 150 and identical + supersets == 300


def test_random_picks_come_from_the_collection(client):
    client.sadd("s", *[str(n) for n in range(50)])
    client.hset("h", mapping={f"f{n}": n for n in range(20)})
    picks = client.srandmember("s", 10)
    assert len(picks) == 10 and len(set(picks)) == 10 and all(0 <= int(p) < 50 for p in picks)
    assert len(client.srandmember("s", -100)) == 100, "a negative count allows repeats"
    assert len(client.srandmember("s", 500)) == 50
    fields = client.hrandfield("h", 5, withvalues=True)
    assert len(fields) == 10 and all(fields[i + 1] == str(int(fields[i][1:])).encode() for i in range(0, 10, 2))
    popped = client.spop("s", 45)
    assert len(set(popped)) == 45 and client.scard("s") == 5
    assert set(popped) | set(client.smembers("s")) == {str(n).encode() for n in range(50)}


def test_two_consumers_on_brpop_lose_and_duplicate_nothing(server):
    jobs = 10_000
    received: list[list[bytes]] = [[], []]
    done = threading.Event()

    def consume(slot: int):
        connection = server.client()
        while not done.is_set():
            item = connection.brpop(["jobs"], timeout=0.2)
            if item is not None:
                received[slot].append(item[1])

    consumers = [threading.Thread(target=consume, args=(slot,), daemon=True) for slot in range(2)]
    for consumer in consumers:
        consumer.start()
    producer = server.client()
    for start in range(0, jobs, 100):
        # Pushes of one and of many elements both wake waiters.
        if start % 200 == 0:
            for n in range(start, start + 100):
                producer.lpush("jobs", f"job-{n}")
        else:
            producer.lpush("jobs", *[f"job-{n}" for n in range(start, start + 100)])
    wait_until(lambda: len(received[0]) + len(received[1]) >= jobs, timeout=60, message="every job to be consumed")
    done.set()
    for consumer in consumers:
        consumer.join(timeout=5)
    everything = received[0] + received[1]
    assert len(everything) == jobs, "no job was delivered twice"
    assert set(everything) == {f"job-{n}".encode() for n in range(jobs)}, "no job was lost"
    assert received[0] and received[1], "both consumers were served"
    assert producer.llen("jobs") == 0


def _blocked_clients(client) -> int:
    return client.info("clients")["blocked_clients"]


def test_waiters_are_served_first_come_first_served(server):
    control = server.client()
    results: dict[str, object] = {}
    threads = []
    for name in ["first", "second", "third"]:
        def wait(name=name):
            results[name] = server.client().blpop(["queue"], timeout=10)
        thread = threading.Thread(target=wait, daemon=True)
        thread.start()
        threads.append(thread)
        expected = len(threads)
        wait_until(lambda: _blocked_clients(control) == expected, timeout=5, message=f"{name} to block")
    control.rpush("queue", "1", "2", "3")
    for thread in threads:
        thread.join(timeout=10)
    assert results == {"first": (b"queue", b"1"), "second": (b"queue", b"2"), "third": (b"queue", b"3")}
    assert _blocked_clients(control) == 0


def test_an_element_is_never_lost_to_a_waiter_that_disconnected(server):
    control = server.client()
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as gone:
        gone.sendall(b"*3\r\n$5\r\nBLPOP\r\n$5\r\nqueue\r\n$1\r\n0\r\n")
        wait_until(lambda: _blocked_clients(control) == 1, timeout=5, message="the waiter to block")
    wait_until(lambda: _blocked_clients(control) == 0, timeout=5, message="the server to notice the disconnect")
    control.rpush("queue", "kept")
    assert control.lrange("queue", 0, -1) == [b"kept"]


def test_blocking_timeouts_and_blmove(server):
    client = server.client()
    started = time.monotonic()
    assert client.blpop(["nothing"], timeout=0.2) is None
    assert time.monotonic() - started >= 0.19, "the timeout is honoured, not cut short"
    assert client.execute_command("BLMOVE", "nothing", "dst", "LEFT", "RIGHT", "0.1") is None
    assert client.execute_command("BZPOPMIN", "nothing", "0.1") is None
    mover = {}
    thread = threading.Thread(target=lambda: mover.update(value=server.client().blmove("src", "dst", 10, "RIGHT", "LEFT")), daemon=True)
    thread.start()
    wait_until(lambda: _blocked_clients(client) == 1, timeout=5, message="BLMOVE to block")
    client.rpush("src", "a", "b")
    thread.join(timeout=10)
    assert mover["value"] == b"b"
    assert client.lrange("dst", 0, -1) == [b"b"] and client.lrange("src", 0, -1) == [b"a"]
    popper = {}
    thread = threading.Thread(target=lambda: popper.update(value=server.client().bzpopmax(["board"], timeout=10)), daemon=True)
    thread.start()
    wait_until(lambda: _blocked_clients(client) == 1, timeout=5, message="BZPOPMAX to block")
    client.zadd("board", {"low": 1, "high": 9})
    thread.join(timeout=10)
    assert popper["value"] == (b"board", b"high", 9.0)


def test_blmpop_and_bzmpop_wait_for_any_of_their_keys(server):
    client = server.client()
    started = time.monotonic()
    assert client.execute_command("BLMPOP", "0.2", "2", "none", "nada", "LEFT") is None
    assert time.monotonic() - started >= 0.19, "the timeout is honoured, not cut short"
    assert client.execute_command("BZMPOP", "0.1", "1", "none", "MIN") is None
    popped = {}
    thread = threading.Thread(target=lambda: popped.update(value=server.client().execute_command(
        "BLMPOP", "10", "2", "first", "second", "RIGHT", "COUNT", "2")), daemon=True)
    thread.start()
    wait_until(lambda: _blocked_clients(client) == 1, timeout=5, message="BLMPOP to block")
    # The second key gets elements: the waiter takes two from its right end.
    client.rpush("second", "a", "b", "c")
    thread.join(timeout=10)
    assert popped["value"] == [b"second", [b"c", b"b"]]
    assert client.lrange("second", 0, -1) == [b"a"]
    # Two waiters on one sorted set: one ZADD of three members serves both, in order.
    results: dict[str, object] = {}
    threads = []
    for name, count in (("first", "2"), ("second", "5")):
        def wait(name=name, count=count):
            results[name] = server.client().execute_command("BZMPOP", "10", "1", "board", "MAX", "COUNT", count)
        threads.append(threading.Thread(target=wait, daemon=True))
        threads[-1].start()
        expected = len(threads)
        wait_until(lambda: _blocked_clients(client) == expected, timeout=5, message=f"{name} BZMPOP to block")
    client.zadd("board", {"low": 1, "mid": 5, "high": 9})
    for thread in threads:
        thread.join(timeout=10)
    assert results == {"first": [b"board", [[b"high", b"9"], [b"mid", b"5"]]], "second": [b"board", [[b"low", b"1"]]]}
    assert _blocked_clients(client) == 0 and client.exists("board") == 0


def test_a_blocked_client_answers_its_pipelined_requests_in_order(server):
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as connection:
        connection.sendall(b"BLPOP q 5\r\nPING\r\n")
        wait_until(lambda: _blocked_clients(server.client()) == 1, timeout=5, message="the client to block")
        server.client().rpush("q", "x")
        expected = b"*2\r\n$1\r\nq\r\n$1\r\nx\r\n+PONG\r\n"
        received = b""
        deadline = time.monotonic() + 5
        while len(received) < len(expected) and time.monotonic() < deadline:
            received += connection.recv(1024)
        assert received == expected


def _events(pubsub, count: int) -> list[tuple[bytes, bytes]]:
    events = []
    deadline = time.monotonic() + 10
    while len(events) < count and time.monotonic() < deadline:
        message = pubsub.get_message(timeout=0.5)
        if message and message["type"] == "pmessage":
            events.append((message["channel"], message["data"]))
    return events


def test_keyspace_notifications_for_writes_and_expiry(start_server):
    server = start_server("--notify-keyspace-events", "KEA")
    client = server.client()
    assert client.config_get("notify-keyspace-events") == {"notify-keyspace-events": "AKE"}
    pubsub = client.pubsub()
    pubsub.psubscribe("__keyevent@0__:*")
    assert pubsub.get_message(timeout=5)["type"] == "psubscribe"
    client.hset("h", "f", "v")
    client.lpush("l", "a")
    client.zadd("z", {"m": 1})
    client.sadd("s", "m")
    client.delete("h")
    client.set("soon", "v", px=50)
    events = _events(pubsub, 7)
    # A SET that gives a TTL raises `expire` after `set`, as Redis's does.
    assert events == [(b"__keyevent@0__:hset", b"h"), (b"__keyevent@0__:lpush", b"l"), (b"__keyevent@0__:zadd", b"z"),
                      (b"__keyevent@0__:sadd", b"s"), (b"__keyevent@0__:del", b"h"), (b"__keyevent@0__:set", b"soon"),
                      (b"__keyevent@0__:expire", b"soon")]
    # Nobody reads the key: the server's own expiry cycle must notice it and say so.
    assert _events(pubsub, 1) == [(b"__keyevent@0__:expired", b"soon")]
    pubsub.close()


def test_keyspace_notifications_for_evictions(start_server):
    server = start_server("--notify-keyspace-events", "Ee", "--maxmemory", "2mb", "--maxmemory-policy", "allkeys-lru")
    client = server.client()
    pubsub = client.pubsub()
    pubsub.psubscribe("__keyevent@0__:evicted")
    assert pubsub.get_message(timeout=5)["type"] == "psubscribe"
    for n in range(200):
        # Random bytes: a repetitive value would be stored compressed and never fill memory.
        client.set(f"key:{n}", os.urandom(20_000))
    events = _events(pubsub, 1)
    assert events and events[0][0] == b"__keyevent@0__:evicted" and events[0][1].startswith(b"key:")
    pubsub.close()


def test_bad_notify_flags_are_refused(server):
    client = server.client()
    with pytest.raises(redis.ResponseError, match="Invalid event class character"):
        client.config_set("notify-keyspace-events", "KQ")
    assert client.config_get("notify-keyspace-events") == {"notify-keyspace-events": ""}


def test_every_type_survives_a_restart_from_its_snapshot(start_server, tmp_path):
    server = start_server("--dir", str(tmp_path))
    client = server.client()
    client.hset("h", mapping={"a": "1", "b": "2"})
    client.rpush("l", "x", "y", "z")
    client.sadd("s", "p", "q")
    client.zadd("z", {"m": 1.5, "n": -2})
    client.expire("h", 1000)
    used = client.info("memory")["used_memory"]
    assert client.save()
    server.stop()
    restarted = start_server("--dir", str(tmp_path), port=server.port)
    client = restarted.client()
    assert client.hgetall("h") == {b"a": b"1", b"b": b"2"} and 990 <= client.ttl("h") <= 1000
    assert client.lrange("l", 0, -1) == [b"x", b"y", b"z"]
    assert client.smembers("s") == {b"p", b"q"}
    assert client.zrange("z", 0, -1, withscores=True) == [(b"n", -2.0), (b"m", 1.5)]
    assert abs(client.info("memory")["used_memory"] - used) < used * 0.2


def test_memory_usage_counts_a_collections_elements(client):
    client.rpush("small", "x")
    client.rpush("large", *["x" * 100 for _ in range(1000)])
    small = client.memory_usage("small")
    large = client.memory_usage("large")
    assert large - small > 1000 * 100, "each element's bytes are counted"
    before = client.info("memory")["used_memory"]
    client.delete("large")
    assert before - client.info("memory")["used_memory"] > 1000 * 100


def test_redis_benchmark_default_tests_have_no_errors(server):
    result = subprocess.run(["redis-benchmark", "-p", str(server.port), "-q", "-n", "100000", "-P", "16"],
                            capture_output=True, text=True, timeout=600)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    for test in ["PING_INLINE:", "SET:", "GET:", "INCR:", "LPUSH:", "RPUSH:", "LPOP:", "RPOP:", "SADD:", "HSET:", "SPOP:",
                 "ZADD:", "ZPOPMIN:", "LPUSH (needed to benchmark LRANGE):", "LRANGE_100 (", "LRANGE_600 (", "MSET (10 keys):"]:
        assert f"\n{test}" in output.replace("\r", "\n"), f"{test} did not complete: {output}"
    assert "error" not in output.lower(), output
    # redis-py's own handshake tries CLIENT MAINT_NOTIFICATIONS, which Redis 7 refuses too.
    failed = {name: stats for name, stats in server.client().info("commandstats").items()
              if name != "cmdstat_client" and (stats["failed_calls"] or stats["rejected_calls"])}
    assert failed == {}, "no benchmark command got an error reply"


def test_collections_reach_every_owner_and_survive_a_primary_kill(start_server):
    from test_replication import cluster_client, settled, slot_owners, start_cluster
    nodes = start_cluster(start_server, 3)
    wait_until(lambda: settled(nodes), timeout=30, interval=0.1, message="the cluster to settle")
    client = cluster_client(nodes[0])
    for n in range(50):
        client.hset(f"h:{n}", mapping={"a": n, "b": "x"})
        client.rpush(f"l:{n}", *[str(i) for i in range(n + 1)])
        client.sadd(f"s:{n}", "p", str(n))
        client.zadd(f"z:{n}", {"low": -n - 1, "high": n + 1})
        client.lpop(f"l:{n}")
        client.pfadd(f"p:{n}", *[f"e{i}" for i in range(n + 1)])
        client.geoadd(f"g:{n}", (n * 3.0 - 75, n * 1.5 - 40, "here"))
    wait_until(lambda: settled(nodes), timeout=30, interval=0.1, message="replication to drain")
    owners = slot_owners(nodes[0])
    by_port = {node.port: node for node in nodes}

    def read_everywhere(key: str, read) -> list:
        replies = []
        for port in owners[client.keyslot(key)]:
            connection = by_port[port].client()
            connection.execute_command("READONLY")
            replies.append(read(connection))
        return replies

    for n in range(50):
        assert read_everywhere(f"h:{n}", lambda c: c.hgetall(f"h:{n}")) == [{b"a": str(n).encode(), b"b": b"x"}] * 2
        assert read_everywhere(f"l:{n}", lambda c: c.lrange(f"l:{n}", 0, -1)) == [[str(i).encode() for i in range(1, n + 1)]] * 2
        assert read_everywhere(f"s:{n}", lambda c: c.smembers(f"s:{n}")) == [{b"p", str(n).encode()}] * 2
        assert read_everywhere(f"z:{n}", lambda c: c.zrange(f"z:{n}", 0, -1, withscores=True)) == [[(b"low", -n - 1), (b"high", n + 1)]] * 2
        assert read_everywhere(f"p:{n}", lambda c: c.pfcount(f"p:{n}")) == [n + 1] * 2
        assert read_everywhere(f"g:{n}", lambda c: c.geosearch(f"g:{n}", longitude=n * 3.0 - 75, latitude=n * 1.5 - 40,
                                                                radius=1, unit="km")) == [[b"here"]] * 2
    victim = nodes[2]
    victim.process.kill()
    survivors = nodes[:2]
    wait_until(lambda: all(victim.port not in ports for ports in slot_owners(nodes[0]).values())
               and settled(survivors, after_failure=True), timeout=30, interval=0.1, message="the failover")
    owners = slot_owners(nodes[0])

    def primary(key: str):
        return by_port[owners[client.keyslot(key)][0]].client()

    for n in range(50):
        assert primary(f"h:{n}").hget(f"h:{n}", "a") == str(n).encode()
        assert primary(f"l:{n}").llen(f"l:{n}") == n
        assert primary(f"z:{n}").zscore(f"z:{n}", "high") == n + 1
