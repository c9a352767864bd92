#!/usr/bin/env python3
"""Write the workshop's fruit CNN as Keras 2.4 `model.save("fruits.h5")` does.

Usage: fruitcnn.py OUT.h5 [SEED]

Needs only python3, h5py and numpy: no TensorFlow. The file has the layout
that tf.keras 2.4 (hdf5_format.save_model_to_hdf5) writes for a trained
Sequential model, checked against the real Keras 2.4.0 files in
shared/testdata/keras/mlperf_tiny:

  /                      attrs keras_version, backend (UTF-8 strings),
                         model_config, training_config (JSON, ASCII strings)
  /model_weights         attrs layer_names (fixed-length bytes, model.layers
                         order, no InputLayer), backend, keras_version
  /model_weights/<layer> attr weight_names (bytes; an empty float64 array for
                         layers without weights), datasets <layer>/<w>:0
  /optimizer_weights     attr weight_names; Adam/iter:0 then the m and v
                         slots of every trainable weight

The architecture is design.md section 8: 20x20x3 input, Conv2D 32 3x3 same,
Activation relu, Conv2D 16 3x3 same, LeakyReLU(0.5), BatchNormalization,
MaxPooling2D 2x2, Dropout, Flatten, Dense 512 relu, Dropout, Dense 16
softmax. Nothing is trained: weights are drawn from SEED with He-normal
scaling (std sqrt(2/fan_in)) so activations of x/255 inputs stay near unit
size and the softmax is not saturated; biases and BatchNormalization
statistics are small non-zero random values (positive variances) so every
parameter matters to a forward pass.
"""

import json
import sys

import h5py
import numpy as np

KERAS_VERSION = "2.4.0"
BACKEND = "tensorflow"
INPUT_SHAPE = [None, 20, 20, 3]


def initializer(name, **config):
    return {"class_name": name, "config": config}


def conv2d(name, filters, first=False):
    config = {"name": name, "trainable": True}
    if first:
        config["batch_input_shape"] = INPUT_SHAPE
    config.update({
        "dtype": "float32", "filters": filters, "kernel_size": [3, 3], "strides": [1, 1],
        "padding": "same", "data_format": "channels_last", "dilation_rate": [1, 1], "groups": 1,
        "activation": "linear", "use_bias": True,
        "kernel_initializer": initializer("GlorotUniform", seed=None),
        "bias_initializer": initializer("Zeros"),
        "kernel_regularizer": None, "bias_regularizer": None, "activity_regularizer": None,
        "kernel_constraint": None, "bias_constraint": None,
    })
    return {"class_name": "Conv2D", "config": config}


def dense(name, units, activation):
    return {"class_name": "Dense", "config": {
        "name": name, "trainable": True, "dtype": "float32", "units": units,
        "activation": activation, "use_bias": True,
        "kernel_initializer": initializer("GlorotUniform", seed=None),
        "bias_initializer": initializer("Zeros"),
        "kernel_regularizer": None, "bias_regularizer": None, "activity_regularizer": None,
        "kernel_constraint": None, "bias_constraint": None,
    }}


def simple(class_name, name, **config):
    return {"class_name": class_name,
            "config": dict({"name": name, "trainable": True, "dtype": "float32"}, **config)}


def model_config():
    layers = [
        {"class_name": "InputLayer", "config": {
            "batch_input_shape": INPUT_SHAPE, "dtype": "float32", "sparse": False,
            "ragged": False, "name": "conv2d_input"}},
        conv2d("conv2d", 32, first=True),
        simple("Activation", "activation", activation="relu"),
        conv2d("conv2d_1", 16),
        simple("LeakyReLU", "leaky_re_lu", alpha=0.5),
        simple("BatchNormalization", "batch_normalization",
               axis=[3], momentum=0.99, epsilon=0.001, center=True, scale=True,
               beta_initializer=initializer("Zeros"), gamma_initializer=initializer("Ones"),
               moving_mean_initializer=initializer("Zeros"),
               moving_variance_initializer=initializer("Ones"),
               beta_regularizer=None, gamma_regularizer=None,
               beta_constraint=None, gamma_constraint=None),
        simple("MaxPooling2D", "max_pooling2d", pool_size=[2, 2], padding="valid",
               strides=[2, 2], data_format="channels_last"),
        simple("Dropout", "dropout", rate=0.25, noise_shape=None, seed=None),
        simple("Flatten", "flatten", data_format="channels_last"),
        dense("dense", 512, "relu"),
        simple("Dropout", "dropout_1", rate=0.5, noise_shape=None, seed=None),
        dense("dense_1", 16, "softmax"),
    ]
    return {"class_name": "Sequential", "config": {"name": "sequential", "layers": layers}}


TRAINING_CONFIG = {
    "loss": "categorical_crossentropy",
    "metrics": [[{"class_name": "MeanMetricWrapper", "config": {
        "name": "accuracy", "dtype": "float32", "fn": "categorical_accuracy"}}]],
    "weighted_metrics": None, "loss_weights": None,
    "optimizer_config": {"class_name": "Adam", "config": {
        "name": "Adam", "learning_rate": 0.0010000000474974513, "decay": 0.0,
        "beta_1": 0.8999999761581421, "beta_2": 0.9990000128746033, "epsilon": 1e-07,
        "amsgrad": False}},
}


def weights(rng):
    """Returns {layer: [(weight name, array)]} in Keras creation order."""

    def he(shape, fan_in):
        return (rng.standard_normal(shape) * np.sqrt(2.0 / fan_in)).astype(np.float32)

    def small(n, scale=0.05):
        return (rng.standard_normal(n) * scale).astype(np.float32)

    c = 16
    flat = 10 * 10 * c
    return {
        "conv2d": [("kernel", he((3, 3, 3, 32), 3 * 3 * 3)), ("bias", small(32))],
        "conv2d_1": [("kernel", he((3, 3, 32, c), 3 * 3 * 32)), ("bias", small(c))],
        "batch_normalization": [
            ("gamma", rng.uniform(0.5, 1.5, c).astype(np.float32)),
            ("beta", small(c, 0.2)),
            ("moving_mean", small(c, 0.2)),
            ("moving_variance", rng.uniform(0.2, 1.0, c).astype(np.float32)),
        ],
        "dense": [("kernel", he((flat, 512), flat)), ("bias", small(512))],
        # The head uses std sqrt(1/fan_in), not He's sqrt(2/fan_in): logits
        # stay around unit spread, so no class takes nearly all the
        # probability.
        "dense_1": [("kernel", (rng.standard_normal((512, 16)) * np.sqrt(1.0 / 512)).astype(np.float32)),
                    ("bias", small(16))],
    }


def write(path, seed):
    rng = np.random.default_rng(seed)
    config = model_config()
    layer_names = [l["config"]["name"] for l in config["config"]["layers"][1:]]
    params = weights(rng)
    with h5py.File(path, "w") as f:
        # saving_utils.model_metadata: plain strings stay str, JSON is
        # encoded to bytes.
        f.attrs["keras_version"] = KERAS_VERSION
        f.attrs["backend"] = BACKEND
        f.attrs["model_config"] = json.dumps(config).encode("utf8")
        f.attrs["training_config"] = json.dumps(TRAINING_CONFIG).encode("utf8")

        g = f.create_group("model_weights")
        g.attrs["layer_names"] = np.asarray([n.encode("utf8") for n in layer_names])
        g.attrs["backend"] = BACKEND.encode("utf8")
        g.attrs["keras_version"] = KERAS_VERSION.encode("utf8")
        # Keras sorts the groups by layer name.
        for name in sorted(layer_names):
            lg = g.create_group(name)
            ws = params.get(name, [])
            names = [("%s/%s:0" % (name, w)).encode("utf8") for w, _ in ws]
            lg.attrs["weight_names"] = np.asarray(names)
            for wname, (_, val) in zip(names, ws):
                lg.create_dataset(wname.decode("utf8"), val.shape, dtype=val.dtype)[:] = val

        # A trained model also carries Adam's state; readers must skip it.
        trainable = [(layer, w, val) for layer in layer_names for w, val in params.get(layer, [])
                     if w not in ("moving_mean", "moving_variance")]
        slots = [("Adam/iter:0", np.int64(rng.integers(100, 5000)))]
        for slot, scale in (("m", 1e-3), ("v", 1e-6)):
            for layer, w, val in trainable:
                v = np.abs(rng.standard_normal(val.shape)) * scale if slot == "v" else rng.standard_normal(val.shape) * scale
                slots.append(("Adam/%s/%s/%s:0" % (layer, w, slot), v.astype(np.float32)))
        og = f.create_group("optimizer_weights")
        og.attrs["weight_names"] = np.asarray([n.encode("utf8") for n, _ in slots])
        for n, val in slots:
            ds = og.create_dataset(n, val.shape, dtype=val.dtype)
            if val.shape:
                ds[:] = val
            else:
                ds[()] = val


def main(argv):
    if len(argv) not in (2, 3):
        sys.exit("usage: fruitcnn.py OUT.h5 [SEED]")
    write(argv[1], int(argv[2]) if len(argv) == 3 else 20)


if __name__ == "__main__":
    main(sys.argv)
