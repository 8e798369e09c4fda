(function () {
  "use strict";
  var d = JSON.parse(document.getElementById("page-data").textContent);
  var app = document.getElementById("app");
  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    for (var k in attrs) { e.setAttribute(k, attrs[k]); }
    if (text !== undefined) { e.textContent = text; }
    return e;
  }
  function hidden(form, name, value) { form.appendChild(el("input", {type: "hidden", name: name, value: value})); }
  var form = el("form", {method: "post", action: d.page === "login" ? "/login" : "/consent"});
  hidden(form, "csrf", d.csrf);
  hidden(form, "tx", d.tx);
  if (d.page === "login") {
    app.appendChild(el("h1", {}, "Sign in"));
    var who = (d.client_name || "") + " (" + d.client_id + ") asks you to sign in";
    if (d.actor_id) { who += " so that the agent " + d.actor_name + " (" + d.actor_id + ") can act on your behalf"; }
    app.appendChild(el("p", {}, who + "."));
    if (d.error) { app.appendChild(el("p", {"class": "err", role: "alert"}, d.error)); }
    var u = el("label", {}, "Username ");
    var ui = el("input", {name: "username", autocomplete: "username", required: ""});
    ui.value = d.username || "";
    u.appendChild(ui);
    var p = el("label", {}, "Password ");
    p.appendChild(el("input", {name: "password", type: "password", autocomplete: "current-password", required: ""}));
    form.appendChild(u);
    form.appendChild(p);
    form.appendChild(el("button", {type: "submit"}, "Sign in"));
  } else {
    app.appendChild(el("h1", {}, "Authorize access"));
    app.appendChild(el("p", {}, "Signed in as " + d.user + "."));
    var dl = el("dl");
    dl.appendChild(el("dt", {}, "Client"));
    dl.appendChild(el("dd", {id: "client"}, (d.client_name || "") + " (" + d.client_id + ")"));
    dl.appendChild(el("dt", {}, "Agent acting on your behalf"));
    dl.appendChild(el("dd", {id: "actor"}, d.actor_id ? d.actor_name + " (" + d.actor_id + ")" : "none: the client itself"));
    dl.appendChild(el("dt", {}, "Permissions"));
    var ul = el("ul", {id: "scopes"});
    (d.scopes || []).forEach(function (s) { ul.appendChild(el("li", {}, s)); });
    var dd = el("dd");
    dd.appendChild(ul);
    dl.appendChild(dd);
    app.appendChild(dl);
    form.appendChild(el("button", {type: "submit", name: "decision", value: "approve"}, "Approve"));
    form.appendChild(el("button", {type: "submit", name: "decision", value: "deny"}, "Deny"));
  }
  app.appendChild(form);
})();
