"""The studio's Live tab: play a phrase on the on-screen keyboard (the mouse, the computer's keys A W S E D F T G
Y H U J K, or a MIDI keyboard through the browser's Web MIDI), stop for a beat, and the model answers: its notes
come back as sound (rendered by the studio's SoundFont engine) and scroll by on a piano roll beside yours.

The page's script (:data:`SCRIPT`, in the page's head) keeps the phrase, writes it into the phrase box in the form
``jobs.studio.parse_phrase`` reads, and presses Answer after the wait; the server answers with the same engine as
``tunesmith live answer`` (``Studio.answer``). The script also measures the round trip, from pressing Answer to the
answer's notes on the page, and shows it (``#live-roundtrip``)."""

from __future__ import annotations

import contextlib
from typing import Any

import gradio as gr

from ..errors import TunesmithError
from ..jobs.studio import MAX_ANSWER_BARS, Studio

#: the keyboard on the page: two octaves from C4
LOW, HIGH = 60, 84
WHITE = (0, 2, 4, 5, 7, 9, 11)

KEYBOARD = (
    '<div id="live-keys" tabindex="0" aria-label="on-screen keyboard">'
    + "".join(
        f'<div class="live-key {"white" if p % 12 in WHITE else "black"}" data-pitch="{p}" id="key-{p}"></div>'
        for p in range(LOW, HIGH + 1)
    )
    + '</div><canvas id="live-roll" width="1200" height="220"></canvas>'
    '<div id="live-roundtrip" data-ms="">play a phrase, then stop for a beat</div>'
    '<div id="live-midi"></div>'
)

STYLE = """
#live-keys { display:flex; position:relative; height:120px; user-select:none; touch-action:none; outline:none; }
.live-key.white { width:40px; height:120px; background:#fff; border:1px solid #888; border-radius:0 0 4px 4px; }
.live-key.black { width:26px; height:74px; background:#222; margin:0 -13px; z-index:2; border-radius:0 0 3px 3px; }
.live-key.down { background:#f6a21a !important; }
#live-roll { width:100%; height:220px; background:#10141c; border-radius:6px; margin-top:8px; }
#live-roundtrip { margin-top:6px; font-family:ui-monospace,monospace; }
.live-hidden { display:none !important; }
"""

SCRIPT = (
    "<style>"
    + STYLE
    + """</style>
<script>
(() => {
  const S = {held: {}, notes: [], answer: [], answerAt: null, asked: null, timer: null, last: "", audio: null};
  const now = () => performance.now() / 1000;
  const el = (q) => document.querySelector(q);
  const KEYS = "awsedftgyhujk";
  function beat() {
    const t = parseFloat((el("#live-tempo input") || {}).value || "0");
    if (t > 0) return 60 / t;
    const on = S.notes.map((n) => n.start).filter((t, i, a) => i === 0 || t - a[i - 1] > 0.06);
    const gaps = on.slice(1).map((t, i) => t - on[i]).filter((g) => g <= 2).sort((a, b) => a - b);
    if (!gaps.length) return 0.5;
    let bpm = 60 / gaps[Math.floor(gaps.length / 2)];
    while (bpm > 140) bpm /= 2;
    while (bpm < 70) bpm *= 2;
    return 60 / bpm;
  }
  function tone(p) {
    try {
      S.audio = S.audio || new AudioContext();
      const o = S.audio.createOscillator(), g = S.audio.createGain(), t = S.audio.currentTime;
      o.type = "triangle"; o.frequency.value = 440 * Math.pow(2, (p - 69) / 12);
      g.gain.setValueAtTime(0.2, t); g.gain.exponentialRampToValueAtTime(0.001, t + 0.6);
      o.connect(g); g.connect(S.audio.destination); o.start(t); o.stop(t + 0.6);
    } catch (e) {}
  }
  function write() {
    const box = el("#live-phrase textarea");
    if (!box || !S.notes.length) return;
    const t0 = S.notes[0].start;
    const text = (n) => `${n.pitch}:${(n.start - t0).toFixed(3)}-${((n.end ?? now()) - t0).toFixed(3)}:${n.vel}`;
    box.value = S.notes.map(text).join(" ");
    box.dispatchEvent(new Event("input", {bubbles: true}));
  }
  function down(p, v) {
    clearTimeout(S.timer); clearTimeout(S.early);
    if (S.asked !== null) { S.notes = []; S.asked = null; }  // the first note after an answer: a new phrase
    if (S.held[p]) return;
    S.held[p] = {pitch: p, start: now(), end: null, vel: v || 80};
    S.notes.push(S.held[p]);
    const k = el(`#key-${p}`); if (k) k.classList.add("down");
    tone(p);
  }
  function up(p) {
    const n = S.held[p];
    if (!n) return;
    n.end = now(); delete S.held[p];
    const k = el(`#key-${p}`); if (k) k.classList.remove("down");
    if (Object.keys(S.held).length === 0) {
      write();
      const wait = (parseFloat((el("#live-wait input") || {}).value || "1") || 1) * beat() * 1000;
      // the answer begun early, once a short silence says the phrase may be over (a key pressed cancels it)
      S.early = setTimeout(() => { const b = el("#live-prepare"); if (b) b.click(); }, Math.min(0.4 * wait, 250));
      S.timer = setTimeout(ask, wait);
    }
  }
  function ask() {
    const b = el("#live-answer");
    if (!b || !S.notes.length) return;
    S.asked = now(); S.answerAt = null;
    el("#live-roundtrip").textContent = "composing...";
    b.click();
  }
  function poll() {
    const box = el("#live-notes textarea");
    if (box && box.value && box.value !== S.last) {
      S.last = box.value;
      S.answerAt = now();
      S.answer = box.value.trim().split(/\\s+/).map((s) => {
        const m = s.match(/^(\\d+):([\\d.]+)-([\\d.]+)/);
        return m ? {pitch: +m[1], start: +m[2], end: +m[3]} : null;
      }).filter(Boolean);
      if (S.asked !== null) {
        const ms = Math.round((S.answerAt - S.asked) * 1000);
        const r = el("#live-roundtrip");
        r.dataset.ms = String(ms);
        r.textContent = `answered in ${ms} ms: ${S.answer.length} notes`;
      }
    }
  }
  function draw() {
    const c = el("#live-roll");
    if (c) {
      const g = c.getContext("2d"), W = c.width, H = c.height, span = 12, t = now();
      g.fillStyle = "#10141c"; g.fillRect(0, 0, W, H);
      const x = (s) => W - (t - s) / span * W, y = (p) => H - (p - 36) / 60 * H;
      g.fillStyle = "#4aa3ff";
      for (const n of S.notes) g.fillRect(x(n.start), y(n.pitch) - 3, Math.max(2, x(n.end ?? t) - x(n.start)), 6);
      if (S.answerAt !== null) {
        g.fillStyle = "#f6a21a";
        for (const n of S.answer) {
          const a = S.answerAt + n.start, b = S.answerAt + n.end;
          g.fillRect(x(a), y(n.pitch) - 3, Math.max(2, x(b) - x(a)), 6);
        }
      }
      g.fillStyle = "#ffffff55"; g.fillRect(W - 2, 0, 2, H);
    }
    requestAnimationFrame(draw);
  }
  document.addEventListener("pointerdown", (e) => {
    const k = e.target.closest && e.target.closest("[data-pitch]");
    if (k) { e.preventDefault(); down(+k.dataset.pitch); S.pointer = +k.dataset.pitch; }
  });
  document.addEventListener("pointerup", () => {
    if (S.pointer !== undefined) { up(S.pointer); S.pointer = undefined; }
  });
  document.addEventListener("keydown", (e) => {
    if (e.repeat || (e.target.closest && e.target.closest("input, textarea"))) return;
    const i = KEYS.indexOf(e.key.toLowerCase());
    if (i >= 0 && el("#live-keys") && el("#live-keys").offsetParent !== null) down(60 + i);
  });
  document.addEventListener("keyup", (e) => { const i = KEYS.indexOf(e.key.toLowerCase()); if (i >= 0) up(60 + i); });
  if (navigator.requestMIDIAccess) {
    navigator.requestMIDIAccess().then((access) => {
      const names = [];
      for (const input of access.inputs.values()) {
        names.push(input.name);
        input.onmidimessage = (m) => {
          const [st, d1, d2] = m.data, kind = st & 0xf0;
          if (kind === 0x90 && d2 > 0) down(d1, d2); else if (kind === 0x80 || kind === 0x90) up(d1);
        };
      }
      const box = el("#live-midi");
      if (box && names.length) box.textContent = "MIDI input: " + names.join(", ");
    }).catch(() => {});
  }
  setInterval(poll, 10);
  requestAnimationFrame(draw);
  window.tunesmithLive = {down, up, state: S};
})();
</script>"""
)


def live_tab(studio: Studio, safely: Any, message: Any) -> None:
    """The Live tab, its components and handlers, inside the page's Blocks."""
    with gr.Tab("Live", id="live", elem_id="live-tab") as tab:
        _live(studio, safely, message, tab)


def _live(studio: Studio, safely: Any, message: Any, tab: gr.Tab) -> None:
    gr.Markdown(
        "Play a phrase on the keyboard below (the mouse, your computer's keys A W S E D F T G Y H U J K, or a MIDI "
        "keyboard), then stop: after the wait the model answers, in sound and on the roll (yours in blue, its "
        "answer in orange). The same as `tunesmith live answer` through MIDI ports (docs/live.md)."
    )
    with gr.Row():
        models = [label for label, m in studio.models.items() if m.primer]
        model = gr.Dropdown(
            models, value=next(iter(models), None), label="Model", allow_custom_value=True, elem_id="live-model"
        )
        bars = gr.Slider(1, MAX_ANSWER_BARS, value=2, step=1, label="Answer: bars", elem_id="live-bars")
        tempo = gr.Number(value=0, label="Tempo (0: yours)", elem_id="live-tempo")
        gr.Number(value=1, label="Wait (beats)", elem_id="live-wait")  # read by the page's script
        seed = gr.Number(value=0, precision=0, label="Seed", elem_id="live-seed")
    gr.HTML(KEYBOARD)
    phrase = gr.Textbox(
        label="Your phrase (PITCH:START-END:VELOCITY, seconds)", lines=1, max_lines=3, elem_id="live-phrase"
    )
    go = gr.Button("Answer", variant="primary", elem_id="live-answer")
    # pressed by the page's script when every key is up: the answer is begun while the player waits
    early = gr.Button("prepare", elem_id="live-prepare", elem_classes=["live-hidden"])
    status = gr.Markdown(elem_id="live-status")
    notes = gr.Textbox(label="Its answer", lines=1, max_lines=3, interactive=False, elem_id="live-notes")
    audio = gr.Audio(type="filepath", interactive=False, autoplay=True, label="Listen", elem_id="live-audio")
    midi = gr.File(label="MIDI", interactive=False, elem_id="live-midi-file")

    @safely("answer", lambda text: [message(text, error=True), "", None, None])
    def on_answer(label: str | None, text: str, bars_value: float, tempo_value: float | None, seed_value: float):
        got = studio.answer(
            label, text, bars=int(bars_value), tempo=float(tempo_value or 0) or None, seed=int(seed_value or 0)
        )
        said = f"{got.notes.count(':') // 2} notes at {got.bpm:.0f} beats a minute, composed in {got.seconds:.2f} s."
        return [message(said), got.notes, None if got.wav is None else str(got.wav), str(got.midi)]

    go.click(
        on_answer, inputs=[model, phrase, bars, tempo, seed], outputs=[status, notes, audio, midi], api_name="answer"
    )

    @safely("loading the model", lambda text: message(text, error=True))
    def on_ready(label: str | None) -> str:
        studio.ready(label)
        return ""

    def on_prepare(label: str | None, text: str, bars_value: float, tempo_value: float | None, seed_value: float):
        with contextlib.suppress(TunesmithError, TypeError, ValueError):  # said by the answer, if asked for
            studio.prepare(
                label, text, bars=int(bars_value), tempo=float(tempo_value or 0) or None, seed=int(seed_value or 0)
            )

    early.click(
        on_prepare, inputs=[model, phrase, bars, tempo, seed], outputs=[], show_progress="hidden",
        concurrency_limit=None, queue=False,
    )  # fmt: skip

    # the model loaded when the tab is opened or another is chosen, not when the first phrase waits for it
    tab.select(on_ready, inputs=[model], outputs=[status], show_progress="hidden")
    model.change(on_ready, inputs=[model], outputs=[status], show_progress="hidden")
