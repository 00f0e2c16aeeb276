/* html_assets.c -- the `--html` report's inline style and script, and the
 * escaping every string goes through on its way into the page.
 *
 * The page fetches nothing: the style and script are written into it, the
 * diagrams are inline SVG. The script only reads the JSON block of a
 * section and builds the decode panel with textContent (never innerHTML),
 * so no captured byte is ever parsed as markup. It must not contain the
 * two characters '<' '/' in sequence (they would end the <script> block).
 */
#include <string.h>

#include "sink/html_int.h"

const char tl__html_css[] =
    ":root{--c:#1f6feb;--s:#8250df;--fin:#bf8700;--rst:#cf222e;--syn:#1a7f37;--warn:#d1242f;"
    "--mut:#57606a;--bg:#fff;--fg:#1f2328;--line:#d0d7de;--sel:#fff8c5}\n"
    "body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;margin:0;padding:0 16px 32px;"
    "color:var(--fg);background:var(--bg);display:flex;flex-direction:column}\n"
    "body>header{order:-2}body>nav{order:-1}\n"
    "h1{font-size:22px;margin:16px 0 4px}h2{font-size:17px;margin:0 0 4px}h3{font-size:15px;margin:0 0 6px}"
    "h4{font-size:14px;margin:10px 0 4px}\n"
    "code,.mono,table.pkts,svg text,dl{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}\n"
    ".mut{color:var(--mut)}\n"
    "section.conn,section.scenario,section.summary,section.errors{border-top:2px solid var(--line);"
    "padding:14px 0 6px;margin-top:12px}\n"
    ".facts{margin:2px 0 8px}.facts span{display:inline-block;margin-right:14px}\n"
    ".body{display:grid;grid-template-columns:minmax(0,1fr) 380px;gap:14px;align-items:start}\n"
    "@media (max-width:1100px){.body{grid-template-columns:minmax(0,1fr)}}\n"
    ".ladder{overflow-x:auto;border:1px solid var(--line);border-radius:6px}"
    ".ladder svg{width:100%;height:auto;min-width:760px;display:block}\n"
    ".decode{position:sticky;top:8px;border:1px solid var(--line);border-radius:6px;padding:10px;"
    "font-size:13px;max-height:90vh;overflow:auto;background:#f6f8fa}\n"
    ".decode dl{display:grid;grid-template-columns:max-content 1fr;gap:2px 10px;margin:0}"
    ".decode dt{color:var(--mut)}.decode dd{margin:0;word-break:break-word}\n"
    ".decode ul{margin:0;padding-left:18px}\n"
    "svg text{font-size:12px}svg .st{font-weight:600}svg .cs{fill:var(--c)}svg .ss{fill:var(--s)}"
    "svg .ev{fill:var(--warn);font-weight:600}svg .tm{fill:var(--mut)}svg .hd{font-weight:700}\n"
    "svg .pk{cursor:pointer}svg .pk line.a{stroke:#444;stroke-width:1.4}svg .pk polygon{fill:#444}"
    "svg .pk line.hit{stroke:transparent;stroke-width:14}\n"
    "svg .syn line.a{stroke:var(--syn)}svg .syn polygon{fill:var(--syn)}"
    "svg .fin line.a{stroke:var(--fin)}svg .fin polygon{fill:var(--fin)}"
    "svg .rst line.a{stroke:var(--rst);stroke-width:2}svg .rst polygon{fill:var(--rst)}"
    "svg .warn line.a{stroke:var(--warn);stroke-dasharray:5 3}\n"
    "svg .pk.sel line.hit{stroke:var(--sel)}svg .pk.sel text{font-weight:700}\n"
    "svg .life{stroke:#8c959f;stroke-width:2}\n"
    ".tl{margin:10px 0}.tl .row{display:flex;align-items:stretch;margin:3px 0}"
    ".tl .who{width:60px;flex:none;color:var(--mut)}"
    ".tl .bars{display:flex;flex:1;min-width:0;border:1px solid var(--line);border-radius:4px;overflow:hidden}"
    ".tl .bar{min-width:6px;padding:1px 4px;font-size:11px;white-space:nowrap;overflow:hidden;"
    "text-overflow:ellipsis;border-right:1px solid #fff;color:#fff}\n"
    ".b-UNKNOWN{background:#8c959f}.b-CLOSED{background:#57606a}.b-LISTEN{background:#0969da}"
    ".b-SYN-SENT{background:#54aeff;color:#000!important}.b-SYN-RECEIVED{background:#218bff}"
    ".b-ESTABLISHED{background:#1a7f37}.b-FIN-WAIT-1{background:#bf8700}.b-FIN-WAIT-2{background:#9a6700}"
    ".b-CLOSE-WAIT{background:#bc4c00}.b-CLOSING{background:#953800}.b-LAST-ACK{background:#cf222e}"
    ".b-TIME-WAIT{background:#8250df}\n"
    "table{border-collapse:collapse;font-size:12.5px;margin-top:8px}"
    "th,td{padding:2px 8px;border-bottom:1px solid #eaeef2;text-align:left;white-space:nowrap}"
    "th{background:#f6f8fa;position:sticky;top:0}\n"
    "table.pkts tr{cursor:pointer}table.pkts tr:hover{background:#f6f8fa}table.pkts tr.sel{background:var(--sel)}"
    "table.pkts tr.rst td.fl{color:var(--rst);font-weight:700}table.pkts tr.warn td.nt{color:var(--warn)}\n"
    "td.num{text-align:right}.more{color:var(--warn)}\n"
    "nav.index{margin:8px 0}nav.index table{font-size:13px}\n";

/* Builds the decode panel of the packet clicked (arrow or table row). */
const char tl__html_js[] =
    "(function(){'use strict';\n"
    "var cache={};\n"
    "function data(sec){if(!(sec.id in cache)){var e=document.getElementById(sec.id+'-data');"
    "cache[sec.id]=e?JSON.parse(e.textContent):null;}return cache[sec.id];}\n"
    "function el(t,c,x){var e=document.createElement(t);if(c)e.className=c;"
    "if(x!==undefined)e.textContent=String(x);return e;}\n"
    "function kv(dl,k,v){if(v===undefined||v===null||v==='')return;dl.appendChild(el('dt',null,k));"
    "dl.appendChild(el('dd',null,v));}\n"
    "function opts(o){var p=[];if('mss' in o)p.push('MSS '+o.mss);if(o.sack_perm)p.push('SACK permitted');"
    "if('wscale' in o)p.push('window scale '+o.wscale+' (\\u00d7'+Math.pow(2,Math.min(o.wscale,14))+')');"
    "if('ts_val' in o)p.push('timestamps val '+o.ts_val+' ecr '+o.ts_ecr);"
    "if(o.sack)p.push('SACK blocks '+o.sack.map(function(b){return b[0]+'-'+b[1];}).join(' '));"
    "if(o.unknown)p.push('not interpreted: '+o.unknown.map(function(u){return 'kind '+u[0]+' len '+u[1];}).join(', '));"
    "return p.length?p.join('; '):'none';}\n"
    "function st(a,b){return a===b?b+' (unchanged)':a+' \\u2192 '+b;}\n"
    "function show(sec,i){var d=data(sec);if(!d||!d.pkts[i])return;var p=d.pkts[i];\n"
    "var s=sec.querySelectorAll('.sel');for(var k=0;k<s.length;k++)s[k].classList.remove('sel');\n"
    "s=sec.querySelectorAll('[data-i=\"'+i+'\"]');for(k=0;k<s.length;k++)s[k].classList.add('sel');\n"
    "var box=sec.querySelector('.decode');box.textContent='';\n"
    "var to=p.from==='client'?'server':p.from==='server'?'client':'?';\n"
    "box.appendChild(el('h3',null,'Packet '+p.n+(p.from?' ('+p.from+' \\u2192 '+to+')':'')));\n"
    "var dl=el('dl');kv(dl,'time',p.ts+' ('+p.t+' s)');\n"
    "kv(dl,'source',p.src+' port '+p.sport);kv(dl,'destination',p.dst+' port '+p.dport);\n"
    "kv(dl,'IP','IPv'+p.ip_version+', TTL/hop limit '+p.ttl+', total length '+p.ip_len+', header '+p.ip_hlen+"
    "(p.ip_options?', with options':''));\n"
    "if(p.vlan)kv(dl,'VLAN',p.vlan.join(', '));\n"
    "kv(dl,'flags',p.flags.length?p.flags.join(' '):'none');\n"
    "kv(dl,'seq',p.seq+' (relative '+p.rel_seq+')');\n"
    "kv(dl,'ack',p.ack+('rel_ack' in p?' (relative '+p.rel_ack+')':' (not used: no ACK flag, or the peer ISN is unknown)'));\n"
    "kv(dl,'window',p.win+('win_scaled' in p?' (scaled: '+p.win_scaled+' bytes)':' (scale unknown)'));\n"
    "kv(dl,'length',p.len+' payload bytes ('+p.caplen+' captured), TCP header '+p.tcp_hlen);\n"
    "kv(dl,'urgent ptr',p.urg_ptr);\n"
    "kv(dl,'checksum','0x'+('000'+p.cksum.toString(16)).slice(-4)+' ('+p.cksum_status+')');\n"
    "kv(dl,'options',opts(p.options));\n"
    "if('client_state' in p){kv(dl,'client',st(p.client_before,p.client_state));"
    "kv(dl,'server',st(p.server_before,p.server_state));}\n"
    "kv(dl,'analysis',p.analysis.length?p.analysis.join(', '):'none');\n"
    "if(p.skipped)kv(dl,'skipped','bad checksum: ignored by the tracker (--checksums=verify)');\n"
    "if(p.payload)kv(dl,'payload',p.payload);\n"
    "box.appendChild(dl);box.appendChild(el('h4',null,'Explanation'));var ul=el('ul');\n"
    "if(p.client_before!==p.client_state)ul.appendChild(el('li',null,'The client went from '+p.client_before+' to '+p.client_state+'.'));\n"
    "if(p.server_before!==p.server_state)ul.appendChild(el('li',null,'The server went from '+p.server_before+' to '+p.server_state+'.'));\n"
    "(d.events||[]).forEach(function(e){if(e.n!==p.n)return;var li=el('li');li.appendChild(el('strong',null,e.event));"
    "li.appendChild(document.createTextNode((e.by?' ('+e.by+')':'')+': '+e.text));ul.appendChild(li);});\n"
    "if(!ul.firstChild)ul.appendChild(el('li','mut','Nothing new: this segment changed no state and raised no event.'));\n"
    "box.appendChild(ul);}\n"
    "function pick(ev){var t=ev.target&&ev.target.closest?ev.target.closest('[data-i]'):null;if(!t)return;"
    "var sec=t.closest('section.conn');if(sec)show(sec,+t.getAttribute('data-i'));}\n"
    "document.addEventListener('click',pick);\n"
    "document.addEventListener('keydown',function(ev){if(ev.key==='Enter')pick(ev);});\n"
    "})();\n";

/* Length of the valid UTF-8 sequence at s (at most n bytes), 0 if none. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    size_t len;
    unsigned min;
    if (c < 0x80) return 1;
    if (c >= 0xc2 && c <= 0xdf) len = 2, min = 0x80;
    else if (c >= 0xe0 && c <= 0xef) len = 3, min = 0x800;
    else if (c >= 0xf0 && c <= 0xf4) len = 4, min = 0x10000;
    else return 0;
    if (len > n) return 0;
    unsigned cp = c & (0xff >> (len + 1));
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80) return 0;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
    return len;
}

void tl__html_escn(FILE *fp, const char *str, size_t n)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;
    while (i < n) {
        unsigned c = s[i];
        const char *rep = NULL;
        switch (c) {
        case '&': rep = "&amp;"; break;
        case '<': rep = "&lt;"; break;
        case '>': rep = "&gt;"; break;
        case '"': rep = "&quot;"; break;
        case '\'': rep = "&#39;"; break;
        default: break;
        }
        if (rep) {
            fputs(rep, fp);
            i++;
            continue;
        }
        if ((c < 0x20 && c != '\t' && c != '\n') || c == 0x7f) {
            fputs("&#xFFFD;", fp);
            i++;
            continue;
        }
        size_t len = utf8_len(s + i, n - i);
        if (len == 0) {
            fputs("&#xFFFD;", fp);
            i++;
            continue;
        }
        fwrite(s + i, 1, len, fp);
        i += len;
    }
}

void tl__html_esc(FILE *fp, const char *s)
{
    if (s) tl__html_escn(fp, s, strlen(s));
}

void tl__html_json_copy(FILE *fp, const char *json, size_t n)
{
    size_t start = 0;
    for (size_t i = 0; i < n; i++) {
        if (json[i] != '<') continue;
        fwrite(json + start, 1, i - start, fp);
        fputs("\\u003c", fp);
        start = i + 1;
    }
    fwrite(json + start, 1, n - start, fp);
}

void tl__html_flags(uint8_t f, char *buf)
{
    static const struct { uint8_t bit; char c; } map[] = {
        {TL_TH_SYN, 'S'}, {TL_TH_FIN, 'F'}, {TL_TH_RST, 'R'}, {TL_TH_PSH, 'P'},
        {TL_TH_URG, 'U'}, {TL_TH_ECE, 'E'}, {TL_TH_CWR, 'W'}, {TL_TH_ACK, '.'},
    };
    char *p = buf;
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (f & map[i].bit) *p++ = map[i].c;
    *p = '\0';
}
