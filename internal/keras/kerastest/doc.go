// Package kerastest provides Keras model fixtures for tests: files that
// would otherwise have to be committed or produced with TensorFlow.
//
// FruitCNN writes the workshop's fruit classifier (design.md section 8) as
// a Keras 2.4 model.save(".h5") file with random weights, using the
// fruitcnn.py script beside this file (python3 + h5py + numpy only). The
// script reproduces the HDF5 layout of tf.keras 2.4, checked against the
// real Keras 2.4.0 files in the shared test data, so the reader and the
// converter meet the file a workshop participant would hand them; the
// weights are untrained, so only the architecture and the numbers, not
// the predictions, mean anything.
//
// FruitCNNKeras3 writes the same network with the same weights as Keras 3
// saves it, as a ".keras" zip or a legacy ".h5", following Keras 3's own
// saving code (keras/src/saving/saving_lib.py and
// keras/src/legacy/saving/legacy_h5_format.py), so that converting any of
// the three files must give the same model. EditKerasConfig derives
// variants of a ".keras" file by editing its config.json: renamed layers,
// or a layer class the converter refuses.
package kerastest
