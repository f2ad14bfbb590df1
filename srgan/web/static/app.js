// The page: send the upload, then poll the job until its result is ready. No library.
"use strict";
const $ = (id) => document.getElementById(id);
let methods = [];
let faceScale = 4;

function showError(text) {
  $("error").textContent = text;
  $("error").hidden = !text;
}

function fillScales() {
  const m = methods.find((x) => x.id === $("method").value);
  const previous = $("scale").value || "4";
  $("scale").replaceChildren(...m.scales.map((s) => new Option("x" + s, s)));
  $("scale").value = m.scales.includes(Number(previous)) ? previous : m.scales[0];
  faceOption();
}

// "Restore faces" works at the face model's scale only.
function faceOption() {
  const ok = Number($("scale").value) === faceScale;
  $("faces").disabled = !ok;
  if (!ok) $("faces").checked = false;
}

async function start() {
  const info = await (await fetch("/api/methods")).json();
  methods = info.methods;
  faceScale = info.face_scale;
  $("method").replaceChildren(...methods.map((m) => new Option(m.label, m.id)));
  $("method").addEventListener("change", fillScales);
  $("scale").addEventListener("change", faceOption);
  fillScales();
  $("limits").textContent = `JPEG, PNG, BMP or WebP; at most ${info.max_upload_mb} MB and ` +
    `${info.max_pixels.toLocaleString()} pixels; results up to ` +
    `${info.max_output_pixels.toLocaleString()} pixels ` +
    `(ZSSR: ${info.zssr_max_pixels.toLocaleString()}).`;
}

// The reply's JSON, or its status line when it has none (a proxy's or server's own page).
async function json(reply) {
  try {
    return await reply.json();
  } catch (err) {
    return { error: `${reply.status} ${reply.statusText}` };
  }
}

// Jobs of this page still queued or running: cancelled when the page goes away.
const active = new Set();
window.addEventListener("pagehide", () => {
  for (const id of active) fetch("/api/jobs/" + id, { method: "DELETE", keepalive: true });
});

function chosen(files) {
  if (files && files.length) {
    $("drop-text").textContent = files[0].name;
    $("go").disabled = false;
    showError("");
  }
}

$("file").addEventListener("change", () => chosen($("file").files));
for (const kind of ["dragenter", "dragover"]) {
  $("drop").addEventListener(kind, (e) => { e.preventDefault(); $("drop").classList.add("over"); });
}
$("drop").addEventListener("dragleave", () => $("drop").classList.remove("over"));
$("drop").addEventListener("drop", (e) => {
  e.preventDefault();
  $("drop").classList.remove("over");
  $("file").files = e.dataTransfer.files;
  chosen($("file").files);
});

$("form").addEventListener("submit", async (e) => {
  e.preventDefault();
  showError("");
  const body = new FormData($("form"));
  const label = $("method").selectedOptions[0].textContent.split(" (")[0] +
    ($("faces").checked ? " + faces" : "");
  let reply, data;
  try {
    reply = await fetch("/api/jobs", { method: "POST", body });
    data = await json(reply);
  } catch (err) {
    showError("The server did not answer: " + err);
    return;
  }
  if (!reply.ok) {
    const wait = reply.headers.get("Retry-After");
    showError((data.error || "upload refused") + (wait ? ` (try again in ${wait} s)` : ""));
    return;
  }
  follow(data.id, label, $("scale").value);
});

function follow(id, label, scale) {
  const view = $("job-template").content.firstElementChild.cloneNode(true);
  view.id = "job-" + id;
  $("jobs").prepend(view);
  const q = (sel) => view.querySelector(sel);
  q(".title").textContent = `${label} x${scale}`;
  q(".slider").addEventListener("input", (e) => {
    q(".over").style.clipPath = `inset(0 0 0 ${e.target.value}%)`;
    q(".divider").style.left = `${e.target.value}%`;
  });
  active.add(id);
  q(".cancel").addEventListener("click", async () => {
    q(".cancel").disabled = true;
    const reply = await fetch("/api/jobs/" + id, { method: "DELETE" });
    if (!reply.ok) showError((await json(reply)).error);
  });
  const end = (text, kind) => {
    active.delete(id);
    q(".status").textContent = text;
    q(".cancel").hidden = true;
    view.classList.add(kind);
  };
  let misses = 0;
  const poll = async () => {
    let reply, job;
    try {
      reply = await fetch("/api/jobs/" + id);
      job = await json(reply);
    } catch (err) {  // the server restarting, or the network: try a few more times
      if (++misses > 10) { end("lost contact with the server", "failed"); return; }
      setTimeout(poll, 2000);
      return;
    }
    misses = 0;
    if (!reply.ok) { end(job.error || "gone", "failed"); return; }
    q(".title").textContent = `${job.name || ""}: ${label} x${scale}`;
    q("progress").value = job.progress || 0;
    if (job.state === "queued") {
      q(".status").textContent = `queued, ${job.ahead} job(s) ahead`;
    } else if (job.state === "running") {
      q(".status").textContent = `running ${Math.round(100 * job.progress)}% ${job.note}`;
    } else if (job.state === "cancelled") {
      end(job.error || "cancelled", "cancelled");
      return;
    } else if (job.state === "error") {
      end("failed", "failed");
      showError(job.error);
      return;
    } else if (job.state === "done") {
      end(`done: ${job.size[0]}x${job.size[1]}`, "done");
      const base = `/api/jobs/${id}/`;
      q(".bicubic").src = base + "bicubic.png";
      q(".result").src = base + "result.png";
      q(".method").textContent = label;
      q(".download").href = base + "result.png";
      q(".download").download = `${job.name.replace(/\.[^.]*$/, "")}_${label}_x${scale}.png`;
      q(".compare").hidden = false;
      q(".legend").hidden = false;
      return;
    }
    setTimeout(poll, 500);
  };
  poll();
}

start();
