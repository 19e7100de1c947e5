#!/usr/bin/env python3
"""A delaying TCP proxy for the benchmarks: listens on 127.0.0.1:LISTEN, forwards every
connection to 127.0.0.1:TARGET, and delivers each server->client chunk DELAY_MS after it arrived
(client->server bytes pass at once). A pure delay, not a rate limit: chunks queue behind each
other only by their arrival time, so a pipelined reply stream is shifted, not slowed.
This kernel has no netem; a redis-server with `cluster-announce-port LISTEN` behind this proxy
looks to every client (and to MIGRATE from other nodes) like a node 1 ms away.
Does not: touch the cluster bus, parse RESP, or listen on anything but 127.0.0.1.
Usage: delay_proxy.py LISTEN TARGET [DELAY_MS=1]"""
import asyncio, sys, time

LISTEN, TARGET = int(sys.argv[1]), int(sys.argv[2])
DELAY = (float(sys.argv[3]) if len(sys.argv) > 3 else 1.0) / 1000.0


async def pass_through(reader, writer):
    try:
        while data := await reader.read(1 << 16):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        writer.close()


async def delayed(reader, writer):
    queue = asyncio.Queue()

    async def read_side():
        try:
            while data := await reader.read(1 << 16):
                queue.put_nowait((time.monotonic() + DELAY, data))
        except (ConnectionError, OSError):
            pass
        queue.put_nowait((0.0, b""))

    reading = asyncio.create_task(read_side())
    try:
        while True:
            due, data = await queue.get()
            if not data:
                break
            wait = due - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        reading.cancel()
        writer.close()


async def handle(client_reader, client_writer):
    try:
        server_reader, server_writer = await asyncio.open_connection("127.0.0.1", TARGET)
    except OSError:
        client_writer.close()
        return
    await asyncio.gather(
        pass_through(client_reader, server_writer),
        delayed(server_reader, client_writer),
    )


async def main():
    server = await asyncio.start_server(handle, "127.0.0.1", LISTEN)
    async with server:
        await server.serve_forever()


asyncio.run(main())
