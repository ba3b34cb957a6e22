// Parse Mermaid text from stdin with Mermaid's own parser (the library GitHub renders with); exit 1 on a syntax error.
// Usage: node tools/mermaid_parse.mjs < diagram.mmd   (the tests run it on the README's architecture diagram)
// Mermaid sanitizes labels with DOMPurify, which needs a DOM: jsdom provides one, so no browser is needed.
import { readFileSync } from "node:fs";
import { JSDOM } from "jsdom";

const { window } = new JSDOM("<!doctype html><html><body></body></html>");
globalThis.window = window;
globalThis.document = window.document;
const { default: mermaid } = await import("mermaid");

try {
  const result = await mermaid.parse(readFileSync(0, "utf8"));
  console.log(result.diagramType);
} catch (error) {
  console.error(error.message);
  process.exit(1);
}
