import Engine

/// The control endpoint's status page: one HTML document, its style sheet and its script,
/// compiled into the binary (no build step, no CDN, no external font). The script reads
/// `/status` every five seconds and draws the table with `textContent` only, so every value
/// (subscription ids and error messages are user-controlled text) is shown as text, never read as
/// markup. Each row's button posts `/subscriptions/ID/sync` with the `X-Outboard-Page` header
/// that cookie-authorized writes need. `/?press=ID` presses the button of ID once the table is
/// drawn (for scripts and the browser test; a cross-site link carries no cookie, so it cannot).
enum StatusPage {
    static let html = """
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>Outboard</title>
        <link rel="stylesheet" href="/page.css">
        <script src="/page.js" defer></script>
        </head>
        <body>
        <header><h1>Outboard</h1><p id="summary">reading /status…</p></header>
        <table>
        <thead><tr><th>subscription</th><th>phase</th><th>last success</th><th>next due</th><th>items</th>\
        <th>failures</th><th>freshness</th><th>last error</th><th></th></tr></thead>
        <tbody id="rows"></tbody>
        </table>
        <p id="note" role="status"></p>
        </body>
        </html>

        """

    /// Shown at `/` without a token or the page's cookie: how to get in.
    static let signIn = """
        <!DOCTYPE html>
        <html lang="en">
        <head><meta charset="utf-8"><title>Outboard</title><link rel="stylesheet" href="/page.css"></head>
        <body>
        <h1>Outboard</h1>
        <p>This page needs the control token. Open the link <code>outboard run</code> printed when it \
        started (<code>http://HOST:PORT/?key=TOKEN</code>, the token being the content of \
        <code>control-token</code> in the state directory or <code>$OUTBOARD_CONTROL_TOKEN</code>): \
        it keeps the token in a cookie for this browser.</p>
        </body>
        </html>

        """

    static let css = """
        body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #1d1d1f; background: #fafafa; }
        h1 { font-size: 1.4em; margin: 0 0 .2em; }
        table { border-collapse: collapse; width: 100%; background: #fff; }
        th, td { text-align: left; padding: .35em .6em; border-bottom: 1px solid #ddd; vertical-align: top; }
        th { background: #eee; font-weight: 600; }
        td.items, td.failures { text-align: right; }
        td.error { max-width: 28em; overflow-wrap: anywhere; }
        tr.state-ok td.phase { color: #17672e; }
        tr.state-ok { background: #ebf7ee; }
        tr.state-running { background: #e8f0fb; }
        tr.state-new { background: #f2f2f2; }
        tr.state-stale { background: #fff6dc; }
        tr.state-failing { background: #fde8e8; }
        tr.state-failing td.error { color: #9b1c1c; }
        tr.state-disabled { color: #888; }
        button { font: inherit; padding: .15em .7em; }
        #note { min-height: 1.4em; color: #444; }

        """

    static let script = """
        "use strict";
        (function () {
          const rows = document.getElementById("rows");
          const note = document.getElementById("note");
          const summary = document.getElementById("summary");
          let press = new URLSearchParams(location.search).get("press");

          function cell(value, name) {
            const td = document.createElement("td");
            td.className = name;
            td.textContent = value;
            return td;
          }
          function span(seconds) {
            const s = Math.abs(Math.round(seconds));
            if (s < 90) return s + " s";
            if (s < 5400) return Math.round(s / 60) + " min";
            if (s < 172800) return Math.round(s / 3600) + " h";
            return Math.round(s / 86400) + " d";
          }
          function when(iso, now) {
            if (!iso) return "never";
            const s = (Date.parse(iso) - now) / 1000;
            return s >= 0 ? "in " + span(s) : span(s) + " ago";
          }
          function state(sub) {
            if (!sub.enabled) return "disabled";
            if (sub.phase === "running") return "running";
            if (sub["consecutive-failures"] > 0) return "failing";
            return sub.freshness === "never" ? "new" : sub.freshness === "stale" ? "stale" : "ok";
          }
          function freshness(sub, now) {
            if (!sub["last-success"]) return "never synced";
            const age = (now - Date.parse(sub["last-success"])) / 1000;
            return sub.freshness + ": " + span(age) + " old, refreshed every " + span(sub["refresh-seconds"]);
          }
          async function trigger(id, button) {
            button.disabled = true;
            try {
              const r = await fetch("/subscriptions/" + encodeURIComponent(id) + "/sync",
                { method: "POST", headers: { "X-Outboard-Page": "1" } });
              const body = await r.json().catch(function () { return {}; });
              note.textContent = id + ": " + (body.result || body.error || ("HTTP " + r.status));
            } catch (e) {
              note.textContent = id + ": " + e.message;
            }
            button.disabled = false;
            refresh();
          }
          function row(sub, now) {
            const tr = document.createElement("tr");
            tr.className = "state-" + state(sub);
            tr.dataset.id = sub.id;
            // With a shared store, the engine whose lease the subscription is under.
            const phase = sub.phase + (sub["leased-by"] ? " on " + sub["leased-by"] : "");
            tr.append(cell(sub.id, "id"), cell(phase, "phase"), cell(when(sub["last-success"], now), "success"),
              cell(sub["next-due"] ? when(sub["next-due"], now) : "-", "due"), cell(String(sub.items), "items"),
              cell(String(sub["consecutive-failures"]), "failures"), cell(freshness(sub, now), "freshness"),
              cell(sub["last-error"] || "", "error"));
            const td = document.createElement("td");
            if (sub.enabled) {
              const button = document.createElement("button");
              button.type = "button";
              button.textContent = "sync now";
              button.addEventListener("click", function () { trigger(sub.id, button); });
              td.append(button);
            }
            tr.append(td);
            return tr;
          }
          function render(doc) {
            const now = Date.parse(doc.now);
            rows.replaceChildren.apply(rows, doc.subscriptions.map(function (s) { return row(s, now); }));
            summary.textContent = doc.subscriptions.length + " subscriptions, " + doc.running +
              " passes running" + (doc.cluster ? " here, " + doc.cluster.engines.length +
              " engines sharing the store (this one: " + doc.cluster.engine + ")" : "") +
              "; read " + new Date(now).toISOString();
            if (press) {
              const target = Array.from(rows.children).find(function (tr) { return tr.dataset.id === press; });
              press = null;
              const button = target && target.querySelector("button");
              if (button) button.click();
            }
          }
          async function refresh() {
            try {
              const r = await fetch("/status", { cache: "no-store" });
              if (!r.ok) throw new Error("HTTP " + r.status);
              render(await r.json());
            } catch (e) {
              summary.textContent = "cannot read /status: " + e.message;
            }
          }
          refresh();
          setInterval(refresh, 5000);
        })();

        """
}
