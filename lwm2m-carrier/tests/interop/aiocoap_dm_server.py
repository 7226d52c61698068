#!/usr/bin/env python3
"""A minimal LwM2M 1.1 device-management server written on aiocoap, an
independent CoAP implementation, to check our client's wire format against a
peer that shares none of our code.

Usage: aiocoap_dm_server.py PORT

It listens on 127.0.0.1:PORT and waits for a Register (OMA-TS-LightweightM2M_
Core 1.1 §6.2.1: POST /rd?ep=..&lt=..&lwm2m=1.1&b=.., link-format payload).
Then, as a DM server, it sends to the registered client:

 1. Read /3/0 with Accept SenML JSON (110) and checks the records
    (RFC 8428 names resolved against bn; Manufacturer 3/0/0 a string, Device
    Type 3/0/17 "Module", Battery Level 3/0/9 the value the device set);
 2. Read /3/0/9 as text/plain (0);
 3. Discover /3 (Accept 40) and checks </3/0/9> is listed;
 4. Write /3/0/14 (UTC Offset) as text/plain and reads it back;
 5. Write-Attributes pmin=1&pmax=2 on /3/0/9, Observe it and takes two
    notifications (the second can only come from pmax, RFC 7641 + TS §5.1.2);
 6. Read /0/0 (Security) and expects 4.01 or 4.04: a DM server never reads it.

Every check prints `CHECK <name> ok` or `FAIL <name>: why`; the last line is
`RESULT ok` or `RESULT fail`, and the exit code follows it. After the checks
it waits (at most 20 s) for the De-register and prints `DEREGISTERED`.
"""

import asyncio
import json
import sys

import logging
import os

import aiocoap
import aiocoap.resource as resource
from aiocoap.numbers.codes import Code

PORT = int(sys.argv[1])
if os.environ.get("AIOCOAP_DEBUG"):
    logging.basicConfig(level=logging.DEBUG)
BATTERY = "57"  # what the Rust side sets before the server reads it

registered = asyncio.Event()
deregistered = asyncio.Event()
client = {}
failures = []


def check(name, ok, why=""):
    if ok:
        print(f"CHECK {name} ok", flush=True)
    else:
        print(f"FAIL {name}: {why}", flush=True)
        failures.append(name)


class Rd(resource.Resource):
    """POST /rd: the Register."""

    async def render_post(self, request):
        query = dict(q.split("=", 1) if "=" in q else (q, "") for q in request.opt.uri_query)
        client["ep"] = query.get("ep")
        client["query"] = query
        client["links"] = request.payload.decode("utf-8", "replace")
        client["remote"] = request.remote.hostinfo
        print(f"REGISTER ep={query.get('ep')} lt={query.get('lt')} lwm2m={query.get('lwm2m')} "
              f"b={query.get('b')} links={client['links']}", flush=True)
        registered.set()
        return aiocoap.Message(code=Code.CREATED, location_path=("rd", "x1"))


class Registration(resource.Resource):
    """POST /rd/x1 (Update) and DELETE /rd/x1 (De-register)."""

    async def render_post(self, request):
        print("UPDATE", flush=True)
        return aiocoap.Message(code=Code.CHANGED)

    async def render_delete(self, request):
        print("DEREGISTERED", flush=True)
        deregistered.set()
        return aiocoap.Message(code=Code.DELETED)


def senml_values(payload):
    """RFC 8428 §4.5.3: the resolved name of each record and its value."""
    out = {}
    base = ""
    for rec in json.loads(payload):
        base = rec.get("bn", base)
        name = base + rec.get("n", "")
        for key in ("v", "vs", "vb", "vd", "vlo"):
            if key in rec:
                out[name] = rec[key]
    return out


async def scenario(ctx):
    await asyncio.wait_for(registered.wait(), 30)
    q = client["query"]
    check("register-query", q.get("lwm2m") == "1.1" and q.get("ep") and q.get("lt", "").isdigit(),
          f"query {q}")
    check("register-links", "</3/0>" in client["links"] and "</0" not in client["links"],
          f"links {client['links']!r}: Device listed, Security never")
    base = f"coap://{client['remote']}"

    async def request(code, path, **kw):
        msg = aiocoap.Message(code=code, uri=base + path, **kw)
        return await asyncio.wait_for(ctx.request(msg).response, 20)

    r = await request(Code.GET, "/3/0", accept=110)
    check("read-senml-json-code", r.code == Code.CONTENT, f"{r.code}")
    check("read-senml-json-format", int(r.opt.content_format or 0) == 110,
          f"content-format {r.opt.content_format}")
    try:
        values = senml_values(r.payload)
    except ValueError as e:
        values = {}
        check("read-senml-json-parse", False, str(e))
    check("senml-manufacturer", isinstance(values.get("/3/0/0"), str), f"{values}")
    check("senml-device-type", values.get("/3/0/17") == "Module", f"{values.get('/3/0/17')!r}")
    check("senml-battery", values.get("/3/0/9") == int(BATTERY), f"{values.get('/3/0/9')!r}")

    r = await request(Code.GET, "/3/0/9", accept=0)
    check("read-text", r.code == Code.CONTENT and r.payload.decode() == BATTERY,
          f"{r.code} {r.payload!r}")

    r = await request(Code.GET, "/3", accept=40)
    links = r.payload.decode("utf-8", "replace")
    check("discover", r.code == Code.CONTENT and "</3/0/9>" in links, f"{r.code} {links!r}")

    r = await request(Code.PUT, "/3/0/14", payload=b"+02:00", content_format=0)
    check("write-text", r.code == Code.CHANGED, f"{r.code}")
    r = await request(Code.GET, "/3/0/14", accept=0)
    check("write-read-back", r.payload == b"+02:00", f"{r.payload!r}")

    r = await request(Code.PUT, "/3/0/9?pmin=1&pmax=2")
    check("write-attributes", r.code == Code.CHANGED, f"{r.code}")

    msg = aiocoap.Message(code=Code.GET, uri=base + "/3/0/9", observe=0, accept=0)
    req = ctx.request(msg)
    first = await asyncio.wait_for(req.response, 20)
    check("observe-accepted", first.code == Code.CONTENT and first.opt.observe is not None,
          f"{first.code} observe={first.opt.observe}")
    notes = []
    try:
        async for n in req.observation:
            notes.append(n)
            if len(notes) == 2:
                break
            if len(notes) > 2:
                break
    except Exception as e:  # noqa: BLE001 - reported as a failed check
        check("observe-notifications", False, repr(e))
    check("observe-notifications",
          len(notes) == 2 and all(n.payload.decode() == BATTERY for n in notes),
          f"{[(str(n.code), n.payload) for n in notes]}")
    req.observation.cancel()

    r = await request(Code.GET, "/0/0")
    check("security-hidden", r.code in (Code.UNAUTHORIZED, Code.NOT_FOUND), f"{r.code}")


async def main():
    site = resource.Site()
    site.add_resource(["rd"], Rd())
    site.add_resource(["rd", "x1"], Registration())
    ctx = await aiocoap.Context.create_server_context(site, bind=("127.0.0.1", PORT))
    print(f"LISTENING {PORT}", flush=True)
    try:
        await asyncio.wait_for(scenario(ctx), 90)
    except asyncio.TimeoutError:
        check("scenario", False, "timed out")
    print("RESULT " + ("fail" if failures else "ok"), flush=True)
    try:
        await asyncio.wait_for(deregistered.wait(), 20)
    except asyncio.TimeoutError:
        print("NO-DEREGISTER", flush=True)
    await ctx.shutdown()
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
