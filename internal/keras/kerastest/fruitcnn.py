#!/usr/bin/env python3
"""Write the workshop's fruit CNN as Keras saves it, without Keras.

Usage: fruitcnn.py OUT [SEED [FORMAT]]

FORMAT is one of
  keras2-h5   (default) tf.keras 2.4 `model.save("fruits.h5")`
  keras3-h5   Keras 3 `model.save("fruits.h5")` (the legacy HDF5 format)
  keras3      Keras 3 `model.save("fruits.keras")` (zip)

Needs only python3, h5py and numpy: no TensorFlow. Every format holds the
same network with the same weights for the same SEED (they are drawn
first, in the same order), so converting any of them must give the same
model.

Keras 2.4 layout (hdf5_format.save_model_to_hdf5), checked against the
real Keras 2.4.0 files in shared/testdata/keras/mlperf_tiny:

  /                      attrs keras_version, backend (UTF-8 strings),
                         model_config, training_config (JSON, ASCII strings)
  /model_weights         attrs layer_names (fixed-length bytes, model.layers
                         order, no InputLayer), backend, keras_version
  /model_weights/<layer> attr weight_names (bytes; an empty float64 array for
                         layers without weights), datasets <layer>/<w>:0
  /optimizer_weights     attr weight_names; Adam/iter:0 then the m and v
                         slots of every trainable weight

Keras 3 legacy .h5 layout (keras/src/legacy/saving/legacy_h5_format.py,
save_model_to_hdf5 and save_weights_to_hdf5_group): the same groups and
attributes, but
  - model_config is Keras 3's config in legacy form ({"class_name",
    "config"} per layer, no "module"), with Keras 3 layer keys: an
    InputLayer with batch_shape, DTypePolicy dicts, negative_slope;
  - a weight dataset is named by the variable's path, which includes the
    model's name scope: model_weights/conv2d/sequential/conv2d/kernel
    (no ":0"); weight_names lists those paths;
  - model_weights/top_level_model_weights holds the model's own
    variables (none: an empty weight_names);
  - optimizer_weights holds adam/iteration (int64), adam/learning_rate,
    then adam/<variable path with _>_momentum and _velocity per trainable
    variable, interleaved.

Keras 3 .keras layout (keras/src/saving/saving_lib.py, Keras 3.10):
a zip of metadata.json ({"keras_version", "date_saved"}), config.json
(serialize_keras_object: "module", "class_name", "config",
"registered_name", "build_config" per layer, and the model's
"compile_config") and model.weights.h5, in that order, stored
uncompressed. In model.weights.h5 a layer's variables are
layers/<name>/vars/<i>, i in creation order (trainable then
non-trainable: BatchNormalization gamma, beta, moving_mean,
moving_variance), where <name> is NOT the layer's name but its class in
snake case, numbered per class in model.layers order (conv2d, conv2d_1,
leaky_re_lu, ...; _save_container_state); the optimizer's variables are
optimizer/vars/<i>. Groups are created only for objects that have
variables.

The architecture is design.md section 8: 20x20x3 input, Conv2D 32 3x3 same,
Activation relu, Conv2D 16 3x3 same, LeakyReLU(0.5), BatchNormalization,
MaxPooling2D 2x2, Dropout, Flatten, Dense 512 relu, Dropout, Dense 16
softmax. Keras 3 names the input layer input_layer where Keras 2 named it
conv2d_input; every other layer has the same name. Nothing is trained:
weights are drawn from SEED with He-normal scaling (std sqrt(2/fan_in)) so
activations of x/255 inputs stay near unit size and the softmax is not
saturated; biases and BatchNormalization statistics are small non-zero
random values (positive variances) so every parameter matters to a forward
pass.
"""

import io
import json
import re
import sys
import zipfile

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


# --- Keras 3 ---------------------------------------------------------------

KERAS3_VERSION = "3.10.0"
# metadata.json's date_saved: fixed, so the fixture is a pure function of
# the script and the seed.
KERAS3_DATE_SAVED = "2025-06-02@10:00:00"


def policy():
    """A layer's "dtype": dtype_policies.serialize(DTypePolicy("float32"))."""
    return {"module": "keras", "class_name": "DTypePolicy",
            "config": {"name": "float32"}, "registered_name": None}


def initializer3(name, **config):
    return {"module": "keras.initializers", "class_name": name, "config": config,
            "registered_name": None}


def base3(name):
    # Operation.get_config then Layer.get_config.
    return {"name": name, "trainable": True, "dtype": policy()}


def conv2d3(name, filters):
    return dict(base3(name), **{
        "filters": filters, "kernel_size": [3, 3], "strides": [1, 1], "padding": "same",
        "data_format": "channels_last", "dilation_rate": [1, 1], "groups": 1,
        "activation": "linear", "use_bias": True,
        "kernel_initializer": initializer3("GlorotUniform", seed=None),
        "bias_initializer": initializer3("Zeros"),
        "kernel_regularizer": None, "bias_regularizer": None, "activity_regularizer": None,
        "kernel_constraint": None, "bias_constraint": None,
    })


def dense3(name, units, activation):
    return dict(base3(name), **{
        "units": units, "activation": activation, "use_bias": True,
        "kernel_initializer": initializer3("GlorotUniform", seed=None),
        "bias_initializer": initializer3("Zeros"),
        "kernel_regularizer": None, "bias_regularizer": None,
        "kernel_constraint": None, "bias_constraint": None,
    })


def layers3():
    """Returns [(class_name, config, build input shape or None)] in
    model.layers order, InputLayer first. Layers without a build() of
    their own (Activation, LeakyReLU, pooling, Dropout) are built at
    construction and have no build_config."""
    return [
        ("InputLayer", {"batch_shape": INPUT_SHAPE, "dtype": "float32", "sparse": False,
                        "ragged": False, "name": "input_layer", "optional": False}, None),
        ("Conv2D", conv2d3("conv2d", 32), INPUT_SHAPE),
        ("Activation", dict(base3("activation"), activation="relu"), None),
        ("Conv2D", conv2d3("conv2d_1", 16), [None, 20, 20, 32]),
        ("LeakyReLU", dict(base3("leaky_re_lu"), negative_slope=0.5), None),
        ("BatchNormalization", dict(base3("batch_normalization"), **{
            "axis": -1, "momentum": 0.99, "epsilon": 0.001, "center": True, "scale": True,
            "beta_initializer": initializer3("Zeros"), "gamma_initializer": initializer3("Ones"),
            "moving_mean_initializer": initializer3("Zeros"),
            "moving_variance_initializer": initializer3("Ones"),
            "beta_regularizer": None, "gamma_regularizer": None,
            "beta_constraint": None, "gamma_constraint": None, "synchronized": False,
        }), [None, 20, 20, 16]),
        ("MaxPooling2D", dict(base3("max_pooling2d"), pool_size=[2, 2], padding="valid",
                              strides=[2, 2], data_format="channels_last"), None),
        ("Dropout", dict(base3("dropout"), rate=0.25, seed=None, noise_shape=None), None),
        ("Flatten", dict(base3("flatten"), data_format="channels_last"), [None, 10, 10, 16]),
        ("Dense", dense3("dense", 512, "relu"), [None, 1600]),
        ("Dropout", dict(base3("dropout_1"), rate=0.5, seed=None, noise_shape=None), None),
        ("Dense", dense3("dense_1", 16, "softmax"), [None, 512]),
    ]


def sequential3(layer_configs):
    """Sequential.get_config: Model's base config, the layers, and
    build_input_shape once the model is built."""
    return dict(base3("sequential"), layers=layer_configs, build_input_shape=INPUT_SHAPE)


ADAM3 = {
    "name": "adam", "learning_rate": 0.0010000000474974513, "weight_decay": None,
    "clipnorm": None, "global_clipnorm": None, "clipvalue": None, "use_ema": False,
    "ema_momentum": 0.99, "ema_overwrite_frequency": None, "loss_scale_factor": None,
    "gradient_accumulation_steps": None, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-07,
    "amsgrad": False,
}

# model.compile(optimizer="adam", loss="categorical_crossentropy",
# metrics=["accuracy"]) as Model._compile_config records it.
COMPILE3 = {
    "loss": "categorical_crossentropy", "loss_weights": None, "metrics": ["accuracy"],
    "weighted_metrics": None, "run_eagerly": False, "steps_per_execution": 1,
    "jit_compile": False,
}


def snake_case(name):
    """keras.src.utils.naming.to_snake_case."""
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


def keras3_state(rng, params):
    """Returns the weighted layers as [(layer, [(variable, array)])] in
    model.layers order, and the Adam optimizer's variables as
    [(path, array)] in optimizer.variables order."""
    names = [c["name"] for cls, c, _ in layers3()[1:]]
    layers = [(n, params[n]) for n in names if n in params]
    opt = [("adam/iteration", np.int64(rng.integers(100, 5000))),
           ("adam/learning_rate", np.float32(0.001))]
    for layer, ws in layers:
        for w, val in ws:
            if w in ("moving_mean", "moving_variance"):
                continue  # non-trainable: the optimizer has no slots for them
            path = "sequential_%s_%s" % (layer, w)
            m = (rng.standard_normal(val.shape) * 1e-3).astype(np.float32)
            v = (np.abs(rng.standard_normal(val.shape)) * 1e-6).astype(np.float32)
            opt += [("adam/%s_momentum" % path, m), ("adam/%s_velocity" % path, v)]
    return layers, opt


def dataset(group, name, val):
    ds = group.create_dataset(name, val.shape, dtype=val.dtype)
    if val.shape:
        ds[:] = val
    else:
        ds[()] = val


def write_keras3_h5(path, seed):
    """Keras 3 model.save("fruits.h5"): legacy_h5_format.save_model_to_hdf5."""
    rng = np.random.default_rng(seed)
    params = weights(rng)
    layers, opt = keras3_state(rng, params)
    specs = layers3()
    # legacy serialize_keras_object: {"class_name", "config"} only.
    config = {"class_name": "Sequential",
              "config": sequential3([{"class_name": cls, "config": c} for cls, c, _ in specs])}
    training = dict(COMPILE3, optimizer_config={"class_name": "Adam", "config": ADAM3})
    layer_names = [c["name"] for _, c, _ in specs[1:]]  # model.layers: no InputLayer
    with h5py.File(path, "w") as f:
        f.attrs["keras_version"] = KERAS3_VERSION
        f.attrs["backend"] = BACKEND
        f.attrs["model_config"] = json.dumps(config).encode("utf8")
        f.attrs["training_config"] = json.dumps(training).encode("utf8")

        g = f.create_group("model_weights")
        g.attrs["layer_names"] = np.asarray([n.encode("utf8") for n in layer_names])
        g.attrs["backend"] = BACKEND.encode("utf8")
        g.attrs["keras_version"] = KERAS3_VERSION.encode("utf8")
        for name in sorted(layer_names):
            lg = g.create_group(name)
            ws = params.get(name, [])
            # Variable.path: the Sequential's name scope, then the layer's.
            paths = ["sequential/%s/%s" % (name, w) for w, _ in ws]
            lg.attrs["weight_names"] = np.asarray([p.encode("utf8") for p in paths])
            for p, (_, val) in zip(paths, ws):
                dataset(lg, p, val)
        tg = g.create_group("top_level_model_weights")
        tg.attrs["weight_names"] = np.asarray([])

        og = f.create_group("optimizer_weights")
        og.attrs["weight_names"] = np.asarray([n.encode("utf8") for n, _ in opt])
        for n, val in opt:
            dataset(og, n, val)


def write_keras3(path, seed):
    """Keras 3 model.save("fruits.keras"): saving_lib.save_model."""
    rng = np.random.default_rng(seed)
    params = weights(rng)
    layers, opt = keras3_state(rng, params)
    specs = []
    for cls, c, shape in layers3():
        s = {"module": "keras.layers", "class_name": cls, "config": c, "registered_name": None}
        if shape is not None:
            s["build_config"] = {"input_shape": shape}
        specs.append(s)
    compile_config = dict({"optimizer": {"module": "keras.optimizers", "class_name": "Adam",
                                         "config": ADAM3, "registered_name": None}}, **COMPILE3)
    config = {"module": "keras", "class_name": "Sequential", "config": sequential3(specs),
              "registered_name": None, "build_config": {"input_shape": INPUT_SHAPE},
              "compile_config": compile_config}
    metadata = {"keras_version": KERAS3_VERSION, "date_saved": KERAS3_DATE_SAVED}

    buf = io.BytesIO()
    with h5py.File(buf, "w") as h:
        # _save_container_state names a layer by its class, numbered per
        # class over model.layers (the InputLayer is not among them).
        used = {}
        by_layer = dict(layers)
        for cls, c, _ in layers3()[1:]:
            key = snake_case(cls)
            if key in used:
                used[key] += 1
                key = "%s_%d" % (key, used[key])
            else:
                used[key] = 0
            for i, (_, val) in enumerate(by_layer.get(c["name"], [])):
                dataset(h, "layers/%s/vars/%d" % (key, i), val)
        for i, (_, val) in enumerate(opt):
            dataset(h, "optimizer/vars/%d" % i, val)

    with zipfile.ZipFile(path, "w") as zf:
        with zf.open("metadata.json", "w") as f:
            f.write(json.dumps(metadata).encode())
        with zf.open("config.json", "w") as f:
            f.write(json.dumps(config).encode())
        zf.writestr("model.weights.h5", buf.getvalue())


WRITERS = {"keras2-h5": write, "keras3-h5": write_keras3_h5, "keras3": write_keras3}


def main(argv):
    if len(argv) not in (2, 3, 4) or (len(argv) == 4 and argv[3] not in WRITERS):
        sys.exit("usage: fruitcnn.py OUT [SEED [%s]]" % "|".join(WRITERS))
    seed = int(argv[2]) if len(argv) >= 3 else 20
    WRITERS[argv[3] if len(argv) == 4 else "keras2-h5"](argv[1], seed)


if __name__ == "__main__":
    main(sys.argv)
