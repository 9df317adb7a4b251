#!/usr/bin/python3
"""TLS servers and clients in Python for tlstop's end-to-end tests.

Two flavours of Python's ssl module, which reach OpenSSL differently:

  server / client     blocking sockets: SSLSocket.recv/send call
                      SSL_read_ex/SSL_write_ex on a socket BIO, so the
                      socket fd is seen inside the TLS call.
  aserver / aclient   asyncio: SSLObject over a memory BIO; SSL_read_ex and
                      SSL_write_ex never make a socket syscall, so tlstop can
                      only name the connection by (pid, SSL*): "ssl:PID:0x..".

Every mode prints JSON lines on stdout (flushed at once):
  server/aserver: {"pid":P,"host":H,"port":PORT} once listening, then one
                  {"peer_port":N,"received":N} per connection served.
  client/aclient: {"pid":P,"lport":L} once the handshake is done, then
                  {"received":TEXT} when the exchange is over.

--wait-ms / --go-file (client, aclient, and server): after the handshake,
sleep, then wait until the file exists before the first TLS read or write,
so that no TLS call is already under way when tlstop attaches.

Server modes (--mode):
  reply  read until --expect bytes have arrived, send --reply, close
  echo   send every chunk back until the peer closes
Servers serve --conns connections (concurrently) and exit.  Sockets are
blocking (no timeout: SSL_read_ex waits inside recvfrom); every mode ends
itself by SIGALRM after --timeout + 5 seconds.
"""
import argparse
import asyncio
import json
import os
import signal
import socket
import ssl
import sys
import threading
import time


def emit(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def server_context(args):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(args.cert, args.key)
    return ctx


def client_context():
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def wait_go(args):
    if args.wait_ms:
        time.sleep(args.wait_ms / 1000.0)
    if args.go_file:
        deadline = time.monotonic() + args.timeout
        while not os.path.exists(args.go_file):
            if time.monotonic() > deadline:
                sys.exit("py_tls: timed out waiting for --go-file")
            time.sleep(0.01)


def family_of(host):
    return socket.AF_INET6 if ":" in host else socket.AF_INET


# ---- blocking ----

def serve_one(args, tls, peer_port):
    received = 0
    try:
        wait_go(args)  # the first SSL_read_ex starts only after --go-file
        if args.mode == "echo":
            while True:
                chunk = tls.recv(65536)
                if not chunk:
                    break
                received += len(chunk)
                tls.sendall(chunk)
        else:
            while received < args.expect:
                chunk = tls.recv(65536)
                if not chunk:
                    break
                received += len(chunk)
            if received < args.expect:
                sys.stderr.write("py_tls: peer closed after %d of %d bytes\n"
                                 % (received, args.expect))
            tls.sendall(args.reply.encode())
        try:
            tls.unwrap()
        except (OSError, ssl.SSLError):
            pass
    finally:
        tls.close()
    emit({"peer_port": peer_port, "received": received})


def run_server(args):
    ctx = server_context(args)
    lsock = socket.socket(family_of(args.host), socket.SOCK_STREAM)
    lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lsock.bind((args.host, args.port))
    lsock.listen(16)
    lsock.settimeout(args.timeout)
    emit({"pid": os.getpid(), "host": args.host, "port": lsock.getsockname()[1]})
    threads = []
    for _ in range(args.conns):
        conn, peer = lsock.accept()
        conn.settimeout(None)  # truly blocking: SSL_read_ex blocks in recvfrom
        tls = ctx.wrap_socket(conn, server_side=True)
        t = threading.Thread(target=serve_one, args=(args, tls, peer[1]))
        t.start()
        threads.append(t)
    for t in threads:
        t.join()
    lsock.close()


def run_client(args):
    ctx = client_context()
    sock = socket.create_connection((args.host, args.port), timeout=args.timeout)
    sock.settimeout(None)  # truly blocking, as above
    tls = ctx.wrap_socket(sock, server_hostname=None)
    emit({"pid": os.getpid(), "lport": tls.getsockname()[1]})
    wait_go(args)
    tls.sendall(args.message.encode())
    data = b""
    while args.expect is None or len(data) < args.expect:
        chunk = tls.recv(65536)
        if not chunk:
            break
        data += chunk
    try:
        tls.unwrap()
    except (OSError, ssl.SSLError):
        pass
    tls.close()
    emit({"received": data.decode("utf-8", "replace")})


# ---- asyncio (memory BIO) ----

async def aserve_one(args, reader, writer, done):
    peer_port = writer.get_extra_info("peername")[1]
    received = 0
    try:
        if args.mode == "echo":
            while True:
                chunk = await reader.read(65536)
                if not chunk:
                    break
                received += len(chunk)
                writer.write(chunk)
                await writer.drain()
        else:
            while received < args.expect:
                chunk = await reader.read(65536)
                if not chunk:
                    break
                received += len(chunk)
            writer.write(args.reply.encode())
            await writer.drain()
        writer.close()
        try:
            await writer.wait_closed()
        except (OSError, ssl.SSLError):
            pass
    finally:
        emit({"peer_port": peer_port, "received": received})
        done.append(1)


async def arun_server(args):
    ctx = server_context(args)
    done = []
    tasks = []

    async def handler(reader, writer):
        task = asyncio.current_task()
        tasks.append(task)
        await aserve_one(args, reader, writer, done)

    server = await asyncio.start_server(handler, args.host, args.port, ssl=ctx,
                                        family=family_of(args.host))
    port = server.sockets[0].getsockname()[1]
    emit({"pid": os.getpid(), "host": args.host, "port": port})
    deadline = time.monotonic() + args.timeout
    while len(done) < args.conns:
        if time.monotonic() > deadline:
            sys.exit("py_tls: aserver timed out")
        await asyncio.sleep(0.02)
    server.close()
    await server.wait_closed()


async def arun_client(args):
    ctx = client_context()
    reader, writer = await asyncio.wait_for(
        asyncio.open_connection(args.host, args.port, ssl=ctx, server_hostname=""),
        args.timeout)
    emit({"pid": os.getpid(), "lport": writer.get_extra_info("sockname")[1]})
    wait_go(args)
    writer.write(args.message.encode())
    await writer.drain()
    data = b""
    while args.expect is None or len(data) < args.expect:
        chunk = await asyncio.wait_for(reader.read(65536), args.timeout)
        if not chunk:
            break
        data += chunk
    writer.close()
    try:
        await writer.wait_closed()
    except (OSError, ssl.SSLError):
        pass
    emit({"received": data.decode("utf-8", "replace")})


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("mode_", choices=["server", "client", "aserver", "aclient"])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--cert")
    p.add_argument("--key")
    p.add_argument("--mode", choices=["reply", "echo"], default="reply")
    p.add_argument("--expect", type=int, default=None,
                   help="server (reply): bytes to read before replying; "
                        "client: bytes to read before closing (default: until EOF)")
    p.add_argument("--reply", default="hello from the python server\n")
    p.add_argument("--message", default="hello from the python client\n")
    p.add_argument("--conns", type=int, default=1)
    p.add_argument("--wait-ms", type=int, default=0)
    p.add_argument("--go-file")
    p.add_argument("--timeout", type=float, default=30.0)
    args = p.parse_args()
    # never outlive a broken test: SIGALRM's default action ends the process
    signal.alarm(int(args.timeout) + 5)

    if args.mode_ in ("server", "aserver"):
        if not args.cert or not args.key:
            p.error("servers need --cert and --key")
        if args.mode == "reply" and args.expect is None:
            p.error("--mode reply needs --expect BYTES")
    if args.mode_ == "server":
        run_server(args)
    elif args.mode_ == "client":
        run_client(args)
    elif args.mode_ == "aserver":
        asyncio.run(arun_server(args))
    else:
        asyncio.run(arun_client(args))


if __name__ == "__main__":
    main()
