// The special edition's top-story picker: the search box filters the period's articles as
// the editor types, and the list follows the period's dates. Without this script the
// server-rendered <select> works alone.
(function () {
  "use strict";
  var select = document.getElementById("pinned");
  var box = document.querySelector("[data-pinned-search]");
  if (!select || !box || !window.fetch) return;
  var form = select.form;
  var search = document.getElementById("pinned-search");
  var found = document.getElementById("pinned-found");
  var since = form.elements.namedItem("since");
  var until = form.elements.namedItem("until");
  var timer = null;
  var asked = 0;
  box.hidden = false;

  function url() {
    var query = new URLSearchParams({ since: since.value, until: until.value, q: search.value });
    return select.dataset.choicesUrl + "?" + query.toString();
  }

  function option(value, label) {
    var item = document.createElement("option");
    item.value = value;
    item.textContent = label;
    return item;
  }

  function show(articles) {
    var chosen = select.value;
    var none = select.options[0];
    var kept = chosen ? select.options[select.selectedIndex] : null;
    select.replaceChildren(none);
    var listed = false;
    articles.forEach(function (article) {
      select.appendChild(option(String(article.id), article.label));
      if (String(article.id) === chosen) listed = true;
    });
    // The story already chosen stays chosen while the editor searches for another.
    if (kept && !listed) select.insertBefore(kept, none.nextSibling);
    select.value = chosen;
    var count = articles.length;
    found.textContent = count === 1
      ? select.dataset.foundOne
      : select.dataset.foundMany.replace("{count}", String(count));
  }

  function refresh() {
    var mine = ++asked;
    fetch(url(), { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) throw new Error(String(response.status));
        return response.json();
      })
      .then(function (answer) {
        if (mine === asked) show(answer.articles);
      })
      .catch(function () {
        if (mine === asked) found.textContent = select.dataset.failed;
      });
  }

  function soon() {
    window.clearTimeout(timer);
    timer = window.setTimeout(refresh, 200);
  }

  search.addEventListener("input", soon);
  since.addEventListener("change", soon);
  until.addEventListener("change", soon);
  // Enter in the search box filters; it does not submit the form (and start the sending).
  search.addEventListener("keydown", function (event) {
    if (event.key === "Enter") {
      event.preventDefault();
      refresh();
    }
  });
})();
