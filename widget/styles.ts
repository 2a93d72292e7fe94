export const WIDGET_CSS = `
:host{--brand:#5b3cc4;--ink:#1d1b26;--muted:#5d5a6b;--bg:#fff;--line:#e3e0ea;all:initial;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--ink)}
*{box-sizing:border-box}
button{font:inherit;cursor:pointer}
:focus-visible{outline:3px solid #f0a500;outline-offset:2px}
[hidden]{display:none!important}
.launcher{position:fixed;right:20px;bottom:20px;z-index:2147483000;background:var(--brand);color:#fff;border:0;border-radius:999px;padding:14px 20px;box-shadow:0 4px 16px rgba(0,0,0,.25)}
.panel{position:fixed;right:20px;bottom:20px;z-index:2147483000;width:370px;height:min(600px,calc(100vh - 40px));display:flex;flex-direction:column;background:var(--bg);border:1px solid var(--line);border-radius:14px;box-shadow:0 8px 32px rgba(0,0,0,.25);overflow:hidden}
header{display:flex;align-items:center;gap:8px;padding:10px 12px;background:var(--brand);color:#fff}
h2{font-size:16px;margin:0;flex:1}
.status{font-size:12px;opacity:.9}
.close{background:transparent;border:0;color:#fff;font-size:22px;line-height:1;padding:2px 8px}
.log{flex:1;overflow-y:auto;padding:12px;display:flex;flex-direction:column;gap:8px}
.msg{max-width:85%;padding:8px 11px;border-radius:12px;background:#f2f0f7;overflow-wrap:anywhere;white-space:pre-wrap}
.msg.bot,.msg.agent{align-self:flex-start}
.msg.bot .body,.msg.bot p{white-space:normal}
.msg.listener{align-self:flex-end;background:var(--brand);color:#fff}
.msg.system{align-self:center;background:#fff4e0;font-size:13px}
.msg[data-pending]{opacity:.6}
.msg[data-failed]{outline:2px solid #c0392b}
.who{display:block;font-size:11px;opacity:.75;margin-bottom:2px}
.body p{margin:0 0 6px}.body p:last-child{margin:0}
.body ul,.body ol{margin:4px 0;padding-left:20px}
.msg a{color:inherit}
.leave{background:transparent;border:1px solid rgba(255,255,255,.7);color:#fff;border-radius:8px;font-size:12px;padding:3px 8px}
.queue-status{margin:0 12px 6px;padding:6px 10px;background:#eef3ff;border-radius:8px;font-size:13px}
.leave-form{display:flex;flex-direction:column;gap:6px;padding:8px 12px;border-top:1px solid var(--line)}
.leave-form input,.leave-form textarea{font:inherit;padding:6px 8px;border:1px solid var(--line);border-radius:8px}
.leave-form button{border:0;background:var(--brand);color:#fff;border-radius:8px;padding:6px 10px}
.leave-form .secondary{background:#fff;color:var(--brand);border:1px solid var(--brand)}
.survey{padding:10px 12px;border-top:1px solid var(--line);display:flex;flex-direction:column;gap:6px}
.survey p{margin:0}
.survey-scale,.survey-resolved{display:flex;gap:6px}
.survey-scale button,.survey-resolved button{flex:1;border:1px solid var(--brand);background:#fff;color:var(--brand);border-radius:8px;padding:6px 0}
.survey button[aria-pressed=true]{background:var(--brand);color:#fff}
.survey-details{display:flex;flex-direction:column;gap:6px}
.survey textarea{font:inherit;padding:6px 8px;border:1px solid var(--line);border-radius:8px}
.survey-submit{border:0;background:var(--brand);color:#fff;border-radius:8px;padding:6px 10px}
.survey .secondary{background:#fff;color:var(--brand);border:1px solid var(--brand);border-radius:8px;padding:6px 10px}
.typing{margin:0 12px 4px;font-size:12px;color:var(--muted)}
.quick{display:flex;flex-wrap:wrap;gap:6px;padding:0 12px 8px}
.quick button{border:1px solid var(--brand);color:var(--brand);background:#fff;border-radius:999px;padding:5px 11px;font-size:13px}
.ended{display:flex;gap:8px;align-items:center;justify-content:space-between;padding:8px 12px;border-top:1px solid var(--line);font-size:13px}
.ended button{border:0;background:var(--brand);color:#fff;border-radius:8px;padding:6px 10px}
.composer{display:flex;gap:8px;padding:10px;border-top:1px solid var(--line)}
textarea{flex:1;resize:none;font:inherit;padding:8px 10px;border:1px solid var(--line);border-radius:8px;min-height:40px;max-height:120px}
.composer button{border:0;background:var(--brand);color:#fff;border-radius:8px;padding:0 14px}
@media (max-width:480px){.panel{right:0;bottom:0;width:100vw;height:100vh;height:100dvh;border-radius:0;border:0}.launcher{right:12px;bottom:12px}}
`;
