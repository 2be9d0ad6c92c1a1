// Staff console: keeps the handoff queue and an open conversation up to date without reloading.
// Every text from the server is inserted with textContent, never as HTML: residents' messages are
// untrusted. Writes send the page's CSRF token in the X-CSRF-Token header.
(function () {
  "use strict";

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  async function getJson(url) {
    const res = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
    if (res.status === 401) { window.location.reload(); throw new Error("login"); }
    if (!res.ok) throw new Error("HTTP " + res.status);
    return res.json();
  }

  async function postJson(url, body, token) {
    const res = await fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": token },
      body: JSON.stringify(body || {}),
    });
    let data = {};
    try { data = await res.json(); } catch (err) { data = {}; }
    if (!res.ok) {
      const detail = typeof data.detail === "string" ? data.detail : "操作失败（" + res.status + "），请刷新页面后重试";
      throw new Error(detail);
    }
    return data;
  }

  // ------------------------------------------------------------------ the queue page
  function startQueue(table) {
    const status = table.dataset.status;
    const interval = parseInt(table.dataset.pollMs, 10) || 2500;
    const body = table.querySelector("tbody");
    const stamp = document.getElementById("queue-updated");
    const baseTitle = document.title;

    function row(item) {
      const tr = el("tr");
      tr.dataset.id = item.id;
      if (item.urgent) tr.className = "urgent";
      const prio = el("td");
      prio.appendChild(el("span", item.urgent ? "badge urgent" : "badge", item.priority_label));
      tr.appendChild(prio);
      tr.appendChild(el("td", "", item.reason_label));
      tr.appendChild(el("td", "", item.channel_label));
      tr.appendChild(el("td", "", item.waiting_label + (item.answered ? "（已回复）" : "")));
      tr.appendChild(el("td", "preview", item.last_message));
      tr.appendChild(el("td", "", item.assigned_to_name || "—"));
      const open = el("td");
      const link = el("a", "", "打开 #" + item.id);
      link.href = "/staff/handoffs/" + encodeURIComponent(item.id);
      open.appendChild(link);
      tr.appendChild(open);
      return tr;
    }

    async function refresh() {
      try {
        const data = await getJson("/api/staff/handoffs?status=" + encodeURIComponent(status));
        const rows = data.handoffs || [];
        body.replaceChildren();
        if (!rows.length) {
          const tr = el("tr");
          const td = el("td", "", "暂时没有会话。");
          td.colSpan = 7;
          tr.appendChild(td);
          body.appendChild(tr);
        }
        rows.forEach(function (item) { body.appendChild(row(item)); });
        Object.keys(data.counts || {}).forEach(function (key) {
          const count = document.querySelector('[data-count="' + key + '"]');
          if (count) count.textContent = String(data.counts[key]);
        });
        const waiting = (data.counts && data.counts.open) || 0;
        document.title = (waiting ? "(" + waiting + ") " : "") + baseTitle;
        if (stamp) stamp.textContent = "已更新 " + new Date().toLocaleTimeString("zh-CN");
      } catch (err) {
        if (stamp) stamp.textContent = "连接中断，正在重试…";
      }
    }

    setInterval(refresh, interval);
  }

  // ------------------------------------------------------------------ the conversation page
  function startConversation(log) {
    const id = log.dataset.handoff;
    const interval = parseInt(log.dataset.pollMs, 10) || 2500;
    let lastId = parseInt(log.dataset.lastId, 10) || 0;
    let status = log.dataset.status;
    const errorBox = document.getElementById("action-error");
    const notesList = document.getElementById("notes");
    const statusBadge = document.getElementById("handoff-status");
    const assignee = document.getElementById("handoff-assignee");
    const replyForm = document.getElementById("reply-form");
    const noteForm = document.getElementById("note-form");

    function showError(text) {
      if (!errorBox) return;
      errorBox.textContent = text || "";
      errorBox.hidden = !text;
    }

    function addMessage(m) {
      const li = el("li", "msg " + m.author);
      li.dataset.id = m.id;
      li.appendChild(el("div", "meta", m.author_label + " · " + m.at_local));
      li.appendChild(el("div", "text", m.text));
      if (m.buttons && m.buttons.length) li.appendChild(el("div", "buttons", "[按钮] " + m.buttons.join(" / ")));
      log.appendChild(li);
      li.scrollIntoView({ block: "nearest" });
    }

    function renderNotes(notes) {
      if (!notesList) return;
      notesList.replaceChildren();
      notes.forEach(function (n) {
        const li = el("li");
        li.appendChild(el("div", "meta", (n.author || "") + " · " + n.at_local));
        li.appendChild(el("div", "text", n.text));
        notesList.appendChild(li);
      });
    }

    function applyState(h) {
      if (statusBadge) statusBadge.textContent = h.status_label;
      if (assignee) assignee.textContent = h.assigned_to_name || "—";
      if (h.status !== status) {
        status = h.status;
        if (status === "resolved" && replyForm) {
          replyForm.querySelectorAll("textarea, button").forEach(function (x) { x.disabled = true; });
          showError("该会话已结束人工服务，不能再回复。");
        }
      }
    }

    async function poll() {
      try {
        const data = await getJson("/api/staff/handoffs/" + encodeURIComponent(id) + "?after=" + lastId);
        (data.messages || []).forEach(function (m) {
          if (m.id > lastId) { addMessage(m); lastId = m.id; }
        });
        renderNotes(data.notes || []);
        applyState(data.handoff);
      } catch (err) { /* try again at the next tick */ }
    }

    function hook(form, path, after) {
      if (!form) return;
      form.addEventListener("submit", async function (event) {
        event.preventDefault();
        const box = form.querySelector("textarea");
        const text = box.value.trim();
        if (!text) { showError("内容不能为空"); return; }
        const token = form.querySelector('input[name="csrf_token"]').value;
        const button = form.querySelector("button");
        button.disabled = true;
        try {
          const data = await postJson("/api/staff/handoffs/" + encodeURIComponent(id) + "/" + path,
                                      { text: text }, token);
          box.value = "";
          showError(data.warning || "");
          if (after) after(data);
          await poll();
        } catch (err) {
          showError(err.message);
        } finally {
          button.disabled = status === "resolved" && form === replyForm;
        }
      });
    }

    hook(replyForm, "reply");
    hook(noteForm, "note");
    setInterval(poll, interval);
  }

  const queue = document.getElementById("queue");
  if (queue) startQueue(queue);
  const transcript = document.getElementById("transcript");
  if (transcript && transcript.dataset.handoff) startConversation(transcript);
})();
