/// The console (`/`): one self-contained page (no external script, font or stylesheet: operators'
/// networks are often closed). It reads `/v1/console` every two seconds and looks ids up through
/// `/v1/messages/<tock-id>`; it changes nothing. Every value goes in through `textContent`.
enum ConsolePage {
    static let html = #"""
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>Tock console</title>
        <style>
          body { font: 14px/1.4 system-ui, sans-serif; margin: 0; background: #f6f7f9; color: #1d232b; }
          header { background: #1d232b; color: #fff; padding: 10px 20px; display: flex; gap: 24px; align-items: baseline; }
          header h1 { font-size: 18px; margin: 0; }
          header span { color: #b8c2cc; }
          main { padding: 16px 20px; display: grid; gap: 16px; grid-template-columns: repeat(auto-fit, minmax(420px, 1fr)); }
          section { background: #fff; border: 1px solid #dde2e8; border-radius: 6px; padding: 12px 16px; }
          section.wide { grid-column: 1 / -1; }
          h2 { font-size: 13px; text-transform: uppercase; letter-spacing: .04em; color: #5b6673; margin: 0 0 8px; }
          .tiles { display: flex; gap: 12px; flex-wrap: wrap; }
          .tile { background: #f0f3f7; border-radius: 4px; padding: 8px 12px; min-width: 110px; }
          .tile b { display: block; font-size: 22px; }
          table { border-collapse: collapse; width: 100%; }
          th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid #eef0f3; font-variant-numeric: tabular-nums; }
          th { color: #5b6673; font-weight: 600; }
          .dead { color: #b42318; }
          .warn { color: #b54708; }
          .bar { fill: #3b82f6; }
          .bar.now { fill: #f59e0b; }
          svg text { font-size: 10px; fill: #5b6673; }
          form { display: flex; gap: 8px; }
          input { flex: 1; padding: 6px; font: inherit; }
          pre { background: #f0f3f7; padding: 8px; overflow: auto; }
          .muted { color: #8792a0; }
        </style>
        </head>
        <body>
        <header><h1>Tock console</h1><span id="monitor"></span><span id="leader"></span><span id="clock"></span><span id="updated"></span></header>
        <main>
          <section class="wide">
            <h2>Messages</h2>
            <div class="tiles">
              <div class="tile">pending<b id="pending">–</b></div>
              <div class="tile">of which cold<b id="cold">–</b></div>
              <div class="tile">due in 1 min<b id="due-1m">–</b></div>
              <div class="tile">due in 10 min<b id="due-10m">–</b></div>
              <div class="tile">due in 1 hour<b id="due-1h">–</b></div>
              <div class="tile">due in 1 day<b id="due-1d">–</b></div>
              <div class="tile">oldest overdue<b id="overdue">–</b></div>
            </div>
          </section>
          <section class="wide">
            <h2>Due over the next hour, by minute</h2>
            <svg id="due-chart" width="100%" height="160" viewBox="0 0 960 160" preserveAspectRatio="none" role="img" aria-label="messages due per minute"></svg>
          </section>
          <section class="wide">
            <h2>Workers</h2>
            <table><thead><tr><th>worker</th><th>state</th><th>shards</th><th>last heartbeat</th><th>fired/s</th><th>lateness p50</th><th>lateness p99</th><th>fired</th><th>clock</th></tr></thead>
            <tbody id="workers"></tbody></table>
          </section>
          <section>
            <h2>Rejections by code</h2>
            <table><tbody id="rejected"></tbody></table>
          </section>
          <section>
            <h2>Dead letters by code</h2>
            <table><tbody id="dead-letters"></tbody></table>
          </section>
          <section class="wide">
            <h2>Look up a tock-id</h2>
            <form id="lookup"><input id="lookup-id" placeholder="tock-id, series id or series@due" autocomplete="off"><button>Look up</button></form>
            <pre id="lookup-result" class="muted">state, due time and attempts appear here</pre>
          </section>
          <section class="wide">
            <h2>Access and actions</h2>
            <form id="token-form"><input id="token" type="password" placeholder="API token (kept in this page's memory only)" autocomplete="off"><button>Use token</button></form>
            <div id="actions" hidden>
              <form id="cancel-form"><input id="cancel-id" placeholder="tock-id to cancel" autocomplete="off"><button>Cancel</button></form>
              <form id="tag-form"><input id="tag" placeholder="tag: cancel every message with it" autocomplete="off"><button>Cancel by tag</button></form>
              <form id="requeue-form"><input id="requeue-id" placeholder="dead letter's tock-id to requeue" autocomplete="off"><button>Requeue</button></form>
              <form id="pause-form"><input id="pause-id" placeholder="series id to pause" autocomplete="off"><button>Pause</button></form>
              <form id="resume-form"><input id="resume-id" placeholder="series id to resume" autocomplete="off"><button>Resume</button></form>
            </div>
            <pre id="action-result" class="muted">reads need a token once the monitor has any (api.tokens); the actions appear once a token is entered, and need a write token</pre>
          </section>
        </main>
        <script>
        "use strict";
        const $ = (id) => document.getElementById(id);
        // The API token lives in this variable only: never in storage, a cookie or a URL.
        let token = "";
        const api = (path, init = {}) => fetch(path, { cache: "no-store", ...init, headers: token ? { Authorization: "Bearer " + token } : {} });
        const ms = (v) => v == null ? "–" : (v >= 60000 ? (v / 1000).toFixed(0) + " s" : v >= 1000 ? (v / 1000).toFixed(1) + " s" : v + " ms");
        // A clock's offset from the reference (Redis TIME) and what the process does about it.
        const clock = (k) => k == null ? "–" : (k.offsetMillis == null ? "" : (k.offsetMillis >= 0 ? "+" : "") + k.offsetMillis.toFixed(1) + " ms ") + k.state;
        function cell(row, text, cls) { const td = row.insertCell(); td.textContent = text; if (cls) td.className = cls; }
        function counts(body, map) {
          body.textContent = "";
          const keys = Object.keys(map || {}).sort();
          if (keys.length === 0) { const row = body.insertRow(); cell(row, "none", "muted"); return; }
          for (const key of keys) { const row = body.insertRow(); cell(row, key); cell(row, String(map[key])); }
        }
        function chart(perMinute) {
          const svg = $("due-chart"), NS = "http://www.w3.org/2000/svg";
          svg.textContent = "";
          const max = Math.max(1, ...perMinute), width = 960 / Math.max(60, perMinute.length);
          perMinute.forEach((count, i) => {
            const h = Math.round(130 * count / max), r = document.createElementNS(NS, "rect");
            r.setAttribute("class", i === 0 ? "bar now" : "bar");
            r.setAttribute("x", String(i * width + 1)); r.setAttribute("width", String(width - 2));
            r.setAttribute("y", String(140 - h)); r.setAttribute("height", String(h));
            r.setAttribute("data-minute", String(i)); r.setAttribute("data-count", String(count));
            const title = document.createElementNS(NS, "title"); title.textContent = `minute ${i + 1}: ${count}`; r.appendChild(title);
            svg.appendChild(r);
          });
          for (const [i, label] of [[0, "now"], [15, "+15 min"], [30, "+30 min"], [45, "+45 min"], [60, "+60 min"]]) {
            const t = document.createElementNS(NS, "text"); t.setAttribute("y", "155"); t.textContent = label;
            t.setAttribute("x", String(i === 60 ? 958 : i * width + 2)); if (i === 60) t.setAttribute("text-anchor", "end");
            svg.appendChild(t);
          }
          const top = document.createElementNS(NS, "text"); top.setAttribute("x", "2"); top.setAttribute("y", "10"); top.textContent = "max " + max + " per minute"; svg.appendChild(top);
        }
        async function refresh() {
          try {
            const response = await api("/v1/console");
            if (response.status === 401) { $("updated").textContent = "enter a read token below (Access and actions)"; return; }
            const c = await response.json();
            $("monitor").textContent = "monitor " + c.monitor + (c.leading ? " (leading)" : " (standby)");
            $("leader").textContent = "leader: " + (c.leader || "none");
            $("clock").textContent = "clock: " + clock(c.clock);
            $("clock").title = c.clock ? c.clock.detail : "";
            $("updated").textContent = "updated " + new Date(c.takenAtMillis).toLocaleTimeString();
            $("pending").textContent = String(c.pending);
            $("cold").textContent = String(c.cold ?? 0);
            for (const w of ["1m", "10m", "1h", "1d"]) $("due-" + w).textContent = String((c.due || {})[w] ?? "–");
            $("overdue").textContent = c.oldestOverdueMillis == null ? "none" : ms(c.takenAtMillis - c.oldestOverdueMillis);
            chart(c.perMinute || []);
            const body = $("workers"); body.textContent = "";
            for (const w of c.workers) {
              const row = body.insertRow(), s = w.summary || {};
              cell(row, w.id); cell(row, w.live ? (w.holding ? "live, holding" : "live") : "dead", w.live ? (w.holding ? "warn" : "") : "dead");
              cell(row, String(w.shards.length));
              cell(row, ms(w.heartbeatAgeMillis) + " ago"); cell(row, s.firedPerSecond == null ? "–" : s.firedPerSecond.toFixed(s.firedPerSecond < 10 ? 2 : 0));
              cell(row, ms(s.latenessP50Millis)); cell(row, ms(s.latenessP99Millis)); cell(row, s.firedTotal == null ? "–" : String(s.firedTotal));
              cell(row, clock(s.clock), s.clock && s.clock.state !== "ok" ? "warn" : ""); if (s.clock) row.cells[8].title = s.clock.detail;
              const rw = s.replicaWait;
              if (rw && w.live) {
                const note = body.insertRow(); note.className = "replica-wait";
                const td = note.insertCell(); td.colSpan = 9; td.className = "dead";
                td.textContent = `${w.id}: shard${rw.shards.length === 1 ? "" : "s"} ${rw.shards.join(", ")} wait for replicas: ` +
                  `${rw.acked} of the ${rw.wanted} store.replicaAcks asks confirmed their writes, for ${ms(rw.waitingMillis)} ` +
                  `(replicaAcks ${rw.wanted} needs ${rw.wanted + 1} replicas per master to ride out the loss of one)`;
              }
            }
            counts($("rejected"), c.rejected); counts($("dead-letters"), c.deadLetters);
          } catch (e) { $("updated").textContent = "cannot reach the monitor: " + e; }
        }
        $("lookup").addEventListener("submit", async (event) => {
          event.preventDefault();
          const id = $("lookup-id").value.trim();
          if (!id) return;
          const out = $("lookup-result");
          try {
            const r = await api("/v1/messages/" + encodeURIComponent(id));
            const m = await r.json();
            const lines = [`${m.id}: ${m.state}`];
            if (m.dueMillis != null) lines.push("due       " + new Date(m.dueMillis).toISOString() + " (" + m.dueMillis + ")");
            if (m.nextFireMillis != null) lines.push((m.state === "delivering" ? "lease     " : "next fire ") + new Date(m.nextFireMillis).toISOString());
            lines.push("attempts  " + m.attempts);
            if (m.topic) lines.push("topic     " + m.topic);
            if (m.series) lines.push("series    " + m.series + "\nfired     " + m.fired + " occurrence(s)");
            if (m.note) lines.push(m.note);
            out.textContent = lines.join("\n"); out.className = "";
          } catch (e) { out.textContent = "look-up failed: " + e; }
        });
        $("token-form").addEventListener("submit", (event) => {
          event.preventDefault(); token = $("token").value.trim(); $("token").value = "";
          $("actions").hidden = !token;
          $("action-result").textContent = token ? "token in use (this page only)" : "no token"; refresh();
        });
        async function act(form, input, method, path) {
          $(form).addEventListener("submit", async (event) => {
            event.preventDefault();
            const id = $(input).value.trim();
            if (!id) return;
            try {
              const r = await api(path(encodeURIComponent(id)), { method });
              const body = await r.json();
              $("action-result").textContent = r.status + ": " + (body.error || (body.job ? "job " + body.job + " started (GET /v1/jobs/" + body.job + ")"
                : "written: " + body.id + " at partition " + body.partition + ", offset " + body.offset));
            } catch (e) { $("action-result").textContent = "failed: " + e; }
          });
        }
        act("cancel-form", "cancel-id", "DELETE", (id) => "/v1/messages/" + id);
        act("requeue-form", "requeue-id", "POST", (id) => "/v1/dead/" + id + "/requeue");
        act("tag-form", "tag", "DELETE", (tag) => "/v1/tags/" + tag);
        act("pause-form", "pause-id", "POST", (id) => "/v1/series/" + id + "/pause");
        act("resume-form", "resume-id", "POST", (id) => "/v1/series/" + id + "/resume");
        refresh();
        setInterval(refresh, 2000);
        </script>
        </body>
        </html>
        """#
}
