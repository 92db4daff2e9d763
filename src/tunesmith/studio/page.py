"""The studio's page (Gradio): every control shows or hides with what the chosen model can do, every handler
answers with a message on the page (never a traceback), and generation goes through Gradio's queue.

Nothing is fetched from the network: Gradio's analytics and version check are off and the theme uses the
system's fonts (no web fonts)."""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"  # before Gradio is imported: no analytics, no version check

import gradio as gr  # noqa: E402

from ..errors import TunesmithError  # noqa: E402
from ..jobs.studio import (  # noqa: E402
    CONTROLS,
    KEYS,
    LEVELS,
    MAX_LENGTH,
    MAX_UPLOAD_BYTES,
    MAX_VARIATIONS,
    MODES,
    NO_INPUT,
    TIME_SIGNATURES,
    Request,
    Studio,
    StudioModel,
    describe_piece,
    page_options,
    read_midi,
)
from .live import SCRIPT, live_tab  # noqa: E402

TITLE = "tunesmith studio"
#: what the page's head holds: the Live tab's style and script
HEAD = SCRIPT
INTRO = (
    "# tunesmith studio\n"
    "Pick a model, give it a piece (upload a MIDI file or pick an example) or none, choose what to do, and "
    "generate. Each variation comes as a piano roll, a player and a MIDI file; the command line below the results "
    "writes the same MIDI files from a script."
)
#: the system's fonts only: Gradio's default theme would load its fonts from the web
FONTS = ["ui-sans-serif", "system-ui", "-apple-system", "Segoe UI", "Roboto", "sans-serif"]
MONO = ["ui-monospace", "SFMono-Regular", "Menlo", "Consolas", "monospace"]
#: a choice that asks for nothing (the control is left to the model)
ANY = ("any", "")


def message(text: str, error: bool = False) -> str:
    return f"**Error:** {text}" if error else text


def safely(what: str, on_error: Callable[[str], Any]) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """A handler that answers any failure with ``on_error(message)``: tunesmith's own errors as they read, any
    other with its type and text (the traceback goes to the studio's console, never to the page)."""

    def wrap(fn: Callable[..., Any]) -> Callable[..., Any]:
        def handler(*args: Any, **kwargs: Any) -> Any:
            try:
                return fn(*args, **kwargs)
            except TunesmithError as e:
                return on_error(str(e))
            except Exception as e:  # noqa: BLE001  (a page answers; the console keeps the details)
                traceback.print_exc(file=sys.stderr)
                return on_error(f"{what} failed ({type(e).__name__}: {e}); the studio's console has the details")

        handler.__name__ = fn.__name__
        handler.__doc__ = fn.__doc__
        return handler

    return wrap


def theme() -> gr.themes.Base:
    return gr.themes.Soft(font=FONTS, font_mono=MONO)


def build(studio: Studio, concurrency: int = 1) -> gr.Blocks:
    """The page over ``studio``; generation runs ``concurrency`` requests at once, the others wait in the queue."""
    inputs_start = [NO_INPUT, *[k for k in studio.inputs if k.startswith("example: ")]]

    with gr.Blocks(title=TITLE, analytics_enabled=False, delete_cache=(3600, 24 * 3600)) as demo:
        gr.Markdown(INTRO)
        with gr.Tab("Compose", id="compose", elem_id="compose-tab"):
            with gr.Row():
                with gr.Column(scale=1):
                    model = gr.Dropdown(
                        list(studio.models),
                        value=next(iter(studio.models), None),
                        label="Model",
                        allow_custom_value=True,  # runs found after the page was built are valid too
                        elem_id="model",
                    )
                    model_info = gr.Markdown(elem_id="model-info")
                    upload = gr.File(
                        label=f"Upload a MIDI file (up to {MAX_UPLOAD_BYTES // 2**20} MB)",
                        file_types=[".mid", ".midi"],
                        type="filepath",
                        elem_id="upload",
                    )
                    source = gr.Dropdown(
                        inputs_start,
                        value=NO_INPUT,
                        label="Input",
                        allow_custom_value=True,
                        elem_id="input",
                        info="an uploaded file, a built-in example, or none",
                    )
                    input_info = gr.Markdown(elem_id="input-info")
                    input_roll = gr.Image(
                        label="The input", type="filepath", interactive=False, visible=False, elem_id="input-roll"
                    )
                with gr.Column(scale=1):
                    # every mode is a valid value (the request is checked against the model); the page shows the model's
                    mode = gr.Radio(
                        [(label, key) for key, label in MODES.items()],
                        value="continue",
                        label="What to do",
                        elem_id="mode",
                    )
                    bars = gr.Textbox(
                        label="Bars to regenerate (FIRST-LAST, counted from 1)",
                        placeholder="3-4",
                        visible=False,
                        elem_id="bars",
                    )
                    tracks = gr.Textbox(
                        label="Tracks to keep (counted from 1, e.g. 1 or 1,3)",
                        placeholder="1",
                        visible=False,
                        elem_id="tracks",
                    )
                    n = gr.Slider(1, MAX_VARIATIONS, value=2, step=1, label="Variations", elem_id="variations")
                    length = gr.Slider(1, MAX_LENGTH, value=64, step=1, label="Length: new notes", elem_id="length")
                    temperature = gr.Slider(
                        0.1,
                        2.0,
                        value=1.0,
                        step=0.05,
                        label="Temperature",
                        info="above 1 more adventurous, below 1 more conservative",
                        elem_id="temperature",
                    )
                    seed = gr.Number(
                        value=0, precision=0, label="Seed", info="variation i uses seed + i", elem_id="seed"
                    )
                    with gr.Accordion("Attribute controls", open=False, visible=False) as controls_box:
                        key = gr.Dropdown([ANY, *KEYS], value="", label="Key")
                        tempo = gr.Textbox(label="Tempo (quarter notes per minute)", placeholder="e.g. 90")
                        time_signature = gr.Dropdown([ANY, *TIME_SIGNATURES[:-1]], value="", label="Time signature")
                        density = gr.Dropdown([ANY, *LEVELS], value="", label="Density (notes per bar)")
                        polyphony = gr.Dropdown([ANY, *LEVELS], value="", label="Polyphony (notes at once)")
                        pitch_range = gr.Dropdown([ANY, *LEVELS], value="", label="Pitch range")
                        instruments = gr.Textbox(label="Instruments", placeholder="e.g. violin,cello or 40,42")
                        chords = gr.Textbox(
                            label="Chords, bar by bar (repeated to fill the piece)",
                            placeholder="e.g. C | G | Am | F   or   Dm7 G7 | Cmaj7",
                            elem_id="chords",
                        )
                    with gr.Accordion("Decoding (piano-roll GAN)", open=False, visible=False) as decoding_box:
                        threshold = gr.Number(value=None, label="Threshold (blank: the run's own decoding)")
                        sample = gr.Checkbox(value=False, label="Draw each cell from its probability instead")
                    # every other option a family declares, as it declares it: shown for the models that take it
                    declared = page_options()
                    with gr.Accordion("Options of this model", open=False, visible=False) as options_box:
                        extra = {
                            name: (
                                gr.Checkbox(value=False, label=f"{d.cli_flag}: {d.help}", visible=False)
                                if d.kind == "bool"
                                else gr.Textbox(value="", label=f"{d.cli_flag}: {d.help}", visible=False)
                            )
                            for name, d in declared.items()
                        }
                    go = gr.Button("Generate", variant="primary", elem_id="generate")
            status = gr.Markdown(elem_id="status")
            cli = gr.Code(
                label="The same on the command line (writes these MIDI files into ./ideas)",
                language="shell",
                interactive=False,
                visible=False,
                elem_id="command",
            )
            slots = []
            for i in range(MAX_VARIATIONS):
                with gr.Group(visible=False, elem_id=f"take-{i}", elem_classes=["take"]) as group:
                    caption = gr.Markdown(elem_classes=["take-caption"])
                    with gr.Row():
                        roll = gr.Image(
                            type="filepath", interactive=False, show_label=False, scale=2, elem_classes=["take-roll"]
                        )
                        with gr.Column(scale=1):
                            audio = gr.Audio(
                                type="filepath", interactive=False, label="Listen", elem_classes=["take-audio"]
                            )
                            midi = gr.File(label="MIDI", interactive=False, elem_classes=["take-midi"])
                slots.append((group, caption, roll, audio, midi))
        live_tab(studio, safely, message)

        # ------------------------------------------------------------------------------------------ handlers
        model_outputs = [
            model_info, mode, controls_box, decoding_box, temperature, length, source, upload, options_box,
            *extra.values(),
        ]  # fmt: skip

        def model_view(m: StudioModel | None, error: str = "") -> list[Any]:
            if m is None:
                return [message(error, True), *[gr.update()] * (len(model_outputs) - 1)]
            unit = "bars" if m.length_unit == "bars" else "new notes"
            return [
                m.describe(),
                gr.update(choices=[(MODES[x], x) for x in m.modes], value="continue"),
                gr.update(visible=m.controls),
                gr.update(visible=m.decoding),
                gr.update(visible=m.temperature, value=1.0),
                gr.update(
                    label=f"Length: {unit}",
                    maximum=64 if m.length_unit == "bars" else MAX_LENGTH,
                    value=4 if m.length_unit == "bars" else 64,
                ),
                gr.update(interactive=m.primer, **({} if m.primer else {"value": NO_INPUT})),
                gr.update(interactive=m.primer),
                gr.update(visible=bool(m.options)),
                *[gr.update(visible=name in m.options) for name in extra],
            ]

        @safely("choosing the model", lambda e: model_view(None, e))
        def on_model(label: str | None) -> list[Any]:
            return model_view(studio.model(label))

        @safely("looking for models", lambda e: [gr.update(), *model_view(None, e)])
        def on_load(label: str | None) -> list[Any]:
            found = studio.refresh()
            if not found:
                return [
                    gr.update(choices=[], value=None),
                    *model_view(None, "no models: start the studio with --runs FOLDER holding trained runs"),
                ]
            chosen = label if label in found else next(iter(found))
            return [gr.update(choices=list(found), value=chosen), *model_view(found[chosen])]

        def on_mode(m: str) -> list[Any]:
            return [
                gr.update(visible=m == "infill"),
                gr.update(visible=m in ("keep", "harmonize")),
                gr.update(visible=m == "continue"),
            ]

        # the upload box empties after each file (the input list holds it), ready for the next one
        @safely("reading the upload", lambda e: [None, gr.update(), message(e, True), gr.update(visible=False)])
        def on_upload(path: str | None) -> list[Any]:
            if not path:
                return [None, gr.update(), gr.update(), gr.update()]
            label, _ = studio.add_upload(path, Path(path).name)
            choices = [NO_INPUT, *[k for k in studio.inputs if k.startswith("example: ")], label]
            return [None, gr.update(choices=choices, value=label), gr.update(), gr.update()]

        @safely("reading the input", lambda e: [message(e, True), gr.update(visible=False)])
        def on_source(label: str | None) -> list[Any]:
            path = studio.input(label)
            if path is None:
                return ["No input: the model begins on its own.", gr.update(visible=False, value=None)]
            notes = read_midi(path)
            return [describe_piece(label, notes), gr.update(visible=True, value=str(studio.preview(label, notes)))]

        def failed(text: str) -> list[Any]:
            hidden = [gr.update(visible=False)] + [gr.update()] * 4
            return [message(text, True), gr.update(value="", visible=False)] + hidden * MAX_VARIATIONS

        @safely("generating", failed)
        def on_generate(
            model_label: str | None,
            source_label: str | None,
            mode_value: str,
            bars_text: str,
            tracks_text: str,
            count: float,
            length_value: float,
            temperature_value: float,
            seed_value: float | None,
            key_value: str,
            tempo_value: str,
            ts_value: str,
            density_value: str,
            polyphony_value: str,
            range_value: str,
            instruments_value: str,
            chords_value: str,
            threshold_value: float | None,
            sample_value: bool,
            *extra_values: Any,
            progress: gr.Progress = gr.Progress(),  # noqa: B008  (Gradio's way of asking for a progress bar)
        ) -> list[Any]:
            """Generate the variations asked for and show each with its piano roll, player and MIDI file."""
            m = studio.model(model_label)
            values = {
                "key": key_value, "tempo": tempo_value, "time_signature": ts_value, "density": density_value,
                "polyphony": polyphony_value, "pitch_range": range_value, "instruments": instruments_value,
                "chords": chords_value,
            }  # fmt: skip
            controls = {k: str(v).strip() for k, v in values.items() if v is not None and str(v).strip()}
            req = Request(
                model=m,
                primer=studio.input(source_label),
                mode=mode_value or "continue",
                bars=bars_text or None,
                tracks=tracks_text or None,
                n=int(count),
                length=int(length_value),
                temperature=float(temperature_value) if m.temperature else 1.0,
                seed=int(seed_value or 0),
                controls={k: v for k, v in controls.items() if k in CONTROLS} if m.controls else {},
                threshold=None if threshold_value is None or not m.decoding else float(threshold_value),
                sample=bool(sample_value) and m.decoding,
                options={
                    name: (value if isinstance(value, bool) else (str(value).strip() or None))
                    for name, value in zip(extra, extra_values, strict=True)
                    if name in m.options
                },
            )
            result = studio.run(req, progress=lambda f, text: progress(f, desc=text))
            out: list[Any] = []
            for i in range(MAX_VARIATIONS):
                if i < len(result.takes):
                    t = result.takes[i]
                    out += [
                        gr.update(visible=True),
                        t.caption(i),
                        str(t.png),
                        None if t.wav is None else str(t.wav),
                        str(t.midi),
                    ]
                else:
                    out += [gr.update(visible=False), "", None, None, None]
            done = f"{len(result.takes)} variation(s) by {m.label}."
            if result.engine:
                done += f" Sound: {result.engine}."
            return [done, gr.update(value=result.command, visible=True), *out]

        demo.load(on_load, inputs=[model], outputs=[model, *model_outputs])
        model.input(on_model, inputs=[model], outputs=model_outputs)
        mode.change(on_mode, inputs=[mode], outputs=[bars, tracks, length])
        upload.upload(on_upload, inputs=[upload], outputs=[upload, source, input_info, input_roll])
        source.change(on_source, inputs=[source], outputs=[input_info, input_roll])
        go.click(
            on_generate,
            inputs=[
                model,
                source,
                mode,
                bars,
                tracks,
                n,
                length,
                temperature,
                seed,
                key,
                tempo,
                time_signature,
                density,
                polyphony,
                pitch_range,
                instruments,
                chords,
                threshold,
                sample,
                *extra.values(),
            ],
            outputs=[status, cli, *[c for slot in slots for c in slot]],
            api_name="generate",
            concurrency_limit=concurrency,
            concurrency_id="generate",
        )
    return demo
