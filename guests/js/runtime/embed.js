// embed.js writes a C header that holds JavaScript files as NUL-terminated
// char arrays: node embed.js out.h name=file.js ...
"use strict";
const fs = require("fs");
const [out, ...pairs] = process.argv.slice(2);
let h = "/* Made by embed.js from the .js files named below: do not edit. */\n";
for (const p of pairs) {
  const [name, file] = p.split("=");
  const b = fs.readFileSync(file);
  const bytes = [];
  for (const x of b) bytes.push(x);
  bytes.push(0);
  h += "/* " + file + " */\nstatic const char " + name + "[] = {\n";
  for (let i = 0; i < bytes.length; i += 24) h += "\t" + bytes.slice(i, i + 24).join(",") + ",\n";
  h += "};\n";
}
fs.writeFileSync(out, h);
