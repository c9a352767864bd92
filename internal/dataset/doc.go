// Package dataset finds the images of a folder for calibration and
// accuracy checks.
//
// A folder of class subfolders is a labelled set, laid out as Keras'
// flow_from_directory reads it: one subfolder per class, the classes in
// sorted name order, so class i of the set is output i of a model trained
// from that folder. A folder holding images directly is an unlabelled set.
// Only JPEG, PNG and BMP files are taken (by extension, as Keras does);
// hidden files and folders are skipped.
//
// Sample takes a deterministic subset spread evenly over the classes, so
// calibrating on N images of a sorted folder does not see only its first
// class.
package dataset
