#!/usr/bin/env python3
"""Fills a Redis Cluster with N string keys of SIZE bytes spread evenly over all 16384 slots,
writing each node's share with `redis-cli --pipe` (mass insertion protocol).
Usage: fill_cluster.py N SIZE host:port [host:port ...]   (any node; owners read from CLUSTER NODES)"""
import os, subprocess, sys

def crc16(data):
    crc = 0
    for b in data:
        crc ^= b << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else (crc << 1)
            crc &= 0xFFFF
    return crc

def tags():
    found = {}
    i = 0
    while len(found) < 16384:
        t = str(i).encode()
        found.setdefault(crc16(t) & 16383, t)
        i += 1
    return found

def main():
    n, size, nodes = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3:]
    host, port = nodes[0].rsplit(':', 1)
    out = subprocess.run(['redis-cli', '-h', host, '-p', port, 'cluster', 'nodes'],
                         capture_output=True, text=True, check=True).stdout
    slot_owner = [None] * 16384
    for line in out.splitlines():
        f = line.split(' ')
        if len(f) < 9 or 'master' not in f[2]:
            continue
        addr = f[1].split('@')[0]
        for r in f[8:]:
            if r.startswith('['):
                continue
            a, _, b = r.partition('-')
            for x in range(int(a), int(b or a) + 1):
                slot_owner[x] = addr
    tag = tags()
    value = b'x' * size
    buffers = {}
    for k in range(n):
        slot = k % 16384
        key = b'{' + tag[slot] + b'}:' + str(k).encode()
        buf = buffers.setdefault(slot_owner[slot], bytearray())
        buf += b'*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n' % (len(key), key, len(value), value)
    for addr, buf in buffers.items():
        h, p = addr.rsplit(':', 1)
        # FILL_PORT_MAP="announced=real,...": write around a delaying proxy (the fill is not timed)
        p = dict(m.split('=') for m in os.environ.get('FILL_PORT_MAP', '').split(',') if m).get(p, p)
        subprocess.run(['redis-cli', '-h', h, '-p', p, '--pipe'], input=bytes(buf),
                       check=True, capture_output=True)

if __name__ == '__main__':
    main()
