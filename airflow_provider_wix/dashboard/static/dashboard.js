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

  async function cancelFlow(row) {
    if (!window.confirm(`Cancel the pending link of schedule ${row.dataset.schedule}? The link stops working and the waiting task fails.`)) return;
    const body = await call(`${prefix}/api/flows/${encodeURIComponent(row.dataset.flow)}/cancel`, {
      method: "POST",
      headers: { "X-CSRF-Token": csrfToken, "Content-Type": "application/json" },
      body: "{}",
    });
    say(`Cancelled: ${body.detail}`);
    window.setTimeout(() => window.location.reload(), 800);
  }

  async function reonboard(row) {
    const plan = await call(`${prefix}/api/schedules/${encodeURIComponent(row.dataset.schedule)}/onboarding-conf`);
    if (!window.confirm(`Start ${plan.dagId} for schedule ${row.dataset.schedule}?`)) return;
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

  const filter = document.getElementById("filter");
  filter.addEventListener("input", () => {
    const needle = filter.value.trim().toLowerCase();
    for (const row of document.querySelectorAll("#rows tbody tr.row")) {
      row.hidden = needle !== "" && !row.textContent.toLowerCase().includes(needle);
    }
  });
})();
