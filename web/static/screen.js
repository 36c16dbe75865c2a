// The big screen's charts (ECharts), drawn from the JSON the live fragment carries; redrawn on every refresh.
(function () {
  var charts = {};
  function chart(id) {
    var el = document.getElementById(id);
    if (!el || !window.echarts) { return null; }
    if (!charts[id]) { charts[id] = window.echarts.init(el, "dark"); }
    return charts[id];
  }
  function draw() {
    var island = document.getElementById("screen-data");
    if (!island) { return; }
    var data = JSON.parse(island.textContent);
    var months = chart("chart-months");
    if (months) {
      months.setOption({
        backgroundColor: "transparent", tooltip: { trigger: "axis" }, legend: {},
        xAxis: { type: "category", data: data.months.map(function (m) { return m.month; }) },
        yAxis: { type: "value" },
        series: [
          { name: data.labels.reported, type: "line", data: data.months.map(function (m) { return m.reported; }) },
          { name: data.labels.completed, type: "line", data: data.months.map(function (m) { return m.completed; }) },
          { name: data.labels.refused, type: "line", data: data.months.map(function (m) { return m.refused; }) }
        ]
      });
    }
    var ranking = chart("chart-ranking");
    if (ranking) {
      var rows = data.ranking.slice(0, 12).reverse();
      ranking.setOption({
        backgroundColor: "transparent", tooltip: {}, grid: { left: 180 },
        xAxis: { type: "value", max: 100 },
        yAxis: { type: "category", data: rows.map(function (r) { return r.department; }) },
        series: [{ type: "bar", data: rows.map(function (r) { return r.resolution_rate === null ? 0 : Math.round(r.resolution_rate * 1000) / 10; }) }]
      });
    }
  }
  document.addEventListener("DOMContentLoaded", draw);
  document.addEventListener("htmx:afterSettle", draw);
  window.addEventListener("resize", function () { Object.keys(charts).forEach(function (k) { charts[k].resize(); }); });
})();
