"""Live Classifier: a CNN names a punk's type and accessories, and shows which pixels it used."""

import streamlit as st

from ui.live_classifier import (
    SOURCES,
    explained_label,
    punk_image_or_stop,
    show_evidence,
    show_first_neuron,
    show_one_layer_off,
    show_prediction,
)
from ui.loaders import classifier_or_stop, punks_or_stop
from ui.model_card import show_model_card
from ui.navigation import page_header

MODELS = {"CNN (convolutional)": "cnn", "FNN (Flatten + Dense)": "fnn"}

page_header(__file__)
punks = punks_or_stop()
with st.sidebar:
    source = st.radio("Punk", SOURCES, key="classifier_source")
    kind = MODELS[st.radio("Model", list(MODELS), key="classifier_model")]
    threshold = st.slider("Accessory threshold", 0.05, 0.95, 0.5, 0.05, key="classifier_threshold")

classifier = classifier_or_stop(kind)
punk = punk_image_or_stop(source, punks)
image = punk.image
prediction = classifier.classify(image, threshold)
show_prediction(punks, punk, prediction, threshold)

st.header("What if this punk did not wear it?")
show_one_layer_off(image, classifier, prediction, threshold)

st.header("Which pixels made it say that?")
show_evidence(classifier, kind, image, explained_label(kind, image, prediction))
show_first_neuron()

st.header("Model card")
show_model_card(classifier, kind)
