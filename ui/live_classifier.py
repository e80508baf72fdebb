"""The Live Classifier's parts: the punk to classify, the model's answer beside the truth, one
layer taken off, the evidence map (which pixels made it say that) and Keras in five steps."""

import numpy as np
import plotly.express as px
import streamlit as st
from matplotlib.figure import Figure

from punks_core.dataset import N_PUNKS, SPLITS, Punks
from punks_core.errors import LayerError
from punks_core.first_neuron import fit_line
from punks_core.labels import ACCESSORIES, TYPES
from punks_core.upload import DecodedUpload, known_punk, read_upload
from ui.charts import TABLE_BAR, plain_numbers, png_of
from ui.layers import layer_notes
from ui.loaders import cached_classifier, layers_or_stop, read_upload_or_stop
from ui.pixels import show_punk

SOURCES = ["Random test punk", "Punk by id", "Upload an image"]
MIN_EVIDENCE_SCALE = 0.05  # the colour scale's least reach: a near-flat map stays pale
FIVE_STEPS = """xs = [-1, 0, 1, 2, 3, 4]; ys = [-3, -1, 1, 3, 5, 7]          # y = 2x - 1
model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])  # 1. build
model.summary()                                                       # 2. summary: 2 parameters
model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")       # 3. compile
model.fit(xs, ys, epochs=200)                                         # 4. fit
model.predict([10.0])                                                 # 5. predict: about 19"""


def punk_image_or_stop(source: str, punks: Punks) -> DecodedUpload:
    """The punk the sidebar's `source` names, with its id if it is one of the 10,000: a random
    test punk, one by id, or an upload (until one is uploaded: how to, and the end of the
    page)."""
    if source == "Upload an image":
        upload = st.file_uploader(
            "A CryptoPunk image: 24x24 or any upscale, PNG, JPEG, WebP or GIF, any background",
            type=["png", "jpg", "jpeg", "webp", "gif"],
            key="classifier_upload",
        )
        if upload is None:
            st.info("Upload a punk image, or pick a test punk in the sidebar.")
            st.stop()
        return read_upload_or_stop(upload, read_upload)
    if source == "Punk by id":
        chosen = st.number_input(
            "Punk id (test split: 9000–9999)", 0, N_PUNKS - 1, 9000, key="classifier_id"
        )
        return known_punk(punks, int(chosen))
    if (
        st.button("Another random test punk", key="classifier_reroll")
        or "classifier_random" not in st.session_state
    ):
        st.session_state.classifier_random = int(np.random.choice(SPLITS["test"]))
    return known_punk(punks, st.session_state.classifier_random)


def show_prediction(punks: Punks, punk: DecodedUpload, prediction, threshold: float) -> None:
    """The punk, the model's answer, the truth if it is one of the 10,000, and the scores."""
    image, known = punk.image, punk.punk_id
    picture, answer, truth = st.columns([1, 2, 2])
    with picture:
        show_punk(image, scale=8)
        st.caption(f"CryptoPunk #{known}" if known is not None else "Not one of the 10,000 punks")
    with answer:
        st.subheader(f"Model: {prediction.type}")
        st.markdown(", ".join(prediction.accessories) or "*no accessory above the threshold*")
    with truth:
        if known is not None:
            show_truth(punks, known, prediction)

    probabilities = prediction.probabilities
    # Static tables, not charts: the page opens without Plotly (a new tab pays about 0.6 s to
    # start Plotly, and more for each chart it draws).
    type_table, accessory_table = st.columns(2)
    types = probabilities[list(TYPES)].sort_values(ascending=False).to_frame()
    type_table.markdown("**Type probabilities** (a softmax: they add up to 1)")
    type_table.table(types.style.format({"probability": "{:.1%}"}).bar(
        subset=["probability"], vmin=0, vmax=1, color=TABLE_BAR
    ))  # fmt: skip
    top = probabilities[list(ACCESSORIES)].sort_values(ascending=False).head(12).to_frame()
    top["worn?"] = (top["probability"] >= threshold).map({True: "yes", False: "no"})
    accessory_table.markdown(f"**Most likely accessories** (worn at ≥ {threshold:.2f})")
    accessory_table.table(top.style.format({"probability": "{:.3f}"}))


def show_truth(punks: Punks, known: int, prediction) -> None:
    """The labels this punk carries, which of them its pixels show, and whether the model
    got what the pixels show right."""
    row = punks.row(known)
    labelled, shown = punks.accessory_lists[row], punks.visible_accessory_lists[row]
    st.subheader(f"Truth: {punks.types[known]}")
    st.markdown(f"**The pixels show:** {', '.join(shown) or 'no accessories'}")
    notes = layer_notes(layers_or_stop(), punks.bases[known], labelled)
    for name, note in notes.items():
        if note != "visible":
            st.markdown(
                f"**{name}**: labelled, but drawn under {note.removeprefix('hidden under ')} — "
                "no pixel shows it."
            )
    right_visible = punks.types[known] == prediction.type and set(shown) == set(
        prediction.accessories
    )
    right_all = punks.types[known] == prediction.type and set(labelled) == set(
        prediction.accessories
    )
    st.markdown(
        ("✅ right on everything the pixels show" if right_visible else "❌ not all visible "
         "labels right") + (" · all labels right too" if right_all else
                            " · the full label list differs" if right_visible else "")
    )  # fmt: skip
    if known < SPLITS["test"].start:
        st.caption("This punk was in the training or validation data.")


def show_one_layer_off(image, classifier, prediction, threshold: float) -> None:
    """Take one accessory layer off the punk (any image the layers paint exactly), re-predict."""
    layers = layers_or_stop()
    try:
        base, worn = layers.decompose(image)
    except LayerError:
        st.info(
            "This image is not painted exactly from the punks' layers (it may be edited), so "
            "its accessories cannot be taken off one by one."
        )
        return
    if not worn:
        st.info(f"This {base} punk wears no accessory to take off.")
        return
    off = st.selectbox("Take off", worn, key="classifier_take_off")
    without = layers.render(base, [name for name in worn if name != off])
    after = classifier.classify(without, threshold)
    before = set(prediction.accessories)
    picture, words = st.columns([1, 4])
    with picture:
        show_punk(without, scale=6)
    with words:
        st.markdown(
            f"Painted from its layers ({base} + {', '.join(worn)}) without **{off}**, the "
            f"model reads: **{after.type}**, {', '.join(after.accessories) or 'no accessories'}."
        )
        lost, gained = before - set(after.accessories), set(after.accessories) - before
        changes = [f"no longer {', '.join(sorted(lost))}"] if lost else []
        changes += [f"now also {', '.join(sorted(gained))}"] if gained else []
        st.caption(
            ("What changed: " + "; ".join(changes) + ".") if changes else "Nothing else changed."
        )


@st.cache_data(max_entries=256)
def evidence_map(kind: str, pixels: bytes, label: str) -> np.ndarray:
    # A forward pass per visible pixel (about 250): cached, so the threshold slider and the
    # label box do not redo them.
    image = np.frombuffer(pixels, np.uint8).reshape(24, 24, 4)
    return cached_classifier(kind).evidence(image, label)


def evidence_figure(evidence: np.ndarray, label: str) -> Figure:
    """The evidence map as a picture: red pixels support `label`, blue ones count against it,
    on a scale symmetric around 0 and at least ±0.05 (tenths of a decade of odds).

    A static picture (Matplotlib), not a Plotly chart: it is the chart the page opens on, and
    Plotly alone cost each new tab of this page about 0.85 s (measured, docs/BENCHMARKS.md).
    """
    limit = max(float(np.abs(evidence).max()), MIN_EVIDENCE_SCALE)
    figure = Figure(figsize=(5.6, 4.6), dpi=100, layout="constrained")
    axes = figure.add_subplot()
    shown = axes.imshow(evidence, cmap="RdBu_r", vmin=-limit, vmax=limit)
    axes.set_title(f"How much each pixel counts for “{label}”", fontsize=12)
    axes.set(xlabel="column", ylabel="row", xticks=range(0, 24, 4), yticks=range(0, 24, 4))
    figure.colorbar(shown, ax=axes, fraction=0.046, pad=0.04,
                    label=r"the odds ÷ $10^x$ when it is erased")  # fmt: skip
    return figure


@st.cache_data(max_entries=256)
def evidence_png(kind: str, pixels: bytes, label: str) -> bytes:
    evidence = evidence_map(kind, pixels, label)
    return png_of(lambda: evidence_figure(evidence, label))


def odds_words(log10_odds: float) -> str:
    """log10 odds as a learner reads them: "about 40 to 1", "1 to 300", "over a million to 1"."""
    if log10_odds > 6:
        return "over a million to 1"
    if log10_odds < -6:
        return "1 to over a million"
    odds = 10 ** abs(log10_odds)
    shown = f"{odds:,.0f}" if odds >= 10 else f"{odds:.1f}"
    return f"about {shown} to 1" if log10_odds >= 0 else f"about 1 to {shown}"


def explained_label(kind: str, image: np.ndarray, prediction) -> str:
    """The label to explain; a new punk starts on a predicted accessory, not on the label
    picked for the previous punk (the type is usually near-certain and least interesting)."""
    probabilities = prediction.probabilities
    ranked = probabilities[list(ACCESSORIES)].sort_values(ascending=False).index
    choices = [*prediction.accessories, prediction.type]
    choices += [name for name in ranked if name not in choices]
    choices += [name for name in TYPES if name not in choices]
    punk_key = (kind, hash(image.tobytes()))
    if st.session_state.get("classifier_explained") != punk_key:
        st.session_state.classifier_explained = punk_key
        st.session_state.classifier_saliency_label = choices[0]
    return st.selectbox(
        "Label", choices, key="classifier_saliency_label",
        format_func=lambda name: f"{name} ({probabilities[name]:.0%})",
    )  # fmt: skip


def show_evidence(classifier, kind: str, image: np.ndarray, label: str) -> None:
    """How much each pixel counts for `label`: the fall in log10 odds when it is erased."""
    evidence = evidence_map(kind, image.tobytes(), label)
    beside, heat = st.columns([1, 2])
    with beside:
        show_punk(image, scale=12)
        odds = classifier.log_odds(image[None], label)[0]
        st.metric(f"The model's odds for “{label}”", odds_words(odds))
    heat.container(key="classifier_saliency").image(evidence_png(kind, image.tobytes(), label))
    strongest = np.unravel_index(np.argmax(evidence), evidence.shape)
    st.caption(
        f"Each pixel in turn is erased (made transparent) and the model asked again. Red pixels "
        f"support “{label}”: a value of 1 means erasing that pixel makes the model's odds for "
        f"it 10 times smaller, 2 means 100 times. Blue pixels count against it. The strongest "
        f"pixel (row {strongest[0]}, column {strongest[1]}) is worth {evidence[strongest]:.2f}."
    )


def show_first_neuron() -> None:
    """Keras in five steps, and one neuron trained on request to learn y = 2x − 1."""
    with st.expander("Keras in five steps: one neuron learns y = 2x − 1"):
        st.code(FIVE_STEPS, language="python")
        if st.button("Train the neuron", key="classifier_neuron"):
            fit = fit_line()
            st.code(fit.summary)
            weight, bias, at_ten = st.columns(3)
            weight.metric("learned w (true 2)", f"{fit.weight:.4f}")
            bias.metric("learned b (true −1)", f"{fit.bias:.4f}")
            at_ten.metric("prediction at x = 10 (true 19)", f"{fit.prediction:.3f}")
            loss = px.line(y=fit.loss, log_y=True, labels={"x": "epoch", "y": "mean squared error"})
            st.plotly_chart(plain_numbers(loss), key="classifier_neuron_loss")
            st.caption(f"Trained in {fit.seconds:.2f} s on the six points (−1, −3) … (4, 7).")
