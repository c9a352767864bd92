// Package verify compares two image classifiers on a folder of images,
// for `convert verify`: a float model and its quantised twin, or our int8
// conversion and TensorFlow's. It answers "did quantisation keep the
// model's behaviour?" with top-1 accuracy of each model, their top-1
// agreement, per-class accuracy, a confusion matrix per model, and a PNG
// heat map of the matrices.
//
// # Images and labels
//
// The images come from dataset.Scan: one subfolder per class, named
// after the model's labels (as Keras' flow_from_directory reads them),
// or loose images for an unlabelled set. Class folders are matched to
// labels by name (dataset.ClassIndex). The labels are Options.Labels
// (a labels file) when given, else the models' fruitcam metadata; when
// only one model has metadata labels (ours against TensorFlow's twin,
// which has none) they serve for both. Two different label lists are an
// error, as are models with different numbers of classes: agreement is
// counted by label index, which must mean the same class in both.
//
// Accuracy needs labels and folders that match them. Without them (an
// unlabelled folder, models without labels, or no folder matching a
// label) the report gives agreement only and says why in Notes; folders
// that match no label while others do count for agreement only and are
// listed. A confusion matrix's rows are the matched class folders and its
// columns their labels in the same order, so the diagonal holds the
// correct predictions; predictions of labels no folder has fall in an
// "(other)" column. The agreement matrix puts one model's top-1 label
// against the other's; it is the chart's subject when there is no
// accuracy.
//
// # Running
//
// Each model runs through infer.NewClassifier on the native backend, with
// its preprocessing from metadata, overridden by Options (the names and
// meaning of `agent classify`'s --normalize, --resize, --fit and
// --color), and for a model with neither a normalisation guessed from its
// input tensor, which the report notes: a float input cannot tell x/255
// from raw pixels, so a model without metadata needs --normalize.
//
// Work is split over Options.Threads workers (all cores by default). Each
// worker owns an engine and a classifier per model, single-threaded, and
// takes chunks of Options.Batch images in turn: it decodes them, runs
// both models on the batch, and writes the predictions at the images'
// indices, so the report does not depend on scheduling. Small models
// gain more from one image stream per core than from splitting each
// operator over threads. An image that cannot be decoded is recorded in
// Report.Unreadable and skipped; it does not stop the run. A failing
// model does.
//
// # Chart
//
// Chart draws with image/draw and golang.org/x/image/font/basicfont (7×13
// pixel glyphs, ASCII): a two-line title with the accuracy figures, then
// one heat map per confusion matrix side by side (or the agreement
// matrix). Each cell is coloured by its share of its row, blue on the
// diagonal and red off it, with its count written in; rows are labelled
// "index name" and columns by index. ChartSize gives the image size:
// 16 px margins, 34 px cells, row labels 133 px wide, panels at least
// 252 px wide with three 16 px header lines, two title lines, and at
// least 640 px in all.
package verify
