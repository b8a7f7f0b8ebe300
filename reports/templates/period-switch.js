// The dashboard's period switch: shows one period's sections at a time.
// Every period is in the page and drawn at load, so without JavaScript (or when printing) all
// of them stay readable one after the other; this script only hides all but one. A link can
// pick the period with its fragment (dashboard_X.html#period-all), as the index's links do.
(() => {
  const views = [...document.querySelectorAll("[data-period-view]")];
  const buttons = [...document.querySelectorAll("[data-show-period]")];
  const control = document.getElementById("period-switch");
  if (views.length < 2 || !control) return;

  function show(id, remember) {
    const view = views.find((v) => v.id === id) || views[0];
    for (const v of views) v.hidden = v !== view;
    for (const b of buttons) b.setAttribute("aria-pressed", String(b.dataset.showPeriod === view.id));
    // A chart drawn while its view was hidden, or before the window was resized, has a stale
    // width: let Plotly measure it again now that it is visible.
    if (window.Plotly) {
      for (const gd of view.querySelectorAll(".js-plotly-plot")) window.Plotly.Plots.resize(gd);
    }
    if (remember) {
      try {
        history.replaceState(null, "", "#" + view.id);
      } catch (err) {
        // Some browsers refuse history changes on file:// pages; the switch works without it.
      }
    }
  }

  for (const b of buttons) b.addEventListener("click", () => show(b.dataset.showPeriod, true));
  window.addEventListener("hashchange", () => show(location.hash.slice(1), false));
  control.hidden = false;
  show(location.hash.slice(1), false);
})();
