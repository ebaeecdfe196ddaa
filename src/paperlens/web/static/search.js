// Client-side search of the static site over a sharded prebuilt index (see paperlens/web/site.py).
// Term shards are grouped by the first three characters of a term, so a query loads only the shards
// of its own words; document shards load only for the results shown. Everything renders as text.
(function () {
  "use strict";
  var PL = window.PL_SEARCH = window.PL_SEARCH || {};
  var loaded = {}, waiting = {};
  PL.termShards = {}; PL.docShards = {};
  PL.meta = function (m) { PL.info = m; resolve("meta"); };
  PL.terms = function (b, table) { PL.termShards[b] = table; resolve("t" + b); };
  PL.docs = function (k, rows) { PL.docShards[k] = rows; resolve("d" + k); };

  function resolve(key) { loaded[key] = true; (waiting[key] || []).forEach(function (f) { f(); }); waiting[key] = []; }
  function load(key, src) {
    return new Promise(function (ok, fail) {
      if (loaded[key]) { return ok(); }
      var first = !waiting[key];
      (waiting[key] = waiting[key] || []).push(ok);
      if (!first) { return; }
      var s = document.createElement("script");
      s.src = src; s.async = true;
      s.onerror = function () { fail(new Error("cannot load " + src)); };
      document.head.appendChild(s);
    });
  }
  function root() { var m = document.querySelector('meta[name="pl-root"]'); return m ? m.getAttribute("content") : ""; }
  var HAN = /[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+/gu, hanWords = null;
  function segment(run) {
    // Longest Chinese word of the index at each position (site.py ships them as meta.han); a lone
    // character starts no word and is skipped, as the index skips one-character terms.
    if (!hanWords) { return [run]; }
    var out = [], chars = Array.from(run), i = 0;
    while (i < chars.length) {
      var found = 0;
      for (var n = Math.min(8, chars.length - i); n >= 2; n--) { if (hanWords.has(chars.slice(i, i + n).join(""))) { found = n; break; } }
      if (found) { out.push(chars.slice(i, i + found).join("")); i += found; } else { i += 1; }
    }
    return out;
  }
  function tokens(text) {
    var out = [];
    (String(text || "").normalize("NFKC").toLowerCase().match(/[\p{L}\p{N}]+/gu) || []).forEach(function (t) {
      if (!HAN.test(t)) { if (t.length > 1) { out.push(t); } return; }
      HAN.lastIndex = 0;
      var at = 0, m;
      while ((m = HAN.exec(t)) !== null) {
        var before = t.slice(at, m.index); if (before.length > 1) { out.push(before); }
        segment(m[0]).forEach(function (w) { out.push(w); });
        at = m.index + m[0].length;
      }
      var after = t.slice(at); if (after.length > 1) { out.push(after); }
    });
    return out;
  }
  function bucket(term) {
    var h = 2166136261, n = 0;
    for (var ch of term) { if (n++ >= PL.info.prefix) { break; } h ^= ch.codePointAt(0); h = Math.imul(h, 16777619) >>> 0; }
    return h % PL.info.buckets;
  }
  var decoded = new Map();
  function decode(s) {
    // Postings are delta-encoded base36; decode each list once per page.
    if (!s) { return []; }
    var hit = decoded.get(s);
    if (hit) { return hit; }
    var out = [], prev = 0;
    decoded.set(s, out);
    s.split(",").forEach(function (x) { prev += parseInt(x, 36); out.push(prev); });
    return out;
  }
  function common(a, b) {
    // Longest common subsequence of two short words (a stand-in for the server's difflib ratio).
    var prev = new Array(b.length + 1).fill(0);
    for (var i = 1; i <= a.length; i++) {
      var row = [0];
      for (var j = 1; j <= b.length; j++) { row.push(a[i - 1] === b[j - 1] ? prev[j - 1] + 1 : Math.max(prev[j], row[j - 1])); }
      prev = row;
    }
    return prev[b.length];
  }
  function closest(w) {
    // The index term of w's shard closest in spelling (ratio >= 0.8, same first characters, length within
    // 2; the commoner on a tie), or null: what the server's "did you mean" does, within one shard.
    var chars = Array.from(w);
    if (chars.length < 4 || /^[0-9]+$/.test(w) || HAN.test(w)) { HAN.lastIndex = 0; return null; }
    var table = PL.termShards[bucket(w)] || {}, start = chars.slice(0, PL.info.prefix).join(""), best = null, bestKey = null;
    Object.keys(table).forEach(function (t) {
      var tc = Array.from(t);
      if (t === w || Math.abs(tc.length - chars.length) > 2 || !t.startsWith(start)) { return; }
      var ratio = 2 * common(chars, tc) / (chars.length + tc.length);
      if (ratio < 0.8) { return; }
      var n = (table[t][0] ? table[t][0].split(",").length : 0) + (table[t][1] ? table[t][1].split(",").length : 0);
      if (!best || ratio > bestKey[0] || (ratio === bestKey[0] && n > bestKey[1])) { best = t; bestKey = [ratio, n]; }
    });
    return best;
  }
  PL.suggest = function (words) {
    // The query with each word that occurs nowhere replaced by its closest index term; null when none has one.
    var changed = false;
    var out = words.map(function (w) {
      if ((PL.termShards[bucket(w)] || {})[w]) { return w; }
      var near = closest(w);
      if (near) { changed = true; return near; }
      return w;
    });
    return changed ? out.join(" ") : null;
  };
  PL.search = function (query, limit) {
    limit = limit || 50;
    var t0 = performance.now();
    var words = [], prefixLast = false, groups = [];
    return load("meta", root() + "search/meta.js").then(function () {
      if (!hanWords) { hanWords = new Set(PL.info.han || []); }
      words = tokens(query);
      prefixLast = words.length && !/\s$/.test(query) && !/[\u3400-\u9fff]$/u.test(query);
      var needed = {}, common = new Set(PL.info.common || []);
      var kept = words.filter(function (w) { return !common.has(w); });
      if (kept.length) { words = kept; }
      words.forEach(function (w) { needed[bucket(w)] = true; });
      return Promise.all(Object.keys(needed).map(function (b) { return load("t" + b, root() + "search/t/" + b + ".js"); }));
    }).then(function () {
      // The query's words in the other language: the third element of a term's entry. A translated
      // query needs a translation of most words, and their shards.
      var needed = {};
      words.forEach(function (w) {
        var post = (PL.termShards[bucket(w)] || {})[w];
        if (post && post[2] && post[2].length) { groups.push(post[2]); post[2].forEach(function (t) { needed[bucket(t)] = true; }); }
      });
      if (groups.length * 2 <= words.length) { groups = []; needed = {}; }
      return Promise.all(Object.keys(needed).map(function (b) { return load("t" + b, root() + "search/t/" + b + ".js"); }));
    }).then(function () {
      var N = PL.info.docs;
      function scoresOf(terms, exactOf) {
        var scores = new Map();
        terms.forEach(function (t) {
          var post = (PL.termShards[bucket(t)] || {})[t];
          if (!post) { return; }
          var titleIds = decode(post[0]), bodyIds = decode(post[1]);
          var idf = Math.log(1 + N / (titleIds.length + bodyIds.length));
          var exact = exactOf(t);
          titleIds.forEach(function (d) { scores.set(d, Math.max(scores.get(d) || 0, 3 * idf * exact)); });
          bodyIds.forEach(function (d) { if (!scores.has(d)) { scores.set(d, idf * exact); } });
        });
        return scores;
      }
      function every(perWord) {
        // Papers with every word; with none, papers with any (as the server's keyword side).
        var total = new Map();
        if (!perWord.length) { return total; }
        perWord[0].forEach(function (s, d) {
          var sum = s;
          for (var i = 1; i < perWord.length; i++) { var v = perWord[i].get(d); if (v === undefined) { return; } sum += v; }
          total.set(d, sum);
        });
        return total;
      }
      var perWord = words.map(function (w, i) {
        var terms = [w];
        if (i === words.length - 1 && prefixLast && Array.from(w).length >= PL.info.prefix) {
          // Closest completions first (shortest), a bounded number of them.
          terms = Object.keys(PL.termShards[bucket(w)] || {}).filter(function (t) { return t.startsWith(w); })
            .sort(function (a, b) { return a.length - b.length || (a < b ? -1 : 1); }).slice(0, 20);
        }
        return scoresOf(terms, function (t) { return t === w ? 1 : 0.7; });
      });
      var native = every(perWord);
      var allKnown = perWord.every(function (m) { return m.size > 0; });
      if (!native.size && allKnown) { perWord.forEach(function (m) { m.forEach(function (s, d) { native.set(d, (native.get(d) || 0) + s); }); }); }
      var translated = every(groups.map(function (g) { return scoresOf(g, function () { return 1; }); }));
      // Fused by reciprocal rank as on the server: a translated rank counts twice (the paper is in the
      // other language, and no other signal can find it).
      var total = new Map();
      [[native, 1], [translated, 2]].forEach(function (pair) {
        Array.from(pair[0].entries()).sort(function (a, b) { return b[1] - a[1] || a[0] - b[0]; })
          .forEach(function (e, r) { total.set(e[0], (total.get(e[0]) || 0) + pair[1] / (60 + r + 1)); });
      });
      if (groups.length) { words = words.concat.apply(words, groups); }
      var ranked = Array.from(total.entries()).sort(function (a, b) { return b[1] - a[1] || a[0] - b[0]; });
      var top = ranked.slice(0, limit), per = PL.info.per_shard, shards = {};
      top.forEach(function (e) { shards[Math.floor(e[0] / per)] = true; });
      return Promise.all(Object.keys(shards).map(function (k) { return load("d" + k, root() + "search/d/" + k + ".js"); }))
        .then(function () {
          return { total: ranked.length, ms: performance.now() - t0, words: words,
            suggestion: ranked.length ? null : PL.suggest(tokens(query)),
            hits: top.map(function (e) { var row = PL.docShards[Math.floor(e[0] / per)][e[0] % per]; return { doc: e[0], score: e[1], row: row }; }) };
        });
    });
  };

  function marked(parent, text, words) {
    // Text nodes and <mark> elements only: no HTML is ever parsed from the data.
    if (!words.length) { parent.appendChild(document.createTextNode(text)); return; }
    var re = new RegExp("(" + words.map(function (w) { return w.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"); }).join("|") + ")", "giu");
    text.split(re).forEach(function (piece, i) {
      if (i % 2) { var m = document.createElement("mark"); m.textContent = piece; parent.appendChild(m); }
      else if (piece) { parent.appendChild(document.createTextNode(piece)); }
    });
  }
  function render(list, status, result) {
    list.textContent = "";
    status.textContent = result.total + (result.total === 1 ? " result (" : " results (") + result.ms.toFixed(1) + " ms)";
    if (result.suggestion) {
      var dym = document.createElement("span"), link = document.createElement("a");
      dym.className = "did-you-mean"; dym.appendChild(document.createTextNode(" " + (document.documentElement.getAttribute("data-lang") === "zh" ? "您是不是要找" : "Did you mean") + ": "));
      link.href = "?q=" + encodeURIComponent(result.suggestion); link.textContent = result.suggestion;
      dym.appendChild(link); dym.appendChild(document.createTextNode("?")); status.appendChild(dym);
    }
    result.hits.forEach(function (h) {
      var row = h.row, li = document.createElement("li"), h3 = document.createElement("h3"), a = document.createElement("a");
      li.className = "result"; h3.className = "title";
      a.href = root() + row[2]; marked(a, row[0], result.words); h3.appendChild(a); li.appendChild(h3);
      if (row[1]) { var by = document.createElement("div"); by.className = "byline"; by.textContent = row[1]; li.appendChild(by); }
      var meta = document.createElement("div"); meta.className = "meta";
      if (row[4]) { var chip = document.createElement("span"); chip.className = "chip"; chip.textContent = row[4]; meta.appendChild(chip); }
      if (row[3]) { var y = document.createElement("span"); y.className = "date"; y.textContent = row[3]; meta.appendChild(y); }
      li.appendChild(meta);
      var p = document.createElement("p"); p.className = "snippet"; marked(p, row[5], result.words); li.appendChild(p);
      list.appendChild(li);
    });
  }
  var list = document.getElementById("static-results");
  if (list) {
    var status = document.getElementById("search-status");
    var input = document.querySelector(".bigsearch input[name=q]");
    var run = function (q) {
      if (!tokens(q).length) { list.textContent = ""; status.textContent = ""; return; }
      status.textContent = "…";
      PL.search(q, 50).then(function (r) { render(list, status, r); },
        function (e) { status.textContent = String(e.message || e); });
    };
    var q = new URLSearchParams(window.location.search).get("q") || "";
    if (input) {
      input.value = q;
      var timer = null;
      input.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(function () { run(input.value); }, 120); });
      input.form.addEventListener("submit", function (ev) { ev.preventDefault(); run(input.value); });
    }
    status.textContent = "";
    run(q);
  }
})();
