const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }

/** Escapes text for HTML bodies and quoted attributes; everything user-supplied goes through it. */
export function escapeHtml(value: unknown): string {
  return String(value ?? '').replace(/[&<>"']/g, (ch) => ENTITIES[ch]!)
}

/** Tagged template that escapes every interpolation unless it is already `SafeHtml`. */
export class SafeHtml {
  readonly value: string
  constructor(value: string) {
    this.value = value
  }
  toString() {
    return this.value
  }
}

export function html(strings: TemplateStringsArray, ...values: unknown[]): SafeHtml {
  let out = strings[0]!
  values.forEach((value, i) => {
    const rendered = Array.isArray(value)
      ? value.map((item) => (item instanceof SafeHtml ? item.value : escapeHtml(item))).join('')
      : value instanceof SafeHtml
        ? value.value
        : escapeHtml(value)
    out += rendered + strings[i + 1]!
  })
  return new SafeHtml(out)
}

/** Every page is sent as this; its security headers come from `pageSecurity` (page-security.ts). */
export const HTML_CONTENT_TYPE = 'text/html; charset=utf-8'

export function page(title: string, body: SafeHtml): string {
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title>
<style>
body{font:16px/1.5 system-ui,sans-serif;background:#f5f6f8;color:#1d2330;display:grid;place-items:center;min-height:100vh;margin:0}
main{background:#fff;border-radius:12px;box-shadow:0 2px 12px rgba(0,0,0,.08);padding:2rem;width:min(26rem,92vw)}
h1{font-size:1.3rem;margin:0 0 .5rem}p.note{color:#5b6475;font-size:.9rem}
label{display:block;margin:.8rem 0 .2rem;font-weight:600}input{width:100%;box-sizing:border-box;padding:.55rem;border:1px solid #c9ced8;border-radius:6px;font:inherit}
.row{display:flex;gap:.6rem;margin-top:1.2rem}button{flex:1;padding:.6rem;border-radius:6px;border:0;font:inherit;cursor:pointer;background:#2f6feb;color:#fff}
button.secondary{background:#e7eaf0;color:#1d2330}.error{background:#fdecec;color:#8a1c1c;padding:.6rem;border-radius:6px}
</style></head><body><main>${body}</main></body></html>`.value
}
