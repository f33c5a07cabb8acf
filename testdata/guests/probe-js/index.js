// probe-js is the probe test guest (testdata/guests/probe) in JavaScript,
// for the conformance checks whose view the Workers API can give as the
// Go probe gives it: an object's responses (TestConformance_Responses),
// its in-memory count, and a stub call with a header HTTP cannot carry
// (/stub/badheader: the host's error, with its code, as the Go probe
// reports it). The Worker forwards /obj/<op>?name=N to object N of PROBE.
import { DurableObject } from "cloudflare:workers";

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (url.pathname === "/stub/badheader") {
      try {
        await env.PROBE.getByName("b").fetch("http://probe/obj/count", { headers: { "Bad Name": "x" } });
        return Response.json("no error");
      } catch (e) {
        return Response.json({ code: e.code, codeName: e.codeName, message: e.message }, { status: 502 });
      }
    }
    if (!url.pathname.startsWith("/obj/")) return new Response("no route " + url.pathname, { status: 404 });
    return env.PROBE.getByName(url.searchParams.get("name") || "").fetch(request);
  },
};

export class Probe extends DurableObject {
  count = 0;

  async fetch(request) {
    const url = new URL(request.url);
    const n = Number(url.searchParams.get("n") || 0);
    this.count++;
    switch (url.pathname.slice("/obj/".length)) {
      case "count":
        return Response.json(this.count);
      case "big":
        // n zero bytes, no content type (as the Go probe's NewResponse).
        return new Response(new Uint8Array(n));
      case "headers": {
        // n headers of growing values, and one name given twice.
        const r = new Response(new TextEncoder().encode("h"));
        for (let i = 0; i < n; i++) r.headers.append("X-H-" + String(i).padStart(3, "0"), "v".repeat(i % 50));
        r.headers.append("X-Rep", "1");
        r.headers.append("X-Rep", "2");
        return r;
      }
    }
    return new Response("no object op " + url.pathname, { status: 404 });
  }
}

export class Other extends Probe {}
