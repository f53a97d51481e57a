// Actions of the "Wix calendars" dashboard. Plain JavaScript, no build step, no third-party code.
"use strict";

(function () {
  const meta = (name) => document.querySelector(`meta[name="${name}"]`).content;
  const prefix = meta("wix-prefix");
  const airflowRoot = meta("airflow-root");
  const csrfToken = meta("wix-csrf-token");
  const message = document.getElementById("message");

  function say(text, isError) {
    message.textContent = text;
    message.classList.toggle("error", Boolean(isError));
    message.hidden = false;
  }

  async function call(url, options) {
    const response = await fetch(url, { credentials: "same-origin", ...options });
    let body = null;
    try { body = await response.json(); } catch (e) { body = null; }
    if (!response.ok) {
      const detail = body && (body.detail || body.reason);
      throw new Error(typeof detail === "string" ? detail : `HTTP ${response.status}`);
    }
    return body;
  }

  async function copyLink(row, button) {
    const body = await call(`${prefix}/api/flows/${encodeURIComponent(row.dataset.flow)}/link`);
    try {
      await navigator.clipboard.writeText(body.url);
      say(`Consent link for schedule ${row.dataset.schedule} copied. Send it to the calendar owner only.`);
    } catch (e) {
      say(`Copy this consent link and send it to the calendar owner only.`);
    }
    let field = row.querySelector("input.link");
    if (!field) {
      field = document.createElement("input");
      field.className = "link";
      field.readOnly = true;
      button.parentElement.appendChild(field);
    }
    field.value = body.url;
    field.select();
  }

  // The Airflow UI shows this page in a sandboxed iframe without modals: confirm() is ignored there,
  // so a second click on the same button confirms instead.
  function confirmed(button, question) {
    if (button.dataset.armed === "yes") return true;
    button.dataset.armed = "yes";
    button.dataset.label = button.textContent;
    button.textContent = "Click again to confirm";
    say(question);
    window.setTimeout(() => {
      if (button.dataset.armed === "yes") {
        button.dataset.armed = "";
        button.textContent = button.dataset.label;
      }
    }, 6000);
    return false;
  }

  async function cancelFlow(row, button) {
    if (!confirmed(button, `Cancel the pending link of schedule ${row.dataset.schedule}? The link stops working and the waiting task fails.`)) return;
    button.dataset.armed = "";
    const body = await call(`${prefix}/api/flows/${encodeURIComponent(row.dataset.flow)}/cancel`, {
      method: "POST",
      headers: { "X-CSRF-Token": csrfToken, "Content-Type": "application/json" },
      body: "{}",
    });
    say(`Cancelled: ${body.detail}`);
    window.setTimeout(() => window.location.reload(), 800);
  }

  async function reonboard(row, button) {
    if (!confirmed(button, `Start a new onboarding of schedule ${row.dataset.schedule}? Its owner gets a new link.`)) return;
    button.dataset.armed = "";
    button.textContent = button.dataset.label;
    const plan = await call(`${prefix}/api/schedules/${encodeURIComponent(row.dataset.schedule)}/onboarding-conf`);
    const run = await call(`${airflowRoot}/api/v2/dags/${encodeURIComponent(plan.dagId)}/dagRuns`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ logical_date: null, conf: plan.conf }),
    });
    say(`Started run ${run.dag_run_id} of ${plan.dagId}; its connect task will issue a new link.`);
  }

  const actions = { copy: copyLink, cancel: cancelFlow, reonboard: reonboard };

  document.getElementById("rows").addEventListener("click", async (event) => {
    const button = event.target.closest("button[data-action]");
    if (!button) return;
    const row = button.closest("tr");
    button.disabled = true;
    try {
      await actions[button.dataset.action](row, button);
    } catch (error) {
      say(`${button.textContent} failed: ${error.message}`, true);
    } finally {
      button.disabled = false;
    }
  });

  // Links into the Airflow UI: the sandboxed iframe may not navigate the top window, but it shares
  // its origin, so the UI's router is asked to go there (a normal page load if that fails).
  document.body.addEventListener("click", (event) => {
    const link = event.target.closest("a[data-ui-link]");
    if (!link || event.ctrlKey || event.metaKey || event.shiftKey) return;
    try {
      window.parent.history.pushState(null, "", link.getAttribute("href"));
      window.parent.dispatchEvent(new PopStateEvent("popstate", { state: null }));
      event.preventDefault();
    } catch (error) {
      // not inside the Airflow UI: follow the link here
    }
  });

  const filter = document.getElementById("filter");
  filter.addEventListener("input", () => {
    const needle = filter.value.trim().toLowerCase();
    for (const row of document.querySelectorAll("#rows tbody tr.row")) {
      row.hidden = needle !== "" && !row.textContent.toLowerCase().includes(needle);
    }
  });
})();
