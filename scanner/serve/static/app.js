// liqscan web page: the liquidation map, band table and band history of every axis, read
// from the JSON API of this server. Polls /api/snapshots and redraws when a new one lands.
// Amounts arrive as exact decimal strings; they become floats here for drawing only.
"use strict";

const POLL_MS = 5000;
const HISTORY_SNAPSHOTS = 30;
const HISTORY_TOP = 3;
const PROTOCOL_COLORS = {
  "aave-v3": "#7e57c2", "spark": "#ef6c00", "morpho-blue": "#1e88e5",
  "compound-v3": "#43a047", "maker": "#f9a825", "aave-v2": "#8d6e63",
};
const SPARE_COLORS = ["#00897b", "#d81b60", "#5c6bc0", "#6d4c41", "#546e7a"];
const SIDE = { down: { fill: "rgba(229,57,53,0.13)", line: "#c62828", arrow: "\u2193" },
               up: { fill: "rgba(67,160,71,0.13)", line: "#2e7d32", arrow: "\u2191" } };
const pageChain = new URLSearchParams(location.search).get("chain");
const charts = new Map();
let shownSnapshot = null;

// --- data ------------------------------------------------------------------------------

async function api(path, params = {}) {
  const query = new URLSearchParams(params);
  if (pageChain) query.set("chain", pageChain);
  const response = await fetch(`${path}?${query}`, { headers: { Accept: "application/json" } });
  const body = await response.json();
  if (!response.ok) throw new Error(body.error || `${path}: HTTP ${response.status}`);
  return body;
}

async function loadSnapshot(snapshot) {
  const [axes, bands, histogram] = await Promise.all([
    api("/api/axes", { snapshot }), api("/api/bands", { snapshot }),
    api("/api/histogram", { snapshot })]);
  const histories = await Promise.all(axes.axes.map((a) => api("/api/history", {
    axis: a.axis, snapshots: HISTORY_SNAPSHOTS, top: HISTORY_TOP })));
  const cascades = await Promise.all(axes.axes.map((a) => api("/api/cascade", {
    axis: a.axis, snapshot })));
  return { axes, bands: bands.bands, bins: histogram.bins, histories, cascades };
}

async function refresh() {
  try {
    const latest = await api("/api/snapshots", { limit: 1 });
    if (latest.latest_id === null) return setStatus("waiting", "no snapshot in the database yet");
    if (latest.latest_id === shownSnapshot) return;
    const data = await loadSnapshot(String(latest.latest_id));
    render(data);
    shownSnapshot = latest.latest_id;
    setStatus("ready", `updated ${new Date().toLocaleTimeString()}`, shownSnapshot);
  } catch (error) {
    setStatus("error", error.message);
  }
}

// --- formatting --------------------------------------------------------------------------

const num = (text) => (text === null || text === undefined ? 0 : parseFloat(text));

function usd(value) {
  const units = [[1e9, "B"], [1e6, "M"], [1e3, "k"]];
  for (const [size, suffix] of units) {
    if (Math.abs(value) >= size) return `$${(value / size).toFixed(2)}${suffix}`;
  }
  return `$${value.toFixed(2)}`;
}

const price = (value) => `$${value.toLocaleString("en-US", { maximumFractionDigits: 2 })}`;
const percent = (bps) => `${bps >= 0 ? "+" : ""}${(bps / 100).toFixed(2)}%`;

function element(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, value);
  for (const child of children) node.append(child);
  return node;
}

function protocolColor(protocol, index) {
  return PROTOCOL_COLORS[protocol] || SPARE_COLORS[index % SPARE_COLORS.length];
}

function setStatus(state, text, snapshot = "") {
  const status = document.getElementById("status");
  status.dataset.state = state;
  status.dataset.snapshot = snapshot;
  status.textContent = text;
  status.className = state === "error" ? "meta error" : "meta";
}

// --- page ----------------------------------------------------------------------------------

function render(data) {
  const snapshot = data.axes.snapshot;
  const when = new Date(snapshot.block_timestamp * 1000).toISOString().replace(".000", "");
  document.getElementById("snapshot").textContent =
    `${snapshot.chain} \u00b7 block ${snapshot.block.toLocaleString("en-US")} \u00b7 ` +
    `snapshot #${snapshot.id} \u00b7 ${when} \u00b7 ${snapshot.markets.length} markets`;
  const total = document.getElementById("liquidatable-now-total");
  total.dataset.usd = data.axes.liquidatable_now.collateral_usd;
  total.textContent = `${usd(num(data.axes.liquidatable_now.collateral_usd))} ` +
    `(${data.axes.liquidatable_now.positions} positions)`;
  for (const chart of charts.values()) chart.destroy();
  charts.clear();
  const main = document.getElementById("axes");
  main.replaceChildren();
  data.axes.axes.forEach((axis, i) => {
    const section = renderAxis(axis, data, data.histories[i]);
    renderCascade(section, axis, data.cascades[i]);
    main.append(section);
  });
}

function renderAxis(axis, data, history) {
  const bins = data.bins.filter((b) => b.axis === axis.axis);
  const bands = data.bands.filter((b) => b.axis === axis.axis);
  const section = element("section", { class: "axis", "data-axis": axis.axis });
  const heading = element("h2", {}, `${axis.axis} ${price(num(axis.price_now_usd))}`);
  heading.append(element("span", { class: "meta" },
    `${axis.positions.toLocaleString("en-US")} positions \u00b7 liquidatable now ` +
    `${usd(num(axis.liquidatable_now_collateral_usd))} ` +
    `(${axis.liquidatable_now_positions})`));
  section.append(heading);
  if (bins.length) {
    const canvas = element("canvas", { id: `map-${axis.axis}`, class: "map",
      "data-bins": bins.length, "data-bands": bands.length });
    section.append(element("div", { class: "chart" }, canvas));
    charts.set(canvas.id, mapChart(canvas, axis, bins, bands));
  } else {
    section.append(element("p", { class: "meta" }, "no collateral at risk on this axis"));
  }
  section.append(bandTable(axis, bands));
  if (history.points.length > 1) {
    const canvas = element("canvas", { id: `history-${axis.axis}`, class: "history-chart",
      "data-points": history.points.length });
    section.append(element("div", { class: "history" }, canvas));
    charts.set(canvas.id, historyChart(canvas, history));
  }
  return section;
}

// --- the liquidation map ---------------------------------------------------------------------

function ascending(bins) {
  const down = bins.filter((b) => b.direction === "down").sort((a, b) => b.bin_index - a.bin_index);
  const up = bins.filter((b) => b.direction === "up").sort((a, b) => a.bin_index - b.bin_index);
  return [...down, ...up];
}

function mapChart(canvas, axis, rawBins, bands) {
  const bins = ascending(rawBins);
  const protocols = [...new Set(bins.flatMap((b) => b.by_protocol.map((p) => p.protocol)))].sort();
  const datasets = protocols.map((protocol, i) => ({
    type: "bar", label: protocol, stack: "collateral", yAxisID: "y",
    backgroundColor: protocolColor(protocol, i),
    data: bins.map((b) => num((b.by_protocol.find((p) => p.protocol === protocol) || {})
      .collateral_usd)),
  }));
  for (const side of ["down", "up"]) {
    datasets.push({
      type: "line", label: `liquidated if the price ${side === "down" ? "falls" : "rises"} to X`,
      yAxisID: "cumulative", borderColor: SIDE[side].line, pointRadius: 0, borderWidth: 2,
      data: bins.map((b) => (b.direction === side ? num(b.cumulative_collateral_usd) : null)),
    });
  }
  const context = { bins, bands, priceNow: num(axis.price_now_usd) };
  return new Chart(canvas, {
    data: { labels: bins.map((b) => price((num(b.low_usd) + num(b.high_usd)) / 2)), datasets },
    options: {
      animation: false, maintainAspectRatio: false, interaction: { mode: "index" },
      scales: {
        x: { stacked: true, title: { display: true, text: `${axis.axis} price (USD)` },
             ticks: { maxTicksLimit: 16 } },
        y: { stacked: true, title: { display: true, text: "collateral per bin" },
             ticks: { callback: (v) => usd(v) } },
        cumulative: { position: "right", grid: { drawOnChartArea: false },
                      title: { display: true, text: "cumulative" },
                      ticks: { callback: (v) => usd(v) } },
      },
      plugins: { tooltip: { callbacks: { label: (item) => `${item.dataset.label}: ${usd(item.raw || 0)}` } } },
    },
    plugins: [bandShading(context), priceNowLine(context), inkCounter()],
  });
}

// x pixel of a price on the category axis of ascending bins (interpolated within a bin)
function xOfPrice(chart, bins, value) {
  const scale = chart.scales.x;
  const step = bins.length > 1 ? scale.getPixelForValue(1) - scale.getPixelForValue(0)
    : scale.right - scale.left;
  const left = (i) => scale.getPixelForValue(i) - step / 2;
  if (value <= num(bins[0].low_usd)) return left(0);
  for (let i = 0; i < bins.length; i += 1) {
    const low = num(bins[i].low_usd);
    const high = num(bins[i].high_usd);
    if (value <= high) return left(i) + (high > low ? (value - low) / (high - low) : 0) * step;
  }
  return left(bins.length - 1) + step;
}

function bandShading(context) {
  return {
    id: "bandShading",
    beforeDatasetsDraw(chart) {
      const { ctx, chartArea } = chart;
      ctx.save();
      for (const band of context.bands) {
        const x1 = xOfPrice(chart, context.bins, num(band.low_usd));
        const x2 = Math.max(xOfPrice(chart, context.bins, num(band.high_usd)), x1 + 3);
        ctx.fillStyle = SIDE[band.direction].fill;
        ctx.fillRect(x1, chartArea.top, x2 - x1, chartArea.bottom - chartArea.top);
        ctx.fillStyle = SIDE[band.direction].line;
        ctx.font = "11px system-ui, sans-serif";
        ctx.fillText(`${band.kind === "wall" ? "wall" : "band"} #${band.rank}`, x1 + 2,
          chartArea.top + 12 + 12 * ((band.rank - 1) % 3));
      }
      ctx.restore();
    },
  };
}

function priceNowLine(context) {
  return {
    id: "priceNow",
    afterDatasetsDraw(chart) {
      const { ctx, chartArea } = chart;
      const x = xOfPrice(chart, context.bins, context.priceNow);
      ctx.save();
      ctx.strokeStyle = "#1d2330";
      ctx.setLineDash([6, 4]);
      ctx.beginPath();
      ctx.moveTo(x, chartArea.top);
      ctx.lineTo(x, chartArea.bottom);
      ctx.stroke();
      ctx.fillStyle = "#1d2330";
      ctx.font = "bold 12px system-ui, sans-serif";
      ctx.fillText(`now ${price(context.priceNow)}`, x + 4, chartArea.bottom - 6);
      ctx.restore();
    },
  };
}

// How much the chart drew: the headless-browser test reads canvas.dataset.ink.
function inkCounter() {
  return {
    id: "inkCounter",
    afterRender(chart) {
      const { width, height } = chart.canvas;
      const pixels = chart.ctx.getImageData(0, 0, width, height).data;
      let ink = 0;
      for (let i = 3; i < pixels.length; i += 4 * 97) if (pixels[i] !== 0) ink += 1;
      chart.canvas.dataset.ink = ink;
    },
  };
}

// --- the band table --------------------------------------------------------------------------

function bandTable(axis, bands) {
  const head = element("tr", {}, ...["side", "rank", "kind", "liquidation prices", "distance",
    "positions", "collateral", "share of at-risk", "by protocol"].map((t) => element("th", {}, t)));
  const rows = bands.map((band) => element("tr", {
    class: `band-row ${band.direction}`, "data-rank": band.rank, "data-direction": band.direction,
    "data-collateral-usd": band.collateral_usd,
  }, ...bandCells(band)));
  if (!rows.length) {
    rows.push(element("tr", {}, element("td", { colspan: 9, class: "left meta" }, "no bands")));
  }
  return element("table", { class: "bands", id: `bands-${axis.axis}` },
    element("thead", {}, head), element("tbody", {}, ...rows));
}

function bandCells(band) {
  const breakdown = band.by_protocol.map((p) =>
    `${p.protocol} ${usd(num(p.collateral_usd))} (${p.positions})`).join(" \u00b7 ");
  return [
    element("td", {}, `${SIDE[band.direction].arrow} ${band.direction}`),
    element("td", {}, String(band.rank)),
    element("td", {}, band.kind),
    element("td", {}, `${price(num(band.low_usd))} \u2013 ${price(num(band.high_usd))}`),
    element("td", {}, `${percent(band.distance_low_bps)} \u2026 ${percent(band.distance_high_bps)}`),
    element("td", {}, band.positions.toLocaleString("en-US")),
    element("td", {}, usd(num(band.collateral_usd))),
    element("td", {}, `${(band.share_of_at_risk_bps / 100).toFixed(1)}%`),
    element("td", { class: "breakdown" }, breakdown),
  ];
}

// --- how the top bands moved ----------------------------------------------------------------

function historyChart(canvas, history) {
  const labels = history.points.map((p) => p.block.toLocaleString("en-US"));
  const datasets = [{
    type: "line", label: "price now", data: history.points.map((p) => num(p.price_now_usd)),
    borderColor: "#1d2330", borderDash: [6, 4], pointRadius: 2, borderWidth: 1.5,
  }];
  for (const side of ["down", "up"]) {
    for (let rank = 1; rank <= HISTORY_TOP; rank += 1) {
      const data = history.points.map((p) => {
        const band = p.bands.find((b) => b.direction === side && b.rank === rank);
        return band ? [num(band.low_usd), num(band.high_usd)] : null;
      });
      if (!data.some((d) => d !== null)) continue;
      datasets.push({ type: "bar", label: `${SIDE[side].arrow} #${rank}`, data,
        borderColor: SIDE[side].line, borderWidth: 1, borderSkipped: false, minBarLength: 4,
        backgroundColor: SIDE[side].fill.replace("0.13", String(0.6 - 0.15 * rank)) });
    }
  }
  return new Chart(canvas, {
    data: { labels, datasets },
    options: { animation: false, maintainAspectRatio: false,
      plugins: { title: { display: true,
        text: "top bands over recent snapshots: liquidation price range, and the price then" } },
      scales: { x: { title: { display: true, text: "block" } },
                // log: a band far above the price must not flatten the ones near it
                y: { type: "logarithmic", title: { display: true, text: "USD (log)" },
                     ticks: { callback: (v) => price(v) } } } },
  });
}

// --- cascades (liqscan cascade): the newest one, and the cascade curve ----------------------

function renderCascade(section, axis, cascade) {
  const latest = cascade.latest;
  if (latest) {
    section.append(element("p", { class: "meta cascade", "data-cascade": latest.id },
      `cascade ${percent(latest.shock_bps)} to ${price(num(latest.shock_price_usd))}: ` +
      `${latest.rounds} rounds, final ${price(num(latest.final_price_usd))}, ` +
      `${latest.positions_liquidated} positions, ${usd(num(latest.sold_usd))} sold, ` +
      `${usd(num(latest.bad_debt_usd))} bad debt (${latest.depth_model})`));
  }
  const withNow = latest || cascade.curve[0];
  if (withNow && withNow.liquidatable_now) {
    const now = withNow.liquidatable_now;
    section.append(element("p", { class: "meta cascade-now" },
      `liquidatable now, before any shock: ${now.positions} positions, ` +
      `${usd(num(now.sold_usd))} collateral sold, ${usd(num(now.bad_debt_usd))} bad debt; ` +
      (withNow.includes_now ? "in round 0 of every shock" : "left out of the spiral")));
  }
  if (!cascade.curve.length) return;
  const canvas = element("canvas", { id: `cascade-${axis.axis}`, class: "history-chart",
    "data-points": cascade.curve.length });
  section.append(element("div", { class: "history" }, canvas));
  charts.set(canvas.id, cascadeChart(canvas, cascade.curve));
}

function cascadeChart(canvas, curve) {
  const labels = curve.map((p) => percent(p.shock_bps));
  const move = (p) => (num(p.final_price_usd) / num(p.price_now_usd) - 1) * 100;
  return new Chart(canvas, {
    data: { labels, datasets: [
      { type: "line", label: "final move %", data: curve.map(move), yAxisID: "move",
        borderColor: "#c62828", pointRadius: 2 },
      { type: "line", label: "shock %", data: curve.map((p) => p.shock_bps / 100),
        yAxisID: "move", borderColor: "#1d2330", borderDash: [6, 4], pointRadius: 0 },
      { type: "bar", label: "collateral sold", data: curve.map((p) => num(p.sold_usd)),
        yAxisID: "sold", backgroundColor: "rgba(126,87,194,0.35)" }] },
    options: { animation: false, maintainAspectRatio: false,
      plugins: { title: { display: true,
        text: "cascade curve: where each shock ends once forced selling stops" } },
      scales: { x: { title: { display: true, text: "shock" } },
                move: { position: "left", title: { display: true, text: "final move (%)" } },
                sold: { position: "right", grid: { drawOnChartArea: false },
                        ticks: { callback: (v) => usd(v) } } } },
  });
}

window.addEventListener("DOMContentLoaded", () => {
  refresh();
  setInterval(refresh, POLL_MS);
});
