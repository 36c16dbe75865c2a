// The big screen's charts (ECharts), drawn from the JSON the live fragment carries; redrawn on
// every refresh and resize.  Text sizes follow the page's root font, which follows the viewport.
(function () {
  var charts = {};
  function chart(id) {
    var el = document.getElementById(id);
    if (!el || !window.echarts) { return null; }
    if (charts[id] && charts[id].getDom() !== el) { charts[id].dispose(); delete charts[id]; }
    if (!charts[id]) { charts[id] = window.echarts.init(el, "dark"); }
    return charts[id];
  }
  function rem() { return parseFloat(getComputedStyle(document.documentElement).fontSize) || 16; }
  function percent(v) { return v === null || v === undefined ? "—" : (Math.round(v * 1000) / 10).toFixed(1) + "%"; }
  function draw() {
    var island = document.getElementById("screen-data");
    if (!island) { return; }
    var data = JSON.parse(island.textContent), L = data.labels, fs = rem();
    var text = { color: "#d6e2ef", fontSize: Math.round(fs * 0.85) };
    var months = chart("chart-months");
    if (months) {
      // The current month so far: lighter and outlined dashed, its axis label says "to date": never a cliff.
      var bar = function (key, colour) {
        return {
          name: L[key], type: "bar", barGap: "10%", itemStyle: { color: colour },
          data: data.months.map(function (m) {
            return m.partial ? { value: m[key], itemStyle: { color: colour, opacity: 0.35, borderType: "dashed",
                                                                 borderColor: colour, borderWidth: 1.5 } } : m[key];
          })
        };
      };
      months.setOption({
        backgroundColor: "transparent", textStyle: text, tooltip: { trigger: "axis" },
        legend: { top: 0, textStyle: text, itemWidth: fs, itemHeight: fs * 0.7 },
        grid: { left: fs * 0.5, right: fs, top: fs * 2.2, bottom: fs * 0.3, containLabel: true },
        xAxis: { type: "category", data: data.months.map(function (m) { return m.label; }),
                 axisLabel: { color: text.color, fontSize: text.fontSize, interval: 0 } },
        yAxis: { type: "value", axisLabel: { color: text.color, fontSize: text.fontSize }, splitLine: { lineStyle: { color: "#1d3a5f" } } },
        series: [bar("reported", "#4fc3f7"), bar("completed", "#81e6a6"), bar("refused", "#ffab91")]
      }, true);
    }
    var ranking = chart("chart-ranking");
    if (ranking) {
      var rows = data.ranking.slice(0, 10).reverse();
      ranking.setOption({
        backgroundColor: "transparent", textStyle: text,
        tooltip: { trigger: "item", formatter: function (p) { return p.name + ": " + percent(rows[p.dataIndex].resolution_rate); } },
        grid: { left: fs * 0.3, right: fs * 3.6, top: fs * 0.3, bottom: fs * 0.3, containLabel: true },
        xAxis: { type: "value", min: 0, max: 100, interval: 50, axisLabel: { color: text.color, fontSize: text.fontSize, formatter: "{value}%" },
                 splitLine: { lineStyle: { color: "#1d3a5f" } } },
        yAxis: { type: "category", data: rows.map(function (r) { return r.department; }),
                 axisLabel: { color: text.color, fontSize: text.fontSize, width: fs * 12, overflow: "break", lineHeight: fs } },
        series: [{ name: L.rate, type: "bar", itemStyle: { color: "#6fd0ff" }, barMaxWidth: fs * 1.4,
                   label: { show: true, position: "right", color: "#e8f0fa", fontSize: text.fontSize,
                            formatter: function (p) { return percent(rows[p.dataIndex].resolution_rate); } },
                   data: rows.map(function (r) { return r.resolution_rate === null ? 0 : Math.round(r.resolution_rate * 1000) / 10; }) }]
      }, true);
    }
  }
  // The modules' charts (screen/_chart.html): each cell carries its own figures in data-chart,
  // horizontal bars in the order given or a ring of shares; drawn once per new cell and on resize.
  var PALETTE = ["#4fc3f7", "#81e6a6", "#ffd54f", "#ffab91", "#ce93d8", "#80cbc4"];
  function drawWidgets(force) {
    document.querySelectorAll(".chart[data-chart]").forEach(function (el) {
      if (el.dataset.drawn && !force) { return; }
      var spec = JSON.parse(el.getAttribute("data-chart")), c = chart(el.id), fs = rem();
      if (!c) { return; }
      var text = { color: "#d6e2ef", fontSize: Math.round(fs * 0.8) };
      var option;
      if (spec.kind === "ring") {
        option = {
          backgroundColor: "transparent", color: PALETTE, textStyle: text, tooltip: { trigger: "item" },
          legend: { bottom: 0, left: "center", textStyle: text, itemWidth: fs * 0.8, itemHeight: fs * 0.6,
                    itemGap: fs * 0.6 },
          series: [{ type: "pie", radius: ["42%", "68%"], center: ["50%", "42%"], avoidLabelOverlap: true,
                     label: { color: "#e8f0fa", fontSize: text.fontSize, formatter: "{c}" },
                     labelLine: { length: fs * 0.4, length2: fs * 0.4 },
                     data: spec.labels.map(function (name, i) { return { name: name, value: spec.values[i] }; }) }]
        };
      } else {
        var labels = spec.labels.slice().reverse(), values = spec.values.slice().reverse();
        option = {
          backgroundColor: "transparent", textStyle: text, tooltip: { trigger: "item" },
          grid: { left: fs * 0.2, right: fs * 2.2, top: fs * 0.3, bottom: fs * 0.2, containLabel: true },
          xAxis: { type: "value", minInterval: 1, axisLabel: { show: false }, splitLine: { lineStyle: { color: "#1d3a5f" } } },
          yAxis: { type: "category", data: labels, axisLabel: { color: text.color, fontSize: text.fontSize } },
          series: [{ type: "bar", data: values, barMaxWidth: fs * 1.1, itemStyle: { color: PALETTE[0], borderRadius: [0, 3, 3, 0] },
                     label: { show: true, position: "right", color: "#e8f0fa", fontSize: text.fontSize } }]
        };
      }
      c.setOption(option, true);
      el.dataset.drawn = "1";
    });
  }
  function resize() { Object.keys(charts).forEach(function (k) { charts[k].resize(); }); draw(); drawWidgets(true); }
  document.addEventListener("DOMContentLoaded", function () { draw(); drawWidgets(false); });
  document.addEventListener("htmx:afterSettle", function () { draw(); drawWidgets(false); });
  window.addEventListener("resize", resize);
})();
