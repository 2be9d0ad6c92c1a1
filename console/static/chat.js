// Resident web chat: posts each message to /api/chat and shows the bot's answers.
// Every text is inserted with textContent, never as HTML, so nothing a resident types can run.
// The words it adds itself are data-* attributes of #log in templates/chat.html.
(function () {
  "use strict";
  const log = document.getElementById("log");
  const words = log.dataset;
  const form = document.getElementById("composer");
  const input = document.getElementById("message");
  const send = document.getElementById("send");

  function add(text, who) {
    const div = document.createElement("div");
    div.className = "msg " + who;
    div.textContent = text;
    log.appendChild(div);
    log.scrollTop = log.scrollHeight;
  }

  function addButtons(buttons) {
    const row = document.createElement("div");
    row.className = "buttons";
    buttons.forEach(function (b) {
      const btn = document.createElement("button");
      btn.type = "button";
      btn.textContent = b.title;
      btn.addEventListener("click", function () { talk(b.payload, b.title); });
      row.appendChild(btn);
    });
    log.appendChild(row);
    log.scrollTop = log.scrollHeight;
  }

  // A calendar file (.ics) from the bot becomes a download link made in the browser.
  function addDocument(doc) {
    const link = document.createElement("a");
    link.className = "msg bot download";
    link.textContent = words.download + (doc.filename || words.file);
    link.download = doc.filename || "file.txt";
    link.href = URL.createObjectURL(new Blob([doc.content], { type: "text/calendar;charset=utf-8" }));
    log.appendChild(link);
    log.scrollTop = log.scrollHeight;
  }

  async function talk(message, shown) {
    if (shown) add(shown, "user");
    send.disabled = true;
    try {
      const res = await fetch("/api/chat", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ message: message }),
        credentials: "same-origin",
      });
      const data = await res.json();
      (data.messages || []).forEach(function (m) {
        if (m.text) add(m.text, "bot");
        if (m.image) add(words.image + m.image, "bot");
        if (m.document && m.document.content) addDocument(m.document);
        if (m.buttons && m.buttons.length) addButtons(m.buttons);
      });
      if (!data.messages || !data.messages.length) add(words.received, "bot");
    } catch (err) {
      add(words.busy, "bot");
    } finally {
      send.disabled = false;
      input.focus();
    }
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    input.value = "";
    talk(text, text);
  });
  input.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey) { event.preventDefault(); form.requestSubmit(); }
  });

  // Staff replies and rating requests arrive through polling, after the page has caught up.
  let lastId = -1;
  async function poll() {
    try {
      const res = await fetch("/api/chat/updates?after=" + lastId, { credentials: "same-origin" });
      const data = await res.json();
      (data.messages || []).forEach(function (m) {
        if (m.text) add((m.author === "staff" ? words.staff : "") + m.text, "bot");
        if (m.buttons && m.buttons.length) addButtons(m.buttons);
      });
      if (typeof data.last_id === "number") lastId = data.last_id;
    } catch (err) { /* try again at the next tick */ }
  }

  talk("/greet", null).then(poll);
  setInterval(poll, 3000);
})();
