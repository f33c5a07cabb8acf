// What runtime.c needs of JavaScript beyond the Workers API (prelude.js):
// the state of a handler's promise, and an exception's description with
// its stack in the Worker's own files.
(function (api) {
  "use strict";

  // settle follows v (a value, or a promise of one): once the runtime has
  // run the pending jobs, the box says whether it was fulfilled (s = 1)
  // or rejected (s = 2), and with what (v).
  api.settle = function (v) {
    const box = { s: 0, v: undefined };
    Promise.resolve(v).then((x) => { box.s = 1; box.v = x; }, (e) => { box.s = 2; box.v = e; });
    return box;
  };

  // The bundle's source map (its JSON, given by runtime.c at load): for
  // each line of bundle.js, the source file and line it came from.
  let lines = null;
  const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  function decodeMap(json) {
    const m = JSON.parse(json);
    const out = [];
    let src = 0, line = 0;
    const rows = m.mappings.split(";");
    for (let r = 0; r < rows.length; r++) {
      let first = null;
      const segs = rows[r] ? rows[r].split(",") : [];
      for (let k = 0; k < segs.length; k++) {
        const f = [];
        let v = 0, shift = 0;
        for (let i = 0; i < segs[k].length; i++) {
          const d = B64.indexOf(segs[k][i]);
          v += (d & 31) << shift;
          if (d & 32) { shift += 5; continue; }
          f.push(v & 1 ? -(v >>> 1) : v >>> 1);
          v = 0; shift = 0;
        }
        if (f.length >= 4) {
          src += f[1]; line += f[2];
          if (first === null) first = [src, line];
        }
      }
      out.push(first === null ? null : m.sources[first[0]] + ":" + (first[1] + 1));
    }
    return out;
  }
  function where(n) {
    if (lines === null) {
      lines = [];
      if (api.sourceMap) { try { lines = decodeMap(api.sourceMap); } catch (e) { /* no map: bundle lines */ } }
    }
    return lines[n - 1] || null;
  }

  // describe is what the operator's log says of an exception: its name
  // and message, then its stack, each bundle.js line as the source's.
  api.describe = function (e) {
    let s;
    try { s = String(e); } catch (x) { s = "(an exception that cannot be shown)"; }
    if (e instanceof Error && typeof e.stack === "string" && e.stack) {
      s += "\n" + e.stack.replace(/\(bundle\.js:(\d+)\)/g, (all, n) => { const w = where(Number(n)); return w ? "(" + w + ")" : all; }).replace(/\s+$/, "");
    }
    return s;
  };
})(globalThis.__dohost_api);
